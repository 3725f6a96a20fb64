"""Command line interface (console script ``spinspice``): each command parses its options into
settings, makes one library call and prints the result (docs/cli.md, docs/api.md)."""

from __future__ import annotations

from spinspice.cli import circuits, devices, networks
from spinspice.cli._common import app, entry, main, parse_params

# --help lists the commands by job: device studies, networks, circuits (stable: file order within)
_JOBS = [devices.__name__, networks.__name__, circuits.__name__]
app.registered_commands.sort(key=lambda c: _JOBS.index(c.callback.__module__))

__all__ = ["app", "entry", "main", "parse_params"]
