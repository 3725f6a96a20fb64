"""Non-convergence: the documented escalation of :mod:`spinspice.sim.backends`.

The circuits were found by experiment with ngspice 39:

* ``DIVERGES`` -- dv/dt = 1e15 v^2 blows up at t = 1 fs: "timestep too small"
  whatever the options;
* ``NEEDS_SMALLER_STEP`` -- a relaxation oscillator whose comparator (gain 5e5)
  starts exactly at its switching point; with TMAX 50n ngspice fails at the
  initial time point ("timestep too small") with trap, gear or relaxed
  tolerances alike, and with TMAX 5n (the "tmax/10" rung) it runs;
* ``TOO_TIGHT`` -- an RC with a tanh load and absurd tolerances (reltol 1e-12,
  vntol 1e-30): fails at the pulse edge until the "relaxed tolerances" rung.
"""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from spinspice.errors import SimulationError
from spinspice.sim.backends import (
    ESCALATION,
    BatchBackend,
    NonConvergenceError,
    SimulatedWaveforms,
    add_options,
    convergence_cause,
    get_backend,
    netlist_options,
    run_with_escalation,
    scale_tmax,
)
from spinspice.sim.waveforms import Waveforms

ALL_RUNGS = ["as written", "gear", "tmax/10", "relaxed tolerances"]

DIVERGES = (
    "* diverges in finite time\nb1 0 n i = 1e3*v(n)*v(n)\nc1 n 0 1p\n.ic v(n)=1\n.tran 1p 10n uic\n.end\n"
)

NEEDS_SMALLER_STEP = """* relaxation oscillator, comparator starting at its switching point
bc o1 0 v = 0.5*(1+tanh(1e6*(0.5 - v(c) + 1.0*(v(o)-0.5))))
ro o1 o 1
co o 0 1f
r1 o c 1k
c1 c 0 1n
.tran 1n 20u 0 50n uic
.end
"""

TOO_TIGHT = """* RC with a tanh load, absurdly tight tolerances
.options reltol=1e-12 abstol=1e-30 vntol=1e-30 chgtol=1e-30
v1 a 0 pulse(0 1 1n 100p 100p 3n 8n)
r1 a b 1k
c1 b 0 1p
bl b 0 i = 1e-4*tanh(10*v(b))
.tran 10p 20n 0 20p uic
.end
"""

RC = "* rc\nv1 a 0 pulse(0 1 1n 100p 100p 3n 8n)\nr1 a b 1k\nc1 b 0 1p\n.tran 10p 20n 0 20p uic\n.end\n"

BACKENDS = ["batch", "shared"]


# -- with ngspice ---------------------------------------------------------------------
@pytest.mark.ngspice
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_divergent_circuit_fails_after_every_rung(backend: str, tmp_path) -> None:
    path = tmp_path / "diverges.cir"
    with pytest.raises(NonConvergenceError) as info:
        get_backend(backend).run(DIVERGES, netlist_path=path)
    err = info.value
    assert isinstance(err, SimulationError)
    assert err.attempts == ALL_RUNGS
    assert err.cause == "timestep too small"
    assert err.netlist_path == path
    assert any("Timestep too small" in line for line in err.log_tail)
    assert not any("DRAM" in line or line.startswith("**") for line in err.log_tail)  # no banner noise
    text = str(err)
    assert text.startswith("ngspice did not converge (timestep too small) after 4 attempts")
    assert "tried: as written, gear, tmax/10, relaxed tolerances" in text
    assert str(path) in text and "Timestep too small" in text


