r"""Paper 003's Co/Gd sigmoid ANN: a non-spiking network of Co/Gd neurons and multilevel synapses.

Paper 003 (Fig. 4c-d) trains a 784-100-10 feed-forward network whose activation is the
Co/Gd Hall-bar's sigmoid: a RESET pulse, then a SET pulse of amplitude ``I`` leaves the
normalised Hall resistance at ``w = Y(I) = 1/(1 + exp(-(I - X0)/K))``
(:data:`spinspice.models.cogd.SIGMOID`, ``X0``/``K`` of :class:`~spinspice.models.cogd.CoGdParams`).
Here every neuron of a layer ``k`` is such a device::

    z_j = sum_i Wq_ji a_i + bq_j                  (crossbar MAC, weight units)
    I_j = clip(I_offset + I_unit z_j, 0, I_max)   (SET current of the write driver) [A]
    a'_j = Y(I_j)                                 (normalised Hall resistance, in [0, 1])

* ``a`` are the previous layer's read-outs (layer 0: the pixels, in [0, 1]); the bias row
  reads a constant 1.
* ``I_unit`` (default ``K``: one weight unit times a full-scale input moves the current by
  one sigmoid slope) is the current per weight unit the circuit's write driver realises
  (``A = I_unit / (s V_read)`` with ``s`` the conductance per weight unit, as in
  :mod:`spinspice.circuits.network`); ``I_offset`` (default ``X0``) is a constant bias
  current of the driver, so that a zero MAC sits at the sigmoid's midpoint and the
  trained biases stay small (they share the layer's conductance scale ``w_clip``);
  ``I_max`` (default 30 mA, the top of paper 003's -5 to 30 mA sweep) is the SET driver's
  compliance: the driver only sources current (the RESET pulse is a separate phase).
* **Synapses** are Co/Gd multilevel conductances (:class:`~spinspice.models.cogd.CoGdSynapseParams`:
  ``n_levels`` levels between ``G_min`` and ``G_max``) in differential pairs.  Training is
  quantisation-aware: the forward pass uses exactly the weight -> conductance rule of
  :func:`spinspice.circuits.synapses.map_layer` (``w_clip`` = largest |weight| of the layer,
  bias included; ``G+``/``G-`` rounded to the nearest level), the backward pass goes
  straight through (STE).  After training the stored quantised weights are *computed by*
  ``map_layer``, so the circuit sees the same weights as the reported accuracy.
* **Loss**: cross-entropy on ``out_scale * w_out`` (the output layer's activations, a fixed
  temperature, default 10); the class is ``argmax w_out``, what the circuit's read-outs give.

The checkpoint (``kind = "cogd-ann"``) is a ``torch.save`` file of plain types and tensors
(loads with ``weights_only=True``) with the same digest/version habits as
:mod:`spinspice.snn.checkpoint`::

    {"format": "spinspice.cogd_ann", "format_version": 1, "kind": "cogd-ann",
     "spinspice_version", "torch_version", "config": "<JSON: sizes, device and synapse
     parameters, currents, data set, accuracy, training settings>",
     "state_dict": {"layer<k>.weight", "layer<k>.bias" (latent, float64),
                    "layer<k>.weight_q", "layer<k>.bias_q" (the realised weights)},
     "sha256": "<digest of config and tensors>"}
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spinspice import __version__
from spinspice.circuits.synapses import LayerMapping, SynapseDevice, get_synapse_device, map_layer
from spinspice.errors import CheckpointError, ModelParameterError
from spinspice.io import (
    Result,
    atomic_write_json,
    displayed,
    report_header,
    seed_all,
    staged_output,
    to_jsonable,
)
from spinspice.models.cogd import SIGMOID, CoGdParams, CoGdSynapseParams
from spinspice.snn.checkpoint import payload_digest, write_payload
from spinspice.snn.data import Dataset, load_dataset

__all__ = [
    "ANN_FORMAT",
    "ANN_KIND",
    "AnnTrainResult",
    "CoGdANN",
    "CoGdAnnCheckpoint",
    "CoGdAnnConfig",
    "ann_arch_sizes",
    "cogd_activation",
    "is_cogd_ann",
    "layer_mappings",
    "load_cogd_ann",
    "quantize_ste",
    "save_cogd_ann",
    "train_cogd_ann",
]

ANN_FORMAT = "spinspice.cogd_ann"
ANN_FORMAT_VERSION = 1
ANN_KIND = "cogd-ann"
#: SET driver compliance: the top of paper 003's -5 ... 30 mA R_hall(I) sweep (Fig. 4a-b)
I_MAX_A = 30e-3


def ann_arch_sizes(arch: str, data: Dataset) -> tuple[int, ...]:
    """Layer sizes ``(n_in, n_1, ..., n_classes)`` of ``arch``: ``paper003-fc`` (in-100-classes,
    paper 003 Fig. 4c) or any fully connected architecture of :func:`~spinspice.snn.arch.parse_arch`."""
    if arch == "paper003-fc":
        return (data.n_features, 100, data.n_classes)
    from spinspice.snn.arch import parse_arch

    layers = parse_arch(arch, data.image_shape, data.n_classes)
    if any(layer["kind"] != "linear" for layer in layers):
        raise ModelParameterError(f"--arch {arch!r}: the Co/Gd ANN is fully connected (no convolutions)")
    return (int(layers[0]["in"]), *(int(layer["out"]) for layer in layers))


@dataclasses.dataclass(frozen=True)
class CoGdAnnConfig:
    """What a Co/Gd ANN is: sizes, device and synapse parameters, and the driver's currents."""

    sizes: tuple[int, ...]
    arch: str = "paper003-fc"
    device: Mapping[str, float] = dataclasses.field(default_factory=lambda: CoGdParams().values())
    synapse: Mapping[str, Any] = dataclasses.field(
        default_factory=lambda: get_synapse_device("cogd").to_json()
    )
    #: SET current per weight unit (times a full-scale input) [A]; None: the device's K
    i_unit_a: float | None = None
    #: constant bias current of the SET driver [A]; None: the device's X0
    i_offset_a: float | None = None
    #: SET driver compliance [A]: the current is clipped into [0, i_max_a]
    i_max_a: float = I_MAX_A
    #: loss temperature: logits = out_scale * w_out
    out_scale: float = 10.0
    clip_percentile: float = 100.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(n) for n in self.sizes))
        object.__setattr__(self, "device", dict(self.device))
        object.__setattr__(self, "synapse", dict(self.synapse))
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise ModelParameterError(f"Co/Gd ANN sizes {self.sizes}: need at least two positive sizes")
        p = self.params()  # validates the device parameters
        if self.i_unit_a is None:
            object.__setattr__(self, "i_unit_a", float(p.k_a))
        if self.i_offset_a is None:
            object.__setattr__(self, "i_offset_a", float(p.x0_a))
        if not self.i_unit_a > 0:
            raise ModelParameterError(f"i_unit_a = {self.i_unit_a:g} A must be > 0")
        if not self.i_max_a > 0:
            raise ModelParameterError(f"i_max_a = {self.i_max_a:g} A must be > 0")
        if not self.out_scale > 0:
            raise ModelParameterError(f"out_scale = {self.out_scale:g} must be > 0")
        self.synapse_device()  # validates

    def params(self) -> CoGdParams:
        return CoGdParams(**self.device)

    def synapse_device(self) -> SynapseDevice:
        return SynapseDevice(**self.synapse)

    def to_json(self) -> dict[str, Any]:
        return to_jsonable(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CoGdAnnConfig:
        return cls(**data)


def cogd_activation(i_a: torch.Tensor, p: CoGdParams) -> torch.Tensor:
    """``Y(I) = 1/(1 + exp(-(I - X0)/K))``: the device's sigmoid, evaluated by the torch target
    of the one symbolic definition :data:`spinspice.models.cogd.SIGMOID` (paper 003 Fig. 4b)."""
    return SIGMOID(i_a, params=p, backend="torch")


def _quantize(w: torch.Tensor, device: SynapseDevice, clip_percentile: float) -> torch.Tensor:
    """The weights ``map_layer`` realises for ``w`` (out, in + 1), as a torch tensor (no grad)."""
    with torch.no_grad():
        a = w.abs().flatten()
        w_clip = a.max() if clip_percentile >= 100 else torch.quantile(a, clip_percentile / 100.0)
        w_clip = torch.where(w_clip > 0, w_clip, torch.ones_like(w_clip))
        span = device.g_max_s - device.g_min_s
        u = torch.clamp(w / w_clip, -1.0, 1.0)
        g_pos = device.g_min_s + torch.relu(u) * span
        g_neg = device.g_min_s + torch.relu(-u) * span
        values = device.level_values()
        if values is not None:
            lv = torch.as_tensor(values, dtype=w.dtype, device=w.device)
            g_pos = lv[(g_pos[..., None] - lv).abs().argmin(-1)]
            g_neg = lv[(g_neg[..., None] - lv).abs().argmin(-1)]
        return (g_pos - g_neg) * (w_clip / span)


def quantize_ste(
    weight: torch.Tensor, bias: torch.Tensor, device: SynapseDevice, clip_percentile: float = 100.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Quantised ``(weight, bias)`` by the rule of :func:`~spinspice.circuits.synapses.map_layer`
    in the forward pass, identity in the backward pass (straight-through estimator)."""
    w = torch.cat([weight, bias[:, None]], dim=1)
    q = w + (_quantize(w, device, clip_percentile) - w).detach()
    return q[:, :-1], q[:, -1]


class CoGdANN(torch.nn.Module):
    """The network: ``nn.Linear`` layers holding the latent weights, Co/Gd neurons after each."""

    def __init__(self, config: CoGdAnnConfig) -> None:
        super().__init__()
        self.config = config
        self.p = config.params()
        self.device_ = config.synapse_device()
        self.layers = torch.nn.ModuleList(
            torch.nn.Linear(a, b) for a, b in zip(config.sizes[:-1], config.sizes[1:], strict=True)
        )

    def drive_a(self, z: torch.Tensor) -> torch.Tensor:
        """SET current [A] of MAC ``z`` (weight units): ``clip(I_offset + I_unit z, 0, I_max)``."""
        cfg = self.config
        return torch.clamp(cfg.i_offset_a + cfg.i_unit_a * z, 0.0, cfg.i_max_a)

    def forward(
        self,
        x: torch.Tensor,
        *,
        quantized: bool = True,
        weights: Sequence[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> list[torch.Tensor]:
        """Activations ``w`` of every layer (the last is the output). ``weights``: use these
        (already quantised) weights instead of the layers' own."""
        out, a = [], x
        for k, layer in enumerate(self.layers):
            if weights is not None:
                w, b = weights[k]
            elif quantized:
                w, b = quantize_ste(layer.weight, layer.bias, self.device_, self.config.clip_percentile)
            else:
                w, b = layer.weight, layer.bias
            a = cogd_activation(self.drive_a(a @ w.T + b), self.p)
            out.append(a)
        return out


def layer_mappings(net: CoGdANN) -> list[LayerMapping]:
    """The conductances of every layer by :func:`~spinspice.circuits.synapses.map_layer`."""
    cfg = net.config
    return [
        map_layer(
            layer.weight.detach().double().cpu().numpy(),
            layer.bias.detach().double().cpu().numpy(),
            cfg.synapse_device(),
            clip_percentile=cfg.clip_percentile,
        )
        for layer in net.layers
    ]


# -- checkpoint ----------------------------------------------------------------------------
@dataclasses.dataclass
class CoGdAnnCheckpoint:
    """A loaded Co/Gd ANN checkpoint: config, latent and quantised weights, metadata."""

    config: CoGdAnnConfig
    latent: list[tuple[np.ndarray, np.ndarray]]
    weights: list[tuple[np.ndarray, np.ndarray]]
    meta: dict[str, Any]
    path: str | None = None

    def mappings(self) -> list[LayerMapping]:
        return [
            map_layer(w, b, self.config.synapse_device(), clip_percentile=self.config.clip_percentile)
            for w, b in self.latent
        ]

    def network(self) -> CoGdANN:
        """The torch network (float64, eval mode) with the latent weights."""
        net = CoGdANN(self.config).double()
        with torch.no_grad():
            for layer, (w, b) in zip(net.layers, self.latent, strict=True):
                layer.weight.copy_(torch.as_tensor(w))
                layer.bias.copy_(torch.as_tensor(b))
        return net.eval()

    def torch_activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Every layer's activations for images ``x`` (n, features) with the stored quantised
        weights, computed by the torch network (float64)."""
        net = self.network()
        weights = [(torch.as_tensor(w), torch.as_tensor(b)) for w, b in self.weights]
        with torch.no_grad():
            acts = net(torch.as_tensor(np.asarray(x, np.float64)), weights=weights)
        return [a.numpy() for a in acts]


def save_cogd_ann(path: str | Path, net: CoGdANN, meta: Mapping[str, Any]) -> Path:
    """Write ``net`` (latent weights and the weights ``map_layer`` realises) and ``meta``
    atomically, with a readable ``<stem>.json`` beside it."""
    state: dict[str, torch.Tensor] = {}
    for k, (layer, m) in enumerate(zip(net.layers, layer_mappings(net), strict=True)):
        state[f"layer{k}.weight"] = layer.weight.detach().double().cpu().clone()
        state[f"layer{k}.bias"] = layer.bias.detach().double().cpu().clone()
        state[f"layer{k}.weight_q"] = torch.as_tensor(m.effective_weights[:, :-1].copy())
        state[f"layer{k}.bias_q"] = torch.as_tensor(m.effective_weights[:, -1].copy())
    for name, t in state.items():
        if not torch.isfinite(t).all():
            raise CheckpointError(f"refusing to save: tensor {name} has NaN or infinite values")
    config = {"kind": ANN_KIND, "network": net.config.to_json(), **to_jsonable(dict(meta))}
    return write_payload(
        path,
        {"format": ANN_FORMAT, "format_version": ANN_FORMAT_VERSION, "kind": ANN_KIND},
        config,
        state,
        {"format": ANN_FORMAT, "format_version": ANN_FORMAT_VERSION},
    )


def _payload(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # the unpickler raises anything from IndexError to UnpicklingError
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{path} is not a readable checkpoint (corrupt or another format): {first}"
        ) from None


def is_cogd_ann(path: str | Path) -> bool:
    """Whether ``path`` is a Co/Gd ANN checkpoint (False for anything else, unreadable included)."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        payload = _payload(p)
    except CheckpointError:
        return False
    return isinstance(payload, dict) and payload.get("format") == ANN_FORMAT


def load_cogd_ann(path: str | Path) -> CoGdAnnCheckpoint:
    """Load and verify a Co/Gd ANN checkpoint; every failure is a :class:`CheckpointError`."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {p} does not exist")
    payload = _payload(p)
    if not isinstance(payload, dict) or payload.get("format") != ANN_FORMAT:
        raise CheckpointError(f"{p} is not a Co/Gd ANN checkpoint (train one with neuron cogd-sigmoid)")
    if payload.get("format_version") != ANN_FORMAT_VERSION:
        raise CheckpointError(
            f"{p} has Co/Gd ANN format {payload.get('format_version')!r}; this spinspice reads "
            f"{ANN_FORMAT_VERSION}: re-train it with spinspice {__version__}"
        )
    written_by = str(payload.get("spinspice_version", "?"))
    if written_by.split(".")[:2] != __version__.split(".")[:2]:
        raise CheckpointError(
            f"{p} was written by spinspice {written_by}, this is {__version__}: re-train it"
        )
    text, state, digest = payload.get("config"), payload.get("state_dict"), payload.get("sha256")
    if not isinstance(text, str) or not isinstance(state, dict) or not isinstance(digest, str):
        raise CheckpointError(f"{p}: checkpoint is missing its config, weights or digest")
    if any(not isinstance(t, torch.Tensor) for t in state.values()):
        raise CheckpointError(f"{p}: an entry of the weights is not a tensor")
    if payload_digest(text, state) != digest:
        raise CheckpointError(
            f"{p}: the weights or config do not match the stored digest (file tampered with)"
        )
    try:
        meta = json.loads(text)
        config = CoGdAnnConfig.from_json(meta["network"])
        latent, weights = [], []
        for k, (n_in, n_out) in enumerate(zip(config.sizes[:-1], config.sizes[1:], strict=True)):
            arrays = [state[f"layer{k}.{n}"].numpy() for n in ("weight", "bias", "weight_q", "bias_q")]
            if any(a.shape != s for a, s in zip(arrays, [(n_out, n_in), (n_out,)] * 2, strict=True)):
                raise CheckpointError(f"{p}: layer {k} weights do not fit the sizes {config.sizes}")
            latent.append((arrays[0].astype(np.float64), arrays[1].astype(np.float64)))
            weights.append((arrays[2].astype(np.float64), arrays[3].astype(np.float64)))
    except CheckpointError:
        raise
    except (json.JSONDecodeError, KeyError, TypeError, ModelParameterError) as err:
        raise CheckpointError(f"{p}: the weights do not fit the stored config: {err}") from None
    for name, t in state.items():
        if not torch.isfinite(t).all():
            raise CheckpointError(f"{p}: tensor {name} has NaN or infinite values")
    meta["spinspice_version"] = written_by
    meta["torch_version"] = payload.get("torch_version")
    return CoGdAnnCheckpoint(config, latent, weights, meta, str(p))


# -- training ------------------------------------------------------------------------------
def _evaluate(
    net: CoGdANN, x: np.ndarray, y: np.ndarray, weights: Sequence[tuple[torch.Tensor, torch.Tensor]]
) -> tuple[float, np.ndarray]:
    with torch.no_grad():
        out = net(torch.as_tensor(x, dtype=torch.float64), weights=weights)[-1].numpy()
    pred = out.argmax(1)
    n = net.config.sizes[-1]
    confusion = np.zeros((n, n), np.int64)
    np.add.at(confusion, (y, pred), 1)
    return float(np.mean(pred == y)), confusion


def _realised(net: CoGdANN) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [
        (
            torch.as_tensor(m.effective_weights[:, :-1].copy()),
            torch.as_tensor(m.effective_weights[:, -1].copy()),
        )
        for m in layer_mappings(net)
    ]


class AnnTrainResult(Result):
    """A trained Co/Gd ANN: report schema ``spinspice.cogd_ann_training``; ``checkpoint`` the file
    written, ``network`` the torch network (latent weights)."""

    def __init__(
        self, report: dict[str, Any], network: CoGdANN, meta: dict[str, Any], checkpoint: Path
    ) -> None:
        self.data = report
        self.network = network
        self._meta = meta
        self.checkpoint = checkpoint

    @property
    def test_accuracy(self) -> float:
        return float(self.data["test_accuracy"])

    def report(self) -> dict[str, Any]:
        return dict(self.data)

    def summary(self) -> str:
        r = self.data
        q = r["quantization"]
        return "\n".join(
            [
                f"cogd-sigmoid ANN {'-'.join(map(str, r['sizes']))} on {r['dataset']}: test accuracy "
                f"{r['test_accuracy'] * 100:.1f} % with the {q['levels']}-level Co/Gd synapses "
                f"(train {r['train_accuracy'] * 100:.1f} %; unquantised weights "
                f"{r['float_test_accuracy'] * 100:.1f} %), {r['epochs']} epochs in {r['train_wall_s']:.1f} s",
                f"checkpoint: {r['checkpoint']}; metrics: "
                f"{Path(r['checkpoint']).with_suffix('.metrics.json')}",
            ]
        )

    def write(self, folder: str | Path) -> Path:
        """The checkpoint, its ``.json`` and ``<stem>.metrics.json`` in ``folder``."""
        folder = Path(folder)
        name = Path(self.data["checkpoint"]).name
        report = {**self.data, "checkpoint": str(folder / name)}
        _write_training(folder, name, self.network, self._meta, report)
        return folder


def _write_training(
    folder: Path, name: str, net: CoGdANN, meta: dict[str, Any], report: dict[str, Any]
) -> None:
    with staged_output(folder) as stage:
        save_cogd_ann(stage / name, net, meta)
        atomic_write_json(stage / f"{Path(name).stem}.metrics.json", report)


def _fit(
    net: CoGdANN,
    x_tr: torch.Tensor,
    y_tr: torch.Tensor,
    opt: torch.optim.Optimizer,
    sched: Any,
    gen: torch.Generator,
    epochs: int,
    batch_size: int,
    history: list[dict[str, Any]],
    progress: Any,
) -> None:
    """The training loop: cross-entropy on ``out_scale * w_out``, one optimiser step per batch."""
    cfg, n_train = net.config, len(y_tr)
    steps_per_epoch = (n_train + batch_size - 1) // batch_size
    with displayed(progress) as bar:
        task = bar.add_task("train cogd-sigmoid ANN", total=epochs)
        for epoch in range(epochs):
            net.train()
            order = torch.randperm(n_train, generator=gen)
            total, correct, seen = 0.0, 0, 0
            for s in range(steps_per_epoch):
                idx = order[s * batch_size : (s + 1) * batch_size]
                w_out = net(x_tr[idx])[-1]
                loss = torch.nn.functional.cross_entropy(cfg.out_scale * w_out, y_tr[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                total += float(loss.detach()) * len(idx)
                correct += int((w_out.argmax(1) == y_tr[idx]).sum())
                seen += len(idx)
            history.append(
                {"epoch": epoch + 1, "loss": total / seen, "train_accuracy_batches": correct / seen}
            )
            bar.advance(task)


def train_cogd_ann(
    dataset: str = "digits",
    arch: str = "paper003-fc",
    *,
    epochs: int = 20,
    lr: float = 1e-2,
    batch_size: int = 32,
    seed: int = 0,
    out: str | Path = Path("results/train/cogd-ann.pt"),
    device_params: Mapping[str, Any] | None = None,
    synapse: str = "cogd",
    levels: int | None = None,
    i_unit_a: float | None = None,
    i_offset_a: float | None = None,
    i_max_a: float = I_MAX_A,
    out_scale: float = 10.0,
    clip_percentile: float = 100.0,
    max_train: int | None = None,
    progress: Any = None,
) -> AnnTrainResult:
    """Train paper 003's Co/Gd sigmoid ANN (module docstring) on ``dataset`` and write ``out``.

    ``arch``: ``paper003-fc`` (in-100-classes) or ``fc:N0-...-NL``; ``device_params``:
    overrides of :class:`~spinspice.models.cogd.CoGdParams` (name -> value or SI text);
    ``synapse``/``levels``: the synapse device of :func:`~spinspice.circuits.synapses.get_synapse_device`
    (default the 8-level Co/Gd synapse; ``levels=None`` keeps ``CoGdSynapseParams.n_levels``);
    ``i_unit_a``/``i_offset_a``: SET current per weight unit and bias current (None: the
    device's K and X0); ``max_train``: use only the first N training images.  Adam, learning
    rate ``lr`` decayed by cosine to 0, quantisation-aware from the first step.  The reported
    accuracies are those of the weights :func:`~spinspice.circuits.synapses.map_layer`
    realises.  Writes ``out``, its ``.json`` and ``<stem>.metrics.json``."""
    seed_all(seed)
    if epochs < 1:
        raise ModelParameterError("--epochs must be at least 1")
    if batch_size < 1:
        raise ModelParameterError("--batch-size must be at least 1")
    out = Path(out)
    t_start = time.perf_counter()
    data = load_dataset(dataset)
    p = CoGdParams().with_text(device_params or {})
    if synapse == "cogd" and levels is None:
        levels = int(CoGdSynapseParams().n_levels)
    syn = get_synapse_device(synapse, levels)
    cfg = CoGdAnnConfig(
        sizes=ann_arch_sizes(arch, data),
        arch=arch,
        device=p.values(),
        synapse=syn.to_json(),
        i_unit_a=i_unit_a,
        i_offset_a=i_offset_a,
        i_max_a=i_max_a,
        out_scale=out_scale,
        clip_percentile=clip_percentile,
    )
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = CoGdANN(cfg)
    n_train = len(data.y_train) if max_train is None else min(max_train, len(data.y_train))
    x_tr = torch.as_tensor(data.x_train[:n_train], dtype=torch.float32)
    y_tr = torch.as_tensor(data.y_train[:n_train], dtype=torch.int64)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps_per_epoch = (n_train + batch_size - 1) // batch_size
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    history = []
    t_train = time.perf_counter()
    threads = torch.get_num_threads()
    # the matrices are tiny: one thread is fastest (digits, 20 epochs: 7 s; with 2 threads on a
    # loaded 2-core machine 150 s, the threads waiting on each other)
    torch.set_num_threads(1)
    try:
        _fit(net, x_tr, y_tr, opt, sched, gen, epochs, batch_size, history, progress)
    finally:
        torch.set_num_threads(threads)
    train_wall = time.perf_counter() - t_train
    net.eval()
    eval_net = CoGdANN(cfg).double()
    eval_net.load_state_dict(net.state_dict())
    eval_net.eval()
    realised = _realised(eval_net)
    test_acc, confusion = _evaluate(eval_net, data.x_test, data.y_test, realised)
    train_acc, _ = _evaluate(eval_net, data.x_train[:n_train], data.y_train[:n_train], realised)
    latent = [(layer.weight, layer.bias) for layer in eval_net.layers]
    float_acc, _ = _evaluate(
        eval_net, data.x_test, data.y_test, [(w.detach(), b.detach()) for w, b in latent]
    )
    mappings = layer_mappings(eval_net)
    settings = {
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "optimizer": "adam, cosine decay",
        "max_train": max_train,
        "torch_threads": 1,
    }
    accuracy = {"test_accuracy": test_acc, "train_accuracy": train_acc, "float_test_accuracy": float_acc}
    meta = {
        "dataset": data.name,
        "n_train": n_train,
        "n_test": len(data.y_test),
        "accuracy": accuracy,
        "training": settings,
        "history": history,
    }
    report = {
        **report_header("spinspice.cogd_ann_training"),
        "kind": ANN_KIND,
        "neuron": {"model": "cogd-sigmoid", "params": p.values()},
        "dataset": data.name,
        "arch": arch,
        "sizes": list(cfg.sizes),
        "config": cfg.to_json(),
        **accuracy,
        "quantization": {
            "synapse": syn.to_json(),
            "levels": syn.levels,
            "layers": [
                {"w_clip": m.w_clip, "g_per_weight_s": m.g_per_weight_s, **m.errors} for m in mappings
            ],
        },
        "epochs": epochs,
        "train_wall_s": train_wall,
        "wall_s": time.perf_counter() - t_start,
        "checkpoint": str(out),
        "confusion": confusion,
        "history": history,
        **{k: v for k, v in meta.items() if k not in ("accuracy", "history")},
    }
    _write_training(out.parent, out.name, eval_net, meta, report)
    result = AnnTrainResult(report, eval_net, meta, out)
    result.out = out.parent
    return result
