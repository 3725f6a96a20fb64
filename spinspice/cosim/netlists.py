"""``spinspice.cosim.write_netlists``: standalone ngspice netlists of a trained checkpoint.

For one test image: one ``layer<k>.cir`` per layer (or ``network.cir`` with ``single``),
``lib/spinspice_cells.lib``, ``va/<model>.va`` and ``manifest.json`` naming every probe,
the expected spike slots and the SHA-256 of each file (docs/netlists.md).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.circuits.registry import get_model
from spinspice.circuits.synapses import get_synapse_device
from spinspice.cosim.build import (
    LAYER_SKEW_S,
    LIFCircuitNeuron,
    NetworkCircuits,
    circuit_neuron,
    network_circuits,
)
from spinspice.cosim.runner import cosim_settings, trained_schedule
from spinspice.errors import ModelParameterError
from spinspice.io import Result, seed_all, staged_output
from spinspice.netlists.network import write_network
from spinspice.snn.checkpoint import checkpoint_digest, load_with_data

__all__ = ["NetlistResult", "write_netlists"]


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

    def report(self) -> dict[str, Any]:
        if self.manifest is None:
            raise ModelParameterError(
                "the manifest is made when the netlists are written: call .write(folder)"
            )
        return self.manifest

    def write(self, folder: str | Path) -> Path:
        """Every netlist, the cell library, the Verilog-A models and manifest.json, atomically."""
        folder = Path(folder)
        with staged_output(folder) as stage:
            self.manifest = write_network(
                stage,
                self.circuits.layers,
                layer_extras=self.extras,
                compact_models=self.compact_models,
                meta=self.meta,
                single=self.single,
            )
        self.out = folder
        return folder

    def summary(self) -> str:
        manifest, nc, out = self.report(), self.circuits, self.out
        what = (
            f"one netlist of {len(nc.layers)} layers" if self.single else f"{len(nc.layers)} layer netlists"
        )
        lines = [
            f"{what} for test image {self.meta['sample']} (label {nc.label}, torch predicts "
            f"{nc.prediction}) in {out}/",
        ]
        for layer in manifest["layers"]:
            err = layer["mapping"]
            changed = layer["cell_sizing"].get("changed") or {}
            lines.append(
                f"  {layer['file']}: {layer['n_inputs']} x {layer['n_neurons']}, "
                f"{layer['n_synapse_pairs']} pairs "
                + (
                    f"in {layer['conv']['tiles']} convolution tiles of {layer['conv']['tile_rows']} rows x "
                    f"{layer['conv']['tile_column_pairs']} column pairs"
                    if "conv" in layer
                    else f"in {len(layer['tiles'])} tiles"
                )
                + (f", {layer['pool']['or_gates']} max-pool OR gates" if "pool" in layer else "")
                + f", weight error rms {err['rms_error_rel'] * 100:.2f} % "
                f"(max {err['max_error_rel'] * 100:.2f} %)"
                + (
                    f"; cell resized for {layer['cell_sizing']['i_design_a'] * 1e3:.2f} mA: "
                    + ", ".join(f"{k} {v['from']:g} -> {v['to']:.3g}" for k, v in changed.items())
                    if changed
                    else ""
                )
            )
        lines.append(f"run: cd {out} && ngspice -b {manifest['layers'][0]['file']}")
        return "\n".join(lines)


def write_netlists(
    checkpoint: str | Path,
    *,
    sample: int = 0,
    dataset: str | None = None,
    single: bool = False,
    out: str | Path | None = Path("results/netlist"),
    seed: int = 0,
    **settings: Any,
) -> NetlistResult:
    """ngspice netlists of ``checkpoint`` driven by test image ``sample``.

    ``settings``: the synapse mapping and crossbar layout as
    :func:`~spinspice.cosim.runner.cosim_settings` keywords (``synapse``, ``levels``,
    ``variability``, ``clip_percentile``, ``v_read_v``, ``r_wire_ohm``, ``c_wire_f``,
    ``tile``, ``array_cols``, ``schedule``).  ``single``: one netlist of the whole network,
    layers joined by spike latches.  Written into ``out`` (None: call ``.write`` yourself).
    A Co/Gd ANN checkpoint goes to :func:`spinspice.cosim.ann.write_cogd_netlists` (one
    ``network.cir``; ``v_read_v`` and ``variability`` apply)."""
    from spinspice.snn.ann import is_cogd_ann

    if is_cogd_ann(checkpoint):
        from spinspice.cosim.ann import write_cogd_netlists

        kw = {k: settings[k] for k in ("v_read_v", "variability") if settings.get(k) is not None}
        return write_cogd_netlists(  # type: ignore[return-value]
            checkpoint, sample=sample, dataset=dataset, out=out or Path("results/netlist"), seed=seed, **kw
        )
    checkpoint = Path(checkpoint)
    seed_all(seed)
    ck, data = load_with_data(checkpoint, dataset, classes=False)
    if not 0 <= sample < len(data.y_test):
        raise ModelParameterError(f"--sample {sample}: the test split has {len(data.y_test)} images")
    st = cosim_settings(seed=seed, **trained_schedule(ck.config, settings))
    options = st.options
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
    }
    # Verilog-A of the device models (the clocked ideal-LIF cell is RC + XSPICE logic: none)
    circuits = [circuit_neuron(n) for n in ck.net.neurons]
    models = {
        n.model: get_model(n.model).compact_model() for n in circuits if not isinstance(n, LIFCircuitNeuron)
    }
    result = NetlistResult(nc, _layer_extras(ck.net, nc, single), models, meta, single)
    if out is not None:
        result.write(out)
    return result