@pytest.mark.ngspice
def test_a_gear_netlist_skips_the_gear_rung() -> None:
    netlist = DIVERGES.replace(".tran", ".options reltol=0.0001 method=gear\n.tran")
    with pytest.raises(NonConvergenceError, match="after 3 attempts") as info:
        get_backend("batch").run(netlist)
    assert info.value.attempts == ["as written", "tmax/10", "relaxed tolerances"]


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", BACKENDS)
def test_recovers_with_a_smaller_max_step(backend: str) -> None:
    wf = get_backend(backend).run(NEEDS_SMALLER_STEP)
    assert isinstance(wf, SimulatedWaveforms)
    assert wf.attempts == ("as written", "gear", "tmax/10") and wf.retried
    assert wf.log[0].startswith("spinspice: attempt 1 (as written) failed: ngspice failed (doAnalyses")
    assert wf.log[1].startswith("spinspice: attempt 2 (gear) failed")
    assert wf.time_s[-1] == pytest.approx(20e-6)
    later = wf.time_s > 5e-6  # it oscillates between the rails
    assert wf["v(o)"][later].max() > 0.9 and wf["v(o)"][later].min() < 0.1
    # the labels survive with_probes and the trip to a worker process and back
    back = pickle.loads(pickle.dumps(wf.with_probes({"out": "v(o)"})))
    assert back.attempts == wf.attempts and back["out"].shape == wf.time_s.shape


@pytest.mark.ngspice
def test_as_written_it_does_fail_and_retries_can_be_turned_off() -> None:
    with pytest.raises(
        NonConvergenceError, match=r"did not converge \(timestep too small\) after 1 attempt;"
    ):
        BatchBackend(escalation=ESCALATION[:1]).run(NEEDS_SMALLER_STEP)
    # already gear: the gear rung is skipped and tmax/10 comes second
    wf = get_backend("batch").run(NEEDS_SMALLER_STEP.replace(".tran", ".options method=gear\n.tran"))
    assert wf.attempts == ("as written", "tmax/10")


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", BACKENDS)
def test_recovers_with_relaxed_tolerances(backend: str) -> None:
    wf = get_backend(backend).run(TOO_TIGHT)
    assert wf.attempts == tuple(ALL_RUNGS)
    assert len([line for line in wf.log if line.startswith("spinspice: attempt")]) == 3
    # RC charging through 1k into 1p with a small tanh load: close to 1 V by the end of the pulse
    assert np.interp(4.1e-9, wf.time_s, wf["v(b)"]) == pytest.approx(0.9, abs=0.1)


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_first_try_success_has_one_attempt(backend: str) -> None:
    wf = get_backend(backend).run(RC)
    assert wf.attempts == ("as written",) and not wf.retried
    assert not any(line.startswith("spinspice:") for line in wf.log)


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_syntax_error_is_not_retried(backend: str, tmp_path) -> None:
    path = tmp_path / "bad.cir"
    with pytest.raises(SimulationError) as info:
        get_backend(backend).run(RC.replace("r1 a b 1k", "r1 a b abc"), netlist_path=path)
    err = info.value
    assert not isinstance(err, NonConvergenceError)
    assert err.attempts == ["as written"]
    assert "tried:" not in str(err) and str(path) in str(err) and err.log_tail


# -- the escalation itself, with a stand-in for ngspice -----------------------------------
def _fake_waveforms() -> Waveforms:
    return Waveforms(time_s=np.array([0.0, 1.0]), vectors={"v(a)": np.array([0.0, 1.0])}, log=["ngspice ok"])


def _runner(fail_while, error=None):
    """A run_once that records the netlists it gets and fails while ``fail_while(text)``."""
    seen: list[str] = []

    def run_once(text: str) -> Waveforms:
        seen.append(text)
        if error is not None and len(seen) == error[0]:
            raise error[1]
        if fail_while(text):
            raise NonConvergenceError("ngspice failed (timestep too small)", cause="timestep too small")
        return _fake_waveforms()

    return run_once, seen


def test_the_rungs_build_on_each_other_and_stop_at_the_first_success() -> None:
    run_once, seen = _runner(lambda text: "itl4=100" not in text)
    wf = run_with_escalation(run_once, RC)
    assert wf.attempts == tuple(ALL_RUNGS) and len(seen) == 4
    assert seen[0] == RC
    assert netlist_options(seen[1]) == {"method": "gear"}
    assert ".tran 10p 20n 0 2p uic" in seen[2] and netlist_options(seen[2]) == {"method": "gear"}
    last = netlist_options(seen[3])
    assert last["method"] == "gear" and last["reltol"] == "0.001" and last["itl4"] == "100"
    assert ".tran 10p 20n 0 2p uic" in seen[3]
    assert wf.log[-1] == "ngspice ok" and wf.log[0].startswith("spinspice: attempt 1 (as written) failed")

    run_once, seen = _runner(lambda text: "method=gear" not in text)
    assert run_with_escalation(run_once, RC).attempts == ("as written", "gear") and len(seen) == 2


