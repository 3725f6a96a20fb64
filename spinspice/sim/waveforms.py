"""Simulation results: time axis + named vectors, independent of the backend."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from spinspice.errors import SimulationError, did_you_mean
from spinspice.io import atomic_write_bytes
from spinspice.sim.rawfile import canonical_name

__all__ = ["Waveforms"]


@dataclasses.dataclass
class Waveforms:
    """Vectors of one transient run.

    ``vectors`` uses canonical raw-file names (``v(xcell.t3)``, ``i(vdd_w)``);
    ``probes`` maps report keys (``"v_out"``) to those names, so code reads
    ``wf["v_out"]`` whatever backend produced the data.
    """

    time_s: np.ndarray
    vectors: dict[str, np.ndarray]
    probes: dict[str, str] = dataclasses.field(default_factory=dict)
    backend: str = ""
    wall_s: float = 0.0
    log: list[str] = dataclasses.field(default_factory=list)

    def name_of(self, key: str) -> str:
        if key in self.probes:
            return self.probes[key]
        return canonical_name(key)

    def __contains__(self, key: str) -> bool:
        return self.name_of(key) in self.vectors

    def __getitem__(self, key: str) -> np.ndarray:
        name = self.name_of(key)
        if name not in self.vectors:
            choices = [*self.probes, *self.vectors]
            raise SimulationError(
                f"no vector {key!r} in the simulation results{did_you_mean(key, choices)}; "
                "is it in the netlist's .save list?"
            )
        return self.vectors[name]

    def with_probes(self, probes: Mapping[str, str]) -> Waveforms:
        return dataclasses.replace(self, probes={k: canonical_name(v) for k, v in probes.items()})

    def at(self, key: str, t_s: np.ndarray | float) -> np.ndarray:
        """Linear interpolation of ``key`` at ``t_s``."""
        return np.interp(t_s, self.time_s, np.real(self[key]))

    def save_npz(self, path: str | Path) -> Path:
        """Write time + every probe (by key) to a compressed ``.npz`` atomically."""
        buf = io.BytesIO()
        arrays = {"time_s": self.time_s}
        for key, name in self.probes.items():
            if name in self.vectors:
                arrays[key] = self.vectors[name]
        np.savez_compressed(buf, **arrays)
        return atomic_write_bytes(path, buf.getvalue())
