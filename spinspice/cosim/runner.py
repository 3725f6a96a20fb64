"""Co-simulation of a trained network through its transient circuits (SPEC 4).

For each test image the network runs once in torch (the reference, with
seeded input spikes); then layer by layer the circuit runs in ngspice and
*its* spikes become the next layer's inputs:

- ``stepped`` (mode 1, exact for ideal wires): torch computes every column's
  Norton equivalent per write slot -- the current ``I_j(t) = sum_i G_ij
  V_i(t)`` into the virtual-ground column (its conductance ``G_j = sum_i
  G_ij`` only loads the row drivers: it sets the crossbar's read energy,
  computed here from the conductances) -- and the write driver's copy of it
  is a PWL current source into each neuron cell.  No crossbar in the netlist.
- ``full`` (mode 2): the crossbar of the netlist issue, every synapse a
  resistor, ideal wires; the golden reference for mode 1.
- ``parasitic`` (mode 3): the same with wire R (and C) per segment.

Neurons of a layer are independent once their inputs are known (ideal wires:
virtual-ground columns and ideal row drivers), so each ngspice run holds a
group of ``group`` neurons; with wire parasitics the rows couple the columns,
and the whole layer is one run.  A task is a pure function of the checkpoint,
the settings and the sample index, so results do not depend on which process
ran it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from spinspice.circuits.core import VoltageSource
from spinspice.circuits.network import CrossbarOptions, LayerCircuit, layer_testbench
from spinspice.circuits.synapses import LayerMapping, get_synapse_device
from spinspice.cosim.agreement import layer_agreement
from spinspice.cosim.build import (
    LayerGeometry,
    LIFCircuitNeuron,
    check_circuit_network,
    circuit_neuron,
    expected_from_drive,
    layer_noise,
    layer_offsets_s,
    map_network,
    network_geometry,
    neuron_spikes,
    next_layer_input,
    torch_record,
)
from spinspice.errors import ModelParameterError, SimulationError, SpinspiceError, check_setting, did_you_mean
from spinspice.io import atomic_write_text
from spinspice.models.waveforms import PulseTrain
from spinspice.sim.backends import get_backend, run_many
from spinspice.sim.energy import delivered_energy_j, delivered_power_w
from spinspice.sim.jobs import Journal, Mapper, executor
from spinspice.sim.osdi import netlist_text, resolve_accuracy, spike_shift_vs_default
from spinspice.sim.simulate import probe_names
from spinspice.sim.spikes import crossings
from spinspice.snn.arch import SpikingNet, image_seed
from spinspice.snn.neurons import DeviceNeuron

__all__ = [
    "MAX_BATCH",
    "MODES",
    "CosimSettings",
    "GroupTask",
    "PreparedNetwork",
    "batch_size",
    "cosim_settings",
    "crossbar_read_energy_j",
    "prepare",
    "run_cosim",
    "run_group",
    "run_groups",
    "run_job",
    "sample_ids",
    "simulate_sample",
    "trained_schedule",
]

MODES = ("stepped", "full", "parasitic")

#: energy components of a layer (supplies of the cells plus the crossbar read)
CROSSBAR = "crossbar_read"


@dataclasses.dataclass(frozen=True)
class CosimSettings:
    """How the circuit is built and run (everything but the network and the samples)."""

    mode: str = "stepped"
    synapse: str = "ideal"
    levels: int | None = None
    variability: float = 0.0
    clip_percentile: float = 100.0
    options: CrossbarOptions = dataclasses.field(default_factory=CrossbarOptions)
    group: int = 1  # neurons per ngspice run (ideal wires); measured fastest on 2 cores
    backend: str = "batch"
    traced: tuple[tuple[int, int], ...] = ()  # (layer, neuron) whose traces are kept
    seed: int = 0
    timeout_s: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ModelParameterError(f"mode {self.mode!r}: choose one of {', '.join(MODES)}")
        wires = self.options.r_wire_ohm > 0
        if self.mode == "parasitic" and not wires:
            raise ModelParameterError("parasitic mode needs wire resistance: give --r-wire (and --c-wire)")
        if self.mode != "parasitic" and wires:
            raise ModelParameterError(
                f"{self.mode} mode has ideal wires: use --mode parasitic for --r-wire/--c-wire"
            )
        if self.group < 1:
            raise ModelParameterError("group (neurons per ngspice run) must be >= 1")
        check_setting("variability", self.variability, low=0.0, high=1.0)
        check_setting("clip_percentile", self.clip_percentile, low=0.0, high=100.0, low_open=True)
        if self.timeout_s is not None:
            check_setting("job timeout", self.timeout_s, low=0.0, low_open=True, unit="s")
        if self.levels is not None:
            check_setting("levels", self.levels, low=2, integer=True)

    def to_json(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "options": dataclasses.asdict(self.options)}


def trained_schedule(config: Any, settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with the field-line schedule the network was trained with where they give
    none (``schedule``/``array_cols`` absent or None): a network trained row by row is built
    and checked row by row unless asked otherwise."""
    out = dict(settings)
    if out.get("schedule") is None:
        out["schedule"] = config.schedule
    timing = {"all": "all", "rows": "rows", "rows-free": "rows"}  # rows-free: the rows timing
    if out.get("array_cols") is None and timing.get(out["schedule"]) == timing.get(config.schedule):
        out["array_cols"] = config.array_cols
    return out


