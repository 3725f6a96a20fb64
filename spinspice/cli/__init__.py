"""Command line interface (console script ``spinspice``): a thin layer over the library.

Each command parses its options into settings, makes one library call and prints the
result's summary (or its report with ``--json``); see docs/cli.md and docs/api.md.
"""

from __future__ import annotations

# isort: off  (the order of the modules is the order of the commands in --help)
from spinspice.cli import devices  # noqa: F401  models, neuron, stdp, fieldmap, distribution, calibrate
from spinspice.cli import networks  # noqa: F401  train, evaluate, import-snntorch
from spinspice.cli import circuits  # noqa: F401  netlist, verify-raw, cosim, sweep, demo
from spinspice.cli._common import app, entry, main, parse_params

# isort: on

__all__ = ["app", "entry", "main", "parse_params"]
