r"""The ideal LIF neuron (snnTorch ``Leaky``) as a clocked circuit, step for step.

The continuous RC cell :class:`~spinspice.circuits.library.LIFCell` resets by a comparator
the moment its membrane crosses the threshold; the discrete network neuron
(:func:`~spinspice.models.lif.lif_step`) instead compares once per time step and resets
in the *next* step (snnTorch's ``reset_delay``).  This cell realises the discrete step
exactly (docs/netlists.md, "Ideal-LIF layers")::

    win --(0 V sense)-- mem --+-- C --- gnd        membrane: C dV/dt = -V/R + I(t)
                              +-- R --- gnd        R C = tau = -P / ln(beta)
                              +-- reset (Q_{t-1})  subtract: -u_thr units in the write window
                              |                    zero: a switch to gnd before the write window
                              '-- adc(V > V_thr) -- d_dff (sample clock) -- Q -- dac -- q
    spike = v_logic * V(q) * window after each sample

* Between two samples one period ``P`` apart the held charge decays by exactly
  ``exp(-P/tau) = beta``.
* The write driver delivers the crossbar's MAC during the write window of slot ``t`` (the
  trapezoid of :func:`~spinspice.circuits.network.slot_pwl`); one input unit is the current
  ``I_unit = C v_unit / K`` (:func:`~spinspice.models.lif.pulse_weight_s`), so it adds exactly
  ``v_unit`` to the membrane at the sample instant ``t_s`` (``t_sample_s`` after the window).
* An XSPICE ``adc_bridge`` (both thresholds at ``V_thr = u_thr v_unit``: ``V > V_thr``)
  feeds a ``d_dff`` clocked at every sample instant; its output ``Q_t`` holds from sample
  ``t`` to sample ``t + 1`` = ``H(U[t] - U_thr)``.
* The spike output is ``Q`` AND a window of ``t_spike_s`` just after each sample, so every
  spike has its own rising edge, in the slot of its step.
* Reset (``reset[t+1] = Q_t``): by subtraction, a current pulse of ``-u_thr`` units of the
  write window's shape in slot ``t + 1`` (``-u_thr v_unit`` at the next sample); to zero, a
  switch of ``g_zero_s`` that empties C during ``t_zero_s`` at the start of slot ``t + 1``,
  before that slot's write window (which starts ``t_zero_s + t_zero_gap_s`` into the slot).

Together: ``U[t+1] = beta U[t] + x[t+1] - Q_t u_thr`` (or ``beta (1 - Q_t) U[t] + x[t+1]``)
at the samples, ``spike[t] = Q_t``: :func:`~spinspice.models.lif.lif_step`.  The cell is
behavioural (ideal current sources, XSPICE logic): the energies it reports are the write
driver's and the subtraction reset's supply energies.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from spinspice.circuits.cell import SUPPLY_COMPONENTS, pulse_source, supply_probes
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
    Resistor,
    Subckt,
    Testbench,
    Transient,
    VoltageSource,
    generator,
    stable_hash,
)
from spinspice.errors import ModelParameterError
from spinspice.models.expr import node_voltage
from spinspice.models.lif import LIFParams, pulse_weight_s
from spinspice.models.params import ParamSet, param
from spinspice.models.waveforms import PulseTrain

__all__ = ["ClockedLIFCell", "LIFClockParams", "clocked_lif_cell"]

CHOICE = "modelling choice (docs/netlists.md, Ideal-LIF layers)"
#: delay from a sample instant to the spike window: the ADC, flip-flop (1 ps each) and the
#: 10 ps DAC edge have settled
SPIKE_DELAY_S = 20e-12
#: edge of the sample clock [s]
CLOCK_EDGE_S = 1e-12


@dataclasses.dataclass(frozen=True)
class LIFClockParams(ParamSet):
    """Timing and rails of the clocked ideal-LIF cell (one network step = ``slot_s``)."""

    title = "clocked ideal-LIF circuit"

    t_write_s: float = param(
        1e-9,
        unit="s",
        desc="write window (charge-equivalent width of the input current pulse)",
        source="SPEC 4 (one step = one write slot, 1 ns write pulses as the DW-LIF)",
        lo=0.0,
        lo_open=True,
    )
    t_edge_s: float = param(
        10e-12, unit="s", desc="rise/fall time of the write, reset and window pulses", source=CHOICE, lo=1e-13
    )
    t_sample_s: float = param(
        50e-12,
        unit="s",
        desc="sample instant after the end of the write window",
        source=CHOICE,
        lo=0.0,
        lo_open=True,
    )
    t_spike_s: float = param(
        200e-12, unit="s", desc="width of a spike output pulse", source=CHOICE, lo=0.0, lo_open=True
    )
    t_zero_s: float = param(
        200e-12,
        unit="s",
        desc="zero reset: discharge window at the start of the slot",
        source=CHOICE,
        lo=0.0,
        lo_open=True,
    )
    t_zero_gap_s: float = param(
        50e-12,
        unit="s",
        desc="zero reset: gap between the discharge window and the write window",
        source=CHOICE,
        lo=0.0,
    )
    g_zero_s: float = param(
        20e-3,
        unit="S",
        desc="zero reset: conductance of the discharge switch (C/g = 5 ps at 100 fF)",
        source=CHOICE,
        lo=0.0,
        lo_open=True,
    )
    v_logic_v: float = param(
        1.0, unit="V", desc="logic level of the latch, the gates and the spike output", source=CHOICE, lo=0.1
    )
    v_dd_write_v: float = param(
        1.0,
        unit="V",
        desc="write-driver supply (and -: the reset sink rail); sets the reported energy",
        source="modelling choice (the DW-LIF cell's write supply)",
        lo=0.0,
        lo_open=True,
    )

    def _check(self) -> None:
        if self.t_edge_s >= self.t_write_s:
            raise ModelParameterError(
                f"t_edge_s = {self.t_edge_s:g} s must be shorter than t_write_s = {self.t_write_s:g} s"
            )


@dataclasses.dataclass(frozen=True)
class ClockedLIFCell(CellParams):
    """Ideal LIF as a clocked circuit reproducing :func:`~spinspice.models.lif.lif_step`."""

    model: ClassVar[str] = "lif"
    drive_quantity: ClassVar[str] = "i"
    #: a behavioural circuit of the software neuron (no device): reports say so
    circuit_kind: ClassVar[str] = "ideal-LIF (behavioural clocked RC membrane)"
    #: samples once per write slot: no row-by-row schedule (layer_testbench refuses it)
    one_slot_per_step: ClassVar[bool] = True

    lif: LIFParams = dataclasses.field(default_factory=LIFParams)
    clock: LIFClockParams = dataclasses.field(default_factory=LIFClockParams)

    def __post_init__(self) -> None:
        super().__post_init__()
        end = self.sample_s + SPIKE_DELAY_S + self.clock.t_spike_s + 2 * self.clock.t_edge_s
        if end >= self.lif.slot_s:
            raise ModelParameterError(
                f"the clocked LIF slot {self.lif.slot_s:g} s is too short: write window, sample and spike "
                f"window end at {end:g} s; shorten t_write_s or lengthen slot_s"
            )

    # -- timing ----------------------------------------------------------------------------
    @property
    def t_delay_s(self) -> float:
        """Start of the write window in its slot (after the zero-reset window, if any)."""
        c = self.clock
        return 0.0 if self.lif.reset_subtract else c.t_zero_s + c.t_zero_gap_s

    @property
    def sample_s(self) -> float:
        """Sample instant in its slot [s]."""
        c = self.clock
        return self.t_delay_s + c.t_write_s + c.t_edge_s + c.t_sample_s

    @property
    def k_s(self) -> float:
        """``K`` of :func:`~spinspice.models.lif.pulse_weight_s` for this timing [s]."""
        c = self.clock
        return pulse_weight_s(c.t_edge_s, c.t_write_s, c.t_sample_s, self.lif.tau_s)

    @property
    def i_unit_a(self) -> float:
        """Write current of one input unit: adds ``v_unit`` at the sample, ``C v_unit / K``."""
        return self.lif.c_mem_f * self.lif.v_unit_v / self.k_s

    def network_drive(self) -> PulseTrain:
        """The write slot of one network step, amplitude one input unit [A]."""
        c = self.clock
        return PulseTrain(
            t_on_s=c.t_write_s,
            t_off_s=self.lif.slot_s - c.t_write_s,
            amplitude=self.i_unit_a,
            t_edge_s=c.t_edge_s,
            t_delay_s=self.t_delay_s,
        )

    # -- CellParams --------------------------------------------------------------------------
    def default_drive(self) -> PulseTrain:
        return self.network_drive()

    def default_duration_s(self, drive: PulseTrain) -> float:
        return 20.0 * drive.period_s

    def drive_current(self, drive: PulseTrain) -> PulseTrain:
        return drive

    def spike_level_v(self) -> float:
        return 0.5 * self.clock.v_logic_v

    def thresholds_v(self) -> tuple[float, float]:
        return self.lif.v_thr_v, self.lif.v_thr_v

    def state_plot(self) -> tuple[str, str, str, float | None]:
        return "v_mem", "v", "membrane V (V)", self.lif.v_thr_v

    def check(self, i_write_a: float) -> None:
        """No current-dependent design check: the write driver is an ideal current source."""

    def dynamics(self, drive: PulseTrain, *, stimulus: Stimulus | None = None) -> Any:
        raise NotImplementedError(
            "the clocked ideal-LIF cell has no continuous reference dynamics: its reference is "
            "spinspice.models.lif.lif_step, step by step"
        )

    def timing_sources(self, slot: PulseTrain) -> tuple[VoltageSource, ...]:
        """The shared clock and windows (0/1 V) of every cell, aligned to the write pulses of
        ``slot`` (its ``t_delay_s`` may carry a layer's skew)."""
        c, period = self.clock, slot.period_s
        v = c.v_logic_v
        t_sample = slot.t_delay_s + c.t_write_s + c.t_edge_s + c.t_sample_s
        out = [
            VoltageSource(
                "lclk",
                "lclk",
                "0",
                0.0,
                wave=Pulse(0.0, v, t_sample, CLOCK_EDGE_S, CLOCK_EDGE_S, 5 * CLOCK_EDGE_S, period),
            ),
            VoltageSource(
                "lswin",
                "lswin",
                "0",
                0.0,
                wave=Pulse(0.0, 1.0, t_sample + SPIKE_DELAY_S, c.t_edge_s, c.t_edge_s, c.t_spike_s, period),
            ),
        ]
        if self.lif.reset_subtract:
            # the write window's own shape: -u_thr units at the next sample
            shape = pulse_source(slot.replace(amplitude=1.0))
            out.append(VoltageSource("lrst", "lrst", "0", 0.0, wave=shape))
        else:
            start = slot.t_delay_s - c.t_zero_gap_s - c.t_zero_s + period  # before slot 1's write
            pw = c.t_zero_s - 2 * c.t_edge_s
            out.append(
                VoltageSource(
                    "lzw", "lzw", "0", 0.0, wave=Pulse(0.0, 1.0, start, c.t_edge_s, c.t_edge_s, pw, period)
                )
            )
        return tuple(out)

    def cell_ports(self) -> tuple[str, ...]:
        reset = ("lrst", "vss_r") if self.lif.reset_subtract else ("lzw",)
        return ("win", "spike", "lclk", "lswin", *reset)

    def testbench(self, drive: PulseTrain, t_stop_s: float, *, stimulus: Stimulus | None = None) -> Testbench:
        """The cell under ``drive`` (a positive write current in every slot), with its clock,
        windows and supplies; a network layer keeps everything but the write source."""
        if not t_stop_s > 0:
            raise ModelParameterError(f"duration {t_stop_s:g} s must be > 0")
        if abs(drive.period_s - self.lif.slot_s) > 1e-6 * self.lif.slot_s:
            raise ModelParameterError(
                f"the clocked LIF cell samples once per slot_s = {self.lif.slot_s:g} s; the drive's period "
                f"is {drive.period_s:g} s (one write slot per network step: no row-by-row schedule)"
            )
        c = self.clock
        supplies = (
            VoltageSource("dd_w", "vdd_w", "0", c.v_dd_write_v),
            *((VoltageSource("ss_r", "vss_r", "0", -c.v_dd_write_v),) if self.lif.reset_subtract else ()),
        )
        elements = (
            *supplies,
            *self.timing_sources(drive),
            CurrentSource("write", "vdd_w", "win", wave=pulse_source(drive)),
            Instance("cell", clocked_lif_cell(self), self.cell_ports()),
        )
        tmax = min(c.t_write_s, self.lif.slot_s - c.t_write_s) / 10
        probes = (
            Probe("spike", "v", ("spike",), "V", "spike output (Q AND the window after each sample)"),
            Probe("v_mem", "v", ("cell", "mem"), "V", "membrane voltage"),
            Probe("q", "v", ("cell", "q"), "V", "latched comparator output Q (0/1)"),
            Probe("v_win", "v", ("win",), "V", "write input node"),
            Probe("i_in", "i", ("cell", "in_sense"), "A", "write current into the membrane"),
            *supply_probes(supplies),
        )
        return Testbench(
            title=f"spinspice clocked ideal-LIF cell, {drive.frequency_hz:.4g} Hz slots",
            elements=elements,
            analysis=Transient(t_stop_s=t_stop_s, t_step_s=tmax / 5, t_max_s=tmax, uic=True),
            probes=probes,
            initial_conditions=((("cell", "mem"), 0.0),),
            options=(("reltol", 1e-7), ("method", "gear")),
            supplies=tuple((SUPPLY_COMPONENTS[e.name], e.name) for e in supplies),
            printed=("spike", "v_mem"),
        )

    def describe_circuit(self) -> dict[str, Any]:
        """What manifests and reports record of the circuit (units in the keys)."""
        return {
            "kind": self.circuit_kind,
            "tau_s": self.lif.tau_s,
            "r_leak_ohm": self.lif.r_leak_ohm,
            "c_mem_f": self.lif.c_mem_f,
            "v_thr_v": self.lif.v_thr_v,
            "k_s": self.k_s,
            "i_unit_a": self.i_unit_a,
            "sample_s": self.sample_s,
            "reset": "subtract" if self.lif.reset_subtract else "zero",
        }


def _logic_cards(cell: ClockedLIFCell) -> dict[str, CodeModelCard]:
    v_thr, v = cell.lif.v_thr_v, cell.clock.v_logic_v
    delays = ("clk_delay", "set_delay", "reset_delay", "rise_delay", "fall_delay")
    return {
        "cmp": CodeModelCard(
            f"lif_cmp_{stable_hash(v_thr)}",
            "adc_bridge",
            (("in_low", v_thr), ("in_high", v_thr), ("rise_delay", 1e-12), ("fall_delay", 1e-12)),
            doc=f"membrane comparator V > {v_thr:g} V (the threshold)",
        ),
        "clk": CodeModelCard(
            f"lif_clk_{stable_hash(v)}",
            "adc_bridge",
            (("in_low", 0.4 * v), ("in_high", 0.6 * v), ("rise_delay", 1e-12), ("fall_delay", 1e-12)),
            doc="sample clock -> logic",
        ),
        "dff": CodeModelCard("lif_dff", "d_dff", (*((k, 1e-12) for k in delays), ("ic", 0.0))),
        "dac": CodeModelCard(
            "lif_dac",
            "dac_bridge",
            (("out_low", 0.0), ("out_high", 1.0), ("t_rise", 10e-12), ("t_fall", 10e-12)),
        ),
        "zero": CodeModelCard("logic_zero", "d_pulldown", (("load", 0.0),)),
    }


@generator
def clocked_lif_cell(cell: ClockedLIFCell) -> Subckt:
    """The clocked ideal-LIF cell: ports :meth:`ClockedLIFCell.cell_ports` (write input, spike
    output, the shared sample clock and windows, the reset rail)."""
    p, c = cell.lif, cell.clock
    cards = _logic_cards(cell)
    q = node_voltage("q")
    elements: list[Element] = [
        VoltageSource("in_sense", "win", "mem", 0.0),
        Capacitor("cm", "mem", "0", p.c_mem_f),
        Resistor("leak", "mem", "0", p.r_leak_ohm),
        CodeModel("zero", ("l_zero",), cards["zero"]),
        CodeModel("cmp", (("mem",), ("d_mem",)), cards["cmp"]),
        CodeModel("clk", (("lclk",), ("d_clk",)), cards["clk"]),
        CodeModel("ff", ("d_mem", "d_clk", "l_zero", "l_zero", "d_q", "d_nq"), cards["dff"]),
        CodeModel("dac", (("d_q",), ("q",)), cards["dac"]),
        BehavioralVoltage("spk", "spike", "0", c.v_logic_v * q * node_voltage("lswin")),
    ]
    if p.reset_subtract:
        i_reset = p.u_thr * cell.i_unit_a
        elements.append(BehavioralCurrent("rst", "mem", "vss_r", i_reset * q * node_voltage("lrst")))
    else:
        g = c.g_zero_s * q * node_voltage("lzw") * node_voltage("mem")
        elements.append(BehavioralCurrent("zr", "mem", "0", g))
    return Subckt(
        name=f"spinspice_lif_clocked_{stable_hash(cell)}",
        ports=cell.cell_ports(),
        elements=tuple(elements),
        doc=(
            f"clocked ideal-LIF cell (spinspice.circuits.clocked_lif): C = {p.c_mem_f:g} F, "
            f"R = {p.r_leak_ohm:.6g} ohm (beta = {p.beta:g} per {p.slot_s:g} s), V_thr = {p.v_thr_v:g} V, "
            f"reset {'by subtraction' if p.reset_subtract else 'to zero'}, I_unit = {cell.i_unit_a:.6g} A"
        ),
    )
