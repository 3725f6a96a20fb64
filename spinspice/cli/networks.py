"""Network commands: train, evaluate, import-snntorch."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from spinspice.cli._common import *  # noqa: F403
from spinspice.cli._common import _emit, _progress, _seed
from spinspice.errors import ModelParameterError
from spinspice.io import atomic_write_json, report_header, staged_output


# -- train / evaluate / import ------------------------------------------------------
def _neuron_choice(neuron: str, preset: str | None, param: Sequence[str] | None) -> dict[str, Any]:
    """A validated neuron spec (building the neuron once checks the model, preset and params)."""
    from spinspice.snn.neurons import make_neuron, neuron_spec

    spec = neuron_spec(neuron, preset, parse_params(param))
    make_neuron(spec)
    return spec


def _train_outputs(
    stage: Path,
    stem: str,
    runs: dict[str, tuple[Any, dict[str, Any]]],
    meta: dict[str, Any],
) -> dict[str, Any]:
    """Checkpoints, metrics JSON and plots of one ``train`` run (main + optional baseline)."""
    from spinspice.snn.checkpoint import save_checkpoint
    from spinspice.snn.train import plot_confusion, plot_history

    out: dict[str, Any] = {}
    for name, (net, info) in runs.items():
        last = info["history"][-1] if info["history"] else {}
        ckpt = f"{stem}.pt" if name == "main" else f"{stem}.{name}.pt"
        summary = {
            "neuron": net.config.neuron,
            "test_accuracy": info["test_accuracy"],
            "train_accuracy": last.get("train_accuracy"),
            "epochs": len(info["history"]),
            "wall_s": info["wall_s"],
            "device": info["device"],
            "checkpoint": ckpt,
        }
        save_checkpoint(stage / ckpt, net, {**meta, "accuracy": summary, "history": info["history"]})
        plot_confusion(
            info["confusion"],
            stage / f"{Path(ckpt).stem}.confusion.png",
            f"{net.config.neuron['model']}: test accuracy {info['test_accuracy'] * 100:.1f} %",
        )
        out[name] = {**summary, "history": info["history"], "confusion": info["confusion"]}
    plot_history(
        {out[k]["neuron"]["model"]: out[k]["history"] for k in out if out[k]["history"]},
        stage / f"{stem}.curve.png",
    )
    return out


@app.command()
def train(
    dataset: Annotated[
        str, typer.Option(help="mnist5k (bundled), digits, mnist:FOLDER or fashion-mnist:FOLDER")
    ] = "mnist5k",
    arch: Annotated[
        str, typer.Option(help="paper001-fc, paper002-fc, paper001-csnn or fc:N0-N1-...-NL")
    ] = "paper001-fc",
    neuron: Annotated[str, typer.Option(help="neuron model (see `spinspice models`) or lif")] = "dw-lif",
    preset: Annotated[str | None, typer.Option(help="preset of the neuron model")] = None,
    param: ParamOpt = None,
    epochs: Annotated[int, typer.Option(help="training epochs")] = 3,
    steps: Annotated[int, typer.Option(help="time steps (write slots) per image")] = 25,
    encoding: Annotated[
        str, typer.Option(help="rate (Bernoulli spikes) or direct (intensity as drive)")
    ] = "rate",
    batch_size: Annotated[int, typer.Option("--batch-size", help="images per optimiser step")] = 128,
    lr: Annotated[float, typer.Option(help="Adam learning rate")] = 1e-3,
    device: Annotated[str, typer.Option(help="auto (cuda when available, else cpu), cpu or cuda")] = "auto",
    max_train: Annotated[
        int | None, typer.Option("--max-train", help="use only the first N training images")
    ] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="also train the ideal-LIF baseline")
    ] = True,
    compile_: Annotated[
        bool,
        typer.Option(
            "--compile/--no-compile", help="torch.compile the device step of large layers (faster training)"
        ),
    ] = True,
    out: Annotated[Path, typer.Option("--out", help="checkpoint to write (outputs go beside it)")] = Path(
        "results/train/model.pt"
    ),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Train a spiking network whose neurons are a device model (and the ideal-LIF baseline).

    Writes OUT (checkpoint), OUT.json (its config), OUT-stem.metrics.json (per-epoch metrics),
    OUT-stem.curve.png (loss/accuracy per epoch) and a confusion matrix PNG per network.
    """
    import time

    import torch

    from spinspice.snn.arch import NetConfig, parse_arch
    from spinspice.snn.data import load_dataset
    from spinspice.snn.neurons import compile_setting, neuron_spec
    from spinspice.snn.train import TrainSettings, pick_device
    from spinspice.snn.train import train as train_net

    _seed(seed)
    with compile_setting(compile_):
        t_start = time.perf_counter()
        if epochs < 1:
            raise ModelParameterError("--epochs must be at least 1")
        settings = TrainSettings(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            device=str(pick_device(device)),
            max_train=max_train,
        )
        spec = _neuron_choice(neuron, preset, param)
        data = load_dataset(dataset)
        layers = parse_arch(arch, data.image_shape, data.n_classes)

        def config(neuron_spec_: dict[str, Any]) -> NetConfig:
            return NetConfig(
                arch=arch,
                layers=layers,
                neuron=neuron_spec_,
                steps=steps,
                encoding=encoding,
                image_shape=data.image_shape,
                n_classes=data.n_classes,
            )

        jobs = {"main": config(spec)}
        if baseline and neuron != "lif":
            jobs["baseline"] = config(neuron_spec("lif"))
        meta = {
            "dataset": data.name,
            "n_train": len(data.y_train) if max_train is None else min(max_train, len(data.y_train)),
            "n_test": len(data.y_test),
            "training": {**dataclasses.asdict(settings), "torch_threads": torch.get_num_threads()},
        }
        runs: dict[str, tuple[Any, dict[str, Any]]] = {}
        with _progress() as progress:
            for name, cfg in jobs.items():
                net, info = train_net(cfg, data, settings, progress=progress, label=cfg.neuron["model"])
                info["test_accuracy"] = info["history"][-1]["test_accuracy"]
                runs[name] = (net, info)
        stem = out.stem
        with staged_output(out.parent) as stage:
            results = _train_outputs(stage, stem, runs, meta)
            main = results["main"]
            report = {
                **report_header("spinspice.training"),
                "dataset": data.name,
                "arch": arch,
                "layers": [dict(x) for x in layers],
                "neuron": spec,
                "steps": steps,
                "encoding": encoding,
                "seed": seed,
                "test_accuracy": main["test_accuracy"],
                "train_accuracy": main["train_accuracy"],
                "epochs": main["epochs"],
                "wall_s": time.perf_counter() - t_start,
                "train_wall_s": main["wall_s"],
                "device": main["device"],
                "checkpoint": str(out),
                "history": main["history"],
                "confusion": main["confusion"],
                **meta,
            }
            if "baseline" in results:
                b = results["baseline"]
                report["baseline"] = {
                    k: b[k] for k in ("neuron", "test_accuracy", "train_accuracy", "wall_s", "checkpoint")
                }
                report["baseline"]["history"] = b["history"]
            report["outputs"] = sorted(p.name for p in stage.iterdir())
            report["outputs"].append(f"{stem}.metrics.json")
            atomic_write_json(stage / f"{stem}.metrics.json", report)
        lines = [
            f"{neuron} {arch} on {data.name}: test accuracy {main['test_accuracy'] * 100:.1f} % "
            f"(train {main['train_accuracy'] * 100:.1f} %), {main['epochs']} epochs in {main['wall_s']:.0f} s"
        ]
        if "baseline" in report:
            b = report["baseline"]
            lines.append(
                f"ideal-LIF baseline: test accuracy {b['test_accuracy'] * 100:.1f} % "
                f"(train {b['train_accuracy'] * 100:.1f} %) in {b['wall_s']:.0f} s"
            )
        lines.append(f"checkpoint: {out}; metrics: {out.parent / (stem + '.metrics.json')}")
        _emit(report, json_out, "\n".join(lines))


