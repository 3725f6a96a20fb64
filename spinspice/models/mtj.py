r"""MTJ read-out of the DW-LIF membrane state (paper 001, Eq. 2 and 3).

Resistance of a tunnel junction whose free layer makes an angle with the
reference layer of cosine ``c`` (Eq. 2)::

    R(c) = R_AP (1 - c)/2 + R_P (1 + c)/2 = R_P [1 + TMR(V) (1 - c)/2]

with ``R_AP = R_P (1 + TMR0)`` and, going beyond the paper as standard MTJ
compact models do, a bias-dependent TMR::

    TMR(V) = TMR0 / (1 + (V / V_h)^2)        (V_h = 0.5 V; switchable off)

**Mapping from the membrane state m to c.**  The read MTJ sits near terminal
T2 and sees only the part of the wall motion under it (paper 001, Fig. 5-6):
its resistance goes from 380 ohm at rest (m = 0) to 590 ohm at full
integration (m = 1), Fig. 6e.  Inverting Eq. 2 at zero bias gives
``c_rest = 0.1`` and ``c_full = -0.95`` for R_P/R_AP = 200/600; spinspice
interpolates linearly, ``c_lin(m) = c_rest + (c_full - c_rest) m``, and clamps
``c`` smoothly into [-1, 1] (``smooth_clip``, width ``k_clip``) because a
cosine cannot leave that interval: for m < -0.86 the junction simply reads
fully parallel.  The anchors 380/590 ohm hold at zero bias; with the bias
dependence on, the divider's 55-70 mV (Eq. 3) shifts by < 0.5 mV.

Read divider (Eq. 3): ``V_out = R/(R + R_read) V_read``.  R_read = 564 ohm and
V_read = 0.137 V turn the 380 -> 590 ohm swing into the paper's 55 -> 70 mV.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import sympy as sp

from spinspice.errors import ModelParameterError
from spinspice.models.compact import CompactModel, Contribution, Variable
from spinspice.models.expr import Equation, node_voltage, smooth_clip, symbols
from spinspice.models.params import ParamSet, param

__all__ = [
    "MTJ_RESISTANCE",
    "MTJParams",
    "ReadDividerParams",
    "compact_model",
    "divider_vout",
    "mtj_resistance",
    "resistance_equation",
]

PAPER1 = "paper 001"


@dataclasses.dataclass(frozen=True)
class MTJParams(ParamSet):
    """Read MTJ of the DW-LIF neuron."""

    title = "MTJ read-out (paper 001 Eq. 2)"

    r_p_ohm: float = param(
        200.0,
        unit="ohm",
        desc="parallel-state resistance R_P",
        source=f"{PAPER1}, Eq. 2 text (R_P/R_AP = 200/600)",
        lo=0.0,
        lo_open=True,
    )
    tmr0: float = param(
        2.0,
        unit="1",
        desc="zero-bias TMR ratio (R_AP - R_P)/R_P",
        source=f"{PAPER1} (TMR 200 %)",
        lo=0.0,
        lo_open=True,
    )
    v_h_v: float = param(
        0.5,
        unit="V",
        desc="bias at which the TMR halves",
        source="standard MTJ compact models (SPEC 3.1)",
        lo=0.0,
        lo_open=True,
    )
    bias_dependence: bool = param(
        True,
        unit="1",
        desc="use TMR(V) = TMR0/(1+(V/V_h)^2); false = constant TMR0",
        source="SPEC 3.1",
    )
    r_rest_ohm: float = param(
        380.0,
        unit="ohm",
        desc="read resistance at rest (m = 0), zero bias",
        source=f"{PAPER1}, Fig. 6e (380 ohm)",
        lo=0.0,
        lo_open=True,
    )
    r_full_ohm: float = param(
        590.0,
        unit="ohm",
        desc="read resistance at full integration (m = 1), zero bias",
        source=f"{PAPER1}, Fig. 6e (590 ohm)",
        lo=0.0,
        lo_open=True,
    )
    k_clip: float = param(
        0.005,
        unit="1",
        desc="sharpness of the smooth clamp of the cosine into [-1, 1]",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
        hi=0.1,
    )

    @property
    def r_ap_ohm(self) -> float:
        return self.r_p_ohm * (1.0 + self.tmr0)

    def cosine(self, r_ohm: float) -> float:
        """Invert Eq. 2 at zero bias: the cosine that gives ``r_ohm``."""
        return float(COSINE_OF_R(r_ohm, params=self))

    @property
    def c_rest(self) -> float:
        """Derived: cosine at rest (from ``r_rest_ohm``)."""
        return self.cosine(self.r_rest_ohm)

    @property
    def c_full(self) -> float:
        """Derived: cosine at full integration (from ``r_full_ohm``)."""
        return self.cosine(self.r_full_ohm)

    def _check(self) -> None:
        for name in ("r_rest_ohm", "r_full_ohm"):
            r = getattr(self, name)
            if not self.r_p_ohm <= r <= self.r_ap_ohm:
                raise ModelParameterError(
                    f"{name} = {r:g} ohm must lie between R_P = {self.r_p_ohm:g} and "
                    f"R_AP = {self.r_ap_ohm:g} ohm (Eq. 2 cannot produce it otherwise)"
                )


@dataclasses.dataclass(frozen=True)
class ReadDividerParams(ParamSet):
    """Resistive divider that turns the MTJ resistance into V_out (Eq. 3)."""

    title = "MTJ read divider (paper 001 Eq. 3)"

    r_read_ohm: float = param(
        564.0,
        unit="ohm",
        desc="series read resistor R_read",
        source=f"{PAPER1} Eq. 3; value chosen so 380->590 ohm gives 55->70 mV (SPEC 3.1)",
        lo=0.0,
        lo_open=True,
    )
    v_read_v: float = param(
        0.137,
        unit="V",
        desc="read supply V_read",
        source=f"{PAPER1} Eq. 3; value chosen so 380->590 ohm gives 55->70 mV (SPEC 3.1)",
        lo=0.0,
        lo_open=True,
        hi=2.0,
    )


# --- the one symbolic definition -----------------------------------------
_m, _v, _r = symbols(["m", "v_mtj_v", "r_ohm"])
_r_p, _tmr0, _v_h, _c_rest, _c_full, _k = symbols(["r_p_ohm", "tmr0", "v_h_v", "c_rest", "c_full", "k_clip"])

#: Eq. 2 inverted at zero bias: cosine c that gives resistance R
COSINE_OF_R = Equation(
    name="mtj_cosine_of_r",
    expr=(_r_p * (2 + _tmr0) - 2 * _r) / (_r_p * _tmr0),
    inputs=(_r,),
    params=(_r_p, _tmr0),
    unit="1",
    doc="c = (R_AP + R_P - 2R)/(R_AP - R_P): Eq. 2 solved for the cosine at zero bias",
)


def _resistance_expr(bias_dependence: bool) -> sp.Expr:
    c_lin = _c_rest + (_c_full - _c_rest) * _m
    c = smooth_clip(c_lin, -1, 1, _k)
    tmr = _tmr0 / (1 + (_v / _v_h) ** 2) if bias_dependence else _tmr0
    return _r_p * (1 + tmr * (1 - c) / 2)


def _equation(bias_dependence: bool) -> Equation:
    params = (_r_p, _tmr0, _c_rest, _c_full, _k) + ((_v_h,) if bias_dependence else ())
    return Equation(
        name="mtj_resistance" + ("" if bias_dependence else "_const_tmr"),
        expr=_resistance_expr(bias_dependence),
        inputs=(_m, _v),
        params=params,
        unit="ohm",
        doc="MTJ resistance R(m, V) [ohm], paper 001 Eq. 2 with TMR(V).",
    )


#: R(m, V) with bias-dependent TMR, and with constant TMR.
MTJ_RESISTANCE = {True: _equation(True), False: _equation(False)}


def resistance_equation(p: MTJParams) -> Equation:
    return MTJ_RESISTANCE[bool(p.bias_dependence)]


def mtj_resistance(m: np.ndarray | float, v_v: np.ndarray | float, p: MTJParams) -> np.ndarray:
    """R(m, V) in ohm (numpy)."""
    eq = resistance_equation(p)
    m_arr, v_arr = np.broadcast_arrays(np.asarray(m, float), np.asarray(v_v, float))
    return np.asarray(eq(m_arr, v_arr, params=p), dtype=float)


def divider_vout(
    m: np.ndarray | float, mtj: MTJParams, divider: ReadDividerParams, *, tol_v: float = 1e-15
) -> np.ndarray:
    """Solve Eq. 3 for V_out when R depends on its own bias (vectorised).

    ``V = R(m, V) / (R(m, V) + R_read) * V_read`` is a contraction (the bias
    dependence is weak at tens of mV), so fixed-point iteration converges to
    machine precision in a handful of steps.
    """
    m_arr = np.asarray(m, dtype=float)
    v = np.full_like(m_arr, divider.v_read_v * 0.5)
    for _ in range(200):
        r = mtj_resistance(m_arr, v, mtj)
        v_new = r / (r + divider.r_read_ohm) * divider.v_read_v
        if np.all(np.abs(v_new - v) <= tol_v):
            return v_new
        v = v_new
    raise ModelParameterError(  # pragma: no cover - needs absurd V_h
        "the read divider did not converge; reduce v_read_v or raise v_h_v"
    )


def compact_model(p: MTJParams) -> CompactModel:
    """Read MTJ as a 3-terminal compact model: ``t3 -> b`` junction, ``m`` sense input.

    ``m`` is a high-impedance input carrying the membrane state as a voltage
    (as the DW-LIF subcircuit provides it).
    """
    eq = resistance_equation(p)
    vm, vj = node_voltage("m"), node_voltage("t3", "b")
    (r_sym,) = symbols(["r_mtj_ohm"])
    return CompactModel(
        name="spinspice_mtj_read",
        doc="MTJ read-out R(m, V) (paper 001 Eq. 2, bias-dependent TMR); port m is the state.",
        ports=("t3", "b", "m"),
        internal=(),
        params=tuple(i for i in MTJParams.param_info() if i.kind is not bool),
        values=tuple((k, float(v)) for k, v in p.values().items() if not isinstance(v, bool)),
        variables=(
            *cosine_variables(),
            Variable("r_mtj_ohm", eq.expr.xreplace({eq.inputs[0]: vm, eq.inputs[1]: vj}), "ohm", eq.doc),
        ),
        contributions=(Contribution("t3", "b", vj / r_sym),),
    )


def cosine_variables() -> tuple[Variable, ...]:
    """Verilog-A variables computing the derived cosines from the 380/590 ohm anchors."""
    r_rest, r_full = symbols(["r_rest_ohm", "r_full_ohm"])
    return (
        Variable("c_rest", COSINE_OF_R.expr.xreplace({_r: r_rest}), "1", "cosine at rest"),
        Variable("c_full", COSINE_OF_R.expr.xreplace({_r: r_full}), "1", "cosine at full integration"),
    )
