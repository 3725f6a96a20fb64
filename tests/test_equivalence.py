"""One definition, three outputs: numpy/torch, ngspice B-source and Verilog-A agree."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from spinspice.circuits.core import (
    BehavioralCurrent,
    Probe,
    Pwl,
    Subckt,
    Testbench,
    Transient,
    VoltageSource,
)
from spinspice.circuits.registry import MODELS
from spinspice.models import dwlif, mtj
from spinspice.models.expr import node_voltage
from spinspice.netlists.spice import format_testbench
from spinspice.netlists.verilog_a import format_verilog_a
from spinspice.sim.backends import BatchBackend

RNG = np.random.default_rng(7)
SAMPLES = {
    "m": RNG.uniform(-1.2, 1.2, 40),
    "j_a_per_m2": RNG.uniform(-4e11, 2e11, 40),
    "v_mtj_v": RNG.uniform(-0.3, 0.3, 40),
}


def _ngspice_eval(eq, params, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """Evaluate ``eq`` as an ngspice B-source: PWL inputs, one sample per time point."""
    n = len(next(iter(inputs.values())))
    period = 1e-9
    times = np.arange(n) * period + 0.4 * period  # middle of each flat segment
    elements = []
    subs = {}
    for k, sym in enumerate(eq.inputs):
        node = f"in{k}"
        pts: list[tuple[float, float]] = []
        for i, v in enumerate(inputs[sym.name]):  # hold each sample flat for 0.8 periods
            pts += [(i * period, float(v)), ((i + 0.8) * period, float(v))]
        elements.append(VoltageSource(f"src{k}", node, "0", wave=Pwl(tuple(pts))))
        subs[sym] = node_voltage(node)
    expr = eq.substituted(params).xreplace(subs)
    elements += [BehavioralCurrent("eval", "0", "out", expr), VoltageSource("meas", "out", "0")]
    tb = Testbench(
        title=f"evaluate {eq.name}",
        elements=tuple(elements),
        analysis=Transient(t_stop_s=n * period, t_step_s=0.1 * period, t_max_s=0.1 * period),
        probes=(Probe("y", "i", ("meas",)),),
    )
    wf = BatchBackend().run(format_testbench(tb))
    # the B-source pushes expr into "out"; the 0 V ammeter carries it to ground
    return np.interp(times, wf.time_s, wf["i(vmeas)"])


CASES = [
    (dwlif.DWLIF_RHS, dwlif.DWLIFParams()),
    (mtj.MTJ_RESISTANCE[True], mtj.MTJParams()),
    (mtj.MTJ_RESISTANCE[False], mtj.MTJParams(bias_dependence=False)),
]


@pytest.mark.ngspice
@pytest.mark.parametrize(("eq", "params"), CASES, ids=lambda c: getattr(c, "name", ""))
def test_ngspice_bsource_equals_numpy(eq, params) -> None:
    inputs = {s.name: SAMPLES[s.name] for s in eq.inputs}
    want = eq(*(inputs[s.name] for s in eq.inputs), params=params)
    got = _ngspice_eval(eq, params, inputs)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.max(np.abs(want)))


@pytest.mark.parametrize(("eq", "params"), CASES, ids=lambda c: getattr(c, "name", ""))
def test_torch_equals_numpy(eq, params) -> None:
    import torch

    inputs = [SAMPLES[s.name] for s in eq.inputs]
    want = eq(*inputs, params=params)
    got = eq(*(torch.tensor(x, dtype=torch.float64) for x in inputs), params=params, backend="torch")
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def _numpy_of_variables(model):
    """Each retrieved variable as a numpy function of the branch voltages.

    Earlier variables are substituted into later ones, so every function is
    the closed-form expression built from the model's Equation objects.
    """
    values = dict(model.values)
    closed: dict[str, sp.Expr] = {}
    for var in model.variables:
        expr = var.expr.xreplace({sp.Symbol(k, real=True): v for k, v in closed.items()})
        closed[var.name] = expr
    out = {}
    for name, expr in closed.items():
        expr = expr.xreplace({sp.Symbol(k, real=True): sp.Float(v, 17) for k, v in values.items()})
        out[name] = expr
    return out


@pytest.mark.parametrize("spec", MODELS.values(), ids=lambda s: s.name)
def test_verilog_a_compiles_and_matches_numpy(spec, tmp_path) -> None:
    verilogae = pytest.importorskip("verilogae", reason="verilogae (OpenVAF) not installed")
    from spinspice.models.expr import Equation

    model = spec.compact_model()
    path = tmp_path / f"{model.name}.va"
    path.write_text(format_verilog_a(model))
    compiled = verilogae.load(str(path))
    assert set(compiled.functions) == {v.name for v in model.variables if v.retrieve}
    closed = _numpy_of_variables(model)
    # all node voltages the model reads, with their verilogae names
    symbols_by_branch = {}
    for expr in closed.values():
        for sym in expr.free_symbols:
            assert sym.name.startswith("V["), f"{spec.name}: unresolved symbol {sym}"
            nodes = sym.name[2:-1].split(",")
            symbols_by_branch["br_" + "".join(nodes)] = sym
    rng = np.random.default_rng(11)
    draws = {b: rng.uniform(-0.9, 0.9, 40) for b in symbols_by_branch}
    for var, fn in compiled.functions.items():
        volts = {b: draws[b] for b in fn.voltages}
        params = {name: dict(model.values)[name] for name in fn.parameters}
        got = np.broadcast_to(np.atleast_1d(fn.eval(temperature=300.0, voltages=volts, **params)), (40,))
        syms = tuple(symbols_by_branch[b] for b in fn.voltages)
        eq = Equation(f"va_{var}", closed[var], inputs=syms, params=(), unit="", doc="")
        want = np.broadcast_to(np.asarray(eq(*(draws[b] for b in fn.voltages), params={}), float), (40,))
        np.testing.assert_allclose(
            got, want, rtol=1e-9, atol=1e-12 * (np.max(np.abs(want)) + 1e-300), err_msg=f"{spec.name}: {var}"
        )


def test_compact_models_use_the_model_equations() -> None:
    """The retrieved right-hand sides are the registry's Equation objects, not copies."""
    from spinspice.models import dwlif as dw

    cm = dw.compact_model(dw.DWLIFParams(), mtj.MTJParams())
    dm = next(v for v in cm.variables if v.name == "dmdt_per_s")
    back = dm.expr.xreplace(
        {
            sp.Symbol("V[m]", real=True): dw.DWLIF_RHS.inputs[0],
            sp.Symbol("j_a_per_m2", real=True): dw.DWLIF_RHS.inputs[1],
        }
    )
    assert back == dw.DWLIF_RHS.expr


