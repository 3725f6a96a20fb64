"""Schedule-aware training: a network trained with the row-by-row field-line schedule steps
exactly as the row-by-row circuit's expectation, and its checkpoint carries the schedule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from spinspice.circuits.network import CrossbarOptions
from spinspice.circuits.synapses import get_synapse_device, map_layer
from spinspice.cosim.build import expected_spikes
from spinspice.errors import ModelParameterError
from spinspice.snn.arch import NetConfig, SpikingNet, parse_arch
from spinspice.snn.neurons import DeviceNeuron, RowScheduledNeuron, make_neuron, neuron_spec


@pytest.mark.parametrize(
    ("model", "n_out", "cols"), [("dw-lif", 10, 4), ("dw-lif", 9, 3), ("field-gated-lif", 7, 2)]
)
def test_row_scheduled_neuron_steps_as_the_row_by_row_circuit_expects(model, n_out, cols) -> None:
    """Row r idles r write slots, is written once per R slots, and a spike after the end of the
    network step counts in the next one: the same spikes as ``expected_spikes`` for
    ``--schedule rows``, which the row-by-row netlists are checked against in ngspice."""
    spec = neuron_spec(model)
    rows = make_neuron(spec, n_neurons=n_out, schedule="rows", array_cols=cols)
    assert isinstance(rows, RowScheduledNeuron) and rows.n_rows == -(-n_out // cols)
    rng = np.random.default_rng(1)
    n_in, steps = 12, 25
    mapping = map_layer(
        rng.normal(0, 0.5, (n_out, n_in)), rng.uniform(0, 0.3, n_out), get_synapse_device("ideal", None)
    )
    inputs = (rng.random((steps, n_in)) < 0.5).astype(float)
    want = expected_spikes(
        make_neuron(spec), inputs, mapping, CrossbarOptions(schedule="rows", array_cols=cols)
    )
    x = torch.as_tensor(mapping.drive(inputs), dtype=torch.float64)
    state, got = None, []
    with torch.no_grad():
        for t in range(steps):
            s, state = rows(x[t : t + 1], state)
            got.append(s[0].numpy() > 0.5)
    assert want.sum() >= 10  # the layer spikes: the comparison says something
    np.testing.assert_array_equal(np.asarray(got), want)
    # the one-slot schedule of the same cell is a different network
    plain = expected_spikes(make_neuron(spec), inputs, mapping, CrossbarOptions())
    assert not np.array_equal(plain, want)


def test_row_scheduled_neuron_trains() -> None:
    """Gradients reach the weights through the row-scheduled step (surrogate of the long slot)."""
    rows = make_neuron(neuron_spec("dw-lif"), n_neurons=6, schedule="rows", array_cols=3)
    w = torch.full((1, 6), 2.0, dtype=torch.float64, requires_grad=True)
    state, total = None, 0.0
    for _ in range(6):
        s, state = rows(w * 1.0, state)
        total = total + s.sum()
    total.backward()
    assert w.grad is not None and torch.isfinite(w.grad).all() and w.grad.abs().sum() > 0


def test_schedule_is_part_of_the_network_config() -> None:
    layers = parse_arch("fc:64-12-10", (1, 8, 8), 10)
    cfg = NetConfig(arch="fc:64-12-10", layers=layers, neuron=neuron_spec("dw-lif"), image_shape=(1, 8, 8))
    rows = NetConfig.from_json({**cfg.to_json(), "schedule": "rows", "array_cols": 4})
    assert (rows.schedule, rows.array_cols) == ("rows", 4)
    net = SpikingNet(rows)
    assert [type(n) for n in net.neurons] == [RowScheduledNeuron, RowScheduledNeuron]
    assert [n.n_rows for n in net.neurons] == [3, 3]
    old = cfg.to_json()
    del old["schedule"], old["array_cols"]  # a checkpoint from before the rows schedule
    assert NetConfig.from_json(old).schedule == "all"
    assert type(SpikingNet(NetConfig.from_json(old)).neurons[0]) is DeviceNeuron
    with pytest.raises(ModelParameterError, match="device neurons"):
        SpikingNet(NetConfig.from_json({**old, "schedule": "rows", "neuron": neuron_spec("lif")}))
    with pytest.raises(ModelParameterError, match="convolutional"):
        csnn = parse_arch("paper001-csnn", (1, 8, 8), 10)
        SpikingNet(NetConfig.from_json({**old, "arch": "paper001-csnn", "layers": csnn, "schedule": "rows"}))
    with pytest.raises(ModelParameterError, match="--schedule rows"):
        NetConfig.from_json({**old, "array_cols": 4})


@pytest.mark.ngspice
def test_a_network_trained_row_by_row_is_cosimulated_row_by_row(tmp_path) -> None:
    """Trained with --schedule rows, the checkpoint's circuit is built row by row by default, and
    torch's spikes are exactly what the row-by-row circuit is expected to give."""
    from spinspice import cosim
    from spinspice.snn import train_network

    trained = train_network(
        dataset="digits", arch="fc:64-12-10", epochs=1, steps=8, max_train=256, batch_size=128,
        baseline=False, compile=False, schedule="rows", array_cols=4, out=tmp_path / "m.pt",
    )  # fmt: skip
    assert trained.report()["schedule"] == "rows"
    result = cosim.run(trained.checkpoint, samples=1, workers=1, trace="none", out=tmp_path / "c")
    report = result.report()
    assert report["settings"]["options"]["schedule"] == "rows"
    assert report["settings"]["options"]["array_cols"] == 4
    hidden = result.results[0]["layers"][0]
    assert hidden["torch_steps"] == hidden["model_steps"]  # training saw the circuit's timing
    assert hidden["slot_s"] == pytest.approx(3 * hidden["write_slot_s"])  # 3 rows per step
