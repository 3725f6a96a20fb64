"""``spinspice.cosim.run``: co-simulate test images of a trained checkpoint and report.

One call does what ``spinspice cosim`` does: load the checkpoint and its data set, map the
weights, run every image layer by layer through the transient circuit (on a process pool
or a Dask cluster), compare the circuit's spikes with the network's, and write
``report.json``/``report.md`` and the figures.  Every finished image is journalled
(:class:`~spinspice.sim.jobs.Journal` in ``OUT/jobs``), so an interrupted or partly failed
run is completed with ``resume=True``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spinspice.circuits.network import SCHEDULES
from spinspice.cosim.build import neuron_spikes, torch_record
from spinspice.cosim.report import summarize_cosim, write_cosim_outputs
from spinspice.cosim.runner import (
    cosim_settings,
    prepare,
    quiet_worker,
    run_cosim,
    sample_ids,
    trained_schedule,
)
from spinspice.errors import ModelParameterError, SimulationError, check_setting
from spinspice.io import Result, displayed, seed_all, staged_output
from spinspice.sim.jobs import Journal, Mapper, executor
from spinspice.sim.osdi import fallback_reason, resolve_accuracy, resolve_models
from spinspice.snn.arch import image_seed
from spinspice.snn.checkpoint import checkpoint_digest, load_with_data
from spinspice.units import eng

__all__ = ["CosimResult", "failed_jobs_error", "resolve_traces", "run"]

#: the figures a schedule comparison keeps of each schedule's report
_SCHEDULE_KEYS = (
    "energy_per_inference_j",
    "energy_per_spike_j",
    "mean_latency_s",
    "spike_agreement",
    "class_agreement",
    "unmatched_circuit_spikes",
    "half_select",
)
#: device counts of a schedule's arrays, summed over the layers
_DEVICE_KEYS = ("write_drivers", "select_devices", "field_line_drivers")


def resolve_traces(trace: str | Sequence[Sequence[int]], net: Any, image: Any, seed: int) -> tuple:
    """The (layer, neuron) pairs whose traces are kept: ``"none"``, pairs (or their text
    ``"layer:neuron,..."``), or ``"auto"``: in each layer the neuron torch makes spike most
    on ``image``."""
    bad = ModelParameterError(f"--trace {trace!r}: give layer:neuron pairs, auto or none")
    if trace == "none":
        return ()
    if trace == "auto":
        _, rec = torch_record(net, image, seed)
        layers = range(len(rec["neuron_spikes"]))
        return tuple((k, int(neuron_spikes(rec, k).sum(0).argmax())) for k in layers)
    if isinstance(trace, str):
        trace = [item.split(":") for item in trace.split(",") if item.strip()]
    try:
        pairs = tuple(tuple(int(x) for x in p) for p in trace)
    except ValueError:
        raise bad from None
    if any(len(p) != 2 for p in pairs):
        raise bad
    return pairs


def failed_jobs_error(failed: list[dict[str, Any]], n_total: int, what: str) -> SimulationError:
    """The error a run with failed jobs ends with (after its report is written)."""
    return SimulationError(
        f"{len(failed)} of {n_total} {what} failed (recorded in the report; the others are done): "
        f"run the same command again with --resume; first failure: {failed[0]['error']}"
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def cosim_summary(r: dict[str, Any], out: Path | None) -> str:
    """The lines ``spinspice cosim`` prints for a report."""
    lines = [
        f"{r['n_samples']} images, {r['settings']['mode']} mode"
        + (f" ({r['network']['neuron_circuit']} neurons)" if r["network"].get("neuron_circuit") else "")
        + ": accuracy torch "
        f"{_pct(r['torch_accuracy'])}, circuit {_pct(r['circuit_accuracy'])}; class agreement "
        f"{_pct(r['class_agreement'])}",
        f"spike agreement (+-1 step) {_pct(r['spike_agreement'])} (hidden "
        f"{_pct(r['hidden_spike_agreement'])}, output {_pct(r['output_spike_agreement'])})",
        f"mean latency {eng(r['mean_latency_s'], 's')}; energy per inference "
        f"{eng(r['energy_per_inference_j'], 'J')}, per spike {eng(r['energy_per_spike_j'] or None, 'J')}",
    ]
    if ns := r.get("noise_seeds"):
        lines.append(
            f"stochastic neurons: compared on torch's noise realisation of each image; torch accuracy "
            f"over {len(ns['seeds'])} noise seeds {_pct(ns['mean'])} +- {ns['std'] * 100:.1f} %"
        )
    for s in r.get("schedules", []):
        lines.append(
            f"  schedule {s['schedule']}: {s['write_drivers']} write drivers, {s['select_devices']} select "
            f"devices, {s['field_line_drivers']} field-line drivers, step {eng(s['step_s'], 's')}, "
            f"{eng(s['energy_per_inference_j'], 'J')} per inference, "
            f"latency {eng(s['mean_latency_s'], 's')}, spike agreement {_pct(s['spike_agreement'])}, "
            f"{s['unmatched_circuit_spikes']} spurious spikes"
            + (
                f", half-select {_pct(s['half_select']['fraction_of_gap'])} of the threshold gap"
                if s["half_select"] and s["half_select"]["fraction_of_gap"] is not None
                else ""
            )
        )
    if out is not None:
        lines.append(
            f"report: {out / 'report.md'}"
            + ("" if "report.html" not in r.get("files", []) else f", {out / 'report.html'}")
        )
    return "\n".join(lines)


@dataclasses.dataclass
class CosimResult(Result):
    """A network co-simulation: the report (schema ``spinspice.cosim``) and the per-image
    results it was computed from (spike steps and times, energies, traces)."""

    data: dict[str, Any]
    results: list[dict[str, Any]]
    out: Path | None = None
    #: schedule -> the images this call took from the journal instead of simulating them
    resumed: dict[str, list[int]] = dataclasses.field(default_factory=dict)

    def summary(self) -> str:
        return cosim_summary(self.data, self.out)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The images whose circuit runs failed (``resume=True`` runs them again)."""
        return list(self.data.get("failed_samples") or [])

    def error(self) -> SimulationError | None:
        """The error of a run whose images partly failed (None: all done)."""
        failed = self.failed
        return failed_jobs_error(failed, self.data["n_requested"], "images") if failed else None

    def write(self, folder: str | Path) -> Path:
        """report.json, report.md, traces.npz and the figures, atomically."""
        folder = Path(folder)
        with staged_output(folder) as stage:
            self.data = write_cosim_outputs(self.data, self.results, stage)
        return folder


