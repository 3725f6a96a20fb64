"""The public calls of :mod:`spinspice.snn`: train, evaluate and import a network.

Each call seeds itself (:func:`spinspice.io.seed_all`), takes an optional ``progress``
display (``None``: silent) and returns a :class:`spinspice.io.Result`: ``.report()`` is
the JSON report (schemas ``spinspice.training``, ``spinspice.evaluation``,
``spinspice.snntorch_import``, docs/reports.md), ``.summary()`` the lines the CLI
prints and ``.write(folder)`` writes the call's files again into ``folder``.  The CLI
commands ``train``, ``evaluate`` and ``import-snntorch`` are these calls.

torch is imported on the first call, not with this module.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spinspice.circuits.network import V_MAX_SUPPLY_V
from spinspice.errors import ModelParameterError, check_setting
from spinspice.io import (
    Result,
    atomic_write_json,
    displayed,
    report_header,
    seed_all,
    staged_output,
)

if TYPE_CHECKING:
    import numpy as np

    from spinspice.snn.ann import AnnTrainResult
    from spinspice.snn.arch import SpikingNet

__all__ = [
    "EvaluateResult",
    "ExportResult",
    "ImportResult",
    "TrainResult",
    "evaluate_network",
    "export_nir",
    "import_nir",
    "import_snntorch",
    "train_network",
]

Run = tuple["SpikingNet", dict[str, Any]]  # a trained network and its train() info


def _neuron_choice(neuron: str, preset: str | None, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """A validated neuron spec (building the neuron once checks the model, preset and params)."""
    from spinspice.snn.neurons import make_neuron, neuron_spec

    spec = neuron_spec(neuron, preset, params)
    make_neuron(spec)
    return spec


# -- train -------------------------------------------------------------------------------
def _train_outputs(stage: Path, stem: str, runs: dict[str, Run], meta: dict[str, Any]) -> dict[str, Any]:
    """Checkpoints, configs and plots of one training (main + optional baseline) into ``stage``."""
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
        if "noise_seeds" in info:  # a stochastic network's accuracy over several noise draws
            out[name]["noise_seeds"] = info["noise_seeds"]
    plot_history(
        {out[k]["neuron"]["model"]: out[k]["history"] for k in out if out[k]["history"]},
        stage / f"{stem}.curve.png",
    )
    return out


def _write_training(
    folder: Path,
    stem: str,
    runs: dict[str, Run],
    meta: dict[str, Any],
    make_report: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """Write a training's files into ``folder`` atomically; ``make_report(per_run)`` gives the
    metrics report (``outputs`` is added here); returns it."""
    with staged_output(folder) as stage:
        report = make_report(_train_outputs(stage, stem, runs, meta))
        report["outputs"] = sorted(p.name for p in stage.iterdir())
        report["outputs"].append(f"{stem}.metrics.json")
        atomic_write_json(stage / f"{stem}.metrics.json", report)
    return report


class TrainResult(Result):
    """A trained network (and its ideal-LIF baseline): report schema ``spinspice.training``.

    ``networks["main"]`` is the device-neuron network, ``networks["baseline"]`` the baseline
    when one was trained; ``checkpoint`` the checkpoint file written; ``out`` its folder.
    """

    def __init__(
        self, report: dict[str, Any], runs: dict[str, Run], meta: dict[str, Any], checkpoint: Path
    ) -> None:
        self._report = report
        self._runs = runs
        self._meta = meta
        self.checkpoint = checkpoint
        self.networks: dict[str, SpikingNet] = {name: net for name, (net, _) in runs.items()}

    @property
    def test_accuracy(self) -> float:
        return float(self._report["test_accuracy"])

    def report(self) -> dict[str, Any]:
        return dict(self._report)

    def summary(self) -> str:
        r = self._report
        out = Path(r["checkpoint"])
        lines = [
            f"{r['neuron']['model']} {r['arch']} on {r['dataset']}: test accuracy "
            f"{r['test_accuracy'] * 100:.1f} % (train {r['train_accuracy'] * 100:.1f} %), "
            f"{r['epochs']} epochs in {r['train_wall_s']:.0f} s"
        ]
        if "noise_seeds" in r:
            ns = r["noise_seeds"]
            lines.append(
                f"stochastic neurons: test accuracy {ns['mean'] * 100:.1f} +- {ns['std'] * 100:.1f} % "
                f"over {len(ns['seeds'])} noise seeds "
                f"(min {ns['min'] * 100:.1f} %, max {ns['max'] * 100:.1f} %)"
            )
        if "baseline" in r:
            b = r["baseline"]
            lines.append(
                f"ideal-LIF baseline: test accuracy {b['test_accuracy'] * 100:.1f} % "
                f"(train {b['train_accuracy'] * 100:.1f} %) in {b['wall_s']:.0f} s"
            )
        lines.append(f"checkpoint: {out}; metrics: {out.parent / (out.stem + '.metrics.json')}")
        return "\n".join(lines)

    def write(self, folder: str | Path) -> Path:
        """The checkpoint(s), their configs, metrics JSON and plots, named as by the call, in
        ``folder``; the metrics' ``checkpoint`` names the copy there."""
        folder = Path(folder)
        stem = Path(self._report["checkpoint"]).stem

        def make_report(_: dict[str, Any]) -> dict[str, Any]:
            return {**self._report, "checkpoint": str(folder / f"{stem}.pt")}

        _write_training(folder, stem, self._runs, self._meta, make_report)
        return folder


