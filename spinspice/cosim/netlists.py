"""``spinspice.cosim.write_netlists``: standalone ngspice netlists of a trained checkpoint.

For one test image: one ``layer<k>.cir`` per layer (or ``network.cir`` with ``single``, or
with ``split`` each layer as neuron groups ``layer<k>_g<i>.cir`` and ``run.sh``),
``lib/spinspice_cells.lib``, ``va/<model>.va`` and ``manifest.json`` naming every probe,
the expected spike slots and the SHA-256 of each file (docs/netlists.md).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.circuits.network import LayerCircuit
from spinspice.circuits.registry import get_model
from spinspice.circuits.synapses import get_synapse_device
from spinspice.cosim.build import (
    LAYER_SKEW_S,
    LIFCircuitNeuron,
    NetworkCircuits,
    check_split,
    circuit_neuron,
    layer_group,
    network_circuits,
    neuron_groups,
)
from spinspice.cosim.runner import cosim_settings, trained_schedule
from spinspice.errors import ModelParameterError
from spinspice.io import Result, seed_all, staged_output
from spinspice.netlists.network import write_network
from spinspice.sim.osdi import capabilities, compile_module, resolve_models
from spinspice.snn.checkpoint import checkpoint_digest, load_with_data

__all__ = ["DEFAULT_SPLIT", "NetlistResult", "NeuronGroup", "run_script", "write_netlists"]

#: neurons per netlist recommended for ``--split`` (docs/netlists.md "Split netlists").  A
#: transient steps at every spike edge of every neuron it holds and solves every cell at each
#: step, so a netlist's cost grows about as neurons^2.  CPU seconds of one group netlist in
#: plain ngspice 46 (osdi models, one thread; 2-core machine shared with other jobs):
#:   784 rows (fc:784-100-10, dw-lif, 25 steps): G = 1: 0.5-1.3 s, 2: 1.6-2.1, 4: 3.2-6.6,
#:     8: 21-22, 16: 85-91; the whole 100-neuron layer did not finish in 18 CPU-minutes
#:   64 rows (fc:64-32-10, dw-lif): G = 4: 0.5-0.7 s, 8: 2.0, 16: 7.7-9.1, 32 (whole): 28
#: Per neuron that is ~1 s up to G = 4, then 2.7 s (G = 8) and 5.5 s (G = 16): 4 keeps one
#: netlist of a 784-row layer well under a minute at the least total CPU time, without the
#: file count of G = 1 (784 x 100 at G = 4: 25 netlists + 3 for 100 x 10, run.sh 140 s).
DEFAULT_SPLIT = 4


def _layer_extras(net: Any, nc: NetworkCircuits, single: bool) -> list[dict[str, Any]]:
    """What the manifest records of each layer besides its circuit."""
    extras = []
    for k, (mapping, exp, ts) in enumerate(
        zip(nc.mappings, nc.expected_spikes, nc.torch_spikes, strict=True)
    ):
        weight = net.synapses[k].weight
        geo = nc.geometry[k]
        pooled = geo.pooled(exp) if geo.pool else None
        extras.append(
            {
                **geo.describe(),
                "n_nonzero_weights": int((weight != 0).sum()),
                # the neuron circuit: a device cell, or the behavioural clocked ideal-LIF circuit
                "neuron_circuit": (
                    nc.layers[k].cell.describe_circuit()
                    if hasattr(nc.layers[k].cell, "describe_circuit")
                    else {"kind": f"{nc.layers[k].cell.model} device cell"}
                ),
                **(
                    {
                        # the latched OR outputs (probes pool<i>): high in the slot after the spike
                        "expected_pool_slots": {
                            str(i): np.flatnonzero(pooled[:, i]).tolist() for i in range(pooled.shape[1])
                        }
                    }
                    if pooled is not None
                    else {}
                ),
                "mapping": {
                    "device": mapping.device.to_json(),
                    "w_clip": mapping.w_clip,
                    "g_per_weight_s": mapping.g_per_weight_s,
                    **mapping.errors,
                },
                "expected_spike_slots": {
                    str(j): np.flatnonzero(exp[:, j]).tolist() for j in range(exp.shape[1])
                },
                "torch_spike_slots": {str(j): np.flatnonzero(ts[:, j]).tolist() for j in range(ts.shape[1])},
                # spike times of this layer count from here (layers of --single are skewed)
                "t_offset_s": k * LAYER_SKEW_S if single else 0.0,
            }
        )
    return extras


@dataclasses.dataclass(frozen=True)
class NeuronGroup:
    """One netlist of a split layer: layer ``index``'s neurons ``neurons`` (group ``group``)."""

    index: int
    group: int
    neurons: tuple[int, ...]
    circuit: LayerCircuit

    @property
    def file(self) -> str:
        return f"layer{self.index}_g{self.group:03d}.cir"


