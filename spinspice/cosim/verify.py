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

The raw argument may also be a folder of raw files (:func:`check_raw_folder`: the netlists
of ``spinspice netlist --split`` after ``run.sh``, or every ``layer<k>.cir`` run with
``-r layer<k>.raw``): each netlist of the manifest is checked against the raw file in it
that carries its title, the results summed per layer; a netlist without a raw file counts
as not matching.
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

__all__ = ["VerifyResult", "check_raw", "check_raw_folder", "load_manifest", "verify_raw"]


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
        if any("group" in layer for layer in chosen):  # a split layer: the group this raw file ran
            chosen = [layer for layer in chosen if _title(folder, layer["file"]) == plot.title.strip()]
            if not chosen:
                raise DataError(f"{raw_path}: not the raw file of a group netlist of layer {layers}")
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
        # the layer's neurons (a neuron group of a split layer: its own, by their layer indices)
        for j in (
            [int(n["neuron"]) for n in layer["neurons"]]
            if layer.get("neurons")
            else range(layer["n_neurons"])
        ):
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


def _raw_title(path: Path) -> str | None:
    """The ``Title:`` of a raw file's first plot, read from its header only (None: not a raw file)."""
    try:
        with path.open("rb") as fh:
            head = fh.readline(4096).decode("utf-8", errors="replace")
    except OSError:
        return None
    return head.split(":", 1)[1].strip() if head.lower().startswith("title:") else None


def check_raw_folder(
    folder: str | Path,
    manifest: dict[str, Any],
    raw_dir: str | Path,
    layers: list[int] | None = None,
    tolerance_slots: int = 1,
) -> dict[str, Any]:
    """Every netlist of ``manifest`` against the raw file in ``raw_dir`` that carries its title
    (``<netlist name>.raw`` first, as ``run.sh`` writes them), per layer: the neuron groups of
    a split layer summed (``matched_neurons`` of ``n_neurons``), a netlist without a raw file
    listed in ``missing`` (and ``all_match`` false).  ``layers`` picks layers by index."""
    folder, raw_dir = Path(folder), Path(raw_dir)
    entries = manifest["layers"]
    if layers is not None:
        known = {e["index"] for e in entries}
        bad = sorted(set(layers) - known)
        if bad:
            raise DataError(f"layer {bad[0]} is not in the manifest (layers {sorted(known)})")
        entries = [e for e in entries if e["index"] in layers]
    by_file: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        by_file.setdefault(e["file"], []).append(e)
    raws = {p: _raw_title(p) for p in sorted(raw_dir.glob("*.raw"))}
    if not raws:
        how = "sh run.sh" if (folder / "run.sh").is_file() else "ngspice -b -r NAME.raw NAME.cir"
        raise DataError(f"{raw_dir}: no *.raw files (run the netlists first: cd {folder} && {how})")
    used: set[Path] = set()
    checked: list[tuple[dict[str, Any], dict[str, Any]]] = []  # (manifest entry, its result)
    missing, points = [], 0
    for file, parts in by_file.items():
        title = _title(folder, file)
        if title is None:
            raise DataError(f"{folder / file}: netlist missing (the manifest names it)")
        found = [p for p, t in raws.items() if t == title]
        if not found:
            missing += [{"index": e["index"], **_group_of(e), "file": file} for e in parts]
            continue
        raw = next((p for p in found if p.stem == Path(file).stem), found[0])
        used.add(raw)
        result = check_raw(folder, {**manifest, "layers": parts}, raw, None, tolerance_slots)
        points += result["time_points"]
        for e, lay in zip(parts, result["layers"], strict=True):
            checked.append((e, {**lay, "raw_file": str(raw)}))
    out_layers = []
    for k in sorted({e["index"] for e in entries}):
        mine = [lay for e, lay in checked if e["index"] == k]
        gone = [m for m in missing if m["index"] == k]
        first = next(e for e in entries if e["index"] == k)
        neurons = sorted((n for lay in mine for n in lay["neurons"]), key=lambda n: n["neuron"])
        pools = [p for lay in mine for p in lay.get("pools", [])]
        record: dict[str, Any] = {
            "index": k,
            "file": ", ".join(sorted({e["file"] for e in entries if e["index"] == k})),
            "n_neurons": first.get("layer_n_neurons", first["n_neurons"]),
            "checked_neurons": len(neurons),
            "matched_neurons": sum(lay["matched_neurons"] for lay in mine),
            "exact_neurons": sum(lay["exact_neurons"] for lay in mine),
            "mismatched": [n for lay in mine for n in lay["mismatched"]],
            "shifted": [n for lay in mine for n in lay["shifted"]],
            "neurons": neurons,
            "netlists": [
                {
                    "file": lay["file"],
                    **_group_of(e),
                    "raw_file": lay["raw_file"],
                    "n_neurons": len(lay["neurons"]),
                    "matched_neurons": lay["matched_neurons"],
                }
                for e, lay in checked
                if e["index"] == k
            ],
            **({"missing": gone} if gone else {}),
        }
        if pools:
            record |= {"pools": pools, "matched_pools": sum(lay.get("matched_pools", 0) for lay in mine)}
        out_layers.append(record)
    return {
        "raw_folder": str(raw_dir),
        "raw_files": [str(p) for p in sorted(used)],
        "time_points": points,
        "tolerance_slots": tolerance_slots,
        "layers": out_layers,
        "missing": missing,
        "all_match": not missing and all(not lay["mismatched"] for lay in out_layers),
    }


