"""Command line interface (console script ``spinspice``).

Conventions shared by every command (SPEC section 2): ``--out DIR`` (created,
results written atomically: a failed run leaves nothing behind), ``--json``
(prints the report JSON on stdout), ``--seed``, progress on stderr for long
work, and on error a non-zero exit with a one-line cause.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from spinspice import __version__
from spinspice.errors import ModelParameterError, SimulationError, SpinspiceError
from spinspice.io import atomic_write_json, atomic_write_text, report_header, staged_output, to_jsonable
from spinspice.units import parse_value

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="spinspice: spintronic spiking neural networks as ngspice circuits.",
    pretty_exceptions_enable=False,
)

OutOpt = Annotated[Path, typer.Option("--out", help="output folder (created; written atomically)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the report JSON on stdout")]
SeedOpt = Annotated[int, typer.Option("--seed", help="random seed (recorded in the report)")]
ResumeOpt = Annotated[
    bool,
    typer.Option("--resume", help="complete the run journalled in --out: only missing or failed jobs run"),
]
FreshOpt = Annotated[
    bool, typer.Option("--fresh", help="discard the jobs journalled in --out and start over")
]
JobTimeoutOpt = Annotated[
    float | None, typer.Option("--job-timeout", help="seconds one ngspice run may take (default: none)")
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="NAME=VALUE, SI suffixes accepted (repeatable)"),
]
CheckpointArg = Annotated[Path, typer.Argument(help="a checkpoint written by train or import-snntorch")]
CkDatasetOpt = Annotated[str | None, typer.Option(help="data set (default: the checkpoint's)")]
WorkersOpt = Annotated[
    int, typer.Option(help="local processes running the ngspice jobs (0: one per CPU core)")
]
SchedulerOpt = Annotated[
    str | None, typer.Option(help="address of a dask.distributed scheduler that runs the jobs instead")
]


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2**32))


def parse_params(pairs: Sequence[str] | None) -> dict[str, str]:
    """``["a=1n", "b=2"]`` -> ``{"a": "1n", "b": "2"}`` with clear errors."""
    out: dict[str, str] = {}
    for item in pairs or []:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ModelParameterError(f"--param {item!r}: write NAME=VALUE, e.g. --param m_th=0.7")
        if name in out:
            raise ModelParameterError(f"--param {name!r} given twice")
        out[name] = value
    return out


def parse_list(text: str, unit: str | None, name: str) -> list[float]:
    values = [parse_value(v, unit, name=name) for v in text.split(",") if v.strip()]
    if not values:
        raise ModelParameterError(f"{name}: give a comma-separated list of values")
    return values


def _emit(report: dict[str, Any], as_json: bool, summary: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(to_jsonable(report), indent=2) + "\n")
    else:
        sys.stdout.write(summary + "\n")


def _progress() -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"spinspice {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="print the version and exit", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """spinspice: spintronic spiking neural networks as ngspice circuits."""


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
    from spinspice.circuits.neurons import catalog
    from spinspice.models.registry import get_model

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
    from spinspice.circuits.neurons import get_cell
    from spinspice.models.registry import get_model

    _seed(seed)
    spec = get_model(model)
    settings: dict[str, Any] = {}
    if param_file is not None:
        from spinspice.cosim.calibrate import read_param_file

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
        from spinspice.cosim.neuron_sweep import run_neuron_sweep

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

    from spinspice.cosim.neuron import run_neuron
    from spinspice.cosim.neuron_report import write_neuron_outputs

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


def parse_grid(text: str, unit: str | None, name: str) -> list[float]:
    """``"a,b,c"`` or ``"start:stop:step"`` (stop included) -> values, SI suffixes accepted."""
    if ":" not in text:
        return parse_list(text, unit, name)
    parts = text.split(":")
    if len(parts) != 3:
        raise ModelParameterError(f"{name}: write START:STOP:STEP, e.g. -500:500:10")
    start, stop, step = (parse_value(v, unit, name=name) for v in parts)
    if step <= 0 or stop < start:
        raise ModelParameterError(f"{name}: need STEP > 0 and STOP >= START")
    n = round((stop - start) / step) + 1
    if n > 100_000:
        raise ModelParameterError(f"{name}: {n} points is too many (at most 100000)")
    return [start + k * step for k in range(n)]


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
    from spinspice.cosim.cogd import ActivationTiming, activation_curve, write_activation
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
    from spinspice.cosim.cogd import stdp_window, write_stdp
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
    from spinspice.circuits.neurons import get_cell
    from spinspice.cosim.fieldmap import field_map, write_field_map

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
    from spinspice.circuits.neurons import NEURON_CELLS, get_cell
    from spinspice.cosim.distribution import pulse_count_distribution, write_distribution
    from spinspice.models.registry import get_model

    _seed(seed)
    get_model(model)
    get_cell(model)
    names = preset or list(NEURON_CELLS[model].presets)
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
    from spinspice.cosim.calibrate import base_params, example_path, load_trace, write_calibration
    from spinspice.cosim.calibrate import calibrate as fit_trace
    from spinspice.models.registry import get_model
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


# -- train / evaluate / import ------------------------------------------------------
def _neuron_choice(neuron: str, preset: str | None, param: Sequence[str] | None) -> dict[str, Any]:
    """A validated neuron spec (building the neuron once checks the model, preset and params)."""
    from spinspice.snn.neurons import make_neuron, neuron_spec

    spec = neuron_spec(neuron, preset, parse_params(param))
    make_neuron(spec)
    return spec


def _train_outputs(
    stage: Path,
    stem: str,
    runs: dict[str, tuple[Any, dict[str, Any]]],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """Checkpoints, metrics JSON and plots of one ``train`` run (main + optional baseline)."""
    from spinspice.snn.checkpoint import save_checkpoint
    from spinspice.snn.train import plot_confusion, plot_history

    out: dict[str, Any] = {}
    for name, (net, info) in runs.items():
        last = info["history"][-1] if info["history"] else {}
        ckpt = f"{stem}.pt" if name == "main" else f"{stem}.{name}.pt"
        summary = {
            "neuron": net.config.neuron,
            "test_accuracy": info["test_accuracy"],
            "train_accuracy": last.get("train_accuracy"),
            "epochs": len(info["history"]),
            "wall_s": info["wall_s"],
            "device": info["device"],
            "checkpoint": ckpt,
        }
        save_checkpoint(stage / ckpt, net, {**meta, "accuracy": summary, "history": info["history"]})
        plot_confusion(
            info["confusion"],
            stage / f"{Path(ckpt).stem}.confusion.png",
            f"{net.config.neuron['model']}: test accuracy {info['test_accuracy'] * 100:.1f} %",
        )
        out[name] = {**summary, "history": info["history"], "confusion": info["confusion"]}
    plot_history(
        {out[k]["neuron"]["model"]: out[k]["history"] for k in out if out[k]["history"]},
        stage / f"{stem}.curve.png",
    )
    return out


@app.command()
def train(
    dataset: Annotated[
        str, typer.Option(help="mnist5k (bundled), digits, mnist:FOLDER or fashion-mnist:FOLDER")
    ] = "mnist5k",
    arch: Annotated[
        str, typer.Option(help="paper001-fc, paper002-fc, paper001-csnn or fc:N0-N1-...-NL")
    ] = "paper001-fc",
    neuron: Annotated[str, typer.Option(help="neuron model (see `spinspice models`) or lif")] = "dw-lif",
    preset: Annotated[str | None, typer.Option(help="preset of the neuron model")] = None,
    param: ParamOpt = None,
    epochs: Annotated[int, typer.Option(help="training epochs")] = 3,
    steps: Annotated[int, typer.Option(help="time steps (write slots) per image")] = 25,
    encoding: Annotated[
        str, typer.Option(help="rate (Bernoulli spikes) or direct (intensity as drive)")
    ] = "rate",
    batch_size: Annotated[int, typer.Option("--batch-size", help="images per optimiser step")] = 128,
    lr: Annotated[float, typer.Option(help="Adam learning rate")] = 1e-3,
    device: Annotated[str, typer.Option(help="auto (cuda when available, else cpu), cpu or cuda")] = "auto",
    max_train: Annotated[
        int | None, typer.Option("--max-train", help="use only the first N training images")
    ] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="also train the ideal-LIF baseline")
    ] = True,
    compile_: Annotated[
        bool,
        typer.Option(
            "--compile/--no-compile", help="torch.compile the device step of large layers (faster training)"
        ),
    ] = True,
    out: Annotated[Path, typer.Option("--out", help="checkpoint to write (outputs go beside it)")] = Path(
        "results/train/model.pt"
    ),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Train a spiking network whose neurons are a device model (and the ideal-LIF baseline).

    Writes OUT (checkpoint), OUT.json (its config), OUT-stem.metrics.json (per-epoch metrics),
    OUT-stem.curve.png (loss/accuracy per epoch) and a confusion matrix PNG per network.
    """
    import time

    import torch

    from spinspice.snn.arch import NetConfig, parse_arch
    from spinspice.snn.data import load_dataset
    from spinspice.snn.neurons import compile_setting, neuron_spec
    from spinspice.snn.train import TrainSettings, pick_device
    from spinspice.snn.train import train as train_net

    _seed(seed)
    with compile_setting(compile_):
        t_start = time.perf_counter()
        if epochs < 1:
            raise ModelParameterError("--epochs must be at least 1")
        settings = TrainSettings(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            device=str(pick_device(device)),
            max_train=max_train,
        )
        spec = _neuron_choice(neuron, preset, param)
        data = load_dataset(dataset)
        layers = parse_arch(arch, data.image_shape, data.n_classes)

        def config(neuron_spec_: dict[str, Any]) -> NetConfig:
            return NetConfig(
                arch=arch,
                layers=layers,
                neuron=neuron_spec_,
                steps=steps,
                encoding=encoding,
                image_shape=data.image_shape,
                n_classes=data.n_classes,
            )

        jobs = {"main": config(spec)}
        if baseline and neuron != "lif":
            jobs["baseline"] = config(neuron_spec("lif"))
        meta = {
            "dataset": data.name,
            "n_train": len(data.y_train) if max_train is None else min(max_train, len(data.y_train)),
            "n_test": len(data.y_test),
            "training": {**dataclasses.asdict(settings), "torch_threads": torch.get_num_threads()},
        }
        runs: dict[str, tuple[Any, dict[str, Any]]] = {}
        with _progress() as progress:
            for name, cfg in jobs.items():
                net, info = train_net(cfg, data, settings, progress=progress, label=cfg.neuron["model"])
                info["test_accuracy"] = info["history"][-1]["test_accuracy"]
                runs[name] = (net, info)
        stem = out.stem
        with staged_output(out.parent) as stage:
            results = _train_outputs(stage, stem, runs, meta)
            main = results["main"]
            report = {
                **report_header("spinspice.training"),
                "dataset": data.name,
                "arch": arch,
                "layers": [dict(x) for x in layers],
                "neuron": spec,
                "steps": steps,
                "encoding": encoding,
                "seed": seed,
                "test_accuracy": main["test_accuracy"],
                "train_accuracy": main["train_accuracy"],
                "epochs": main["epochs"],
                "wall_s": time.perf_counter() - t_start,
                "train_wall_s": main["wall_s"],
                "device": main["device"],
                "checkpoint": str(out),
                "history": main["history"],
                "confusion": main["confusion"],
                **meta,
            }
            if "baseline" in results:
                b = results["baseline"]
                report["baseline"] = {
                    k: b[k] for k in ("neuron", "test_accuracy", "train_accuracy", "wall_s", "checkpoint")
                }
                report["baseline"]["history"] = b["history"]
            report["outputs"] = sorted(p.name for p in stage.iterdir())
            report["outputs"].append(f"{stem}.metrics.json")
            atomic_write_json(stage / f"{stem}.metrics.json", report)
        lines = [
            f"{neuron} {arch} on {data.name}: test accuracy {main['test_accuracy'] * 100:.1f} % "
            f"(train {main['train_accuracy'] * 100:.1f} %), {main['epochs']} epochs in {main['wall_s']:.0f} s"
        ]
        if "baseline" in report:
            b = report["baseline"]
            lines.append(
                f"ideal-LIF baseline: test accuracy {b['test_accuracy'] * 100:.1f} % "
                f"(train {b['train_accuracy'] * 100:.1f} %) in {b['wall_s']:.0f} s"
            )
        lines.append(f"checkpoint: {out}; metrics: {out.parent / (stem + '.metrics.json')}")
        _emit(report, json_out, "\n".join(lines))


