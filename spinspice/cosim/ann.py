"""Transient verification of paper 003's Co/Gd sigmoid ANN (``kind = "cogd-ann"`` checkpoints).

:func:`cosim_cogd_ann` runs test images through the circuit of
:func:`spinspice.circuits.ann.ann_testbench` (every layer in one transient: RESET, then one
SET window per layer) on ngspice and compares, for every neuron, the circuit's read-out
(``V(ro)/V_read``, taken mid-gap after the layer's SET window) with the torch network's
activation (stored quantised weights, float64).  Every figure comes from the simulation:

* ``activation_error_rms``: RMS of (circuit - torch) activation over every neuron of every
  layer and image, relative to the activation swing (w in [0, 1]: swing 1); per layer too;
* ``class_agreement``: fraction of images whose circuit argmax equals torch's argmax, with
  the accuracies of both on those images;
* settling latency: per neuron, the time from the start of its layer's SET window until its
  read-out stays within 1 % of full scale (``SETTLE_TOL``) of its final value; the
  inference latency is when the last output has settled, the decision latency when the
  circuit's final winner leads every other output by more than that tolerance for good
  (both from the start of the inference, RESET included);
* energy per inference: the integral of ``-V I`` of every supply (SET and RESET drivers, row
  buffers with the crossbar they drive, Hall read bias), per component and layer.

:func:`write_cogd_netlists` writes the same circuit for one test image as a standalone
``network.cir`` (``ngspice -b network.cir``) with ``manifest.json``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spinspice import __version__
from spinspice.circuits.ann import ANN_COMPONENTS, AnnCircuitOptions, AnnTiming, ann_testbench, ann_timing
from spinspice.circuits.synapses import LayerMapping, map_layer
from spinspice.errors import ModelParameterError, SimulationError, SpinspiceError
from spinspice.io import (
    Result,
    atomic_write_json,
    atomic_write_text,
    displayed,
    pyplot,
    report_header,
    save_figure,
    seed_all,
    staged_output,
    to_jsonable,
)
from spinspice.models.cogd import CoGdParams
from spinspice.netlists.spice import format_testbench, get_vector_name
from spinspice.sim.energy import delivered_energy_j
from spinspice.sim.jobs import executor
from spinspice.sim.osdi import netlist_text
from spinspice.sim.simulate import simulate
from spinspice.snn.ann import CoGdAnnCheckpoint, load_cogd_ann
from spinspice.snn.checkpoint import checkpoint_digest
from spinspice.snn.data import Dataset, load_dataset
from spinspice.units import eng

__all__ = [
    "ANN_COSIM_SCHEMA",
    "SETTLE_TOL",
    "AnnCosimResult",
    "AnnJob",
    "AnnNetlistResult",
    "cosim_cogd_ann",
    "simulate_ann_sample",
    "summarize_ann_cosim",
    "write_cogd_netlists",
]

ANN_COSIM_SCHEMA = "spinspice.cogd_ann_cosim"
#: a read-out has settled when it stays within this fraction of full scale of its final value
SETTLE_TOL = 0.01


@dataclasses.dataclass(frozen=True)
class AnnJob:
    """One image's circuit run (picklable: goes to a worker process)."""

    index: int
    label: int | None
    x: np.ndarray
    mappings: tuple[LayerMapping, ...]
    p: CoGdParams
    i_unit_a: float
    i_offset_a: float
    i_max_a: float
    timing: AnnTiming
    options: AnnCircuitOptions
    backend: str = "batch"
    timeout_s: float | None = None
    keep_trace: bool = False
    netlist_dir: str | None = None


def _settle_time(t: np.ndarray, v: np.ndarray, t0: float, t1: float, tol: float) -> float:
    """Time after ``t0`` from which ``v`` stays within ``tol`` of ``v(t1)`` until ``t1``."""
    final = float(np.interp(t1, t, v))
    sel = (t >= t0) & (t <= t1)
    tt, vv = t[sel], v[sel]
    out = np.flatnonzero(np.abs(vv - final) > tol)
    if not len(out):
        return 0.0
    k = out[-1]
    if k + 1 >= len(tt):
        return float(t1 - t0)
    # linear interpolation of the last crossing into the band
    a, b = abs(vv[k] - final) - tol, abs(vv[k + 1] - final) - tol
    frac = a / (a - b) if a != b else 0.0
    return float(tt[k] + frac * (tt[k + 1] - tt[k]) - t0)


