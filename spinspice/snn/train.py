"""Training and evaluation (SPEC 4: Adam, lr 1e-3, cross-entropy on spike counts).

Seeded and reproducible on CPU: the weights are initialised from ``seed``, the
batches shuffled by ``numpy.random.default_rng(seed)`` and the training input spikes
and device noise drawn from a ``torch.Generator`` seeded with ``seed + 1``.  Test
passes draw each image's randomness from its own generator,
:func:`~spinspice.snn.arch.image_seed` of the run seed and the image's index: the
accuracy ``train`` records is the one ``evaluate`` of the checkpoint gives with the same
seed, to the image, whatever the batch size.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from spinspice.errors import ModelParameterError, TrainingError
from spinspice.io import atomic_write_json
from spinspice.snn.arch import NetConfig, SpikingNet, image_seed
from spinspice.snn.data import Dataset

__all__ = ["TrainSettings", "evaluate", "plot_confusion", "plot_history", "train"]


@dataclasses.dataclass(frozen=True)
class TrainSettings:
    """Optimiser and loop settings (SPEC 4: Adam, lr 1e-3)."""

    epochs: int = 3
    #: images per optimiser step; None: :func:`default_batch_size` of the training set
    batch_size: int | None = None
    lr: float = 1e-3
    seed: int = 0
    device: str = "cpu"
    max_train: int | None = None  # use only the first N training images (quick runs)

    def __post_init__(self) -> None:
        if self.epochs < 0 or (self.batch_size is not None and self.batch_size < 1) or not self.lr > 0:
            raise ModelParameterError("need epochs >= 0, batch_size >= 1 and lr > 0")


#: training sets smaller than this train in batches of SMALL_BATCH, larger ones of LARGE_BATCH
SMALL_SET = 3000
SMALL_BATCH, LARGE_BATCH = 16, 128


def default_batch_size(n_train: int) -> int:
    """Images per optimiser step when none is given: 128, or 16 for training sets under 3000
    images.  At 128, an epoch of the 1437 ``digits`` images is 12 Adam steps (lr 1e-3): three
    epochs leave an ideal-LIF ``csnn:4c3-p2-10`` at 17.5 % and ``fc:64-32-10`` at 40 %; in
    batches of 16, 80.6 % and 91.9 %.  MNIST-sized sets keep 128."""
    return SMALL_BATCH if n_train < SMALL_SET else LARGE_BATCH


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ModelParameterError("--device cuda: no CUDA device is available here; use cpu or auto")
    if name not in ("cpu", "cuda"):
        raise ModelParameterError(f"--device {name!r}: use cpu, cuda or auto")
    return torch.device(name)


def evaluate(
    net: SpikingNet,
    x: np.ndarray,
    y: np.ndarray,
    *,
    batch_size: int = 128,
    seed: int = 0,
    device: torch.device | str = "cpu",
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Accuracy, mean loss, the confusion matrix (rows: true class, columns: predicted) and
    every image's predicted class (``predictions``, in the order of ``x``).

    Image i draws its input spikes and neuron noise from its own generator,
    ``image_seed(seed, i)``: its result does not depend on ``batch_size``, and is the one
    the co-simulation's torch reference gives for test image i under the same seed."""
    net.eval()
    n_classes = net.config.n_classes
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    predictions = np.zeros(len(y), dtype=np.int64)
    loss_sum, spikes = 0.0, 0.0
    with torch.no_grad():
        for i in range(0, len(y), batch_size):
            xb = torch.as_tensor(x[i : i + batch_size], device=device)
            yb = torch.as_tensor(y[i : i + batch_size], device=device)
            counts, _ = net(xb, seeds=[image_seed(seed, j) for j in range(i, i + len(yb))])
            loss_sum += float(nn.functional.cross_entropy(counts, yb, reduction="sum"))
            spikes += float(counts.sum())
            pred = counts.argmax(1).cpu().numpy()
            predictions[i : i + len(yb)] = pred
            np.add.at(confusion, (yb.cpu().numpy(), pred), 1)
            if progress:
                progress(len(yb))
    n = max(1, len(y))
    return {
        "accuracy": float(np.trace(confusion) / n),
        "loss": loss_sum / n,
        "mean_output_spikes": spikes / n,
        "confusion": confusion,
        "predictions": predictions,
    }


