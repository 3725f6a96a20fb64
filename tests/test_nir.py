"""NIR graphs in (issue 18): the chain, the discretisation snnTorch uses, real exporters' quirks,
and one-line refusals of what has no circuit."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from spinspice.cli import main
from spinspice.errors import CheckpointError, ModelParameterError
from spinspice.snn.data import load_dataset
from spinspice.snn.interop import from_snntorch
from spinspice.snn.nir_io import DT_S, ImportedLeaky, nir_chain, read_nir

nir = pytest.importorskip("nir")


def _lif(n: int, beta: float, threshold: float = 1.0):
    """A LIF node as snnTorch's export_to_nir writes one (dt 1e-4, r = tau/dt)."""
    tau = np.full(n, DT_S / (1 - beta))
    return nir.LIF(
        tau=tau, r=tau / DT_S, v_leak=np.zeros(n), v_threshold=np.full(n, threshold), v_reset=np.zeros(n)
    )


def _one_layer(n_in: int = 64, n: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    nodes = {
        "input": nir.Input(input_type={"input": np.array([n_in])}),
        "fc": nir.Affine(
            weight=rng.normal(0, 0.4, (n, n_in)).astype(np.float32), bias=np.full(n, 0.05, np.float32)
        ),
        "lif": _lif(n, 0.9),
        "output": nir.Output(output_type={"output": np.array([n])}),
    }
    return nir.NIRGraph(nodes=nodes, edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])


def test_a_one_layer_graph_spikes_as_snntorch_imports_it(tmp_path) -> None:
    pytest.importorskip("nirtorch")
    from snntorch.import_nir import import_from_nir

    path = tmp_path / "one.nir"
    nir.write(path, _one_layer())
    reference = import_from_nir(nir.read(path))
    chain = nir_chain(read_nir(path))
    assert chain.kinds == ("Affine", "LIF") and chain.nodes == ("fc", "lif")
    (leaky,) = [m for m in chain.sequential if isinstance(m, ImportedLeaky)]
    assert leaky.beta == pytest.approx(0.9) and leaky.threshold == pytest.approx(1.0)
    net = from_snntorch(chain.sequential, image_shape=(1, 8, 8), n_classes=10, steps=15, encoding="direct")
    x = torch.as_tensor(load_dataset("digits").x_test[:20], dtype=torch.float32)
    _, rec = net(x, record=True)
    ours = torch.stack(rec["neuron_spikes"][0])
    state, theirs = None, []
    with torch.no_grad():
        for _ in range(15):
            out, state = reference(x, state)
            theirs.append(out)
    theirs_t = torch.stack(theirs)
    assert theirs_t.sum() > 100  # it spikes, so identity means something
    assert torch.equal(ours.to(theirs_t.dtype), theirs_t)


def test_exporters_quirks_are_taken_as_they_come() -> None:
    """What Norse's and snnTorch's exporters write: a batch dimension in Input, LIF nodes without
    types and with 0-d torch parameters, unordered edges; a
    convolution with its flatten."""
    rng = np.random.default_rng(1)
    tau = torch.tensor(DT_S / (1 - 0.8))
    lif = nir.LIF(
        tau=tau,
        r=tau / DT_S,
        v_leak=torch.tensor(0.0),
        v_threshold=torch.tensor(0.5),
        v_reset=torch.tensor(0.0),
    )
    nodes = {
        "input": nir.Input(input_type={"input": np.array([1, 1, 8, 8])}),
        "conv": nir.Conv2d(
            input_shape=None,
            weight=rng.normal(0, 0.3, (4, 1, 3, 3)),
            stride=1,
            padding=(1, 1),
            dilation=1,
            groups=1,
            bias=np.zeros(4),
        ),
        "lif0": _lif(4 * 8 * 8, 0.9),
        "flat": nir.Flatten(input_type={"input": np.array([4, 8, 8])}, start_dim=0, end_dim=-1),
        "fc": nir.Linear(weight=rng.normal(0, 0.1, (10, 256))),
        "lif1": lif,
        "output": nir.Output(output_type={"output": np.array([1, 10])}),
    }
    edges = [("lif1", "output"), ("fc", "lif1"), ("flat", "fc"), ("input", "conv"), ("conv", "lif0")]
    edges += [("lif0", "flat")]
    chain = nir_chain(nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))  # as exporters leave them
    assert chain.kinds == ("Conv2d", "LIF", "Flatten", "Linear", "LIF")
    net = from_snntorch(chain.sequential, image_shape=(1, 8, 8), n_classes=10, steps=3)
    assert [layer["kind"] for layer in net.config.layers] == ["conv", "linear"]
    assert [n.p.beta for n in net.neurons] == pytest.approx([0.9, 0.8])
    assert net.neurons[1].p.u_thr == pytest.approx(0.5) and net.neurons[1].p.reset_subtract is False
    assert net(torch.rand(2, 64))[0].shape == (2, 10)


