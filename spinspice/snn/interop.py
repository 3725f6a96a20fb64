"""Import plain snnTorch networks into the spinspice checkpoint format.

Accepted: an ``nn.Sequential`` of ``nn.Linear`` / ``nn.Conv2d`` (stride 1,
symmetric integer padding), ``nn.MaxPool2d`` (stride = kernel), ``nn.Flatten``,
``nn.Dropout`` / ``nn.Identity`` (no-ops at inference) and ``snntorch.Leaky``
(scalar ``beta`` and ``threshold``, reset by subtraction or to zero), each
synapse layer followed by exactly one ``Leaky``.  A max-pool between a
synapse and its ``Leaky`` pools the drive (the snnTorch tutorial order), one
after the ``Leaky`` pools the spikes (paper 001).

The imported network keeps snnTorch's LIF neurons (:class:`~spinspice.snn.neurons.LeakyNeuron`
is ``snntorch.Leaky`` step for step); its timing becomes the circuit's (a
spike of layer l in step t drives layer l+1 in step t+1), so its accuracy is
measured again rather than assumed.  :func:`swap_neurons` then puts a device
model in place of the LIF neurons for fine-tuning -- the synaptic weights
carry over meaningfully because one input unit of a device neuron is the
drive that takes it from rest to threshold in one write pulse, as one unit
takes an ideal LIF (threshold 1) there.

snnTorch itself is not needed: modules are recognised by their class name
and attributes.
"""

from __future__ import annotations

import dataclasses
import runpy
from pathlib import Path
from typing import Any

import torch
from torch import nn

from spinspice.circuits.network import V_MAX_SUPPLY_V
from spinspice.errors import CheckpointError, ModelParameterError
from spinspice.snn.arch import NetConfig, SpikingNet
from spinspice.snn.neurons import neuron_spec

__all__ = ["from_snntorch", "load_module", "swap_neurons"]


def _is_leaky(m: nn.Module) -> bool:
    return type(m).__name__ == "Leaky" and type(m).__module__.startswith("snntorch")


def _scalar(m: nn.Module, name: str) -> float:
    v = getattr(m, name, None)
    if isinstance(v, torch.Tensor):
        if v.numel() != 1:
            raise ModelParameterError(
                f"snntorch.Leaky with a per-neuron {name} ({v.numel()} values) cannot be imported: "
                "a layer of spinspice neurons shares one parameter set"
            )
        value = v.detach().reshape(())
        # a float32 parameter keeps the digits it has (0.8, not 0.800000011920929)
        return float(f"{float(value):.7g}") if value.dtype == torch.float32 else float(value)
    if isinstance(v, (int, float)):
        return float(v)
    raise ModelParameterError(f"snntorch.Leaky: cannot read its {name} ({v!r})")


def _leaky_params(m: nn.Module) -> dict[str, Any]:
    reset = getattr(m, "reset_mechanism", "subtract")
    if reset not in ("subtract", "zero"):
        raise ModelParameterError(
            f"snntorch.Leaky with reset_mechanism={reset!r}: only 'subtract' and 'zero' have a circuit"
        )
    beta = _scalar(m, "beta")
    if not 0 <= beta <= 1:
        raise ModelParameterError(f"snntorch.Leaky beta = {beta}: must lie in [0, 1]")
    return {"beta": beta, "u_thr": _scalar(m, "threshold"), "reset_subtract": reset == "subtract"}


def _padding(conv: nn.Conv2d) -> int:
    pad = conv.padding
    if isinstance(pad, str) or len(set(pad)) != 1:
        raise ModelParameterError(f"{conv}: only a symmetric integer padding can be imported")
    if set(conv.stride) != {1} or set(conv.dilation) != {1} or conv.groups != 1:
        raise ModelParameterError(f"{conv}: only stride 1, dilation 1 and groups 1 can be imported")
    if len(set(conv.kernel_size)) != 1:
        raise ModelParameterError(f"{conv}: only square kernels can be imported")
    return int(pad[0])


