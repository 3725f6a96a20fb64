"""Two runs in one folder, interrupted runs and a full disk (issue 19; docs/reliability.md).

A run holds its output folder (``run_lock``: ``flock``, so a killed holder blocks nobody), an
interrupted run leaves no staging folder a later one trips over, and a write that finds the
disk full keeps nothing partial and fails in one line that says ``--resume`` completes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from spinspice.cli import main
from spinspice.errors import OutputInUseError
from spinspice.io import LOCK_NAME, _host_tag, atomic_write_bytes, run_lock, staged_output

#: a small cosim, in-process ngspice (the batch backend's raw files would meet the file size limit)
COSIM = ["--workers", "1", "--trace", "none", "--backend", "shared"]

HOLD = """
import sys, time
from spinspice.io import run_lock
with run_lock(sys.argv[1], file=sys.argv[2] == "file"):
    print("held", flush=True)
    time.sleep(600)
"""

CLI = "import sys\nfrom spinspice.cli import main\nsys.exit(main(sys.argv[1:]))\n"


@contextlib.contextmanager
def holder(path: Path, *, file: bool = False) -> Iterator[subprocess.Popen]:
    """Another process holding ``path``'s run lock until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), "file" if file else "folder"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spinspice: error: "), err
    return lines[0]


# -- two runs, one folder ------------------------------------------------------------------
def test_run_lock_refuses_a_second_holder_and_leaves_nothing_behind(tmp_path) -> None:
    out = tmp_path / "r"
    with run_lock(out) as lock:
        assert lock == out / LOCK_NAME and lock.read_text() == f"{os.getpid()}\n"
        with pytest.raises(OutputInUseError, match=rf"in use by another spinspice run \(pid {os.getpid()}\)"):
            with run_lock(out):
                pass
    assert not out.exists()  # made for the lock, empty again: removed
    with run_lock(tmp_path / "m.pt", file=True) as lock:
        assert lock == tmp_path / ".m.pt.lock"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.ngspice
def test_a_cosim_into_a_folder_in_use_is_refused_until_its_holder_dies(
    digits_checkpoint, tmp_path, capsys
) -> None:
    out = tmp_path / "r"
    args = ["cosim", str(digits_checkpoint), "--samples", "2", *COSIM, "--out", str(out)]
    with holder(out) as proc:
        before = snapshot(tmp_path)
        assert main(args) == 1
        line = one_error_line(capsys.readouterr().err)
        assert f"{out} is in use by another spinspice run (pid {proc.pid})" in line and "--out" in line
        assert snapshot(tmp_path) == before  # nothing written, not even a staging folder
        proc.kill()  # SIGKILL: no cleanup ran, but the kernel dropped the flock
        proc.wait()
        assert (out / LOCK_NAME).read_text() == f"{proc.pid}\n"
        assert main(args) == 0
    assert (out / "report.json").is_file() and not (out / LOCK_NAME).exists()
    assert not list(tmp_path.glob(".r.staging-*"))


def test_sweep_and_train_are_refused_before_any_work(
    digits_checkpoint, tmp_path, capsys, monkeypatch
) -> None:
    def no_work(*_a, **_k):
        raise AssertionError("a refused run did work")

    monkeypatch.setattr("spinspice.cosim.grid.run_point", no_work)
    monkeypatch.setattr("spinspice.snn.train.train", no_work)
    sweep_out, ckpt = tmp_path / "s", tmp_path / "t" / "m.pt"
    sweep = ["sweep", str(digits_checkpoint), "--set", "t_off_s=1n,2n", "--samples", "1", "--workers", "1"]
    train = ["train", "--dataset", "digits", "--arch", "fc:64-12-10", "--steps", "4", "--epochs", "1"]
    train += ["--max-train", "32", "--no-baseline", "--no-compile", "--out", str(ckpt)]
    with holder(sweep_out) as s, holder(ckpt, file=True) as t:
        before = snapshot(tmp_path)
        assert main([*sweep, "--out", str(sweep_out)]) == 1
        assert f"{sweep_out} is in use by another spinspice run (pid {s.pid})" in one_error_line(
            capsys.readouterr().err
        )
        assert main(train) == 1
        assert f"{ckpt} is in use by another spinspice run (pid {t.pid})" in one_error_line(
            capsys.readouterr().err
        )
        assert snapshot(tmp_path) == before


