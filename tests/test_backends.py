"""The two ngspice backends: same waveforms, same error handling."""

from __future__ import annotations

import numpy as np
import pytest

from spinspice.circuits.core import (
    Capacitor,
    Probe,
    Pulse,
    Resistor,
    Testbench,
    Transient,
    VoltageSource,
)
from spinspice.errors import SimulationError, SimulatorNotFoundError
from spinspice.netlists.spice import format_testbench
from spinspice.sim.backends import classify_message, get_backend, with_analysis
from spinspice.sim.simulate import simulate


def _rc() -> Testbench:
    return Testbench(
        title="rc",
        elements=(
            VoltageSource("in", "a", "0", wave=Pulse(0, 1, 1e-9, 0.1e-9, 0.1e-9, 3e-9, 8e-9)),
            Resistor("r", "a", "b", 1e3),
            Capacitor("c", "b", "0", 1e-12),
        ),
        analysis=Transient(t_stop_s=20e-9, t_step_s=10e-12, t_max_s=20e-12),
        probes=(Probe("vb", "v", ("b",)), Probe("iin", "i", ("in",))),
    )


@pytest.mark.ngspice
def test_both_backends_give_the_same_waveforms() -> None:
    shared = simulate(_rc(), "shared")
    batch = simulate(_rc(), "batch")
    np.testing.assert_allclose(shared.time_s, batch.time_s, rtol=0, atol=1e-21)
    np.testing.assert_allclose(shared["vb"], batch["vb"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(shared["iin"], batch["iin"], rtol=1e-12, atol=1e-18)
    # and the physics is right: RC charging to 1 - exp(-t/tau)
    t = 1e-9 + 0.1e-9 + 2e-9
    assert shared.at("vb", t) == pytest.approx(1 - np.exp(-2e-9 / 1e-9), abs=0.02)


BROKEN = {
    "unknown subcircuit": ("rr a b 1k", "xr a b nosuchsub"),
    "unknown model": ("rr a b 1k", "mbad a b 0 0 nosuchmodel w=1u l=1u"),
    "bad value": ("rr a b 1k", "rr a b abc"),
    "unknown function": ("rr a b 1k", "rr a b 1k\nbx b 0 i = foo(v(b))"),
}

NONCONVERGENT = (
    "* diverges in finite time\nb1 0 n i = 1e3*v(n)*v(n)\nc1 n 0 1p\n.ic v(n)=1\n.tran 1p 10n uic\n.end\n"
)


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", ["shared", "batch"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_real_errors_fail_with_netlist_path_and_log(backend: str, case: str, tmp_path) -> None:
    old, new = BROKEN[case]
    bad = format_testbench(_rc()).replace(old, new)
    path = tmp_path / "bad.cir"
    with pytest.raises(SimulationError) as info:
        get_backend(backend).run(bad, netlist_path=path)
    err = info.value
    assert err.netlist_path == path
    assert err.log_tail, "the error must carry ngspice's last log lines"
    assert str(path) in str(err)


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_non_convergence_is_an_error(backend: str) -> None:
    with pytest.raises(SimulationError, match=r"(?i)timestep too small"):
        get_backend(backend).run(NONCONVERGENT)


@pytest.mark.ngspice
@pytest.mark.parametrize("backend", ["shared", "batch"])
def test_backend_recovers_after_an_error(backend: str) -> None:
    with pytest.raises(SimulationError):
        get_backend(backend).run(NONCONVERGENT)
    with pytest.raises(SimulationError):
        get_backend(backend).run(format_testbench(_rc()).replace("rr a b 1k", "xr a b nosuchsub"))
    wf = simulate(_rc(), backend)
    assert wf.time_s[-1] == pytest.approx(20e-9)


@pytest.mark.ngspice
def test_timeout(tmp_path) -> None:
    slow = _rc()
    text = with_analysis(format_testbench(slow), Transient(t_stop_s=1e-3, t_step_s=1e-9, t_max_s=1e-12))
    for backend in ("batch", "shared"):
        with pytest.raises(SimulationError, match="did not finish"):
            get_backend(backend).run(text, timeout_s=0.5)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("stderr Using SPARSE 1.3 as Direct Linear Solver", "info"),
        ("Using SPARSE 1.3 as Direct Linear Solver", "info"),
        ("Note: No compatibility mode selected!", "info"),
        ("Note: can't find init file.", "info"),
        ("Warning: IC on non-existent node - x, ignored", "warning"),
        ("Doing analysis at TEMP = 27.000000 and TNOM = 27.000000", "info"),
        ("Reference value :  5.44820e-08", "info"),
        ("No. of Data Rows : 6419", "info"),
        ("stderr Error: unknown subckt: x1 a b foo", "error"),
        ("Error on line 3 : rr a b", "error"),
        ("doAnalyses: TRAN:  Timestep too small; time = 1.9e-08, timestep = 6.2e-23", "error"),
        ("run simulation(s) aborted", "error"),
        ("Unable to find definition of model nosuchmodel", "error"),
        ("    Simulation interrupted due to error!", "error"),
        ("warning, can't find model 'abc' from line", "warning"),
        ("Error: circuit not parsed.", "error"),
        ("Error: singular matrix:  check node a", "error"),
        ("", "info"),
    ],
)
def test_message_classification(line: str, kind: str) -> None:
    assert classify_message(line) == kind


def test_unknown_backend_name() -> None:
    with pytest.raises(SimulatorNotFoundError, match="did you mean 'batch'"):
        get_backend("bach")


def test_with_analysis_replaces_the_tran_line() -> None:
    text = format_testbench(_rc())
    new = with_analysis(text, Transient(t_stop_s=5e-9, t_step_s=1e-12))
    assert new.count(".tran") == 1 and ".tran 1p 5n" in new
    assert new.rstrip().endswith(".end")
