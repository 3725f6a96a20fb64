"""Sweeps of single-neuron runs: latency vs input frequency, rate vs current.

Paper 001 Fig. 6c-d (threshold time at 500/400/333/250 MHz) and Fig. 7b/e
(spike frequency rising with write current) are reproduced by sweeping the
OFF time or the write current density of :func:`~spinspice.experiments.neuron.run_neuron`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spinspice.circuits.cell import DWLIFCell
from spinspice.experiments.neuron import REPORT_SCHEMA_VERSION, run_neuron
from spinspice.experiments.neuron_report import write_neuron_outputs
from spinspice.experiments.plots import plot_sweep
from spinspice.io import atomic_write_json
from spinspice.models.waveforms import PulseTrain
from spinspice.units import format_si

__all__ = ["run_neuron_sweep"]

_KEYS = (
    "n_spikes",
    "first_spike_latency_s",
    "spike_rate_hz",
    "energy_per_spike_j",
    "max_spike_time_error_s",
    "spike_width_s",
)


def run_neuron_sweep(
    cell: DWLIFCell,
    drive: PulseTrain,
    duration_s: float,
    name: str,
    values: list[float],
    out_dir: Path,
    *,
    progress: Any = None,
    **run_kwargs: Any,
) -> dict[str, Any]:
    """Run one neuron per value of ``name`` (``t_off_s`` or ``amplitude``)."""
    points = []
    task = progress.add_task(f"sweep {name}", total=len(values)) if progress else None
    for k, value in enumerate(values):
        d = drive.replace(**{name: value})
        sub = out_dir / f"point_{k:02d}_{name}_{format_si(value)}"
        result = run_neuron(cell, d, duration_s, **run_kwargs)
        rep = write_neuron_outputs(result, sub)
        points.append(
            {
                "value": value,
                "frequency_hz": d.frequency_hz,
                "folder": sub.name,
                **{key: rep[key] for key in _KEYS},
            }
        )
        if progress:
            progress.advance(task)
    report = {
        "schema": "spinspice.neuron_sweep",
        "schema_version": REPORT_SCHEMA_VERSION,
        "swept": name,
        "quantity": cell.drive_quantity,
        "seed": run_kwargs.get("seed"),
        "points": points,
        "files": {"sweep_json": "sweep.json", "plot": "sweep.png"},
    }
    if name == "t_off_s":
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
    return report