def train(
    config: NetConfig,
    data: Dataset,
    settings: TrainSettings,
    *,
    progress: Any = None,
    label: str = "train",
    initial: Mapping[str, torch.Tensor] | None = None,
) -> tuple[SpikingNet, dict[str, Any]]:
    """Train a network (fresh, or from the weights ``initial``: fine-tuning); returns it and the
    history (per-epoch metrics, timing)."""
    device = pick_device(settings.device)
    torch.manual_seed(settings.seed)
    net = SpikingNet(config)
    if initial is not None:
        net.load_state_dict(initial, strict=True)
    net = net.to(device)
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
    rng = np.random.default_rng(settings.seed)
    gen = torch.Generator().manual_seed(settings.seed + 1)
    x_train, y_train = data.x_train, data.y_train
    if settings.max_train is not None:
        x_train, y_train = x_train[: settings.max_train], y_train[: settings.max_train]
    n = len(y_train)
    batch = settings.batch_size or default_batch_size(n)
    n_batches = math.ceil(n / batch)
    history: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    task = (
        progress.add_task(f"{label}", total=settings.epochs * (n + len(data.y_test)))
        if progress is not None
        else None
    )
    for epoch in range(1, settings.epochs + 1):
        net.train()
        order = rng.permutation(n)
        loss_sum, correct, seen = 0.0, 0, 0
        for b in range(n_batches):
            idx = order[b * batch : (b + 1) * batch]
            xb = torch.as_tensor(x_train[idx], device=device)
            yb = torch.as_tensor(y_train[idx], device=device)
            counts, _ = net(xb, generator=gen)
            loss = nn.functional.cross_entropy(counts, yb)
            if not torch.isfinite(loss):
                raise TrainingError(
                    f"the loss became {float(loss)} in epoch {epoch}: training diverged; lower --lr"
                )
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((counts.argmax(1) == yb).sum())
            seen += len(idx)
            if progress is not None:
                progress.update(
                    task,
                    advance=len(idx),
                    description=f"{label} epoch {epoch}/{settings.epochs} loss {loss_sum / seen:.3f} "
                    f"acc {correct / seen:.3f}",
                )
        # every epoch's test pass under the run seed: the last is the accuracy recorded, the one
        # ``evaluate`` of the checkpoint with the same --seed reproduces
        test = evaluate(
            net,
            data.x_test,
            data.y_test,
            seed=settings.seed,
            device=device,
            progress=(lambda k: progress.update(task, advance=k)) if progress is not None else None,
        )
        history.append(
            {
                "epoch": epoch,
                "train_loss": loss_sum / seen,
                "train_accuracy": correct / seen,
                "test_loss": test["loss"],
                "test_accuracy": test["accuracy"],
                "mean_output_spikes": test["mean_output_spikes"],
                "wall_s": time.perf_counter() - t0,
            }
        )
    if not history:  # epochs = 0: only measure the given weights
        test = evaluate(net, data.x_test, data.y_test, seed=settings.seed, device=device)
    net.eval()
    return net.cpu(), {
        "history": history,
        "wall_s": time.perf_counter() - t0,
        "device": str(device),
        "n_train_used": n,
        "batch_size": batch,
        "confusion": test["confusion"],
    }


def figure_history(histories: dict[str, list[dict[str, Any]]]) -> Any:
    """Loss and accuracy per epoch for one or more runs (e.g. device neuron and LIF baseline):
    a colour per run, solid for the training set and dashed for the test set."""
    from matplotlib.ticker import MaxNLocator

    from spinspice.figures import pyplot

    plt = pyplot()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.8), layout="constrained")
    for k, (name, hist) in enumerate(histories.items()):
        ep = [h["epoch"] for h in hist]
        color = f"C{k}"
        a1.plot(ep, [h["train_loss"] for h in hist], "o-", color=color, ms=4, label=f"{name}, train")
        a1.plot(ep, [h["test_loss"] for h in hist], "s--", color=color, ms=4, label=f"{name}, test")
        a2.plot(ep, [h["train_accuracy"] * 100 for h in hist], "o-", color=color, ms=4)
        a2.plot(ep, [h["test_accuracy"] * 100 for h in hist], "s--", color=color, ms=4)
    a1.set_xlabel("epoch")
    a1.set_ylabel("loss (cross-entropy on spike counts)")
    a2.set_xlabel("epoch")
    a2.set_ylabel("accuracy (%)")
    for a in (a1, a2):
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.grid(alpha=0.3)
    if histories:
        fig.legend(loc="outside lower center", ncols=min(4, 2 * len(histories)), fontsize=8, frameon=False)
    fig.suptitle("Training: " + " vs ".join(f"{name} neurons" for name in histories))
    return fig


def plot_history(histories: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """``*.curve.png``: :func:`figure_history`."""
    from spinspice.io import save_figure

    return save_figure(figure_history(histories), path)


def figure_confusion(confusion: np.ndarray, title: str) -> Any:
    """The confusion matrix (counts of test images) with the counts in the cells."""
    from spinspice.figures import pyplot

    plt = pyplot()
    c = np.asarray(confusion)
    fig, ax = plt.subplots(figsize=(5.4, 4.6), layout="constrained")
    im = ax.imshow(c, cmap="Blues")
    if max(c.shape) <= 20:  # beyond that the counts would not fit their cells
        for i in range(c.shape[0]):
            for j in range(c.shape[1]):
                if c[i, j]:
                    ax.text(
                        j,
                        i,
                        str(c[i, j]),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if c[i, j] > c.max() / 2 else "black",
                    )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    step = 1 if max(c.shape) <= 20 else max(1, max(c.shape) // 10)
    ax.set_xticks(range(0, c.shape[1], step))
    ax.set_yticks(range(0, c.shape[0], step))
    ax.set_title(title, fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.046, label="number of test images")
    return fig


def plot_confusion(confusion: np.ndarray, path: Path, title: str) -> Path:
    """``confusion.png``: :func:`figure_confusion`."""
    from spinspice.io import save_figure

    return save_figure(figure_confusion(confusion, title), path)


def write_metrics(path: Path, payload: dict[str, Any]) -> Path:
    return atomic_write_json(path, payload)
