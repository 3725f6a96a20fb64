"""Reproducible figures (issue 19): every test image draws its input spikes and neuron noise
from its own generator, ``image_seed(seed, index)``, so the same checkpoint, data and seed give
the same per-image results in ``train``'s test pass, ``evaluate`` (any batch size) and the
co-simulation's torch reference."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import digits_config, trained_digits_checkpoint

from spinspice.circuits.synapses import get_synapse_device
from spinspice.cli import main
from spinspice.cosim.build import network_circuits, torch_record
from spinspice.errors import ModelParameterError
from spinspice.snn.arch import SpikingNet, image_seed
from spinspice.snn.checkpoint import load_checkpoint
from spinspice.snn.data import load_dataset
from spinspice.snn.neurons import neuron_spec
from spinspice.snn.train import evaluate


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def lif_net(tmp_path_factory):
    """A rate-coded ideal-LIF 64-16-10 network, trained briefly (its predictions vary by image)."""
    cfg = digits_config("fc:64-16-10", neuron_spec("lif"), 6)
    path = trained_digits_checkpoint(
        tmp_path_factory.mktemp("lif"), cfg, epochs=1, batch_size=32, lr=5e-3, max_train=512
    )
    return load_checkpoint(path).net


def _stochastic_net() -> SpikingNet:
    """Stochastic DW-MTJ neurons (paper 004, sigma 0.3), weights scaled so they spike."""
    torch.manual_seed(0)
    net = SpikingNet(digits_config("fc:64-10", neuron_spec("dw-mtj-autoreset"), 5))
    assert net.neurons[0].stochastic
    with torch.no_grad():
        net.synapses[0].weight.mul_(4.0)
    return net.eval()


def test_image_seed_is_distinct_and_fits_63_bits() -> None:
    seeds = {image_seed(s, i) for s in (0, 1, 7, 2**31 - 1) for i in range(2000)}
    assert len(seeds) == 4 * 2000 and all(0 <= v < 2**63 for v in seeds)
    # torch's CPU generator keeps the low 32 bits: those alone differ between a run's images
    assert len({image_seed(0, i) & (2**32 - 1) for i in range(20000)}) == 20000
    assert image_seed(3, 5) == image_seed(3, 5)
    with pytest.raises(ModelParameterError):
        image_seed(0, -1)


def test_rate_coded_predictions_do_not_depend_on_the_batch(lif_net, digits) -> None:
    x, y = digits.x_test[:150], digits.y_test[:150]
    runs = [evaluate(lif_net, x, y, batch_size=b, seed=0) for b in (1, 7, 128)]
    for r in runs[1:]:
        np.testing.assert_array_equal(r["predictions"], runs[0]["predictions"])
        assert r["accuracy"] == runs[0]["accuracy"] and r["loss"] == pytest.approx(runs[0]["loss"])
    # a row's spike counts are the same alone, in a batch, and in another order
    xb = torch.as_tensor(x[:7])
    seeds = [image_seed(0, i) for i in range(7)]
    with torch.no_grad():
        batch, _ = lif_net(xb, seeds=seeds)
        alone = torch.cat([lif_net(xb[i : i + 1], seeds=seeds[i : i + 1])[0] for i in range(7)])
        flipped, _ = lif_net(xb.flip(0), seeds=seeds[::-1])
    torch.testing.assert_close(batch, alone, rtol=0, atol=0)
    torch.testing.assert_close(batch, flipped.flip(0), rtol=0, atol=0)
    # the draws are the seed's: another run seed draws other input spikes
    with torch.no_grad():
        other, _ = lif_net(xb, seeds=[image_seed(1, i) for i in range(7)])
    assert not torch.equal(batch, other)


def test_stochastic_neurons_do_not_depend_on_the_batch(digits) -> None:
    net = _stochastic_net()
    x, y = digits.x_test[:24], digits.y_test[:24]
    runs = [evaluate(net, x, y, batch_size=b, seed=4) for b in (1, 7, 128)]
    assert runs[0]["mean_output_spikes"] > 0  # the neurons fire: the noise matters
    for r in runs[1:]:
        np.testing.assert_array_equal(r["predictions"], runs[0]["predictions"])
        assert r["accuracy"] == runs[0]["accuracy"]
    # the noise each image's neurons draw is its own: the same alone as in a batch of 5
    xb = torch.as_tensor(x[:5])
    seeds = [image_seed(4, i) for i in range(5)]
    with torch.no_grad():
        _, rec = net(xb, seeds=seeds, record=True)
        _, one = net(xb[3:4], seeds=seeds[3:4], record=True)
    noise = torch.stack(rec["noise"][0])  # (steps, batch, neurons)
    torch.testing.assert_close(noise[:, 3:4], torch.stack(one["noise"][0]), rtol=0, atol=0)
    assert len(torch.unique(noise)) == noise.numel()  # every image, step and neuron its own factor


def test_seeds_and_a_generator_together_are_refused(lif_net, digits) -> None:
    xb = torch.as_tensor(digits.x_test[:2])
    with pytest.raises(ModelParameterError, match="not both"):
        lif_net(xb, seeds=[1, 2], generator=torch.Generator())
    with pytest.raises(ModelParameterError, match="one seed per image"):
        lif_net(xb, seeds=[1])


def test_evaluate_reproduces_the_accuracy_train_recorded(tmp_path, capsys) -> None:
    ckpt = tmp_path / "m.pt"
    args = ["--dataset", "digits", "--arch", "fc:64-16-10", "--neuron", "lif", "--epochs", "1"]
    code = main(["train", *args, "--steps", "6", "--no-baseline", "--out", str(ckpt), "--json"])
    capsys.readouterr()
    assert code == 0
    recorded = json.loads((tmp_path / "m.metrics.json").read_text())
    for batch in ("128", "5"):
        assert main(["evaluate", str(ckpt), "--json", "--batch-size", batch]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["n_test"] == recorded["n_test"]
        assert report["test_accuracy"] == recorded["test_accuracy"]  # exactly, to the image


def test_cosim_torch_class_is_evaluates_prediction(lif_net, digits) -> None:
    seed, ids = 3, [0, 1, 17, 40]
    pred = evaluate(lif_net, digits.x_test[:41], digits.y_test[:41], batch_size=16, seed=seed)["predictions"]
    for i in ids:
        counts, _ = torch_record(lif_net, digits.x_test[i], image_seed(seed, i))
        assert int(counts.argmax(1)) == pred[i]
    # the netlist writer's torch prediction of test image i under the same seed
    nc = network_circuits(lif_net, digits.x_test[17], get_synapse_device("ideal", None), seed=seed, index=17)
    assert nc.prediction == pred[17]
