"""Run a :class:`~spinspice.circuits.core.Testbench` on a backend."""

from __future__ import annotations

from pathlib import Path

from spinspice.circuits.core import Testbench
from spinspice.netlists.spice import get_vector_name
from spinspice.sim.backends import check_bounded, get_backend
from spinspice.sim.osdi import netlist_text
from spinspice.sim.waveforms import Waveforms

__all__ = ["probe_names", "simulate"]


def probe_names(tb: Testbench) -> dict[str, str]:
    """Probe key -> ngspice vector name for every probe of ``tb``."""
    top = tb.as_subckt()
    return {p.key: get_vector_name(p, top) for p in tb.probes}


def simulate(
    tb: Testbench,
    backend: str = "batch",
    *,
    netlist: str | None = None,
    netlist_path: str | Path | None = None,
    timeout_s: float | None = None,
    models: str | None = None,
) -> Waveforms:
    """Format ``tb`` (unless ``netlist`` is given), run it on ``backend`` ("batch": ``ngspice -b``
    in a subprocess; "shared": the in-process shared library) and return its waveforms with
    every probe under its key.  Non-convergence is escalated (:mod:`spinspice.sim.backends`);
    a failure raises :class:`~spinspice.errors.SimulationError` with the netlist path and the
    log tail.  ``models``: compiled (``"osdi"``) or B-source device models (default: the
    process default, :func:`spinspice.sim.osdi.resolve_models`)."""
    tran = tb.analysis
    if tran is not None and hasattr(tran, "t_stop_s"):  # refused before any work: see check_bounded
        check_bounded(tran.t_stop_s, getattr(tran, "t_max_s", None))
    text = netlist if netlist is not None else netlist_text(tb, models)
    wf = get_backend(backend).run(text, netlist_path=netlist_path, timeout_s=timeout_s)
    return wf.with_probes(probe_names(tb))
