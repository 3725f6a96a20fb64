"""Weights -> synapse conductances: differential pairs between G_min and G_max (SPEC 4).

Each weight ``w`` of a layer becomes a pair of devices on its row, one on the
column's ``+`` line and one on its ``-`` line::

    G+ = G_min + max(w, 0) * s,   G- = G_min + max(-w, 0) * s,   s = (G_max - G_min) / w_clip

so ``G+ - G- = w * s``: the column's net current is proportional to the
weighted sum of its row voltages.  ``w_clip`` is the largest |weight| of the
layer (bias included), or its ``clip_percentile`` percentile (larger weights
are then clipped and counted).  A device with discrete levels (two-level MTJ,
N-level Co/Gd or DW synapse) rounds each conductance to its nearest level;
device-to-device variability multiplies every conductance by a seeded
log-normal factor.  :class:`LayerMapping` reports what all that did to the
weights (RMS / max error relative to ``w_clip``, clipped and quantised
counts), so a designer sees the cost of a device choice before simulating.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import numpy as np

from spinspice.errors import ModelParameterError, did_you_mean
from spinspice.models.cogd import CoGdSynapseParams
from spinspice.models.mtj import MTJParams

__all__ = ["SYNAPSE_DEVICES", "LayerMapping", "SynapseDevice", "get_synapse_device", "map_layer"]


@dataclasses.dataclass(frozen=True)
class SynapseDevice:
    """A synapse technology: conductance range and (optionally) its discrete levels."""

    name: str
    g_min_s: float
    g_max_s: float
    levels: int | None = None  # None: continuous
    source: str = ""

    def __post_init__(self) -> None:
        if not (0 < self.g_min_s < self.g_max_s) or not np.isfinite(self.g_max_s):
            raise ModelParameterError(f"synapse {self.name}: need 0 < G_min < G_max (finite)")
        if self.levels is not None and self.levels < 2:
            raise ModelParameterError(f"synapse {self.name}: a device has at least 2 levels")

    def level_values(self) -> np.ndarray | None:
        if self.levels is None:
            return None
        return np.linspace(self.g_min_s, self.g_max_s, self.levels)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _mtj_levels() -> tuple[float, float]:
    p = MTJParams()
    return 1.0 / p.r_ap_ohm, 1.0 / p.r_p_ohm


#: the synapse devices a user can pick (``--synapse NAME``, ``--levels N`` overrides the count)
SYNAPSE_DEVICES: dict[str, SynapseDevice] = {
    "ideal": SynapseDevice(
        "ideal", 1e-6, 1e-4, None, "continuous conductance 1-100 uS, on/off ratio 100 (modelling choice)"
    ),
    "mtj": SynapseDevice(
        "mtj", *_mtj_levels(), 2, "two-level MTJ, R_P/R_AP = 200/600 ohm (paper 001 Eq. 2 text)"
    ),
    "dw-mtj": SynapseDevice(
        "dw-mtj",
        *_mtj_levels(),
        16,
        "DW-MTJ synapse: 16 wall positions between R_AP and R_P (modelling choice)",
    ),
    "cogd": SynapseDevice(
        "cogd",
        CoGdSynapseParams().g_min_s,
        CoGdSynapseParams().g_max_s,
        int(CoGdSynapseParams().n_levels),
        "Co/Gd multilevel synapse (paper 003 Fig. 3c): 8 levels, 10-100 uS",
    ),
}


def get_synapse_device(name: str, levels: int | None = None) -> SynapseDevice:
    if name not in SYNAPSE_DEVICES:
        raise ModelParameterError(f"unknown synapse device {name!r}{did_you_mean(name, SYNAPSE_DEVICES)}")
    dev = SYNAPSE_DEVICES[name]
    if levels is not None:
        if name == "mtj" and levels != 2:
            raise ModelParameterError("an MTJ synapse has exactly 2 levels (use dw-mtj or cogd for more)")
        dev = dataclasses.replace(dev, levels=int(levels))
    return dev


@dataclasses.dataclass(frozen=True)
class LayerMapping:
    """Conductances of one layer: ``g_pos``/``g_neg`` of shape (out, in + 1), last column = bias."""

    g_pos_s: np.ndarray
    g_neg_s: np.ndarray
    g_per_weight_s: float  # s: conductance difference of one weight unit
    w_clip: float
    device: SynapseDevice
    errors: dict[str, float]

    @functools.cached_property
    def effective_weights(self) -> np.ndarray:
        """(G+ - G-) / s: the weights the circuit realises (bias in the last column)."""
        return (self.g_pos_s - self.g_neg_s) / self.g_per_weight_s

    @staticmethod
    def row_levels(inputs: np.ndarray) -> np.ndarray:
        """The crossbar rows' pulse levels per slot: ``inputs`` (steps, in) and the bias row,
        which pulses in every slot: (steps, in + 1)."""
        x = np.asarray(inputs, float)
        return np.concatenate([x, np.ones((len(x), 1))], axis=1)

    def drive(self, inputs: np.ndarray) -> np.ndarray:
        """The drive (input units) each neuron gets per slot from ``inputs`` (steps, in) through
        the realised conductances: (steps, out)."""
        return self.row_levels(inputs) @ self.effective_weights.T


def map_layer(
    weight: np.ndarray,
    bias: np.ndarray,
    device: SynapseDevice,
    *,
    clip_percentile: float = 100.0,
    variability: float = 0.0,
    seed: int = 0,
    mask: np.ndarray | None = None,
) -> LayerMapping:
    """Differential-pair conductances for ``weight`` (out, in) and ``bias`` (out,).

    ``mask`` (out, in) bool: the synapses that exist (a convolution unrolled onto crossbar
    tiles: each output position's receptive field); the others are structural zeros, left
    out of the clipping percentile and the mapping errors (both g_min, never instantiated)."""
    w = np.concatenate([np.asarray(weight, float), np.asarray(bias, float)[:, None]], axis=1)
    real = np.ones(w.shape, bool)
    if mask is not None:
        real[:, :-1] = np.asarray(mask, bool)
        w = np.where(real, w, 0.0)
    if not np.all(np.isfinite(w)):
        raise ModelParameterError("the layer has NaN or infinite weights: re-train or re-import the network")
    if not 0 < clip_percentile <= 100:
        raise ModelParameterError("clip_percentile must lie in (0, 100]")
    if variability < 0:
        raise ModelParameterError("variability (log-normal sigma) must be >= 0")
    w_clip = float(np.percentile(np.abs(w[real]), clip_percentile)) if real.any() else 0.0
    span = device.g_max_s - device.g_min_s
    if w_clip <= 0 or not np.isfinite(span / w_clip):
        w_clip = 1.0  # an all-zero (or all but zero: subnormal) layer: any scale works
    s = span / w_clip
    with np.errstate(over="ignore"):
        u = np.clip(w / w_clip, -1.0, 1.0)  # weights in units of w_clip: no overflow at any scale
    g_pos = device.g_min_s + np.maximum(u, 0.0) * span
    g_neg = device.g_min_s + np.maximum(-u, 0.0) * span
    levels = device.level_values()
    if levels is not None:
        g_pos = levels[np.abs(g_pos[..., None] - levels).argmin(-1)]
        g_neg = levels[np.abs(g_neg[..., None] - levels).argmin(-1)]
    if variability > 0:
        rng = np.random.default_rng(seed)
        g_pos = g_pos * rng.lognormal(0.0, variability, g_pos.shape)
        g_neg = g_neg * rng.lognormal(0.0, variability, g_neg.shape)
    if mask is not None:  # absent synapses: no device, no current (g_min - g_min)
        g_pos, g_neg = np.where(real, g_pos, device.g_min_s), np.where(real, g_neg, device.g_min_s)
    with np.errstate(over="ignore"):
        err = (g_pos - g_neg) / span - w / w_clip  # relative to w_clip
    err = err[real]
    errors = {
        "rms_error_rel": float(np.sqrt(np.mean(err**2))) if err.size else 0.0,
        "max_error_rel": float(np.max(np.abs(err))) if err.size else 0.0,
        "n_clipped": int(np.sum(np.abs(w) > w_clip)),
        "n_weights": int(real.sum()),
        "n_zero_weights": int(np.sum(w[real] == 0)),
    }
    return LayerMapping(g_pos, g_neg, s, w_clip, device, errors)