def cosim_settings(**kw: Any) -> CosimSettings:
    """:class:`CosimSettings` from flat keywords: its own fields (``mode``, ``synapse``,
    ``levels``, ``variability``, ``clip_percentile``, ``group``, ``backend``, ``traced``,
    ``seed``, ``timeout_s``) and those of its :class:`~spinspice.circuits.network.CrossbarOptions`
    (``v_read_v``, ``r_wire_ohm``, ``c_wire_f``, ``tile``, ``array_cols``, ``schedule``), or a
    whole ``options=CrossbarOptions(...)``."""
    own = {f.name for f in dataclasses.fields(CosimSettings)}
    crossbar = {f.name for f in dataclasses.fields(CrossbarOptions)}
    unknown = [k for k in kw if k not in own | crossbar]
    if unknown:
        raise ModelParameterError(
            f"unknown co-simulation setting {unknown[0]!r}{did_you_mean(unknown[0], own | crossbar)}; "
            f"settings: {', '.join(sorted((own - {'options'}) | crossbar))}"
        )
    options = kw.pop("options", None) or CrossbarOptions()
    changes = {k: kw.pop(k) for k in list(kw) if k in crossbar}
    if changes:
        options = dataclasses.replace(options, **changes)
    return CosimSettings(options=options, **kw)


@dataclasses.dataclass(frozen=True)
class PreparedNetwork:
    """A checkpoint's network with its layers mapped to conductances."""

    net: SpikingNet
    mappings: tuple[LayerMapping, ...]
    settings: CosimSettings
    geometry: tuple[LayerGeometry, ...] = ()

    @property
    def neurons(self) -> tuple[DeviceNeuron | LIFCircuitNeuron, ...]:
        """Every layer's neurons as their circuits see them (ideal LIF: the clocked cell)."""
        return tuple(circuit_neuron(n) for n in self.net.neurons)


def prepare(net: SpikingNet, settings: CosimSettings) -> PreparedNetwork:
    """Check that every layer has a circuit and map its weights (seeded as ``spinspice netlist``)."""
    check_circuit_network(net)
    device = get_synapse_device(settings.synapse, settings.levels)
    geometry = network_geometry(net)
    mappings = map_network(
        net,
        device,
        clip_percentile=settings.clip_percentile,
        variability=settings.variability,
        seed=settings.seed,
        geometry=geometry,
    )
    return PreparedNetwork(net, mappings, settings, geometry)


def crossbar_read_energy_j(
    mapping: LayerMapping, inputs: np.ndarray, slot: PulseTrain, options: CrossbarOptions
) -> float:
    """Energy the row drivers deliver to an ideal-wire crossbar: every read pulse of row ``i``
    at ``V = a V_read`` dissipates ``V^2 sum_j (G+_ij + G-_ij)`` over the pulse's
    ``integral of shape^2`` (plateau + 2/3 of both edges: :func:`slot_pwl`), once per read
    pulse (row by row: once per array row)."""
    g_row = (mapping.g_pos_s + mapping.g_neg_s).sum(axis=0)  # (in + 1,)
    levels = mapping.row_levels(inputs)
    shape_sq = slot.plateau_s + 2.0 * slot.t_edge_s / 3.0
    reads = options.array_shape(mapping.g_pos_s.shape[0])[0] if options.multiplexed else 1
    return float(((levels * options.v_read_v) ** 2 @ g_row).sum() * shape_sq * reads)


