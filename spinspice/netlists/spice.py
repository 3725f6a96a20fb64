"""ngspice netlist writer (the only code that emits SPICE text).

``format_*`` returns text, ``write_*`` writes to a stream, ``get_*`` looks
things up (the VLSIR netlisters' convention).  :class:`NgspiceDialect` is the
one dialect implemented; another simulator would be a subclass, and a feature
it lacks raises ``NotImplementedError`` naming the feature.
"""

from __future__ import annotations

import functools
import io
import textwrap
from collections.abc import Iterable, Mapping
from typing import IO, Any, ClassVar

import sympy as sp

from spinspice import __version__
from spinspice.circuits.core import (
    BehavioralCurrent,
    BehavioralVoltage,
    Capacitor,
    CodeModel,
    CodeModelCard,
    CurrentSource,
    Element,
    Instance,
    Mosfet,
    MosfetModel,
    Probe,
    Pulse,
    Pwl,
    Resistor,
    Subckt,
    Testbench,
    Transient,
    VerilogAInstance,
    VerilogAModelCard,
    VoltageSource,
)
from spinspice.errors import NetlistError
from spinspice.models.expr import SIMULATOR_FUNCTIONS, ExprPrinter
from spinspice.netlists.names import comment_lines, sanitize_identifier
from spinspice.units import format_float, format_si

__all__ = [
    "NgspiceDialect",
    "NgspicePrinter",
    "format_expr",
    "format_subckt",
    "format_testbench",
    "get_element_name",
    "get_vector_name",
    "osdi_control",
    "write_testbench",
]

_LETTER: dict[type, str] = {
    Resistor: "r",
    Capacitor: "c",
    VoltageSource: "v",
    CurrentSource: "i",
    BehavioralCurrent: "b",
    BehavioralVoltage: "b",
    Mosfet: "m",
    CodeModel: "a",
    Instance: "x",
    VerilogAInstance: "n",
}

WRAP = 100


class NgspicePrinter(ExprPrinter):
    """B-source expression syntax of ngspice."""

    functions: ClassVar[dict[str, str]] = SIMULATOR_FUNCTIONS
    pow_template = "pwr({base}, {exp})"

    def voltage(self, p: str, n: str | None) -> str:
        p_name = sanitize_identifier(p, what="node")
        if n is None:
            return f"v({p_name})"
        return f"v({p_name},{sanitize_identifier(n, what='node')})"

    def current(self, element: str) -> str:
        return f"i(v{sanitize_identifier(element, what='element')})"


def format_expr(expr: sp.Expr) -> str:
    """ngspice text of a behavioural expression."""
    return NgspicePrinter().doprint(expr)


def get_element_name(element: Element) -> str:
    letter = _LETTER.get(type(element))
    if letter is None:
        raise NotImplementedError(f"ngspice netlister: element type {type(element).__name__}")
    return letter + sanitize_identifier(element.name, what="element")


def _node(name: str) -> str:
    return sanitize_identifier(name, what="node")


def _single_pulse_pwl(w: Pulse) -> Pwl:
    """The corners of one trapezoidal pulse: ``v1`` until ``td``, ramp to ``v2`` in ``tr``,
    ``v2`` for ``pw``, back to ``v1`` in ``tf`` and ``v1`` from then on (``pw = 0``: a triangle)."""
    t_rise = w.td_s + w.tr_s
    t_fall = t_rise + w.pw_s
    corners = [(w.td_s, w.v1), (t_rise, w.v2), (t_fall, w.v2), (t_fall + w.tf_s, w.v1)]
    points = [(0.0, w.v1)] if w.td_s > 0 else []
    for t, v in corners:
        if not points or (t, v) != points[-1]:
            points.append((t, v))
    return Pwl(tuple(points))


def _wave(w: Pulse | Pwl | None, dc: float) -> str:
    if w is None:
        return f"dc {format_si(dc)}"
    if isinstance(w, Pulse):
        if w.per_s <= 0 and w.tr_s > 0 and w.tf_s > 0:
            # One pulse.  PULSE with PER = 0 (or absent) is not the same waveform in every
            # ngspice: 39 repeats it after TSTOP (one pulse), 46 back to back (PER = TR + PW + TF:
            # still v2 long after PW).  PWL corners mean the same in every version.
            w = _single_pulse_pwl(w)
        else:
            args = [w.v1, w.v2, w.td_s, w.tr_s, w.tf_s, w.pw_s, max(w.per_s, 0.0)]
            text = " ".join(format_si(a) for a in args)
            # NP (the 8th argument, ngspice 39 and 46 alike) limits a train to `count` pulses;
            # a single pulse with a zero edge (ngspice makes it TSTEP long, which PWL cannot
            # say) stays a PULSE with NP = 1, so that ngspice 46 does not repeat it either
            count = 1 if w.per_s <= 0 else int(w.count)
            if count:
                text += f" {count}"
            return f"dc {format_si(dc)} pulse({text})"
    if isinstance(w, Pwl):
        pts = " ".join(f"{format_si(t)} {format_si(v)}" for t, v in w.points)
        return f"dc {format_si(dc)} pwl({pts})"
    raise NotImplementedError(f"ngspice netlister: waveform {type(w).__name__}")


