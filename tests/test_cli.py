"""The command line as a new user meets it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from spinspice.cli import main

REQUIRED = [
    "spike_times_s",
    "first_spike_latency_s",
    "energy_per_spike_j",
    "energy_per_spike_breakdown_j",
    "reference_spike_times_s",
    "max_spike_time_error_s",
]


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.ngspice
def test_neuron_json_report(tmp_path, capsys) -> None:
    out_dir = tmp_path / "run"
    code, out, err = _run(capsys, "neuron", "--json", "--out", str(out_dir), "--duration", "60n")
    assert code == 0, err
    report = json.loads(out)
    for key in REQUIRED:
        assert key in report, key
    assert report["n_spikes"] >= 2
    assert report["max_spike_time_error_s"] < 0.1e-9
    assert set(report["energy_per_spike_breakdown_j"]) >= {"write_driver", "reset_driver"}
    for name in ("netlist.cir", "report.json", "report.md", "neuron.png", "waveforms.npz", "report.html"):
        assert (out_dir / name).is_file(), name
    assert json.loads((out_dir / "report.json").read_text())["spike_times_s"] == report["spike_times_s"]
    # the written netlist runs in plain ngspice
    proc = subprocess.run(
        [shutil.which("ngspice"), "-b", str(out_dir / "netlist.cir")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.ngspice
def test_neuron_batch_backend_and_params(tmp_path, capsys) -> None:
    code, out, err = _run(
        capsys,
        "neuron",
        "--json",
        "--backend",
        "batch",
        "--out",
        str(tmp_path / "b"),
        "--duration",
        "40n",
        "--param",
        "j_reset_a_per_m2=5e11",
        "-p",
        "tau_comp_s=30p",
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["backend"] == "batch"
    assert report["params"]["j_reset_a_per_m2"] == 5e11
    assert report["params"]["tau_comp_s"] == pytest.approx(30e-12)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--param", "r_read_ohm=-5"], ["r_read_ohm", "(0, inf)"]),
        (["--param", "m_th=1.5"], ["m_th", "(-1, 1)"]),
        (["--t-on", "0"], ["t_on", "(0, inf)"]),
        (["--t-on", "-1n"], ["t_on", "(0, inf)"]),
        (["--param", "alpha_per_s=abc"], ["alpha_per_s", "abc"]),
        (["--param", "alpah_per_s=1"], ["alpah_per_s", "did you mean 'alpha_per_s'"]),
        (["--param", "k=1"], ["'k'", "unknown parameter"]),  # k_sat, k_clip ...: no unit-less alias
        (["--param", "novalue"], ["NAME=VALUE"]),
        (["--duration", "-5n"], ["duration"]),
        (["--model", "nope"], ["unknown model"]),
        (["--backend", "nope"], ["unknown backend"]),
        (["--sweep-t-off", "1n", "--sweep-j-write", "1e11"], ["not both"]),
    ],
)
def test_bad_input_gives_one_line_and_no_output(tmp_path, capsys, args, needles) -> None:
    out_dir = tmp_path / "never"
    code, _, err = _run(capsys, "neuron", "--out", str(out_dir), *args)
    assert code != 0
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1 and lines[0].startswith("spinspice: error:"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]
    assert not out_dir.exists()
    assert not list(tmp_path.glob(".never.staging-*")), "staging folder left behind"


def test_usage_error_exit_status(capsys) -> None:
    code, _, err = _run(capsys, "neuron", "--no-such-option")
    assert code == 2 and "no-such-option" in err.lower().replace("_", "-")


def test_models_lists_dw_lif_with_parameter_metadata(capsys) -> None:
    code, out, _ = _run(capsys, "models", "--json")
    assert code == 0
    listing = json.loads(out)
    names = [m["name"] for m in listing["models"]]
    assert "dw-lif" in names
    dw = next(m for m in listing["models"] if m["name"] == "dw-lif")
    alpha = next(p for p in dw["parameters"] if p["name"] == "alpha_per_s")
    assert alpha["default"] == -1.549 and "Eq. 4" in alpha["source"] and alpha["unit"] == "1/s"
    assert any(p["name"] == "v_dd_write_v" for p in dw["circuit_parameters"])


@pytest.mark.ngspice
def test_sweeps_write_plots(tmp_path, capsys) -> None:
    code, out, err = _run(
        capsys,
        "neuron",
        "--json",
        "--sweep-t-off",
        "1n,3n",
        "--duration",
        "60n",
        "--out",
        str(tmp_path / "s"),
    )
    assert code == 0, err
    rep = json.loads(out)
    lat = [p["first_spike_latency_s"] for p in rep["points"]]
    assert lat[0] < lat[1]  # lower input frequency: later first spike (Fig. 6c-d)
    assert (tmp_path / "s" / "sweep.png").is_file() and (tmp_path / "s" / "sweep.json").is_file()
    code, out, err = _run(
        capsys,
        "neuron",
        "--json",
        "--sweep-j-write",
        "0.8e11,1.3e11",
        "--duration",
        "80n",
        "--out",
        str(tmp_path / "j"),
        "--no-reference",
    )
    assert code == 0, err
    rates = [p["spike_rate_hz"] for p in json.loads(out)["points"]]
    assert rates[1] > rates[0]  # more current, faster firing (Fig. 7b/e)


@pytest.mark.ngspice
def test_console_script_and_demo(tmp_path) -> None:
    """The demo's whole job (train, co-simulate, report, netlists) on a small network; the
    second run reuses the cached checkpoint.  `make demo` runs the same with the defaults."""
    exe = shutil.which("spinspice") or str(__import__("pathlib").Path(sys.executable).parent / "spinspice")
    small = ["--dataset", "digits", "--arch", "fc:64-12-10", "--epochs", "1", "--max-train", "256"]
    args = [exe, "demo", *small, "--samples", "2", "--checkpoint", str(tmp_path / "ck" / "m.pt")]
    for run in range(2):
        proc = subprocess.run(
            [*args, "--out", str(tmp_path / f"demo{run}")],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert ("reusing the demo network" in proc.stderr) == (run == 1)
        assert "report:" in proc.stdout and "spike agreement" in proc.stdout and "per spike" in proc.stdout
        assert "test accuracy" not in proc.stdout  # the training summary goes to stderr
        md = (tmp_path / f"demo{run}" / "report.md").read_text()
        assert "energy per spike" in md and "class agreement" in md
        # split netlists (groups of 4 neurons) that plain ngspice runs in minutes, with their run.sh
        nl = tmp_path / f"demo{run}" / "netlists"
        assert (nl / "layer0_g000.cir").is_file() and (nl / "run.sh").is_file()
    a, b = (json.loads((tmp_path / f"demo{k}" / "report.json").read_text()) for k in range(2))

    def diff(x, y, path=""):
        if isinstance(x, dict):
            return [d for k in x for d in diff(x[k], y.get(k), f"{path}.{k}")]
        if isinstance(x, list):
            return [d for i, (p, q) in enumerate(zip(x, y, strict=False)) for d in diff(p, q, f"{path}[{i}]")]
        return [] if x == y else [(path, x, y)]

    assert a["samples"] == b["samples"], diff(a["samples"], b["samples"])[:5]
    assert a["demo"]["trained"] and not b["demo"]["trained"]


def test_version(capsys) -> None:
    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.startswith("spinspice ")
    assert "ngspice" in out and "OSDI" in out and "KLU" in out and "openvaf-r" in out


@pytest.mark.ngspice
def test_cogd_neuron_gives_the_activation_curve(tmp_path, capsys) -> None:
    code, out, _ = _run(
        capsys,
        "neuron",
        "--model",
        "cogd-sigmoid",
        "--sweep-i-write",
        "8m,14m,20m",
        "--out",
        str(tmp_path),
        "--json",
    )
    assert code == 0
    rep = json.loads(out)
    assert rep["y_circuit"][0] < 0.2 < rep["y_circuit"][1] < 0.8 < rep["y_circuit"][2]
    assert {p.name for p in tmp_path.iterdir()} == {
        "report.json",
        "report.md",
        "netlist.cir",
        "activation.png",
    }
    code, _, err = _run(capsys, "neuron", "--model", "mtj-read", "--out", str(tmp_path / "x"))
    assert code == 1 and "not a neuron" in err


@pytest.mark.ngspice
def test_stdp_command(tmp_path, capsys) -> None:
    code, out, _ = _run(capsys, "stdp", "--dt", "-3m,3m", "--out", str(tmp_path), "--json")
    assert code == 0
    dw = json.loads(out)["dw_circuit"]
    assert dw[0] < 0 < dw[1]
    assert (tmp_path / "stdp.png").is_file() and (tmp_path / "report.md").is_file()
    code, _, err = _run(capsys, "stdp", "--dt", "3m:1m:1m", "--out", str(tmp_path / "x"))
    assert code == 1 and "STOP >= START" in err


@pytest.mark.ngspice
def test_fieldmap_command(tmp_path, capsys) -> None:
    args = ["fieldmap", "--currents", "10m,15m", "--fields", "-300:300:100", "--pulses", "4"]
    code, out, _ = _run(capsys, *args, "--circuit-fields", "200", "--out", str(tmp_path), "--json")
    assert code == 0
    rep = json.loads(out)
    assert np.asarray(rep["readout_v"]).shape == (2, 7, 5)
    assert len(rep["circuit_checks"]) == 1
    assert {p.name for p in tmp_path.iterdir()} == {"fieldmap.json", "fieldmap.md", "fieldmap.png"}


@pytest.mark.ngspice
def test_distribution_command(tmp_path, capsys) -> None:
    args = [
        "distribution",
        "--preset",
        "paper-004-12",
        "--n-torch",
        "40",
        "--n-circuit",
        "4",
        "--out",
        str(tmp_path),
    ]
    code, out, _ = _run(capsys, *args, "--json")
    assert code == 0
    (rep,) = json.loads(out)["presets"]
    assert rep["same_count_fraction"] == 1.0 and len(rep["torch_counts"]) == 40
    assert (tmp_path / "distribution.png").is_file() and (tmp_path / "counts_paper-004-12.csv").is_file()
    code, _, err = _run(capsys, "distribution", "--model", "lif", "--out", str(tmp_path / "x"))
    assert code == 1 and "deterministic" in err


# -- training ---------------------------------------------------------------------------
SNNTORCH_NET = """
import torch
import snntorch as snn


