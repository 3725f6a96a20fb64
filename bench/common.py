"""Shared set-up of the benchmarks: seeded random DW-LIF layers driven by MNIST images.

Absolute times on a shared machine are noise; every benchmark prints ratios of
quantities measured side by side in the same run.
"""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from spinspice import cosim
from spinspice.snn.arch import NetConfig, SpikingNet, parse_arch
from spinspice.snn.checkpoint import save_checkpoint
from spinspice.snn.data import load_dataset
from spinspice.snn.neurons import neuron_spec

__all__ = ["cosimulate", "layer_net", "mnist", "peak_rss_mb", "run_sample", "save_net", "timed"]


def mnist() -> Any:
    return load_dataset("mnist5k")


def layer_net(n_out: int, n_in: int = 784, steps: int = 25, seed: int = 0) -> SpikingNet:
    """One FC layer of ``n_out`` DW-LIF neurons with random weights (a few spikes each)."""
    arch = f"fc:{n_in}-{n_out}"
    cfg = NetConfig(
        arch=arch,
        layers=parse_arch(arch, (1, 28, 28), n_out),
        neuron=neuron_spec("dw-lif"),
        steps=steps,
        image_shape=(1, 28, 28),
        n_classes=n_out,
    )
    net = SpikingNet(cfg)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        w = net.synapses[0].weight
        w.copy_((torch.rand(w.shape, generator=gen) - 0.45) * 0.08)
        net.synapses[0].bias.copy_(torch.rand(n_out, generator=gen) * 0.05)
    return net


def save_net(net: SpikingNet, folder: str | Path) -> Path:
    """``net`` as a checkpoint for the bundled MNIST subset (what the API co-simulates)."""
    return save_checkpoint(Path(folder) / "model.pt", net, {"dataset": "mnist5k"})


def cosimulate(
    checkpoint: Path, samples: list[int], *, workers: int = 1, **settings: Any
) -> tuple[list[dict[str, Any]], float]:
    """``spinspice.cosim.run`` on test images ``samples`` of the bundled MNIST subset:
    (per-image results, wall seconds of the co-simulation itself as the report measures it,
    without loading, mapping or writing the report)."""
    with tempfile.TemporaryDirectory() as out:
        result = cosim.run(
            checkpoint, samples=samples, workers=workers, trace="none", out=out, fresh=True, **settings
        )
    return result.results, result.report()["wall_s"]


def run_sample(
    net: SpikingNet, image: int = 0, *, mode: str = "stepped", group: int = 1, workers: int = 1, **kw: Any
) -> tuple[dict[str, Any], float]:
    """Test image ``image`` through the circuit of ``net``: (result, wall seconds)."""
    with tempfile.TemporaryDirectory() as folder:
        results, wall = cosimulate(
            save_net(net, folder), [image], workers=workers, mode=mode, group=group, tile=1024, **kw
        )
    return results[0], wall


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its finished children (MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 1024