def _group_extra(extra: dict[str, Any], g: NeuronGroup, n_layer: int) -> dict[str, Any]:
    """The manifest's record of a neuron group: its layer's, with the group's own spike slots."""
    own = {str(j) for j in g.neurons}
    out = {k: v for k, v in extra.items() if k != "expected_pool_slots"}
    for key in ("expected_spike_slots", "torch_spike_slots"):
        out[key] = {j: slots for j, slots in extra[key].items() if j in own}
    out |= {"index": g.index, "group": g.group, "group_neurons": list(g.neurons), "layer_n_neurons": n_layer}
    if "expected_pool_slots" in extra:
        out["pool_outputs"] = (
            "not in the split netlists: the max-pool's OR gates need the whole layer (write it without "
            "--split to check them); the group netlists verify the neurons only"
        )
    return out


def run_script(files: list[str]) -> str:
    """``run.sh``: every netlist of ``files`` in plain ``ngspice -b``, as many at once as cores."""
    names = " ".join(f.removesuffix(".cir") for f in files)
    return f"""#!/bin/sh
# Run the {len(files)} netlists of this folder in plain ngspice, as many at once as cores:
#   sh run.sh [JOBS]        (or SPINSPICE_JOBS=N sh run.sh; NGSPICE=/path/to/ngspice)
# NAME.cir writes NAME.raw and NAME.log; then: spinspice verify-raw FOLDER FOLDER
# (written by spinspice; regenerate rather than edit)
cd "$(dirname "$0")" || exit 2
jobs=${{1:-${{SPINSPICE_JOBS:-$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)}}}}
case $jobs in ''|*[!0-9]*|0) echo "run.sh: JOBS must be a positive integer, got '$jobs'" >&2; exit 2;; esac
ngspice=${{NGSPICE:-ngspice}}
command -v "$ngspice" >/dev/null 2>&1 || {{ echo "run.sh: $ngspice not found (set NGSPICE)" >&2; exit 2; }}
names="{names}"
total={len(files)}

state=".run.$$"  # a marker per finished netlist (POSIX sh cannot wait for "any" job)
mkdir "$state" || exit 2
trap 'rm -rf "$state"' EXIT
# interrupted: stop the running simulators too (background jobs of sh ignore SIGINT)
trap 'kill $(cat "$state"/*.pid 2>/dev/null) 2>/dev/null; wait; echo "run.sh: interrupted"; exit 130' INT TERM

run_one() {{  # NAME: ngspice -b -r NAME.raw NAME.cir > NAME.log (its stderr too: progress text)
    t0=$(date +%s)
    rm -f "$1.raw"
    "$ngspice" -b -r "$1.raw" "$1.cir" > "$1.log" 2>&1 &
    echo $! > "$state/$1.pid"
    wait $!
    rc=$?
    rm -f "$state/$1.pid"
    dt=$(( $(date +%s) - t0 ))
    if [ "$rc" -eq 0 ] && [ -s "$1.raw" ] && ! grep -q -i -e "simulation(s) aborted" \\
        -e "timestep too small" -e "^error" "$1.log"; then
        echo "done   $1 (${{dt}} s)"
        : > "$state/$1" 2>/dev/null
        return 0
    fi
    echo "FAILED $1 (${{dt}} s, exit $rc): see $1.log"
    : > "$state/$1" 2>/dev/null
    return 1
}}

queue=""
running=0
started=0
failed=""
reap() {{  # wait until one running netlist has finished (sh has no local variables: own names)
    while :; do
        reap_rest=""
        reap_done=""
        for reap_entry in $queue; do
            if [ -z "$reap_done" ] && [ -f "$state/${{reap_entry#*:}}" ]; then
                reap_done=$reap_entry
            else
                reap_rest="$reap_rest $reap_entry"
            fi
        done
        if [ -n "$reap_done" ]; then
            queue=$reap_rest
            wait "${{reap_done%%:*}}" || failed="$failed ${{reap_done#*:}}"
            running=$((running - 1))
            return
        fi
        sleep 1
    done
}}
echo "running $total netlists, $jobs at a time"
for name in $names; do
    [ "$running" -ge "$jobs" ] && reap
    run_one "$name" &
    queue="$queue $!:$name"
    running=$((running + 1))
    started=$((started + 1))
    echo "start  $name ($started/$total)"
done
while [ "$running" -gt 0 ]; do reap; done
if [ -n "$failed" ]; then
    set -- $failed
    echo "$# of $total netlists failed:$failed"
    exit 1
fi
echo "all $total netlists ran: *.raw"
"""