@app.command()
def evaluate(
    checkpoint: CheckpointArg,
    dataset: Annotated[
        str | None, typer.Option(help="data set to test on (default: the checkpoint's)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="folder for evaluate.json and confusion.png")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 128,
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Test accuracy and confusion matrix of a checkpoint on the held-out images."""
    import time

    from spinspice.snn.checkpoint import load_checkpoint
    from spinspice.snn.data import load_dataset
    from spinspice.snn.train import evaluate as evaluate_net
    from spinspice.snn.train import plot_confusion

    _seed(seed)
    ck = load_checkpoint(checkpoint)
    name = dataset or ck.meta.get("dataset")
    if not name:
        raise ModelParameterError(f"{checkpoint} names no data set: give --dataset")
    data = load_dataset(name)
    cfg = ck.config
    if data.image_shape != cfg.image_shape or data.n_classes != cfg.n_classes:
        raise ModelParameterError(
            f"{checkpoint} expects images of {cfg.image_shape} and {cfg.n_classes} classes; "
            f"{data.name} has {data.image_shape} and {data.n_classes}"
        )
    t0 = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task(f"evaluate {cfg.neuron['model']}", total=len(data.y_test))
        res = evaluate_net(
            ck.net,
            data.x_test,
            data.y_test,
            batch_size=batch_size,
            seed=seed,
            progress=lambda k: progress.update(task, advance=k),
        )
    report = {
        **report_header("spinspice.evaluation"),
        "checkpoint": str(checkpoint),
        "dataset": data.name,
        "n_test": len(data.y_test),
        "neuron": cfg.neuron,
        "arch": cfg.arch,
        "steps": cfg.steps,
        "test_accuracy": res["accuracy"],
        "test_loss": res["loss"],
        "mean_output_spikes": res["mean_output_spikes"],
        "per_class_accuracy": (np.diag(res["confusion"]) / np.maximum(res["confusion"].sum(1), 1)).tolist(),
        "confusion": res["confusion"],
        "wall_s": time.perf_counter() - t0,
        "seed": seed,
    }
    folder = out or checkpoint.parent / f"{checkpoint.stem}.evaluate"
    with staged_output(folder) as stage:
        plot_confusion(
            res["confusion"],
            stage / "confusion.png",
            f"{checkpoint.name} on {data.name}: {res['accuracy'] * 100:.1f} %",
        )
        atomic_write_json(stage / "evaluate.json", report)
    _emit(
        report,
        json_out,
        f"{checkpoint.name} ({cfg.neuron['model']}, {cfg.arch}) on {data.name}: test accuracy "
        f"{res['accuracy'] * 100:.2f} % of {len(data.y_test)} images\n"
        f"confusion matrix: {folder / 'confusion.png'}",
    )


@app.command("import-snntorch")
def import_snntorch(
    source: Annotated[str, typer.Argument(help="file.py:function returning the nn.Sequential")],
    dataset: Annotated[str, typer.Option(help="data set the network was trained for")] = "mnist5k",
    steps: Annotated[int, typer.Option(help="time steps per image")] = 25,
    encoding: Annotated[str, typer.Option(help="rate or direct")] = "rate",
    neuron: Annotated[
        str | None, typer.Option(help="swap the LIF neurons for this device model, then fine-tune")
    ] = None,
    preset: Annotated[str | None, typer.Option(help="preset of --neuron")] = None,
    param: ParamOpt = None,
    epochs: Annotated[int, typer.Option(help="fine-tuning epochs after a swap (0: none)")] = 1,
    batch_size: Annotated[int, typer.Option("--batch-size")] = 128,
    lr: Annotated[float, typer.Option(help="Adam learning rate for fine-tuning")] = 1e-3,
    weights: Annotated[
        Path | None,
        typer.Option("--weights", help="state_dict file to load into it (torch.load weights_only=True)"),
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="checkpoint to write")] = Path("results/import/model.pt"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    """Import a plain snnTorch network into the checkpoint format (optionally swap its neurons)."""
    from spinspice.snn.checkpoint import save_checkpoint
    from spinspice.snn.data import load_dataset
    from spinspice.snn.interop import from_snntorch, load_module, swap_neurons
    from spinspice.snn.train import TrainSettings
    from spinspice.snn.train import evaluate as evaluate_net
    from spinspice.snn.train import train as train_net

    _seed(seed)
    data = load_dataset(dataset)
    module = load_module(source, weights=weights)
    net = from_snntorch(
        module, image_shape=data.image_shape, n_classes=data.n_classes, steps=steps, encoding=encoding
    )
    imported = evaluate_net(net, data.x_test, data.y_test, seed=seed)
    report: dict[str, Any] = {
        **report_header("spinspice.snntorch_import"),
        "source": source,
        "dataset": data.name,
        "layers": [dict(x) for x in net.config.layers],
        "imported_test_accuracy": imported["accuracy"],
        "seed": seed,
    }
    final, acc = net, imported["accuracy"]
    if neuron is not None:
        spec = _neuron_choice(neuron, preset, param)
        swapped = swap_neurons(net, spec)
        before = evaluate_net(swapped, data.x_test, data.y_test, seed=seed)
        report["swapped"] = {"neuron": spec, "test_accuracy_before_fine_tuning": before["accuracy"]}
        final, acc = swapped, before["accuracy"]
        if epochs > 0:
            settings = TrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
            with _progress() as progress:
                final, info = train_net(
                    swapped.config,
                    data,
                    settings,
                    progress=progress,
                    label="fine-tune",
                    initial=swapped.state_dict(),
                )
            acc = info["history"][-1]["test_accuracy"]
            report["swapped"].update(fine_tune_epochs=epochs, history=info["history"], test_accuracy=acc)
    report["test_accuracy"] = acc
    report["checkpoint"] = str(out)
    with staged_output(out.parent) as stage:
        save_checkpoint(
            stage / out.name,
            final,
            {"dataset": data.name, "source": {"snntorch": source}, "accuracy": {"test_accuracy": acc}},
        )
        atomic_write_json(stage / f"{out.stem}.import.json", report)
    lines = [
        f"imported {source}: {len(net.config.layers)} layers, "
        f"test accuracy {imported['accuracy'] * 100:.1f} %"
    ]
    if "swapped" in report:
        sw = report["swapped"]
        lines.append(
            f"with {sw['neuron']['model']} neurons: "
            f"{sw['test_accuracy_before_fine_tuning'] * 100:.1f} % before, "
            f"{acc * 100:.1f} % after {epochs} fine-tuning epochs"
        )
    lines.append(f"checkpoint: {out}")
    _emit(report, json_out, "\n".join(lines))


