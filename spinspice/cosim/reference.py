r"""Independent scipy reference for a neuron cell.

Integrates, with ``scipy.integrate.solve_ivp`` (LSODA, event location), the
same equations the circuit implements -- and nothing from ngspice:

* the device, dm/dt = f(m, J) (paper 001 Eq. 4, :data:`DWLIF_RHS`);
* the read divider V_out(m) (Eq. 2-3, solved by fixed-point iteration);
* the comparator core ds/dt (:data:`SCHMITT_RATE`);
* the reset rule: while the comparator output is high (s > 1/2) the input is
  steered away and the saturated reset NMOS forces J = -j_reset; otherwise
  the track carries the write current, J = J_in(t).

Spike times are the instants s rises through 1/2 (the comparator output
crossing V_dd/2); releases are the instants it falls back.  The CMOS output
inverter and the finite switching of the steering FETs are the only parts of
the circuit not modelled here (sub-picosecond with the default sizing).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.integrate import solve_ivp

from spinspice.circuits.cell import NeuronCellParams
from spinspice.circuits.comparator import SCHMITT_RATE, schmitt_params
from spinspice.errors import ModelParameterError, SimulationError
from spinspice.models.dwlif import DWLIF_RHS
from spinspice.models.mtj import resistance_equation
from spinspice.models.waveforms import PulseTrain

__all__ = ["CellReference", "cell_reference_run"]


@dataclasses.dataclass(frozen=True)
class CellReference:
    spike_times_s: np.ndarray
    release_times_s: np.ndarray
    t_s: np.ndarray
    m: np.ndarray
    s: np.ndarray


def cell_reference_run(
    cell: NeuronCellParams,
    drive: PulseTrain,
    t_stop_s: float,
    *,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> CellReference:
    """Reference spike times of ``cell`` driven by ``drive`` (J in A/m^2)."""
    if not t_stop_s > 0:
        raise ModelParameterError(f"t_stop_s = {t_stop_s:g} s must be > 0")
    dev = cell.device
    f_m = DWLIF_RHS.numeric("numpy")
    p_m = tuple(DWLIF_RHS.param_values(dev).values())
    f_s = SCHMITT_RATE.numeric("numpy")
    p_s = tuple(
        SCHMITT_RATE.param_values(schmitt_params(cell.comparator, cell.v_th_hi_v, cell.v_th_lo_v)).values()
    )
    r_eq = resistance_equation(cell.mtj)
    f_r = r_eq.numeric("numpy")
    p_r = tuple(r_eq.param_values(cell.mtj).values())
    r_read, v_read = cell.divider.r_read_ohm, cell.divider.v_read_v

    def v_out(m: float) -> float:
        v = 0.5 * v_read
        for _ in range(60):
            r = f_r(m, v, *p_r)
            v_new = r / (r + r_read) * v_read
            if abs(v_new - v) < 1e-16:
                return v_new
            v = v_new
        return v

    def rhs(t: float, y: np.ndarray, firing: bool) -> list[float]:
        j = -dev.j_reset_a_per_m2 if firing else float(drive.value(t))
        return [float(f_m(y[0], j, *p_m)), float(f_s(v_out(y[0]), y[1], *p_s))]

    def crossing(t: float, y: np.ndarray, firing: bool) -> float:
        return y[1] - 0.5

    crossing.terminal = True  # type: ignore[attr-defined]

    breaks = drive.breakpoints(t_stop_s)
    t, y = 0.0, np.array([dev.m_rest, 0.0])
    firing = False
    spikes: list[float] = []
    releases: list[float] = []
    ts, ms, ss = [np.array([t])], [y[:1].copy()], [y[1:].copy()]
    steps = 0
    while t < t_stop_s * (1 - 1e-15):
        steps += 1
        if steps > 100_000:  # pragma: no cover - defensive
            raise SimulationError("reference integration made no progress")
        later = breaks[breaks > t * (1 + 1e-14) + 1e-21]
        t_next = float(later[0]) if later.size else t_stop_s
        crossing.direction = -1.0 if firing else 1.0  # type: ignore[attr-defined]
        sol = solve_ivp(
            rhs,
            (t, t_next),
            y,
            args=(firing,),
            method="LSODA",
            rtol=rtol,
            atol=[atol, 1e-9],
            events=crossing,
            first_step=min(1e-13, (t_next - t) / 4),
        )
        if sol.status == -1:  # pragma: no cover - solver failure
            raise SimulationError(f"reference integration failed: {sol.message}")
        ts.append(sol.t[1:])
        ms.append(sol.y[0, 1:])
        ss.append(sol.y[1, 1:])
        if sol.status == 1:
            t = float(sol.t_events[0][0])
            y = np.array(sol.y_events[0][0], dtype=float)
            (releases if firing else spikes).append(t)
            firing = not firing
        else:
            t, y = t_next, sol.y[:, -1].copy()
    return CellReference(
        spike_times_s=np.array(spikes),
        release_times_s=np.array(releases),
        t_s=np.concatenate(ts),
        m=np.concatenate(ms),
        s=np.concatenate(ss),
    )
