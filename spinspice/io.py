"""Atomic file output: a result is either complete on disk or absent.

Writers build the content in a temporary file in the destination folder and
``os.replace`` it into place, so a crash (or Ctrl-C) never leaves a half
written report.  :func:`staged_output` does the same for a whole folder of
results.  A full disk (or quota, or file size limit) ends a write with
:class:`~spinspice.errors.DiskFullError` and leaves nothing partial behind.

:func:`run_lock` holds an output folder for one run, so a second run writing
there is refused at once; :func:`command_scope` makes SIGTERM unwind like
Ctrl-C in the CLI, so the cleanup of both (and of staging folders) runs.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from spinspice.errors import DiskFullError, OutputInUseError

__all__ = [
    "LOCK_NAME",
    "Result",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "command_scope",
    "displayed",
    "no_progress",
    "progress_bar",
    "report_header",
    "run_lock",
    "seed_all",
    "staged_output",
    "to_jsonable",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: what a full disk looks like to a writer: no space, over the quota, over ``ulimit -f``
_NO_SPACE = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "no space left: disk quota exceeded",
    errno.EFBIG: "file too large (over the file size limit, ulimit -f)",
}


def _no_space(err: OSError, path: Path) -> DiskFullError | None:
    """``err`` as the one-line :class:`DiskFullError` naming ``path`` (None: another error)."""
    if err.errno not in _NO_SPACE:
        return None
    return DiskFullError(
        f"cannot write {path}: {_NO_SPACE[err.errno]}; nothing partial was kept: free some space "
        "(or lift the limit) and run the command again (cosim and sweep: with --resume, to keep "
        "the finished jobs)",
        path=path,
    )


@contextlib.contextmanager
def _disk_full_as(path: Path | None) -> Iterator[None]:
    """Turn a full-disk ``OSError`` of the block into the one-line :class:`DiskFullError`
    naming ``path`` (None: the file the error names); other errors pass unchanged."""
    try:
        yield
    except OSError as err:
        full = _no_space(err, path if path is not None else Path(err.filename or "a file"))
        if full is None:
            raise
        raise full from err


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + rename).

    A write that fails part way (disk full, quota, file size limit) removes its temporary
    file and raises :class:`~spinspice.errors.DiskFullError`: the old file, if any, is intact."""
    path = Path(path)
    with _disk_full_as(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; results are ordinary files
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths and tuples into JSON types."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a hard dependency
        np = None  # type: ignore[assignment]
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if np is not None:
        if isinstance(obj, np.ndarray):
            return to_jsonable(obj.tolist())
        if isinstance(obj, np.generic):
            return obj.item()
    if isinstance(obj, float) and obj != obj:  # NaN -> null, JSON has no NaN
        return None
    return obj


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically (NaN becomes ``null``)."""
    text = json.dumps(to_jsonable(obj), indent=2, sort_keys=False, allow_nan=False)
    return atomic_write_text(path, text + "\n")


def _host_tag() -> str:
    """This machine, as 8 hex digits (a staging folder's pid means something only here)."""
    return f"{zlib.crc32(socket.gethostname().encode()):08x}"


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (one of another user counts; so does a zombie)."""
    if pid <= 0:
        return True  # not a process of its own: never treat as gone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def _remove_stale_stages(parent: Path, name: str) -> None:
    """Delete the staging folders of ``name`` in ``parent`` whose owner process is gone (a run
    killed with SIGKILL, or a machine that lost power, cannot delete its own).  Those of live
    processes, of other machines (a shared file system) or without an owner are kept."""
    owned = re.compile(rf"\.{re.escape(name)}\.staging-([0-9a-f]{{8}})-(\d+)-")
    host = _host_tag()
    with contextlib.suppress(OSError):
        for entry in os.scandir(parent):
            m = owned.match(entry.name)
            if m and m.group(1) == host and entry.is_dir(follow_symlinks=False):
                if not _alive(int(m.group(2))):
                    shutil.rmtree(entry.path, ignore_errors=True)


@contextlib.contextmanager
def staged_output(out_dir: str | Path) -> Iterator[Path]:
    """Stage a folder of results and publish it only if the block succeeds.

    Yields a temporary folder next to ``out_dir``, named
    ``.NAME.staging-<host>-<pid>-XXXXXXXX`` after its owner.  On success every file in it
    is moved into ``out_dir`` (created if needed) with ``os.replace``; files
    already in ``out_dir`` that the block did not produce are kept.  On any
    exception (and on SIGTERM in the CLI: :func:`command_scope`) the staging
    folder is deleted and ``out_dir`` is not touched.  A process killed outright
    cannot delete its own, so each call first deletes those of ``out_dir`` whose
    owner process is gone.  A write into the stage that finds the disk full names
    its place in ``out_dir``.
    """
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    with _disk_full_as(out_dir):
        parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_stages(parent, out_dir.name)
        prefix = f".{out_dir.name}.staging-{_host_tag()}-{os.getpid()}-"
        stage = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        try:
            yield stage
        except DiskFullError as err:  # name the file as the user knows it: in out_dir
            if err.path is None or not err.path.is_relative_to(stage):
                raise
            final = out_dir / err.path.relative_to(stage)
            raise DiskFullError(str(err).replace(str(err.path), str(final)), path=final) from err
        with _disk_full_as(out_dir):  # a new folder entry needs space too
            out_dir.mkdir(parents=True, exist_ok=True)
            for src in sorted(stage.rglob("*")):
                if src.is_dir():
                    continue
                dst = out_dir / src.relative_to(stage)
                dst.parent.mkdir(parents=True, exist_ok=True)
                if dst.is_dir():
                    shutil.rmtree(dst)
                os.replace(src, dst)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


#: the lock file a run holds in its output folder (:func:`run_lock`)
LOCK_NAME = ".spinspice.lock"


def _lock_path(out: Path, file: bool) -> Path:
    return out.parent / f".{out.name}.lock" if file else out / LOCK_NAME


@contextlib.contextmanager
def run_lock(out: str | Path, *, file: bool = False) -> Iterator[Path]:
    """Hold ``out`` for one run: a second run that asks for it is refused at once.

    Two runs writing one output folder would mix their journals and reports, so ``cosim``
    and ``sweep`` hold their folder (the lock file ``OUT/.spinspice.lock``) and ``train``
    its checkpoint (``file=True``: ``.NAME.lock`` beside it, as two trainings into one folder
    with other names do not meet) from before their journal is read or their work starts
    until their results are written.  A second run raises
    :class:`~spinspice.errors.OutputInUseError` naming the holder's pid (the file's text).

    The lock is ``flock``: the kernel drops it when its holder ends in any way, SIGKILL and
    power loss included, so no stale lock can block a later run (a lock file left by a killed
    run is simply taken over).  A run that ends normally deletes the file, and the folder
    when it made it and left it empty (a refused run leaves nothing behind).  Locks on
    network file systems depend on the server (NFS v4 has them; see docs/reliability.md).
    Yields the lock file's path.
    """
    out = Path(out)
    lock = _lock_path(out, file)
    folder = lock.parent
    made = not folder.exists()

    def unmake() -> None:
        if made:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: the run was refused before writing anything

    with _disk_full_as(lock):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = _take_lock(lock, out)
        except BaseException:
            unmake()
            raise
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # still held: whoever opens it now sees another file and retries
        os.close(fd)
        unmake()


def _take_lock(lock: Path, out: Path) -> int:
    """Open, ``flock`` and stamp (our pid) the lock file ``lock``; its descriptor."""
    import fcntl

    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise OutputInUseError(
                f"{out} is in use by another spinspice run (pid {holder}): wait for it to end, "
                "or choose another --out"
            ) from None
        try:  # its holder may have released and deleted the file between our open and flock
            same = os.path.samestat(os.stat(lock), os.fstat(fd))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def command_scope() -> Iterator[None]:
    """What a CLI command runs under: SIGTERM unwinds like Ctrl-C, a full disk is one line.

    Python's default SIGTERM ends the process at once, without ``finally`` blocks, so a
    ``kill`` (or a batch scheduler's time limit) would leave staging folders and lock files
    behind.  Here it raises ``SystemExit(143)`` instead: staging folders are deleted, locks
    released, finished jobs stay journalled (``--resume`` continues).  A second SIGTERM
    during that cleanup ends the process at once.  (Only the main thread can set signal
    handlers: elsewhere SIGTERM is left alone.)  An ``OSError`` of a full disk from a write
    that is not one of the atomic writers here (a netlist in a temporary folder) becomes the
    same one-line :class:`~spinspice.errors.DiskFullError` as theirs.
    """
    handled = threading.current_thread() is threading.main_thread()

    def terminate(signum: int, _frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, terminate) if handled else None
    try:
        with _disk_full_as(None):
            yield
    finally:
        if handled:
            signal.signal(signal.SIGTERM, previous)


def report_header(schema: str, version: int = 1) -> dict[str, Any]:
    """The fields every spinspice report starts with: schema name and version, spinspice version."""
    from spinspice import __version__

    return {"schema": schema, "schema_version": version, "spinspice_version": __version__}


def pyplot() -> Any:
    """matplotlib.pyplot on the non-interactive Agg backend (imported on first use)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, dpi: int = 130) -> Path:
    """Write ``fig`` as a PNG atomically and close it."""
    import io as _io

    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


class Result:
    """What every public API call returns (STYLE.md "Results are objects").

    - :meth:`report`: the JSON-able report (the schema documented in docs/reports.md);
    - :meth:`summary`: the few lines the CLI prints for people;
    - :meth:`write`: write the result's files into a folder atomically; returns the folder.

    ``out`` is the folder the call itself wrote to (None when it wrote nothing).
    """

    out: Path | None = None
    #: the report, for results that keep it as it is (``report()`` returns it)
    data: dict[str, Any]

    def report(self) -> dict[str, Any]:
        return self.data

    def summary(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.summary")

    def write(self, folder: str | Path) -> Path:  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__}.write")

    def __repr__(self) -> str:
        first = next(iter(self.summary().splitlines()), "")
        return f"<{type(self).__name__}: {first}>"


def progress_bar() -> Any:
    """A rich progress display on stderr (transient, on a terminal), for long work started from
    the CLI.

    Library calls take ``progress=`` such an object (``add_task``/``advance``/``update``);
    ``None`` means :func:`no_progress`."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        # a log or a pipe gets no bar: a non-terminal shows only a blank line where it stood
        disable=not console.is_terminal,
    )


class _NoProgress:
    """The progress interface, silent (library calls without a display)."""

    def add_task(self, *_a: Any, **_k: Any) -> int:
        return 0

    def advance(self, *_a: Any, **_k: Any) -> None:
        return None

    def update(self, *_a: Any, **_k: Any) -> None:
        return None

    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *_exc: Any) -> None:
        return None


def no_progress() -> Any:
    return _NoProgress()


def seed_all(seed: int) -> None:
    """Seed Python's and numpy's global generators (library calls take ``seed=``; torch work
    uses explicit generators seeded from it)."""
    import random

    import numpy as np

    from spinspice.errors import check_setting

    check_setting("seed", seed, low=0, integer=True)
    random.seed(seed)
    np.random.seed(seed % (2**32))


@contextlib.contextmanager
def displayed(progress: Any) -> Iterator[Any]:
    """``progress`` for the long work of a study, shown while the block runs.

    None gives :func:`~spinspice.io.no_progress`.  A rich ``Progress`` that is
    not started yet (``spinspice`` passes a fresh one) is started here and
    stopped after the block, so a study that rejects its settings shows nothing;
    one already started, or any other object with ``add_task``/``advance``/
    ``update``, is used as it is.
    """
    if progress is None:
        yield no_progress()
        return
    live = getattr(progress, "live", None)
    if live is None or live.is_started:
        yield progress
        return
    with progress:
        yield progress
