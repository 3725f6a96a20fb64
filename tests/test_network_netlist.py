"""Netlists of a trained network: files, manifest, determinism, sanitising, plain ngspice -b."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch

from spinspice.circuits.network import size_for_current, slot_pwl
from spinspice.circuits.registry import get_cell
from spinspice.cli import main
from spinspice.cosim.verify import check_raw
from spinspice.errors import ModelParameterError
from spinspice.sim.rawfile import canonical_name, read_raw
from spinspice.snn.arch import NetConfig, SpikingNet
from spinspice.snn.checkpoint import save_checkpoint


@pytest.fixture(scope="module")
def checkpoint(digits_checkpoint):
    return digits_checkpoint


def _netlist(capsys, ck, out, *extra: str) -> dict:
    code = main(["netlist", str(ck), "--out", str(out), "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_netlist_files_counts_and_determinism(checkpoint, tmp_path, capsys) -> None:
    man = _netlist(capsys, checkpoint, tmp_path / "a", "--sample", "2", "--tile", "16")
    again = _netlist(capsys, checkpoint, tmp_path / "b", "--sample", "2", "--tile", "16")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    # compiled device models (ngspice with OSDI): each module's .osdi and .va beside the netlists
    compiled = [str(f) for f in files if f.parts[0] == "osdi"]
    assert [str(f) for f in files if f.parts[0] != "osdi"] == sorted(
        ["layer0.cir", "layer1.cir", "lib/spinspice_cells.lib", "manifest.json", "va/dw_lif.va"]
    )
    assert (len(compiled) > 0) == (man["device_models"] == "osdi")
    assert all(man["files"][f] for f in compiled)
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert man == again
    ck = torch.load(checkpoint, weights_only=True)["state_dict"]
    for layer in man["layers"]:
        w = ck[f"synapses.{layer['index']}.weight"]
        assert layer["weight_shape"] == list(w.shape)
        assert (layer["n_neurons"], layer["n_inputs"]) == tuple(w.shape)
        # one pair per non-zero weight, plus the bias row's pair per neuron
        assert layer["n_synapse_pairs"] == int((w != 0).sum()) + w.shape[0]
        assert sum(t["pairs"] for t in layer["tiles"]) == layer["n_synapse_pairs"]
        assert len(layer["tiles"]) == -(-(w.shape[1] + 1) // 16) * -(-w.shape[0] // 16)
        text = (tmp_path / "a" / layer["file"]).read_text()
        assert ".include lib/spinspice_cells.lib" in text
        resistors = [ln for ln in text.splitlines() if re.match(r"r[pn]\d+_\d+ ", ln)]
        assert len(resistors) == 2 * layer["n_synapse_pairs"]  # G+ and G- of every pair
    assert man["files"]["layer0.cir"] and man["label"] is not None


@pytest.mark.ngspice
@pytest.mark.parametrize(
    "extra",
    [(), ("--schedule", "rows"), ("--single",), ("--single", "--schedule", "rows")],
    ids=["per-layer", "row-by-row", "single", "single-row-by-row"],
)
def test_emitted_netlists_spike_as_expected_in_plain_ngspice(checkpoint, tmp_path, capsys, extra) -> None:
    exe = shutil.which("ngspice")
    assert exe
    man = _netlist(capsys, checkpoint, tmp_path / "nl", "--sample", "5", *extra)
    for layer in man["layers"]:
        assert layer["schedule"] == ("rows" if "rows" in extra else "all")
        if "rows" in extra:
            rows, cols = layer["array_shape"]
            assert layer["n_write_drivers"] == cols < layer["n_neurons"]
            assert layer["slot_s"] >= rows * layer["write_slot_s"] * (1 - 1e-12)
        else:
            assert layer["n_write_drivers"] == layer["n_neurons"] and layer["slot_s"] == layer["write_slot_s"]
    runs = {}
    for layer in man["layers"]:
        if layer["file"] not in runs:
            raw = f"{layer['file']}.raw"
            run = subprocess.run(
                [exe, "-b", "-r", raw, layer["file"]],
                cwd=tmp_path / "nl",
                capture_output=True,
                text=True,
            )
            assert run.returncode == 0, run.stderr[-2000:]
            runs[layer["file"]] = read_raw(tmp_path / "nl" / raw)[-1]
            # every neuron of the file's layers, its spike slots vs the expected ones
            checked = check_raw(tmp_path / "nl", man, tmp_path / "nl" / raw)
            for lay in checked["layers"]:
                for n in lay["neurons"]:
                    assert n["circuit_slots"] == n["expected_slots"], (lay["file"], n["neuron"])
            assert {lay["index"] for lay in checked["layers"]} == {
                x["index"] for x in man["layers"] if x["file"] == layer["file"]
            }
    assert len(runs) == (1 if "--single" in extra else len(man["layers"]))
    assert any(
        layer["expected_spike_slots"][k] for layer in man["layers"] for k in layer["expected_spike_slots"]
    )
    if "--single" in extra:
        # the latches carry each hidden spike (slot t) to the output layer's rows in slot t + 1
        layer, plot = man["layers"][0], runs["network.cir"]
        names = {canonical_name(n): n for n in plot.names}
        t = plot.data[names["time"]]
        mid = (np.arange(1, man["steps"]) + 0.5) * layer["slot_s"] + man["layers"][1]["t_offset_s"]
        for j, vec in layer["latch_vectors"].items():
            q = np.interp(mid, t, plot.data[names[canonical_name(vec)]])
            want = np.zeros(man["steps"] - 1)
            want[[s for s in layer["expected_spike_slots"][j] if s < man["steps"] - 1]] = 1.0
            np.testing.assert_allclose(q, want, atol=1e-3, err_msg=f"latch {j}")


def test_hostile_names_are_sanitised_and_nan_weights_refused(checkpoint, tmp_path, capsys) -> None:
    payload = torch.load(checkpoint, weights_only=True)
    meta = json.loads(payload["config"])
    cfg = NetConfig.from_json(meta["network"])
    with pytest.raises(ModelParameterError, match="control character"):
        dataclasses.replace(cfg, arch="evil\n.control\nshell touch pwned\n.endc")
    net = SpikingNet(dataclasses.replace(cfg, arch="evil .control shell 'touch' \"pwned\" ünï"))
    net.load_state_dict(payload["state_dict"])
    path = save_checkpoint(tmp_path / "evil.pt", net, {"dataset": "digits\n.control"})
    code = main(["netlist", str(path), "--dataset", "digits", "--out", str(tmp_path / "nl")])
    capsys.readouterr()
    assert code == 0
    for f in (tmp_path / "nl").glob("*.cir"):
        lines = f.read_text().splitlines()
        assert not any(line.strip().lower().startswith("shell") for line in lines)
        # the only control block is spinspice's own, loading the compiled device models
        ok = re.compile(r"set num_threads=1|pre_osdi osdi/\w+\.osdi")
        inside = False
        for line in lines:
            if line.strip().lower() in (".control", ".endc"):
                inside = line.strip().lower() == ".control"
            elif inside:
                assert ok.fullmatch(line), line
    with torch.no_grad():
        net.synapses[0].weight[0, 0] = float("nan")
    with pytest.raises(Exception, match="NaN"):
        save_checkpoint(tmp_path / "nan.pt", net, {"dataset": "digits"})


def test_peak_current_resizes_the_cell_or_refuses() -> None:
    cell, _ = get_cell("dw-lif")
    same, info = size_for_current(cell, 0.5e-3)
    assert same == cell and not info["changed"]
    bigger, info = size_for_current(cell, 8e-3)
    assert info["changed"]["v_dd_write_v"]["to"] > 0.8
    bigger.check(8e-3 * 1.25)
    with pytest.raises(ModelParameterError, match="cannot carry"):
        size_for_current(cell, 1.0)


def test_slot_pwl_has_the_charge_of_the_write_pulse() -> None:
    cell, _ = get_cell("dw-lif")
    slot = cell.default_drive()
    pwl = slot_pwl([1, 0, 0.5], slot, 0.2)
    t, v = np.array(pwl.points).T
    assert np.trapezoid(v, t) == pytest.approx(0.2 * 1.5 * slot.t_on_s, rel=1e-12)


def test_crossbar_tile_with_wire_segments() -> None:
    from spinspice.circuits.core import Capacitor, Resistor
    from spinspice.circuits.network import crossbar_tile

    g = np.full((2, 3), 1e-5)  # 2 columns x 3 rows
    mask = np.array([[True, False, True], [True, True, True]])
    ideal = crossbar_tile(g, g, mask)
    assert sum(isinstance(e, Resistor) for e in ideal.elements) == 2 * int(mask.sum())
    wired = crossbar_tile(g, g, mask, 2.0, 1e-15)
    res = [e for e in wired.elements if isinstance(e, Resistor)]
    caps = [e for e in wired.elements if isinstance(e, Capacitor)]
    # devices + row segments (3 rows x 1) + column segments (2 columns x 2 lines x 2)
    assert len(res) == 2 * int(mask.sum()) + 3 * 1 + 2 * 2 * 2
    assert len(caps) == 3 * 1 + 2 * 2 * 2
    assert wired.ports == ("r0", "r1", "r2", "p0", "p1", "n0", "n1")


def test_row_windows_select_exactly_one_row_during_every_write_pulse() -> None:
    from spinspice.circuits.network import _window_pwl

    slot = get_cell("dw-lif")[0].default_drive().replace(t_delay_s=50e-12)
    steps, n_sub = 4, 3
    t = np.linspace(0, steps * n_sub * slot.period_s, 20001)
    sel = np.array(
        [np.interp(t, *np.array(_window_pwl(steps, n_sub, r, slot, 1.0).points).T) for r in range(n_sub)]
    )
    pulses = slot_pwl([1] * (steps * n_sub), slot, 1.0)
    on = np.interp(t, *np.array(pulses.points).T) > 0
    k = np.floor((t - slot.t_delay_s) / slot.period_s).astype(int) % n_sub  # write slot -> its row
    assert np.all(sel[k[on], np.flatnonzero(on)] == 1.0)
    assert np.all(sel.sum(axis=0)[on] == 1.0)
    assert np.all(sel.sum(axis=0) <= 1.0 + 1e-12)
