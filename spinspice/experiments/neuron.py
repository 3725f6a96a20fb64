"""Single-neuron experiments: simulate a cell, check it, measure it.

:func:`simulate_cell` drives one cell of any registered model with a
write-pulse train on a chosen backend, runs the scipy reference of the same
equations, and extracts what a device physicist reports: spike times and
their error against the reference, first-spike latency, spike width
(= refractory time, set by the circuit), and the energy drawn from every
supply per spike.  It takes a cell and a drive; the study from a model name and
user settings (``spinspice neuron``) is :func:`spinspice.experiments.run_neuron`.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from spinspice import __version__
from spinspice.circuits.cellbase import CellParams, Stimulus
from spinspice.circuits.core import Testbench, VoltageSource
from spinspice.errors import ModelParameterError, NetlistError
from spinspice.models.waveforms import PulseTrain
from spinspice.sim.energy import cumulative_energy_j, energy_between_j
from spinspice.sim.osdi import (
    fallback_reason,
    models_of,
    netlist_text,
    resolve_accuracy,
    spike_shift_vs_default,
)
from spinspice.sim.reference import CellReference, cell_reference_run
from spinspice.sim.simulate import simulate
from spinspice.sim.spikes import crossings, match_spikes
from spinspice.sim.waveforms import Waveforms
from spinspice.units import format_si

__all__ = ["REPORT_SCHEMA", "REPORT_SCHEMA_VERSION", "NeuronResult", "simulate_cell", "supply_energies"]

REPORT_SCHEMA = "spinspice.neuron"
REPORT_SCHEMA_VERSION = 1


def supply_energies(tb: Testbench, wf: Waveforms) -> dict[str, np.ndarray]:
    """Cumulative energy delivered by each supply of ``tb``, keyed by component."""
    sources = {e.name: e for e in tb.elements if isinstance(e, VoltageSource)}
    out: dict[str, np.ndarray] = {}
    for component, name in tb.supplies:
        probe = next((p for p in tb.probes if p.kind == "i" and p.path == (name,)), None)
        if probe is None or name not in sources:
            raise NetlistError(f"supply {name} of {component} has no current probe in the testbench")
        energy = cumulative_energy_j(wf.time_s, sources[name].dc_v, wf[probe.key])
        out[component] = out[component] + energy if component in out else energy
    return out


@dataclasses.dataclass
class NeuronResult:
    """Everything one neuron run produced."""

    model: str
    preset: str
    cell: CellParams
    drive: PulseTrain
    duration_s: float
    backend: str
    testbench: Testbench
    netlist: str
    waveforms: Waveforms
    spike_times_s: np.ndarray
    release_times_s: np.ndarray
    reference: CellReference | None
    reference_wall_s: float
    cumulative_energy_j: dict[str, np.ndarray]
    stimulus: Stimulus | None = None
    seed: int | None = None
    #: the accuracy preset and, for ``fast``, its spike-time error against the default
    accuracy: dict[str, Any] = dataclasses.field(default_factory=lambda: {"preset": "default"})

    # -- metrics ---------------------------------------------------------------
    @property
    def first_spike_latency_s(self) -> float | None:
        if len(self.spike_times_s) == 0:
            return None
        return float(self.spike_times_s[0] - self.drive.t_delay_s)

    def spike_time_errors_s(self) -> np.ndarray:
        if self.reference is None:
            return np.array([])
        _, err = match_spikes(self.spike_times_s, self.reference.spike_times_s)
        return err

    def energy_window(self) -> tuple[float, float, int] | None:
        """Interval and spike count over which energy per spike is averaged.

        Steady state: from the first spike to the last one (``n - 1``
        inter-spike intervals).  With a single spike: from t = 0 to the end
        of its reset.  None without spikes.
        """
        n = len(self.spike_times_s)
        if n >= 2:
            return float(self.spike_times_s[0]), float(self.spike_times_s[-1]), n - 1
        if n == 1:
            end = self.release_times_s[0] if len(self.release_times_s) else self.duration_s
            return 0.0, float(end), 1
        return None

    def energy_per_spike_breakdown_j(self) -> dict[str, float] | None:
        win = self.energy_window()
        if win is None:
            return None
        t0, t1, count = win
        parts = energy_between_j(self.waveforms.time_s, self.cumulative_energy_j, t0, t1)
        return {k: v / count for k, v in parts.items()}

    def energy_total_breakdown_j(self) -> dict[str, float]:
        return {k: float(e[-1]) for k, e in self.cumulative_energy_j.items()}

    def report(self) -> dict[str, Any]:
        """The ``report.json`` content (schema ``spinspice.neuron`` v1)."""
        errors = self.spike_time_errors_s()
        per_spike = self.energy_per_spike_breakdown_j()
        widths = _pair_widths(self.spike_times_s, self.release_times_s)
        isi = np.diff(self.spike_times_s)
        energy_total = self.energy_total_breakdown_j()
        v_hi, v_lo = self.cell.thresholds_v()
        report: dict[str, Any] = {
            "schema": REPORT_SCHEMA,
            "schema_version": REPORT_SCHEMA_VERSION,
            "spinspice_version": __version__,
            "model": self.model,
            "preset": self.preset,
            "backend": self.backend,
            "device_models": models_of(self.netlist),
            **({"device_models_fallback": why} if (why := fallback_reason()) else {}),
            "accuracy": self.accuracy,
            "seed": self.seed,
            "drive": {
                "t_on_s": self.drive.t_on_s,
                "t_off_s": self.drive.t_off_s,
                "t_edge_s": self.drive.t_edge_s,
                "frequency_hz": self.drive.frequency_hz,
                "quantity": self.cell.drive_quantity,
                "amplitude": self.drive.amplitude,
                "j_write_a_per_m2": self.drive.amplitude if self.cell.drive_quantity == "j" else None,
                "i_write_a": self.cell.drive_current(self.drive).amplitude,
                "duration_s": self.duration_s,
            },
            "params": self.cell.values(),
            "comparator_thresholds_v": {"v_hi_v": v_hi, "v_lo_v": v_lo},
            "n_spikes": len(self.spike_times_s),
            "spike_times_s": self.spike_times_s,
            "release_times_s": self.release_times_s,
            "first_spike_latency_s": self.first_spike_latency_s,
            "spike_width_s": float(np.mean(widths)) if len(widths) else None,
            "refractory_s": float(np.mean(widths)) if len(widths) else None,
            "mean_isi_s": float(np.mean(isi)) if len(isi) else None,
            "spike_rate_hz": float(1.0 / np.mean(isi)) if len(isi) else None,
            "reference_spike_times_s": None if self.reference is None else self.reference.spike_times_s,
            "spike_time_errors_s": errors,
            "max_spike_time_error_s": float(np.max(np.abs(errors))) if len(errors) else None,
            "n_spikes_compared": len(errors),
            "energy_per_spike_j": None if per_spike is None else float(sum(per_spike.values())),
            "energy_per_spike_breakdown_j": per_spike,
            "energy_per_spike_window_s": self.energy_window(),
            "energy_total_j": float(sum(energy_total.values())),
            "energy_total_breakdown_j": energy_total,
            "dominant_energy_terms": _dominant(per_spike or energy_total),
            "wall_s": {"circuit": self.waveforms.wall_s, "reference": self.reference_wall_s},
            "warnings": self.warnings(),
        }
        report.update(self.cell.report_extras(self.waveforms, self.spike_times_s, self.release_times_s))
        return report

    def warnings(self) -> list[str]:
        """What makes the figures of this run say little: a window without one whole write
        period, or no spike at all (with how close the state came to its threshold)."""
        out = []
        period = self.drive.period_s
        if self.duration_s - self.drive.t_delay_s < period:
            out.append(
                f"the {format_si(self.duration_s, 4)}s window holds no whole write period "
                f"({format_si(period, 4)}s): lengthen the duration"
            )
        if len(self.spike_times_s) == 0:
            key, _, label, threshold = self.cell.state_plot()
            peak = float(np.max(self.waveforms[key])) if key in self.waveforms else None
            came = (
                ""
                if peak is None or threshold is None
                else f" ({label} peaked at {peak:.3g}, threshold {threshold:.3g})"
            )
            out.append(
                f"no spike in {format_si(self.duration_s, 4)}s{came}: the write pulses do not bring the "
                "state to threshold (raise the drive or t_on, or shorten t_off, the leak between pulses)"
            )
        return out


def _pair_widths(spikes: np.ndarray, releases: np.ndarray) -> np.ndarray:
    out = []
    for t in spikes:
        later = releases[releases > t]
        if later.size:
            out.append(later[0] - t)
    return np.array(out)


def _dominant(parts: dict[str, float]) -> list[dict[str, float | str]]:
    total = sum(parts.values()) or 1.0
    ranked = sorted(parts.items(), key=lambda kv: -kv[1])
    return [{"component": k, "energy_j": v, "fraction": v / total} for k, v in ranked]


def simulate_cell(
    cell: CellParams,
    drive: PulseTrain,
    duration_s: float,
    *,
    backend: str = "shared",
    reference: bool = True,
    preset: str = "paper-001",
    seed: int = 0,
    netlist_path: str | Path | None = None,
    timeout_s: float | None = None,
) -> NeuronResult:
    """Simulate ``cell`` under ``drive`` for ``duration_s`` and check it against its reference.

    Stochastic models draw their random inputs from ``seed`` (the same
    realisation feeds the circuit and the reference).
    """
    if not duration_s > 0:
        raise ModelParameterError(f"duration = {duration_s:g} s must be > 0")
    stimulus = cell.stimulus(drive, duration_s, seed)
    tb = cell.testbench(drive, duration_s, stimulus=stimulus)
    text = netlist_text(tb)
    wf = simulate(tb, backend, netlist=text, netlist_path=netlist_path, timeout_s=timeout_s)
    level = cell.spike_level_v()
    spikes = crossings(wf.time_s, wf["spike"], level, "rising")
    releases = crossings(wf.time_s, wf["spike"], level, "falling")
    accuracy: dict[str, Any] = {"preset": resolve_accuracy()}
    if accuracy["preset"] != "default":  # measure what the preset costs in spike time
        exact = simulate(tb, backend, netlist=netlist_text(tb, accuracy="default"), timeout_s=timeout_s)
        ref_spikes = crossings(exact.time_s, exact["spike"], level, "rising")
        accuracy.update(spike_shift_vs_default(spikes, ref_spikes), time_points=len(wf.time_s))
        accuracy["time_points_default"] = len(exact.time_s)
    ref, ref_wall = None, 0.0
    if reference:
        t0 = time.perf_counter()
        ref = cell_reference_run(cell.dynamics(drive, stimulus=stimulus), duration_s)
        ref_wall = time.perf_counter() - t0
    return NeuronResult(
        model=cell.model,
        preset=preset,
        cell=cell,
        drive=drive,
        duration_s=duration_s,
        backend=backend,
        testbench=tb,
        netlist=text,
        waveforms=wf,
        spike_times_s=spikes,
        release_times_s=releases,
        reference=ref,
        reference_wall_s=ref_wall,
        cumulative_energy_j=supply_energies(tb, wf),
        stimulus=stimulus,
        seed=seed,
        accuracy=accuracy,
    )
