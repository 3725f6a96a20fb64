"""``run_demo``: the main job on the bundled default, as one function (``spinspice demo``).

Train a DW-LIF network on the bundled MNIST subset (or reuse the cached checkpoint when it
was trained with the same settings), run ``samples`` test images through its circuit
(stepped MAC), write the report, and write the netlists of the first test image.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spinspice.cosim import run, write_netlists
from spinspice.cosim.netlists import DEFAULT_SPLIT
from spinspice.cosim.runs import CosimResult, cosim_summary
from spinspice.errors import SpinspiceError, check_setting
from spinspice.io import Result, atomic_write_json
from spinspice.snn import train_network
from spinspice.snn.checkpoint import load_checkpoint

__all__ = ["DEMO_ARCH", "DEMO_EPOCHS", "DemoResult", "cache_mismatch", "run_demo"]

#: the bundled default: a paper-001-style FC network, narrower hidden layer (so that
#: training and the circuit check of 10 images fit in minutes on 2 cores)
DEMO_ARCH = "fc:784-100-10"
DEMO_EPOCHS = 2


def cache_mismatch(
    path: Path, dataset: str, arch: str, epochs: int, max_train: int | None, seed: int
) -> str | None:
    """Why the cached demo checkpoint cannot be reused (None: it can)."""
    if not path.is_file():
        return f"no checkpoint at {path}"
    try:
        ck = load_checkpoint(path)
    except SpinspiceError as err:
        return f"the cached checkpoint is unusable: {err}"
    training = ck.meta.get("training") or {}
    have = (ck.config.arch, ck.config.neuron.get("model"), ck.meta.get("dataset"), training.get("epochs"))
    want = (arch, "dw-lif", dataset.split(":")[0], epochs)
    if have != want or training.get("max_train") != max_train or training.get("seed") != seed:
        return f"the cached checkpoint is for {have}, not {want}"
    return None


@dataclasses.dataclass
class DemoResult(Result):
    """The demo's co-simulation (schema ``spinspice.cosim``, its report with a ``demo`` entry)."""

    cosim: CosimResult
    out: Path | None = None

    @property
    def data(self) -> dict[str, Any]:  # type: ignore[override]
        return self.cosim.data

    def summary(self) -> str:
        return f"demo: {cosim_summary(self.data, self.out)}\nnetlists: {self.data['demo']['netlists']}/"

    def write(self, folder: str | Path) -> Path:
        """The co-simulation's report (with its ``demo`` entry) and figures."""
        return self.cosim.write(folder)


def run_demo(
    out: str | Path = Path("results/demo"),
    *,
    checkpoint: str | Path = Path("results/demo-model/model.pt"),
    dataset: str = "mnist5k",
    arch: str = DEMO_ARCH,
    epochs: int = DEMO_EPOCHS,
    max_train: int | None = None,
    samples: int = 10,
    workers: int = 0,
    seed: int = 0,
    progress: Any = None,
    log: Callable[[str], None] | None = None,
) -> DemoResult:
    """Train (or reuse) the demo network, co-simulate ``samples`` test images, write the
    report into ``out`` and the netlists of test image 0 into ``out/netlists``.

    ``log`` receives one line per step (which checkpoint, each step's own summary)."""
    out, checkpoint = Path(out), Path(checkpoint)
    check_setting("epochs", epochs, low=1, integer=True)
    if max_train is not None:
        check_setting("max_train", max_train, low=1, integer=True)
    check_setting("samples", samples, low=1, integer=True)
    check_setting("workers", workers, low=0, integer=True)
    check_setting("seed", seed, low=0, integer=True)
    say = log or (lambda _line: None)
    why = cache_mismatch(checkpoint, dataset, arch, epochs, max_train, seed)
    if why:
        say(f"training the demo network ({why})")
        trained = train_network(
            dataset=dataset,
            arch=arch,
            neuron="dw-lif",
            epochs=epochs,
            device="cpu",
            max_train=max_train,
            baseline=False,
            out=checkpoint,
            seed=seed,
            progress=progress,
        )
        say(trained.summary())
    else:
        say(f"reusing the demo network {checkpoint}")
    cosim = run(
        checkpoint,
        samples=samples,
        dataset=dataset,
        mode="stepped",
        workers=workers or max(1, min(2, os.cpu_count() or 1)),
        fresh=True,  # the demo is a new run each time
        out=out,
        seed=seed,
        progress=progress,
    )
    netlists = write_netlists(
        checkpoint, sample=0, dataset=dataset, out=out / "netlists", seed=seed, split=DEFAULT_SPLIT
    )
    say(netlists.summary())
    cosim.data["demo"] = {
        "checkpoint": str(checkpoint),
        "trained": bool(why),
        "netlists": str(out / "netlists"),
    }
    atomic_write_json(out / "report.json", cosim.data)
    return DemoResult(cosim, out)