@dataclasses.dataclass
class NetlistResult(Result):
    """The netlists of one test image: the circuits and the manifest (schema
    ``spinspice.netlist_manifest``)."""

    circuits: NetworkCircuits
    extras: list[dict[str, Any]]
    compact_models: dict[str, Any]
    meta: dict[str, Any]
    single: bool
    manifest: dict[str, Any] | None = None
    out: Path | None = None
    #: with ``split``: every layer's neuron groups, each written as a netlist of its own
    groups: tuple[NeuronGroup, ...] = ()

    def report(self) -> dict[str, Any]:
        if self.manifest is None:
            raise ModelParameterError(
                "the manifest is made when the netlists are written: call .write(folder)"
            )
        return self.manifest

    def write(self, folder: str | Path) -> Path:
        """Every netlist, the cell library, the Verilog-A models and manifest.json, atomically."""
        folder = Path(folder)
        compiled = resolve_models() == "osdi"
        split: dict[str, Any] = {}
        if self.groups:
            n_layer = [len(lc.neurons) for lc in self.circuits.layers]
            files = [g.file for g in self.groups]
            split = {
                "layer_extras": [
                    _group_extra(self.extras[g.index], g, n_layer[g.index]) for g in self.groups
                ],
                "files": files,
                "scripts": {"run.sh": run_script(files)},
            }
        with staged_output(folder) as stage:
            self.manifest = write_network(
                stage,
                [g.circuit for g in self.groups] or self.circuits.layers,
                **{"layer_extras": self.extras, **split},
                compact_models=self.compact_models,
                meta=self.meta,
                single=self.single,
                osdi=(lambda module: compile_module(module).read_bytes()) if compiled else None,
                # KLU: 2.9x faster on a DW-LIF crossbar written all rows at once; 5x slower on the
                # field-gated row-by-row arrays (measured, docs/netlists.md)
                options={"klu": True}
                if capabilities().klu and self.meta["crossbar"]["schedule"] == "all"
                else None,
            )
        self.out = folder
        return folder

    def summary(self) -> str:
        manifest, nc, out = self.report(), self.circuits, self.out
        entries: dict[int, list[dict[str, Any]]] = {}
        for entry in manifest["layers"]:
            entries.setdefault(entry["index"], []).append(entry)
        what = (
            f"one netlist of {len(nc.layers)} layers"
            if self.single
            else f"{len(nc.layers)} layers in {len(self.groups)} netlists of <= {manifest['split']} neurons"
            if self.groups
            else f"{len(nc.layers)} layer netlists"
        )
        lines = [
            f"{what} for test image {self.meta['sample']} (label {nc.label}, torch predicts "
            f"{nc.prediction}) in {out}/",
        ]
        for parts in entries.values():
            layer = parts[0]
            err = layer["mapping"]
            changed = layer["cell_sizing"].get("changed") or {}
            files = (
                f"{len(parts)} groups {parts[0]['file']} ... {parts[-1]['file']}"
                if len(parts) > 1
                else layer["file"]
            )
            lines.append(
                f"  {files}: {layer['n_inputs']} x {layer.get('layer_n_neurons', layer['n_neurons'])}, "
                f"{sum(p['n_synapse_pairs'] for p in parts)} pairs "
                + (
                    f"in {layer['conv']['tiles']} convolution tiles of {layer['conv']['tile_rows']} rows x "
                    f"{layer['conv']['tile_column_pairs']} column pairs"
                    if "conv" in layer
                    else f"in {sum(len(p['tiles']) for p in parts)} tiles"
                )
                + (
                    f", {layer['pool']['or_gates']} max-pool OR gates"
                    + (" (not in the split netlists)" if self.groups else "")
                    if "pool" in layer
                    else ""
                )
                + f", weight error rms {err['rms_error_rel'] * 100:.2f} % "
                f"(max {err['max_error_rel'] * 100:.2f} %)"
                + (
                    f"; cell resized for {layer['cell_sizing']['i_design_a'] * 1e3:.2f} mA: "
                    + ", ".join(f"{k} {v['from']:g} -> {v['to']:.3g}" for k, v in changed.items())
                    if changed
                    else ""
                )
            )
        if self.groups:
            lines.append(f"run: cd {out} && sh run.sh   (then: spinspice verify-raw {out} {out})")
        else:
            big = max(len(lc.neurons) for lc in nc.layers)
            if not self.single and big > 4 * DEFAULT_SPLIT:  # a command we suggest must finish in minutes
                lines.append(
                    f"a layer of {big} neurons is slow as one transient (minutes to hours): write the "
                    f"netlists with --split {DEFAULT_SPLIT} and run their run.sh (groups in parallel)"
                )
            else:
                lines.append(f"run: cd {out} && ngspice -b {manifest['layers'][0]['file']}")
        return "\n".join(lines)


