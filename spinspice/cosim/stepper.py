r"""Fixed-step integration of a cell's dynamics in torch (or numpy).

The same :class:`~spinspice.circuits.cellbase.CellDynamics` the scipy
reference integrates, advanced with a fixed step ``dt``:

* device states: classical RK4 with the firing flag held over the step;
* comparator core ``s``: the exact update of ``ds/dt = (target - s)/tau``
  for a target held over the step, ``s' = target + (s - target) exp(-dt/tau)``,
  with ``target = s + tau * SCHMITT_RATE(x, s)`` -- stable for any ``dt``, so
  a coarse step degrades gracefully to an instantaneous comparator;
* spikes: the instants ``s`` crosses 1/2, interpolated inside the step.

It runs on batches (``y`` of shape ``(n_states, batch)``) and is the
differentiable torch path; spike times agree with ngspice to about one step.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from spinspice.circuits.cellbase import CellDynamics
from spinspice.errors import ModelParameterError
from spinspice.models.schmitt import SCHMITT_RATE

__all__ = ["StepResult", "step_run"]


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
) -> StepResult:
    """Integrate ``dyn`` from its initial state for ``t_stop_s`` with step ``dt_s``."""
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
    decay = math.exp(-dt_s / tau)
    n = math.ceil(t_stop_s / dt_s)
    spikes: list[list[float]] = [[] for _ in range(batch)]
    releases: list[list[float]] = [[] for _ in range(batch)]
    ts, ys = [], []
    for k in range(n):
        t = k * dt_s
        fire = (s > 0.5) * 1.0
        k1 = dyn.rhs(t, y, fire, xp)
        k2 = dyn.rhs(t + dt_s / 2, y + dt_s / 2 * k1, fire, xp)
        k3 = dyn.rhs(t + dt_s / 2, y + dt_s / 2 * k2, fire, xp)
        k4 = dyn.rhs(t + dt_s, y + dt_s * k3, fire, xp)
        y = y + dt_s / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        x = dyn.comparator_input(y, xp)
        target = s + tau * f_s(x, s, *p_s)
        s_new = target + (s - target) * decay
        up = (s < 0.5) & (s_new >= 0.5)
        down = (s >= 0.5) & (s_new < 0.5)
        if bool(up.any()) or bool(down.any()):
            frac = (0.5 - s) / (s_new - s)
            for b in range(batch):
                when = t + dt_s * float(frac[b])
                if bool(up[b]):
                    spikes[b].append(when)
                elif bool(down[b]):
                    releases[b].append(when)
        s = s_new
        if record:
            ts.append(t + dt_s)
            ys.append(np.asarray(y[:, 0] if backend == "numpy" else y[:, 0].detach().numpy()))
    return StepResult(
        spike_times_s=[np.array(v) for v in spikes],
        release_times_s=[np.array(v) for v in releases],
        t_s=np.array(ts) if record else None,
        y=np.array(ys).T if record else None,
    )
