"""Two ways to run ngspice behind one interface.

* :class:`SharedBackend` -- ngspice as an in-process shared library through
  PySpice 1.5's ``NgSpiceShared`` (cffi).
* :class:`BatchBackend` -- ``ngspice -b -r out.raw`` as a subprocess, results
  read back with :mod:`spinspice.sim.rawfile`.

Both implement ``run(netlist, analysis=None) -> Waveforms`` and give the same
waveforms for the same netlist (a test checks it).

ngspice talks a lot; :func:`classify_message` decides which lines are errors.
PySpice 1.5 treats *any* stderr line not starting with ``Warning:`` as an
error, but newer ngspice prints informational lines such as ``Using SPARSE
1.3 as Direct Linear Solver`` on stderr, and PySpice warns "Unsupported
Ngspice version" for every release after 34.  Here informational output never
fails a run, and a real error always does: an error line, a non-zero exit, a
missing or empty result all raise :class:`SimulationError` carrying the
netlist path and the last log lines.

Non-convergence: the escalation
-------------------------------
When ngspice gives up on a time point or an operating point (``timestep too
small``, ``singular matrix``, ``iteration limit reached``, ``no convergence``,
gmin/source stepping that ends the run, ``Transient op failed``) both backends
run the same netlist again with more forgiving settings, one rung of
:data:`ESCALATION` at a time.  Each rung keeps the changes of the rungs before
it; a rung's options go on a new ``.options`` line just before ``.end``
(ngspice lets a later ``.options`` override an earlier one: checked with
ngspice 39 for ``method`` and ``reltol``), so the original lines stay as
written:

1. ``"as written"`` -- the netlist unchanged;
2. ``"gear"`` -- ``.options method=gear`` (damps the trapezoidal rule's
   ringing); skipped when the netlist already integrates with gear, as every
   netlist spinspice writes does;
3. ``"tmax/10"`` -- the ``.tran`` line's maximum step divided by ten (when the
   line has no TMAX, ngspice's default ``min(TSTEP, (TSTOP-TSTART)/50)`` is
   divided and written out); skipped without a ``.tran`` line that can be read;
4. ``"relaxed tolerances"`` -- ``reltol=1e-3 abstol=1e-10 vntol=1e-5
   chgtol=1e-13 itl1=500 itl4=100``; an option the netlist already sets looser
   keeps its value (a rung never tightens anything), and the rung is skipped
   when nothing would change.  ``gmin`` is left alone: it adds leakage to the
   devices, i.e. changes the circuit rather than the numerics.

Any other failure (syntax error, unknown model, crash, timeout, no results)
is raised at once.  So is ngspice 46's refusal to keep a run's output in
memory (the shared library checks TSTOP/TSTEP points per saved vector against
free memory before the first point; ngspice 39 ran on into the timeout):
:class:`~spinspice.errors.OutputMemoryError` says to save fewer vectors,
shorten the run, lengthen the ``.tran`` step or use the batch backend.  That
refusal, like any controlled exit of the shared library, leaves it waiting "to
be reset or detached"; the shared backend resets and re-initialises it
(``ngSpice_Reset`` + ``ngSpice_Init``) so that the next run works, or, where
the library has no ``ngSpice_Reset`` (39), says so instead of crashing.  After a
reset the compiled (OSDI) models are loaded again from fresh copies: ngspice
skips a library path it has seen, but the reset dropped its models.
``timeout_s`` applies to each attempt.  A run that needs a retry costs more:
``tmax/10`` makes an attempt up to ten times slower.

What the caller sees: a successful run returns :class:`SimulatedWaveforms` (a
:class:`~spinspice.sim.waveforms.Waveforms` with ``attempts``, the names of
the rungs run, ``("as written",)`` when the first try worked; it survives
``with_probes`` and pickling, and ``wf.log`` starts with one line per failed
attempt).  When every rung fails, :class:`NonConvergenceError` (a
:class:`SimulationError`) says ``ngspice did not converge (timestep too small)
after 4 attempts`` and carries ``attempts``, ``cause``, the netlist path and
the last attempt's log lines; an error of another kind raised during a retry
carries the ``attempts`` made so far.  ``BatchBackend(escalation=ESCALATION[:1])``
turns retries off; :func:`run_with_escalation` drives any single-run callable.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np

from spinspice.circuits.core import Transient
from spinspice.errors import (
    ModelParameterError,
    OutputMemoryError,
    RawFileError,
    SimulationError,
    SimulatorNotFoundError,
    check_setting,
    did_you_mean,
)
from spinspice.netlists.spice import NgspiceDialect
from spinspice.sim.rawfile import canonical_name, read_raw
from spinspice.sim.waveforms import Waveforms
from spinspice.units import SPICE_SCALE, format_float, format_si

__all__ = [
    "BACKENDS",
    "DEFAULT_TIMEOUT_S",
    "ESCALATION",
    "MAX_TIME_POINTS",
    "RELAXED_TOLERANCES",
    "Backend",
    "BatchBackend",
    "EscalationStep",
    "NonConvergenceError",
    "SharedBackend",
    "SimulatedWaveforms",
    "add_options",
    "check_bounded",
    "classify_message",
    "convergence_cause",
    "get_backend",
    "netlist_options",
    "run_many",
    "run_with_escalation",
    "scale_tmax",
    "with_analysis",
]

#: the time limit of one ngspice run (each attempt) when none is given: an hour, far beyond
#: any run of the suite or the benchmarks (the largest, a whole-network netlist, takes minutes)
DEFAULT_TIMEOUT_S = 3600.0
#: the most time points a transient may need (its stop time over its largest step): about
#: 10 min of ngspice at 30 us a point; a setting past it is a mistake (a bare "2" is 2 s)
MAX_TIME_POINTS = 2e7


def _time_limit(timeout_s: float | None) -> float:
    """``timeout_s``, or :data:`DEFAULT_TIMEOUT_S` for None; a limit that is not > 0 is refused."""
    if timeout_s is None:
        return DEFAULT_TIMEOUT_S
    check_setting("timeout", timeout_s, low=0.0, low_open=True, unit="s")
    return float(timeout_s)


def check_bounded(t_stop_s: float, t_max_s: float | None, what: str = "the transient") -> None:
    """Refuse, in one line naming the values, a transient that needs more than
    :data:`MAX_TIME_POINTS` time points (stop time over largest step)."""
    if not (t_stop_s > 0 and np.isfinite(t_stop_s)):
        raise ModelParameterError(f"{what}: stop time {t_stop_s!r} s must be finite and > 0")
    if t_max_s is None or not t_max_s > 0:
        return
    points = t_stop_s / t_max_s
    if points > MAX_TIME_POINTS:
        raise ModelParameterError(
            f"{what} of {format_si(t_stop_s, 4)}s in steps of at most {format_si(t_max_s, 4)}s needs "
            f"{points:.2g} time points (at most {MAX_TIME_POINTS:.0e}): shorten the duration or check "
            "the unit of each time (a number without one is in seconds)"
        )


# lines that are never errors, whatever stream they arrive on
_INFO = re.compile(
    r"^\s*(warning\b|note\b|using (sparse|klu)|circuit:|doing analysis|reference value|"
    r"no\. of data rows|initial transient solution|total (analysis|elapsed)|"
    r"\*\*|-+$|node\s+voltage|ngspice|binary raw file|ascii raw file|"
    r"supplies reduced|stepping|trying gmin|gmin|source stepping|"
    r"the integration method|option)",
    re.IGNORECASE,
)
_ERROR = re.compile(
    r"(\berror\b|\bfatal\b|\babort|timestep too small|singular matrix|"
    r"could not|cannot|can't|unable to|unknown|no such|undefined|not found|\bfailed\b|"
    r"interrupted|not parsed|invalid|"
    r"unrecognized|too few|too many|syntax|illegal|out of memory|segmentation|"
    r"memory required|more than memory available|insufficient memory|output memory is not possible)",
    re.IGNORECASE,
)


def classify_message(line: str) -> str:
    """``"error"``, ``"warning"`` or ``"info"`` for one line of ngspice output.

    Known informational prefixes (``Warning:``, ``Note:``, ``Using SPARSE``,
    progress lines) win; otherwise a line naming an error condition is an
    error; anything else is information.
    """
    text = line.strip()
    if text.lower().startswith(("stdout ", "stderr ")):
        text = text.split(" ", 1)[1].strip()
    if not text:
        return "info"
    if re.match(r"^\s*warning\b", text, re.IGNORECASE):
        return "warning"
    # "gmin stepping failed" and friends are progress of a fallback, not the end
    if re.search(r"(gmin|source) stepping failed", text, re.IGNORECASE):
        return "warning"
    if _INFO.match(text):
        return "info"
    if _ERROR.search(text):
        return "error"
    return "info"


def _errors(lines: Iterable[str]) -> list[str]:
    return [line for line in lines if classify_message(line) == "error"]


def with_analysis(netlist: str, analysis: Transient | None) -> str:
    """Return ``netlist`` whose ``.tran`` line is the one of ``analysis``."""
    if analysis is None:
        return netlist
    line = NgspiceDialect().analysis(analysis)
    lines = netlist.rstrip("\n").split("\n")
    lines = [ln for ln in lines if not ln.strip().lower().startswith(".tran")]
    end = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip().lower() == ".end"), None)
    if end is None:
        lines += [line, ".end"]
    else:
        lines.insert(end, line)
    return "\n".join(lines) + "\n"


# -- non-convergence and the escalation ---------------------------------------------
# what ngspice 39 prints when Newton or the time step gives up ("doAnalyses: TRAN:  Timestep
# too small; ...", "Error: Transient op failed, timestep too small", "Warning: singular
# matrix:  check node x", "doAnalyses: iteration limit reached", "Warning: source stepping
# failed"); the operating point falls back to a transient op, whose failure again reads
# "timestep too small"
_NONCONVERGENCE = re.compile(
    r"timestep too small|singular matrix|matrix is singular|iteration limit|too many iterations|"
    r"no convergence|non-?convergence|(?:gmin|source) stepping failed|"
    r"(?:transient op|dc solution|transient solution) failed",
    re.IGNORECASE,
)
# error lines that only say that the run stopped, whatever the reason
_STOPPED = re.compile(r"simulation\(s\) aborted|simulation interrupted", re.IGNORECASE)
# ngspice's banner and memory statistics: never worth showing as "the last log lines"
_NOISE = re.compile(
    r"^\s*(\*\*|batch mode|simulation output goes|comments and warnings go|total (dram|analysis|elapsed)|"
    r"dram currently|maximum ngspice|current ngspice|shared ngspice|text \(code\)|stack =|library pages|"
    r"note: no compatibility mode)",
    re.IGNORECASE,
)


def _useful(lines: Iterable[str]) -> list[str]:
    return [line for line in lines if line.strip() and not _NOISE.match(line)]


def convergence_cause(lines: Iterable[str]) -> str | None:
    """The non-convergence that ended a failed run (``"timestep too small"``), or None.

    None as well when the log holds no error line or any other error (a syntax error, an
    unknown model, a crash): those are not retried.  An error line naming the cause wins
    over the warnings that led up to it (``Warning: singular matrix`` is routine on the
    way to an operating point; ``doAnalyses: iteration limit reached`` is no error line
    by itself, ``run simulation(s) aborted`` after it is).
    """
    lines = [ln for ln in lines if not ln.strip().lower().startswith(("circuit:", "title"))]
    errors = _errors(lines)
    if not errors or any(not _NONCONVERGENCE.search(e) and not _STOPPED.search(e) for e in errors):
        return None
    for line in [*errors, *lines]:
        match = _NONCONVERGENCE.search(line)
        if match:
            cause = match.group(0).lower()
            return "singular matrix" if cause == "matrix is singular" else cause
    return None


class NonConvergenceError(SimulationError):
    """ngspice gave up on a time point or the operating point (see the escalation above).

    ``cause`` is the short reason (``"timestep too small"``); ``attempts`` the rungs tried.
    """

    def __init__(self, message: str, *, cause: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.cause = cause


# ngspice 46 (shared library) weighs the output vectors against free memory before the first
# point -- TSTOP/TSTEP + 100 points per saved vector (time included), 8 bytes each -- and
# refuses at once:
#   Error: memory required (1935232128 Bytes)
#          is more than memory available (1252597760 Bytes)!
#   Setting the output memory is not possible.
#   Error: ngspice.dll cannot recover and awaits to be reset or detached
# Its product is a 32-bit int: it wraps (1e9 points x 4 vectors reads 1935232128, x 3 reads
# -1769801376, which is always refused), so the figure is a hint at best.  Windows builds leave
# "%Id" unexpanded: no figures at all.  ngspice 39 ran on instead, into the per-run timeout.
_MEMORY_REQUIRED = re.compile(r"memory required\s*\((-?\d+)?", re.IGNORECASE)
_MEMORY_AVAILABLE = re.compile(r"more than memory available\s*\((-?\d+)?", re.IGNORECASE)
_MEMORY_REFUSED = re.compile(
    r"memory required|more than memory available|insufficient memory available|"
    r"setting the output memory is not possible",
    re.IGNORECASE,
)
# what the shared library prints after its controlled exit (39: "... awaits to be detached")
_UNRECOVERABLE = re.compile(r"cannot recover and awaits to be", re.IGNORECASE)


def output_memory_error(lines: Iterable[str], netlist_path: Path | None = None) -> OutputMemoryError | None:
    """:class:`OutputMemoryError` when ``lines`` (an ngspice log) say that the run's output
    vectors would need more memory than is free, else None."""
    lines = list(lines)
    if not any(_MEMORY_REFUSED.search(line) for line in lines):
        return None

    def figure(pattern: re.Pattern[str]) -> int | None:
        """ngspice's byte count; None where missing or wrapped below zero."""
        for line in lines:
            match = pattern.search(line)
            if match and match.group(1):
                value = int(match.group(1))
                return value if value >= 0 else None
        return None

    required, available = figure(_MEMORY_REQUIRED), figure(_MEMORY_AVAILABLE)
    free = "more than is free" if available is None else f"{available / 1e9:.3g} GB is free"
    if required is not None:
        need = f"{required / 1e9:.3g} GB of memory, {free}"
    elif available is not None:
        need = f"more than the {available / 1e9:.3g} GB of memory that is free"
    else:
        need = "more memory than is free"
    return OutputMemoryError(
        f"ngspice refused the run: its output vectors would need {need} (ngspice reserves "
        "TSTOP/TSTEP points per saved vector); save fewer vectors (fewer probes), shorten the run "
        "or lengthen the .tran step (t_step_s; TMAX sets the accuracy), or use backend='batch', "
        "which writes results to a file",
        required_bytes=required,
        available_bytes=available,
        netlist_path=netlist_path,
        log_tail=_useful(lines),
    )


