"""Shared fixtures.  Simulator tests are marked ``ngspice`` and skip with a
clear reason when ngspice is absent (CI installs it, so there they run)."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest

from spinspice.sim.backends import BatchBackend, SharedBackend


def pytest_configure(config: pytest.Config) -> None:
    # under pytest-xdist (make test: a worker per core) torch's intra-op threads share the
    # cores with the other workers instead of each claiming all of them
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@functools.cache
def _ngspice_status() -> tuple[bool, bool]:
    return BatchBackend().available(), SharedBackend().available()


#: the longest test files (minutes each), collected first in this order: `make test` runs
#: `-n auto --dist loadfile --no-loadscope-reorder`, which hands out files in collection order,
#: so they start at once on different workers instead of being left for the end of the run
#: (xdist's default order, by number of tests, puts these few-test files last)
SLOW_FIRST = ("test_models_md.py", "test_docs.py", "test_cli.py", "test_field_gating.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order
    batch, shared = _ngspice_status()
    if batch and shared:
        return
    reason = "ngspice not installed (run `make install` or apt-get install ngspice libngspice0)"
    for item in items:
        if "ngspice" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@functools.cache
def neuron_run(backend: str, t_off_s: float, duration_s: float):
    """One cached paper-001 neuron run (reused by several tests)."""
    from spinspice.circuits.registry import get_cell
    from spinspice.experiments.neuron import simulate_cell
    from spinspice.models.waveforms import PulseTrain

    cell = get_cell("dw-lif", "paper-001")[0]
    return simulate_cell(cell, PulseTrain(t_off_s=t_off_s), duration_s, backend=backend)


def digits_config(arch: str, neuron: dict, steps: int, **extra):
    """A network configuration for the bundled 8x8 digits."""
    from spinspice.snn.arch import NetConfig, parse_arch
    from spinspice.snn.data import load_dataset

    shape = load_dataset("digits").image_shape
    n_classes = extra.pop("n_classes", 10)
    return NetConfig(
        arch=arch,
        layers=parse_arch(arch, shape, n_classes),
        neuron=neuron,
        steps=steps,
        image_shape=shape,
        n_classes=n_classes,
        **extra,
    )


def trained_digits_checkpoint(folder, config, **settings):
    """Train ``config`` on digits (``TrainSettings(**settings)``) and save it as ``folder/m.pt``."""
    from spinspice.snn.checkpoint import save_checkpoint
    from spinspice.snn.data import load_dataset
    from spinspice.snn.train import TrainSettings, train

    net, _ = train(config, load_dataset("digits"), TrainSettings(**settings))
    path = folder / "m.pt"
    save_checkpoint(path, net, {"dataset": "digits"})
    return path


@pytest.fixture(scope="session")
def digits_checkpoint(tmp_path_factory):
    """A small DW-LIF network (64-12-10, 8 steps) trained for one epoch on digits."""
    from spinspice.snn.checkpoint import save_checkpoint
    from spinspice.snn.data import load_dataset
    from spinspice.snn.neurons import neuron_spec
    from spinspice.snn.train import TrainSettings, train

    cfg = digits_config("fc:64-12-10", neuron_spec("dw-lif"), 8)
    net, _ = train(
        cfg, load_dataset("digits"), TrainSettings(epochs=1, batch_size=32, lr=5e-3, max_train=256)
    )
    path = tmp_path_factory.mktemp("ck") / "m.pt"
    save_checkpoint(path, net, {"dataset": "digits"})
    return path


def raw_file_bytes(
    names: list[str], data: np.ndarray, *, ascii_: bool, complex_: bool, points: int | None = None
) -> bytes:
    """A raw file as ngspice writes it: binary or ASCII (``Values:``), real or complex."""
    n_points = data.shape[0] if points is None else points
    header = [
        "Title: synthetic",
        "Date: today",
        "Plotname: Transient Analysis",
        f"Flags: {'complex' if complex_ else 'real'}",
        f"No. Variables: {len(names)}",
        f"No. Points: {n_points}",
        "Variables:",
        *[f"\t{i}\t{n}\t{'time' if i == 0 else 'voltage'}" for i, n in enumerate(names)],
        "Values:" if ascii_ else "Binary:",
    ]
    head = ("\n".join(header) + "\n").encode()
    if not ascii_:
        return head + data.astype("<c16" if complex_ else "<f8").tobytes()

    def fmt(x: complex) -> str:
        return f"{float(x.real)!r},{float(x.imag)!r}" if complex_ else repr(float(x.real))

    body = []
    for p, row in enumerate(data):
        body.append(f" {p}\t{fmt(row[0])}")
        body += [f"\t{fmt(x)}" for x in row[1:]]
    return head + ("\n".join(body) + "\n" if body else "").encode()
