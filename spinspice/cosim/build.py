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
from typing import Any

import numpy as np
import torch

from spinspice.circuits.network import CrossbarOptions, LayerCircuit, layer_drive_limit, layer_testbench
from spinspice.circuits.synapses import LayerMapping, SynapseDevice, map_layer
from spinspice.errors import ModelParameterError
from spinspice.snn.arch import SpikingNet
from spinspice.snn.neurons import DeviceNeuron, RowScheduledNeuron

__all__ = [
    "LAYER_SKEW_S",
    "NetworkCircuits",
    "check_circuit_network",
    "expected_spikes",
    "map_network",
    "network_circuits",
    "torch_record",
]

#: in a whole-network netlist, layer k runs k * LAYER_SKEW_S behind layer 0: its spike latch
#: (flip-flops + 10 ps DAC edges) has settled before the next layer's read pulses start
LAYER_SKEW_S = 50e-12


@dataclasses.dataclass(frozen=True)
class NetworkCircuits:
    layers: tuple[LayerCircuit, ...]
    mappings: tuple[LayerMapping, ...]
    inputs: tuple[np.ndarray, ...]  # per layer (steps, n_in)
    torch_spikes: tuple[np.ndarray, ...]  # per layer (steps, n_out), the trained network
    expected_spikes: tuple[np.ndarray, ...]  # per layer, torch neuron on the mapped conductances
    prediction: int
    label: int | None


def expected_spikes(
    neuron: DeviceNeuron,
    inputs: np.ndarray,
    mapping: LayerMapping,
    options: CrossbarOptions,
    n_sub: int | None = None,
) -> np.ndarray:
    """(steps, neurons) bool: the spike steps the circuit of a layer should give for
    ``inputs`` -- the torch neuron on the realised conductances.

    Row by row, array row ``r`` is written in write slot ``r`` of the ``n_sub`` (default: the
    array's rows) of each network slot: :class:`~spinspice.snn.neurons.RowScheduledNeuron`,
    the timing a network trained with ``--schedule rows`` has.
    """
    x = mapping.drive(inputs)
    xt = torch.as_tensor(x, dtype=torch.float64)
    n_rows, n_cols = options.array_shape(x.shape[1])
    cell = neuron.cell.network_cell()
    i_unit = float(cell.drive_current(neuron.slot.replace(amplitude=neuron.u_unit)).amplitude)
    u_max = layer_drive_limit(cell, i_unit, x.shape[1], options, neuron.u_max)
    n_sub = n_rows if n_sub is None else n_sub
    if not options.multiplexed or n_sub == 1:
        # one write slot per step, whatever schedule the network was trained with
        stepper = DeviceNeuron(neuron.cell, slot=neuron.slot, u_unit=neuron.u_unit, u_max=u_max)
    else:
        stepper = RowScheduledNeuron(
            neuron.cell,
            n_neurons=x.shape[1],
            array_cols=n_cols,
            slots_per_step=n_sub,
            slot=neuron.slot,
            u_unit=neuron.u_unit,
            u_max=u_max,
        )
    state, out = None, []
    with torch.no_grad():
        for t in range(len(xt)):
            s, state = stepper(xt[t : t + 1], state)
            out.append(s[0].numpy())
    return np.asarray(out) > 0.5


def torch_record(net: SpikingNet, image: np.ndarray, seed: int) -> tuple[torch.Tensor, dict[str, Any]]:
    """The trained network on one image (flattened features), input spikes seeded with
    ``seed``: (output spike counts ``(1, classes)``, the record of encoded inputs and every
    layer's spikes per step)."""
    x = torch.as_tensor(np.asarray(image, np.float32)[None, :])
    with torch.no_grad():
        return net(x, generator=torch.Generator().manual_seed(seed), record=True)


def map_network(
    net: SpikingNet,
    device: SynapseDevice,
    *,
    clip_percentile: float = 100.0,
    variability: float = 0.0,
    seed: int = 0,
) -> tuple[LayerMapping, ...]:
    """Every layer's weights and biases as conductances of ``device`` (layer ``k`` varied with
    seed ``seed + k``): the one mapping that netlists and co-simulations share."""
    return tuple(
        map_layer(
            syn.weight.detach().double().numpy(),
            syn.bias.detach().double().numpy(),
            device,
            clip_percentile=clip_percentile,
            variability=variability,
            seed=seed + k,
        )
        for k, syn in enumerate(net.synapses)
    )


