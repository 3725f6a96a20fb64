"""Checkpoints: weights + a JSON config, loaded safely (SPEC 7).

A checkpoint is one ``torch.save`` file holding only plain types and
tensors, so it loads with ``torch.load(..., weights_only=True)`` (no pickled
code runs):

    {"format": "spinspice.checkpoint", "format_version": 1,
     "spinspice_version": ..., "torch_version": ...,
     "config": "<JSON: network config, neuron model and its parameters, time step,
                encoding, data set, accuracy, training settings>",
     "state_dict": {name: tensor}, "sha256": "<digest of config and tensors>"}

Loading checks the format and its version, the spinspice version
(major.minor must match), the digest (a tampered file fails), that every
tensor is finite and that the weights fit the configuration.  A readable copy
of the config is written next to it (``model.json``); it is informational.

:func:`load_with_data` is the preamble of every command that runs a checkpoint on
images (evaluate, netlist, cosim, sweep): the checkpoint, the data set it names (or
the one given) and the check that the two fit; :func:`checkpoint_digest` identifies
the file in reports.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from spinspice import __version__
from spinspice.errors import CheckpointError, ModelParameterError
from spinspice.io import atomic_write_bytes, atomic_write_json, to_jsonable
from spinspice.snn.arch import NetConfig, SpikingNet
from spinspice.snn.data import Dataset, load_dataset

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Checkpoint",
    "checkpoint_digest",
    "load_checkpoint",
    "load_with_data",
    "payload_digest",
    "save_checkpoint",
    "write_payload",
]

FORMAT = "spinspice.checkpoint"
FORMAT_VERSION = 1


class Checkpoint:
    """A loaded checkpoint: the network (eval mode, CPU) and its metadata."""

    def __init__(self, net: SpikingNet, meta: dict[str, Any], path: str | None) -> None:
        self.net = net
        self.meta = meta
        self.path = path

    @property
    def config(self) -> NetConfig:
        return self.net.config


def payload_digest(config_text: str, state: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 of a checkpoint's config text and tensors (names, shapes, dtypes, bytes)."""
    h = hashlib.sha256(config_text.encode())
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(f"{name}|{tuple(t.shape)}|{t.dtype}|".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def save_checkpoint(path: str | Path, net: SpikingNet, meta: Mapping[str, Any]) -> Path:
    """Write ``net`` and ``meta`` (JSON-able: data set, accuracy, training settings) atomically."""
    state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    for name, t in state.items():
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"refusing to save: tensor {name} has NaN or infinite values")
    config = {
        "network": net.config.to_json(),
        # resolved parameters of every layer's neurons (the spec above holds only overrides)
        "neurons": [to_jsonable(n.describe()) for n in net.neurons],
        **meta,
    }
    return write_payload(
        path,
        {"format": FORMAT, "format_version": FORMAT_VERSION},
        config,
        state,
        {"format_version": FORMAT_VERSION, "spinspice_version": __version__},
    )


def write_payload(
    path: str | Path,
    header: Mapping[str, Any],
    config: Mapping[str, Any],
    state: Mapping[str, torch.Tensor],
    sidecar: Mapping[str, Any],
) -> Path:
    """Write a checkpoint file atomically: ``header`` (format and version), the versions that
    wrote it, ``config`` as sorted JSON text, the tensors ``state`` and the SHA-256 of both
    (:func:`payload_digest`), loadable with ``torch.load(weights_only=True)``; beside it a
    readable ``<stem>.json`` of ``sidecar`` and ``config``."""
    text = json.dumps(config, sort_keys=True)
    payload = {
        **header,
        "spinspice_version": __version__,
        "torch_version": str(torch.__version__),
        "config": text,
        "state_dict": dict(state),
        "sha256": payload_digest(text, state),
    }
    buf = io.BytesIO()
    torch.save(payload, buf)
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    atomic_write_json(path.with_suffix(".json"), {"checkpoint": path.name, **sidecar, **config})
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load and verify a checkpoint; every failure is a :class:`CheckpointError` naming the cause."""
    p = Path(path)
    if not p.is_file():
        raise CheckpointError(f"checkpoint {p} does not exist")
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as err:  # the unpickler raises anything from IndexError to UnpicklingError
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{p} is not a readable spinspice checkpoint (corrupt or another format): {first}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{p} is a torch file but not a spinspice checkpoint")
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{p} has checkpoint format {payload.get('format_version')!r}; this spinspice reads format "
            f"{FORMAT_VERSION}: re-train or re-import it with spinspice {__version__}"
        )
    written_by = str(payload.get("spinspice_version", "?"))
    if _major_minor(written_by) != _major_minor(__version__):
        raise CheckpointError(
            f"{p} was written by spinspice {written_by}, this is {__version__}: re-train or re-import it"
        )
    text, state, digest = payload.get("config"), payload.get("state_dict"), payload.get("sha256")
    if not isinstance(text, str) or not isinstance(state, dict) or not isinstance(digest, str):
        raise CheckpointError(f"{p}: checkpoint is missing its config, weights or digest")
    if payload_digest(text, state) != digest:
        raise CheckpointError(
            f"{p}: the weights or config do not match the stored digest (file tampered with)"
        )
    for name, t in state.items():
        if not isinstance(t, torch.Tensor):
            raise CheckpointError(f"{p}: entry {name} is not a tensor")
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"{p}: tensor {name} has NaN or infinite values")
    try:
        meta = json.loads(text)
        config = NetConfig.from_json(meta["network"])
        net = SpikingNet(config)
        net.load_state_dict(state, strict=True)
    except (json.JSONDecodeError, KeyError, RuntimeError) as err:
        raise CheckpointError(f"{p}: the weights do not fit the stored network config: {err}") from None
    except Exception as err:
        raise CheckpointError(f"{p}: cannot rebuild the network: {err}") from None
    net.eval()
    meta["spinspice_version"] = written_by
    meta["torch_version"] = payload.get("torch_version")
    return Checkpoint(net, meta, str(p))


def load_with_data(
    checkpoint: str | Path,
    dataset: str | None = None,
    default: str | None = "mnist5k",
    *,
    classes: bool = True,
) -> tuple[Checkpoint, Dataset]:
    """The checkpoint and the data set to run it on, checked to fit each other.

    The data set is ``dataset`` when given, else the one the checkpoint was trained on,
    else ``default`` (``None``: none, a :class:`ModelParameterError` asks for one).  Its
    image shape and (with ``classes``) class count must be the network's; circuits and
    co-simulations of a layer whose outputs are not the data set's classes pass
    ``classes=False`` (spike agreement, energy and latency still hold, accuracy does not).
    """
    ck = load_checkpoint(checkpoint)
    name = dataset or ck.meta.get("dataset") or default
    if not name:
        raise ModelParameterError(f"{checkpoint} names no data set: give --dataset")
    data = load_dataset(name)
    cfg = ck.config
    if data.image_shape != cfg.image_shape or (classes and data.n_classes != cfg.n_classes):
        raise ModelParameterError(
            f"{checkpoint} expects images of {cfg.image_shape} and {cfg.n_classes} classes; "
            f"{data.name} has {data.image_shape} and {data.n_classes}"
        )
    return ck, data


def checkpoint_digest(path: str | Path) -> str:
    """SHA-256 (hex) of the checkpoint file's bytes: which weights a report was made with."""
    h = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
