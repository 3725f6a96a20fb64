"""Write the netlists of a network's layers: ``.cir`` per layer, shared ``.lib``, Verilog-A,
and ``manifest.json`` (SPEC 4: netlists run standalone in ``ngspice -b``).

Layout of the output folder::

    layer0.cir ... layerN.cir   one transient testbench per layer (`ngspice -b layer0.cir`)
    lib/spinspice_cells.lib     neuron cell subcircuits, their devices, comparators, MOSFET models
    va/<model>.va               the device models as Verilog-A modules (for other simulators)
    manifest.json               every node/probe/supply the reports use, mapped to
                                layer/neuron/synapse indices, with file digests

Everything is a pure function of its inputs: the same circuits give byte-identical files
(no dates, sorted JSON keys, names derived from indices, sanitised by the netlister).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spinspice import __version__
from spinspice.circuits.network import LayerCircuit
from spinspice.io import atomic_write_text, to_jsonable
from spinspice.models.compact import CompactModel
from spinspice.netlists.names import sanitize_identifier
from spinspice.netlists.spice import format_library, format_testbench, get_vector_name
from spinspice.netlists.verilog_a import format_verilog_a

__all__ = ["MANIFEST_SCHEMA", "write_network"]

MANIFEST_SCHEMA = "spinspice.netlist_manifest"
LIBRARY = "lib/spinspice_cells.lib"


def _layer_manifest(k: int, lc: LayerCircuit, file: str, extra: Mapping[str, Any]) -> dict[str, Any]:
    tb = lc.testbench
    top = tb.as_subckt()
    return {
        "index": k,
        "file": file,
        "title": tb.title,
        "n_inputs": len(lc.rows) - 1,
        "n_neurons": len(lc.neurons),
        "n_synapse_pairs": lc.n_pairs,
        "tiles": list(lc.tiles),
        "rows": list(lc.rows),
        "neurons": list(lc.neurons),
        "probes": {
            p.key: {"vector": get_vector_name(p, top), "kind": p.kind, "unit": p.unit} for p in tb.probes
        },
        "supplies": {name: comp for comp, name in tb.supplies},
        "write_driver_gain": lc.mirror_gain,
        "i_unit_a": lc.i_unit_a,
        "cell_sizing": lc.sizing,
        "cell_subckt": sanitize_identifier(lc.cell_subckt.name, what="subckt"),
        "spike_level_v": lc.cell.spike_level_v(),
        "t_stop_s": tb.analysis.t_stop_s,
        **extra,
    }


def write_network(
    folder: str | Path,
    layers: Sequence[LayerCircuit],
    *,
    layer_extras: Sequence[Mapping[str, Any]],
    compact_models: Mapping[str, CompactModel],
    meta: Mapping[str, Any],
) -> dict[str, Any]:
    """Write every file into ``folder`` (atomically, file by file) and return the manifest."""
    folder = Path(folder)
    lib_text, defined = format_library(
        [lc.cell_subckt for lc in layers], "spinspice neuron cells of this network (shared by every layer)"
    )
    files: dict[str, str] = {LIBRARY: lib_text}
    manifest_layers = []
    for k, (lc, extra) in enumerate(zip(layers, layer_extras, strict=True)):
        name = f"layer{k}.cir"
        files[name] = format_testbench(
            lc.testbench,
            header=[f"layer {k} of the network in manifest.json; run: ngspice -b {name}"],
            library=(LIBRARY, defined),
        )
        manifest_layers.append(_layer_manifest(k, lc, name, extra))
    for model, cm in sorted(compact_models.items()):
        files[f"va/{model.replace('-', '_')}.va"] = format_verilog_a(cm)
    for rel, text in files.items():
        atomic_write_text(folder / rel, text)
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "schema_version": 1,
        "spinspice_version": __version__,
        **meta,
        "library": LIBRARY,
        "layers": manifest_layers,
        "files": {rel: hashlib.sha256(text.encode()).hexdigest() for rel, text in sorted(files.items())},
    }
    atomic_write_text(
        folder / "manifest.json", json.dumps(to_jsonable(manifest), indent=2, sort_keys=True) + "\n"
    )
    return manifest
