"""NIR graphs (the Neuromorphic Intermediate Representation, PyPI ``nir``) into spinspice.

A NIR graph is read with the ``nir`` package and must be a chain: ``Input`` -> synapse
(``Affine``, ``Linear``, ``Conv2d``) -> neuron (``LIF``, ``IF``) -> ... -> ``Output``, with
``Flatten`` anywhere.  Branches, cycles (recurrence) and nested graphs are refused with the
node named; so is every node without a circuit here (``CubaLIF``: a synaptic current state;
``LI``: a non-spiking read-out; ``SumPool2d``/``AvgPool2d``: the circuit pools spikes with OR
gates, a max-pool), and parameters a layer cannot share (per-neuron time constants or
thresholds, ``v_leak`` or ``v_reset`` other than 0).

Discretisation (NIR's neurons are continuous-time), with the time step ``dt_s`` (default
1e-4 s, the step snnTorch's ``export_to_nir``/``import_from_nir`` use), as
``snntorch.import_from_nir`` does:

* ``LIF`` (``tau dv/dt = (v_leak - v) + R I``): ``beta = 1 - dt/tau``, the input scaled by
  ``R dt / tau`` -- carried by the threshold, ``v_threshold / (R dt / tau)`` in input units;
  reset to zero (a reset to zero gives the same spikes with and without snnTorch's
  ``reset_delay``);
* ``IF`` (``dv/dt = R I``): ``beta = 1``, threshold ``v_threshold / (R dt)``.

Real exporters' quirks are taken as they come: batch dimensions in ``Input`` types, LIF nodes
without types and with 0-d (or torch) parameters, duplicated or unordered edges.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from spinspice.errors import CheckpointError, ModelParameterError, check_setting

__all__ = ["DT_S", "ImportedLeaky", "NirChain", "nir_chain", "read_nir", "to_nir"]

#: the time step snnTorch's NIR export and import use [s]
DT_S = 1e-4


class ImportedLeaky(nn.Module):
    """A layer of ideal LIF neurons read from a NIR node (what ``snntorch.Leaky`` is to an
    imported snnTorch network): ``beta``, ``threshold`` (input units), reset to zero."""

    reset_mechanism = "zero"

    def __init__(self, beta: float, threshold: float) -> None:
        super().__init__()
        self.beta = float(beta)
        self.threshold = float(threshold)


@dataclasses.dataclass(frozen=True)
class NirChain:
    """A NIR graph as a chain: ``sequential`` (torch synapses, ``nn.Flatten`` and
    :class:`ImportedLeaky` neurons) and the node names in order."""

    sequential: nn.Sequential
    nodes: tuple[str, ...]
    kinds: tuple[str, ...]


def read_nir(path: Any) -> Any:
    """The NIR graph in ``path`` (HDF5, ``nir.write``); a file that is missing, truncated or
    not NIR is one line saying so.  A ``nir.NIRGraph`` in memory is taken as it is (what an
    exporter returns, also where ``nir.write`` cannot store it: 0-d parameters)."""
    import nir

    if isinstance(path, nir.NIRGraph):
        return path
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist")
    _check_declared_sizes(path)
    try:
        # no type check: real exporters write types that do not check (a batch dimension in
        # Input, LIF nodes without types); the chain is checked here instead
        graph = nir.read(path, type_check=False)
    except Exception as err:  # h5py/nir raise many kinds on a damaged file
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise CheckpointError(f"{path}: not a readable NIR graph ({type(err).__name__}: {first})") from None
    if not isinstance(graph, nir.NIRGraph):
        raise CheckpointError(f"{path}: holds a {type(graph).__name__}, not a NIR graph")
    return graph


#: the most array data a NIR file may declare (all its datasets together), bytes: a network
#: a crossbar can hold is far smaller; a file past it (a hostile or broken one) is refused
#: before anything is read into memory
MAX_NIR_BYTES = 2**31


def _check_declared_sizes(path: Path) -> None:
    """Refuse a file whose datasets declare more than :data:`MAX_NIR_BYTES` (sizes read from
    the HDF5 headers, no data)."""
    import h5py

    total = 0

    def add(_name: str, obj: Any) -> None:
        nonlocal total
        if isinstance(obj, h5py.Dataset):
            total += int(np.prod(obj.shape, dtype=np.float64) * obj.dtype.itemsize)

    try:
        with h5py.File(path, "r") as f:
            f.visititems(add)
    except Exception:  # not HDF5, truncated: nir.read says so in one line below
        return
    if total > MAX_NIR_BYTES:
        raise CheckpointError(
            f"{path}: declares {total / 2**30:.3g} GiB of arrays (at most {MAX_NIR_BYTES / 2**30:g} GiB "
            "here): not read; a network for a crossbar is far smaller"
        )


def _values(node: Any, name: str, where: str, default: float | None = None) -> np.ndarray:
    value = getattr(node, name, None)
    if value is None:
        if default is None:
            raise ModelParameterError(f"{where}: has no {name}")
        return np.asarray([default], float)
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value, float).reshape(-1)
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ModelParameterError(f"{where}: {name} is empty or not finite")
    return arr


def _one(node: Any, name: str, where: str, default: float | None = None) -> float:
    arr = _values(node, name, where, default)
    if not np.allclose(arr, arr[0], rtol=1e-6, atol=0.0):
        raise ModelParameterError(
            f"{where}: per-neuron {name} ({arr.size} different values): a layer of spinspice neurons "
            "shares one parameter set"
        )
    return float(arr[0])


def _tensor(value: Any, where: str, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        out = value.detach().to(torch.float32).clone()
    else:
        out = torch.as_tensor(np.asarray(value, np.float32))
    if not bool(torch.isfinite(out).all()):
        raise ModelParameterError(f"{where}: {name} holds NaN or infinite values")
    return out


def _pair(value: Any, where: str, name: str) -> int:
    arr = np.asarray(value).reshape(-1)
    if isinstance(value, str) or arr.size == 0 or len(set(arr.tolist())) != 1:
        raise ModelParameterError(f"{where}: {name} {value!r}: only the same integer in both directions")
    return int(arr[0])


def _module(name: str, node: Any, dt_s: float) -> nn.Module | None:
    """The torch module of one NIR node (None: Input/Output)."""
    kind = type(node).__name__
    where = f"NIR node {name!r} ({kind})"
    if kind in ("Input", "Output"):
        return None
    if kind in ("Affine", "Linear"):
        w = _tensor(node.weight, where, "weight")
        if w.dim() != 2:
            raise ModelParameterError(f"{where}: weight of shape {tuple(w.shape)}, not (out, in)")
        lin = nn.Linear(w.shape[1], w.shape[0], bias=kind == "Affine")
        with torch.no_grad():
            lin.weight.copy_(w)
            if kind == "Affine":
                lin.bias.copy_(_tensor(node.bias, where, "bias").reshape(-1))
        return lin
    if kind == "Conv2d":
        w = _tensor(node.weight, where, "weight")
        if w.dim() != 4:
            raise ModelParameterError(f"{where}: weight of shape {tuple(w.shape)}, not (out, in, kh, kw)")
        for attr, want in (("stride", 1), ("dilation", 1)):
            if _pair(getattr(node, attr, want), where, attr) != want:
                raise ModelParameterError(f"{where}: only {attr} {want} has a crossbar tile here")
        if int(getattr(node, "groups", 1)) != 1:
            raise ModelParameterError(f"{where}: only groups 1 has a crossbar tile here")
        pad = _pair(getattr(node, "padding", 0), where, "padding")
        conv = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), padding=pad)
        with torch.no_grad():
            conv.weight.copy_(w)
            bias = getattr(node, "bias", None)
            b = _tensor(bias, where, "bias").reshape(-1) if bias is not None else torch.zeros(w.shape[0])
            conv.bias.copy_(b)
        return conv
    if kind == "Flatten":
        return nn.Flatten()
    if kind == "LIF":
        for attr in ("v_leak", "v_reset"):
            if not np.allclose(_values(node, attr, where, 0.0), 0.0):
                raise ModelParameterError(f"{where}: {attr} other than 0 has no circuit here")
        tau, r, v_th = _one(node, "tau", where), _one(node, "r", where), _one(node, "v_threshold", where)
        if not (tau > 0 and r > 0 and v_th > 0):
            raise ModelParameterError(f"{where}: tau, r and v_threshold must be > 0 (got {tau}, {r}, {v_th})")
        if dt_s > tau:
            raise ModelParameterError(
                f"{where}: tau = {tau:g} s is shorter than the time step {dt_s:g} s: give the "
                "exporter's step as --dt (snnTorch 1e-4 s; Norse 1e-6 s, its 1 ms scaled by 1e-3)"
            )
        return ImportedLeaky(beta=1.0 - dt_s / tau, threshold=v_th / (r * dt_s / tau))
    if kind == "IF":
        if not np.allclose(_values(node, "v_reset", where, 0.0), 0.0):
            raise ModelParameterError(f"{where}: v_reset other than 0 has no circuit here")
        r, v_th = _one(node, "r", where), _one(node, "v_threshold", where)
        if not (r > 0 and v_th > 0):
            raise ModelParameterError(f"{where}: r and v_threshold must be > 0 (got {r}, {v_th})")
        return ImportedLeaky(beta=1.0, threshold=v_th / (r * dt_s))
    why = {
        "CubaLIF": "its synaptic current is a second state variable, which the LIF circuit does not have",
        "LI": "a non-spiking read-out has no spiking circuit here (classes are counted from spikes)",
        "SumPool2d": "the circuit pools spikes with OR gates (a max-pool), not by summing",
        "AvgPool2d": "the circuit pools spikes with OR gates (a max-pool), not by averaging",
        "NIRGraph": "a nested graph (a recurrent layer) has no feed-forward circuit",
    }.get(kind, "this node type has no circuit here")
    raise ModelParameterError(f"{where}: cannot be imported: {why}")


def nir_chain(graph: Any, *, dt_s: float = DT_S) -> NirChain:
    """``graph`` (a ``nir.NIRGraph``) as a chain of torch modules, checked: one ``Input``,
    one ``Output``, every node on the single path between them."""
    check_setting("dt", dt_s, low=0.0, low_open=True, unit="s")
    nodes = dict(graph.nodes)
    edges = list(dict.fromkeys((str(a), str(b)) for a, b in graph.edges))  # duplicates: once
    kinds = {k: type(v).__name__ for k, v in nodes.items()}
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise ModelParameterError(f"NIR edge {a!r} -> {b!r} names no node {end!r}")
    starts = [k for k, kind in kinds.items() if kind == "Input"]
    ends = [k for k, kind in kinds.items() if kind == "Output"]
    if len(starts) != 1 or len(ends) != 1:
        raise ModelParameterError(
            f"a NIR graph with {len(starts)} Input and {len(ends)} Output nodes: a chain has one of each"
        )
    succ: dict[str, list[str]] = {k: [] for k in nodes}
    pred: dict[str, list[str]] = {k: [] for k in nodes}
    for a, b in edges:
        succ[a].append(b)
        pred[b].append(a)
    # recurrence first (a recurrent layer also looks like a branch): Kahn's order leaves cycles
    indeg = {k: len(pred[k]) for k in nodes}
    ready = [k for k in nodes if indeg[k] == 0]
    while ready:
        for b in succ[ready.pop()]:
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
    cyclic = [k for k in nodes if indeg[k] > 0]
    if cyclic:
        raise ModelParameterError(
            f"NIR nodes {', '.join(map(repr, cyclic[:4]))} form a cycle: recurrence cannot be imported"
        )
    for k in nodes:
        if len(succ[k]) > 1 or len(pred[k]) > 1:
            many = succ[k] if len(succ[k]) > 1 else pred[k]
            raise ModelParameterError(
                f"NIR node {k!r} ({kinds[k]}) branches ({', '.join(map(repr, many))}): only chains can be "
                "imported"
            )
    order, seen, k = [], set(), starts[0]
    while True:
        seen.add(k)
        order.append(k)
        if not succ[k]:
            break
        k = succ[k][0]
    if order[-1] != ends[0] or len(order) != len(nodes):
        left = sorted(set(nodes) - seen)
        raise ModelParameterError(
            "the NIR graph is not one chain from Input to Output"
            + (f": not on it: {', '.join(map(repr, left[:5]))}" if left else "")
        )
    modules, names, used = [], [], []
    for k in order:
        m = _module(k, nodes[k], dt_s)
        if m is not None:
            modules.append(m)
            names.append(k)
            used.append(kinds[k])
    return NirChain(nn.Sequential(*modules), tuple(names), tuple(used))


def to_nir(net: Any, *, dt_s: float = DT_S) -> Any:
    """``net`` (a :class:`~spinspice.snn.arch.SpikingNet` of ideal-LIF neurons) as a NIR graph,
    exactly: :func:`nir_chain` of it gives the same network.

    Each layer is its synapses (``Affine``; a convolution ``Conv2d``, a ``Flatten`` before
    the first fully connected layer after it) and a ``LIF`` node with ``tau = dt/(1 - beta)``,
    ``R = tau/dt`` (the input unscaled), ``v_threshold`` the threshold and ``v_reset = 0``
    (``beta = 1``: an ``IF`` node, ``R = 1/dt``).  Refused, saying why: device neurons (their
    dynamics are no LIF), reset by subtraction (a NIR LIF resets to ``v_reset``), spike
    max-pools (NIR 1.0 has no max-pool), and ``next-step`` timing in a network of several layers
    (a NIR graph passes a spike on within the step).  The input gain of direct encoding is folded into
    the first layer's weights; the encoding itself is not part of a NIR graph."""
    import nir

    from spinspice.snn.neurons import LeakyNeuron

    check_setting("dt", dt_s, low=0.0, low_open=True, unit="s")
    cfg = net.config
    nodes: dict[str, Any] = {}
    order: list[str] = []

    def add(name: str, node: Any) -> None:
        nodes[name] = node
        order.append(name)

    shape = tuple(int(v) for v in cfg.image_shape)
    fed = shape if cfg.layers[0]["kind"] == "conv" else (int(np.prod(shape)),)
    add("input", nir.Input(input_type={"input": np.array(fed)}))
    for k, (spec, syn, neuron) in enumerate(zip(cfg.layers, net.synapses, net.neurons, strict=True)):
        where = f"layer {k}"
        if not isinstance(neuron, LeakyNeuron):
            model = getattr(neuron, "model", type(neuron).__name__)
            raise ModelParameterError(
                f"{where}: {model} neurons have no LIF equivalent in NIR (their state follows the "
                "device's equations, not a NIR LIF's linear leak and reset): export a network of "
                "ideal LIF neurons (train --neuron lif, or an import)"
            )
        if neuron.p.reset_subtract:
            raise ModelParameterError(
                f"{where}: reset by subtraction has no NIR LIF (a NIR LIF resets to v_reset): train or "
                "import with reset to zero (-p reset_subtract=false)"
            )
        if spec.get("pool"):
            raise ModelParameterError(f"{where}: a spike max-pool has no NIR node (NIR 1.0 has none)")
        w = syn.weight.detach().cpu().numpy().astype(np.float64)
        b = syn.bias.detach().cpu().numpy().astype(np.float64)
        if k == 0 and cfg.encoding == "direct":
            w = w * cfg.input_gain
        if spec["kind"] == "conv":
            pad = int(spec.get("padding", 0))
            conv = nir.Conv2d(
                input_shape=shape[1:], weight=w, stride=1, padding=pad, dilation=1, groups=1, bias=b
            )
            add(f"conv{k}", conv)
            shape = (w.shape[0], shape[1] + 2 * pad - w.shape[2] + 1, shape[2] + 2 * pad - w.shape[3] + 1)
            n = shape  # one LIF per output channel and position
        else:
            if k > 0 and cfg.layers[k - 1]["kind"] == "conv":
                add(
                    f"flatten{k}", nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0, end_dim=-1)
                )
            add(f"fc{k}", nir.Affine(weight=w, bias=b))
            n = (w.shape[0],)
            shape = n
        beta, thr = float(neuron.p.beta), float(neuron.p.u_thr)
        ones = np.ones(n)
        if beta >= 1.0:
            add(f"lif{k}", nir.IF(r=ones / dt_s, v_threshold=ones * thr, v_reset=0 * ones))
        else:
            tau = dt_s / (1.0 - beta)
            lif = nir.LIF(tau=ones * tau, r=ones * tau / dt_s, v_leak=0 * ones, v_threshold=ones * thr)
            add(f"lif{k}", lif)  # v_reset: 0
    if cfg.timing != "same-step" and len(cfg.layers) > 1:
        raise ModelParameterError(
            "this network reads a spike in the layer after a step later (next-step timing), a NIR graph "
            "in the same step: train it with --timing same-step (imports have it)"
        )
    add("output", nir.Output(output_type={"output": np.array([cfg.n_classes])}))
    return nir.NIRGraph(nodes=nodes, edges=list(itertools.pairwise(order)), type_check=False)
