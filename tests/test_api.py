"""The library under the CLI: package layout, one Journal for every resumable run, the
co-simulation API called from Python."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import spinspice
from spinspice import cosim
from spinspice.errors import ModelParameterError
from spinspice.sim.jobs import Journal

ROOT = Path(spinspice.__file__).parent


def test_sim_does_not_import_torch() -> None:
    code = "import spinspice.sim, sys; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)


def test_the_cli_is_thin() -> None:
    files = [ROOT / "cli.py", *sorted((ROOT / "cli").glob("*.py"))]
    lines = sum(len(p.read_text().splitlines()) for p in files if p.is_file())
    assert lines < 700, f"the CLI has {lines} lines: move the work into the library"


def test_cosim_does_not_import_experiments() -> None:
    bad = []
    for path in sorted((ROOT / "cosim").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            bad += [f"{path.name}: {n}" for n in names if n.startswith("spinspice.experiments")]
    assert not bad


def test_demo_defaults_agree_with_the_cli() -> None:
    from spinspice.cli import app
    from spinspice.demo import DEMO_ARCH, DEMO_EPOCHS

    (cmd,) = [c for c in app.registered_commands if c.callback.__name__ == "demo"]
    import inspect

    params = inspect.signature(cmd.callback).parameters
    assert (params["arch"].default, params["epochs"].default) == (DEMO_ARCH, DEMO_EPOCHS)


@pytest.mark.parametrize(
    "layout",
    [
        {"jobs": "jobs", "stamp": "jobs/run.json", "what": "run", "unit": "jobs"},  # cosim
        {"jobs": "points", "stamp": "sweep.json", "what": "sweep", "unit": "points"},  # sweep
    ],
    ids=["cosim", "sweep"],
)
def test_journal_rules(tmp_path, layout) -> None:
    """Both layouts follow one set of rules: a partial run resumes, a foreign run is refused,
    finished jobs are never overwritten by accident, --fresh discards them."""
    ident = {"checkpoint_sha256": "abc", "samples": [0, 1]}
    j = Journal(tmp_path, ident, **layout).open()
    j.put("all/sample-0", {"index": 0, "x": 1.5})
    resumed = Journal(tmp_path, ident, **layout, resume=True).open()
    assert resumed.get("all/sample-0") == {"index": 0, "x": 1.5}
    assert j.get("all/sample-1") is None  # the missing job runs again
    with pytest.raises(ModelParameterError, match="pass --resume to complete it"):
        Journal(tmp_path, ident, **layout).check()
    with pytest.raises(ModelParameterError, match=f"holds another {layout['what']}"):
        Journal(tmp_path, {**ident, "samples": [0, 2]}, **layout, resume=True).check()
    with pytest.raises(ModelParameterError, match="not both"):
        Journal(tmp_path, ident, **layout, resume=True, fresh=True).check()
    j.path("all/sample-1").write_text("{truncated")  # a torn file reads as not done
    assert j.get("all/sample-1") is None
    fresh = Journal(tmp_path, {**ident, "samples": [5]}, **layout, fresh=True).open()
    assert fresh.finished() == 0 and fresh.recorded_identity() == {**ident, "samples": [5]}


@pytest.mark.ngspice
def test_run_resumes_a_partial_run_and_refuses_a_foreign_one(digits_checkpoint, tmp_path) -> None:
    out = tmp_path / "c"
    first = cosim.run(digits_checkpoint, samples=2, workers=1, trace="none", out=out)
    assert first.resumed == {"all": []} and first.report()["n_samples"] == 2
    assert "report:" in first.summary() and (out / "report.md").is_file()
    (out / "jobs" / "all" / "sample-1.json").unlink()  # interrupted before image 1 was journalled
    again = cosim.run(digits_checkpoint, samples=2, workers=1, trace="none", out=out, resume=True)
    assert again.resumed == {"all": [0]}
    steps = [[lay["circuit_steps"] for lay in r["layers"]] for r in first.results]
    assert [[lay["circuit_steps"] for lay in r["layers"]] for r in again.results] == steps
    for key in ("spike_agreement", "energy_per_inference_j", "mean_latency_s", "circuit_accuracy"):
        assert again.report()[key] == first.report()[key]
    with pytest.raises(ModelParameterError, match="holds another run"):
        cosim.run(digits_checkpoint, samples=2, workers=1, trace="none", out=out, resume=True, seed=1)
    with pytest.raises(ModelParameterError, match="unknown co-simulation setting 'v_red_v'"):
        cosim.run(digits_checkpoint, samples=1, out=tmp_path / "x", v_red_v=0.1)
    # .write() puts the same report and figures into another folder
    copy = again.write(tmp_path / "copy")
    assert (copy / "report.json").is_file() and (copy / "raster.png").is_file()


@pytest.mark.ngspice
def test_sweep_api_resumes_through_the_same_journal(digits_checkpoint, tmp_path) -> None:
    out = tmp_path / "s"
    grid = {"variability": [0.0, 0.1]}
    first = cosim.sweep(digits_checkpoint, grid, samples=1, workers=1, out=out)
    assert first.report()["resumed_points"] == 0 and not first.failed
    assert first.table().splitlines()[0].startswith("variability,status,torch_accuracy")
    victim = next((out / "points").glob("*.json"))
    victim.unlink()
    again = cosim.sweep(digits_checkpoint, grid, samples=1, workers=1, out=out, resume=True)
    assert again.report()["resumed_points"] == 1
    assert again.report()["points"] == first.report()["points"]
    with pytest.raises(ModelParameterError, match="holds another sweep"):
        cosim.sweep(digits_checkpoint, {"variability": [0.2]}, samples=1, out=out, resume=True)