def _groups(n: int, size: int) -> list[list[int]]:
    return [list(range(s, min(s + size, n))) for s in range(0, n, size)]


def _energy_terms(lc: LayerCircuit) -> tuple[tuple[str, str, Any], ...]:
    """(component, current probe key, voltage) of every supply of a layer run and of its
    measured row drivers (``crossbar_read``); the voltage is a DC value or PWL points."""
    tb = lc.testbench
    sources = {e.name: e for e in tb.elements if isinstance(e, VoltageSource)}

    def volts(name: str) -> Any:
        wave = sources[name].wave
        return tuple(wave.points) if wave is not None else float(sources[name].dc_v)

    terms = [(component, f"i_{name}", volts(name)) for component, name in tb.supplies]
    measured = {p.key for p in tb.probes if p.kind == "i"}
    terms += [
        (CROSSBAR, f"i_{r['source']}", volts(r["source"])) for r in lc.rows if f"i_{r['source']}" in measured
    ]
    return tuple(terms)


@dataclasses.dataclass(frozen=True)
class GroupTask:
    """One ngspice run of a co-simulation: the netlist of a layer circuit for some of its
    neurons and what to measure in it -- plain text and numbers, cheap to send to another
    process or machine.  A pure task: the same task gives the same result anywhere."""

    netlist: str
    vectors: tuple[tuple[str, str], ...]  # probe key -> ngspice vector
    neurons: tuple[int, ...]
    spike_level_v: float
    energy_terms: tuple[tuple[str, str, Any], ...]
    traced: tuple[tuple[int, tuple[str, ...]], ...]  # neuron -> its voltage probe keys
    thresholds_v: tuple[float, float]
    #: the device state a trace shows: (probe key, axis label, threshold or None)
    state: tuple[str, str, float | None]
    #: neuron -> (its device-state probe key, (start, end) of the other rows' write pulses)
    half_select: tuple[tuple[int, str, tuple[tuple[float, float], ...]], ...]
    backend: str
    timeout_s: float | None
    netlist_path: Path | None

    @classmethod
    def of(
        cls,
        lc: LayerCircuit,
        neurons: Sequence[int],
        traced: Sequence[int],
        backend: str,
        timeout_s: float | None,
        netlist_path: Path | None,
        accuracy: str | None = None,
    ) -> GroupTask:
        tb = lc.testbench
        # a neuron's own voltage probes: inside its instance n<j>, and its input node (v_win<j>)
        # (matching keys by their trailing index would give neuron 1 the probes of neuron 11)
        keys = {
            j: tuple(
                p.key for p in tb.probes if p.kind == "v" and (p.path[0] == f"n{j}" or p.key == f"v_win{j}")
            )
            for j in traced
        }
        steps = round(tb.analysis.t_stop_s / lc.slot_s)
        half = tuple(
            (j, f"{lc.state_key}{j}", tuple(map(tuple, lc.half_selected(j, steps).tolist())))
            for j in neurons
            if lc.state_key is not None and lc.schedule != "all"
        )
        spike_level_v, thresholds_v = _levels(lc.cell)
        state_key, _, state_label, state_threshold = lc.cell.state_plot()
        return cls(
            netlist_text(tb, accuracy=accuracy, klu=lc.schedule == "all"),
            tuple(probe_names(tb).items()),
            tuple(neurons),
            spike_level_v,
            _energy_terms(lc),
            tuple(keys.items()),
            thresholds_v,
            (state_key, state_label, state_threshold),
            half,
            backend,
            timeout_s,
            netlist_path,
        )


@functools.lru_cache(maxsize=32)
def _levels(cell: Any) -> tuple[float, tuple[float, float]]:
    """A cell's spike level and comparator thresholds [V] (the MTJ read-out divider: once per
    cell, not once per run)."""
    return cell.spike_level_v(), tuple(cell.thresholds_v())


