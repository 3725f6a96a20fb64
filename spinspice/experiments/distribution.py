"""Pulse-count-to-fire distributions of stochastic neurons (paper 004 Fig. 5a-b).

The same seeded realisations of the random inputs (``CellParams.stimulus``)
drive three independent computations:

* the batched torch stepper (:func:`~spinspice.sim.stepper.step_run`) over
  ``n_torch`` seeds -- the "torch" histogram;
* ngspice transient runs of the full cell over the first ``n_circuit`` of
  those seeds -- the "circuit" histogram, and a per-seed comparison;
* for models that provide one, a closed-form pulse model (for the DW-MTJ:
  :func:`~spinspice.models.dwmtj.pulse_counts_to_fire`).

Pulse count of a spike at ``t``: ``floor((t - t_delay) / period) + 1`` (the
pulse during which, or after which, the neuron fired).  :func:`run_distribution`
(``spinspice distribution``) runs one distribution per preset and returns them with
their files.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.circuits.cellbase import CellParams, Stimulus
from spinspice.circuits.registry import get_cell, get_model, get_presets
from spinspice.errors import ModelParameterError, check_setting
from spinspice.experiments.neuron import simulate_cell
from spinspice.experiments.results import StudyResult, displayed
from spinspice.io import atomic_write_json, atomic_write_text, report_header, save_figure, seed_all
from spinspice.io import pyplot as _pyplot
from spinspice.models.waveforms import PulseTrain
from spinspice.sim.stepper import step_run

__all__ = [
    "DistributionResult",
    "distribution_set",
    "pulse_count",
    "pulse_count_distribution",
    "run_distribution",
    "write_distribution",
]

SCHEMA = "spinspice.pulse_count_distribution"


def pulse_count(t_spike_s: float | None, drive: PulseTrain) -> int | None:
    """Index (from 1) of the pulse that made the neuron fire at ``t_spike_s``."""
    if t_spike_s is None or not math.isfinite(t_spike_s):
        return None
    return math.floor((t_spike_s - drive.t_delay_s) / drive.period_s) + 1


def _closed_form(cell: CellParams, drive: PulseTrain, seeds: np.ndarray, max_pulses: int) -> Any:
    dwmtj = getattr(cell, "dwmtj", None)
    if dwmtj is None or not math.isclose(dwmtj.noise_interval_s, drive.period_s, rel_tol=1e-9):
        return None
    from spinspice.models.dwmtj import pulse_counts_to_fire

    return pulse_counts_to_fire(
        dwmtj, drive.amplitude, drive.t_on_s, drive.period_s, seeds, max_pulses=max_pulses
    )


def _stats(counts: np.ndarray) -> dict[str, Any]:
    ok = counts[counts > 0]
    return {
        "n_runs": len(counts),
        "n_fired": len(ok),
        "mean_pulses": float(np.mean(ok)) if len(ok) else None,
        "std_pulses": float(np.std(ok, ddof=1)) if len(ok) > 1 else None,
        "min_pulses": int(np.min(ok)) if len(ok) else None,
        "max_pulses": int(np.max(ok)) if len(ok) else None,
    }


def pulse_count_distribution(
    cell: CellParams,
    drive: PulseTrain,
    *,
    n_torch: int = 500,
    n_circuit: int = 50,
    seed: int = 0,
    max_pulses: int = 200,
    backend: str = "batch",
    workers: int = 1,
    timeout_s: float | None = None,
    progress: Any = None,
    preset: str = "",
) -> dict[str, Any]:
    """Pulses to the first spike for seeds ``seed .. seed + n_torch - 1`` (torch) and the
    first ``n_circuit`` of them (ngspice).  Counts of runs that never fired are 0.
    """
    if n_torch < 1 or n_circuit < 0 or n_circuit > n_torch:
        raise ModelParameterError("need n_torch >= 1 and 0 <= n_circuit <= n_torch")
    if backend == "shared" and workers > 1:
        raise ModelParameterError(
            "the shared backend runs one simulation at a time: use --backend batch for --workers > 1"
        )
    t_max_s = drive.t_delay_s + max_pulses * drive.period_s
    seeds = np.arange(seed, seed + n_torch)
    probe = cell.stimulus(drive, t_max_s, int(seeds[0]))
    if probe is None:
        raise ModelParameterError(
            f"model {cell.model} is deterministic: a pulse-count distribution needs a stochastic model "
            "(e.g. dw-mtj-autoreset)"
        )
    # -- torch: every seed in one batch ---------------------------------------------------------------
    t0 = time.perf_counter()
    batch = Stimulus.stack([cell.stimulus(drive, t_max_s, int(s)) for s in seeds])
    dyn = cell.dynamics(drive, stimulus=batch)
    dt_s = cell.stepper_dt_s(drive)
    stepped = step_run(dyn, t_max_s, dt_s, batch=n_torch, backend="torch", stop_after_spikes=1)
    torch_counts = np.array([pulse_count(s[0], drive) if len(s) else 0 for s in stepped.spike_times_s])
    torch_wall = time.perf_counter() - t0
    closed = _closed_form(cell, drive, seeds, max_pulses)
    if closed is not None:
        closed = np.where(closed > max_pulses, 0, closed)
    # -- ngspice: the first n_circuit seeds, each simulated a few pulses past its torch count ---------
    circuit_counts = np.zeros(n_circuit, dtype=int)
    circuit_wall = 0.0

    def one(k: int) -> tuple[int, int, float]:
        expect = int(torch_counts[k]) or max_pulses
        t_stop = drive.t_delay_s + min(max_pulses, expect + 5) * drive.period_s
        r = simulate_cell(
            cell,
            drive,
            t_stop,
            backend=backend,
            reference=False,
            preset=preset,
            seed=int(seeds[k]),
            timeout_s=timeout_s,
        )
        first = float(r.spike_times_s[0]) if len(r.spike_times_s) else None
        return k, pulse_count(first, drive) or 0, r.waveforms.wall_s

    task = progress.add_task(f"{cell.model} {preset}: ngspice runs", total=n_circuit) if progress else None
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for k, count, wall in pool.map(one, range(n_circuit)):
            circuit_counts[k] = count
            circuit_wall += wall
            if progress:
                progress.advance(task)
    t_stats, c_stats = _stats(torch_counts), _stats(circuit_counts)
    same = torch_counts[:n_circuit] == circuit_counts
    mean_diff = (
        None
        if t_stats["mean_pulses"] is None or c_stats["mean_pulses"] is None
        else c_stats["mean_pulses"] - t_stats["mean_pulses"]
    )
    return {
        **report_header(SCHEMA),
        "model": cell.model,
        "preset": preset,
        "params": cell.values(),
        "drive": {
            "t_on_s": drive.t_on_s,
            "t_off_s": drive.t_off_s,
            "t_edge_s": drive.t_edge_s,
            "period_s": drive.period_s,
            "amplitude": drive.amplitude,
            "quantity": cell.drive_quantity,
        },
        "seeds": {"first": seed, "n_torch": n_torch, "n_circuit": n_circuit},
        "max_pulses": max_pulses,
        "stepper_dt_s": dt_s,
        "backend": backend,
        "torch_counts": torch_counts,
        "circuit_counts": circuit_counts,
        "closed_form_counts": closed,
        "torch": t_stats,
        "circuit": c_stats,
        "closed_form": None if closed is None else _stats(closed),
        "mean_difference_pulses": mean_diff,
        "same_count_fraction": float(np.mean(same)) if n_circuit else None,
        "closed_form_equals_torch_fraction": None
        if closed is None
        else float(np.mean(closed == torch_counts)),
        "wall_s": {"torch": torch_wall, "circuit": circuit_wall},
    }


def write_distribution(reports: list[dict[str, Any]], out_dir: Path) -> dict[str, Any]:
    """``distribution.json``, ``distribution.md``, ``counts_<preset>.csv`` and the histogram plot."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(reports), figsize=(5 * len(reports), 3.8), squeeze=False)
    lines = [
        "# spinspice pulse-count-to-fire distribution (paper 004 Fig. 5a-b analogue)",
        "",
        "| preset | torch runs | torch mean +- std | ngspice runs | ngspice mean +- std "
        "| mean difference | same count per seed |",
        "|---|---|---|---|---|---|---|",
    ]
    for ax, rep in zip(axes[0], reports, strict=True):
        tc, cc = np.asarray(rep["torch_counts"]), np.asarray(rep["circuit_counts"])
        fired = np.concatenate([tc[tc > 0], cc[cc > 0]])
        lo, hi = (int(fired.min()), int(fired.max())) if fired.size else (0, 1)
        bins = np.arange(lo - 0.5, hi + 1.5)
        ax.hist(tc[tc > 0], bins=bins, density=True, alpha=0.5, label=f"torch ({len(tc)} seeds)")
        ax.hist(
            cc[cc > 0], bins=bins, density=True, histtype="step", lw=2, label=f"ngspice ({len(cc)} seeds)"
        )
        ax.set_xlabel("pulses to fire")
        ax.set_ylabel("probability")
        t, c = rep["torch"], rep["circuit"]
        ax.set_title(
            f"{rep['preset']}\nmean {t['mean_pulses']:.2f} (torch), {c['mean_pulses']:.2f} (ngspice)",
            fontsize=10,
        )
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        name = rep["preset"] or rep["model"]
        rows = ["seed,torch_pulses,circuit_pulses"] + [
            f"{rep['seeds']['first'] + k},{tc[k]},{cc[k] if k < len(cc) else ''}" for k in range(len(tc))
        ]
        atomic_write_text(out_dir / f"counts_{name}.csv", "\n".join(rows) + "\n")
        lines.append(
            f"| {name} | {t['n_runs']} | {t['mean_pulses']:.2f} +- {t['std_pulses']:.2f} | {c['n_runs']} | "
            f"{c['mean_pulses']:.2f} +- {c['std_pulses']:.2f} | {rep['mean_difference_pulses']:+.2f} | "
            f"{rep['same_count_fraction'] * 100:.0f} % |"
        )
    save_figure(fig, out_dir / "distribution.png")
    lines += [
        "",
        "Pulse count of a spike at t: floor((t - t_delay) / period) + 1.  Seeds are shared: the ngspice "
        "runs use the first seeds of the torch batch, so the per-seed column compares identical "
        "noise realisations.  Runs that never fired within `max_pulses` count as 0 and are left out "
        "of the statistics.",
        "",
    ]
    atomic_write_text(out_dir / "distribution.md", "\n".join(lines))
    summary = distribution_set(reports)
    atomic_write_json(out_dir / "distribution.json", summary)
    return summary


