"""Convolutional layers as circuits (paper 001's CSNN): ``csnn:ITEMS`` architectures, the
convolution unrolled onto crossbar tiles, spike max-pooling as OR gates of latched spikes,
in plain ngspice and in the co-simulation."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import torch
from conftest import digits_config, trained_digits_checkpoint

from spinspice.circuits.synapses import get_synapse_device, map_layer
from spinspice.cli import main
from spinspice.cosim.build import check_circuit_network, network_geometry
from spinspice.cosim.verify import check_raw
from spinspice.errors import ModelParameterError
from spinspice.snn.arch import NetConfig, SpikingNet, parse_arch
from spinspice.snn.neurons import neuron_spec


@pytest.fixture(scope="module")
def conv_checkpoint(tmp_path_factory):
    """csnn:2c5-p2-10 (8x8 digits: 32 conv neurons in 16 tiles of 25 + 1 rows, 8 pooled
    outputs, 10 outputs), DW-LIF, 10 steps, one short epoch."""
    cfg = digits_config("csnn:2c5-p2-10", neuron_spec("dw-lif"), 10, drive_limit_v=3.3)
    settings = {"epochs": 1, "batch_size": 16, "lr": 5e-3, "max_train": 512}
    return trained_digits_checkpoint(tmp_path_factory.mktemp("conv"), cfg, **settings)


def test_csnn_items_parse_to_layers() -> None:
    layers = parse_arch("csnn:4c3-p2-8c2-10", (1, 8, 8), 10)
    assert [x["kind"] for x in layers] == ["conv", "conv", "linear"]
    assert layers[0] == {"kind": "conv", "in": 1, "out": 4, "kernel": 3, "padding": 0, "pool": 2}
    assert layers[1]["in"] == 4 and "pool" not in layers[1]
    assert layers[2] == {"kind": "linear", "in": 8 * 2 * 2, "out": 10, "flatten": True}
    # paper 001's CSNN on 28x28 images is csnn:32c5-p2-64c5-p2-10
    assert parse_arch("paper001-csnn", (1, 28, 28), 10) == parse_arch(
        "csnn:32c5-p2-64c5-p2-10", (1, 28, 28), 10
    )
    for bad in (
        "csnn:4c3-p2",
        "csnn:p2-10",
        "csnn:4c9-10",
        "csnn:4x3-10",
        "csnn:4c3-p2-p2-10",
        "csnn:4c3-12",
    ):
        with pytest.raises(ModelParameterError, match="csnn"):
            parse_arch(bad, (1, 8, 8), 10)


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1)])
def test_unrolled_convolution_is_the_convolution(stride, padding) -> None:
    """The crossbar of a convolution (kernel replicated per output position) gives the
    convolution's drive, and the OR of each pool window is the max-pool of the spikes."""
    cfg = NetConfig(
        arch="custom",
        layers=(
            {"kind": "conv", "in": 2, "out": 3, "kernel": 3, "padding": padding, "pool": 2},
            {"kind": "linear", "in": 3 * 3 * 3 if stride == 1 else 3 * 2 * 2, "out": 4, "flatten": True},
        ),
        neuron=neuron_spec("dw-lif"),
        image_shape=(2, 8, 8),
        n_classes=4,
    )
    net = SpikingNet(cfg)
    if stride != 1:
        net.synapses[0].stride = (stride, stride)
    geo = network_geometry(net)[0]
    x = torch.rand(5, 2, 8, 8, dtype=torch.float64)
    conv = net.synapses[0].double()
    want = conv(x).reshape(5, -1).detach().numpy()
    got = x.reshape(5, -1).numpy() @ geo.weight.T + geo.bias
    np.testing.assert_allclose(got, want, atol=1e-12)
    c_out, h, w = geo.out_shape
    assert geo.mask.sum(axis=1).max() <= 2 * 3 * 3  # a tile's rows: the receptive field
    assert geo.describe()["conv"]["tiles"] == h * w
    spikes = np.random.default_rng(0).random((6, geo.n_out)) < 0.15
    pooled = torch.nn.functional.max_pool2d(
        torch.tensor(spikes, dtype=torch.float32).reshape(6, c_out, h, w), 2
    )
    np.testing.assert_array_equal(geo.pooled(spikes), pooled.reshape(6, -1).numpy() > 0.5)


def test_structural_zeros_stay_out_of_the_mapping() -> None:
    """Absent synapses of an unrolled convolution set neither the clipping scale nor the
    mapping errors, and carry no current even with device variability."""
    w = np.array([[0.5, 0.0, -1.0], [0.0, 0.25, 0.0]])
    mask = np.array([[True, False, True], [False, True, True]])
    device = get_synapse_device("ideal", None)
    bias = np.array([0.1, 0.2])
    full = map_layer(w, bias, device, clip_percentile=50)
    masked = map_layer(w, bias, device, clip_percentile=50, mask=mask, variability=0.2)
    # the median of the 4 real weights and the 2 biases (0.225), not of all 8 entries (0.15)
    assert masked.w_clip == pytest.approx(0.225) and full.w_clip == pytest.approx(0.15)
    assert masked.errors["n_weights"] == mask.sum() + 2
    assert np.all(masked.g_pos_s[~np.c_[mask, [True, True]]] == masked.g_neg_s[~np.c_[mask, [True, True]]])


