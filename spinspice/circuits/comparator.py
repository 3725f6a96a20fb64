r"""Comparator with hysteresis (behavioural Schmitt core + CMOS output stage).

Core: a state node ``s`` in [0, 1] (1 F) relaxes with time constant
``tau_comp_s`` towards a smooth step of the input around a threshold that
switches with ``s`` (positive feedback = hysteresis)::

    ds/dt  = (target - s) / tau
    target = (1 + tanh((V_in - V_thr(s)) / w)) / 2
    V_thr  = V_hi - (V_hi - V_lo) h(s),   h(s) = (1 + tanh((s - 1/2)/k_h)) / 2

so the output goes high when V_in rises through V_hi and low when it falls
through V_lo, with finite edges of a few tau.  The threshold moves only when
``s`` passes 1/2 (``h`` is flat near 0 and 1): a threshold that followed
``s`` linearly would start regenerating several ``w`` before the crossing
and fire early.  The same equation (:data:`SCHMITT_RATE`) drives the
circuit's B-source and the scipy reference, so the comparator's propagation
delay is part of the reference reset rule.

Output stage: the core drives an internal node ``x = V_dd (1 - H(s))`` with
``H(s) = (1 + tanh((s - 1/2)/0.002))/2`` (ideal: it only drives gates), a
clean edge centred on the decision instant whatever the core's speed (a
slowly moving ``x`` would make the inverters slew with little overdrive and
switch late); then two CMOS inverters make ``out`` (0/V_dd, high
while firing) and its complement ``outn``.  The inverters are sized
symmetric, so both switch sharply when s crosses 1/2 -- the instant the
reference uses -- and every switch of the cell is driven by one of them.
Their load capacitance charging, plus the static bias ``i_q_comp_a`` of the
analogue front end, is what the comparator supply delivers in the energy
report.  The core drives ``outb`` =
V_dd (1 - s) (ideal, it only drives gates), and a CMOS inverter with a load
capacitance makes the 0/V_dd output ``out``: its charging current, plus the
static bias ``i_q_comp_a`` of the analogue front end, is what the comparator
supply delivers in the energy report.
"""

from __future__ import annotations

import dataclasses

from spinspice.circuits.cmos import CmosParams
from spinspice.circuits.core import (
    BehavioralCurrent,
    BehavioralVoltage,
    Capacitor,
    CurrentSource,
    Mosfet,
    Subckt,
    generator,
    stable_hash,
)
from spinspice.errors import ModelParameterError
from spinspice.models.expr import node_voltage
from spinspice.models.params import ParamSet, param
from spinspice.models.schmitt import SCHMITT_RATE, sharp_step

__all__ = ["SCHMITT_RATE", "ComparatorParams", "comparator", "schmitt_params"]


@dataclasses.dataclass(frozen=True)
class ComparatorParams(ParamSet):
    title = "hysteretic comparator (paper 001 Eq. 3 spike rule)"

    v_dd_comp_v: float = param(
        0.8,
        unit="V",
        desc="comparator / logic supply (spike amplitude)",
        source="modelling choice",
        lo=0.1,
        hi=20.0,
    )
    tau_comp_s: float = param(
        20e-12,
        unit="s",
        desc="time constant of the Schmitt core",
        source="modelling choice (GHz-class comparator, ~30 ps delay)",
        lo=1e-13,
        hi=1e-2,
    )
    width_comp_v: float = param(
        50e-6,
        unit="V",
        desc="input width of the smooth decision",
        source="modelling choice",
        lo=1e-9,
        hi=1e-2,
    )
    k_hyst: float = param(
        0.05,
        unit="1",
        desc="sharpness of the threshold switch h(s)",
        source="modelling choice",
        lo=1e-3,
        hi=0.2,
    )
    i_q_comp_a: float = param(
        20e-6,
        unit="A",
        desc="static bias current of the comparator",
        source="modelling choice (GHz-class CMOS comparator)",
        lo=0.0,
        hi=1e-2,
    )
    c_load_comp_f: float = param(
        1e-15,
        unit="F",
        desc="load on each comparator output",
        source="modelling choice (wire + gates)",
        lo=0.0,
        lo_open=True,
    )
    r_inv_on_ohm: float = param(
        100.0,
        unit="ohm",
        desc="on-resistance of the output inverter FETs",
        source="modelling choice: strong buffers for the wide switches",
        lo=1.0,
    )


#: width (in s) of the edge the core hands to the output inverters
DRIVE_SHARPNESS = 0.002


def schmitt_params(p: ComparatorParams, v_hi: float, v_lo: float) -> dict[str, float]:
    """Parameter values of :data:`SCHMITT_RATE` for thresholds ``v_hi``/``v_lo``."""
    return {
        "v_hi_v": v_hi,
        "v_lo_v": v_lo,
        "width_comp_v": p.width_comp_v,
        "tau_comp_s": p.tau_comp_s,
        "k_hyst": p.k_hyst,
    }


@generator
def comparator(p: ComparatorParams, cmos: CmosParams, v_hi: float, v_lo: float) -> Subckt:
    """Hysteretic comparator: ports ``(inp, out, outn, vdd)``; out high once V_in > V_hi."""
    if not v_lo < v_hi:
        raise ModelParameterError(f"comparator thresholds: need v_lo < v_hi, got {v_lo:g} V and {v_hi:g} V")
    if v_hi - v_lo < 4 * p.width_comp_v:
        raise ModelParameterError(
            f"comparator hysteresis {v_hi - v_lo:g} V is narrower than 4 x width_comp_v = "
            f"{4 * p.width_comp_v:g} V; lower width_comp_v"
        )
    s = node_voltage("s")
    rate = SCHMITT_RATE.expr.xreplace(
        {SCHMITT_RATE.inputs[0]: node_voltage("inp"), SCHMITT_RATE.inputs[1]: s}
    )
    w_n = cmos.nmos.width_for_on_resistance(p.r_inv_on_ohm, cmos.l_fet_m, p.v_dd_comp_v)
    w_p = cmos.pmos.width_for_on_resistance(p.r_inv_on_ohm, cmos.l_fet_m, p.v_dd_comp_v)
    return Subckt(
        name=f"spinspice_comparator_{stable_hash(p, cmos, v_hi, v_lo)}",
        ports=("inp", "out", "outn", "vdd"),
        elements=(
            BehavioralCurrent("core", "0", "s", rate),
            Capacitor("state", "s", "0", 1.0),
            BehavioralVoltage(
                "drive",
                "x",
                "0",
                node_voltage("vdd") * (1 - sharp_step(s, DRIVE_SHARPNESS)),
            ),
            Mosfet("inv1_p", "out", "x", "vdd", "vdd", cmos.pmos, w_p, cmos.l_fet_m),
            Mosfet("inv1_n", "out", "x", "0", "0", cmos.nmos, w_n, cmos.l_fet_m),
            Capacitor("load", "out", "0", p.c_load_comp_f),
            Mosfet("inv2_p", "outn", "out", "vdd", "vdd", cmos.pmos, w_p, cmos.l_fet_m),
            Mosfet("inv2_n", "outn", "out", "0", "0", cmos.nmos, w_n, cmos.l_fet_m),
            Capacitor("load_n", "outn", "0", p.c_load_comp_f),
            CurrentSource("bias", "vdd", "0", dc_a=p.i_q_comp_a),
        ),
        doc=(
            f"hysteretic comparator: high above {v_hi:.6g} V, low below {v_lo:.6g} V\n"
            "Schmitt core ds/dt = (target - s)/tau, CMOS output inverter, static bias current"
        ),
        params=schmitt_params(p, v_hi, v_lo),
    )
