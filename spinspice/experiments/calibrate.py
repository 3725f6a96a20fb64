r"""Fit a model's free parameters to a measured (or simulated) trace.

A trace is a CSV file with the columns ``time_s, drive, readout`` (units
per model: :mod:`spinspice.models.traces`), optionally preceded by ``#``
comment lines; spinspice writes its own metadata there as ``# key: value``
(JSON values).  The model is integrated open-loop under the sampled drive
(linear between samples) with scipy's LSODA, and the free parameters are
fitted by ``scipy.optimize.least_squares`` (trust-region reflective, bounded by
each parameter's documented range) on residuals scaled by the readout's span.
Parameters are fitted relative to their starting values (the model's preset,
or ``--param`` overrides), so quantities of very different magnitudes are
well conditioned.

Reported goodness of fit: R^2, RMSE (readout unit), RMSE / span, the largest
residual, and 1-sigma standard errors from the Jacobian at the optimum
(``(J^T J)^-1 s^2``).  :func:`make_example` generates the shipped example
traces (``spinspice/data/calibration/*.csv``) from the project's own models
with Gaussian read-out noise; the tests fit them back.  :func:`run_calibration`
(``spinspice calibrate``) takes a model name, a trace and user settings and returns
the fit with its files (``params.json`` feeds ``spinspice neuron --param-file``).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import least_squares

from spinspice import __version__
from spinspice.errors import DataError, ModelParameterError, SimulationError, SpinspiceError
from spinspice.experiments.results import StudyResult, displayed
from spinspice.io import atomic_write_json, atomic_write_text, report_header, save_figure, seed_all
from spinspice.io import pyplot as _pyplot
from spinspice.models.params import ParamInfo, ParamSet
from spinspice.models.traces import TraceModel, get_trace_model
from spinspice.models.waveforms import PulseTrain
from spinspice.units import eng

__all__ = [
    "EXAMPLES",
    "CalibrationResult",
    "Trace",
    "base_params",
    "calibrate",
    "example_path",
    "load_trace",
    "make_example",
    "read_param_file",
    "run_calibration",
    "simulate_trace",
    "write_calibration",
    "write_trace",
]

COLUMNS = ("time_s", "drive", "readout")
SCHEMA = "spinspice.calibration"
FILES = {"report_json": "fit.json", "report_md": "fit.md", "params": "params.json", "plot": "fit.png"}
MAX_SAMPLES = 200_000


@dataclasses.dataclass(frozen=True)
class Trace:
    """A sampled ``time, drive, readout`` trace and its ``#`` metadata."""

    time_s: np.ndarray
    drive: np.ndarray
    readout: np.ndarray
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    path: str | None = None

    def __post_init__(self) -> None:
        n = len(self.time_s)
        where = f" in {self.path}" if self.path else ""
        if n < 5 or len(self.drive) != n or len(self.readout) != n:
            raise DataError(f"trace{where}: need at least 5 rows of time_s, drive, readout")
        if n > MAX_SAMPLES:
            raise DataError(f"trace{where}: {n} rows is more than {MAX_SAMPLES}; resample it")
        for name in COLUMNS:
            if not np.all(np.isfinite(getattr(self, name))):
                raise DataError(f"trace{where}: column {name} has NaN or infinite values")
        if np.any(np.diff(self.time_s) <= 0):
            k = int(np.argmax(np.diff(self.time_s) <= 0))
            raise DataError(f"trace{where}: time_s must increase strictly (row {k + 2} does not)")


