"""The FC 784-1000-10 network (random DW-LIF weights unless a checkpoint is given), one test
image, 25 steps, stepped MAC on 2 processes: wall time and peak memory; then the speed-up of
2 processes over 1 on IMAGES images of the demo-sized 784-100-10 network.

    .venv/bin/python bench/network.py [CHECKPOINT or -] [IMAGES] [--speedup-only]

IMAGES 0 skips the speed-up part.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch
from common import cosimulate, peak_rss_mb, save_net, timed

from spinspice.snn.arch import NetConfig, SpikingNet, parse_arch
from spinspice.snn.checkpoint import load_checkpoint
from spinspice.snn.neurons import neuron_spec


def random_fc(sizes: list[int]) -> SpikingNet:
    arch = "fc:" + "-".join(map(str, sizes))
    cfg = NetConfig(arch=arch, layers=parse_arch(arch, (1, 28, 28), sizes[-1]), neuron=neuron_spec("dw-lif"))
    net = SpikingNet(cfg)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for syn in net.synapses:
            n_in = syn.weight.shape[1]
            syn.weight.copy_((torch.rand(syn.weight.shape, generator=gen) - 0.45) * 60 / n_in)
            syn.bias.copy_(torch.rand(syn.bias.shape, generator=gen) * 0.05)
    return net


def main(checkpoint: str | None, images: int, speedup_only: bool = False) -> None:
    if not speedup_only:
        one_image(checkpoint)
    if images:
        speedup(images)


def one_image(checkpoint: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(checkpoint) if checkpoint else save_net(random_fc([784, 1000, 10]), folder)
        net = load_checkpoint(path).net
        (res,), t_one = cosimulate(path, [0], workers=2)
    spikes = [sum(map(len, layer["circuit_steps"])) for layer in res["layers"]]
    print(
        f"{net.config.arch}, one image, 25 steps, 2 processes: {t_one:.1f} s wall, "
        f"peak memory {peak_rss_mb():.0f} MB"
    )
    print(
        f"  spikes per layer {spikes}, agreement "
        f"{[round(layer['vs_torch']['spike_agreement'] * 100, 1) for layer in res['layers']]} %"
    )


def speedup(images: int) -> None:
    small = random_fc([784, 100, 10])
    walls: dict = {}
    whole: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        path = save_net(small, folder)
        for workers in (1, 2):
            # the whole call (loading, mapping, starting the workers, the report) and the
            # co-simulation's own wall time as its report measures it
            (out, walls[workers]), whole[workers] = timed(
                lambda workers=workers: cosimulate(path, list(range(images)), workers=workers)
            )
            walls[f"samples{workers}"] = [r["layers"][-1]["circuit_steps"] for r in out]
    same = walls["samples1"] == walls["samples2"]
    print(
        f"{small.config.arch}, {images} images: whole calls: 1 process {whole[1]:.1f} s, "
        f"2 processes {whole[2]:.1f} s: speed-up {whole[1] / whole[2]:.2f}x"
    )
    print(
        f"  co-simulation alone (report wall_s): {walls[1]:.1f} s vs {walls[2]:.1f} s: "
        f"{walls[1] / walls[2]:.2f}x; identical results: {same}"
    )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--speedup-only"]
    main(
        args[0] if args and args[0] != "-" else None,
        int(args[1]) if len(args) > 1 else 20,
        speedup_only="--speedup-only" in sys.argv,
    )
