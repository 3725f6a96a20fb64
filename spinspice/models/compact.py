"""Dialect-neutral description of a compact model (for Verilog-A output).

A :class:`CompactModel` says which terminals and internal nodes a device has,
which parameters it exposes, which intermediate quantities are *retrieved*
(``(*retrieve*)`` variables that ``verilogae`` can evaluate) and which branch
contributions make up its behaviour.  All expressions come from the model's
:class:`~spinspice.models.expr.Equation` objects, so the Verilog-A text
(written by :mod:`spinspice.netlists.verilog_a`), the ngspice B-sources and
the numpy/torch functions share one definition.

State is always an explicit node (``I(m) <+ ddt(V(m)) - dm/dt``, a 1 F
capacitor), never a hidden variable: OpenVAF forbids hidden state and the
same structure is what the ngspice subcircuit does.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from spinspice.models.params import ParamInfo

__all__ = ["CompactModel", "Contribution", "Variable"]


@dataclasses.dataclass(frozen=True)
class Variable:
    """A named intermediate ``name = expr`` (retrieved when ``retrieve``)."""

    name: str
    expr: sp.Expr
    unit: str
    doc: str
    retrieve: bool = True


@dataclasses.dataclass(frozen=True)
class Contribution:
    """``I(p, n) <+ expr`` (or ``ddt(expr)`` when ``ddt``); ``V(p, n) <+ expr`` when ``potential``."""

    p: str
    n: str | None
    expr: sp.Expr
    ddt: bool = False
    potential: bool = False


@dataclasses.dataclass(frozen=True)
class CompactModel:
    """Everything a Verilog-A writer needs, nothing dialect specific."""

    name: str
    doc: str
    ports: tuple[str, ...]
    internal: tuple[str, ...]
    params: tuple[ParamInfo, ...]
    values: tuple[tuple[str, float], ...]
    variables: tuple[Variable, ...]
    contributions: tuple[Contribution, ...]

    def value(self, name: str) -> float:
        return dict(self.values)[name]
