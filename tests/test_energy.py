"""Energy accounting against a hand calculation."""

from __future__ import annotations

import numpy as np
import pytest

from spinspice.circuits.core import Probe, Pulse, Resistor, Testbench, Transient, VoltageSource
from spinspice.sim.energy import cumulative_energy_j, delivered_energy_j, energy_between_j
from spinspice.sim.simulate import simulate


def test_trapezoid_energy_of_a_constant_power() -> None:
    t = np.linspace(0, 1e-9, 11)
    assert delivered_energy_j(t, 1.0, -np.full(11, 2e-3)) == pytest.approx(2e-12)
    cum = {"x": cumulative_energy_j(t, 1.0, -np.full(11, 2e-3))}
    assert energy_between_j(t, cum, 0.25e-9, 0.75e-9)["x"] == pytest.approx(1e-12)


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_resistor_driven_by_a_known_pulse(backend: str) -> None:
    """E = V^2/R (pw + (tr + tf)/3) for a trapezoidal pulse into R: within 1 %."""
    v, r, tr, pw = 0.8, 250.0, 20e-12, 1e-9
    tb = Testbench(
        title="energy hand check",
        elements=(
            VoltageSource("src", "a", "0", wave=Pulse(0.0, v, 0.5e-9, tr, tr, pw, 0.0)),
            Resistor("load", "a", "0", r),
        ),
        analysis=Transient(t_stop_s=3e-9, t_step_s=1e-12, t_max_s=5e-12),
        probes=(Probe("v", "v", ("a",)), Probe("i", "i", ("src",))),
    )
    wf = simulate(tb, backend)
    measured = delivered_energy_j(wf.time_s, wf["v"], wf["i"])
    expected = v**2 / r * (pw + 2 * tr / 3)
    assert measured == pytest.approx(expected, rel=0.01)
    assert measured == pytest.approx(expected, rel=1e-4)  # in fact much tighter