def train_network(
    dataset: str = "mnist5k",
    arch: str | None = None,
    neuron: str = "dw-lif",
    preset: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    epochs: int | None = None,
    steps: int = 25,
    encoding: str = "rate",
    timing: str = "next-step",
    batch_size: int | None = None,
    lr: float | None = None,
    device: str = "auto",
    max_train: int | None = None,
    baseline: bool = True,
    compile: bool = True,
    schedule: str = "all",
    array_cols: int | None = None,
    drive_limit_v: float | None = V_MAX_SUPPLY_V,
    out: str | Path = Path("results/train/model.pt"),
    seed: int = 0,
    progress: Any = None,
    synapse: str | None = None,
    levels: int | None = None,
) -> TrainResult | AnnTrainResult:
    """Train a spiking network whose neurons are the device model ``neuron`` (SPEC 4).

    ``neuron="cogd-sigmoid"`` trains paper 003's non-spiking Co/Gd sigmoid ANN instead
    (:func:`spinspice.snn.ann.train_cogd_ann`: ``arch`` paper003-fc (default) or fc:...,
    ``params`` the device's, ``synapse`` (default cogd) / ``levels`` its quantisation-aware
    synapses, 20 epochs at ``lr`` 1e-2 by default; the spiking options do not apply) and
    returns its :class:`~spinspice.snn.ann.AnnTrainResult`.

    ``dataset``: mnist5k, digits, mnist:FOLDER or fashion-mnist:FOLDER; ``arch``: paper001-fc
    (default), paper002-fc, paper001-csnn, csnn:ITEMS or fc:N0-N1-...-NL; ``epochs`` (default
    3) and ``lr`` (Adam, default 1e-3); ``params``: overrides of the neuron
    model's parameters (name -> value or text with SI suffix); ``steps``: time steps (write
    slots) per image; ``encoding``: rate (Bernoulli spikes) or direct; ``timing``: next-step
    (a spike drives the next layer in the next step) or same-step (in the same step, as
    snnTorch and NIR; needed for ``export_nir``); ``device``: auto, cpu
    or cuda; ``batch_size``: images per optimiser step (None: 128, or 16 for training sets
    under 3000 images, :func:`~spinspice.snn.train.default_batch_size`); ``max_train``: use
    only the first N training images; ``baseline``: also train
    the ideal-LIF baseline; ``compile``: torch.compile the device step of large layers;
    ``schedule="rows"``: train with the timing of the row-by-row field-line circuit (each
    layer's neuron array, ``array_cols`` columns, written one row per write slot:
    :class:`~spinspice.snn.neurons.RowScheduledNeuron`), so that circuit agrees with it;
    ``"rows-free"``: the same timing on the access-transistor-free array.  ``drive_limit_v``:
    drive-aware training, each device neuron's drive clipped at what its cell's write path
    carries with supplies up to that voltage (on ``rows-free`` through its column's cells in
    series), the current limit of the circuit's write drivers (None: unlimited).

    Writes ``out`` (checkpoint), its config (``.json``), ``<stem>.metrics.json`` (the report),
    ``<stem>.curve.png`` and a confusion matrix PNG per network beside it.
    """
    _check_training(epochs=epochs, steps=steps, batch_size=batch_size, lr=lr, max_train=max_train, seed=seed)
    if neuron == "cogd-sigmoid":  # paper 003's ANN: its own trainer and checkpoint kind
        from spinspice.snn.ann import train_cogd_ann

        return train_cogd_ann(
            dataset, arch or "paper003-fc", epochs=20 if epochs is None else epochs,
            lr=1e-2 if lr is None else lr, batch_size=batch_size or 32, seed=seed, out=out,
            device_params=params, synapse=synapse or "cogd", levels=levels, max_train=max_train,
            progress=progress,
        )  # fmt: skip
    if synapse is not None or levels is not None:
        raise ModelParameterError(
            "--synapse/--levels train the Co/Gd ANN's quantised synapses (--neuron cogd-sigmoid); a "
            "spiking network's synapse device is chosen when it is netlisted (netlist/cosim --synapse)"
        )
    arch, epochs, lr = arch or "paper001-fc", 3 if epochs is None else epochs, 1e-3 if lr is None else lr
    import torch

    from spinspice.io import run_lock
    from spinspice.snn.arch import NetConfig, SpikingNet, parse_arch
    from spinspice.snn.data import load_dataset
    from spinspice.snn.neurons import compile_setting, neuron_spec
    from spinspice.snn.train import TrainSettings, default_batch_size, pick_device, train

    seed_all(seed)
    out = Path(out)
    with compile_setting(compile):
        t_start = time.perf_counter()
        if epochs < 1:
            raise ModelParameterError("--epochs must be at least 1")
        spec = _neuron_choice(neuron, preset, params)
        data = load_dataset(dataset)
        n_used = len(data.y_train) if max_train is None else min(max_train, len(data.y_train))
        settings = TrainSettings(
            epochs=epochs,
            batch_size=batch_size or default_batch_size(n_used),  # recorded as used
            lr=lr,
            seed=seed,
            device=str(pick_device(device)),
            max_train=max_train,
        )
        layers = parse_arch(arch, data.image_shape, data.n_classes)

        def config(neuron_spec_: dict[str, Any], schedule: str, array_cols: int | None) -> NetConfig:
            return NetConfig(
                arch=arch,
                layers=layers,
                neuron=neuron_spec_,
                steps=steps,
                encoding=encoding,
                image_shape=data.image_shape,
                n_classes=data.n_classes,
                schedule=schedule,
                array_cols=array_cols,
                drive_limit_v=None if neuron_spec_["model"] == "lif" else drive_limit_v,
                timing=timing,
            )

        jobs = {"main": config(spec, schedule, array_cols)}
        SpikingNet(jobs["main"])  # refuses a schedule the network cannot have before any work
        if baseline and neuron != "lif":
            jobs["baseline"] = config(neuron_spec("lif"), "all", None)  # software: no schedule
        meta = {
            "dataset": data.name,
            "n_train": len(data.y_train) if max_train is None else min(max_train, len(data.y_train)),
            "n_test": len(data.y_test),
            "training": {**dataclasses.asdict(settings), "torch_threads": torch.get_num_threads()},
        }

        def make_report(results: dict[str, Any]) -> dict[str, Any]:
            main = results["main"]
            report = {
                **report_header("spinspice.training"),
                "dataset": data.name,
                "arch": arch,
                "layers": [dict(x) for x in layers],
                "neuron": spec,
                "steps": steps,
                "encoding": encoding,
                "schedule": schedule,
                "array_cols": array_cols,
                "drive_limit_v": drive_limit_v,
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
                **({"noise_seeds": main["noise_seeds"]} if "noise_seeds" in main else {}),
                **meta,
            }
            if "baseline" in results:
                b = results["baseline"]
                report["baseline"] = {
                    k: b[k] for k in ("neuron", "test_accuracy", "train_accuracy", "wall_s", "checkpoint")
                }
                report["baseline"]["history"] = b["history"]
            return report

        runs: dict[str, Run] = {}
        # a second training of `out` is refused at once (run_lock: `.NAME.lock` beside it), until written
        with run_lock(out, file=True), displayed(progress) as bar:
            for name, cfg in jobs.items():
                net, info = train(cfg, data, settings, progress=bar, label=cfg.neuron["model"])
                info["test_accuracy"] = info["history"][-1]["test_accuracy"]
                if any(getattr(n, "stochastic", False) for n in net.neurons):
                    info["noise_seeds"] = noise_seed_accuracy(net, data, settings.device)
                runs[name] = (net, info)
            report = _write_training(out.parent, out.stem, runs, meta, make_report)
    result = TrainResult(report, runs, meta, out.parent / f"{out.stem}.pt")
    result.out = out.parent
    return result