def load_trace(path: str | Path) -> Trace:
    """Read a CSV trace: optional ``#`` lines, a header naming the columns, then numbers."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"trace file {p} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read trace file {p}: {err}") from None
    meta: dict[str, Any] = {}
    rows: list[list[float]] = []
    header: list[str] | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, sep, value = line[1:].partition(":")
            if sep and key.strip():
                try:
                    meta[key.strip()] = json.loads(value)
                except json.JSONDecodeError:
                    meta[key.strip()] = value.strip()
            continue
        cells = [c.strip() for c in line.split(",")]
        if header is None:
            header = cells
            if header != list(COLUMNS):
                raise DataError(f"{p}:{lineno}: the header must be 'time_s,drive,readout', found {line!r}")
            continue
        if len(cells) != 3:
            raise DataError(f"{p}:{lineno}: expected 3 comma-separated values, found {len(cells)}")
        try:
            rows.append([float(c) for c in cells])
        except ValueError:
            raise DataError(f"{p}:{lineno}: not a number in {line!r}") from None
    if header is None:
        raise DataError(f"{p}: no header line 'time_s,drive,readout'")
    arr = np.array(rows, dtype=float).reshape(-1, 3)
    return Trace(arr[:, 0], arr[:, 1], arr[:, 2], meta, str(p))


def write_trace(path: str | Path, trace: Trace) -> Path:
    """Write ``trace`` as CSV with its metadata as ``# key: <json>`` lines (atomically)."""
    lines = [f"# {k}: {json.dumps(v, sort_keys=True)}" for k, v in trace.meta.items()]
    lines.append(",".join(COLUMNS))
    lines += [
        f"{t:.12g},{d:.12g},{r:.12g}"
        for t, d, r in zip(trace.time_s, trace.drive, trace.readout, strict=True)
    ]
    return atomic_write_text(path, "\n".join(lines) + "\n")


def simulate_trace(
    tm: TraceModel,
    base: Sequence[ParamSet],
    values: Mapping[str, float],
    time_s: np.ndarray,
    drive: np.ndarray,
    *,
    rtol: float = 1e-8,
) -> np.ndarray:
    """Open-loop readout of ``tm`` at ``time_s`` under ``drive`` (linear between samples)."""
    fns = tm.functions(base, values)
    t = np.asarray(time_s, dtype=float)
    d = np.asarray(drive, dtype=float)
    sol = solve_ivp(
        lambda tt, y: fns.rhs(y, float(np.interp(tt, t, d))),
        (float(t[0]), float(t[-1])),
        fns.y0,
        method="LSODA",
        t_eval=t,
        rtol=rtol,
        atol=fns.atol,
        max_step=float(np.min(np.diff(t))),
    )
    if not sol.success or sol.y.shape[1] != len(t):
        raise SimulationError(f"{tm.name} trace integration failed: {sol.message}")
    return np.asarray(fns.readout(sol.y), dtype=float)


def base_params(model: str, preset: str | None = None) -> tuple[tuple[ParamSet, ...], str]:
    """The parameter sets a trace model of ``model`` starts from: those of the model's preset
    (default: its first) for neuron models, the documented defaults otherwise."""
    from spinspice.circuits.registry import NEURON_CELLS, get_cell

    tm = get_trace_model(model)
    if model in NEURON_CELLS:
        cell, name = get_cell(model, preset)
        groups = {type(ps): ps for ps in cell.groups().values()}
        return tuple(groups.get(t) or t() for t in tm.param_types), name
    if preset:
        raise ModelParameterError(f"model {model} has no presets")
    return tuple(t() for t in tm.param_types), ""


def _info(base: Sequence[ParamSet]) -> dict[str, ParamInfo]:
    return {i.name: i for ps in base for i in ps.param_info()}


def _bounds(info: ParamInfo, scale: float) -> tuple[float, float]:
    lo = -np.inf if info.lo is None else info.lo / scale
    hi = np.inf if info.hi is None else info.hi / scale
    pad = 1e-9 * max(1.0, abs(lo) if np.isfinite(lo) else 1.0)
    if info.lo is not None and info.lo_open:
        lo += pad
    if info.hi is not None and info.hi_open:
        hi -= pad
    return (lo, hi) if scale > 0 else (hi, lo)