def distribution_set(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``distribution.json`` content: the reports of every preset, and the files."""
    return {
        **report_header(SCHEMA + "_set"),
        "presets": reports,
        "files": {
            "report_json": "distribution.json",
            "report_md": "distribution.md",
            "plot": "distribution.png",
        },
    }


@dataclasses.dataclass(repr=False, eq=False)
class DistributionResult(StudyResult):
    """Pulse-count distributions, one :func:`pulse_count_distribution` report per preset.

    Files: ``distribution.json`` (schema ``spinspice.pulse_count_distribution_set``),
    ``distribution.md``, ``distribution.png`` and ``counts_<preset>.csv``.
    """

    reports: list[dict[str, Any]]

    def report(self) -> dict[str, Any]:
        return distribution_set(self.reports)

    def summary(self) -> str:
        lines = [
            f"{r['preset']}: torch {r['torch']['mean_pulses']:.2f} +- {r['torch']['std_pulses']:.2f} pulses "
            f"({r['torch']['n_runs']} runs), ngspice {r['circuit']['mean_pulses']:.2f} +- "
            f"{r['circuit']['std_pulses']:.2f} ({r['circuit']['n_runs']} runs), same count for "
            f"{r['same_count_fraction'] * 100:.0f} % of seeds"
            for r in self.reports
        ]
        return "\n".join(lines + self._report_line("distribution.md"))

    def _write_files(self, folder: Path) -> None:
        write_distribution(self.reports, folder)


def run_distribution(
    model: str = "dw-mtj-autoreset",
    presets: Sequence[str] | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    n_torch: int = 500,
    n_circuit: int = 50,
    max_pulses: int = 200,
    workers: int = 2,
    backend: str = "batch",
    timeout_s: float | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    progress: Any = None,
) -> DistributionResult:
    """Pulse-count-to-fire histograms of a stochastic neuron model from seeded torch and
    ngspice runs (paper 004 Fig. 5a-b; ``spinspice distribution``), per preset.

    ``presets``: default every preset of ``model``; ``params``: cell settings
    (SI values or text) applied to each; seeds ``seed .. seed + n_torch - 1``
    drive the torch stepper, the first ``n_circuit`` of them ngspice
    (``workers`` processes with the batch backend; ``timeout_s`` per run);
    ``progress``: a rich progress display or None.  ``out``: also write the files there.
    """
    seed_all(seed)
    check_setting("n_torch", n_torch, low=1, integer=True)
    check_setting("n_circuit", n_circuit, low=0, high=n_torch, integer=True)
    check_setting("max_pulses", max_pulses, low=1, integer=True)
    check_setting("workers", workers, low=1, integer=True)
    if timeout_s is not None:
        check_setting("timeout", timeout_s, low=0.0, low_open=True, unit="s")
    get_model(model)
    get_cell(model)
    reports = []
    with displayed(progress) as shown:
        for name in presets or list(get_presets(model)):
            cell, _ = get_cell(model, name)
            cell = cell.with_text(params or {})
            reports.append(
                pulse_count_distribution(
                    cell,
                    cell.default_drive(),
                    n_torch=n_torch,
                    n_circuit=n_circuit,
                    seed=seed,
                    max_pulses=max_pulses,
                    backend=backend,
                    workers=workers,
                    timeout_s=timeout_s,
                    progress=shown,
                    preset=name,
                )
            )
        return DistributionResult(reports)._publish(out)
