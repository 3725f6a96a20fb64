"""Work that cannot finish is refused or bounded up front (issue 19 item 5): a transient that
needs an absurd number of time points is one line before any work, a window without a whole
write period or without a spike is a warning, and every ngspice run has a time limit."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from spinspice.circuits.core import Capacitor, Probe, Pulse, Resistor, Testbench, Transient, VoltageSource
from spinspice.cli import main
from spinspice.errors import ModelParameterError, SimulationError
from spinspice.sim import backends
from spinspice.sim.backends import MAX_TIME_POINTS, BatchBackend, check_bounded
from spinspice.sim.simulate import simulate


def test_a_transient_past_the_time_point_bound_is_refused_naming_its_values() -> None:
    check_bounded(1e-6, 1e-12)  # 1e6 points: fine
    with pytest.raises(
        ModelParameterError, match=r"120s in steps of at most 50ps needs 2.4e\+12 time points"
    ):
        check_bounded(120.0, 50e-12)
    with pytest.raises(ModelParameterError, match="must be finite"):
        check_bounded(float("inf"), 1e-9)
    assert 1e6 < MAX_TIME_POINTS < 1e9


def test_neuron_with_a_time_without_unit_answers_at_once(tmp_path) -> None:
    """`--t-off 2` is 2 s: 60 periods of 2 s in steps of 50 ps. It used to run for ever; now it
    is one line, within seconds, and nothing is written."""
    t0 = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", "from spinspice.cli import entry; entry()", "neuron", "--t-off", "2",
         "--out", str(tmp_path / "n")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert time.monotonic() - t0 < 30  # the process start (torch) included; the check itself is instant
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and "time points" in run.stderr and "in seconds" in run.stderr
    assert not (tmp_path / "n").exists()
    assert not list(tmp_path.glob(".*staging*"))


@pytest.mark.ngspice
def test_a_window_without_a_period_or_a_spike_is_a_warning(tmp_path, capsys) -> None:
    assert (
        main(["neuron", "--duration", "1ns", "--no-reference", "--out", str(tmp_path / "n"), "--json"]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["n_spikes"] == 0
    warnings = report["warnings"]
    assert any("holds no whole write period (2ns)" in w for w in warnings)
    assert any("no spike in 1ns (membrane m peaked at" in w for w in warnings)
    assert "**Warning:** the 1ns window" in (tmp_path / "n" / "report.md").read_text()
    # a run that spikes has none
    assert main(["neuron", "--duration", "40ns", "--no-reference", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["warnings"] == []


@pytest.mark.ngspice
def test_every_run_has_a_time_limit(monkeypatch) -> None:
    """No timeout given: the default one applies (made short here); the error says so."""
    tb = Testbench(
        title="long rc",
        elements=(
            VoltageSource("in", "a", "0", wave=Pulse(0, 1, 1e-9, 0.1e-9, 0.1e-9, 3e-9, 8e-9)),
            Resistor("r", "a", "b", 1e3),
            Capacitor("c", "b", "0", 1e-12),
        ),
        analysis=Transient(t_stop_s=200e-6, t_step_s=1e-12, t_max_s=20e-12),  # 1e7 points: minutes
        probes=(Probe("vb", "v", ("b",)),),
    )
    monkeypatch.setattr(backends, "DEFAULT_TIMEOUT_S", 1.0)
    t0 = time.monotonic()
    with pytest.raises(SimulationError, match=r"did not finish within 1 s"):
        simulate(tb, "batch")
    assert time.monotonic() - t0 < 30
    assert isinstance(backends.get_backend("batch"), BatchBackend)