def calibrate(
    model: str,
    base: Sequence[ParamSet],
    trace: Trace,
    free: Sequence[str] | None = None,
    *,
    max_evaluations: int = 400,
    starts: int | None = None,
    spread: float = 0.4,
    refine: int = 3,
    seed: int = 0,
    preset: str = "",
    progress: Any = None,
) -> dict[str, Any]:
    """Fit ``free`` parameters of ``model`` (default: the trace model's) to ``trace``.

    ``starts`` > 0 adds a global phase (default: the trace model's own
    setting): that many quasi-random points within ``start * (1 +- spread)``,
    the ``refine`` best of which also start local fits; the best fit wins.
    """
    tm = get_trace_model(model)
    names = list(free) if free else list(tm.free)
    infos = _info(base)
    start = tm.all_values(base)
    for n in names:
        if n not in infos:
            tm.param_sets(base, {n: 0.0})  # raises the "no parameter" error with suggestions
        if infos[n].kind is bool:
            raise ModelParameterError(f"{n} is a switch, not a fittable number")
    if len(set(names)) != len(names):
        raise ModelParameterError("a free parameter is listed twice")
    if len(names) >= len(trace.time_s):
        raise ModelParameterError("more free parameters than samples in the trace")
    x_scale = np.array([abs(start[n]) if start[n] != 0 else 1.0 for n in names])
    x0 = np.array([start[n] for n in names]) / x_scale
    lb, ub = zip(*(_bounds(infos[n], s) for n, s in zip(names, x_scale, strict=True)), strict=True)
    data = trace.readout
    span = float(np.ptp(data)) or float(np.max(np.abs(data))) or 1.0
    n_eval = [0]
    task = progress.add_task(f"calibrate {model}", total=None) if progress else None

    def values_of(x: np.ndarray) -> dict[str, float]:
        return {n: float(v * s) for n, v, s in zip(names, x, x_scale, strict=True)}

    def residuals(x: np.ndarray) -> np.ndarray:
        n_eval[0] += 1
        if progress:
            progress.update(task, description=f"calibrate {model}: {n_eval[0]} model runs")
        try:
            sim = simulate_trace(tm, base, values_of(x), trace.time_s, trace.drive)
        except SpinspiceError:
            return np.full(len(data), 1e3)  # invalid corner of parameter space: push the solver back
        return (sim - data) / span

    options = dict(
        bounds=(np.array(lb), np.array(ub)),
        method="trf",
        x_scale="jac",
        diff_step=1e-6,
        max_nfev=max_evaluations,
        xtol=1e-10,
        ftol=1e-10,
        gtol=1e-10,
    )
    t0 = time.perf_counter()
    initial_residual = residuals(x0)
    candidates = [x0]
    n_starts = tm.starts if starts is None else starts
    if n_starts > 0:
        # global phase: a scrambled Sobol sample of the box start * (1 +- spread), each point
        # costed by one model run; the best few start local fits (event-like traces such as the
        # DW-MTJ's R_B bumps have needle-shaped basins a single local fit rarely finds)
        from scipy.stats import qmc

        raw = qmc.Sobol(len(names), scramble=True, seed=seed).random(n_starts)
        box = np.clip(x0 * (1 - spread + 2 * spread * raw), np.array(lb), np.array(ub))
        costs = [float(np.sum(residuals(x) ** 2)) for x in box]
        candidates += [box[k] for k in np.argsort(costs)[:refine]]
    fits = [least_squares(residuals, x, **options) for x in candidates]
    fit = min(fits, key=lambda f: f.cost)
    wall = time.perf_counter() - t0
    fitted = values_of(fit.x)
    model_readout = simulate_trace(tm, base, fitted, trace.time_s, trace.drive)
    res = model_readout - data
    ss_res = float(np.sum(res**2))
    ss_tot = float(np.sum((data - data.mean()) ** 2)) or 1.0
    dof = max(1, len(data) - len(names))
    stderr: dict[str, float | None] = {}
    try:
        cov = np.linalg.inv(fit.jac.T @ fit.jac) * (2 * fit.cost / dof)
        for k, n in enumerate(names):
            stderr[n] = float(np.sqrt(max(cov[k, k], 0.0)) * x_scale[k])
    except np.linalg.LinAlgError:
        stderr = dict.fromkeys(names)
    truth = trace.meta.get("true_params") if isinstance(trace.meta.get("true_params"), dict) else None
    all_fitted = {**start, **fitted}
    return {
        **report_header(SCHEMA),
        "model": model,
        "preset": preset,
        "trace": {
            "path": trace.path,
            "n_samples": len(data),
            "t_start_s": float(trace.time_s[0]),
            "t_stop_s": float(trace.time_s[-1]),
            "drive": f"{tm.drive} [{tm.drive_unit}]",
            "readout": f"{tm.readout} [{tm.readout_unit}]",
            "meta": dict(trace.meta),
        },
        "free": names,
        "initial": {n: start[n] for n in names},
        "fitted": fitted,
        "stderr": stderr,
        "units": {n: infos[n].unit for n in names},
        "true_params": truth,
        "relative_error_vs_truth": (
            {n: abs(fitted[n] - truth[n]) / abs(truth[n]) for n in names if n in truth and truth[n] != 0}
            if truth
            else None
        ),
        "goodness": {
            "r2": 1.0 - ss_res / ss_tot,
            "rmse": float(np.sqrt(ss_res / len(data))),
            "rmse_over_span": float(np.sqrt(ss_res / len(data)) / span),
            "max_abs_residual": float(np.max(np.abs(res))),
            "initial_rmse": float(np.sqrt(np.mean(initial_residual**2)) * span),
            "unit": tm.readout_unit,
        },
        "optimizer": {
            "method": "scipy.optimize.least_squares (trf)",
            "success": bool(fit.success),
            "status": int(fit.status),
            "message": str(fit.message),
            "model_runs": n_eval[0],
            "global_starts": n_starts,
            "local_fits": len(fits),
            "wall_s": wall,
        },
        "params": all_fitted,
        "series": {"time_s": trace.time_s, "drive": trace.drive, "readout": data, "fit": model_readout},
    }


