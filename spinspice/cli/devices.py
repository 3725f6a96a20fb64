"""Device commands: models, neuron, stdp, fieldmap, distribution, calibrate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from spinspice.cli._common import *  # noqa: F403
from spinspice.cli._common import _emit, _progress, _seed
from spinspice.errors import ModelParameterError
from spinspice.io import atomic_write_json, staged_output
from spinspice.units import parse_value


# -- models -------------------------------------------------------------------------
def _param_line(p: dict[str, Any]) -> str:
    d = p["default"]
    text = f"{d:.6g}" if isinstance(d, float) else str(d)
    return f"    {p['name']:<22} {text:>12} {p['unit']:<10} {p['range']:<18} {p['source']}"


@app.command()
def models(
    name: Annotated[str | None, typer.Argument(help="show only this model")] = None,
    json_out: JsonOpt = False,
    out: Annotated[Path | None, typer.Option("--out", help="also write models.json here")] = None,
    seed: SeedOpt = 0,
) -> None:
    """List the device models, their presets and every parameter (name, unit, default, range, source)."""
    from spinspice.circuits.registry import catalog, get_model

    listing = catalog()
    if name is not None:
        get_model(name)
        listing = [m for m in listing if m["name"] == name]
    report = {"models": listing}
    if out is not None:
        with staged_output(out) as stage:
            atomic_write_json(stage / "models.json", report)
    lines = []
    for m in listing:
        kind = "spiking neuron" if m["spiking"] else "non-spiking"
        lines.append(f"{m['name']:<18} {m['title']} [{m['source']}; {kind}]")
        if m["presets"]:
            lines.append(f"  presets: {', '.join(m['presets'])} (defaults below are {m['presets'][0]}'s)")
        lines.append("  device parameters:")
        lines += [_param_line(p) for p in m["parameters"]]
        if m["circuit_parameters"]:
            lines.append("  circuit parameters:")
            lines += [_param_line(p) for p in m["circuit_parameters"]]
    _emit(report, json_out, "\n".join(lines))


# -- neuron ------------------------------------------------------------------------
#: drive settings ``neuron`` also takes as ``--param NAME=VALUE`` (with or without the unit suffix)
_DRIVE_PARAMS = {
    "t_on": ("t_on", "t_on_s"),
    "t_off": ("t_off", "t_off_s"),
    "t_edge": ("t_edge", "t_edge_s"),
    "j_write": ("j_write", "j_write_a_per_m2"),
    "i_write": ("i_write", "i_write_a"),
}


def _drive_from_options(
    cell: Any,
    t_on: str | None,
    t_off: str | None,
    j_write: str | None,
    i_write: str | None,
    t_edge: str | None,
) -> Any:
    """The model's default drive with the user's overrides applied."""
    changes: dict[str, float] = {}
    if t_on is not None:
        changes["t_on_s"] = parse_value(t_on, "s", name="t_on")
    if t_off is not None:
        changes["t_off_s"] = parse_value(t_off, "s", name="t_off")
    if t_edge is not None:
        changes["t_edge_s"] = parse_value(t_edge, "s", name="t_edge")
    if j_write is not None and i_write is not None:
        raise ModelParameterError("give --j-write or --i-write, not both")
    if j_write is not None:
        if cell.drive_quantity != "j":
            raise ModelParameterError(
                f"model {cell.model} is driven by a current: use --i-write (A), not --j-write"
            )
        changes["amplitude"] = parse_value(j_write, "A/m^2", name="j_write")
    if i_write is not None:
        if cell.drive_quantity != "i":
            raise ModelParameterError(
                f"model {cell.model} is driven by a current density: use --j-write (A/m^2), not --i-write"
            )
        changes["amplitude"] = parse_value(i_write, "A", name="i_write")
    drive = cell.default_drive()
    if "t_on_s" in changes and "t_edge_s" not in changes:
        changes["t_edge_s"] = min(drive.t_edge_s, changes["t_on_s"] / 10)
    return drive.replace(**changes)


@app.command()
def neuron(
    model: Annotated[str, typer.Option(help="device model (see `spinspice models`)")] = "dw-lif",
    preset: Annotated[
        str | None, typer.Option(help="documented parameter set (default: the model's first)")
    ] = None,
    t_on: Annotated[str | None, typer.Option("--t-on", help="write pulse ON time (default: model's)")] = None,
    t_off: Annotated[str | None, typer.Option("--t-off", help="OFF time between pulses")] = None,
    j_write: Annotated[str | None, typer.Option("--j-write", help="write current density, A/m^2")] = None,
    i_write: Annotated[
        str | None, typer.Option("--i-write", help="write current, A (current-driven models)")
    ] = None,
    t_edge: Annotated[str | None, typer.Option("--t-edge", help="pulse rise/fall time")] = None,
    duration: Annotated[
        str | None, typer.Option("--duration", help="simulated time (default: model's)")
    ] = None,
    param: ParamOpt = None,
    param_file: Annotated[
        Path | None,
        typer.Option("--param-file", help="params.json from `spinspice calibrate` (applied before --param)"),
    ] = None,
    backend: Annotated[str, typer.Option(help="shared (in-process) or batch (ngspice -b)")] = "shared",
    sweep_t_off: Annotated[
        str | None, typer.Option("--sweep-t-off", help="comma list of OFF times: latency vs frequency")
    ] = None,
    sweep_j_write: Annotated[
        str | None, typer.Option("--sweep-j-write", help="comma list of J values: rate vs current")
    ] = None,
    sweep_i_write: Annotated[
        str | None, typer.Option("--sweep-i-write", help="comma list of currents (current-driven models)")
    ] = None,
    no_reference: Annotated[bool, typer.Option("--no-reference", help="skip the scipy reference")] = False,
    timeout: Annotated[float | None, typer.Option(help="per-simulation timeout, s")] = None,
    out: OutOpt = Path("results/neuron"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Simulate one neuron cell driven by write pulses; netlist, waveforms, plot, report."""
    from spinspice.circuits.registry import get_cell, get_model

    _seed(seed)
    spec = get_model(model)
    settings: dict[str, Any] = {}
    if param_file is not None:
        from spinspice.experiments.calibrate import read_param_file

        settings.update(read_param_file(param_file, model))
    settings.update(parse_params(param))
    if not spec.spiking:
        if model == "cogd-sigmoid":
            _cogd_activation(settings, t_on, t_off, t_edge, sweep_i_write, backend, out, json_out, seed)
            return
        raise ModelParameterError(
            f"{model} is not a neuron model (it does not spike); `spinspice models` marks the spiking ones"
        )
    cell, preset_name = get_cell(model, preset)
    # drive settings may come as --param too (t_on=1n is --t-on 1n); an explicit option wins
    drive_text = {
        key: settings.pop(name) for key, names in _DRIVE_PARAMS.items() for name in names if name in settings
    }
    cell = cell.with_text(settings)
    drive = _drive_from_options(
        cell,
        t_on if t_on is not None else drive_text.get("t_on"),
        t_off if t_off is not None else drive_text.get("t_off"),
        j_write if j_write is not None else drive_text.get("j_write"),
        i_write if i_write is not None else drive_text.get("i_write"),
        t_edge if t_edge is not None else drive_text.get("t_edge"),
    )
    duration_s = (
        parse_value(duration, "s", name="duration")
        if duration is not None
        else cell.default_duration_s(drive)
    )
    if not duration_s > 0:
        raise ModelParameterError(f"duration = {duration_s:g} s is outside its allowed range (0, inf) s")
    sweeps = {k: v for k, v in (("t_off_s", sweep_t_off), ("j", sweep_j_write), ("i", sweep_i_write)) if v}
    if len(sweeps) > 1:
        raise ModelParameterError("give one of --sweep-t-off, --sweep-j-write, --sweep-i-write, not both")
    common = dict(
        backend=backend, reference=not no_reference, preset=preset_name, timeout_s=timeout, seed=seed
    )
    if sweeps:
        from spinspice.experiments.neuron_sweep import run_neuron_sweep

        ((kind, text),) = sweeps.items()
        if kind == "t_off_s":
            name, values = "t_off_s", parse_list(text, "s", "--sweep-t-off")
        else:
            _drive_from_options(
                cell,
                None,
                None,
                text.split(",")[0] if kind == "j" else None,
                text.split(",")[0] if kind == "i" else None,
                None,
            )
            unit = "A/m^2" if kind == "j" else "A"
            name, values = "amplitude", parse_list(text, unit, f"--sweep-{kind}-write")
        with staged_output(out) as stage, _progress() as progress:
            report = run_neuron_sweep(
                cell, drive, duration_s, name, values, stage, progress=progress, **common
            )
        summary = (
            "\n".join(
                f"{name} = {p['value']:.4g}: {p['n_spikes']} spikes, latency "
                + (
                    "n/a"
                    if p["first_spike_latency_s"] is None
                    else f"{p['first_spike_latency_s'] * 1e9:.3f} ns"
                )
                + ", rate "
                + ("n/a" if p["spike_rate_hz"] is None else f"{p['spike_rate_hz'] / 1e6:.4g} MHz")
                for p in report["points"]
            )
            + f"\nreport: {out / 'sweep.json'}"
        )
        _emit(report, json_out, summary)
        return

    from spinspice.experiments.neuron import run_neuron
    from spinspice.experiments.neuron_report import write_neuron_outputs

    with staged_output(out) as stage:
        result = run_neuron(cell, drive, duration_s, netlist_path=out / "netlist.cir", **common)
        report = write_neuron_outputs(result, stage)
    _emit(report, json_out, _neuron_summary(report, out))