# -- interrupted runs ----------------------------------------------------------------------
def test_staging_folders_of_dead_runs_are_removed_and_live_ones_kept(tmp_path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # reaped: its pid names no process
    host = _host_tag()
    stale = tmp_path / f".res.staging-{host}-{gone.pid}-abcd1234"
    live = tmp_path / f".res.staging-{host}-{os.getpid()}-abcd1234"
    elsewhere = tmp_path / f".res.staging-{'0' * 8 if host != '0' * 8 else '1' * 8}-{gone.pid}-abcd1234"
    unowned = tmp_path / ".res.staging-k2j3h4g5"  # an older spinspice's: owner unknown
    other = tmp_path / f".other.staging-{host}-{gone.pid}-abcd1234"
    for folder in (stale, live, elsewhere, unowned, other):
        folder.mkdir()
        (folder / "report.json").write_text("{")
    with staged_output(tmp_path / "res") as stage:
        assert stage.name.startswith(f".res.staging-{host}-{os.getpid()}-")
        (stage / "a.txt").write_text("a")
    assert not stale.exists()
    assert all(f.is_dir() for f in (live, elsewhere, unowned, other))
    assert (tmp_path / "res" / "a.txt").read_text() == "a" and not stage.exists()


SLOW_COSIM = """
import sys, time
import spinspice.cosim.runs as runs

def slow(*_a, **_k):
    print("running", flush=True)
    time.sleep(600)

runs.run_cosim = slow
from spinspice.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.ngspice  # the cosim checks the simulator before it starts
def test_sigterm_ends_a_run_through_its_cleanup(digits_checkpoint, tmp_path) -> None:
    out = tmp_path / "r"
    args = ["cosim", str(digits_checkpoint), "--samples", "2", *COSIM, "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_COSIM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "running"
        assert (out / LOCK_NAME).is_file() and len(list(tmp_path.glob(".r.staging-*"))) == 1
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err, err
    assert not list(tmp_path.glob(".r.staging-*")) and not (out / LOCK_NAME).exists()
    assert (out / "jobs" / "run.json").is_file()  # the journal stays: --resume continues


# -- a full disk ---------------------------------------------------------------------------
#: measured (digits 64-12-10, 8 steps, 3 images, --trace none): journal entries 7-8.3 kB, its
#: stamp 1.2 kB, report.md 3.7 kB, report.json 15 kB, figures 23-39 kB; the first figure fails
FILE_LIMIT_BYTES = 12_000


def _file_limit() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT_BYTES, FILE_LIMIT_BYTES))


def test_an_atomic_write_that_finds_the_disk_full_keeps_the_old_file(tmp_path) -> None:
    code = (
        "import sys\nfrom spinspice.io import atomic_write_bytes\n"
        "from spinspice.errors import DiskFullError\n"
        "try:\n    atomic_write_bytes(sys.argv[1], bytes(100_000))\n"
        "except DiskFullError as err:\n    print(err)\n"
    )
    path = tmp_path / "a.bin"
    atomic_write_bytes(path, b"old")
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], preexec_fn=_file_limit, capture_output=True, text=True
    )
    assert proc.stdout.startswith(f"cannot write {path}: file too large"), proc.stdout + proc.stderr
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def _same_figures(report: dict) -> dict:
    """A cosim report without what depends on the machine's speed or the call (timings, resumes)."""
    return {k: v for k, v in report.items() if k not in ("wall_s", "runtime")}


@pytest.mark.ngspice
def test_a_full_disk_keeps_nothing_partial_and_resume_completes_the_run(
    digits_checkpoint, tmp_path, capsys
) -> None:
    out = tmp_path / "r"
    args = ["cosim", str(digits_checkpoint), "--samples", "3", *COSIM, "--json"]
    proc = subprocess.run(
        [sys.executable, "-c", CLI, *args, "--out", str(out)],
        preexec_fn=_file_limit,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    line = one_error_line(proc.stderr)
    assert f"cannot write {out}/" in line and "file too large" in line and "--resume" in line
    # nothing partial: no temporary file, no staging folder, no lock; what is there parses
    assert not list(tmp_path.rglob("*.tmp")) and not list(tmp_path.glob(".r.staging-*"))
    assert not (out / LOCK_NAME).exists() and not (out / "report.json").exists()
    for path in out.rglob("*.json"):
        json.loads(path.read_text())
    jobs = sorted(p.name for p in (out / "jobs" / "all").iterdir())
    assert jobs == ["sample-0.json", "sample-1.json", "sample-2.json"]  # every image journalled
    # the limit lifted, --resume writes the report an undisturbed run writes
    assert main([*args, "--out", str(out), "--resume"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert main([*args, "--out", str(tmp_path / "clean")]) == 0
    clean = json.loads(capsys.readouterr().out)
    assert _same_figures(resumed) == _same_figures(clean)
    assert json.loads((out / "report.json").read_text())["samples"] == clean["samples"]