def _group_of(entry: dict[str, Any]) -> dict[str, Any]:
    return {"group": entry["group"]} if "group" in entry else {}


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

        def missing(lay: dict[str, Any]) -> str:
            gone = lay.get("missing", [])
            if not gone:
                return ""
            names = ", ".join(m["file"] for m in gone[:5]) + (", ..." if len(gone) > 5 else "")
            return f"\n  {len(gone)} netlists not run (no raw file with their title): {names}"

        def where(lay: dict[str, Any]) -> str:
            runs = lay.get("netlists")
            if runs is None or len(runs) + len(lay.get("missing", [])) == 1:
                return lay["file"]
            return f"{len(runs)} of {len(runs) + len(lay.get('missing', []))} group netlists"

        lines = [
            f"layer {lay['index']} ({where(lay)}): {lay['matched_neurons']}/{lay['n_neurons']} neurons "
            f"spike in the expected slots (+-{tol}, {lay.get('exact_neurons', lay['matched_neurons'])} "
            "in the same slot)"
            + (f", {lay['matched_pools']}/{len(lay['pools'])} max-pool outputs" if "pools" in lay else "")
            + "".join(line(n) for n in lay["mismatched"][:5])
            + shifted(lay)
            + missing(lay)
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
    an expected one within ``tolerance_slots`` (the co-simulation's +-1 step by default).

    ``raw`` a folder: every netlist against its raw file there (:func:`check_raw_folder`; the
    group netlists of ``--split`` after ``run.sh``: ``verify_raw(folder, folder)``)."""
    netlists, raw = Path(netlists), Path(raw)
    manifest = load_manifest(netlists)
    if tolerance_slots < 0:
        raise DataError(f"tolerance_slots must be >= 0, got {tolerance_slots}")
    if raw.is_dir():
        checked = check_raw_folder(netlists, manifest, raw, layers, tolerance_slots)
    else:
        checked = check_raw(netlists, manifest, raw, layers, tolerance_slots)
    result = VerifyResult({**report_header("spinspice.verify_raw"), "netlists": str(netlists), **checked})
    name = raw.resolve().name if raw.is_dir() else raw.stem
    result.write(out if out is not None else netlists / f"verify-{sanitize_identifier(name or 'raw')}")
    return result
