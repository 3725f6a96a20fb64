"""Compiled (OSDI) device models against B-sources: one neuron cell of every preset, run side by
side in plain ``ngspice -b -r`` (wall time of the whole process, best of N), and the largest
spike-instant difference.

    .venv/bin/python bench/osdi.py [N]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from spinspice.circuits.registry import PRESETS
from spinspice.sim.osdi import capabilities, netlist_text
from spinspice.sim.rawfile import read_raw
from spinspice.sim.simulate import probe_names
from spinspice.sim.spikes import crossings


def run(text: str, folder: Path, name: str) -> tuple[float, Path]:
    cir, raw = folder / f"{name}.cir", folder / f"{name}.raw"
    cir.write_text(text)
    t0 = time.perf_counter()
    subprocess.run(["ngspice", "-b", "-r", str(raw), str(cir)], capture_output=True, check=True)
    return time.perf_counter() - t0, raw


def spikes(raw: Path, vector: str, level: float) -> np.ndarray:
    plot = next(p for p in read_raw(raw) if p.plotname.lower().startswith("transient"))
    data = {n.lower(): np.real(plot.data[n]) for n in plot.names}
    return crossings(data["time"], data[vector.lower()], level, "rising")


def main(repeats: int = 5) -> None:
    caps = capabilities()
    if not caps.osdi:
        sys.exit(f"no compiled models here: {caps.reason}")
    print(f"ngspice {caps.version}, {caps.openvaf_version}; best of {repeats} runs each")
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for model, presets in PRESETS.items():
            for preset, cell in presets.items():
                drive = cell.default_drive()
                duration = cell.default_duration_s(drive)
                tb = cell.testbench(drive, duration, stimulus=cell.stimulus(drive, duration, 0))
                vector = probe_names(tb)["spike"]
                walls, found = {}, {}
                for form in ("bsource", "osdi"):
                    text = netlist_text(tb, form)
                    times = []
                    for _ in range(repeats):
                        wall, raw = run(text, folder, form)
                        times.append(wall)
                    walls[form] = min(times)
                    found[form] = spikes(raw, vector, cell.spike_level_v())
                a, b = found["bsource"], found["osdi"]
                shift = f"{np.abs(a - b).max() * 1e12:.2f} ps" if len(a) == len(b) else "spike counts differ"
                ratio = walls["bsource"] / walls["osdi"]
                ratios.append(ratio)
                print(
                    f"  {model:17s} {preset:18s} B-source {walls['bsource']:.3f} s, "
                    f"OSDI {walls['osdi']:.3f} s: {ratio:.2f}x; {len(a)} spikes, largest difference {shift}"
                )
    print(f"geometric mean {np.exp(np.mean(np.log(ratios))):.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