def test_another_error_during_a_retry_is_raised_with_the_attempts_so_far() -> None:
    crash = SimulationError("ngspice did not finish within 5 s")
    run_once, seen = _runner(lambda text: True, error=(3, crash))
    with pytest.raises(SimulationError, match="did not finish") as info:
        run_with_escalation(run_once, RC)
    assert info.value is crash and crash.attempts == ["as written", "gear", "tmax/10"] and len(seen) == 3
    assert "tried: as written, gear, tmax/10" in str(crash)


def test_every_rung_failing_raises_with_all_of_them() -> None:
    run_once, seen = _runner(lambda text: True)
    with pytest.raises(
        NonConvergenceError, match=r"^ngspice did not converge \(timestep too small\)"
    ) as info:
        run_with_escalation(run_once, RC)
    assert info.value.attempts == ALL_RUNGS and len(seen) == 4
    with pytest.raises(ValueError, match="at least one step"):
        run_with_escalation(run_once, RC, ())


def test_the_waveforms_carry_the_attempts_as_a_field() -> None:
    run_once, _ = _runner(lambda text: "method=gear" not in text)
    wf = run_with_escalation(run_once, RC)
    assert isinstance(wf, Waveforms)
    assert dataclasses.replace(wf, probes={}).attempts == ("as written", "gear")


# -- which failures are non-convergence (lines as ngspice 39 prints them) ------------------
@pytest.mark.parametrize(
    ("lines", "cause"),
    [
        (
            [
                "Using transient initial conditions",
                "doAnalyses: TRAN:  Timestep too small; time = 9.23561e-16, timestep = 1.1e-24: "
                'trouble with node "n"',
                "run simulation(s) aborted",
            ],
            "timestep too small",
        ),
        (
            [
                "Warning: singular matrix:  check nodes o and bc#branch",
                "doAnalyses: TRAN:  Timestep too small; time = 3.9996e-07, timestep = 1.25e-21: "
                "cause unrecorded.",
                "run simulation(s) aborted",
            ],
            "timestep too small",
        ),
        (
            [
                "Warning: Dynamic gmin stepping failed",
                "Warning: source stepping failed",
                "Note: Transient op started",
                "Error: Transient op failed, timestep too small",
                'doAnalyses: TRAN:  Timestep too small; initial timepoint: trouble with node "n"',
                "run simulation(s) aborted",
            ],
            "transient op failed",
        ),
        (["doAnalyses: iteration limit reached", "run simulation(s) aborted"], "iteration limit"),
        (["Warning: source stepping failed", "run simulation(s) aborted"], "source stepping failed"),
        (["Error: singular matrix:  check node a"], "singular matrix"),
        (["Error on line 3 : r1 a b abc", "run simulation(s) aborted"], None),
        (["Error: unknown subckt: x1 a b foo", "Warning: singular matrix:  check node a"], None),
        (["Circuit: * no convergence here", "Error: circuit not parsed."], None),
        (["Warning: singular matrix:  check node l1#branch", "No. of Data Rows : 1008"], None),
        ([], None),
    ],
)
def test_convergence_cause(lines: list[str], cause: str | None) -> None:
    assert convergence_cause(lines) == cause


