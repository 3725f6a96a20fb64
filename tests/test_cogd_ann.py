"""Paper 003's Co/Gd sigmoid ANN: training, checkpoint, circuit and transient verification."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import torch

from spinspice.circuits.ann import AnnCircuitOptions, ann_testbench, ann_timing
from spinspice.circuits.synapses import get_synapse_device, map_layer
from spinspice.errors import CheckpointError, ModelParameterError
from spinspice.models.cogd import CoGdParams, sigmoid
from spinspice.snn.ann import (
    CoGdANN,
    CoGdAnnConfig,
    cogd_activation,
    is_cogd_ann,
    load_cogd_ann,
    quantize_ste,
    train_cogd_ann,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):
    """A small Co/Gd ANN (64-16-10) trained on digits in about a second."""
    out = tmp_path_factory.mktemp("ann") / "tiny.pt"
    return train_cogd_ann("digits", "fc:64-16-10", epochs=4, lr=1e-2, out=out, seed=1)


@pytest.mark.parametrize("p", [CoGdParams(), CoGdParams(x0_a=10e-3, k_a=1.5e-3)])
def test_activation_is_the_device_sigmoid(p: CoGdParams) -> None:
    i = np.linspace(-5e-3, 35e-3, 81)
    got = cogd_activation(torch.as_tensor(i), p).numpy()
    np.testing.assert_allclose(got, sigmoid(i, p), rtol=1e-12, atol=1e-15)
    # the neuron: the SET driver's current clipped into [0, I_max], then the device's Y(I)
    net = CoGdANN(CoGdAnnConfig(sizes=(3, 2), device=p.values())).double()
    z = torch.linspace(-20, 20, 41, dtype=torch.float64)
    i_set = np.clip(p.x0_a + p.k_a * z.numpy(), 0.0, 30e-3)
    np.testing.assert_allclose(net.drive_a(z).numpy(), i_set, rtol=1e-12)


def test_quantised_weights_are_the_device_levels(tiny) -> None:
    ck = load_cogd_ann(tiny.checkpoint)
    levels = get_synapse_device("cogd").level_values()
    assert len(levels) == 8
    for m, (w, b), (wl, bl) in zip(ck.mappings(), ck.weights, ck.latent, strict=True):
        for g in (m.g_pos_s, m.g_neg_s):
            assert np.all(np.min(np.abs(g[..., None] - levels), axis=-1) == 0)  # exactly on a level
        np.testing.assert_array_equal(m.effective_weights, np.column_stack([w, b]))
        # the STE quantiser of training applies the same rule as map_layer
        wt = torch.as_tensor(wl, dtype=torch.float64).requires_grad_()
        bt = torch.as_tensor(bl, dtype=torch.float64).requires_grad_()
        wq, bq = quantize_ste(wt, bt, get_synapse_device("cogd"))
        np.testing.assert_allclose(wq.detach().numpy(), w, rtol=0, atol=1e-12)
        np.testing.assert_allclose(bq.detach().numpy(), b, rtol=0, atol=1e-12)
        (wq.sum() + bq.sum()).backward()  # straight through: unit gradient
        assert torch.all(wt.grad == 1) and torch.all(bt.grad == 1)


def test_tiny_training_and_checkpoint(tiny, tmp_path) -> None:
    r = tiny.report()
    assert r["kind"] == "cogd-ann" and r["sizes"] == [64, 16, 10]
    assert r["test_accuracy"] > 0.6  # chance is 0.1
    assert r["quantization"]["levels"] == 8
    assert "test accuracy" in tiny.summary()
    ck = load_cogd_ann(tiny.checkpoint)
    assert is_cogd_ann(tiny.checkpoint)
    assert ck.meta["accuracy"]["test_accuracy"] == r["test_accuracy"]
    assert ck.config.params() == CoGdParams()
    # the recorded accuracy is that of the stored quantised weights
    from spinspice.snn.data import load_dataset

    data = load_dataset("digits")
    pred = ck.torch_activations(data.x_test)[-1].argmax(1)
    assert np.mean(pred == data.y_test) == pytest.approx(r["test_accuracy"])
    # tampering is refused; a spiking checkpoint loader refuses it with a clear error
    bad = tmp_path / "bad.pt"
    payload = torch.load(tiny.checkpoint, weights_only=True)
    payload["state_dict"]["layer0.weight_q"][0, 0] += 1.0
    torch.save(payload, bad)
    with pytest.raises(CheckpointError, match="digest"):
        load_cogd_ann(bad)
    from spinspice.snn.checkpoint import load_checkpoint

    with pytest.raises(CheckpointError):
        load_checkpoint(tiny.checkpoint)
    assert not is_cogd_ann(tmp_path / "missing.pt")


def test_train_network_dispatches_cogd(tmp_path) -> None:
    from spinspice.snn.api import train_network

    res = train_network(
        "digits", "fc:64-8-10", "cogd-sigmoid", epochs=1, lr=1e-2, out=tmp_path / "m.pt", synapse="cogd"
    )
    assert res.report()["kind"] == "cogd-ann" and is_cogd_ann(tmp_path / "m.pt")
    with pytest.raises(ModelParameterError):
        train_cogd_ann("digits", "paper001-csnn", epochs=1, out=tmp_path / "c.pt")


@pytest.mark.ngspice
def test_one_layer_circuit_matches_torch() -> None:
    from spinspice.sim.simulate import simulate

    rng = np.random.default_rng(3)
    p = CoGdParams()
    w, b = rng.normal(0, 1.0, (6, 12)), rng.normal(0, 0.3, 6)
    m = map_layer(w, b, get_synapse_device("cogd"))
    x = rng.uniform(0, 1, 12)
    net = CoGdANN(CoGdAnnConfig(sizes=(12, 6))).double()
    weights = [(torch.as_tensor(m.effective_weights[:, :-1]), torch.as_tensor(m.effective_weights[:, -1]))]
    ref = net(torch.as_tensor(x[None]), weights=weights)[0][0].detach().numpy()
    assert ref.max() - ref.min() > 0.3  # a spread of activations, not all saturated
    tm = ann_timing(p)
    circ = ann_testbench([m], x, p, i_unit_a=p.k_a, i_offset_a=p.x0_a, i_max_a=30e-3, timing=tm)
    wf = simulate(circ.testbench, "batch")
    got = np.array([wf.at(f"ro0_{j}", tm.sample_s(0)) for j in range(6)]) / AnnCircuitOptions().v_read_v
    np.testing.assert_allclose(got, ref, atol=0.01)


@pytest.mark.ngspice
def test_cosim_report_comes_from_the_simulation(tiny, tmp_path) -> None:
    from spinspice.cosim.runs import run

    # `spinspice cosim CKPT` unchanged: the spiking settings are ignored for an ANN checkpoint
    res = run(tiny.checkpoint, samples=[0], out=tmp_path / "a", workers=1, mode="stepped", synapse="ideal")
    r = res.report()
    for key in (
        "activation_error_rms",
        "class_agreement",
        "torch_accuracy",
        "circuit_accuracy",
        "settling_latency_s",
        "inference_latency_s",
        "energy_per_inference_j",
        "energy_per_inference_by_component_j",
        "layers",
    ):
        assert key in r
    assert r["activation_error_rms"] < 0.01 and r["class_agreement"] == 1.0
    assert len(r["layers"]) == 2 and r["layers"][0]["n_neurons"] == 16
    assert {"report.json", "report.md"} <= {p.name for p in (tmp_path / "a").iterdir()}
    assert json.loads((tmp_path / "a" / "report.json").read_text())["schema"] == "spinspice.cogd_ann_cosim"
    # the RESET energy is what the simulated supply delivered: |V_ss| |I_reset| over the pulse
    c = r["circuit"]
    tm = c["timing"]
    pulse_s = tm["t_reset_s"] + tm["t_edge_s"]  # plateau + two half edges
    expected = 26 * abs(c["options"]["v_ss_w_v"]) * abs(tm["i_reset_a"]) * pulse_s
    assert r["energy_per_inference_by_component_j"]["reset_driver"] == pytest.approx(expected, rel=0.02)
    # a slower device in the same windows: the figures move with it
    from spinspice.cosim.ann import cosim_cogd_ann

    s = cosim_cogd_ann(tiny.checkpoint, samples=[0], out=None, workers=1, device_params={"tau_sw_s": 2e-3})
    s = s.report()
    assert s["settling_latency_s"]["mean"] > 1.25 * r["settling_latency_s"]["mean"]
    assert s["activation_error_rms"] > 2 * r["activation_error_rms"]
    assert s["device"]["tau_sw_s"] == 2e-3 and s["trained_device"]["tau_sw_s"] == 1e-3


@pytest.mark.ngspice
def test_netlist_runs_in_plain_ngspice(tiny, tmp_path) -> None:
    from spinspice.cosim.ann import write_cogd_netlists
    from spinspice.sim.backends import BatchBackend

    res = write_cogd_netlists(tiny.checkpoint, sample=2, out=tmp_path)
    man = json.loads((tmp_path / "manifest.json").read_text())
    assert man["kind"] == "cogd-ann" and man["file"] == "network.cir"
    proc = subprocess.run(
        [BatchBackend().executable(), "-b", "network.cir"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "ro1_0" in proc.stdout.lower()
    wf = BatchBackend().run((tmp_path / "network.cir").read_text())
    t = man["circuit"]["sample_times_s"][-1]
    v_read = man["circuit"]["options"]["v_read_v"]
    got = [
        np.interp(t, wf.time_s, np.real(wf.vectors[man["probes"][f"ro1_{j}"]["vector"]])) / v_read
        for j in range(10)
    ]
    np.testing.assert_allclose(got, man["torch_activations"][-1], atol=0.01)
    assert "ngspice -b network.cir" in res.summary()
