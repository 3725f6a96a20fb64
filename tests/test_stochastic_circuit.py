"""Stochastic DW-MTJ layers (paper 004): the noise realisation torch drew is what a layer's
netlist carries, one PWL velocity-factor source per neuron, and what its expected spikes use;
the network neuron's event integration agrees with its sub-stepped equations and with the
circuit, through the auto-reset inside a write pulse and the clipped trapezoid pulses."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import digits_config

from spinspice.circuits.cellbase import Stimulus
from spinspice.circuits.core import VoltageSource
from spinspice.circuits.network import CrossbarOptions, layer_testbench
from spinspice.circuits.synapses import get_synapse_device, map_layer
from spinspice.cosim.build import check_circuit_network, expected_spikes, layer_noise, torch_record
from spinspice.snn.arch import SpikingNet
from spinspice.snn.neurons import make_neuron, neuron_spec


def test_the_record_holds_each_neurons_velocity_factors() -> None:
    net = SpikingNet(digits_config("fc:64-8-10", neuron_spec("dw-mtj-autoreset"), 6))
    image = np.full(64, 0.5, np.float32)
    _, rec = torch_record(net, image, 3)
    nz = layer_noise(rec, 0, net.neurons[0])
    assert nz.shape == (6, 8) and 0.15 < nz.std() < 0.45 and len(np.unique(nz)) == nz.size
    _, again = torch_record(net, image, 3)
    np.testing.assert_array_equal(layer_noise(again, 0, net.neurons[0]), nz)  # seeded by the image
    _, other = torch_record(net, image, 4)
    assert not np.array_equal(layer_noise(other, 0, net.neurons[0]), nz)
    check_circuit_network(net)  # stochastic layers have circuits: the realisation is shared


def test_each_neuron_gets_its_factors_and_the_model_uses_the_same() -> None:
    neuron = make_neuron(neuron_spec("dw-mtj-autoreset"), drive_limit_v=3.3)  # the write path's limit
    rng = np.random.default_rng(0)
    mapping = map_layer(rng.normal(0.4, 0.3, (3, 4)), np.zeros(3), get_synapse_device("ideal", None))
    inputs = (rng.random((5, 4)) < 0.7).astype(float)
    noise = 1.0 + 0.3 * rng.standard_normal((5, 3))
    cell = neuron.cell.network_cell()
    options = CrossbarOptions()
    lc = layer_testbench(
        cell, neuron.slot, neuron.u_unit, mapping, inputs, options, noise=noise, drive_limit=neuron.u_max
    )
    sources = {e.name: e for e in lc.testbench.elements if isinstance(e, VoltageSource)}
    for j in range(3):
        inst = next(e for e in lc.testbench.elements if getattr(e, "name", "") == f"n{j}")
        assert f"nz{j}" in inst.conns
        want = Stimulus("nz", neuron.slot.period_s, tuple(noise[:, j])).pwl_points()
        assert sources[f"noise{j}"].wave.points == want
    # the expected spikes follow the factors: slow walls (0.5) spike later than fast ones (1.5)
    slow = expected_spikes(neuron, inputs, mapping, CrossbarOptions(), noise=np.full((5, 3), 0.5))
    fast = expected_spikes(neuron, inputs, mapping, CrossbarOptions(), noise=np.full((5, 3), 1.5))
    assert fast.sum() > slow.sum()
    assert slow.shape == (5, 3)


def _dwmtj_layer(n: int, steps: int, seed: int) -> tuple:
    """A DW-MTJ layer driven hard (past the write drivers' limit, several auto-resets per
    image) with per-slot velocity factors N(1, 0.3)."""
    neuron = make_neuron(neuron_spec("dw-mtj-autoreset"), drive_limit_v=3.3)
    rng = np.random.default_rng(seed)
    mapping = map_layer(rng.normal(0.5, 0.4, (n, 8)), np.zeros(n), get_synapse_device("ideal", None))
    inputs = (rng.random((steps, 8)) < 0.6).astype(float)
    return neuron, mapping, inputs, 1.0 + 0.3 * rng.standard_normal((steps, n))


def test_event_integration_agrees_with_the_substepped_equations() -> None:
    """The DW-MTJ network neuron runs its wall event by event (linear motion, tabulated
    auto-reset); the same neuron sub-stepping the device equations (RK4, refined through the
    reset) is the reference: same spikes, wall positions within the reference's own error."""
    import torch

    from spinspice.snn.neurons import DeviceNeuron

    neuron, mapping, inputs, noise = _dwmtj_layer(6, 10, 1)
    x = torch.as_tensor(mapping.drive(inputs), dtype=torch.float64)
    nz = torch.as_tensor(noise, dtype=torch.float64)
    ref = DeviceNeuron(neuron.cell, slot=neuron.slot, u_unit=neuron.u_unit, u_max=neuron.u_max)
    ref.wall_events = False
    fast_state = ref_state = None
    spikes = 0
    with torch.no_grad():
        for t in range(len(x)):
            s_fast, fast_state = neuron(x[t : t + 1], fast_state, nz[t : t + 1])
            s_ref, ref_state = ref(x[t : t + 1], ref_state, nz[t : t + 1])
            assert torch.equal(s_fast, s_ref), t
            # the reference's own error is about one speed x fine step (0.5 ns) where the flag
            # switches the motion inside a step; the circuit test below holds the event form to 5e-3
            np.testing.assert_allclose(fast_state[0][0], ref_state[0][0], atol=1.5e-2)
            spikes += int(s_fast.sum())
    assert spikes >= 25  # most slots of most neurons: every spike is followed by an auto-reset


