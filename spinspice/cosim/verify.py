"""Check a netlist run outside spinspice: its raw file against the manifest's expected spikes.

A designer runs ``layer0.cir`` (or ``network.cir``) from ``spinspice netlist``
in ngspice, Spectre or another SPICE with ``-r out.raw``; :func:`check_raw`
reads every neuron's spike probe from that raw file (vector names from
``manifest.json``), turns the comparator's rising crossings of
``spike_level_v`` into write slots (``t_offset_s`` and ``slot_s`` of the
layer) and compares them, neuron by neuron, with ``expected_spike_slots``
(the device model stepped on the same inputs).  As in the co-simulation's
spike agreement (SPEC 4), a spike matches within ``tolerance_slots`` (default
+-1 slot): a neuron passes when each of its spikes pairs one-to-one with an
expected one; spikes in another slot than expected are reported as
``shifted``.  Everything read is checked:
a manifest of another schema, a raw file that is truncated or lacks a probe
vector raise :class:`~spinspice.errors.DataError` /
:class:`~spinspice.errors.RawFileError` naming the file.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.cosim.agreement import match_steps
from spinspice.errors import DataError
from spinspice.io import Result, atomic_write_json, report_header, to_jsonable
from spinspice.netlists.names import sanitize_identifier
from spinspice.netlists.network import MANIFEST_SCHEMA
from spinspice.sim.rawfile import RawPlot, canonical_name, read_raw
from spinspice.sim.spikes import crossings

__all__ = ["VerifyResult", "check_raw", "load_manifest", "verify_raw"]


def load_manifest(folder: str | Path) -> dict[str, Any]:
    """``manifest.json`` of a ``spinspice netlist`` output folder, checked."""
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        raise DataError(f"{folder}: no manifest.json (give the --out folder of `spinspice netlist`)")
    try:
        man = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: not valid JSON ({err})") from None
    if not isinstance(man, dict) or man.get("schema") != MANIFEST_SCHEMA or not man.get("layers"):
        raise DataError(f"{path}: not a {MANIFEST_SCHEMA} manifest")
    return man


def _vector(plot: RawPlot, names: dict[str, str], vector: str, source: str) -> np.ndarray:
    key = names.get(canonical_name(vector))
    if key is None:
        raise DataError(f"{source}: no vector {vector} in the raw file (was it run from this netlist?)")
    return np.real(plot.data[key])


def _title(folder: Path, file: str) -> str | None:
    path = folder / file
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", errors="replace") as fh:
        return fh.readline().strip()


def _agrees(circuit: list[int], expected: list[int], tol: int) -> bool:
    """Same number of spikes, each paired one-to-one within ``tol`` slots."""
    return len(circuit) == len(expected) and match_steps(circuit, expected, tol) == len(expected)


def check_raw(
    folder: str | Path,
    manifest: dict[str, Any],
    raw_path: str | Path,
    layers: list[int] | None = None,
    tolerance_slots: int = 1,
) -> dict[str, Any]:
    """Per layer and neuron: circuit spike slots from the raw file vs the expected ones
    (matched within ``tolerance_slots``; 0 asks for the same slot).

    ``layers`` picks layers by index; by default the layers of the netlist file in
    ``folder`` whose title (first line) the raw file carries (every layer for
    ``network.cir``)."""
    folder = Path(folder)
    plots = read_raw(raw_path)
    plot = next((p for p in reversed(plots) if p.plotname.lower().startswith("transient")), None)
    if plot is None:
        raise DataError(f"{raw_path}: no transient analysis in the raw file")
    names = {canonical_name(n): n for n in plot.names}
    if "time" not in names:
        raise DataError(f"{raw_path}: the transient plot has no time vector")
    t = np.real(plot.data[names["time"]])
    chosen = manifest["layers"]
    if layers is not None:
        known = {layer["index"] for layer in chosen}
        bad = sorted(set(layers) - known)
        if bad:
            raise DataError(f"layer {bad[0]} is not in the manifest (layers {sorted(known)})")
        chosen = [layer for layer in chosen if layer["index"] in layers]
    else:
        chosen = [layer for layer in chosen if _title(folder, layer["file"]) == plot.title.strip()]
        if not chosen:
            raise DataError(
                f"{raw_path}: its title {plot.title.strip()[:60]!r} is not the first line of a netlist in "
                f"{folder} (was it run from one of them?); name the layer with --layer"
            )
    out_layers = []
    for layer in chosen:
        neurons = []
        for j in range(layer["n_neurons"]):
            v = _vector(plot, names, layer["probes"][f"spike{j}"]["vector"], str(raw_path))
            start = crossings(t, v, layer["spike_level_v"]) - layer["t_offset_s"]
            slots = np.floor(start / layer["slot_s"] + 1e-9).astype(int).tolist()
            expected = list(layer["expected_spike_slots"][str(j)])
            neuron = {"neuron": j, "circuit_slots": slots, "expected_slots": expected}
            if slots != expected:
                # where in its slot each circuit spike starts (a spike a few ps after a slot
                # boundary, where the model has it just before, counts in the next slot)
                neuron["circuit_start_slots"] = np.round(start / layer["slot_s"], 4).tolist()
            neurons.append(neuron)
        pools = _check_pools(plot, names, t, layer, str(raw_path))
        items = neurons + pools
        bad = [n for n in items if not _agrees(n["circuit_slots"], n["expected_slots"], tolerance_slots)]
        shifted = [n for n in items if n["circuit_slots"] != n["expected_slots"] and n not in bad]
        out_layers.append(
            {
                "index": layer["index"],
                "file": layer["file"],
                "n_neurons": layer["n_neurons"],
                "matched_neurons": sum(n not in bad for n in neurons),
                "exact_neurons": sum(n["circuit_slots"] == n["expected_slots"] for n in neurons),
                "mismatched": bad,
                "shifted": shifted,
                "neurons": neurons,
                **({"pools": pools, "matched_pools": sum(p not in bad for p in pools)} if pools else {}),
            }
        )
    return {
        "raw_file": str(raw_path),
        "t_stop_s": float(t[-1]) if len(t) else 0.0,
        "time_points": len(t),
        "tolerance_slots": tolerance_slots,
        "layers": out_layers,
        "all_match": all(not layer["mismatched"] for layer in out_layers),
    }


def _check_pools(plot: Any, names: dict[str, str], t: np.ndarray, layer: dict[str, Any], raw: str) -> list:
    """The max-pool outputs of a layer (latched OR gates, probes ``pool<i>``): a pooled spike
    in slot ``s`` holds the output high through slot ``s + 1``, read at that slot's middle.
    Slots whose hold would end after the run are left out on both sides."""
    expected = layer.get("expected_pool_slots")
    if not expected:
        return []
    slot, t0 = layer["slot_s"], layer["t_offset_s"]
    n_slots = int(np.floor((t[-1] - t0) / slot + 1e-9)) if len(t) else 0
    mids = (np.arange(1, n_slots) + 0.5) * slot + t0
    out = []
    for i, want in expected.items():
        v = _vector(plot, names, layer["probes"][f"pool{i}"]["vector"], raw)
        high = np.interp(mids, t, v) > 0.5
        out.append(
            {
                "pool": int(i),
                "circuit_slots": np.flatnonzero(high).tolist(),
                "expected_slots": [s for s in want if s < n_slots - 1],
            }
        )
    return out


@dataclasses.dataclass
class VerifyResult(Result):
    """A raw file checked against its netlists' manifest (schema ``spinspice.verify_raw``)."""

    data: dict[str, Any]
    out: Path | None = None

    @property
    def all_match(self) -> bool:
        return bool(self.data["all_match"])

    def write(self, folder: str | Path) -> Path:
        atomic_write_json(Path(folder) / "verify.json", to_jsonable(self.data))
        self.out = Path(folder)
        return self.out

    def summary(self) -> str:
        def line(n: dict[str, Any]) -> str:
            what = f"neuron {n['neuron']}" if "neuron" in n else f"max-pool output {n['pool']}"
            starts = (
                f" (spikes start at slot {n['circuit_start_slots']})" if "circuit_start_slots" in n else ""
            )
            return f"\n  {what}: circuit {n['circuit_slots']}, expected {n['expected_slots']}{starts}"

        tol = self.data.get("tolerance_slots", 0)

        def shifted(lay: dict[str, Any]) -> str:
            moved = lay.get("shifted", [])
            if not moved:
                return ""
            return f"; {len(moved)} of them with a spike one slot off:" + "".join(line(n) for n in moved[:3])

        lines = [
            f"layer {lay['index']} ({lay['file']}): {lay['matched_neurons']}/{lay['n_neurons']} neurons "
            f"spike in the expected slots (+-{tol}, {lay.get('exact_neurons', lay['matched_neurons'])} "
            "in the same slot)"
            + (f", {lay['matched_pools']}/{len(lay['pools'])} max-pool outputs" if "pools" in lay else "")
            + "".join(line(n) for n in lay["mismatched"][:5])
            + shifted(lay)
            for lay in self.data["layers"]
        ]
        if self.out is not None:
            lines.append(f"report: {self.out / 'verify.json'}")
        return "\n".join(lines)


def verify_raw(
    netlists: str | Path,
    raw: str | Path,
    layers: list[int] | None = None,
    *,
    tolerance_slots: int = 1,
    out: str | Path | None = None,
) -> VerifyResult:
    """Check ``raw`` (a netlist of ``netlists``, the folder ``write_netlists`` wrote, run
    elsewhere) neuron by neuron against the manifest's expected spike slots; write
    ``verify.json`` into ``out`` (default: ``NETLISTS/verify-<raw name>``).  A spike matches
    an expected one within ``tolerance_slots`` (the co-simulation's +-1 step by default)."""
    netlists, raw = Path(netlists), Path(raw)
    manifest = load_manifest(netlists)
    if tolerance_slots < 0:
        raise DataError(f"tolerance_slots must be >= 0, got {tolerance_slots}")
    checked = check_raw(netlists, manifest, raw, layers, tolerance_slots)
    result = VerifyResult({**report_header("spinspice.verify_raw"), "netlists": str(netlists), **checked})
    result.write(out if out is not None else netlists / f"verify-{sanitize_identifier(raw.stem)}")
    return result
