r"""The DW-LIF neuron cell: device + read divider + comparator + reset + drivers.

Topology (``docs/netlists.md`` has the schematic)::

                 vdd_r
                   |  ret_p (PMOS, gate spike_b)
    win --pass--- t1 ===track=== t2 --+
     |  (gate      |                  |  ret_n (NMOS, gate spike_b)
    dump spike_b)  rst (NMOS,        gnd
    (gate spike)   gate spike) -> gnd      t3 = MTJ on the track, read
                                            through R_read from V_read

* **Write path.**  The input current (a write driver, or a crossbar column)
  enters ``win``, passes the ``pass`` switch into T1, flows along the track
  and returns through ``ret_n`` to ground: J = I/area drives the wall.
* **Read.**  ``R_read`` from ``V_read`` and the MTJ (T3 -> ground) form the
  divider of Eq. 3; the comparator watches V(t3).
* **Fire and reset.**  When V(t3) crosses V_hi (the divider voltage at
  m = m_th) the comparator output ``spike`` goes high: the input is steered
  to ground (``dump`` on, ``pass`` off), ``ret_p`` lifts T2 to V_dd_reset and
  the saturated ``rst`` NMOS sinks a fixed current from T1 -- a current
  T2 -> T1 of density ``j_reset`` that drives the wall back.  When V(t3) falls
  through V_lo (the divider at m = m_reset) the comparator releases.  Spike
  width and refractory time are therefore set by the circuit.

The reset NMOS is sized so that its saturation current at V_GS = V_dd_comp
equals ``j_reset * area``; :meth:`NeuronCellParams.check` verifies that it
stays saturated and that the write driver keeps its compliance headroom.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from spinspice.circuits.cmos import CmosParams
from spinspice.circuits.comparator import ComparatorParams, comparator
from spinspice.circuits.core import (
    Capacitor,
    CurrentSource,
    Instance,
    Mosfet,
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
from spinspice.circuits.devices import dwlif_device
from spinspice.errors import ModelParameterError, did_you_mean
from spinspice.models.dwlif import DWLIFParams
from spinspice.models.mtj import MTJParams, ReadDividerParams, divider_vout
from spinspice.models.params import ParamInfo, ParamSet, param
from spinspice.models.waveforms import PulseTrain

__all__ = [
    "PRESETS",
    "SUPPLY_COMPONENTS",
    "DriverParams",
    "NeuronCellParams",
    "default_max_step_s",
    "dwlif_cell",
    "get_preset",
    "neuron_testbench",
    "pulse_source",
]


@dataclasses.dataclass(frozen=True)
class DriverParams(ParamSet):
    """Supplies and switch sizing of the write and reset drivers."""

    title = "write / reset drivers"

    v_dd_write_v: float = param(
        0.8,
        unit="V",
        desc="write driver supply",
        source="modelling choice: one 0.8 V supply for drivers and logic (paper-001 set)",
        lo=0.05,
        hi=5.0,
    )
    headroom_write_v: float = param(
        0.2,
        unit="V",
        desc="minimum V_dd_write - V(win) a current-source driver needs",
        source="modelling choice (one saturated PMOS)",
        lo=0.0,
        hi=2.0,
    )
    v_dd_reset_v: float = param(
        0.8,
        unit="V",
        desc="reset (return driver) supply; must keep the reset NMOS saturated",
        source="modelling choice: one 0.8 V supply for drivers and logic (paper-001 set)",
        lo=0.05,
        hi=5.0,
    )
    r_switch_on_ohm: float = param(
        20.0,
        unit="ohm",
        desc="on-resistance of the input and return switches",
        source="modelling choice (sizes the switches)",
        lo=0.1,
        hi=1e5,
    )
    c_in_f: float = param(
        5e-15,
        unit="F",
        desc="parasitic capacitance of the cell input node",
        source="modelling choice (wire + switch junctions)",
        lo=1e-18,
        hi=1e-9,
    )


#: supply voltage source -> component name in the energy report
SUPPLY_COMPONENTS: dict[str, str] = {
    "dd_w": "write_driver",
    "dd_r": "reset_driver",
    "dd_c": "comparator",
    "read": "read_divider",
}


@dataclasses.dataclass(frozen=True)
class NeuronCellParams:
    """Every parameter of one neuron cell, grouped by part.

    Names are unique across the groups, so users set any of them with a flat
    ``--param name=value``.
    """

    device: DWLIFParams = dataclasses.field(default_factory=DWLIFParams)
    mtj: MTJParams = dataclasses.field(default_factory=MTJParams)
    divider: ReadDividerParams = dataclasses.field(default_factory=ReadDividerParams)
    comparator: ComparatorParams = dataclasses.field(default_factory=ComparatorParams)
    cmos: CmosParams = dataclasses.field(default_factory=CmosParams)
    drivers: DriverParams = dataclasses.field(default_factory=DriverParams)

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for group, ps in self.groups().items():
            for name in ps.param_names():
                if name in seen:
                    raise ModelParameterError(  # pragma: no cover - programming error
                        f"parameter {name} defined in both {seen[name]} and {group}"
                    )
                seen[name] = group

    def groups(self) -> dict[str, ParamSet]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def param_info(self) -> list[tuple[str, ParamInfo]]:
        return [(g, i) for g, ps in self.groups().items() for i in ps.param_info()]

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for ps in self.groups().values():
            out.update(ps.values())
        return out

    def with_text(self, pairs: Mapping[str, Any]) -> NeuronCellParams:
        """Apply flat ``name=value`` user settings (SI suffixes accepted)."""
        owner = {name: g for g, ps in self.groups().items() for name in ps.param_names()}
        per_group: dict[str, dict[str, Any]] = {}
        for name, text in pairs.items():
            if name not in owner:
                raise ModelParameterError(
                    f"unknown parameter {name!r}{did_you_mean(name, owner)}; `spinspice models` lists them"
                )
            per_group.setdefault(owner[name], {})[name] = text
        changes = {g: getattr(self, g).with_text(kv) for g, kv in per_group.items()}
        return dataclasses.replace(self, **changes)

    # -- derived quantities --------------------------------------------------
    @property
    def v_th_hi_v(self) -> float:
        """Comparator upper threshold: divider output at m = m_th."""
        return float(divider_vout(self.device.m_th, self.mtj, self.divider))

    @property
    def v_th_lo_v(self) -> float:
        """Comparator lower threshold: divider output at m = m_reset."""
        return float(divider_vout(self.device.m_reset, self.mtj, self.divider))

    @property
    def i_reset_a(self) -> float:
        return self.device.current_a(self.device.j_reset_a_per_m2)

    @property
    def w_reset_m(self) -> float:
        return self.cmos.nmos.width_for_current(
            self.i_reset_a, self.cmos.l_fet_m, self.comparator.v_dd_comp_v
        )

    def switch_width_m(self, polarity: str) -> float:
        model = self.cmos.nmos if polarity == "n" else self.cmos.pmos
        vgs = self.comparator.v_dd_comp_v if polarity == "n" else self.drivers.v_dd_reset_v
        return model.width_for_on_resistance(self.drivers.r_switch_on_ohm, self.cmos.l_fet_m, vgs)

    def reset_operating_point(self) -> dict[str, float]:
        """Node voltages while the reset fires (level-1 hand analysis)."""
        l = self.cmos.l_fet_m
        try:
            v_sd_p = self.cmos.pmos.triode_vds_for_current(
                self.i_reset_a, self.switch_width_m("p"), l, self.drivers.v_dd_reset_v
            )
        except ModelParameterError:
            raise ModelParameterError(
                f"the return-driver PMOS cannot carry the reset current {self.i_reset_a:.3g} A at "
                f"v_dd_reset_v = {self.drivers.v_dd_reset_v:g} V: raise v_dd_reset_v or lower "
                "j_reset_a_per_m2"
            ) from None
        v_t2 = self.drivers.v_dd_reset_v - v_sd_p
        v_t1 = v_t2 - self.i_reset_a * self.device.r_track_ohm
        v_ov = self.comparator.v_dd_comp_v - self.cmos.vto_n_v
        return {"v_t2_v": v_t2, "v_t1_v": v_t1, "v_ov_reset_v": v_ov, "margin_v": v_t1 - v_ov}

    def write_headroom_v(self, i_write_a: float) -> float:
        """V_dd_write - V(win) while ``i_write_a`` flows (idle cell)."""
        l = self.cmos.l_fet_m
        vgs_pass = self.comparator.v_dd_comp_v  # source near ground
        v_pass = self.cmos.nmos.triode_vds_for_current(i_write_a, self.switch_width_m("n"), l, vgs_pass)
        v_ret = self.cmos.nmos.triode_vds_for_current(
            i_write_a, self.switch_width_m("n"), l, self.comparator.v_dd_comp_v
        )
        v_win = v_pass + i_write_a * self.device.r_track_ohm + v_ret
        return self.drivers.v_dd_write_v - v_win

    def check(self, i_write_a: float | None = None) -> None:
        """Raise :class:`ModelParameterError` if the cell cannot work as designed."""
        # the return-driver PMOS is gated from the comparator rail: it must be able to turn off
        if self.drivers.v_dd_reset_v - self.comparator.v_dd_comp_v >= self.cmos.vto_p_v:
            raise ModelParameterError(
                f"v_dd_reset_v = {self.drivers.v_dd_reset_v:g} V exceeds v_dd_comp_v + vto_p_v = "
                f"{self.comparator.v_dd_comp_v + self.cmos.vto_p_v:g} V: the return-driver PMOS, gated "
                "from the comparator supply, could never turn off; raise v_dd_comp_v or lower "
                "v_dd_reset_v"
            )
        op = self.reset_operating_point()
        if op["margin_v"] < 0:
            need = self.drivers.v_dd_reset_v - op["margin_v"]
            raise ModelParameterError(
                f"reset NMOS would leave saturation (V(t1) = {op['v_t1_v']:.3g} V < V_ov = "
                f"{op['v_ov_reset_v']:.3g} V): raise v_dd_reset_v to >= {need:.3g} V or lower "
                "j_reset_a_per_m2"
            )
        if i_write_a is not None and i_write_a > 0:
            headroom = self.write_headroom_v(i_write_a)
            if headroom < self.drivers.headroom_write_v:
                raise ModelParameterError(
                    f"write driver out of compliance: V_dd_write - V(win) = {headroom:.3g} V < "
                    f"headroom_write_v = {self.drivers.headroom_write_v:.3g} V; raise v_dd_write_v"
                )


@generator
def dwlif_cell(cell: NeuronCellParams) -> Subckt:
    """Neuron cell: ports ``(win, vdd_r, vdd_c, vread, spike)``."""
    cell.check()
    cm = cell.cmos
    l = cm.l_fet_m
    w_sw_n = cell.switch_width_m("n")
    w_sw_p = cell.switch_width_m("p")
    cmp = comparator(cell.comparator, cm, cell.v_th_hi_v, cell.v_th_lo_v)
    dev = dwlif_device(cell.device, cell.mtj)
    return Subckt(
        name=f"spinspice_dwlif_cell_{stable_hash(cell)}",
        ports=("win", "vdd_r", "vdd_c", "vread", "spike"),
        elements=(
            Mosfet("pass", "win", "spkb", "t1", "0", cm.nmos, w_sw_n, l),
            Mosfet("dump", "win", "spike", "0", "0", cm.nmos, w_sw_n, l),
            Instance("dev", dev, ("t1", "t2", "t3", "0")),
            Mosfet("rst", "t1", "spike", "rs", "0", cm.nmos, cell.w_reset_m, l),
            VoltageSource("rst_sense", "rs", "0", 0.0),
            Mosfet("ret_p", "t2", "spkb", "vdd_r", "vdd_r", cm.pmos, w_sw_p, l),
            Mosfet("ret_n", "t2", "spkb", "0", "0", cm.nmos, w_sw_n, l),
            Resistor("read", "vread", "t3", cell.divider.r_read_ohm),
            Instance("cmp", cmp, ("t3", "spike", "spkb", "vdd_c")),
            Capacitor("in", "win", "0", cell.drivers.c_in_f),
        ),
        doc=(
            "DW-LIF neuron cell (paper 001 Fig. 1e/5): input steering, track, read divider,\n"
            f"hysteretic comparator ({cell.v_th_hi_v:.6g} / {cell.v_th_lo_v:.6g} V), reset NMOS "
            f"sinking {cell.i_reset_a:.4g} A, return driver on T2"
        ),
    )


def pulse_source(train: PulseTrain) -> Pulse:
    """SPICE PULSE with the same charge per pulse as ``train``."""
    return Pulse(
        v1=0.0,
        v2=train.amplitude,
        td_s=train.t_delay_s,
        tr_s=train.t_edge_s,
        tf_s=train.t_edge_s,
        pw_s=train.plateau_s,
        per_s=train.period_s,
        count=train.pulse_count or 0,
    )


#: probes every single-neuron report uses: key -> (kind, path, unit, doc)
_NEURON_PROBES: tuple[Probe, ...] = (
    Probe("m", "v", ("cell", "dev", "m"), "1", "membrane state m (V(m) = m)"),
    Probe("v_out", "v", ("cell", "t3"), "V", "MTJ divider output V_out (comparator input)"),
    Probe("spike", "v", ("spike",), "V", "comparator output (spike)"),
    Probe("spike_b", "v", ("cell", "spkb"), "V", "comparator complementary output"),
    Probe("s_comp", "v", ("cell", "cmp", "s"), "1", "comparator core state s (fires at 1/2)"),
    Probe("v_win", "v", ("win",), "V", "write input node"),
    Probe("v_t1", "v", ("cell", "t1"), "V", "track terminal T1"),
    Probe("v_t2", "v", ("cell", "t2"), "V", "track terminal T2"),
    Probe("i_track", "i", ("cell", "dev", "sense"), "A", "track current T1 -> T2"),
    Probe("i_reset", "i", ("cell", "rst_sense"), "A", "reset NMOS current"),
    Probe("i_dd_w", "i", ("dd_w",), "A", "write driver supply current"),
    Probe("i_dd_r", "i", ("dd_r",), "A", "reset driver supply current"),
    Probe("i_dd_c", "i", ("dd_c",), "A", "comparator supply current"),
    Probe("i_read", "i", ("read",), "A", "read supply current"),
)


def default_max_step_s(cell: NeuronCellParams, drive: PulseTrain) -> float:
    """Largest safe transient step for ``cell`` under ``drive``."""
    pulse = min(drive.t_on_s, drive.t_off_s or drive.t_on_s) / 20
    return min(pulse, 2.5 * cell.comparator.tau_comp_s)


def neuron_testbench(
    cell: NeuronCellParams,
    drive: PulseTrain,
    t_stop_s: float,
    *,
    t_step_s: float | None = None,
    t_max_s: float | None = None,
    reltol: float = 1e-4,
    method: str = "gear",
) -> Testbench:
    """One cell driven by a write-pulse train (``drive.amplitude`` in A/m^2).

    Simulator settings (``docs/models.md`` explains them): the maximum step is
    the smallest of t_on/20, t_off/20 and 2.5 tau_comp, so the bistable
    comparator core is never stepped over; ``gear`` integration (L-stable)
    damps its stiff mode; ``reltol = 1e-4`` keeps the spike times within
    ~10 ps of the scipy reference.
    """
    if not t_stop_s > 0:
        raise ModelParameterError(f"duration {t_stop_s:g} s must be > 0")
    i_write = cell.device.current_a(drive.amplitude)
    cell.check(i_write_a=i_write)
    supplies = (
        VoltageSource("dd_w", "vdd_w", "0", cell.drivers.v_dd_write_v),
        VoltageSource("dd_r", "vdd_r", "0", cell.drivers.v_dd_reset_v),
        VoltageSource("dd_c", "vdd_c", "0", cell.comparator.v_dd_comp_v),
        VoltageSource("read", "vread", "0", cell.divider.v_read_v),
    )
    elements = (
        *supplies,
        CurrentSource("write", "vdd_w", "win", wave=pulse_source(drive.scaled(cell.device.area_m2))),
        Instance("cell", dwlif_cell(cell), ("win", "vdd_r", "vdd_c", "vread", "spike")),
    )
    tmax = t_max_s if t_max_s is not None else default_max_step_s(cell, drive)
    return Testbench(
        title=f"spinspice DW-LIF neuron cell, {drive.frequency_hz / 1e6:.4g} MHz write pulses",
        elements=elements,
        analysis=Transient(t_stop_s=t_stop_s, t_step_s=t_step_s or tmax / 5, t_max_s=tmax, uic=True),
        probes=_NEURON_PROBES,
        initial_conditions=(
            (("cell", "dev", "m"), cell.device.m_rest),
            (("cell", "cmp", "s"), 0.0),
        ),
        options=(("reltol", reltol), ("method", method)),
        supplies=tuple((comp, src) for src, comp in SUPPLY_COMPONENTS.items()),
        printed=("spike", "v_out", "m"),
    )


#: documented parameter sets; "paper-001" is the default of every field
PRESETS: dict[str, NeuronCellParams] = {"paper-001": NeuronCellParams()}


def get_preset(name: str) -> NeuronCellParams:
    if name not in PRESETS:
        raise ModelParameterError(f"unknown preset {name!r}{did_you_mean(name, PRESETS)}")
    return PRESETS[name]