def _failure(message: str, lines: list[str], netlist_path: Path | None) -> SimulationError:
    """The error of one failed attempt: :class:`NonConvergenceError` when it may be retried,
    :class:`OutputMemoryError` when ngspice refused to keep the output in memory."""
    memory = output_memory_error(lines, netlist_path)
    if memory is not None:
        return memory
    cause = convergence_cause(lines)
    if cause is None:
        return SimulationError(message, netlist_path=netlist_path, log_tail=_useful(lines))
    return NonConvergenceError(message, cause=cause, netlist_path=netlist_path, log_tail=_useful(lines))


@dataclasses.dataclass
class SimulatedWaveforms(Waveforms):
    """:class:`Waveforms` of a backend run, with the escalation rungs it took.

    ``attempts`` names every rung run, in order: ``("as written",)`` when the first try
    worked, ``("as written", "gear", "tmax/10")`` when the third one did.  Being a field,
    it survives ``with_probes`` (``dataclasses.replace``) and pickling to worker processes.
    """

    attempts: tuple[str, ...] = ()

    @property
    def retried(self) -> bool:
        return len(self.attempts) > 1


# netlist text rewriting -- option cards and the .tran line
_OPTIONS_CARD = re.compile(r"^\s*\.opt(?:ion)?s?\b", re.IGNORECASE)
_ASSIGNMENT = re.compile(r"([a-z_]\w*)\s*=\s*([^\s=]+)", re.IGNORECASE)
_SPICE_NUMBER = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(meg|mil|[fpnumkgt])?[a-z]*$", re.IGNORECASE
)


