"""ngspice 46's output-memory refusal and the shared library's controlled exit.

The shared library of ngspice 46 weighs a run's output vectors against free memory before the
first point and, when they do not fit, stops at once ("memory required ... is more than memory
available ... ngspice.dll cannot recover and awaits to be reset or detached") where ngspice 39
ran on into the timeout.  That is an :class:`OutputMemoryError`, never retried, and the
in-process instance is reset so that the next run works.
"""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from spinspice.errors import OutputMemoryError, SimulationError, SpinspiceError
from spinspice.sim.backends import (
    ESCALATION,
    NonConvergenceError,
    SharedBackend,
    _command,
    _failure,
    classify_message,
    output_memory_error,
    run_with_escalation,
)

#: the shared library's messages (ngspice 46, .tran 1f 1u with four vectors), as the callback
#: hands them over: "stderr " prefixes stripped, one line each
REFUSED = [
    "Circuit: * mem",
    "Doing analysis at TEMP = 27.000000 and TNOM = 27.000000",
    "Using SPARSE 1.3 as Direct Linear Solver",
    "Initial Transient Solution",
    "Error: memory required (1935232128 Bytes)",
    "       is more than memory available (1252597760 Bytes)!",
    "Setting the output memory is not possible.",
    "Error: ngspice.dll cannot recover and awaits to be reset or detached",
]

OK = "* ok\nv1 a 0 pulse(0 1 1n 100p 100p 3n 8n)\nr1 a b 1k\nc1 b 0 1p\n.tran 10p 20n\n.end\n"


def test_the_refusal_lines_are_errors() -> None:
    for line in REFUSED[4:]:
        assert classify_message(line) == "error", line
        assert classify_message("stderr " + line.strip()) == "error", line
    assert classify_message("insufficient memory available.") == "error"


def test_the_refusal_is_an_output_memory_error_with_advice() -> None:
    err = output_memory_error(REFUSED)
    assert isinstance(err, OutputMemoryError)
    assert isinstance(err, SimulationError) and isinstance(err, SpinspiceError)
    assert not isinstance(err, NonConvergenceError)
    assert (err.required_bytes, err.available_bytes) == (1935232128, 1252597760)
    text = str(err)
    assert "would need 1.94 GB of memory, 1.25 GB is free" in text
    for advice in ("fewer vectors", "shorten the run", "backend='batch'"):
        assert advice in text
    # what both backends raise for a failed attempt
    assert isinstance(_failure("ngspice failed (Error: memory required)", REFUSED, None), OutputMemoryError)
    # ngspice's 32-bit product wraps (test_backends' 1e9-point timeout run, three vectors), and
    # Windows builds print "%Id" unexpanded: no figure, same error
    wrapped = [
        "Error: memory required (-1769801376 Bytes)",
        "is more than memory available (1134346240 Bytes)!",
    ]
    err = output_memory_error(wrapped)
    assert isinstance(err, OutputMemoryError)
    assert (err.required_bytes, err.available_bytes) == (None, 1134346240)
    assert "would need more than the 1.13 GB of memory that is free" in str(err)
    windows = ["Error: memory required (Id Bytes)", "is more than memory available (Id Bytes)!"]
    err = output_memory_error(windows)
    assert isinstance(err, OutputMemoryError) and err.required_bytes is err.available_bytes is None
    # other failures are not memory errors
    assert output_memory_error(["Error: unknown subckt: xr a b foo"]) is None
    assert output_memory_error(["doAnalyses: TRAN:  Timestep too small", "run simulation(s) aborted"]) is None


def test_the_refusal_is_not_retried() -> None:
    calls: list[str] = []

    def run_once(text: str):
        calls.append(text)
        raise _failure("ngspice failed", REFUSED, None)

    with pytest.raises(OutputMemoryError) as info:
        run_with_escalation(run_once, OK, ESCALATION)
    assert len(calls) == 1 and info.value.attempts == ["as written"]


def _has_reset() -> bool:
    ng = SharedBackend()._instance()
    try:
        ctypes.CDLL(ng.library_path).ngSpice_Reset  # noqa: B018 - looking the symbol up is the test
    except (OSError, AttributeError):
        return False
    return True


@pytest.mark.ngspice
def test_shared_backend_runs_again_after_a_controlled_exit() -> None:
    """``quit`` puts the library in the state the memory refusal leaves it in (a controlled
    exit that "awaits to be reset or detached"; the next netlist would crash the process)."""
    if not _has_reset():
        pytest.skip("this libngspice has no ngSpice_Reset (ngspice 39): it cannot be restarted in-process")
    backend = SharedBackend()
    before = backend.run(OK)
    ng = backend._instance()
    _command(ng, "quit")
    assert ng.exited
    for _ in range(2):
        after = backend.run(OK)
        assert after.time_s[-1] == pytest.approx(20e-9)
        assert after["v(b)"] == pytest.approx(before["v(b)"], abs=1e-12)
    with pytest.raises(SimulationError, match="unknown subckt"):  # errors still reported
        backend.run(OK.replace("r1 a b 1k", "xr a b nosuchsub"))


@pytest.mark.ngspice
def test_shared_backend_after_a_run_that_needs_gigabytes_of_output() -> None:
    """2 GB of output vectors (4 vectors x 62.5 M points): ngspice 46 refuses it at once when
    less is free, otherwise (and ngspice 39 always) it runs into the timeout.  Either way a
    SimulationError, and the next run works."""
    huge = OK.replace(".tran 10p 20n", ".tran 1f 62.5n")
    backend = SharedBackend()
    with pytest.raises(SimulationError) as info:
        backend.run(huge, timeout_s=1.0)
    err = info.value
    if isinstance(err, OutputMemoryError):
        assert err.required_bytes is None or err.required_bytes >= 2_000_000_000
    else:
        assert "did not finish" in str(err)
    assert backend.run(OK).time_s[-1] == pytest.approx(20e-9)


@pytest.mark.ngspice
def test_compiled_models_run_after_a_restart() -> None:
    """ngSpice_Reset drops the models of the OSDI libraries loaded before it, and ngspice
    skips a library path it has loaded once ("Unknown model type" after a restart): each
    restart loads them again from fresh copies."""
    from spinspice.circuits.registry import get_cell
    from spinspice.sim import osdi
    from spinspice.sim.simulate import simulate

    caps = osdi.capabilities()
    if not caps.osdi:
        pytest.skip(f"compiled models unavailable here: {caps.reason}")
    if not _has_reset():
        pytest.skip("this libngspice has no ngSpice_Reset: it cannot be restarted in-process")
    cell = get_cell("dw-lif", "paper-001")[0]
    tb = cell.testbench(cell.default_drive(), 30e-9)
    backend = SharedBackend()
    before = simulate(tb, "shared", models="osdi")
    for _ in range(2):
        _command(backend._instance(), "quit")
        after = simulate(tb, "shared", models="osdi")
        np.testing.assert_array_equal(after.time_s, before.time_s)
        np.testing.assert_array_equal(after["m"], before["m"])
