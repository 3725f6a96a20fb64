"""Network architectures of the papers, configurable and JSON-described (SPEC 4).

``paper001-fc``   FC in-1000-10 (paper 001)            ``fc:784-500-10``  any FC sizes
``paper002-fc``   FC in-256-128-10 (paper 002)
``paper001-csnn`` conv(1,32,5)-maxpool-conv(32,64,5)-maxpool-fc-out (paper 001):
                  ``csnn:32c5-p2-64c5-p2-10`` (images under 20 px are padded by 2)
``csnn:ITEMS``    dash-separated ``<C>c<K>`` (convolution, C channels, K x K, stride 1, no
                  padding), ``p<S>`` (S x S max-pool of the spikes) and a final integer
                  (the fully connected output layer), e.g. ``csnn:4c3-p2-10``

Timing is the circuit's: one network step is one write slot; layer 0 sees the
encoded input of step t.  Two timings (``NetConfig.timing``):

``next-step``  (networks trained here) a spike of layer l in step t drives layer l+1
               in step t+1: every layer runs in the same slots and the synapse pulse
               follows the latched spike, so the output responds after as many steps
               as there are layers.
``same-step``  (snnTorch, NIR and the frameworks that share their rules) a spike of
               layer l in step t drives layer l+1 in the same step t: the circuit runs
               layer l+1 one slot behind layer l (a wavefront), so the inference takes
               ``steps + layers - 1`` slots.

The network's logits are the output spike counts over all steps (cross-entropy on
spike counts).

Randomness (rate-coded input spikes, stochastic neurons' noise) comes from one shared
``generator`` (training) or, with ``seeds``, from one generator per image seeded with
:func:`image_seed` of the run seed and the image's test-set index: evaluation, the
co-simulation's torch reference and the netlists' torch prediction then give image i the
same draws whatever the batch size or order.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from spinspice.circuits.network import ROW_SCHEDULES, SCHEDULES
from spinspice.errors import ModelParameterError
from spinspice.snn.neurons import Generators, draw, make_neuron

__all__ = ["ARCHS", "NetConfig", "SpikingNet", "image_seed", "parse_arch"]

ARCHS = ("paper001-fc", "paper002-fc", "paper001-csnn", "fc:N0-N1-...-NL", "csnn:ITEMS")
ENCODINGS = ("rate", "direct")
TIMINGS = ("next-step", "same-step")

_M32 = (1 << 32) - 1


def image_seed(seed: int, index: int) -> int:
    """The seed of test image ``index`` (0-based, as the test set is given) under run ``seed``.

    Every image's random draws (input spikes, neuron noise) come from its own generator seeded
    with this, so an image's result does not depend on the batch size, the batch order or
    which command (``train``'s test pass, ``evaluate``, ``cosim``, ``netlist``) ran it.

    torch's CPU generator keeps only the low 32 bits of a seed, so those are a bijective mix
    (murmur3's finaliser) of ``index + seed * golden``: within one run seed no two of 2^32
    images share a stream.  The upper 31 bits hold the run seed (mod 2^31), so the value is
    distinct for distinct (seed mod 2^31, index) and fits in 63 bits.
    """
    index = int(index)
    if not 0 <= index <= _M32:
        raise ModelParameterError(f"image index {index}: give a test-set index in [0, 2^32)")
    z = (index + int(seed) * 0x9E3779B9) & _M32
    z ^= z >> 16
    z = (z * 0x85EBCA6B) & _M32
    z ^= z >> 13
    z = (z * 0xC2B2AE35) & _M32
    z ^= z >> 16
    return ((int(seed) & ((1 << 31) - 1)) << 32) | z


def _row_generators(seeds: Sequence[int] | torch.Tensor, n_rows: int) -> list[torch.Generator]:
    """One CPU generator per row, seeded with that row's seed."""
    values = [int(s) for s in (seeds.tolist() if isinstance(seeds, torch.Tensor) else seeds)]
    if len(values) != n_rows:
        raise ModelParameterError(
            f"{len(values)} seeds for a batch of {n_rows} images: give one seed per image (image_seed)"
        )
    return [torch.Generator().manual_seed(s) for s in values]


@dataclasses.dataclass(frozen=True)
class NetConfig:
    """Everything that defines a network (stored in the checkpoint as JSON)."""

    arch: str
    layers: tuple[dict[str, Any], ...]
    neuron: dict[str, Any]
    steps: int = 25
    encoding: str = "rate"
    input_gain: float = 1.0
    image_shape: tuple[int, int, int] = (1, 28, 28)
    n_classes: int = 10
    #: field-line schedule the network is trained with: "all" (every neuron written in each
    #: slot) or "rows" (each layer's neuron array written row by row, ``array_cols`` columns)
    schedule: str = "all"
    array_cols: int | None = None
    #: drive-aware training: each neuron's drive is clipped at what its cell's write path carries
    #: with supplies of at most this voltage (the ``netlist`` sizing check); None (checkpoints
    #: from before drive-aware training): no limit
    drive_limit_v: float | None = None
    #: when layer l+1 reads a spike of layer l: "next-step" (the step after; networks trained
    #: here) or "same-step" (snnTorch's and NIR's rule; the circuit runs each layer one slot
    #: behind the one before)
    timing: str = "next-step"

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ModelParameterError(f"steps = {self.steps}: need at least one time step")
        if self.encoding not in ENCODINGS:
            raise ModelParameterError(f"encoding {self.encoding!r}: choose one of {', '.join(ENCODINGS)}")
        if self.timing not in TIMINGS:
            raise ModelParameterError(f"timing {self.timing!r}: choose one of {', '.join(TIMINGS)}")
        if not self.input_gain > 0:
            raise ModelParameterError("input_gain must be > 0")
        if self.schedule not in SCHEDULES:
            raise ModelParameterError(f"schedule {self.schedule!r}: choose {', '.join(SCHEDULES)}")
        if self.array_cols is not None and (self.array_cols < 1 or self.schedule not in ROW_SCHEDULES):
            raise ModelParameterError("array_cols (>= 1) belongs to the rows schedule: give --schedule rows")
        if self.drive_limit_v is not None and not 0 < self.drive_limit_v <= 50:
            raise ModelParameterError(f"drive_limit_v = {self.drive_limit_v!r}: give a supply in (0, 50] V")
        for where, text in _strings({"arch": self.arch, "layers": self.layers, "neuron": self.neuron}):
            if not text.isprintable():
                raise ModelParameterError(
                    f"network config {where} = {text[:40]!r} contains a control character (newline, tab): "
                    "names in a network config must be one line of printable text"
                )

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["layers"] = [dict(x) for x in self.layers]
        d["image_shape"] = list(self.image_shape)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> NetConfig:
        try:
            return cls(
                arch=str(d["arch"]),
                layers=tuple(dict(x) for x in d["layers"]),
                neuron=dict(d["neuron"]),
                steps=int(d["steps"]),
                encoding=str(d["encoding"]),
                input_gain=float(d["input_gain"]),
                image_shape=tuple(int(v) for v in d["image_shape"]),  # type: ignore[arg-type]
                n_classes=int(d["n_classes"]),
                schedule=str(d.get("schedule", "all")),  # absent before the rows schedule
                array_cols=None if d.get("array_cols") is None else int(d["array_cols"]),
                drive_limit_v=None if d.get("drive_limit_v") is None else float(d["drive_limit_v"]),
                timing=str(d.get("timing", "next-step")),  # absent before same-step timing
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ModelParameterError(f"network config is incomplete or malformed: {err}") from None

    @property
    def n_features(self) -> int:
        c, h, w = self.image_shape
        return c * h * w


def _strings(value: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """Every string (keys included) inside nested dicts, lists and tuples, with its location."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key, f"{where} key")
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            yield from _strings(item, f"{where}[{k}]")


def _fc(sizes: list[int]) -> tuple[dict[str, Any], ...]:
    return tuple({"kind": "linear", "in": a, "out": b} for a, b in itertools.pairwise(sizes))


def parse_arch(arch: str, image_shape: tuple[int, int, int], n_classes: int) -> tuple[dict[str, Any], ...]:
    """Layer list of ``arch`` for data of ``image_shape`` and ``n_classes`` classes."""
    n_in = int(image_shape[0] * image_shape[1] * image_shape[2])
    if arch == "paper001-fc":
        return _fc([n_in, 1000, n_classes])
    if arch == "paper002-fc":
        return _fc([n_in, 256, 128, n_classes])
    if arch == "paper001-csnn":
        c, h, w = image_shape
        pad = 0 if min(h, w) >= 20 else 2  # small images (8x8 digits) keep their size through the 5x5s
        h1, w1 = (h + 2 * pad - 4) // 2, (w + 2 * pad - 4) // 2
        h2, w2 = (h1 + 2 * pad - 4) // 2, (w1 + 2 * pad - 4) // 2
        if min(h2, w2) < 1:
            raise ModelParameterError(f"paper001-csnn: images of {h}x{w} are too small")
        return (
            {"kind": "conv", "in": c, "out": 32, "kernel": 5, "padding": pad, "pool": 2},
            {"kind": "conv", "in": 32, "out": 64, "kernel": 5, "padding": pad, "pool": 2},
            {"kind": "linear", "in": 64 * h2 * w2, "out": n_classes, "flatten": True},
        )
    if arch.startswith("csnn:"):
        return _csnn(arch, image_shape, n_classes)
    if arch.startswith("fc:"):
        try:
            sizes = [int(v) for v in arch[3:].split("-")]
        except ValueError:
            raise ModelParameterError(f"--arch {arch!r}: write fc:N0-N1-...-NL, e.g. fc:784-500-10") from None
        if len(sizes) < 2 or min(sizes) < 1:
            raise ModelParameterError(f"--arch {arch!r}: need at least two positive layer sizes")
        if sizes[0] != n_in:
            raise ModelParameterError(
                f"--arch {arch!r}: the input layer has {sizes[0]} neurons but the data have {n_in} features"
            )
        if sizes[-1] != n_classes:
            raise ModelParameterError(
                f"--arch {arch!r}: the output layer has {sizes[-1]} neurons "
                f"but the data have {n_classes} classes"
            )
        return _fc(sizes)
    raise ModelParameterError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")


def _csnn(arch: str, image_shape: tuple[int, int, int], n_classes: int) -> tuple[dict[str, Any], ...]:
    """``csnn:ITEMS``: ``<C>c<K>`` convolutions (stride 1, no padding), ``p<S>`` max-pools of the
    preceding convolution's spikes, and the final fully connected layer's size."""
    items = arch[5:].split("-")
    usage = f"--arch {arch!r}: write csnn:<C>c<K>-p<S>-...-<classes>, e.g. csnn:4c3-p2-10"
    c, h, w = image_shape
    layers: list[dict[str, Any]] = []
    for item in items[:-1]:
        conv = re.fullmatch(r"(\d+)c(\d+)", item)
        pool = re.fullmatch(r"p(\d+)", item)
        if conv:
            out, k = int(conv.group(1)), int(conv.group(2))
            if out < 1 or k < 1 or k > min(h, w):
                raise ModelParameterError(f"{usage} ({item!r} does not fit {c}x{h}x{w} feature maps)")
            layers.append({"kind": "conv", "in": c, "out": out, "kernel": k, "padding": 0})
            c, h, w = out, h - k + 1, w - k + 1
        elif pool:
            size = int(pool.group(1))
            if not layers or "pool" in layers[-1] or size < 2 or size > min(h, w):
                raise ModelParameterError(
                    f"{usage} ({item!r}: a pool of 2 or more follows a convolution, once, and fits "
                    f"its {h}x{w} maps)"
                )
            layers[-1]["pool"] = size
            h, w = h // size, w // size
        else:
            raise ModelParameterError(f"{usage} (unknown item {item!r})")
    if not layers or not items[-1].isdigit():
        raise ModelParameterError(f"{usage} (at least one convolution, then the output layer's size)")
    if int(items[-1]) != n_classes:
        raise ModelParameterError(
            f"--arch {arch!r}: the output layer has {items[-1]} neurons but the data have {n_classes} classes"
        )
    layers.append({"kind": "linear", "in": c * h * w, "out": n_classes, "flatten": True})
    return tuple(layers)


class SpikingNet(nn.Module):
    """Synapse layers (Linear / Conv2d [+ max-pool]) each followed by a layer of neurons.

    A layer spec is ``{"kind": "linear"|"conv", "in", "out", ["kernel", "padding"], ["pool": k],
    ["pool_drive": true], ["flatten": true], ["neuron": spec]}``: ``pool`` max-pools the layer's
    spikes (paper 001) or, with ``pool_drive``, its synaptic drive before the neurons (the
    snnTorch tutorial order, kept for imported networks); ``neuron`` overrides the network's
    neuron for this layer (e.g. an imported snnTorch net whose layers have different betas).
    """

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        self.synapses = nn.ModuleList()
        self.pools: list[int] = []
        self.pool_drive: list[bool] = []
        self.flatten: list[bool] = []
        for spec in config.layers:
            if spec["kind"] == "linear":
                self.synapses.append(nn.Linear(int(spec["in"]), int(spec["out"])))
            elif spec["kind"] == "conv":
                self.synapses.append(
                    nn.Conv2d(
                        int(spec["in"]), int(spec["out"]), int(spec["kernel"]), padding=int(spec["padding"])
                    )
                )
            else:
                raise ModelParameterError(f"unknown layer kind {spec['kind']!r}")
            self.pools.append(int(spec.get("pool", 0)))
            self.pool_drive.append(bool(spec.get("pool_drive", False)))
            self.flatten.append(bool(spec.get("flatten", False)))
        self.neurons = nn.ModuleList(
            self.layer_neuron(k, spec.get("neuron") or config.neuron) for k, spec in enumerate(config.layers)
        )

    def layer_neuron(self, k: int, neuron: Mapping[str, Any]) -> nn.Module:
        """The neurons of layer ``k`` as ``neuron`` (a ``neuron_spec``), on the network's schedule."""
        layer = self.config.layers[k]
        if self.config.schedule in ROW_SCHEDULES and layer["kind"] != "linear":
            raise ModelParameterError(
                f"layer {k} is convolutional: the rows schedule is for the neuron arrays of fully "
                "connected layers"
            )
        return make_neuron(
            neuron,
            n_neurons=int(layer["out"]) if layer["kind"] == "linear" else None,
            schedule=self.config.schedule,
            array_cols=self.config.array_cols,
            drive_limit_v=self.config.drive_limit_v,
        )

    def encode(self, x: torch.Tensor, generator: Generators) -> torch.Tensor:
        """One step of input: Bernoulli spikes with p = intensity (rate) or the intensity (direct).

        With a list of generators, row r's uniforms come from ``generator[r]`` alone."""
        if self.config.encoding == "rate":
            r = draw(torch.rand, tuple(x.shape), generator, x.dtype)
            return (r.to(x.device) < x).to(x.dtype)
        return x * self.config.input_gain

    def _shape_input(self, k: int, s: torch.Tensor) -> torch.Tensor:
        if isinstance(self.synapses[k], nn.Conv2d) and s.dim() == 2:
            return s.reshape(s.shape[0], *self.config.image_shape)
        if self.flatten[k] or (isinstance(self.synapses[k], nn.Linear) and s.dim() > 2):
            return s.flatten(1)
        return s

    def forward(
        self,
        x: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
        seeds: Sequence[int] | torch.Tensor | None = None,
        record: bool = False,
        noise: list[list[Any]] | None = None,
    ) -> tuple[torch.Tensor, dict[str, Any]]:
        """Spike counts of the output layer ``(batch, classes)`` and, with ``record``, every
        layer's input drive and spikes per step (for co-simulation).

        ``generator``: one generator for the whole batch (training).  ``seeds``: one seed per
        row of ``x`` (:func:`image_seed`); row r then draws from its own generator, in a fixed
        order (per step: the input spikes, then each layer's noise), so its result is the same
        alone or in any batch."""
        if seeds is not None and generator is not None:
            raise ModelParameterError("give per-image seeds or one generator, not both")
        gen: Generators = generator if seeds is None else _row_generators(seeds, x.shape[0])
        n_layers = len(self.synapses)
        states: list[Any] = [None] * n_layers
        prev: list[torch.Tensor | None] = [None] * n_layers  # spikes of layer l in the previous slot
        same_step = self.config.timing == "same-step"
        counts = torch.zeros(x.shape[0], self.config.n_classes, dtype=x.dtype, device=x.device)
        rec: dict[str, Any] = {
            "encoded": [],  # layer 0's input per step (spikes, or intensities for direct encoding)
            "inputs": [[] for _ in range(n_layers)],
            "spikes": [[] for _ in range(n_layers)],  # what the next layer reads (pooled)
            "neuron_spikes": [[] for _ in range(n_layers)],  # every neuron's, before the pool
            "noise": [[] for _ in range(n_layers)],  # the velocity factors drawn (1.0: none)
        }
        for t in range(self.config.steps):
            new: list[torch.Tensor] = []
            for k in range(n_layers):
                if k == 0:
                    src = self.encode(x, gen)
                    if record:
                        rec["encoded"].append(src.detach())
                else:
                    src = new[k - 1] if same_step else prev[k - 1]
                    if src is None:  # nothing has reached this layer yet
                        src = torch.zeros_like(new[k - 1])
                drive = self.synapses[k](self._shape_input(k, src))
                if self.pools[k] and self.pool_drive[k]:
                    drive = nn.functional.max_pool2d(drive, self.pools[k])
                nz = (
                    noise[k][t]
                    if noise is not None
                    else self.neurons[k].draw_noise(tuple(drive.shape), drive, gen)
                )
                spk, states[k] = self.neurons[k](drive, states[k], nz)
                if record:
                    rec["neuron_spikes"][k].append(spk.detach())
                    rec["noise"][k].append(nz.detach() if isinstance(nz, torch.Tensor) else nz)
                if self.pools[k] and not self.pool_drive[k]:
                    spk = nn.functional.max_pool2d(spk, self.pools[k])
                new.append(spk)
                if record:
                    rec["inputs"][k].append(drive.detach())
                    rec["spikes"][k].append(spk.detach())
            prev = new
            counts = counts + new[-1]
        return counts, rec
