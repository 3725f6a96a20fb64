"""Device subcircuits generated from the model equations.

* :func:`mtj_read` -- the read MTJ (paper 001 Eq. 2) as a behavioural
  resistor between ``t3`` and ``b`` whose resistance follows the state node
  ``m`` and its own bias (TMR(V)).
* :func:`dwlif_device` -- the DW-LIF track (paper 001 Eq. 4): a resistor
  T1 -> T2 with a 0 V ammeter, the state ``m`` on an internal node (a 1 F
  capacitor integrating a B-source current equal to dm/dt), and the read MTJ
  on top (terminal T3).  J is the measured track current over the conducting
  cross-section, so write *and* reset currents drive the state.

Both B-source expressions are the models' sympy expressions, printed with
the parameters by name; the subcircuit declares them (``params:``) and
ngspice substitutes the numbers when it reads the netlist, so they cost
nothing at run time, the netlist stays readable, and an instance may
override them.  A subcircuit name still carries a hash of its parameters.
"""

from __future__ import annotations

import sympy as sp

from spinspice.circuits.core import (
    BehavioralCurrent,
    Capacitor,
    Instance,
    Resistor,
    Subckt,
    VoltageSource,
    generator,
    stable_hash,
)
from spinspice.models.dwlif import DWLIF_RHS, DWLIFParams
from spinspice.models.expr import branch_current, node_voltage
from spinspice.models.mtj import MTJParams, resistance_equation

__all__ = ["STATE_CAPACITANCE_F", "dwlif_device", "mtj_read"]

#: the state node integrates dm/dt into a 1 F capacitor: V(m) = m
STATE_CAPACITANCE_F = 1.0


def _param_doc(*sets: object) -> str:
    lines = []
    for ps in sets:
        for info in ps.param_info():  # type: ignore[attr-defined]
            value = getattr(ps, info.name)
            lines.append(f"  {info.name} = {value!r} {info.unit}  ({info.source})")
    return "\n".join(lines)


@generator
def mtj_read(p: MTJParams) -> Subckt:
    """Read MTJ: ports ``(t3, b, m)``; ``m`` is a high-impedance state input."""
    eq = resistance_equation(p)
    v_j = node_voltage("t3", "b")
    r = eq.expr.xreplace({eq.inputs[0]: node_voltage("m"), eq.inputs[1]: v_j})
    return Subckt(
        name=f"spinspice_mtj_read_{stable_hash(p)}",
        ports=("t3", "b", "m"),
        elements=(BehavioralCurrent("junction", "t3", "b", v_j / r),),
        doc="MTJ read-out, paper 001 Eq. 2 with TMR(V) (spinspice.models.mtj)\n" + _param_doc(p),
        params={s.name: v for s, v in eq.param_values(p).items()},
    )


@generator
def dwlif_device(p: DWLIFParams, mtj: MTJParams) -> Subckt:
    """DW-LIF track + state node + read MTJ: ports ``(t1, t2, t3, b)``."""
    j = branch_current("sense") / sp.Symbol("area_m2", real=True)
    rhs = DWLIF_RHS.expr.xreplace({DWLIF_RHS.inputs[0]: node_voltage("m"), DWLIF_RHS.inputs[1]: j})
    params = {s.name: v for s, v in DWLIF_RHS.param_values(p).items()}
    params["area_m2"] = p.area_m2
    return Subckt(
        name=f"spinspice_dwlif_{stable_hash(p, mtj)}",
        ports=("t1", "t2", "t3", "b"),
        elements=(
            Resistor("track", "t1", "x", p.r_track_ohm),
            VoltageSource("sense", "x", "t2", 0.0),
            BehavioralCurrent("dmdt", "0", "m", rhs),
            Capacitor("state", "m", "0", STATE_CAPACITANCE_F),
            Instance("mtj", mtj_read(mtj), ("t3", "b", "m")),
        ),
        doc=(
            "DW-LIF neuron device, paper 001 Eq. 4 (spinspice.models.dwlif)\n"
            f"track {p.r_track_ohm:.4g} ohm, area {p.area_m2:.4g} m^2; V(m) = membrane state\n"
            + _param_doc(p)
        ),
        params=params,
    )