def _spice_number(token: str | None) -> float | None:
    """A SPICE number (``"20p"``, ``"1e-9"``, ``"10ns"``, ``"1meg"``; ``m`` is milli), or None."""
    match = _SPICE_NUMBER.match(token.strip()) if token else None
    if match is None:
        return None
    scale = SPICE_SCALE[match.group(2).lower()] if match.group(2) else 1.0
    return float(match.group(1)) * scale


def _cards(netlist: str) -> list[tuple[int, int, str]]:
    """``(first, last, text)`` for each card of ``netlist``: ``+`` continuations joined."""
    lines = netlist.split("\n")
    cards: list[tuple[int, int, str]] = []
    for i, line in enumerate(lines):
        if line.lstrip().startswith("+") and cards:
            first, _, text = cards[-1]
            cards[-1] = (first, i, text + " " + line.lstrip()[1:])
        else:
            cards.append((i, i, line))
    return cards


def netlist_options(netlist: str) -> dict[str, str]:
    """``name -> value`` of the ``.options`` cards of ``netlist`` (names lower case; the
    last card wins, as in ngspice; flags without a value are left out)."""
    found: dict[str, str] = {}
    for _, _, card in _cards(netlist):
        if _OPTIONS_CARD.match(card):
            body = card.split(None, 1)[1] if len(card.split(None, 1)) > 1 else ""
            for name, value in _ASSIGNMENT.findall(body):
                found[name.lower()] = value
    return found


