"""Circuit commands: netlist, verify-raw, cosim, sweep, demo."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from spinspice.cli._common import *  # noqa: F403
from spinspice.cli._common import _emit, _progress, _seed
from spinspice.errors import ModelParameterError, SimulationError, SpinspiceError
from spinspice.io import atomic_write_json, atomic_write_text, report_header, staged_output, to_jsonable
from spinspice.units import parse_value

# -- netlist -------------------------------------------------------------------------
SynapseOpt = Annotated[str, typer.Option(help="synapse device: ideal, mtj, dw-mtj or cogd")]
LevelsOpt = Annotated[int | None, typer.Option(help="conductance levels of the synapse device")]
VariabilityOpt = Annotated[float, typer.Option(help="device-to-device log-normal sigma of every conductance")]
ClipOpt = Annotated[
    float, typer.Option("--clip-percentile", help="|w| percentile mapped to G_max (larger are clipped)")
]
VReadOpt = Annotated[str, typer.Option("--v-read", help="row read-pulse amplitude")]
RWireOpt = Annotated[str, typer.Option("--r-wire", help="wire resistance per crossbar segment")]
CWireOpt = Annotated[str, typer.Option("--c-wire", help="wire capacitance per crossbar segment")]
TileOpt = Annotated[int, typer.Option(help="largest crossbar tile side (devices)")]
ArrayColsOpt = Annotated[int | None, typer.Option("--array-cols", help="neuron array columns")]
ScheduleOpt = Annotated[
    str, typer.Option(help="all: every array row written each slot; rows: row by row (R x longer)")
]


def _crossbar_options(
    v_read: str, r_wire: str, c_wire: str, tile: int, array_cols: int | None, schedule: str
) -> Any:
    from spinspice.circuits.network import CrossbarOptions

    return CrossbarOptions(
        v_read_v=parse_value(v_read, "V", name="--v-read"),
        r_wire_ohm=parse_value(r_wire, "ohm", name="--r-wire"),
        c_wire_f=parse_value(c_wire, "F", name="--c-wire"),
        tile=tile,
        array_cols=array_cols,
        schedule=schedule,
    )


@app.command()
def netlist(
    checkpoint: CheckpointArg,
    sample: Annotated[int, typer.Option(help="index of the test image the netlists are driven by")] = 0,
    dataset: CkDatasetOpt = None,
    synapse: SynapseOpt = "ideal",
    levels: LevelsOpt = None,
    variability: VariabilityOpt = 0.0,
    clip_percentile: ClipOpt = 100.0,
    v_read: VReadOpt = "0.1V",
    r_wire: RWireOpt = "0",
    c_wire: CWireOpt = "0",
    tile: TileOpt = 256,
    array_cols: ArrayColsOpt = None,
    schedule: ScheduleOpt = "all",
    single: Annotated[
        bool,
        typer.Option("--single", help="one netlist of the whole network, layers joined by spike latches"),
    ] = False,
    out: OutOpt = Path("results/netlist"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """ngspice netlists of a trained network for one test sample (one .cir per layer, or the
    whole network with --single, + manifest)."""
    from spinspice.circuits.registry import get_model
    from spinspice.circuits.synapses import get_synapse_device
    from spinspice.cosim.build import LAYER_SKEW_S, network_circuits
    from spinspice.netlists.network import write_network
    from spinspice.snn.checkpoint import load_checkpoint
    from spinspice.snn.data import load_dataset

    _seed(seed)
    ck = load_checkpoint(checkpoint)
    data = load_dataset(dataset or ck.meta.get("dataset") or "mnist5k")
    if not 0 <= sample < len(data.y_test):
        raise ModelParameterError(f"--sample {sample}: the test split has {len(data.y_test)} images")
    options = _crossbar_options(v_read, r_wire, c_wire, tile, array_cols, schedule)
    device = get_synapse_device(synapse, levels)
    nc = network_circuits(
        ck.net,
        data.x_test[sample],
        device,
        label=int(data.y_test[sample]),
        options=options,
        clip_percentile=clip_percentile,
        variability=variability,
        seed=seed,
        single=single,
    )
    extras = []
    for k, (mapping, exp, ts) in enumerate(
        zip(nc.mappings, nc.expected_spikes, nc.torch_spikes, strict=True)
    ):
        extras.append(
            {
                "weight_shape": list(ck.net.synapses[k].weight.shape),
                "n_nonzero_weights": int((ck.net.synapses[k].weight != 0).sum()),
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
    models = {n.model: get_model(n.model).compact_model() for n in ck.net.neurons}
    meta = {
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
        "dataset": data.name,
        "sample": sample,
        "label": nc.label,
        "torch_prediction": nc.prediction,
        "synapse_device": device.to_json(),
        "crossbar": dataclasses.asdict(options),
        "steps": ck.config.steps,
        "slot_s": ck.net.neurons[0].slot.period_s,
        "seed": seed,
    }
    with staged_output(out) as stage:
        manifest = write_network(
            stage, nc.layers, layer_extras=extras, compact_models=models, meta=meta, single=single
        )
    what = f"one netlist of {len(nc.layers)} layers" if single else f"{len(nc.layers)} layer netlists"
    lines = [
        f"{what} for test image {sample} (label {nc.label}, torch predicts {nc.prediction}) in {out}/",
    ]
    for layer in manifest["layers"]:
        err = layer["mapping"]
        changed = layer["cell_sizing"].get("changed") or {}
        lines.append(
            f"  {layer['file']}: {layer['n_inputs']} x {layer['n_neurons']}, "
            f"{layer['n_synapse_pairs']} pairs "
            f"in {len(layer['tiles'])} tiles, weight error rms {err['rms_error_rel'] * 100:.2f} % "
            f"(max {err['max_error_rel'] * 100:.2f} %)"
            + (
                f"; cell resized for {layer['cell_sizing']['i_design_a'] * 1e3:.2f} mA: "
                + ", ".join(f"{k} {v['from']:g} -> {v['to']:.3g}" for k, v in changed.items())
                if changed
                else ""
            )
        )
    lines.append(f"run: cd {out} && ngspice -b {manifest['layers'][0]['file']}")
    _emit(manifest, json_out, "\n".join(lines))


# -- cosim -------------------------------------------------------------------------
def _parse_traces(text: str, net: Any, first_image: Any, seed: int) -> tuple[tuple[int, int], ...]:
    """``auto``: in each layer the neuron torch makes spike most on the first image;
    else ``layer:neuron`` pairs separated by commas (``none``: no traces)."""
    import torch

    if text == "none":
        return ()
    if text != "auto":
        try:
            pairs = tuple(tuple(int(x) for x in item.split(":")) for item in text.split(",") if item.strip())
        except ValueError:
            raise ModelParameterError(f"--trace {text!r}: give layer:neuron pairs, auto or none") from None
        if any(len(p) != 2 for p in pairs):
            raise ModelParameterError(f"--trace {text!r}: give layer:neuron pairs, auto or none")
        return pairs  # type: ignore[return-value]
    x = torch.as_tensor(first_image, dtype=torch.float32)[None]
    with torch.no_grad():
        _, rec = net(x, generator=torch.Generator().manual_seed(seed), record=True)
    return tuple((k, int(torch.cat(s).sum(0).argmax())) for k, s in enumerate(rec["spikes"]))


def _write_drivers(net: Any, options: Any) -> int:
    return sum(
        options.array_shape(s.weight.shape[0])[1] if options.multiplexed else s.weight.shape[0]
        for s in net.synapses
    )


@app.command("verify-raw")
def verify_raw_cmd(
    netlists: Annotated[Path, typer.Argument(help="the --out folder of `spinspice netlist` (manifest.json)")],
    raw: Annotated[Path, typer.Argument(help="raw file of one of its netlists run elsewhere (-r FILE)")],
    layer: Annotated[
        list[int] | None, typer.Option("--layer", help="layer index to check (repeatable; default: found)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="report folder (default: NETLISTS/verify-<raw name>)")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a netlist run outside spinspice: every neuron's spike slots in RAW vs the manifest's."""
    from spinspice.cosim.verify import load_manifest, verify_raw
    from spinspice.netlists.names import sanitize_identifier

    manifest = load_manifest(netlists)
    result = verify_raw(netlists, manifest, raw, layer)
    folder = out if out is not None else netlists / f"verify-{sanitize_identifier(raw.stem)}"
    report = {**report_header("spinspice.verify_raw"), "netlists": str(netlists), **result}
    atomic_write_json(folder / "verify.json", to_jsonable(report))
    lines = [
        f"layer {lay['index']} ({lay['file']}): {lay['matched_neurons']}/{lay['n_neurons']} neurons spike "
        "in the expected slots"
        + "".join(
            f"\n  neuron {n['neuron']}: circuit {n['circuit_slots']}, expected {n['expected_slots']}"
            for n in lay["mismatched"][:5]
        )
        for lay in result["layers"]
    ]
    lines.append(f"report: {folder / 'verify.json'}")
    _emit(report, json_out, "\n".join(lines))
    if not result["all_match"]:
        raise typer.Exit(1)


