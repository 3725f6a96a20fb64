"""Report of a network co-simulation: ``report.json`` (schema ``spinspice.cosim``),
``report.md`` and the figures (SPEC 5; fields in docs/reports.md).

Every figure here is computed from the simulation results: spike agreement from
the circuit's comparator crossings against torch's spike steps, energies from
the supplies' simulated currents (the ideal-wire crossbar's read energy from
its conductances and read pulses in stepped mode), latencies from the spike
times.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.cosim.agreement import matched_flags, merge_agreements
from spinspice.io import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    pyplot,
    report_header,
    save_figure,
)
from spinspice.units import eng

__all__ = ["COSIM_SCHEMA", "format_cosim_markdown", "summarize_cosim", "write_cosim_outputs"]

COSIM_SCHEMA = "spinspice.cosim"

#: display order of energy components
COMPONENTS = (
    "write_driver",
    "reset_driver",
    "comparator",
    "read_divider",
    "read_bias",
    "field_line",
    "crossbar_read",
)


def _stats(values: Sequence[float]) -> dict[str, float | None]:
    v = np.asarray([x for x in values if x is not None], float)
    if not len(v):
        return {"mean": None, "median": None, "p90": None, "min": None, "max": None, "n": 0}
    return {
        "mean": float(v.mean()),
        "median": float(np.median(v)),
        "p90": float(np.percentile(v, 90)),
        "min": float(v.min()),
        "max": float(v.max()),
        "n": len(v),
    }


def _ordered(components: Sequence[str]) -> list[str]:
    return [c for c in COMPONENTS if c in components] + sorted(c for c in components if c not in COMPONENTS)


def summarize_cosim(results: Sequence[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """The report of a co-simulation from the per-sample results of
    :func:`~spinspice.cosim.runner.simulate_sample`."""
    n = len(results)
    n_layers = len(results[0]["layers"])
    per_layer = [merge_agreements([r["layers"][k]["vs_torch"] for r in results]) for k in range(n_layers)]
    per_layer_model = [
        merge_agreements([r["layers"][k]["vs_model"] for r in results]) for k in range(n_layers)
    ]
    overall = merge_agreements(per_layer)
    labelled = [r for r in results if r["label"] is not None]
    components = _ordered(sorted({c for r in results for c in r["energy_j"]}))
    energy_total = {c: sum(r["energy_j"].get(c, 0.0) for r in results) for c in components}
    total = sum(energy_total.values())
    spikes = sum(r["circuit_spikes"] for r in results)
    neurons = sum(layer["n_neurons"] for layer in results[0]["layers"])
    decision = [r["latency"]["decision_s"] for r in results]
    first_out = [r["latency"]["first_output_spike_s"] for r in results]
    layer_energy = [
        {
            "layer": k,
            "per_component_j": {
                c: sum(r["layers"][k]["energy_j"].get(c, 0.0) for r in results) / n for c in components
            },
            "circuit_spikes_per_inference": sum(r["layers"][k]["vs_torch"]["circuit_spikes"] for r in results)
            / n,
        }
        for k in range(n_layers)
    ]
    for e in layer_energy:
        e["total_j"] = sum(e["per_component_j"].values())
    # what each layer's agreement was measured on: its size and how much it spiked
    layer_sizes = [
        {
            "layer": k,
            "kind": layer.get("kind", "linear"),
            "n_inputs": layer["n_inputs"],
            "n_neurons": layer["n_neurons"],
            "n_outputs": layer.get("n_outputs", layer["n_neurons"]),
            "circuit_spikes_per_image": per_layer[k]["circuit_spikes"] / n,
            "torch_spikes_per_image": per_layer[k]["reference_spikes"] / n,
        }
        for k, layer in enumerate(results[0]["layers"])
    ]
    arrays = _arrays(results)
    disturbed = [a["half_select"] for a in arrays if a["half_select"]]
    report = {
        **report_header(COSIM_SCHEMA),
        **meta,
        "n_samples": n,
        "layers": layer_sizes,
        "spike_agreement": overall["spike_agreement"],
        "hidden_spike_agreement": (
            merge_agreements(per_layer[:-1])["spike_agreement"] if n_layers > 1 else None
        ),
        "output_spike_agreement": per_layer[-1]["spike_agreement"],
        "exact_spike_agreement": overall["exact_agreement"],
        "model_spike_agreement": merge_agreements(per_layer_model)["spike_agreement"],
        "class_agreement": sum(r["circuit_class"] == r["torch_class"] for r in results) / n,
        "torch_accuracy": (
            sum(r["torch_class"] == r["label"] for r in labelled) / len(labelled) if labelled else None
        ),
        "circuit_accuracy": (
            sum(r["circuit_class"] == r["label"] for r in labelled) / len(labelled) if labelled else None
        ),
        "energy_per_inference_j": total / n,
        "energy_per_spike_j": total / spikes if spikes else None,
        "energy_per_neuron_j": total / n / neurons if neurons else None,
        "mean_latency_s": float(np.mean(decision)),
        "mean_first_spike_latency_s": _stats(first_out)["mean"],
        "samples_without_output_spikes": sum(not r["output_spiked"] for r in results),
        "circuit_spikes_per_inference": spikes / n,
        # circuit spikes without a torch partner within +-1 step (spurious: disagreements)
        "unmatched_circuit_spikes": overall["circuit_spikes"] - overall["matched"],
        "missed_spikes": overall["reference_spikes"] - overall["matched"],
        "step_s": results[0]["layers"][0]["slot_s"],
        "arrays": arrays,
        "half_select": max(disturbed, key=lambda d: d["max_state_change"]) if disturbed else None,
        "agreement": {
            "tolerance_steps": 1,
            "overall": overall,
            "per_layer": per_layer,
            "vs_model_per_layer": per_layer_model,
        },
        "energy": {
            "per_inference_by_component_j": {c: v / n for c, v in energy_total.items()},
            "per_spike_by_component_j": {c: v / spikes for c, v in energy_total.items()} if spikes else None,
            "per_layer": layer_energy,
        },
        "latency": {
            "decision_s": _stats(decision),
            "first_output_spike_s": _stats(first_out),
            "decided_by_spike": sum(r["latency"]["decided_by_spike"] for r in results),
        },
        "runtime": {
            "ngspice_runs": sum(layer["n_runs"] for r in results for layer in r["layers"]),
            "time_points": sum(layer["time_points"] for r in results for layer in r["layers"]),
            "layer_wall_s": sum(layer["wall_s"] for r in results for layer in r["layers"]),
            # runs that converged only after the escalation (spinspice.sim.backends.ESCALATION)
            "retried_runs": [
                {"sample": r["index"], "layer": layer["index"], **run}
                for r in results
                for layer in r["layers"]
                for run in layer.get("retried_runs", [])
            ],
        },
        "samples": [
            {
                key: r[key]
                for key in (
                    "index",
                    "label",
                    "torch_class",
                    "circuit_class",
                    "torch_counts",
                    "circuit_counts",
                    "latency",
                    "energy_j",
                    "circuit_spikes",
                )
            }
            | {
                "layers": [
                    {
                        "spike_agreement": layer["vs_torch"]["spike_agreement"],
                        "circuit_spikes": layer["vs_torch"]["circuit_spikes"],
                        "torch_spikes": layer["vs_torch"]["reference_spikes"],
                        "circuit_steps": layer["circuit_steps"],
                        "torch_steps": layer["torch_steps"],
                    }
                    for layer in r["layers"]
                ]
            }
            for r in results
        ],
    }
    checks = [layer["accuracy_check"] for r in results for layer in r["layers"] if "accuracy_check" in layer]
    if checks:  # --accuracy fast: what it cost in spike time (first group of each layer and image)
        shifts = [c["max_spike_shift_s"] for c in checks]
        report["accuracy_check"] = {
            "preset": checks[0]["preset"],
            "groups_checked": len(checks),
            "spikes_checked": int(sum(c["spikes_default"] for c in checks)),
            "groups_with_other_spike_count": sum(x is None for x in shifts),
            "max_spike_shift_s": max((x for x in shifts if x is not None), default=None),
            "time_points": int(sum(c["time_points"] for c in checks)),
            "time_points_default": int(sum(c["time_points_default"] for c in checks)),
        }
    return report


def _arrays(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per layer: the neuron array (schedule, shape, devices), its half-select disturbance (the
    largest over the images) and the drives its write drivers' current limit clipped."""
    out = []
    for k, first in enumerate(results[0]["layers"]):
        half = [
            {**r["layers"][k]["half_select"], "sample": r["index"], "layer": k}
            for r in results
            if r["layers"][k].get("half_select")
        ]
        sizing = [r["layers"][k].get("cell_sizing") or {} for r in results]
        out.append(
            {
                "layer": k,
                **(first.get("array") or {}),
                "half_select": max(half, key=lambda d: d["max_state_change"]) if half else None,
                "drive_limit_a": sizing[0].get("drive_limit_a"),
                "drives_clipped": sum(z.get("drives_clipped", 0) for z in sizing),
                "drives": sum(z.get("drives", 0) for z in sizing),
            }
        )
    return out