def _check_symbols(e: Element, declared: set[str], where: str) -> None:
    """Every free name in a behavioural expression must be a declared parameter."""
    if not isinstance(e, (BehavioralCurrent, BehavioralVoltage)):
        return
    for sym in e.expr.free_symbols:
        name = sym.name
        if name.startswith(("V[", "I[")):
            continue
        if sanitize_identifier(name, what="parameter") not in declared:
            raise NetlistError(
                f"{where}: element {e.name} uses {name!r}, which is not a parameter of the subcircuit"
            )


def _wrap(line: str) -> list[str]:
    """Split a long line at spaces into SPICE continuation lines."""
    if len(line) <= WRAP:
        return [line]
    parts = textwrap.wrap(line, width=WRAP, break_long_words=False, break_on_hyphens=False)
    return [parts[0], *("+ " + p for p in parts[1:])]


class NgspiceDialect:
    """Formats circuit objects as ngspice text."""

    name = "ngspice"

    def element(self, e: Element) -> list[str]:
        name = get_element_name(e)
        if isinstance(e, Resistor):
            return [f"{name} {_node(e.p)} {_node(e.n)} {format_si(e.r_ohm)}"]
        if isinstance(e, Capacitor):
            return [f"{name} {_node(e.p)} {_node(e.n)} {format_si(e.c_f)}"]
        if isinstance(e, VoltageSource):
            return [f"{name} {_node(e.p)} {_node(e.n)} {_wave(e.wave, e.dc_v)}"]
        if isinstance(e, CurrentSource):
            return [f"{name} {_node(e.p)} {_node(e.n)} {_wave(e.wave, e.dc_a)}"]
        if isinstance(e, BehavioralCurrent):
            return _wrap(f"{name} {_node(e.p)} {_node(e.n)} i = {format_expr(e.expr)}")
        if isinstance(e, BehavioralVoltage):
            return _wrap(f"{name} {_node(e.p)} {_node(e.n)} v = {format_expr(e.expr)}")
        if isinstance(e, Mosfet):
            model = sanitize_identifier(e.model.name, what="model")
            return [
                f"{name} {_node(e.d)} {_node(e.g)} {_node(e.s)} {_node(e.b)} {model} "
                f"w={format_si(e.w_m)} l={format_si(e.l_m)}"
            ]
        if isinstance(e, CodeModel):
            conns = " ".join(
                "[" + " ".join(_node(n) for n in c) + "]" if isinstance(c, tuple) else _node(c)
                for c in e.conns
            )
            return _wrap(f"{name} {conns} {sanitize_identifier(e.model.name, what='model')}")
        if isinstance(e, Instance):
            conns = " ".join(_node(c) for c in e.conns)
            return [f"{name} {conns} {sanitize_identifier(e.subckt.name, what='subcircuit')}"]
        if isinstance(e, VerilogAInstance):
            conns = " ".join(_node(c) for c in e.conns)
            return _wrap(f"{name} {conns} {sanitize_identifier(e.model.name, what='model')}")
        raise NotImplementedError(f"ngspice netlister: element type {type(e).__name__}")

    def model(self, m: MosfetModel | CodeModelCard | VerilogAModelCard) -> list[str]:
        if isinstance(m, VerilogAModelCard):
            lines = comment_lines(m.doc) if m.doc else []
            module = sanitize_identifier(m.module.name, what="module")
            return [*lines, f".model {sanitize_identifier(m.name, what='model')} {module}"]
        if isinstance(m, CodeModelCard):
            lines = comment_lines(m.doc) if m.doc else []
            params = " ".join(
                f"{sanitize_identifier(k, what='parameter')}={format_si(v)}" for k, v in m.params
            )
            lines += _wrap(
                f".model {sanitize_identifier(m.name, what='model')} "
                f"{sanitize_identifier(m.kind, what='code model')}({params})"
            )
            return lines
        vto = m.vto_v if m.polarity == "n" else -m.vto_v
        kind = "nmos" if m.polarity == "n" else "pmos"
        lines = comment_lines(m.doc) if m.doc else []
        lines.append(
            f".model {sanitize_identifier(m.name, what='model')} {kind} level=1 "
            f"vto={format_si(vto)} kp={format_si(m.kp_a_per_v2)} lambda={format_si(m.lambda_per_v)}"
        )
        return lines

    def subckt(self, sc: Subckt) -> list[str]:
        # a network's runs share their cell subcircuits: print each (sympy B-sources) once
        if len(sc.elements) > 500:  # crossbar tiles: big, and rarely repeated
            return self._subckt(sc)
        return list(_subckt_lines(type(self), sc))

    def _subckt(self, sc: Subckt) -> list[str]:
        lines = comment_lines(sc.doc) if sc.doc else []
        ports = " ".join(_node(p) for p in sc.ports)
        header = f".subckt {sanitize_identifier(sc.name, what='subcircuit')} {ports}".rstrip()
        if sc.params:
            header += " params: " + " ".join(
                f"{sanitize_identifier(k, what='parameter')}={format_float(v)}" for k, v in sc.params.items()
            )
        lines += _wrap(header)
        declared = {sanitize_identifier(k, what="parameter") for k in sc.params}
        for e in sc.elements:
            _check_symbols(e, declared, sc.name)
            lines += self.element(e)
        lines.append(f".ends {sanitize_identifier(sc.name, what='subcircuit')}")
        return lines

    def analysis(self, a: Transient) -> str:
        if not isinstance(a, Transient):
            raise NotImplementedError(f"ngspice netlister: analysis {type(a).__name__}")
        text = f".tran {format_si(a.t_step_s)} {format_si(a.t_stop_s)}"
        if a.t_max_s is not None or a.uic:
            text += f" 0 {format_si(a.t_max_s if a.t_max_s is not None else a.t_stop_s / 50)}"
        if a.uic:
            text += " uic"
        return text


