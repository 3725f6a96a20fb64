"""Command line interface (console script ``spinspice``): a thin layer over the library.

Each command parses its options into settings, makes one library call and prints the
result's summary (or its report with ``--json``); see docs/cli.md and docs/api.md.
"""

from __future__ import annotations

from spinspice.cli import circuits, devices, networks  # noqa: F401  (registers the commands)
from spinspice.cli._common import app, entry, main, parse_params

__all__ = ["app", "entry", "main", "parse_params"]
