"""Neuron cells of the device library (papers 001-004) on the generic steered cell.

Each class bundles the parameter groups of one model, says how its device is
wired into :func:`~spinspice.circuits.steered.steered_cell`, and gives the
same behaviour as numeric equations for the scipy reference.  Their documented
presets are defined in :mod:`spinspice.circuits.registry`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from spinspice.circuits.cell import InputDriverParams
from spinspice.circuits.cellbase import CellDynamics, PerBackend, Stimulus, WallMotion, backend_of, stack
from spinspice.circuits.cmos import CmosParams
from spinspice.circuits.comparator import ComparatorParams, schmitt_params
from spinspice.circuits.core import (
    BehavioralVoltage,
    Element,
    Instance,
    Probe,
    Pwl,
    Resistor,
    Subckt,
    VoltageSource,
)
from spinspice.circuits.devices import (
    dwmtj_device,
    field_gated_device,
    field_line,
    lif_device,
    saflif_device,
)
from spinspice.circuits.steered import ReadBiasParams, ResetSinkParams, SteeredCell
from spinspice.errors import ModelParameterError
from spinspice.models import dwmtj as mtjmod
from spinspice.models.dwlif import SHARP_K_SAT, DWLIFParams
from spinspice.models.expr import node_voltage
from spinspice.models.fieldgate import (
    FIELD_WINDOW,
    GATED_RHS,
    FieldGateParams,
    FieldLineParams,
    HallReadoutParams,
    threshold_window,
)
from spinspice.models.lif import LIF_RHS, LIFParams
from spinspice.models.mtj import MTJParams, ReadDividerParams, divider_vout
from spinspice.models.params import ParamSet, param
from spinspice.models.saflif import SAF_RHS, SAFLIFParams
from spinspice.models.waveforms import PulseTrain

__all__ = ["DWMTJCell", "DWMTJReadParams", "FieldGatedCell", "LIFCell", "SAFLIFCell"]


def _bound(eq: Any, p: Any) -> Any:
    """``eq`` with its parameters bound: ``f(xp, *inputs)`` for numpy or torch."""
    pv = tuple(eq.param_values(p).values())
    return lambda xp, *inputs: eq.numeric(backend_of(xp))(*inputs, *pv)


# --- ideal LIF -------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LIFCell(SteeredCell):
    """Ideal LIF (snnTorch Leaky equivalent) as an RC membrane with a reset switch."""

    model: ClassVar[str] = "lif"
    drive_quantity: ClassVar[str] = "i"

    lif: LIFParams = dataclasses.field(default_factory=LIFParams)
    comparator: ComparatorParams = dataclasses.field(default_factory=ComparatorParams)
    cmos: CmosParams = dataclasses.field(default_factory=CmosParams)
    drivers: InputDriverParams = dataclasses.field(default_factory=InputDriverParams)

    def default_drive(self) -> PulseTrain:
        # each 1 ns pulse adds 0.15 network units of charge (0.15 C v_unit)
        q = 0.15 * self.lif.c_mem_f * self.lif.v_unit_v
        return PulseTrain(t_on_s=1e-9, t_off_s=self.lif.slot_s - 1e-9, amplitude=q / 1e-9)

    def default_duration_s(self, drive: PulseTrain) -> float:
        return 60.0 * drive.period_s

    def drive_current(self, drive: PulseTrain) -> PulseTrain:
        return drive

    def thresholds_v(self) -> tuple[float, float]:
        return self.lif.v_thr_v, self.lif.release_frac * self.lif.v_thr_v

    def state_plot(self) -> tuple[str, str, str, float | None]:
        return "v_mem", "v", "membrane V (V)", self.lif.v_thr_v

    def device_subckt(self) -> Subckt:
        return lif_device(self.lif)

    def device_ports(self) -> tuple[str, ...]:
        return ("t1", "v", "spike", "vdd_c")

    def comparator_node(self) -> str:
        return "v"

    def state_probes(self) -> tuple[Probe, ...]:
        return (Probe("v_mem", "v", ("cell", "v"), "V", "membrane voltage"),)

    def initial_conditions(self) -> tuple[tuple[tuple[str, ...], float], ...]:
        return ((("v",), 0.0),)

    def max_step_s(self, drive: PulseTrain) -> float:
        # the reset discharge C/g_reset is the stiff part
        return self.lif.c_mem_f / self.lif.g_reset_s

    def check(self, i_write_a: float) -> None:
        v_win = self.lif.v_thr_v + i_write_a * self.drivers.r_switch_on_ohm
        if self.drivers.v_dd_write_v - v_win < self.drivers.headroom_write_v:
            raise ModelParameterError(
                f"write driver out of compliance at the threshold voltage ({v_win:.3g} V): raise v_dd_write_v"
            )

    def dynamics(self, drive: PulseTrain, *, stimulus: Stimulus | None = None) -> Any:
        f = _bound(LIF_RHS, {**self.lif.values(), "r_leak_ohm": self.lif.r_leak_ohm})
        v_hi, v_lo = self.thresholds_v()
        return CellDynamics(
            y0=np.array([0.0]),
            local_rhs=lambda y, fire, u, nz, xp: stack([f(xp, y[0], (1.0 - fire) * u, fire)], xp),
            comparator_input=lambda y, xp: y[0],
            schmitt=schmitt_params(self.comparator, v_hi, v_lo),
            atol=np.array([1e-9]),
            state_names=("v",),
            drive=drive,
            stimulus=stimulus,
            threshold_state=(0, v_hi, v_lo),
        )


# --- SAF-LIF -------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class SAFLIFCell(SteeredCell):
    """SAF-LIF neuron: integrate by SOT, leak and self-reset by SAF coupling (paper 002)."""

    model: ClassVar[str] = "saf-lif"
    drive_quantity: ClassVar[str] = "i"

    saf: SAFLIFParams = dataclasses.field(default_factory=SAFLIFParams)
    read: ReadBiasParams = dataclasses.field(default_factory=ReadBiasParams)
    comparator: ComparatorParams = dataclasses.field(
        default_factory=lambda: ComparatorParams(tau_comp_s=1e-6)
    )
    cmos: CmosParams = dataclasses.field(default_factory=CmosParams)
    drivers: InputDriverParams = dataclasses.field(default_factory=InputDriverParams)

    def default_drive(self) -> PulseTrain:
        t_on = self.saf.tau_int_s / 30
        return PulseTrain(t_on_s=t_on, t_off_s=t_on, amplitude=1e-3, t_edge_s=t_on / 100)

    def network_drive(self) -> PulseTrain:
        """The network's write slot: the default ON pulse, and an OFF part that holds the
        self-reset of a neuron that fired anywhere in the ON pulse.

        Paper 002 Eq. 3 resets a neuron that fired to V_reset before the next time step; the
        device does it by the SAF exchange field alone (input steered away, no reset FET),
        which takes ``t_reset = tau_leak ln(1/release_frac)`` (Eq. 1 with I = 0, from V_th to
        the comparator's release level) plus the comparator's two switching delays.  The
        paper's own device protocol gives the reset its own OFF time likewise (Fig. 1g: 1 ns
        integrate, 1.5 ns leak, 20 ns reset).  With ``t_off = t_on + t_reset`` a neuron can
        fire in every slot under a strong drive; in the default slot (OFF = ON = tau_int/30) the
        return took ~45 slots at release_frac = 0.05: one spike per neuron and 25-step image.
        """
        drive = self.default_drive()
        delays = 2.0 * self.comparator.tau_comp_s * math.log(2.0)
        t_reset = self.saf.tau_leak_s * math.log(1.0 / self.saf.release_frac) + delays
        return drive.replace(t_off_s=max(drive.t_off_s, drive.t_on_s + t_reset))

    def default_duration_s(self, drive: PulseTrain) -> float:
        return 15.0 * max(self.saf.tau_int_s, self.saf.tau_leak_s)

    def drive_current(self, drive: PulseTrain) -> PulseTrain:
        return drive

    def thresholds_v(self) -> tuple[float, float]:
        """Thresholds at the comparator, i.e. after the read preamplifier."""
        g = self.read.preamp_gain
        return g * self.saf.v_th_v, g * self.saf.v_release_v

    def state_plot(self) -> tuple[str, str, str, float | None]:
        return "v_hall", "v", "Hall read-out V (V)", self.saf.v_th_v

    def device_subckt(self) -> Subckt:
        return saflif_device(self.saf)

    def device_ports(self) -> tuple[str, ...]:
        return ("t1", "0", "out")

    def comparator_node(self) -> str:
        return "amp"

    def state_probes(self) -> tuple[Probe, ...]:
        return (
            Probe("v_hall", "v", ("cell", "out"), "V", "Hall read-out V of the device"),
            Probe("v_state", "v", ("cell", "dev", "vn"), "1", "state node V/v_scale"),
        )

    def initial_conditions(self) -> tuple[tuple[tuple[str, ...], float], ...]:
        return ((("dev", "vn"), self.saf.v_reset_v / self.saf.v_scale_v),)

    def cell_elements(self) -> tuple[Element, ...]:
        return (
            Resistor("hall_bias", "vread", "0", self.read.r_read_bias_ohm),
            BehavioralVoltage("preamp", "amp", "0", self.read.preamp_gain * node_voltage("out")),
        )

    def extra_cell_ports(self) -> tuple[str, ...]:
        return ("vread",)

    def top_supplies(self) -> tuple[VoltageSource, ...]:
        return (VoltageSource("rd_hall", "vread", "0", self.read.v_read_bias_v),)

    def max_step_s(self, drive: PulseTrain) -> float:
        # Eq. 1 is linear in V: a classical RK4 step of tau/10 is exact to ~1e-7 of the step's
        # change (the network sub-steps); the circuit's step is bounded by the comparator
        return min(self.saf.tau_int_s, self.saf.tau_leak_s) / 10

    def check(self, i_write_a: float) -> None:
        v_win = i_write_a * (self.saf.r_track_ohm + self.drivers.r_switch_on_ohm)
        if self.drivers.v_dd_write_v - v_win < self.drivers.headroom_write_v:
            raise ModelParameterError(
                f"write driver out of compliance (V(win) = {v_win:.3g} V): raise v_dd_write_v"
            )

    def dynamics(self, drive: PulseTrain, *, stimulus: Stimulus | None = None) -> Any:
        f = _bound(SAF_RHS, self.saf)
        gain = self.read.preamp_gain
        v_hi, v_lo = self.thresholds_v()
        return CellDynamics(
            y0=np.array([self.saf.v_reset_v]),
            local_rhs=lambda y, fire, u, nz, xp: stack([f(xp, y[0], (1.0 - fire) * u)], xp),
            comparator_input=lambda y, xp: gain * y[0],
            schmitt=schmitt_params(self.comparator, v_hi, v_lo),
            atol=np.array([1e-13]),
            state_names=("v",),
            drive=drive,
            stimulus=stimulus,
            threshold_state=(0, v_hi / gain, v_lo / gain),
        )


# --- DW-MTJ auto-reset ----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class DWMTJReadParams(ParamSet):
    """Read-out of MTJ_B, firing thresholds and the auto-reset flag."""

    title = "DW-MTJ read-out and auto-reset flag"

    v_read_mtj_v: float = param(
        0.1,
        unit="V",
        desc="read bias of the MTJ dividers",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
        hi=2.0,
    )
    r_read_mtj_ohm: float = param(
        1650.0,
        unit="ohm",
        desc="series read resistor (= R_P for sensitivity)",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
    )
    phi_fire: float = param(
        0.5,
        unit="1",
        desc="MTJ_B overlap at which the neuron fires",
        source="paper 004 (fires when the domain is under MTJ_B)",
        lo=0.05,
        hi=0.95,
    )
    phi_release: float = param(
        0.25,
        unit="1",
        desc="MTJ_B overlap below which the comparator releases",
        source="modelling choice",
        lo=0.01,
        hi=0.9,
    )
    flag_width: float = param(
        1e-4,
        unit="1",
        desc="input width of the auto-reset flag (in u)",
        source="modelling choice",
        lo=1e-7,
        hi=1e-2,
    )
    flag_tau_s: float = param(
        1e-9,
        unit="s",
        desc="time constant of the auto-reset flag",
        source="modelling choice (fast vs. the 60 ns between 50 ns pulses)",
        lo=1e-13,
        hi=1e-6,
    )

    def _check(self) -> None:
        if not self.phi_release < self.phi_fire:
            raise ModelParameterError("phi_release must be below phi_fire")


@dataclasses.dataclass(frozen=True)
class DWMTJCell(SteeredCell):
    """Two-wall DW-MTJ with automatic reset (paper 004): no steering, no reset current."""

    model: ClassVar[str] = "dw-mtj-autoreset"
    drive_quantity: ClassVar[str] = "j"
    steer_input: ClassVar[bool] = False

    dwmtj: mtjmod.DWMTJParams = dataclasses.field(default_factory=mtjmod.DWMTJParams)
    readout: DWMTJReadParams = dataclasses.field(default_factory=DWMTJReadParams)
    comparator: ComparatorParams = dataclasses.field(
        default_factory=lambda: ComparatorParams(tau_comp_s=200e-12)
    )
    cmos: CmosParams = dataclasses.field(default_factory=CmosParams)
    drivers: InputDriverParams = dataclasses.field(
        default_factory=lambda: InputDriverParams(v_dd_write_v=1.2)
    )

    def flag_params(self) -> dict[str, float]:
        return mtjmod.flag_values(self.dwmtj, width=self.readout.flag_width, tau_s=self.readout.flag_tau_s)

    def v_b(self, r_b_ohm: float) -> float:
        return r_b_ohm / (r_b_ohm + self.readout.r_read_mtj_ohm) * self.readout.v_read_mtj_v

    def default_drive(self) -> PulseTrain:
        # paper 004: 50 ns pulses including 10 ns rise/fall (charge-equivalent 40 ns), 100 ns period
        return PulseTrain(t_on_s=40e-9, t_off_s=60e-9, t_edge_s=10e-9, amplitude=1e11)

    def default_duration_s(self, drive: PulseTrain) -> float:
        step = self.dwmtj.v_per_j * drive.amplitude * drive.t_on_s
        cycle = (self.dwmtj.l_track_m + self.dwmtj.l_mtj_m) / max(step, 1e-30)
        return math.ceil(2.6 * cycle) * drive.period_s

    def drive_current(self, drive: PulseTrain) -> PulseTrain:
        return drive.scaled(self.dwmtj.area_m2)

    def thresholds_v(self) -> tuple[float, float]:
        d, r = self.dwmtj, self.readout
        return (
            self.v_b(d.r_p_b_ohm + (d.r_ap_b_ohm - d.r_p_b_ohm) * r.phi_fire),
            self.v_b(d.r_p_b_ohm + (d.r_ap_b_ohm - d.r_p_b_ohm) * r.phi_release),
        )

    def state_plot(self) -> tuple[str, str, str, float | None]:
        d = self.dwmtj
        return "u", "u", "leading wall x / L", (d.x_b_m + d.l_mtj_m * self.readout.phi_fire) / d.l_track_m

    def device_subckt(self) -> Subckt:
        return dwmtj_device(self.dwmtj, self.flag_params())

    def device_ports(self) -> tuple[str, ...]:
        return ("t1", "0", "a", "b", "nz")

    def comparator_node(self) -> str:
        return "b"

    def cell_elements(self) -> tuple[Element, ...]:
        r = self.readout.r_read_mtj_ohm
        return (Resistor("read_a", "vread", "a", r), Resistor("read_b", "vread", "b", r))

    def extra_cell_ports(self) -> tuple[str, ...]:
        return ("vread", "nz")

    def top_supplies(self) -> tuple[VoltageSource, ...]:
        return (VoltageSource("rd_b", "vread", "0", self.readout.v_read_mtj_v),)

    def stimulus(self, drive: PulseTrain, t_stop_s: float, seed: int) -> Stimulus:
        return Stimulus(
            "nz",
            self.dwmtj.noise_interval_s,
            tuple(float(v) for v in mtjmod.noise_factors(self.dwmtj, t_stop_s, seed)),
        )

    def stimulus_elements(self, stimulus: Stimulus | None) -> tuple[Element, ...]:
        wave = Pwl(stimulus.pwl_points()) if stimulus is not None else None
        return (VoltageSource("noise", "nz", "0", dc_v=1.0, wave=wave),)

    def state_probes(self) -> tuple[Probe, ...]:
        return (
            Probe("u", "v", ("cell", "dev", "u"), "1", "leading-wall position / track length"),
            Probe("flag", "v", ("cell", "dev", "f"), "1", "auto-reset flag"),
            Probe("v_a", "v", ("cell", "a"), "V", "MTJ_A divider"),
            Probe("nz", "v", ("nz",), "1", "velocity factor N(1, sigma)"),
        )

    def initial_conditions(self) -> tuple[tuple[tuple[str, ...], float], ...]:
        return ((("dev", "u"), self.dwmtj.u_start), (("dev", "f"), 0.0))

    def max_step_s(self, drive: PulseTrain) -> float:
        # the auto-reset flag is a Schmitt switch too: never step over it
        return 2.5 * self.readout.flag_tau_s

    def stepper_dt_s(self, drive: PulseTrain) -> float:
        # explicit RK4 must also resolve the stiff re-nucleation and auto-reset flag relaxations
        return min(super().stepper_dt_s(drive), self.dwmtj.tau_renucleate_s / 4, self.readout.flag_tau_s / 2)

    def check(self, i_write_a: float) -> None:
        v_win = i_write_a * self.dwmtj.r_track_ohm
        if self.drivers.v_dd_write_v - v_win < self.drivers.headroom_write_v:
            raise ModelParameterError(
                f"write driver out of compliance (V(win) = {v_win:.3g} V over the "
                f"{self.dwmtj.r_track_ohm:.3g} ohm track): raise v_dd_write_v"
            )

    def dynamics(self, drive: PulseTrain, *, stimulus: Stimulus | None = None) -> Any:
        d = self.dwmtj
        values = mtjmod.equation_values(d, **self.flag_params())
        vel = _bound(mtjmod.VELOCITY, values)
        du = _bound(mtjmod.POSITION_RHS, values)
        df = _bound(mtjmod.FLAG_RHS, values)
        r_b = _bound(mtjmod.MTJ_B_RESISTANCE, values)

        def local_rhs(y: Any, fire: Any, u: Any, nz: Any, xp: Any) -> Any:
            # the comparator does not act on the device: the domain leaves the track by itself
            v = vel(xp, u, d.h_eff_a_per_m, nz)
            return stack([du(xp, y[0], y[1], v), df(xp, y[0], y[1])], xp)

        def read_b(u: float) -> float:
            return self.v_b(float(r_b(np, np.asarray(u))))

        u_exit = d.u_exit

        def refine(y_start: Any, y_end: Any, xp: Any) -> Any:
            # the auto-reset: the wall reaches the track's end, the flag switches (tau_flag) and
            # the domain is re-written (tau_renucleate), all inside one sub-step
            return (y_end[0] >= u_exit - 1e-9) | (y_start[1] > 0.01) | (y_end[1] > 0.01)

        # MTJ_B's read-out is a bump as the domain passes: the comparator's window in u
        (fire_at, fire_far), (release_at, release_far) = (
            self._window(read_b, v) for v in self.thresholds_v()
        )
        l_track = d.l_track_m

        def speed(drive: Any, nz: Any, xp: Any) -> Any:
            return vel(xp, drive, d.h_eff_a_per_m, nz) / l_track

        table = _auto_reset_table(self, local_rhs, speed)
        return CellDynamics(
            y0=np.array([d.u_start, 0.0]),
            local_rhs=local_rhs,
            comparator_input=lambda y, xp: self.v_b(r_b(xp, y[0])),
            event_state=(0, fire_at, release_at),
            wall=WallMotion(0, speed, fire_at, release_at, u_exit, *table, fire_far, release_far),
            refine=refine,
            fine_step_s=min(d.tau_renucleate_s / 4, self.readout.flag_tau_s / 2),
            schmitt=schmitt_params(self.comparator, *self.thresholds_v()),
            atol=np.array([1e-10, 1e-9]),
            state_names=("u", "f"),
            drive=drive,
            stimulus=stimulus,
            # the leading wall fires at half overlap with MTJ_B
            progress=(0, d.u_start + (d.x_b_m - d.l_mtj_m / 2) / d.l_track_m, d.u_start),
        )

    def _window(self, read_b: Callable[[float], float], v: float) -> tuple[float, float]:
        """Wall positions ``(near, far)`` between which MTJ_B's read-out is above ``v``: it rises
        as the leading wall enters MTJ_B and falls as the domain leaves it (bisection on each
        side of full overlap)."""
        d = self.dwmtj
        start, peak, end = ((d.x_b_m + k * d.l_mtj_m) / d.l_track_m for k in (0, 1, 2))
        if not (read_b(start) < v <= read_b(peak) and read_b(end) < v):
            raise ModelParameterError(
                f"the MTJ_B read-out never reaches {v:.4g} V as the wall passes: check phi_fire, "
                "phi_release and the read-out divider"
            )
        out = []
        for below, above in ((start, peak), (end, peak)):
            for _ in range(60):
                mid = 0.5 * (below + above)
                below, above = (mid, above) if read_b(mid) < v else (below, mid)
            out.append(0.5 * (below + above))
        return out[0], out[1]

    def report_extras(self, waveforms: Any, spikes: np.ndarray, releases: np.ndarray) -> dict[str, Any]:
        return {
            "derived": {
                "l_track_m": self.dwmtj.l_track_m,
                "r_track_ohm": self.dwmtj.r_track_ohm,
                "v_per_j_m3_per_c": self.dwmtj.v_per_j,
            }
        }


_RESET_TABLES: dict[DWMTJCell, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _auto_reset_table(
    cell: DWMTJCell, local_rhs: Callable[..., Any], speed: Callable[..., Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(wall speeds [1/s], dead times [s], resume positions): the DW-MTJ's auto-reset at each
    constant speed, from its own equations.  A wall is started just before the track's end
    and ``local_rhs`` integrated in RK4 steps of 1/25 of the faster relaxation (flag,
    re-nucleation); the dead time runs from the exit (``u = u_exit``) until the flag falls
    back below 1/2, where the motion term is on again, and the resume position is ``u`` then.
    Cached per cell."""
    if cell in _RESET_TABLES:
        return _RESET_TABLES[cell]
    d, flag_tau = cell.dwmtj, cell.readout.flag_tau_s
    # the drive (A/m^2) that gives each speed: the speed is affine in the drive
    base = float(speed(0.0, 1.0, np))
    per_j = float(speed(1.0, 1.0, np)) - base
    v = np.geomspace(1e5, 3e9, 64)  # 1/s: a track in 10 us ... 0.3 ns
    drive = (v - base) / per_j
    h = min(flag_tau, d.tau_renucleate_s) / 25
    lead = 0.2e-9
    n = int(np.ceil((lead + 8 * (flag_tau + d.tau_renucleate_s)) / h))
    y = np.stack([d.u_exit - v * lead, np.zeros_like(v)])
    zero = np.zeros_like(v)
    u_hist, f_hist = [y[0].copy()], [y[1].copy()]
    for _ in range(n):
        k1 = local_rhs(y, zero, drive, 1.0, np)
        k2 = local_rhs(y + h / 2 * k1, zero, drive, 1.0, np)
        k3 = local_rhs(y + h / 2 * k2, zero, drive, 1.0, np)
        k4 = local_rhs(y + h * k3, zero, drive, 1.0, np)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        u_hist.append(y[0].copy())
        f_hist.append(y[1].copy())
    u_h, f_h = np.asarray(u_hist), np.asarray(f_hist)
    t = np.arange(n + 1) * h
    dead, resume = np.empty_like(v), np.empty_like(v)
    for i in range(len(v)):
        k_exit = int(np.argmax(u_h[:, i] >= d.u_exit))
        t_exit = np.interp(d.u_exit, u_h[k_exit - 1 : k_exit + 1, i], t[k_exit - 1 : k_exit + 1])
        high = np.flatnonzero(f_h[:, i] >= 0.5)
        low = np.flatnonzero(f_h[high[0] :, i] < 0.5) if len(high) else high
        if not len(low):
            raise ModelParameterError(
                f"the DW-MTJ auto-reset did not complete within {t[-1]:.3g} s at a wall speed of "
                f"{v[i]:.3g}/s: check tau_renucleate_s and the flag parameters"
            )
        k = high[0] + low[0] - 1  # the first fall: f >= 1/2 at k, < 1/2 at k + 1
        frac = (f_h[k, i] - 0.5) / (f_h[k, i] - f_h[k + 1, i])
        dead[i] = t[k] + frac * h - t_exit
        resume[i] = u_h[k, i] + frac * (u_h[k + 1, i] - u_h[k, i])
    _RESET_TABLES[cell] = (v, dead, resume)
    return _RESET_TABLES[cell]


