"""Write the netlists of a network's layers: ``.cir`` per layer, shared ``.lib``, Verilog-A,
and ``manifest.json`` (SPEC 4: netlists run standalone in ``ngspice -b``).

Layout of the output folder::

    layer0.cir ... layerN.cir   one transient testbench per layer (`ngspice -b layer0.cir`)
    network.cir                 instead, with --single: the whole network, layers joined by
                                spike latches
    layer<k>_g<i>.cir, run.sh   instead, with --split G: each layer as neuron groups, one
                                netlist each, and the script that runs them in parallel
    lib/spinspice_cells.lib     neuron cell subcircuits, their devices, comparators, MOSFET models
    va/<model>.va               the device models as Verilog-A modules (for other simulators)
    osdi/<module>.osdi, .va     with compiled models: the modules the netlists load (pre_osdi)
    manifest.json               every node/probe/supply the reports use, mapped to
                                layer/neuron/synapse indices, with file digests

Everything is a pure function of its inputs: the same circuits give byte-identical files
(no dates, sorted JSON keys, names derived from indices, sanitised by the netlister).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from spinspice import __version__
from spinspice.circuits.compiled import compiled_subckt, compiled_testbench
from spinspice.circuits.core import Probe, Subckt, VerilogAModelCard
from spinspice.circuits.network import LayerCircuit, network_testbench
from spinspice.errors import ModelParameterError
from spinspice.io import atomic_write_bytes, atomic_write_text, to_jsonable
from spinspice.models.compact import CompactModel
from spinspice.netlists.names import sanitize_identifier
from spinspice.netlists.spice import format_library, format_testbench, get_vector_name
from spinspice.netlists.verilog_a import format_verilog_a

__all__ = ["MANIFEST_SCHEMA", "write_network"]

MANIFEST_SCHEMA = "spinspice.netlist_manifest"
LIBRARY = "lib/spinspice_cells.lib"


def _layer_manifest(
    k: int, lc: LayerCircuit, file: str, extra: Mapping[str, Any], within: tuple[Subckt, str] | None = None
) -> dict[str, Any]:
    """The manifest entry of layer ``k``; ``within = (top, instance)`` when the layer is an
    instance of a whole-network netlist (probe vectors are then hierarchical)."""
    tb = lc.testbench
    top, prefix = within if within is not None else (tb.as_subckt(), None)

    def vector(p: Probe) -> str:
        return get_vector_name(dataclasses.replace(p, path=(prefix, *p.path)) if prefix else p, top)

    return {
        "index": k,
        "file": file,
        **({"instance": prefix} if prefix else {}),
        "title": tb.title,
        "n_inputs": len(lc.rows) - 1,
        "n_neurons": len(lc.neurons),
        "n_synapse_pairs": lc.n_pairs,
        "tiles": list(lc.tiles),
        "rows": list(lc.rows),
        "neurons": list(lc.neurons),
        "probes": {p.key: {"vector": vector(p), "kind": p.kind, "unit": p.unit} for p in tb.probes},
        "supplies": {name: comp for comp, name in tb.supplies},
        "write_driver_gain": lc.mirror_gain,
        "i_unit_a": lc.i_unit_a,
        "cell_sizing": lc.sizing,
        "cell_subckt": sanitize_identifier(lc.cell_subckt.name, what="subckt"),
        "spike_level_v": lc.cell.spike_level_v(),
        "t_stop_s": tb.analysis.t_stop_s,
        "slot_s": lc.slot_s,
        "write_slot_s": lc.write_slot_s,
        "schedule": lc.schedule,
        "n_write_drivers": lc.n_write_drivers,
        "n_select_devices": lc.n_select_devices,
        "n_field_line_drivers": lc.n_field_line_drivers,
        "cells_in_series": lc.cells_in_series,
        "array_shape": list(lc.array_shape),
        **extra,
    }


def write_network(
    folder: str | Path,
    layers: Sequence[LayerCircuit],
    *,
    layer_extras: Sequence[Mapping[str, Any]],
    compact_models: Mapping[str, CompactModel],
    meta: Mapping[str, Any],
    single: bool = False,
    osdi: Callable[[Any], bytes] | None = None,
    files: Sequence[str] | None = None,
    scripts: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write every file into ``folder`` (atomically, file by file) and return the manifest.

    ``single``: one ``network.cir`` of the whole network (layers built for it, see
    :func:`~spinspice.circuits.network.network_testbench`) instead of a file per layer.
    ``osdi``: compiled device models (:mod:`spinspice.circuits.compiled`): called with each
    module, returns its compiled ``.osdi`` bytes, written to ``osdi/`` and loaded by the
    netlists from there (ngspice >= 46); None: B-source models, for any ngspice.

    ``files``: the netlist of each of ``layers`` (default ``layer<k>.cir``); a layer's extra
    ``index`` (and ``group``) name the network layer it is part of (a neuron group of a split
    layer, :func:`~spinspice.cosim.build.layer_group`).  ``scripts``: further text files
    (path -> text), written executable and listed with their digests (``run.sh``).
    ``options``: simulator options added to every netlist (``{"klu": True}`` where the ngspice
    that will run them has the KLU solver: a crossbar layer runs ~3x faster)."""
    folder = Path(folder)
    sim_options = tuple((options or {}).items())

    def form(tb: Any) -> Any:
        tb = compiled_testbench(tb) if osdi is not None else tb
        return dataclasses.replace(tb, options=(*tb.options, *sim_options)) if sim_options else tb

    cells = [compiled_subckt(lc.cell_subckt) if osdi is not None else lc.cell_subckt for lc in layers]
    lib_text, defined = format_library(
        cells, "spinspice neuron cells of this network (shared by every layer)"
    )
    texts: dict[str, str] = {LIBRARY: lib_text}
    binaries: dict[str, bytes] = {}
    loads: dict[str, str] = {}
    if osdi is not None:
        for cell in cells:
            for card in [m for m in cell.models() if isinstance(m, VerilogAModelCard)]:
                rel = f"osdi/{card.module.name}.osdi"
                if rel not in binaries:
                    binaries[rel] = osdi(card.module)
                    texts[f"osdi/{card.module.name}.va"] = format_verilog_a(card.module)
                    loads[card.module.name] = rel
    manifest_layers = []
    if single:
        name = "network.cir"
        tb, instances = network_testbench(layers, str(meta.get("title", "spinspice network")))
        texts[name] = format_testbench(
            form(tb),
            header=[f"the whole network in manifest.json, layers as instances; run: ngspice -b {name}"],
            library=(LIBRARY, defined),
            osdi=loads,
        )
        top = tb.as_subckt()
        for k, (lc, extra, inst) in enumerate(zip(layers, layer_extras, instances, strict=True)):
            entry = _layer_manifest(k, lc, name, extra, (top, inst))
            latches = {p.key.rsplit("latch", 1)[1]: p for p in tb.probes if p.key.startswith(f"{inst}.latch")}
            if latches:  # the next layer's input j, 0/1 V over each slot after a spike
                entry["latch_vectors"] = {j: get_vector_name(p, top) for j, p in latches.items()}
            manifest_layers.append(entry)
    else:
        if files is not None and len(files) != len(layers):
            raise ModelParameterError(f"{len(files)} netlist names for {len(layers)} layers: give one each")
        for n, (lc, extra) in enumerate(zip(layers, layer_extras, strict=True)):
            k = int(extra.get("index", n))
            name = files[n] if files is not None else f"layer{k}.cir"
            part = f"layer {k}" + (f", neuron group {extra['group']}," if "group" in extra else "")
            texts[name] = format_testbench(
                form(lc.testbench),
                header=[f"{part} of the network in manifest.json; run: ngspice -b {name}"],
                library=(LIBRARY, defined),
                osdi=loads,
            )
            manifest_layers.append(_layer_manifest(k, lc, name, extra))
    for model, cm in sorted(compact_models.items()):
        texts[f"va/{model.replace('-', '_')}.va"] = format_verilog_a(cm)
    for rel, text in texts.items():
        atomic_write_text(folder / rel, text)
    for rel, text in (scripts or {}).items():
        path = atomic_write_text(folder / rel, text)
        os.chmod(path, path.stat().st_mode | 0o111)
        texts[rel] = text
    for rel, data in binaries.items():
        atomic_write_bytes(folder / rel, data)
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "schema_version": 1,
        "spinspice_version": __version__,
        **meta,
        "library": LIBRARY,
        "device_models": "osdi" if osdi is not None else "bsource",
        "layers": manifest_layers,
        "files": {
            rel: hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()
            for rel, data in sorted({**texts, **binaries}.items())
        },
    }
    atomic_write_text(
        folder / "manifest.json", json.dumps(to_jsonable(manifest), indent=2, sort_keys=True) + "\n"
    )
    return manifest
