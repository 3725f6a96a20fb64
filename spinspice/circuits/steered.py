"""Generic behavioural neuron cell for the device library.

Used by every model that has no transistor-level cell of its own (SAF-LIF,
DW-MTJ auto-reset, ideal LIF, the field-gated mem-transistor): the device
subcircuit, optional input steering, an optional reset current sink, an
optional read-out network and the hysteretic comparator
(:mod:`spinspice.circuits.comparator`, with its CMOS output inverters).

Steering and reset are behavioural elements gated by the comparator output
``fire = V(spike)/V(vdd_c)`` (0 idle, 1 firing):

* input steering: ``pass`` (win -> t1) and ``dump`` (win -> gnd) are
  conductances ``1/r_switch_on_ohm`` switched by ``1 - fire`` and ``fire``
  (they always sum to one conductance, so the input never floats and needs
  no parasitic capacitor -- which a capacitive membrane would also charge);
  unlike NMOS switches on the logic rail they pass any device voltage (a lab
  Hall bar develops volts), and they draw no supply energy;
* reset sink: an ideal current ``i_reset fire`` pulled from T1 to a negative
  reset rail (T2 grounded), i.e. a current T2 -> T1 as a source-measure unit
  would apply; its rail supplies the reset energy.

The scipy reference uses the same rule with ``fire`` switching at the
comparator decision, so cell and reference agree to the inverter delay.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar

from spinspice.circuits.cell import (
    SUPPLY_COMPONENTS,
    InputDriverParams,
    default_max_step_s,
    pulse_source,
    supply_probes,
)
from spinspice.circuits.cellbase import CellParams, Stimulus
from spinspice.circuits.cmos import CmosParams
from spinspice.circuits.comparator import ComparatorParams, comparator
from spinspice.circuits.core import (
    BehavioralCurrent,
    CurrentSource,
    Element,
    Instance,
    Probe,
    Pwl,
    Subckt,
    Testbench,
    Transient,
    VoltageSource,
    generator,
    stable_hash,
)
from spinspice.errors import ModelParameterError
from spinspice.models.expr import node_voltage
from spinspice.models.params import ParamSet, param
from spinspice.models.schmitt import sharp_step
from spinspice.models.waveforms import PulseTrain

__all__ = ["FIRE_STEP", "ReadBiasParams", "ResetSinkParams", "SteeredCell", "steered_cell"]

#: width (in units of V_dd) of the firing gate's step around V_dd/2
FIRE_STEP = 0.02


@dataclasses.dataclass(frozen=True)
class ReadBiasParams(ParamSet):
    """Bias of an anomalous-Hall read-out (its energy shows as ``read_bias``)."""

    title = "Hall read bias"

    v_read_bias_v: float = param(
        0.1,
        unit="V",
        desc="read bias across the Hall bar",
        source="modelling choice (0.1 mA through 1 kohm)",
        lo=0.0,
        lo_open=True,
        hi=20.0,
    )
    r_read_bias_ohm: float = param(
        1e3, unit="ohm", desc="resistance of the read path", source="modelling choice", lo=0.0, lo_open=True
    )
    preamp_gain: float = param(
        1000.0,
        unit="1",
        desc="gain of the read preamplifier before the comparator",
        source="paper 001/002 (uV Hall signals read by an op-amp); modelling choice",
        lo=1.0,
        hi=1e6,
    )


@dataclasses.dataclass(frozen=True)
class ResetSinkParams(ParamSet):
    """Rail of the ideal reset current sink."""

    title = "reset current sink"

    v_ss_reset_v: float = param(
        -10.0,
        unit="V",
        desc="negative rail of the reset sink",
        source="modelling choice (lab source-measure unit)",
        lo=-50.0,
        hi=0.0,
        hi_open=True,
    )


class SteeredCell(CellParams, abc.ABC):
    """Base of the behavioural cells; subclasses describe their device."""

    #: steer the input away while firing
    steer_input: ClassVar[bool] = True
    #: pull a reset current T2 -> T1 while firing
    reset_sink: ClassVar[bool] = False

    # groups every steered cell has (declared as fields by the subclasses)
    comparator: ComparatorParams
    cmos: CmosParams
    drivers: InputDriverParams

    # -- what a subclass provides ------------------------------------------------------
    @abc.abstractmethod
    def device_subckt(self) -> Subckt:
        """The device subcircuit."""

    @abc.abstractmethod
    def device_ports(self) -> tuple[str, ...]:
        """Cell nets the device ports connect to; the driven terminal is ``t1``."""

    @abc.abstractmethod
    def comparator_node(self) -> str:
        """Cell net the comparator watches."""

    @abc.abstractmethod
    def state_probes(self) -> tuple[Probe, ...]:
        """Probes of the device states (for plots and diagnostics)."""

    @abc.abstractmethod
    def initial_conditions(self) -> tuple[tuple[tuple[str, ...], float], ...]:
        """Initial device states, as (path below the cell instance, value)."""

    def chained_device_ports(self) -> tuple[str, ...]:
        """:meth:`device_ports` with the track's far end T2 on the cell's ``wout`` port (a cell on
        a series write line); cells without field gating have none (every cell on the line
        would integrate the write)."""
        raise ModelParameterError(
            f"the {self.model} cell has no field line to select it: only field-gated cells "
            "(--neuron field-gated-lif) can share a write line without access transistors"
        )

    def cell_elements(self) -> tuple[Element, ...]:
        """Read-out network, field line ... (anything besides device, steering, comparator)."""
        return ()

    def extra_cell_ports(self) -> tuple[str, ...]:
        return ()

    def top_supplies(self) -> tuple[VoltageSource, ...]:
        """Supplies besides write driver and comparator (read, field line ...)."""
        return ()

    def stimulus_elements(self, stimulus: Stimulus | None) -> tuple[Element, ...]:
        return ()

    @property
    def i_reset_a(self) -> float:
        raise ModelParameterError(f"model {self.model} has no reset sink")

    def check(self, i_write_a: float) -> None:
        """Design checks before simulating (default: none)."""

    # -- shared implementation ---------------------------------------------------------------
    def spike_level_v(self) -> float:
        return 0.5 * self.comparator.v_dd_comp_v

    def testbench(self, drive: PulseTrain, t_stop_s: float, *, stimulus: Stimulus | None = None) -> Testbench:
        if not t_stop_s > 0:
            raise ModelParameterError(f"duration {t_stop_s:g} s must be > 0")
        current = self.drive_current(drive)
        self.check(current.amplitude)
        supplies = (
            VoltageSource("dd_w", "vdd_w", "0", self.drivers.v_dd_write_v),
            VoltageSource("dd_c", "vdd_c", "0", self.comparator.v_dd_comp_v),
            *self.top_supplies(),
            *((VoltageSource("ss_r", "vss_r", "0", self.reset.v_ss_reset_v),) if self.reset_sink else ()),
        )
        ports = ("win", "vdd_c", "spike", *self.extra_cell_ports())
        elements = (
            *supplies,
            CurrentSource("write", "vdd_w", "win", wave=pulse_source(current)),
            *self.stimulus_elements(stimulus),
            Instance("cell", steered_cell(self), ports),
        )
        tmax = min(default_max_step_s(self.comparator, drive), self.max_step_s(drive))
        probes = (
            Probe("spike", "v", ("spike",), "V", "comparator output (spike)"),
            Probe("spike_b", "v", ("cell", "spkb"), "V", "comparator complementary output"),
            Probe("s_comp", "v", ("cell", "cmp", "s"), "1", "comparator core state s (fires at 1/2)"),
            Probe("v_out", "v", ("cell", self.comparator_node()), "V", "comparator input (read-out)"),
            Probe("v_win", "v", ("win",), "V", "write input node"),
            Probe("i_track", "i", ("cell", "dev", "sense"), "A", "device current T1 -> T2"),
            *(
                (Probe("i_reset", "i", ("cell", "rst_sense"), "A", "reset sink current"),)
                if self.reset_sink
                else ()
            ),
            *self.state_probes(),
            *supply_probes(supplies),
        )
        return Testbench(
            title=f"spinspice {self.model} neuron cell, {drive.frequency_hz:.4g} Hz write pulses",
            elements=elements,
            analysis=Transient(t_stop_s=t_stop_s, t_step_s=tmax / 5, t_max_s=tmax, uic=True),
            probes=probes,
            initial_conditions=(
                *((("cell", *path), v) for path, v in self.initial_conditions()),
                (("cell", "cmp", "s"), 0.0),
            ),
            options=(("reltol", 1e-5), ("method", "gear")),
            supplies=tuple((SUPPLY_COMPONENTS[e.name], e.name) for e in supplies),
            printed=("spike", "v_out"),
        )

    def fire_fraction(self) -> Any:
        """``fire`` in [0, 1]: a steep step of the comparator output around V_dd/2.

        Exactly 0 when idle and 1 when firing (a clip of V(spike)/V_dd would
        leave a trickle at 0), switching where the reference switches (the
        inverter crossing V_dd/2), and bounded: an inverter edge overshooting
        V_dd must not make ``1 - fire`` a negative pass conductance, which
        across a high-resistance track destabilises the solver.
        """
        return sharp_step(node_voltage("spike") / node_voltage("vdd_c"), FIRE_STEP)


def _pwl_from(stimulus: Stimulus) -> Pwl:
    return Pwl(stimulus.pwl_points())


@generator
def steered_cell(cell: SteeredCell, chained: bool = False) -> Subckt:
    """Behavioural cell: ports ``(win, vdd_c, spike, *cell.extra_cell_ports())``.

    ``chained``: the cell of an access-transistor-free array, one of several on a series
    write line.  Ports ``(win, wout, vdd_c, spike, ...)``: the write current enters at
    ``win``, passes the track (T1 -> T2 = ``wout``) and leaves at ``wout`` for the next cell;
    while the cell fires a bypass switch carries the line current past it (``win -> wout``)
    instead of dumping it, so the cells further down the line keep their write, and the reset
    current T2 -> T1 returns through a local switch to ground at T2 (it is not drawn from the
    line).  Needs a cell whose device can float its T2 (:meth:`SteeredCell.chained_device_ports`).
    """
    fire = cell.fire_fraction()
    g_on = 1.0 / cell.drivers.r_switch_on_ohm
    elements: list[Element] = []
    out = "wout" if chained else "0"
    if cell.steer_input:
        v_win, v_t1 = node_voltage("win"), node_voltage("t1")
        elements += [
            BehavioralCurrent("pass", "win", "t1", g_on * (v_win - v_t1) * (1 - fire)),
            BehavioralCurrent(
                "dump", "win", out, g_on * (v_win - node_voltage(out) if chained else v_win) * fire
            ),
        ]
    else:
        elements.append(VoltageSource("in_sense", "win", "t1", 0.0))
    if cell.reset_sink:
        elements += [
            BehavioralCurrent("rst", "t1", "rs", cell.i_reset_a * fire),
            VoltageSource("rst_sense", "rs", "vss_r", 0.0),
            *((BehavioralCurrent("rst_ret", "0", "wout", cell.i_reset_a * fire),) if chained else ()),
        ]
    cmp = comparator(cell.comparator, cell.cmos, *cell.thresholds_v())
    elements += [
        Instance(
            "dev", cell.device_subckt(), cell.chained_device_ports() if chained else cell.device_ports()
        ),
        *cell.cell_elements(),
        Instance("cmp", cmp, (cell.comparator_node(), "spike", "spkb", "vdd_c")),
    ]
    return Subckt(
        name=f"spinspice_{cell.model.replace('-', '_')}_{'chain' if chained else 'cell'}_{stable_hash(cell)}",
        ports=("win", *(("wout",) if chained else ()), "vdd_c", "spike", *cell.extra_cell_ports()),
        elements=tuple(elements),
        doc=(
            f"{cell.model} neuron cell (spinspice.circuits.steered): "
            + ("series write line (no access transistor), bypass while firing, " if chained else "")
            + ("steered input, " if cell.steer_input else "")
            + ("reset sink, " if cell.reset_sink else "")
            + f"comparator {cell.thresholds_v()[0]:.6g} / {cell.thresholds_v()[1]:.6g} V"
        ),
    )