def _decision_time(t: np.ndarray, outs: np.ndarray, t0: float, t1: float, tol: float) -> float:
    """From when in ``[t0, t1]`` the final winner of ``outs`` (n, time) leads every other output
    by more than ``tol`` for good (``t1``: never by that much)."""
    sel = (t >= t0) & (t <= t1)
    tt, oo = t[sel], outs[:, sel]
    final = int(np.argmax([np.interp(t1, t, o) for o in outs]))
    others = np.delete(oo, final, axis=0)
    if not len(others):
        return float(tt[0])
    bad = np.flatnonzero(oo[final] - others.max(0) <= tol)
    if not len(bad):
        return float(tt[0])
    return float(tt[bad[-1] + 1]) if bad[-1] + 1 < len(tt) else float(t1)


def simulate_ann_sample(job: AnnJob) -> dict[str, Any]:
    """Build, run and measure one image's circuit: activations, settling, energy (JSON-able)."""
    t_wall = time.perf_counter()
    circ = ann_testbench(
        job.mappings,
        job.x,
        job.p,
        i_unit_a=job.i_unit_a,
        i_offset_a=job.i_offset_a,
        i_max_a=job.i_max_a,
        timing=job.timing,
        options=job.options,
    )
    text = netlist_text(circ.testbench, header=[f"test image {job.index}"])
    path = None
    if job.netlist_dir is not None:
        path = Path(job.netlist_dir) / f"sample-{job.index}.cir"
        atomic_write_text(path, text)
    wf = simulate(circ.testbench, job.backend, netlist=text, netlist_path=path, timeout_s=job.timeout_s)
    t = np.asarray(wf.time_s, float)
    v_read = circ.options.v_read_v
    tol = SETTLE_TOL * v_read
    layers = []
    for k in range(circ.n_layers):
        n = circ.sizes[k + 1]
        start, _ = circ.timing.set_window(k)
        ts = circ.timing.sample_s(k)
        ro = np.array([np.real(wf[f"ro{k}_{j}"]) for j in range(n)])
        acts = np.array([np.interp(ts, t, r) for r in ro]) / v_read
        states = np.array([wf.at(f"w{k}_{j}", ts) for j in range(n)])
        settle = [_settle_time(t, r, start, ts, tol) for r in ro]
        layers.append({"activations": acts, "states": states, "settle_s": settle, "set_start_s": start})
    last = circ.n_layers - 1
    start_out = circ.timing.set_window(last)[0]
    t_end = circ.timing.sample_s(last)
    outs = np.array([np.real(wf[f"ro{last}_{j}"]) for j in range(circ.sizes[-1])])
    volts = {
        "dd_w": circ.options.v_dd_w_v,
        "ss_w": circ.options.v_ss_w_v,
        "dd_row": circ.options.v_dd_row_v,
        "dd_hb": circ.options.v_dd_hb_v,
    }
    energy: dict[str, dict[str, float]] = {}
    for k in range(circ.n_layers):
        energy[str(k)] = {
            comp: delivered_energy_j(t, volts[prefix], np.real(wf[f"i_{prefix}{k}"]))
            for prefix, comp in ANN_COMPONENTS.items()
        }
    result: dict[str, Any] = {
        "index": job.index,
        "label": job.label,
        "layers": layers,
        "circuit_class": int(layers[-1]["activations"].argmax()),
        "inference_latency_s": start_out + max(layers[-1]["settle_s"]),
        "decision_latency_s": _decision_time(t, outs, start_out, t_end, tol),
        "energy_j": energy,
        "time_points": len(t),
        "sim_wall_s": wf.wall_s,
        "wall_s": time.perf_counter() - t_wall,
    }
    if job.keep_trace:
        keys = [f"ro{last}_{j}" for j in range(circ.sizes[-1])] + [
            f"ro0_{j}" for j in range(min(5, circ.sizes[1]))
        ]
        result["trace"] = {"time_s": t, **{key: np.real(wf[key]) for key in keys}}
    return to_jsonable(result)


def _quiet_worker() -> None:
    import torch

    torch.set_num_threads(1)


# -- report ----------------------------------------------------------------------------------
def _stats(values: Sequence[float]) -> dict[str, float | None]:
    v = np.asarray(values, float)
    if not v.size:
        return {"mean": None, "max": None, "p90": None, "min": None, "n": 0}
    return {
        "mean": float(v.mean()),
        "max": float(v.max()),
        "p90": float(np.percentile(v, 90)),
        "min": float(v.min()),
        "n": int(v.size),
    }


