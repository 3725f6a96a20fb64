r"""Paper 003's Co/Gd sigmoid ANN as one transient circuit (pure generators).

Every layer ``k`` of the network (``spinspice.snn.ann``) becomes::

    row buffer i --row i--+--[G+_ij]--col+ j--(0 V sense)--.
    (from VDD_row)        '--[G-_ij]--col- j--(0 V sense)--+--> SET driver j (from VDD_w): I =
                                                              clip(en_k (I_off + A_k (I+ - I-)), 0, I_max)
                                                                  |
    RESET driver j (into VSS_w): |I_reset| rst(t) <------------ t1 [Co/Gd Hall bar j] t2 -- 0
    Hall read bias j (from VDD_hb): I_read in the read window ---'          |
                                                                  hall j (R_hall(w) I_read)
    Hall amplifier j: V(ro_j) = V_read (V(hall_j) - R_min I_read) / ((R_max - R_min) I_read)

* **Row buffers** hold row ``i`` at ``V_read a_i en_k(t)`` (layer 0: ``a`` = the pixels; layer
  ``k > 0``: ``a`` = the previous layer's read-outs ``V(ro)/V_read``; the bias row at
  ``V_read en_k``): a behavioural buffer with output conductance ``g_out_s`` that draws its
  output current from the supply ``VDD_row<k>``, so the crossbar's read energy (and the
  buffer's headroom loss) is measured on that supply.
* **Crossbar**: one resistor per Co/Gd synapse level, differential pairs
  (:func:`spinspice.circuits.network.crossbar_tile`, conductances of
  :func:`spinspice.circuits.synapses.map_layer`); columns end at virtual ground (0-V sources,
  the transimpedance stage's input), so ``I+ - I- = s V_read (W_q a + b_q)`` exactly.
* **SET driver** (current-mode V->I stage): ``A_k = I_unit / (s_k V_read)`` turns one weight
  unit times a full-scale input into ``I_unit``; ``I_off`` is its bias current; the output is
  clipped into ``[0, I_max]`` (the driver only sources) and flows from ``VDD_w<k>`` into the
  Hall bar's channel while the layer's enable ``en_k`` is high.
* **Neuron**: the Co/Gd Hall bar of :func:`spinspice.circuits.cogd.cogd_device` (state ``w`` on
  its internal node).  All devices are RESET at once (``I_reset`` from the channel into
  ``VSS_w<k>``, paper 003: "an additional RESET pulse before the set pulse"); then layer ``k``
  gets its SET pulse in window ``k``, after layer ``k - 1``'s read-outs have settled; a
  device holds its level when the current stops (non-volatile), so layer ``k - 1`` is read
  while layer ``k`` is written.  The layers run one after the other in **one transient**.
* **Read-out**: the Hall read current ``I_read`` (from ``VDD_hb<k>``) flows through the
  channel from the end of the layer's SET window (reading during a SET is not possible);
  an instrumentation amplifier maps the Hall voltage to ``V_read w`` on node ``ro<k>_<j>``,
  which the next layer's row buffer follows.

Time base: the device's ``tau_sw`` (1 ms by default); :func:`ann_timing` scales every window
with it (RESET 5 tau, SET 6 tau: ``w`` reaches ``Y(I)`` within ``e^-6`` of the swing).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from spinspice.circuits.cogd import cogd_device
from spinspice.circuits.core import (
    BehavioralCurrent,
    BehavioralVoltage,
    CurrentSource,
    Element,
    Instance,
    Probe,
    Pwl,
    Testbench,
    Transient,
    VoltageSource,
)
from spinspice.circuits.network import crossbar_tile
from spinspice.circuits.synapses import LayerMapping
from spinspice.errors import ModelParameterError
from spinspice.models.cogd import CoGdParams
from spinspice.models.expr import branch_current, node_voltage

__all__ = [
    "ANN_COMPONENTS",
    "AnnCircuit",
    "AnnCircuitOptions",
    "AnnTiming",
    "ann_testbench",
    "ann_timing",
]

#: energy components, each a supply per layer: supply prefix -> component
ANN_COMPONENTS = {
    "dd_w": "set_driver",
    "ss_w": "reset_driver",
    "dd_row": "row_driver",
    "dd_hb": "hall_read",
}


@dataclasses.dataclass(frozen=True)
class AnnTiming:
    """Phases of one inference: RESET all devices, then one SET window per layer [s, A]."""

    t_reset_s: float
    t_set_s: float
    t_gap_s: float
    t_edge_s: float
    t_max_s: float
    i_reset_a: float = -30e-3  # paper 003 Fig. 4a: the sweeps start from -30 mA

    def __post_init__(self) -> None:
        for name in ("t_reset_s", "t_set_s", "t_gap_s", "t_edge_s", "t_max_s"):
            if not getattr(self, name) > 0:
                raise ModelParameterError(f"ANN timing: {name} = {getattr(self, name):g} s must be > 0")
        if not self.i_reset_a < 0:
            raise ModelParameterError(f"ANN timing: i_reset_a = {self.i_reset_a:g} A must be negative")

    def set_window(self, k: int) -> tuple[float, float]:
        """Start and end (edges included) of layer ``k``'s SET pulse [s]."""
        first = self.t_reset_s + 2 * self.t_edge_s + self.t_gap_s
        period = self.t_set_s + 2 * self.t_edge_s + self.t_gap_s
        start = first + k * period
        return start, start + self.t_set_s + 2 * self.t_edge_s

    def sample_s(self, k: int) -> float:
        """When layer ``k``'s read-outs are taken: mid-gap after its SET window [s]."""
        return self.set_window(k)[1] + self.t_gap_s / 2

    def t_stop_s(self, n_layers: int) -> float:
        return self.set_window(n_layers - 1)[1] + self.t_gap_s

    def pulse(self, t0: float, t1: float, level: float) -> Pwl:
        """0 -> ``level`` ramp starting at ``t0``, back to 0 by ``t1`` (edges ``t_edge_s``)."""
        e = self.t_edge_s
        pts = [(0.0, 0.0)] if t0 > 0 else []
        pts += [(t0, 0.0), (t0 + e, level), (t1 - e, level), (t1, 0.0)]
        return Pwl(tuple(pts))


