r"""Fixed-step integration of a cell's dynamics in torch (or numpy).

The same :class:`~spinspice.circuits.cellbase.CellDynamics` the scipy
reference integrates, advanced with a fixed step ``dt``:

* device states: classical RK4 with the firing flag held over the step; a
  step containing a kink of the drive (``dyn.breakpoints``, the pulse edges)
  is split there;
* comparator core ``s``: the exact update of ``ds/dt = (target - s)/tau``
  for a target held over the step, ``s' = target + (s - target) exp(-dt/tau)``,
  with ``target = s + tau * SCHMITT_RATE(x, s)`` -- stable for any ``dt``, so
  a coarse step degrades gracefully to an instantaneous comparator;
* spikes: the instants ``s`` crosses 1/2.  A step in which ``s`` crosses is
  redone in :data:`REFINE` sub-steps (the firing flag switching between
  them), and the crossing is interpolated inside its sub-step: switching
  instants and the reset they trigger are resolved to ``dt / REFINE``.

It runs on batches (``y`` of shape ``(n_states, batch)``) and is the
differentiable torch path; spike times agree with ngspice to about one step.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np

from spinspice.circuits.cellbase import CellDynamics
from spinspice.errors import ModelParameterError
from spinspice.models.schmitt import SCHMITT_RATE

__all__ = ["REFINE", "StepResult", "step_run"]

#: sub-steps of a step in which the comparator switches (event refinement)
REFINE = 16
#: fixed-point iterations of the comparator update per step
COMPARATOR_ITERATIONS = 4


@dataclasses.dataclass(frozen=True)
class StepResult:
    """Spike and release times per batch element, and optional traces."""

    spike_times_s: list[np.ndarray]
    release_times_s: list[np.ndarray]
    t_s: np.ndarray | None
    y: np.ndarray | None


def step_run(
    dyn: CellDynamics,
    t_stop_s: float,
    dt_s: float,
    *,
    batch: int = 1,
    backend: str = "torch",
    record: bool = False,
    stop_after_spikes: int | None = None,
) -> StepResult:
    """Integrate ``dyn`` from its initial state for ``t_stop_s`` with step ``dt_s``.

    ``stop_after_spikes=n`` ends the run early once every batch element has
    fired ``n`` times (pulse-count experiments need only the first spike).
    """
    if not (dt_s > 0 and t_stop_s > 0):
        raise ModelParameterError("step_run needs dt_s > 0 and t_stop_s > 0")
    if backend == "torch":
        import torch

        xp: Any = torch
        y = torch.tensor(np.asarray(dyn.y0, float), dtype=torch.float64)[:, None].repeat(1, batch)
        s = torch.zeros(batch, dtype=torch.float64)
    elif backend == "numpy":
        xp = np
        y = np.repeat(np.asarray(dyn.y0, float)[:, None], batch, axis=1)
        s = np.zeros(batch)
    else:
        raise ModelParameterError(f"unknown backend {backend!r}; use 'torch' or 'numpy'")
    f_s = SCHMITT_RATE.numeric(backend)
    p_s = tuple(SCHMITT_RATE.param_values(dyn.schmitt).values())
    tau = dyn.schmitt["tau_comp_s"]
    n = math.ceil(t_stop_s / dt_s)
    spikes: list[list[float]] = [[] for _ in range(batch)]
    releases: list[list[float]] = [[] for _ in range(batch)]
    ts, ys = [], []

    kinks = np.asarray(dyn.breakpoints(t_stop_s), dtype=float)

    def rk4(t: float, y: Any, s: Any, h: float) -> tuple[Any, Any]:
        fire = (s > 0.5) * 1.0
        k1 = dyn.rhs(t, y, fire, xp)
        k2 = dyn.rhs(t + h / 2, y + h / 2 * k1, fire, xp)
        k3 = dyn.rhs(t + h / 2, y + h / 2 * k2, fire, xp)
        k4 = dyn.rhs(t + h, y + h * k3, fire, xp)
        y_new = y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        x, decay = dyn.comparator_input(y_new, xp), math.exp(-h / tau)
        s_new = s
        for _ in range(COMPARATOR_ITERATIONS):  # the target depends on s (hysteresis): iterate
            target = s_new + tau * f_s(x, s_new, *p_s)
            s_new = target + (s - target) * decay
        return y_new, s_new

    def advance(t: float, y: Any, s: Any, h: float) -> tuple[Any, Any]:
        # RK4 across a kink of the drive (pulse edge) loses an order: split the step there
        lo, hi = np.searchsorted(kinks, [t + 1e-9 * h, t + h - 1e-9 * h])
        edges = [t, *kinks[lo:hi], t + h]
        for a, b in itertools.pairwise(edges):
            y, s = rk4(a, y, s, b - a)
        return y, s

    def crossed(s: Any, s_new: Any) -> tuple[Any, Any]:
        return (s < 0.5) & (s_new >= 0.5), (s >= 0.5) & (s_new < 0.5)

    for k in range(n):
        t = k * dt_s
        y_new, s_new = advance(t, y, s, dt_s)
        up, down = crossed(s, s_new)
        if bool(up.any()) or bool(down.any()):
            # the comparator switches in this step: redo it in REFINE sub-steps so that the
            # switching instant, and the change of the device's drive it causes, are resolved
            # to dt / REFINE rather than quantised to the step
            h = dt_s / REFINE
            y_new, s_new = y, s
            for m in range(REFINE):
                y_sub, s_sub = advance(t + m * h, y_new, s_new, h)
                up, down = crossed(s_new, s_sub)
                if bool(up.any()) or bool(down.any()):
                    frac = (0.5 - s_new) / (s_sub - s_new)
                    for b in range(batch):
                        when = t + (m + float(frac[b])) * h
                        if bool(up[b]):
                            spikes[b].append(when)
                        elif bool(down[b]):
                            releases[b].append(when)
                y_new, s_new = y_sub, s_sub
        y, s = y_new, s_new
        if stop_after_spikes is not None and all(len(v) >= stop_after_spikes for v in spikes):
            break
        if record:
            ts.append(t + dt_s)
            ys.append(np.asarray(y[:, 0] if backend == "numpy" else y[:, 0].detach().numpy()))
    return StepResult(
        spike_times_s=[np.array(v) for v in spikes],
        release_times_s=[np.array(v) for v in releases],
        t_s=np.array(ts) if record else None,
        y=np.array(ys).T if record else None,
    )