# --- field-gated mem-transistor -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FieldGatedCell(SteeredCell):
    """Field-gated DW-LIF (paper 001 Fig. 1e-4): field line, gate g(H, J), Hall or MTJ read-out."""

    model: ClassVar[str] = "field-gated-lif"
    drive_quantity: ClassVar[str] = "j"
    reset_sink: ClassVar[bool] = True

    device: DWLIFParams = dataclasses.field(default_factory=DWLIFParams)
    gate: FieldGateParams = dataclasses.field(default_factory=FieldGateParams)
    fieldline: FieldLineParams = dataclasses.field(default_factory=FieldLineParams)
    hall: HallReadoutParams = dataclasses.field(default_factory=HallReadoutParams)
    mtj: MTJParams = dataclasses.field(default_factory=MTJParams)
    divider: ReadDividerParams = dataclasses.field(default_factory=ReadDividerParams)
    comparator: ComparatorParams = dataclasses.field(default_factory=ComparatorParams)
    cmos: CmosParams = dataclasses.field(default_factory=CmosParams)
    drivers: InputDriverParams = dataclasses.field(default_factory=InputDriverParams)
    reset: ResetSinkParams = dataclasses.field(default_factory=ResetSinkParams)

    @property
    def hall_mode(self) -> bool:
        return bool(self.hall.use_hall_readout)

    def sensor_v(self, m: np.ndarray | float) -> np.ndarray:
        """Raw read-out for state ``m``: the Hall voltage, or the MTJ divider output."""
        if self.hall_mode:
            return self.hall.v_hall_full_v * np.asarray(m, dtype=float)
        return np.asarray(divider_vout(np.asarray(m, dtype=float), self.mtj, self.divider))

    def readout_v(self, m: float) -> float:
        """Comparator input for state ``m``: preamplified Hall voltage, or the MTJ divider."""
        gain = self.hall.preamp_gain if self.hall_mode else 1.0
        return gain * float(self.sensor_v(m))

    def thresholds_v(self) -> tuple[float, float]:
        """Fire entering the paper's threshold window, release within the resting range.

        Hall read-out: V_hi = V_th(H) - sigma(H) (the lower edge of the
        window the comparator "works in", paper 001 Fig. 4f) and V_lo = rest
        + sigma(H), both scaled by the preamplifier gain.  MTJ read-out: the
        divider voltages at m_th and m_reset.
        """
        if self.hall_mode:
            centre, sigma = threshold_window(self.hall, self.fieldline.h_bias_oe)
            g = self.hall.preamp_gain
            return g * (centre - sigma), self.readout_v(self.device.m_reset) + g * sigma
        return self.readout_v(self.device.m_th), self.readout_v(self.device.m_reset)

    @property
    def i_reset_a(self) -> float:
        return self.device.current_a(self.device.j_reset_a_per_m2)

    def default_drive(self) -> PulseTrain:
        if self.hall_mode:  # the measured Hall bar: 500 us pulses at 13 mA
            return PulseTrain(t_on_s=500e-6, t_off_s=500e-6, t_edge_s=5e-6, amplitude=6e10)
        return PulseTrain()

    def default_duration_s(self, drive: PulseTrain) -> float:
        return 40.0 * drive.period_s if self.hall_mode else 60.0 * drive.period_s

    def drive_current(self, drive: PulseTrain) -> PulseTrain:
        return drive.scaled(self.device.area_m2)

    def state_plot(self) -> tuple[str, str, str, float | None]:
        return "m", "m", "membrane m", None

    def device_subckt(self) -> Subckt:
        readout = self.hall if self.hall_mode else self.mtj
        return field_gated_device(self.device, self.gate, readout)

    def device_ports(self) -> tuple[str, ...]:
        return ("t1", "0", "t3", "0", "h")

    def chained_device_ports(self) -> tuple[str, ...]:
        return ("t1", "wout", "t3", "0", "h")

    def comparator_node(self) -> str:
        return "amp" if self.hall_mode else "t3"

    def cell_elements(self) -> tuple[Element, ...]:
        fl = Instance("fl", field_line(self.fieldline), ("vfl", "0", "h"))
        if self.hall_mode:
            return (
                Resistor("hall_bias", "vread", "0", self.hall.r_hall_bar_ohm),
                BehavioralVoltage("preamp", "amp", "0", self.hall.preamp_gain * node_voltage("t3")),
                fl,
            )
        return (Resistor("read", "vread", "t3", self.divider.r_read_ohm), fl)

    def extra_cell_ports(self) -> tuple[str, ...]:
        return ("vread", "vfl", "vss_r")

    def top_supplies(self) -> tuple[VoltageSource, ...]:
        v_fl = self.fieldline.i_bias_a * self.fieldline.r_line_ohm
        read = (
            VoltageSource("rd_hall", "vread", "0", self.hall.v_read_hall_v)
            if self.hall_mode
            else VoltageSource("read", "vread", "0", self.divider.v_read_v)
        )
        return (read, VoltageSource("dd_fl", "vfl", "0", v_fl))

    def state_probes(self) -> tuple[Probe, ...]:
        return (
            Probe("m", "v", ("cell", "dev", "m"), "1", "membrane state m"),
            Probe("h_koe", "v", ("cell", "h"), "kOe", "field at the device"),
            Probe("i_fl", "i", ("cell", "fl", "sense"), "A", "field-line current"),
        )

    def initial_conditions(self) -> tuple[tuple[tuple[str, ...], float], ...]:
        return ((("dev", "m"), self.device.m_rest),)

    def check(self, i_write_a: float) -> None:
        v_win = i_write_a * (self.device.r_track_ohm + self.drivers.r_switch_on_ohm)
        if self.drivers.v_dd_write_v - v_win < self.drivers.headroom_write_v:
            raise ModelParameterError(
                f"write driver out of compliance (V(win) = {v_win:.3g} V over the "
                f"{self.device.r_track_ohm:.3g} ohm track): raise v_dd_write_v"
            )
        v_t1 = -self.i_reset_a * self.device.r_track_ohm
        if v_t1 <= self.reset.v_ss_reset_v:
            raise ModelParameterError(
                f"reset sink rail v_ss_reset_v = {self.reset.v_ss_reset_v:g} V is above the track "
                f"end during reset ({v_t1:.3g} V): lower it"
            )

    def dynamics(self, drive: PulseTrain, *, stimulus: Stimulus | None = None) -> Any:
        # FIELD_GATED_RHS split at its gate: g(H, J) (FIELD_WINDOW), then dm/dt for that g
        window = _bound(FIELD_WINDOW, self.gate)
        f = _bound(GATED_RHS, {**self.device.values(), **self.gate.values()})
        h = self.fieldline.h_bias_oe
        j_rst = -self.device.j_reset_a_per_m2
        gain = self.hall.preamp_gain * self.hall.v_hall_full_v
        divider = PerBackend(lambda xp: _divider_fn(self, xp))

        def readout(y: Any, xp: Any) -> Any:
            return gain * y[0] if self.hall_mode else divider(xp)(y[0])

        def held_rhs(fire: Any, u: Any, nz: Any, xp: Any) -> Any:
            # nz: the field line's state, 1 biased, 0 off (a row-by-row array between its row's
            # windows: H = 0 closes the gate, g(0, J) = 0, for the write and the reset current)
            j = nz * (fire * j_rst + (1.0 - fire) * u)
            g = window(xp, h, j)  # with the field and the current held: once, not in every stage
            return lambda y: stack([f(xp, y[0], j, g)], xp)

        def local_rhs(y: Any, fire: Any, u: Any, nz: Any, xp: Any) -> Any:
            return held_rhs(fire, u, nz, xp)(y)

        v_hi, v_lo = self.thresholds_v()
        d = self.device
        if self.hall_mode:  # the read-out is gain * m
            state_thresholds = (0, v_hi / gain, v_lo / gain)
        else:  # the MTJ divider is monotone in m; its thresholds are V_out(m_th), V_out(m_reset)
            state_thresholds = (0, d.m_th, d.m_reset)
        return CellDynamics(
            y0=np.array([d.m_rest]),
            local_rhs=local_rhs,
            held_rhs=held_rhs,
            comparator_input=readout,
            schmitt=schmitt_params(self.comparator, v_hi, v_lo),
            atol=np.array([1e-12]),
            state_names=("m",),
            drive=drive,
            stimulus=stimulus,
            threshold_state=state_thresholds,
            bounds=((d.m_min, d.m_max),),
        )

    def report_extras(self, waveforms: Any, spikes: np.ndarray, releases: np.ndarray) -> dict[str, Any]:
        h = self.fieldline.h_bias_oe
        out: dict[str, Any] = {
            "field": {
                "h_bias_oe": h,
                "i_bias_a": self.fieldline.i_bias_a,
                "gate_at_bias": float(
                    _bound(FIELD_WINDOW, self.gate)(np, h, self.drive_current_density_nominal())
                ),
                "k_h_oe_per_a": self.fieldline.k_h_oe_per_a,
            },
            "readout_mode": "hall" if self.hall_mode else "mtj",
        }
        if self.hall_mode:
            centre, sigma = threshold_window(self.hall, h)
            out["threshold_window_v"] = {"centre_v": centre, "half_width_v": sigma}
        return out

    def network_cell(self) -> FieldGatedCell:
        return dataclasses.replace(self, device=self.device.replace(k_sat=SHARP_K_SAT))

    def drive_current_density_nominal(self) -> float:
        return self.default_drive().amplitude


def _divider_fn(cell: FieldGatedCell, xp: Any = np) -> Any:
    from spinspice.circuits.cell import DWLIFCell

    return DWLIFCell(device=cell.device, mtj=cell.mtj, divider=cell.divider).readout_function(xp)
