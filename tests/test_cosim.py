"""Network co-simulation: agreement metrics, stepped MAC vs full crossbar, energy and latency
from the simulation, the cosim command and its report."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import digits_config

from spinspice.circuits.network import CrossbarOptions
from spinspice.cli import main
from spinspice.cosim.agreement import layer_agreement, match_steps, merge_agreements
from spinspice.cosim.runner import CosimSettings, prepare, simulate_sample
from spinspice.errors import ModelParameterError
from spinspice.snn.arch import SpikingNet
from spinspice.snn.checkpoint import save_checkpoint
from spinspice.snn.data import load_dataset
from spinspice.snn.neurons import neuron_spec


def test_matching_is_one_to_one_within_the_tolerance() -> None:
    assert match_steps([1, 5, 9], [2, 5, 12]) == 2
    assert match_steps([3, 3], [3]) == 1  # one partner each
    assert match_steps([1, 2], [2, 3]) == 2  # greedy from the earliest pairs 1-2 and 2-3
    assert match_steps([4], [6]) == 0 and match_steps([4], [6], tol=2) == 1
    a = layer_agreement([[1, 5], [], [7]], [[1, 6], [3], []])
    assert a["matched"] == 2 and a["compared"] == 2 + 1 + 1
    assert a["spike_agreement"] == pytest.approx(0.5)
    assert a["count_error_total"] == 0 and a["neurons_count_differs"] == 2
    assert a["first_spike_error_steps"] == 0.0 and a["exact_agreement"] == pytest.approx(0.25)
    assert layer_agreement([[], []], [[], []])["spike_agreement"] == 1.0
    pooled = merge_agreements([a, layer_agreement([[2]], [[2]])])
    assert pooled["matched"] == 3 and pooled["spike_agreement"] == pytest.approx(3 / 5)


def _random_net(
    arch: str, n_classes: int, *, seed: int, scale: float, params: dict | None = None
) -> SpikingNet:
    """A network with random weights that make its neurons spike now and then."""
    net = SpikingNet(digits_config(arch, neuron_spec("dw-lif", params=params), 10, n_classes=n_classes))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for syn in net.synapses:
            n_in = syn.weight.shape[1]
            syn.weight.copy_((torch.rand(syn.weight.shape, generator=gen) - 0.3) * scale * 8 / n_in)
            syn.bias.copy_(torch.rand(syn.bias.shape, generator=gen) * 0.1)
    return net


@pytest.mark.ngspice
def test_stepped_mac_and_full_crossbar_give_the_same_spikes_on_a_64x64_tile() -> None:
    net = _random_net("fc:64-64", 64, seed=1, scale=1.2)
    image = load_dataset("digits").x_test[3]
    runs = {
        mode: simulate_sample(
            prepare(net, CosimSettings(mode=mode, options=CrossbarOptions(tile=64))), image, index=0
        )
        for mode in ("stepped", "full")
    }
    stepped, full = runs["stepped"]["layers"][0], runs["full"]["layers"][0]
    assert full["n_runs"] == 64  # one crossbar column per run, all 65 rows
    assert sum(map(len, stepped["circuit_steps"])) > 30  # the tile is busy
    assert stepped["circuit_steps"] == full["circuit_steps"]
    t_s = np.concatenate([np.asarray(t) for t in stepped["circuit_times_s"]])
    t_f = np.concatenate([np.asarray(t) for t in full["circuit_times_s"]])
    assert np.max(np.abs(t_s - t_f)) < 5e-12  # same spike instants, not just the same steps
    # the crossbar read energy: computed from the conductances (stepped) = measured (full)
    assert stepped["energy_j"]["crossbar_read"] == pytest.approx(full["energy_j"]["crossbar_read"], rel=2e-3)
    for comp in ("write_driver", "reset_driver", "comparator", "read_divider"):
        assert stepped["energy_j"][comp] == pytest.approx(full["energy_j"][comp], rel=2e-3), comp
    assert stepped["vs_torch"]["spike_agreement"] >= 0.99


@pytest.mark.ngspice
def test_energy_and_latency_follow_the_write_pulse_width() -> None:
    """Wider write pulses: with the drive of one input unit kept (the charge that takes a
    resting neuron to threshold: lower current), each step lasts longer -- later decisions --
    and the cells' static read and comparator power runs longer -- more energy per
    inference; with the write current kept, every pulse carries twice the charge -- twice
    the write-driver energy.  Supplies are pinned where all variants fit, so that the sizing
    does not change the circuit between them."""
    data = load_dataset("digits")
    pinned = {"v_dd_write_v": 1.3, "v_dd_comp_v": 1.3, "v_dd_reset_v": 1.3, "r_switch_on_ohm": 5.0}
    u_1ns = None
    runs = {}
    for name, t_on, same_current in (("1ns", 1e-9, False), ("2ns", 2e-9, False), ("2ns-same-I", 2e-9, True)):
        params = {"t_on_s": t_on, **pinned, **({"u_unit": u_1ns} if same_current else {})}
        net = _random_net("fc:64-10", 10, seed=4, scale=0.7, params=params)
        prepared = prepare(net, CosimSettings())
        u_1ns = u_1ns or prepared.neurons[0].u_unit
        res = [simulate_sample(prepared, data.x_test[i], index=i) for i in range(2)]
        assert not any(layer["cell_sizing"]["changed"] for r in res for layer in r["layers"])
        assert sum(r["circuit_spikes"] for r in res) > 10
        runs[name] = {
            "energy": sum(sum(r["energy_j"].values()) for r in res),
            "write": sum(r["energy_j"]["write_driver"] for r in res),
            "latency": np.mean([r["latency"]["decision_s"] for r in res]),
        }
    one, two, same_i = runs["1ns"], runs["2ns"], runs["2ns-same-I"]
    assert two["latency"] > 1.3 * one["latency"]
    assert two["energy"] > 1.02 * one["energy"]
    assert two["write"] == pytest.approx(one["write"], rel=0.05)  # same charge per input unit
    assert same_i["write"] == pytest.approx(2 * one["write"], rel=0.05)
    assert same_i["energy"] > 1.5 * one["energy"]


def test_settings_refuse_inconsistent_modes() -> None:
    with pytest.raises(ModelParameterError, match="parasitic mode needs wire resistance"):
        CosimSettings(mode="parasitic")
    with pytest.raises(ModelParameterError, match="use --mode parasitic"):
        CosimSettings(mode="stepped", options=CrossbarOptions(r_wire_ohm=1.0))
    with pytest.raises(ModelParameterError, match="choose one of"):
        CosimSettings(mode="spice")


@pytest.mark.ngspice
def test_cosim_command_writes_the_report_and_workers_do_not_change_it(
    digits_checkpoint, tmp_path, capsys
) -> None:
    args = [
        "cosim",
        str(digits_checkpoint),
        "--samples",
        "3",
        "--json",
        "--compare-schedules",
        "--workers",
        "1",
    ]
    assert main([*args, "--out", str(tmp_path / "one")]) == 0
    one = json.loads(capsys.readouterr().out)
    for key in (
        "spike_agreement",
        "class_agreement",
        "torch_accuracy",
        "circuit_accuracy",
        "energy_per_spike_j",
        "energy_per_inference_j",
        "mean_latency_s",
    ):
        assert one[key] is not None, key
    assert one["schema"] == "spinspice.cosim" and one["n_samples"] == 3
    assert one["spike_agreement"] >= 0.95 and one["model_spike_agreement"] >= 0.95
    for f in (
        "report.json",
        "report.md",
        "raster.png",
        "traces.png",
        "energy.png",
        "latency.png",
        "agreement.png",
        "report.html",
    ):
        assert (tmp_path / "one" / f).stat().st_size > 0, f
    md = (tmp_path / "one" / "report.md").read_text()
    assert "energy per spike" in md and "Field-line schedules" in md
    by_schedule = {s["schedule"]: s for s in one["schedules"]}
    assert by_schedule["rows"]["write_drivers"] < by_schedule["all"]["write_drivers"]
    assert by_schedule["rows"]["step_s"] > by_schedule["all"]["step_s"]
    assert by_schedule["rows"]["mean_latency_s"] > by_schedule["all"]["mean_latency_s"]
    # the energy of one inference is the sum of its parts, and every part is positive
    parts = one["energy"]["per_inference_by_component_j"]
    assert sum(parts.values()) == pytest.approx(one["energy_per_inference_j"])
    assert all(v > 0 for v in parts.values())
    assert (
        main(
            [
                "cosim",
                str(digits_checkpoint),
                "--samples",
                "3",
                "--json",
                "--workers",
                "2",
                "--out",
                str(tmp_path / "two"),
            ]
        )
        == 0
    )
    two = json.loads(capsys.readouterr().out)
    assert two["samples"] == one["samples"]


def test_cosim_refuses_networks_without_circuits(tmp_path, capsys) -> None:
    # a max-pool of the synaptic drive (the snnTorch tutorial order) has no crossbar circuit;
    # ideal-LIF layers have one (tests/test_lif_circuit.py)
    from spinspice.snn.arch import NetConfig

    layers = (
        {"kind": "conv", "in": 1, "out": 2, "kernel": 3, "padding": 0, "pool": 2, "pool_drive": True},
        {"kind": "linear", "in": 18, "out": 10, "flatten": True},
    )
    cfg = NetConfig(arch="custom", layers=layers, neuron=neuron_spec("lif"), steps=4, image_shape=(1, 8, 8))
    path = save_checkpoint(tmp_path / "lif.pt", SpikingNet(cfg), {"dataset": "digits"})
    assert main(["cosim", str(path), "--samples", "1", "--out", str(tmp_path / "c")]) == 1
    assert "pool the spikes after the neurons" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


@pytest.mark.ngspice
def test_a_dask_cluster_gives_the_results_of_a_local_run(digits_checkpoint, tmp_path, capsys) -> None:
    """A real dask.distributed LocalCluster (separate worker processes) runs the jobs."""
    from distributed import LocalCluster

    args = ["cosim", str(digits_checkpoint), "--samples", "2", "--json", "--trace", "none"]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    local = json.loads(capsys.readouterr().out)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main([*args, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask")]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert remote["samples"] == local["samples"]
    assert remote["energy_per_inference_j"] == local["energy_per_inference_j"]
    assert remote["scheduler"] == cluster.scheduler_address


def test_an_unreachable_scheduler_is_a_clear_error(digits_checkpoint, tmp_path, capsys) -> None:
    args = ["cosim", str(digits_checkpoint), "--samples", "1", "--scheduler", "tcp://127.0.0.1:9"]
    assert main([*args, "--out", str(tmp_path / "c")]) == 1
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_a_group_traces_each_neuron_with_its_own_probes() -> None:
    """Neurons 1 and 11 in one ngspice run: neuron 1's traces are not neuron 11's."""
    from spinspice.circuits.network import layer_testbench
    from spinspice.cosim.runner import GroupTask

    net = _random_net("fc:64-12", 12, seed=2, scale=1.0)
    prepared = prepare(net, CosimSettings())
    n = prepared.neurons[0]
    inputs = np.zeros((10, 64))
    lc = layer_testbench(
        n.cell.network_cell(), n.slot, n.u_unit, prepared.mappings[0], inputs, neurons=[1, 11], stepped=True
    )
    task = GroupTask.of(lc, [1, 11], [1, 11], "batch", None, None)
    keys = dict(task.traced)
    assert set(keys[1]) == {"m1", "v_out1", "spike_b1", "s_comp1", "v_t11", "v_t21", "v_win1"}
    assert all(k.endswith("11") for k in keys[11]) and not set(keys[1]) & set(keys[11])


@pytest.mark.ngspice
def test_batched_runs_give_the_results_of_single_runs() -> None:
    """A layer's runs go to ngspice several per process (issue 17 item 3); the results are
    those of one process per run, and the model's expectation runs as a job beside them."""
    from spinspice.cosim.runner import run_group, run_groups, run_job

    net = _random_net("fc:64-24-10", 10, seed=3, scale=1.2)
    image = load_dataset("digits").x_test[5]
    jobs: list[tuple] = []

    def mapper(fn, tasks):
        tasks = list(tasks)
        jobs.extend(tasks)
        return [fn(t) for t in tasks]

    res = simulate_sample(prepare(net, CosimSettings()), image, index=0, mapper=mapper)
    batches = [job[1] for job in jobs if job[0] is run_groups]
    assert max(len(b) for b in batches) > 1  # 24 runs on one worker: 6 per ngspice process
    assert sum(len(b) for b in batches) == 24 + 10
    batch = batches[0]
    together, alone = run_job((run_groups, batch)), [run_group(t) for t in batch]
    for a, b in zip(together, alone, strict=True):
        assert a["spikes"].keys() == b["spikes"].keys() and a["time_points"] == b["time_points"]
        assert all(np.array_equal(a["spikes"][j], b["spikes"][j]) for j in a["spikes"])
        assert a["energy_j"] == b["energy_j"]
    assert sum(res["circuit_counts"]) > 0 and res["layers"][0]["vs_torch"]["spike_agreement"] >= 0.95


