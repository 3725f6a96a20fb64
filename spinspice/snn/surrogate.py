"""ArcTan surrogate gradient (as snnTorch's ``surrogate.atan``), straight-through form.

The forward value of a spike is decided by the device dynamics (an exact
threshold crossing inside the write slot); the backward pass uses the
derivative of the smooth ArcTan step of a normalised distance ``z`` to the
threshold:

    S~(z) = 1/pi * arctan(pi * alpha * z / 2) + 1/2
    dS~/dz = (alpha / 2) / (1 + (pi * alpha * z / 2)^2)
"""

from __future__ import annotations

import math

import torch

__all__ = ["atan_step", "straight_through"]


def atan_step(z: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    """The smooth ArcTan step S~(z) whose derivative is the surrogate gradient."""
    return torch.atan(math.pi * alpha * z / 2) / math.pi + 0.5


def straight_through(exact: torch.Tensor, z: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    """``exact`` in the forward pass, d(atan_step(z))/dz in the backward pass."""
    soft = atan_step(z, alpha)
    return exact.detach() + (soft - soft.detach())  # exactly `exact` in the forward pass