def run(
    checkpoint: str | Path,
    *,
    samples: int | Sequence[int] = 10,
    dataset: str | None = None,
    out: str | Path = Path("results/cosim"),
    resume: bool = False,
    fresh: bool = False,
    workers: int = 0,
    scheduler: str | None = None,
    trace: str | Sequence[Sequence[int]] = "auto",
    keep_netlists: bool = False,
    compare_schedules: bool = False,
    seed: int = 0,
    progress: Any = None,
    **settings: Any,
) -> CosimResult:
    """Co-simulate test images of ``checkpoint`` through its transient circuit.

    ``samples``: the first N test images, or a list of indices.  ``settings``: how the
    circuit is built and run, as :func:`~spinspice.cosim.runner.cosim_settings` keywords
    (``mode="stepped"|"full"|"parasitic"``, ``synapse``, ``levels``, ``variability``,
    ``clip_percentile``, ``v_read_v``, ``r_wire_ohm``, ``c_wire_f``, ``tile``,
    ``array_cols``, ``schedule``, ``group``, ``backend``, ``timeout_s``).  ``workers``:
    local processes (0: one per core); ``scheduler``: a Dask scheduler address instead.
    ``compare_schedules`` also runs the other field-line schedule.  Writes the report into
    ``out`` and journals every image in ``out/jobs`` (``resume``/``fresh`` as the CLI).
    A run whose images partly failed returns normally: see :attr:`CosimResult.failed`.
    A Co/Gd ANN checkpoint (``kind = "cogd-ann"``) goes to
    :func:`spinspice.cosim.ann.cosim_cogd_ann` (``backend``, ``v_read_v``, ``variability``,
    ``timeout_s`` apply; the spiking settings do not)."""
    from spinspice.snn.ann import is_cogd_ann

    check_setting("workers", workers, low=0, integer=True)
    seed_all(seed)
    if is_cogd_ann(checkpoint):
        from spinspice.cosim.ann import cosim_cogd_ann

        kw = {k: settings[k] for k in ("backend", "v_read_v", "variability", "timeout_s") if k in settings}
        return cosim_cogd_ann(  # type: ignore[return-value]
            checkpoint, samples=samples, dataset=dataset, out=out, workers=workers,
            keep_netlists=keep_netlists, seed=seed, progress=progress, **kw,
        )  # fmt: skip
    # the worker processes start (Python, torch: seconds) while this one loads and maps
    with executor(workers or (os.cpu_count() or 1), scheduler, initializer=quiet_worker) as mapper:
        return _run_spiking(
            checkpoint, samples=samples, dataset=dataset, out=out, resume=resume, fresh=fresh,
            workers=workers, scheduler=scheduler, trace=trace, keep_netlists=keep_netlists,
            compare_schedules=compare_schedules, seed=seed, progress=progress, mapper=mapper, **settings,
        )  # fmt: skip