def _neuron_summary(r: dict[str, Any], out: Path) -> str:
    lat = r["first_spike_latency_s"]
    err = r["max_spike_time_error_s"]
    e = r["energy_per_spike_j"]
    return "\n".join(
        [
            f"{r['n_spikes']} spikes; first-spike latency "
            + ("n/a" if lat is None else f"{lat * 1e9:.3f} ns")
            + "; max error vs scipy reference "
            + ("n/a" if err is None else f"{err * 1e12:.1f} ps over {r['n_spikes_compared']} spikes"),
            "energy per spike "
            + ("n/a" if e is None else f"{e * 1e12:.3f} pJ")
            + " ("
            + ", ".join(f"{t['component']} {t['fraction'] * 100:.0f}%" for t in r["dominant_energy_terms"])
            + ")",
            f"report: {out / 'report.md'}",
        ]
    )


# -- Co/Gd (paper 003) ---------------------------------------------------------------
def _cogd_activation(
    settings: dict[str, Any],
    t_on: str | None,
    t_off: str | None,
    t_edge: str | None,
    sweep_i_write: str | None,
    backend: str,
    out: Path,
    json_out: bool,
    seed: int,
) -> None:
    """``spinspice neuron --model cogd-sigmoid``: the sigmoid activation Y(X) of the device."""
    from spinspice.experiments.cogd import ActivationTiming, activation_curve, write_activation
    from spinspice.models.cogd import CoGdParams

    p = CoGdParams().with_text(settings)
    timing = ActivationTiming()
    changes = {
        k: parse_value(v, "s", name=n)
        for k, v, n in (
            ("t_pulse_s", t_on, "t_on"),
            ("t_gap_s", t_off, "t_off"),
            ("t_edge_s", t_edge, "t_edge"),
        )
        if v is not None
    }
    if changes:
        import dataclasses

        timing = dataclasses.replace(timing, **changes)
    xs = (
        parse_list(sweep_i_write, "A", "--sweep-i-write")
        if sweep_i_write
        else list(np.linspace(p.x0_a - 4 * p.k_a, p.x0_a + 4 * p.k_a, 17))
    )
    with staged_output(out) as stage:
        report = activation_curve(p, xs, timing=timing, backend=backend)
        report["seed"] = seed
        report = write_activation(report, stage)
    fit = report["fit"]
    _emit(
        report,
        json_out,
        f"Co/Gd sigmoid neuron: {len(xs)} SET currents; sigmoid fitted to the circuit X0 = "
        f"{fit['x0_a'] * 1e3:.3f} mA, K = {fit['k_a'] * 1e3:.3f} mA; max |circuit - reference| = "
        f"{report['max_error_vs_reference']:.2e}\nreport: {out / 'report.md'}",
    )


