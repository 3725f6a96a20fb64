"""``report.html`` of a neuron run: summary, linked waveform panels, energy, spike times."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spinspice.figures import prefix_scale
from spinspice.units import eng
from spinspice.webreport import HtmlReport, decimate, energy_bars, plotly_modules

if TYPE_CHECKING:  # pragma: no cover
    from spinspice.experiments.neuron import NeuronResult

__all__ = ["neuron_page", "write_neuron_html"]


def _line(
    go: Any, t: np.ndarray, y: np.ndarray, name: str, levels: tuple[float, ...] = (), **style: Any
) -> Any:
    """A decimated waveform trace (every crossing of ``levels`` kept exactly)."""
    td, yd = decimate(t, y, levels=levels)
    return go.Scatter(x=td, y=yd, name=name, mode="lines", line={"width": 1.3, **style})


def _hline(go: Any, x: tuple[float, float], y: float, name: str, color: str, group: str = "") -> Any:
    return go.Scatter(
        x=list(x),
        y=[y, y],
        name=name,
        mode="lines",
        line={"dash": "dot", "width": 1.2, "color": color},
        legendgroup=group or name,
        hoverinfo="name+y",
    )


def _spike_marks(go: Any, times: np.ndarray, y: float, name: str, color: str, symbol: str) -> Any:
    return go.Scatter(
        x=times,
        y=np.full(len(times), y),
        name=name,
        mode="markers",
        marker={"symbol": symbol, "size": 9, "color": color, "line": {"width": 1.2, "color": color}},
        hovertemplate="%{x:.6g}<extra>" + name + "</extra>",
    )


def waveform_figure(result: NeuronResult) -> Any:
    """Linked panels over one time axis: supply currents, reset current (when the cell has one),
    device state with its threshold and the scipy reference, read-out with the comparator
    thresholds, comparator output with the circuit's and the reference's spike times."""
    go, make_subplots = plotly_modules()
    wf, cell = result.waveforms, result.cell
    t_s = np.asarray(wf.time_s, float)
    ts, tu = prefix_scale(float(t_s[-1]), "s")
    t = t_s * ts
    span = (float(t[0]), float(t[-1]))
    key, ref_name, label, threshold = cell.state_plot()
    has_reset = "i_reset" in wf
    rows = [
        "write supply",
        *(["read-out and comparator supplies"] if "i_dd_r" in wf else []),
        *(["reset current"] if has_reset else []),
        label,
        "read-out",
        "comparator",
    ]
    fig = make_subplots(
        rows=len(rows), cols=1, shared_xaxes=True, vertical_spacing=0.035, subplot_titles=rows
    )
    row = 1
    write = -np.asarray(wf["i_dd_w"], float)  # the write driver's supply current, drawn positive
    cs, cu = prefix_scale(float(np.max(np.abs(write))) or 1e-3, "A")
    fig.add_trace(_line(go, t, write * cs, "write driver", (float(np.max(write)) * cs / 2,)), row=row, col=1)
    fig.update_yaxes(title_text=f"current ({cu})", row=row, col=1)
    if "i_dd_r" in wf:
        row += 1
        supplies = {"read divider": -np.asarray(wf["i_dd_r"], float)}
        if "i_dd_c" in wf:
            supplies["comparator"] = -np.asarray(wf["i_dd_c"], float)
        ss, su = prefix_scale(max(float(np.max(np.abs(i))) for i in supplies.values()) or 1e-6, "A")
        for name, i_a in supplies.items():
            fig.add_trace(_line(go, t, i_a * ss, f"{name} supply"), row=row, col=1)
        fig.update_yaxes(title_text=f"current ({su})", row=row, col=1)
    if has_reset:
        row += 1
        reset = np.asarray(wf["i_reset"], float)
        rs, ru = prefix_scale(float(np.max(np.abs(reset))) or 1e-3, "A")
        level = float(reset[np.argmax(np.abs(reset))]) * rs / 2
        fig.add_trace(_line(go, t, reset * rs, "reset current", (level,), color="#d9822b"), row=row, col=1)
        fig.update_yaxes(title_text=f"reset ({ru})", row=row, col=1)
    row += 1
    state = np.asarray(wf[key], float)
    fig.add_trace(
        _line(go, t, state, "state (ngspice)", (threshold,) if threshold is not None else ()), row=row, col=1
    )
    if result.reference is not None:
        ref_t = np.asarray(result.reference.t_s) * ts
        fig.add_trace(
            _line(
                go,
                ref_t,
                np.asarray(result.reference.state(ref_name)),
                "state (scipy reference)",
                dash="dash",
            ),
            row=row,
            col=1,
        )
    if threshold is not None:
        fig.add_trace(_hline(go, span, threshold, "state threshold", "#c0392b"), row=row, col=1)
    fig.update_yaxes(title_text=label, row=row, col=1)
    row += 1
    v_hi, v_lo = cell.thresholds_v()
    vs, vu = prefix_scale(max(abs(v_hi), abs(v_lo)) or 1.0, "V")
    fig.add_trace(
        _line(go, t, np.asarray(wf["v_out"]) * vs, "read-out", (v_hi * vs, v_lo * vs)), row=row, col=1
    )
    fig.add_trace(_hline(go, span, v_hi * vs, "V_hi (fire)", "#c0392b"), row=row, col=1)
    fig.add_trace(_hline(go, span, v_lo * vs, "V_lo (release)", "#27ae60"), row=row, col=1)
    fig.update_yaxes(title_text=f"read-out ({vu})", row=row, col=1)
    row += 1
    spike = np.asarray(wf["spike"], float)
    top = float(np.max(spike)) if len(spike) else 1.0
    fig.add_trace(_line(go, t, spike, "comparator", (top / 2,), color="#8e44ad"), row=row, col=1)
    fig.add_trace(
        _spike_marks(
            go,
            np.asarray(result.spike_times_s) * ts,
            top * 1.08,
            "spike (ngspice)",
            "#8e44ad",
            "triangle-down",
        ),
        row=row,
        col=1,
    )
    if result.reference is not None:
        fig.add_trace(
            _spike_marks(
                go,
                np.asarray(result.reference.spike_times_s) * ts,
                top * 1.2,
                "spike (reference)",
                "#555",
                "circle-open",
            ),
            row=row,
            col=1,
        )
    fig.update_yaxes(title_text="comparator (V)", row=row, col=1)
    fig.update_xaxes(title_text=f"time ({tu})", row=len(rows), col=1)
    fig.update_layout(
        height=190 * len(rows) + 80, hovermode="x unified", legend={"orientation": "h", "y": -0.08}
    )
    return fig


def neuron_page(result: NeuronResult, report: dict[str, Any]) -> HtmlReport:
    """The report page of one neuron run (``report``: its ``report.json`` content)."""
    go, _ = plotly_modules()
    d = report["drive"]
    drive = f"{eng(d['i_write_a'], 'A')} write pulses" + (
        f" (J = {d['j_write_a_per_m2']:.4g} A/m²)" if d.get("j_write_a_per_m2") is not None else ""
    )
    page = HtmlReport(
        f"Neuron report: {report['model']} ({report['preset']})",
        f"{drive}, {eng(d['t_on_s'], 's')} on / {eng(d['t_off_s'], 's')} off "
        f"({eng(d['frequency_hz'], 'Hz')}), {eng(d['duration_s'], 's')} simulated; {report['backend']} "
        f"backend, device models {report['device_models']}; seed {report['seed']}",
    )
    for warning in report.get("warnings", []):
        page.text(f"warning: {warning}", "warn")
    err = report["max_spike_time_error_s"]
    th = report["comparator_thresholds_v"]
    page.heading("Summary").table(
        [
            ("spikes", report["n_spikes"]),
            ("first-spike latency (from the first write pulse)", eng(report["first_spike_latency_s"], "s")),
            ("spike width", eng(report["spike_width_s"], "s")),
            ("mean inter-spike interval", eng(report["mean_isi_s"], "s")),
            ("spike rate", eng(report["spike_rate_hz"], "Hz")),
            (
                "largest spike-time error vs the scipy reference",
                "n/a" if err is None else f"{eng(err, 's')} over {report['n_spikes_compared']} spikes",
            ),
            ("energy per spike", eng(report["energy_per_spike_j"], "J")),
            ("energy over the run", eng(report["energy_total_j"], "J")),
            ("comparator thresholds", f"V_hi {eng(th['v_hi_v'], 'V')}, V_lo {eng(th['v_lo_v'], 'V')}"),
        ],
        ["quantity", "value"],
    )
    page.heading("Waveforms")
    page.figure(
        waveform_figure(result),
        "All panels share the time axis: drag to zoom one and the others follow. Waveforms are "
        "thinned for display (bucket minima and maxima); the samples around every threshold "
        "crossing and spike edge are the simulated ones. Triangles: ngspice spike times; "
        "circles: the scipy reference's.",
    )
    parts = report["energy_per_spike_breakdown_j"] or report["energy_total_breakdown_j"]
    what = "per spike" if report["energy_per_spike_breakdown_j"] else "over the run (no spike)"
    page.heading("Energy by supply")
    page.figure(energy_bars(go, parts, f"energy {what}: {eng(sum(parts.values()), 'J')}"))
    ref = report.get("reference_spike_times_s")
    errors = report.get("spike_time_errors_s")
    spikes = report["spike_times_s"]
    if len(spikes):
        page.heading("Spike times")
        rows = [
            (
                k + 1,
                eng(ts, "s", 6),
                eng(ref[k], "s", 6) if ref is not None and k < len(ref) else "n/a",
                eng(errors[k], "s") if errors is not None and k < len(errors) else "n/a",
            )
            for k, ts in enumerate(spikes)
        ]
        page.table(rows, ["spike", "ngspice", "scipy reference", "error"])
    return page


def write_neuron_html(result: NeuronResult, report: dict[str, Any], path: str | Path) -> Path:
    """Write ``report.html`` of a neuron run; return its path."""
    return neuron_page(result, report).write(path)
