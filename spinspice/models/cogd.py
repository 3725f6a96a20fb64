r"""Compensated-ferrimagnet Co/Gd devices (paper 003): sigmoid neuron and multilevel synapse.

SOT switching of Ta/Pt/[Co/Gd]6/Pt/AlO_x is multilevel: a current pulse of
amplitude I drives the normalised Hall resistance ``w`` (0 = fully "down",
1 = fully "up") towards a level set by the pulse, and the level is kept
(non-volatile) when the current stops.  spinspice writes the switching loop
of Fig. 2-4 as one state equation with two sigmoid branches::

    dw/dt = ( softplus(Y(I) - w) - softplus(w - Y_down(I)) ) / tau_sw
    Y(I)      = 1 / (1 + exp(-(I - X0)/K))     (SET branch, Fig. 4b)
    Y_down(I) = 1 / (1 + exp(-(I + X0)/K))     (RESET branch, mirror image)

A positive pulse only raises ``w`` (to Y(I) if it is below), a negative one
only lowers it; at I = 0 nothing moves.  Hence:

* **sigmoid neuron** (Fig. 4b): after a RESET, a SET pulse of amplitude X
  leaves ``w = Y(X) = 1/(1 + exp(-(X - X0)/K))``;
* **multilevel synapse** (Fig. 3c): levels are programmed by pulses of
  increasing amplitude, each with a well-defined current threshold;
* **STDP** (Fig. 3d): pre- and post-synaptic spike waveforms superpose in the
  device; only the overlap exceeds the thresholds, so the weight change
  depends on their delay (:func:`stdp_pair`).

X0, K and tau_sw are device parameters fitted from an R_hall(I) curve
(``spinspice calibrate cogd-sigmoid``); the defaults are modelling choices
consistent with the -5 to 30 mA loops of Fig. 4.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import sympy as sp

from spinspice.errors import ModelParameterError
from spinspice.models.compact import CompactModel, Contribution, Variable
from spinspice.models.expr import Equation, node_voltage, softplus, symbols
from spinspice.models.params import ParamSet, param

__all__ = [
    "COGD_RHS",
    "SIGMOID",
    "CoGdParams",
    "CoGdSynapseParams",
    "compact_model",
    "programming_currents",
    "sigmoid",
    "stdp_pair_current",
    "stdp_spike",
    "synapse_levels",
]

PAPER3 = "paper 003"


@dataclasses.dataclass(frozen=True)
class CoGdParams(ParamSet):
    title = "Co/Gd multilevel SOT device (paper 003)"

    x0_a: float = param(
        14e-3,
        unit="A",
        desc="switching midpoint X0 of the sigmoid",
        source=f"{PAPER3} Fig. 4b (fit parameter); modelling choice",
        lo=0.0,
        lo_open=True,
    )
    k_a: float = param(
        2.5e-3,
        unit="A",
        desc="slope K of the sigmoid",
        source=f"{PAPER3} Fig. 4b (fit parameter); modelling choice",
        lo=0.0,
        lo_open=True,
    )
    tau_sw_s: float = param(
        1e-3,
        unit="s",
        desc="switching time constant during a pulse",
        source=f"{PAPER3} (10 ms pulses switch fully); modelling choice",
        lo=0.0,
        lo_open=True,
    )
    k_soft: float = param(
        0.001,
        unit="1",
        desc="sharpness of the one-way switching (softplus width)",
        source="modelling choice",
        lo=1e-5,
        hi=0.05,
    )
    r_hall_min_ohm: float = param(
        -0.6, unit="ohm", desc="Hall resistance at w = 0", source=f"{PAPER3} Fig. 1b (about -0.6 ohm)"
    )
    r_hall_max_ohm: float = param(
        0.6, unit="ohm", desc="Hall resistance at w = 1", source=f"{PAPER3} Fig. 1b (about +0.6 ohm)"
    )
    r_track_ohm: float = param(
        300.0,
        unit="ohm",
        desc="resistance of the 10 um Hall-bar channel",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
    )
    i_read_a: float = param(
        0.1e-3,
        unit="A",
        desc="read current of the Hall measurement",
        source=f"{PAPER3} (0.1 mA)",
        lo=0.0,
        lo_open=True,
    )

    def _check(self) -> None:
        if not self.r_hall_max_ohm > self.r_hall_min_ohm:
            raise ModelParameterError("r_hall_max_ohm must exceed r_hall_min_ohm")

    def r_hall_ohm(self, w: np.ndarray | float) -> np.ndarray:
        return self.r_hall_min_ohm + (self.r_hall_max_ohm - self.r_hall_min_ohm) * np.asarray(w)


@dataclasses.dataclass(frozen=True)
class CoGdSynapseParams(ParamSet):
    title = "Co/Gd multilevel synapse (paper 003 Fig. 3c)"

    n_levels: float = param(
        8.0,
        unit="1",
        desc="programmable conductance levels",
        source=f"{PAPER3} (multilevel switching); modelling choice",
        lo=2.0,
        hi=256.0,
    )
    g_min_s: float = param(
        1e-5, unit="S", desc="conductance at w = 0", source="modelling choice", lo=0.0, lo_open=True
    )
    g_max_s: float = param(
        1e-4, unit="S", desc="conductance at w = 1", source="modelling choice", lo=0.0, lo_open=True
    )

    def _check(self) -> None:
        if self.n_levels != math.floor(self.n_levels):
            raise ModelParameterError(f"n_levels = {self.n_levels:g} must be a whole number")
        if not self.g_max_s > self.g_min_s:
            raise ModelParameterError("g_max_s must exceed g_min_s")


_i, _w = symbols(["i_a", "w"])
_x0, _k, _tau, _ks = symbols(["x0_a", "k_a", "tau_sw_s", "k_soft"])

#: Y(X) = 1/(1 + exp(-(X - X0)/K)) (paper 003 Fig. 4b)
SIGMOID = Equation(
    name="cogd_sigmoid",
    expr=1 / (1 + sp.exp(-(_i - _x0) / _k)),
    inputs=(_i,),
    params=(_x0, _k),
    unit="1",
    doc="Y = 1/(1 + exp(-(X - X0)/K)), the Co/Gd sigmoid neuron (paper 003) [1]",
)

_y_up = SIGMOID.expr
_y_down = SIGMOID.expr.xreplace({_x0: -_x0})

#: dw/dt [1/s] of the Co/Gd switching state
COGD_RHS = Equation(
    name="cogd_dwdt",
    expr=(softplus(_y_up - _w, _ks) - softplus(_w - _y_down, _ks)) / _tau,
    inputs=(_w, _i),
    params=(_x0, _k, _tau, _ks),
    unit="1/s",
    doc="dw/dt of the Co/Gd multilevel state: SET towards Y(I), RESET towards Y(I + 2 X0) [1/s]",
)


def sigmoid(x_a: np.ndarray | float, p: CoGdParams) -> np.ndarray:
    return np.asarray(SIGMOID(np.asarray(x_a, float), params=p), dtype=float)


def synapse_levels(s: CoGdSynapseParams) -> np.ndarray:
    """The ``n_levels`` conductances, evenly spaced in w between G_min and G_max."""
    w = np.linspace(0.0, 1.0, int(s.n_levels))
    return s.g_min_s + (s.g_max_s - s.g_min_s) * w


def programming_currents(p: CoGdParams, s: CoGdSynapseParams, margin: float = 0.02) -> np.ndarray:
    """SET-pulse amplitude (after a RESET) that reaches each level: Y^-1(w) (inner levels)."""
    w = np.clip(np.linspace(0.0, 1.0, int(s.n_levels)), margin, 1 - margin)
    return p.x0_a + p.k_a * np.log(w / (1 - w))


def stdp_spike(
    t_s: np.ndarray, amplitude_a: float, t_pulse_s: float, t_tail_s: float, tail_frac: float
) -> np.ndarray:
    """One engineered spike (paper 003 Fig. 3b analogue), starting at t = 0.

    A rectangular main pulse of ``amplitude_a`` for ``t_pulse_s``, then a tail
    of opposite sign that decays linearly from ``tail_frac * amplitude_a`` to 0
    over ``t_tail_s``.  Neither part alone crosses the switching thresholds.
    """
    t = np.asarray(t_s, dtype=float)
    main = np.where((t >= 0) & (t < t_pulse_s), amplitude_a, 0.0)
    tau = t - t_pulse_s
    tail = np.where((tau >= 0) & (tau < t_tail_s), -tail_frac * amplitude_a * (1 - tau / t_tail_s), 0.0)
    return main + tail


def stdp_pair_current(t_s: np.ndarray, dt_s: float, t0_s: float, **spike: float) -> np.ndarray:
    """Device current ``I_pre(t) - I_post(t)`` for a post spike ``dt_s`` after the pre spike."""
    return stdp_spike(np.asarray(t_s) - t0_s, **spike) - stdp_spike(np.asarray(t_s) - t0_s - dt_s, **spike)


def compact_model(p: CoGdParams) -> CompactModel:
    """Hall bar: SOT channel ``(t1, t2)``, state node ``w``; retrieves Y and dw/dt."""
    vt, vw = node_voltage("t1", "t2"), node_voltage("w")
    rt, ia, dw = symbols(["r_track_ohm", "i_a", "dwdt_per_s"])
    names = ("x0_a", "k_a", "tau_sw_s", "k_soft", "r_track_ohm")
    infos = {i.name: i for i in CoGdParams.param_info()}
    return CompactModel(
        name="spinspice_cogd",
        doc="Co/Gd multilevel SOT device (paper 003): sigmoid SET/RESET branches, non-volatile w.",
        ports=("t1", "t2"),
        internal=("w",),
        params=tuple(infos[n] for n in names),
        values=tuple((n, float(getattr(p, n))) for n in names),
        variables=(
            Variable("i_a", vt / rt, "A", "SOT current through the channel"),
            Variable("y_set", SIGMOID.expr.xreplace({_i: ia}), "1", SIGMOID.doc),
            Variable("dwdt_per_s", COGD_RHS.expr.xreplace({_w: vw, _i: ia}), "1/s", COGD_RHS.doc),
        ),
        contributions=(
            Contribution("t1", "t2", vt / rt),
            Contribution("w", None, -dw),
            Contribution("w", None, vw, ddt=True),
        ),
    )