def add_options(netlist: str, options: dict[str, str], label: str = "") -> str:
    """``netlist`` with a ``.options`` card for ``options`` just before its ``.end`` (after
    every card it already has, so that these values win), appended when there is no ``.end``."""
    card = ".options " + " ".join(f"{k}={v}" for k, v in options.items())
    new = ([f"* spinspice convergence escalation: {label}"] if label else []) + [card]
    lines = netlist.rstrip("\n").split("\n")
    end = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip().lower() == ".end"), None)
    if end is None:
        lines += new
    else:
        lines[end:end] = new
    return "\n".join(lines) + "\n"


def scale_tmax(netlist: str, factor: float) -> str | None:
    """``netlist`` whose ``.tran`` maximum step is ``factor`` times what it was.

    ``.tran TSTEP TSTOP [TSTART [TMAX]] [UIC]``; without TMAX (or with 0) ngspice uses
    ``min(TSTEP, (TSTOP - TSTART) / 50)``, which is scaled and written out.  None when the
    netlist has no ``.tran`` card whose numbers can be read (parameters in braces, say).
    """
    lines = netlist.split("\n")
    changed = False
    for first, last, card in reversed(_cards(netlist)):
        tokens = card.split()
        if not tokens or tokens[0].lower() != ".tran":
            continue
        numbers = []
        for tok in tokens[1:5]:
            value = _spice_number(tok)
            if value is None:
                break
            numbers.append((tok, value))
        if len(numbers) < 2:
            return None
        rest = tokens[1 + len(numbers) :]
        tstep, tstop = numbers[0][1], numbers[1][1]
        tstart = numbers[2][1] if len(numbers) > 2 else 0.0
        tmax = numbers[3][1] if len(numbers) > 3 else 0.0
        if tmax <= 0:
            tmax = min(tstep, (tstop - tstart) / 50)
        if not tmax > 0:
            return None
        head = [tok for tok, _ in numbers[:3]] + (["0"] if len(numbers) < 3 else [])
        lines[first : last + 1] = [" ".join([tokens[0], *head, format_si(tmax * factor, 6), *rest])]
        changed = True
    return "\n".join(lines) if changed else None


class EscalationStep(NamedTuple):
    """One rung: ``rewrite(netlist)`` returns the netlist for this attempt (built on the
    previous rung's), or None when the rung does not apply to it and is skipped."""

    name: str
    rewrite: Callable[[str], str | None]


def _as_written(netlist: str) -> str:
    return netlist


def _gear(netlist: str) -> str | None:
    if netlist_options(netlist).get("method", "trap").lower().startswith("gear"):
        return None
    return add_options(netlist, {"method": "gear"}, "gear")


def _tmax_over_10(netlist: str) -> str | None:
    return scale_tmax(netlist, 0.1)


#: the options of the "relaxed tolerances" rung (ngspice defaults: reltol 1e-3, abstol
#: 1e-12, vntol 1e-6, chgtol 1e-14, itl1 100, itl4 10)
RELAXED_TOLERANCES: dict[str, float] = {
    "reltol": 1e-3,
    "abstol": 1e-10,
    "vntol": 1e-5,
    "chgtol": 1e-13,
    "itl1": 500,
    "itl4": 100,
}


def _relaxed(netlist: str) -> str | None:
    current = netlist_options(netlist)
    values: dict[str, str] = {}
    loosened = False
    for name, value in RELAXED_TOLERANCES.items():
        now = _spice_number(current.get(name))
        loosened |= now is None or now < value
        new = value if now is None else max(now, value)
        values[name] = str(int(new)) if name.startswith("itl") else format_float(new)
    return add_options(netlist, values, "relaxed tolerances") if loosened else None


#: the rungs tried, in order, when ngspice does not converge (see the module docstring)
ESCALATION: tuple[EscalationStep, ...] = (
    EscalationStep("as written", _as_written),
    EscalationStep("gear", _gear),
    EscalationStep("tmax/10", _tmax_over_10),
    EscalationStep("relaxed tolerances", _relaxed),
)


def _simulated(wf: Waveforms, attempts: list[str], failures: list[str]) -> SimulatedWaveforms:
    fields = {f.name: getattr(wf, f.name) for f in dataclasses.fields(Waveforms)}
    fields["log"] = [*failures, *wf.log]
    return SimulatedWaveforms(**fields, attempts=tuple(attempts))


def run_with_escalation(
    run_once: Callable[[str], Waveforms],
    netlist: str,
    steps: Sequence[EscalationStep] = ESCALATION,
) -> SimulatedWaveforms:
    """Run ``netlist`` with ``run_once``, climbing ``steps`` while ngspice does not converge.

    ``run_once(text)`` runs one attempt and raises :class:`NonConvergenceError` for a
    failure worth a retry, any other :class:`SimulationError` for one that is not.
    Returns the first success, with ``attempts``; raises :class:`NonConvergenceError`
    when the last rung fails too, with every rung tried in ``attempts``.
    """
    if not steps:
        raise ValueError("run_with_escalation needs at least one step (ESCALATION[:1]: no retries)")
    attempts: list[str] = []
    failures: list[str] = []
    last: NonConvergenceError | None = None
    text = netlist
    for step in steps:
        new = step.rewrite(text)
        if new is None:
            continue
        text = new
        attempts.append(step.name)
        try:
            wf = run_once(text)
        except NonConvergenceError as err:
            last = err
            failures.append(f"spinspice: attempt {len(attempts)} ({step.name}) failed: {err.args[0]}")
            continue
        except SimulationError as err:
            err.attempts = list(attempts)
            raise
        return _simulated(wf, attempts, failures)
    if last is None:
        raise ValueError("no escalation step applied to the netlist (the first must always apply)")
    n = len(attempts)
    raise NonConvergenceError(
        f"ngspice did not converge ({last.cause}) after {n} attempt{'s' if n > 1 else ''}",
        cause=last.cause,
        netlist_path=last.netlist_path,
        log_tail=last.log_tail,
        attempts=attempts,
    )


