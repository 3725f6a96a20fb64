"""Atomic file output: a result is either complete on disk or absent.

Writers build the content in a temporary file in the destination folder and
``os.replace`` it into place, so a crash (or Ctrl-C) never leaves a half
written report.  :func:`staged_output` does the same for a whole folder of
results.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "Result",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "displayed",
    "no_progress",
    "progress_bar",
    "report_header",
    "seed_all",
    "staged_output",
    "to_jsonable",
]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + rename)."""
    path = Path(path)
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


@contextlib.contextmanager
def staged_output(out_dir: str | Path) -> Iterator[Path]:
    """Stage a folder of results and publish it only if the block succeeds.

    Yields a temporary folder next to ``out_dir``.  On success every file in it
    is moved into ``out_dir`` (created if needed) with ``os.replace``; files
    already in ``out_dir`` that the block did not produce are kept.  On any
    exception the staging folder is deleted and ``out_dir`` is not touched.
    """
    out_dir = Path(out_dir)
    parent = out_dir.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=parent))
    try:
        yield stage
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
    """A rich progress display on stderr (transient), for long work started from the CLI.

    Library calls take ``progress=`` such an object (``add_task``/``advance``/``update``);
    ``None`` means :func:`no_progress`."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
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