def run_group(task: GroupTask) -> dict[str, Any]:
    """Simulate a group and return its spike times, energies by component and traces."""
    try:
        wf = get_backend(task.backend).run(
            task.netlist, netlist_path=task.netlist_path, timeout_s=task.timeout_s
        )
    except SimulationError as err:
        err.netlist_text = task.netlist  # type: ignore[attr-defined]  # kept by the caller's journal
        raise
    return _group_result(task, wf)


def run_groups(tasks: Sequence[GroupTask]) -> list[dict[str, Any]]:
    """:func:`run_group` of several tasks of one layer in one ngspice process
    (:func:`~spinspice.sim.backends.run_many`; a task that fails there runs again on its own,
    with the escalation): the same results, start-up and process round trip paid once."""
    if len(tasks) == 1:
        return [run_group(tasks[0])]
    if len({(t.backend, t.timeout_s) for t in tasks}) > 1:
        raise ValueError("a batch of group tasks shares one backend and one time limit")
    done = run_many(
        get_backend(tasks[0].backend),
        [t.netlist for t in tasks],
        netlist_paths=[t.netlist_path for t in tasks],
        timeout_s=tasks[0].timeout_s,
    )
    out = []
    for task, wf in zip(tasks, done, strict=True):
        if isinstance(wf, SimulationError):
            wf.netlist_text = task.netlist  # type: ignore[attr-defined]
            raise wf
        out.append(_group_result(task, wf))
    return out


#: the most group tasks one ngspice process runs (:func:`run_groups`)
MAX_BATCH = 16


