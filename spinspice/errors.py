"""One error hierarchy for the whole package.

Every error a user can meet derives from :class:`SpinspiceError`.  Messages
say what went wrong *and* what to do about it; the CLI prints ``str(err)`` as
its one-line cause.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "CheckpointError",
    "DataError",
    "DiskFullError",
    "ModelParameterError",
    "NetlistError",
    "OutputInUseError",
    "OutputMemoryError",
    "RawFileError",
    "SimulationError",
    "SimulatorNotFoundError",
    "SpinspiceError",
    "TrainingError",
    "UnitError",
    "WorkerCrashError",
    "check_setting",
    "did_you_mean",
]


class SpinspiceError(Exception):
    """Base class of every error raised on purpose by spinspice."""


class ModelParameterError(SpinspiceError, ValueError):
    """A parameter is unknown, malformed or outside its physical range."""


class UnitError(ModelParameterError):
    """A value could not be parsed as a number with an SI prefix/unit."""


class NetlistError(SpinspiceError):
    """A circuit cannot be written as a netlist (bad name, unsupported feature)."""


class SimulatorNotFoundError(SpinspiceError):
    """ngspice (executable or shared library) is not installed."""


class SimulationError(SpinspiceError):
    """ngspice failed; carries the netlist path, the last log lines and ``attempts``, the
    option sets tried (``["as written", "gear", ...]``: see :mod:`spinspice.sim.backends`)."""

    def __init__(
        self,
        message: str,
        *,
        netlist_path: str | Path | None = None,
        log_tail: Iterable[str] = (),
        attempts: Iterable[str] = (),
    ) -> None:
        self.netlist_path = None if netlist_path is None else Path(netlist_path)
        self.log_tail = [line.rstrip() for line in log_tail if line.strip()][-20:]
        self.attempts = list(attempts)
        super().__init__(message)

    def __str__(self) -> str:  # one line for the CLI, details on .log_tail
        msg = super().__str__()
        parts = [msg]
        if self.netlist_path is not None:
            parts.append(f"netlist: {self.netlist_path}")
        if len(self.attempts) > 1:  # one attempt: nothing was retried, nothing to say
            parts.append("tried: " + ", ".join(self.attempts))
        if self.log_tail:
            parts.append("ngspice said: " + " | ".join(self.log_tail[-3:]))
        return "; ".join(parts)


class OutputMemoryError(SimulationError):
    """ngspice refused to start a run: keeping its output vectors in memory would need more
    than is free (the shared library of ngspice 46 checks this up front; ngspice 39 ran on).

    ``required_bytes`` and ``available_bytes`` are ngspice's own figures (None where its log
    does not give them, or its 32-bit product wrapped below zero).  Not retried: save fewer
    vectors, make the run shorter or its ``.tran`` step (not TMAX) longer, or use the batch
    backend, which streams to a file.
    """

    def __init__(
        self,
        message: str,
        *,
        required_bytes: int | None = None,
        available_bytes: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.required_bytes = required_bytes
        self.available_bytes = available_bytes


class WorkerCrashError(SimulationError):
    """A worker process died (killed, out of memory, crashed) while running jobs."""


class RawFileError(SpinspiceError):
    """A SPICE raw file is missing, truncated or corrupt."""


class CheckpointError(SpinspiceError):
    """A checkpoint is missing, corrupt, tampered with or from another version."""


class DataError(SpinspiceError):
    """A data set or trace file is missing or malformed."""


class TrainingError(SpinspiceError):
    """Training diverged or cannot proceed (non-finite drive, loss or weights)."""


class OutputInUseError(SpinspiceError):
    """Another spinspice run holds the output folder (or checkpoint) this run would write:
    two runs in one folder would mix their journals and reports (:func:`spinspice.io.run_lock`)."""


class DiskFullError(SpinspiceError):
    """A result could not be written: no space left on the device, the disk quota is used up,
    or the file outgrew the process's file size limit (``ulimit -f``).  The writers are atomic,
    so nothing partial is left; ``path`` is the file (or folder) that was being written."""

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        super().__init__(message)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest choice, or ``""``."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_setting(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    integer: bool = False,
    unit: str = "",
) -> None:
    """Refuse ``value`` of the setting ``name`` (as the user wrote it, e.g. ``--batch-size``)
    unless it is a finite number (an integer with ``integer``) in [``low``, ``high``] (``low``
    excluded with ``low_open``), in one line giving the range: settings are checked this way
    before a command creates any file."""
    import math

    unit_text = f" {unit}" if unit else ""
    kind = "an integer" if integer else "a number"
    bounds = []
    if low is not None:
        bounds.append(f"{'>' if low_open else '>='} {low:g}{unit_text}")
    if high is not None:
        bounds.append(f"<= {high:g}{unit_text}")
    wanted = f"give {kind}" + (f" {' and '.join(bounds)}" if bounds else "")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ModelParameterError(f"{name} = {value!r}: {wanted}") from None
    ok = math.isfinite(number) and (not integer or number == int(number))
    ok = ok and (low is None or (number > low if low_open else number >= low))
    ok = ok and (high is None or number <= high)
    if not ok:
        raise ModelParameterError(f"{name} = {value!r}{unit_text}: {wanted}")
