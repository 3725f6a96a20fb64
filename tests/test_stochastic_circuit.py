"""Stochastic DW-MTJ layers (paper 004): the noise realisation torch drew is what a layer's
netlist carries, one PWL velocity-factor source per neuron, and what its expected spikes use."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import digits_config

from spinspice.circuits.cellbase import Stimulus
from spinspice.circuits.core import VoltageSource
from spinspice.circuits.network import CrossbarOptions, layer_testbench
from spinspice.circuits.synapses import get_synapse_device, map_layer
from spinspice.cosim.build import check_circuit_network, expected_spikes, layer_noise, torch_record
from spinspice.errors import ModelParameterError
from spinspice.snn.arch import SpikingNet
from spinspice.snn.neurons import make_neuron, neuron_spec


def test_the_record_holds_each_neurons_velocity_factors() -> None:
    net = SpikingNet(digits_config("fc:64-8-10", neuron_spec("dw-mtj-autoreset"), 6))
    image = np.full(64, 0.5, np.float32)
    _, rec = torch_record(net, image, 3)
    nz = layer_noise(rec, 0, net.neurons[0])
    assert nz.shape == (6, 8) and 0.15 < nz.std() < 0.45 and len(np.unique(nz)) == nz.size
    _, again = torch_record(net, image, 3)
    np.testing.assert_array_equal(layer_noise(again, 0, net.neurons[0]), nz)  # seeded by the image
    _, other = torch_record(net, image, 4)
    assert not np.array_equal(layer_noise(other, 0, net.neurons[0]), nz)
    with pytest.raises(ModelParameterError, match="stochastic neurons"):
        check_circuit_network(net)


def test_each_neuron_gets_its_factors_and_the_model_uses_the_same() -> None:
    neuron = make_neuron(neuron_spec("dw-mtj-autoreset"), drive_limit_v=3.3)  # the write path's limit
    rng = np.random.default_rng(0)
    mapping = map_layer(rng.normal(0.4, 0.3, (3, 4)), np.zeros(3), get_synapse_device("ideal", None))
    inputs = (rng.random((5, 4)) < 0.7).astype(float)
    noise = 1.0 + 0.3 * rng.standard_normal((5, 3))
    cell = neuron.cell.network_cell()
    options = CrossbarOptions()
    lc = layer_testbench(
        cell, neuron.slot, neuron.u_unit, mapping, inputs, options, noise=noise, drive_limit=neuron.u_max
    )
    sources = {e.name: e for e in lc.testbench.elements if isinstance(e, VoltageSource)}
    for j in range(3):
        inst = next(e for e in lc.testbench.elements if getattr(e, "name", "") == f"n{j}")
        assert f"nz{j}" in inst.conns
        want = Stimulus("nz", neuron.slot.period_s, tuple(noise[:, j])).pwl_points()
        assert sources[f"noise{j}"].wave.points == want
    # the expected spikes follow the factors: slow walls (0.5) spike later than fast ones (1.5)
    slow = expected_spikes(neuron, inputs, mapping, CrossbarOptions(), noise=np.full((5, 3), 0.5))
    fast = expected_spikes(neuron, inputs, mapping, CrossbarOptions(), noise=np.full((5, 3), 1.5))
    assert fast.sum() > slow.sum()
    assert slow.shape == (5, 3)
