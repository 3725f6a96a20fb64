"""``report.html`` of a co-simulation and of a sweep: the summary tables, linked waveform panels
of the traced neurons, the spike raster with every circuit/torch mismatch marked, the energy
breakdown and, for sweeps, the energy/accuracy trade-off with the Pareto front."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.cosim.agreement import matched_flags
from spinspice.cosim.grid import pareto_front, percent_limits, point_text, setting_text, tradeoff_panels
from spinspice.cosim.report import COMPONENT_NAMES, component_name
from spinspice.figures import prefix_scale
from spinspice.units import eng
from spinspice.webreport import HtmlReport, decimate, energy_bars, plotly_modules

__all__ = ["cosim_page", "sweep_page", "write_cosim_html", "write_sweep_html"]

#: images the raster offers (a menu picks one); the report's tables cover them all
RASTER_IMAGES = 10
_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _unmatched(a: Sequence[int], b: Sequence[int]) -> tuple[list[int], list[int]]:
    """Steps of ``a`` and of ``b`` left without a partner within +-1 step (the report's rule)."""
    fa, fb = matched_flags(a, b)
    return [s for s, m in zip(a, fa, strict=True) if not m], [s for s, m in zip(b, fb, strict=True) if not m]


def raster_figure(results: Sequence[Mapping[str, Any]]) -> Any:
    """One panel per layer (neuron vs time), for each of the first :data:`RASTER_IMAGES` images
    (a menu switches): torch spikes at their step's centre, circuit spikes at their ngspice
    times, and the spikes of either without a partner within +-1 step marked."""
    go, make_subplots = plotly_modules()
    shown = list(results[:RASTER_IMAGES])
    layers0 = shown[0]["layers"]
    slot0 = float(layers0[0].get("slot_s") or 1.0)
    ts, tu = prefix_scale(slot0 * shown[0]["steps"], "s")
    fig = make_subplots(
        rows=len(layers0),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[f"layer {layer['index']}" for layer in layers0],
    )
    per_image: list[int] = []
    for k_img, r in enumerate(shown):
        n_before = len(fig.data)
        for row, layer in enumerate(r["layers"], start=1):
            slot = float(layer.get("slot_s") or slot0)
            c_steps, t_steps = layer["circuit_steps"], layer["torch_steps"]
            times = layer.get("circuit_times_s") or [[(s + 0.5) * slot for s in st] for st in c_steps]
            extra_c, extra_t = [], []
            for j, (cs, tsj) in enumerate(zip(c_steps, t_steps, strict=True)):
                only_c, only_t = _unmatched(cs, tsj)
                extra_c += [(s, j) for s in only_c]
                extra_t += [(s, j) for s in only_t]
            tx = [(s + 0.5) * slot * ts for st in t_steps for s in st]
            ty = [j for j, st in enumerate(t_steps) for _ in st]
            cx = [t * ts for tt in times for t in tt]
            cy = [j for j, tt in enumerate(times) for _ in tt]
            show = k_img == 0
            legend = row == 1
            marks = [
                (tx, ty, "torch spike", "circle-open", 9, "#1f77b4", "step centre"),
                (cx, cy, "circuit spike (ngspice time)", "x-thin", 7, "#222", "ngspice"),
            ]
            for extra, who, other, symbol, size, color in (
                (extra_c, "circuit", "torch", "diamond", 11, "#d62728"),
                (extra_t, "torch", "circuit", "square-open", 12, "#ff7f0e"),
            ):
                x = [(s + 0.5) * slot * ts for s, _ in extra]
                name = f"{who} only (no {other} spike within ±1 step)"
                marks.append((x, [j for _, j in extra], name, symbol, size, color, "mismatch"))
            for x, y, name, symbol, size, color, what in marks:
                fig.add_trace(
                    go.Scatter(
                        x=x,
                        y=y,
                        mode="markers",
                        name=name,
                        legendgroup=name,
                        showlegend=legend,
                        visible=show,
                        marker={"symbol": symbol, "size": size, "color": color, "line": {"width": 1.5}},
                        hovertemplate=f"neuron %{{y}}<br>%{{x:.4g}} {tu} ({what})<extra>{name}</extra>",
                    ),
                    row=row,
                    col=1,
                )
            fig.update_yaxes(title_text="neuron", row=row, col=1)
        per_image.append(len(fig.data) - n_before)
    buttons = []
    start = 0
    for r, n in zip(shown, per_image, strict=True):
        visible = [False] * len(fig.data)
        visible[start : start + n] = [True] * n
        start += n
        buttons.append(
            {
                "label": f"image {r['index']} (label {r['label']})",
                "method": "update",
                "args": [{"visible": visible}, {"title": _raster_title(r)}],
            }
        )
    fig.update_xaxes(title_text=f"time in the layer's run ({tu})", row=len(layers0), col=1)
    fig.update_layout(
        title=_raster_title(shown[0]),
        height=170 + 230 * len(layers0),
        legend={"orientation": "h", "y": -0.12},
        updatemenus=[{"buttons": buttons, "x": 1.0, "xanchor": "right", "y": 1.12, "yanchor": "bottom"}]
        if len(shown) > 1
        else [],
    )
    return fig


def _raster_title(r: Mapping[str, Any]) -> str:
    agree = "agree" if r["circuit_class"] == r["torch_class"] else "DISAGREE"
    only_c = only_t = 0
    for layer in r["layers"]:
        for cs, tsj in zip(layer["circuit_steps"], layer["torch_steps"], strict=True):
            c, t = _unmatched(cs, tsj)
            only_c, only_t = only_c + len(c), only_t + len(t)
    return (
        f"image {r['index']} (label {r['label']}): torch class {r['torch_class']}, circuit class "
        f"{r['circuit_class']} ({agree}); {r['circuit_spikes']} circuit spikes, {only_c} circuit-only, "
        f"{only_t} torch-only"
    )


_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def traces_figure(traces: Mapping[str, Mapping[str, Any]], layers: Sequence[Mapping[str, Any]]) -> Any:
    """Linked panels of the traced neurons (first image): device state with its threshold,
    read-out with the comparator thresholds, comparator output with the ngspice spike times,
    the neuron's write-drive input, and the power each supply of its run delivers; one colour
    per neuron, whose legend entry toggles it in every panel."""
    go, make_subplots = plotly_modules()
    items = sorted(traces.items(), key=lambda kv: (kv[1]["layer"], kv[1]["neuron"]))
    first = items[0][1]
    state_label = first.get("state_label") or "device state"
    has_win = any(any(k.startswith("v_win") for k in tr) for _, tr in items)
    powers = [tr.get("supply_power_w") or {} for _, tr in items]
    p_max = max((float(np.max(np.abs(p))) for ps in powers for p in ps.values()), default=0.0)
    run = max((tr.get("run_neurons", 1) for _, tr in items), default=1)
    names = [state_label, "read-out", "comparator output"]
    names += ["write drive (input node)"] if has_win else []
    names += [f"supply power ({'the neuron' if run == 1 else f'its run of {run} neurons'})"] if p_max else []
    row_of = dict(
        zip(
            ("state", "readout", "comparator", *(["drive"] if has_win else []), "power"),
            range(1, len(names) + 1),
            strict=False,
        )
    )
    fig = make_subplots(
        rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.045, subplot_titles=names
    )
    t_max = max(float(np.asarray(tr["time_s"])[-1]) for _, tr in items)
    ts, tu = prefix_scale(t_max, "s")
    hi_lo = np.asarray(first.get("thresholds_v") or [np.nan, np.nan], float)
    vs, vu = prefix_scale(float(np.nanmax(np.abs(hi_lo))) if np.isfinite(hi_lo).any() else 1.0, "V")
    ps, pu = prefix_scale(p_max, "W")
    drawn_levels: set[tuple[int, float]] = set()
    for n, ((_, tr), power) in enumerate(zip(items, powers, strict=True)):
        color = _COLORS[n % len(_COLORS)]
        name = f"layer {tr['layer']} neuron {tr['neuron']}"
        t = np.asarray(tr["time_s"], float)
        style = {"legendgroup": name, "mode": "lines"}
        key = tr.get("state_key") or ("m" if "m" in tr else None)
        threshold = tr.get("state_threshold")
        panels: list[tuple[int, np.ndarray, tuple[float, ...], str, str]] = []  # row, y, levels, name, dash
        if key is not None and key in tr:
            levels = (threshold,) if threshold is not None else ()
            panels.append((row_of["state"], np.asarray(tr[key], float), levels, name, "solid"))
        if "v_out" in tr:
            hi, lo = tr["thresholds_v"]
            v_out = np.asarray(tr["v_out"], float) * vs
            panels.append((row_of["readout"], v_out, (hi * vs, lo * vs), name, "solid"))
        spike = np.asarray(tr["spike"], float)
        level = float(tr.get("spike_level_v") or np.max(spike) or 1.0)
        panels.append((row_of["comparator"], spike, (level / 2,), name, "solid"))
        win = next((k for k in tr if k.startswith("v_win")), None)
        if has_win and win is not None:
            drive = np.asarray(tr[win], float)
            panels.append((row_of["drive"], drive, (float(np.max(drive)) / 2,), name, "solid"))
        for k, (component, p_w) in enumerate(sorted(power.items()) if p_max else ()):
            p = np.broadcast_to(np.asarray(p_w, float), t.shape) * ps
            label, dash = f"{name}: {component_name(component)}", _DASHES[k % len(_DASHES)]
            panels.append((row_of["power"], p, (float(np.max(np.abs(p))) / 2,), label, dash))
        for i, (row, y, levels, label, dash) in enumerate(panels):
            td, yd = decimate(t, y, levels=levels)
            fig.add_trace(
                go.Scatter(
                    x=td * ts,
                    y=yd,
                    name=label,
                    showlegend=i == 0,
                    line={"color": color, "width": 1.3, "dash": dash},
                    **style,
                ),
                row=row,
                col=1,
            )
        lines = [(row_of["state"], threshold, "state threshold", "#c0392b")]
        if "v_out" in tr:
            hi, lo = tr["thresholds_v"]
            lines += [(row_of["readout"], hi * vs, "V_hi (fire)", "#c0392b")]
            lines += [(row_of["readout"], lo * vs, "V_lo (release)", "#27ae60")]
        for row, y, label, c in lines:
            if y is None or (row, round(float(y), 12)) in drawn_levels:
                continue
            drawn_levels.add((row, round(float(y), 12)))
            fig.add_trace(
                go.Scatter(
                    x=[0, t_max * ts],
                    y=[y, y],
                    mode="lines",
                    name=label,
                    legendgroup=label,
                    line={"dash": "dot", "color": c, "width": 1.2},
                ),
                row=row,
                col=1,
            )
        spikes = layers[tr["layer"]].get("circuit_times_s", [])
        times = np.asarray(spikes[tr["neuron"]] if tr["neuron"] < len(spikes) else [], float)
        fig.add_trace(
            go.Scatter(
                x=times * ts,
                y=np.full(len(times), level * 1.1),
                mode="markers",
                name=f"{name}: spikes",
                legendgroup=name,
                showlegend=False,
                marker={"symbol": "triangle-down", "size": 9, "color": color},
                hovertemplate=f"spike at %{{x:.6g}} {tu}<extra>{name}</extra>",
            ),
            row=row_of["comparator"],
            col=1,
        )
    fig.update_yaxes(title_text=state_label, row=row_of["state"], col=1)
    fig.update_yaxes(title_text=f"read-out ({vu})", row=row_of["readout"], col=1)
    fig.update_yaxes(title_text="comparator (V)", row=row_of["comparator"], col=1)
    if has_win:
        fig.update_yaxes(title_text="input (V)", row=row_of["drive"], col=1)
    if p_max:
        fig.update_yaxes(title_text=f"power ({pu})", row=row_of["power"], col=1)
    fig.update_xaxes(title_text=f"time in the layer's run ({tu})", row=len(names), col=1)
    fig.update_layout(
        height=200 * len(names) + 140, hovermode="x unified", legend={"orientation": "h", "y": -0.08}
    )
    return fig


#: from this many images on, latencies are shown as a histogram (below: one marker per image)
HISTOGRAM_FROM = 20


def latency_figure(results: Sequence[Mapping[str, Any]]) -> Any:
    """The decision and first-output-spike latencies of the images: one marker per image, or a
    histogram from :data:`HISTOGRAM_FROM` images on."""
    go, _ = plotly_modules()
    kinds = {"decision": "decision_s", "first output spike": "first_output_spike_s"}
    values = {
        name: [(r["index"], r["latency"][key]) for r in results if r["latency"][key] is not None]
        for name, key in kinds.items()
    }
    top = max((abs(v) for pts in values.values() for _, v in pts), default=1e-9)
    ts, tu = prefix_scale(top, "s")
    fig = go.Figure()
    for (name, pts), symbol in zip(values.items(), ("circle", "x"), strict=True):
        lat = [v * ts for _, v in pts]
        if len(results) >= HISTOGRAM_FROM:
            fig.add_trace(go.Histogram(x=lat, name=name, opacity=0.75))
        else:
            fig.add_trace(
                go.Scatter(
                    x=lat,
                    y=[f"image {i}" for i, _ in pts],
                    mode="markers",
                    name=name,
                    marker={"symbol": symbol, "size": 11},
                )
            )
    many = len(results) >= HISTOGRAM_FROM
    fig.update_layout(barmode="overlay", height=max(260, 120 + (0 if many else 28 * len(results))))
    fig.update_layout(title="latency from the first input pulse", legend={"orientation": "h", "y": -0.25})
    fig.update_xaxes(title_text=f"latency ({tu})", rangemode="tozero")
    fig.update_yaxes(title_text="images" if many else "", autorange="reversed" if not many else True)
    return fig


def cosim_page(report: Mapping[str, Any], results: Sequence[Mapping[str, Any]]) -> HtmlReport:
    """The report page of a co-simulation (``report``: its ``report.json`` content; ``results``:
    the per-image results, with the spike times and traces)."""
    go, _ = plotly_modules()
    r, st, net = report, report["settings"], report["network"]
    page = HtmlReport(
        f"Co-simulation report: {Path(str(r['checkpoint'])).name}",
        f"{r['n_samples']} test images of {r['dataset']}; network {net['arch']} with {net['neuron']} "
        f"neurons, {net['steps']} steps of {eng(net['slot_s'], 's')}; {st['mode']} mode, synapses "
        f"{st['synapse']}, schedule {st['options']['schedule']}, backend {st['backend']}, device "
        f"models {r.get('device_models', 'bsource')}; seed {r['seed']}",
    )
    for w in r.get("warnings", []):
        page.text(f"warning: {w}", "warn")
    torch_spikes = sum(a["reference_spikes"] for a in r["agreement"]["per_layer"])
    circuit_spikes = sum(a["circuit_spikes"] for a in r["agreement"]["per_layer"])
    page.heading("Summary").table(
        [
            ("torch accuracy", _pct(r["torch_accuracy"])),
            ("circuit accuracy", _pct(r["circuit_accuracy"])),
            ("class agreement (circuit = torch)", _pct(r["class_agreement"])),
            ("spike agreement, all layers (±1 step)", _pct(r["spike_agreement"])),
            (
                "spike agreement, hidden / output layers",
                f"{_pct(r['hidden_spike_agreement'])} / {_pct(r['output_spike_agreement'])}",
            ),
            ("exact (same step) agreement", _pct(r["exact_spike_agreement"])),
            ("spikes, circuit / torch (all images)", f"{circuit_spikes} / {torch_spikes}"),
            ("circuit spikes per inference", f"{r['circuit_spikes_per_inference']:.1f}"),
            ("images without output spikes", r["samples_without_output_spikes"]),
            ("mean decision latency", eng(r["mean_latency_s"], "s")),
            ("mean first output spike latency", eng(r["mean_first_spike_latency_s"], "s")),
            ("energy per inference", eng(r["energy_per_inference_j"], "J")),
            ("energy per spike", eng(r["energy_per_spike_j"], "J")),
            ("energy per neuron and inference", eng(r["energy_per_neuron_j"], "J")),
        ],
        ["quantity", "value"],
    )
    page.text(
        "Spike agreement matches circuit and torch spikes one to one per neuron within ±1 time step. "
        "Latency counts from the first input pulse; the decision is the first spike of the winning "
        "class.",
        "note",
    )
    rows = []
    for a, m in zip(r["agreement"]["per_layer"], r["agreement"]["vs_model_per_layer"], strict=True):
        rows.append(
            (
                len(rows),
                a["n_neurons"] // max(1, r["n_samples"]),
                a["circuit_spikes"],
                a["reference_spikes"],
                a["matched"],
                _pct(a["spike_agreement"]),
                _pct(a["exact_agreement"]),
                _pct(m["spike_agreement"]),
            )
        )
    page.heading("Agreement per layer").table(
        rows,
        [
            "layer",
            "neurons",
            "circuit spikes",
            "torch spikes",
            "matched ±1",
            "agreement",
            "exact",
            "vs device model",
        ],
    )
    if r.get("schedules"):
        page.heading("Field-line schedules").table(
            [
                (
                    x["schedule"],
                    x["write_drivers"],
                    x.get("field_line_drivers", "n/a"),
                    eng(x["step_s"], "s"),
                    eng(x["energy_per_inference_j"], "J"),
                    eng(x["energy_per_spike_j"], "J"),
                    eng(x["mean_latency_s"], "s"),
                    _pct(x["spike_agreement"]),
                    _pct(x["class_agreement"]),
                )
                for x in r["schedules"]
            ],
            [
                "schedule",
                "write drivers",
                "field-line drivers",
                "latency per step",
                "energy / inference",
                "energy / spike",
                "mean latency",
                "spike agreement",
                "class agreement",
            ],
        )
    page.heading("Spike raster")
    page.figure(
        raster_figure(results),
        "Torch spikes are drawn at the centre of their time step, circuit spikes at the time ngspice "
        "found. Red diamonds: circuit spikes with no torch spike within ±1 step; orange squares: "
        "torch spikes the circuit missed. The menu (top right) picks another image.",
    )
    traces = results[0].get("traces") or {}
    if traces:
        page.heading(f"Waveforms of the traced neurons (image {results[0]['index']})")
        page.figure(
            traces_figure(traces, results[0]["layers"]),
            "Panels share the time axis (zoom one, the others follow); click a neuron in the legend to "
            "hide it in every panel. Waveforms are thinned for display, but the samples around every "
            "threshold crossing and comparator edge are the simulated ones; triangles mark the spike "
            "times ngspice found. Supply power: what each supply of the neuron's ngspice run delivers "
            "(with --group above 1, the run holds that many neurons).",
        )
    parts = r["energy"]["per_inference_by_component_j"]
    page.heading("Energy per inference")
    page.figure(
        energy_bars(
            go, parts, f"energy per inference: {eng(r['energy_per_inference_j'], 'J')}", COMPONENT_NAMES
        )
    )
    per_spike = r["energy"]["per_spike_by_component_j"] or {}
    total = r["energy_per_inference_j"] or 1.0
    page.table(
        [
            (component_name(c), eng(e, "J"), eng(per_spike.get(c), "J"), f"{100 * e / total:.2f} %")
            for c, e in sorted(parts.items(), key=lambda kv: -kv[1])
        ],
        ["component", "per inference", "per spike", "share"],
    )
    page.heading("Latency").figure(latency_figure(results))
    page.heading("Images").table(
        [
            (
                s["index"],
                s["label"],
                s["torch_class"],
                s["circuit_class"],
                f"{sum(s['torch_counts'])} / {sum(s['circuit_counts'])}",
                eng(s["latency"]["decision_s"], "s"),
                eng(sum(s["energy_j"].values()), "J"),
            )
            for s in r["samples"]
        ],
        [
            "image",
            "label",
            "torch class",
            "circuit class",
            "output spikes torch / circuit",
            "decision latency",
            "energy",
        ],
    )
    return page


def write_cosim_html(
    report: Mapping[str, Any], results: Sequence[Mapping[str, Any]], path: str | Path
) -> Path:
    """Write a co-simulation's ``report.html``; return its path."""
    return cosim_page(report, results).write(path)


#: where a marker's label may go, in order of preference, and its offset (in axis spans)
_LABEL_SPOTS = (
    ("top center", 0.0, 0.06),
    ("bottom center", 0.0, -0.06),
    ("middle right", 0.05, 0.0),
    ("middle left", -0.05, 0.0),
    ("top right", 0.045, 0.05),
    ("bottom left", -0.045, -0.05),
)


def _label_positions(x: np.ndarray, y: np.ndarray) -> list[str]:
    """A text position per marker such that no two labels (about 0.06 x 0.05 of the axis spans)
    overlap where a free spot exists (plotly does not move labels apart by itself)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    span_x = float(np.ptp(x[np.isfinite(x)])) if np.isfinite(x).any() else 0.0
    span_y = float(np.ptp(y[np.isfinite(y)])) if np.isfinite(y).any() else 0.0
    u = (x - np.nanmin(x)) / span_x if span_x > 0 else np.zeros(len(x))
    v = (y - np.nanmin(y)) / span_y if span_y > 0 else np.zeros(len(y))
    placed: list[tuple[float, float]] = []
    out = ["top center"] * len(x)
    for i in np.argsort(u, kind="stable"):
        for name, du, dv in _LABEL_SPOTS:
            c = (u[i] + du, v[i] + dv)
            if all(abs(c[0] - p[0]) > 0.06 or abs(c[1] - p[1]) > 0.05 for p in placed):
                out[i] = name
                placed.append(c)
                break
        else:
            placed.append((u[i], v[i] + 0.06))
    return out


def tradeoff_figure(rows: Sequence[Mapping[str, Any]]) -> Any:
    """Energy per inference against circuit accuracy and against spike agreement: one marker per
    grid point (P1, P2, ... as in the table), the Pareto front of each panel drawn through its
    points, every figure of a point in its hover box."""
    go, make_subplots = plotly_modules()
    done = [(k, r) for k, r in enumerate(rows, start=1) if r.get("status", "done") == "done"]
    e = np.array([r["energy_per_inference_j"] for _, r in done], float)
    es, eu = prefix_scale(float(np.max(e)) if len(e) else 1e-12, "J")
    lat = np.array([r["mean_latency_s"] for _, r in done], float)
    ls, lu = prefix_scale(float(np.max(lat)) if len(lat) else 1e-9, "s")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1)
    log_x = len(e) > 0 and np.max(e) > 10 * np.min(e) > 0
    hover = [
        f"P{k}: {point_text(r['point'])}<br>circuit accuracy {_pct(r['circuit_accuracy'])}, torch "
        f"{_pct(r['torch_accuracy'])}<br>spike agreement {_pct(r['spike_agreement'])}<br>energy "
        f"{eng(r['energy_per_inference_j'], 'J')}/inference, {eng(r['energy_per_spike_j'], 'J')}/spike"
        f"<br>latency {eng(r['mean_latency_s'], 's')}"
        for k, r in done
    ]
    for col, (key, title) in enumerate(tradeoff_panels([r for _, r in done]), start=1):
        y = np.array([100 * (r[key] or 0.0) for _, r in done], float)
        fig.add_trace(
            go.Scatter(
                x=e * es,
                y=y,
                mode="markers+text",
                cliponaxis=False,
                text=[f"P{k}" for k, _ in done],
                textposition=_label_positions(np.log10(e) if log_x else e, y),
                hovertext=hover,
                hoverinfo="text",
                name="grid point (colour: latency)",
                showlegend=col == 1,
                marker={
                    "size": 11,
                    "color": lat * ls,
                    "colorscale": "Viridis",
                    "showscale": col == 2,
                    "colorbar": {"title": {"text": f"latency ({lu})"}},
                },
            ),
            row=1,
            col=col,
        )
        front = pareto_front(list(e), list(y))
        fig.add_trace(
            go.Scatter(
                x=e[front] * es,
                y=y[front],
                mode="lines+markers",
                line={"shape": "hv", "color": "#d62728", "width": 1.5},
                cliponaxis=False,
                marker={"size": 16, "symbol": "circle-open", "color": "#d62728", "line": {"width": 2}},
                name="Pareto front (lower energy, higher score)",
                showlegend=col == 1,
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
        # never above 100 %: markers on the edge are drawn whole (cliponaxis off)
        fig.update_yaxes(
            title_text=title, range=list(percent_limits(list(y))) if len(y) else None, row=1, col=col
        )
        fig.update_xaxes(title_text=f"energy per inference ({eu})", row=1, col=col)
        if log_x:
            fig.update_xaxes(type="log", row=1, col=col)
    fig.update_layout(height=480, legend={"orientation": "h", "y": -0.2})
    return fig


def sweep_page(data: Mapping[str, Any]) -> HtmlReport:
    """The report page of a sweep (``data``: its ``results.json`` content)."""
    rows = data["points"]
    names = list(data["grid"])
    page = HtmlReport(
        "Sweep report",
        f"{len(rows)} grid points ({', '.join(names)}) × {len(data['samples'])} test images of "
        f"{data['dataset']}; {data['mode']} mode; seed {data['seed']}",
    )
    for f in data.get("failed_points", []):
        page.text(f"point {point_text(f['point'])} failed: {f['error']} (run again with --resume)", "warn")
    page.heading("Trade-off").figure(
        tradeoff_figure(rows),
        "Each marker is one grid point (P1, P2, ... as in the table below; hover for every figure). "
        "The red line is the Pareto front: no other point has both lower energy and a higher score.",
    )
    page.heading("Points").table(
        [
            (
                f"P{k}",
                *(setting_text(r["point"][n], name=n) for n in names),
                r["status"],
                _pct(r["torch_accuracy"]),
                _pct(r["circuit_accuracy"]),
                _pct(r["class_agreement"]),
                _pct(r["spike_agreement"]),
                f"{r['circuit_spikes_per_inference']:.1f}"
                if r["circuit_spikes_per_inference"] is not None
                else "n/a",
                eng(r["energy_per_inference_j"], "J"),
                eng(r["energy_per_spike_j"], "J"),
                eng(r["mean_latency_s"], "s"),
            )
            for k, r in enumerate(rows, start=1)
        ],
        [
            "point",
            *names,
            "status",
            "torch accuracy",
            "circuit accuracy",
            "class agreement",
            "spike agreement",
            "circuit spikes / inference",
            "energy / inference",
            "energy / spike",
            "mean latency",
        ],
    )
    return page


def write_sweep_html(data: Mapping[str, Any], path: str | Path) -> Path:
    """Write a sweep's ``report.html``; return its path."""
    return sweep_page(data).write(path)