@functools.lru_cache(maxsize=64)
def _subckt_lines(dialect: type[NgspiceDialect], sc: Subckt) -> tuple[str, ...]:
    return tuple(dialect()._subckt(sc))


def get_vector_name(probe: Probe, top: Subckt) -> str:
    """Canonical ngspice vector name of ``probe`` (as the raw file spells it)."""
    *insts, leaf = probe.path
    sc = top
    spice_insts: list[str] = []
    for inst_name in insts:
        inst = sc.element(inst_name)
        if not isinstance(inst, Instance):
            raise NetlistError(f"probe {probe.key}: {inst_name} is not a subcircuit instance")
        spice_insts.append(get_element_name(inst))
        sc = inst.subckt
    if probe.kind == "v":
        node = _node(leaf)
        if node == "0":
            raise NetlistError(f"probe {probe.key}: cannot probe ground")
        if node in {_node(p) for p in sc.ports} and spice_insts:
            raise NetlistError(
                f"probe {probe.key}: {leaf} is a port of {sc.name}; probe the net it connects to"
            )
        return "v(" + ".".join([*spice_insts, node]) + ")"
    element = sc.element(leaf)
    if not isinstance(element, VoltageSource):
        raise NetlistError(f"probe {probe.key}: currents are measured through voltage sources")
    spice = get_element_name(element)
    if spice_insts:
        return "i(" + ".".join([spice[0], *spice_insts, spice]) + ")"
    return f"i({spice})"


def _ic_name(path: tuple[str, ...], top: Subckt) -> str:
    vec = get_vector_name(Probe("ic", "v", path), top)
    return vec


def format_testbench(
    tb: Testbench,
    *,
    header: Iterable[str] = (),
    library: tuple[str, frozenset[str]] | None = None,
    osdi: Mapping[str, str] | None = None,
) -> str:
    """Complete netlist text: runs standalone with ``ngspice -b``."""
    buf = io.StringIO()
    write_testbench(tb, buf, header=header, library=library, osdi=osdi)
    return buf.getvalue()