def build():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 10), snn.Leaky(beta=0.9, init_hidden=True))
"""


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One small `spinspice train` run on digits (shared by the training CLI tests)."""
    folder = tmp_path_factory.mktemp("train")
    code = main(
        [
            "train",
            "--dataset",
            "digits",
            "--arch",
            "fc:64-30-10",
            "--epochs",
            "2",
            "--steps",
            "6",
            "--batch-size",
            "32",
            "--lr",
            "5e-3",
            "--max-train",
            "320",
            "--no-compile",
            "--json",
            "--out",
            str(folder / "m.pt"),
        ]
    )
    return code, folder


def test_train_json_outputs_and_baseline(trained, capsys) -> None:
    code, folder = trained
    assert code == 0
    report = json.loads((folder / "m.metrics.json").read_text())
    for key in ("test_accuracy", "train_accuracy", "epochs", "wall_s", "history", "baseline", "confusion"):
        assert key in report, key
    assert report["schema"] == "spinspice.training" and report["epochs"] == 2
    assert report["neuron"]["model"] == "dw-lif" and report["baseline"]["neuron"]["model"] == "lif"
    assert report["test_accuracy"] > 0.3 and report["baseline"]["test_accuracy"] > 0.3  # chance 0.1
    for name in ("m.pt", "m.json", "m.curve.png", "m.confusion.png", "m.baseline.pt"):
        assert (folder / name).stat().st_size > 0, name