#: test passes of a stochastic network, each with its own noise (and input-spike) seed
NOISE_SEEDS = 5


def noise_seed_accuracy(net: Any, data: Any, device: str, seeds: int = NOISE_SEEDS) -> dict[str, Any]:
    """A stochastic network's test accuracy is a distribution: the test set run with ``seeds``
    seeds (each draws its own velocity factors and input spikes), mean, spread and range."""
    import numpy as np

    from spinspice.snn.train import evaluate

    ids = [1000 + s for s in range(seeds)]
    accs = [evaluate(net, data.x_test, data.y_test, seed=s, device=device)["accuracy"] for s in ids]
    return {
        "seeds": ids,
        "test_accuracy": accs,
        "mean": float(np.mean(accs)),
        "std": float(np.std(accs, ddof=1)) if seeds > 1 else 0.0,
        "min": float(min(accs)),
        "max": float(max(accs)),
    }


# -- evaluate ----------------------------------------------------------------------------
def _write_evaluation(folder: Path, report: dict[str, Any]) -> None:
    from spinspice.snn.train import plot_confusion

    with staged_output(folder) as stage:
        plot_confusion(
            report["confusion"],
            stage / "confusion.png",
            f"{Path(report['checkpoint']).name} on {report['dataset']}: "
            f"{report['test_accuracy'] * 100:.1f} %",
        )
        atomic_write_json(stage / "evaluate.json", report)


