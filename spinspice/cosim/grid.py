"""Parameter sweeps: a grid of co-simulations of one trained network (SPEC 2, ``spinspice sweep``).

A point sets neuron parameters (any parameter of the network's neuron model, e.g. the write
slot ``t_off_s`` -- the pulse rate --, ``j_reset_a_per_m2``, ``u_unit`` -- the write current
of one input unit --, the field bias of field-gated cells) on every layer, and/or circuit
settings (``variability``, ``v_read_v``, ``schedule``, ``synapse``, ``levels``,
``clip_percentile``).  Both the torch reference and the circuit run with the point's neurons,
so each point says what that design does with the trained weights.

Each finished point is journalled (:class:`~spinspice.sim.jobs.Journal`: ``sweep.json`` names
the sweep, ``points/<key>.json`` holds each finished point, written atomically); a sweep
started again with ``resume`` skips the points already there.  :func:`sweep` is the whole
job (``spinspice sweep``): journal, points, ``results.csv``/``results.json`` and the plot.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import hashlib
import io
import itertools
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spinspice.cosim.report import summarize_cosim
from spinspice.cosim.runner import (
    CosimSettings,
    cosim_settings,
    prepare,
    run_cosim,
    sample_ids,
    trained_schedule,
)
from spinspice.cosim.runs import failed_jobs_error
from spinspice.errors import ModelParameterError, SpinspiceError, check_setting
from spinspice.io import (
    LOCK_NAME,
    Result,
    atomic_write_json,
    atomic_write_text,
    displayed,
    report_header,
    seed_all,
)
from spinspice.sim.jobs import Journal
from spinspice.snn.arch import SpikingNet
from spinspice.snn.checkpoint import checkpoint_digest, load_with_data
from spinspice.units import eng, parse_value

__all__ = [
    "SETTING_NAMES",
    "SUMMARY_KEYS",
    "SweepResult",
    "grid_points",
    "parse_grid_sets",
    "plot_tradeoffs",
    "point_key",
    "run_point",
    "run_sweep",
    "sweep",
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


def parse_grid_sets(sets: Sequence[str]) -> dict[str, list[Any]]:
    """``["t_off_s=1n,2n", "schedule=all,rows"]`` (``spinspice sweep --set``) -> a grid, SI suffixes
    accepted; ``schedule`` and ``synapse`` take names, ``levels`` integers."""
    grid: dict[str, list[Any]] = {}
    for item in sets:
        name, sep, values = item.partition("=")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise ModelParameterError(f"--set {item!r}: write NAME=V1,V2,... (e.g. t_off_s=1n,2n)")
        if name in grid:
            raise ModelParameterError(f"--set {name!r} given twice")
        parts = [v.strip() for v in values.split(",") if v.strip()]
        if name in ("schedule", "synapse"):
            grid[name] = parts
        elif name == "levels":
            grid[name] = [int(parse_value(v, None, name=f"--set {name}")) for v in parts]
        else:
            grid[name] = [parse_value(v, None, name=f"--set {name}") for v in parts]
    return grid


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
        out.neurons[k] = out.layer_neuron(k, spec)  # validates names and ranges, says what is allowed
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
    journal: Journal,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    on_point: Callable[[dict[str, Any], bool], None] | None = None,
) -> list[dict[str, Any]]:
    """Run every point not yet done in ``journal`` and return all rows in grid order
    (failed points are run again)."""
    rows = []
    for point in points:
        key = point_key(point)
        row = journal.get(
            key,
            accept=lambda r, point=point: (
                r.get("status", "done") == "done"
                and r.get("point") == dict(point)
                and r.get("n_samples") == len(ids)
            ),
        )
        if row is not None:
            row = {"status": "done", **row}
            rows.append(row)
            if on_point is not None:
                on_point(row, True)
            continue
        row = run_point(net, data, ids, base, point, workers=workers, scheduler=scheduler)
        journal.put(key, row)
        rows.append(row)
        if on_point is not None:
            on_point(row, False)
    return rows


def pareto_front(energy: Sequence[float], score: Sequence[float]) -> list[int]:
    """Indices of the points no other point beats on both energy (lower) and score (higher),
    in order of energy."""
    order = sorted(range(len(energy)), key=lambda i: (energy[i], -score[i]))
    front: list[int] = []
    for i in order:
        if not front or score[i] > score[front[-1]]:
            front.append(i)
    return front


def percent_limits(values: Sequence[float]) -> tuple[float, float]:
    """A y range in % around ``values`` with some room, never above 100 % or below 0 %."""
    lo, hi = min(values), max(values)
    pad = max(0.1 * (hi - lo), 1.0)
    top = min(100.0, hi + pad)
    bottom = max(0.0, min(lo - pad, top - 2 * pad))
    return bottom, top


def tradeoff_panels(done: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The two scores a trade-off plot sets against energy, as (key, axis title): circuit
    accuracy (class agreement with torch where the images have no labels), spike agreement."""
    labelled = all(r.get("circuit_accuracy") is not None for r in done)
    return [
        ("circuit_accuracy", "circuit accuracy (%)")
        if labelled
        else ("class_agreement", "class agreement with torch (%)"),
        ("spike_agreement", "spike agreement with torch (%)"),
    ]


