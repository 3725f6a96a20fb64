r"""Energy drawn from supplies: the integral of V*I over the simulation.

A supply is an independent voltage source; SPICE reports its branch current
as positive when it flows *into* the positive terminal, so the power a
source delivers is ``P = -V I`` and the energy ``E = -\int V I dt``
(trapezoidal rule on the simulator's own time points).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.integrate import cumulative_trapezoid

__all__ = ["cumulative_energy_j", "delivered_energy_j", "delivered_power_w", "energy_between_j"]


def delivered_power_w(v_v: np.ndarray | float, i_a: np.ndarray) -> np.ndarray:
    """Power a source delivers at each time point, ``-V I`` [W]."""
    return -np.asarray(v_v, dtype=float) * np.real(np.asarray(i_a, dtype=float))


def cumulative_energy_j(t_s: np.ndarray, v_v: np.ndarray | float, i_a: np.ndarray) -> np.ndarray:
    """Energy delivered by a source from t[0] to each t[k] [J]."""
    power = np.broadcast_to(delivered_power_w(v_v, i_a), np.shape(t_s))
    return cumulative_trapezoid(power, t_s, initial=0.0)


def delivered_energy_j(t_s: np.ndarray, v_v: np.ndarray | float, i_a: np.ndarray) -> float:
    """Total energy delivered by a source over the whole run [J]."""
    return float(cumulative_energy_j(t_s, v_v, i_a)[-1])


def energy_between_j(
    t_s: np.ndarray, cumulative: Mapping[str, np.ndarray], t0_s: float, t1_s: float
) -> dict[str, float]:
    """Energy per component between two instants (interpolated cumulative energy)."""
    return {name: float(np.interp(t1_s, t_s, e) - np.interp(t0_s, t_s, e)) for name, e in cumulative.items()}
