"""Several circuits in one ngspice process (issue 17 item 3): the results of running each alone."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from spinspice.circuits.core import Capacitor, Probe, Pulse, Resistor, Testbench, Transient, VoltageSource
from spinspice.circuits.registry import PRESETS
from spinspice.errors import SimulationError
from spinspice.netlists.spice import format_testbench
from spinspice.sim import osdi
from spinspice.sim.backends import BatchBackend, NonConvergenceError, run_many, with_analysis
from spinspice.sim.spikes import crossings
from spinspice.snn.neurons import make_neuron, neuron_spec

NONCONVERGENT = (
    "* diverges in finite time\nb1 0 n i = 1e3*v(n)*v(n)\nc1 n 0 1p\n.ic v(n)=1\n.tran 1p 10n uic\n.end\n"
)


def _rc(r_ohm: float, t_stop_s: float = 20e-9) -> str:
    tb = Testbench(
        title=f"rc {r_ohm:g}",
        elements=(
            VoltageSource("in", "a", "0", wave=Pulse(0, 1, 1e-9, 0.1e-9, 0.1e-9, 3e-9, 8e-9)),
            Resistor("r", "a", "b", r_ohm),
            Capacitor("c", "b", "0", 1e-12),
        ),
        analysis=Transient(t_stop_s=t_stop_s, t_step_s=10e-12, t_max_s=20e-12),
        probes=(Probe("vb", "v", ("b",)), Probe("iin", "i", ("in",))),
    )
    return format_testbench(tb)


def _same(a, b) -> None:
    assert a.time_s.shape == b.time_s.shape
    np.testing.assert_array_equal(a.time_s, b.time_s)
    assert a.vectors.keys() == b.vectors.keys()
    for k in a.vectors:
        np.testing.assert_array_equal(a.vectors[k], b.vectors[k])


@pytest.mark.ngspice
def test_a_batch_gives_the_waveforms_of_single_runs() -> None:
    backend = BatchBackend()
    texts = [_rc(r) for r in (500.0, 1e3, 2e3, 4e3)]
    # one circuit with a control block of its own goes in a process of its own
    texts.append(texts[1].replace("\n", "\n.control\nset num_threads=1\n.endc\n", 1))
    many = run_many(backend, texts)
    assert len(many) == len(texts)
    for text, wf in zip(texts, many, strict=True):
        assert not isinstance(wf, Exception), wf
        _same(backend.run(text), wf)
        assert wf.attempts == ("as written",)
    # the physics differs between them: the batch did not run one circuit five times
    assert many[0].at("v(b)", 4e-9) > many[3].at("v(b)", 4e-9) + 0.2


@pytest.mark.ngspice
def test_a_failing_circuit_is_run_again_alone_and_its_neighbours_are_kept(tmp_path) -> None:
    backend = BatchBackend()
    good = [_rc(1e3), _rc(2e3)]
    broken = _rc(3e3).replace("rr a b 3k", "xr a b nosuchsub")
    assert broken != _rc(3e3)
    texts = [good[0], broken, NONCONVERGENT, good[1]]
    paths = [tmp_path / f"c{i}.cir" for i in range(len(texts))]
    many = run_many(backend, texts, netlist_paths=paths)
    _same(backend.run(good[0]), many[0])
    _same(backend.run(good[1]), many[3])
    # the errors are those of running each alone: the path, the escalation
    assert isinstance(many[1], SimulationError) and not isinstance(many[1], NonConvergenceError)
    assert many[1].netlist_path == paths[1] and many[1].log_tail
    assert isinstance(many[2], NonConvergenceError)
    with pytest.raises(NonConvergenceError) as alone:
        backend.run(NONCONVERGENT)
    assert many[2].attempts == alone.value.attempts and len(many[2].attempts) > 1


@pytest.mark.ngspice
def test_a_batch_past_its_time_limit_keeps_what_finished() -> None:
    backend = BatchBackend()
    slow = with_analysis(_rc(1e3), Transient(t_stop_s=1e-3, t_step_s=1e-9, t_max_s=1e-12))
    texts = [_rc(1e3), slow, _rc(2e3)]
    many = run_many(backend, texts, timeout_s=1.0)
    _same(backend.run(texts[0]), many[0])
    _same(backend.run(texts[2]), many[2])
    assert isinstance(many[1], SimulationError) and "did not finish" in str(many[1])


@pytest.mark.ngspice
def test_a_batch_of_compiled_device_cells_matches_single_runs() -> None:
    caps = osdi.capabilities()
    if not caps.osdi:
        pytest.skip(f"compiled models unavailable here: {caps.reason}")
    cell = PRESETS["dw-lif"]["paper-001"]
    texts = []
    for scale in (0.8, 1.0, 1.2):
        drive = cell.default_drive()
        drive = drive.replace(amplitude=drive.amplitude * scale)
        texts.append(osdi.netlist_text(cell.testbench(drive, 40e-9), "osdi"))
    assert all("pre_osdi" in t for t in texts)
    backend = BatchBackend()
    many = run_many(backend, texts)
    for text, wf in zip(texts, many, strict=True):
        _same(backend.run(text), wf)
    spikes = [len(crossings(wf.time_s, wf["spike"], cell.spike_level_v(), "rising")) for wf in many]
    assert spikes[0] < spikes[2] and spikes[1] > 0  # three different runs, each spiking


def test_device_neurons_survive_pickling() -> None:
    """A neuron travels to worker processes (the model's expectation runs there)."""
    neuron = make_neuron(neuron_spec("dw-lif"))
    copy = pickle.loads(pickle.dumps(neuron))
    x = torch.rand(3, 4, dtype=torch.float64) * 2.0
    with torch.no_grad():
        state_a = state_b = None
        for t in range(3):
            a, state_a = neuron(x[t : t + 1], state_a)
            b, state_b = copy(x[t : t + 1], state_b)
            assert torch.equal(a, b)
