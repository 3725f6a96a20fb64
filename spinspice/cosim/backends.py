"""Two ways to run ngspice behind one interface.

* :class:`SharedBackend` -- ngspice as an in-process shared library through
  PySpice 1.5's ``NgSpiceShared`` (cffi).
* :class:`BatchBackend` -- ``ngspice -b -r out.raw`` as a subprocess, results
  read back with :mod:`spinspice.cosim.rawfile`.

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
"""

from __future__ import annotations

import contextlib
import ctypes.util
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from spinspice.circuits.core import Transient
from spinspice.cosim.rawfile import canonical_name, read_raw
from spinspice.cosim.waveforms import Waveforms
from spinspice.errors import RawFileError, SimulationError, SimulatorNotFoundError, did_you_mean
from spinspice.netlists.spice import NgspiceDialect

__all__ = [
    "BACKENDS",
    "Backend",
    "BatchBackend",
    "SharedBackend",
    "classify_message",
    "get_backend",
    "with_analysis",
]

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
    r"unrecognized|too few|too many|syntax|illegal|out of memory|segmentation)",
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

    def __init__(self, executable: str | None = None) -> None:
        self._exe = executable

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
    ) -> Waveforms:
        exe = self.executable()
        text = with_analysis(netlist, analysis)
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
                    log_tail=_tail(log),
                ) from None
            wall = time.perf_counter() - t0
            lines = _tail(log, n=10_000) + proc.stdout.splitlines() + proc.stderr.splitlines()
            errors = _errors(lines)
            if proc.returncode != 0 or errors:
                cause = errors[0].strip() if errors else f"exit status {proc.returncode}"
                raise SimulationError(f"ngspice failed ({cause})", netlist_path=shown, log_tail=lines)
            try:
                plots = read_raw(raw)
            except RawFileError as err:
                raise SimulationError(
                    f"ngspice produced no usable results: {err}", netlist_path=shown, log_tail=lines
                ) from None
        return _waveforms(plots[-1].data, self.name, wall, lines, shown)


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
            # PySpice 1.5 returns None here, which cffi cannot turn into the C int
            self = ffi.from_handle(user_data)
            self._is_running = is_running
            return 0

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
    return inst


class SharedBackend:
    """ngspice as an in-process shared library (PySpice 1.5 ``NgSpiceShared``).

    One ngspice instance per process (the library keeps global state); calls
    are serialised with a lock.  For parallel runs use processes.
    """

    name = "shared"

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
    ) -> Waveforms:
        text = with_analysis(netlist, analysis)
        shown = Path(netlist_path) if netlist_path is not None else None
        with _SHARED_LOCK:
            ng = self._instance()
            lib, ffi = ng._ngspice_shared, ng._ffi

            def fail(message: str) -> SimulationError:
                log = list(ng.log)
                _cleanup(ng)
                return SimulationError(message, netlist_path=shown, log_tail=log)

            ng.log = []
            _command(ng, "destroy all")
            lines = [ln for ln in text.splitlines() if ln.strip()] + [""]
            keep = [ffi.new("char[]", ln.encode("utf-8")) for ln in lines] + [ffi.NULL]
            t0 = time.perf_counter()
            rc = lib.ngSpice_Circ(ffi.new("char *[]", keep))
            errors = _errors(ng.log)
            if rc or errors:
                raise fail(f"ngspice rejected the netlist ({errors[0].strip() if errors else f'rc {rc}'})")
            if timeout_s is None:
                _command(ng, "run")
            else:
                _command(ng, "bg_run")
                time.sleep(0.001)
                while lib.ngSpice_running():
                    if time.perf_counter() - t0 > timeout_s:
                        _command(ng, "bg_halt")
                        while lib.ngSpice_running():
                            time.sleep(0.001)
                        raise fail(f"ngspice did not finish within {timeout_s:g} s")
                    time.sleep(0.001)
            wall = time.perf_counter() - t0
            log = list(ng.log)
            errors = _errors(log)
            if errors:
                raise fail(f"ngspice failed ({errors[0].strip()})")
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
