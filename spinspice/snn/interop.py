"""Import plain snnTorch networks into the spinspice checkpoint format.

Accepted: an ``nn.Sequential`` of ``nn.Linear`` / ``nn.Conv2d`` (stride 1,
symmetric integer padding), ``nn.MaxPool2d`` (stride = kernel), ``nn.Flatten``,
``nn.Dropout`` / ``nn.Identity`` (no-ops at inference) and ``snntorch.Leaky``
(scalar ``beta`` and ``threshold``, reset by subtraction or to zero), each
synapse layer followed by exactly one ``Leaky``.  A max-pool between a
synapse and its ``Leaky`` pools the drive (the snnTorch tutorial order), one
after the ``Leaky`` pools the spikes (paper 001).

The imported network keeps snnTorch's LIF neurons (:class:`~spinspice.snn.neurons.LeakyNeuron`
is ``snntorch.Leaky`` step for step) and snnTorch's timing (``same-step``: a spike of
layer l in step t drives layer l+1 in step t; the circuit runs each layer one write
slot behind the one before), so it spikes step for step as the snnTorch network; its
accuracy is measured again all the same.  :func:`swap_neurons` then puts a device
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
from spinspice.snn.nir_io import ImportedLeaky

__all__ = ["TracedChain", "from_snntorch", "load_module", "swap_neurons", "trace_chain"]


def _is_leaky(m: nn.Module) -> bool:
    return isinstance(m, ImportedLeaky) or (
        type(m).__name__ == "Leaky" and type(m).__module__.startswith("snntorch")
    )


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
        timing="same-step",  # snnTorch passes a spike on within the step
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


#: modules a traced chain may hold (the rest of the forward pass must be plain wiring)
_CHAIN_MODULES = (nn.Linear, nn.Conv2d, nn.MaxPool2d, nn.Flatten, nn.Dropout, nn.Identity)


@dataclasses.dataclass(frozen=True)
class TracedChain:
    """What one forward pass of a network written as a class does, in order.

    ``sequential``: its modules as the chain they form (one time step); ``steps_in_forward``:
    how many time steps ``forward`` ran itself (its own loop; 1 when the caller loops, as with
    ``init_hidden=True``); ``calls``: the module names called in one step."""

    sequential: nn.Sequential
    steps_in_forward: int
    calls: tuple[str, ...]


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
        return value[0]
    return None


def trace_chain(module: nn.Module, sample: torch.Tensor) -> TracedChain:
    """The chain of synapse, pooling and ``snntorch.Leaky`` modules that ``module`` (an
    ``nn.Module`` written as a class, snnTorch tutorial style) runs on ``sample``.

    One forward pass runs with forward hooks on every module it calls; the calls of one
    time step (the pattern that repeats when ``forward`` loops over time) are the chain.
    It is accepted only when it is the whole computation: each module must have received
    exactly what the module before it gave (the first one the sample, flattened or not), so
    arithmetic between modules (a scaled current, a residual sum, a functional pooling) is
    refused naming the module where it happens, and the chain run alone from fresh
    membranes must reproduce the module's own output spikes, step for step."""
    named = {id(m): name for name, m in module.named_modules() if name}
    calls: list[tuple[nn.Module, torch.Tensor, torch.Tensor]] = []

    def hook(m: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        x, y = _first_tensor(args), _first_tensor(output)
        if x is not None and y is not None:
            calls.append((m, x.detach().clone(), y.detach().clone()))

    watched = [m for m in module.modules() if m is not module and (_is_leaky(m) or not list(m.children()))]
    handles = [m.register_forward_hook(hook) for m in watched]
    # the image as it is, else flattened: the tutorials call net(data.view(batch_size, -1))
    shapes = [sample, sample.reshape(len(sample), -1)] if sample.dim() > 2 else [sample]
    try:
        for k, candidate in enumerate(shapes):
            calls.clear()
            try:
                _reset_leaky(module)
                with torch.no_grad():
                    module(candidate)
                sample = candidate
                break
            except Exception as err:  # the user's forward pass on one image
                if k == 0:
                    failure = (str(err).strip().splitlines() or [type(err).__name__])[0]
                if k == len(shapes) - 1:
                    raise ModelParameterError(
                        f"{type(module).__name__}: its forward pass failed on one image of shape "
                        f"{tuple(shapes[0].shape)}{' (and flattened)' if k else ''}: {failure}"
                    ) from None
    finally:
        for h in handles:
            h.remove()
    if not calls:
        raise ModelParameterError(f"{type(module).__name__}: its forward pass called no module")
    ids = [id(m) for m, _, _ in calls]
    n = len(ids)
    # one time step: the shortest pattern whose repetition is the whole call sequence
    period = next(p for p in range(1, n + 1) if n % p == 0 and all(ids[i] == ids[i % p] for i in range(n)))
    step = calls[:period]
    where = [named.get(id(m), type(m).__name__) for m, _, _ in step]
    for k, (m, _, _) in enumerate(step):
        if not (_is_leaky(m) or isinstance(m, _CHAIN_MODULES)):
            raise ModelParameterError(
                f"{type(module).__name__}.{where[k]} ({type(m).__name__}): cannot be imported; supported "
                "are Linear, Conv2d, MaxPool2d, Flatten, Dropout, Identity and snntorch.Leaky"
            )
    # the wiring: what each module received is what the one before it gave
    for t in range(len(calls) // period):
        for k in range(period):
            m, x, _ = calls[t * period + k]
            given = sample if k == 0 else calls[t * period + k - 1][2]
            if x.numel() != given.numel() or not torch.equal(x.reshape(-1), given.reshape(-1).to(x.dtype)):
                before = "the input" if k == 0 else f"{where[k - 1]}'s output"
                raise ModelParameterError(
                    f"{type(module).__name__}.{where[k]} does not receive {before} unchanged (step {t}): "
                    "only a chain of modules can be imported (no arithmetic or functional calls between them)"
                )
    seq = nn.Sequential(*(m for m, _, _ in step))
    # the chain alone, from fresh membranes, gives the module's own output spikes
    own = [calls[t * period + period - 1][2] for t in range(len(calls) // period)]
    _reset_leaky(module)
    with torch.no_grad():
        for t, spikes in enumerate(own):
            x: torch.Tensor | None = sample
            for k, m in enumerate(seq):
                assert x is not None
                x = _first_tensor(m(x.reshape(calls[k][1].shape)))  # the shape it had in forward
            if x is None or not torch.equal(x.reshape(-1), spikes.reshape(-1)):
                raise ModelParameterError(
                    f"{type(module).__name__}: the chain {' -> '.join(where)} does not reproduce its output "
                    f"spikes (step {t}): its forward pass does more than call these modules in turn"
                )
    _reset_leaky(module)
    return TracedChain(seq, len(calls) // period, tuple(where))


def _reset_leaky(module: nn.Module) -> None:
    """Fresh membranes for every ``snntorch.Leaky`` of ``module`` (its hidden state)."""
    for m in module.modules():
        if _is_leaky(m):
            reset = getattr(m, "reset_mem", None) or getattr(m, "init_leaky", None)
            if callable(reset):
                reset()


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
