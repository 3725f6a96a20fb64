"""A trained checkpoint -> the circuits of its layers for one test sample (SPEC 4).

The network runs once in torch on sample ``K`` (seeded input spikes); every
layer's input spikes per write slot become its row drivers, and its weights
become conductances (:mod:`spinspice.circuits.synapses`).  Layers are
simulated separately, each driven by the spikes torch says its input layer
produced (one slot later, as in the network); ``expected`` spikes per layer
are recomputed by the torch neuron from the conductances the circuit really
has (quantised, clipped, varied), so a circuit run can be checked against
them spike by spike.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from spinspice.circuits.network import CrossbarOptions, LayerCircuit, layer_testbench
from spinspice.circuits.synapses import LayerMapping, SynapseDevice, map_layer
from spinspice.errors import ModelParameterError
from spinspice.snn.arch import SpikingNet
from spinspice.snn.neurons import DeviceNeuron

__all__ = ["NetworkCircuits", "network_circuits"]


@dataclasses.dataclass(frozen=True)
class NetworkCircuits:
    layers: tuple[LayerCircuit, ...]
    mappings: tuple[LayerMapping, ...]
    inputs: tuple[np.ndarray, ...]  # per layer (steps, n_in)
    torch_spikes: tuple[np.ndarray, ...]  # per layer (steps, n_out), the trained network
    expected_spikes: tuple[np.ndarray, ...]  # per layer, torch neuron on the mapped conductances
    prediction: int
    label: int | None


def _expected(neuron: DeviceNeuron, inputs: np.ndarray, mapping: LayerMapping) -> np.ndarray:
    xt = torch.as_tensor(mapping.drive(inputs), dtype=torch.float64)
    state, out = None, []
    with torch.no_grad():
        for t in range(len(xt)):
            s, state = neuron(xt[t : t + 1], state)
            out.append(s[0].numpy())
    return np.asarray(out) > 0.5


def network_circuits(
    net: SpikingNet,
    image: np.ndarray,
    device: SynapseDevice,
    *,
    label: int | None = None,
    options: CrossbarOptions | None = None,
    clip_percentile: float = 100.0,
    variability: float = 0.0,
    seed: int = 0,
) -> NetworkCircuits:
    """Circuits of every layer of ``net`` for one input ``image`` (flattened features)."""
    for k, syn in enumerate(net.synapses):
        if not isinstance(syn, torch.nn.Linear):
            raise ModelParameterError(
                f"layer {k} is convolutional: netlists are generated for fully connected layers only"
            )
        if not isinstance(net.neurons[k], DeviceNeuron):
            raise ModelParameterError(
                f"layer {k} has ideal-LIF neurons, which have no device circuit: train with a device "
                "neuron (--neuron dw-lif) or swap them (import-snntorch --neuron)"
            )
        if net.neurons[k].stochastic:
            raise ModelParameterError(
                f"layer {k}: stochastic neurons ({net.neurons[k].model}) are not supported in network "
                "netlists yet"
            )
    options = options or CrossbarOptions()
    x = torch.as_tensor(np.asarray(image, np.float32)[None, :])
    with torch.no_grad():
        counts, rec = net(x, generator=torch.Generator().manual_seed(seed), record=True)
    steps = net.config.steps
    inputs, torch_spikes, expected, layers, mappings = [], [], [], [], []
    for k, syn in enumerate(net.synapses):
        if k == 0:
            inp = torch.cat(rec["encoded"]).numpy().astype(float)
        else:
            prev = torch.cat(rec["spikes"][k - 1]).numpy()
            inp = np.concatenate([np.zeros((1, prev.shape[1])), prev[:-1]], axis=0)
        w = syn.weight.detach().double().numpy()
        b = syn.bias.detach().double().numpy()
        mapping = map_layer(
            w, b, device, clip_percentile=clip_percentile, variability=variability, seed=seed + k
        )
        neuron: DeviceNeuron = net.neurons[k]  # type: ignore[assignment]
        circuit = layer_testbench(
            neuron.cell.network_cell(),
            neuron.slot,
            neuron.u_unit,
            mapping,
            inp,
            options,
            weight_mask=w != 0,
            title=(
                f"spinspice network layer {k} of {net.config.arch!r}: {w.shape[1]} inputs x "
                f"{w.shape[0]} {neuron.model} neurons"
            ),
        )
        inputs.append(inp)
        torch_spikes.append(torch.cat(rec["spikes"][k]).numpy() > 0.5)
        expected.append(_expected(neuron, inp, mapping))
        layers.append(circuit)
        mappings.append(mapping)
    assert len(torch_spikes[-1]) == steps
    return NetworkCircuits(
        tuple(layers),
        tuple(mappings),
        tuple(inputs),
        tuple(torch_spikes),
        tuple(expected),
        int(counts.argmax(1)),
        label,
    )
