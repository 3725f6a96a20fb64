"""Sweeps of single-neuron runs: latency vs input frequency, rate vs current.

Paper 001 Fig. 6c-d (threshold time at 500/400/333/250 MHz) and Fig. 7b/e
(spike frequency rising with write current) are reproduced by sweeping the
OFF time or the write current density of :func:`~spinspice.experiments.neuron.simulate_cell`.
:func:`sweep_cell` runs the points, :func:`sweep_report` summarises them
(schema ``spinspice.neuron_sweep``) and :func:`write_sweep` writes every point's
files, ``sweep.json`` and ``sweep.png``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spinspice.circuits.cellbase import CellParams
from spinspice.errors import ModelParameterError
from spinspice.experiments.neuron import REPORT_SCHEMA_VERSION, NeuronResult, simulate_cell
from spinspice.experiments.neuron_report import write_neuron_outputs
from spinspice.experiments.plots import plot_sweep
from spinspice.io import atomic_write_json, no_progress
from spinspice.models.waveforms import PulseTrain
from spinspice.units import format_si

__all__ = ["point_folder", "sweep_cell", "sweep_report", "write_sweep"]

_KEYS = (
    "n_spikes",
    "first_spike_latency_s",
    "spike_rate_hz",
    "energy_per_spike_j",
    "max_spike_time_error_s",
    "spike_width_s",
)


def sweep_cell(
    cell: CellParams,
    drive: PulseTrain,
    duration_s: float,
    name: str,
    values: Sequence[float],
    *,
    progress: Any = None,
    **run_kwargs: Any,
) -> list[NeuronResult]:
    """One :func:`simulate_cell` run per value of the drive field ``name`` (``t_off_s`` or
    ``amplitude``); ``run_kwargs`` go to every run."""
    if not len(values):
        raise ModelParameterError(f"sweep of {name}: give at least one value")
    progress = progress or no_progress()
    task = progress.add_task(f"sweep {name}", total=len(values))
    runs = []
    for value in values:
        runs.append(simulate_cell(cell, drive.replace(**{name: value}), duration_s, **run_kwargs))
        progress.advance(task)
    return runs


def point_folder(k: int, name: str, value: float) -> str:
    """Folder (inside the sweep's) of point ``k``: ``point_00_t_off_s_1n``."""
    return f"point_{k:02d}_{name}_{format_si(value)}"


def sweep_report(
    runs: Sequence[NeuronResult], name: str, values: Sequence[float], *, seed: int | None
) -> dict[str, Any]:
    """The ``sweep.json`` content (schema ``spinspice.neuron_sweep``) of ``runs`` (one per value)."""
    points = []
    for k, (run, value) in enumerate(zip(runs, values, strict=True)):
        rep = run.report()
        points.append(
            {
                "value": value,
                "frequency_hz": run.drive.frequency_hz,
                "folder": point_folder(k, name, value),
                **{key: rep[key] for key in _KEYS},
            }
        )
    return {
        "schema": "spinspice.neuron_sweep",
        "schema_version": REPORT_SCHEMA_VERSION,
        "swept": name,
        "quantity": runs[0].cell.drive_quantity,
        "seed": seed,
        "points": points,
        "files": {"sweep_json": "sweep.json", "plot": "sweep.png"},
    }


def write_sweep(runs: Sequence[NeuronResult], report: dict[str, Any], out_dir: Path) -> None:
    """Every point's files (in its folder), ``sweep.png`` and ``sweep.json`` into ``out_dir``."""
    points = report["points"]
    for run, point in zip(runs, points, strict=True):
        write_neuron_outputs(run, out_dir / point["folder"], html=False)
    cell = runs[0].cell
    if report["swept"] == "t_off_s":
        x = [p["frequency_hz"] / 1e6 for p in points]
        xlabel = "input pulse frequency (MHz)"
        title = "latency to first spike vs input frequency (paper 001 Fig. 6c-d)"
    else:
        x = [p["value"] for p in points]
        xlabel = "write current density J (A/m$^2$)" if cell.drive_quantity == "j" else "write current (A)"
        title = f"{cell.model}: spike rate vs write current (paper 001 Fig. 7b/e analogue)"
    plot_sweep(
        x,
        {
            "first_spike_latency_s": [
                None if p["first_spike_latency_s"] is None else p["first_spike_latency_s"] * 1e9
                for p in points
            ],
            "spike_rate_hz": [
                None if p["spike_rate_hz"] is None else p["spike_rate_hz"] / 1e6 for p in points
            ],
        },
        xlabel=xlabel,
        ylabels={"first_spike_latency_s": "first-spike latency (ns)", "spike_rate_hz": "spike rate (MHz)"},
        title=title,
        path=out_dir / "sweep.png",
    )
    atomic_write_json(out_dir / "sweep.json", report)
