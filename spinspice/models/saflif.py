r"""SAF-coupled Co/Pt domain-wall LIF neuron with self-reset (paper 002).

Modified LIF with separate integration and leak time constants (paper 002,
Eq. 1)::

    dV/dt = -(V - V_reset)/tau_leak + R I(t)/tau_int

V is the anomalous-Hall read-out of the wall position (µV), I the SOT write
current.  Integration is SOT-driven wall motion; the leak *and* the reset
come from the synthetic-antiferromagnetic exchange field, which pulls the
wall back once the current stops: there is no reset transistor.  When V
reaches V_th the neuron fires and the write current is switched off (steered
away); the SAF coupling returns V towards V_reset, and the neuron re-arms when
V is back within ``release_frac`` of the V_th - V_reset span above V_reset.

Defaults: V_th = 214 µV, V_reset = 160 µV, tau_int = tau_leak = 3 ms (the
paper's SNN study; the "paper-002-3us" preset uses 3 µs).  R (the
current-to-voltage gain of the track, ``r_mem_ohm``) and the scaled track
resistance are modelling choices (the paper gives the equation, not R).
"""

from __future__ import annotations

import dataclasses

from spinspice.errors import ModelParameterError
from spinspice.models.compact import CompactModel, Contribution, Variable
from spinspice.models.expr import Equation, node_voltage, symbols
from spinspice.models.params import ParamSet, param

__all__ = ["SAF_RHS", "SAFLIFParams", "compact_model"]

PAPER2 = "paper 002"


@dataclasses.dataclass(frozen=True)
class SAFLIFParams(ParamSet):
    title = "SAF-LIF neuron with self-reset (paper 002 Eq. 1)"

    v_th_v: float = param(
        214e-6,
        unit="V",
        desc="firing threshold of the Hall read-out",
        source=f"{PAPER2} (V_th 214 uV, SPEC 3.4)",
        lo=0.0,
        lo_open=True,
    )
    v_reset_v: float = param(
        160e-6,
        unit="V",
        desc="resting / reset potential",
        source=f"{PAPER2} (V_reset 160 uV, SPEC 3.4)",
        lo=0.0,
    )
    tau_int_s: float = param(
        3e-3,
        unit="s",
        desc="integration time constant",
        source=f"{PAPER2} Eq. 1 (3 ms; 3 us variant)",
        lo=0.0,
        lo_open=True,
    )
    tau_leak_s: float = param(
        3e-3,
        unit="s",
        desc="leak (SAF self-reset) time constant",
        source=f"{PAPER2} Eq. 1 (3 ms; 3 us variant)",
        lo=0.0,
        lo_open=True,
    )
    r_mem_ohm: float = param(
        0.15,
        unit="ohm",
        desc="current-to-voltage gain R of Eq. 1",
        source="modelling choice (150 uV per mA)",
        lo=0.0,
        lo_open=True,
    )
    release_frac: float = param(
        0.05,
        unit="1",
        desc="re-arm when V < V_reset + frac (V_th - V_reset)",
        source="modelling choice",
        lo=1e-3,
        hi=0.5,
    )
    r_track_ohm: float = param(
        100.0,
        unit="ohm",
        desc="resistance of the SOT write track",
        source="modelling choice (scaled Pt track)",
        lo=0.0,
        lo_open=True,
    )
    v_scale_v: float = param(
        1e-4,
        unit="V",
        desc="state node scaling: node voltage = V / v_scale",
        source="modelling choice (keeps the node O(1) for ngspice)",
        lo=0.0,
        lo_open=True,
    )

    def _check(self) -> None:
        if not self.v_reset_v < self.v_th_v:
            raise ModelParameterError(
                f"v_reset_v = {self.v_reset_v:g} V must be below v_th_v = {self.v_th_v:g} V"
            )

    @property
    def v_release_v(self) -> float:
        return self.v_reset_v + self.release_frac * (self.v_th_v - self.v_reset_v)


_v, _i = symbols(["v_v", "i_a"])
_vr, _ti, _tl, _r = symbols(["v_reset_v", "tau_int_s", "tau_leak_s", "r_mem_ohm"])

#: dV/dt [V/s] of the SAF-LIF neuron (paper 002 Eq. 1); input I [A]
SAF_RHS = Equation(
    name="saflif_dvdt",
    expr=-(_v - _vr) / _tl + _r * _i / _ti,
    inputs=(_v, _i),
    params=(_vr, _ti, _tl, _r),
    unit="V/s",
    doc="dV/dt = -(V - V_reset)/tau_leak + R I/tau_int (paper 002 Eq. 1) [V/s]",
)


def compact_model(p: SAFLIFParams) -> CompactModel:
    """Track ``(t1, t2)`` carrying the SOT current; read-out ``out`` (V, to ground); state node ``v``.

    The state node holds V / v_scale (1 F), as the ngspice subcircuit does.
    """
    vt, vn = node_voltage("t1", "t2"), node_voltage("v")
    i_sym, dv, vs, rt = symbols(["i_a", "dvdt_v_per_s", "v_scale_v", "r_track_ohm"])
    infos = {i.name: i for i in SAFLIFParams.param_info()}
    names = ("v_reset_v", "tau_int_s", "tau_leak_s", "r_mem_ohm", "r_track_ohm", "v_scale_v")
    return CompactModel(
        name="spinspice_saflif",
        doc="SAF-LIF neuron (paper 002 Eq. 1): t1 -> t2 SOT track, out = Hall read-out V.",
        ports=("t1", "t2", "out"),
        internal=("v",),
        params=tuple(infos[n] for n in names),
        values=tuple((n, float(getattr(p, n))) for n in names),
        variables=(
            Variable("i_a", vt / rt, "A", "SOT write current"),
            Variable("dvdt_v_per_s", SAF_RHS.expr.xreplace({_v: vn * vs, _i: i_sym}), "V/s", SAF_RHS.doc),
        ),
        contributions=(
            Contribution("t1", "t2", vt / rt),
            Contribution("v", None, -dv / vs),
            Contribution("v", None, vn, ddt=True),
            # ideal read-out: out follows V (1 ohm Thevenin source)
            Contribution("out", None, node_voltage("out") - vn * vs),
        ),
    )
