"""Test-only scipy integrator of paper 001 Eq. 4 (the DW-LIF device alone, with its reset rule).

The yardstick of ``test_models.py``: it lives with the tests because ``spinspice.models``
never imports an integrator or a simulator (STYLE.md).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.integrate import solve_ivp

from spinspice.errors import ModelParameterError
from spinspice.models.dwlif import DWLIF_RHS, DWLIFParams
from spinspice.models.waveforms import PulseTrain

__all__ = ["ReferenceResult", "reference_run"]


@dataclasses.dataclass(frozen=True)
class ReferenceResult:
    """Outcome of :func:`reference_run`."""

    spike_times_s: np.ndarray
    release_times_s: np.ndarray
    t_s: np.ndarray
    m: np.ndarray


def reference_run(
    p: DWLIFParams,
    drive: PulseTrain,
    t_stop_s: float,
    *,
    m0: float | None = None,
    rtol: float = 1e-10,
    atol: float = 1e-13,
) -> ReferenceResult:
    """Integrate Eq. 4 with the reset rule using ``scipy.integrate.solve_ivp``.

    ``drive`` gives J(t) in A/m^2.  Integration is split at every kink of the
    drive waveform and stopped at each threshold event (m = m_th rising: a
    spike; m = m_reset falling during reset: release), so the event times are
    accurate to the solver tolerance.  Independent of ngspice: it is the
    yardstick for the circuit.
    """
    if t_stop_s <= 0:
        raise ModelParameterError(f"t_stop_s = {t_stop_s:g} s must be > 0")
    f = DWLIF_RHS.numeric("numpy")
    pv = tuple(DWLIF_RHS.param_values(p).values())
    breaks = drive.breakpoints(t_stop_s)
    t, m = 0.0, float(p.m_rest if m0 is None else m0)
    firing = False
    spikes: list[float] = []
    releases: list[float] = []
    ts: list[np.ndarray] = [np.array([t])]
    ms: list[np.ndarray] = [np.array([m])]

    def rhs(time: float, y: np.ndarray, fire: bool) -> list[float]:
        j = -p.j_reset_a_per_m2 if fire else float(drive.value(time))
        return [float(f(y[0], j, *pv))]

    def ev_spike(time: float, y: np.ndarray, fire: bool) -> float:
        return y[0] - p.m_th

    def ev_release(time: float, y: np.ndarray, fire: bool) -> float:
        return y[0] - p.m_reset

    ev_spike.terminal, ev_spike.direction = True, 1.0  # type: ignore[attr-defined]
    ev_release.terminal, ev_release.direction = True, -1.0  # type: ignore[attr-defined]

    guard = 0
    while t < t_stop_s * (1 - 1e-15):
        guard += 1
        if guard > 1_000_000:  # pragma: no cover - defensive
            raise ModelParameterError("reference integration did not progress")
        if not firing and m >= p.m_th:
            spikes.append(t)
            firing = True
            continue
        if firing and m <= p.m_reset:
            releases.append(t)
            firing = False
            continue
        later = breaks[breaks > t * (1 + 1e-14) + 1e-21]
        t_next = float(later[0]) if later.size else t_stop_s
        sol = solve_ivp(
            rhs,
            (t, t_next),
            [m],
            args=(firing,),
            method="DOP853",
            rtol=rtol,
            atol=atol,
            events=ev_release if firing else ev_spike,
            max_step=max(t_next - t, 1e-15),
        )
        if sol.status == -1:  # pragma: no cover - solver failure
            raise ModelParameterError(f"reference integration failed: {sol.message}")
        ts.append(sol.t[1:])
        ms.append(sol.y[0, 1:])
        if sol.status == 1:  # event
            t = float(sol.t_events[0][0])
            m = float(p.m_reset if firing else p.m_th)
            ts.append(np.array([t]))
            ms.append(np.array([m]))
            if firing:
                releases.append(t)
            else:
                spikes.append(t)
            firing = not firing
        else:
            t, m = t_next, float(sol.y[0, -1])
    return ReferenceResult(
        spike_times_s=np.array(spikes),
        release_times_s=np.array(releases),
        t_s=np.concatenate(ts),
        m=np.concatenate(ms),
    )