def _lif_node(tau, r, v_leak):
    """A one-layer graph whose LIF node has these parameters (10 neurons, threshold 1)."""
    lif = nir.LIF(tau=np.asarray(tau), r=np.asarray(r), v_leak=np.asarray(v_leak), v_threshold=np.ones(10))
    return _with(_one_layer(), lif=lif)


def _with(graph, **nodes):
    return nir.NIRGraph(nodes={**graph.nodes, **nodes}, edges=list(graph.edges), type_check=False)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda g: nir.NIRGraph(nodes=g.nodes, edges=[*g.edges, ("fc", "output")], type_check=False),
            r"'fc' \(Affine\) branches",
        ),
        (
            lambda g: nir.NIRGraph(nodes=g.nodes, edges=[*g.edges, ("lif", "fc")], type_check=False),
            r"form a cycle: recurrence",
        ),
        (
            lambda g: _with(
                g,
                lif=nir.CubaLIF(
                    tau_syn=np.full(10, 2e-3),
                    tau_mem=np.full(10, 1e-3),
                    r=np.full(10, 10.0),
                    v_leak=np.zeros(10),
                    v_threshold=np.ones(10),
                    w_in=np.ones(10),
                ),
            ),
            r"'lif' \(CubaLIF\): cannot be imported: its synaptic current",
        ),
        (
            lambda g: _lif_node(np.full(10, 1e-3), np.full(10, 10.0), np.full(10, 0.1)),
            r"v_leak other than 0",
        ),
        (
            lambda g: _lif_node(np.linspace(1e-3, 2e-3, 10), np.full(10, 10.0), np.zeros(10)),
            r"per-neuron tau \(10 different values\)",
        ),
        (
            lambda g: _lif_node(np.full(10, 5e-5), np.full(10, 1.0), np.zeros(10)),
            r"tau = 5e-05 s is shorter than the time step 0.0001 s: give a smaller --dt",
        ),
        (
            lambda g: nir.NIRGraph(
                nodes={
                    **g.nodes,
                    "pool": nir.AvgPool2d(
                        kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])
                    ),
                },
                edges=[("input", "pool"), ("pool", "fc"), ("fc", "lif"), ("lif", "output")],
                type_check=False,
            ),
            r"'pool' \(AvgPool2d\): cannot be imported: the circuit pools spikes with OR gates",
        ),
    ],
    ids=["branch", "cycle", "cubalif", "v_leak", "per-neuron", "dt", "avgpool"],
)
def test_what_has_no_circuit_is_refused_in_one_line(make, message) -> None:
    with pytest.raises(ModelParameterError, match=message) as info:
        nir_chain(make(_one_layer()))
    assert "\n" not in str(info.value)