def write_netlists(
    checkpoint: str | Path,
    *,
    sample: int = 0,
    dataset: str | None = None,
    single: bool = False,
    split: int | None = None,
    out: str | Path | None = Path("results/netlist"),
    seed: int = 0,
    **settings: Any,
) -> NetlistResult:
    """ngspice netlists of ``checkpoint`` driven by test image ``sample``.

    ``settings``: the synapse mapping and crossbar layout as
    :func:`~spinspice.cosim.runner.cosim_settings` keywords (``synapse``, ``levels``,
    ``variability``, ``clip_percentile``, ``v_read_v``, ``r_wire_ohm``, ``c_wire_f``,
    ``tile``, ``array_cols``, ``schedule``).  ``single``: one netlist of the whole network,
    layers joined by spike latches.  ``split``: each layer as groups of at most ``split``
    neurons (whole array columns when row by row), each a netlist ``layer<k>_g<i>.cir`` of
    its own (its crossbar columns, every row: exact with ideal wires, refused with wire
    parasitics or ``single``; a spike max-pool is left out), and ``run.sh`` that runs them in
    parallel (0 or None: one netlist per layer; :data:`DEFAULT_SPLIT` is the recommended size).
    Written into ``out`` (None: call ``.write`` yourself).
    A Co/Gd ANN checkpoint goes to :func:`spinspice.cosim.ann.write_cogd_netlists` (one
    ``network.cir``; ``v_read_v`` and ``variability`` apply)."""
    from spinspice.snn.ann import is_cogd_ann

    if is_cogd_ann(checkpoint):
        from spinspice.cosim.ann import write_cogd_netlists

        if split:
            raise ModelParameterError("a Co/Gd ANN is written as one network.cir: drop --split")

        kw = {k: settings[k] for k in ("v_read_v", "variability") if settings.get(k) is not None}
        return write_cogd_netlists(  # type: ignore[return-value]
            checkpoint, sample=sample, dataset=dataset, out=out or Path("results/netlist"), seed=seed, **kw
        )
    checkpoint = Path(checkpoint)
    seed_all(seed)
    ck, data = load_with_data(checkpoint, dataset, classes=False)
    if not 0 <= sample < len(data.y_test):
        raise ModelParameterError(f"--sample {sample}: the test split has {len(data.y_test)} images")
    # the co-simulation's mode does not apply to netlists: wires are drawn when they are given
    wires = any((settings.get(key) or 0) > 0 for key in ("r_wire_ohm", "c_wire_f"))
    settings = {"mode": "parasitic" if wires else "stepped", **settings}
    st = cosim_settings(seed=seed, **trained_schedule(ck.config, settings))
    options = st.options
    if split:
        if split < 0:
            raise ModelParameterError(f"--split {split}: give the neurons per netlist (>= 1), or 0 for none")
        check_split(options, single)
    device = get_synapse_device(st.synapse, st.levels)
    nc = network_circuits(
        ck.net,
        data.x_test[sample],
        device,
        label=int(data.y_test[sample]),
        options=options,
        clip_percentile=st.clip_percentile,
        variability=st.variability,
        seed=seed,
        single=single,
        index=sample,
    )
    meta = {
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": checkpoint_digest(checkpoint),
        "dataset": data.name,
        "sample": sample,
        "label": nc.label,
        "torch_prediction": nc.prediction,
        "synapse_device": device.to_json(),
        "crossbar": dataclasses.asdict(options),
        "steps": ck.config.steps,
        "slot_s": circuit_neuron(ck.net.neurons[0]).slot.period_s,
        "seed": seed,
        **({"split": split} if split else {}),
    }
    # Verilog-A of the device models (the clocked ideal-LIF cell is RC + XSPICE logic: none)
    circuits = [circuit_neuron(n) for n in ck.net.neurons]
    models = {
        n.model: get_model(n.model).compact_model() for n in circuits if not isinstance(n, LIFCircuitNeuron)
    }
    groups = []
    for k, lc in enumerate(nc.layers):
        parts = neuron_groups(len(lc.neurons), split, options) if split else []
        for i, grp in enumerate(parts):
            # a title of its own (verify-raw finds a raw file's netlist by it), lower case
            title = f"{nc.testbench_kwargs[k]['title']}, neuron group {i} of {len(parts)}"
            circuit = layer_group(nc, k, grp, title)
            groups.append(NeuronGroup(k, i, tuple(int(n["neuron"]) for n in circuit.neurons), circuit))
    extras = _layer_extras(ck.net, nc, single)
    result = NetlistResult(nc, extras, models, meta, single, groups=tuple(groups))
    if out is not None:
        result.write(out)
    return result
