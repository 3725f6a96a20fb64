"""Training with device neurons: torch step vs scipy reference, surrogate gradients, training,
checkpoints, data sets and snnTorch import."""

from __future__ import annotations

import gzip
import itertools
import json
import math
import struct

import numpy as np
import pytest
import torch

from spinspice.circuits.registry import get_cell
from spinspice.errors import CheckpointError, DataError, ModelParameterError, SpinspiceError, TrainingError
from spinspice.sim.reference import cell_reference_run
from spinspice.snn.arch import NetConfig, SpikingNet, parse_arch
from spinspice.snn.checkpoint import load_checkpoint, save_checkpoint
from spinspice.snn.data import load_dataset
from spinspice.snn.neurons import DeviceNeuron, LeakyNeuron, make_neuron, neuron_spec
from spinspice.snn.train import TrainSettings, evaluate, train


def _torch_run(n: DeviceNeuron, x: float, slots: int) -> tuple[list[int], list[float]]:
    state, steps, times = None, [], []
    xs = torch.full((1, 1), x, dtype=torch.float64)
    for k in range(slots):
        s, state = n(xs, state)
        if s.item() > 0:
            steps.append(k)
            times.append(k * n.slot.period_s + float(n.last_spike_offset_s))
    return steps, times


def _reference(n: DeviceNeuron, x: float, slots: int) -> tuple[list[int], np.ndarray]:
    drive = n.slot.replace(amplitude=n.u_unit * x)
    ref = cell_reference_run(n.cell.network_cell().dynamics(drive), slots * drive.period_s)
    t = np.asarray(ref.spike_times_s)
    return np.floor(t / drive.period_s).astype(int).tolist(), t


# drives in units of the threshold drive; none puts a spike within 1 % of a slot boundary
DWLIF_DRIVES = (0.15, 0.2, 0.3, 0.6, 0.9, 1.3)


@pytest.mark.parametrize("x", DWLIF_DRIVES)
def test_dwlif_torch_step_matches_scipy_reference(x: float) -> None:
    cell, _ = get_cell("dw-lif")
    n = DeviceNeuron(cell)
    slots = 40
    steps, times = _torch_run(n, x, slots)
    ref_steps, ref_times = _reference(n, x, slots)
    assert steps == ref_steps and len(steps) > 0
    # spike times inside the slot: within 1.5 % of the 2 ns slot (the torch comparator is a pure
    # tau ln 2 delay; the reference integrates the comparator core)
    assert np.max(np.abs(np.asarray(times) - ref_times)) < 0.015 * n.slot.period_s


@pytest.mark.parametrize(
    ("model", "preset", "drives"),
    [
        ("field-gated-lif", "paper-001-scaled", (0.2, 0.6, 1.3)),
        ("saf-lif", None, (0.1, 0.5, 2.0)),
        ("saf-lif", "paper-002-3us", (0.1, 0.5, 2.0)),
    ],
)
def test_device_neurons_match_scipy_reference(model: str, preset: str | None, drives: tuple) -> None:
    cell, _ = get_cell(model, preset)
    n = DeviceNeuron(cell)
    for x in drives:
        steps, _ = _torch_run(n, x, 30)
        ref_steps, _ = _reference(n, x, 30)
        assert steps == ref_steps, (model, x)


def test_threshold_drive_is_one_input_unit() -> None:
    """x = 1 takes a resting DW-LIF neuron to threshold in about one pulse (leak: a bit later)."""
    n = DeviceNeuron(get_cell("dw-lif")[0])
    steps_1, _ = _torch_run(n, 1.05, 3)
    steps_low, _ = _torch_run(n, 0.6, 3)
    assert steps_1[:1] == [0] and steps_low[:1] == [1]


def test_compiled_step_matches_eager() -> None:
    torch.manual_seed(0)
    cell, _ = get_cell("dw-lif")
    eager, fast = DeviceNeuron(cell, compile_min=0), DeviceNeuron(cell, compile_min=1)
    x = torch.rand(4, 512) * 1.5
    se = sf = None
    for _ in range(6):
        oe, se = eager(x, se)
        of, sf = fast(x, sf)
        assert torch.equal(oe, of)
    assert not fast._compile_failed
    assert torch.allclose(se[0], sf[0], atol=1e-5)


