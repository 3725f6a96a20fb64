"""spinspice sweep: grid, results table, trade-off plot, resume, clear errors."""

from __future__ import annotations

import json

import pytest

from spinspice.cli import main
from spinspice.cosim.grid import grid_points, point_key
from spinspice.errors import ModelParameterError


def test_grid_is_the_cartesian_product_in_order() -> None:
    pts = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert len(pts) == 6 and pts[0] == {"a": 1, "b": "x"} and pts[-1] == {"a": 2, "b": "z"}
    assert point_key({"a": 1, "b": "x"}) == point_key({"b": "x", "a": 1}) != point_key({"a": 2, "b": "x"})
    with pytest.raises(ModelParameterError, match="at least one"):
        grid_points({})


@pytest.mark.ngspice
def test_sweep_writes_the_table_and_resumes(digits_checkpoint, tmp_path, capsys) -> None:
    out = tmp_path / "sw"
    args = ["sweep", str(digits_checkpoint), "--set", "t_off_s=1n,2n", "--set", "variability=0,0.1"]
    args += ["--samples", "1", "--json", "--out", str(out)]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(first["points"]) == 4 and first["resumed_points"] == 0
    lines = (out / "results.csv").read_text().splitlines()
    assert lines[0].startswith("t_off_s,variability,status,torch_accuracy") and len(lines) == 5
    assert (out / "tradeoff.png").stat().st_size > 0
    assert "P4: t_off_s=2 ns, variability=0.1" in (out / "report.html").read_text()
    by_point = {(r["point"]["t_off_s"], r["point"]["variability"]): r for r in first["points"]}
    # longer OFF time: a longer step, later decisions (same network, same images)
    assert by_point[(2e-9, 0.0)]["mean_latency_s"] > by_point[(1e-9, 0.0)]["mean_latency_s"]
    assert by_point[(1e-9, 0.0)]["spike_agreement"] == 1.0  # the unchanged design agrees exactly
    # a job lost half way: remove one point's result, run again, only it is recomputed
    victim = out / "points" / f"{point_key({'t_off_s': 2e-9, 'variability': 0.1})}.json"
    victim.unlink()
    assert main(args) == 1  # finished points are never overwritten by accident
    assert "pass --resume to complete it" in capsys.readouterr().err
    assert main([*args, "--resume"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["resumed_points"] == 3
    assert again["points"] == first["points"]
    # another grid in the same folder is refused
    assert main([*args[:3], "t_off_s=3n", *args[4:], "--resume"]) == 1
    assert "holds another sweep" in capsys.readouterr().err


def test_bad_sweep_specs_are_refused(digits_checkpoint, tmp_path, capsys) -> None:
    base = ["sweep", str(digits_checkpoint), "--samples", "1", "--out"]
    assert main([*base, str(tmp_path / "a"), "--set", "t_off_s"]) == 1
    assert "write NAME=V1,V2" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "b"), "--set", "t_off_s=abc"]) == 1
    assert "t_off_s" in capsys.readouterr().err
    assert main([*base, str(tmp_path / "c"), "--set", "no_such_param=1"]) == 1
    assert "no_such_param" in capsys.readouterr().err
