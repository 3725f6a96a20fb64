"""Read-out heat maps of the field-gated mem-transistor (paper 001 Fig. 3c-f analogue).

For each write current, the open-loop device (comparator never firing)
receives a pulse train at every bias field; the map is the read-out after
each pulse.  The maps come from :func:`~spinspice.models.fieldgate.state_map`
(vectorised RK4 of the model equation); a few (field, current) columns are
re-simulated as ngspice circuits -- the full cell with its comparator
thresholds raised out of reach -- and their differences reported, so the
figure is checked against the circuit that users will build.  :func:`run_fieldmap`
(``spinspice fieldmap``) takes user settings and returns the maps with their files.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.circuits.library import FieldGatedCell
from spinspice.circuits.registry import get_cell
from spinspice.errors import ModelParameterError
from spinspice.experiments.neuron import simulate_cell
from spinspice.experiments.results import StudyResult, displayed
from spinspice.io import atomic_write_json, atomic_write_text, report_header, save_figure, seed_all
from spinspice.io import pyplot as _pyplot
from spinspice.models.fieldgate import field_window, state_map
from spinspice.models.waveforms import PulseTrain
from spinspice.units import eng

__all__ = ["FieldMapResult", "field_map", "open_loop", "run_fieldmap", "write_field_map"]

SCHEMA = "spinspice.field_map"
FILES = {"report_json": "fieldmap.json", "report_md": "fieldmap.md", "plot": "fieldmap.png"}


def open_loop(cell: FieldGatedCell) -> FieldGatedCell:
    """The same cell with its Hall threshold windows raised out of reach (it never fires)."""
    if not cell.hall_mode:
        raise ModelParameterError(
            "open-loop circuit checks need the Hall read-out (use_hall_readout=1); "
            "use --circuit-checks 0 for the MTJ read-out"
        )
    far = 1e3 * cell.hall.v_hall_full_v
    return cell.with_text({"v_th_180_v": far, "v_th_200_v": far, "v_th_220_v": far})


def field_map(
    cell: FieldGatedCell,
    drive: PulseTrain,
    currents_a: Sequence[float],
    fields_oe: Sequence[float],
    n_pulses: int,
    *,
    circuit_fields_oe: Sequence[float] = (),
    backend: str = "shared",
    progress: Any = None,
    preset: str = "",
) -> dict[str, Any]:
    """Read-out maps ``(current, field, pulse)`` and ngspice checks at ``circuit_fields_oe``
    (for the largest current)."""
    if not isinstance(cell, FieldGatedCell):
        raise ModelParameterError(f"field maps need the field-gated-lif model, not {cell.model}")
    currents = np.asarray(currents_a, dtype=float)
    fields = np.asarray(fields_oe, dtype=float)
    if currents.size == 0 or fields.size < 2 or n_pulses < 1:
        raise ModelParameterError("field map: give at least one current, two fields and one pulse")
    if np.any(currents <= 0):
        raise ModelParameterError("field map: write currents must be > 0 A")
    t0 = time.perf_counter()
    m = state_map(cell.device, cell.gate, fields, currents, drive, n_pulses)
    readout = cell.sensor_v(m)
    model_wall = time.perf_counter() - t0
    checks = []
    if len(circuit_fields_oe):
        test_cell = open_loop(cell)
        i_max = float(currents.max())
        task = progress.add_task("ngspice checks", total=len(circuit_fields_oe)) if progress else None
        for h in circuit_fields_oe:
            c = test_cell.with_text({"h_bias_oe": float(h)})
            d = drive.replace(amplitude=i_max / cell.device.area_m2)
            samples = d.t_delay_s + d.period_s * np.arange(n_pulses + 1)
            r = simulate_cell(c, d, float(samples[-1]), backend=backend, reference=False, preset=preset)
            if len(r.spike_times_s):
                raise ModelParameterError(f"open-loop check fired at {h:g} Oe: raise the threshold windows")
            m_circ = r.waveforms.at("m", samples)
            m_model = state_map(cell.device, cell.gate, np.array([float(h)]), np.array([i_max]), d, n_pulses)[
                0, 0
            ]
            checks.append(
                {
                    "h_oe": float(h),
                    "i_write_a": i_max,
                    "readout_circuit_v": cell.sensor_v(m_circ),
                    "readout_model_v": cell.sensor_v(m_model),
                    "max_abs_error_v": float(np.max(np.abs(cell.sensor_v(m_circ) - cell.sensor_v(m_model)))),
                    "wall_s": r.waveforms.wall_s,
                }
            )
            if progress:
                progress.advance(task)
    swing = readout[..., -1] - readout[..., 0]  # change after n_pulses, per (current, field)
    per_current = []
    for ci, i in enumerate(currents):
        pos, neg = fields > 0, fields < 0
        best_pos = int(np.argmax(np.where(pos, swing[ci], -np.inf)))
        best_neg = int(np.argmin(np.where(neg, swing[ci], np.inf)))
        thr = 0.5 * np.max(np.abs(swing[ci]))
        excit = fields[pos & (swing[ci] >= thr)]
        per_current.append(
            {
                "i_write_a": float(i),
                "j_write_a_per_m2": float(i / cell.device.area_m2),
                "max_swing_v": float(swing[ci, best_pos]) if pos.any() else None,
                "field_of_max_swing_oe": float(fields[best_pos]) if pos.any() else None,
                "min_swing_v": float(swing[ci, best_neg]) if neg.any() else None,
                "field_of_min_swing_oe": float(fields[best_neg]) if neg.any() else None,
                "excitatory_range_oe": [float(excit.min()), float(excit.max())] if excit.size else None,
                "gate_at_fields": field_window(fields, i / cell.device.area_m2, cell.gate),
            }
        )
    return {
        **report_header(SCHEMA),
        "model": cell.model,
        "preset": preset,
        "readout": "hall" if cell.hall_mode else "mtj",
        "params": cell.values(),
        "drive": {"t_on_s": drive.t_on_s, "t_off_s": drive.t_off_s, "t_edge_s": drive.t_edge_s},
        "currents_a": currents,
        "fields_oe": fields,
        "n_pulses": n_pulses,
        "readout_v": readout,
        "per_current": per_current,
        "circuit_checks": checks,
        "max_circuit_error_v": max((c["max_abs_error_v"] for c in checks), default=None),
        "wall_s": {"model": model_wall, "circuit": sum(c["wall_s"] for c in checks)},
    }


def write_field_map(report: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """``fieldmap.json``, ``fieldmap.md`` and ``fieldmap.png`` (one panel per current)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    currents = np.asarray(report["currents_a"])
    fields = np.asarray(report["fields_oe"])
    data = np.asarray(report["readout_v"]) * 1e6  # uV
    data = data - data[..., :1]  # change from rest, as the paper's maps
    lim = float(np.max(np.abs(data))) or 1.0
    fig, axes = plt.subplots(1, len(currents), figsize=(3.6 * len(currents), 3.6), squeeze=False, sharey=True)
    pulses = np.arange(data.shape[-1])
    im = None
    for ax, ci in zip(axes[0], range(len(currents)), strict=True):
        im = ax.pcolormesh(pulses, fields, data[ci], cmap="RdBu_r", vmin=-lim, vmax=lim, shading="nearest")
        ax.set_title(f"{currents[ci] * 1e3:g} mA")
        ax.set_xlabel("pulse number")
    axes[0][0].set_ylabel("bias field H (Oe)")
    fig.colorbar(
        im, ax=axes[0].tolist(), label="read-out change (uV)" if report["readout"] == "hall" else "uV"
    )
    fig.suptitle("field-gated LIF read-out vs field and pulses (paper 001 Fig. 3c-f analogue)", fontsize=10)
    save_figure(fig, out_dir / "fieldmap.png")
    lines = [
        "# spinspice field-gated mem-transistor read-out map (paper 001 Fig. 3c-f analogue)",
        "",
        f"{report['n_pulses']} pulses of {report['drive']['t_on_s'] * 1e6:g} us every "
        f"{(report['drive']['t_on_s'] + report['drive']['t_off_s']) * 1e6:g} us; "
        f"fields {fields.min():g} to {fields.max():g} Oe; {report['readout']} read-out.",
        "",
        "| write current | max change (uV) at field | min change (uV) at field "
        "| excitatory range (>= half max) |",
        "|---|---|---|---|",
    ]
    for p in report["per_current"]:
        rng = p["excitatory_range_oe"]
        lines.append(
            f"| {p['i_write_a'] * 1e3:g} mA | "
            + (
                "n/a"
                if p["max_swing_v"] is None
                else f"{p['max_swing_v'] * 1e6:.2f} at {p['field_of_max_swing_oe']:g} Oe"
            )
            + " | "
            + (
                "n/a"
                if p["min_swing_v"] is None
                else f"{p['min_swing_v'] * 1e6:.2f} at {p['field_of_min_swing_oe']:g} Oe"
            )
            + " | "
            + ("n/a" if rng is None else f"{rng[0]:g} to {rng[1]:g} Oe")
            + " |"
        )
    if report["circuit_checks"]:
        lines += [
            "",
            "ngspice checks (open-loop cell, largest current): "
            + ", ".join(
                f"{c['h_oe']:g} Oe: {c['max_abs_error_v'] * 1e9:.2f} nV" for c in report["circuit_checks"]
            )
            + " max |circuit - model|.",
        ]
    atomic_write_text(out_dir / "fieldmap.md", "\n".join(lines) + "\n")
    report["files"] = dict(FILES)
    atomic_write_json(out_dir / "fieldmap.json", report)
    return report


