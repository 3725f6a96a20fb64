"""Co/Gd multilevel device circuits (paper 003): the Hall-bar subcircuit and its testbenches.

The device is non-spiking: a sigmoid activation (after a RESET, a SET pulse
of amplitude X leaves the Hall resistance at Y(X)) and a multilevel synapse.
The testbenches drive it with piece-wise linear current waveforms from an
ideal source (a source-measure unit), as in the paper's pulse measurements.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from spinspice.circuits.core import (
    BehavioralVoltage,
    CurrentSource,
    Instance,
    Probe,
    Pwl,
    Subckt,
    Testbench,
    Transient,
    generator,
    stable_hash,
)
from spinspice.circuits.devices import _param_doc, sensed_track, state_node
from spinspice.errors import ModelParameterError
from spinspice.models.cogd import COGD_RHS, CoGdParams
from spinspice.models.expr import branch_current, node_voltage

__all__ = ["cogd_device", "cogd_testbench", "pwl_current"]


@generator
def cogd_device(p: CoGdParams) -> Subckt:
    """Co/Gd Hall bar: SOT channel ``(t1, t2)``, Hall output ``hall``; state node ``w`` (1 F)."""
    w = node_voltage("w")
    rhs = COGD_RHS.expr.xreplace({COGD_RHS.inputs[0]: w, COGD_RHS.inputs[1]: branch_current("sense")})
    r_min, r_max, i_read = symbols = (
        sp.Symbol(n, real=True) for n in ("r_hall_min_ohm", "r_hall_max_ohm", "i_read_a")
    )
    del symbols
    hall = (r_min + (r_max - r_min) * w) * i_read
    params = {s.name: v for s, v in COGD_RHS.param_values(p).items()}
    params.update(
        {"r_hall_min_ohm": p.r_hall_min_ohm, "r_hall_max_ohm": p.r_hall_max_ohm, "i_read_a": p.i_read_a}
    )
    return Subckt(
        name=f"spinspice_cogd_{stable_hash(p)}",
        ports=("t1", "t2", "hall"),
        elements=(
            *sensed_track(p.r_track_ohm),
            *state_node("w", rhs, "dwdt"),
            BehavioralVoltage("hall_v", "hall", "0", hall),
        ),
        doc="Co/Gd multilevel SOT device (paper 003, spinspice.models.cogd); V(w) = normalised "
        "Hall resistance, V(hall) = R_hall I_read\n" + _param_doc(p),
        params=params,
    )


def pwl_current(times_s: Sequence[float], currents_a: Sequence[float]) -> Pwl:
    """Piece-wise linear current waveform (times strictly increasing)."""
    t = np.asarray(times_s, float)
    if t.size < 2 or np.any(np.diff(t) <= 0):
        raise ModelParameterError("current waveform: times must increase strictly")
    return Pwl(tuple((float(a), float(b)) for a, b in zip(t, currents_a, strict=True)))


def cogd_testbench(p: CoGdParams, wave: Pwl, t_stop_s: float, *, w0: float, t_max_s: float) -> Testbench:
    """The device driven by a current waveform ``wave`` from an ideal source, from state ``w0``."""
    if not 0.0 <= w0 <= 1.0:
        raise ModelParameterError(f"initial state w0 = {w0:g} must lie in [0, 1]")
    return Testbench(
        title="spinspice Co/Gd multilevel device (paper 003)",
        elements=(
            CurrentSource("drive", "0", "t1", wave=wave),
            Instance("dev", cogd_device(p), ("t1", "0", "hall")),
        ),
        analysis=Transient(t_stop_s=t_stop_s, t_step_s=t_max_s / 5, t_max_s=t_max_s, uic=True),
        probes=(
            Probe("w", "v", ("dev", "w"), "1", "normalised Hall resistance (neuron output Y)"),
            Probe("hall", "v", ("hall",), "V", "Hall voltage R_hall I_read"),
            Probe("i_dev", "i", ("dev", "sense"), "A", "device current"),
        ),
        initial_conditions=((("dev", "w"), w0),),
        options=(("reltol", 1e-5), ("method", "gear")),
        printed=("w",),
    )
