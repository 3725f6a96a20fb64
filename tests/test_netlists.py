"""Netlist writer: names, determinism, structure (behaviour is tested by simulation)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spinspice.circuits.cell import DWLIFCell, dwlif_cell, neuron_testbench
from spinspice.circuits.clocked_lif import ClockedLIFCell
from spinspice.circuits.cmos import CmosParams
from spinspice.circuits.comparator import ComparatorParams
from spinspice.circuits.core import GENERATORS, Instance, Subckt, get_generator
from spinspice.circuits.devices import dwlif_device, mtj_read
from spinspice.errors import NetlistError
from spinspice.models.dwlif import DWLIFParams
from spinspice.models.mtj import MTJParams
from spinspice.models.waveforms import PulseTrain
from spinspice.netlists.names import comment_lines, sanitize_identifier
from spinspice.netlists.spice import format_subckt, format_testbench


def _cell(model: str):
    from spinspice.circuits.registry import get_cell

    return get_cell(model)[0]


GENERATOR_ARGS = {
    "mtj_read": lambda: (MTJParams(),),
    "dwlif_device": lambda: (DWLIFParams(), MTJParams()),
    "comparator": lambda: (ComparatorParams(), CmosParams(), 0.066, 0.055),
    "dwlif_cell": lambda: (DWLIFCell(),),
    "lif_device": lambda: (_cell("lif").lif,),
    "saflif_device": lambda: (_cell("saf-lif").saf,),
    "dwmtj_device": lambda: (_cell("dw-mtj-autoreset").dwmtj, _cell("dw-mtj-autoreset").flag_params()),
    "field_line": lambda: (_cell("field-gated-lif").fieldline,),
    "field_gated_device": lambda: (DWLIFParams(), _cell("field-gated-lif").gate, MTJParams()),
    "steered_cell": lambda: (_cell("saf-lif"),),
    "clocked_lif_cell": lambda: (ClockedLIFCell(),),
    "cogd_device": lambda: (__import__("spinspice.models.cogd", fromlist=["x"]).CoGdParams(),),
    "crossbar_tile": lambda: (
        np.full((2, 3), 1e-5),
        np.full((2, 3), 2e-5),
        np.array([[True, False, True], [True, True, True]]),
        1.5,
        1e-15,
    ),
}


def test_every_generator_is_covered() -> None:
    import spinspice.circuits.cogd  # registers the Co/Gd generators
    import spinspice.circuits.network
    import spinspice.circuits.registry  # noqa: F401  (registers every generator)

    assert set(GENERATORS) <= set(GENERATOR_ARGS), "add new generators to GENERATOR_ARGS"


@pytest.mark.parametrize("name", sorted(GENERATOR_ARGS))
def test_generators_are_pure_and_named_from_parameters(name: str) -> None:
    import spinspice.circuits.cogd  # registers the Co/Gd generators
    import spinspice.circuits.network
    import spinspice.circuits.registry  # noqa: F401

    gen = get_generator(name)
    a, b = gen(*GENERATOR_ARGS[name]()), gen(*GENERATOR_ARGS[name]())
    assert a == b and format_subckt(a) == format_subckt(b)
    assert isinstance(a, Subckt) and a.name.startswith("spinspice_")


def test_subckt_name_changes_with_parameters() -> None:
    assert (
        dwlif_device(DWLIFParams(), MTJParams()).name != dwlif_device(DWLIFParams(m_th=0.7), MTJParams()).name
    )
    assert mtj_read(MTJParams()).name != mtj_read(MTJParams(tmr0=2.5)).name


def test_testbench_text_is_deterministic_across_processes() -> None:
    code = (
        "from spinspice.circuits.cell import DWLIFCell, neuron_testbench\n"
        "from spinspice.models.waveforms import PulseTrain\n"
        "from spinspice.netlists.spice import format_testbench\n"
        "print(format_testbench(neuron_testbench(DWLIFCell(), PulseTrain(), 1e-7)), end='')\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    assert runs[0] == format_testbench(neuron_testbench(DWLIFCell(), PulseTrain(), 1e-7))


def test_cell_structure() -> None:
    cell = dwlif_cell(DWLIFCell())
    kinds = {type(e).__name__ for e in cell.elements}
    assert {"Mosfet", "Instance", "Resistor", "VoltageSource", "Capacitor"} <= kinds
    subs = {e.name: e.subckt.name for e in cell.elements if isinstance(e, Instance)}
    assert set(subs) == {"dev", "cmp"}
    text = format_testbench(neuron_testbench(DWLIFCell(), PulseTrain(), 1e-7))
    assert ".control" not in text.lower() and "shell" not in text.lower()
    assert text.count(".subckt ") == 4 and text.count(".ends ") == 4
    assert text.rstrip().endswith(".end")


@pytest.mark.parametrize(
    ("raw", "safe"),
    [("t1", "t1"), ("Vsense", "vsense"), ("0", "0"), ("xcell", "xcell")],
)
def test_identifiers_kept_when_already_safe(raw: str, safe: str) -> None:
    assert sanitize_identifier(raw) == safe


@given(st.text(min_size=1, max_size=200))
def test_sanitized_identifiers_are_always_safe(text: str) -> None:
    try:
        name = sanitize_identifier(text)
    except NetlistError:
        assert not text.strip()
        return
    assert name == "0" or (name[0].isalpha() and all(c.isalnum() or c == "_" for c in name))
    assert name.isascii() and len(name) <= 64


def test_hostile_names_never_reach_a_netlist() -> None:
    hostile = ["a\n.control\nshell rm -rf /\n.endc", "x y", 'q"uote', "ünï", ".include /etc/passwd"]
    names = {sanitize_identifier(h) for h in hostile}
    assert len(names) == len(hostile)  # distinct inputs stay distinct
    for n in names:
        assert "\n" not in n and "." not in n and " " not in n
    for line in comment_lines("title\n.control\nshell ls"):
        assert line.startswith("*")


def test_empty_name_is_rejected() -> None:
    with pytest.raises(NetlistError):
        sanitize_identifier("  ")


def test_undeclared_symbol_in_a_bsource_is_rejected() -> None:
    import sympy as sp

    from spinspice.circuits.core import BehavioralCurrent

    sc = Subckt("bad", ("a",), (BehavioralCurrent("b", "a", "0", sp.Symbol("mystery", real=True)),))
    with pytest.raises(NetlistError, match="mystery"):
        format_subckt(sc)


@pytest.mark.ngspice
def test_no_pyspice_version_warning() -> None:
    """PySpice 1.5 warns "Unsupported Ngspice version" for ngspice > 34: not with spinspice."""
    code = (
        "import logging, io\n"
        "buf = io.StringIO(); logging.basicConfig(stream=buf, level=logging.DEBUG)\n"
        "from spinspice.sim.backends import get_backend\n"
        "get_backend('shared').run('* t\\nv1 a 0 dc 1\\nr1 a 0 1k\\n.tran 1n 2n\\n.end\\n')\n"
        "print(buf.getvalue())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Unsupported Ngspice version" not in out.stdout + out.stderr
