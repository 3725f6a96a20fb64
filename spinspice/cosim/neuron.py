"""Single-neuron experiments: simulate a cell, check it, measure it.

:func:`run_neuron` drives one cell with a write-pulse train on a chosen
backend, runs the scipy reference of the same equations, and extracts what
a device physicist reports: spike times and their error against the
reference, first-spike latency, spike width (= refractory time, set by the
reset circuit), and the energy drawn from every supply per spike.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import numpy as np

from spinspice import __version__
from spinspice.circuits.cell import SUPPLY_COMPONENTS, NeuronCellParams, neuron_testbench
from spinspice.circuits.core import Testbench, VoltageSource
from spinspice.cosim.energy import cumulative_energy_j, energy_between_j
from spinspice.cosim.reference import CellReference, cell_reference_run
from spinspice.cosim.simulate import simulate
from spinspice.cosim.spikes import crossings, match_spikes
from spinspice.cosim.waveforms import Waveforms
from spinspice.errors import ModelParameterError
from spinspice.models.mtj import divider_vout, mtj_resistance
from spinspice.models.waveforms import PulseTrain
from spinspice.netlists.spice import format_testbench

__all__ = ["REPORT_SCHEMA", "REPORT_SCHEMA_VERSION", "NeuronResult", "run_neuron"]

REPORT_SCHEMA = "spinspice.neuron"
REPORT_SCHEMA_VERSION = 1


@dataclasses.dataclass
class NeuronResult:
    """Everything one neuron run produced."""

    model: str
    preset: str
    cell: NeuronCellParams
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

    def readout(self) -> dict[str, float]:
        """MTJ read-out at rest, threshold and full integration (with bias)."""
        c = self.cell
        out: dict[str, float] = {}
        for label, m in (("rest", c.device.m_rest), ("threshold", c.device.m_th), ("full", 1.0)):
            v = float(divider_vout(m, c.mtj, c.divider))
            out[f"r_{label}_ohm"] = float(mtj_resistance(m, v, c.mtj))
            out[f"v_out_{label}_v"] = v
        out["v_th_hi_v"] = c.v_th_hi_v
        out["v_th_lo_v"] = c.v_th_lo_v
        return out

    def _reset_saturation_margin_v(self, settle_s: float = 100e-12) -> float | None:
        """min of V(t1) - V_ov over the settled part of every reset (None if no reset).

        Negative means the reset NMOS left saturation and its current is no
        longer the designed ``j_reset``.  The first and last ``settle_s`` of
        each reset (switching edges) are excluded.
        """
        wf = self.waveforms
        v_ov = self.cell.comparator.v_dd_comp_v - self.cell.cmos.vto_n_v
        mask = np.zeros_like(wf.time_s, dtype=bool)
        for t_on, width in zip(
            self.spike_times_s, _pair_widths(self.spike_times_s, self.release_times_s), strict=False
        ):
            mask |= (wf.time_s > t_on + settle_s) & (wf.time_s < t_on + width - settle_s)
        if not mask.any():
            return None
        return float(np.min(wf["v_t1"][mask] - v_ov))

    def report(self) -> dict[str, Any]:
        """The ``report.json`` content (schema ``spinspice.neuron`` v1)."""
        errors = self.spike_time_errors_s()
        per_spike = self.energy_per_spike_breakdown_j()
        widths = _pair_widths(self.spike_times_s, self.release_times_s)
        isi = np.diff(self.spike_times_s)
        wf = self.waveforms
        headroom = self.cell.drivers.v_dd_write_v - wf["v_win"]
        reset_margin = self._reset_saturation_margin_v()
        energy_total = self.energy_total_breakdown_j()
        report: dict[str, Any] = {
            "schema": REPORT_SCHEMA,
            "schema_version": REPORT_SCHEMA_VERSION,
            "spinspice_version": __version__,
            "model": self.model,
            "preset": self.preset,
            "backend": self.backend,
            "drive": {
                "t_on_s": self.drive.t_on_s,
                "t_off_s": self.drive.t_off_s,
                "t_edge_s": self.drive.t_edge_s,
                "frequency_hz": self.drive.frequency_hz,
                "j_write_a_per_m2": self.drive.amplitude,
                "i_write_a": self.cell.device.current_a(self.drive.amplitude),
                "duration_s": self.duration_s,
            },
            "params": self.cell.values(),
            "derived": {
                "area_m2": self.cell.device.area_m2,
                "r_track_ohm": self.cell.device.r_track_ohm,
                "i_reset_a": self.cell.i_reset_a,
                "w_reset_nmos_m": self.cell.w_reset_m,
            },
            "readout": self.readout(),
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
            "checks": {
                "write_driver_min_headroom_v": float(np.min(headroom)),
                "reset_nmos_min_saturation_margin_v": reset_margin,
            },
            "wall_s": {"circuit": wf.wall_s, "reference": self.reference_wall_s},
        }
        return report


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


def run_neuron(
    cell: NeuronCellParams,
    drive: PulseTrain,
    duration_s: float,
    *,
    backend: str = "shared",
    reference: bool = True,
    model: str = "dw-lif",
    preset: str = "paper-001",
    netlist_path: str | Path | None = None,
    timeout_s: float | None = None,
) -> NeuronResult:
    """Simulate ``cell`` under ``drive`` (J in A/m^2) for ``duration_s``."""
    if not duration_s > 0:
        raise ModelParameterError(f"duration = {duration_s:g} s must be > 0")
    tb = neuron_testbench(cell, drive, duration_s)
    text = format_testbench(tb)
    wf = simulate(tb, backend, netlist=text, netlist_path=netlist_path, timeout_s=timeout_s)
    level = 0.5 * cell.comparator.v_dd_comp_v
    spikes = crossings(wf.time_s, wf["spike"], level, "rising")
    releases = crossings(wf.time_s, wf["spike"], level, "falling")
    ref, ref_wall = None, 0.0
    if reference:
        t0 = time.perf_counter()
        ref = cell_reference_run(cell, drive, duration_s)
        ref_wall = time.perf_counter() - t0
    supplies = {e.name: e for e in tb.elements if isinstance(e, VoltageSource)}
    cumulative = {
        SUPPLY_COMPONENTS[name]: cumulative_energy_j(wf.time_s, supplies[name].dc_v, wf[key])
        for name, key in (("dd_w", "i_dd_w"), ("dd_r", "i_dd_r"), ("dd_c", "i_dd_c"), ("read", "i_read"))
    }
    return NeuronResult(
        model=model,
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
        cumulative_energy_j=cumulative,
    )
