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

from spinspice.errors import ModelParameterError, SpinspiceError
from spinspice.io import Result, command_scope, to_jsonable
from spinspice.io import progress_bar as _progress  # noqa: F401 (the command modules use it)
from spinspice.sim.osdi import describe, scoped_defaults, use_accuracy, use_models

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="spinspice: spintronic spiking neural networks as ngspice circuits.",
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",  # `code` in help renders as code, not as backticks
)

OutOpt = Annotated[Path, typer.Option("--out", help="output folder (created; written atomically)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the report JSON on stdout")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="random seed (recorded in the report)")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="complete the run journalled in --out")]
FreshOpt = Annotated[bool, typer.Option("--fresh", help="discard the jobs journalled in --out")]
JobTimeoutOpt = Annotated[float | None, typer.Option("--job-timeout", help="seconds one run may take")]
ParamOpt = Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE (repeatable)")]
CheckpointArg = Annotated[Path, typer.Argument(help="a checkpoint written by train or import-snntorch")]
CkDatasetOpt = Annotated[str | None, typer.Option(help="data set (default: the checkpoint's)")]
WorkersOpt = Annotated[int, typer.Option(help="local processes running the jobs (0: one per core)")]
SchedulerOpt = Annotated[str | None, typer.Option(help="a dask.distributed scheduler's address")]


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


def emit(result: Result, as_json: bool) -> None:
    """Print a library call's result: its summary, or its report as JSON with ``--json``; then
    fail (exit 1) when some of its jobs failed (the report says which: ``--resume``)."""
    text = json.dumps(to_jsonable(result.report()), indent=2) if as_json else result.summary()
    sys.stdout.write(text + "\n")
    error = getattr(result, "error", lambda: None)()
    if error is not None:
        raise error


def library_args(options: dict[str, Any], **renames: str) -> dict[str, Any]:
    """A command's options (its ``locals()`` before anything else is bound) as the keywords of
    its library call: ``json_out`` dropped, the ``circuit`` dict spread, and option ``old``
    passed as ``new`` for each ``old=new``."""
    kw = {renames.get(k, k): v for k, v in options.items() if k not in ("json_out", "circuit")}
    return {**kw, **(options.get("circuit") or {})}


def _print_version(value: bool) -> None:
    if value:
        typer.echo(describe())
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, help="versions")] = False,
    models: Annotated[str, typer.Option(help="device models: osdi, bsource (reference) or auto")] = "auto",
    accuracy: Annotated[str, typer.Option(help="default, or fast (reltol 1e-3, error reported)")] = "default",
) -> None:
    """spinspice: spintronic spiking neural networks as ngspice circuits."""
    use_models(models)
    use_accuracy(accuracy)


def _flags_shown_as_flags(group: Any) -> Any:
    """--help gives an option that takes no value the type ``flag`` (typer writes ``<bool>``)."""
    for command in [group, *getattr(group, "commands", {}).values()]:
        for param in command.get_params(typer.Context(command)):
            param.metavar = "flag" if getattr(param, "is_flag", False) else param.metavar
    return group


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI: usage errors exit 2 (typer's message), spinspice errors exit 1 with one
    line ``spinspice: error: <cause>`` on stderr."""
    try:
        with scoped_defaults(), command_scope():  # --models/--accuracy: this command only
            _flags_shown_as_flags(typer.main.get_command(app)).main(
                args=list(argv) if argv is not None else None, prog_name="spinspice"
            )
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
