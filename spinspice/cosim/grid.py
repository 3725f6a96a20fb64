"""Parameter sweeps: a grid of co-simulations of one trained network (SPEC 2, ``spinspice sweep``).

A point sets neuron parameters (any parameter of the network's neuron model, e.g. the write
slot ``t_off_s`` -- the pulse rate --, ``j_reset_a_per_m2``, ``u_unit`` -- the write current
of one input unit --, the field bias of field-gated cells) on every layer, and/or circuit
settings (``variability``, ``v_read_v``, ``schedule``, ``synapse``, ``levels``,
``clip_percentile``).  Both the torch reference and the circuit run with the point's neurons,
so each point says what that design does with the trained weights.

Each finished point is written atomically to ``points/<key>.json``; a sweep started again
in the same folder skips the points already there (resume).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spinspice.cosim.report import summarize_cosim
from spinspice.cosim.runner import CosimSettings, prepare, run_cosim
from spinspice.errors import ModelParameterError
from spinspice.io import atomic_write_json
from spinspice.snn.arch import SpikingNet
from spinspice.snn.neurons import make_neuron

__all__ = [
    "SETTING_NAMES",
    "SUMMARY_KEYS",
    "grid_points",
    "plot_tradeoffs",
    "point_key",
    "run_point",
    "run_sweep",
]

#: sweepable settings of the circuit (the rest of a point's names are neuron parameters)
SETTING_NAMES = ("variability", "v_read_v", "schedule", "synapse", "levels", "clip_percentile")

#: what the results table keeps of each point's co-simulation report
SUMMARY_KEYS = (
    "torch_accuracy",
    "circuit_accuracy",
    "class_agreement",
    "spike_agreement",
    "energy_per_inference_j",
    "energy_per_spike_j",
    "mean_latency_s",
    "circuit_spikes_per_inference",
)


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The Cartesian product of ``grid`` (name -> values), in a fixed order."""
    if not grid:
        raise ModelParameterError("a sweep needs at least one --set NAME=V1,V2,...")
    for name, values in grid.items():
        if not values:
            raise ModelParameterError(f"--set {name}: give at least one value")
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(grid[n] for n in names))]


def point_key(point: Mapping[str, Any]) -> str:
    """A file-name-safe key of a point (stable across runs)."""
    text = json.dumps({k: point[k] for k in sorted(point)}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _with_neuron_params(net: SpikingNet, params: Mapping[str, Any]) -> SpikingNet:
    """A copy of ``net`` (same weights) whose device neurons take ``params``."""
    if not params:
        return net
    out = copy.deepcopy(net)
    for k, layer in enumerate(out.config.layers):
        spec = dict(layer.get("neuron") or out.config.neuron)
        if spec.get("model") == "lif":
            continue
        spec["params"] = {**(spec.get("params") or {}), **params}
        out.neurons[k] = make_neuron(spec)  # validates names and ranges, says what is allowed
    return out


def _point_setup(
    net: SpikingNet, base: CosimSettings, point: Mapping[str, Any]
) -> tuple[SpikingNet, CosimSettings]:
    """The network and settings of one point (raises with the offending name and value)."""
    settings_changes = {k: v for k, v in point.items() if k in SETTING_NAMES}
    neuron_params = {k: v for k, v in point.items() if k not in SETTING_NAMES}
    options = base.options
    if "v_read_v" in settings_changes:
        options = dataclasses.replace(options, v_read_v=float(settings_changes.pop("v_read_v")))
    if "schedule" in settings_changes:
        options = dataclasses.replace(options, schedule=str(settings_changes.pop("schedule")))
    settings = dataclasses.replace(base, options=options, **settings_changes)
    if settings.synapse or settings.levels:
        from spinspice.circuits.synapses import get_synapse_device

        get_synapse_device(settings.synapse, settings.levels)
    return _with_neuron_params(net, neuron_params), settings


def validate_points(net: SpikingNet, base: CosimSettings, points: Sequence[Mapping[str, Any]]) -> None:
    """Build every point's neurons and settings before anything runs or is written."""
    for point in points:
        try:
            _point_setup(net, base, point)
        except ModelParameterError as err:
            shown = ", ".join(f"{k}={v}" for k, v in point.items())
            raise ModelParameterError(f"sweep point {shown}: {err}") from None


def run_point(
    net: SpikingNet,
    data: Any,
    ids: Sequence[int],
    base: CosimSettings,
    point: Mapping[str, Any],
    *,
    workers: int = 1,
    scheduler: str | None = None,
) -> dict[str, Any]:
    """Co-simulate ``ids`` for one point; return its summary row.

    A point whose images fail (ngspice error or crash, a dead worker) comes back with
    ``status: "failed"``, the failures and no figures; the sweep goes on and ``--resume``
    runs it again."""
    point_net, settings = _point_setup(net, base, point)
    failures: list[dict[str, Any]] = []
    results = run_cosim(
        prepare(point_net, settings), data, ids, workers=workers, scheduler=scheduler, failures=failures
    )
    if failures:
        return {
            "point": dict(point),
            "status": "failed",
            **dict.fromkeys(SUMMARY_KEYS),
            "n_samples": len(ids),
            "failed_samples": failures,
        }
    report = summarize_cosim(results, {"settings": settings.to_json()})
    figures = {k: report[k] for k in SUMMARY_KEYS}
    return {"point": dict(point), "status": "done", **figures, "n_samples": len(ids)}


def run_sweep(
    net: SpikingNet,
    data: Any,
    ids: Sequence[int],
    base: CosimSettings,
    points: Sequence[Mapping[str, Any]],
    out_dir: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    on_point: Callable[[dict[str, Any], bool], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every point not yet done in ``out_dir/points`` and return all rows in grid order
    (failed points are run again)."""
    rows = []
    for point in points:
        path = out_dir / "points" / f"{point_key(point)}.json"
        if path.is_file():
            try:
                row = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                row = {}  # unreadable: run it again
            done = row.get("status", "done") == "done"
            if done and row.get("point") == dict(point) and row.get("n_samples") == len(ids):
                row = {"status": "done", **row}
                rows.append(row)
                if on_point is not None:
                    on_point(row, True)
                continue
        row = run_point(net, data, ids, base, point, workers=workers, scheduler=scheduler)
        atomic_write_json(path, row)
        rows.append(row)
        if on_point is not None:
            on_point(row, False)
    return rows


def plot_tradeoffs(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Circuit accuracy vs energy per inference (colour: mean latency), and energy vs latency."""
    import numpy as np

    from spinspice.io import pyplot, save_figure

    plt = pyplot()
    rows = [r for r in rows if r.get("status", "done") == "done"]
    e = np.array([r["energy_per_inference_j"] * 1e12 for r in rows])
    acc = np.array([(r["circuit_accuracy"] or 0.0) * 100 for r in rows])
    lat = np.array([r["mean_latency_s"] * 1e9 for r in rows])
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    sc = ax[0].scatter(e, acc, c=lat, cmap="viridis")
    fig.colorbar(sc, ax=ax[0], label="mean latency (ns)")
    ax[0].set_xlabel("energy per inference (pJ)")
    ax[0].set_ylabel("circuit accuracy (%)")
    ax[1].scatter(lat, e, c=acc, cmap="plasma")
    ax[1].set_xlabel("mean latency (ns)")
    ax[1].set_ylabel("energy per inference (pJ)")
    for r, x, y in zip(rows, e, acc, strict=True):
        label = ", ".join(f"{k}={v}" for k, v in r["point"].items())
        ax[0].annotate(label, (x, y), fontsize=6, alpha=0.8)
    return save_figure(fig, path)
