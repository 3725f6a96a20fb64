r"""A hysteretic switch as a smooth state equation (a Schmitt trigger).

State ``s`` in [0, 1] relaxes with time constant ``tau`` towards a smooth
step of the input ``x`` around a threshold that switches with ``s``::

    ds/dt  = (target - s) / tau
    target = (1 + tanh((x - x_thr(s)) / w)) / 2
    x_thr  = x_hi - (x_hi - x_lo) h(s),   h(s) = (1 + tanh((s - 1/2)/k_h)) / 2

``s`` goes to 1 when ``x`` rises through ``x_hi`` and back to 0 when it falls
through ``x_lo``.  The threshold moves only when ``s`` passes 1/2 (``h`` is
flat near 0 and 1), so nothing regenerates before the crossing.  It is the
comparator core of every neuron cell and the auto-reset flag of the DW-MTJ
neuron; the circuits and the scipy reference share this one definition.
"""

from __future__ import annotations

import sympy as sp

from spinspice.models.expr import Equation, symbols

__all__ = ["SCHMITT_RATE", "sharp_step"]

_x, _s = symbols(["v_in_v", "s"])
_xhi, _xlo, _w, _tau, _kh = symbols(["v_hi_v", "v_lo_v", "width_comp_v", "tau_comp_s", "k_hyst"])


def sharp_step(s: sp.Expr, width: float) -> sp.Expr:
    """Smooth step of ``s`` around 1/2 of the given width (0 below, 1 above)."""
    return (1 + sp.tanh((s - sp.Rational(1, 2)) / width)) / 2


#: ds/dt [1/s] of the Schmitt state; inputs (x, s)
SCHMITT_RATE = Equation(
    name="schmitt_rate",
    expr=(
        (1 + sp.tanh((_x - (_xhi - (_xhi - _xlo) * (1 + sp.tanh((_s - sp.Rational(1, 2)) / _kh)) / 2)) / _w))
        / 2
        - _s
    )
    / _tau,
    inputs=(_x, _s),
    params=(_xhi, _xlo, _w, _tau, _kh),
    unit="1/s",
    doc="ds/dt of a hysteretic switch (comparator core / auto-reset flag) [1/s]",
)