@pytest.mark.ngspice
def test_keep_netlists_keeps_every_run(digits_checkpoint, tmp_path) -> None:
    from spinspice import cosim

    out = tmp_path / "kept"
    result = cosim.run(digits_checkpoint, samples=[0], trace="none", out=out, keep_netlists=True)
    kept = sorted((out / "netlists").rglob("*.cir"))
    runs = sum(layer["n_runs"] for layer in result.results[0]["layers"])
    assert len(kept) == runs > 0
    assert all(".tran" in p.read_text() and p.read_text().rstrip().endswith(".end") for p in kept)


@pytest.mark.ngspice
def test_same_step_networks_run_each_layer_a_slot_behind(tmp_path, capsys) -> None:
    """snnTorch's and NIR's timing: layer 1 reads layer 0's spikes of the same step, so its
    circuit runs a write slot later; the circuit agrees with torch and the latency says so."""
    from conftest import trained_digits_checkpoint

    from spinspice import cosim

    cfg = digits_config("fc:64-24-10", neuron_spec("dw-lif"), 12, timing="same-step")
    ck = trained_digits_checkpoint(tmp_path, cfg, epochs=1, batch_size=32, lr=5e-3, max_train=256)
    rep = cosim.run(ck, samples=2, workers=1, trace="none", out=tmp_path / "c").report()
    assert rep["network"]["timing"] == "same-step"
    # 19.5 spikes per inference with the per-image seeds (image_seed), 20.5 with the former ones
    assert rep["spike_agreement"] >= 0.95 and rep["circuit_spikes_per_inference"] > 15, rep
    sample = json.loads((tmp_path / "c" / "report.json").read_text())["samples"][0]
    slot = rep["network"]["slot_s"]
    assert sample["latency"]["output_layer_offset_s"] == pytest.approx(slot)
    assert sample["latency"]["decision_s"] > slot
    # one netlist with every layer in the same slots cannot hold it: refused in one line
    assert main(["netlist", str(ck), "--single", "--out", str(tmp_path / "nl")]) == 1
    err = capsys.readouterr().err
    assert "same-step" in err and "drop --single" in err and err.count("\n") == 1
    assert not (tmp_path / "nl").exists()