class EvaluateResult(Result):
    """Test accuracy and confusion matrix of a checkpoint: report schema ``spinspice.evaluation``.

    ``out`` is the folder holding ``evaluate.json`` and ``confusion.png`` when the call wrote them.
    """

    def __init__(self, report: dict[str, Any]) -> None:
        self._report = report

    @property
    def test_accuracy(self) -> float:
        return float(self._report["test_accuracy"])

    @property
    def confusion(self) -> np.ndarray:
        return self._report["confusion"]

    def report(self) -> dict[str, Any]:
        return dict(self._report)

    def summary(self) -> str:
        r = self._report
        text = (
            f"{Path(r['checkpoint']).name} ({r['neuron']['model']}, {r['arch']}) on {r['dataset']}: "
            f"test accuracy {r['test_accuracy'] * 100:.2f} % of {r['n_test']} images"
        )
        if self.out is not None:
            text += f"\nconfusion matrix: {self.out / 'confusion.png'}"
        return text

    def write(self, folder: str | Path) -> Path:
        """``evaluate.json`` and ``confusion.png`` in ``folder``."""
        folder = Path(folder)
        _write_evaluation(folder, self._report)
        return folder


def _check_training(
    *,
    epochs: int | None,
    steps: int,
    batch_size: int | None,
    lr: float | None,
    max_train: int | None = None,
    seed: int = 0,
    fine_tune: bool = False,
) -> None:
    """Refuse impossible training settings before any data is loaded or file written."""
    if epochs is not None:
        check_setting("epochs", epochs, low=0 if fine_tune else 1, integer=True)
    check_setting("steps", steps, low=1, integer=True)
    if batch_size is not None:
        check_setting("batch_size", batch_size, low=1, integer=True)
    if lr is not None:
        check_setting("lr", lr, low=0.0, low_open=True)
    if max_train is not None:
        check_setting("max_train", max_train, low=1, integer=True)
    check_setting("seed", seed, low=0, integer=True)