def summarize_ann_cosim(
    results: Sequence[dict[str, Any]], torch_acts: Mapping[int, list[np.ndarray]], meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The report (schema ``spinspice.cogd_ann_cosim``) of per-image results and torch's
    activations (image index -> per-layer activation vectors)."""
    n = len(results)
    n_layers = len(results[0]["layers"])
    per_layer = []
    all_err: list[np.ndarray] = []
    for k in range(n_layers):
        err = np.concatenate(
            [np.asarray(r["layers"][k]["activations"]) - torch_acts[r["index"]][k] for r in results]
        )
        all_err.append(err)
        settle = [s for r in results for s in r["layers"][k]["settle_s"]]
        comp = {
            c: float(np.mean([r["energy_j"][str(k)][c] for r in results])) for c in ANN_COMPONENTS.values()
        }
        per_layer.append(
            {
                "layer": k,
                "n_neurons": len(results[0]["layers"][k]["activations"]),
                "activation_error_rms": float(np.sqrt(np.mean(err**2))),
                "activation_error_max": float(np.max(np.abs(err))),
                "activation_error_mean": float(np.mean(err)),
                "settling_latency_s": _stats(settle),
                "energy_per_inference_j": sum(comp.values()),
                "energy_per_inference_by_component_j": comp,
            }
        )
    pooled = np.concatenate(all_err)
    torch_class = {r["index"]: int(np.argmax(torch_acts[r["index"]][-1])) for r in results}
    labelled = [r for r in results if r["label"] is not None]
    components = {
        c: sum(layer["energy_per_inference_by_component_j"][c] for layer in per_layer)
        for c in ANN_COMPONENTS.values()
    }
    settle_all = [s for r in results for layer in r["layers"] for s in layer["settle_s"]]
    samples = [
        {
            "index": r["index"],
            "label": r["label"],
            "torch_class": torch_class[r["index"]],
            "circuit_class": r["circuit_class"],
            "activation_error_rms": [
                float(
                    np.sqrt(
                        np.mean((np.asarray(r["layers"][k]["activations"]) - torch_acts[r["index"]][k]) ** 2)
                    )
                )
                for k in range(n_layers)
            ],
            "energy_j": sum(sum(e.values()) for e in r["energy_j"].values()),
            "inference_latency_s": r["inference_latency_s"],
            "decision_latency_s": r["decision_latency_s"],
            "time_points": r["time_points"],
            "sim_wall_s": r["sim_wall_s"],
            "wall_s": r["wall_s"],
        }
        for r in results
    ]
    return {
        **report_header(ANN_COSIM_SCHEMA),
        **meta,
        "n_samples": n,
        "sample_ids": [r["index"] for r in results],
        "activation_swing": 1.0,
        "activation_error_rms": float(np.sqrt(np.mean(pooled**2))),
        "activation_error_max": float(np.max(np.abs(pooled))),
        "class_agreement": sum(r["circuit_class"] == torch_class[r["index"]] for r in results) / n,
        "torch_accuracy": (
            sum(torch_class[r["index"]] == r["label"] for r in labelled) / len(labelled) if labelled else None
        ),
        "circuit_accuracy": (
            sum(r["circuit_class"] == r["label"] for r in labelled) / len(labelled) if labelled else None
        ),
        "settling_tolerance": SETTLE_TOL,
        "settling_latency_s": _stats(settle_all),
        "inference_latency_s": _stats([r["inference_latency_s"] for r in results]),
        "decision_latency_s": _stats([r["decision_latency_s"] for r in results]),
        "energy_per_inference_j": sum(components.values()),
        "energy_per_inference_by_component_j": components,
        "layers": per_layer,
        "time_points": _stats([r["time_points"] for r in results]),
        "sim_wall_s": _stats([r["sim_wall_s"] for r in results]),
        "samples": samples,
    }


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def format_ann_markdown(r: Mapping[str, Any]) -> str:
    """``report.md``: readable on its own."""
    c = r["circuit"]
    tm = c["timing"]
    lines = [
        f"# Co/Gd sigmoid ANN co-simulation of `{r['checkpoint']}`",
        "",
        f"{r['n_samples']} test images of `{r['dataset']}`, network {'-'.join(map(str, c['sizes']))} "
        f"(paper 003), ngspice `{r['backend']}` backend, one transient per image: RESET "
        f"{eng(tm['t_reset_s'], 's')} at {eng(-tm['i_reset_a'], 'A')}, then one SET window of "
        f"{eng(tm['t_set_s'], 's')} per layer (gaps {eng(tm['t_gap_s'], 's')}, edges "
        f"{eng(tm['t_edge_s'], 's')}), {eng(c['t_stop_s'], 's')} per inference. "
        "Circuit activations are the Hall amplifiers' read-outs V(ro)/V_read mid-gap after each "
        "layer's SET window; torch activations are the trained network's with the stored "
        "quantised weights.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| activation error, RMS (of the swing 1) | {r['activation_error_rms']:.5f} |",
        f"| activation error, max | {r['activation_error_max']:.5f} |",
        f"| class agreement (circuit argmax = torch argmax) | {_pct(r['class_agreement'])} |",
        f"| torch accuracy on these images | {_pct(r['torch_accuracy'])} |",
        f"| circuit accuracy on these images | {_pct(r['circuit_accuracy'])} |",
        f"| settling latency (from SET start, within {r['settling_tolerance'] * 100:g} % FS), mean | "
        f"{eng(r['settling_latency_s']['mean'], 's')} |",
        f"| settling latency, max | {eng(r['settling_latency_s']['max'], 's')} |",
        f"| inference latency (last output settled, from t = 0), mean / max | "
        f"{eng(r['inference_latency_s']['mean'], 's')} / {eng(r['inference_latency_s']['max'], 's')} |",
        f"| decision latency (winner ahead by > 1 % FS for good, from t = 0), mean / max | "
        f"{eng(r['decision_latency_s']['mean'], 's')} / {eng(r['decision_latency_s']['max'], 's')} |",
        f"| energy per inference | {eng(r['energy_per_inference_j'], 'J')} |",
        *[f"| - {comp} | {eng(e, 'J')} |" for comp, e in r["energy_per_inference_by_component_j"].items()],
        f"| simulation wall time per image, mean | {eng(r['sim_wall_s']['mean'], 's')} |",
        "",
        "## Per layer",
        "",
        "| layer | neurons | activation error RMS | max | settling mean | settling max "
        "| energy per inference |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {x['layer']} | {x['n_neurons']} | {x['activation_error_rms']:.5f} | "
            f"{x['activation_error_max']:.5f} | {eng(x['settling_latency_s']['mean'], 's')} | "
            f"{eng(x['settling_latency_s']['max'], 's')} | {eng(x['energy_per_inference_j'], 'J')} |"
            for x in r["layers"]
        ],
        "",
        "## Circuit",
        "",
        f"SET driver: I = clip(I_off + A (I+ - I-), 0, I_max) with I_off = {eng(c['i_offset_a'], 'A')}, "
        f"I_unit = {eng(c['i_unit_a'], 'A')} per weight unit, I_max = {eng(c['i_max_a'], 'A')}, "
        f"gains A = {', '.join(f'{g:.4g}' for g in c['set_driver_gain'])}; "
        f"V_read = {eng(c['options']['v_read_v'], 'V')}; synapse pairs per layer "
        f"{c['n_synapse_pairs']}. Device parameters of the circuit: "
        + ", ".join(f"{k} = {v:g}" for k, v in r["device"].items())
        + ("" if r["device"] == r["trained_device"] else " (differ from the trained ones)")
        + ".",
        "",
        "## Images",
        "",
        "| image | label | torch | circuit | RMS error per layer | energy | inference latency |",
        "|---|---|---|---|---|---|---|",
        *[
            f"| {s['index']} | {s['label']} | {s['torch_class']} | {s['circuit_class']} | "
            f"{', '.join(f'{e:.4f}' for e in s['activation_error_rms'])} | {eng(s['energy_j'], 'J')} | "
            f"{eng(s['inference_latency_s'], 's')} |"
            for s in r["samples"]
        ],
        "",
    ]
    if r.get("failed_samples"):
        lines += (
            ["## Failed images", ""] + [f"- {f['index']}: {f['error']}" for f in r["failed_samples"]] + [""]
        )
    return "\n".join(lines)


def figure_activations(
    report: Mapping[str, Any], results: Sequence[dict[str, Any]], torch_acts: Mapping[int, Any]
) -> Any:
    """Circuit read-out against torch's activation, one panel per layer, over every image."""
    n_layers = len(results[0]["layers"])
    plt = pyplot()
    fig, axes = plt.subplots(
        1, n_layers, figsize=(4 * n_layers + 0.4, 4.0), squeeze=False, layout="constrained"
    )
    for k, ax in enumerate(axes[0]):
        tx = np.concatenate([torch_acts[r["index"]][k] for r in results])
        cx = np.concatenate([r["layers"][k]["activations"] for r in results])
        ax.plot([0, 1], [0, 1], "-", color="gray", lw=0.8, label="identity")
        ax.plot(tx, cx, ".", ms=3, label="neurons")
        ax.set_xlabel("torch activation w (normalised)")
        ax.set_ylabel("circuit read-out $V_\\mathrm{ro}/V_\\mathrm{read}$")
        ax.set_title(f"layer {k}: RMS error {report['layers'][k]['activation_error_rms']:.4f}", fontsize=9)
        ax.set_aspect("equal", adjustable="datalim")
        ax.grid(alpha=0.3)
    n = len(results)
    fig.suptitle(
        f"Co/Gd ANN activations, circuit vs torch: {n} image{'s' if n != 1 else ''} "
        f"({report.get('checkpoint', 'checkpoint')})"
    )
    return fig


def figure_ann_traces(report: Mapping[str, Any], traced: Mapping[str, Any], n_layers: int) -> Any:
    """Read-outs of the output neurons (solid) and of the first hidden ones (dotted) of one
    image against time, SET windows shaded."""
    from spinspice.figures import legend_outside, prefix_scale

    plt = pyplot()
    tr = traced["trace"]
    t_s = np.asarray(tr["time_s"], float)
    scale, unit = prefix_scale(float(t_s.max()), "s")
    v_read = report["circuit"]["options"]["v_read_v"]
    fig, ax = plt.subplots(figsize=(8.5, 4), layout="constrained")
    for key, v in tr.items():
        if key == "time_s":
            continue
        layer, _, j = key[2:].partition("_")
        out = int(layer) == n_layers - 1
        ax.plot(
            t_s * scale,
            np.asarray(v) / v_read,
            "-" if out else ":",
            lw=1,
            label=f"output {j}" if out else (f"hidden, layer {layer}" if j == "0" else None),
            color=None if out else "0.5",
        )
    for k, (a, b) in enumerate(report["circuit"]["set_windows_s"]):
        ax.axvspan(a * scale, b * scale, color=f"C{k}", alpha=0.08, label=f"SET window, layer {k}")
    ax.set_xlabel(f"time ({unit})")
    ax.set_ylabel("read-out $V_\\mathrm{ro}/V_\\mathrm{read}$")
    label = "" if traced.get("label") is None else f", label {traced['label']}"
    ax.set_title(f"Co/Gd ANN read-outs, test image {traced['index']}{label}", fontsize=10)
    legend_outside(ax, fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def _plots(
    report: Mapping[str, Any], results: Sequence[dict[str, Any]], torch_acts: Mapping[int, Any], stage: Path
) -> list[str]:
    files = []
    n_layers = len(results[0]["layers"])
    save_figure(figure_activations(report, results, torch_acts), stage / "activations.png")
    files.append("activations.png")
    traced = next((r for r in results if "trace" in r), None)
    if traced is not None:
        save_figure(figure_ann_traces(report, traced, n_layers), stage / "traces.png")
        files.append("traces.png")
    return files


@dataclasses.dataclass
class AnnCosimResult(Result):
    """A Co/Gd ANN co-simulation: the report (schema ``spinspice.cogd_ann_cosim``), the per-image
    results and torch's activations it was computed from."""

    data: dict[str, Any]
    results: list[dict[str, Any]]
    torch_activations: dict[int, list[np.ndarray]]
    out: Path | None = None

    def summary(self) -> str:
        r = self.data
        lines = [
            f"{r['n_samples']} images through the Co/Gd ANN circuit: class agreement "
            f"{_pct(r['class_agreement'])} (accuracy torch {_pct(r['torch_accuracy'])}, circuit "
            f"{_pct(r['circuit_accuracy'])}); activation error RMS {r['activation_error_rms']:.4f} "
            f"(max {r['activation_error_max']:.4f}) of the swing",
            f"settling latency mean {eng(r['settling_latency_s']['mean'], 's')}, max "
            f"{eng(r['settling_latency_s']['max'], 's')}; inference latency "
            f"{eng(r['inference_latency_s']['mean'], 's')}; energy per inference "
            f"{eng(r['energy_per_inference_j'], 'J')} ("
            + ", ".join(f"{c} {eng(e, 'J')}" for c, e in r["energy_per_inference_by_component_j"].items())
            + ")",
        ]
        if r.get("failed_samples"):
            lines.append(f"{len(r['failed_samples'])} images failed (see the report)")
        if self.out is not None:
            lines.append(f"report: {self.out / 'report.md'}")
        return "\n".join(lines)

    def write(self, folder: str | Path) -> Path:
        """report.json, report.md and the figures, atomically."""
        folder = Path(folder)
        with staged_output(folder) as stage:
            self.data["outputs"] = [
                "report.json",
                "report.md",
                *_plots(self.data, self.results, self.torch_activations, stage),
            ]
            atomic_write_text(stage / "report.md", format_ann_markdown(self.data))
            atomic_write_json(stage / "report.json", self.data)
        self.out = folder
        return folder


# -- the calls -------------------------------------------------------------------------------
def _checkpoint_data(ck: CoGdAnnCheckpoint, dataset: str | None, checkpoint: Path) -> Dataset:
    name = dataset or ck.meta.get("dataset")
    if not name:
        raise ModelParameterError(f"{checkpoint} names no data set: give --dataset")
    data = load_dataset(name)
    if data.n_features != ck.config.sizes[0]:
        raise ModelParameterError(
            f"{checkpoint} expects {ck.config.sizes[0]} inputs; {data.name} has {data.n_features} features"
        )
    return data


def _circuit_setup(
    ck: CoGdAnnCheckpoint,
    device_params: Mapping[str, Any] | None,
    timing: AnnTiming | Mapping[str, Any] | None,
    options: AnnCircuitOptions | Mapping[str, Any] | None,
    v_read_v: float | None,
    variability: float,
    seed: int,
) -> tuple[CoGdParams, AnnTiming, AnnCircuitOptions, tuple[LayerMapping, ...]]:
    trained = ck.config.params()
    p = trained.with_text(device_params or {})
    base_timing = ann_timing(trained)  # windows designed for the trained device
    tm = timing if isinstance(timing, AnnTiming) else dataclasses.replace(base_timing, **dict(timing or {}))
    opts = options if isinstance(options, AnnCircuitOptions) else AnnCircuitOptions(**dict(options or {}))
    if v_read_v is not None:
        opts = dataclasses.replace(opts, v_read_v=float(v_read_v))
    if variability == 0:
        mappings = tuple(ck.mappings())
        for k, (m, (w, b)) in enumerate(zip(mappings, ck.weights, strict=True)):
            if not (
                np.array_equal(m.effective_weights[:, :-1], w)
                and np.array_equal(m.effective_weights[:, -1], b)
            ):
                raise ModelParameterError(
                    f"layer {k}: map_layer does not reproduce the checkpoint's quantised weights "
                    "(another spinspice version's mapping?): re-train the network"
                )
    else:
        cfg = ck.config
        mappings = tuple(
            map_layer(
                w,
                b,
                cfg.synapse_device(),
                clip_percentile=cfg.clip_percentile,
                variability=variability,
                seed=seed + k,
            )
            for k, (w, b) in enumerate(ck.latent)
        )
    return p, tm, opts, mappings


def cosim_cogd_ann(
    checkpoint: str | Path,
    *,
    samples: int | Sequence[int] = 20,
    dataset: str | None = None,
    out: str | Path | None = Path("results/cosim"),
    device_params: Mapping[str, Any] | None = None,
    timing: AnnTiming | Mapping[str, Any] | None = None,
    options: AnnCircuitOptions | Mapping[str, Any] | None = None,
    v_read_v: float | None = None,
    variability: float = 0.0,
    backend: str = "batch",
    timeout_s: float | None = None,
    workers: int = 0,
    keep_netlists: bool = False,
    seed: int = 0,
    progress: Any = None,
) -> AnnCosimResult:
    """Run test images of a Co/Gd ANN checkpoint through its transient circuit (module docstring).

    ``samples``: the first N test images or a list of indices; ``device_params``: overrides of
    the circuit's Co/Gd device (name -> value or SI text; torch keeps the trained ones, so a
    study of device mismatch); ``timing``: an :class:`~spinspice.circuits.ann.AnnTiming` or
    overrides of the windows :func:`~spinspice.circuits.ann.ann_timing` designs for the trained
    device; ``options``/``v_read_v``: the circuit's supplies and read voltage;
    ``variability``: log-normal sigma of every conductance (seeded); ``workers``: processes
    (0: one per core).  Writes report.json, report.md and figures into ``out`` (None: nothing)."""
    checkpoint = Path(checkpoint)
    seed_all(seed)
    t0 = time.perf_counter()
    ck = load_cogd_ann(checkpoint)
    data = _checkpoint_data(ck, dataset, checkpoint)
    from spinspice.cosim.runner import sample_ids

    ids = sample_ids(len(data.y_test), samples)
    p, tm, opts, mappings = _circuit_setup(ck, device_params, timing, options, v_read_v, variability, seed)
    cfg = ck.config
    acts = ck.torch_activations(data.x_test[ids])
    torch_acts = {i: [a[n] for a in acts] for n, i in enumerate(ids)}
    workers = workers or (os.cpu_count() or 1)
    workers = max(1, min(workers, len(ids)))
    with staged_output(out) if out is not None and keep_netlists else contextlib.nullcontext() as stage:
        jobs = [
            AnnJob(
                index=i,
                label=int(data.y_test[i]),
                x=np.asarray(data.x_test[i], float),
                mappings=mappings,
                p=p,
                i_unit_a=float(cfg.i_unit_a),
                i_offset_a=float(cfg.i_offset_a),
                i_max_a=float(cfg.i_max_a),
                timing=tm,
                options=opts,
                backend=backend,
                timeout_s=timeout_s,
                keep_trace=(n == 0),
                netlist_dir=None if stage is None else str(stage / "netlists"),
            )
            for n, i in enumerate(ids)
        ]
        results, failed = [], []
        with displayed(progress) as bar, executor(workers, initializer=_quiet_worker) as run_map:
            task = bar.add_task("cosim cogd-sigmoid ANN", total=len(ids))
            for r in run_map(_guarded, jobs):
                bar.advance(task)
                (failed if "error" in r else results).append(r)
    if not results:
        raise SimulationError(f"all {len(ids)} images failed; first: {failed[0]['error']}")
    meta = {
        "kind": "cogd-ann",
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": checkpoint_digest(checkpoint),
        "dataset": data.name,
        "network": {
            "arch": cfg.arch,
            "sizes": list(cfg.sizes),
            "neuron": "cogd-sigmoid",
            "synapse": cfg.synapse,
        },
        "trained_test_accuracy": ck.meta.get("accuracy", {}).get("test_accuracy"),
        "device": p.values(),
        "trained_device": cfg.params().values(),
        "variability": variability,
        "backend": backend,
        "seed": seed,
        "workers": workers,
        "circuit": _describe(mappings, p, tm, opts, cfg),
    }
    report = summarize_ann_cosim(results, torch_acts, meta)
    report["n_requested"] = len(ids)
    report["failed_samples"] = failed
    report["wall_s"] = time.perf_counter() - t0
    result = AnnCosimResult(report, results, torch_acts)
    if out is not None:
        result.write(out)
    return result


def _guarded(job: AnnJob) -> dict[str, Any]:
    """:func:`simulate_ann_sample`, a failure recorded instead of raised (one bad image does
    not end the run)."""
    try:
        return simulate_ann_sample(job)
    except SpinspiceError as err:
        return {"index": job.index, "error": str(err).strip().splitlines()[0]}


def _describe(
    mappings: Sequence[LayerMapping], p: CoGdParams, tm: AnnTiming, opts: AnnCircuitOptions, cfg: Any
) -> dict[str, Any]:
    """The circuit's description (timing, gains, supplies) without building a testbench."""
    zeros = np.zeros(mappings[0].g_pos_s.shape[1] - 1)
    circ = ann_testbench(
        mappings,
        zeros,
        p,
        i_unit_a=cfg.i_unit_a,
        i_offset_a=cfg.i_offset_a,
        i_max_a=cfg.i_max_a,
        timing=tm,
        options=opts,
    )
    return {
        **circ.describe(),
        "mapping": [{"w_clip": m.w_clip, "g_per_weight_s": m.g_per_weight_s, **m.errors} for m in mappings],
    }


# -- netlists ----------------------------------------------------------------------------------
@dataclasses.dataclass
class AnnNetlistResult(Result):
    """The standalone netlist of one test image and its manifest (schema
    ``spinspice.netlist_manifest``, ``kind = "cogd-ann"``)."""

    data: dict[str, Any]
    netlist: str
    out: Path | None = None

    def summary(self) -> str:
        m = self.data
        lines = [
            f"Co/Gd ANN {'-'.join(map(str, m['circuit']['sizes']))}: one netlist for test image "
            f"{m['sample']} (label {m['label']}, torch predicts {m['torch_prediction']}), "
            f"{sum(m['circuit']['n_synapse_pairs'])} synapse pairs, "
            f"{eng(m['circuit']['t_stop_s'], 's')} transient",
        ]
        if self.out is not None:
            lines.append(f"run: cd {self.out} && ngspice -b {m['file']}")
        return "\n".join(lines)

    def write(self, folder: str | Path) -> Path:
        """``network.cir`` and ``manifest.json``, atomically."""
        folder = Path(folder)
        with staged_output(folder) as stage:
            atomic_write_text(stage / self.data["file"], self.netlist)
            atomic_write_text(
                stage / "manifest.json", json.dumps(to_jsonable(self.data), indent=2, sort_keys=True) + "\n"
            )
        self.out = folder
        return folder


def write_cogd_netlists(
    checkpoint: str | Path,
    *,
    sample: int = 0,
    dataset: str | None = None,
    out: str | Path | None = Path("results/netlist"),
    device_params: Mapping[str, Any] | None = None,
    timing: AnnTiming | Mapping[str, Any] | None = None,
    options: AnnCircuitOptions | Mapping[str, Any] | None = None,
    v_read_v: float | None = None,
    variability: float = 0.0,
    seed: int = 0,
) -> AnnNetlistResult:
    """The circuit of test image ``sample`` as ``network.cir`` (runs in plain ``ngspice -b``,
    printing the output read-outs) + ``manifest.json`` naming every probe's vector, supply,
    window and torch's activations; written into ``out`` (None: call ``.write`` yourself)."""
    checkpoint = Path(checkpoint)
    seed_all(seed)
    ck = load_cogd_ann(checkpoint)
    data = _checkpoint_data(ck, dataset, checkpoint)
    if not 0 <= sample < len(data.y_test):
        raise ModelParameterError(f"--sample {sample}: the test split has {len(data.y_test)} images")
    p, tm, opts, mappings = _circuit_setup(ck, device_params, timing, options, v_read_v, variability, seed)
    cfg = ck.config
    x = np.asarray(data.x_test[sample], float)
    circ = ann_testbench(
        mappings,
        x,
        p,
        i_unit_a=cfg.i_unit_a,
        i_offset_a=cfg.i_offset_a,
        i_max_a=cfg.i_max_a,
        timing=tm,
        options=opts,
    )
    name = "network.cir"
    text = format_testbench(
        circ.testbench,
        header=[f"Co/Gd ANN of {checkpoint.name}, test image {sample}; run: ngspice -b {name}"],
    )
    acts = ck.torch_activations(x[None])
    top = circ.testbench.as_subckt()
    manifest = {
        "schema": "spinspice.netlist_manifest",
        "schema_version": 1,
        "spinspice_version": __version__,
        "kind": "cogd-ann",
        "checkpoint": checkpoint.name,
        "checkpoint_sha256": checkpoint_digest(checkpoint),
        "dataset": data.name,
        "sample": sample,
        "label": int(data.y_test[sample]),
        "torch_prediction": int(np.argmax(acts[-1][0])),
        "torch_activations": [a[0] for a in acts],
        "file": name,
        "device": p.values(),
        "circuit": _describe(mappings, p, tm, opts, cfg),
        "probes": {
            pr.key: {"vector": get_vector_name(pr, top), "kind": pr.kind, "unit": pr.unit, "doc": pr.doc}
            for pr in circ.testbench.probes
        },
        "readout": "activation of neuron j in layer k = V(ro<k>_<j>) / v_read_v at sample_times_s[k]",
        "files": {name: hashlib.sha256(text.encode()).hexdigest()},
    }
    result = AnnNetlistResult(to_jsonable(manifest), text)
    if out is not None:
        result.write(out)
    return result
