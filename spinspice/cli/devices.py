"""Device commands: models, neuron, stdp, fieldmap, distribution, calibrate (spinspice.experiments)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from spinspice.cli._common import JsonOpt, OutOpt, ParamOpt, SeedOpt, _progress, app, emit, parse_params
from spinspice.errors import ModelParameterError
from spinspice.units import parse_grid, parse_list


@app.command()
def models(
    name: Annotated[str | None, typer.Argument(help="show only this model")] = None,
    json_out: JsonOpt = False,
    out: Annotated[Path | None, typer.Option("--out", help="also write models.json here")] = None,
    seed: SeedOpt = 0,
) -> None:
    """List the device models, their presets and every parameter (name, unit, default, range, source)."""
    from spinspice.experiments import list_models

    emit(list_models(name, out=out), json_out)


#: ``neuron --sweep-...`` option -> what :func:`~spinspice.experiments.run_neuron_sweep` sweeps
_SWEEPS = {"--sweep-t-off": "t_off_s", "--sweep-j-write": "j_write_a_per_m2", "--sweep-i-write": "i_write_a"}


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
    from spinspice import experiments
    from spinspice.experiments.neuron_study import SWEEPS

    params = parse_params(param)
    if model == "cogd-sigmoid":  # a sigmoid neuron: its activation curve Y(X)
        xs = parse_list(sweep_i_write, "A", "--sweep-i-write") if sweep_i_write else None
        settings: dict[str, Any] = dict(t_on_s=t_on, t_off_s=t_off, t_edge_s=t_edge, param_file=param_file)
        settings.update(backend=backend, seed=seed, out=out)
        emit(experiments.run_activation(params, x_values_a=xs, **settings), json_out)
        return
    texts = dict(zip(_SWEEPS, (sweep_t_off, sweep_j_write, sweep_i_write), strict=True))
    sweeps = {flag: text for flag, text in texts.items() if text}
    if len(sweeps) > 1:
        raise ModelParameterError("give one of --sweep-t-off, --sweep-j-write, --sweep-i-write, not both")
    settings = dict(t_on_s=t_on, t_off_s=t_off, t_edge_s=t_edge, duration_s=duration)
    settings.update(j_write_a_per_m2=j_write, i_write_a=i_write, param_file=param_file, backend=backend)
    settings.update(reference=not no_reference, timeout_s=timeout, seed=seed, out=out)
    if not sweeps:
        emit(experiments.run_neuron(model, preset, params, **settings), json_out)
        return
    ((flag, text),) = sweeps.items()
    sweep = _SWEEPS[flag]
    values = parse_list(text, SWEEPS[sweep], flag)
    result = experiments.run_neuron_sweep(
        model, preset, params, sweep=sweep, values=values, progress=_progress(), **settings
    )
    emit(result, json_out)


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
    from spinspice.experiments import run_stdp

    params = parse_params(param)
    result = run_stdp(params, dt_s=parse_grid(dt, "s", "--dt"), backend=backend, seed=seed, out=out)
    emit(result, json_out)


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
    from spinspice.experiments import run_fieldmap

    params = parse_params(param)
    checks = parse_list(circuit_fields, "Oe", "--circuit-fields") if circuit_fields.strip() else []
    currents_a, fields_oe = parse_list(currents, "A", "--currents"), parse_grid(fields, "Oe", "--fields")
    grid = dict(currents_a=currents_a, fields_oe=fields_oe, n_pulses=pulses, circuit_fields_oe=checks)
    result = run_fieldmap(preset, params, **grid, backend=backend, seed=seed, out=out, progress=_progress())
    emit(result, json_out)


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
    from spinspice.experiments import run_distribution

    params = parse_params(param)
    runs = dict(n_torch=n_torch, n_circuit=n_circuit, max_pulses=max_pulses, workers=workers, backend=backend)
    result = run_distribution(
        model, preset, params, **runs, timeout_s=timeout, seed=seed, out=out, progress=_progress()
    )
    emit(result, json_out)


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
    from spinspice.experiments import run_calibration

    params = parse_params(param)
    names = [n.strip() for n in free.split(",") if n.strip()] if free else None
    fit = dict(free=names, starts=starts, max_evaluations=max_evaluations, seed=seed, out=out)
    result = run_calibration(model, data, preset, params, **fit, progress=_progress())
    emit(result, json_out)