def _run_spiking(
    checkpoint: str | Path,
    *,
    samples: int | Sequence[int],
    dataset: str | None,
    out: str | Path,
    resume: bool,
    fresh: bool,
    workers: int,
    scheduler: str | None,
    trace: str | Sequence[Sequence[int]],
    keep_netlists: bool,
    compare_schedules: bool,
    seed: int,
    progress: Any,
    mapper: Mapper,
    **settings: Any,
) -> CosimResult:
    out = Path(out)
    checkpoint = Path(checkpoint)
    # the seed was checked and set by run(), before the pool started
    ck, data = load_with_data(checkpoint, dataset, classes=False)
    ids = sample_ids(len(data.y_test), samples)
    st = cosim_settings(seed=seed, **trained_schedule(ck.config, settings))
    traced = resolve_traces(trace, ck.net, data.x_test[ids[0]], image_seed(seed, ids[0]))
    st = dataclasses.replace(st, traced=traced)
    prepared = prepare(ck.net, st)  # refuses networks without circuits before any work
    neuron = prepared.neurons[0]  # as its circuit sees it (ideal LIF: the clocked cell)
    meta = {
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": checkpoint_digest(checkpoint),
        "dataset": data.name,
        "network": {
            "arch": ck.config.arch,
            "layers": [list(s.weight.shape) for s in ck.net.synapses],
            "neuron": neuron.model,
            # the neuron circuit when it is no device cell (ideal LIF: the behavioural clocked cell)
            **({"neuron_circuit": kind} if (kind := getattr(neuron.cell, "circuit_kind", None)) else {}),
            "steps": ck.config.steps,
            "slot_s": neuron.slot.period_s,
            "encoding": ck.config.encoding,
            "timing": ck.config.timing,
        },
        "settings": st.to_json(),
        "device_models": resolve_models(),
        "accuracy": resolve_accuracy(),
        "seed": seed,
        "workers": workers,
        "scheduler": scheduler,
    }
    workers = workers or (os.cpu_count() or 1)
    passes = [st]
    if compare_schedules:  # the others; the access-transistor-free array only where fields select
        gated = getattr(neuron.cell, "fieldline", None) is not None
        others = [x for x in SCHEDULES if x != st.options.schedule and (gated or x != "rows-free")]
        for x in others:
            passes.append(dataclasses.replace(st, options=dataclasses.replace(st.options, schedule=x)))
    # what identifies the run: not where or how long its jobs may run
    same_run = {k: v for k, v in meta.items() if k not in ("workers", "scheduler", "settings")}
    same_run["passes"] = [{**p.to_json(), "timeout_s": None} for p in passes]
    journal = Journal(out, {"kind": "cosim", **same_run, "ids": ids}, resume=resume, fresh=fresh)
    with journal, staged_output(out) as stage, displayed(progress) as progress:  # holds `out` (run_lock)
        reports = []
        failed: list[dict[str, Any]] = []
        resumed: dict[str, list[int]] = {}
        for p in passes:
            schedule = p.options.schedule
            task = progress.add_task(f"cosim {p.mode} ({schedule})", total=len(ids))
            t0 = time.perf_counter()
            failures: list[dict[str, Any]] = []
            results = run_cosim(
                dataclasses.replace(prepared, settings=p),  # the mapping does not depend on the schedule
                data,
                ids,
                workers=workers,
                scheduler=scheduler,
                workdir=(stage / "netlists" / schedule) if keep_netlists else None,
                on_sample=lambda _r, task=task: progress.advance(task),
                journal=journal,
                job_prefix=f"{schedule}/",
                failures=failures,
                resumed=resumed.setdefault(schedule, []),
                mapper=mapper,
            )
            resumed[schedule].sort()
            failed += [{**f, "schedule": schedule} for f in failures]
            if not results:
                raise SimulationError(
                    f"all {len(ids)} images failed; first: {failures[0]['error']}",
                    netlist_path=failures[0]["netlist"],
                    attempts=failures[0]["attempts"],
                )
            rep = summarize_cosim(results, {**meta, "settings": p.to_json()})
            if why := fallback_reason():  # a device module failed to compile under --models auto
                rep.update(device_models="bsource", device_models_fallback=why)
            rep["wall_s"] = time.perf_counter() - t0
            reports.append((rep, results))
        report, results = reports[0]
        if len(reports) > 1:
            report["schedules"] = [
                {
                    "schedule": rep["settings"]["options"]["schedule"],
                    **{key: sum(a.get(key, 0) for a in rep["arrays"]) for key in _DEVICE_KEYS},
                    "step_s": rep["step_s"],
                    **{key: rep[key] for key in _SCHEDULE_KEYS},
                    "energy_per_inference_by_component_j": rep["energy"]["per_inference_by_component_j"],
                }
                for rep, _ in reports
            ]
        report["n_requested"] = len(ids)
        report["failed_samples"] = failed
        if any(getattr(n, "stochastic", False) for n in ck.net.neurons):
            # the circuit is checked on one noise realisation per image; the network's accuracy
            # is a distribution over realisations: the whole test set under several seeds
            from spinspice.snn.api import noise_seed_accuracy

            report["noise_seeds"] = noise_seed_accuracy(ck.net, data, "cpu")
        report = write_cosim_outputs(report, results, stage)
    return CosimResult(report, results, out, resumed)