def evaluate_network(
    checkpoint: str | Path,
    dataset: str | None = None,
    *,
    batch_size: int = 128,
    out: str | Path | None = None,
    seed: int = 0,
    progress: Any = None,
) -> EvaluateResult:
    """Test accuracy and confusion matrix of ``checkpoint`` on the held-out images of
    ``dataset`` (default: the checkpoint's); with ``out``, writes ``evaluate.json`` and
    ``confusion.png`` there.

    Test image i draws its input spikes and noise with ``image_seed(seed, i)``
    (:func:`~spinspice.snn.arch.image_seed`), whatever ``batch_size``: the accuracy is, to the
    image, the one ``train_network`` recorded when it ran with the same ``seed`` (both default
    0), and each image's class is ``cosim``'s torch class for it under that seed."""
    import numpy as np

    from spinspice.snn.checkpoint import load_with_data
    from spinspice.snn.train import evaluate

    check_setting("batch_size", batch_size, low=1, integer=True)
    seed_all(seed)
    ck, data = load_with_data(checkpoint, dataset, default=None)
    cfg = ck.config
    t0 = time.perf_counter()
    with displayed(progress) as bar:
        task = bar.add_task(f"evaluate {cfg.neuron['model']}", total=len(data.y_test))
        res = evaluate(
            ck.net,
            data.x_test,
            data.y_test,
            batch_size=batch_size,
            seed=seed,
            progress=lambda k: bar.update(task, advance=k),
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
    result = EvaluateResult(report)
    if out is not None:
        result.out = result.write(out)
    return result


# -- import ------------------------------------------------------------------------------
def _write_import(
    folder: Path, name: str, net: SpikingNet, meta: dict[str, Any], report: dict[str, Any]
) -> None:
    from spinspice.snn.checkpoint import save_checkpoint

    with staged_output(folder) as stage:
        save_checkpoint(stage / name, net, meta)
        atomic_write_json(stage / f"{Path(name).stem}.import.json", report)


class ImportResult(Result):
    """An snnTorch network in the checkpoint format: report schema ``spinspice.snntorch_import``.

    ``network`` is the network written (with swapped, possibly fine-tuned neurons when asked);
    ``checkpoint`` its file; ``out`` the folder.
    """

    def __init__(
        self,
        report: dict[str, Any],
        network: SpikingNet,
        meta: dict[str, Any],
        fine_tune_epochs: int,
        checkpoint: Path,
    ) -> None:
        self._report = report
        self._meta = meta
        self._epochs = fine_tune_epochs
        self.network = network
        self.checkpoint = checkpoint

    @property
    def test_accuracy(self) -> float:
        return float(self._report["test_accuracy"])

    def report(self) -> dict[str, Any]:
        return dict(self._report)

    def summary(self) -> str:
        r = self._report
        lines = [
            f"imported {r['source']}: {len(r['layers'])} layers, "
            f"test accuracy {r['imported_test_accuracy'] * 100:.1f} %"
        ]
        if "swapped" in r:
            sw = r["swapped"]
            lines.append(
                f"with {sw['neuron']['model']} neurons: "
                f"{sw['test_accuracy_before_fine_tuning'] * 100:.1f} % before, "
                f"{r['test_accuracy'] * 100:.1f} % after {self._epochs} fine-tuning "
                + ("epoch" if self._epochs == 1 else "epochs")
            )
        lines.append(f"checkpoint: {r['checkpoint']}")
        return "\n".join(lines)

    def write(self, folder: str | Path) -> Path:
        """The checkpoint, its config and ``<stem>.import.json`` in ``folder`` (the report's
        ``checkpoint`` names the copy there)."""
        folder = Path(folder)
        name = self.checkpoint.name
        report = {**self._report, "checkpoint": str(folder / name)}
        _write_import(folder, name, self.network, self._meta, report)
        return folder


def import_snntorch(
    source: str,
    *,
    dataset: str = "mnist5k",
    steps: int = 25,
    encoding: str = "rate",
    neuron: str | None = None,
    preset: str | None = None,
    params: Mapping[str, Any] | None = None,
    epochs: int = 1,
    batch_size: int | None = None,
    lr: float = 1e-3,
    weights: str | Path | None = None,
    out: str | Path = Path("results/import/model.pt"),
    seed: int = 0,
    progress: Any = None,
) -> ImportResult:
    """Import the snnTorch network ``source`` (``file.py:function`` returning an
    ``nn.Sequential``, or a network written as a class, whose chain of modules is found by
    running it once on a test image (:func:`~spinspice.snn.interop.trace_chain`);
    ``weights``: an optional state_dict file) into the checkpoint ``out``.

    It keeps snnTorch's timing (``same-step``) and so its spikes; its accuracy on ``dataset``
    is measured again all the same; with ``neuron``
    (and ``preset``/``params``) its LIF neurons are swapped for that device model and the
    network fine-tuned for ``epochs`` epochs.  Writes ``out``, its config and
    ``<stem>.import.json`` (the report).
    """
    import numpy as np
    import torch

    from spinspice.snn.data import load_dataset
    from spinspice.snn.interop import load_module, trace_chain

    _check_training(epochs=epochs, steps=steps, batch_size=batch_size, lr=lr, seed=seed, fine_tune=True)
    seed_all(seed)
    data = load_dataset(dataset)
    module = load_module(source, weights=weights)
    extra: dict[str, Any] = {}
    if not isinstance(module, torch.nn.Sequential):  # a class: find its chain by running it once
        sample = torch.as_tensor(np.asarray(data.x_test[0], np.float32)).reshape(1, *data.image_shape)
        traced = trace_chain(module, sample)
        module = traced.sequential
        extra["traced"] = {"modules": list(traced.calls), "steps_in_forward": traced.steps_in_forward}
    return _import_chain(
        module, {"snntorch": source}, extra, data, steps=steps, encoding=encoding, neuron=neuron,
        preset=preset, params=params, epochs=epochs, batch_size=batch_size, lr=lr, out=out, seed=seed,
        progress=progress,
    )  # fmt: skip


def import_nir(
    graph: Any,
    *,
    dataset: str = "mnist5k",
    steps: int = 25,
    encoding: str = "rate",
    dt_s: float | None = None,
    neuron: str | None = None,
    preset: str | None = None,
    params: Mapping[str, Any] | None = None,
    epochs: int = 1,
    batch_size: int | None = None,
    lr: float = 1e-3,
    out: str | Path = Path("results/import/model.pt"),
    seed: int = 0,
    progress: Any = None,
) -> ImportResult:
    """Import the NIR graph ``graph`` (a file, or a ``nir.NIRGraph`` as an exporter returns
    it; a chain: :mod:`spinspice.snn.nir_io` says what maps and how its neurons are
    discretised with the time step ``dt_s``, default 1e-4 s as snnTorch's) into the
    checkpoint ``out``; the rest as :func:`import_snntorch`."""
    from spinspice.snn.data import load_dataset
    from spinspice.snn.nir_io import DT_S, nir_chain, read_nir

    _check_training(epochs=epochs, steps=steps, batch_size=batch_size, lr=lr, seed=seed, fine_tune=True)
    seed_all(seed)
    dt = DT_S if dt_s is None else float(dt_s)
    chain = nir_chain(read_nir(graph), dt_s=dt)  # the graph is checked before the data load
    data = load_dataset(dataset)
    extra = {"nir": {"nodes": list(chain.nodes), "kinds": list(chain.kinds), "dt_s": dt}}
    source = str(graph) if isinstance(graph, (str, Path)) else f"<{type(graph).__name__} in memory>"
    return _import_chain(
        chain.sequential, {"nir": source}, extra, data, steps=steps, encoding=encoding, neuron=neuron,
        preset=preset, params=params, epochs=epochs, batch_size=batch_size, lr=lr, out=out, seed=seed,
        progress=progress,
    )  # fmt: skip


def _import_chain(
    module: Any,
    source: dict[str, str],
    extra: dict[str, Any],
    data: Any,
    *,
    steps: int,
    encoding: str,
    neuron: str | None,
    preset: str | None,
    params: Mapping[str, Any] | None,
    epochs: int,
    batch_size: int | None,
    lr: float,
    out: str | Path,
    seed: int,
    progress: Any,
) -> ImportResult:
    """A chain of synapse and LIF modules as a checkpoint: its accuracy measured again,
    optionally its neurons swapped for a device model and fine-tuned (the imports' tail)."""
    from spinspice.snn.interop import from_snntorch, swap_neurons
    from spinspice.snn.train import TrainSettings, evaluate, train

    out = Path(out)
    net = from_snntorch(
        module, image_shape=data.image_shape, n_classes=data.n_classes, steps=steps, encoding=encoding
    )
    imported = evaluate(net, data.x_test, data.y_test, seed=seed)
    report: dict[str, Any] = {
        **report_header("spinspice.snntorch_import"),
        "source": next(iter(source.values())),
        "source_kind": next(iter(source)),
        "dataset": data.name,
        "layers": [dict(x) for x in net.config.layers],
        **extra,
        "imported_test_accuracy": imported["accuracy"],
        "seed": seed,
    }
    final, acc = net, imported["accuracy"]
    if neuron is not None:
        spec = _neuron_choice(neuron, preset, params)
        swapped = swap_neurons(net, spec)
        before = evaluate(swapped, data.x_test, data.y_test, seed=seed)
        report["swapped"] = {"neuron": spec, "test_accuracy_before_fine_tuning": before["accuracy"]}
        final, acc = swapped, before["accuracy"]
        if epochs > 0:
            settings = TrainSettings(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
            with displayed(progress) as bar:
                final, info = train(
                    swapped.config,
                    data,
                    settings,
                    progress=bar,
                    label="fine-tune",
                    initial=swapped.state_dict(),
                )
            acc = info["history"][-1]["test_accuracy"]
            report["swapped"].update(fine_tune_epochs=epochs, history=info["history"], test_accuracy=acc)
    report["test_accuracy"] = acc
    report["checkpoint"] = str(out)
    meta = {"dataset": data.name, "source": dict(source), "accuracy": {"test_accuracy": acc}}
    _write_import(out.parent, out.name, final, meta, report)
    result = ImportResult(report, final, meta, epochs, out)
    result.out = out.parent
    return result


class ExportResult(Result):
    """A checkpoint written as a NIR graph: report schema ``spinspice.nir_export``."""

    def __init__(self, report: dict[str, Any], graph: Any) -> None:
        self._report = report
        self.graph = graph

    def report(self) -> dict[str, Any]:
        return dict(self._report)

    def summary(self) -> str:
        r = self._report
        return (
            f"exported {r['checkpoint']} to {r['graph']}: {len(r['nodes'])} NIR nodes "
            f"({', '.join(r['kinds'])}), dt {r['dt_s']:g} s; the input encoding ({r['encoding']}) "
            "is not part of a NIR graph"
        )

    def write(self, folder: str | Path) -> Path:
        """The graph as ``<folder>/<name of the graph>`` (HDF5, ``nir.write``), atomically."""
        folder = Path(folder)
        _write_nir(folder / Path(self._report["graph"]).name, self.graph)
        return folder


def _write_nir(path: Path, graph: Any) -> None:
    """``graph`` as the NIR file ``path``, written atomically (the HDF5 bytes built in memory)."""
    import io as _io

    import nir

    from spinspice.io import atomic_write_bytes

    buf = _io.BytesIO()
    nir.write(buf, graph)
    atomic_write_bytes(path, buf.getvalue())


def export_nir(checkpoint: str | Path, *, out: str | Path, dt_s: float | None = None) -> ExportResult:
    """The ideal-LIF network of ``checkpoint`` as the NIR graph file ``out``, exactly
    (:func:`spinspice.snn.nir_io.to_nir`: importing it gives the same spikes); device
    networks and reset by subtraction are refused, saying why."""
    from spinspice.snn.checkpoint import load_checkpoint
    from spinspice.snn.nir_io import DT_S, to_nir

    dt = DT_S if dt_s is None else float(dt_s)
    ck = load_checkpoint(checkpoint)
    graph = to_nir(ck.net, dt_s=dt)  # refusals before any file is written
    out = Path(out)
    _write_nir(out, graph)
    report = {
        **report_header("spinspice.nir_export"),
        "checkpoint": str(checkpoint),
        "graph": str(out),
        "nodes": list(graph.nodes),
        "kinds": [type(n).__name__ for n in graph.nodes.values()],
        "dt_s": dt,
        "encoding": ck.config.encoding,
    }
    return ExportResult(report, graph)
