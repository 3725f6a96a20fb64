"""Every setting is validated before any file or folder is created (issue 19 item 1): each
command's invalid numeric settings are refused in one short line (exit 1) or by the option
parser (exit 2), and ``--out`` does not exist afterwards (nor a staging folder beside it)."""

from __future__ import annotations

import signal

import pytest

from spinspice.cli import main

SEED = [("--seed", "-1")]
CROSSBAR = [
    ("--levels", "1"), ("--variability", "-0.1"), ("--variability", "nan"), ("--clip-percentile", "0"),
    ("--clip-percentile", "101"), ("--v-read", "-0.1V"), ("--v-read", "inf"), ("--r-wire", "-1"),
    ("--c-wire", "-1p"), ("--tile", "0"), ("--array-cols", "0"),
]  # fmt: skip
#: command -> (arguments before the options, [(option, invalid value)])
CASES: dict[str, tuple[list[str], list[tuple[str, str]]]] = {
    "cosim": (
        ["{ck}"],
        [
            ("--samples", "0"),
            ("--samples", "-3"),
            ("--samples", "100000"),
            ("--workers", "-1"),
            ("--group", "0"),
            ("--job-timeout", "0"),
            ("--job-timeout", "-5"),
            *CROSSBAR,
            *SEED,
        ],
    ),
    "sweep": (
        ["{ck}", "--set", "variability=0,0.1"],
        [("--samples", "0"), ("--workers", "-1"), ("--job-timeout", "-1"), *SEED],
    ),
    "netlist": (["{ck}"], [("--sample", "-1"), ("--sample", "100000"), ("--split", "-1"), *CROSSBAR, *SEED]),
    "evaluate": (["{ck}"], [("--batch-size", "0"), *SEED]),
    "export-nir": (["{ck}"], [("--dt", "0"), ("--dt", "-1"), ("--dt", "nan")]),
    "train": (
        ["--dataset", "digits", "--arch", "fc:64-8-10", "--no-baseline"],
        [
            ("--epochs", "0"),
            ("--steps", "0"),
            ("--batch-size", "0"),
            ("--lr", "0"),
            ("--lr", "nan"),
            ("--max-train", "0"),
            ("--levels", "1"),
            ("--array-cols", "0"),
            *SEED,
        ],
    ),
    "import-snntorch": (
        ["{seq}", "--dataset", "digits"],
        [("--steps", "0"), ("--epochs", "-1"), ("--batch-size", "0"), ("--lr", "-1"), *SEED],
    ),
    "import-nir": (
        ["{nir}", "--dataset", "digits"],
        [("--steps", "0"), ("--epochs", "-1"), ("--batch-size", "0"), ("--lr", "0"), ("--dt", "0"), *SEED],
    ),
    "neuron": (
        [],
        [
            ("--t-on", "0"),
            ("--t-on", "-1n"),
            ("--t-off", "-1n"),
            ("--t-edge", "-1p"),
            ("--j-write", "nan"),
            ("--i-write", "inf"),
            ("--duration", "0"),
            ("--duration", "-5n"),
            ("--t-off", "2"),
            ("--duration", "1"),
            ("--timeout", "0"),
            ("--sweep-t-off", "1n,-2n"),
            ("--sweep-j-write", "1e11,nan"),
            ("--sweep-i-write", "-1m,1m"),
            *SEED,
        ],
    ),
    "distribution": (
        [],
        [
            ("--n-torch", "0"),
            ("--n-circuit", "-1"),
            ("--max-pulses", "0"),
            ("--workers", "0"),
            ("--timeout", "-1"),
            *SEED,
        ],
    ),
    "fieldmap": (
        [],
        [("--currents", "-1m"), ("--fields", "5:1:1"), ("--pulses", "0"), ("--circuit-fields", "nan"), *SEED],
    ),
    "models": ([], SEED),
    "stdp": ([], [("--dt", "1m:-1m:1m"), ("--dt", "0:1:0"), *SEED]),
    "calibrate": (["dw-lif", "{data}"], [("--starts", "0"), ("--max-evaluations", "0"), *SEED]),
    "demo": ([], [("--epochs", "0"), ("--max-train", "0"), ("--samples", "0"), ("--workers", "-1"), *SEED]),
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, digits_checkpoint):
    """The files the commands read: a checkpoint, an snnTorch file, a NIR graph, calibration data."""
    folder = tmp_path_factory.mktemp("inputs")
    seq = folder / "seq.py"
    seq.write_text(
        "import torch.nn as nn\nimport snntorch as snn\n\n\ndef build():\n"
        "    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10), snn.Leaky(beta=0.9, init_hidden=True))\n"
    )
    nir = pytest.importorskip("nir")
    import numpy as np

    n = 10
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([64])}),
            "fc": nir.Affine(weight=np.ones((n, 64)) * 0.1, bias=np.zeros(n)),
            "lif": nir.LIF(
                tau=np.full(n, 1e-3),
                r=np.full(n, 10.0),
                v_leak=np.zeros(n),
                v_threshold=np.ones(n),
                v_reset=np.zeros(n),
            ),
            "output": nir.Output(output_type={"output": np.array([n])}),
        },
        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")],
    )
    nir.write(folder / "g.nir", graph)
    data = folder / "spikes.csv"
    data.write_text("t_on_s,t_off_s,j_write_a_per_m2,first_spike_s\n1e-9,1e-9,1e11,1.7e-8\n")
    return {
        "ck": str(digits_checkpoint),
        "seq": f"{seq}:build",
        "nir": str(folder / "g.nir"),
        "data": str(data),
    }


class _TookTooLong(Exception):
    pass


def _alarm(signum, frame):
    raise _TookTooLong


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [(c, o, v) for c, (_, opts) in CASES.items() for o, v in opts],
    ids=[f"{c} {o} {v}" for c, (_, opts) in CASES.items() for o, v in opts],
)
def test_invalid_settings_are_refused_before_any_file(command, option, value, inputs, tmp_path, capsys):
    before, _ = CASES[command]
    out = tmp_path / "out" / ("model.pt" if command in ("train", "import-snntorch", "import-nir") else "r")
    args = [command, *(a.format(**inputs) for a in before), option, value, "--out", str(out)]
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(30)  # a refusal is immediate; an accepted setting would start the work
    try:
        code = main(args)
    except _TookTooLong:
        pytest.fail(f"{' '.join(args)}: still running after 30 s (the setting was not refused)")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    err = capsys.readouterr().err
    assert code in (1, 2), f"{args}: exit {code}"
    if code == 1:
        assert err.startswith("spinspice: error: ") and err.count("\n") == 1, err
        assert len(err) < 400, err
    assert not (tmp_path / "out").exists(), f"{args} created {sorted((tmp_path / 'out').rglob('*'))}"
    assert not list(tmp_path.rglob(".*staging*"))