def from_snntorch(
    seq: nn.Module,
    *,
    image_shape: tuple[int, int, int],
    n_classes: int,
    steps: int = 25,
    encoding: str = "rate",
) -> SpikingNet:
    """A :class:`SpikingNet` with the weights and LIF parameters of the snnTorch ``seq``."""
    if not isinstance(seq, nn.Sequential):
        raise ModelParameterError(f"expected an nn.Sequential, got {type(seq).__name__}")
    layers: list[dict[str, Any]] = []
    weights: list[tuple[torch.Tensor, torch.Tensor | None]] = []
    neurons: list[dict[str, Any]] = []
    flatten_next = False
    for i, m in enumerate(seq):
        where = f"layer {i} ({type(m).__name__})"
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            if len(neurons) < len(layers):
                raise ModelParameterError(f"{where}: two synapse layers without a Leaky between them")
            if isinstance(m, nn.Linear):
                spec: dict[str, Any] = {"kind": "linear", "in": m.in_features, "out": m.out_features}
                if flatten_next or (layers and layers[-1]["kind"] == "conv"):
                    spec["flatten"] = True
            else:
                spec = {
                    "kind": "conv",
                    "in": m.in_channels,
                    "out": m.out_channels,
                    "kernel": int(m.kernel_size[0]),
                    "padding": _padding(m),
                }
            flatten_next = False
            layers.append(spec)
            weights.append((m.weight.detach(), None if m.bias is None else m.bias.detach()))
        elif isinstance(m, nn.MaxPool2d):
            k = m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0]
            stride = m.stride if isinstance(m.stride, int) else m.stride[0]
            if not layers or layers[-1]["kind"] != "conv" or "pool" in layers[-1] or stride != k:
                raise ModelParameterError(
                    f"{where}: a max-pool (stride = kernel) must follow a Conv2d, once per layer"
                )
            layers[-1]["pool"] = int(k)
            layers[-1]["pool_drive"] = len(neurons) < len(layers)  # before its Leaky: pools the drive
        elif isinstance(m, nn.Flatten):
            flatten_next = True
        elif isinstance(m, (nn.Dropout, nn.Identity)):
            continue
        elif _is_leaky(m):
            if len(neurons) != len(layers) - 1:
                raise ModelParameterError(f"{where}: a Leaky must follow exactly one Linear or Conv2d")
            neurons.append(_leaky_params(m))
        else:
            raise ModelParameterError(
                f"{where}: cannot be imported; supported are Linear, Conv2d, MaxPool2d, Flatten, "
                "Dropout, Identity and snntorch.Leaky"
            )
    if not layers or len(neurons) != len(layers):
        raise ModelParameterError("the network must end with a Leaky after its last synapse layer")
    n_in = image_shape[0] * image_shape[1] * image_shape[2]
    if layers[0]["kind"] == "linear" and layers[0]["in"] != n_in:
        raise ModelParameterError(
            f"the first Linear takes {layers[0]['in']} inputs but the data have {n_in} features"
        )
    if layers[-1]["out"] != n_classes:
        raise ModelParameterError(
            f"the last layer has {layers[-1]['out']} outputs but the data have {n_classes} classes"
        )
    shared = all(n == neurons[0] for n in neurons)
    if not shared:
        for spec, params in zip(layers, neurons, strict=True):
            spec["neuron"] = neuron_spec("lif", params=params)
    config = NetConfig(
        arch="snntorch-import",
        layers=tuple(layers),
        neuron=neuron_spec("lif", params=neurons[0]),
        steps=steps,
        encoding=encoding,
        image_shape=tuple(image_shape),  # type: ignore[arg-type]
        n_classes=n_classes,
    )
    net = SpikingNet(config)
    try:
        with torch.no_grad():
            for syn, (w, b) in zip(net.synapses, weights, strict=True):
                syn.weight.copy_(w)
                if b is None:
                    syn.bias.zero_()
                else:
                    syn.bias.copy_(b)
    except RuntimeError as err:
        raise ModelParameterError(f"the snnTorch weights do not fit the data's shapes: {err}") from None
    return net.eval()


def swap_neurons(net: SpikingNet, neuron: dict[str, Any]) -> SpikingNet:
    """The same synapses with every layer's neurons replaced by ``neuron`` (a ``neuron_spec``);
    device neurons are drive-aware (:data:`~spinspice.circuits.network.V_MAX_SUPPLY_V`)."""
    layers = tuple({k: v for k, v in spec.items() if k != "neuron"} for spec in net.config.layers)
    limit = None if neuron["model"] == "lif" else V_MAX_SUPPLY_V
    config = dataclasses.replace(net.config, layers=layers, neuron=dict(neuron), drive_limit_v=limit)
    new = SpikingNet(config)
    new.load_state_dict(net.state_dict(), strict=True)
    return new.eval()


def load_module(source: str, *, weights: str | Path | None = None) -> nn.Module:
    """The snnTorch network named by ``source``.

    ``file.py:function`` runs ``function()`` of that file (the user's own code, as when
    they run it themselves); it returns the network.  ``weights`` is an optional
    ``state_dict`` file loaded into it with ``torch.load(..., weights_only=True)``.  A whole
    pickled module is refused: unpickling runs whatever code the file carries (SPEC 7).
    """
    path_text, sep, func = source.rpartition(":")
    if not (sep and path_text.endswith(".py")):
        raise CheckpointError(
            f"{source}: give file.py:function that builds the network (a whole pickled module is not "
            "loaded: unpickling runs code); save its weights with torch.save(net.state_dict(), F) and "
            "pass --weights F"
        )
    path = Path(path_text)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist")
    scope = runpy.run_path(str(path))
    if func not in scope or not callable(scope[func]):
        raise CheckpointError(f"{path} defines no function {func}()")
    module = scope[func]()
    if isinstance(module, nn.Module) and weights is not None:
        try:
            state = torch.load(Path(weights), map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise CheckpointError(f"weights file {weights} does not exist") from None
        except Exception as err:
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            raise CheckpointError(f"{weights}: not a state_dict of plain tensors: {first}") from None
        if not isinstance(state, dict):
            raise CheckpointError(f"{weights}: holds a {type(state).__name__}, not a state_dict")
        try:
            module.load_state_dict(state, strict=True)
        except RuntimeError as err:
            first = str(err).strip().splitlines()[0]
            raise CheckpointError(f"{weights}: the weights do not fit {source}: {first}") from None
    if not isinstance(module, nn.Module):
        raise CheckpointError(f"{source} did not give an nn.Module but {type(module).__name__}")
    return module
