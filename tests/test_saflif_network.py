"""SAF-LIF (paper 002) as a network neuron: the write slot holds the SAF self-reset, so a neuron
can fire in every time step (rate coding), and torch, the scipy reference and the ngspice cell
agree on that slot (docs/saf-lif.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spinspice.circuits.registry import get_cell
from spinspice.sim.reference import cell_reference_run
from spinspice.snn.neurons import DeviceNeuron, make_neuron, neuron_spec

PRESET = "paper-002-3us"
STEPS = 25  # time steps per image (SPEC 4)


def _network_neuron() -> DeviceNeuron:
    # the neuron a trained network has: drive-aware, with the 3.3 V write-driver limit
    return make_neuron(neuron_spec("saf-lif", PRESET), n_neurons=1, drive_limit_v=3.3)


def _counts(n: DeviceNeuron, drives: list[float], slots: int = STEPS) -> list[int]:
    x = torch.tensor([drives], dtype=torch.float64)
    state, total = None, torch.zeros_like(x)
    for _ in range(slots):
        s, state = n(x, state)
        total += s
    return [int(v) for v in total[0].tolist()]


def _steps(n: DeviceNeuron, x: float, slots: int = STEPS) -> list[int]:
    state, out = None, []
    for k in range(slots):
        s, state = n(torch.tensor([[x]], dtype=torch.float64), state)
        if s.item() > 0.5:
            out.append(k)
    return out


def test_network_slot_holds_the_self_reset() -> None:
    """OFF = ON + tau_leak ln(1/release_frac) + the comparator delays (paper 002 Eq. 3: back at
    V_reset by the next step); the single-neuron default drive keeps its short OFF part."""
    cell, _ = get_cell("saf-lif", PRESET)
    p, slot = cell.saf, cell.network_drive()
    t_reset = p.tau_leak_s * math.log(1 / p.release_frac)
    assert slot.t_off_s >= slot.t_on_s + t_reset
    assert slot.t_off_s < slot.t_on_s + 1.01 * t_reset
    assert slot.t_on_s == cell.default_drive().t_on_s
    assert _network_neuron().slot == slot


def test_network_neuron_fires_in_most_slots_under_a_strong_drive() -> None:
    """The old slot (OFF = ON = tau_int/30) kept a neuron that fired refractory for ~45 slots:
    one spike per image whatever the drive, so rate coding could not work."""
    n = _network_neuron()
    weak, half, unit, strong, limit = _counts(n, [0.3, 0.6, 1.0, 2.0, 10.0])
    assert weak == 0  # below threshold with the leak
    assert 15 <= half <= unit <= strong
    assert strong >= 23 and limit >= 23  # clipped at the write driver's limit, still every slot
    assert half < STEPS  # a rate code: the count grows with the drive


def test_old_slot_was_refractory_for_the_whole_image() -> None:
    """The failure mode, kept as a check on the diagnosis: with the single-neuron slot and the
    preset's former release level (5 % of the span) the same neuron fires once in 25 steps
    whatever the drive."""
    cell = get_cell("saf-lif", PRESET)[0].with_text({"release_frac": 0.05})
    old = DeviceNeuron(cell, slot=cell.default_drive())
    assert _counts(old, [1.0, 2.0]) == [1, 1]


@pytest.mark.parametrize("x", [0.7, 1.5])
def test_network_neuron_matches_the_scipy_reference(x: float) -> None:
    n = _network_neuron()
    drive = n.slot.replace(amplitude=n.u_unit * x)
    ref = cell_reference_run(n.cell.network_cell().dynamics(drive), STEPS * drive.period_s)
    ref_steps = np.floor(np.asarray(ref.spike_times_s) / drive.period_s).astype(int).tolist()
    steps = _steps(n, x)
    assert steps == ref_steps and len(steps) >= 15


@pytest.mark.ngspice
def test_network_slot_cell_circuit_fires_every_slot_like_torch() -> None:
    """The ngspice cell (device B-sources, steering, comparator) on the network slot: the same
    spike steps as the torch neuron, a spike in nearly every slot."""
    from spinspice.experiments.neuron import simulate_cell

    n = _network_neuron()
    x, slots = 1.5, 12
    drive = n.slot.replace(amplitude=n.u_unit * x)
    cell = n.cell.with_text({"v_dd_write_v": 3.3})  # the network's write supply (16 mA into the track)
    r = simulate_cell(cell, drive, slots * drive.period_s, reference=False)
    circuit = np.floor(np.asarray(r.spike_times_s) / drive.period_s).astype(int).tolist()
    assert circuit == _steps(n, x, slots)
    assert len(circuit) >= slots - 2


def test_tiny_network_learns_a_rate_code() -> None:
    """A one-layer SAF-LIF network learns the digits from a short run and answers with spike
    counts (the old slot allowed one spike per neuron and image: ~1 output spike in all)."""
    from spinspice.snn.arch import NetConfig, parse_arch
    from spinspice.snn.data import load_dataset
    from spinspice.snn.train import TrainSettings, evaluate, train

    data = load_dataset("digits")
    arch = "fc:64-10"
    cfg = NetConfig(
        arch=arch,
        layers=parse_arch(arch, data.image_shape, data.n_classes),
        neuron=neuron_spec("saf-lif", PRESET),
        steps=10,
        image_shape=data.image_shape,
        n_classes=data.n_classes,
        drive_limit_v=3.3,
    )
    net, _ = train(cfg, data, TrainSettings(epochs=1, batch_size=16, lr=1e-2, max_train=320))
    test = evaluate(net, data.x_test[:200], data.y_test[:200])
    # measured: 52.5 % and 4.6 output spikes per image (old slot: 46 % and 1.0)
    assert test["accuracy"] >= 0.45
    assert test["mean_output_spikes"] >= 3.0