def test_evaluate_checkpoint(trained, tmp_path, capsys) -> None:
    _, folder = trained
    code, out, err = _run(capsys, "evaluate", str(folder / "m.pt"), "--out", str(tmp_path / "ev"), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["dataset"] == "digits" and report["n_test"] == 360
    assert np.asarray(report["confusion"]).sum() == 360
    trained_acc = json.loads((folder / "m.metrics.json").read_text())["test_accuracy"]
    assert report["test_accuracy"] == trained_acc  # per-image seeded input spikes: to the image
    assert (tmp_path / "ev" / "confusion.png").stat().st_size > 0


@pytest.mark.parametrize("content", [b"garbage", b"PK\x03\x04 truncated zip"])
def test_evaluate_rejects_bad_checkpoints_in_one_line(tmp_path, capsys, content) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(content)
    code, _, err = _run(capsys, "evaluate", str(bad))
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("spinspice: error:") and "checkpoint" in err


def test_import_snntorch_and_swap(tmp_path, capsys) -> None:
    pytest.importorskip("snntorch")
    src = tmp_path / "net.py"
    src.write_text(SNNTORCH_NET)
    code, out, err = _run(
        capsys,
        "import-snntorch",
        f"{src}:build",
        "--dataset",
        "digits",
        "--steps",
        "5",
        "--neuron",
        "dw-lif",
        "--epochs",
        "0",
        "--json",
        "--out",
        str(tmp_path / "imp" / "m.pt"),
    )
    assert code == 0, err
    report = json.loads(out)
    assert report["swapped"]["neuron"]["model"] == "dw-lif"
    assert 0 <= report["imported_test_accuracy"] <= 1
    code, out, err = _run(capsys, "evaluate", str(tmp_path / "imp" / "m.pt"), "--json")
    assert code == 0, err
    assert json.loads(out)["neuron"]["model"] == "dw-lif"
    code, _, err = _run(capsys, "import-snntorch", str(tmp_path / "whole.pt"), "--dataset", "digits")
    assert code == 1 and "pickled module is not loaded" in err and err.count("\n") == 1
    # the weights may come separately, as a state_dict loaded with weights_only=True
    import runpy

    import torch

    module = runpy.run_path(str(src))["build"]()
    with torch.no_grad():
        for p in module.parameters():
            p.mul_(0.5)
    torch.save(module.state_dict(), tmp_path / "w.pt")
    code, out, err = _run(
        capsys, "import-snntorch", f"{src}:build", "--weights", str(tmp_path / "w.pt"), "--dataset", "digits",
        "--steps", "5", "--json", "--out", str(tmp_path / "imp2" / "m.pt"),
    )  # fmt: skip
    assert code == 0, err
    from spinspice.snn.checkpoint import load_checkpoint

    half = load_checkpoint(tmp_path / "imp2" / "m.pt").net.synapses[0].weight
    whole = load_checkpoint(tmp_path / "imp" / "m.pt").net.synapses[0].weight
    assert torch.allclose(half, 0.5 * whole)


SNNTORCH_CLASS_NET = """
import torch
import torch.nn as nn
import snntorch as snn

num_steps = 6


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 16)
        self.lif1 = snn.Leaky(beta=0.95)
        self.fc2 = nn.Linear(16, 10)
        self.lif2 = snn.Leaky(beta=0.95)

    def forward(self, x):
        mem1 = self.lif1.init_leaky()
        mem2 = self.lif2.init_leaky()
        spk2_rec, mem2_rec = [], []
        for step in range(num_steps):
            cur1 = self.fc1(x.view(x.shape[0], -1))
            spk1, mem1 = self.lif1(cur1, mem1)
            cur2 = self.fc2(spk1)
            spk2, mem2 = self.lif2(cur2, mem2)
            spk2_rec.append(spk2)
            mem2_rec.append(mem2)
        return torch.stack(spk2_rec, dim=0), torch.stack(mem2_rec, dim=0)


def build():
    torch.manual_seed(0)
    return Net()
"""


def test_import_snntorch_of_a_class_network(tmp_path, capsys) -> None:
    """A network written as snnTorch's tutorial writes it (class, time loop in forward,
    direct input) is imported through its traced chain; the report names it."""
    pytest.importorskip("snntorch")
    src = tmp_path / "tutorial.py"
    src.write_text(SNNTORCH_CLASS_NET)
    code, out, err = _run(
        capsys, "import-snntorch", f"{src}:build", "--dataset", "digits", "--steps", "6",
        "--encoding", "direct", "--json", "--out", str(tmp_path / "cls" / "m.pt"),
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["traced"] == {"modules": ["fc1", "lif1", "fc2", "lif2"], "steps_in_forward": 6}
    assert [layer["out"] for layer in report["layers"]] == [16, 10]
    src.write_text(
        SNNTORCH_CLASS_NET.replace(
            "spk1, mem1 = self.lif1(cur1, mem1)", "spk1, mem1 = self.lif1(cur1 * 2, mem1)"
        )
    )
    code, _, err = _run(
        capsys, "import-snntorch", f"{src}:build", "--dataset", "digits", "--out", str(tmp_path / "x.pt")
    )
    assert code == 1 and "lif1 does not receive fc1's output unchanged" in err and err.count("\n") == 1
    assert not (tmp_path / "x.pt").exists()


def test_help_shows_no_raw_markup_and_flags_as_flags(capsys) -> None:
    from spinspice.cli import app

    commands = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    assert {"neuron", "cosim", "sweep", "demo"} <= set(commands)
    for command in ["", *commands]:
        code, out, _ = _run(capsys, *([command] if command else []), "--help")
        assert code == 0, command
        assert "`" not in out and "<bool>" not in out, (command, out)
        assert "flag" in out, command  # --help at least, shown as a flag
    code, out, _ = _run(capsys, "cosim", "--help")
    resume = next(line for line in out.splitlines() if "--resume" in line)
    assert "flag" in resume and "complete the run" in resume
    # a flag takes no value: `--resume true` is a usage error (exit 2), as the help now says
    assert main(["cosim", "x.pt", "--resume", "true"]) == 2
