"""A trained checkpoint -> the circuits of its layers for one test sample (SPEC 4).

The network runs once in torch on sample ``K`` (seeded input spikes); every
layer's input spikes per write slot become its row drivers, and its weights
become conductances (:mod:`spinspice.circuits.synapses`).  Layers are
simulated separately, each driven by the spikes torch says its input layer
produced (one slot later, as in the network); ``expected`` spikes per layer
are recomputed by the torch neuron from the conductances the circuit really
has (quantised, clipped, varied), so a circuit run can be checked against
them spike by spike.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from spinspice.circuits.clocked_lif import ClockedLIFCell, LIFClockParams
from spinspice.circuits.network import CrossbarOptions, LayerCircuit, layer_drive_limit, layer_testbench
from spinspice.circuits.synapses import LayerMapping, SynapseDevice, map_layer
from spinspice.errors import ModelParameterError
from spinspice.models.lif import LIFParams, lif_step
from spinspice.models.waveforms import PulseTrain
from spinspice.snn.arch import SpikingNet, image_seed
from spinspice.snn.neurons import DeviceNeuron, LeakyNeuron, RowScheduledNeuron

__all__ = [
    "LAYER_SKEW_S",
    "LIFCircuitNeuron",
    "LayerGeometry",
    "NetworkCircuits",
    "check_circuit_network",
    "check_split",
    "circuit_neuron",
    "expected_from_drive",
    "expected_spikes",
    "layer_group",
    "layer_noise",
    "layer_offsets_s",
    "map_network",
    "network_circuits",
    "network_geometry",
    "neuron_groups",
    "neuron_spikes",
    "next_layer_input",
    "pooled_spikes",
    "torch_record",
]

#: in a whole-network netlist, layer k runs k * LAYER_SKEW_S behind layer 0: its spike latch
#: (flip-flops + 10 ps DAC edges) has settled before the next layer's read pulses start
LAYER_SKEW_S = 50e-12


@dataclasses.dataclass(frozen=True)
class NetworkCircuits:
    layers: tuple[LayerCircuit, ...]
    mappings: tuple[LayerMapping, ...]
    inputs: tuple[np.ndarray, ...]  # per layer (steps, n_in)
    torch_spikes: tuple[np.ndarray, ...]  # per layer (steps, n_out), the trained network
    expected_spikes: tuple[np.ndarray, ...]  # per layer, torch neuron on the mapped conductances
    prediction: int
    label: int | None
    geometry: tuple[LayerGeometry, ...] = ()
    #: per layer, the keywords its :func:`~spinspice.circuits.network.layer_testbench` was
    #: built with (:func:`layer_group` rebuilds a neuron group of it from them)
    testbench_kwargs: tuple[dict[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class LIFCircuitNeuron:
    """An ideal-LIF layer (:class:`~spinspice.snn.neurons.LeakyNeuron`, snnTorch ``Leaky``) as
    the circuit pipeline sees a device layer: its cell is the clocked ideal-LIF circuit
    (:class:`~spinspice.circuits.clocked_lif.ClockedLIFCell`, one definition: the neuron's
    :class:`~spinspice.models.lif.LIFParams`), its write slot the cell's, one input unit the
    current that adds ``v_unit`` to the membrane at the sample instant."""

    p: LIFParams
    clock: LIFClockParams = dataclasses.field(default_factory=LIFClockParams)

    model: ClassVar[str] = "lif"
    stochastic: ClassVar[bool] = False
    u_max: ClassVar[None] = None  # the software neuron has no drive limit
    dyn: ClassVar[None] = None  # no continuous device dynamics (half-select records need none)

    @property
    def cell(self) -> ClockedLIFCell:
        return ClockedLIFCell(lif=self.p, clock=self.clock)

    @property
    def slot(self) -> PulseTrain:
        return self.cell.network_drive()

    @property
    def u_unit(self) -> float:
        """Write current of one input unit [A]."""
        return self.cell.i_unit_a

    def describe(self) -> dict[str, Any]:
        return {"model": "lif", "params": self.p.values(), "circuit": self.cell.describe_circuit()}


def circuit_neuron(neuron: Any) -> Any:
    """A layer's neurons as the circuit pipeline uses them: device neurons as they are, ideal-LIF
    neurons as :class:`LIFCircuitNeuron` (their clocked circuit)."""
    if isinstance(neuron, LeakyNeuron):
        return LIFCircuitNeuron(neuron.p)
    if isinstance(neuron, (DeviceNeuron, LIFCircuitNeuron)):
        return neuron
    raise ModelParameterError(f"{type(neuron).__name__} neurons have no circuit")


def _lif_expected(neuron: LIFCircuitNeuron, drive: np.ndarray) -> np.ndarray:
    """(steps, neurons) bool: :func:`~spinspice.models.lif.lif_step` on the drives (input units)."""
    mem, out = np.zeros(drive.shape[1]), []
    for x in drive:
        spk, mem = lif_step(mem, x, neuron.p)
        out.append(spk > 0.5)
    return np.asarray(out, dtype=bool).reshape(drive.shape)


def expected_spikes(
    neuron: DeviceNeuron | LIFCircuitNeuron,
    inputs: np.ndarray,
    mapping: LayerMapping,
    options: CrossbarOptions,
    n_sub: int | None = None,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """(steps, neurons) bool: the spike steps the circuit of a layer should give for
    ``inputs`` -- the torch neuron on the realised conductances (stochastic neurons: with the
    velocity factors ``noise`` (steps, neurons) that the circuit's noise sources carry).

    Row by row, array row ``r`` is written in write slot ``r`` of the ``n_sub`` (default: the
    array's rows) of each network slot: :class:`~spinspice.snn.neurons.RowScheduledNeuron`,
    the timing a network trained with ``--schedule rows`` has.

    Ideal-LIF layers (:class:`LIFCircuitNeuron`): :func:`~spinspice.models.lif.lif_step` on the
    realised drives, one write slot per step (the clocked cell has no row-by-row timing).
    """
    return expected_from_drive(neuron, mapping.drive(inputs), options, n_sub, noise)


def expected_from_drive(
    neuron: DeviceNeuron | LIFCircuitNeuron,
    x: np.ndarray,
    options: CrossbarOptions,
    n_sub: int | None = None,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """:func:`expected_spikes` from the layer's drives ``x`` (steps, neurons; input units,
    ``mapping.drive(inputs)``): what a worker process computes from a small job."""
    if isinstance(neuron, LIFCircuitNeuron):
        if options.multiplexed and (n_sub or options.array_shape(x.shape[1])[0]) > 1:
            raise ModelParameterError(_LIF_ROWS)
        return _lif_expected(neuron, x)
    xt = torch.as_tensor(x, dtype=torch.float64)
    n_rows, n_cols = options.array_shape(x.shape[1])
    cell = neuron.cell.network_cell()
    i_unit = float(cell.drive_current(neuron.slot.replace(amplitude=neuron.u_unit)).amplitude)
    u_max = layer_drive_limit(cell, i_unit, x.shape[1], options, neuron.u_max)
    n_sub = n_rows if n_sub is None else n_sub
    if not options.multiplexed or n_sub == 1:
        # one write slot per step, whatever schedule the network was trained with
        stepper = DeviceNeuron(neuron.cell, slot=neuron.slot, u_unit=neuron.u_unit, u_max=u_max)
    else:
        stepper = RowScheduledNeuron(
            neuron.cell,
            n_neurons=x.shape[1],
            array_cols=n_cols,
            slots_per_step=n_sub,
            slot=neuron.slot,
            u_unit=neuron.u_unit,
            u_max=u_max,
        )
    state, out = None, []
    with torch.no_grad():
        for t in range(len(xt)):
            nz = None if noise is None else torch.as_tensor(noise[t : t + 1], dtype=torch.float64)
            s, state = stepper(xt[t : t + 1], state, nz)
            out.append(s[0].numpy())
    return np.asarray(out) > 0.5


def torch_record(net: SpikingNet, image: np.ndarray, seed: int) -> tuple[torch.Tensor, dict[str, Any]]:
    """The trained network on one image (flattened features), its input spikes and neuron
    noise drawn with the image's ``seed``: (output spike counts ``(1, classes)``, the record
    of encoded inputs and every layer's spikes per step).

    Test image i of a run seeded ``s`` takes ``seed = image_seed(s, i)``
    (:func:`~spinspice.snn.arch.image_seed`): its draws, and so its class, are then those
    ``evaluate`` (and ``train``'s test pass) give image i under seed ``s``."""
    x = torch.as_tensor(np.asarray(image, np.float32)[None, :])
    with torch.no_grad():
        return net(x, seeds=[seed], record=True)


@dataclasses.dataclass(frozen=True)
class LayerGeometry:
    """What a layer's circuit is made of: the crossbar's inputs and neurons (a convolution
    unrolled: one neuron per output channel and position) and the spike max-pool after them.

    ``weight`` (out, in), ``bias`` (out,) and ``mask`` (out, in; the synapses that exist) are
    the layer as a crossbar: a fully connected layer's own; a convolution's kernel replicated
    on a tile per output position (rows: the receptive field, ``C_in K K`` inputs and the bias
    row; one differential column pair per output channel).  ``pool``: the S x S max-pool of
    the spikes (a logic OR of each window's neurons, the rule the network uses), 0 for none.
    """

    index: int
    kind: str  # "linear" or "conv"
    in_shape: tuple[int, ...]  # what the synapses read: (features,) or (C, H, W)
    out_shape: tuple[int, ...]  # the neurons: (n,) or (C_out, H_out, W_out)
    pooled_shape: tuple[int, ...]  # what the next layer reads
    pool: int
    weight: np.ndarray
    bias: np.ndarray
    mask: np.ndarray
    kernel_shape: tuple[int, ...]  # the trained weight's shape

    @property
    def n_out(self) -> int:
        return int(np.prod(self.out_shape))

    @property
    def n_pooled(self) -> int:
        return int(np.prod(self.pooled_shape))

    def pool_groups(self) -> np.ndarray | None:
        """(pooled outputs, S*S) neuron indices of each max-pool window (None: no pool)."""
        if not self.pool:
            return None
        c, h, w = self.out_shape
        s = self.pool
        idx = np.arange(c * h * w).reshape(c, h, w)[:, : (h // s) * s, : (w // s) * s]
        win = idx.reshape(c, h // s, s, w // s, s).transpose(0, 1, 3, 2, 4)
        return win.reshape(-1, s * s)

    def pooled(self, spikes: np.ndarray) -> np.ndarray:
        """(steps, n_out) spikes -> (steps, n_pooled): the OR of every pool window."""
        groups = self.pool_groups()
        return np.asarray(spikes, bool) if groups is None else np.asarray(spikes, bool)[:, groups].any(-1)

    def describe(self) -> dict[str, Any]:
        """The manifest's record: shapes, and for a convolution its tiles and replication."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "weight_shape": list(self.kernel_shape),
            "in_shape": list(self.in_shape),
            "out_shape": list(self.out_shape),
            "n_synapse_sites": int(self.mask.sum()),
        }
        if self.kind == "conv":
            c_out, c_in, kh, kw = self.kernel_shape
            positions = self.n_out // c_out
            out["conv"] = {
                "tiles": positions,
                "tile_rows": c_in * kh * kw + 1,  # the receptive field and the bias row
                "tile_column_pairs": c_out,
                "unique_weights": c_out * c_in * kh * kw,
                "replicated_pairs": int(self.mask.sum()) + self.n_out,  # + a bias pair per neuron
                "replication": positions,
                "shared_row_drivers": "each input row drives every tile whose receptive field holds it",
            }
        if self.pool:
            out["pool"] = {
                "size": self.pool,
                "pooled_shape": list(self.pooled_shape),
                "or_gates": self.n_pooled,
                "inputs_per_gate": self.pool * self.pool,
            }
        return out


def _refuse_drive_pool(net: SpikingNet, k: int) -> None:
    if net.pools[k] and net.pool_drive[k]:
        raise ModelParameterError(
            f"layer {k} max-pools its synaptic drive before the neurons (the snnTorch tutorial "
            "order): a crossbar cannot take the maximum of currents; pool the spikes after the "
            "neurons (spinspice's csnn order) to get a circuit"
        )


def network_geometry(net: SpikingNet) -> tuple[LayerGeometry, ...]:
    """Every layer as a crossbar (:class:`LayerGeometry`), convolutions unrolled by applying
    them to the unit vectors of their input (any stride, padding, dilation or groups)."""
    x = torch.zeros(1, net.config.n_features, dtype=torch.float64)
    out = []
    for k, syn in enumerate(net.synapses):
        xin = net._shape_input(k, x)
        in_shape = tuple(int(v) for v in xin.shape[1:])
        pool = int(net.pools[k])
        _refuse_drive_pool(net, k)
        wt = syn.weight.detach().double()
        b = torch.zeros(wt.shape[0], dtype=torch.float64) if syn.bias is None else syn.bias.detach().double()
        if isinstance(syn, torch.nn.Linear):
            w = wt.numpy()
            mask = w != 0
            bias = b.numpy()
            out_shape: tuple[int, ...] = (int(w.shape[0]),)
            kind = "linear"
        else:
            n_in = int(np.prod(in_shape))
            eye = torch.eye(n_in, dtype=torch.float64).reshape(n_in, *in_shape)
            conv = dict(stride=syn.stride, padding=syn.padding, dilation=syn.dilation, groups=syn.groups)
            with torch.no_grad():
                y = torch.nn.functional.conv2d(eye, wt, None, **conv)
                reach = torch.nn.functional.conv2d(eye, torch.ones_like(wt), None, **conv)
            out_shape = tuple(int(v) for v in y.shape[1:])
            w = y.reshape(n_in, -1).T.contiguous().numpy()
            mask = reach.reshape(n_in, -1).T.numpy() != 0
            bias = b.repeat_interleave(out_shape[1] * out_shape[2]).numpy()
            kind = "conv"
        pooled_shape = out_shape
        if pool:
            if len(out_shape) != 3:
                raise ModelParameterError(f"layer {k}: a max-pool needs a convolution before it")
            pooled_shape = (out_shape[0], out_shape[1] // pool, out_shape[2] // pool)
        out.append(
            LayerGeometry(k, kind, in_shape, out_shape, pooled_shape, pool, w, bias, mask, tuple(wt.shape))
        )
        x = torch.zeros(1, *pooled_shape, dtype=torch.float64)
    return tuple(out)


def map_network(
    net: SpikingNet,
    device: SynapseDevice,
    *,
    clip_percentile: float = 100.0,
    variability: float = 0.0,
    seed: int = 0,
    geometry: tuple[LayerGeometry, ...] | None = None,
) -> tuple[LayerMapping, ...]:
    """Every layer's weights and biases as conductances of ``device`` (layer ``k`` varied with
    seed ``seed + k``): the one mapping that netlists and co-simulations share.  A convolution
    is mapped unrolled (:class:`LayerGeometry`), its kernel conductances replicated per tile."""
    geometry = network_geometry(net) if geometry is None else geometry
    return tuple(
        map_layer(
            g.weight,
            g.bias,
            device,
            clip_percentile=clip_percentile,
            variability=variability,
            seed=seed + k,
            mask=g.mask if g.kind == "conv" else None,
        )
        for k, g in enumerate(geometry)
    )


def layer_noise(rec: dict[str, Any], k: int, neuron: Any) -> np.ndarray | None:
    """(steps, neurons) velocity factors that layer ``k``'s stochastic neurons drew in a torch
    record (None for deterministic neurons): what the circuit's per-neuron noise sources carry."""
    if not getattr(neuron, "stochastic", False):
        return None
    steps = len(rec["noise"][k])
    return torch.stack([torch.as_tensor(v) for v in rec["noise"][k]]).reshape(steps, -1).double().numpy()


def _recorded_steps(rec: dict[str, Any], key: str, k: int) -> np.ndarray:
    """(steps, units) bool: layer ``k``'s recorded spikes ``rec[key]``, flattened per step."""
    return torch.cat(rec[key][k]).reshape(len(rec[key][k]), -1).numpy() > 0.5


def pooled_spikes(rec: dict[str, Any], k: int) -> np.ndarray:
    """(steps, outputs) bool: what layer ``k`` passes on in a torch record (after its pool)."""
    return _recorded_steps(rec, "spikes", k)


def neuron_spikes(rec: dict[str, Any], k: int) -> np.ndarray:
    """(steps, neurons) bool: layer ``k``'s neuron spikes in a torch record (before any pool)."""
    return _recorded_steps(rec, "neuron_spikes", k)


def next_layer_input(net: SpikingNet, passed: np.ndarray) -> np.ndarray:
    """(steps, outputs) float: what the next layer reads in each of its steps from a layer's
    passed-on spikes ``passed``: the same step's under ``same-step`` timing (the next layer
    runs one slot behind), the step before's (none in step 0) under ``next-step``."""
    if net.config.timing == "same-step":
        return passed.astype(float)
    return np.concatenate([np.zeros((1, passed.shape[1])), passed[:-1]], axis=0).astype(float)


def layer_offsets_s(net: SpikingNet, slots_s: Sequence[float]) -> list[float]:
    """When each layer's step 0 starts, in s from the input's: 0 for every layer under
    ``next-step`` timing; under ``same-step`` each layer starts when the one before has
    finished its step 0, and late enough that its step t never starts before the other's
    step t has ended (``slots_s``: each layer's write slot)."""
    if net.config.timing != "same-step":
        return [0.0] * len(slots_s)
    offsets = [0.0]
    for before, slot in itertools.pairwise(slots_s):
        offsets.append(offsets[-1] + before + max(0.0, (before - slot) * (net.config.steps - 1)))
    return offsets


_LIF_ROWS = (
    "ideal-LIF layers sample their membrane once per write slot: build them with --schedule all "
    "(the row-by-row schedules need device neurons)"
)


def check_circuit_network(net: SpikingNet) -> None:
    """Refuse, with the way out, networks whose layers have no circuit here.  Ideal-LIF layers
    get the clocked ideal-LIF circuit (:class:`LIFCircuitNeuron`)."""
    for k, syn in enumerate(net.synapses):
        _refuse_drive_pool(net, k)
        if not isinstance(syn, (torch.nn.Linear, torch.nn.Conv2d)):
            raise ModelParameterError(f"layer {k} ({type(syn).__name__}) has no crossbar circuit")
        neuron = net.neurons[k]
        if not isinstance(neuron, (DeviceNeuron, LeakyNeuron)):
            raise ModelParameterError(
                f"layer {k} ({type(neuron).__name__} neurons) has no circuit: use a device neuron "
                "(--neuron dw-lif) or the ideal LIF (--neuron lif)"
            )
        try:
            circuit_neuron(neuron).cell  # noqa: B018  (validates the clocked cell's timing)
        except ModelParameterError as err:
            raise ModelParameterError(f"layer {k}: {err}") from None


def network_circuits(
    net: SpikingNet,
    image: np.ndarray,
    device: SynapseDevice,
    *,
    label: int | None = None,
    options: CrossbarOptions | None = None,
    clip_percentile: float = 100.0,
    variability: float = 0.0,
    seed: int = 0,
    single: bool = False,
    index: int = 0,
) -> NetworkCircuits:
    """Circuits of every layer of ``net`` for one input ``image`` (flattened features).

    ``seed``: the run seed (the synapses' variability; with ``index``, the image's index in
    the test set, the torch reference's draws, ``image_seed(seed, index)``, those
    ``evaluate`` gives that image).

    ``single``: the layers are built to run together in one netlist
    (:func:`~spinspice.circuits.network.network_testbench`): layer ``k > 0`` reads the
    previous layer's latched spikes, each layer runs ``LAYER_SKEW_S`` after the one before
    (so a latch settles before the next layer reads it), all share one network slot (row by
    row: the largest array's rows), and every layer's expected spikes follow from the
    previous layer's *expected* spikes (what the circuit feeds it), not from torch's.
    """
    check_circuit_network(net)
    options = options or CrossbarOptions()
    geometry = network_geometry(net)
    counts, rec = torch_record(net, image, image_seed(seed, index))
    steps = net.config.steps
    n_layers = len(net.synapses)
    n_sub = None
    if single and net.config.timing == "same-step" and n_layers > 1:
        raise ModelParameterError(
            "--single runs every layer in the same slots (next-step timing); this network passes a "
            "spike on within the step (same-step, as snnTorch and NIR): write one netlist per layer "
            "(drop --single)"
        )
    if single:
        n_sub = max(options.array_shape(g.n_out)[0] for g in geometry) if options.multiplexed else 1
        t_off = min(circuit_neuron(n).slot.t_off_s for n in net.neurons)
        if (n_layers - 1) * LAYER_SKEW_S > t_off / 2:
            raise ModelParameterError(
                f"{n_layers} layers skewed by {LAYER_SKEW_S:g} s each do not fit in half the "
                f"{t_off:g} s OFF part of a slot: write one netlist per layer (drop --single)"
            )
        period = circuit_neuron(net.neurons[0]).slot.period_s
        if any(circuit_neuron(n).slot.period_s != period for n in net.neurons):
            raise ModelParameterError("--single needs one write slot for every layer")
        t_stop = steps * n_sub * period + (n_layers - 1) * LAYER_SKEW_S
    mappings = map_network(
        net, device, clip_percentile=clip_percentile, variability=variability, seed=seed, geometry=geometry
    )
    inputs, torch_spikes, expected, layers = [], [], [], []
    testbench_kwargs: list[dict[str, Any]] = []
    for k, (geo, mapping) in enumerate(zip(geometry, mappings, strict=True)):
        if k == 0:
            inp = torch.cat(rec["encoded"]).reshape(steps, -1).numpy().astype(float)
        else:
            # the previous layer's (pooled) spikes: torch's, or with --single what its circuit gives
            prev = geometry[k - 1].pooled(expected[-1]) if single else pooled_spikes(rec, k - 1)
            inp = next_layer_input(net, prev)
        neuron = circuit_neuron(net.neurons[k])
        noise = layer_noise(rec, k, neuron)
        skew = k * LAYER_SKEW_S if single else 0.0
        kwargs: dict[str, Any] = dict(
            cell=neuron.cell.network_cell(),
            slot=neuron.slot.replace(t_delay_s=neuron.slot.t_delay_s + skew),
            u_unit=neuron.u_unit,
            mapping=mapping,
            inputs=inp,
            options=options,
            weight_mask=geo.mask,
            title=(
                f"spinspice network layer {k} of {net.config.arch!r}: {geo.weight.shape[1]} inputs x "
                f"{geo.n_out} {neuron.model} neurons"
                # lower case: ngspice writes the title into the raw file lower-cased (verify-raw)
                + (" (clocked ideal-lif circuit)" if isinstance(neuron, LIFCircuitNeuron) else "")
                + (" (convolution)" if geo.kind == "conv" else "")
            ),
            pool_groups=geo.pool_groups(),
            noise=noise,
            n_sub=n_sub,
            latched_inputs=single and k > 0,
            output_latch=skew if single and k < n_layers - 1 else None,
            t_stop_s=t_stop if single else None,
            drive_limit=neuron.u_max,
            drive=mapping.drive(inp),  # once per layer: every split group reuses it
        )
        circuit = layer_testbench(**kwargs)
        testbench_kwargs.append(kwargs)
        inputs.append(inp)
        torch_spikes.append(neuron_spikes(rec, k))
        expected.append(expected_from_drive(neuron, kwargs["drive"], options, n_sub, noise))
        layers.append(circuit)
    assert len(torch_spikes[-1]) == steps
    return NetworkCircuits(
        tuple(layers),
        mappings,
        tuple(inputs),
        tuple(torch_spikes),
        tuple(expected),
        int(counts.argmax(1)),
        label,
        geometry,
        tuple(testbench_kwargs),
    )


def neuron_groups(n_neurons: int, size: int, options: CrossbarOptions) -> list[list[int]]:
    """A layer's neurons in groups of at most ``size``: runs of consecutive indices.

    Row by row (``rows``, ``rows-free``), a group is whole array columns (every row of its
    columns; at least one column, so a group can exceed ``size`` when a column holds more
    neurons): a column's cells share one write driver and line, so only whole columns run
    alone exactly (``rows-free``: one series write line; ``rows``: the off select switches of
    the column's other cells)."""
    if size < 1:
        raise ModelParameterError(f"neuron groups of {size}: give a size >= 1")
    if not options.multiplexed:
        return [list(range(s, min(s + size, n_neurons))) for s in range(0, n_neurons, size)]
    n_rows, n_cols = options.array_shape(n_neurons)
    per = max(1, size // n_rows)
    return [[j for j in range(n_neurons) if c0 <= j % n_cols < c0 + per] for c0 in range(0, n_cols, per)]


def check_split(options: CrossbarOptions, single: bool = False) -> None:
    """Refuse, saying why, layers that do not split exactly into neuron groups
    (:func:`layer_group`): wire parasitics, and the layers of a whole-network netlist."""
    if options.r_wire_ohm > 0 or options.c_wire_f > 0:
        raise ModelParameterError(
            "--split needs ideal wires: wire parasitics (--r-wire/--c-wire) couple every column through "
            "the shared row lines, so a neuron group alone is not the layer (drop --split or the wires)"
        )
    if single:
        raise ModelParameterError(
            "--split writes each layer as neuron groups, --single the whole network as one netlist: "
            "choose one"
        )


def layer_group(nc: NetworkCircuits, k: int, neurons: Sequence[int], title: str) -> LayerCircuit:
    """Layer ``k`` of ``nc`` for ``neurons`` only: its testbench rebuilt with exactly the
    arguments :func:`network_circuits` used, restricted to those neurons (their crossbar
    columns, every row; cell sizing and names as in the whole layer), titled ``title``.

    Exact when the neurons are independent: ideal wires (wire parasitics couple every column
    through the shared row lines: refused) and ideal row drivers.  A layer built for one
    network netlist (latched inputs, output latch) is refused, and a spike max-pool is left
    out (its OR gates need the whole layer: the group has its neurons only)."""
    if not nc.testbench_kwargs:
        raise ModelParameterError("these circuits were built without their testbench arguments")
    kw = nc.testbench_kwargs[k]
    single = kw["latched_inputs"] or kw["output_latch"] is not None or kw["t_stop_s"] is not None
    check_split(kw["options"], single)
    return layer_testbench(**{**kw, "neurons": list(neurons), "pool_groups": None, "title": title})
