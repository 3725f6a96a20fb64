"""Ideal-LIF layers as circuits (docs/netlists.md, "Ideal-LIF layers"): the clocked RC cell
reproduces snnTorch's ``Leaky`` step (:func:`~spinspice.models.lif.lif_step`) spike for spike,
and a trained ideal-LIF network netlists, runs in plain ngspice and co-simulates."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import shutil
import subprocess

import numpy as np
import pytest
from conftest import digits_config, trained_digits_checkpoint
from scipy.integrate import quad

from spinspice.circuits.clocked_lif import ClockedLIFCell, LIFClockParams
from spinspice.circuits.core import CurrentSource, VoltageSource
from spinspice.circuits.network import CrossbarOptions, layer_testbench, slot_pwl
from spinspice.circuits.synapses import get_synapse_device, map_layer
from spinspice.cli import main
from spinspice.errors import ModelParameterError
from spinspice.models.lif import LIFParams, lif_step, pulse_weight_s
from spinspice.sim.simulate import simulate
from spinspice.sim.spikes import crossings
from spinspice.snn.neurons import neuron_spec


def test_pulse_weight_is_the_integral_of_the_pulse_seen_at_the_sample() -> None:
    e, on, after, tau = 10e-12, 1e-9, 50e-12, 2e-9 / -math.log(0.9)
    t_s = on + e + after

    def shape(s: float) -> float:
        return float(np.interp(s, [0, e, on, on + e], [0, 1, 1, 0]))

    ref = quad(lambda s: shape(s) * math.exp(-(t_s - s) / tau), 0, on + e, points=[e, on], epsrel=1e-13)[0]
    assert pulse_weight_s(e, on, after, tau) == pytest.approx(ref, rel=1e-12)
    with pytest.raises(ModelParameterError, match="t_edge"):
        pulse_weight_s(2e-9, on, after, tau)


def test_cell_timing_is_validated_and_one_unit_adds_v_unit() -> None:
    cell = ClockedLIFCell()
    assert cell.i_unit_a == pytest.approx(cell.lif.c_mem_f * cell.lif.v_unit_v / cell.k_s)
    slot = cell.network_drive()
    assert slot.period_s == cell.lif.slot_s and slot.amplitude == cell.i_unit_a
    # zero reset: the write window starts after the discharge window
    zero = ClockedLIFCell(lif=LIFParams(reset_subtract=False))
    assert zero.network_drive().t_delay_s == pytest.approx(zero.clock.t_zero_s + zero.clock.t_zero_gap_s)
    with pytest.raises(ModelParameterError, match="too short"):
        ClockedLIFCell(clock=LIFClockParams(t_write_s=1.9e-9))
    with pytest.raises(ModelParameterError, match="t_edge_s"):
        LIFClockParams(t_edge_s=2e-9)


def test_row_by_row_schedules_are_refused() -> None:
    cell = ClockedLIFCell()
    mapping = map_layer(np.ones((4, 3)), np.zeros(4), get_synapse_device("ideal"))
    options = CrossbarOptions(schedule="rows", array_cols=2)
    with pytest.raises(ModelParameterError, match="once per write slot"):
        layer_testbench(cell, cell.network_drive(), cell.i_unit_a, mapping, np.ones((3, 3)), options)


def _drives(seed: int, steps: int) -> np.ndarray:
    """Positive and negative drives (input units), with a strong run that fires in a row."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.35, 0.9, steps)
    x[8:14] = rng.uniform(1.5, 3.5, 6)  # several spikes in a row
    x[20:24] = -1.5  # inhibition below zero
    return x