def ann_timing(p: CoGdParams, *, set_taus: float = 6.0, reset_taus: float = 5.0) -> AnnTiming:
    """Windows in units of the device's ``tau_sw``: RESET ``reset_taus``, SET ``set_taus``,
    gaps ``tau/2``, edges ``tau/10``, largest time step ``tau/5`` (gear integration of a
    ``tau`` exponential: read-outs within 2e-4 of the swing of a ``tau/20`` run, 2.7x faster)."""
    tau = p.tau_sw_s
    return AnnTiming(
        t_reset_s=reset_taus * tau,
        t_set_s=set_taus * tau,
        t_gap_s=0.5 * tau,
        t_edge_s=0.1 * tau,
        t_max_s=0.2 * tau,
    )


@dataclasses.dataclass(frozen=True)
class AnnCircuitOptions:
    """Supplies and read-out of the ANN circuit (modelling choices, SI units)."""

    v_read_v: float = 0.1  # row voltage of a full-scale activation (w = 1)
    v_dd_w_v: float = 10.0  # SET supply: I_max R_track = 9 V with the defaults
    v_ss_w_v: float = -10.0  # RESET supply
    v_dd_row_v: float = 0.2  # row buffers / Hall amplifier outputs
    v_dd_hb_v: float = 1.0  # Hall read-bias source
    g_out_s: float = 1e3  # row buffer output conductance
    w0: float = 0.5  # device state before the inference (erased by the RESET)
    reltol: float = 1e-4  # ngspice's relative tolerance (1e-5: same read-outs within 1e-6, 1.4x slower)

    def __post_init__(self) -> None:
        if not (0 < self.v_read_v < self.v_dd_row_v):
            raise ModelParameterError("ANN circuit: need 0 < v_read_v < v_dd_row_v")
        if not (self.v_dd_w_v > 0 > self.v_ss_w_v) or not self.v_dd_hb_v > 0 or not self.g_out_s > 0:
            raise ModelParameterError("ANN circuit: need v_dd_w_v > 0 > v_ss_w_v, v_dd_hb_v > 0, g_out_s > 0")
        if not 0 <= self.w0 <= 1:
            raise ModelParameterError(f"ANN circuit: w0 = {self.w0:g} must lie in [0, 1]")
        if not 0 < self.reltol <= 1e-2:
            raise ModelParameterError(f"ANN circuit: reltol = {self.reltol:g} must lie in (0, 0.01]")