class Backend(Protocol):
    name: str

    def available(self) -> bool: ...

    def run(
        self,
        netlist: str,
        analysis: Transient | None = None,
        *,
        netlist_path: str | Path | None = None,
        timeout_s: float | None = None,
    ) -> Waveforms: ...


# -- batch ------------------------------------------------------------------------
class BatchBackend:
    """``ngspice -b`` in a subprocess; binary raw file read back."""

    name = "batch"

    def __init__(
        self, executable: str | None = None, *, escalation: Sequence[EscalationStep] = ESCALATION
    ) -> None:
        self._exe = executable
        self.escalation = tuple(escalation)

    def executable(self) -> str:
        exe = self._exe or os.environ.get("SPINSPICE_NGSPICE") or shutil.which("ngspice")
        if not exe:
            raise SimulatorNotFoundError(
                "ngspice is not installed: run `make install` or `apt-get install -y ngspice libngspice0`"
            )
        return exe

    def available(self) -> bool:
        try:
            self.executable()
        except SimulatorNotFoundError:
            return False
        return True

    def run(
        self,
        netlist: str,
        analysis: Transient | None = None,
        *,
        netlist_path: str | Path | None = None,
        timeout_s: float | None = None,
    ) -> SimulatedWaveforms:
        """Run ``netlist`` (with ``analysis`` as its ``.tran``), retrying non-convergence
        up the escalation; ``timeout_s`` applies to each attempt (None: :data:`DEFAULT_TIMEOUT_S`)."""
        exe = self.executable()
        text = with_analysis(netlist, analysis)
        timeout_s = _time_limit(timeout_s)
        return run_with_escalation(
            lambda t: self._run_once(exe, t, netlist_path, timeout_s), text, self.escalation
        )

    def _run_once(
        self, exe: str, text: str, netlist_path: str | Path | None, timeout_s: float | None
    ) -> Waveforms:
        with tempfile.TemporaryDirectory(prefix="spinspice-ngspice-") as tmp:
            work = Path(tmp)
            cir = work / "netlist.cir"
            cir.write_text(text)
            shown = Path(netlist_path) if netlist_path is not None else cir
            raw, log = work / "out.raw", work / "ngspice.log"
            env = {k: v for k, v in os.environ.items() if k != "SPICE_ASCIIRAWFILE"}
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(
                    [exe, "-b", "-r", str(raw), "-o", str(log), str(cir)],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise SimulationError(
                    f"ngspice did not finish within {timeout_s:g} s",
                    netlist_path=shown,
                    log_tail=_useful(_tail(log)),
                ) from None
            wall = time.perf_counter() - t0
            lines = _tail(log, n=10_000) + proc.stdout.splitlines() + proc.stderr.splitlines()
            errors = _errors(lines)
            if proc.returncode != 0 or errors:
                cause = errors[0].strip() if errors else f"exit status {proc.returncode}"
                raise _failure(f"ngspice failed ({cause})", lines, shown)
            try:
                plots = read_raw(raw)
            except RawFileError as err:
                raise SimulationError(
                    f"ngspice produced no usable results: {err}", netlist_path=shown, log_tail=_useful(lines)
                ) from None
        return _waveforms(plots[-1].data, self.name, wall, lines, shown)

    def run_many(
        self,
        netlists: Sequence[str],
        *,
        netlist_paths: Sequence[str | Path | None] | None = None,
        timeout_s: float | None = None,
    ) -> list[SimulatedWaveforms | SimulationError]:
        """Run several netlists in one ngspice process (see :func:`run_many`)."""
        exe = self.executable()
        timeout_s = _time_limit(timeout_s)
        paths = _paths(netlists, netlist_paths)
        if len(netlists) == 1:
            return [_run_or_error(self, netlists[0], paths[0], timeout_s)]
        out: list[SimulatedWaveforms | SimulationError | None] = [None] * len(netlists)
        # circuits whose control blocks differ (other compiled modules) go in separate processes
        by_control: dict[tuple[str, ...], list[int]] = {}
        split = [_split_control(text) for text in netlists]
        for i, (control, _) in enumerate(split):
            by_control.setdefault(control, []).append(i)
        for control, members in by_control.items():
            done = self._run_batch(exe, control, [split[i][1] for i in members], timeout_s)
            for i, wf in zip(members, done, strict=True):
                # a circuit that failed in the batch runs again on its own, with the escalation
                out[i] = wf if wf is not None else _run_or_error(self, netlists[i], paths[i], timeout_s)
        return [r for r in out if r is not None]

    def _run_batch(
        self, exe: str, control: tuple[str, ...], circuits: list[str], timeout_s: float | None
    ) -> list[SimulatedWaveforms | None]:
        """One ngspice in control mode: source each circuit, run it into its own raw file.

        Returns the waveforms of each circuit that finished cleanly (no error line in its
        part of the log, a raw file reaching its ``.tran`` stop time), None for the others."""
        with tempfile.TemporaryDirectory(prefix="spinspice-ngspice-batch-") as tmp:
            work = Path(tmp)
            script = ["* spinspice: a batch of circuits in one ngspice process", ".control", *control]
            script.append("set filetype=binary")
            for k, text in enumerate(circuits):
                (work / f"c{k}.cir").write_text(text)
                # `run FILE` streams the points to FILE (results are not kept in memory)
                script += [f"echo {_BATCH_MARK}{k}", f"source c{k}.cir", f"run c{k}.raw", "destroy all"]
                script.append("remcirc")
            script += [f"echo {_BATCH_MARK}end", "quit", ".endc", ".end"]
            driver, log = work / "batch.cir", work / "ngspice.log"
            driver.write_text("\n".join(script) + "\n")
            env = {k: v for k, v in os.environ.items() if k != "SPICE_ASCIIRAWFILE"}
            t0 = time.perf_counter()
            try:
                proc = subprocess.run(
                    [exe, "-b", "-o", str(log), str(driver)],
                    cwd=work,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=None if timeout_s is None else timeout_s * len(circuits),
                    check=False,
                )
                lines = _tail(log, n=1_000_000) + proc.stdout.splitlines() + proc.stderr.splitlines()
            except subprocess.TimeoutExpired:  # what finished is kept; the rest runs on its own
                lines = _tail(log, n=1_000_000)
            wall = (time.perf_counter() - t0) / len(circuits)
            sections = _batch_sections(lines, len(circuits))
            out: list[SimulatedWaveforms | None] = []
            for k, (text, section) in enumerate(zip(circuits, sections, strict=True)):
                raw = work / f"c{k}.raw"
                wf = None
                if section is not None and not _errors(section) and raw.exists():
                    with contextlib.suppress(RawFileError, SimulationError):
                        wf = _waveforms(read_raw(raw)[-1].data, self.name, wall, section, None)
                stop = _tran_stop_s(text)
                if wf is not None and (stop is None or wf.time_s[-1] < stop * (1 - 1e-9)):
                    wf = None  # a run that stopped early
                out.append(None if wf is None else _simulated(wf, ["as written"], []))
        return out


#: the marker a batch driver echoes before each circuit (and at the end)
_BATCH_MARK = "spinspice-batch-circuit-"


def _batch_sections(lines: list[str], n: int) -> list[list[str] | None]:
    """The log lines of each circuit of a batch (None: the batch never finished it)."""
    marks = {}
    for i, line in enumerate(lines):
        text = line.strip()
        if text.startswith(_BATCH_MARK):
            marks[text[len(_BATCH_MARK) :]] = i
    out: list[list[str] | None] = []
    for k in range(n):
        start, end = marks.get(str(k)), marks.get(str(k + 1) if k + 1 < n else "end")
        out.append(None if start is None or end is None else lines[start + 1 : end])
    return out


_CONTROL = re.compile(r"^\.control\s*$(.*?)^\.endc\s*$\n?", re.IGNORECASE | re.MULTILINE | re.DOTALL)


def _split_control(netlist: str) -> tuple[tuple[str, ...], str]:
    """(the lines of the netlist's ``.control`` blocks, the netlist without them)."""
    control: list[str] = []
    for m in _CONTROL.finditer(netlist):
        control += [ln.strip() for ln in m.group(1).splitlines() if ln.strip()]
    return tuple(control), _CONTROL.sub("", netlist)


def _tran_stop_s(netlist: str) -> float | None:
    """The stop time of the netlist's ``.tran`` card, or None."""
    for _, _, card in _cards(netlist):
        parts = card.split()
        if parts and parts[0].lower() == ".tran" and len(parts) >= 3:
            return _spice_number(parts[2])
    return None


def _paths(netlists: Sequence[str], paths: Sequence[str | Path | None] | None) -> list[str | Path | None]:
    out = list(paths) if paths is not None else [None] * len(netlists)
    if len(out) != len(netlists):
        raise ValueError(f"{len(netlists)} netlists but {len(out)} netlist paths")
    return out


def _run_or_error(
    backend: Backend, netlist: str, path: str | Path | None, timeout_s: float | None
) -> SimulatedWaveforms | SimulationError:
    """``backend.run`` of one netlist: its waveforms, or the error it ended with."""
    try:
        return backend.run(netlist, netlist_path=path, timeout_s=timeout_s)  # type: ignore[return-value]
    except SimulationError as err:
        return err


def run_many(
    backend: Backend,
    netlists: Sequence[str],
    *,
    netlist_paths: Sequence[str | Path | None] | None = None,
    timeout_s: float | None = None,
) -> list[SimulatedWaveforms | SimulationError]:
    """Run several netlists, in order: the waveforms of each or the error it ended with.

    The batch backend runs them in one ngspice process in control mode (each circuit
    sourced, run into a raw file of its own, removed), so start-up, loading the compiled
    modules and the process round trip are paid once; a circuit that fails there (an error
    line in its part of the log, no raw file, a run that stopped early, the whole batch past
    ``timeout_s`` per circuit) runs again on its own through :meth:`BatchBackend.run`, with
    the escalation and the usual error.  The results are those of running each netlist
    alone.  Other backends run them one by one."""
    many = getattr(backend, "run_many", None)
    if many is not None:
        return many(netlists, netlist_paths=netlist_paths, timeout_s=timeout_s)  # type: ignore[no-any-return]
    paths = _paths(netlists, netlist_paths)
    return [_run_or_error(backend, text, path, timeout_s) for text, path in zip(netlists, paths, strict=True)]


def _tail(path: Path, n: int = 40) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-n:]
    except FileNotFoundError:
        return []


