"""Run a :class:`~spinspice.circuits.core.Testbench` on a backend."""

from __future__ import annotations

from pathlib import Path

from spinspice.circuits.core import Testbench
from spinspice.cosim.backends import get_backend
from spinspice.cosim.waveforms import Waveforms
from spinspice.netlists.spice import format_testbench, get_vector_name

__all__ = ["probe_names", "simulate"]


def probe_names(tb: Testbench) -> dict[str, str]:
    """Probe key -> ngspice vector name for every probe of ``tb``."""
    top = tb.as_subckt()
    return {p.key: get_vector_name(p, top) for p in tb.probes}


def simulate(
    tb: Testbench,
    backend: str = "shared",
    *,
    netlist: str | None = None,
    netlist_path: str | Path | None = None,
    timeout_s: float | None = None,
) -> Waveforms:
    """Format (unless ``netlist`` is given), run and label the results of ``tb``."""
    text = netlist if netlist is not None else format_testbench(tb)
    wf = get_backend(backend).run(text, netlist_path=netlist_path, timeout_s=timeout_s)
    return wf.with_probes(probe_names(tb))
