"""The printers must reproduce sympy's own value of an expression."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import torch

from spinspice.circuits.registry import MODELS
from spinspice.models.expr import Equation, PythonPrinter, smooth_clip, softplus, symbols

x, y, k = symbols(["x", "y", "k"])

EXPRESSIONS = [
    (x + y) ** 2,
    (x - 2 * y) ** 3 / (1 + x**2),
    sp.sqrt(x**2 + y**2) - sp.Abs(x),
    sp.exp(-(1 - x) / k) * sp.tanh(y / k),
    softplus(x - 0.3, k),
    smooth_clip(3 * x, -1, 1, k),
    (x + y + 1) ** sp.Rational(1, 2) + 1 / (x + 2) ** 2,
    x ** sp.Float(2.5),
    sp.log(1 + x**2) * sp.Rational(1, 3),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
def test_numeric_backends_match_sympy(expr: sp.Expr) -> None:
    eq = Equation("t", expr, inputs=(x, y), params=(k,), unit="1", doc="test")
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(0.05, 0.9, 50), rng.uniform(-0.9, 0.9, 50)
    ref = np.array([float(expr.subs({x: a, y: b, k: 0.05}).evalf(30)) for a, b in zip(xs, ys, strict=True)])
    got = eq(xs, ys, params={"k": 0.05})
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300)
    got_t = eq(
        torch.tensor(xs, dtype=torch.float64),
        torch.tensor(ys, dtype=torch.float64),
        params={"k": 0.05},
        backend="torch",
    )
    np.testing.assert_allclose(got_t.numpy(), ref, rtol=1e-12, atol=1e-300)


def test_power_of_a_sum_is_parenthesised() -> None:
    # regression: "(a)*b + c" squared must not print as "(a)*b + c*(a)*b + c"
    text = PythonPrinter().doprint((sp.Float(2.0) * x + y) ** 2)
    assert eval(text, {"x": 1.0, "y": 1.0}) == 9.0


def test_non_portable_function_is_rejected() -> None:
    with pytest.raises(NotImplementedError, match="sin"):
        Equation("bad", sp.sin(x), inputs=(x,), params=(), unit="1", doc="")


@pytest.mark.parametrize("spec", MODELS.values(), ids=lambda s: s.name)
def test_registry_equations_compile_for_both_backends(spec) -> None:
    for eq in spec.equations:
        assert callable(eq.numeric("numpy")) and callable(eq.numeric("torch"))
