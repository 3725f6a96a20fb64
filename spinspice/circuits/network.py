"""One layer of a trained network as a circuit: input drivers, synapse crossbar, neuron array.

Topology (``docs/netlists.md`` has the schematic)::

    input driver i --row i--+--[G+_ij]--col+ j--(0 V sense V_spj)--.
                            '--[G-_ij]--col- j--(0 V sense V_snj)--+--> write driver j: I = A (I_spj - I_snj)
                                                                         from VDD_w into neuron j's input

* **Input drivers** (rows): a read-voltage pulse ``V_read`` during the ON part
  of write slot ``t`` if input ``i`` spiked in slot ``t`` (layer 0: the encoded
  image; deeper layers: the previous layer's spikes of slot ``t - 1``), as a
  piece-wise linear source with the slot's edges.  A bias row pulses in every
  slot.
* **Crossbar**: one resistor per device, ``G+`` to the column's ``+`` line and
  ``G-`` to its ``-`` line (:mod:`spinspice.circuits.synapses`); optional
  wire resistance and capacitance per segment (row segments between columns,
  column segments between rows, so IR drop shows); large layers are split
  into tiles of at most ``tile`` x ``tile`` devices whose column currents are
  summed by the write driver.
* **Columns end at virtual ground**: a 0-V source (the ideal sense amplifier
  input) holds every column line at 0 V and measures its current, so the row
  voltages alone set the synapse currents -- the crossbar computes
  ``sum_i G_ij V_i`` exactly, independent of the neuron's input voltage
  (which swings with the track and the steering switches).  The write driver
  then mirrors ``A (I+ - I-)`` from the write supply into the cell's input:
  ``A = I_unit / (s V_read)`` makes one weight unit times one input spike the
  current ``I_unit`` of one input unit of the trained network.
* **Neuron array**: the layer's neurons placed in ``rows x cols``; cells share
  their supplies; models with a field line (field-gated) get one field-line
  supply per array row.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import sympy as sp

from spinspice.circuits.cellbase import CellParams, Stimulus
from spinspice.circuits.core import (
    BehavioralCurrent,
    BehavioralVoltage,
    Capacitor,
    CodeModel,
    CodeModelCard,
    CurrentSource,
    Element,
    Instance,
    Probe,
    Pulse,
    Pwl,
    Resistor,
    Subckt,
    Testbench,
    VoltageSource,
    generator,
    stable_hash,
)
from spinspice.circuits.steered import SteeredCell, steered_cell
from spinspice.circuits.synapses import LayerMapping
from spinspice.errors import ModelParameterError
from spinspice.models.expr import branch_current, node_voltage
from spinspice.models.waveforms import PulseTrain

__all__ = [
    "ROW_SCHEDULES",
    "SCHEDULES",
    "CrossbarOptions",
    "LayerCircuit",
    "crossbar_tile",
    "layer_drive_limit",
    "layer_testbench",
    "max_write_current",
    "network_testbench",
    "size_for_current",
    "slot_pwl",
    "spike_latch",
]

#: row-select switch of the row-by-row schedule (the access transistor of a 1T cell), on and
#: off conductance at 1 V select level; the column driver is a current source, so the on
#: resistance changes the column-line voltage, not the delivered current
SELECT_G_ON_S = 1e-2
SELECT_G_OFF_S = 1e-9
#: capacitance to ground of the access-transistor-free array's write line at each cell (wire
#: segment and contacts; modelling choice, a few 100 nm of metal): besides being there, it
#: keeps ngspice's solution of the series line exact when the cells above a cell all fire and
#: bypass (without it, 50 ps steps left a spurious mA-scale line current, see docs/field-gating.md)
C_LINE_F = 1e-15

#: field-line schedules: all rows at once; row by row with a 1T select switch per cell; row by
#: row on the access-transistor-free array (paper 001 Fig. 1e)
SCHEDULES = ("all", "rows", "rows-free")
ROW_SCHEDULES = ("rows", "rows-free")


#: highest supply the write path of a cell may be raised to when a network needs it [V]
V_MAX_SUPPLY_V = 3.3
#: design margin of the write path over the peak write current it must carry
WRITE_MARGIN = 1.25


def size_for_current(
    cell: CellParams,
    i_peak_a: float,
    margin: float = WRITE_MARGIN,
    v_max_v: float = V_MAX_SUPPLY_V,
    cells_in_series: int = 1,
) -> tuple[CellParams, dict[str, Any]]:
    """The cell, its write path re-sized if needed, able to carry ``margin * i_peak_a``
    (see :func:`_size_for_current`; cached: a layer's runs all ask the same question)."""
    sized, info = _size_for_current(
        cell, float(i_peak_a), float(margin), float(v_max_v), int(cells_in_series)
    )
    return sized, copy.deepcopy(info)


@functools.lru_cache(maxsize=64)
def max_write_current(
    cell: CellParams, cells_in_series: int = 1, v_max_v: float = V_MAX_SUPPLY_V, margin: float = WRITE_MARGIN
) -> float:
    """The largest peak write current [A] the cell's write path can be sized for with supplies
    of at most ``v_max_v`` (:func:`size_for_current`, the check ``netlist`` applies), through
    ``cells_in_series`` cells on one write line: the drive limit of drive-aware training and
    the current limit of the circuit's write drivers.  Bisection to 1e-4 relative."""

    def fits(i: float) -> bool:
        try:
            _size_for_current(cell, i, margin, v_max_v, cells_in_series)
        except ModelParameterError:
            return False
        return True

    lo, hi = 0.0, 1e-3
    while fits(hi):
        lo, hi = hi, hi * 2
        if hi > 1e3:
            return math.inf  # no current-dependent check: nothing limits the drive
    while hi - lo > 1e-4 * hi:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    if lo == 0.0:
        raise ModelParameterError(
            f"the {cell.model} cell's write path fails its design check at any current with supplies "
            f"up to {v_max_v:g} V"
            + (f" and {cells_in_series} cells in series" if cells_in_series > 1 else "")
        )
    return lo


def layer_drive_limit(
    cell: CellParams, i_unit_a: float, n_neurons: int, options: CrossbarOptions, drive_limit: float | None
) -> float | None:
    """The write drivers' current limit of a layer, in input units: the network's own
    (``drive_limit``, drive-aware training; None: none) and, on the access-transistor-free
    array, at most what its series write line carries (:func:`max_write_current` through the
    array's rows), so its netlists always fit; the co-simulation's device-model expectation
    uses the same limit."""
    if not options.access_free:
        return drive_limit
    line = max_write_current(cell, options.array_shape(n_neurons)[0]) / abs(i_unit_a)
    return line if drive_limit is None else min(drive_limit, line)


@functools.lru_cache(maxsize=256)
def _size_for_current(
    cell: CellParams, i_peak_a: float, margin: float, v_max_v: float, cells_in_series: int = 1
) -> tuple[CellParams, dict[str, Any]]:
    """The cell, its write path re-sized if needed, able to carry ``margin * i_peak_a``.

    ``cells_in_series``: the write line runs through that many cells (the access-transistor-
    free array), so the driver's compliance must cover their tracks in series: the check is
    made at ``cells_in_series`` times the current (the compliance check is linear in it).

    A trained network may drive a neuron much harder than the single-cell design's write
    pulse (one input unit is the drive to threshold in one pulse: 5.5 mA for the paper-001
    DW-LIF).  The cell's own design check (:meth:`CellParams.check`: driver compliance,
    switch saturation, reset operating point) decides.  If it fails, the steering switches
    are widened (on-resistance at most 50 mV / I) and the write supply, the comparator rail
    that gates the pass switch and the reset supply (which must track that rail) are raised
    together in 50 mV steps up to ``v_max_v`` until it passes.  Returns the cell and what
    was changed (for the manifest and reports).
    """
    need = abs(float(i_peak_a)) * margin
    info: dict[str, Any] = {"i_peak_a": abs(float(i_peak_a)), "i_design_a": need, "changed": {}}
    if cells_in_series > 1:
        info["cells_in_series"] = cells_in_series
    if need == 0:
        return cell, info
    try:
        cell.check(need * cells_in_series)
        return cell, info
    except ModelParameterError as err:
        first = str(err)
    values = cell.values()
    knobs = [k for k in ("v_dd_write_v", "v_dd_comp_v", "v_dd_reset_v") if k in values]
    base: dict[str, Any] = {}
    if "r_switch_on_ohm" in values:
        base["r_switch_on_ohm"] = min(float(values["r_switch_on_ohm"]), 0.05 / need)
    v0 = max([float(values[k]) for k in knobs], default=v_max_v)
    for v in np.arange(v0, v_max_v + 1e-9, 0.05):
        change = {**base, **{k: max(float(values[k]), float(v)) for k in knobs}}
        try:
            trial = cell.with_text(change)
            trial.check(need * cells_in_series)
        except ModelParameterError:
            continue
        info["changed"] = {k: {"from": values[k], "to": change[k]} for k in change if change[k] != values[k]}
        return trial, info
    raise ModelParameterError(
        f"the {cell.model} cell cannot carry this network's peak write current {need:.3g} A "
        + (f"through {cells_in_series} cells in series " if cells_in_series > 1 else "")
        + f"({first}), not even with supplies raised to {v_max_v:g} V: retrain with smaller drives "
        "or give --param values for the write path"
    )


@dataclasses.dataclass(frozen=True)
class CrossbarOptions:
    """How a layer is laid out and read."""

    v_read_v: float = 0.1  # row read-pulse amplitude [V]
    r_wire_ohm: float = 0.0  # wire resistance per segment (0: ideal wires) [ohm]
    c_wire_f: float = 0.0  # wire capacitance to ground per segment [F]
    tile: int = 256  # largest tile side (devices)
    array_cols: int | None = None  # neuron array columns (default: ceil(sqrt(M)))
    #: "all": every array row written in each slot; "rows": row by row, a select switch per
    #: cell (1T); "rows-free": row by row on the access-transistor-free array (series write
    #: lines, rows selected by their field lines only: paper 001 Fig. 1e)
    schedule: str = "all"

    @property
    def multiplexed(self) -> bool:
        return self.schedule in ROW_SCHEDULES

    @property
    def access_free(self) -> bool:
        return self.schedule == "rows-free"

    def __post_init__(self) -> None:
        if not self.v_read_v > 0:
            raise ModelParameterError("v_read_v must be > 0")
        if self.r_wire_ohm < 0 or self.c_wire_f < 0:
            raise ModelParameterError("wire resistance and capacitance must be >= 0")
        if self.c_wire_f > 0 and self.r_wire_ohm == 0:
            raise ModelParameterError("wire capacitance needs a wire resistance (segments)")
        if self.tile < 1 or (self.array_cols is not None and self.array_cols < 1):
            raise ModelParameterError("tile and array_cols must be >= 1")
        if self.schedule not in SCHEDULES:
            raise ModelParameterError(f"schedule {self.schedule!r}: choose {', '.join(SCHEDULES)}")

    def array_shape(self, n_neurons: int) -> tuple[int, int]:
        """(rows, cols) of the neuron array."""
        cols = self.array_cols or max(1, math.ceil(math.sqrt(n_neurons)))
        return math.ceil(n_neurons / cols), cols


def slot_pwl(
    levels: Sequence[float],
    slot: PulseTrain,
    amplitude: float,
    *,
    subslots: Sequence[int] = (0,),
    n_sub: int = 1,
    limit: float | None = None,
) -> Pwl:
    """``amplitude * levels[t]`` during the ON part of every slot ``t`` with a non-zero level
    (charge-equivalent trapezoid: edges ``t_edge``, plateau ``t_on - t_edge``), 0 otherwise.
    Spikes are levels 0/1; direct (analog) encoding gives other levels.  With the row-by-row
    schedule a network slot lasts ``n_sub`` write slots and the pulse repeats in each of the
    write slots ``subslots``.  ``limit`` (same unit as ``amplitude``): a write driver's
    current limit, which clips the instantaneous current -- the trapezoid reaches the limit
    early on its rising edge and leaves it late on its falling one, as the driver's clipped
    B-source does in the full crossbar."""
    pts: list[tuple[float, float]] = [(0.0, 0.0)]
    e, plateau = slot.t_edge_s, slot.plateau_s
    for t, a in enumerate(levels):
        if not a:
            continue
        for k in subslots:
            t0 = (t * n_sub + k) * slot.period_s + slot.t_delay_s
            v = amplitude * float(a)
            knee = 1.0 if limit is None or abs(v) <= limit else limit / abs(v)
            top = v * knee
            pts += [(t0, 0.0), (t0 + e * knee, top), (t0 + 2 * e + plateau - e * knee, top)]
            pts.append((t0 + 2 * e + plateau, 0.0))
    if len(pts) > 1 and pts[1][0] == 0.0:
        pts = pts[1:]
    return Pwl(tuple(pts))


def _window_pwl(steps: int, n_sub: int, r: int, slot: PulseTrain, level: float) -> Pwl:
    """``level`` during write slot ``r`` of every network slot (``n_sub`` write slots each),
    0 otherwise.  A window switches in the middle of the OFF parts around its write pulse
    (``[k P + t_delay - t_off/2, (k + 1) P + t_delay - t_off/2]`` for write slot ``k``), so
    neighbouring rows' windows meet where no write current flows and never overlap a pulse."""
    t_stop = steps * n_sub * slot.period_s
    if n_sub == 1:
        return Pwl(((0.0, level), (t_stop, level)))
    e = min(slot.t_edge_s, slot.t_off_s / 4)
    pts: list[tuple[float, float]] = []
    for t in range(steps):
        k = t * n_sub + r
        a = k * slot.period_s + slot.t_delay_s - slot.t_off_s / 2
        b = a + slot.period_s
        if a <= 0:
            pts += [(0.0, level)]
        else:
            pts += [(0.0, 0.0)] if not pts else []
            pts += [(a - e / 2, 0.0), (a + e / 2, level)]
        if b >= t_stop:
            pts += [(t_stop, level)]
        else:
            pts += [(b - e / 2, level), (b + e / 2, 0.0)]
    return Pwl(tuple(pts))


def _limited(current: sp.Expr, limit_a: float | None) -> sp.Expr:
    """``current`` clipped to +-``limit_a`` (a write driver's current limit; None: none), as
    ``(|x + L| - |x - L|) / 2`` (portable to every netlist target)."""
    if limit_a is None:
        return current
    return (sp.Abs(current + limit_a) - sp.Abs(current - limit_a)) / 2


def _bipolar(name: str, node: str, current: sp.Expr) -> list[Element]:
    """A write driver delivering ``current`` into ``node``: the positive part from VDD_w
    (``name``), the negative part sunk into VSS_w (``name`` + ``_n``)."""
    return [
        BehavioralCurrent(name, "vdd_w", node, (current + sp.Abs(current)) / 2),
        BehavioralCurrent(f"{name}_n", node, "vss_w", (sp.Abs(current) - current) / 2),
    ]


def spike_latch(
    n: int, slot_s: float, offset_s: float, level_v: float, groups: Sequence[Sequence[int]] | None = None
) -> list[Element]:
    """Spike latches between layers (XSPICE digital): the rising edge of comparator output
    ``spk<j>`` sets capture flip-flop ``cap<j>``; at each network-slot boundary
    (``t S + offset_s``) hold flip-flop ``hold<j>`` takes it over and a 5 ps clock pulse clears
    the capture; the hold output drives ``qout<j>`` (0/1 V) for the whole next slot.

    Edge capture is what the network's slot semantics need: a DW-LIF spike (comparator high
    through the reset, ~2.4 ns) is longer than a write slot, and must count once, in the slot
    where it starts.  Spikes starting inside the 5 ps clear pulse would be lost.

    ``groups``: spike max-pooling (paper 001's CSNN): output ``qout<i>`` is an XSPICE ``d_or``
    of the held spikes of the neurons in ``groups[i]`` -- a pooled spike in every slot in which
    one of them spiked, the network's rule (an OR of the raw comparator pulses would miss a
    spike that starts while another neuron's long pulse is still high).
    """
    digest = stable_hash(level_v)
    adc = CodeModelCard(
        f"spk_adc_{digest}",
        "adc_bridge",
        (("in_low", 0.9 * level_v), ("in_high", 1.1 * level_v), ("rise_delay", 1e-12), ("fall_delay", 1e-12)),
        doc=f"comparator output -> logic, threshold {level_v:g} V (the spike level)",
    )
    delays = ("clk_delay", "set_delay", "reset_delay", "rise_delay", "fall_delay")
    dff = CodeModelCard("spk_dff", "d_dff", (*((k, 1e-12) for k in delays), ("ic", 0.0)))
    dac = CodeModelCard(
        "spk_dac", "dac_bridge", (("out_low", 0.0), ("out_high", 1.0), ("t_rise", 10e-12), ("t_fall", 10e-12))
    )
    one = CodeModelCard("logic_one", "d_pullup", (("load", 0.0),))
    zero = CodeModelCard("logic_zero", "d_pulldown", (("load", 0.0),))
    clock = Pulse(0.0, 1.0, slot_s + offset_s, 1e-12, 1e-12, 5e-12, slot_s)
    out: list[Element] = [
        VoltageSource("sclk", "sclk", "0", 0.0, wave=clock),
        CodeModel("one", ("l_one",), one),
        CodeModel("zero", ("l_zero",), zero),
        CodeModel(
            "adc",
            (
                (*tuple(f"spk{j}" for j in range(n)), "sclk"),
                (*tuple(f"d_spk{j}" for j in range(n)), "d_sclk"),
            ),
            adc,
        ),
    ]
    for j in range(n):
        out.append(
            CodeModel(f"cap{j}", ("l_one", f"d_spk{j}", "l_zero", "d_sclk", f"d_q1_{j}", f"d_nq1_{j}"), dff)
        )
        out.append(
            CodeModel(f"hold{j}", (f"d_q1_{j}", "d_sclk", "l_zero", "l_zero", f"d_q2_{j}", f"d_nq2_{j}"), dff)
        )
    held = [f"d_q2_{j}" for j in range(n)]
    if groups is not None:
        gate = CodeModelCard("spk_or", "d_or", (("rise_delay", 1e-12), ("fall_delay", 1e-12)))
        held = []
        for i, group in enumerate(groups):
            if len(group) == 1:
                held.append(f"d_q2_{int(group[0])}")
                continue
            out.append(CodeModel(f"pool{i}", (tuple(f"d_q2_{int(j)}" for j in group), f"d_pool{i}"), gate))
            held.append(f"d_pool{i}")
    out.append(CodeModel("dac", (tuple(held), tuple(f"qout{i}" for i in range(len(held)))), dac))
    return out


def network_testbench(layers: Sequence[LayerCircuit], title: str) -> tuple[Testbench, tuple[str, ...]]:
    """One testbench of the whole network: layer ``k`` is subcircuit instance ``l<k>`` whose
    ports are its input latch nodes ``qin<i>`` (the previous layer's ``qout``) and its own
    ``qout<j>`` (top-level net ``q<k>_<j>``, probe ``l<k>.latch<j>``).  Probes keep their
    keys, prefixed ``l<k>.``; initial conditions are moved into the instances.  Returns the
    testbench and each layer's instance name."""
    elements: list[Element] = []
    probes: list[Probe] = []
    ics: list[tuple[tuple[str, ...], float]] = []
    supplies: list[tuple[str, str]] = []
    names = []
    for k, lc in enumerate(layers):
        tb = lc.testbench
        local = {e.name for e in tb.elements}
        n_in = len(lc.rows) - 1
        ins = tuple(f"qin{i}" for i in range(n_in)) if "rd0" in local else ()
        outs = tuple(f"qout{j}" for j in range(lc.n_outputs)) if "sclk" in local else ()
        if k > 0 and not ins:
            raise ModelParameterError(f"layer {k} reads no latched inputs: build it with latched_inputs")
        if k < len(layers) - 1 and not outs:
            raise ModelParameterError(f"layer {k} has no output latch: build it with output_latch")
        sub = Subckt(f"layer{k}_{stable_hash(tb.elements, n=10)}", ins + outs, tb.elements, doc=tb.title)
        name = f"l{k}"
        names.append(name)
        conns = tuple(f"q{k - 1}_{i}" for i in range(len(ins))) + tuple(f"q{k}_{j}" for j in range(len(outs)))
        elements.append(Instance(name, sub, conns))
        probes += [dataclasses.replace(p, key=f"{name}.{p.key}", path=(name, *p.path)) for p in tb.probes]
        probes += [
            Probe(f"{name}.latch{j}", "v", (f"q{k}_{j}",), "V", f"latched spike of layer {k} output {j}")
            for j in range(len(outs))
        ]
        ics += [((name, *path), v) for path, v in tb.initial_conditions]
        supplies += [(comp, f"{name}.{n}") for comp, n in tb.supplies]
    first, last = layers[0].testbench, layers[-1].testbench
    t_max = min(lc.testbench.analysis.t_max_s or math.inf for lc in layers)
    tb = Testbench(
        title=title,
        elements=tuple(elements),
        analysis=dataclasses.replace(
            first.analysis,
            t_stop_s=max(lc.testbench.analysis.t_stop_s for lc in layers),
            t_max_s=None if math.isinf(t_max) else t_max,
        ),
        probes=tuple(probes),
        initial_conditions=tuple(ics),
        options=first.options,
        supplies=tuple(supplies),
        printed=tuple(f"{names[-1]}.{key}" for key in last.printed),
    )
    return tb, tuple(names)


def _segments(name: str, nodes: list[str], r: float, c: float) -> list[Element]:
    out: list[Element] = []
    for k in range(len(nodes) - 1):
        out.append(Resistor(f"{name}_{k}", nodes[k], nodes[k + 1], r))
        if c > 0:
            out.append(Capacitor(f"{name}_c{k}", nodes[k + 1], "0", c))
    return out


@generator
def crossbar_tile(
    g_pos_s: np.ndarray, g_neg_s: np.ndarray, mask: np.ndarray, r_wire_ohm: float = 0.0, c_wire_f: float = 0.0
) -> Subckt:
    """A tile of differential pairs: ports ``(r0..r{n-1}, p0..p{m-1}, n0..n{m-1})``.

    ``g_*_s`` are (m columns, n rows); ``mask`` says which pairs exist (zero weights have
    none).  Row ``i`` feeds column ``j`` at the crossing ``(i, j)``; with wire resistance
    the row line runs past the columns and the column lines past the rows, one segment
    between neighbours, the column line's end (row n-1) being its port.
    """
    m, n = g_pos_s.shape
    wires = r_wire_ohm > 0
    elements: list[Element] = []

    def rnode(i: int, j: int) -> str:
        return f"r{i}_c{j}" if wires and j > 0 else f"r{i}"

    def cnode(sign: str, j: int, i: int) -> str:
        return f"{sign}{j}_r{i}" if wires and i < n - 1 else f"{sign}{j}"

    for j in range(m):
        for i in range(n):
            if mask[j, i]:
                elements.append(Resistor(f"p{i}_{j}", rnode(i, j), cnode("p", j, i), 1.0 / g_pos_s[j, i]))
                elements.append(Resistor(f"n{i}_{j}", rnode(i, j), cnode("n", j, i), 1.0 / g_neg_s[j, i]))
    if wires:
        for i in range(n):
            elements += _segments(f"wr{i}", [rnode(i, j) for j in range(m)], r_wire_ohm, c_wire_f)
        for j in range(m):
            for sign in ("p", "n"):
                elements += _segments(
                    f"wc{sign}{j}", [cnode(sign, j, i) for i in range(n)], r_wire_ohm, c_wire_f
                )
    digest = stable_hash(g_pos_s.tolist(), g_neg_s.tolist(), mask.tolist(), r_wire_ohm, c_wire_f)
    return Subckt(
        name=f"spinspice_crossbar_{n}x{m}_{digest}",
        ports=(*(f"r{i}" for i in range(n)), *(f"p{j}" for j in range(m)), *(f"n{j}" for j in range(m))),
        elements=tuple(elements),
        doc=(
            f"synapse crossbar tile: {n} rows x {m} columns, {int(mask.sum())} differential pairs"
            + (f", wire segments {r_wire_ohm:g} ohm / {c_wire_f:g} F" if wires else ", ideal wires")
        ),
    )


@dataclasses.dataclass(frozen=True)
class LayerCircuit:
    """A layer testbench and what the manifest needs to map it back to the network."""

    testbench: Testbench
    cell_subckt: Subckt
    tiles: tuple[dict[str, Any], ...]
    neurons: tuple[dict[str, Any], ...]
    rows: tuple[dict[str, Any], ...]
    mirror_gain: float
    i_unit_a: float
    n_pairs: int
    sizing: dict[str, Any]
    cell: CellParams
    slot_s: float  # network time step: write slot, times the array rows when row by row [s]
    write_slot_s: float  # one write slot of the neuron (its drive period) [s]
    schedule: str  # "all" or "rows" (CrossbarOptions.schedule)
    n_write_drivers: int  # one per neuron (all rows at once) or per array column (row by row)
    n_select_devices: int = 0  # access transistors (1T row-by-row array: one per cell)
    n_field_line_drivers: int = 0  # one per array row of a field-gated array
    cells_in_series: int = 1  # cells on one write line (the access-transistor-free array: its rows)
    state_key: str | None = None  # probe key prefix of each neuron's device state (m<j>)
    array_shape: tuple[int, int] = (1, 1)  # neuron array (rows, cols)
    pulse: PulseTrain | None = None  # the write slot's pulse (timing of the row windows)
    #: the spike max-pool: the neurons OR-ed into each output qout<i> (None: one per neuron)
    pool_groups: tuple[tuple[int, ...], ...] | None = None

    @property
    def n_outputs(self) -> int:
        """What the layer passes on: its neurons' latched spikes, or the pooled ones."""
        return len(self.neurons) if self.pool_groups is None else len(self.pool_groups)

    def half_selected(self, j: int, steps: int) -> np.ndarray:
        """(n, 2) start and end times [s] of the write pulses of the other array rows, during which
        neuron ``j``'s cell is half-selected (row by row; empty when all rows write at once)."""
        n_sub = round(self.slot_s / self.write_slot_s)
        rows, cols = self.array_shape
        if self.schedule not in ROW_SCHEDULES or rows == 1 or self.pulse is None:
            return np.zeros((0, 2))
        own = j // cols
        k = np.array([t * n_sub + r for t in range(steps) for r in range(rows) if r != own], float)
        start = k * self.write_slot_s + self.pulse.t_delay_s
        return np.stack([start, start + self.pulse.t_on_s + self.pulse.t_edge_s], axis=1)


@functools.lru_cache(maxsize=16)
def _cell_template(cell: CellParams, slot: PulseTrain, t_stop_s: float) -> tuple[Testbench, Instance]:
    tb = cell.testbench(slot, t_stop_s)
    inst = next(e for e in tb.elements if isinstance(e, Instance) and e.name == "cell")
    return tb, inst


def layer_testbench(
    cell: CellParams,
    slot: PulseTrain,
    u_unit: float,
    mapping: LayerMapping,
    inputs: np.ndarray,
    options: CrossbarOptions = CrossbarOptions(),
    *,
    weight_mask: np.ndarray | None = None,
    title: str = "spinspice network layer",
    n_sub: int | None = None,
    latched_inputs: bool = False,
    output_latch: float | None = None,
    t_stop_s: float | None = None,
    neurons: Sequence[int] | None = None,
    stepped: bool = False,
    traced: Collection[int] | None = None,
    row_probes: bool = False,
    drive_limit: float | None = None,
    pool_groups: np.ndarray | None = None,
    noise: np.ndarray | None = None,
    drive: np.ndarray | None = None,
) -> LayerCircuit:
    """One layer: ``inputs`` (steps, n_in), spikes 0/1 (or analog levels for direct encoding)
    -> testbench of input drivers, crossbar tiles, write drivers and neuron array.

    For a whole-network netlist (:func:`network_testbench`) ``latched_inputs`` makes row ``i``
    read the previous layer's latched spike on port node ``qin<i>`` (0/1 V) instead of a PWL
    of ``inputs`` (which then only sizes the cell), and ``output_latch`` (the sampling edges'
    offset from the network-slot boundaries, s) adds the spike latch (:func:`spike_latch`)
    whose outputs ``qout<j>`` feed the next layer.  ``n_sub`` write slots
    make a network slot (row by row: at least the array rows; the longest layer sets it).

    For co-simulation: ``neurons`` builds only those neurons (their crossbar columns, all
    rows; cell sizing still covers the whole layer, names keep the layer's indices);
    ``stepped`` replaces the crossbar, row drivers and write-driver B-sources by one PWL
    current source per neuron carrying the write current the torch MAC gives (SPEC 4 mode 1:
    exact for ideal wires, whose virtual-ground columns make the column current independent
    of the cell); ``traced`` limits the per-neuron probes to the spike output except for
    those neurons (``None``: all); ``row_probes`` measures every row driver's current (the
    crossbar read energy of the full and parasitic modes).

    ``drive_limit`` (input units): the write drivers' current limit, ``drive_limit * I_unit``
    (a network trained drive-aware clips its drives there, :func:`max_write_current`).

    ``drive`` (steps, n_out): ``mapping.drive(inputs)`` when the caller has it already (a
    co-simulation builds every group of a layer from one; a convolution's is large).

    ``noise`` (steps, n_out): stochastic neurons (paper 004's DW-MTJ) -- each neuron's velocity
    factor per network step, the realisation torch drew, on a PWL source of its own (node
    ``nz<j>``) instead of the cell testbench's shared constant 1.

    ``pool_groups`` (outputs, S*S): the spike max-pool after the neurons (a convolution of
    paper 001's CSNN): the layer's outputs ``qout<i>`` are OR gates of the latched spikes of
    each window (:func:`spike_latch`; latched at the network-slot boundaries, or at
    ``output_latch``), probed as ``pool<i>``.  Needs the whole layer.

    ``options.schedule == "rows-free"`` builds the access-transistor-free array of paper 001
    Fig. 1e: each array column is one series write line (driver -> cell of row 0 -> ... ->
    cell of the last row -> ground, :func:`~spinspice.circuits.steered.steered_cell` with
    ``chained``), so a write reaches every cell on its column, and only the row whose field
    line is biased (its write slot) integrates it; the others sit at H = 0, where the gate
    closes.  The driver's compliance covers the column's tracks in series.  A co-simulation
    group is whole columns (``neurons`` is widened to them).
    """
    steps, n_in = inputs.shape
    n_out = mapping.g_pos_s.shape[0]
    if mapping.g_pos_s.shape[1] != n_in + 1:
        raise ModelParameterError(f"{n_in} input rows but the mapping has {mapping.g_pos_s.shape[1] - 1}")
    n_rows, n_cols = options.array_shape(n_out)
    free = options.access_free
    need = n_rows if options.multiplexed else 1
    n_sub = need if n_sub is None else int(n_sub)
    if n_sub < need:
        raise ModelParameterError(f"{n_sub} write slots per network slot for {need} array rows")
    if n_sub > 1 and getattr(cell, "one_slot_per_step", False):
        raise ModelParameterError(
            f"the {cell.model} cell samples its membrane once per write slot: it cannot share a network "
            f"slot of {n_sub} write slots: use --schedule all"
        )
    t_stop = steps * n_sub * slot.period_s if t_stop_s is None else float(t_stop_s)
    i_unit = float(cell.drive_current(slot.replace(amplitude=u_unit)).amplitude)
    drive = mapping.drive(inputs) if drive is None else np.asarray(drive, float)
    if drive.shape != (steps, n_out):
        raise ModelParameterError(f"drive of shape {drive.shape}: the layer needs {(steps, n_out)}")
    drive_limit = layer_drive_limit(cell, i_unit, n_out, options, drive_limit)
    clipped, raw_drive = 0, drive
    if drive_limit is not None:
        clipped = int((np.abs(drive) > drive_limit).sum())
        drive = np.clip(drive, -drive_limit, drive_limit)
    peak = float(np.max(np.abs(drive), initial=0.0)) * i_unit
    cell, sizing = size_for_current(cell, peak, cells_in_series=n_rows if free else 1)
    if drive_limit is not None:
        sizing |= {"drive_limit_a": drive_limit * i_unit, "drives_clipped": clipped, "drives": drive.size}
    template, inst = _cell_template(cell, slot, t_stop)
    gain = i_unit / (mapping.g_per_weight_s * options.v_read_v)
    chosen = list(range(n_out)) if neurons is None else sorted({int(j) for j in neurons})
    if not chosen or chosen[0] < 0 or chosen[-1] >= n_out:
        raise ModelParameterError(f"neurons {neurons!r}: choose indices in 0..{n_out - 1}")
    if free:  # a series write line is built whole
        chosen = sorted({i for j in chosen for i in range(j % n_cols, n_out, n_cols)})
        if not isinstance(cell, SteeredCell) or "vfl" not in inst.conns:
            raise ModelParameterError(
                f"the access-transistor-free array selects rows by their field lines: the {cell.model} "
                "cell has none (use --neuron field-gated-lif, or --schedule rows for 1T cells)"
            )
        chain_sub = steered_cell(cell, chained=True)
    # supplies and other shared sources of the single-cell testbench, minus its write source
    shared = [e for e in template.elements if not isinstance(e, (Instance, CurrentSource))]
    field_row = "vfl" in inst.conns
    elements: list[Element] = []
    if field_row:
        base = next(e for e in shared if isinstance(e, VoltageSource) and e.p == "vfl")
        shared = [e for e in shared if e is not base]
        for r in range(n_rows):
            # row by row: the row's field line is biased only during its write slots (edges
            # inside the OFF part), so unselected rows sit at H = 0, where the gate inhibits
            wave = _window_pwl(steps, n_sub, r, slot, base.dc_v) if options.multiplexed else None
            elements.append(
                dataclasses.replace(
                    base,
                    name=f"{base.name}_row{r}",
                    p=f"vfl_row{r}",
                    dc_v=0.0 if wave else base.dc_v,
                    wave=wave,
                )
            )
    if options.multiplexed:
        # row select: 1 V during the row's write slots (the shared column drivers serve it)
        elements += [
            VoltageSource(
                f"sel_row{r}", f"sel_row{r}", "0", 0.0, wave=_window_pwl(steps, n_sub, r, slot, 1.0)
            )
            for r in range(n_rows)
        ]
    elements += shared
    # bipolar write drivers: a positive write current comes from VDD_w, a negative one (an
    # inhibitory drive pulling the wall back) is sunk into VSS_w = -VDD_w, so the drivers'
    # energy is VDD_w |I| either way (one supply cannot absorb what another neuron draws)
    vdd_w = next((e for e in shared if isinstance(e, VoltageSource) and e.p == "vdd_w"), None)
    if vdd_w is None:
        raise ModelParameterError(f"the {cell.model} cell testbench has no write supply vdd_w")
    elements.append(VoltageSource("ss_w", "vss_w", "0", -vdd_w.dc_v))
    # input drivers: one PWL source per row, and the bias row
    rows_info = []
    read_slots = {"subslots": range(n_rows if options.multiplexed else 1), "n_sub": n_sub}
    if stepped and latched_inputs:
        raise ModelParameterError("a stepped layer has no row drivers to latch inputs into")
    if latched_inputs:
        # the read clock: a unit pulse in every write slot; row i = V_read * qin<i> * clock
        elements.append(
            VoltageSource("rclk", "rclk", "0", 0.0, wave=slot_pwl([1.0] * steps, slot, 1.0, **read_slots))
        )
    for i in range(0 if stepped else n_in):
        if latched_inputs:
            read = options.v_read_v * node_voltage(f"qin{i}") * node_voltage("rclk")
            elements.append(BehavioralVoltage(f"rd{i}", f"rd{i}", "0", read))
            elements.append(VoltageSource(f"in{i}", f"row{i}", f"rd{i}", 0.0))
        else:
            wave = slot_pwl(inputs[:, i], slot, options.v_read_v, **read_slots)
            elements.append(VoltageSource(f"in{i}", f"row{i}", "0", 0.0, wave=wave))
        rows_info.append(
            {
                "row": i,
                "node": f"row{i}",
                "source": f"in{i}",
                "active_slots": int(np.count_nonzero(inputs[:, i])),
            }
        )
    if not stepped:
        elements.append(
            VoltageSource(
                "bias",
                f"row{n_in}",
                "0",
                0.0,
                wave=slot_pwl([True] * steps, slot, options.v_read_v, **read_slots),
            )
        )
    rows_info.append({"row": n_in, "node": f"row{n_in}", "source": "bias", "bias": True})
    # crossbar tiles (a subset of neurons: runs of consecutive chosen columns, split at tiles)
    tiles, t = [], options.tile
    sense: dict[int, list[tuple[str, str]]] = {j: [] for j in chosen}

    def synapses(rows: Sequence[int]) -> np.ndarray:
        """(rows, n_in + 1) bool: the synapses that exist (the bias row always)."""
        m = np.ones((len(rows), n_in + 1), dtype=bool)
        if weight_mask is not None:
            m[:, :n_in] = weight_mask[rows]
        return m

    n_pairs = int(synapses(chosen).sum())
    # the whole layer's only where a crossbar is built (a convolution's is large)
    mask = synapses(range(n_out)) if not stepped else None
    runs: list[tuple[int, int]] = []
    for j in chosen:
        if runs and runs[-1][1] == j and (j % t) != 0:
            runs[-1] = (runs[-1][0], j + 1)
        else:
            runs.append((j, j + 1))
    for r0 in range(0, 0 if mask is None else n_in + 1, t):
        for c0, c1 in runs:
            assert mask is not None
            rs, cs = slice(r0, min(r0 + t, n_in + 1)), slice(c0, c1)
            sub = crossbar_tile(
                mapping.g_pos_s[cs, rs],
                mapping.g_neg_s[cs, rs],
                mask[cs, rs],
                options.r_wire_ohm,
                options.c_wire_f,
            )
            name = f"xb_r{r0}_c{c0}"
            conns = []
            cols = range(cs.start, cs.stop)
            conns += [f"row{i}" for i in range(rs.start, rs.stop)]
            conns += [f"{name}_p{j}" for j in cols]
            conns += [f"{name}_n{j}" for j in cols]
            elements.append(Instance(name, sub, tuple(conns)))
            for j in cols:
                elements.append(VoltageSource(f"sp_{name}_{j}", f"{name}_p{j}", "0", 0.0))
                elements.append(VoltageSource(f"sn_{name}_{j}", f"{name}_n{j}", "0", 0.0))
                sense[j].append((f"sp_{name}_{j}", f"sn_{name}_{j}"))
            pairs = int(mask[cs, rs].sum())
            tiles.append(
                {
                    "instance": name,
                    "rows": [rs.start, rs.stop],
                    "columns": [cs.start, cs.stop],
                    "pairs": pairs,
                }
            )
    # write drivers and neurons
    neurons = []
    state_key = cell.state_plot()[0]
    state_probe = next(
        (p for p in template.probes if p.key == state_key and p.path[0] == "cell" and p.kind == "v"), None
    )
    ics: list[tuple[tuple[str, ...], float]] = []
    probes: list[Probe] = []
    column_net = {
        j: sum((branch_current(p) - branch_current(n) for p, n in sense[j]), start=0) for j in chosen
    }
    i_limit = None if drive_limit is None else drive_limit * i_unit
    columns: dict[int, list[int]] = {}
    for j in chosen:
        columns.setdefault(j % n_cols, []).append(j)
    if options.multiplexed and not stepped:
        # one write driver per array column, carrying in row r's write slots the crossbar current
        # of neuron (r, c); 1T: a select switch per cell (conductance G_on V(sel)/1 V + G_off, the
        # access transistor of a 1T cell) connects the shared column line to that neuron only;
        # access-transistor-free: the column line runs through all its cells in series
        for c, served in columns.items():
            current = sum((node_voltage(f"sel_row{j // n_cols}") * column_net[j] for j in served), start=0)
            elements += _bipolar(f"wc{c}", f"wcol{c}", _limited(gain * current, i_limit))
    elif free:
        # the torch MAC's write current of neuron (r, c) in write slot r, on column line c
        for c, served in columns.items():
            levels = np.zeros((steps, n_sub))
            for j in served:
                levels[:, j // n_cols] = drive[:, j]
            for name, part, a, b in (
                ("wc", levels, "vdd_w", f"wcol{c}"),
                ("wc_n", -levels, f"wcol{c}", "vss_w"),
            ):
                if (part > 0).any():
                    wave = slot_pwl(np.maximum(part, 0.0).reshape(-1), slot, i_unit)
                    elements.append(CurrentSource(f"{name}{c}", a, b, 0.0, wave=wave))
    for j in chosen:
        r, c = divmod(j, n_cols)
        win, spk = f"win{j}", f"spk{j}"
        if free:
            line = columns[c]
            k = line.index(j)
            win = f"wcol{c}" if k == 0 else f"wch{c}_{k}"
            wout = f"wch{c}_{k + 1}" if k + 1 < len(line) else "0"
            elements.append(Capacitor(f"cl_{win}", win, "0", C_LINE_F))
        elif stepped:
            # the torch MAC's write current, in the neuron's own write slot (row r when row by row)
            when = {"subslots": (r if options.multiplexed else 0,), "n_sub": n_sub}
            # clipped as the write driver clips: the instantaneous current of the trapezoid
            pos, neg = np.maximum(raw_drive[:, j], 0.0), np.maximum(-raw_drive[:, j], 0.0)
            when |= {"limit": None if i_limit is None else abs(i_limit)}
            wave = slot_pwl(pos, slot, i_unit, **when)
            elements.append(CurrentSource(f"wr{j}", "vdd_w", win, 0.0, wave=wave))
            if neg.any():
                wave = slot_pwl(neg, slot, i_unit, **when)
                elements.append(CurrentSource(f"wr{j}_n", win, "vss_w", 0.0, wave=wave))
        elif options.multiplexed:
            g_switch = SELECT_G_OFF_S + SELECT_G_ON_S * node_voltage(f"sel_row{r}")
            elements.append(
                BehavioralCurrent(f"sw{j}", f"wcol{c}", win, g_switch * node_voltage(f"wcol{c}", win))
            )
        else:
            elements += _bipolar(f"wr{j}", win, _limited(gain * column_net[j], i_limit))
        sub = chain_sub if free else inst.subckt
        nets = {"win": win, "spike": spk, "vfl": f"vfl_row{r}", **({"wout": wout} if free else {})}
        if noise is not None:
            if "nz" not in sub.ports:
                raise ModelParameterError(
                    f"the {cell.model} cell has no noise input: it takes no velocity factors"
                )
            nets["nz"] = f"nz{j}"
            factors = Stimulus("nz", n_sub * slot.period_s, tuple(float(v) for v in noise[:, j]))
            elements.append(VoltageSource(f"noise{j}", f"nz{j}", "0", 1.0, wave=Pwl(factors.pwl_points())))
        elements.append(Instance(f"n{j}", sub, tuple(nets.get(port, port) for port in sub.ports)))
        for path, v in template.initial_conditions:
            if path[0] == "cell":
                ics.append(((f"n{j}", *path[1:]), v))
        probes.append(Probe(f"spike{j}", "v", (spk,), "V", f"comparator output of neuron {j}"))
        if options.multiplexed and not (traced is None or j in traced) and state_probe is not None:
            # the state of every cell of a row-by-row array (its half-select disturbance)
            probes.append(
                dataclasses.replace(
                    state_probe, key=f"{state_probe.key}{j}", path=(f"n{j}", *state_probe.path[1:])
                )
            )
        if traced is None or j in traced:
            probes += [
                dataclasses.replace(
                    p, key=f"{p.key}{j}", path=(f"n{j}", *p.path[1:]), doc=f"{p.doc} (neuron {j})"
                )
                for p in template.probes
                if p.path[0] == "cell" and p.kind == "v"
            ]
            probes.append(Probe(f"v_win{j}", "v", (win,), "V", f"write input node of neuron {j}"))
        neurons.append(
            {
                "neuron": j,
                "array_row": r,
                "array_col": c,
                "instance": f"n{j}",
                "spike_node": spk,
                "input_node": win,
                "write_driver": f"wc{c}" if options.multiplexed else f"wr{j}",
                **({"select_switch": f"sw{j}"} if options.multiplexed and not (stepped or free) else {}),
                **(
                    {"write_line": f"column {c}, cell {columns[c].index(j)} of {len(columns[c])}"}
                    if free
                    else {}
                ),
            }
        )
    groups = None if pool_groups is None else tuple(tuple(int(j) for j in g) for g in pool_groups)
    if groups is not None and len(chosen) == n_out and output_latch is None:
        output_latch = 0.0  # a pooled layer's outputs are latched even in a layer netlist
    if output_latch is not None:
        if len(chosen) != n_out:
            raise ModelParameterError("an output latch needs the whole layer (neurons=None)")
        elements += spike_latch(n_out, n_sub * slot.period_s, output_latch, cell.spike_level_v(), groups)
        if groups is not None:
            probes += [
                Probe(f"pool{i}", "v", (f"qout{i}",), "V", f"latched max-pool output {i}: OR of neurons {g}")
                for i, g in enumerate(groups)
            ]
    if row_probes and not stepped:
        sources = [*(f"in{i}" for i in range(n_in)), "bias"]
        probes += [Probe(f"i_{n}", "i", (n,), "A", f"row driver {n} current") for n in sources]
    supply_names = [name for _, name in template.supplies if not (field_row and name == "dd_fl")]
    supply_names += [f"dd_fl_row{r}" for r in range(n_rows)] if field_row else []
    supply_names.append("ss_w")
    comp = {name: c for c, name in template.supplies} | {"ss_w": "write_driver"}
    supply_map = tuple((comp.get(n, "field_line"), n) for n in supply_names)
    probes += [Probe(f"i_{n}", "i", (n,), "A", f"supply {n} current") for n in supply_names]
    tb = Testbench(
        title=title,
        elements=tuple(elements),
        analysis=dataclasses.replace(template.analysis, t_stop_s=t_stop),
        probes=tuple(probes),
        initial_conditions=tuple(ics),
        options=template.options,
        supplies=supply_map,
        printed=tuple(f"spike{j}" for j in chosen[:8]),
    )
    return LayerCircuit(
        tb,
        chain_sub if free else inst.subckt,
        tuple(tiles),
        tuple(neurons),
        tuple(rows_info),
        gain,
        i_unit,
        n_pairs,
        sizing,
        cell,
        slot_s=n_sub * slot.period_s,
        write_slot_s=slot.period_s,
        schedule=options.schedule,
        n_write_drivers=min(n_cols, n_out) if options.multiplexed else n_out,
        n_select_devices=n_out if options.schedule == "rows" else 0,
        n_field_line_drivers=n_rows if field_row else 0,
        cells_in_series=n_rows if free else 1,
        state_key=None if state_probe is None else state_key,
        array_shape=(n_rows, n_cols),
        pulse=slot,
        pool_groups=groups if output_latch is not None else None,
    )
