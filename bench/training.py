"""Training time of field-gated networks over that of DW-LIF networks, side by side in one run:
one epoch of FC 784-100-10 on the first N training images of the bundled MNIST subset (and
the test-set evaluation that ends each epoch), DW-LIF, field-gated and field-gated trained row
by row (``schedule="rows"``), through the public API.

    .venv/bin/python bench/training.py [N]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch
from common import timed

from spinspice.snn.api import train_network

RUNS = (
    ("dw-lif", "dw-lif", "all"),
    ("field-gated-lif", "field-gated-lif", "all"),
    ("field-gated-lif rows", "field-gated-lif", "rows"),
)


def main(max_train: int = 1000) -> None:
    walls: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, neuron, schedule in RUNS:
            result, wall = timed(
                lambda neuron=neuron, schedule=schedule: train_network(
                    dataset="mnist5k",
                    arch="fc:784-100-10",
                    neuron=neuron,
                    epochs=1,
                    max_train=max_train,
                    baseline=False,
                    schedule=schedule,
                    out=Path(folder) / f"{neuron}-{schedule}.pt",
                )
            )
            walls[label] = result.report()["train_wall_s"]
            print(
                f"{label:22s} one epoch of {max_train} images + test set: {walls[label]:6.1f} s "
                f"(call {wall:.1f} s), test accuracy {result.test_accuracy * 100:.1f} %",
                flush=True,
            )
    base = walls["dw-lif"]
    print(f"torch threads {torch.get_num_threads()}; training time over DW-LIF's:")
    for label in walls:
        if label != "dw-lif":
            print(f"  {label}: {walls[label] / base:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
