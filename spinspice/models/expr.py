"""The one symbolic definition behind every output of a device equation.

A device model writes its right-hand side once, as a sympy expression in
*input* symbols (state, drive) and *parameter* symbols named like the fields
of its :class:`~spinspice.models.params.ParamSet`.  From that single
:class:`Equation`:

* :meth:`Equation.numeric` compiles a numpy or torch function (here);
* ``spinspice.netlists`` prints the ngspice B-source and the Verilog-A
  expression (with :class:`ExprPrinter` subclasses).

Only a small, portable subset of functions is allowed (``exp log sqrt tanh
Abs`` and powers) so that every target supports every expression; anything
else raises ``NotImplementedError`` naming the function.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from spinspice.errors import ModelParameterError
from spinspice.units import format_float

__all__ = [
    "PORTABLE_FUNCTIONS",
    "SIMULATOR_FUNCTIONS",
    "Equation",
    "ExprPrinter",
    "PythonPrinter",
    "branch_current",
    "node_voltage",
    "smooth_clip",
    "softplus",
]

#: sympy function name -> neutral name every printer must map.
PORTABLE_FUNCTIONS = ("exp", "log", "sqrt", "tanh", "Abs")

_VREF = re.compile(r"^V\[(?P<p>[^,\]]+)(?:,(?P<n>[^\]]+))?\]$")
_IREF = re.compile(r"^I\[(?P<name>[^\]]+)\]$")


def node_voltage(p: str, n: str | None = None) -> sp.Symbol:
    """Symbol for the voltage of node ``p`` (to ground, or to node ``n``)."""
    return sp.Symbol(f"V[{p}]" if n is None else f"V[{p},{n}]", real=True)


def branch_current(element: str) -> sp.Symbol:
    """Symbol for the current through a (voltage-source) element, by local name."""
    return sp.Symbol(f"I[{element}]", real=True)


def softplus(x: sp.Expr, k: sp.Expr | float) -> sp.Expr:
    """Smooth ``max(x, 0)`` of width ``k``, overflow-free in every target.

    ``softplus_k(x) = max(x, 0) + k*ln(1 + exp(-|x|/k))`` with
    ``max(x, 0) = (x + |x|)/2``; never evaluates ``exp`` of a large positive
    argument, so ngspice cannot overflow even on wild Newton iterates.
    """
    return (x + sp.Abs(x)) / 2 + k * sp.log(1 + sp.exp(-sp.Abs(x) / k))


def smooth_clip(x: sp.Expr, lo: float | sp.Expr, hi: float | sp.Expr, k: sp.Expr | float) -> sp.Expr:
    """Smooth clamp of ``x`` into ``[lo, hi]`` (sharpness ``k``)."""
    return lo + softplus(x - lo, k) - softplus(x - hi, k)


@dataclasses.dataclass(frozen=True)
class Equation:
    """One device equation: ``expr(inputs; params)``.

    ``inputs`` are the symbols that vary during a simulation (state, drive,
    terminal voltages); ``params`` are symbols whose names are fields of a
    ParamSet and are substituted with numbers before printing or compiling.
    """

    name: str
    expr: sp.Expr
    inputs: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    unit: str
    doc: str

    def __post_init__(self) -> None:
        free = self.expr.free_symbols
        unknown = free - set(self.inputs) - set(self.params)
        if unknown:
            raise ModelParameterError(
                f"equation {self.name} uses undeclared symbols {sorted(map(str, unknown))}"
            )
        _check_portable(self.expr, self.name)

    # -- parameters ----------------------------------------------------
    def param_values(self, params: Mapping[str, float] | Any) -> dict[sp.Symbol, float]:
        """Numbers for :attr:`params` from a mapping or a ParamSet.

        A ParamSet may also supply *derived* parameters through properties of
        the same name (e.g. ``MTJParams.c_rest``).
        """
        out: dict[sp.Symbol, float] = {}
        for sym in self.params:
            if isinstance(params, Mapping):
                if sym.name not in params:
                    raise ModelParameterError(
                        f"equation {self.name} needs parameter {sym.name!r}, which is missing"
                    )
                out[sym] = float(params[sym.name])
            else:
                if not hasattr(params, sym.name):
                    raise ModelParameterError(
                        f"equation {self.name} needs parameter {sym.name!r}, which "
                        f"{type(params).__name__} does not define"
                    )
                out[sym] = float(getattr(params, sym.name))
        return out

    def substituted(self, params: Mapping[str, float] | Any) -> sp.Expr:
        """The expression with every parameter replaced by its number."""
        return self.expr.xreplace({s: sp.Float(v, 17) for s, v in self.param_values(params).items()})

    # -- numeric --------------------------------------------------------
    def numeric(self, backend: str = "numpy") -> Callable[..., Any]:
        """Compiled ``f(*inputs, *params)`` for ``backend`` in {numpy, torch}."""
        # looked up by identity first: hashing the equation hashes its expression, a cost on every
        # call of a device equation that is called in every RK4 stage
        hit = _NUMERIC_BY_ID.get((id(self), backend))
        if hit is not None and hit[0] is self:
            return hit[1]
        key = (self, backend)
        if key not in _NUMERIC_CACHE:
            _NUMERIC_CACHE[key] = _compile(self, backend)
        _NUMERIC_BY_ID[(id(self), backend)] = (self, _NUMERIC_CACHE[key])
        return _NUMERIC_CACHE[key]

    def __call__(self, *inputs: Any, params: Mapping[str, float] | Any, backend: str = "numpy") -> Any:
        fn = self.numeric(backend)
        values = self.param_values(params)
        return fn(*inputs, *(values[s] for s in self.params))


_NUMERIC_CACHE: dict[tuple[Equation, str], Callable[..., Any]] = {}
#: (id, backend) -> (equation, function); the equation is kept, so its id is never reused
_NUMERIC_BY_ID: dict[tuple[int, str], tuple[Equation, Callable[..., Any]]] = {}


def _check_portable(expr: sp.Expr, name: str) -> None:
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Function) and type(node).__name__ not in PORTABLE_FUNCTIONS:
            raise NotImplementedError(
                f"equation {name}: function {type(node).__name__} is not portable to "
                f"every target; use only {', '.join(PORTABLE_FUNCTIONS)}"
            )


class ExprPrinter(StrPrinter):
    """Printer base shared by the Python, ngspice and Verilog-A targets.

    Subclasses set :attr:`functions` (sympy name -> target name),
    :attr:`pow_template`, and implement :meth:`voltage` / :meth:`current` for
    circuit references.  Numbers are always printed as floats (Verilog-A would
    otherwise do integer division on ``1/2``).
    """

    functions: ClassVar[dict[str, str]] = {
        "exp": "exp",
        "log": "log",
        "sqrt": "sqrt",
        "tanh": "tanh",
        "Abs": "abs",
    }
    pow_template = "pow({base}, {exp})"

    def __init__(self, symbol_map: Mapping[str, str] | None = None) -> None:
        super().__init__({"full_prec": True})
        self.symbol_map = dict(symbol_map or {})

    # references to circuit quantities
    def voltage(self, p: str, n: str | None) -> str:
        raise NotImplementedError(f"{type(self).__name__} cannot print node voltages")

    def current(self, element: str) -> str:
        raise NotImplementedError(f"{type(self).__name__} cannot print branch currents")

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        name = expr.name
        if name in self.symbol_map:
            return self.symbol_map[name]
        match = _VREF.match(name)
        if match:
            return self.voltage(match.group("p"), match.group("n"))
        match = _IREF.match(name)
        if match:
            return self.current(match.group("name"))
        return name

    def _number(self, value: float) -> str:
        text = format_float(value)
        if re.fullmatch(r"-?\d+", text):
            text += ".0"
        return f"({text})" if text.startswith("-") else text

    def _print_Float(self, expr: sp.Float) -> str:
        return self._number(float(expr))

    def _print_Integer(self, expr: sp.Integer) -> str:
        return self._number(float(expr))

    def _print_Rational(self, expr: sp.Rational) -> str:
        return self._number(float(expr))

    def _print_NumberSymbol(self, expr: sp.Expr) -> str:
        return self._number(float(expr))

    _print_Pi = _print_NumberSymbol
    _print_Exp1 = _print_NumberSymbol

    def _print_Half(self, expr: sp.Expr) -> str:
        return self._number(0.5)

    def _print_One(self, expr: sp.Expr) -> str:
        return self._number(1.0)

    def _print_NegativeOne(self, expr: sp.Expr) -> str:
        return self._number(-1.0)

    def _print_Zero(self, expr: sp.Expr) -> str:
        return self._number(0.0)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.as_base_exp()
        b = self.parenthesize(base, 100)  # always parenthesise the base
        if exp.is_Integer:
            n = int(exp)
            if n == 0:
                return self._number(1.0)
            if 0 < n <= 4:
                return "(" + "*".join([b] * n) + ")"
            if -4 <= n < 0:
                return "(" + self._number(1.0) + "/(" + "*".join([b] * (-n)) + "))"
        if exp == sp.Rational(1, 2):
            return f"{self.functions['sqrt']}({self._print(base)})"
        if exp == sp.Rational(-1, 2):
            return f"({self._number(1.0)}/{self.functions['sqrt']}({self._print(base)}))"
        return self.pow_template.format(base=self._print(base), exp=self._print(exp))

    def parenthesize(self, item: Any, level: int, strict: bool = False) -> str:
        """Wrap every compound operand: correct in every target, whatever its precedence rules."""
        text = self._print(item)
        if isinstance(item, (sp.Symbol, sp.Function)) or (item.is_Number and not item.is_negative):
            return text
        if item.is_Number:  # negative numbers already print as "(-x)"
            return text
        return f"({text})"

    def _print_Function(self, expr: sp.Function) -> str:
        name = type(expr).__name__
        if name not in self.functions:
            raise NotImplementedError(
                f"{type(self).__name__}: function {name} is not supported by this target"
            )
        args = ", ".join(self._print(a) for a in expr.args)
        return f"{self.functions[name]}({args})"

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"{self.functions['Abs']}({self._print(expr.args[0])})"

    def _print_exp(self, expr: sp.Expr) -> str:
        return f"{self.functions['exp']}({self._print(expr.args[0])})"

    def _print_log(self, expr: sp.Expr) -> str:
        return f"{self.functions['log']}({self._print(expr.args[0])})"

    def _print_tanh(self, expr: sp.Expr) -> str:
        return f"{self.functions['tanh']}({self._print(expr.args[0])})"

    def _print_sqrt(self, expr: sp.Expr) -> str:  # pragma: no cover - sympy uses Pow
        return f"{self.functions['sqrt']}({self._print(expr.args[0])})"


#: function names shared by ngspice B-sources and Verilog-A (natural log is ``ln``)
SIMULATOR_FUNCTIONS: dict[str, str] = {
    "exp": "exp",
    "log": "ln",
    "sqrt": "sqrt",
    "tanh": "tanh",
    "Abs": "abs",
}


class PythonPrinter(ExprPrinter):
    """Python source calling functions of a namespace ``xp`` (numpy or torch)."""

    functions: ClassVar[dict[str, str]] = {
        "exp": "xp.exp",
        "log": "xp.log",
        "sqrt": "xp.sqrt",
        "tanh": "xp.tanh",
        "Abs": "xp.abs",
    }
    pow_template = "({base})**({exp})"

    def __init__(
        self, symbol_map: Mapping[str, str] | None = None, products: Mapping[sp.Expr, sp.Symbol] | None = None
    ) -> None:
        super().__init__(symbol_map)
        #: common sub-expressions that are products (``c = x*y``), reused in ``x*y/n`` (sympy's
        #: cse misses a product inside such a multiple of it)
        self.products = dict(products or {})

    def _print_Mul(self, expr: sp.Mul) -> str:
        # ``x*y/n`` -> ``c/n``: the same operations in the same order (the division by n last),
        # one product fewer; the expression itself, and so the order of its terms, is unchanged
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_Rational and abs(coeff.p) == 1 and coeff.q > 1 and rest in self.products:
            text = f"{self._print(self.products[rest])}/{self._number(float(coeff.q))}"
            return f"-{text}" if coeff.p < 0 else text
        return super()._print_Mul(expr)


class _TorchNamespace:
    """torch functions that also accept Python floats (constant sub-terms)."""

    def __init__(self) -> None:
        import torch

        self._torch = torch

    def _wrap(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        torch = self._torch

        def call(x: Any) -> Any:
            if not isinstance(x, torch.Tensor):
                x = torch.as_tensor(x, dtype=torch.get_default_dtype())
            return fn(x)

        return call

    def __getattr__(self, name: str) -> Callable[[Any], Any]:
        fn = self._wrap(getattr(self._torch, name))
        setattr(self, name, fn)  # cache: __getattr__ only runs for missing attributes
        return fn


def _compile(eq: Equation, backend: str) -> Callable[..., Any]:
    if backend == "numpy":
        xp: Any = np
    elif backend == "torch":
        xp = _TorchNamespace()
    else:
        raise ValueError(f"unknown numeric backend {backend!r}; use 'numpy' or 'torch'")
    args = [f"_a{i}" for i in range(len(eq.inputs) + len(eq.params))]
    mapping = {s.name: a for s, a in zip((*eq.inputs, *eq.params), args, strict=True)}
    # common sub-expressions once (the saturation of Eq. 4 repeats f and sqrt(f^2 + eps^2)):
    # torch evaluates every operation on whole tensors, so this halves the work
    # (compound bases of small integer powers are listed too, so that b*b evaluates b once)
    bases = [
        p.base
        for p in eq.expr.atoms(sp.Pow)
        if p.exp.is_Integer and 2 <= abs(int(p.exp)) <= 4 and not p.base.is_Atom
    ]
    replacements, reduced_all = sp.cse([eq.expr, *bases], symbols=sp.numbered_symbols("_c"))
    reduced = reduced_all[0]
    mapping.update({str(sym): str(sym) for sym, _ in replacements})
    printer = PythonPrinter(mapping)
    lines = []
    for sym, sub in replacements:  # each line reuses the products defined before it
        lines.append(f"    {sym} = {printer.doprint(sub)}")
        if sub.is_Mul:
            printer.products[sub] = sym
    lines.append(f"    return {printer.doprint(reduced)}")
    source = f"def {_py_name(eq.name)}({', '.join(args)}):\n" + "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {"xp": xp}
    exec(compile(source, f"<spinspice equation {eq.name}>", "exec"), namespace)
    fn = namespace[_py_name(eq.name)]
    fn.__doc__ = eq.doc
    fn.source = source  # type: ignore[attr-defined]
    return fn


def _py_name(name: str) -> str:
    return "eq_" + re.sub(r"\W", "_", name)


def symbols(names: Sequence[str]) -> tuple[sp.Symbol, ...]:
    """Real sympy symbols, one per name."""
    return tuple(sp.Symbol(n, real=True) for n in names)