@app.command()
def evaluate(
    checkpoint: CheckpointArg,
    dataset: Annotated[
        str | None, typer.Option(help="data set to test on (default: the checkpoint's)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="folder for evaluate.json and confusion.png")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 128,
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Test accuracy and confusion matrix of a checkpoint on the held-out images."""
    import time

    from spinspice.snn.checkpoint import load_checkpoint
    from spinspice.snn.data import load_dataset
    from spinspice.snn.train import evaluate as evaluate_net
    from spinspice.snn.train import plot_confusion

    _seed(seed)
    ck = load_checkpoint(checkpoint)
    name = dataset or ck.meta.get("dataset")
    if not name:
        raise ModelParameterError(f"{checkpoint} names no data set: give --dataset")
    data = load_dataset(name)
    cfg = ck.config
    if data.image_shape != cfg.image_shape or data.n_classes != cfg.n_classes:
        raise ModelParameterError(
            f"{checkpoint} expects images of {cfg.image_shape} and {cfg.n_classes} classes; "
            f"{data.name} has {data.image_shape} and {data.n_classes}"
        )
    t0 = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task(f"evaluate {cfg.neuron['model']}", total=len(data.y_test))
        res = evaluate_net(
            ck.net,
            data.x_test,
            data.y_test,
            batch_size=batch_size,
            seed=seed,
            progress=lambda k: progress.update(task, advance=k),
        )
    report = {
        **report_header("spinspice.evaluation"),
        "checkpoint": str(checkpoint),
        "dataset": data.name,
        "n_test": len(data.y_test),
        "neuron": cfg.neuron,
        "arch": cfg.arch,
        "steps": cfg.steps,
        "test_accuracy": res["accuracy"],
        "test_loss": res["loss"],
        "mean_output_spikes": res["mean_output_spikes"],
        "per_class_accuracy": (np.diag(res["confusion"]) / np.maximum(res["confusion"].sum(1), 1)).tolist(),
        "confusion": res["confusion"],
        "wall_s": time.perf_counter() - t0,
        "seed": seed,
    }
    folder = out or checkpoint.parent / f"{checkpoint.stem}.evaluate"
    with staged_output(folder) as stage:
        plot_confusion(
            res["confusion"],
            stage / "confusion.png",
            f"{checkpoint.name} on {data.name}: {res['accuracy'] * 100:.1f} %",
        )
        atomic_write_json(stage / "evaluate.json", report)
    _emit(
        report,
        json_out,
        f"{checkpoint.name} ({cfg.neuron['model']}, {cfg.arch}) on {data.name}: test accuracy "
        f"{res['accuracy'] * 100:.2f} % of {len(data.y_test)} images\n"
        f"confusion matrix: {folder / 'confusion.png'}",
    )


@app.command("import-snntorch")
def import_snntorch(
    source: Annotated[str, typer.Argument(help="file.py:function returning the nn.Sequential")],
    dataset: Annotated[str, typer.Option(help="data set the network was trained for")] = "mnist5k",
    steps: Annotated[int, typer.Option(help="time steps per image")] = 25,
    encoding: Annotated[str, typer.Option(help="rate or direct")] = "rate",
    neuron: Annotated[
        str | None, typer.Option(help="swap the LIF neurons for this device model, then fine-tune")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="preset of --neuron")] = None,
    param: ParamOpt = None,
    epochs: Annotated[int, typer.Option(help="fine-tuning epochs after a swap (0: none)")] = 1,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 128,
    lr: Annotated[float, typer.Option(help="Adam learning rate for fine-tuning")] = 1e-3,
    weights: Annotated[
        Path | None,
        typer.Option("--weights", help="state_dict file to load into it (torch.load weights_only=True)"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="checkpoint to write")] = Path("results/import/model.pt"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Import a plain snnTorch network into the checkpoint format (optionally swap its neurons)."""
    from spinspice.snn.checkpoint import save_checkpoint
    from spinspice.snn.data import load_dataset
    from spinspice.snn.interop import from_snntorch, load_module, swap_neurons
    from spinspice.snn.train import TrainSettings
    from spinspice.snn.train import evaluate as evaluate_net
    from spinspice.snn.train import train as train_net

    _seed(seed)
    data = load_dataset(dataset)
    module = load_module(source, weights=weights)
    net = from_snntorch(
        module, image_shape=data.image_shape, n_classes=data.n_classes, steps=steps, encoding=encoding
    )
    imported = evaluate_net(net, data.x_test, data.y_test, seed=seed)
    report: dict[str, Any] = {
        **report_header("spinspice.snntorch_import"),
        "source": source,
        "dataset": data.name,
        "layers": [dict(x) for x in net.config.layers],
        "imported_test_accuracy": imported["accuracy"],
        "seed": seed,
    }
    final, acc = net, imported["accuracy"]
    if neuron is not None:
        spec = _neuron_choice(neuron, preset, param)
        swapped = swap_neurons(net, spec)
        before = evaluate_net(swapped, data.x_test, data.y_test, seed=seed)
        report["swapped"] = {"neuron": spec, "test_accuracy_before_fine_tuning": before["accuracy"]}
        final, acc = swapped, before["accuracy"]
        if epochs > 0:
            settings = TrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
            with _progress() as progress:
                final, info = train_net(
                    swapped.config,
                    data,
                    settings,
                    progress=progress,
                    label="fine-tune",
                    initial=swapped.state_dict(),
                )
            acc = info["history"][-1]["test_accuracy"]
            report["swapped"].update(fine_tune_epochs=epochs, history=info["history"], test_accuracy=acc)
    report["test_accuracy"] = acc
    report["checkpoint"] = str(out)
    with staged_output(out.parent) as stage:
        save_checkpoint(
            stage / out.name,
            final,
            {"dataset": data.name, "source": {"snntorch": source}, "accuracy": {"test_accuracy": acc}},
        )
        atomic_write_json(stage / f"{out.stem}.import.json", report)
    lines = [
        f"imported {source}: {len(net.config.layers)} layers, "
        f"test accuracy {imported['accuracy'] * 100:.1f} %"
    ]
    if "swapped" in report:
        sw = report["swapped"]
        lines.append(
            f"with {sw['neuron']['model']} neurons: "
            f"{sw['test_accuracy_before_fine_tuning'] * 100:.1f} % before, "
            f"{acc * 100:.1f} % after {epochs} fine-tuning epochs"
        )
    lines.append(f"checkpoint: {out}")
    _emit(report, json_out, "\n".join(lines))


# -- netlist -------------------------------------------------------------------------
SynapseOpt = Annotated[str, typer.Option(help="synapse device: ideal, mtj, dw-mtj or cogd")]
LevelsOpt = Annotated[int | None, typer.Option(help="conductance levels of the synapse device")]
VariabilityOpt = Annotated[float, typer.Option(help="device-to-device log-normal sigma of every conductance")]
ClipOpt = Annotated[
    float, typer.Option("--clip-percentile", help="|w| percentile mapped to G_max (larger are clipped)")
]
VReadOpt = Annotated[str, typer.Option("--v-read", help="row read-pulse amplitude")]
RWireOpt = Annotated[str, typer.Option("--r-wire", help="wire resistance per crossbar segment")]
CWireOpt = Annotated[str, typer.Option("--c-wire", help="wire capacitance per crossbar segment")]
TileOpt = Annotated[int, typer.Option(help="largest crossbar tile side (devices)")]
ArrayColsOpt = Annotated[int | None, typer.Option("--array-cols", help="neuron array columns")]
ScheduleOpt = Annotated[
    str, typer.Option(help="all: every array row written each slot; rows: row by row (R x longer)")
]


def _crossbar_options(
    v_read: str, r_wire: str, c_wire: str, tile: int, array_cols: int | None, schedule: str
) -> Any:
    from spinspice.circuits.network import CrossbarOptions

    return CrossbarOptions(
        v_read_v=parse_value(v_read, "V", name="--v-read"),
        r_wire_ohm=parse_value(r_wire, "ohm", name="--r-wire"),
        c_wire_f=parse_value(c_wire, "F", name="--c-wire"),
        tile=tile,
        array_cols=array_cols,
        schedule=schedule,
    )


@app.command()
def netlist(
    checkpoint: CheckpointArg,
    sample: Annotated[int, typer.Option(help="index of the test image the netlists are driven by")] = 0,
    dataset: CkDatasetOpt = None,
    synapse: SynapseOpt = "ideal",
    levels: LevelsOpt = None,
    variability: VariabilityOpt = 0.0,
    clip_percentile: ClipOpt = 100.0,
    v_read: VReadOpt = "0.1V",
    r_wire: RWireOpt = "0",
    c_wire: CWireOpt = "0",
    tile: TileOpt = 256,
    array_cols: ArrayColsOpt = None,
    schedule: ScheduleOpt = "all",
    single: Annotated[
        bool,
        typer.Option("--single", help="one netlist of the whole network, layers joined by spike latches"),
    ] = False,
    out: OutOpt = Path("results/netlist"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """ngspice netlists of a trained network for one test sample (one .cir per layer, or the
    whole network with --single, + manifest)."""
    from spinspice.circuits.synapses import get_synapse_device
    from spinspice.cosim.netgen import LAYER_SKEW_S, network_circuits
    from spinspice.models.registry import get_model
    from spinspice.netlists.network import write_network
    from spinspice.snn.checkpoint import load_checkpoint
    from spinspice.snn.data import load_dataset

    _seed(seed)
    ck = load_checkpoint(checkpoint)
    data = load_dataset(dataset or ck.meta.get("dataset") or "mnist5k")
    if not 0 <= sample < len(data.y_test):
        raise ModelParameterError(f"--sample {sample}: the test split has {len(data.y_test)} images")
    options = _crossbar_options(v_read, r_wire, c_wire, tile, array_cols, schedule)
    device = get_synapse_device(synapse, levels)
    nc = network_circuits(
        ck.net,
        data.x_test[sample],
        device,
        label=int(data.y_test[sample]),
        options=options,
        clip_percentile=clip_percentile,
        variability=variability,
        seed=seed,
        single=single,
    )
    extras = []
    for k, (mapping, exp, ts) in enumerate(
        zip(nc.mappings, nc.expected_spikes, nc.torch_spikes, strict=True)
    ):
        extras.append(
            {
                "weight_shape": list(ck.net.synapses[k].weight.shape),
                "n_nonzero_weights": int((ck.net.synapses[k].weight != 0).sum()),
                "mapping": {
                    "device": mapping.device.to_json(),
                    "w_clip": mapping.w_clip,
                    "g_per_weight_s": mapping.g_per_weight_s,
                    **mapping.errors,
                },
                "expected_spike_slots": {
                    str(j): np.flatnonzero(exp[:, j]).tolist() for j in range(exp.shape[1])
                },
                "torch_spike_slots": {str(j): np.flatnonzero(ts[:, j]).tolist() for j in range(ts.shape[1])},
                # spike times of this layer count from here (layers of --single are skewed)
                "t_offset_s": k * LAYER_SKEW_S if single else 0.0,
            }
        )
    models = {n.model: get_model(n.model).compact_model() for n in ck.net.neurons}
    meta = {
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
        "dataset": data.name,
        "sample": sample,
        "label": nc.label,
        "torch_prediction": nc.prediction,
        "synapse_device": device.to_json(),
        "crossbar": dataclasses.asdict(options),
        "steps": ck.config.steps,
        "slot_s": ck.net.neurons[0].slot.period_s,
        "seed": seed,
    }
    with staged_output(out) as stage:
        manifest = write_network(
            stage, nc.layers, layer_extras=extras, compact_models=models, meta=meta, single=single
        )
    what = f"one netlist of {len(nc.layers)} layers" if single else f"{len(nc.layers)} layer netlists"
    lines = [
        f"{what} for test image {sample} (label {nc.label}, torch predicts {nc.prediction}) in {out}/",
    ]
    for layer in manifest["layers"]:
        err = layer["mapping"]
        changed = layer["cell_sizing"].get("changed") or {}
        lines.append(
            f"  {layer['file']}: {layer['n_inputs']} x {layer['n_neurons']}, "
            f"{layer['n_synapse_pairs']} pairs "
            f"in {len(layer['tiles'])} tiles, weight error rms {err['rms_error_rel'] * 100:.2f} % "
            f"(max {err['max_error_rel'] * 100:.2f} %)"
            + (
                f"; cell resized for {layer['cell_sizing']['i_design_a'] * 1e3:.2f} mA: "
                + ", ".join(f"{k} {v['from']:g} -> {v['to']:.3g}" for k, v in changed.items())
                if changed
                else ""
            )
        )
    lines.append(f"run: cd {out} && ngspice -b {manifest['layers'][0]['file']}")
    _emit(manifest, json_out, "\n".join(lines))


# -- cosim -------------------------------------------------------------------------
def _parse_traces(text: str, net: Any, first_image: Any, seed: int) -> tuple[tuple[int, int], ...]:
    """``auto``: in each layer the neuron torch makes spike most on the first image;
    else ``layer:neuron`` pairs separated by commas (``none``: no traces)."""
    import torch

    if text == "none":
        return ()
    if text != "auto":
        try:
            pairs = tuple(tuple(int(x) for x in item.split(":")) for item in text.split(",") if item.strip())
        except ValueError:
            raise ModelParameterError(f"--trace {text!r}: give layer:neuron pairs, auto or none") from None
        if any(len(p) != 2 for p in pairs):
            raise ModelParameterError(f"--trace {text!r}: give layer:neuron pairs, auto or none")
        return pairs  # type: ignore[return-value]
    x = torch.as_tensor(first_image, dtype=torch.float32)[None]
    with torch.no_grad():
        _, rec = net(x, generator=torch.Generator().manual_seed(seed), record=True)
    return tuple((k, int(torch.cat(s).sum(0).argmax())) for k, s in enumerate(rec["spikes"]))


def _write_drivers(net: Any, options: Any) -> int:
    return sum(
        options.array_shape(s.weight.shape[0])[1] if options.multiplexed else s.weight.shape[0]
        for s in net.synapses
    )


@app.command("verify-raw")
def verify_raw_cmd(
    netlists: Annotated[Path, typer.Argument(help="the --out folder of `spinspice netlist` (manifest.json)")],
    raw: Annotated[Path, typer.Argument(help="raw file of one of its netlists run elsewhere (-r FILE)")],
    layer: Annotated[
        list[int] | None, typer.Option("--layer", help="layer index to check (repeatable; default: found)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="report folder (default: NETLISTS/verify-<raw name>)")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a netlist run outside spinspice: every neuron's spike slots in RAW vs the manifest's."""
    from spinspice.cosim.verify_raw import load_manifest, verify_raw
    from spinspice.netlists.names import sanitize_identifier

    manifest = load_manifest(netlists)
    result = verify_raw(netlists, manifest, raw, layer)
    folder = out if out is not None else netlists / f"verify-{sanitize_identifier(raw.stem)}"
    report = {**report_header("spinspice.verify_raw"), "netlists": str(netlists), **result}
    atomic_write_json(folder / "verify.json", to_jsonable(report))
    lines = [
        f"layer {lay['index']} ({lay['file']}): {lay['matched_neurons']}/{lay['n_neurons']} neurons spike "
        "in the expected slots"
        + "".join(
            f"\n  neuron {n['neuron']}: circuit {n['circuit_slots']}, expected {n['expected_slots']}"
            for n in lay["mismatched"][:5]
        )
        for lay in result["layers"]
    ]
    lines.append(f"report: {folder / 'verify.json'}")
    _emit(report, json_out, "\n".join(lines))
    if not result["all_match"]:
        raise typer.Exit(1)


@app.command()
def cosim(
    checkpoint: CheckpointArg,
    samples: Annotated[int, typer.Option(help="number of test images (the first N)")] = 10,
    dataset: CkDatasetOpt = None,
    mode: Annotated[
        str,
        typer.Option(help="stepped (torch MAC currents), full (resistor crossbar) or parasitic (wire R/C)"),
    ] = "stepped",
    synapse: SynapseOpt = "ideal",
    levels: LevelsOpt = None,
    variability: VariabilityOpt = 0.0,
    clip_percentile: ClipOpt = 100.0,
    v_read: VReadOpt = "0.1V",
    r_wire: RWireOpt = "0",
    c_wire: CWireOpt = "0",
    tile: TileOpt = 256,
    array_cols: ArrayColsOpt = None,
    schedule: ScheduleOpt = "all",
    compare_schedules: Annotated[
        bool,
        typer.Option("--compare-schedules", help="also run the other field-line schedule and compare them"),
    ] = False,
    group: Annotated[int, typer.Option(help="neurons per ngspice run (ideal wires)")] = 1,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = None,
    backend: Annotated[str, typer.Option(help="batch (ngspice -b) or shared (PySpice)")] = "batch",
    trace: Annotated[
        str, typer.Option(help="neurons whose traces are plotted: auto, none or layer:neuron,...")
    ] = "auto",
    keep_netlists: Annotated[
        bool, typer.Option("--keep-netlists", help="keep every run's netlist under OUT/netlists")
    ] = False,
    job_timeout: JobTimeoutOpt = None,
    resume: ResumeOpt = False,
    fresh: FreshOpt = False,
    out: OutOpt = Path("results/cosim"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Run test images through the transient circuit of a trained network, compare its spikes
    with the network's, and report agreement, latency and energy."""
    report = _cosim_job(
        checkpoint,
        job_timeout=job_timeout,
        resume=resume,
        fresh=fresh,
        samples=samples,
        dataset=dataset,
        mode=mode,
        synapse=synapse,
        levels=levels,
        variability=variability,
        clip_percentile=clip_percentile,
        options=_crossbar_options(v_read, r_wire, c_wire, tile, array_cols, schedule),
        compare_schedules=compare_schedules,
        group=group,
        workers=workers,
        scheduler=scheduler,
        backend=backend,
        trace=trace,
        keep_netlists=keep_netlists,
        out=out,
        seed=seed,
    )
    _emit(report, json_out, _cosim_summary(report, out))
    if report["failed_samples"]:
        raise _failed_jobs(report["failed_samples"], report["n_requested"], "images")


def _cosim_job(checkpoint: Path, *, options: Any, out: Path, seed: int, **kw: Any) -> dict[str, Any]:
    import time

    from spinspice.cosim.network_cosim import CosimSettings, prepare, run_cosim, sample_ids
    from spinspice.cosim.network_report import summarize_cosim, write_cosim_outputs
    from spinspice.snn.checkpoint import load_checkpoint
    from spinspice.snn.data import load_dataset

    _seed(seed)
    ck = load_checkpoint(checkpoint)
    spec = kw["dataset"] or ck.meta.get("dataset") or "mnist5k"
    data = load_dataset(spec)
    ids = sample_ids(len(data.y_test), kw["samples"])
    settings = CosimSettings(
        timeout_s=kw["job_timeout"],
        mode=kw["mode"],
        synapse=kw["synapse"],
        levels=kw["levels"],
        variability=kw["variability"],
        clip_percentile=kw["clip_percentile"],
        options=options,
        group=kw["group"],
        backend=kw["backend"],
        traced=_parse_traces(kw["trace"], ck.net, data.x_test[ids[0]], seed + ids[0]),
        seed=seed,
    )
    prepared = prepare(ck.net, settings)  # refuses networks without circuits before any work
    neuron = ck.net.neurons[0]
    meta = {
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
        "dataset": data.name,
        "network": {
            "arch": ck.config.arch,
            "layers": [list(s.weight.shape) for s in ck.net.synapses],
            "neuron": neuron.model,
            "steps": ck.config.steps,
            "slot_s": neuron.slot.period_s,
        },
        "settings": settings.to_json(),
        "seed": seed,
        "workers": kw["workers"],
        "scheduler": kw.get("scheduler"),
    }
    kw["workers"] = kw["workers"] or (os.cpu_count() or 1)
    passes = [settings]
    if kw["compare_schedules"]:
        other = "rows" if options.schedule == "all" else "all"
        passes.append(dataclasses.replace(settings, options=dataclasses.replace(options, schedule=other)))
    # what identifies the run: not where or how long its jobs may run
    same_run = {k: v for k, v in meta.items() if k not in ("workers", "scheduler", "settings")}
    same_run["passes"] = [{**st.to_json(), "timeout_s": None} for st in passes]
    journal = _journal(
        out / "jobs", {"kind": "cosim", **same_run, "ids": ids}, resume=kw["resume"], fresh=kw["fresh"]
    )
    with staged_output(out) as stage, _progress() as progress:
        reports = []
        failed: list[dict[str, Any]] = []
        for st in passes:
            task = progress.add_task(f"cosim {st.mode} ({st.options.schedule})", total=len(ids))
            t0 = time.perf_counter()
            failures: list[dict[str, Any]] = []
            results = run_cosim(
                dataclasses.replace(prepared, settings=st),  # the mapping does not depend on the schedule
                data,
                ids,
                workers=kw["workers"],
                scheduler=kw.get("scheduler"),
                workdir=(stage / "netlists" / st.options.schedule) if kw["keep_netlists"] else None,
                on_sample=lambda _r, task=task: progress.advance(task),
                journal=journal / st.options.schedule,
                failures=failures,
            )
            failed += [{**f, "schedule": st.options.schedule} for f in failures]
            if not results:
                raise SimulationError(
                    f"all {len(ids)} images failed; first: {failures[0]['error']}",
                    netlist_path=failures[0]["netlist"],
                    attempts=failures[0]["attempts"],
                )
            rep = summarize_cosim(results, {**meta, "settings": st.to_json()})
            rep["wall_s"] = time.perf_counter() - t0
            reports.append((rep, results))
        report, results = reports[0]
        if len(reports) > 1:
            report["schedules"] = [
                {
                    "schedule": rep["settings"]["options"]["schedule"],
                    "write_drivers": _write_drivers(ck.net, st.options),
                    "step_s": rep_results[0]["layers"][0]["slot_s"],
                    **{
                        key: rep[key]
                        for key in (
                            "energy_per_inference_j",
                            "energy_per_spike_j",
                            "mean_latency_s",
                            "spike_agreement",
                            "class_agreement",
                        )
                    },
                    "energy_per_inference_by_component_j": rep["energy"]["per_inference_by_component_j"],
                }
                for (rep, rep_results), st in zip(reports, passes, strict=True)
            ]
        report["n_requested"] = len(ids)
        report["failed_samples"] = failed
        report = write_cosim_outputs(report, results, stage)
    return report


def _journal(folder: Path, key: dict[str, Any], *, resume: bool, fresh: bool) -> Path:
    """The job journal of a resumable run: ``folder/run.json`` names the run it belongs to.

    A journal with finished jobs is only continued with ``--resume`` (and only for the same
    run) or discarded with ``--fresh``; anything else is refused before work starts."""
    import shutil

    if resume and fresh:
        raise ModelParameterError("give --resume or --fresh, not both")
    key = json.loads(json.dumps(to_jsonable(key), sort_keys=True))
    stamp = folder / "run.json"
    done = sum(1 for _ in folder.rglob("*.json")) - stamp.is_file() if folder.is_dir() else 0
    if fresh and folder.is_dir():
        shutil.rmtree(folder)
    elif folder.is_dir() and done:
        try:
            same = json.loads(stamp.read_text(encoding="utf-8")).get("run") == key
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            same = False
        if not resume:
            raise ModelParameterError(
                f"{folder.parent} holds {done} finished jobs of an earlier run: pass --resume to complete "
                "it, --fresh to start over, or choose another --out"
            )
        if not same:
            raise ModelParameterError(
                f"{folder.parent} holds jobs of another run (other checkpoint, images or settings): "
                "--resume needs the same command; pass --fresh to start over or choose another --out"
            )
    atomic_write_json(stamp, {**report_header("spinspice.job_journal"), "run": key})
    return folder


def _failed_jobs(failed: list[dict[str, Any]], n_total: int, what: str) -> SpinspiceError:
    return SimulationError(
        f"{len(failed)} of {n_total} {what} failed (recorded in the report; the others are done): "
        f"run the same command again with --resume; first failure: {failed[0]['error']}"
    )


def _cosim_summary(r: dict[str, Any], out: Path) -> str:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f} %"

    lines = [
        f"{r['n_samples']} images, {r['settings']['mode']} mode: accuracy torch {pct(r['torch_accuracy'])}, "
        f"circuit {pct(r['circuit_accuracy'])}; class agreement {pct(r['class_agreement'])}",
        f"spike agreement (+-1 step) {pct(r['spike_agreement'])} (hidden {pct(r['hidden_spike_agreement'])}, "
        f"output {pct(r['output_spike_agreement'])})",
        f"mean latency {r['mean_latency_s'] * 1e9:.3f} ns; energy per inference "
        f"{r['energy_per_inference_j'] * 1e12:.4g} pJ, per spike "
        + (f"{r['energy_per_spike_j'] * 1e12:.4g} pJ" if r["energy_per_spike_j"] else "n/a"),
    ]
    for s in r.get("schedules", []):
        lines.append(
            f"  schedule {s['schedule']}: {s['write_drivers']} write drivers, "
            f"step {s['step_s'] * 1e9:.3g} ns, {s['energy_per_inference_j'] * 1e12:.4g} pJ per inference, "
            f"latency {s['mean_latency_s'] * 1e9:.3f} ns, "
            f"spike agreement {pct(s['spike_agreement'])}"
        )
    lines.append(f"report: {out / 'report.md'}")
    return "\n".join(lines)


# -- sweep -------------------------------------------------------------------------
def _parse_grid(sets: list[str]) -> dict[str, list[Any]]:
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


@app.command()
def sweep(
    checkpoint: CheckpointArg,
    set_: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="NAME=V1,V2,...: a neuron parameter (see `spinspice models`) or variability, v_read_v, "
            "schedule, synapse, levels, clip_percentile; repeat for a grid",
        ),
    ],
    samples: Annotated[int, typer.Option(help="test images per point (the first N)")] = 5,
    dataset: CkDatasetOpt = None,
    mode: Annotated[str, typer.Option(help="stepped, full or parasitic")] = "stepped",
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = None,
    job_timeout: JobTimeoutOpt = None,
    resume: ResumeOpt = False,
    fresh: FreshOpt = False,
    out: OutOpt = Path("results/sweep"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """A grid of co-simulations over neuron and circuit parameters: results table (CSV, JSON)
    and trade-off plots; a failed or interrupted sweep is completed with --resume."""
    import csv
    import io

    from spinspice.cosim.network_cosim import CosimSettings, sample_ids
    from spinspice.cosim.sweep import SUMMARY_KEYS, grid_points, plot_tradeoffs, run_sweep, validate_points
    from spinspice.snn.checkpoint import load_checkpoint
    from spinspice.snn.data import load_dataset

    _seed(seed)
    workers = workers or (os.cpu_count() or 1)
    grid = _parse_grid(set_)
    points = grid_points(grid)
    ck = load_checkpoint(checkpoint)
    spec = dataset or ck.meta.get("dataset") or "mnist5k"
    data = load_dataset(spec)
    ids = sample_ids(len(data.y_test), samples)
    base = CosimSettings(mode=mode, seed=seed, timeout_s=job_timeout)
    validate_points(ck.net, base, points)
    if resume and fresh:
        raise ModelParameterError("give --resume or --fresh, not both")
    sweep_spec = {
        "checkpoint_sha256": hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
        "dataset": data.name,
        "grid": grid,
        "samples": ids,
        "mode": mode,
        "seed": seed,
    }
    spec_path = out / "sweep.json"
    if spec_path.is_file() and fresh:
        import shutil

        shutil.rmtree(out / "points", ignore_errors=True)  # only what a sweep writes
        for name in ("sweep.json", "results.csv", "results.json", "tradeoff.png"):
            (out / name).unlink(missing_ok=True)
    elif spec_path.is_file():
        try:
            same = json.loads(spec_path.read_text(encoding="utf-8")) == to_jsonable(sweep_spec)
        except (UnicodeDecodeError, json.JSONDecodeError):
            same = False
        finished = len(list((out / "points").glob("*.json")))
        if not same:
            raise ModelParameterError(
                f"{out} holds another sweep (different checkpoint, grid, samples, mode or seed): "
                "choose another --out, or pass --fresh to discard it"
            )
        if finished and not resume:
            raise ModelParameterError(
                f"{out} holds {finished} points of this sweep: pass --resume to complete it, --fresh to "
                "start over, or choose another --out"
            )
    elif out.exists() and any(out.iterdir()):
        raise ModelParameterError(f"{out} exists and is not a sweep folder: choose another --out")
    atomic_write_json(spec_path, sweep_spec)
    resumed = 0
    with _progress() as progress:
        task = progress.add_task(f"sweep ({len(points)} points x {len(ids)} images)", total=len(points))

        def done(_row: dict[str, Any], cached: bool) -> None:
            nonlocal resumed
            resumed += cached
            progress.advance(task)

        rows = run_sweep(
            ck.net, data, ids, base, points, out, workers=workers, scheduler=scheduler, on_point=done
        )
    names = list(grid)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*names, "status", *SUMMARY_KEYS])
    for r in rows:
        writer.writerow(
            [
                *(r["point"][n] for n in names),
                r["status"],
                *("" if r[k] is None else r[k] for k in SUMMARY_KEYS),
            ]
        )
    atomic_write_text(out / "results.csv", buf.getvalue())
    report = {
        **report_header("spinspice.sweep"),
        **sweep_spec,
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
        "files": ["results.csv", "results.json", "sweep.json", "tradeoff.png", "points/"],
    }
    plot_tradeoffs(rows, out / "tradeoff.png")
    atomic_write_json(out / "results.json", report)
    lines = [f"{len(rows)} points x {len(ids)} images ({resumed} resumed from {out}/points):"]
    for r in rows:
        point = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in r["point"].items())
        if r["status"] != "done":
            lines.append(f"  {point}: FAILED ({r['failed_samples'][0]['error']})")
            continue
        acc = r["circuit_accuracy"]
        lines.append(
            f"  {point}: circuit accuracy {'n/a' if acc is None else f'{acc * 100:.1f} %'}, "
            f"spike agreement {r['spike_agreement'] * 100:.1f} %, "
            f"{r['energy_per_inference_j'] * 1e12:.4g} pJ/inference, "
            f"latency {r['mean_latency_s'] * 1e9:.3f} ns"
        )
    lines.append(f"table: {out / 'results.csv'}; plot: {out / 'tradeoff.png'}")
    _emit(report, json_out, "\n".join(lines))
    if report["failed_points"]:
        raise _failed_jobs(report["failed_points"], len(rows), "points")


# -- demo --------------------------------------------------------------------------
#: the bundled default of `spinspice demo`: a paper-001-style FC network, narrower hidden
#: layer (so that training and the circuit check of 10 images fit in minutes on 2 cores)
DEMO_ARCH = "fc:784-100-10"
DEMO_EPOCHS = 2


@app.command()
def demo(
    out: OutOpt = Path("results/demo"),
    checkpoint: Annotated[
        Path, typer.Option(help="cached checkpoint: reused when it matches, else (re)trained here")
    ] = Path("results/demo-model/model.pt"),
    dataset: Annotated[str, typer.Option(help="data set")] = "mnist5k",
    arch: Annotated[str, typer.Option(help="network")] = DEMO_ARCH,
    epochs: Annotated[int, typer.Option(help="training epochs")] = DEMO_EPOCHS,
    max_train: Annotated[int | None, typer.Option("--max-train", help="first N training images only")] = None,
    samples: Annotated[int, typer.Option(help="test images co-simulated")] = 10,
    workers: Annotated[int, typer.Option(help="processes (default: up to 2)")] = 0,
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """The main job on the bundled default: train a DW-LIF network on the bundled MNIST subset
    (or reuse the cached checkpoint), run ``samples`` test images through its circuit (stepped
    MAC), report, and write the netlists for the first test image."""
    import contextlib

    from spinspice.snn.checkpoint import load_checkpoint

    why = _demo_cache_mismatch(checkpoint, dataset, arch, epochs, max_train, seed, load_checkpoint)
    # the steps' own summaries go to stderr: stdout carries the demo's summary (or JSON) only
    with contextlib.redirect_stdout(sys.stderr):
        if why:
            sys.stderr.write(f"training the demo network ({why})\n")
            train(
                dataset=dataset,
                arch=arch,
                neuron="dw-lif",
                preset=None,
                param=None,
                epochs=epochs,
                steps=25,
                encoding="rate",
                batch_size=128,
                lr=1e-3,
                device="cpu",
                max_train=max_train,
                baseline=False,
                compile_=True,
                out=checkpoint,
                json_out=False,
                seed=seed,
            )
        else:
            sys.stderr.write(f"reusing the demo network {checkpoint}\n")
        report = _cosim_job(
            checkpoint,
            samples=samples,
            dataset=dataset,
            mode="stepped",
            synapse="ideal",
            levels=None,
            variability=0.0,
            clip_percentile=100.0,
            options=_crossbar_options("0.1V", "0", "0", 256, None, "all"),
            compare_schedules=False,
            group=1,
            workers=workers or max(1, min(2, os.cpu_count() or 1)),
            backend="batch",
            trace="auto",
            keep_netlists=False,
            job_timeout=None,
            resume=False,
            fresh=True,  # the demo is a new run each time
            out=out,
            seed=seed,
        )
        netlist(
            checkpoint,
            sample=0,
            dataset=dataset,
            synapse="ideal",
            levels=None,
            variability=0.0,
            clip_percentile=100.0,
            v_read="0.1V",
            r_wire="0",
            c_wire="0",
            tile=256,
            array_cols=None,
            schedule="all",
            single=False,
            out=out / "netlists",
            json_out=False,
            seed=seed,
        )
    report["demo"] = {"checkpoint": str(checkpoint), "trained": bool(why), "netlists": str(out / "netlists")}
    atomic_write_json(out / "report.json", report)
    _emit(report, json_out, "demo: " + _cosim_summary(report, out) + f"\nnetlists: {out / 'netlists'}/")


def _demo_cache_mismatch(
    path: Path, dataset: str, arch: str, epochs: int, max_train: int | None, seed: int, load: Any
) -> str | None:
    """Why the cached demo checkpoint cannot be reused (None: it can)."""
    if not path.is_file():
        return f"no checkpoint at {path}"
    try:
        ck = load(path)
    except SpinspiceError as err:
        return f"the cached checkpoint is unusable: {err}"
    training = ck.meta.get("training") or {}
    have = (ck.config.arch, ck.config.neuron.get("model"), ck.meta.get("dataset"), training.get("epochs"))
    want = (arch, "dw-lif", dataset.split(":")[0], epochs)
    if have != want or training.get("max_train") != max_train or training.get("seed") != seed:
        return f"the cached checkpoint is for {have}, not {want}"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI, turning every expected error into one line.

    typer handles usage errors itself (message + exit status 2); errors of
    spinspice (bad parameter values, failed simulations ...) become
    ``spinspice: error: <cause>`` on stderr and exit status 1.
    """
    try:
        app(args=list(argv) if argv is not None else None, prog_name="spinspice")
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except SpinspiceError as err:
        sys.stderr.write(f"spinspice: error: {err}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("spinspice: interrupted\n")
        return 130
    return 0


def entry() -> None:  # console script
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