def _waveforms(
    data: dict[str, np.ndarray], backend: str, wall: float, log: list[str], netlist: Path | None
) -> Waveforms:
    vectors = {canonical_name(k): np.real_if_close(v) for k, v in data.items()}
    time_s = vectors.pop("time", None)
    if time_s is None or len(time_s) < 2:
        raise SimulationError(
            "ngspice returned no transient data (no time vector)",
            netlist_path=netlist,
            log_tail=log,
        )
    return Waveforms(
        time_s=np.asarray(np.real(time_s), dtype=float),
        vectors=vectors,
        backend=backend,
        wall_s=wall,
        log=log,
    )


# -- shared library ----------------------------------------------------------------
_SHARED_LOCK = threading.Lock()
_SHARED_INSTANCE: Any = None


def _library_path() -> str | None:
    env = os.environ.get("NGSPICE_LIBRARY_PATH")
    if env:
        return env
    found = ctypes.util.find_library("ngspice")  # e.g. "libngspice.so.0" on Debian
    return found


def _make_shared() -> Any:
    """Create the process-wide ngspice shared instance (lazily, once)."""
    lib = _library_path()
    if lib is None:
        raise SimulatorNotFoundError(
            "the ngspice shared library is not installed: run `make install` or "
            "`apt-get install -y libngspice0` (or set NGSPICE_LIBRARY_PATH)"
        )
    os.environ.setdefault("NGSPICE_LIBRARY_PATH", lib)
    try:
        from PySpice.Spice.NgSpice import SimulationType
        from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi, ffi_string_utf8
    except ImportError as err:  # pragma: no cover - PySpice is a dependency
        raise SimulatorNotFoundError(f"PySpice is not importable ({err}); run `make install`") from err

    # ngspice's vector-type enum (src/include/ngspice/sim.h) is unchanged since
    # ngspice-27; PySpice 1.5 only lists versions up to 34 and warns otherwise.
    for version in range(35, 100):
        SimulationType.SIMULATION_TYPE.setdefault(version, SimulationType.SIMULATION_TYPE[27])

    class _Shared(NgSpiceShared):  # type: ignore[misc]
        """NgSpiceShared whose message callback classifies lines properly."""

        log: list[str]

        @staticmethod
        def _send_char(message_c: Any, ngspice_id: int, user_data: Any) -> int:
            self = ffi.from_handle(user_data)
            message = ffi_string_utf8(message_c)
            prefix, _, content = message.partition(" ")
            if not hasattr(self, "log"):
                self.log = []
            self.log.append(content if prefix in ("stdout", "stderr") else message)
            if prefix == "stderr":
                self._stderr.append(content)
            else:
                self._stdout.append(content)
            return 0

        @staticmethod
        def _background_thread_running(is_running: bool, ngspice_id: int, user_data: Any) -> int:
            # PySpice 1.5 returns None here, which cffi cannot turn into the C int.  Despite
            # PySpice's name, ngspice passes its flag "exited": False when the background
            # thread starts, True when it has finished (sharedspice.c, _thread_run)
            self = ffi.from_handle(user_data)
            self._is_running = is_running
            self.bg_exited = bool(is_running)
            return 0

        @staticmethod
        def _exit(exit_status: int, immediate: bool, quit_exit: bool, ngspice_id: int, user_data: Any) -> int:
            # ngspice's controlled exit (a fatal error, ngspice 46's output memory check, `quit`):
            # the library "awaits to be reset or detached", and the next ngSpice_Circ may crash
            self = ffi.from_handle(user_data)
            self.exited = True
            return int(exit_status)

    NgSpiceShared.setup_platform()
    NgSpiceShared.LIBRARY_PATH = lib
    try:
        inst = _Shared(ngspice_id=0, send_data=False)
    except OSError as err:
        raise SimulatorNotFoundError(
            f"cannot load the ngspice shared library {lib!r} ({err}); "
            "install libngspice0 or set NGSPICE_LIBRARY_PATH"
        ) from None
    inst._ffi = ffi
    inst._ffi_string = ffi_string_utf8
    inst.exited = False
    inst.dead = None  # why the instance cannot be restarted, once that is known
    inst.restarts = 0  # ngSpice_Reset calls so far (see _reloadable)
    return inst