def test_clipped_trapezoid_keeps_the_circuits_charge() -> None:
    """With paper 004's 10 ns edges resolved, a drive clipped at the driver's limit keeps the
    charge of the clipped trapezoid the circuit's write driver makes (steeper edges), not that
    of the clipped rectangle."""
    import torch

    neuron = make_neuron(neuron_spec("dw-mtj-autoreset"), drive_limit_v=3.3)
    assert neuron.edges_resolved
    slot, lim = neuron.slot, neuron.u_max * neuron.u_unit
    for amp in (0.5, 2.0):
        u = torch.tensor([amp * neuron.u_unit], dtype=torch.float64)
        charge = sum(float(piece) * dur for piece, dur, _, _ in neuron._on_phases(u, 1.0))
        t = np.linspace(0.0, slot.t_on_s + slot.t_edge_s, 200001)
        shape = slot.replace(amplitude=1.0, t_delay_s=0.0).value(t)
        want = np.trapezoid(np.minimum(amp * neuron.u_unit * shape, lim), t)
        assert charge == pytest.approx(want, rel=1e-4)


def test_stepped_write_current_is_clipped_like_the_driver() -> None:
    """The stepped co-simulation's write-current PWL clips the instantaneous trapezoid at the
    driver's limit (as the full crossbar's clipped B-source does), not its amplitude: same
    charge as the network neuron's clipped pulse."""
    import torch

    from spinspice.circuits.network import slot_pwl

    neuron = make_neuron(neuron_spec("dw-mtj-autoreset"), drive_limit_v=3.3)
    lim = neuron.u_max
    for level in (0.5, 1.33, 3.0):
        pts = np.asarray(slot_pwl([level], neuron.slot, 1.0, limit=lim).points)
        charge_pwl = np.trapezoid(pts[:, 1], pts[:, 0])
        u = torch.tensor([level], dtype=torch.float64)
        charge_net = sum(float(v) * d for v, d, _, _ in neuron._on_phases(u * neuron.u_unit, 1.0))
        assert charge_pwl == pytest.approx(charge_net / neuron.u_unit, rel=1e-9)
        assert pts[:, 1].max() == pytest.approx(min(level, lim))


@pytest.mark.ngspice
def test_stochastic_layer_circuit_spikes_with_its_network() -> None:
    """A hard-driven stochastic DW-MTJ layer: its netlist (each neuron's velocity factors as a
    PWL source) spikes where the network neuron does, given the same factors."""
    from spinspice.cosim.agreement import layer_agreement
    from spinspice.cosim.runner import GroupTask, run_group

    neuron, mapping, inputs, noise = _dwmtj_layer(4, 8, 2)
    expected = expected_spikes(neuron, inputs, mapping, CrossbarOptions(), noise=noise)
    lc = layer_testbench(
        neuron.cell.network_cell(), neuron.slot, neuron.u_unit, mapping, inputs, CrossbarOptions(),
        noise=noise, drive_limit=neuron.u_max,
    )  # fmt: skip
    res = run_group(GroupTask.of(lc, range(4), range(4), "batch", 600, None))
    slots = [np.floor(np.asarray(res["spikes"][j]) / lc.slot_s + 1e-9).astype(int) for j in range(4)]
    circuit = [s.tolist() for s in slots]
    model = [np.flatnonzero(expected[:, j]).tolist() for j in range(4)]
    agree = layer_agreement(circuit, model)
    assert agree["reference_spikes"] >= 15
    assert agree["spike_agreement"] >= 0.9 and agree["exact_agreement"] >= 0.85, (circuit, model)
    # the wall positions at every slot's end, through resets, clipped pulses and noise
    import torch

    x = torch.as_tensor(mapping.drive(inputs), dtype=torch.float64)
    state, period = None, neuron.slot.period_s
    with torch.no_grad():
        for t in range(len(x)):
            _, state = neuron(x[t : t + 1], state, torch.as_tensor(noise[t : t + 1], dtype=torch.float64))
            for j in range(4):
                tr = res["traces"][j]
                u_circuit = np.interp((t + 1) * period - 1e-12, tr["time_s"], tr["u"])
                assert float(state[0][0, 0, j]) == pytest.approx(u_circuit, abs=6e-3), (t, j)
