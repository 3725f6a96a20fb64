r"""Independent scipy reference for any neuron cell.

Integrates, with ``scipy.integrate.solve_ivp`` (LSODA, event location), the
equations a cell says it implements (:class:`~spinspice.circuits.cellbase.CellDynamics`)
-- and nothing from ngspice:

* the device states, ``dy/dt = rhs(t, y, firing)``, from the models'
  symbolic equations (DW-LIF Eq. 4, SAF-LIF, DW-MTJ, ...);
* the read-out the comparator watches (e.g. the MTJ divider of Eq. 2-3);
* the comparator core ``ds/dt`` (:data:`~spinspice.circuits.comparator.SCHMITT_RATE`);
* the firing rule: the cell fires while ``s > 1/2`` (the comparator output
  above V_dd/2) and the model's ``rhs`` says what firing does (a reset
  current, a blocked input, a discharge, nothing).

Spike times are the instants ``s`` rises through 1/2; releases, the instants
it falls back.  The CMOS output inverters and the finite switching of the
steering FETs are the only parts of a circuit not modelled here
(sub-picosecond with the default sizing).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.integrate import solve_ivp

from spinspice.circuits.cellbase import CellDynamics
from spinspice.circuits.comparator import SCHMITT_RATE
from spinspice.errors import ModelParameterError, SimulationError

__all__ = ["CellReference", "cell_reference_run"]


@dataclasses.dataclass(frozen=True)
class CellReference:
    spike_times_s: np.ndarray
    release_times_s: np.ndarray
    t_s: np.ndarray
    y: np.ndarray  # (n_states, n_points) device states
    s: np.ndarray  # comparator core state
    state_names: tuple[str, ...]

    def state(self, name: str) -> np.ndarray:
        return self.y[self.state_names.index(name)]


def cell_reference_run(dyn: CellDynamics, t_stop_s: float, *, rtol: float = 1e-9) -> CellReference:
    """Reference spike times of a cell described by ``dyn`` over ``[0, t_stop_s]``."""
    if not t_stop_s > 0:
        raise ModelParameterError(f"t_stop_s = {t_stop_s:g} s must be > 0")
    f_s = SCHMITT_RATE.numeric("numpy")
    p_s = tuple(SCHMITT_RATE.param_values(dyn.schmitt).values())
    n = len(dyn.y0)
    atol = np.concatenate([np.broadcast_to(dyn.atol, (n,)), [1e-9]])

    def rhs(t: float, y: np.ndarray, firing: bool) -> np.ndarray:
        dev = dyn.rhs(t, y[:n], 1.0 if firing else 0.0, np)
        ds = float(f_s(dyn.comparator_input(y[:n], np), y[n], *p_s))
        return np.append(dev, ds)

    def crossing(t: float, y: np.ndarray, firing: bool) -> float:
        return y[n] - 0.5

    crossing.terminal = True  # type: ignore[attr-defined]

    breaks = np.asarray(dyn.breakpoints(t_stop_s), dtype=float)
    t, y = 0.0, np.append(np.asarray(dyn.y0, dtype=float), 0.0)
    firing = False
    spikes: list[float] = []
    releases: list[float] = []
    ts, ys = [np.array([t])], [y[:, None].copy()]
    steps = 0
    while t < t_stop_s * (1 - 1e-15):
        steps += 1
        if steps > 200_000:  # pragma: no cover - defensive
            raise SimulationError("reference integration made no progress")
        later = breaks[breaks > t * (1 + 1e-14) + 1e-21]
        t_next = min(float(later[0]), t_stop_s) if later.size else t_stop_s
        crossing.direction = -1.0 if firing else 1.0  # type: ignore[attr-defined]
        sol = solve_ivp(
            rhs,
            (t, t_next),
            y,
            args=(firing,),
            method="LSODA",
            rtol=rtol,
            atol=atol,
            events=crossing,
            first_step=min(1e-13, (t_next - t) / 4),
        )
        if sol.status == -1:  # pragma: no cover - solver failure
            raise SimulationError(f"reference integration failed: {sol.message}")
        ts.append(sol.t[1:])
        ys.append(sol.y[:, 1:])
        if sol.status == 1:
            t = float(sol.t_events[0][0])
            y = np.array(sol.y_events[0][0], dtype=float)
            (releases if firing else spikes).append(t)
            firing = not firing
        else:
            t, y = t_next, sol.y[:, -1].copy()
    y_all = np.concatenate(ys, axis=1)
    return CellReference(
        spike_times_s=np.array(spikes),
        release_times_s=np.array(releases),
        t_s=np.concatenate(ts),
        y=y_all[:n],
        s=y_all[n],
        state_names=dyn.state_names,
    )