def _restart(ng: Any) -> None:
    """Bring the shared instance back after ngspice's controlled exit: ``ngSpice_Reset``
    (ngspice 46 has it, 39 does not) and ``ngSpice_Init`` again with the same callbacks.

    Without ``ngSpice_Reset`` the library cannot be brought back in-process (with ngspice 39
    a second ``ngSpice_Init`` after ``quit`` aborts the process), so the instance is marked
    dead instead and every later run says so rather than crash.
    """
    lib, ffi = ng._ngspice_shared, ng._ffi
    try:
        reset = ctypes.CDLL(ng.library_path).ngSpice_Reset  # the already loaded library
    except (OSError, AttributeError):
        ng.dead = (
            "the ngspice shared library stopped (controlled exit) and this version cannot be "
            "restarted in the same process: start a new process or use backend='batch'"
        )
        return
    reset.restype = ctypes.c_int
    reset()
    rc = lib.ngSpice_Init(
        ng._send_char_c,
        ng._send_stat_c,
        ng._exit_c,
        ng._send_data_c,
        ng._send_init_data_c,
        ng._background_thread_running_c,
        ng._self_c,
    )
    sync = (ng._get_vsrc_data_c, ng._get_isrc_data_c, ffi.NULL, ng._ngspice_id, ng._self_c)
    rc = rc or lib.ngSpice_Init_Sync(*sync)
    if rc:
        ng.dead = (
            f"ngspice could not be re-initialised after its controlled exit (rc {rc}): start a new process"
        )
        return
    ng.exited = False
    ng.restarts += 1
    _command(ng, "set nomoremode")