def test_drive_pooling_has_no_circuit() -> None:
    cfg = NetConfig(
        arch="custom",
        layers=(
            {"kind": "conv", "in": 1, "out": 2, "kernel": 3, "padding": 0, "pool": 2, "pool_drive": True},
            {"kind": "linear", "in": 18, "out": 10, "flatten": True},
        ),
        neuron=neuron_spec("dw-lif"),
        image_shape=(1, 8, 8),
    )
    with pytest.raises(ModelParameterError, match="pool the spikes after the neurons"):
        check_circuit_network(SpikingNet(cfg))


@pytest.mark.ngspice
def test_conv_netlists_run_in_plain_ngspice_and_pool_by_or(conv_checkpoint, tmp_path, capsys) -> None:
    exe = shutil.which("ngspice")
    assert exe
    code = main(["netlist", str(conv_checkpoint), "--out", str(tmp_path), "--sample", "0", "--json"])
    man = json.loads(capsys.readouterr().out)
    assert code == 0
    conv, fc = man["layers"]
    assert conv["kind"] == "conv" and conv["conv"]["tiles"] == 16 and conv["conv"]["tile_rows"] == 26
    assert conv["n_neurons"] == 32 and conv["pool"]["or_gates"] == 8 and conv["conv"]["replication"] == 16
    assert fc["n_inputs"] == 8 and fc["kind"] == "linear"
    spikes = pooled = 0
    for layer in man["layers"]:
        raw = tmp_path / f"{layer['file']}.raw"
        run = subprocess.run(
            [exe, "-b", "-r", raw.name, layer["file"]], cwd=tmp_path, capture_output=True, text=True
        )
        assert run.returncode == 0, run.stderr[-2000:]
        res = check_raw(tmp_path, man, raw)
        assert res["all_match"], res["layers"][0]["mismatched"][:3]
        for lay in res["layers"]:
            spikes += sum(len(n["expected_slots"]) for n in lay["neurons"])
            pooled += sum(len(p["expected_slots"]) for p in lay.get("pools", []))
    assert spikes >= 15 and pooled >= 5  # the network spikes: the comparison says something


@pytest.mark.ngspice
def test_conv_network_cosimulates(conv_checkpoint, tmp_path, capsys) -> None:
    code = main(["cosim", str(conv_checkpoint), "--samples", "1", "--out", str(tmp_path), "--trace", "none"])
    assert code == 0, capsys.readouterr().err
    r = json.loads((tmp_path / "report.json").read_text())
    assert r["spike_agreement"] >= 0.95 and r["samples"][0]["circuit_spikes"] >= 15
    conv, fc = r["layers"]
    assert conv["kind"] == "conv" and conv["n_neurons"] == 32 and conv["n_outputs"] == 8
    assert fc["n_inputs"] == 8 and conv["circuit_spikes_per_image"] >= 10


def test_verify_summary_names_mismatched_neurons_and_pools() -> None:
    from spinspice.cosim.verify import VerifyResult

    neuron = {"neuron": 3, "circuit_slots": [22], "expected_slots": [21], "circuit_start_slots": [22.0205]}
    pool = {"pool": 1, "circuit_slots": [], "expected_slots": [4]}
    layer = {
        "index": 0,
        "file": "layer0.cir",
        "n_neurons": 4,
        "matched_neurons": 3,
        "mismatched": [neuron, pool],
        "neurons": [],
        "pools": [pool, {"pool": 0, "circuit_slots": [2], "expected_slots": [2]}],
        "matched_pools": 1,
    }
    text = VerifyResult({"layers": [layer], "all_match": False}).summary()
    assert "3/4 neurons" in text and "1/2 max-pool outputs" in text
    assert "neuron 3: circuit [22], expected [21] (spikes start at slot [22.0205])" in text
    assert "max-pool output 1: circuit [], expected [4]" in text


def test_verify_matches_within_the_cosim_tolerance() -> None:
    """A spike one slot late passes at +-1 (as the co-simulation's agreement counts it) and is
    listed as shifted; a missing or extra spike fails at any tolerance."""
    from spinspice.cosim.verify import VerifyResult, _agrees

    assert _agrees([1, 4, 22], [1, 4, 21], 1) and not _agrees([1, 4, 22], [1, 4, 21], 0)
    assert not _agrees([1, 4], [1, 4, 21], 1) and not _agrees([1, 2, 4], [1, 4], 1)
    assert not _agrees([1, 3], [1, 5], 1)
    shifted = {"neuron": 90, "circuit_slots": [22], "expected_slots": [21], "circuit_start_slots": [22.02]}
    layer = {
        "index": 0,
        "file": "layer0.cir",
        "n_neurons": 2,
        "matched_neurons": 2,
        "exact_neurons": 1,
        "mismatched": [],
        "shifted": [shifted],
        "neurons": [],
    }
    text = VerifyResult({"layers": [layer], "all_match": True, "tolerance_slots": 1}).summary()
    assert "2/2 neurons spike in the expected slots (+-1, 1 in the same slot)" in text
    assert "1 of them with a spike one slot off" in text and "neuron 90: circuit [22]" in text
