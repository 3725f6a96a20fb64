"""Network commands: train, evaluate, import-snntorch, import-nir, export-nir (one library call each)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spinspice import snn
from spinspice.cli._common import (
    CheckpointArg,
    JsonOpt,
    ParamOpt,
    SeedOpt,
    _progress,
    app,
    emit,
    library_args,
    parse_params,
)
from spinspice.errors import ModelParameterError
from spinspice.units import parse_value


@app.command()
def train(
    dataset: Annotated[
        str, typer.Option(help="mnist5k (bundled), digits, mnist:FOLDER or fashion-mnist:FOLDER")
    ] = "mnist5k",
    arch: Annotated[
        str | None,
        typer.Option(help="paper001-fc, paper002-fc, paper003-fc, paper001-csnn, fc:N0-...-NL or csnn:ITEMS"),
    ] = None,
    neuron: Annotated[str, typer.Option(help="neuron model (see `spinspice models`) or lif")] = "dw-lif",
    preset: Annotated[str | None, typer.Option(help="preset of the neuron model")] = None,
    param: ParamOpt = None,
    epochs: Annotated[int | None, typer.Option(help="training epochs [3; cogd-sigmoid 20]")] = None,
    steps: Annotated[int, typer.Option(help="time steps (write slots) per image")] = 25,
    encoding: Annotated[
        str, typer.Option(help="rate (Bernoulli spikes) or direct (intensity as drive)")
    ] = "rate",
    timing: Annotated[str, typer.Option(help="next-step or same-step (snnTorch's, NIR's)")] = "next-step",
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="images per step [128; 16 under 3000]")
    ] = None,
    lr: Annotated[float | None, typer.Option(help="Adam learning rate [1e-3; cogd-sigmoid 1e-2]")] = None,
    synapse: Annotated[str | None, typer.Option(help="cogd-sigmoid: synapse device [cogd]")] = None,
    levels: Annotated[int | None, typer.Option(help="cogd-sigmoid: conductance levels")] = None,
    device: Annotated[str, typer.Option(help="auto (cuda when available, else cpu), cpu or cuda")] = "auto",
    max_train: Annotated[
        int | None, typer.Option("--max-train", help="use only the first N training images")
    ] = None,
    baseline: Annotated[
        bool, typer.Option("--baseline/--no-baseline", help="also train the ideal-LIF baseline")
    ] = True,
    compile_: Annotated[
        bool, typer.Option("--compile/--no-compile", help="torch.compile the device step of large layers")
    ] = True,
    schedule: Annotated[str, typer.Option(help="field-line schedule: all, rows or rows-free")] = "all",
    array_cols: Annotated[int | None, typer.Option("--array-cols", help="neuron array columns")] = None,
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
    kw = library_args(locals(), compile_="compile", param="params")
    emit(snn.train_network(**kw | {"params": parse_params(param)}, progress=_progress()), json_out)


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
    folder = out or checkpoint.parent / f"{checkpoint.stem}.evaluate"
    result = snn.evaluate_network(
        checkpoint, dataset, batch_size=batch_size, out=folder, seed=seed, progress=_progress()
    )
    emit(result, json_out)


@app.command("import-nir", help="Import a NIR graph (a chain; its neurons discretised with --dt).")
@app.command("import-snntorch", help="Import an snnTorch network (Sequential or class); swap its neurons.")
def import_network(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="file.py:function returning the network, or GRAPH.nir")],
    dataset: Annotated[str, typer.Option(help="data set the network was trained for")] = "mnist5k",
    steps: Annotated[int, typer.Option(help="time steps per image")] = 25,
    encoding: Annotated[str, typer.Option(help="rate or direct")] = "rate",
    neuron: Annotated[str | None, typer.Option(help="swap the LIF neurons for this model, fine-tune")] = None,
    preset: Annotated[str | None, typer.Option(help="preset of --neuron")] = None,
    param: ParamOpt = None,
    epochs: Annotated[int, typer.Option(help="fine-tuning epochs after a swap (0: none)")] = 1,
    batch_size: Annotated[int | None, typer.Option("--batch-size")] = None,
    lr: Annotated[float, typer.Option(help="Adam learning rate for fine-tuning")] = 1e-3,
    weights: Annotated[Path | None, typer.Option(help="import-snntorch: state_dict file to load")] = None,
    dt: Annotated[str | None, typer.Option(help="import-nir: time step [1e-4 s, snnTorch's]")] = None,
    out: Annotated[Path, typer.Option("--out", help="checkpoint to write")] = Path("results/import/model.pt"),
    json_out: JsonOpt = False,
    seed: SeedOpt = 0,
) -> None:
    nir = ctx.info_name == "import-nir"
    if (weights if nir else dt) is not None:
        raise ModelParameterError(f"--{'weights' if nir else 'dt'} does not apply to {ctx.info_name}")
    kw = dict(
        dataset=dataset, steps=steps, encoding=encoding, neuron=neuron, preset=preset, epochs=epochs, lr=lr,
        params=parse_params(param), batch_size=batch_size, out=out, seed=seed, progress=_progress(),
    )  # fmt: skip
    dt_s = None if dt is None else parse_value(dt, "s", name="--dt")
    run, extra = (snn.import_nir, {"dt_s": dt_s}) if nir else (snn.import_snntorch, {"weights": weights})
    emit(run(source, **extra, **kw), json_out)  # type: ignore[operator]


@app.command("export-nir")
def export_nir(
    checkpoint: CheckpointArg,
    out: Annotated[Path, typer.Option("--out", help="NIR graph file to write")] = Path("model.nir"),
    dt: Annotated[str | None, typer.Option(help="time step [1e-4 s, snnTorch's]")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write an ideal-LIF checkpoint as a NIR graph, exactly (device neurons are refused)."""
    dt_s = None if dt is None else parse_value(dt, "s", name="--dt")
    emit(snn.export_nir(checkpoint, out=out, dt_s=dt_s), json_out)