def _fit_figure(report: dict[str, Any], series: dict[str, Any]) -> Any:
    """``fit.png``: drive, read-out data and fit, residual, each in the engineering unit its
    data needs (read-out and residual in the read-out's unit), under one title."""
    from spinspice.figures import display_unit, prefix_scale

    t = np.asarray(series["time_s"], float)
    t_scale, t_unit = prefix_scale(float(np.max(np.abs(t))), "s")
    tt = t * t_scale
    drive, readout, fit = (np.asarray(series[k], float) for k in ("drive", "readout", "fit"))
    residual = readout - fit
    drive_name, _, drive_unit = report["trace"]["drive"].partition(" [")
    drive_unit = drive_unit.rstrip("]")
    readout_name = report["trace"]["readout"].partition(" [")[0]
    unit = report["goodness"]["unit"]
    d_scale, d_unit = prefix_scale(float(np.max(np.abs(drive))), drive_unit)
    r_scale, r_unit = prefix_scale(float(np.max(np.abs(np.concatenate([readout, fit])))), unit)
    e_scale, e_unit = prefix_scale(float(np.max(np.abs(residual))), unit)
    plt = _pyplot()
    fig, (ax0, ax1, ax2) = plt.subplots(
        3,
        1,
        figsize=(7.5, 6.8),
        sharex=True,
        gridspec_kw={"height_ratios": [1, 2.2, 1]},
        layout="constrained",
    )
    ax0.plot(tt, drive * d_scale, lw=0.8, color="gray")
    ax0.set_ylabel(f"drive ({d_unit})")
    ax1.plot(tt, readout * r_scale, ".", ms=2, label="data", color="tab:blue")
    ax1.plot(tt, fit * r_scale, "-", lw=1.2, label="fit", color="tab:red")
    ax1.set_ylabel(f"read-out ({r_unit})")
    ax1.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False, borderaxespad=0)
    ax2.plot(tt, residual * e_scale, lw=0.6, color="k")
    ax2.axhline(0.0, color="tab:red", lw=0.6, ls=":")
    ax2.set_ylabel(f"residual ({e_unit})")
    ax2.set_xlabel(f"time ({t_unit})")
    for ax in (ax0, ax1, ax2):
        ax.grid(alpha=0.3)
    g = report["goodness"]
    fig.suptitle(
        f"{report['model']} ({report.get('preset') or 'default'}): fit to "
        f"{Path(report['trace']['path'] or 'trace').name}\n{drive_name} → {readout_name}; "
        f"$R^2$ = {g['r2']:.5f}, RMSE = {eng(g['rmse'], display_unit(unit), 3)}",
        fontsize=10,
    )
    fig.align_ylabels((ax0, ax1, ax2))
    return fig