def _simulate_cell(cell: ClockedLIFCell, x: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The cell under drives ``x`` (one per slot, either sign): membrane (units) at the sample
    instants and the spike slots."""
    slot = cell.network_drive()
    tb = cell.testbench(slot, len(x) * slot.period_s)
    elements = [e for e in tb.elements if e.name != "write"]
    elements += [
        VoltageSource("ss_w", "vss_w", "0", -cell.clock.v_dd_write_v),
        CurrentSource("wp", "vdd_w", "win", 0.0, wave=slot_pwl(np.maximum(x, 0), slot, cell.i_unit_a)),
        CurrentSource("wn", "win", "vss_w", 0.0, wave=slot_pwl(np.maximum(-x, 0), slot, cell.i_unit_a)),
    ]
    wf = simulate(dataclasses.replace(tb, elements=tuple(elements)))
    t = wf.time_s
    samples = np.arange(len(x)) * slot.period_s + cell.sample_s
    mem = np.interp(samples, t, wf["v_mem"]) / cell.lif.v_unit_v
    spikes = np.floor(crossings(t, wf["spike"], cell.spike_level_v()) / slot.period_s).astype(int)
    return mem, spikes.tolist()


@pytest.mark.ngspice
@pytest.mark.parametrize(("subtract", "beta", "seed"), [(True, 0.9, 1), (False, 0.9, 2), (True, 0.7, 3)])
def test_clocked_cell_is_lif_step_spike_for_spike(subtract: bool, beta: float, seed: int) -> None:
    p = LIFParams(beta=beta, reset_subtract=subtract)
    x = _drives(seed, 40)
    mem_c, spikes_c = _simulate_cell(ClockedLIFCell(lif=p), x)
    mem, mems, spikes = np.zeros(1), [], []
    for k, v in enumerate(x):
        s, mem = lif_step(mem, np.array([v]), p)
        mems.append(float(mem[0]))
        if s[0] > 0.5:
            spikes.append(k)
    assert len(spikes) >= 10 and any(b - a == 1 for a, b in itertools.pairwise(spikes))
    assert min(mems) < 0  # the negative drives took the membrane below zero
    assert spikes_c == spikes
    assert np.abs(mem_c - np.array(mems)).max() < 1e-3


@pytest.fixture(scope="module")
def lif_checkpoint(tmp_path_factory):
    """A small ideal-LIF network (64-12-10, 8 steps) trained for one epoch on digits."""
    cfg = digits_config("fc:64-12-10", neuron_spec("lif"), 8)
    folder = tmp_path_factory.mktemp("lif")
    return trained_digits_checkpoint(folder, cfg, epochs=1, batch_size=32, lr=5e-3, max_train=512)


@pytest.mark.ngspice
def test_lif_network_netlists_run_in_plain_ngspice(lif_checkpoint, tmp_path, capsys) -> None:
    out = tmp_path / "nl"
    assert main(["netlist", str(lif_checkpoint), "--sample", "0", "--out", str(out), "--json"]) == 0
    man = json.loads(capsys.readouterr().out)
    assert all(layer["neuron_circuit"]["kind"].startswith("ideal-LIF") for layer in man["layers"])
    exe = shutil.which("ngspice")
    assert exe
    expected = 0
    for layer in man["layers"]:
        k = layer["index"]
        run = [exe, "-b", "-r", f"l{k}.raw", layer["file"]]
        subprocess.run(run, cwd=out, check=True, capture_output=True)
        assert main(["verify-raw", str(out), str(out / f"l{k}.raw"), "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["all_match"]
        expected += sum(len(v) for v in layer["expected_spike_slots"].values())
    assert expected >= 10


@pytest.mark.ngspice
def test_lif_network_cosimulates_step_for_step(lif_checkpoint) -> None:
    from spinspice.cosim.runner import CosimSettings, prepare, simulate_sample
    from spinspice.snn.checkpoint import load_with_data

    ck, data = load_with_data(lif_checkpoint, None, classes=False)
    prepared = prepare(ck.net, CosimSettings(group=12))
    matched = compared = spikes = 0
    for i in range(2):
        r = simulate_sample(prepared, data.x_test[i], index=i, label=int(data.y_test[i]))
        assert r["circuit_class"] == r["torch_class"]
        for layer in r["layers"]:
            assert layer["neuron_circuit"]["kind"].startswith("ideal-LIF")
            matched += layer["vs_torch"]["matched"]
            compared += layer["vs_torch"]["compared"]
            assert layer["vs_model"]["spike_agreement"] == 1.0
        assert r["energy_j"]["write_driver"] > 0
        spikes += r["circuit_spikes"]
    assert spikes >= 20 and matched / compared >= 0.99