def osdi_control(modules: Iterable[str], osdi: Mapping[str, str] | None = None) -> list[str]:
    """The ``.control`` block that loads compiled modules before the circuit is read.

    ``osdi`` maps a module name to its ``.osdi`` file (default ``<module>.osdi`` beside
    the netlist: ngspice resolves a relative path from the netlist's folder).  OpenMP
    threads are set to 1: ngspice's default of 8 threads per compiled model makes a
    one-cell transient 10x slower on 2 cores; spinspice runs one process per core."""
    names = list(dict.fromkeys(modules))
    if not names:
        return []
    lines = [".control", "set num_threads=1"]
    for name in names:
        path = (osdi or {}).get(name, f"{name}.osdi")
        if any(c.isspace() for c in path):
            raise NetlistError(f"OSDI file {path!r}: ngspice cannot load a path with spaces; move it")
        lines.append(f"pre_osdi {path}")
    return [*lines, ".endc"]


def format_library(subckts: Iterable[Subckt], title: str) -> tuple[str, frozenset[str]]:
    """A ``.lib``/``.include`` file defining ``subckts`` with their dependencies and MOSFET
    models (each once); returns its text and the names it defines."""
    dialect = NgspiceDialect()
    lines = comment_lines(title)
    lines += comment_lines(f"generated by spinspice {__version__} -- regenerate rather than edit")
    models: dict[str, MosfetModel | CodeModelCard | VerilogAModelCard] = {}
    defined: dict[str, Subckt] = {}
    for sc in subckts:
        for m in sc.models():
            models.setdefault(m.name, m)
        for dep in [*sc.dependencies(), sc]:
            defined.setdefault(dep.name, dep)
    for m in models.values():
        lines += dialect.model(m)
    for sc in defined.values():
        lines.append("")
        lines += dialect.subckt(sc)
    return "\n".join(lines) + "\n", frozenset(models) | frozenset(defined)


def write_testbench(
    tb: Testbench,
    stream: IO[str],
    *,
    header: Iterable[str] = (),
    library: tuple[str, frozenset[str]] | None = None,
    osdi: Mapping[str, str] | None = None,
) -> None:
    """Write ``tb``; with ``library = (path, names)`` the subcircuits and models named in
    ``names`` are not inlined but read from ``path`` by ``.include`` (see :func:`format_library`).
    Compiled Verilog-A modules are loaded from ``osdi`` (see :func:`osdi_control`)."""
    dialect = NgspiceDialect()
    top = tb.as_subckt()
    skip = library[1] if library is not None else frozenset()
    lines = comment_lines(tb.title)
    lines += comment_lines(f"generated by spinspice {__version__} -- regenerate rather than edit")
    for h in header:
        lines += comment_lines(h)
    lines += osdi_control((m.module.name for m in top.models() if isinstance(m, VerilogAModelCard)), osdi)
    if tb.options:
        opts = " ".join(f"{sanitize_identifier(k, what='option')}={_opt(v)}" for k, v in tb.options)
        lines.append(f".options {opts}")
    if library is not None:
        lines.append(f".include {library[0]}")
    for m in top.models():
        if m.name not in skip:
            lines += dialect.model(m)
    for sc in top.dependencies():
        if sc.name not in skip:
            lines.append("")
            lines += dialect.subckt(sc)
    lines.append("")
    lines += comment_lines("top level")
    for e in tb.elements:
        _check_symbols(e, set(), "top level")
        lines += dialect.element(e)
    if tb.initial_conditions:
        ics = " ".join(f"{_ic_name(p, top)}={format_si(v)}" for p, v in tb.initial_conditions)
        lines += _wrap(f".ic {ics}")
    if tb.probes:
        saves = " ".join(get_vector_name(p, top) for p in tb.probes)
        lines += _wrap(f".save {saves}")
    # plain `ngspice -b netlist.cir` (no -r) only simulates when something is printed;
    # with `-r file.raw` ngspice ignores .print and writes the saved vectors instead
    printed = tb.printed or tuple(p.key for p in tb.probes[:1])
    if printed:
        lines += _wrap(".print tran " + " ".join(get_vector_name(tb.probe(k), top) for k in printed))
    lines.append(dialect.analysis(tb.analysis))
    lines.append(".end")
    stream.write("\n".join(lines) + "\n")


def _opt(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return format_float(float(value))
    return sanitize_identifier(str(value), what="option value")


def format_subckt(sc: Subckt) -> str:
    """Text of ``sc`` and its dependencies (models first), for a ``.lib`` file."""
    dialect = NgspiceDialect()
    lines: list[str] = []
    for m in sc.models():
        lines += dialect.model(m)
    for dep in [*sc.dependencies(), sc]:
        lines.append("")
        lines += dialect.subckt(dep)
    return "\n".join(lines) + "\n"