def test_stochastic_dwmtj_neuron_is_seeded() -> None:
    n = make_neuron(neuron_spec("dw-mtj-autoreset", "paper-004-12"))
    x = torch.full((3, 1), 1.0)

    def run(seed: int) -> list[float]:
        g = torch.Generator().manual_seed(seed)
        state, out = None, []
        for _ in range(30):
            s, state = n(x, state, n.draw_noise(tuple(x.shape), x, g))
            out.append(s.sum().item())
        return out

    assert run(1) == run(1)
    assert sum(run(1)) > 0


def test_device_layer_gradients_are_finite() -> None:
    torch.manual_seed(0)
    cfg = NetConfig(
        arch="fc:64-40-10",
        layers=parse_arch("fc:64-40-10", (1, 8, 8), 10),
        neuron=neuron_spec("dw-lif"),
        steps=10,
        image_shape=(1, 8, 8),
    )
    net = SpikingNet(cfg)
    x = torch.rand(16, 64)
    counts, _ = net(x, generator=torch.Generator().manual_seed(0))
    loss = torch.nn.functional.cross_entropy(counts, torch.arange(16) % 10)
    loss.backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert all(float(g.abs().sum()) > 0 for g in grads)


def test_diverged_weights_raise_training_error() -> None:
    n = make_neuron(neuron_spec("dw-lif"))
    with pytest.raises(TrainingError, match="lower the learning rate"):
        n(torch.full((2, 3), math.nan))


def test_leaky_neuron_equals_snntorch() -> None:
    snn = pytest.importorskip("snntorch")
    torch.manual_seed(0)
    f64 = torch.float64
    ref = snn.Leaky(beta=torch.tensor(0.8, dtype=f64), threshold=torch.tensor(1.0, dtype=f64))
    ours = make_neuron(neuron_spec("lif", params={"beta": 0.8}))
    assert isinstance(ours, LeakyNeuron)
    mem, state, spikes = torch.zeros(5, 7, dtype=f64), None, 0
    for _ in range(40):
        x = torch.rand(5, 7, dtype=f64) * 0.8
        s_ref, mem = ref(x, mem)
        s, state = ours(x, state)
        assert torch.equal(s, s_ref.to(f64))
        torch.testing.assert_close(state[0], mem, rtol=0, atol=1e-12)
        spikes += int(s.sum())
    assert spikes > 20


# -- training ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def _config(data, neuron: str, steps: int = 10, arch: str = "fc:64-50-10") -> NetConfig:
    return NetConfig(
        arch=arch,
        layers=parse_arch(arch, data.image_shape, data.n_classes),
        neuron=neuron_spec(neuron),
        steps=steps,
        image_shape=data.image_shape,
        n_classes=data.n_classes,
    )


def test_tiny_lif_network_learns_digits_reproducibly(digits) -> None:
    settings = TrainSettings(epochs=3, batch_size=32, lr=5e-3, seed=3)
    _, info = train(_config(digits, "lif"), digits, settings)
    _, again = train(_config(digits, "lif"), digits, settings)
    assert info["history"][-1]["test_accuracy"] > 0.8  # chance: 0.1
    assert [h["test_accuracy"] for h in info["history"]] == [h["test_accuracy"] for h in again["history"]]
    assert info["confusion"].sum() == len(digits.y_test)


@pytest.mark.slow
def test_tiny_dwlif_network_learns_digits(digits) -> None:
    settings = TrainSettings(epochs=2, batch_size=32, lr=5e-3, seed=0, max_train=480)
    _, info = train(_config(digits, "dw-lif", steps=8), digits, settings)
    assert info["history"][-1]["test_accuracy"] > 0.5  # chance: 0.1


def test_csnn_runs_on_digits(digits) -> None:
    net = SpikingNet(_config(digits, "lif", steps=3, arch="paper001-csnn"))
    counts, rec = net(torch.as_tensor(digits.x_test[:4]), record=True)
    assert counts.shape == (4, 10)
    assert rec["spikes"][0][0].shape == (4, 32, 4, 4)  # conv 8x8 (pad 2) -> pool 2