def check_circuit_network(net: SpikingNet) -> None:
    """Refuse, with the way out, networks whose layers have no circuit here."""
    for k, syn in enumerate(net.synapses):
        if not isinstance(syn, torch.nn.Linear):
            raise ModelParameterError(
                f"layer {k} is convolutional: circuits are generated for fully connected layers only"
            )
        if not isinstance(net.neurons[k], DeviceNeuron):
            raise ModelParameterError(
                f"layer {k} has ideal-LIF neurons, which have no device circuit: train with a device "
                "neuron (--neuron dw-lif) or swap them (import-snntorch --neuron)"
            )
        if net.neurons[k].stochastic:
            raise ModelParameterError(
                f"layer {k}: stochastic neurons ({net.neurons[k].model}) are not supported in network "
                "circuits yet"
            )


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
    single: bool = False,
) -> NetworkCircuits:
    """Circuits of every layer of ``net`` for one input ``image`` (flattened features).

    ``single``: the layers are built to run together in one netlist
    (:func:`~spinspice.circuits.network.network_testbench`): layer ``k > 0`` reads the
    previous layer's latched spikes, each layer runs ``LAYER_SKEW_S`` after the one before
    (so a latch settles before the next layer reads it), all share one network slot (row by
    row: the largest array's rows), and every layer's expected spikes follow from the
    previous layer's *expected* spikes (what the circuit feeds it), not from torch's.
    """
    check_circuit_network(net)
    options = options or CrossbarOptions()
    counts, rec = torch_record(net, image, seed)
    steps = net.config.steps
    n_layers = len(net.synapses)
    n_sub = None
    if single:
        n_sub = (
            max(options.array_shape(s.weight.shape[0])[0] for s in net.synapses) if options.multiplexed else 1
        )
        t_off = min(n.slot.t_off_s for n in net.neurons)  # type: ignore[attr-defined]
        if (n_layers - 1) * LAYER_SKEW_S > t_off / 2:
            raise ModelParameterError(
                f"{n_layers} layers skewed by {LAYER_SKEW_S:g} s each do not fit in half the "
                f"{t_off:g} s OFF part of a slot: write one netlist per layer (drop --single)"
            )
        period = net.neurons[0].slot.period_s  # type: ignore[attr-defined]
        if any(n.slot.period_s != period for n in net.neurons):  # type: ignore[attr-defined]
            raise ModelParameterError("--single needs one write slot for every layer")
        t_stop = steps * n_sub * period + (n_layers - 1) * LAYER_SKEW_S
    mappings = map_network(net, device, clip_percentile=clip_percentile, variability=variability, seed=seed)
    inputs, torch_spikes, expected, layers = [], [], [], []
    for k, (syn, mapping) in enumerate(zip(net.synapses, mappings, strict=True)):
        if k == 0:
            inp = torch.cat(rec["encoded"]).numpy().astype(float)
        else:
            prev = expected[-1] if single else torch.cat(rec["spikes"][k - 1]).numpy()
            inp = np.concatenate([np.zeros((1, prev.shape[1])), prev[:-1]], axis=0).astype(float)
        w = syn.weight.detach().double().numpy()
        neuron: DeviceNeuron = net.neurons[k]  # type: ignore[assignment]
        skew = k * LAYER_SKEW_S if single else 0.0
        circuit = layer_testbench(
            neuron.cell.network_cell(),
            neuron.slot.replace(t_delay_s=neuron.slot.t_delay_s + skew),
            neuron.u_unit,
            mapping,
            inp,
            options,
            weight_mask=w != 0,
            title=(
                f"spinspice network layer {k} of {net.config.arch!r}: {w.shape[1]} inputs x "
                f"{w.shape[0]} {neuron.model} neurons"
            ),
            n_sub=n_sub,
            latched_inputs=single and k > 0,
            output_latch=skew if single and k < n_layers - 1 else None,
            t_stop_s=t_stop if single else None,
            drive_limit=neuron.u_max,
        )
        inputs.append(inp)
        torch_spikes.append(torch.cat(rec["spikes"][k]).numpy() > 0.5)
        expected.append(expected_spikes(neuron, inp, mapping, options, n_sub))
        layers.append(circuit)
    assert len(torch_spikes[-1]) == steps
    return NetworkCircuits(
        tuple(layers),
        mappings,
        tuple(inputs),
        tuple(torch_spikes),
        tuple(expected),
        int(counts.argmax(1)),
        label,
    )
