"""Pulse sources: the waveform ngspice applies, sampled before, during and after each pulse.

``Pulse(per_s=0)`` is one pulse.  ngspice's own ``PULSE(... PER=0)`` is not the same waveform in
every version (ngspice 46 repeats it back to back: still high long after PW), so the netlister
writes a single pulse as PWL corners; these tests check what the simulator really applies.
"""

from __future__ import annotations

import numpy as np
import pytest

from spinspice.circuits.cell import pulse_source
from spinspice.circuits.core import Probe, Pulse, Resistor, Testbench, Transient, VoltageSource
from spinspice.models.waveforms import PulseTrain
from spinspice.netlists.spice import format_testbench
from spinspice.sim.simulate import simulate

BACKENDS = ["shared", "batch"]


def _bench(wave: Pulse, t_stop_s: float = 8e-9) -> Testbench:
    return Testbench(
        title="pulse waveform",
        elements=(VoltageSource("src", "a", "0", wave=wave), Resistor("load", "a", "0", 1e3)),
        analysis=Transient(t_stop_s=t_stop_s, t_step_s=1e-12, t_max_s=5e-12),
        probes=(Probe("v", "v", ("a",)),),
    )


def _source_line(wave: Pulse) -> str:
    return next(ln for ln in format_testbench(_bench(wave)).splitlines() if ln.startswith("vsrc "))


# -- the text written (no simulator) --------------------------------------------------
def test_a_single_pulse_is_written_as_pwl_corners() -> None:
    line = _source_line(Pulse(0.0, 0.8, 0.5e-9, 20e-12, 20e-12, 1e-9, 0.0))
    assert line == "vsrc a 0 dc 0 pwl(0 0 500p 0 520p 800m 1.52n 800m 1.54n 0)"
    # starting at t = 0: no repeated first corner
    line = _source_line(Pulse(0.1, 0.8, 0.0, 20e-12, 30e-12, 1e-9))
    assert line == "vsrc a 0 dc 0 pwl(0 100m 20p 800m 1.02n 800m 1.05n 100m)"


def test_a_single_pulse_with_a_zero_edge_is_limited_to_one_pulse() -> None:
    # a zero edge lasts TSTEP in ngspice, which PWL cannot say: PULSE with NP = 1
    assert _source_line(Pulse(0.0, 0.8, 0.5e-9, 0.0, 0.0, 1e-9, 0.0)).endswith(
        "pulse(0 800m 500p 0 0 1n 0 1)"
    )


def test_periodic_pulses_stay_pulse_with_their_count() -> None:
    assert _source_line(Pulse(0.0, 0.8, 0.5e-9, 20e-12, 20e-12, 1e-9, 2e-9)).endswith(
        "pulse(0 800m 500p 20p 20p 1n 2n)"
    )
    assert _source_line(Pulse(0.0, 0.8, 0.5e-9, 20e-12, 20e-12, 1e-9, 2e-9, count=3)).endswith(
        "pulse(0 800m 500p 20p 20p 1n 2n 3)"
    )


# -- what ngspice applies -------------------------------------------------------------
#: (wave, [(t, expected value), ...]): instants before, on the edges, on the plateau and after
CASES: dict[str, tuple[Pulse, list[tuple[float, float]]]] = {
    "single": (
        Pulse(0.0, 0.8, 0.5e-9, 20e-12, 20e-12, 1e-9, 0.0),
        [
            (0.3e-9, 0.0),
            (0.51e-9, 0.4),  # mid rise
            (1e-9, 0.8),
            (1.5e-9, 0.8),
            (1.53e-9, 0.4),  # mid fall
            (1.6e-9, 0.0),
            (2e-9, 0.0),
            (2.8e-9, 0.0),
            (5e-9, 0.0),
            (7.9e-9, 0.0),
        ],
    ),
    "single from t=0, offset levels": (
        Pulse(0.2, -0.5, 0.0, 100e-12, 100e-12, 2e-9),
        [
            (10e-12, 0.13),
            (50e-12, -0.15),
            (1e-9, -0.5),
            (2.1e-9, -0.5),
            (2.15e-9, -0.15),
            (3e-9, 0.2),
            (7e-9, 0.2),
        ],
    ),
    "single with zero edges": (
        Pulse(0.0, 0.8, 0.5e-9, 0.0, 0.0, 1e-9, 0.0),
        [(0.3e-9, 0.0), (0.6e-9, 0.8), (1.4e-9, 0.8), (1.6e-9, 0.0), (2e-9, 0.0), (2.8e-9, 0.0), (7e-9, 0.0)],
    ),
    "periodic": (
        Pulse(0.0, 0.8, 0.5e-9, 20e-12, 20e-12, 1e-9, 2e-9),
        [
            (0.3e-9, 0.0),
            (1e-9, 0.8),
            (2e-9, 0.0),
            (2.51e-9, 0.4),
            (3e-9, 0.8),
            (4e-9, 0.0),
            (5e-9, 0.8),
            (6e-9, 0.0),
            (7e-9, 0.8),
        ],
    ),
    "periodic, two pulses": (
        Pulse(0.0, 0.8, 0.5e-9, 20e-12, 20e-12, 1e-9, 2e-9, count=2),
        [(1e-9, 0.8), (2e-9, 0.0), (3e-9, 0.8), (4e-9, 0.0), (5e-9, 0.0), (7e-9, 0.0)],
    ),
}


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_ngspice_applies_the_pulse(backend: str, case: str) -> None:
    wave, expected = CASES[case]
    wf = simulate(_bench(wave), backend)
    times, values = np.array(expected).T
    np.testing.assert_allclose(wf.at("v", times), values, atol=1e-6, err_msg=f"{case} on {backend}")


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n_pulses", [0, 1, 3])
def test_ngspice_applies_the_reference_pulse_train(backend: str, n_pulses: int) -> None:
    """The circuit's PULSE source (:func:`pulse_source`) is the reference models' PulseTrain."""
    train = PulseTrain(t_on_s=1e-9, t_off_s=1.5e-9, amplitude=0.8, t_edge_s=20e-12, n_pulses=n_pulses)
    wf = simulate(_bench(pulse_source(train), t_stop_s=12e-9), backend)
    t = np.linspace(0.0, 12e-9, 2401)[1:]  # every 5 ps, edges included (the run starts just after t = 0)
    np.testing.assert_allclose(wf.at("v", t), train.value(t), atol=1e-6)