def test_arch_errors() -> None:
    with pytest.raises(ModelParameterError, match="784 features"):
        parse_arch("fc:64-10", (1, 28, 28), 10)
    with pytest.raises(ModelParameterError, match="classes"):
        parse_arch("fc:784-5", (1, 28, 28), 10)
    with pytest.raises(ModelParameterError, match="unknown architecture"):
        parse_arch("resnet", (1, 28, 28), 10)
    assert [x["out"] for x in parse_arch("paper002-fc", (1, 28, 28), 10)] == [256, 128, 10]


# -- checkpoints ------------------------------------------------------------------------
def _small_net(data) -> SpikingNet:
    torch.manual_seed(0)
    return SpikingNet(_config(data, "dw-lif", steps=4))


def test_checkpoint_round_trip(tmp_path, digits) -> None:
    net = _small_net(digits)
    path = save_checkpoint(tmp_path / "m.pt", net, {"dataset": "digits"})
    ck = load_checkpoint(path)
    assert ck.meta["dataset"] == "digits" and ck.config == net.config
    x = torch.as_tensor(digits.x_test[:8])
    a, _ = net(x, generator=torch.Generator().manual_seed(0))
    b, _ = ck.net(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    assert json.loads((tmp_path / "m.json").read_text())["network"]["neuron"]["model"] == "dw-lif"


def test_checkpoint_rejects_bad_files(tmp_path, digits) -> None:
    path = save_checkpoint(tmp_path / "m.pt", _small_net(digits), {"dataset": "digits"})
    payload = torch.load(path, weights_only=True)
    # tampered weights (digest kept)
    payload["state_dict"]["synapses.0.weight"][0, 0] += 1.0
    torch.save(payload, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="tampered"):
        load_checkpoint(tmp_path / "tampered.pt")
    # another version
    payload = torch.load(path, weights_only=True)
    payload["spinspice_version"] = "0.0.1"
    torch.save(payload, tmp_path / "old.pt")
    with pytest.raises(CheckpointError, match=r"written by spinspice 0\.0\.1"):
        load_checkpoint(tmp_path / "old.pt")
    # not a checkpoint, garbage, truncated, missing
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a spinspice checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"this is not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_checkpoint(tmp_path / "junk.pt")
    (tmp_path / "cut.pt").write_bytes(path.read_bytes()[:300])
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "cut.pt")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "none.pt")


# -- data -------------------------------------------------------------------------------
def test_bundled_data_sets() -> None:
    d = load_dataset("mnist5k")
    assert (len(d.y_train), len(d.y_test)) == (4000, 1000)
    assert d.x_train.shape[1] == 784 and d.image_shape == (1, 28, 28)
    assert np.bincount(d.y_test).tolist() == [100] * 10
    assert 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    g = load_dataset("digits")
    assert g.x_train.shape[1] == 64 and len(g.y_train) + len(g.y_test) == 1797


def _write_idx(folder, n: int, compress: bool) -> None:
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n, dtype=np.uint8)
        files = {
            f"{prefix}-images-idx3-ubyte": struct.pack(">IIII", 0x803, n, 28, 28) + images.tobytes(),
            f"{prefix}-labels-idx1-ubyte": struct.pack(">II", 0x801, n) + labels.tobytes(),
        }
        for name, data in files.items():
            if compress:
                (folder / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / name).write_bytes(data)


@pytest.mark.parametrize("compress", [True, False])
def test_idx_data_sets(tmp_path, compress: bool) -> None:
    _write_idx(tmp_path, 20, compress)
    d = load_dataset(f"fashion-mnist:{tmp_path}")
    assert d.x_train.shape == (20, 784) and len(d.y_test) == 20
    assert d.name.startswith("fashion-mnist")


def test_idx_errors(tmp_path) -> None:
    with pytest.raises(DataError, match="not a folder"):
        load_dataset(f"mnist:{tmp_path / 'nowhere'}")
    with pytest.raises(DataError, match="missing train-images"):
        load_dataset(f"mnist:{tmp_path}")
    _write_idx(tmp_path, 10, False)
    f = tmp_path / "train-images-idx3-ubyte"
    f.write_bytes(f.read_bytes()[:500])
    with pytest.raises(DataError, match="train-images"):
        load_dataset(f"mnist:{tmp_path}")
    with pytest.raises(DataError, match="unknown data set"):
        load_dataset("cifar10")


