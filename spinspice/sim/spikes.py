"""Spike extraction from simulated waveforms."""

from __future__ import annotations

import numpy as np

__all__ = ["crossings", "match_spikes"]


def crossings(t_s: np.ndarray, x: np.ndarray, level: float, direction: str = "rising") -> np.ndarray:
    """Times where ``x`` crosses ``level`` (linear interpolation between points).

    ``direction`` is ``"rising"`` or ``"falling"``.  A sample exactly at the
    level counts once, on the side it leaves.
    """
    t_s = np.asarray(t_s, dtype=float)
    x = np.real(np.asarray(x, dtype=float))
    if direction == "rising":
        idx = np.where((x[:-1] < level) & (x[1:] >= level))[0]
    elif direction == "falling":
        idx = np.where((x[:-1] >= level) & (x[1:] < level))[0]
    else:
        raise ValueError(f"direction must be 'rising' or 'falling', not {direction!r}")
    x0, x1 = x[idx], x[idx + 1]
    frac = np.where(x1 != x0, (level - x0) / np.where(x1 != x0, x1 - x0, 1.0), 0.0)
    return t_s[idx] + frac * (t_s[idx + 1] - t_s[idx])


def match_spikes(a_s: np.ndarray, b_s: np.ndarray) -> tuple[int, np.ndarray]:
    """Compare two spike trains in order: ``(n_compared, a - b)`` for the common prefix."""
    n = int(min(len(a_s), len(b_s)))
    return n, np.asarray(a_s[:n], float) - np.asarray(b_s[:n], float)