@dataclasses.dataclass(frozen=True)
class AnnCircuit:
    """The testbench and what a report needs to read it: per layer the probe keys of every
    neuron's state (``w<k>_<j>``) and read-out (``ro<k>_<j>``), the SET drivers' gains."""

    testbench: Testbench
    sizes: tuple[int, ...]
    timing: AnnTiming
    options: AnnCircuitOptions
    gains: tuple[float, ...]
    i_unit_a: float
    i_offset_a: float
    i_max_a: float
    n_synapse_pairs: tuple[int, ...]

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    def supplies(self) -> dict[str, tuple[str, int]]:
        """Supply element -> (component, layer)."""
        return {
            f"{prefix}{k}": (comp, k) for k in range(self.n_layers) for prefix, comp in ANN_COMPONENTS.items()
        }

    def describe(self) -> dict[str, Any]:
        return {
            "sizes": list(self.sizes),
            "timing": dataclasses.asdict(self.timing),
            "options": dataclasses.asdict(self.options),
            "set_windows_s": [list(self.timing.set_window(k)) for k in range(self.n_layers)],
            "sample_times_s": [self.timing.sample_s(k) for k in range(self.n_layers)],
            "t_stop_s": self.testbench.analysis.t_stop_s,
            "set_driver_gain": list(self.gains),
            "i_unit_a": self.i_unit_a,
            "i_offset_a": self.i_offset_a,
            "i_max_a": self.i_max_a,
            "n_synapse_pairs": list(self.n_synapse_pairs),
            "supplies": {name: {"component": c, "layer": k} for name, (c, k) in self.supplies().items()},
        }


def _clip(x: sp.Expr, hi: float) -> sp.Expr:
    """``x`` clipped into ``[0, hi]`` as ``(|x| - |x - hi| + hi)/2`` (portable to every target)."""
    return (sp.Abs(x) - sp.Abs(x - hi) + hi) / 2