_PRE_OSDI = re.compile(r"^(\s*pre_osdi\s+)(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


def _reloadable(text: str, restarts: int) -> str:
    """``text`` with its ``pre_osdi`` libraries at paths this instance has not loaded yet.

    ngspice remembers every OSDI library it loaded and skips a path it has seen, but
    ``ngSpice_Reset`` drops the models those libraries registered ("Unknown model type"
    after a restart).  After the ``restarts``-th restart each library is loaded from a copy
    of its own in a folder for that restart, which ngspice has not seen."""
    if not restarts:
        return text

    def fresh(m: re.Match[str]) -> str:
        src = Path(m.group(2)).resolve()
        folder = Path(tempfile.gettempdir()) / f"spinspice-osdi-{os.getpid()}-restart{restarts}"
        dst = folder / src.name
        if not dst.exists() and src.exists():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{src.name}.{threading.get_ident()}.tmp"
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
        return f"{m.group(1)}{dst}"

    return _PRE_OSDI.sub(fresh, text)


class SharedBackend:
    """ngspice as an in-process shared library (PySpice 1.5 ``NgSpiceShared``).

    One ngspice instance per process (the library keeps global state); calls
    are serialised with a lock.  For parallel runs use processes.
    """

    name = "shared"

    def __init__(self, *, escalation: Sequence[EscalationStep] = ESCALATION) -> None:
        self.escalation = tuple(escalation)

    def available(self) -> bool:
        return _library_path() is not None

    def _instance(self) -> Any:
        global _SHARED_INSTANCE
        if _SHARED_INSTANCE is None:
            _SHARED_INSTANCE = _make_shared()
        return _SHARED_INSTANCE

    def run(
        self,
        netlist: str,
        analysis: Transient | None = None,
        *,
        netlist_path: str | Path | None = None,
        timeout_s: float | None = None,
    ) -> SimulatedWaveforms:
        """Run ``netlist`` (with ``analysis`` as its ``.tran``), retrying non-convergence
        up the escalation; ``timeout_s`` applies to each attempt (None: :data:`DEFAULT_TIMEOUT_S`)."""
        text = with_analysis(netlist, analysis)
        shown = Path(netlist_path) if netlist_path is not None else None
        timeout_s = _time_limit(timeout_s)
        return run_with_escalation(lambda t: self._run_once(t, shown, timeout_s), text, self.escalation)

    def _run_once(self, text: str, shown: Path | None, timeout_s: float | None) -> Waveforms:
        with _SHARED_LOCK:
            ng = self._instance()
            lib, ffi = ng._ngspice_shared, ng._ffi
            if ng.exited and ng.dead is None:
                _restart(ng)
            if ng.dead is not None:
                raise SimulationError(ng.dead, netlist_path=shown)

            def fail(message: str, *, may_retry: bool = False) -> SimulationError:
                log = list(ng.log)
                if ng.exited or any(_UNRECOVERABLE.search(line) for line in log):
                    ng.exited = True
                    _restart(ng)  # instead of a cleanup: the library awaits a reset
                else:
                    _cleanup(ng)
                if may_retry:  # a run that ended in an error: non-convergence is retried
                    return _failure(message, log, shown)
                return SimulationError(message, netlist_path=shown, log_tail=_useful(log))

            ng.log = []
            _command(ng, "destroy all")
            lines = [ln for ln in _reloadable(text, ng.restarts).splitlines() if ln.strip()] + [""]
            keep = [ffi.new("char[]", ln.encode("utf-8")) for ln in lines] + [ffi.NULL]
            t0 = time.perf_counter()
            rc = lib.ngSpice_Circ(ffi.new("char *[]", keep))
            errors = _errors(ng.log)
            if rc or errors:
                raise fail(f"ngspice rejected the netlist ({errors[0].strip() if errors else f'rc {rc}'})")
            if timeout_s is None:
                _command(ng, "run")
            else:
                # ngSpice_running() reads False until the background thread has started, which
                # on a busy machine takes more than a moment: wait for its "exited" callback
                ng.bg_exited = None
                _command(ng, "bg_run")
                while ng.bg_exited is not True:
                    if time.perf_counter() - t0 > timeout_s:
                        # halt until the thread says it exited: one that had not started yet
                        # misses the first halt and would run on beside the next command
                        while ng.bg_exited is not True:
                            _command(ng, "bg_halt")
                            time.sleep(0.005)
                        raise fail(f"ngspice did not finish within {timeout_s:g} s")
                    time.sleep(0.001)
            wall = time.perf_counter() - t0
            log = list(ng.log)
            errors = _errors(log)
            if errors:
                raise fail(f"ngspice failed ({errors[0].strip()})", may_retry=True)
            try:
                data = _current_plot(ng)
            finally:
                _cleanup(ng)
        return _waveforms(data, self.name, wall, log, shown)


def _command(ng: Any, command: str) -> None:
    ng._ngspice_shared.ngSpice_Command(command.encode("ascii"))


def _cleanup(ng: Any) -> None:
    with contextlib.suppress(Exception):
        _command(ng, "destroy all")
        _command(ng, "remcirc")


def _current_plot(ng: Any) -> dict[str, np.ndarray]:
    lib, ffi = ng._ngspice_shared, ng._ffi
    plot = ng._ffi_string(lib.ngSpice_CurPlot())
    if not plot or plot == "const":
        return {}
    names_c = lib.ngSpice_AllVecs(plot.encode("utf-8"))
    data: dict[str, np.ndarray] = {}
    i = 0
    while names_c[i] != ffi.NULL:
        name = ng._ffi_string(names_c[i])
        info = lib.ngGet_Vec_Info(f"{plot}.{name}".encode())
        i += 1
        if info == ffi.NULL:
            continue
        n = info.v_length
        if info.v_compdata == ffi.NULL:
            arr = np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()
        else:
            raw = np.frombuffer(ffi.buffer(info.v_compdata, n * 16), dtype=np.float64)
            arr = raw[0::2] + 1j * raw[1::2]
        data[name] = arr
    return data


BACKENDS: dict[str, type] = {"shared": SharedBackend, "batch": BatchBackend}


def get_backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise SimulatorNotFoundError(
            f"unknown backend {name!r}{did_you_mean(name, BACKENDS)}; use 'shared' or 'batch'"
        )
    backend = BACKENDS[name]()
    return backend


def ngspice_version() -> str | None:
    """Version string of the installed ngspice executable (e.g. ``"39"``), or None."""
    exe = shutil.which(os.environ.get("SPINSPICE_NGSPICE", "ngspice"))
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "-v"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"ngspice-(\S+)", out.stdout + out.stderr)
    return match.group(1) if match else None