def batch_size(n_tasks: int, slots: int) -> int:
    """Group tasks per ngspice process for ``n_tasks`` runs on ``slots`` parallel workers:
    enough batches (4 per worker) that the workers stay evenly loaded, at most
    :data:`MAX_BATCH` runs each."""
    return max(1, min(MAX_BATCH, n_tasks // (4 * max(1, slots))))


def run_job(job: tuple[Any, ...]) -> Any:
    """``fn(*args)`` of a job ``(fn, *args)``: what the workers run (``fn`` a module-level
    function, so that the job pickles)."""
    fn, *args = job
    return fn(*args)


def _group_result(task: GroupTask, wf: Any) -> dict[str, Any]:
    wf = wf.with_probes(dict(task.vectors))
    t = wf.time_s
    energy: dict[str, float] = {}
    power: dict[str, np.ndarray] = {}  # of the run's supplies by component, for its traces
    for component, key, volts in task.energy_terms:
        v = np.interp(t, *np.asarray(volts, float).T) if isinstance(volts, tuple) else volts
        energy[component] = energy.get(component, 0.0) + delivered_energy_j(t, v, wf[key])
        if task.traced:
            power[component] = power.get(component, 0.0) + delivered_power_w(v, wf[key])
    traces = {
        j: {
            "neuron": j,
            "time_s": t,
            "spike": wf[f"spike{j}"],
            **{key[: -len(str(j))]: wf[key] for key in keys},
            "thresholds_v": list(task.thresholds_v),
            "spike_level_v": task.spike_level_v,
            "supply_power_w": power,  # every supply of the run: its neurons, drivers (crossbar rows)
            "run_neurons": len(task.neurons),
            **dict(zip(("state_key", "state_label", "state_threshold"), task.state, strict=True)),
        }
        for j, keys in task.traced
    }
    return {
        "spikes": {j: crossings(t, wf[f"spike{j}"], task.spike_level_v) for j in task.neurons},
        "half_select": {
            j: half_select_change(t, wf[key], wf[f"spike{j}"], windows, task.spike_level_v)
            for j, key, windows in task.half_select
        },
        "energy_j": energy,
        "traces": traces,
        "time_points": len(t),
        "attempts": list(getattr(wf, "attempts", ("as written",))),  # the convergence escalation
    }


def half_select_change(
    t: np.ndarray, state: np.ndarray, spike: np.ndarray, windows: Sequence[Sequence[float]], level_v: float
) -> float:
    """The largest change of a cell's device state over the write pulses of other rows
    (``windows``: start, end), skipping pulses during which the cell itself fires or resets
    (its comparator above a tenth of the spike level): the half-select disturbance of a
    row-by-row array (with a 1T select switch only the cell's leak; on the access-transistor-
    free array the leak plus what the write current does at the closed gate)."""
    if not len(windows):
        return 0.0
    w = np.asarray(windows, float)
    a, b = np.interp(w[:, 0], t, state), np.interp(w[:, 1], t, state)
    lo, hi = np.searchsorted(t, w[:, 0]), np.searchsorted(t, w[:, 1], side="right")
    busy = np.array([spike[i : max(j, i + 1)].max(initial=0.0) for i, j in zip(lo, hi, strict=True)])
    busy = busy > 0.1 * level_v
    quiet = ~busy & (w[:, 1] <= t[-1])
    return float(np.abs(b - a)[quiet].max(initial=0.0))


def simulate_sample(
    prepared: PreparedNetwork,
    image: np.ndarray,
    *,
    index: int,
    label: int | None = None,
    workdir: str | Path | None = None,
    mapper: Mapper = map,
    slots: int = 1,
) -> dict[str, Any]:
    """Run test image ``index`` through torch and through the circuit, layer by layer.

    Returns a JSON-able result: per layer the circuit's and torch's spike steps, the
    expectation of the device model on the circuit's own inputs, energies by component,
    run counts and times; the sample's classes, latency figures and traces of the
    neurons in ``settings.traced``.  ``workdir`` keeps each run's netlist (named in a
    simulation error).  The work goes through ``mapper`` (``map``, a process pool's or a Dask
    client's; results in task order) as pure jobs (:func:`run_job`): the torch reference of
    the image, then per layer the model's expectation and the ngspice runs of the groups,
    several per ngspice process (:func:`run_groups`, :func:`batch_size` for ``slots``
    parallel workers).  This process only builds the netlists and collects the results."""
    st = prepared.settings
    net = prepared.net
    [(counts, rec)] = list(mapper(run_job, [(torch_record, net, image, image_seed(st.seed, index))]))
    steps = net.config.steps
    layers_out: list[dict[str, Any]] = []
    traces: dict[str, dict[str, Any]] = {}
    inputs = torch.cat(rec["encoded"]).reshape(steps, -1).numpy().astype(float)
    first_input = np.flatnonzero(inputs.any(axis=1))
    t_spikes_last: list[np.ndarray] = []
    slot_last = 0.0
    slots_s: list[float] = []
    fast = resolve_accuracy() != "default"
    for k, neuron in enumerate(prepared.neurons):
        mapping = prepared.mappings[k]
        geo = prepared.geometry[k]
        mask = geo.mask
        n_out = mapping.g_pos_s.shape[0]
        torch_steps = neuron_spikes(rec, k)
        noise = layer_noise(rec, k, neuron)  # stochastic neurons: torch's realisation, in the circuit too
        # the device model's expectation on the circuit's own inputs: a job beside the runs
        drive = mapping.drive(inputs)  # the layer's MAC drives: once, for every group
        expect = (expected_from_drive, neuron, drive, st.options, None, noise)
        traced = {j for (lk, j) in st.traced if lk == k}
        if st.mode == "parasitic":
            groups = [list(range(n_out))]
        elif st.options.access_free:  # a series write line is simulated whole: groups of columns
            n_cols = st.options.array_shape(n_out)[1]
            groups = [
                [j for c in cols for j in range(c, n_out, n_cols)] for cols in _groups(n_cols, st.group)
            ]
        else:
            groups = _groups(n_out, st.group)
        spike_times: list[np.ndarray] = [np.zeros(0) for _ in range(n_out)]
        half_select: dict[int, float] = {}
        energy: dict[str, float] = {}
        t0 = time.perf_counter()
        points = 0
        tasks, lc = [], None
        # --accuracy fast: the group with the most torch spikes also runs at the default accuracy
        checked = max(range(len(groups)), key=lambda g: torch_steps[:, groups[g]].sum()) if fast else -1
        for g, grp in enumerate(groups):
            lc = layer_testbench(
                neuron.cell.network_cell(),
                neuron.slot,
                neuron.u_unit,
                mapping,
                inputs,
                st.options,
                weight_mask=mask,
                title=f"cosim sample {index} layer {k} neurons {grp[0]}..{grp[-1]} ({st.mode})",
                neurons=grp,
                stepped=st.mode == "stepped",
                traced=traced,
                row_probes=st.mode != "stepped",
                drive_limit=neuron.u_max,
                noise=noise,
                drive=drive,
            )
            path = Path(workdir) / f"s{index}_l{k}_n{grp[0]}.cir" if workdir is not None else None
            tasks.append(GroupTask.of(lc, grp, sorted(traced & set(grp)), st.backend, st.timeout_s, path))
            if path is not None:  # --keep-netlists
                atomic_write_text(path, tasks[-1].netlist)
            if g == checked:
                tasks.append(GroupTask.of(lc, grp, [], st.backend, st.timeout_s, None, accuracy="default"))
        retried: list[dict[str, Any]] = []
        size = batch_size(len(tasks), slots)
        jobs = [expect, *((run_groups, tuple(tasks[i : i + size])) for i in range(0, len(tasks), size))]
        model, *batches = mapper(run_job, jobs)
        model_steps = np.asarray(model)
        outs = [out for batch in batches for out in batch]
        accuracy_check = None
        if fast:
            ref, mine = outs.pop(checked + 1), outs[checked]
            accuracy_check = {
                "preset": resolve_accuracy(),
                "neurons": list(groups[checked]),
                **spike_shift_vs_default(
                    [mine["spikes"][j] for j in groups[checked]], [ref["spikes"][j] for j in groups[checked]]
                ),
                "time_points": mine["time_points"],
                "time_points_default": ref["time_points"],
            }
        for grp, out in zip(groups, outs, strict=True):
            points += out["time_points"]
            if len(out["attempts"]) > 1:
                retried.append({"neurons": list(grp), "attempts": out["attempts"]})
            for j, times in out["spikes"].items():
                spike_times[j] = times
            half_select.update(out["half_select"])
            for comp, e in out["energy_j"].items():
                energy[comp] = energy.get(comp, 0.0) + e
            traces.update({f"l{k}n{j}": {"layer": k, **tr} for j, tr in out["traces"].items()})
        assert lc is not None
        if st.mode == "stepped":
            energy[CROSSBAR] = crossbar_read_energy_j(mapping, inputs, neuron.slot, st.options)
        slot_s = lc.slot_s
        circuit = np.zeros((steps, n_out), dtype=bool)
        circuit_steps: list[list[int]] = []
        for j, times in enumerate(spike_times):
            s = np.floor(times / slot_s).astype(int)
            s = s[(s >= 0) & (s < steps)]
            circuit[s, j] = True
            circuit_steps.append(sorted(set(s.tolist())))
        torch_lists = [np.flatnonzero(torch_steps[:, j]).tolist() for j in range(n_out)]
        model_lists = [np.flatnonzero(model_steps[:, j]).tolist() for j in range(n_out)]
        layers_out.append(
            {
                "index": k,
                "kind": geo.kind,
                "n_neurons": n_out,
                "n_outputs": geo.n_pooled,  # what the next layer reads (after a max-pool)
                "n_inputs": mapping.g_pos_s.shape[1] - 1,
                "n_runs": len(groups),
                "retried_runs": retried,
                "time_points": points,
                "wall_s": time.perf_counter() - t0,
                "slot_s": slot_s,
                "write_slot_s": lc.write_slot_s,
                "circuit_steps": circuit_steps,
                "circuit_times_s": [t.tolist() for t in spike_times],
                "torch_steps": torch_lists,
                "model_steps": model_lists,
                "energy_j": energy,
                "vs_torch": layer_agreement(circuit_steps, torch_lists),
                "vs_model": layer_agreement(circuit_steps, model_lists),
                "cell_sizing": lc.sizing,
                "array": {
                    "schedule": lc.schedule,
                    "rows": lc.array_shape[0],
                    "cols": lc.array_shape[1],
                    "write_drivers": lc.n_write_drivers,
                    "select_devices": lc.n_select_devices,
                    "field_line_drivers": lc.n_field_line_drivers,
                    "cells_in_series": lc.cells_in_series,
                },
                "half_select": _half_select_record(half_select, neuron),
                "neuron_circuit": _circuit_record(lc),
                **({"accuracy_check": accuracy_check} if accuracy_check is not None else {}),
            }
        )
        # the next layer reads this layer's circuit spikes (max-pooled: OR of each window), a step
        # later or (same-step timing) in the same step, one slot behind
        inputs = next_layer_input(net, geo.pooled(circuit))
        t_spikes_last, slot_last = spike_times, slot_s
        slots_s.append(slot_s)
    circuit_counts = np.array([len(t) for t in t_spikes_last])
    torch_counts = counts[0].numpy()
    circuit_class = int(np.argmax(circuit_counts))  # the torch rule: first of the largest counts
    t_first_in = float(first_input[0] * slot_last) if len(first_input) else 0.0
    all_out = np.concatenate([t for t in t_spikes_last if len(t)]) if circuit_counts.sum() else np.zeros(0)
    first_out = float(all_out.min()) if len(all_out) else None
    # the output layer's time axis starts this late under same-step timing (0 under next-step)
    offset = layer_offsets_s(net, slots_s)[-1]
    if first_out is not None:
        first_out += offset
    win = t_spikes_last[circuit_class]
    decision = offset + (float(win.min()) if len(win) else steps * slot_last)
    return {
        "index": index,
        "label": label,
        "steps": steps,
        "torch_class": int(torch_counts.argmax()),
        "circuit_class": circuit_class,
        "torch_counts": torch_counts.astype(int).tolist(),
        "circuit_counts": circuit_counts.astype(int).tolist(),
        "output_spiked": bool(circuit_counts.sum()),
        "latency": {
            "first_input_s": t_first_in,
            "first_output_spike_s": None if first_out is None else first_out - t_first_in,
            "decision_s": decision - t_first_in,
            "decided_by_spike": bool(len(win)),
            "output_layer_offset_s": offset,
        },
        "energy_j": {
            comp: sum(layer["energy_j"].get(comp, 0.0) for layer in layers_out)
            for comp in sorted({c for layer in layers_out for c in layer["energy_j"]})
        },
        "circuit_spikes": int(sum(sum(len(s) for s in layer["circuit_steps"]) for layer in layers_out)),
        "layers": layers_out,
        "traces": traces,
    }


def _circuit_record(lc: LayerCircuit) -> dict[str, Any]:
    """What kind of neuron circuit a layer has: a device cell, or the behavioural clocked
    ideal-LIF circuit (with its membrane, threshold and unit current)."""
    describe = getattr(lc.cell, "describe_circuit", None)
    return describe() if describe is not None else {"kind": f"{lc.cell.model} device cell"}


def _half_select_record(changes: dict[int, float], neuron: Any) -> dict[str, Any] | None:
    """The layer's half-select disturbance: the largest device-state change of a cell during
    other rows' write pulses, also as a fraction of its rest-to-threshold gap."""
    if not changes:
        return None
    j = max(changes, key=lambda k: changes[k])
    ts = neuron.dyn.threshold_state or neuron.dyn.progress
    gap = abs(ts[1] - float(neuron.dyn.y0[ts[0]])) if ts is not None else None
    return {
        "max_state_change": changes[j],
        "neuron": int(j),
        "threshold_gap": gap,
        "fraction_of_gap": changes[j] / gap if gap else None,
        "cells": len(changes),
    }


def sample_ids(n_test: int, samples: int | Sequence[int]) -> list[int]:
    """The test images to run: the first ``samples`` or the given indices."""
    ids = list(range(samples)) if isinstance(samples, int) else [int(i) for i in samples]
    bad = [i for i in ids if not 0 <= i < n_test]
    if not ids:
        raise ModelParameterError(f"samples {samples!r}: give at least one test image (0..{n_test - 1})")
    if bad:
        raise ModelParameterError(
            f"{len(bad)} of the {len(ids)} samples asked for ({id_ranges(bad)}) are not in the test split: "
            f"it has {n_test} images, 0..{n_test - 1}"
        )
    return ids


def id_ranges(ids: Sequence[int], shown: int = 3) -> str:
    """``ids`` as short runs, ``"10-99999, 100005"``; past ``shown`` runs, how many more."""
    runs: list[list[int]] = []
    for i in sorted(set(ids)):
        if runs and i == runs[-1][1] + 1:
            runs[-1][1] = i
        else:
            runs.append([i, i])
    text = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:shown])
    return text + (f" and {len(runs) - shown} more runs" if len(runs) > shown else "")


