"""One definition, three outputs: numpy/torch, ngspice B-source and Verilog-A agree."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from spinspice.circuits.core import (
    BehavioralCurrent,
    Probe,
    Pwl,
    Testbench,
    Transient,
    VoltageSource,
)
from spinspice.cosim.backends import BatchBackend
from spinspice.models import dwlif, mtj
from spinspice.models.expr import node_voltage
from spinspice.models.registry import MODELS
from spinspice.netlists.spice import format_testbench
from spinspice.netlists.verilog_a import format_verilog_a

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


def _va_inputs(fn, model) -> dict[str, np.ndarray]:
    """Random branch voltages for a retrieved Verilog-A function."""
    out = {}
    for name in fn.voltages:
        if name == "br_m":
            out[name] = SAMPLES["m"]
        elif name == "br_t1t2":
            r = model.value("rho_ta_ohm_m")  # any scale works: j = V/(R A)
            out[name] = RNG.uniform(-0.3, 0.3, 40) + 0 * r
        else:
            out[name] = SAMPLES["v_mtj_v"]
    return out


def _numpy_for_variable(var: str, model, v: dict[str, np.ndarray], spec_name: str) -> np.ndarray:
    p, m = dwlif.DWLIFParams(), mtj.MTJParams()
    if var == "area_m2":
        return np.full(1, p.area_m2)
    if var == "r_track_ohm":
        return np.full(1, p.r_track_ohm)
    if var == "c_rest":
        return np.full(1, m.c_rest)
    if var == "c_full":
        return np.full(1, m.c_full)
    if var == "j_a_per_m2":
        return v["br_t1t2"] / p.r_track_ohm / p.area_m2
    if var == "dmdt_per_s":
        return dwlif.dmdt(v["br_m"], v["br_t1t2"] / p.r_track_ohm / p.area_m2, p)
    if var == "r_mtj_ohm":
        vj = v.get("br_t3b", v.get("br_t3_b"))
        return mtj.mtj_resistance(v["br_m"], vj, m)
    raise AssertionError(f"no numpy twin for {var}")


@pytest.mark.parametrize("spec", MODELS.values(), ids=lambda s: s.name)
def test_verilog_a_compiles_and_matches_numpy(spec, tmp_path) -> None:
    verilogae = pytest.importorskip("verilogae", reason="verilogae (OpenVAF) not installed")
    model = spec.compact_model()
    path = tmp_path / f"{model.name}.va"
    path.write_text(format_verilog_a(model))
    compiled = verilogae.load(str(path))
    assert set(compiled.functions) == {v.name for v in model.variables if v.retrieve}
    for var, fn in compiled.functions.items():
        volts = _va_inputs(fn, model)
        params = {name: model.value(name) for name in fn.parameters}
        got = np.atleast_1d(fn.eval(temperature=300.0, voltages=volts, **params))
        want = _numpy_for_variable(var, model, volts, spec.name)
        np.testing.assert_allclose(
            got, np.broadcast_to(want, got.shape), rtol=1e-9, err_msg=f"{spec.name}: {var}"
        )


def test_verilog_a_has_no_hidden_state() -> None:
    for spec in MODELS.values():
        text = format_verilog_a(spec.compact_model())
        # state lives on nodes: the only memory operator is ddt() of a node voltage
        assert "idt(" not in text and "@(" not in text and "$" not in text
        assert text.count("module ") == 1 and "endmodule" in text


def test_sympy_expression_is_the_same_object_everywhere() -> None:
    # the circuit B-source is built from DWLIF_RHS itself, not from a copy
    from spinspice.circuits.devices import dwlif_device

    dev = dwlif_device(dwlif.DWLIFParams(), mtj.MTJParams())
    b = dev.element("dmdt")
    free = {s.name for s in b.expr.free_symbols}
    assert {"V[m]", "I[sense]"} <= free
    back = b.expr.xreplace(
        {
            sp.Symbol("V[m]", real=True): dwlif.DWLIF_RHS.inputs[0],
            sp.Symbol("I[sense]", real=True): dwlif.DWLIF_RHS.inputs[1] * sp.Symbol("area_m2", real=True),
        }
    )
    assert sp.simplify(back - dwlif.DWLIF_RHS.expr) == 0
