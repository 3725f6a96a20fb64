"""Paper 001's field-line-gated crossbar: drive-aware neurons, the access-transistor-free array
(series write lines, rows selected by their field lines only) in plain ngspice, and what the
co-simulation reports about it (devices, field-line energy, half-select disturbance)."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch
from conftest import digits_config, trained_digits_checkpoint

from spinspice.circuits.network import (
    CrossbarOptions,
    layer_drive_limit,
    layer_testbench,
    max_write_current,
    size_for_current,
)
from spinspice.circuits.registry import get_cell
from spinspice.circuits.steered import steered_cell
from spinspice.circuits.synapses import get_synapse_device, map_layer
from spinspice.cli import main
from spinspice.cosim.agreement import layer_agreement
from spinspice.cosim.build import expected_spikes
from spinspice.cosim.verify import check_raw
from spinspice.errors import ModelParameterError
from spinspice.snn.neurons import make_neuron, neuron_spec


@pytest.fixture(scope="module")
def gated_checkpoint(tmp_path_factory):
    """A small field-gated network (64-12-10, 10 steps) trained drive-aware for the row-by-row
    timing of its 3 x 4 arrays (the access-transistor-free array's), one epoch on digits."""
    cfg = digits_config(
        "fc:64-12-10",
        neuron_spec("field-gated-lif"),
        10,
        schedule="rows-free",
        array_cols=4,
        drive_limit_v=3.3,
    )
    settings = {"epochs": 1, "batch_size": 32, "lr": 5e-3, "max_train": 384}
    return trained_digits_checkpoint(tmp_path_factory.mktemp("gated"), cfg, **settings)


def test_the_drive_limit_is_what_the_sizing_check_lets_through() -> None:
    """The limit sits on the edge of the netlist's own design check: the write path can be sized
    for it, not for 1 % more; in series the line carries proportionally less."""
    cell = get_cell("field-gated-lif", "paper-001-scaled")[0].network_cell()
    i_max = max_write_current(cell)
    size_for_current(cell, i_max)  # fits
    with pytest.raises(ModelParameterError, match="cannot carry"):
        size_for_current(cell, 1.01 * i_max)
    i_line = max_write_current(cell, 4)
    size_for_current(cell, i_line, cells_in_series=4)
    with pytest.raises(ModelParameterError, match="4 cells in series"):
        size_for_current(cell, 1.01 * i_line, cells_in_series=4)
    assert 3.5 < i_max / i_line < 4.5  # the tracks in series, less the switch re-sizing


def test_a_drive_aware_neuron_clips_its_drive_at_the_limit() -> None:
    spec = neuron_spec("field-gated-lif")
    free = make_neuron(spec)
    limited = make_neuron(spec, drive_limit_v=3.3)
    assert free.u_max is None and limited.u_max > 1.0
    x = torch.tensor([[0.5, limited.u_max, 3 * limited.u_max, -3 * limited.u_max]], dtype=torch.float64)
    at = torch.tensor([[0.5, limited.u_max, limited.u_max, -limited.u_max]], dtype=torch.float64)
    _s1, (y1, *_) = limited(x)
    _s2, (y2, *_) = limited(at)
    torch.testing.assert_close(y1, y2)
    _, (y3, *_) = free(x)
    assert not torch.allclose(y1, y3)  # the unlimited neuron integrates the full drive
    rows = make_neuron(spec, n_neurons=12, schedule="rows-free", array_cols=4, drive_limit_v=3.3)
    assert rows.long.u_max == rows.u_max < limited.u_max  # 3 cells on each write line


def test_the_chained_cell_floats_its_track_and_bypasses_while_firing() -> None:
    cell = get_cell("field-gated-lif", "paper-001-scaled")[0].network_cell()
    sub = steered_cell(cell, chained=True)
    assert sub.ports[:2] == ("win", "wout")
    by_name = {e.name: e for e in sub.elements}
    assert by_name["dev"].conns[:2] == ("t1", "wout")
    assert (by_name["dump"].p, by_name["dump"].n) == ("win", "wout")  # bypass, not to ground
    assert (by_name["rst_ret"].p, by_name["rst_ret"].n) == ("0", "wout")
    dw = get_cell("dw-lif")[0]
    mapping = map_layer(np.ones((4, 3)), np.zeros(4), get_synapse_device("ideal", None))
    with pytest.raises(ModelParameterError, match="field lines"):
        layer_testbench(
            dw, dw.default_drive(), 1.0, mapping, np.ones((2, 3)), CrossbarOptions(schedule="rows-free")
        )


def test_the_access_free_array_spikes_as_the_1t_array_and_the_model() -> None:
    """Random layer, stepped MAC currents: on the series write lines every cell of a column
    carries every write, yet each neuron spikes exactly in the steps the row-scheduled device
    model gives, as with a select transistor per cell; the write line's current limit is
    applied alike in the model and the circuit."""
    from spinspice.cosim.runner import GroupTask, run_group

    spec = neuron_spec("field-gated-lif")
    neuron = make_neuron(spec)
    rng = np.random.default_rng(3)
    n_in, n_out, steps = 10, 6, 10
    mapping = map_layer(
        rng.normal(0.3, 0.6, (n_out, n_in)), rng.uniform(0, 0.3, n_out), get_synapse_device("ideal", None)
    )
    inputs = (rng.random((steps, n_in)) < 0.5).astype(float)
    spikes = {}
    for schedule in ("rows", "rows-free"):
        options = CrossbarOptions(schedule=schedule, array_cols=3)
        lc = layer_testbench(
            neuron.cell.network_cell(), neuron.slot, neuron.u_unit, mapping, inputs, options, stepped=True
        )
        out = run_group(GroupTask.of(lc, range(n_out), [], "batch", None, None))
        got = np.zeros((steps, n_out), bool)
        for j, times in out["spikes"].items():
            s = np.floor(times / lc.slot_s).astype(int)
            got[s[s < steps], j] = True
        want = expected_spikes(neuron, inputs, mapping, options)
        assert want.sum() >= 20  # the layer spikes: the comparison says something
        if schedule == "rows":
            np.testing.assert_array_equal(got, want)
        else:  # a few drives sit on the line's current limit: a spike may move by a step
            agree = layer_agreement(*([np.flatnonzero(c).tolist() for c in a.T] for a in (got, want)))
            assert agree["spike_agreement"] >= 0.9 and agree["circuit_spikes"] - agree["matched"] <= 1
        spikes[schedule] = got
        # the other rows' write pulses change a cell by its leak only (< 3 % of the gap here)
        assert 0 < max(out["half_select"].values()) < 0.03 * 0.75
        if schedule == "rows-free":
            assert lc.cells_in_series == 2 and lc.n_select_devices == 0 and lc.n_write_drivers == 3
            limit = layer_drive_limit(lc.cell, lc.i_unit_a, n_out, options, None)
            assert lc.sizing["drive_limit_a"] == pytest.approx(limit * lc.i_unit_a)
        else:
            assert lc.n_select_devices == n_out
    assert (spikes["rows"] != spikes["rows-free"]).sum() <= 3


@pytest.mark.ngspice
def test_access_free_netlists_spike_as_expected_in_plain_ngspice(gated_checkpoint, tmp_path, capsys) -> None:
    """The netlist a user takes away (crossbar, current-limited column drivers, series lines,
    field-line windows) spikes in every neuron's expected steps in plain ngspice -b."""
    exe = shutil.which("ngspice")
    assert exe
    code = main(["netlist", str(gated_checkpoint), "--out", str(tmp_path), "--sample", "3", "--json"])
    man = json.loads(capsys.readouterr().out)
    assert code == 0
    assert man["layers"][0]["schedule"] == "rows-free"  # the schedule the network was trained for
    expected = 0
    for layer in man["layers"]:
        rows, cols = layer["array_shape"]
        assert layer["n_select_devices"] == 0 and layer["cells_in_series"] == rows
        assert layer["n_write_drivers"] == cols and layer["n_field_line_drivers"] == rows
        assert "drive_limit_a" in layer["cell_sizing"]
        raw = tmp_path / f"{layer['file']}.raw"
        run = subprocess.run(
            [exe, "-b", "-r", raw.name, layer["file"]], cwd=tmp_path, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr[-2000:]
        for lay in check_raw(tmp_path, man, raw)["layers"]:
            for n in lay["neurons"]:
                assert n["circuit_slots"] == n["expected_slots"], (lay["file"], n["neuron"])
                expected += len(n["expected_slots"])
    assert expected >= 5  # the network spikes: the comparison says something
    # the same checkpoint on the 1T array and all rows at once: netlists without a sizing refusal
    for schedule in ("rows", "all"):
        code = main(
            ["netlist", str(gated_checkpoint), "--out", str(tmp_path / schedule), "--schedule", schedule]
        )
        assert code == 0, capsys.readouterr().err


@pytest.mark.ngspice
def test_cosim_compares_the_three_arrays(gated_checkpoint, tmp_path, capsys) -> None:
    code = main(
        [
            "cosim",
            str(gated_checkpoint),
            "--samples",
            "1",
            "--compare-schedules",
            "--out",
            str(tmp_path),
            "--trace",
            "none",
        ]
    )
    assert code == 0, capsys.readouterr().err
    r = json.loads((tmp_path / "report.json").read_text())
    by = {s["schedule"]: s for s in r["schedules"]}
    assert set(by) == {"all", "rows", "rows-free"}
    assert by["rows-free"]["select_devices"] == 0 < by["rows"]["select_devices"]
    assert by["rows-free"]["write_drivers"] == by["rows"]["write_drivers"] < by["all"]["write_drivers"]
    assert by["rows-free"]["step_s"] == by["rows"]["step_s"] > by["all"]["step_s"]
    assert by["all"]["half_select"] is None
    assert by["rows-free"]["half_select"]["fraction_of_gap"] < 0.05
    assert r["energy"]["per_inference_by_component_j"]["field_line"] > 0
    assert r["unmatched_circuit_spikes"] == 0 and r["spike_agreement"] >= 0.95
    md = (tmp_path / "report.md").read_text()
    assert "half-select" in md and "rows-free" in md