# -- running many samples ----------------------------------------------------------
def quiet_worker() -> None:
    """Initialiser of pool workers: one torch thread each (the pool already uses every core)."""
    torch.set_num_threads(1)


#: parallel workers assumed of a Dask cluster when sizing batches (:func:`batch_size`)
DASK_SLOTS = 8


def run_cosim(
    prepared: PreparedNetwork,
    data: Any,
    ids: Sequence[int],
    *,
    workers: int = 1,
    scheduler: str | None = None,
    workdir: str | Path | None = None,
    on_sample: Callable[[dict[str, Any]], None] | None = None,
    journal: Journal | None = None,
    job_prefix: str = "",
    failures: list[dict[str, Any]] | None = None,
    resumed: list[int] | None = None,
    mapper: Mapper | None = None,
) -> list[dict[str, Any]]:
    """Co-simulate test images ``ids`` of ``data``; every layer's ngspice runs are spread over
    ``workers`` processes or the Dask cluster at ``scheduler`` (:func:`executor`; or
    ``mapper``, an executor's that the caller opened for ``workers`` and ``scheduler``).
    Results come back in the order of ``ids`` and do not depend on where the runs went.

    ``journal``: where each finished image is recorded (job ``<job_prefix>sample-<i>``,
    atomically) and from which finished images are taken instead of being run again
    (resume; :class:`~spinspice.sim.jobs.Journal`).  ``failures``: when given, an image whose
    runs fail (ngspice error or crash, a dead worker) is appended there as ``{"index",
    "error", "netlist", "attempts", "log_tail"}`` and left out of the results, and the other
    images go on; without it the first failure is raised.  ``resumed``: when given, the
    indices of the images taken from the journal are appended there."""
    from spinspice.io import to_jsonable

    def one(i: int, mapper: Mapper) -> dict[str, Any] | None:
        key = f"{job_prefix}sample-{i}"
        if journal is not None:
            result = journal.get(key, accept=lambda r: r.get("index") == i)
            if result is not None:
                if resumed is not None:
                    resumed.append(i)
                return result
        try:
            result = simulate_sample(
                prepared,
                data.x_test[i],
                index=i,
                label=int(data.y_test[i]),
                workdir=workdir,
                mapper=mapper,
                slots=DASK_SLOTS if scheduler else workers,
            )
        except SpinspiceError as err:
            if failures is None:
                raise
            failures.append(failure_record(i, err, journal, job_prefix))
            return None
        # every result takes the same JSON round trip, run now or read back from the journal
        result = json.loads(json.dumps(to_jsonable(result), allow_nan=False))
        if journal is not None:
            journal.put(key, result)
        return result

    def finished(result: dict[str, Any] | None) -> None:
        if result is not None and on_sample is not None:
            on_sample(result)

    with contextlib.ExitStack() as stack:
        if mapper is None:
            mapper = stack.enter_context(executor(workers, scheduler, initializer=quiet_worker))
        if workers == 1 and not scheduler:
            out = []
            for i in ids:
                out.append(one(i, mapper))
                finished(out[-1])
        else:
            # two images in flight: while one waits for its layer's runs, the other builds its
            # next layer (torch, netlists), so the workers do not idle between layers and images
            import concurrent.futures as cf

            with cf.ThreadPoolExecutor(max_workers=2) as threads:
                futures = [threads.submit(one, i, mapper) for i in ids]
                for fut in cf.as_completed(futures):
                    finished(fut.result())
                out = [f.result() for f in futures]
    if failures is not None:
        failures.sort(key=lambda f: f["index"])
    return [r for r in out if r is not None]


def failure_record(
    index: int, err: SpinspiceError, journal: Journal | None = None, job_prefix: str = ""
) -> dict[str, Any]:
    """What a report keeps of a failed image: the cause, the netlist, the options tried.

    With a ``journal`` the failing netlist is kept there as ``<job_prefix>failed-sample-<i>.cir``
    (a run's own netlist lives in a temporary folder that is gone by now)."""
    netlist = getattr(err, "netlist_path", None)
    text = getattr(err, "netlist_text", None)
    if journal is not None and text:
        netlist = journal.keep(f"{job_prefix}failed-sample-{index}", text, ".cir")
    return {
        "index": index,
        "error": str(err),
        "kind": type(err).__name__,
        "netlist": str(netlist) if netlist else None,
        "attempts": list(getattr(err, "attempts", [])),
        "log_tail": list(getattr(err, "log_tail", []))[-5:],
    }
