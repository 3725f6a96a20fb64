"""The Python API of :mod:`spinspice.snn`: train, evaluate and import as result objects."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spinspice.errors import ModelParameterError
from spinspice.io import Result
from spinspice.snn import EvaluateResult, TrainResult, evaluate_network, train_network
from spinspice.snn.checkpoint import checkpoint_digest, load_with_data


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> TrainResult:
    folder = tmp_path_factory.mktemp("api")
    return train_network(
        dataset="digits",
        arch="fc:64-12-10",
        epochs=1,
        steps=6,
        batch_size=32,
        lr=5e-3,
        max_train=200,
        baseline=False,
        compile=False,
        out=folder / "m.pt",
    )


def test_train_network_returns_a_result_and_writes_its_files(trained) -> None:
    assert isinstance(trained, TrainResult) and isinstance(trained, Result)
    folder = trained.checkpoint.parent
    assert trained.out == folder and trained.checkpoint.name == "m.pt"
    report = trained.report()
    assert report["schema"] == "spinspice.training" and report["dataset"] == "digits"
    assert report["epochs"] == 1 and "baseline" not in report
    assert 0 <= trained.test_accuracy <= 1 and trained.test_accuracy == report["test_accuracy"]
    first = trained.summary().splitlines()[0]
    assert first.startswith("dw-lif fc:64-12-10 on digits: test accuracy ")
    assert trained.summary().splitlines()[-1].startswith(f"checkpoint: {trained.checkpoint}; metrics: ")
    for name in ("m.pt", "m.json", "m.metrics.json", "m.curve.png", "m.confusion.png"):
        assert (folder / name).stat().st_size > 0, name
    assert sorted(report["outputs"]) == sorted(p.name for p in folder.iterdir())
    written = json.loads((folder / "m.metrics.json").read_text())
    assert written["test_accuracy"] == report["test_accuracy"] and written["outputs"] == report["outputs"]


def test_evaluate_network_reproduces_the_recorded_accuracy(trained, tmp_path) -> None:
    # train() measures its last epoch with seed + epochs; the same seed gives the same input spikes
    result = evaluate_network(trained.checkpoint, seed=1)
    assert isinstance(result, EvaluateResult) and result.out is None
    assert result.test_accuracy == pytest.approx(trained.test_accuracy, abs=1e-12)
    assert np.asarray(result.report()["confusion"]).sum() == 360
    assert "confusion matrix" not in result.summary()  # nothing written
    again = evaluate_network(trained.checkpoint, "digits", out=tmp_path / "ev", seed=1)
    assert again.out == tmp_path / "ev" and again.test_accuracy == result.test_accuracy
    assert again.summary().startswith("m.pt (dw-lif, fc:64-12-10) on digits: test accuracy ")
    assert again.summary().endswith(f"confusion matrix: {tmp_path / 'ev' / 'confusion.png'}")
    assert {p.name for p in (tmp_path / "ev").iterdir()} == {"evaluate.json", "confusion.png"}


def test_results_write_their_files_into_a_folder(trained, tmp_path) -> None:
    assert trained.write(tmp_path / "copy") == tmp_path / "copy"
    names = {p.name for p in (tmp_path / "copy").iterdir()}
    assert names == {"m.pt", "m.json", "m.metrics.json", "m.curve.png", "m.confusion.png"}
    copy = json.loads((tmp_path / "copy" / "m.metrics.json").read_text())
    assert copy["checkpoint"] == str(tmp_path / "copy" / "m.pt")
    assert copy["test_accuracy"] == trained.test_accuracy
    ev = evaluate_network(tmp_path / "copy" / "m.pt", seed=1)
    assert ev.test_accuracy == pytest.approx(trained.test_accuracy, abs=1e-12)  # the same weights
    assert ev.write(tmp_path / "ev") == tmp_path / "ev"
    assert json.loads((tmp_path / "ev" / "evaluate.json").read_text())["test_accuracy"] == ev.test_accuracy
    assert (tmp_path / "ev" / "confusion.png").stat().st_size > 0


def test_load_with_data_and_digest(trained, tmp_path) -> None:
    ck, data = load_with_data(trained.checkpoint)
    assert data.name == "digits" and ck.config.n_classes == data.n_classes
    with pytest.raises(ModelParameterError, match=r"expects images of \(1, 8, 8\)"):
        load_with_data(trained.checkpoint, "mnist5k")
    digest = checkpoint_digest(trained.checkpoint)
    assert len(digest) == 64 and digest == checkpoint_digest(str(trained.checkpoint))


def test_train_network_refuses_bad_settings_before_any_work(tmp_path) -> None:
    with pytest.raises(ModelParameterError, match="epochs = 0: give an integer >= 1"):
        train_network(dataset="digits", epochs=0, out=tmp_path / "m.pt")
    with pytest.raises(ModelParameterError, match="unknown parameter"):
        train_network(dataset="digits", params={"bogus": 1}, out=tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()
