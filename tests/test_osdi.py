"""Compiled (OSDI) device models against the B-source reference.

The compiled module of each subcircuit is generated from the same sympy expressions as its
B-sources (spinspice.circuits.compiled); these tests run both forms of every preset of every
model in the registry and compare the spike instants.  On an ngspice without OSDI (Debian
stable's 39) the simulator tests skip and B-sources are the only form.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from spinspice.circuits.compiled import NonZero, compiled_subckt, compiled_testbench, verilog_a_cards
from spinspice.circuits.core import VerilogAInstance
from spinspice.circuits.registry import PRESETS, get_cell
from spinspice.errors import SpinspiceError
from spinspice.models.compact import CompactModel, Contribution
from spinspice.models.expr import node_voltage
from spinspice.netlists.verilog_a import format_verilog_a
from spinspice.sim import osdi
from spinspice.sim.simulate import simulate
from spinspice.sim.spikes import crossings

CASES = [(model, preset) for model, presets in PRESETS.items() for preset in presets]
#: spike instants of the two forms must agree this closely (the issue's bar)
TOL_S = 5e-12


def _needs_osdi() -> None:
    caps = osdi.capabilities()
    if not caps.osdi:
        pytest.skip(f"compiled models unavailable here: {caps.reason}")


def _testbench(model: str, preset: str):
    cell = PRESETS[model][preset]
    drive = cell.default_drive()
    duration = cell.default_duration_s(drive)
    return cell, cell.testbench(drive, duration, stimulus=cell.stimulus(drive, duration, 0))


def _spikes(cell, tb, form: str) -> np.ndarray:
    wf = simulate(tb, "batch", models=form)
    return crossings(wf.time_s, wf["spike"], cell.spike_level_v(), "rising")


def test_compiled_device_is_one_module_with_the_same_nodes() -> None:
    cell = get_cell("dw-lif", "paper-001")[0]
    sc = cell.device_subckt()
    comp = compiled_subckt(sc)
    assert comp.name == sc.name and comp.ports == sc.ports
    (va,) = [e for e in comp.elements if isinstance(e, VerilogAInstance)]
    # the state node and the track's inner node stay circuit nodes (probes, .ic); the 0 V
    # ammeter the probes read is kept; the hoisted helper nodes became module variables
    assert {"m", "x", "t1", "t3"} <= set(va.conns)
    assert not any(c.startswith("h_") for c in va.conns)
    assert any(e.name == "sense" for e in comp.elements)
    text = format_verilog_a(va.model.module)
    assert "I[" not in text and "V(p_t1, p_x)" in text  # I(sense) -> the track resistor's current
    assert "ddt(" in text


def test_division_by_a_node_voltage_is_guarded() -> None:
    _, tb = _testbench("lif", "snntorch-leaky")
    cards = verilog_a_cards(compiled_testbench(tb).as_subckt())
    texts = [format_verilog_a(c.module) for c in cards]
    assert any("max(V(p_vdd" in t for t in texts), "V(spike)/V(vdd) must be guarded against 0/0"
    expr = sp.Symbol("a") / node_voltage("vdd")
    assert expr.atoms(NonZero) == set()  # only compiled modules carry the guard


def test_netlist_forms() -> None:
    _, tb = _testbench("dw-lif", "paper-001")
    assert osdi.models_of(osdi.netlist_text(tb, "bsource")) == "bsource"
    with pytest.raises(SpinspiceError, match="models must be one of"):
        osdi.resolve_models("verilog")
    _needs_osdi()
    text = osdi.netlist_text(tb, "osdi")
    assert osdi.models_of(text) == "osdi" and "set num_threads=1" in text


def test_compile_cache_and_errors(tmp_path, monkeypatch) -> None:
    if osdi.openvaf_path() is None:
        pytest.skip("openvaf-r not installed")
    monkeypatch.setenv("SPINSPICE_CACHE", str(tmp_path))
    module = CompactModel(
        name="spinspice_test_r",
        doc="test resistor",
        ports=("a", "b"),
        internal=(),
        params=(),
        values=(),
        variables=(),
        contributions=(Contribution("a", "b", node_voltage("a", "b") / sp.Float(50.0)),),
    )
    first = osdi.compile_module(module)
    stamp = first.stat().st_mtime_ns
    assert osdi.compile_module(module) == first and first.stat().st_mtime_ns == stamp  # cached
    assert first.with_suffix(".va").read_text() == format_verilog_a(module)
    bad = dataclasses.replace(
        module, name="spinspice_test_bad", contributions=(Contribution("a", "b", sp.Symbol("undeclared")),)
    )
    with pytest.raises(osdi.OsdiCompileError, match="openvaf-r could not compile spinspice_test_bad"):
        osdi.compile_module(bad)
    assert not list(tmp_path.rglob("spinspice_test_bad.osdi"))  # no half-written module


@pytest.mark.ngspice
@pytest.mark.parametrize(("model", "preset"), CASES, ids=[f"{m}-{p}" for m, p in CASES])
def test_compiled_spikes_match_bsource(model: str, preset: str) -> None:
    """Every preset: both forms spike at the same instants within 5 ps.

    Presets on a millisecond scale (paper 001's Hall bar, paper 002; time steps of 0.5-2.5 us)
    are compared at reltol 1e-7 and within 5e-7 of the spike instant (5 ps is below their time
    resolution): at their default reltol 1e-5 the B-source form is itself off by up to 0.6 us
    (its helper nodes converge only to reltol; measured 2026-12-02), while the compiled form
    is within 0.1 us of the converged instants."""
    _needs_osdi()
    cell, tb = _testbench(model, preset)
    if tb.analysis.t_stop_s > 1e-6:
        opts = {**dict(tb.options), "reltol": 1e-7, "vntol": 1e-9}
        tb = dataclasses.replace(tb, options=tuple(opts.items()))
    ref, comp = _spikes(cell, tb, "bsource"), _spikes(cell, tb, "osdi")
    assert len(ref) >= 2, f"{model}/{preset}: the reference should spike ({len(ref)} spikes)"
    assert len(comp) == len(ref)
    tol = np.maximum(TOL_S, 5e-7 * ref) if tb.analysis.t_stop_s > 1e-6 else TOL_S
    assert np.all(np.abs(comp - ref) <= tol), f"{model}/{preset}: {np.abs(comp - ref).max():.3g} s apart"


def test_modules_are_the_same_in_every_process() -> None:
    """A module's text (its port order) must not depend on Python's hash seed: two processes
    writing the same subcircuit must give one module, or a shared ngspice session that loaded
    the other ordering would run a different matrix."""
    import subprocess
    import sys

    code = (
        "from spinspice.circuits.registry import get_cell\n"
        "from spinspice.circuits.compiled import compiled_subckt\n"
        "from spinspice.circuits.core import VerilogAInstance\n"
        "from spinspice.netlists.verilog_a import format_verilog_a\n"
        "sc = compiled_subckt(get_cell('dw-lif', 'paper-001')[0].device_subckt())\n"
        "va = next(e for e in sc.elements if isinstance(e, VerilogAInstance))\n"
        "print(format_verilog_a(va.model.module))\n"
    )
    texts = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(texts) == 1