def _half(h: dict[str, Any] | None) -> str:
    """A half-select record as text: the state change and its share of the threshold gap."""
    if not h:
        return "n/a (all rows written at once)"
    share = h.get("fraction_of_gap")
    return f"{h['max_state_change']:.3g}" + (
        f" ({100 * share:.2f} % of the gap)" if share is not None else ""
    )


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _encoding_line(r: dict[str, Any]) -> str:
    """What the inputs are and when a layer reads the one before, where it is not the default."""
    line = ""
    if r["network"].get("encoding") == "direct":
        line += (
            " Inputs are direct (the static pixel values, as snnTorch's tutorials feed them): the first "
            "layer's crossbar rows are read with analog voltages, a DAC level per input (0 to V_read) in "
            "every write slot, not spikes."
        )
    if r["network"].get("timing") == "same-step":
        line += (
            " Timing is same-step (snnTorch's and NIR's rule): a layer reads the spikes of the layer "
            "before from the same step, so each layer runs one write slot behind the one before and "
            "the latencies include those slots."
        )
    return line


def format_cosim_markdown(r: dict[str, Any]) -> str:
    """``report.md``: readable on its own."""
    st = r["settings"]
    lines = [
        f"# Co-simulation of `{r['checkpoint']}` ({st['mode']} mode)",
        "",
        f"{r['n_samples']} test images of `{r['dataset']}`; network `{r['network']['arch']}` with "
        f"{r['network']['neuron']} neurons"
        + (f" ({r['network']['neuron_circuit']})" if r["network"].get("neuron_circuit") else "")
        + f", {r['network']['steps']} steps of "
        f"{eng(r['network']['slot_s'], 's')}; "
        f"synapses `{st['synapse']}`, schedule `{st['options']['schedule']}`, backend `{st['backend']}`, "
        f"device models `{r.get('device_models', 'bsource')}`, "
        f"seed {r['seed']}. Circuit spikes are compared with the trained torch network's spikes "
        "per neuron and time step (matched one to one within +-1 step)."
        + _accuracy_line(r)
        + _encoding_line(r),
        "",
        "| figure | value |",
        "|---|---|",
        f"| torch accuracy | {_pct(r['torch_accuracy'])} |",
        f"| circuit accuracy | {_pct(r['circuit_accuracy'])} |",
        f"| class agreement (circuit = torch) | {_pct(r['class_agreement'])} |",
        f"| spike agreement, all layers (+-1 step) | {_pct(r['spike_agreement'])} |",
        f"| spike agreement, hidden layers | {_pct(r['hidden_spike_agreement'])} |",
        f"| spike agreement, output layer | {_pct(r['output_spike_agreement'])} |",
        f"| exact (same step) agreement | {_pct(r['exact_spike_agreement'])} |",
        "| agreement with the device model on the circuit's own inputs | "
        f"{_pct(r['model_spike_agreement'])} |",
        f"| mean decision latency | {eng(r['mean_latency_s'], 's')} |",
        f"| mean first output spike latency | {eng(r['mean_first_spike_latency_s'], 's')} |",
        f"| energy per inference | {eng(r['energy_per_inference_j'], 'J')} |",
        f"| energy per spike | {eng(r['energy_per_spike_j'], 'J')} |",
        f"| energy per neuron and inference | {eng(r['energy_per_neuron_j'], 'J')} |",
        f"| circuit spikes per inference | {r['circuit_spikes_per_inference']:.1f} |",
        "| spurious circuit spikes (no torch spike within +-1 step), all images | "
        f"{r.get('unmatched_circuit_spikes', 'n/a')} |",
        f"| half-select disturbance | {_half(r.get('half_select'))} |",
        f"| images without output spikes | {r['samples_without_output_spikes']} |",
        *(
            [
                f"| torch accuracy over {len(ns['seeds'])} noise seeds (whole test set) | "
                f"{_pct(ns['mean'])} +- {ns['std'] * 100:.1f} % "
                f"(range {_pct(ns['min'])} - {_pct(ns['max'])}) |"
            ]
            if (ns := r.get("noise_seeds"))
            else []
        ),
        "",
        "Latency counts from the first input pulse; the decision is the first spike of the "
        "winning class (most output spikes, lowest index on ties, as torch decides), or the end "
        "of the window when no output neuron spikes.",
        "",
        "## Agreement per layer",
        "",
        "| layer | neurons | circuit spikes | torch spikes | matched +-1 | agreement | exact | "
        "neurons with other count | first-spike error (steps) | vs device model |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k, (a, m) in enumerate(
        zip(r["agreement"]["per_layer"], r["agreement"]["vs_model_per_layer"], strict=True)
    ):
        kind = (r.get("layers") or [{}] * (k + 1))[k].get("kind", "linear")
        lines.append(
            f"| {k}{' (conv)' if kind == 'conv' else ''} | {a['n_neurons'] // r['n_samples']} | "
            f"{a['circuit_spikes']} | {a['reference_spikes']} | "
            f"{a['matched']} | {_pct(a['spike_agreement'])} | {_pct(a['exact_agreement'])} | "
            f"{a['neurons_count_differs']} | {a['first_spike_error_steps']:.2f} | "
            f"{_pct(m['spike_agreement'])} |"
        )
    if r.get("arrays"):
        lines += [
            "",
            "## Neuron arrays",
            "",
            "| layer | schedule | array | write drivers | select devices | field-line drivers | "
            "cells per write line | write-driver current limit | drives clipped | half-select disturbance |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for a in r["arrays"]:
            g = {k: a.get(k, "n/a") for k in ("schedule", "rows", "cols", "write_drivers", "select_devices")}
            g |= {k: a.get(k, "n/a") for k in ("field_line_drivers", "cells_in_series")}
            lines.append(
                f"| {a['layer']} | {g['schedule']} | {g['rows']} x {g['cols']} | {g['write_drivers']} | "
                f"{g['select_devices']} | {g['field_line_drivers']} | {g['cells_in_series']} | "
                f"{eng(a.get('drive_limit_a'), 'A')} | {a.get('drives_clipped', 0)} of "
                f"{a.get('drives', 0)} | "
                f"{_half(a.get('half_select'))} |"
            )
        lines += [
            "",
            "Half-select disturbance: the largest change of a cell's device state during the write "
            "pulses of other array rows (pulses during which the cell fires or resets are skipped), "
            "also as a share of its rest-to-threshold gap. With a select transistor per cell (`rows`) "
            "no write current reaches the cell and the figure is its leak; on the access-transistor-"
            "free array (`rows-free`) every write of its column passes its track while its field line "
            "is off, so any excess over the `rows` figure is what the closed gate lets through. "
            "A spurious spike it caused would count as a disagreement above.",
        ]
    lines += [
        "",
        "## Energy per inference",
        "",
        "| component | per inference | per spike | share |",
        "|---|---|---|---|",
    ]
    total = r["energy_per_inference_j"]
    per_spike = r["energy"]["per_spike_by_component_j"] or {}
    for c, e in r["energy"]["per_inference_by_component_j"].items():
        share = e / total if total else 0.0
        lines.append(f"| {c} | {eng(e, 'J')} | {eng(per_spike.get(c), 'J')} | {100 * share:.1f} % |")
    lines += ["", "| layer | energy per inference | circuit spikes per inference |", "|---|---|---|"]
    for e in r["energy"]["per_layer"]:
        lines.append(f"| {e['layer']} | {eng(e['total_j'], 'J')} | {e['circuit_spikes_per_inference']:.1f} |")
    if r.get("schedules"):
        lines += [
            "",
            "## Field-line schedules",
            "",
            "| schedule | write drivers | select devices | field-line drivers | latency per step | "
            "energy per inference | energy per spike | field-line energy | mean latency | spike agreement | "
            "class agreement | spurious spikes | half-select disturbance |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for s in r["schedules"]:
            lines.append(
                f"| {s['schedule']} | {s['write_drivers']} | {s.get('select_devices', 'n/a')} | "
                f"{s.get('field_line_drivers', 'n/a')} | {eng(s['step_s'], 's')} | "
                f"{eng(s['energy_per_inference_j'], 'J')} | {eng(s['energy_per_spike_j'], 'J')} | "
                f"{eng(s['energy_per_inference_by_component_j'].get('field_line'), 'J')} | "
                f"{eng(s['mean_latency_s'], 's')} | {_pct(s['spike_agreement'])} | "
                f"{_pct(s['class_agreement'])} | {s.get('unmatched_circuit_spikes', 'n/a')} | "
                f"{_half(s.get('half_select'))} |"
            )
        lines += [
            "",
            "Row by row, one write driver per array column serves its rows in turn: fewer drivers, "
            "a network step of R write slots (longer latency), neurons leaking R times longer between "
            "writes (so spikes differ from a network trained with the short step: train with "
            "`--schedule rows` for the row-by-row arrays), and the crossbar read once per row. `rows` "
            "selects a row's cells with a transistor each; `rows-free` has none: each column is one "
            "series write line through its cells, and only the row whose field line is on integrates "
            "(its driver must carry the column's tracks in series, so its supply is higher).",
        ]
    lines += [
        "",
        "## Samples",
        "",
        "| image | label | torch | circuit | output spikes torch / circuit | decision latency | energy |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in r["samples"]:
        lines.append(
            f"| {s['index']} | {s['label']} | {s['torch_class']} | {s['circuit_class']} | "
            f"{sum(s['torch_counts'])} / {sum(s['circuit_counts'])} | "
            f"{eng(s['latency']['decision_s'], 's')} | "
            f"{eng(sum(s['energy_j'].values()), 'J')} |"
        )
    rt = r["runtime"]
    lines += [
        "",
        f"Run time: {r['wall_s']:.1f} s wall on {r['workers']} worker(s); {rt['ngspice_runs']} ngspice runs, "
        f"{rt['time_points']} time points.",
    ]
    if rt["retried_runs"]:
        lines += ["", "## Runs that needed the convergence escalation", ""]
        lines += [
            f"- image {x['sample']}, layer {x['layer']}, neurons {x['neurons'][0]}..{x['neurons'][-1]}: "
            + " -> ".join(x["attempts"])
            for x in rt["retried_runs"]
        ]
    failed = r.get("failed_samples") or []
    if failed:
        n = r.get("n_requested", "?")
        lines += ["", f"## Failed images ({len(failed)} of {n}; not in the figures)", ""]
        lines += [
            f"- image {f['index']}: {f['error']}"
            + (f" (tried: {', '.join(f['attempts'])})" if f["attempts"] else "")
            for f in failed
        ]
        lines.append("")
        lines.append("Run the same command again with `--resume` to complete them.")
    lines += [
        "",
        "Figures: `raster.png` (circuit vs torch spikes, first image), `traces.png` (device state and "
        "read-out with thresholds), `energy.png`, `latency.png`, `agreement.png`.",
        "",
    ]
    return "\n".join(lines)


#: readable names of the energy components (others: the identifier with spaces)
COMPONENT_NAMES = {
    "write_driver": "write drivers",
    "reset_driver": "reset drivers",
    "comparator": "comparators",
    "read_divider": "read dividers",
    "read_bias": "read bias",
    "field_line": "field lines",
    "crossbar_read": "crossbar read (synapses)",
}


def _image_title(result: dict[str, Any], n_images: int | None) -> str:
    """``"test image 7 (first of 3 simulated), label 6"``: which image a figure shows."""
    of = f" (first of {n_images} simulated)" if n_images and n_images > 1 else ""
    label = "" if result.get("label") is None else f", label {result['label']}"
    return f"test image {result['index']}{of}{label}"


def figure_raster(result: dict[str, Any], n_images: int | None = None) -> Any:
    """Spike raster of one image, one panel per layer, against time (step x the network step):
    spikes where circuit and torch agree within ±1 step, torch-only (missed) and circuit-only
    (spurious) spikes in their own colours."""
    from matplotlib.lines import Line2D

    from spinspice.figures import prefix_scale

    plt = pyplot()
    layers = result["layers"]
    heights = [max(1.0, min(4.0, 0.12 * layer["n_neurons"])) for layer in layers]
    fig, axes = plt.subplots(
        len(layers),
        1,
        figsize=(9, 1.4 + 1.1 * sum(heights)),
        squeeze=False,
        sharex=True,
        layout="constrained",
        gridspec_kw={"height_ratios": heights},
    )
    step_s = float(layers[-1]["slot_s"])
    t_scale, t_unit = prefix_scale(result["steps"] * step_s, "s")
    kinds = {
        "matched torch": {"s": 36, "facecolors": "none", "edgecolors": "tab:blue", "lw": 0.9},
        "matched circuit": {"s": 16, "marker": "x", "color": "k", "lw": 0.9},
        "torch only": {"s": 36, "marker": "s", "facecolors": "none", "edgecolors": "tab:orange", "lw": 1.2},
        "circuit only": {"s": 30, "marker": "x", "color": "tab:red", "lw": 1.6},
    }
    names = {
        "matched torch": "torch spike, matched",
        "matched circuit": "circuit spike, matched (±1 step)",
        "torch only": "torch only (missed by the circuit)",
        "circuit only": "circuit only (spurious)",
    }
    for ax, layer in zip(axes[:, 0], layers, strict=True):
        slot = float(layer["slot_s"]) * t_scale
        pts: dict[str, tuple[list[float], list[int]]] = {k: ([], []) for k in kinds}
        for j, (c, tch) in enumerate(zip(layer["circuit_steps"], layer["torch_steps"], strict=True)):
            fc, ft = matched_flags(c, tch)
            for s, ok in zip(tch, ft, strict=True):
                key = "matched torch" if ok else "torch only"
                pts[key][0].append(s * slot)
                pts[key][1].append(j)
            for s, ok in zip(c, fc, strict=True):
                key = "matched circuit" if ok else "circuit only"
                pts[key][0].append(s * slot)
                pts[key][1].append(j)
        for key, style in kinds.items():  # one scatter per kind (one per neuron is quadratic)
            ax.scatter(*pts[key], **style)
        n = len(layer["circuit_steps"])
        ax.set_ylabel(f"layer {layer['index']}\nneuron index")
        ax.set_ylim(-0.7, n - 0.3)
        if n <= 16:
            ax.set_yticks(range(n))
            ax.tick_params(axis="y", labelsize=7)
        ax.set_xlim(-0.5 * slot, (result["steps"] - 0.5) * slot)
        ax.grid(alpha=0.25)
        mism = len(pts["torch only"][0]) + len(pts["circuit only"][0])
        ax.set_title(
            f"layer {layer['index']}: {n} neurons, {len(pts['matched circuit'][0])} matched, "
            f"{len(pts['torch only'][0])} missed, {len(pts['circuit only'][0])} spurious spikes"
            + ("" if mism else " (all agree)" if len(pts["matched circuit"][0]) else " (no spikes)"),
            fontsize=9,
            loc="left",
        )
    axes[-1, 0].set_xlabel(f"time ({t_unit}); one step = {eng(step_s, 's', 3)}")
    proxies = {  # legend entries drawn like the markers (not added to the data)
        "matched torch": {"marker": "o", "mfc": "none", "mec": "tab:blue", "ms": 6},
        "matched circuit": {"marker": "x", "color": "k", "ms": 5},
        "torch only": {"marker": "s", "mfc": "none", "mec": "tab:orange", "ms": 6, "mew": 1.2},
        "circuit only": {"marker": "x", "color": "tab:red", "ms": 6, "mew": 1.6},
    }
    handles = [Line2D([], [], ls="none", label=names[key], **proxies[key]) for key in kinds]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    fig.suptitle(
        f"Spike raster, {_image_title(result, n_images)}: torch class {result['torch_class']}, "
        f"circuit class {result['circuit_class']}"
    )
    return fig


def _plot_raster(result: dict[str, Any], path: Path, n_images: int | None = None) -> None:
    save_figure(figure_raster(result, n_images), path)


def _spike_times(tr: dict[str, Any]) -> np.ndarray:
    """Spike times of a trace: the rising crossings of its comparator output at the circuit's
    spike level (half the output's maximum where the trace does not carry it)."""
    from spinspice.sim.spikes import crossings

    spike = np.real(np.asarray(tr["spike"], float))
    peak = float(np.max(spike)) if len(spike) else 0.0
    level = tr.get("spike_level_v") or 0.5 * peak
    if peak <= 0 or level <= 0:
        return np.zeros(0)
    return crossings(np.asarray(tr["time_s"], float), spike, float(level))


def figure_traces(traces: dict[str, dict[str, Any]], result: dict[str, Any] | None = None) -> Any:
    """One row per traced neuron: its device state with the state threshold, and its read-out
    with the comparator thresholds, spikes marked (the comparator's rising crossings)."""
    from matplotlib.lines import Line2D

    from spinspice.figures import prefix_scale

    plt = pyplot()
    rows = sorted(traces.values(), key=lambda tr: (tr["layer"], tr["neuron"]))
    fig, axes = plt.subplots(
        len(rows), 2, figsize=(11, 2.3 * len(rows) + 1.2), squeeze=False, layout="constrained"
    )
    t_max = max(float(np.max(tr["time_s"])) for tr in rows)
    t_scale, t_unit = prefix_scale(t_max, "s")
    meta = {"time_s", "layer", "neuron", "spike", "thresholds_v", "spike_level_v"}
    meta |= {"state_key", "state_label", "state_threshold"}
    for row, tr in enumerate(rows):
        t = np.asarray(tr["time_s"], float) * t_scale
        spikes = _spike_times(tr) * t_scale
        who = f"layer {tr['layer']}, neuron {tr['neuron']}"
        ax = axes[row, 0]
        state = tr.get("state_key") or ("m" if "m" in tr else next((k for k in tr if k not in meta), None))
        label = tr.get("state_label") or (f"device state {state}" if state else "device state")
        threshold = tr.get("state_threshold")
        if state is not None and state in tr:
            values = np.real(np.asarray(tr[state], float))
            scale, shown = 1.0, label
            if label.endswith("(V)"):
                peak = max(float(np.max(np.abs(values))), abs(threshold or 0.0))
                scale, unit = prefix_scale(peak, "V")
                shown = f"{label[:-3].rstrip()} ({unit})"
            ax.plot(t, values * scale, lw=0.9, color="tab:blue")
            if threshold is not None:
                ax.axhline(threshold * scale, color="tab:red", ls=":", lw=1)
            top = max(float(np.max(values * scale)), (threshold or -np.inf) * scale)
            bottom = float(np.min(values * scale))
            _mark_spikes(ax, spikes, bottom, top)
            ax.set_ylabel(shown)
        ax.set_title(f"{who}: device state", fontsize=9, loc="left")
        ax = axes[row, 1]
        if "v_out" in tr:
            v_out = np.real(np.asarray(tr["v_out"], float))
            hi, lo = tr["thresholds_v"]
            vs, vu = prefix_scale(max(float(np.max(np.abs(v_out))), abs(hi), abs(lo)), "V")
            ax.plot(t, v_out * vs, lw=0.9, color="tab:green")
            ax.axhline(hi * vs, color="tab:red", ls="--", lw=0.9)
            ax.axhline(lo * vs, color="tab:purple", ls="--", lw=0.9)
            top = max(float(np.max(v_out)), hi, lo) * vs
            bottom = min(float(np.min(v_out)), hi, lo) * vs
            _mark_spikes(ax, spikes, bottom, top)
            ax.set_ylabel(f"read-out ({vu})")
        ax.set_title(f"{who}: read-out and comparator thresholds", fontsize=9, loc="left")
        for a in axes[row]:
            a.grid(alpha=0.3)
            a.set_xlim(0, t_max * t_scale)
            a.set_xlabel(f"time ({t_unit})")
    handles = [
        Line2D([], [], color="tab:blue", lw=0.9, label="device state"),
        Line2D([], [], color="tab:red", ls=":", lw=1, label="state threshold"),
        Line2D([], [], color="tab:green", lw=0.9, label="read-out"),
        Line2D([], [], color="tab:red", ls="--", lw=0.9, label="$V_\\mathrm{hi}$ (fire)"),
        Line2D([], [], color="tab:purple", ls="--", lw=0.9, label="$V_\\mathrm{lo}$ (release)"),
        Line2D([], [], color="k", marker="v", ls="none", ms=5, label="spike (comparator)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=6, fontsize=8, frameon=False)
    image = "" if result is None else f" on {_image_title(result, None)}"
    fig.suptitle(f"Traced neurons{image}")
    return fig


def _mark_spikes(ax: Any, spikes_scaled: np.ndarray, bottom: float, top: float) -> None:
    """Spike markers in a band above the data of ``ax`` (its y range grown to hold them)."""
    span = (top - bottom) or abs(top) or 1.0
    ax.set_ylim(bottom - 0.06 * span, top + 0.22 * span)
    if len(spikes_scaled):
        ax.plot(spikes_scaled, np.full(len(spikes_scaled), top + 0.12 * span), "v", color="k", ms=5)


def _plot_traces(traces: dict[str, dict[str, Any]], path: Path, result: dict[str, Any] | None = None) -> None:
    save_figure(figure_traces(traces, result), path)


def component_name(component: str) -> str:
    """A readable name of an energy component (:data:`COMPONENT_NAMES`, else its identifier
    with spaces)."""
    return COMPONENT_NAMES.get(component, component.replace("_", " "))


def _network_line(report: dict[str, Any], *, images: bool = True) -> str:
    """The network and the images a figure shows (``""`` where the report does not say)."""
    net = report.get("network") or {}
    parts = [f"network {net['arch']}" if net.get("arch") else ""]
    parts.append(f"{net['neuron']} neurons" if net.get("neuron") else "")
    st = report.get("settings") or {}
    if st.get("mode"):
        schedule = (st.get("options") or {}).get("schedule")
        parts.append(f"{st['mode']} mode" + (f", schedule {schedule}" if schedule else ""))
    if images and (n := report.get("n_samples")):
        parts.append(f"{n} image{'s' if n != 1 else ''}")
    return ", ".join(p for p in parts if p)


def _share(x: float) -> str:
    """A share in % with the digits a small one needs: 0.797 -> "79.7 %", 0.00021 -> "0.021 %"."""
    pct = 100 * x
    return f"{pct:.1f} %" if pct >= 1 else f"{pct:.2g} %"


def figure_energy(report: dict[str, Any]) -> Any:
    """Energy per inference by component: horizontal bars on a log axis, each with its value
    and its share of the total."""
    from matplotlib.ticker import FuncFormatter

    from spinspice.figures import prefix_scale

    plt = pyplot()
    parts = report["energy"]["per_inference_by_component_j"]
    names = [c for c in parts if parts[c] and parts[c] > 0]
    total = float(report["energy_per_inference_j"] or sum(parts.values()))
    values = np.array([parts[c] for c in names], float)
    fig, ax = plt.subplots(figsize=(8, 1.3 + 0.42 * max(1, len(names))), layout="constrained")
    scale, unit = prefix_scale(float(values.max()) if len(values) else total, "J")
    y = np.arange(len(names))[::-1]
    ax.barh(y, values * scale, color="tab:blue", height=0.6)
    ax.set_yticks(y, [component_name(c) for c in names])
    ax.set_xscale("log")
    texts = [
        ax.text(
            v * scale * 1.12,
            yy,
            f"{eng(v, 'J', 3)} ({_share(v / total)})" if total else eng(v, "J", 3),
            va="center",
            ha="left",
            fontsize=8,
        )
        for yy, v in zip(y, values, strict=True)
    ]
    if len(values):
        lo, hi = float(values.min()) * scale / 3, float(values.max()) * scale * 3
        ax.set_xlim(lo, hi)
        for _ in range(4):  # room on the right for the value labels
            fig.canvas.draw()
            frame = ax.get_window_extent()
            right = max(t.get_window_extent().x1 for t in texts) + 6
            if right <= frame.x1:
                break
            decades = np.log10(hi / lo)
            hi = lo * 10 ** (decades * (right - frame.x0) / frame.width)
            ax.set_xlim(lo, hi)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel(f"energy per inference ({unit}, log scale)")
    ax.set_ylabel("component")
    ax.grid(axis="x", alpha=0.3)
    per_spike = report.get("energy_per_spike_j")
    ax.set_title(
        f"Energy per inference {eng(total, 'J', 3)}"
        + (f", per spike {eng(per_spike, 'J', 3)}" if per_spike else "")
        + (f"\n{line}" if (line := _network_line(report)) else ""),
        fontsize=10,
    )
    return fig


def _plot_energy(report: dict[str, Any], path: Path) -> None:
    save_figure(figure_energy(report), path)


def figure_latency(results: Sequence[dict[str, Any]], report: dict[str, Any] | None = None) -> Any:
    """Histogram over the images of the decision latency and of the first output spike's."""
    from spinspice.figures import legend_outside, prefix_scale

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.8), layout="constrained")
    dec_s = np.array([r["latency"]["decision_s"] for r in results], float)
    first_s = np.array(
        [r["latency"]["first_output_spike_s"] for r in results if r["latency"]["first_output_spike_s"]],
        float,
    )
    scale, unit = prefix_scale(float(np.max(np.concatenate([dec_s, first_s]))), "s")
    bins = np.histogram_bin_edges(np.concatenate([dec_s, first_s]) * scale, bins=min(20, max(5, len(dec_s))))
    data = [dec_s * scale]
    labels = [f"decision (mean {eng(float(dec_s.mean()), 's', 3)})"]
    if len(first_s):
        data.append(first_s * scale)
        labels.append(f"first output spike (mean {eng(float(first_s.mean()), 's', 3)})")
    ax.hist(data, bins=bins, label=labels, color=["tab:blue", "tab:orange"][: len(data)])
    ax.set_xlabel(f"latency from the first input pulse ({unit})")
    ax.set_ylabel("number of images")
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    legend_outside(ax)
    n_none = sum(1 for r in results if not r["latency"]["first_output_spike_s"])
    ax.set_title(
        f"Latency over {len(results)} image{'s' if len(results) != 1 else ''}"
        + (f" ({n_none} without output spikes: decided at the window's end)" if n_none else "")
        + (f"\n{line}" if report is not None and (line := _network_line(report, images=False)) else ""),
        fontsize=10,
    )
    return fig


def _plot_latency(
    results: Sequence[dict[str, Any]], path: Path, report: dict[str, Any] | None = None
) -> None:
    save_figure(figure_latency(results, report), path)


def figure_agreement(report: dict[str, Any]) -> Any:
    """Spike agreement per layer: with torch within +-1 step, in the same step, and with the
    device model on the circuit's own inputs; each bar with its value."""
    from spinspice.figures import legend_outside

    plt = pyplot()
    ag = report["agreement"]
    n = len(ag["per_layer"])
    fig, ax = plt.subplots(figsize=(max(6.5, 2.0 + 1.6 * n), 3.8), layout="constrained")
    k = np.arange(n)
    w = 0.27
    series = [
        ("vs torch, ±1 step", [a["spike_agreement"] for a in ag["per_layer"]], "tab:blue"),
        ("vs torch, same step", [a["exact_agreement"] for a in ag["per_layer"]], "tab:cyan"),
        ("vs device model", [a["spike_agreement"] for a in ag["vs_model_per_layer"]], "tab:gray"),
    ]
    for i, (name, values, color) in enumerate(series):
        x = k + (i - 1) * w
        bars = ax.bar(x, [100 * v for v in values], w, label=name, color=color)
        ax.bar_label(bars, [f"{100 * v:.3g}" for v in values], fontsize=7, padding=1)
    ax.set_xticks(k, [f"layer {i}" for i in k])
    ax.set_xlabel("layer")
    ax.set_ylabel("spikes matched (%)")
    ax.set_ylim(0, 112)
    ax.set_yticks(range(0, 101, 20))
    ax.grid(axis="y", alpha=0.3)
    legend_outside(ax)
    ax.set_title(
        f"Spike agreement per layer (all layers {100 * report['spike_agreement']:.1f} %)"
        + (f"\n{line}" if (line := _network_line(report)) else ""),
        fontsize=10,
    )
    return fig


def _plot_agreement(report: dict[str, Any], path: Path) -> None:
    save_figure(figure_agreement(report), path)


def write_cosim_outputs(
    report: dict[str, Any], results: Sequence[dict[str, Any]], out_dir: Path, *, plot: bool = True
) -> dict[str, Any]:
    """Write report.json, report.md, traces.npz, the figures and report.html into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ["report.json", "report.md"]
    traces = results[0]["traces"]  # the traced neurons on the first image
    if traces:
        import io

        buf = io.BytesIO()
        arrays = {
            f"{key}.{name}": np.asarray(v)
            for key, tr in traces.items()
            for name, v in tr.items()
            if name not in ("layer", "neuron") and np.asarray(v).dtype.kind in "fiub"  # not the labels
        }
        np.savez_compressed(buf, **arrays)
        atomic_write_bytes(out_dir / "traces.npz", buf.getvalue())
        files.append("traces.npz")
    if plot:
        _plot_raster(results[0], out_dir / "raster.png", len(results))
        _plot_energy(report, out_dir / "energy.png")
        _plot_latency(results, out_dir / "latency.png", report)
        _plot_agreement(report, out_dir / "agreement.png")
        files += ["raster.png", "energy.png", "latency.png", "agreement.png"]
        if traces:
            _plot_traces(traces, out_dir / "traces.png", results[0])
            files.append("traces.png")
    if plot:
        files.append("report.html")
    report["files"] = sorted(files)
    atomic_write_text(out_dir / "report.md", format_cosim_markdown(report))
    if plot:
        from spinspice.cosim.html import write_cosim_html  # it reads this module's names

        write_cosim_html(report, results, out_dir / "report.html")
    atomic_write_json(out_dir / "report.json", report)
    return report


def _accuracy_line(r: dict[str, Any]) -> str:
    """The cost of ``--accuracy fast``, measured on the first group of every layer and image."""
    acc = r.get("accuracy_check")
    if not acc:
        return ""
    shift = acc["max_spike_shift_s"]
    return (
        f" Accuracy `{acc['preset']}` (reltol 1e-3), checked against the default on "
        f"{acc['groups_checked']} groups ({acc['spikes_checked']} spikes): spikes moved up to "
        + ("n/a" if shift is None else eng(shift, "s"))
        + (
            f", {acc['groups_with_other_spike_count']} groups with another spike count"
            if acc["groups_with_other_spike_count"]
            else ""
        )
        + f"; {acc['time_points']} time points against {acc['time_points_default']}."
    )