@app.command()
def cosim(
    checkpoint: CheckpointArg,
    samples: Annotated[int, typer.Option(help="number of test images (the first N)")] = 10,
    dataset: CkDatasetOpt = None,
    mode: Annotated[
        str,
        typer.Option(help="stepped (torch MAC currents), full (resistor crossbar) or parasitic (wire R/C)"),
    ] = "stepped",
    synapse: SynapseOpt = "ideal",
    levels: LevelsOpt = None,
    variability: VariabilityOpt = 0.0,
    clip_percentile: ClipOpt = 100.0,
    v_read: VReadOpt = "0.1V",
    r_wire: RWireOpt = "0",
    c_wire: CWireOpt = "0",
    tile: TileOpt = 256,
    array_cols: ArrayColsOpt = None,
    schedule: ScheduleOpt = "all",
    compare_schedules: Annotated[
        bool,
        typer.Option("--compare-schedules", help="also run the other field-line schedule and compare them"),
    ] = False,
    group: Annotated[int, typer.Option(help="neurons per ngspice run (ideal wires)")] = 1,
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = None,
    backend: Annotated[str, typer.Option(help="batch (ngspice -b) or shared (PySpice)")] = "batch",
    trace: Annotated[
        str, typer.Option(help="neurons whose traces are plotted: auto, none or layer:neuron,...")
    ] = "auto",
    keep_netlists: Annotated[
        bool, typer.Option("--keep-netlists", help="keep every run's netlist under OUT/netlists")
    ] = False,
    job_timeout: JobTimeoutOpt = None,
    resume: ResumeOpt = False,
    fresh: FreshOpt = False,
    out: OutOpt = Path("results/cosim"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Run test images through the transient circuit of a trained network, compare its spikes
    with the network's, and report agreement, latency and energy."""
    report = _cosim_job(
        checkpoint,
        job_timeout=job_timeout,
        resume=resume,
        fresh=fresh,
        samples=samples,
        dataset=dataset,
        mode=mode,
        synapse=synapse,
        levels=levels,
        variability=variability,
        clip_percentile=clip_percentile,
        options=_crossbar_options(v_read, r_wire, c_wire, tile, array_cols, schedule),
        compare_schedules=compare_schedules,
        group=group,
        workers=workers,
        scheduler=scheduler,
        backend=backend,
        trace=trace,
        keep_netlists=keep_netlists,
        out=out,
        seed=seed,
    )
    _emit(report, json_out, _cosim_summary(report, out))
    if report["failed_samples"]:
        raise _failed_jobs(report["failed_samples"], report["n_requested"], "images")


def _cosim_job(checkpoint: Path, *, options: Any, out: Path, seed: int, **kw: Any) -> dict[str, Any]:
    import time

    from spinspice.cosim.report import summarize_cosim, write_cosim_outputs
    from spinspice.cosim.runner import CosimSettings, prepare, run_cosim, sample_ids
    from spinspice.snn.checkpoint import load_checkpoint
    from spinspice.snn.data import load_dataset

    _seed(seed)
    ck = load_checkpoint(checkpoint)
    spec = kw["dataset"] or ck.meta.get("dataset") or "mnist5k"
    data = load_dataset(spec)
    ids = sample_ids(len(data.y_test), kw["samples"])
    settings = CosimSettings(
        timeout_s=kw["job_timeout"],
        mode=kw["mode"],
        synapse=kw["synapse"],
        levels=kw["levels"],
        variability=kw["variability"],
        clip_percentile=kw["clip_percentile"],
        options=options,
        group=kw["group"],
        backend=kw["backend"],
        traced=_parse_traces(kw["trace"], ck.net, data.x_test[ids[0]], seed + ids[0]),
        seed=seed,
    )
    prepared = prepare(ck.net, settings)  # refuses networks without circuits before any work
    neuron = ck.net.neurons[0]
    meta = {
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
        "dataset": data.name,
        "network": {
            "arch": ck.config.arch,
            "layers": [list(s.weight.shape) for s in ck.net.synapses],
            "neuron": neuron.model,
            "steps": ck.config.steps,
            "slot_s": neuron.slot.period_s,
        },
        "settings": settings.to_json(),
        "seed": seed,
        "workers": kw["workers"],
        "scheduler": kw.get("scheduler"),
    }
    kw["workers"] = kw["workers"] or (os.cpu_count() or 1)
    passes = [settings]
    if kw["compare_schedules"]:
        other = "rows" if options.schedule == "all" else "all"
        passes.append(dataclasses.replace(settings, options=dataclasses.replace(options, schedule=other)))
    # what identifies the run: not where or how long its jobs may run
    same_run = {k: v for k, v in meta.items() if k not in ("workers", "scheduler", "settings")}
    same_run["passes"] = [{**st.to_json(), "timeout_s": None} for st in passes]
    journal = _journal(
        out / "jobs", {"kind": "cosim", **same_run, "ids": ids}, resume=kw["resume"], fresh=kw["fresh"]
    )
    with staged_output(out) as stage, _progress() as progress:
        reports = []
        failed: list[dict[str, Any]] = []
        for st in passes:
            task = progress.add_task(f"cosim {st.mode} ({st.options.schedule})", total=len(ids))
            t0 = time.perf_counter()
            failures: list[dict[str, Any]] = []
            results = run_cosim(
                dataclasses.replace(prepared, settings=st),  # the mapping does not depend on the schedule
                data,
                ids,
                workers=kw["workers"],
                scheduler=kw.get("scheduler"),
                workdir=(stage / "netlists" / st.options.schedule) if kw["keep_netlists"] else None,
                on_sample=lambda _r, task=task: progress.advance(task),
                journal=journal / st.options.schedule,
                failures=failures,
            )
            failed += [{**f, "schedule": st.options.schedule} for f in failures]
            if not results:
                raise SimulationError(
                    f"all {len(ids)} images failed; first: {failures[0]['error']}",
                    netlist_path=failures[0]["netlist"],
                    attempts=failures[0]["attempts"],
                )
            rep = summarize_cosim(results, {**meta, "settings": st.to_json()})
            rep["wall_s"] = time.perf_counter() - t0
            reports.append((rep, results))
        report, results = reports[0]
        if len(reports) > 1:
            report["schedules"] = [
                {
                    "schedule": rep["settings"]["options"]["schedule"],
                    "write_drivers": _write_drivers(ck.net, st.options),
                    "step_s": rep_results[0]["layers"][0]["slot_s"],
                    **{
                        key: rep[key]
                        for key in (
                            "energy_per_inference_j",
                            "energy_per_spike_j",
                            "mean_latency_s",
                            "spike_agreement",
                            "class_agreement",
                        )
                    },
                    "energy_per_inference_by_component_j": rep["energy"]["per_inference_by_component_j"],
                }
                for (rep, rep_results), st in zip(reports, passes, strict=True)
            ]
        report["n_requested"] = len(ids)
        report["failed_samples"] = failed
        report = write_cosim_outputs(report, results, stage)
    return report


def _journal(folder: Path, key: dict[str, Any], *, resume: bool, fresh: bool) -> Path:
    """The job journal of a resumable run: ``folder/run.json`` names the run it belongs to.

    A journal with finished jobs is only continued with ``--resume`` (and only for the same
    run) or discarded with ``--fresh``; anything else is refused before work starts."""
    import shutil

    if resume and fresh:
        raise ModelParameterError("give --resume or --fresh, not both")
    key = json.loads(json.dumps(to_jsonable(key), sort_keys=True))
    stamp = folder / "run.json"
    done = sum(1 for _ in folder.rglob("*.json")) - stamp.is_file() if folder.is_dir() else 0
    if fresh and folder.is_dir():
        shutil.rmtree(folder)
    elif folder.is_dir() and done:
        try:
            same = json.loads(stamp.read_text(encoding="utf-8")).get("run") == key
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            same = False
        if not resume:
            raise ModelParameterError(
                f"{folder.parent} holds {done} finished jobs of an earlier run: pass --resume to complete "
                "it, --fresh to start over, or choose another --out"
            )
        if not same:
            raise ModelParameterError(
                f"{folder.parent} holds jobs of another run (other checkpoint, images or settings): "
                "--resume needs the same command; pass --fresh to start over or choose another --out"
            )
    atomic_write_json(stamp, {**report_header("spinspice.job_journal"), "run": key})
    return folder


def _failed_jobs(failed: list[dict[str, Any]], n_total: int, what: str) -> SpinspiceError:
    return SimulationError(
        f"{len(failed)} of {n_total} {what} failed (recorded in the report; the others are done): "
        f"run the same command again with --resume; first failure: {failed[0]['error']}"
    )


def _cosim_summary(r: dict[str, Any], out: Path) -> str:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f} %"

    lines = [
        f"{r['n_samples']} images, {r['settings']['mode']} mode: accuracy torch {pct(r['torch_accuracy'])}, "
        f"circuit {pct(r['circuit_accuracy'])}; class agreement {pct(r['class_agreement'])}",
        f"spike agreement (+-1 step) {pct(r['spike_agreement'])} (hidden {pct(r['hidden_spike_agreement'])}, "
        f"output {pct(r['output_spike_agreement'])})",
        f"mean latency {r['mean_latency_s'] * 1e9:.3f} ns; energy per inference "
        f"{r['energy_per_inference_j'] * 1e12:.4g} pJ, per spike "
        + (f"{r['energy_per_spike_j'] * 1e12:.4g} pJ" if r["energy_per_spike_j"] else "n/a"),
    ]
    for s in r.get("schedules", []):
        lines.append(
            f"  schedule {s['schedule']}: {s['write_drivers']} write drivers, "
            f"step {s['step_s'] * 1e9:.3g} ns, {s['energy_per_inference_j'] * 1e12:.4g} pJ per inference, "
            f"latency {s['mean_latency_s'] * 1e9:.3f} ns, "
            f"spike agreement {pct(s['spike_agreement'])}"
        )
    lines.append(f"report: {out / 'report.md'}")
    return "\n".join(lines)


# -- sweep -------------------------------------------------------------------------
def _parse_grid(sets: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in sets:
        name, sep, values = item.partition("=")
        name = name.strip()
        if not sep or not name or not values.strip():
            raise ModelParameterError(f"--set {item!r}: write NAME=V1,V2,... (e.g. t_off_s=1n,2n)")
        if name in grid:
            raise ModelParameterError(f"--set {name!r} given twice")
        parts = [v.strip() for v in values.split(",") if v.strip()]
        if name in ("schedule", "synapse"):
            grid[name] = parts
        elif name == "levels":
            grid[name] = [int(parse_value(v, None, name=f"--set {name}")) for v in parts]
        else:
            grid[name] = [parse_value(v, None, name=f"--set {name}") for v in parts]
    return grid


@app.command()
def sweep(
    checkpoint: CheckpointArg,
    set_: Annotated[
        list[str],
        typer.Option(
            "--set",
            help="NAME=V1,V2,...: a neuron parameter (see `spinspice models`) or variability, v_read_v, "
            "schedule, synapse, levels, clip_percentile; repeat for a grid",
        ),
    ],
    samples: Annotated[int, typer.Option(help="test images per point (the first N)")] = 5,
    dataset: CkDatasetOpt = None,
    mode: Annotated[str, typer.Option(help="stepped, full or parasitic")] = "stepped",
    workers: WorkersOpt = 0,
    scheduler: SchedulerOpt = None,
    job_timeout: JobTimeoutOpt = None,
    resume: ResumeOpt = False,
    fresh: FreshOpt = False,
    out: OutOpt = Path("results/sweep"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """A grid of co-simulations over neuron and circuit parameters: results table (CSV, JSON)
    and trade-off plots; a failed or interrupted sweep is completed with --resume."""
    import csv
    import io

    from spinspice.cosim.grid import SUMMARY_KEYS, grid_points, plot_tradeoffs, run_sweep, validate_points
    from spinspice.cosim.runner import CosimSettings, sample_ids
    from spinspice.snn.checkpoint import load_checkpoint
    from spinspice.snn.data import load_dataset

    _seed(seed)
    workers = workers or (os.cpu_count() or 1)
    grid = _parse_grid(set_)
    points = grid_points(grid)
    ck = load_checkpoint(checkpoint)
    spec = dataset or ck.meta.get("dataset") or "mnist5k"
    data = load_dataset(spec)
    ids = sample_ids(len(data.y_test), samples)
    base = CosimSettings(mode=mode, seed=seed, timeout_s=job_timeout)
    validate_points(ck.net, base, points)
    if resume and fresh:
        raise ModelParameterError("give --resume or --fresh, not both")
    sweep_spec = {
        "checkpoint_sha256": hashlib.sha256(checkpoint.read_bytes()).hexdigest(),
        "dataset": data.name,
        "grid": grid,
        "samples": ids,
        "mode": mode,
        "seed": seed,
    }
    spec_path = out / "sweep.json"
    if spec_path.is_file() and fresh:
        import shutil

        shutil.rmtree(out / "points", ignore_errors=True)  # only what a sweep writes
        for name in ("sweep.json", "results.csv", "results.json", "tradeoff.png"):
            (out / name).unlink(missing_ok=True)
    elif spec_path.is_file():
        try:
            same = json.loads(spec_path.read_text(encoding="utf-8")) == to_jsonable(sweep_spec)
        except (UnicodeDecodeError, json.JSONDecodeError):
            same = False
        finished = len(list((out / "points").glob("*.json")))
        if not same:
            raise ModelParameterError(
                f"{out} holds another sweep (different checkpoint, grid, samples, mode or seed): "
                "choose another --out, or pass --fresh to discard it"
            )
        if finished and not resume:
            raise ModelParameterError(
                f"{out} holds {finished} points of this sweep: pass --resume to complete it, --fresh to "
                "start over, or choose another --out"
            )
    elif out.exists() and any(out.iterdir()):
        raise ModelParameterError(f"{out} exists and is not a sweep folder: choose another --out")
    atomic_write_json(spec_path, sweep_spec)
    resumed = 0
    with _progress() as progress:
        task = progress.add_task(f"sweep ({len(points)} points x {len(ids)} images)", total=len(points))

        def done(_row: dict[str, Any], cached: bool) -> None:
            nonlocal resumed
            resumed += cached
            progress.advance(task)

        rows = run_sweep(
            ck.net, data, ids, base, points, out, workers=workers, scheduler=scheduler, on_point=done
        )
    names = list(grid)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*names, "status", *SUMMARY_KEYS])
    for r in rows:
        writer.writerow(
            [
                *(r["point"][n] for n in names),
                r["status"],
                *("" if r[k] is None else r[k] for k in SUMMARY_KEYS),
            ]
        )
    atomic_write_text(out / "results.csv", buf.getvalue())
    report = {
        **report_header("spinspice.sweep"),
        **sweep_spec,
        "points": rows,
        "resumed_points": resumed,
        "failed_points": [
            {
                "point": r["point"],
                "error": r["failed_samples"][0]["error"],
                "failed_samples": r["failed_samples"],
            }
            for r in rows
            if r["status"] != "done"
        ],
        "files": ["results.csv", "results.json", "sweep.json", "tradeoff.png", "points/"],
    }
    plot_tradeoffs(rows, out / "tradeoff.png")
    atomic_write_json(out / "results.json", report)
    lines = [f"{len(rows)} points x {len(ids)} images ({resumed} resumed from {out}/points):"]
    for r in rows:
        point = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in r["point"].items())
        if r["status"] != "done":
            lines.append(f"  {point}: FAILED ({r['failed_samples'][0]['error']})")
            continue
        acc = r["circuit_accuracy"]
        lines.append(
            f"  {point}: circuit accuracy {'n/a' if acc is None else f'{acc * 100:.1f} %'}, "
            f"spike agreement {r['spike_agreement'] * 100:.1f} %, "
            f"{r['energy_per_inference_j'] * 1e12:.4g} pJ/inference, "
            f"latency {r['mean_latency_s'] * 1e9:.3f} ns"
        )
    lines.append(f"table: {out / 'results.csv'}; plot: {out / 'tradeoff.png'}")
    _emit(report, json_out, "\n".join(lines))
    if report["failed_points"]:
        raise _failed_jobs(report["failed_points"], len(rows), "points")


# -- demo --------------------------------------------------------------------------
#: the bundled default of `spinspice demo`: a paper-001-style FC network, narrower hidden
#: layer (so that training and the circuit check of 10 images fit in minutes on 2 cores)
DEMO_ARCH = "fc:784-100-10"
DEMO_EPOCHS = 2


@app.command()
def demo(
    out: OutOpt = Path("results/demo"),
    checkpoint: Annotated[
        Path, typer.Option(help="cached checkpoint: reused when it matches, else (re)trained here")
    ] = Path("results/demo-model/model.pt"),
    dataset: Annotated[str, typer.Option(help="data set")] = "mnist5k",
    arch: Annotated[str, typer.Option(help="network")] = DEMO_ARCH,
    epochs: Annotated[int, typer.Option(help="training epochs")] = DEMO_EPOCHS,
    max_train: Annotated[int | None, typer.Option("--max-train", help="first N training images only")] = None,
    samples: Annotated[int, typer.Option(help="test images co-simulated")] = 10,
    workers: Annotated[int, typer.Option(help="processes (default: up to 2)")] = 0,
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """The main job on the bundled default: train a DW-LIF network on the bundled MNIST subset
    (or reuse the cached checkpoint), run ``samples`` test images through its circuit (stepped
    MAC), report, and write the netlists for the first test image."""
    import contextlib

    from spinspice.snn.checkpoint import load_checkpoint

    why = _demo_cache_mismatch(checkpoint, dataset, arch, epochs, max_train, seed, load_checkpoint)
    # the steps' own summaries go to stderr: stdout carries the demo's summary (or JSON) only
    with contextlib.redirect_stdout(sys.stderr):
        if why:
            sys.stderr.write(f"training the demo network ({why})\n")
            train(
                dataset=dataset,
                arch=arch,
                neuron="dw-lif",
                preset=None,
                param=None,
                epochs=epochs,
                steps=25,
                encoding="rate",
                batch_size=128,
                lr=1e-3,
                device="cpu",
                max_train=max_train,
                baseline=False,
                compile_=True,
                out=checkpoint,
                json_out=False,
                seed=seed,
            )
        else:
            sys.stderr.write(f"reusing the demo network {checkpoint}\n")
        report = _cosim_job(
            checkpoint,
            samples=samples,
            dataset=dataset,
            mode="stepped",
            synapse="ideal",
            levels=None,
            variability=0.0,
            clip_percentile=100.0,
            options=_crossbar_options("0.1V", "0", "0", 256, None, "all"),
            compare_schedules=False,
            group=1,
            workers=workers or max(1, min(2, os.cpu_count() or 1)),
            backend="batch",
            trace="auto",
            keep_netlists=False,
            job_timeout=None,
            resume=False,
            fresh=True,  # the demo is a new run each time
            out=out,
            seed=seed,
        )
        netlist(
            checkpoint,
            sample=0,
            dataset=dataset,
            synapse="ideal",
            levels=None,
            variability=0.0,
            clip_percentile=100.0,
            v_read="0.1V",
            r_wire="0",
            c_wire="0",
            tile=256,
            array_cols=None,
            schedule="all",
            single=False,
            out=out / "netlists",
            json_out=False,
            seed=seed,
        )
    report["demo"] = {"checkpoint": str(checkpoint), "trained": bool(why), "netlists": str(out / "netlists")}
    atomic_write_json(out / "report.json", report)
    _emit(report, json_out, "demo: " + _cosim_summary(report, out) + f"\nnetlists: {out / 'netlists'}/")


def _demo_cache_mismatch(
    path: Path, dataset: str, arch: str, epochs: int, max_train: int | None, seed: int, load: Any
) -> str | None:
    """Why the cached demo checkpoint cannot be reused (None: it can)."""
    if not path.is_file():
        return f"no checkpoint at {path}"
    try:
        ck = load(path)
    except SpinspiceError as err:
        return f"the cached checkpoint is unusable: {err}"
    training = ck.meta.get("training") or {}
    have = (ck.config.arch, ck.config.neuron.get("model"), ck.meta.get("dataset"), training.get("epochs"))
    want = (arch, "dw-lif", dataset.split(":")[0], epochs)
    if have != want or training.get("max_train") != max_train or training.get("seed") != seed:
        return f"the cached checkpoint is for {have}, not {want}"
    return None


