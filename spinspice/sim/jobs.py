"""Where simulation jobs run, and the journal that lets a long run resume.

- :func:`executor`: a ``map``-like function that runs pure jobs in this process, in a pool
  of spawned processes that survives the death of a worker (:class:`RecoveringPool`), or on
  a ``dask.distributed`` cluster.  Results come back in task order whatever ran them.
- :class:`Journal`: the folder of a resumable run.  A stamp file names the run it belongs
  to (its identity: what was asked, not where or how long it ran); every finished job is one
  JSON file written atomically.  ``cosim`` journals images (``OUT/jobs/run.json`` +
  ``OUT/jobs/<schedule>/sample-<i>.json``) and ``sweep`` journals grid points
  (``OUT/sweep.json`` + ``OUT/points/<key>.json``) through this one class and one set of
  rules: a journal with finished jobs is continued only with ``resume`` (and only for the
  same run) or discarded with ``fresh``; anything else is refused before work starts.
  ``with journal:`` holds the folder for the run (:func:`~spinspice.io.run_lock`), so a
  second run into it is refused at once instead of mixing its jobs in.

Knows nothing of networks or torch: a job is any picklable function and argument.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from spinspice.errors import ModelParameterError, WorkerCrashError
from spinspice.io import atomic_write_json, atomic_write_text, report_header, run_lock, to_jsonable

__all__ = ["Journal", "Mapper", "RecoveringPool", "executor"]

#: a ``map``-like function: ``mapper(fn, tasks) -> results in task order``
Mapper = Callable[[Callable[[Any], Any], Sequence[Any]], Any]


@contextlib.contextmanager
def executor(
    workers: int = 1, scheduler: str | None = None, *, initializer: Callable[[], None] | None = None
) -> Iterator[Mapper]:
    """Where the jobs go: this process (``workers = 1``), a pool of ``workers`` spawned
    processes (each started with ``initializer``), or the ``dask.distributed`` cluster at
    ``scheduler`` (an address such as ``tcp://host:8786``; its workers need spinspice and
    ngspice installed).  Yields a ``map``-like function; results come back in task order."""
    if workers < 1:
        raise ModelParameterError("workers must be >= 1")
    if scheduler:
        try:
            from distributed import Client
        except ImportError as err:  # pragma: no cover - a dependency
            raise ModelParameterError(
                f"--scheduler needs dask.distributed ({err}): run `make install`"
            ) from err
        try:
            client = Client(scheduler, timeout=10)
        except (OSError, TimeoutError) as err:
            raise ModelParameterError(
                f"cannot reach the Dask scheduler at {scheduler!r} ({err}): start it with "
                "`dask scheduler` and workers with `dask worker ADDRESS`"
            ) from None
        try:
            yield lambda fn, tasks: client.gather(client.map(fn, list(tasks), pure=False))
        finally:
            client.close()
        return
    if workers == 1:
        yield map
        return
    pool = RecoveringPool(workers, initializer=initializer)
    try:
        yield pool.map
    finally:
        pool.shutdown()


class RecoveringPool:
    """A spawned process pool that survives the death of a worker.

    When a worker process dies (killed, out of memory, a crash in native code) the
    ``concurrent.futures`` pool is broken for good; the jobs of that map call fail with
    :class:`WorkerCrashError` (the caller records them as failed) and the next map call
    gets a fresh pool, so the rest of a campaign continues."""

    def __init__(self, workers: int, *, initializer: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self.initializer = initializer
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> Any:
        import concurrent.futures as cf
        import multiprocessing as mp

        pool = cf.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=mp.get_context("spawn"), initializer=self.initializer
        )
        # the pool spawns its workers on demand: ask for all of them now, so that they start
        # (a second or more each: Python, torch) while the caller does its own work
        for _ in range(self.workers):
            pool.submit(int)
        return pool

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> list[Any]:
        from concurrent.futures.process import BrokenProcessPool

        pool = self._pool
        try:
            return list(pool.map(fn, tasks, chunksize=max(1, len(tasks) // (8 * self.workers))))
        except BrokenProcessPool as err:
            with self._lock:
                if self._pool is pool:  # the first to notice replaces it
                    pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = self._start()
            raise WorkerCrashError(
                f"a worker process died while running {len(tasks)} ngspice jobs ({err}); "
                "they are recorded as failed: run again with --resume to complete them"
            ) from None

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class Journal:
    """The journal of a resumable run under ``out``.

    ``stamp`` (a path relative to ``out``) holds the run's ``identity``; finished jobs are
    ``out/<jobs>/<key>.json``.  ``what`` names the run in messages ("run", "sweep") and
    ``unit`` its jobs ("jobs", "points").  :meth:`check` validates the folder without
    touching it; :meth:`open` then discards it (``fresh``) and writes the stamp.  A run uses
    it as a context manager, ``with journal:``: that takes ``out``'s run lock, then opens it,
    and releases the lock when the run ends (or fails), so two runs never share the folder.
    """

    def __init__(
        self,
        out: str | Path,
        identity: Mapping[str, Any],
        *,
        jobs: str = "jobs",
        stamp: str = "jobs/run.json",
        what: str = "run",
        unit: str = "jobs",
        resume: bool = False,
        fresh: bool = False,
    ) -> None:
        self.out = Path(out)
        self.folder = self.out / jobs
        self.stamp = self.out / stamp
        self.identity = json.loads(json.dumps(to_jsonable(dict(identity))))  # as read back
        self.what, self.unit = what, unit
        self.resume, self.fresh = resume, fresh
        self._held: contextlib.ExitStack | None = None

    # -- the rules -------------------------------------------------------------------------
    def finished(self) -> int:
        """How many job files the journal holds."""
        if not self.folder.is_dir():
            return 0
        return sum(1 for p in self.folder.rglob("*.json") if p != self.stamp)

    def recorded_identity(self) -> Any:
        """The identity in the stamp file (None: no stamp, or an unreadable one)."""
        try:
            data = json.loads(self.stamp.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return data.get("run") if isinstance(data, dict) else None

    def check(self) -> None:
        """Refuse what the options do not allow; writes nothing."""
        if self.resume and self.fresh:
            raise ModelParameterError("give --resume or --fresh, not both")
        if self.fresh:
            return
        done = self.finished()
        if not done:
            return
        if self.recorded_identity() != self.identity:
            raise ModelParameterError(
                f"{self.out} holds another {self.what} (other checkpoint, data, images or settings): "
                "--resume needs the same command; pass --fresh to start over or choose another --out"
            )
        if not self.resume:
            raise ModelParameterError(
                f"{self.out} holds {done} finished {self.unit} of an earlier {self.what}: pass --resume "
                "to complete it, --fresh to start over, or choose another --out"
            )

    def open(self) -> Journal:
        """Check, discard a journal with ``fresh``, and write the stamp."""
        self.check()
        if self.fresh:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.stamp.unlink(missing_ok=True)
        atomic_write_json(self.stamp, {**report_header("spinspice.job_journal"), "run": self.identity})
        return self

    def __enter__(self) -> Journal:
        """Hold ``out`` for this run (a second run there is refused at once: before it reads
        the journal, so it is told the folder is in use, not that it holds finished jobs), then
        :meth:`open`; a refused :meth:`open` releases it again."""
        with contextlib.ExitStack() as stack:
            stack.enter_context(run_lock(self.out))
            self.open()
            self._held = stack.pop_all()
        return self

    def __exit__(self, *_exc: object) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.close()

    # -- jobs ------------------------------------------------------------------------------
    def path(self, key: str, suffix: str = ".json") -> Path:
        return self.folder / f"{key}{suffix}"

    def get(self, key: str, accept: Callable[[Any], bool] = lambda _r: True) -> dict[str, Any] | None:
        """A finished job's result, or None (not run, unreadable, or refused by ``accept``)."""
        try:
            result = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return result if isinstance(result, dict) and accept(result) else None

    def put(self, key: str, result: Mapping[str, Any]) -> Path:
        """Record a finished job (atomically)."""
        return atomic_write_json(self.path(key), result)

    def keep(self, key: str, text: str, suffix: str) -> Path:
        """Keep a text file beside the jobs (e.g. a failed job's netlist)."""
        return atomic_write_text(self.path(key, suffix), text)