#: a setting's unit from the end of its name (``t_off_s`` is a time)
_NAME_UNITS = (("_a_per_m2", "A/m²"), ("_ohm", "Ω"), ("_hz", "Hz"), ("_s", "s"), ("_v", "V"), ("_a", "A"))
_NAME_UNITS += (("_j", "J"), ("_f", "F"), ("_m", "m"), ("_oe", "Oe"))


def setting_text(value: Any, unit: str | None = None, name: str = "") -> str:
    """A value for the table: with its engineering prefix where its unit is known (``unit``, or
    the end of the setting's ``name``)."""
    if value is None:
        return "n/a"
    if unit is None and isinstance(value, (int, float)) and not isinstance(value, bool):
        unit = next((u for end, u in _NAME_UNITS if name.lower().endswith(end)), None)
    if unit is not None:
        return eng(value, unit, 3)
    return f"{value:g}" if isinstance(value, float) else str(value)


def figure_tradeoffs(rows: Sequence[Mapping[str, Any]]) -> Any:
    """The sweep's Pareto plot: energy per inference against circuit accuracy (left; class
    agreement with torch where the images have no labels) and against spike agreement
    (right), one marker per grid point labelled P1, P2 ... (colour: mean latency), the
    Pareto front (least energy, most accuracy) as a step line through its highlighted points,
    and a table of the points' settings and figures under the plots."""
    import numpy as np
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator

    from spinspice.figures import place_labels, prefix_scale, pyplot

    plt = pyplot()
    done = [r for r in rows if r.get("status", "done") == "done"]
    names = list(done[0]["point"]) if done else []
    n_images = done[0].get("n_samples") if done else None
    table_in = 0.22 * (len(done) + 1)
    fig = plt.figure(figsize=(11, 4.6 + table_in + 0.3), layout="constrained")
    grid_text = ", ".join(names) or "no finished points"
    fig.suptitle(
        f"Sweep of {grid_text}: energy against accuracy"
        + (f" ({n_images} image{'s' if n_images != 1 else ''} per point)" if n_images else "")
    )
    if not done:
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no finished points to plot", ha="center", va="center")
        return fig
    gs = fig.add_gridspec(2, 2, height_ratios=[3.6, table_in])
    axes = [fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[0, 1])]
    e_j = np.array([r["energy_per_inference_j"] for r in done], float)
    scale, unit = prefix_scale(float(e_j.max()), "J")
    e = e_j * scale
    panels = tradeoff_panels(done)
    left = panels[0][0]
    lat_s = np.array([r["mean_latency_s"] for r in done], float)
    l_scale, l_unit = prefix_scale(float(lat_s.max()), "s")
    varied = bool(lat_s.max() > lat_s.min() * (1 + 1e-9))  # one latency everywhere: no colour bar
    if not varied:
        fig.suptitle(f"{fig.get_suptitle()}; mean latency {eng(float(lat_s[0]), 's', 3)} at every point")
    ids = [f"P{i + 1}" for i in range(len(done))]
    fronts = []
    wide = e.max() / e.min() > 10 if e.min() > 0 else False
    sc = None
    for ax, (key, ylabel) in zip(axes, panels, strict=True):
        y = np.array([100 * (r[key] or 0.0) for r in done], float)
        front = pareto_front(list(e), list(y))
        fronts.append(set(front))
        if wide:
            ax.set_xscale("log")
            if e.max() / e.min() < 300:  # under 2.5 decades: 1-2-5 ticks, else too few to read
                ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        if wide:
            pad = 10 ** (0.08 * np.log10(e.max() / e.min()))
            ax.set_xlim(e.min() / pad, e.max() * pad)
        else:
            span = (e.max() - e.min()) or 0.1 * e.max() or 1.0
            ax.set_xlim(e.min() - 0.12 * span, e.max() + 0.12 * span)
        ax.set_ylim(*percent_limits(list(y)))
        fx = [e[i] for i in front] + [ax.get_xlim()[1]]
        fy = [y[i] for i in front] + [y[front[-1]]]
        ax.step(fx, fy, where="post", color="tab:red", lw=1.2, zorder=1)
        ax.scatter(
            e[front],
            y[front],
            s=120,
            facecolors="none",
            edgecolors="tab:red",
            lw=1.5,
            zorder=3,
            clip_on=False,
        )
        colour = {"c": lat_s * l_scale, "cmap": "viridis"} if varied else {"color": "tab:blue"}
        sc = ax.scatter(e, y, s=36, zorder=4, edgecolors="k", lw=0.4, clip_on=False, **colour)
        ax.set_xlabel(f"energy per inference ({unit}{', log scale' if wide else ''})")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    front_handle = Line2D(
        [], [], color="tab:red", lw=1.2, marker="o", ms=9, mfc="none", mew=1.5, label="Pareto front"
    )
    for ax in axes:
        ax.legend(
            handles=[front_handle],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.01),
            fontsize=8,
            frameon=False,
            borderaxespad=0,
        )
    if varied:  # the colour bar beside both panels (the layout keeps it off their labels)
        fig.colorbar(sc, ax=axes, label=f"mean latency ({l_unit})", pad=0.02)
    table_ax = fig.add_subplot(gs[1, :])
    table_ax.set_axis_off()
    header = ["id", *names, "energy / inference", panels[0][1].replace(" (%)", "")]
    header += ["spike agreement", "latency"]
    cells = [
        [
            ids[i],
            *(setting_text(r["point"].get(n), name=n) for n in names),
            setting_text(r["energy_per_inference_j"], "J"),
            "n/a" if r.get(left) is None else f"{100 * r[left]:.1f} %",
            f"{100 * r['spike_agreement']:.1f} %",
            setting_text(r["mean_latency_s"], "s"),
        ]
        for i, r in enumerate(done)
    ]
    table = table_ax.table(cellText=cells, colLabels=header, bbox=(0.0, 0.0, 1.0, 1.0), cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width(list(range(len(header))))
    on_front = fronts[0] | fronts[1]
    for (row, _col), cell in table.get_celld().items():
        cell.set_linewidth(0.4)
        if row == 0:
            cell.get_text().set_fontweight("bold")
        elif row - 1 in on_front:
            cell.set_facecolor("#fde8e8")
    table_ax.set_title(
        "Grid points (shaded: on the Pareto front of either panel)", fontsize=8, loc="left", pad=3
    )
    for ax, (key, _) in zip(axes, panels, strict=True):
        y = [100 * (r[key] or 0.0) for r in done]
        place_labels(ax, list(e), y, ids, fontsize=8)
    return fig


def plot_tradeoffs(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """``tradeoff.png``: the Pareto plot of :func:`figure_tradeoffs`."""
    from spinspice.io import save_figure

    return save_figure(figure_tradeoffs(rows), path)


def point_text(point: Mapping[str, Any]) -> str:
    """A grid point for a reader: ``"t_off_s=2 ns, variability=0.1"``."""
    return ", ".join(f"{k}={setting_text(v, name=k)}" for k, v in point.items())


@dataclasses.dataclass
class SweepResult(Result):
    """A finished sweep (schema ``spinspice.sweep``): one row per grid point."""

    data: dict[str, Any]
    out: Path | None = None

    @property
    def failed(self) -> list[dict[str, Any]]:
        return list(self.data["failed_points"])

    def error(self) -> SpinspiceError | None:
        """The error of a sweep whose points partly failed (None: all done)."""
        failed = self.failed
        return failed_jobs_error(failed, len(self.data["points"]), "points") if failed else None

    def table(self) -> str:
        """The results table as CSV text (grid names, status, then :data:`SUMMARY_KEYS`)."""
        names = list(self.data["grid"])
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([*names, "status", *SUMMARY_KEYS])
        for r in self.data["points"]:
            writer.writerow(
                [
                    *(r["point"][n] for n in names),
                    r["status"],
                    *("" if r[k] is None else r[k] for k in SUMMARY_KEYS),
                ]
            )
        return buf.getvalue()

    def write(self, folder: str | Path) -> Path:
        """results.csv, tradeoff.png, report.html and results.json (each atomically)."""
        from spinspice.cosim.html import write_sweep_html

        folder = Path(folder)
        atomic_write_text(folder / "results.csv", self.table())
        plot_tradeoffs(self.data["points"], folder / "tradeoff.png")
        write_sweep_html(self.data, folder / "report.html")
        atomic_write_json(folder / "results.json", self.data)
        return folder

    def summary(self) -> str:
        rows, out = self.data["points"], self.out
        lines = [
            f"{len(rows)} points x {len(self.data['samples'])} images ({self.data['resumed_points']} resumed "
            f"from {out}/points):"
        ]
        for r in rows:
            if r["status"] != "done":
                lines.append(f"  {point_text(r['point'])}: FAILED ({r['failed_samples'][0]['error']})")
                continue
            acc = "n/a" if r["circuit_accuracy"] is None else f"{r['circuit_accuracy'] * 100:.1f} %"
            lines.append(
                f"  {point_text(r['point'])}: circuit accuracy {acc}, "
                f"spike agreement {r['spike_agreement'] * 100:.1f} %, "
                f"{eng(r['energy_per_inference_j'], 'J')}/inference, "
                f"latency {eng(r['mean_latency_s'], 's')}"
            )
        lines.append(
            f"table: {out / 'results.csv'}; plot: {out / 'tradeoff.png'}; report: {out / 'report.html'}"
        )
        return "\n".join(lines)


def sweep(
    checkpoint: str | Path,
    grid: Mapping[str, Sequence[Any]],
    *,
    samples: int | Sequence[int] = 5,
    dataset: str | None = None,
    mode: str = "stepped",
    timeout_s: float | None = None,
    workers: int = 0,
    scheduler: str | None = None,
    resume: bool = False,
    fresh: bool = False,
    out: str | Path = Path("results/sweep"),
    seed: int = 0,
    progress: Any = None,
) -> SweepResult:
    """Co-simulate ``samples`` test images of ``checkpoint`` at every point of ``grid`` (name ->
    values: neuron parameters of the network's model, or :data:`SETTING_NAMES`).

    Every point is validated before anything runs or is written; each finished point is
    journalled in ``out/points`` (``resume``/``fresh`` as the CLI).  Failed points come back
    with ``status: "failed"`` (see :attr:`SweepResult.failed`); the others still run."""
    out = Path(out)
    checkpoint = Path(checkpoint)
    seed_all(seed)
    check_setting("workers", workers, low=0, integer=True)
    workers = workers or (os.cpu_count() or 1)
    grid = {k: list(v) for k, v in grid.items()}
    points = grid_points(grid)
    ck, data = load_with_data(checkpoint, dataset, classes=False)
    ids = sample_ids(len(data.y_test), samples)
    base = cosim_settings(mode=mode, seed=seed, timeout_s=timeout_s, **trained_schedule(ck.config, {}))
    validate_points(ck.net, base, points)
    spec = {
        "checkpoint_sha256": checkpoint_digest(checkpoint),
        "dataset": data.name,
        "grid": grid,
        "samples": ids,
        "mode": mode,
        "seed": seed,
    }
    journal = Journal(
        out, spec, jobs="points", stamp="sweep.json", what="sweep", unit="points", resume=resume, fresh=fresh
    )
    if not journal.stamp.is_file() and out.exists() and any(p.name != LOCK_NAME for p in out.iterdir()):
        raise ModelParameterError(f"{out} exists and is not a sweep folder: choose another --out")
    resumed = 0
    with journal, displayed(progress) as progress:  # holds `out` (run_lock) until the results are written
        task = progress.add_task(f"sweep ({len(points)} points x {len(ids)} images)", total=len(points))

        def done(_row: dict[str, Any], cached: bool) -> None:
            nonlocal resumed
            resumed += cached
            progress.advance(task)

        rows = run_sweep(
            ck.net, data, ids, base, points, journal, workers=workers, scheduler=scheduler, on_point=done
        )
        result = SweepResult(
            {
                **report_header("spinspice.sweep"),
                **spec,
                "points": rows,
                "resumed_points": resumed,
                "failed_points": [
                    {
                        "point": r["point"],
                        "error": r["failed_samples"][0]["error"],
                        "failed_samples": r["failed_samples"],
                    }
                    for r in rows
                    if r["status"] != "done"
                ],
                "files": [
                    "report.html",
                    "results.csv",
                    "results.json",
                    "sweep.json",
                    "tradeoff.png",
                    "points/",
                ],
            },
            out,
        )
        result.write(out)
    return result