@dataclasses.dataclass(repr=False, eq=False)
class FieldMapResult(StudyResult):
    """Read-out maps vs bias field and pulse number: :attr:`fieldmap` is :func:`field_map`'s
    report.  Files: ``fieldmap.json`` (schema ``spinspice.field_map``), ``fieldmap.md``
    and ``fieldmap.png``."""

    fieldmap: dict[str, Any]
    seed: int = 0

    def report(self) -> dict[str, Any]:
        return {**self.fieldmap, "seed": self.seed, "files": dict(FILES)}

    def summary(self) -> str:
        lines = [
            f"{eng(p['i_write_a'], 'A')}: max change "
            + (
                "n/a"
                if p["max_swing_v"] is None
                else f"{eng(p['max_swing_v'], 'V', 3)} at {p['field_of_max_swing_oe']:g} Oe"
            )
            + ", excitatory range "
            + (
                "none"
                if p["excitatory_range_oe"] is None
                else "{:g} to {:g} Oe".format(*p["excitatory_range_oe"])
            )
            for p in self.fieldmap["per_current"]
        ]
        error = self.fieldmap["max_circuit_error_v"]
        if error is not None:
            lines.append(f"ngspice check: max |circuit - model| = {eng(error, 'V', 3)}")
        return "\n".join(lines + self._report_line("fieldmap.md"))

    def _write_files(self, folder: Path) -> None:
        write_field_map({**self.fieldmap, "seed": self.seed}, folder)


