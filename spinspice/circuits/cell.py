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
equals ``j_reset * area``; :meth:`DWLIFCell.check` verifies that it
stays saturated and that the write driver keeps its compliance headroom.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from spinspice.circuits.cellbase import (
    CellDynamics,
    CellParams,
    PerBackend,
    Stimulus,
    backend_of,
    stack,
)
from spinspice.circuits.cmos import CmosParams
from spinspice.circuits.comparator import ComparatorParams, comparator, schmitt_params
from spinspice.circuits.core import (
    Capacitor,
    CurrentSource,
    Element,
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
from spinspice.errors import ModelParameterError
from spinspice.models.dwlif import DWLIF_RHS, SHARP_K_SAT, DWLIFParams
from spinspice.models.mtj import (
    MTJParams,
    ReadDividerParams,
    divider_vout,
    mtj_resistance,
    resistance_equation,
)
from spinspice.models.params import ParamSet, param
from spinspice.models.waveforms import PulseTrain

__all__ = [
    "SUPPLY_COMPONENTS",
    "DWLIFCell",
    "DriverParams",
    "InputDriverParams",
    "default_max_step_s",
    "dwlif_cell",
    "neuron_testbench",
    "pulse_source",
    "supply_probes",
]


@dataclasses.dataclass(frozen=True)
class InputDriverParams(ParamSet):
    """Write-driver supply and the input steering switches of a neuron cell."""

    title = "write driver / input steering"

    v_dd_write_v: float = param(
        0.8,
        unit="V",
        desc="write driver supply",
        source="modelling choice: one 0.8 V supply for drivers and logic (paper-001 set)",
        lo=0.05,
        hi=50.0,
    )
    headroom_write_v: float = param(
        0.2,
        unit="V",
        desc="minimum V_dd_write - V(win) a current-source driver needs",
        source="modelling choice (one saturated PMOS)",
        lo=0.0,
        hi=10.0,
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


@dataclasses.dataclass(frozen=True)
class DriverParams(InputDriverParams):
    """Supplies and switch sizing of the write and reset drivers."""

    title = "write / reset drivers"

    v_dd_reset_v: float = param(
        0.8,
        unit="V",
        desc="reset (return driver) supply; must keep the reset NMOS saturated",
        source="modelling choice: one 0.8 V supply for drivers and logic (paper-001 set)",
        lo=0.05,
        hi=50.0,
    )


#: supply voltage source -> component name in the energy report
SUPPLY_COMPONENTS: dict[str, str] = {
    "dd_w": "write_driver",
    "dd_r": "reset_driver",
    "dd_c": "comparator",
    "read": "read_divider",
    "dd_fl": "field_line",
    "rd_b": "read_divider",
    "rd_a": "read_divider",
    "rd_hall": "read_bias",
    "ss_r": "reset_driver",
}


@dataclasses.dataclass(frozen=True)
class DWLIFCell(CellParams):
    """Every parameter of one DW-LIF neuron cell, grouped by part (paper-001 defaults)."""

    model: ClassVar[str] = "dw-lif"
    drive_quantity: ClassVar[str] = "j"

    device: DWLIFParams = dataclasses.field(default_factory=DWLIFParams)
    mtj: MTJParams = dataclasses.field(default_factory=MTJParams)
    divider: ReadDividerParams = dataclasses.field(default_factory=ReadDividerParams)
    comparator: ComparatorParams = dataclasses.field(default_factory=ComparatorParams)
    cmos: CmosParams = dataclasses.field(default_factory=CmosParams)
    drivers: DriverParams = dataclasses.field(default_factory=DriverParams)

    # -- read-out ---------------------------------------------------------------
    def readout_v(self, m: float) -> float:
        """Comparator input for membrane state ``m``: the MTJ divider voltage (Eq. 3)."""
        return float(divider_vout(m, self.mtj, self.divider))

    @property
    def v_th_hi_v(self) -> float:
        """Comparator upper threshold: read-out at m = m_th."""
        return self.readout_v(self.device.m_th)

    @property
    def v_th_lo_v(self) -> float:
        """Comparator lower threshold: read-out at m = m_reset."""
        return self.readout_v(self.device.m_reset)

    # -- derived sizing -------------------------------------------------------------
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
        w = self.switch_width_m("n")
        v_g = self.comparator.v_dd_comp_v
        # the return NMOS's source is ground; the pass NMOS's source is T1, which sits the
        # track drop above it -- its gate drive shrinks as the write current grows
        v_ret = self.cmos.nmos.triode_vds_for_current(i_write_a, w, l, v_g)
        v_t1 = v_ret + i_write_a * self.device.r_track_ohm
        v_pass = self.cmos.nmos.triode_vds_for_current(i_write_a, w, l, v_g - v_t1)
        v_win = v_pass + v_t1
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

    # -- the subcircuits this cell is made of (field-gated cells override) -------------
    def device_subckt(self) -> Subckt:
        return dwlif_device(self.device, self.mtj)

    def device_ports(self) -> tuple[str, ...]:
        """Cell nets the device instance connects to (its ports in order)."""
        return ("t1", "t2", "t3", "0")

    def readout_elements(self) -> tuple[Element, ...]:
        """Elements that turn the device state into the comparator input ``t3``."""
        return (Resistor("read", "vread", "t3", self.divider.r_read_ohm),)

    def extra_cell_ports(self) -> tuple[str, ...]:
        """Cell ports besides ``(win, vdd_r, vdd_c, vread, spike)``."""
        return ()

    def read_supplies(self) -> tuple[VoltageSource, ...]:
        """The read-out's supply (V_read of the MTJ divider)."""
        return (VoltageSource("read", "vread", "0", self.divider.v_read_v),)

    def extra_supplies(self) -> tuple[VoltageSource, ...]:
        """Supplies of extra parts (a field line)."""
        return ()

    def extra_probes(self) -> tuple[Probe, ...]:
        return ()

    # -- CellParams interface ---------------------------------------------------------
    def default_drive(self) -> PulseTrain:
        return PulseTrain()

    def default_duration_s(self, drive: PulseTrain) -> float:
        return 60.0 * drive.period_s

    def drive_current(self, drive: PulseTrain) -> PulseTrain:
        return drive.scaled(self.device.area_m2)

    def spike_level_v(self) -> float:
        return 0.5 * self.comparator.v_dd_comp_v

    def thresholds_v(self) -> tuple[float, float]:
        return self.v_th_hi_v, self.v_th_lo_v

    def state_plot(self) -> tuple[str, str, str, float | None]:
        return "m", "m", "membrane m", self.device.m_th

    def testbench(self, drive: PulseTrain, t_stop_s: float, *, stimulus: Stimulus | None = None) -> Testbench:
        return neuron_testbench(self, drive, t_stop_s)

    def readout_function(self, xp: Any = np) -> Callable[[Any], Any]:
        """V_out(m) of the self-biased divider (5 fixed-point sweeps: contraction ~0.01, error ~1e-12 V)."""
        r_eq = resistance_equation(self.mtj)
        f_r = r_eq.numeric(backend_of(xp))
        p_r = tuple(r_eq.param_values(self.mtj).values())
        r_read, v_read = self.divider.r_read_ohm, self.divider.v_read_v

        def v_out(m: Any) -> Any:
            v = 0.5 * v_read + 0.0 * m
            for _ in range(5):
                r = f_r(m, v, *p_r)
                v = r / (r + r_read) * v_read
            return v

        return v_out

    def dynamics(self, drive: PulseTrain, *, stimulus: Stimulus | None = None) -> CellDynamics:
        j_rst = -self.device.j_reset_a_per_m2
        pv = tuple(DWLIF_RHS.param_values(self.device).values())
        readout = PerBackend(self.readout_function)

        def local_rhs(y: Any, fire: Any, u: Any, nz: Any, xp: Any) -> Any:
            j = fire * j_rst + (1.0 - fire) * u
            return stack([DWLIF_RHS.numeric(backend_of(xp))(y[0], j, *pv)], xp)

        d = self.device
        return CellDynamics(
            y0=np.array([d.m_rest]),
            local_rhs=local_rhs,
            comparator_input=lambda y, xp: readout(xp)(y[0]),
            schmitt=schmitt_params(self.comparator, self.v_th_hi_v, self.v_th_lo_v),
            atol=np.array([1e-12]),
            state_names=("m",),
            drive=drive,
            stimulus=stimulus,
            # V_out is monotone in m and the thresholds are V_out(m_th), V_out(m_reset)
            threshold_state=(0, d.m_th, d.m_reset),
            bounds=((d.m_min, d.m_max),),
        )

    def network_cell(self) -> DWLIFCell:
        return dataclasses.replace(self, device=self.device.replace(k_sat=SHARP_K_SAT))

    def report_extras(self, waveforms: Any, spikes: np.ndarray, releases: np.ndarray) -> dict[str, Any]:
        readout: dict[str, float] = {}
        for label, m in (("rest", self.device.m_rest), ("threshold", self.device.m_th), ("full", 1.0)):
            v = self.readout_v(m)
            readout[f"v_out_{label}_v"] = v
            if hasattr(self, "mtj"):
                readout[f"r_{label}_ohm"] = float(mtj_resistance(m, v, self.mtj))
        readout["v_th_hi_v"] = self.v_th_hi_v
        readout["v_th_lo_v"] = self.v_th_lo_v
        headroom = self.drivers.v_dd_write_v - waveforms["v_win"]
        return {
            "derived": {
                "area_m2": self.device.area_m2,
                "r_track_ohm": self.device.r_track_ohm,
                "i_reset_a": self.i_reset_a,
                "w_reset_nmos_m": self.w_reset_m,
            },
            "readout": readout,
            "checks": {
                "write_driver_min_headroom_v": float(np.min(headroom)),
                "reset_nmos_min_saturation_margin_v": self._reset_margin(waveforms, spikes, releases),
            },
        }

    def _reset_margin(
        self, waveforms: Any, spikes: np.ndarray, releases: np.ndarray, settle_s: float = 100e-12
    ) -> float | None:
        """min of V(t1) - V_ov over the settled part of every reset (None if no reset).

        Negative means the reset NMOS left saturation and its current is no
        longer the designed ``j_reset``.  The first and last ``settle_s`` of
        each reset (switching edges) are excluded.
        """
        v_ov = self.comparator.v_dd_comp_v - self.cmos.vto_n_v
        t = waveforms.time_s
        mask = np.zeros_like(t, dtype=bool)
        for t_on in spikes:
            later = releases[releases > t_on]
            if later.size:
                mask |= (t > t_on + settle_s) & (t < later[0] - settle_s)
        if not mask.any():
            return None
        return float(np.min(waveforms["v_t1"][mask] - v_ov))


@generator
def dwlif_cell(cell: DWLIFCell) -> Subckt:
    """Neuron cell: ports ``(win, vdd_r, vdd_c, vread, spike, *extra)``."""
    cell.check()
    cm = cell.cmos
    l = cm.l_fet_m
    w_sw_n = cell.switch_width_m("n")
    w_sw_p = cell.switch_width_m("p")
    cmp = comparator(cell.comparator, cm, cell.v_th_hi_v, cell.v_th_lo_v)
    return Subckt(
        name=f"spinspice_{cell.model.replace('-', '_')}_cell_{stable_hash(cell)}",
        ports=("win", "vdd_r", "vdd_c", "vread", "spike", *cell.extra_cell_ports()),
        elements=(
            Mosfet("pass", "win", "spkb", "t1", "0", cm.nmos, w_sw_n, l),
            Mosfet("dump", "win", "spike", "0", "0", cm.nmos, w_sw_n, l),
            Instance("dev", cell.device_subckt(), cell.device_ports()),
            Mosfet("rst", "t1", "spike", "rs", "0", cm.nmos, cell.w_reset_m, l),
            VoltageSource("rst_sense", "rs", "0", 0.0),
            Mosfet("ret_p", "t2", "spkb", "vdd_r", "vdd_r", cm.pmos, w_sw_p, l),
            Mosfet("ret_n", "t2", "spkb", "0", "0", cm.nmos, w_sw_n, l),
            *cell.readout_elements(),
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
)


def supply_probes(supplies: tuple[VoltageSource, ...]) -> tuple[Probe, ...]:
    """One current probe ``i_<source>`` per supply (the energy report reads them)."""
    return tuple(
        Probe(f"i_{v.name}", "i", (v.name,), "A", f"{SUPPLY_COMPONENTS.get(v.name, v.name)} supply current")
        for v in supplies
    )


def default_max_step_s(comparator_params: ComparatorParams, drive: PulseTrain) -> float:
    """Largest safe transient step: resolve the pulses and never step over the comparator."""
    pulse = min(drive.t_on_s, drive.t_off_s or drive.t_on_s) / 20
    return min(pulse, 2.5 * comparator_params.tau_comp_s)


def neuron_testbench(
    cell: DWLIFCell,
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
    i_write = cell.drive_current(drive).amplitude
    cell.check(i_write_a=i_write)
    supplies = (
        VoltageSource("dd_w", "vdd_w", "0", cell.drivers.v_dd_write_v),
        VoltageSource("dd_r", "vdd_r", "0", cell.drivers.v_dd_reset_v),
        VoltageSource("dd_c", "vdd_c", "0", cell.comparator.v_dd_comp_v),
        *cell.read_supplies(),
        *cell.extra_supplies(),
    )
    elements = (
        *supplies,
        CurrentSource("write", "vdd_w", "win", wave=pulse_source(cell.drive_current(drive))),
        Instance(
            "cell", dwlif_cell(cell), ("win", "vdd_r", "vdd_c", "vread", "spike", *cell.extra_cell_ports())
        ),
    )
    tmax = t_max_s if t_max_s is not None else default_max_step_s(cell.comparator, drive)
    return Testbench(
        title=f"spinspice DW-LIF neuron cell, {drive.frequency_hz / 1e6:.4g} MHz write pulses",
        elements=elements,
        analysis=Transient(t_stop_s=t_stop_s, t_step_s=t_step_s or tmax / 5, t_max_s=tmax, uic=True),
        probes=(*_NEURON_PROBES, *supply_probes(supplies), *cell.extra_probes()),
        initial_conditions=(
            (("cell", "dev", "m"), cell.device.m_rest),
            (("cell", "cmp", "s"), 0.0),
        ),
        options=(("reltol", reltol), ("method", method)),
        supplies=tuple((SUPPLY_COMPONENTS[e.name], e.name) for e in supplies),
        printed=("spike", "v_out", "m"),
    )
