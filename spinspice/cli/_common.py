"""Command line interface (console script ``spinspice``).

Conventions shared by every command (SPEC section 2): ``--out DIR`` (created,
results written atomically: a failed run leaves nothing behind), ``--json``
(prints the report JSON on stdout), ``--seed``, progress on stderr for long
work, and on error a non-zero exit with a one-line cause.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from spinspice import __version__
from spinspice.errors import ModelParameterError, SpinspiceError
from spinspice.io import Result, progress_bar, seed_all, to_jsonable
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
    seed_all(seed)


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


def _emit(report: dict[str, Any], as_json: bool, summary: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(to_jsonable(report), indent=2) + "\n")
    else:
        sys.stdout.write(summary + "\n")


def emit(result: Result, as_json: bool) -> None:
    """Print a library call's result: its summary, or its report as JSON with ``--json``."""
    _emit(result.report(), as_json, result.summary())


def _progress() -> Any:
    return progress_bar()


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
