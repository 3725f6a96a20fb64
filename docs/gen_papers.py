#!/usr/bin/env python3
"""Generate docs/papers.md: one row per source paper's network, from recorded runs.

Each row is one network of a source paper, trained and co-simulated by spinspice.
Its figures are read from the reports the two commands wrote (the training's
``<stem>.metrics.json`` and the co-simulation's ``report.json``) and kept in
``docs/papers.json``, so the table is re-rendered without re-running hours of
training and circuit simulation; ``tests/test_docs.py`` checks that
``docs/papers.md`` is the rendering of ``docs/papers.json``.

    .venv/bin/python docs/gen_papers.py                        # render papers.json -> papers.md
    .venv/bin/python docs/gen_papers.py run KEY --workdir DIR  # run a row's commands, record it
    .venv/bin/python docs/gen_papers.py record KEY --train M.metrics.json --cosim report.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from spinspice.io import atomic_write_json, atomic_write_text
from spinspice.units import eng

DOCS = Path(__file__).resolve().parent
RECORD = DOCS / "papers.json"

#: the networks: what the paper reports, what we run (``{w}`` = the work folder)
ROWS: dict[str, dict[str, str]] = {
    "paper001-fc": {
        "paper": "001",
        "network": "field-gated DW-LIF, FC (row-by-row field-line gating)",
        "paper_result": "96.61 % (DW model, FC 784-1000-10, MNIST 60k, 10 epochs)",
        "data": "mnist5k: 5000 MNIST training / 1000 test images, bundled",
        "train": "spinspice train --neuron field-gated-lif --arch fc:784-100-10 --epochs 2 --no-baseline "
        "--schedule rows --out {w}/model.pt",
        "cosim": "spinspice cosim {w}/model.pt --samples 5 --trace none --out {w}/cosim",
    },
    "paper001-csnn-digits": {
        "paper": "001",
        "network": "DW-LIF CSNN csnn:4c3-p2-10 (conv tiles, OR-gate max-pool)",
        "paper_result": "96.99 % (DW model, CSNN, MNIST 60k)",
        "data": "digits: 8x8 scikit-learn digits, 1437 training / 360 test images",
        "train": "spinspice train --dataset digits --arch csnn:4c3-p2-10 --neuron dw-lif --epochs 3 "
        "--out {w}/c.pt",
        "cosim": "spinspice cosim {w}/c.pt --samples 5 --out {w}/cosim",
    },
    "paper001-csnn": {
        "paper": "001",
        "network": "DW-LIF CSNN paper001-csnn = csnn:32c5-p2-64c5-p2-10 (22538 neurons)",
        "paper_result": "96.99 % (DW model, CSNN, MNIST 60k)",
        "data": "mnist5k: 5000 MNIST training / 1000 test images, bundled",
        "train": "spinspice train --arch paper001-csnn --neuron dw-lif --epochs 1 --no-baseline "
        "--out {w}/p.pt",
        "cosim": "spinspice cosim {w}/p.pt --samples 1 --trace none --out {w}/cosim",
    },
    "paper002-saf-lif": {
        "paper": "002",
        "network": "SAF-LIF (paper-002-3us), FC",
        "paper_result": "92.57 % (FC 784-256-128-10, MNIST 60k, Poisson rate coding)",
        "data": "digits: 8x8 scikit-learn digits, 1437 training / 360 test images",
        "train": "spinspice train --dataset digits --arch fc:64-32-10 --neuron saf-lif "
        "--preset paper-002-3us --epochs 3 --out {w}/s.pt",
        "cosim": "spinspice cosim {w}/s.pt --samples 5 --out {w}/cosim",
    },
    "paper003-cogd-ann": {
        "paper": "003",
        "network": "Co/Gd sigmoid ANN, 8-level Co/Gd synapses (non-spiking)",
        "paper_result": "97.7 % (ANN 784-100-10, MNIST)",
        "data": "digits: 8x8 scikit-learn digits, 1437 training / 360 test images",
        "train": "spinspice train --dataset digits --neuron cogd-sigmoid --out {w}/a.pt",
        "cosim": "spinspice cosim {w}/a.pt --samples 20 --out {w}/cosim",
    },
    "paper004-dw-mtj": {
        "paper": "004",
        "network": "stochastic DW-MTJ auto-reset (sigma 0.3), FC",
        "paper_result": "about 2 points below ideal LIF (spiking MLP, Fashion-MNIST 60k, Norse)",
        "data": "digits: 8x8 scikit-learn digits, 1437 training / 360 test images",
        "train": "spinspice train --dataset digits --arch fc:64-64-10 --neuron dw-mtj-autoreset --epochs 3 "
        "--out {w}/m.pt",
        "cosim": "spinspice cosim {w}/m.pt --samples 5 --out {w}/cosim",
    },
    "ideal-lif": {
        "paper": "001 (baseline)",
        "network": "ideal LIF (snnTorch Leaky), clocked RC-membrane circuit",
        "paper_result": "98.11 % (snnLeaky, FC, MNIST 60k)",
        "data": "digits: 8x8 scikit-learn digits, 1437 training / 360 test images",
        "train": "spinspice train --dataset digits --arch fc:64-32-10 --neuron lif --epochs 3 --out {w}/l.pt",
        "cosim": "spinspice cosim {w}/l.pt --samples 5 --out {w}/cosim",
    },
}


def _figures(train: dict[str, Any], cosim: dict[str, Any] | None, note: str | None = None) -> dict[str, Any]:
    """The table's figures, read from a training report and a co-simulation report (None: the
    network was trained but not co-simulated; ``note`` says why)."""
    fig: dict[str, Any] = {
        "arch": train["arch"],
        "dataset": train["dataset"],
        "epochs": train["epochs"],
        "test_accuracy": train["test_accuracy"],
        "baseline_accuracy": (train.get("baseline") or {}).get("test_accuracy"),
        "train_wall_s": train.get("wall_s"),
    }
    if cosim is None:
        return {**fig, "note": note}
    fig |= {
        "noise_seeds": train.get("noise_seeds") or cosim.get("noise_seeds"),
        "samples": cosim["n_samples"],
        "class_agreement": cosim["class_agreement"],
        "torch_accuracy": cosim["torch_accuracy"],
        "circuit_accuracy": cosim["circuit_accuracy"],
        "energy_per_inference_j": cosim["energy_per_inference_j"],
        "cosim_wall_s": cosim.get("wall_s"),
        "checkpoint_sha256": cosim.get("checkpoint_sha256"),
    }
    if note:  # what the figures need beside them (e.g. how a long run was completed)
        fig["note"] = note
    if cosim["schema"] == "spinspice.cogd_ann_cosim":
        fig |= {
            "activation_error_rms": cosim["activation_error_rms"],
            "latency_s": cosim["settling_latency_s"]["mean"],
            "latency_kind": "settling (1 %)",
        }
    else:
        fig |= {
            "spike_agreement": cosim["spike_agreement"],
            "spikes_per_image": cosim["circuit_spikes_per_inference"],
            "energy_per_spike_j": cosim["energy_per_spike_j"],
            "latency_s": cosim["mean_latency_s"],
            "latency_kind": "first output spike",
        }
    return fig


def record(
    key: str, train_path: Path, cosim_path: Path | None, when: str | None = None, note: str | None = None
) -> dict[str, Any]:
    """Read the two reports of row ``key`` into ``docs/papers.json`` (no co-simulation report:
    the training only, with ``note`` saying why)."""
    if key not in ROWS:
        raise SystemExit(f"unknown row {key!r}: {', '.join(ROWS)}")
    if cosim_path is None and not note:
        raise SystemExit("without --cosim, say why in --note")
    train = json.loads(Path(train_path).read_text(encoding="utf-8"))
    cosim = json.loads(Path(cosim_path).read_text(encoding="utf-8")) if cosim_path else None
    data = json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.is_file() else {}
    data[key] = {
        "measured": when or datetime.date.today().isoformat(),
        "train_schema": train["schema"],
        "cosim_schema": cosim["schema"] if cosim else None,
        **_figures(train, cosim, note),
    }
    atomic_write_json(RECORD, dict(sorted(data.items())))
    return data[key]


def run(key: str, workdir: Path) -> dict[str, Any]:
    """Run row ``key``'s two commands in ``workdir`` (hours for the large ones), then record."""
    workdir.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).with_name("spinspice")
    for step in ("train", "cosim"):
        argv = shlex.split(ROWS[key][step].format(w=workdir))
        subprocess.run([str(exe), *argv[1:]], check=True)
    out = shlex.split(ROWS[key]["train"].format(w=workdir))
    ckpt = Path(out[out.index("--out") + 1])
    return record(key, ckpt.with_name(f"{ckpt.stem}.metrics.json"), workdir / "cosim" / "report.json")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f} %"


