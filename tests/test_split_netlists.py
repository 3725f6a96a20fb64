"""Split netlists (``spinspice netlist --split G``): each layer as neuron groups, one standalone
netlist each, run by ``run.sh`` in plain ngspice and checked folder-wise by ``verify-raw``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import digits_config

from spinspice.circuits.network import CrossbarOptions
from spinspice.cli import main
from spinspice.cosim.build import neuron_groups
from spinspice.cosim.netlists import write_netlists
from spinspice.snn.arch import SpikingNet
from spinspice.snn.checkpoint import save_checkpoint
from spinspice.snn.neurons import neuron_spec


def _cli(capsys, *args: str) -> tuple[int, dict | None, str]:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out.strip() else None), captured.err


def _check_groups(man: dict, folder) -> None:
    """Every neuron of every layer in exactly one group netlist, with its own spike slots only."""
    assert man["layers"] and all("group" in e for e in man["layers"])
    titles = [(folder / e["file"]).read_text().splitlines()[0] for e in man["layers"]]
    assert len(set(titles)) == len(titles)  # verify-raw finds a raw file's netlist by its title
    for k in sorted({e["index"] for e in man["layers"]}):
        parts = [e for e in man["layers"] if e["index"] == k]
        assert [e["file"] for e in parts] == [f"layer{k}_g{i:03d}.cir" for i in range(len(parts))]
        assert [e["group"] for e in parts] == list(range(len(parts)))
        seen = sorted(j for e in parts for j in e["group_neurons"])
        assert seen == list(range(parts[0]["layer_n_neurons"]))  # each neuron exactly once
        for e in parts:
            assert [n["neuron"] for n in e["neurons"]] == e["group_neurons"]
            assert e["n_neurons"] == len(e["group_neurons"])
            if man["crossbar"]["schedule"] == "all":
                assert e["n_neurons"] <= man["split"]
            own = {str(j) for j in e["group_neurons"]}
            assert set(e["expected_spike_slots"]) == set(e["torch_spike_slots"]) == own
            assert {p[5:] for p in e["probes"] if re.fullmatch(r"spike\d+", p)} == own


@pytest.mark.ngspice
@pytest.mark.parametrize("schedule", ["all", "rows"])
def test_split_netlists_run_in_plain_ngspice_and_verify(
    digits_checkpoint, tmp_path, capsys, schedule
) -> None:
    assert shutil.which("ngspice")
    out = tmp_path / "nl"
    code, man, err = _cli(
        capsys, "netlist", str(digits_checkpoint), "--sample", "5", "--split", "4", "--schedule", schedule,
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert man["split"] == 4
    _check_groups(man, out)
    if schedule == "rows":  # whole array columns: a column's cells share their write driver
        for e in man["layers"]:
            cols, n_cols = {n["array_col"] for n in e["neurons"]}, e["array_shape"][1]
            assert set(e["group_neurons"]) == {j for j in range(e["layer_n_neurons"]) if j % n_cols in cols}
    script = out / "run.sh"
    assert os.access(script, os.X_OK) and script.read_text().startswith("#!/bin/sh")
    run = subprocess.run(["sh", "run.sh", "2"], cwd=out, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert f"all {len(man['layers'])} netlists ran" in run.stdout
    assert all((out / e["file"].replace(".cir", ".raw")).is_file() for e in man["layers"])
    code, rep, err = _cli(capsys, "verify-raw", str(out), str(out))
    assert code == 0, err
    assert rep["all_match"] and not rep["missing"]
    assert [lay["index"] for lay in rep["layers"]] == [0, 1]
    for lay in rep["layers"]:
        assert lay["matched_neurons"] == lay["checked_neurons"] == lay["n_neurons"]
        assert [n["neuron"] for n in lay["neurons"]] == list(range(lay["n_neurons"]))
        assert sum(r["n_neurons"] for r in lay["netlists"]) == lay["n_neurons"]
    if schedule == "rows":
        return
    # a group that was not run is reported, and fails the check
    (out / "layer0_g001.raw").unlink()
    code, rep, err = _cli(capsys, "verify-raw", str(out), str(out))
    assert code == 1 and not rep["all_match"]
    assert rep["missing"] == [{"index": 0, "group": 1, "file": "layer0_g001.cir"}]
    lay0 = rep["layers"][0]
    assert lay0["matched_neurons"] < lay0["n_neurons"] and lay0["missing"]
    assert main(["verify-raw", str(out), str(out)]) == 1
    text = capsys.readouterr().out
    assert "1 netlists not run (no raw file with their title): layer0_g001.cir" in text
    # a single raw file of a group still checks that group alone
    code, rep, err = _cli(capsys, "verify-raw", str(out), str(out / "layer1_g000.raw"))
    assert code == 0, err
    assert [(lay["index"], lay["n_neurons"]) for lay in rep["layers"]] == [(1, 4)]


def test_split_is_refused_with_wire_parasitics_or_single(digits_checkpoint, tmp_path, capsys) -> None:
    ck = str(digits_checkpoint)
    code, _, err = _cli(capsys, "netlist", ck, "--split", "4", "--r-wire", "1", "--out", str(tmp_path / "a"))
    assert code == 1 and "ideal wires" in err and "couple every column" in err and err.count("\n") == 1
    code, _, err = _cli(capsys, "netlist", ck, "--split", "4", "--single", "--out", str(tmp_path / "b"))
    assert code == 1 and "choose one" in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_neuron_groups_partition_the_layer() -> None:
    assert neuron_groups(10, 4, CrossbarOptions()) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    # row by row (3 x 4 array): whole columns, at least one per group
    rows = CrossbarOptions(schedule="rows")
    assert neuron_groups(12, 4, rows) == [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]
    assert neuron_groups(12, 6, rows) == [[0, 1, 4, 5, 8, 9], [2, 3, 6, 7, 10, 11]]
    assert neuron_groups(12, 1, rows) == neuron_groups(12, 4, rows)


def test_split_convolution_leaves_the_pool_out(tmp_path) -> None:
    """A pooled convolution layer splits into its neurons only (the OR gates need the whole
    layer) and the manifest says so; the summary says how to run the folder."""
    cfg = digits_config("csnn:2c5-p2-10", neuron_spec("dw-lif"), 4, drive_limit_v=3.3)
    path = save_checkpoint(tmp_path / "conv.pt", SpikingNet(cfg), {"dataset": "digits"})
    result = write_netlists(path, split=8, out=tmp_path / "nl")
    conv = [e for e in result.manifest["layers"] if e["index"] == 0]
    assert len(conv) == 4 and sum(e["n_neurons"] for e in conv) == 32
    for e in conv:
        assert "expected_pool_slots" not in e and "not in the split netlists" in e["pool_outputs"]
        assert not [p for p in e["probes"] if p.startswith("pool")]
        assert "d_or" not in (tmp_path / "nl" / e["file"]).read_text()
    assert "cd " in result.summary() and "sh run.sh" in result.summary()
    assert "not in the split netlists" in result.summary()