# -- netlist rewriting ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tran", "scaled"),
    [
        (".tran 10p 20n 0 20p uic", ".tran 10p 20n 0 2p uic"),
        (".tran 1n 20u 0 50n uic", ".tran 1n 20u 0 5n uic"),
        (".tran 1us 1ms 0 10us", ".tran 1us 1ms 0 1u"),
        # no TMAX: ngspice's default min(TSTEP, (TSTOP - TSTART)/50), divided, written out
        (".tran 1p 10n uic", ".tran 1p 10n 0 100f uic"),
        (".tran 1n 20u", ".tran 1n 20u 0 100p"),
        (".tran 10n 100n", ".tran 10n 100n 0 200p"),
        (".tran 1n 100n 50n", ".tran 1n 100n 50n 100p"),
        (".TRAN 1n 20u 0 0 UIC", ".TRAN 1n 20u 0 100p UIC"),
        (".tran 1n\n+ 20u 0 1u", ".tran 1n 20u 0 100n"),
        (".tran 1n 2meg 0 1m", ".tran 1n 2meg 0 100u"),
    ],
)
def test_tmax_over_ten(tran: str, scaled: str) -> None:
    netlist = f"* t\nr1 a 0 1k\n{tran}\n.end\n"
    assert scale_tmax(netlist, 0.1) == f"* t\nr1 a 0 1k\n{scaled}\n.end\n"


@pytest.mark.parametrize(
    "netlist", ["* t\nr1 a 0 1k\n.op\n.end\n", "* t\n.tran {ts} 20n\n.end\n", "* t\n.tran 1n\n"]
)
def test_tmax_rung_is_skipped_without_a_readable_tran(netlist: str) -> None:
    assert scale_tmax(netlist, 0.1) is None
    assert ESCALATION[2].rewrite(netlist) is None


def test_options_go_just_before_end_after_every_other_card() -> None:
    netlist = (
        "* t\n.options reltol=0.0001 method=gear\n.subckt s a\nr1 a 0 1\n.ends s\nx1 a s\n"
        ".tran 1n 20n 0 1n uic\n.end\n"
    )
    new = add_options(netlist, {"reltol": "0.001", "itl4": "100"}, "relaxed tolerances")
    lines = new.splitlines()
    assert lines[-3:] == [
        "* spinspice convergence escalation: relaxed tolerances",
        ".options reltol=0.001 itl4=100",
        ".end",
    ]
    assert new.startswith(netlist[: -len(".end\n")])  # everything else as written
    assert netlist_options(new) == {"reltol": "0.001", "method": "gear", "itl4": "100"}
    # no .end: appended
    assert add_options("* t\nr1 a 0 1\n", {"method": "gear"}).splitlines()[-1] == ".options method=gear"


def test_netlist_options_last_card_wins() -> None:
    netlist = (
        "* t\n.OPTIONS RELTOL=1e-4 noopiter\n.option method = gear\n+ abstol=1p\n.opt reltol=1e-3\n"
        ".tran 1n 1u\n.end\n"
    )
    assert netlist_options(netlist) == {"reltol": "1e-3", "method": "gear", "abstol": "1p"}


def test_the_gear_rung_only_applies_to_trapezoidal_netlists() -> None:
    gear = ESCALATION[1].rewrite
    assert gear("* t\n.options method=gear\n.end\n") is None
    assert gear("* t\n.options METHOD=Gear\n.end\n") is None
    assert netlist_options(gear("* t\n.options method=trap\n.end\n") or "")["method"] == "gear"
    assert netlist_options(gear("* t\n.end\n") or "")["method"] == "gear"


def test_relaxed_tolerances_never_tighten() -> None:
    relax = ESCALATION[3].rewrite
    ours = netlist_options(relax("* t\n.options reltol=0.0001 method=gear\n.end\n") or "")
    assert ours == {
        "reltol": "0.001",
        "method": "gear",
        "abstol": "1e-10",
        "vntol": "1e-05",
        "chgtol": "1e-13",
        "itl1": "500",
        "itl4": "100",
    }
    looser = netlist_options(relax("* t\n.options reltol=1e-2 abstol=1n itl4=200\n.end\n") or "")
    assert looser["reltol"] == "0.01" and looser["abstol"] == "1e-09" and looser["itl4"] == "200"
    assert looser["vntol"] == "1e-05"
    everything_looser = "* t\n.options reltol=0.01 abstol=1n vntol=1m chgtol=1p itl1=1000 itl4=1000\n.end\n"
    assert relax(everything_looser) is None