def ann_testbench(
    mappings: Sequence[LayerMapping],
    inputs: np.ndarray,
    p: CoGdParams,
    *,
    i_unit_a: float,
    i_offset_a: float,
    i_max_a: float,
    timing: AnnTiming,
    options: AnnCircuitOptions = AnnCircuitOptions(),
    title: str = "spinspice Co/Gd sigmoid ANN (paper 003)",
) -> AnnCircuit:
    """The whole network for one input vector ``inputs`` (values in [0, 1]) as one transient.

    ``mappings``: every layer's conductances (``g_pos_s``/``g_neg_s`` of shape (out, in + 1),
    bias last); ``p``: the Co/Gd device of every neuron; ``i_*``: the SET driver's current per
    weight unit, bias current and compliance (module docstring)."""
    x = np.asarray(inputs, float).reshape(-1)
    if not mappings:
        raise ModelParameterError("ANN circuit: no layers")
    sizes = [mappings[0].g_pos_s.shape[1] - 1, *(m.g_pos_s.shape[0] for m in mappings)]
    for k, m in enumerate(mappings):
        if m.g_pos_s.shape != (sizes[k + 1], sizes[k] + 1):
            raise ModelParameterError(
                f"ANN circuit: layer {k} has {m.g_pos_s.shape[1] - 1} inputs, the layer before "
                f"gives {sizes[k]}"
            )
    if x.size != sizes[0]:
        raise ModelParameterError(f"ANN circuit: {x.size} inputs for a first layer of {sizes[0]}")
    if np.any(~np.isfinite(x)) or x.min(initial=0) < 0 or x.max(initial=0) > 1:
        raise ModelParameterError("ANN circuit: inputs must be finite and lie in [0, 1]")
    if not 0 < i_max_a * p.r_track_ohm < options.v_dd_w_v:
        raise ModelParameterError(
            f"ANN circuit: the SET driver's compliance {i_max_a * p.r_track_ohm:g} V (I_max R_track) "
            f"exceeds VDD_w = {options.v_dd_w_v:g} V: raise v_dd_w_v or lower i_max_a"
        )
    if -timing.i_reset_a * p.r_track_ohm > -options.v_ss_w_v:
        raise ModelParameterError(
            f"ANN circuit: the RESET needs {-timing.i_reset_a * p.r_track_ohm:g} V; VSS_w is "
            f"{options.v_ss_w_v:g} V: lower v_ss_w_v"
        )
    v_read = options.v_read_v
    dev = cogd_device(p)
    d_hall_v = (p.r_hall_max_ohm - p.r_hall_min_ohm) * p.i_read_a
    hall_min_v = p.r_hall_min_ohm * p.i_read_a
    n_layers = len(mappings)
    t_stop = timing.t_stop_s(n_layers)
    e = timing.t_edge_s
    reset_wave = timing.pulse(0.0, timing.t_reset_s + 2 * e, -timing.i_reset_a)
    elements: list[Element] = []
    probes: list[Probe] = []
    ics: list[tuple[tuple[str, ...], float]] = []
    gains, pairs = [], []
    for k, m in enumerate(mappings):
        n_in, n_out = sizes[k], sizes[k + 1]
        start, end = timing.set_window(k)
        read_end = timing.set_window(k + 1)[1] if k + 1 < n_layers else t_stop
        en = node_voltage(f"en{k}")
        elements.append(VoltageSource(f"en{k}", f"en{k}", "0", 0.0, wave=timing.pulse(start, end, 1.0)))
        supplies = {
            "dd_w": options.v_dd_w_v,
            "ss_w": options.v_ss_w_v,
            "dd_row": options.v_dd_row_v,
            "dd_hb": options.v_dd_hb_v,
        }
        for prefix, v in supplies.items():
            elements.append(VoltageSource(f"{prefix}{k}", f"v{prefix}{k}", "0", v))
        # row buffers: pixels (layer 0) or the previous layer's read-outs, and the bias row
        for i in range(n_in + 1):
            if i == n_in:
                target = v_read * en
            elif k == 0:
                target = float(v_read * x[i]) * en
            else:
                target = node_voltage(f"ro{k - 1}_{i}") * en
            row = f"row{k}_{i}"
            elements.append(
                BehavioralCurrent(
                    f"rb{k}_{i}", f"vdd_row{k}", row, options.g_out_s * (target - node_voltage(row))
                )
            )
        # crossbar and the virtual-ground column senses
        mask = np.ones(m.g_pos_s.shape, bool)
        tile = crossbar_tile(m.g_pos_s, m.g_neg_s, mask)
        elements.append(
            Instance(
                f"xb{k}",
                tile,
                (
                    *(f"row{k}_{i}" for i in range(n_in + 1)),
                    *(f"cp{k}_{j}" for j in range(n_out)),
                    *(f"cn{k}_{j}" for j in range(n_out)),
                ),
            )
        )
        pairs.append(int(mask.sum()))
        gain = i_unit_a / (m.g_per_weight_s * v_read)
        gains.append(gain)
        read_wave = timing.pulse(end, read_end, p.i_read_a) if read_end < t_stop else None
        for j in range(n_out):
            t1, hall = f"t1_{k}_{j}", f"hall{k}_{j}"
            elements.append(VoltageSource(f"sp{k}_{j}", f"cp{k}_{j}", "0", 0.0))
            elements.append(VoltageSource(f"sn{k}_{j}", f"cn{k}_{j}", "0", 0.0))
            mac = branch_current(f"sp{k}_{j}") - branch_current(f"sn{k}_{j}")
            i_set = _clip(en * (i_offset_a + gain * mac), i_max_a)
            elements.append(BehavioralCurrent(f"ws{k}_{j}", f"vdd_w{k}", t1, i_set))
            elements.append(CurrentSource(f"wr{k}_{j}", t1, f"vss_w{k}", 0.0, wave=reset_wave))
            if read_wave is not None:
                elements.append(CurrentSource(f"hb{k}_{j}", f"vdd_hb{k}", t1, 0.0, wave=read_wave))
            else:  # the output layer is read until the end of the run
                e_pts = ((0.0, 0.0), (end, 0.0), (end + e, p.i_read_a), (t_stop, p.i_read_a))
                elements.append(CurrentSource(f"hb{k}_{j}", f"vdd_hb{k}", t1, 0.0, wave=Pwl(e_pts)))
            elements.append(Instance(f"d{k}_{j}", dev, (t1, "0", hall)))
            ro = v_read * (node_voltage(hall) - hall_min_v) / d_hall_v
            elements.append(BehavioralVoltage(f"ro{k}_{j}", f"ro{k}_{j}", "0", ro))
            ics.append(((f"d{k}_{j}", "w"), options.w0))
            probes.append(
                Probe(f"w{k}_{j}", "v", (f"d{k}_{j}", "w"), "1", f"state w of neuron {j}, layer {k}")
            )
            probes.append(
                Probe(f"ro{k}_{j}", "v", (f"ro{k}_{j}",), "V", f"read-out of neuron {j}, layer {k}")
            )
        for prefix in supplies:
            probes.append(Probe(f"i_{prefix}{k}", "i", (f"{prefix}{k}",), "A", f"supply {prefix}{k} current"))
    tb = Testbench(
        title=title,
        elements=tuple(elements),
        analysis=Transient(t_stop_s=t_stop, t_step_s=timing.t_max_s, t_max_s=timing.t_max_s, uic=True),
        probes=tuple(probes),
        initial_conditions=tuple(ics),
        options=(("reltol", options.reltol), ("method", "gear")),
        supplies=tuple(
            (ANN_COMPONENTS[prefix], f"{prefix}{k}") for k in range(n_layers) for prefix in ANN_COMPONENTS
        ),
        printed=tuple(f"ro{n_layers - 1}_{j}" for j in range(sizes[-1])),
    )
    return AnnCircuit(
        tb,
        tuple(sizes),
        timing,
        options,
        tuple(gains),
        i_unit_a,
        i_offset_a,
        i_max_a,
        tuple(pairs),
    )