# -- snnTorch import --------------------------------------------------------------------
def test_snntorch_import_matches_single_layer_run(digits) -> None:
    snn = pytest.importorskip("snntorch")
    from spinspice.snn.interop import from_snntorch, swap_neurons

    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(64, 10), snn.Leaky(beta=0.7, init_hidden=True))
    net = from_snntorch(seq, image_shape=(1, 8, 8), n_classes=10, steps=12, encoding="direct")
    x = torch.as_tensor(digits.x_test[:6]) * 3
    counts, _ = net(x)
    leaky = snn.Leaky(beta=0.7)
    mem, ref = leaky.init_leaky(), torch.zeros(6, 10)
    with torch.no_grad():
        for _ in range(12):
            spk, mem = leaky(seq[0](x), mem)
            ref += spk
    assert torch.equal(counts.detach(), ref)
    swapped = swap_neurons(net, neuron_spec("dw-lif"))
    assert swapped.neurons[0].model == "dw-lif"
    assert torch.equal(swapped.synapses[0].weight, seq[0].weight)


def test_snntorch_import_csnn_and_errors() -> None:
    snn = pytest.importorskip("snntorch")
    from spinspice.snn.interop import from_snntorch

    nn = torch.nn
    seq = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.MaxPool2d(2),
        snn.Leaky(beta=0.9, init_hidden=True),
        nn.Flatten(),
        nn.Linear(64, 10),
        snn.Leaky(beta=0.5, init_hidden=True, reset_mechanism="zero"),
    )
    net = from_snntorch(seq, image_shape=(1, 8, 8), n_classes=10, steps=3)
    assert net.config.layers[0]["pool_drive"] is True
    assert [n.p.beta for n in net.neurons] == [0.9, 0.5]
    assert net.neurons[1].p.reset_subtract is False
    assert net(torch.rand(2, 64))[0].shape == (2, 10)
    with pytest.raises(ModelParameterError, match="cannot be imported"):
        from_snntorch(nn.Sequential(nn.Linear(64, 10), nn.ReLU()), image_shape=(1, 8, 8), n_classes=10)
    with pytest.raises(ModelParameterError, match="classes"):
        from_snntorch(
            nn.Sequential(nn.Linear(64, 5), snn.Leaky(beta=0.5)), image_shape=(1, 8, 8), n_classes=10
        )


def _tutorial_class(snn, sizes: tuple[int, ...], steps: int, *, scale: float = 1.0, pool: bool = False):
    """A network written the way snnTorch's tutorials write it: a class holding Linear and
    Leaky layers, membranes from init_leaky(), the time loop inside forward, fed the static
    pixels (direct input); ``scale``/``pool`` put arithmetic or a functional pooling inside."""
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fcs = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(sizes))
            self.lifs = nn.ModuleList(snn.Leaky(beta=0.95) for _ in sizes[1:])

        def forward(self, x):
            mems = [lif.init_leaky() for lif in self.lifs]
            spk_rec, mem_rec = [], []
            for _ in range(steps):
                cur = x.view(x.shape[0], -1)  # functional flatten: plain wiring
                if pool:
                    cur = torch.nn.functional.avg_pool2d(x, 2).flatten(1).repeat(1, 4)
                for k, (fc, lif) in enumerate(zip(self.fcs, self.lifs, strict=True)):
                    cur, mems[k] = lif(fc(cur) * (scale if k == 0 else 1.0), mems[k])
                spk_rec.append(cur)
                mem_rec.append(mems[-1])
            return torch.stack(spk_rec, dim=0), torch.stack(mem_rec, dim=0)

    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        for fc in net.fcs:
            fc.weight.mul_(5.0)
    return net