@app.command()
def stdp(
    dt: Annotated[
        str, typer.Option("--dt", help="post - pre delays: comma list or START:STOP:STEP (s, SI suffixes)")
    ] = "-12m:12m:1m",
    param: ParamOpt = None,
    backend: Annotated[str, typer.Option(help="shared or batch")] = "shared",
    out: OutOpt = Path("results/stdp"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """STDP window of the Co/Gd multilevel synapse from pre/post spike-pair waveforms (paper 003 Fig. 3d)."""
    from spinspice.experiments.cogd import stdp_window, write_stdp
    from spinspice.models.cogd import CoGdParams

    _seed(seed)
    p = CoGdParams().with_text(parse_params(param))
    dts = parse_grid(dt, "s", "--dt")
    with staged_output(out) as stage:
        report = stdp_window(p, dts, backend=backend)
        report["seed"] = seed
        report = write_stdp(report, stage)
    dw = np.asarray(report["dw_circuit"])
    k = int(np.argmax(np.abs(dw)))
    _emit(
        report,
        json_out,
        f"STDP window over {len(dts)} delays: largest |dw| = {abs(dw[k]):.3f} "
        f"at dt = {dts[k] * 1e3:+.2f} ms; "
        f"max |circuit - reference| = {report['max_error_vs_reference']:.2e}\nreport: {out / 'report.md'}",
    )


# -- field-gated mem-transistor (paper 001 Fig. 3) -------------------------------------
@app.command()
def fieldmap(
    preset: Annotated[str | None, typer.Option(help="field-gated-lif preset (default: its first)")] = None,
    currents: Annotated[str, typer.Option(help="write currents, comma list (A)")] = "6m,8m,10m,15m",
    fields: Annotated[
        str, typer.Option(help="bias fields: START:STOP:STEP or comma list (Oe)")
    ] = "-500:500:10",
    pulses: Annotated[int, typer.Option(help="write pulses per map column")] = 20,
    circuit_fields: Annotated[
        str, typer.Option(help="fields re-simulated in ngspice at the largest current ('' for none)")
    ] = "200,-200,0",
    param: ParamOpt = None,
    backend: Annotated[str, typer.Option(help="shared or batch")] = "shared",
    out: OutOpt = Path("results/fieldmap"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Read-out heat maps vs bias field and pulse number for several write currents (paper 001 Fig. 3c-f)."""
    from spinspice.circuits.registry import get_cell
    from spinspice.experiments.fieldmap import field_map, write_field_map

    _seed(seed)
    cell, preset_name = get_cell("field-gated-lif", preset)
    cell = cell.with_text(parse_params(param))
    if pulses < 1:
        raise ModelParameterError("--pulses must be at least 1")
    checks = parse_list(circuit_fields, "Oe", "--circuit-fields") if circuit_fields.strip() else []
    with staged_output(out) as stage, _progress() as progress:
        report = field_map(
            cell,
            cell.default_drive(),
            parse_list(currents, "A", "--currents"),
            parse_grid(fields, "Oe", "--fields"),
            pulses,
            circuit_fields_oe=checks,
            backend=backend,
            progress=progress,
            preset=preset_name,
        )
        report["seed"] = seed
        report = write_field_map(report, stage)
    lines = [
        f"{p['i_write_a'] * 1e3:g} mA: max change "
        + (
            "n/a"
            if p["max_swing_v"] is None
            else f"{p['max_swing_v'] * 1e6:.2f} uV at {p['field_of_max_swing_oe']:g} Oe"
        )
        + ", excitatory range "
        + (
            "none"
            if p["excitatory_range_oe"] is None
            else "{:g} to {:g} Oe".format(*p["excitatory_range_oe"])
        )
        for p in report["per_current"]
    ]
    if report["max_circuit_error_v"] is not None:
        lines.append(f"ngspice check: max |circuit - model| = {report['max_circuit_error_v'] * 1e9:.2f} nV")
    lines.append(f"report: {out / 'fieldmap.md'}")
    _emit(report, json_out, "\n".join(lines))


# -- stochastic pulse counts (paper 004 Fig. 5) ---------------------------------------
@app.command()
def distribution(
    model: Annotated[str, typer.Option(help="stochastic neuron model")] = "dw-mtj-autoreset",
    preset: Annotated[
        list[str] | None, typer.Option(help="preset (repeatable; default: every preset of the model)")
    ] = None,
    n_torch: Annotated[int, typer.Option("--n-torch", help="seeded runs of the torch stepper")] = 500,
    n_circuit: Annotated[int, typer.Option("--n-circuit", help="seeded ngspice runs (the first seeds)")] = 50,
    max_pulses: Annotated[int, typer.Option("--max-pulses", help="give up after this many pulses")] = 200,
    workers: Annotated[int, typer.Option(help="parallel ngspice processes (batch backend)")] = 2,
    backend: Annotated[str, typer.Option(help="batch (parallel) or shared")] = "batch",
    param: ParamOpt = None,
    timeout: Annotated[float | None, typer.Option(help="per-simulation timeout, s")] = None,
    out: OutOpt = Path("results/distribution"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Pulse-count-to-fire histograms from seeded torch and ngspice runs (paper 004 Fig. 5a-b)."""
    from spinspice.circuits.registry import PRESETS, get_cell, get_model
    from spinspice.experiments.distribution import pulse_count_distribution, write_distribution

    _seed(seed)
    get_model(model)
    get_cell(model)
    names = preset or list(PRESETS[model])
    reports = []
    with staged_output(out) as stage, _progress() as progress:
        for name in names:
            cell, _ = get_cell(model, name)
            cell = cell.with_text(parse_params(param))
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
                    timeout_s=timeout,
                    progress=progress,
                    preset=name,
                )
            )
        summary = write_distribution(reports, stage)
    lines = [
        f"{r['preset']}: torch {r['torch']['mean_pulses']:.2f} +- {r['torch']['std_pulses']:.2f} pulses "
        f"({r['torch']['n_runs']} runs), ngspice {r['circuit']['mean_pulses']:.2f} +- "
        f"{r['circuit']['std_pulses']:.2f} ({r['circuit']['n_runs']} runs), same count for "
        f"{r['same_count_fraction'] * 100:.0f} % of seeds"
        for r in reports
    ]
    _emit(summary, json_out, "\n".join([*lines, f"report: {out / 'distribution.md'}"]))


# -- calibrate -----------------------------------------------------------------------
@app.command()
def calibrate(
    model: Annotated[str, typer.Argument(help="model to fit (see `spinspice models`)")],
    data: Annotated[
        str, typer.Argument(help="CSV trace with columns time_s,drive,readout; 'example' for the shipped one")
    ],
    preset: Annotated[
        str | None, typer.Option(help="preset to start from (default: the model's first)")
    ] = None,
    free: Annotated[
        str | None, typer.Option(help="comma list of parameters to fit (default: the model's)")
    ] = None,
    param: ParamOpt = None,
    starts: Annotated[
        int | None, typer.Option(help="quasi-random global starts before the local fits (default: model's)")
    ] = None,
    max_evaluations: Annotated[
        int, typer.Option("--max-evaluations", help="model runs per local fit, at most")
    ] = 400,
    out: OutOpt = Path("results/calibrate"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Fit a model's free parameters to a measured or simulated trace (scipy least squares)."""
    from spinspice.circuits.registry import get_model
    from spinspice.experiments.calibrate import base_params, example_path, load_trace, write_calibration
    from spinspice.experiments.calibrate import calibrate as fit_trace
    from spinspice.models.traces import get_trace_model

    _seed(seed)
    get_model(model)
    tm = get_trace_model(model)
    base, preset_name = base_params(model, preset)
    overrides = parse_params(param)
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
    trace = load_trace(example_path(model) if data == "example" else Path(data))
    names = [n.strip() for n in free.split(",") if n.strip()] if free else None
    with staged_output(out) as stage, _progress() as progress:
        report = fit_trace(
            model,
            base,
            trace,
            names,
            max_evaluations=max_evaluations,
            starts=starts,
            seed=seed,
            preset=preset_name,
            progress=progress,
        )
        report["seed"] = seed
        report = write_calibration(report, stage)
    g = report["goodness"]
    lines = [
        f"{n} = {report['fitted'][n]:.6g} {report['units'][n]}"
        + ("" if report["stderr"][n] is None else f" +- {report['stderr'][n]:.2g}")
        + f" (start {report['initial'][n]:.6g})"
        for n in report["free"]
    ]
    lines.append(
        f"R^2 = {g['r2']:.6f}, RMSE = {g['rmse']:.4g} {g['unit']} ({g['rmse_over_span'] * 100:.3f} % of span)"
    )
    lines.append(f"fitted parameter file: {out / 'params.json'}; report: {out / 'fit.md'}")
    _emit(report, json_out, "\n".join(lines))


