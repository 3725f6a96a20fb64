"""Run a simulator and read its results: no torch, no knowledge of networks or papers.

- :func:`simulate` runs a :class:`~spinspice.circuits.core.Testbench` on a backend
  (:mod:`.backends`: ``ngspice -b`` or the shared library, with convergence escalation)
  and returns :class:`Waveforms`;
- :mod:`.rawfile` reads SPICE raw files, :mod:`.spikes` and :mod:`.energy` measure spikes
  and supply energy in waveforms;
- :mod:`.reference` (scipy) and :mod:`.stepper` (fixed-step numpy/torch) integrate a cell's
  equations independently of the simulator;
- :mod:`.jobs`: where jobs run (:func:`executor`: this process, a process pool that
  survives a dead worker, or Dask) and the one :class:`Journal` of resumable runs.
"""

from __future__ import annotations

from spinspice.sim.backends import BatchBackend, SharedBackend, get_backend, ngspice_version
from spinspice.sim.energy import cumulative_energy_j, delivered_energy_j, energy_between_j
from spinspice.sim.jobs import Journal, executor
from spinspice.sim.rawfile import read_raw
from spinspice.sim.simulate import probe_names, simulate
from spinspice.sim.spikes import crossings, match_spikes
from spinspice.sim.waveforms import Waveforms

__all__ = [
    "BatchBackend",
    "Journal",
    "SharedBackend",
    "Waveforms",
    "crossings",
    "cumulative_energy_j",
    "delivered_energy_j",
    "energy_between_j",
    "executor",
    "get_backend",
    "match_spikes",
    "ngspice_version",
    "probe_names",
    "read_raw",
    "simulate",
]