def run_fieldmap(
    preset: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    currents_a: Sequence[float] = (6e-3, 8e-3, 10e-3, 15e-3),
    fields_oe: Sequence[float] = tuple(float(h) for h in range(-500, 501, 10)),
    n_pulses: int = 20,
    circuit_fields_oe: Sequence[float] = (200.0, -200.0, 0.0),
    backend: str = "shared",
    seed: int = 0,
    out: str | Path | None = None,
    progress: Any = None,
) -> FieldMapResult:
    """Read-out maps of the field-gated mem-transistor (``field-gated-lif``, ``preset``: default
    its first) vs bias field and pulse number, one per write current (paper 001 Fig. 3c-f;
    ``spinspice fieldmap``).

    ``params``: cell settings (SI values or text); ``n_pulses`` write pulses
    per map column; ``circuit_fields_oe``: fields re-simulated in ngspice at
    the largest current (empty: none); ``progress``: a rich progress display
    or None.  ``out``: also write the files there.
    """
    seed_all(seed)
    cell, preset_name = get_cell("field-gated-lif", preset)
    cell = cell.with_text(params or {})
    if n_pulses < 1:
        raise ModelParameterError("--pulses must be at least 1")
    with displayed(progress) as shown:
        report = field_map(
            cell,
            cell.default_drive(),
            currents_a,
            fields_oe,
            n_pulses,
            circuit_fields_oe=circuit_fields_oe,
            backend=backend,
            progress=shown,
            preset=preset_name,
        )
        return FieldMapResult(report, seed)._publish(out)