def test_verilog_a_has_no_hidden_state() -> None:
    for spec in MODELS.values():
        text = format_verilog_a(spec.compact_model())
        # state lives on nodes: the only memory operator is ddt() of a node voltage
        assert "idt(" not in text and "@(" not in text and "$" not in text
        assert text.count("module ") == 1 and "endmodule" in text


def _inlined(subckt: Subckt, name: str) -> sp.Expr:
    """A B-source's expression with the hoisted helper nodes (``h_*``) substituted back."""
    expr = subckt.element(name).expr
    for _ in range(10):
        helpers = {
            s: subckt.element(s.name[2:-1]).expr for s in expr.free_symbols if s.name.startswith("V[h_")
        }
        if not helpers:
            return expr
        expr = expr.xreplace(helpers)
    raise AssertionError("helper nodes refer to each other in a cycle")


def test_hoisting_keeps_the_equation() -> None:
    # sympy's cse split: helpers on nodes, the rest inline; substituted back it is the same function
    from spinspice.circuits import devices

    helpers, _ = devices.hoisted(dwlif.DWLIF_RHS.expr, "h_x")
    assert helpers == ()  # no circuit quantities: nothing to hoist
    m, j = dwlif.DWLIF_RHS.inputs
    vm, ij = sp.Symbol("V[m]", real=True), sp.Symbol("I[s]", real=True)
    rhs = dwlif.DWLIF_RHS.expr.xreplace({m: vm, j: ij})
    helpers, reduced = devices.hoisted(rhs, "h_x")
    assert [h.name for h in helpers] == ["h_x0", "h_x1"]  # sqrt(f^2 + eps^2)/2 and f/2
    assert all(sp.count_ops(h.expr) >= devices.HOIST_MIN_OPS for h in helpers)
    back = reduced.xreplace({sp.Symbol(f"V[{h.name}]", real=True): h.expr for h in helpers})
    assert sp.simplify(back - rhs) == 0
    assert sp.count_ops(reduced) < sp.count_ops(rhs) / 2


def test_sympy_expression_is_the_same_object_everywhere() -> None:
    # the circuit B-source is built from DWLIF_RHS itself, not from a copy
    from spinspice.circuits.devices import dwlif_device

    dev = dwlif_device(dwlif.DWLIFParams(), mtj.MTJParams())
    expr = _inlined(dev, "dmdt")
    free = {s.name for s in expr.free_symbols}
    assert {"V[m]", "I[sense]"} <= free
    back = expr.xreplace(
        {
            sp.Symbol("V[m]", real=True): dwlif.DWLIF_RHS.inputs[0],
            sp.Symbol("I[sense]", real=True): dwlif.DWLIF_RHS.inputs[1] * sp.Symbol("area_m2", real=True),
        }
    )
    assert sp.simplify(back - dwlif.DWLIF_RHS.expr) == 0