def _eng(x: float | None, unit: str) -> str:
    return "-" if x is None else eng(x, unit, digits=3)


def render(data: dict[str, Any]) -> str:
    lines = [
        "# The source papers' networks as verified circuits",
        "",
        "Generated by `docs/gen_papers.py` from `docs/papers.json`, which holds the figures",
        "read from the reports of the commands below (`gen_papers.py run KEY` reruns a row).",
        "Accuracies are test accuracies of our training on the data set named, beside the",
        "paper's own figure on its data set: the sets differ (the bundled `mnist5k` has 5000",
        "of MNIST's 60000 training images; `digits` is 8x8 images), so the columns compare",
        "the device networks with their ideal-LIF baselines trained beside them, not with",
        "the papers' absolute numbers. Circuit figures are from the transient co-simulation",
        "of the trained network on the first test images (agreement counted spike by spike,",
        "+-1 step; for the Co/Gd ANN, the RMS activation error relative to the swing).",
        "",
        "| paper | network | data | ours (torch) | ideal LIF beside it | paper | circuit agreement | "
        "class agreement | spikes / image | energy | latency |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, row in ROWS.items():
        fig = data.get(key)
        if fig is None:
            lines.append(
                f"| {row['paper']} | {row['network']} | {row['data'].split(':')[0]} | not run | - | "
                f"{row['paper_result']} | - | - | - | - | - |"
            )
            continue
        ours = f"{_pct(fig['test_accuracy'])} ({fig['arch']}, {fig['epochs']} epochs)"
        if "samples" not in fig:  # trained, not co-simulated (the note says why)
            lines.append(
                f"| {row['paper']} | {row['network']} | {fig['dataset']} | {ours} | "
                f"{_pct(fig['baseline_accuracy'])} | {row['paper_result']} | not co-simulated (see below) "
                "| - | - | - | - |"
            )
            continue
        if fig.get("noise_seeds"):
            ns = fig["noise_seeds"]
            ours += f"; {_pct(ns['mean'])} +- {100 * ns['std']:.1f} over {len(ns['seeds'])} noise seeds"
        if "activation_error_rms" in fig:
            agree = f"RMS error {100 * fig['activation_error_rms']:.2f} % of swing"
            energy = f"{_eng(fig['energy_per_inference_j'], 'J')} / inference"
            spikes = "- (ANN)"
        else:
            agree = f"{_pct(fig['spike_agreement'])} spikes"
            energy = (
                f"{_eng(fig['energy_per_spike_j'], 'J')} / spike, "
                f"{_eng(fig['energy_per_inference_j'], 'J')} / inference"
            )
            spikes = f"{fig['spikes_per_image']:.0f}"
        lines.append(
            f"| {row['paper']} | {row['network']} | {fig['dataset']} | {ours} | "
            f"{_pct(fig['baseline_accuracy'])} | {row['paper_result']} | {agree} ({fig['samples']} images) | "
            f"{_pct(fig['class_agreement'])} | {spikes} | {energy} | "
            f"{_eng(fig['latency_s'], 's')} ({fig['latency_kind']}) |"
        )
    lines += ["", "## Commands", ""]
    for key, row in ROWS.items():
        when = data.get(key, {}).get("measured")
        lines += [
            f"- `{key}` ({row['data']}; " + (f"measured {when}):" if when else "not run yet):"),
            "",
            "  ```",
            f"  {row['train'].format(w='w')}",
            f"  {row['cosim'].format(w='w')}",
            "  ```",
            "",
            *([f"  {data[key]['note']}", ""] if data.get(key, {}).get("note") else []),
        ]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd")
    r = sub.add_parser("record")
    r.add_argument("key")
    r.add_argument("--train", type=Path, required=True)
    r.add_argument("--cosim", type=Path)
    r.add_argument("--note")
    r.add_argument("--when")
    u = sub.add_parser("run")
    u.add_argument("key")
    u.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=DOCS / "papers.md")
    args = ap.parse_args(argv)
    if args.cmd == "record":
        record(args.key, args.train, args.cosim, args.when, args.note)
    elif args.cmd == "run":
        run(args.key, args.workdir)
    data = json.loads(RECORD.read_text(encoding="utf-8")) if RECORD.is_file() else {}
    atomic_write_text(args.out, render(data))


if __name__ == "__main__":
    main()