def write_calibration(report: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """``fit.json`` (report), ``params.json`` (fitted parameter file), ``fit.md``, ``fit.png``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    series = report.pop("series")
    save_figure(_fit_figure(report, series), out_dir / "fit.png")
    report["files"] = dict(FILES)
    atomic_write_json(
        out_dir / "params.json",
        {
            "schema": "spinspice.params",
            "schema_version": 1,
            "model": report["model"],
            "preset": report["preset"],
            "params": report["params"],
            "fitted": report["free"],
        },
    )
    atomic_write_json(out_dir / "fit.json", report)
    g = report["goodness"]
    lines = [
        f"# spinspice calibration of {report['model']}",
        "",
        f"Trace: `{report['trace']['path']}` ({report['trace']['n_samples']} samples); "
        f"drive {report['trace']['drive']}, readout {report['trace']['readout']}.",
        "",
        "| parameter | unit | start | fitted | 1-sigma | truth |",
        "|---|---|---|---|---|---|",
    ]
    truth = report["true_params"] or {}
    for n in report["free"]:
        se = report["stderr"].get(n)
        lines.append(
            f"| {n} | {report['units'][n]} | {report['initial'][n]:.6g} | {report['fitted'][n]:.6g} | "
            + ("n/a" if se is None else f"{se:.2g}")
            + " | "
            + (f"{truth[n]:.6g}" if n in truth else "")
            + " |"
        )
    lines += [
        "",
        f"R^2 = {g['r2']:.6f}; RMSE = {g['rmse']:.4g} {g['unit']} "
        f"({g['rmse_over_span'] * 100:.3f} % of the span; "
        f"{g['initial_rmse']:.4g} before fitting); largest residual {g['max_abs_residual']:.4g} {g['unit']}.",
        f"Optimizer: {report['optimizer']['message']} ({report['optimizer']['model_runs']} model runs, "
        f"{report['optimizer']['wall_s']:.1f} s).",
        "",
        "`params.json` holds every parameter of the model with the fitted ones replaced; pass it to "
        "`spinspice neuron --model "
        + report["model"]
        + " --param-file params.json` to simulate the circuit.",
        "",
    ]
    atomic_write_text(out_dir / "fit.md", "\n".join(lines))
    return report


@dataclasses.dataclass(repr=False, eq=False)
class CalibrationResult(StudyResult):
    """A fit of a model to a trace: :attr:`fit` is :func:`calibrate`'s report (with the
    data and fitted ``series``).  Files: ``fit.json`` (schema ``spinspice.calibration``),
    ``params.json`` (the fitted parameter file), ``fit.md`` and ``fit.png``."""

    fit: dict[str, Any]
    seed: int = 0

    def report(self) -> dict[str, Any]:
        report = {k: v for k, v in self.fit.items() if k != "series"}
        return {**report, "seed": self.seed, "files": dict(FILES)}

    def summary(self) -> str:
        r = self.fit
        g = r["goodness"]
        lines = [
            f"{n} = {r['fitted'][n]:.6g} {r['units'][n]}"
            + ("" if r["stderr"][n] is None else f" +- {r['stderr'][n]:.2g}")
            + f" (start {r['initial'][n]:.6g})"
            for n in r["free"]
        ]
        prefixed = g["unit"] in ("V", "A", "ohm")  # not composite units (1/s, A/m^2)
        rmse = eng(g["rmse"], g["unit"]) if prefixed else f"{g['rmse']:.4g} {g['unit']}"
        lines.append(f"R^2 = {g['r2']:.6f}, RMSE = {rmse} ({g['rmse_over_span'] * 100:.3f} % of span)")
        if self.out is not None:
            lines.append(f"fitted parameter file: {self.out / 'params.json'}; report: {self.out / 'fit.md'}")
        return "\n".join(lines)

    def _write_files(self, folder: Path) -> None:
        write_calibration({**self.fit, "seed": self.seed}, folder)


def run_calibration(
    model: str,
    data: str | Path | Trace,
    preset: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    free: Sequence[str] | None = None,
    starts: int | None = None,
    max_evaluations: int = 400,
    seed: int = 0,
    out: str | Path | None = None,
    progress: Any = None,
) -> CalibrationResult:
    """Fit the ``free`` parameters of ``model`` (default: its trace model's) to a trace
    (``spinspice calibrate``).

    ``data``: a CSV trace (``time_s,drive,readout``), a :class:`Trace`, or
    ``"example"`` for the shipped one; the fit starts from ``preset`` (default:
    the model's first) with ``params`` (SI values or text) applied; ``starts``
    quasi-random global starts (default: the model's), ``max_evaluations`` model
    runs per local fit; ``progress``: a rich progress display or None.
    ``out``: also write the files there.
    """
    seed_all(seed)
    from spinspice.circuits.registry import get_model

    get_model(model)
    tm = get_trace_model(model)
    base, preset_name = base_params(model, preset)
    overrides = dict(params or {})
    if overrides:
        sets = tm.param_sets(base, {})
        owner = {n: k for k, ps in sets.items() for n in ps.param_names()}
        for name in overrides:
            if name not in owner:
                tm.param_sets(base, {name: 0.0})  # unknown name: raises with a suggestion
        base = tuple(
            ps.with_text({n: v for n, v in overrides.items() if owner[n] == k}) for k, ps in sets.items()
        )
    if max_evaluations < 1:
        raise ModelParameterError("--max-evaluations must be at least 1")
    if starts is not None and starts < 0:
        raise ModelParameterError("--starts must be >= 0")
    if isinstance(data, Trace):
        trace = data
    else:
        trace = load_trace(example_path(model) if isinstance(data, str) and data == "example" else Path(data))
    with displayed(progress) as shown:
        fit = calibrate(
            model,
            base,
            trace,
            list(free) if free else None,
            max_evaluations=max_evaluations,
            starts=starts,
            seed=seed,
            preset=preset_name,
            progress=shown,
        )
        return CalibrationResult(fit, seed)._publish(out)


def read_param_file(path: str | Path, model: str) -> dict[str, Any]:
    """Parameters from a ``params.json`` written by :func:`write_calibration` (or a flat
    ``{name: value}`` JSON object), checked to belong to ``model``."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"parameter file {p} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"parameter file {p} is not readable JSON: {err}") from None
    if not isinstance(doc, dict):
        raise DataError(f"parameter file {p}: expected a JSON object")
    if "params" in doc:
        if doc.get("model") not in (None, model):
            raise DataError(f"parameter file {p} is for model {doc.get('model')!r}, not {model!r}")
        doc = doc["params"]
    if not isinstance(doc, dict) or not all(
        isinstance(v, (int, float, bool, str)) and not isinstance(v, dict) for v in doc.values()
    ):
        raise DataError(f"parameter file {p}: 'params' must map names to numbers")
    return dict(doc)


# --- example traces -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Example:
    """Recipe of a shipped example trace: drive, sampling, generating parameters, noise."""

    model: str
    drive: Any  # PulseTrain or a list of (time, value) knots
    t_stop_s: float
    dt_s: float
    truth: Mapping[str, float]
    noise: float
    note: str


def _knots_drive(knots: Sequence[tuple[float, float]], t: np.ndarray) -> np.ndarray:
    kt, kv = zip(*knots, strict=True)
    return np.interp(t, kt, kv)


def _cogd_knots() -> list[tuple[float, float]]:
    knots, t = [(0.0, 0.0)], 0.0
    for x in (8e-3, 11e-3, 14e-3, 17e-3, 20e-3, 24e-3):
        for amp in (-30e-3, x):  # RESET then SET (paper 003 Fig. 4 protocol)
            knots += [(t + 2e-3, 0.0), (t + 2.2e-3, amp), (t + 7.2e-3, amp), (t + 7.4e-3, 0.0)]
            t += 9e-3
    return knots


EXAMPLES: dict[str, Example] = {
    e.model: e
    for e in (
        Example(
            "dw-lif",
            PulseTrain(t_on_s=1e-9, t_off_s=1e-9, t_edge_s=100e-12, amplitude=1e11, n_pulses=8),
            40e-9,
            20e-12,
            {"gamma_m2_per_a_s": 1.2468e-3, "beta_per_s": -8e6},
            5e-5,
            "8 pulses of 1 ns at 1e11 A/m^2 (500 MHz), then leak; 50 uV read noise",
        ),
        Example(
            "field-gated-lif",
            PulseTrain(t_on_s=500e-6, t_off_s=500e-6, t_edge_s=5e-6, amplitude=6e10, n_pulses=10),
            20e-3,
            10e-6,
            {"gamma_m2_per_a_s": 2.2695e-9, "beta_per_s": -30.0},
            3e-7,
            "10 pulses of 500 us at 13 mA (6e10 A/m^2) under 200 Oe, then leak; 0.3 uV Hall noise",
        ),
        Example(
            "saf-lif",
            PulseTrain(t_on_s=100e-6, t_off_s=100e-6, t_edge_s=1e-6, amplitude=1e-3, n_pulses=20),
            15e-3,
            5e-6,
            {"tau_int_s": 2.4e-3, "tau_leak_s": 3.9e-3, "v_reset_v": 176e-6},
            1e-6,
            "20 SOT pulses of 100 us at 1 mA, then SAF self-reset; 1 uV Hall noise",
        ),
        Example(
            "dw-mtj-autoreset",
            PulseTrain(t_on_s=40e-9, t_off_s=60e-9, t_edge_s=10e-9, amplitude=1e11, n_pulses=30),
            3.5e-6,
            2e-9,
            {"p_spin": 0.63, "r_ap_b_ohm": 2050.0},
            5.0,
            "30 pulses of 50 ns (10 ns edges) at 1e11 A/m^2, no velocity noise; 5 ohm read noise",
        ),
        Example(
            "cogd-sigmoid",
            _cogd_knots(),
            54e-3 * 2,
            50e-6,
            {"x0_a": 15.4e-3, "k_a": 2.125e-3, "tau_sw_s": 1.3e-3},
            0.01,
            "RESET (-30 mA) / SET (8-24 mA) pairs of 5 ms pulses; 10 mOhm Hall noise",
        ),
        Example(
            "lif",
            PulseTrain(t_on_s=1e-9, t_off_s=1e-9, t_edge_s=100e-12, amplitude=7.5e-6, n_pulses=20),
            80e-9,
            20e-12,
            {"beta": 0.8, "c_mem_f": 130e-15},
            1e-3,
            "20 current pulses of 1 ns at 7.5 uA, then leak; 1 mV noise",
        ),
    )
}


def example_path(model: str) -> Path:
    """Path of the shipped example trace of ``model`` (inside the installed package)."""
    return Path(__file__).resolve().parent.parent / "data" / "calibration" / f"{model}.csv"


def make_example(model: str, base: Sequence[ParamSet], *, seed: int = 0) -> Trace:
    """The example trace of ``model``: generating parameters ``EXAMPLES[model].truth`` on top of
    ``base`` (the model's default preset), integrated tightly, plus Gaussian read-out noise."""
    ex = EXAMPLES[model]
    tm = get_trace_model(model)
    truth = dict(ex.truth)
    n = round(ex.t_stop_s / ex.dt_s) + 1
    t = np.linspace(0.0, ex.t_stop_s, n)
    drive = ex.drive.value(t) if isinstance(ex.drive, PulseTrain) else _knots_drive(ex.drive, t)
    clean = simulate_trace(tm, base, truth, t, drive, rtol=1e-10)
    noisy = clean + np.random.default_rng(seed).normal(0.0, ex.noise, n)
    meta = {
        "model": model,
        "generated_by": f"spinspice {__version__} (spinspice.experiments.calibrate.make_example)",
        "protocol": ex.note,
        "true_params": truth,
        "noise_std": ex.noise,
        "seed": seed,
        "drive": f"{tm.drive} [{tm.drive_unit}]",
        "readout": f"{tm.readout} [{tm.readout_unit}]",
    }
    return Trace(t, np.asarray(drive, float), noisy, meta)
