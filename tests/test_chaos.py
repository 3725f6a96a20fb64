"""A long run under repeated faults (issue 19 item 2, reduced for CI): a co-simulation and a
sweep on 2 workers while ngspice processes and pool workers are SIGKILLed at random (seeded)
moments, then ``--resume`` until done. The final report is identical, figure for figure, to
an undisturbed run's; no result is lost. The full version: ``bench/chaos_run.py``."""

from __future__ import annotations

import json
import subprocess

import pytest
from chaos import cli, figures, run_under_chaos

pytestmark = pytest.mark.ngspice


def _undisturbed(args: list[str]) -> None:
    proc = cli(args)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err


def test_cosim_under_kills_resumes_to_the_undisturbed_report(digits_checkpoint, tmp_path) -> None:
    args = ["cosim", str(digits_checkpoint), "--samples", "8", "--workers", "2", "--trace", "none"]
    _undisturbed([*args, "--out", str(tmp_path / "calm")])
    chaos = run_under_chaos([*args, "--out", str(tmp_path / "chaos")], kills=4, seed=1, interval_s=0.6)
    assert len(chaos["kills"]) >= 3, chaos  # the run lasted long enough to be hit
    assert chaos["attempts"][-1]["exit"] == 0, chaos
    calm = json.loads((tmp_path / "calm" / "report.json").read_text())
    hit = json.loads((tmp_path / "chaos" / "report.json").read_text())
    assert hit["n_samples"] == 8 and hit["failed_samples"] == [] and hit["circuit_spikes_per_inference"] > 10
    assert figures(hit) == figures(calm)
    assert (tmp_path / "chaos" / "report.md").read_text().count("|") > 20


def test_sweep_under_kills_resumes_to_the_undisturbed_results(digits_checkpoint, tmp_path) -> None:
    args = [
        "sweep",
        str(digits_checkpoint),
        "--set",
        "variability=0,0.05",
        "--samples",
        "3",
        "--workers",
        "2",
    ]
    _undisturbed([*args, "--out", str(tmp_path / "calm")])
    chaos = run_under_chaos([*args, "--out", str(tmp_path / "chaos")], kills=3, seed=2, interval_s=0.6)
    assert len(chaos["kills"]) >= 2, chaos
    assert chaos["attempts"][-1]["exit"] == 0, chaos
    calm = json.loads((tmp_path / "calm" / "results.json").read_text())
    hit = json.loads((tmp_path / "chaos" / "results.json").read_text())
    assert len(hit["points"]) == 2 and hit["failed_points"] == []
    assert all(p["status"] == "done" and p["circuit_spikes_per_inference"] > 10 for p in hit["points"]), hit
    assert figures(hit) == figures(calm)


def test_the_driver_finds_ngspice_and_workers_only(tmp_path) -> None:
    from chaos import victims

    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        found = victims(sleeper.pid)
        assert found == {"ngspice": [], "worker": []}
    finally:
        sleeper.kill()
