"""`spinspice calibrate`: traces in, fitted parameters out; the shipped examples fit back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spinspice.circuits.registry import MODELS
from spinspice.cli import main
from spinspice.errors import DataError, ModelParameterError
from spinspice.experiments.calibrate import (
    EXAMPLES,
    Trace,
    base_params,
    calibrate,
    example_path,
    load_trace,
    make_example,
    write_trace,
)
from spinspice.models.traces import TRACE_MODELS


def test_every_dynamic_model_can_be_calibrated_and_has_an_example() -> None:
    assert set(TRACE_MODELS) == set(EXAMPLES)
    assert set(TRACE_MODELS) <= set(MODELS)
    assert {m for m in MODELS if m != "mtj-read"} <= set(TRACE_MODELS)  # mtj-read is static
    for model in EXAMPLES:
        assert example_path(model).is_file(), f"run docs/gen_calibration_examples.py ({model})"


@pytest.mark.parametrize("model", sorted(EXAMPLES))
def test_shipped_example_is_what_the_generator_makes(model: str) -> None:
    shipped = load_trace(example_path(model))
    base, _ = base_params(model)
    fresh = make_example(model, base, seed=shipped.meta["seed"])
    assert shipped.meta["true_params"] == pytest.approx(fresh.meta["true_params"])
    for name in ("time_s", "drive", "readout"):
        np.testing.assert_allclose(getattr(shipped, name), getattr(fresh, name), rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("model", sorted(EXAMPLES))
def test_fit_recovers_the_generating_parameters_within_5_percent(model: str) -> None:
    trace = load_trace(example_path(model))
    base, _ = base_params(model)
    truth = trace.meta["true_params"]
    rep = calibrate(model, base, trace)
    assert set(rep["free"]) == set(truth)
    for name, true_value in truth.items():
        start = rep["initial"][name]
        # the fit has to move: the preset starts more than 5 % away from the truth ...
        assert abs(start - true_value) > 0.05 * abs(true_value), name
        # ... and ends within 5 % of it (in practice within 0.1 %)
        assert rep["fitted"][name] == pytest.approx(true_value, rel=0.05), name
        assert rep["relative_error_vs_truth"][name] < 0.01
    g = rep["goodness"]
    assert g["r2"] > 0.98
    # residuals are the injected noise, not model error
    assert g["rmse"] == pytest.approx(trace.meta["noise_std"], rel=0.1)
    assert g["initial_rmse"] > 2 * g["rmse"]


def test_round_trip_of_the_csv_format(tmp_path) -> None:
    t = np.linspace(0, 1e-6, 11)
    tr = Trace(t, np.sin(t * 1e6), np.cos(t * 1e6), {"note": "x", "true_params": {"a": 1.5}})
    back = load_trace(write_trace(tmp_path / "t.csv", tr))
    np.testing.assert_allclose(back.readout, tr.readout, rtol=1e-11)
    assert back.meta == {"note": "x", "true_params": {"a": 1.5}}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("a,b,c\n1,2,3\n", "header"),
        ("time_s,drive,readout\n0,1,2\n1,2\n", ":3: expected 3"),
        ("time_s,drive,readout\n0,1,2\n1,x,2\n", ":3: not a number"),
        ("time_s,drive,readout\n" + "".join(f"{k},0,0\n" for k in (0, 1, 1, 2, 3, 4)), "increase strictly"),
        ("time_s,drive,readout\n0,0,0\n", "at least 5 rows"),
        ("# only a comment\n", "no header"),
        ("time_s,drive,readout\n" + "".join(f"{k},0,nan\n" for k in range(6)), "NaN"),
    ],
)
def test_bad_trace_files_are_rejected_with_the_line(tmp_path, text: str, needle: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=needle):
        load_trace(path)


def test_unknown_free_parameter_is_named(tmp_path) -> None:
    base, _ = base_params("saf-lif")
    with pytest.raises(ModelParameterError, match="did you mean 'tau_leak_s'"):
        calibrate("saf-lif", base, load_trace(example_path("saf-lif")), ["tau_leek_s"])


def test_calibrate_cli_writes_fit_files(tmp_path, capsys) -> None:
    out = tmp_path / "fit"
    assert main(["calibrate", "lif", "example", "--out", str(out), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert {p.name for p in out.iterdir()} == {"fit.json", "fit.md", "params.json", "fit.png"}
    params = json.loads((out / "params.json").read_text())
    assert params["model"] == "lif" and params["params"]["beta"] == pytest.approx(0.8, rel=0.01)
    assert rep["goodness"]["r2"] > 0.99
    # a wrong data file: one line, no output folder
    bad = tmp_path / "bad"
    assert main(["calibrate", "lif", str(tmp_path / "missing.csv"), "--out", str(bad)]) == 1
    assert "does not exist" in capsys.readouterr().err and not bad.exists()
    assert main(["calibrate", "mtj-read", "example", "--out", str(bad)]) == 1
    assert "no trace model" in capsys.readouterr().err


@pytest.mark.ngspice
def test_fitted_parameter_file_drives_the_circuit(tmp_path, capsys) -> None:
    fit = tmp_path / "fit"
    assert main(["calibrate", "dw-lif", "example", "--out", str(fit)]) == 0
    out = tmp_path / "neuron"
    assert main(["neuron", "--param-file", str(fit / "params.json"), "--out", str(out), "--json"]) == 0
    capsys.readouterr()
    rep = json.loads((out / "report.json").read_text())
    assert rep["params"]["gamma_m2_per_a_s"] == pytest.approx(1.2468e-3, rel=0.01)
    wrong = [
        "neuron",
        "--model",
        "lif",
        "--param-file",
        str(fit / "params.json"),
        "--out",
        str(tmp_path / "x"),
    ]
    assert main(wrong) == 1
    assert "not 'lif'" in capsys.readouterr().err