def test_damaged_files_are_one_line(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        read_nir(tmp_path / "none.nir")
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b"\x89HDF\r\n" + b"\0" * 40)
    with pytest.raises(CheckpointError, match="not a readable NIR graph") as info:
        read_nir(bad)
    assert "\n" not in str(info.value)
    good = tmp_path / "good.nir"
    nir.write(good, _one_layer())
    cut = tmp_path / "cut.nir"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="not a readable NIR graph"):
        read_nir(cut)


def test_import_nir_command(tmp_path, capsys) -> None:
    path = tmp_path / "one.nir"
    nir.write(path, _one_layer())
    out = tmp_path / "imp" / "m.pt"
    args = ["import-nir", str(path), "--dataset", "digits", "--steps", "8", "--encoding", "direct"]
    assert main([*args, "--json", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source_kind"] == "nir" and report["nir"]["kinds"] == ["Affine", "LIF"]
    assert report["nir"]["dt_s"] == pytest.approx(1e-4) and out.is_file()
    assert main([*args, "--weights", "w.pt", "--out", str(tmp_path / "x.pt")]) == 1
    assert "--weights does not apply to import-nir" in capsys.readouterr().err
    # a coarser step: beta and the threshold follow the discretisation
    assert main([*args, "--dt", "0.5ms", "--json", "--out", str(tmp_path / "c" / "m.pt")]) == 0
    coarse = json.loads(capsys.readouterr().out)
    assert coarse["nir"]["dt_s"] == pytest.approx(5e-4)


@pytest.mark.parametrize("arch", ["fc:64-32-10", "csnn:4c3-10"])
def test_export_then_import_gives_the_same_spikes(tmp_path, arch) -> None:
    from spinspice.snn.arch import NetConfig, SpikingNet, parse_arch
    from spinspice.snn.neurons import neuron_spec
    from spinspice.snn.nir_io import to_nir

    lif = neuron_spec("lif", params={"reset_subtract": False, "beta": 0.8})
    cfg = NetConfig(
        arch=arch, layers=parse_arch(arch, (1, 8, 8), 10), neuron=lif, steps=8, encoding="direct",
        image_shape=(1, 8, 8), n_classes=10,
    )  # fmt: skip
    net = SpikingNet(cfg)
    torch.manual_seed(0)
    with torch.no_grad():
        for syn in net.synapses:
            syn.weight.mul_(4)
    nir.write(tmp_path / "g.nir", to_nir(net))
    back = from_snntorch(
        nir_chain(read_nir(tmp_path / "g.nir")).sequential, image_shape=(1, 8, 8), n_classes=10, steps=8,
        encoding="direct",
    )  # fmt: skip
    x = torch.as_tensor(load_dataset("digits").x_test[:10], dtype=torch.float32)
    (_, a), (_, b) = net(x, record=True), back(x, record=True)
    assert sum(int(torch.stack(s).sum()) for s in a["neuron_spikes"]) > 50
    for p, q in zip(a["neuron_spikes"], b["neuron_spikes"], strict=True):
        assert torch.equal(torch.stack(p), torch.stack(q))


def test_export_nir_command_refuses_what_nir_cannot_hold(tmp_path, capsys, digits_checkpoint) -> None:
    graph = tmp_path / "one.nir"
    nir.write(graph, _one_layer())
    ck = tmp_path / "imp" / "m.pt"
    assert main(["import-nir", str(graph), "--dataset", "digits", "--steps", "8", "--out", str(ck)]) == 0
    capsys.readouterr()
    assert main(["export-nir", str(ck), "--out", str(tmp_path / "back.nir"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kinds"] == ["Input", "Affine", "LIF", "Output"]
    assert nir_chain(read_nir(tmp_path / "back.nir")).kinds == ("Affine", "LIF")
    # a device network: refused in one line, nothing written
    assert main(["export-nir", str(digits_checkpoint), "--out", str(tmp_path / "dev.nir")]) == 1
    err = capsys.readouterr().err
    assert "neurons have no LIF equivalent in NIR" in err and err.count("\n") == 1
    assert not (tmp_path / "dev.nir").exists()
