"""Command line interface (console script ``spinspice``).

Conventions shared by every command (SPEC section 2): ``--out DIR`` (created,
results written atomically: a failed run leaves nothing behind), ``--json``
(prints the report JSON on stdout), ``--seed``, progress on stderr for long
work, and on error a non-zero exit with a one-line cause.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from spinspice import __version__
from spinspice.errors import ModelParameterError, SpinspiceError
from spinspice.io import atomic_write_json, staged_output, to_jsonable
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
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", "-p", help="NAME=VALUE, SI suffixes accepted (repeatable)"),
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
            raise ModelParameterError(f"--param {name} given twice")
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
@app.command()
def models(
    json_out: JsonOpt = False,
    out: Annotated[Path | None, typer.Option("--out", help="also write models.json here")] = None,
    seed: SeedOpt = 0,
) -> None:
    """List the device models and every parameter (name, unit, default, range, source)."""
    from spinspice.circuits.neurons import NEURON_CELLS
    from spinspice.models.registry import MODELS

    cell_groups = NEURON_CELLS["dw-lif"].presets["paper-001"].groups()
    listing = []
    for spec in MODELS.values():
        params = []
        for ps in spec.param_sets:
            for info in ps.param_info():
                params.append(
                    {
                        "name": info.name,
                        "unit": info.unit,
                        "default": info.default,
                        "range": info.range_text(),
                        "source": info.source,
                        "description": info.desc,
                        "group": ps.__name__,
                    }
                )
        listing.append(
            {
                "name": spec.name,
                "title": spec.title,
                "source": spec.source,
                "spiking": spec.spiking,
                "parameters": params,
            }
        )
    circuit = [
        {
            "name": i.name,
            "unit": i.unit,
            "default": i.default,
            "range": i.range_text(),
            "source": i.source,
            "description": i.desc,
            "group": g,
        }
        for g, ps in cell_groups.items()
        if g not in ("device", "mtj", "divider")
        for i in ps.param_info()
    ]
    report = {"models": listing, "circuit_parameters": circuit}
    if out is not None:
        with staged_output(out) as stage:
            atomic_write_json(stage / "models.json", report)
    lines = []
    for m in listing:
        lines.append(f"{m['name']:<18} {m['title']} [{m['source']}]")
        for p in m["parameters"]:
            lines.append(
                f"    {p['name']:<20} {p['default']!s:>12} {p['unit']:<10} {p['range']:<16} {p['source']}"
            )
    lines.append("circuit parameters of the neuron cell (all models):")
    for p in circuit:
        lines.append(
            f"    {p['name']:<20} {p['default']!s:>12} {p['unit']:<10} {p['range']:<16} {p['source']}"
        )
    _emit(report, json_out, "\n".join(lines))


# -- neuron ------------------------------------------------------------------------
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
    get_model(model)
    cell, preset_name = get_cell(model, preset)
    cell = cell.with_text(parse_params(param))
    drive = _drive_from_options(cell, t_on, t_off, j_write, i_write, t_edge)
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


# -- demo --------------------------------------------------------------------------
@app.command()
def demo(
    out: OutOpt = Path("results/demo"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
    backend: Annotated[str, typer.Option(help="shared or batch")] = "shared",
) -> None:
    """The main job on the bundled default: the paper-001 neuron at 500 MHz."""
    from spinspice.circuits.cell import get_preset
    from spinspice.cosim.neuron import run_neuron
    from spinspice.cosim.neuron_report import write_neuron_outputs
    from spinspice.models.waveforms import PulseTrain

    _seed(seed)
    cell = get_preset("paper-001")
    with staged_output(out) as stage:
        result = run_neuron(cell, PulseTrain(), 120e-9, backend=backend, netlist_path=out / "netlist.cir")
        report = write_neuron_outputs(result, stage)
        report["seed"] = seed
        atomic_write_json(stage / "report.json", report)
    _emit(report, json_out, "paper-001 DW-LIF neuron at 500 MHz\n" + _neuron_summary(report, out))


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
