"""Bad inputs as a new user would feed them: one-line cause, non-zero exit, nothing in --out.

Each case runs the CLI in-process (``spinspice.cli.main``) with an ``--out``
that does not exist yet, then checks the exit status, that stderr is exactly
one ``spinspice: error: ...`` line without a traceback, and that ``--out`` was
not created (or holds no file).  Forged checkpoints carry a valid digest, so
what refuses them is the validation, not the tamper check.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
import torch

from spinspice.cli import main
from spinspice.snn.checkpoint import payload_digest as _digest


def _forge(src: Path, dst: Path, *, config=None, state=None, payload=None) -> Path:
    """A copy of checkpoint ``src`` changed by the given callables, digest recomputed."""
    data = torch.load(src, weights_only=True)
    meta = json.loads(data["config"])
    if config is not None:
        config(meta)
    if state is not None:
        state(data["state_dict"])
    data["config"] = json.dumps(meta, sort_keys=True)
    data["sha256"] = _digest(data["config"], data["state_dict"])
    if payload is not None:
        payload(data)
    buf = io.BytesIO()
    torch.save(data, buf)
    dst.write_bytes(buf.getvalue())
    return dst


class _Payload:
    """Unpickling this runs ``touch MARKER`` (what a malicious checkpoint would do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _nan_weight(state: dict) -> None:
    state["synapses.0.weight"][0, 0] = float("nan")


def _hostile_layer(meta: dict, marker: Path) -> None:
    meta["network"]["layers"][0]["name"] = f"hidden\n.control\nshell touch {marker}\n.endc"


@pytest.fixture(scope="module")
def netlist_dir(digits_checkpoint, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nl") / "nl"
    assert main(["netlist", str(digits_checkpoint), "--out", str(out)]) == 0
    return out


def _truncated_raw(path: Path) -> Path:
    head = (
        "Title: * spinspice network layer 0\nDate: today\nPlotname: Transient Analysis\nFlags: real\n"
        "No. Variables: 2\nNo. Points: 100\nVariables:\n\t0\ttime\ttime\n\t1\tv(spk0)\tvoltage\nBinary:\n"
    )
    path.write_bytes(head.encode() + b"\x00" * 100)  # 100 points announced, 6 present
    return path


CASES = [
    "truncated-raw",
    "empty-csv",
    "idx-bad-magic",
    "nan-weight",
    "pickle-payload",
    "hostile-layer-name",
    "param-not-a-number",
    "param-out-of-range",
]


def _args(case: str, tmp: Path, ck: Path, netlists: Path, marker: Path) -> list[str]:
    out = str(tmp / "out")
    if case == "truncated-raw":
        return ["verify-raw", str(netlists), str(_truncated_raw(tmp / "run.raw")), "--out", out]
    if case == "empty-csv":
        (tmp / "trace.csv").write_text("")
        return ["calibrate", "dw-lif", str(tmp / "trace.csv"), "--out", out]
    if case == "idx-bad-magic":
        idx = tmp / "idx"
        idx.mkdir()
        for stem in ("train-images-idx3", "train-labels-idx1", "t10k-images-idx3", "t10k-labels-idx1"):
            (idx / f"{stem}-ubyte").write_bytes(b"\x12\x34\x08\x03" + b"\x00" * 12)
        return ["train", "--dataset", f"mnist:{idx}", "--epochs", "1", "--out", f"{out}/m.pt"]
    if case == "nan-weight":
        bad = _forge(ck, tmp / "nan.pt", state=_nan_weight)
        return ["cosim", str(bad), "--samples", "1", "--out", out]
    if case == "pickle-payload":
        evil = _forge(ck, tmp / "evil.pt", payload=lambda d: d.update(extra=_Payload(marker)))
        return ["netlist", str(evil), "--out", out]
    if case == "hostile-layer-name":
        evil = _forge(ck, tmp / "name.pt", config=lambda m: _hostile_layer(m, marker))
        return ["netlist", str(evil), "--out", out]
    if case == "param-not-a-number":
        return ["neuron", "--param", "alpha=abc", "--out", out]
    if case == "param-out-of-range":
        return ["neuron", "--param", "t_on=-1n", "--out", out]
    raise AssertionError(case)


EXPECT = {
    "truncated-raw": "truncated",
    "empty-csv": "no header",
    "idx-bad-magic": "not an IDX file",
    "nan-weight": "NaN",
    "pickle-payload": "not a readable spinspice checkpoint",
    "hostile-layer-name": "control character",
    "param-not-a-number": "cannot read 'abc' as a number",
    "param-out-of-range": "outside its allowed range",
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_in_one_line_and_writes_nothing(
    case, digits_checkpoint, netlist_dir, tmp_path, capsys
) -> None:
    marker = tmp_path / "pwned"
    code = main(_args(case, tmp_path, digits_checkpoint, netlist_dir, marker))
    out, err = capsys.readouterr()
    assert code == 1, (out, err)
    assert err.startswith("spinspice: error:") and err.count("\n") == 1, err
    assert "Traceback" not in err and EXPECT[case] in err, err
    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()] if (tmp_path / "out").exists() else []
    assert written == [], written
    assert not marker.exists()  # no payload ran, no shell command reached a simulator


def test_the_pickle_payload_would_run_if_unpickled(tmp_path) -> None:
    # the payload of the test above is real: plain torch.load without weights_only runs it
    marker = tmp_path / "ran"
    buf = io.BytesIO()
    torch.save({"extra": _Payload(marker)}, buf)
    buf.seek(0)
    torch.load(buf, weights_only=False)
    assert marker.exists()


# -- crashes and resume ------------------------------------------------------------
def _crashing_ngspice(tmp: Path) -> tuple[Path, Path, Path]:
    """An ngspice wrapper that crashes (SIGSEGV) on every run of image 0 (a netlist, or a batch
    of them, titled "cosim sample 0 ...") while ``crash`` exists; logs each process."""
    import shutil

    crash, log, exe = tmp / "crash", tmp / "runs.log", tmp / "ngspice-wrapper"
    exe.write_text(
        "#!/bin/sh\n"
        f'[ "$1" = -v ] || echo run >> "{log}"\n'  # not the version probes
        "for last; do :; done\n"
        f'if [ -e "{crash}" ] && grep -qs "^\\* cosim sample 0 " "$last" "$(dirname "$last")"/*.cir; then\n'
        "  kill -SEGV $$\n"
        "fi\n"
        f'exec "{shutil.which("ngspice")}" "$@"\n'
    )
    exe.chmod(0o755)
    return exe, crash, log


@pytest.mark.ngspice
def test_an_ngspice_crash_fails_one_image_and_resume_runs_only_it(
    digits_checkpoint, tmp_path, capsys, monkeypatch
) -> None:
    exe, crash, log = _crashing_ngspice(tmp_path)
    monkeypatch.setenv("SPINSPICE_NGSPICE", str(exe))
    base = ["cosim", str(digits_checkpoint), "--samples", "2", "--workers", "1", "--json", "--trace", "none"]
    assert main([*base, "--out", str(tmp_path / "clean")]) == 0
    clean = json.loads(capsys.readouterr().out)
    runs_per_image = len(log.read_text().splitlines()) // 2
    log.unlink()
    crash.touch()  # every ngspice run of image 0 segfaults (in a batch, and alone again)
    out = str(tmp_path / "crashed")
    assert main([*base, "--out", out]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert [f["index"] for f in report["failed_samples"]] == [0]
    failed = report["failed_samples"][0]
    assert "exit status -11" in failed["error"]  # SIGSEGV
    assert Path(failed["netlist"]).is_file() and Path(failed["netlist"]).is_relative_to(out)
    assert report["n_samples"] == 1  # image 1 went on and is in the report
    last = captured.err.strip().splitlines()[-1]  # (above it: the progress bar)
    assert last.startswith("spinspice: error: 1 of 2 images failed") and "--resume" in last
    # without --resume the journal is protected; with it only image 0 runs again
    assert main([*base, "--out", out]) == 1
    assert "pass --resume" in capsys.readouterr().err
    crash.unlink()
    log.unlink()
    assert main([*base, "--out", out, "--resume"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert len(log.read_text().splitlines()) == runs_per_image
    assert resumed["failed_samples"] == []
    keys = ("n_samples", "spike_agreement", "class_agreement", "energy_per_inference_j", "mean_latency_s")
    assert {k: resumed[k] for k in keys} == {k: clean[k] for k in keys}


def _worker_killing_ngspice(tmp: Path, kill_at: int) -> tuple[Path, Path]:
    """An ngspice wrapper whose ``kill_at``-th run kills its parent (the worker process
    running the job) with SIGKILL, as the out-of-memory killer would; logs each run."""
    import shutil

    log, exe, once = tmp / "runs.log", tmp / "ngspice-worker-killer", tmp / f"killed-at-{kill_at}"
    # two workers run ngspice at once, so the count may step past kill_at between the append
    # and the test: the first run at or after it kills, claimed by an atomic mkdir
    exe.write_text(
        "#!/bin/sh\n"
        f'echo run >> "{log}"\n'
        f'if [ "$(wc -l < "{log}")" -ge {kill_at} ] && mkdir "{once}" 2>/dev/null; then\n'
        "  kill -KILL $PPID; sleep 5; exit 1\n"
        "fi\n"
        f'exec "{shutil.which("ngspice")}" "$@"\n'
    )
    exe.chmod(0o755)
    return exe, log


@pytest.mark.ngspice
def test_killing_a_worker_mid_sweep_loses_nothing_after_resume(
    digits_checkpoint, tmp_path, capsys, monkeypatch
) -> None:
    grid = ["--set", "t_off_s=1n,1.5n,2n", "--samples", "1", "--workers", "2", "--json"]
    exe, log = _worker_killing_ngspice(tmp_path, kill_at=10**9)
    monkeypatch.setenv("SPINSPICE_NGSPICE", str(exe))
    assert main(["sweep", str(digits_checkpoint), *grid, "--out", str(tmp_path / "clean")]) == 0
    clean = json.loads(capsys.readouterr().out)
    runs_per_point = len(log.read_text().splitlines()) // 3
    log.unlink()
    # the same sweep; a worker process dies in the middle of the second point
    exe, log = _worker_killing_ngspice(tmp_path, kill_at=runs_per_point + 3)
    monkeypatch.setenv("SPINSPICE_NGSPICE", str(exe))
    out = tmp_path / "killed"
    assert main(["sweep", str(digits_checkpoint), *grid, "--out", str(out)]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    lost = [f["point"] for f in report["failed_points"]]
    assert len(lost) == 1 and lost[0]["t_off_s"] == pytest.approx(1.5e-9)  # the point that was running
    assert "worker process died" in report["failed_points"][0]["error"]
    assert [r["status"] for r in report["points"]] == ["done", "failed", "done"]  # the rest went on
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("spinspice: error: 1 of 3 points failed") and "--resume" in last
    # resume: only the failed point runs again, and the table equals the uninterrupted one
    log.unlink()
    assert main(["sweep", str(digits_checkpoint), *grid, "--out", str(out), "--resume"]) == 0
    resumed = json.loads(capsys.readouterr().out)
    assert resumed["resumed_points"] == 2 and resumed["failed_points"] == []
    assert len(log.read_text().splitlines()) == runs_per_point
    assert resumed["points"] == clean["points"]  # 0 results lost
    assert (out / "results.csv").read_text() == (tmp_path / "clean" / "results.csv").read_text()


def _stubborn_ngspice(tmp: Path, *, give_in_to: str | None) -> Path:
    """An ngspice wrapper under which image 0's runs end with 'timestep too small', as
    ngspice 39 reports it, unless the netlist contains ``give_in_to`` (an escalation's option)."""
    import shutil

    exe = tmp / f"ngspice-stubborn-{give_in_to or 'never'}"
    unless = f'grep -q "{give_in_to}" "$cir" && exec "{shutil.which("ngspice")}" "$@"\n' if give_in_to else ""
    exe.write_text(
        "#!/bin/sh\n"
        "for cir; do :; done\n"  # the last argument: the netlist (or a batch driver beside its netlists)
        f'if grep -qs "cosim sample 0 " "$cir" "$(dirname "$cir")"/*.cir; then\n{unless}'
        '  echo "doAnalyses: TRAN:  Timestep too small; time = 1.2e-08, timestep = 1.25e-22: '
        'trouble with node \\"xn0.xdev.m\\""\n'
        '  echo "tran simulation(s) aborted"\n'
        "  exit 1\n"
        "fi\n"
        f'exec "{shutil.which("ngspice")}" "$@"\n'
    )
    exe.chmod(0o755)
    return exe


@pytest.mark.ngspice
def test_non_convergence_is_recorded_in_the_error_and_the_report(
    digits_checkpoint, tmp_path, capsys, monkeypatch
) -> None:
    base = ["cosim", str(digits_checkpoint), "--samples", "2", "--workers", "1", "--json", "--trace", "none"]
    # never converges: every rung of the escalation is tried, then image 0 is a failed job
    monkeypatch.setenv("SPINSPICE_NGSPICE", str(_stubborn_ngspice(tmp_path, give_in_to=None)))
    out = tmp_path / "never"
    assert main([*base, "--out", str(out)]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    (failed,) = report["failed_samples"]
    assert failed["index"] == 0 and "did not converge (timestep too small)" in failed["error"]
    assert failed["attempts"][0] == "as written" and failed["attempts"][-1] == "relaxed tolerances"
    assert len(failed["attempts"]) >= 3 and Path(failed["netlist"]).is_file()
    last = captured.err.strip().splitlines()[-1]
    assert "tried: as written" in last and "relaxed tolerances" in last
    md = (out / "report.md").read_text()
    assert "## Failed images (1 of 2" in md and "tried: as written" in md
    # converges once the tolerances are relaxed: the run is kept and the escalation reported
    monkeypatch.setenv("SPINSPICE_NGSPICE", str(_stubborn_ngspice(tmp_path, give_in_to="vntol")))
    out = tmp_path / "late"
    assert main([*base, "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["failed_samples"] == [] and report["n_samples"] == 2
    retried = report["runtime"]["retried_runs"]
    assert retried and {r["sample"] for r in retried} == {0}
    assert all(
        r["attempts"][0] == "as written" and r["attempts"][-1] == "relaxed tolerances" for r in retried
    )
    assert "Runs that needed the convergence escalation" in (out / "report.md").read_text()
