"""Circuit commands: netlist, verify-raw, cosim, sweep, demo (spinspice.cosim, spinspice.demo)."""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from spinspice.cli._common import (
    CheckpointArg,
    CkDatasetOpt,
    FreshOpt,
    JobTimeoutOpt,
    JsonOpt,
    OutOpt,
    ResumeOpt,
    SchedulerOpt,
    SeedOpt,
    WorkersOpt,
    _progress,
    app,
    emit,
    library_args,
)
from spinspice.units import parse_value

KW = inspect.Parameter.KEYWORD_ONLY

#: the synapse and crossbar options of ``netlist`` and ``cosim``: flag -> (type, default, help)
_CIRCUIT_OPTIONS: dict[str, tuple[Any, Any, str]] = {
    "--synapse": (str, "ideal", "synapse device: ideal, mtj, dw-mtj or cogd"),
    "--levels": (int | None, None, "conductance levels of the synapse device"),
    "--variability": (float, 0.0, "device-to-device log-normal sigma of every conductance"),
    "--clip-percentile": (float, 100.0, "|w| percentile mapped to G_max (larger are clipped)"),
    "--v-read": (str, "0.1V", "row read-pulse amplitude"),
    "--r-wire": (str, "0", "wire resistance per crossbar segment"),
    "--c-wire": (str, "0", "wire capacitance per crossbar segment"),
    "--tile": (int, 256, "largest crossbar tile side (devices)"),
    "--array-cols": (int | None, None, "neuron array columns"),
    "--schedule": (str | None, None, "all, rows (1T cells) or rows-free (no access transistor)"),
}
_UNITS = {"--v-read": ("v_read_v", "V"), "--r-wire": ("r_wire_ohm", "ohm"), "--c-wire": ("c_wire_f", "F")}


def circuit_options(after: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command the options of :data:`_CIRCUIT_OPTIONS` (after its option ``after``); they
    reach it as one ``circuit`` dict of ``spinspice.cosim`` settings in SI units."""

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        sig = inspect.signature(fn, eval_str=True)
        params = [p.replace(kind=KW) for p in sig.parameters.values() if p.name != "circuit"]
        at = [p.name for p in params].index(after) + 1
        extra = [
            inspect.Parameter(flag[2:].replace("-", "_"), KW, default=dflt, annotation=Annotated[kind, opt])
            for flag, (kind, dflt, text) in _CIRCUIT_OPTIONS.items()
            for opt in [typer.Option(flag, help=text)]
        ]

        @functools.wraps(fn)
        def command(**kw: Any) -> None:
            circuit = {flag: kw.pop(flag[2:].replace("-", "_")) for flag in _CIRCUIT_OPTIONS}
            for flag, (key, unit) in _UNITS.items():
                circuit[key] = parse_value(circuit.pop(flag), unit, name=flag)
            fn(circuit={k.lstrip("-").replace("-", "_"): v for k, v in circuit.items()}, **kw)

        command.__signature__ = sig.replace(parameters=params[:at] + extra + params[at:])  # type: ignore[attr-defined]
        del command.__wrapped__  # typer reads the signature above, not fn's
        return command

    return decorate


@app.command()
@circuit_options(after="dataset")
def netlist(
    checkpoint: CheckpointArg,
    sample: Annotated[int, typer.Option(help="index of the test image the netlists are driven by")] = 0,
    dataset: CkDatasetOpt = None,
    single: Annotated[
        bool,
        typer.Option("--single", help="one netlist of the whole network, layers joined by spike latches"),
    ] = False,
    split: Annotated[int, typer.Option(help="at most G neurons per netlist, run by run.sh (0: none)")] = 0,
    out: OutOpt = Path("results/netlist"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
    circuit: dict[str, Any] | None = None,
) -> None:
    """ngspice netlists of a trained network for one test sample (one .cir per layer, or the
    whole network with --single, + manifest)."""
    kw = library_args(locals())
    from spinspice.cosim import write_netlists

    emit(write_netlists(**kw), json_out)


@app.command("verify-raw")
def verify_raw_cmd(
    netlists: Annotated[Path, typer.Argument(help="the --out folder of `spinspice netlist` (manifest.json)")],
    raw: Annotated[Path, typer.Argument(help="raw file of a netlist run elsewhere (-r FILE), or a folder")],
    layer: Annotated[
        list[int] | None, typer.Option("--layer", help="layer index to check (repeatable; default: found)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="report folder (default: NETLISTS/verify-<raw name>)")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a netlist run outside spinspice: every neuron's spike slots in RAW vs the manifest's."""
    from spinspice.cosim import verify_raw

    result = verify_raw(netlists, raw, layer, out=out)
    emit(result, json_out)
    if not result.all_match:
        raise typer.Exit(1)


@app.command()
@circuit_options(after="mode")
def cosim(
    checkpoint: CheckpointArg,
    samples: Annotated[int, typer.Option(help="number of test images (the first N)")] = 10,
    dataset: CkDatasetOpt = None,
    mode: Annotated[
        str,
        typer.Option(help="stepped (torch MAC currents), full (resistor crossbar) or parasitic (wire R/C)"),
    ] = "stepped",
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
    circuit: dict[str, Any] | None = None,
) -> None:
    """Run test images through the transient circuit of a trained network, compare its spikes
    with the network's, and report agreement, latency and energy."""
    kw = library_args(locals(), job_timeout="timeout_s")
    from spinspice.cosim import run

    emit(run(**kw, progress=_progress()), json_out)


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
    kw = library_args(locals(), set_="grid", job_timeout="timeout_s")
    from spinspice.cosim import sweep as run_sweep
    from spinspice.cosim.grid import parse_grid_sets

    emit(run_sweep(**{**kw, "grid": parse_grid_sets(set_)}, progress=_progress()), json_out)


@app.command()
def demo(
    out: OutOpt = Path("results/demo"),
    checkpoint: Annotated[
        Path, typer.Option(help="cached checkpoint: reused when it matches, else (re)trained here")
    ] = Path("results/demo-model/model.pt"),
    dataset: Annotated[str, typer.Option(help="data set")] = "mnist5k",
    arch: Annotated[str, typer.Option(help="network")] = "fc:784-100-10",
    epochs: Annotated[int, typer.Option(help="training epochs")] = 2,
    max_train: Annotated[int | None, typer.Option("--max-train", help="first N training images only")] = None,
    samples: Annotated[int, typer.Option(help="test images co-simulated")] = 10,
    workers: Annotated[int, typer.Option(help="processes (default: up to 2)")] = 0,
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """The main job on the bundled default: train a DW-LIF network on the bundled MNIST subset
    (or reuse the cached checkpoint), run ``samples`` test images through its circuit (stepped
    MAC), report, and write the netlists for the first test image."""
    kw = library_args(locals())
    from spinspice.demo import run_demo

    # the steps' own lines go to stderr: stdout carries the demo's summary (or JSON) only
    with contextlib.redirect_stdout(sys.stderr):
        result = run_demo(**kw, progress=_progress(), log=lambda line: sys.stderr.write(line + "\n"))
    emit(result, json_out)