def test_snntorch_class_networks_are_traced_into_their_chain(digits) -> None:
    snn = pytest.importorskip("snntorch")
    from spinspice.snn.interop import from_snntorch, trace_chain

    x = torch.as_tensor(digits.x_test[:6], dtype=torch.float32)
    one = x[:1].reshape(1, 1, 8, 8)
    # one layer or two (snnTorch's same-step timing kept): the same spikes as snnTorch, step by step
    for sizes, calls in [
        ((64, 10), ("fcs.0", "lifs.0")),
        ((64, 40, 10), ("fcs.0", "lifs.0", "fcs.1", "lifs.1")),
    ]:
        net = _tutorial_class(snn, sizes, 12)
        traced = trace_chain(net, one)
        assert traced.calls == calls and traced.steps_in_forward == 12
        imported = from_snntorch(
            traced.sequential, image_shape=(1, 8, 8), n_classes=10, steps=12, encoding="direct"
        )
        with torch.no_grad():
            own = net(x.reshape(6, 1, 8, 8))[0]
        assert own.sum() > 10  # it spikes, so equality means something
        _, rec = imported(x, record=True)
        assert torch.equal(torch.stack(rec["neuron_spikes"][-1]), own)
    # two layers; init_hidden=True with the loop outside forward: one step per call
    assert trace_chain(_tutorial_class(snn, (64, 32, 10), 5), one).calls == (
        "fcs.0",
        "lifs.0",
        "fcs.1",
        "lifs.1",
    )
    nn = torch.nn
    hidden = nn.Sequential(nn.Flatten(), nn.Linear(64, 10), snn.Leaky(beta=0.9, init_hidden=True))

    class Wrapped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = hidden

        def forward(self, x):
            return self.body(x)

    t = trace_chain(Wrapped(), one)
    assert t.steps_in_forward == 1 and t.calls == ("body.0", "body.1", "body.2")

    class Flat(nn.Module):  # tutorial 5 feeds net(data.view(batch_size, -1)): no reshape inside
        def __init__(self) -> None:
            super().__init__()
            self.fc, self.lif = nn.Linear(64, 10), snn.Leaky(beta=0.9)

        def forward(self, x):
            mem, out = self.lif.init_leaky(), []
            for _ in range(4):
                spk, mem = self.lif(self.fc(x), mem)
                out.append(spk)
            return torch.stack(out)

    t = trace_chain(Flat(), one)
    assert t.steps_in_forward == 4 and t.calls == ("fc", "lif")


def test_snntorch_class_networks_that_are_no_chain_are_refused(digits) -> None:
    snn = pytest.importorskip("snntorch")
    from spinspice.snn.interop import trace_chain

    one = torch.as_tensor(digits.x_test[:1], dtype=torch.float32).reshape(1, 1, 8, 8)
    with pytest.raises(ModelParameterError, match=r"lifs.0 does not receive fcs.0's output unchanged"):
        trace_chain(_tutorial_class(snn, (64, 10), 4, scale=2.0), one)
    with pytest.raises(ModelParameterError, match=r"fcs.0 does not receive the input unchanged"):
        trace_chain(_tutorial_class(snn, (64, 10), 4, pool=True), one)
    with pytest.raises(
        ModelParameterError, match=r"forward pass failed on one image of shape \(1, 1, 8, 8\)"
    ):
        trace_chain(_tutorial_class(snn, (100, 10), 4), one)
    relu = torch.nn.Sequential(torch.nn.Linear(64, 10), torch.nn.ReLU())

    class Relu(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = relu

        def forward(self, x):
            return self.body(x.flatten(1))

    with pytest.raises(ModelParameterError, match=r"body.1 \(ReLU\): cannot be imported"):
        trace_chain(Relu(), one)


def test_evaluate_reports_confusion(digits) -> None:
    net = _small_net(digits)
    res = evaluate(net, digits.x_test[:50], digits.y_test[:50])
    assert res["confusion"].sum() == 50 and 0 <= res["accuracy"] <= 1


def test_the_write_slot_takes_si_text_as_the_cli_gives_it() -> None:
    """`-p t_on_s=1u -p t_off_s=1u` reaches make_neuron as text."""
    from spinspice.snn.neurons import make_neuron, neuron_spec

    text = make_neuron(
        neuron_spec("saf-lif", "paper-002-3us", {"t_on_s": "1u", "t_off_s": "1us", "u_unit": "2m"})
    )
    number = make_neuron(
        neuron_spec("saf-lif", "paper-002-3us", {"t_on_s": 1e-6, "t_off_s": 1e-6, "u_unit": 2e-3})
    )
    assert text.slot == number.slot and text.slot.t_on_s == 1e-6 and text.u_unit == number.u_unit == 2e-3
    with pytest.raises(SpinspiceError, match="t_on_s"):
        make_neuron(neuron_spec("saf-lif", None, {"t_on_s": "fast"}))
