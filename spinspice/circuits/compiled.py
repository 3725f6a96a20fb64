"""Compiled device models: the behavioural part of a subcircuit as one Verilog-A module.

:func:`compiled_subckt` turns a subcircuit whose equations are B-sources (every device
model, the comparator's Schmitt core, the field line) into a subcircuit with the same
name, ports and nodes in which those B-sources, with the resistors and capacitors beside
them, are one :class:`~spinspice.circuits.core.VerilogAInstance` of a module generated
from the *same* sympy expressions.  MOSFETs, independent sources (the 0 V ammeters the
probes read) and XSPICE models stay as they are.  ngspice built with OSDI loads the module
once OpenVAF has compiled it (:mod:`spinspice.sim.osdi`); the B-source subcircuit stays
the reference and the fallback.

The translation is mechanical, so the two forms are one definition:

* a helper node -- a B voltage source to ground on a node nothing else connects to, such
  as the shared subexpressions :func:`~spinspice.circuits.devices.hoisted` puts on nodes
  for ngspice's sake -- becomes a variable of the module;
* ``I[sense]`` of a 0 V source in series with a resistor (the sensed track) becomes that
  resistor's current ``V(a, x) / R`` (the same branch current at every solution);
* every other node the module touches is a port of the module, so probes, ``.ic`` and the
  kept elements still see ``m``, ``s``, ``x`` under their old names;
* an instance of a subcircuit made only of R, C and B elements is flattened into the
  module, its parameters substituted by value.

A subcircuit that cannot be translated (a branch current of anything else) is returned
with only its children compiled.
"""

from __future__ import annotations

import functools

import sympy as sp

from spinspice.circuits.core import (
    BehavioralCurrent,
    BehavioralVoltage,
    Capacitor,
    Element,
    Instance,
    Resistor,
    Subckt,
    Testbench,
    VerilogAInstance,
    VerilogAModelCard,
    VoltageSource,
)
from spinspice.models.compact import CompactModel, Contribution, Variable
from spinspice.models.expr import _IREF, _VREF, node_voltage  # the printers' own parsing
from spinspice.models.params import ParamInfo

__all__ = ["NonZero", "compiled_subckt", "compiled_testbench", "verilog_a_cards"]

_TRANSLATED = (Resistor, Capacitor, BehavioralCurrent, BehavioralVoltage)
_BEHAVIOURAL = (BehavioralCurrent, BehavioralVoltage)


class NonZero(sp.Function):
    """A denominator that depends on the circuit, kept at least 1 pV (1e-12) off zero.

    With ``uic`` every node starts at 0 V, so ``V(spike) / V(vdd)`` is 0/0 at the first
    Newton iteration; ngspice's B-source division returns a large number there instead of
    NaN (and so does its derivative), and the compiled module must survive it too.  Away
    from that first iterate (|b| > 1e-12) the two are the same function."""

    nargs = 1


def _guard_divisions(expr: sp.Expr) -> sp.Expr:
    def circuit_denominator(e: sp.Basic) -> bool:
        return (
            isinstance(e, sp.Pow)
            and e.exp.is_negative
            and any(_VREF.match(s.name) for s in e.base.free_symbols)
        )

    return expr.replace(circuit_denominator, lambda e: sp.Pow(NonZero(e.base), e.exp))


class _Untranslatable(Exception):
    """The subcircuit keeps its B-sources (reason in the message)."""


def _terminals(e: Element) -> tuple[str, ...]:
    if isinstance(e, (Instance, VerilogAInstance)):
        return tuple(e.conns)
    if hasattr(e, "d"):  # Mosfet
        return (e.d, e.g, e.s, e.b)  # type: ignore[union-attr]
    if hasattr(e, "conns"):  # CodeModel
        return tuple(n for c in e.conns for n in (c if isinstance(c, tuple) else (c,)))  # type: ignore[union-attr]
    return (e.p, e.n)  # type: ignore[union-attr]


@functools.lru_cache(maxsize=512)
def _is_pure(sc: Subckt) -> bool:
    """Only R, C, B elements and instances of such subcircuits (flattened into a module)."""
    return all(
        isinstance(e, _TRANSLATED) or (isinstance(e, Instance) and _is_pure(e.subckt)) for e in sc.elements
    )


def _rename(expr: sp.Expr, nodes: dict[str, str], values: dict[str, float]) -> sp.Expr:
    subs: dict[sp.Basic, sp.Basic] = {}
    for sym in expr.free_symbols:
        match = _VREF.match(sym.name)
        if match:
            p, n = match.group("p"), match.group("n")
            subs[sym] = node_voltage(nodes.get(p, p), nodes.get(n, n) if n else None)
        elif _IREF.match(sym.name):
            raise _Untranslatable(f"branch current {sym.name} inside a flattened subcircuit")
        elif sym.name in values:
            subs[sym] = sp.Float(values[sym.name])
    return expr.xreplace(subs)


def _flatten(inst: Instance, prefix: str = "") -> list[Element]:
    """The R/C/B elements of a pure instance in the parent's node names."""
    sc = inst.subckt
    tag = f"{prefix}{inst.name}_"
    nodes = {p: c for p, c in zip(sc.ports, inst.conns, strict=True)}

    def node(n: str) -> str:
        return n if n == "0" else nodes.setdefault(n, f"{tag}{n}")

    for e in sc.elements:  # every internal node gets its prefixed name first
        if not isinstance(e, Instance):
            node(e.p)  # type: ignore[union-attr]
            node(e.n)  # type: ignore[union-attr]
    values = {k: float(v) for k, v in sc.params.items()}
    out: list[Element] = []
    for e in sc.elements:
        if isinstance(e, Instance):
            conns = tuple(node(c) for c in e.conns)
            out += _flatten(Instance(e.name, e.subckt, conns), tag)
        elif isinstance(e, Resistor):
            out.append(Resistor(tag + e.name, node(e.p), node(e.n), e.r_ohm))
        elif isinstance(e, Capacitor):
            out.append(Capacitor(tag + e.name, node(e.p), node(e.n), e.c_f))
        else:
            cls = type(e)
            for sym in e.expr.free_symbols:  # V[] of nodes not yet seen (read-only inputs)
                match = _VREF.match(sym.name)
                if match:
                    node(match.group("p"))
                    if match.group("n"):
                        node(match.group("n"))
            out.append(cls(tag + e.name, node(e.p), node(e.n), _rename(e.expr, nodes, values)))
    return out


def _current_of(name: str, kept: list[Element], flat: list[Element]) -> sp.Expr:
    """``I[name]`` of a 0 V source as the current of the resistor in series with it."""
    src = next((e for e in kept if isinstance(e, VoltageSource) and e.name == name), None)
    if src is None or src.wave is not None or src.dc_v != 0:
        raise _Untranslatable(f"I[{name}] is not the current of a 0 V source")
    for node in (src.p, src.n):
        touching = [e for e in (*kept, *flat) if node in _terminals(e) and e is not src]
        if len(touching) == 1 and isinstance(touching[0], Resistor):
            r = touching[0]
            other = r.n if r.p == node else r.p
            # ngspice's i(v) flows + -> - through the source: into + from R, or out of - into R
            v = node_voltage(other, node) if node == src.p else node_voltage(node, other)
            return v / r.r_ohm
    raise _Untranslatable(f"I[{name}]: no resistor in series with the 0 V source")


def _module(sc: Subckt, flat: list[Element], kept: list[Element]) -> tuple[CompactModel, tuple[str, ...]]:
    kept_nodes = {n for e in kept for n in _terminals(e)} | set(sc.ports)
    use: dict[str, int] = {}
    for e in flat:
        for n in _terminals(e):
            use[n] = use.get(n, 0) + 1
    helpers = [
        e
        for e in flat
        if isinstance(e, BehavioralVoltage) and e.n == "0" and e.p not in kept_nodes and use[e.p] == 1
    ]
    helper_nodes = {e.p: f"v_{e.p}" for e in helpers}
    nodes: dict[str, str] = {}  # circuit node -> module port identifier, in order of appearance

    def port(n: str | None) -> str | None:
        if n is None or n == "0":
            return None
        return nodes.setdefault(n, f"p_{n}")

    def voltage(p: str, n: str | None) -> sp.Expr:
        if p in helper_nodes and n is None:
            return sp.Symbol(helper_nodes[p], real=True)
        pp, nn = port(p), port(n)
        if pp is None and nn is None:
            return sp.Integer(0)
        if pp is None:
            return -node_voltage(nn)  # type: ignore[arg-type]
        return node_voltage(pp, nn)

    def translate(expr: sp.Expr) -> sp.Expr:
        subs: dict[sp.Basic, sp.Expr] = {}
        for sym in sorted(expr.free_symbols, key=lambda x: x.name):  # (a set: order by name)
            match = _VREF.match(sym.name)
            if match:
                subs[sym] = voltage(match.group("p"), match.group("n"))
            elif _IREF.match(sym.name):
                subs[sym] = translate(_current_of(_IREF.match(sym.name).group("name"), kept, flat))  # type: ignore[union-attr]
        return _guard_divisions(expr.xreplace(subs))

    # the module's ports in a fixed order -- the subcircuit's own, then the other terminals as
    # the elements name them -- so the same subcircuit gives the same module in every process
    for n in [*sc.ports, *(t for e in flat if not any(e is h for h in helpers) for t in _terminals(e))]:
        if n in use:
            port(n)
    variables = tuple(
        Variable(helper_nodes[e.p], translate(e.expr), "V", f"helper node {e.p}", retrieve=False)
        for e in helpers
    )
    contributions: list[Contribution] = []
    for e in flat:
        if any(e is h for h in helpers):
            continue
        p, n = e.p, e.n  # type: ignore[union-attr]
        if isinstance(e, Resistor):
            body, ddt, potential = voltage(p, n) / e.r_ohm, False, False
        elif isinstance(e, Capacitor):
            body, ddt, potential = e.c_f * voltage(p, n), True, False
        else:
            body, ddt, potential = translate(e.expr), False, isinstance(e, BehavioralVoltage)
        if p == "0":
            p, n, body = n, "0", -body
        if p == "0":
            continue  # both terminals on ground
        contributions.append(Contribution(port(p), port(n), body, ddt=ddt, potential=potential))  # type: ignore[arg-type]
    used = {s.name for item in (*variables, *contributions) for s in item.expr.free_symbols}
    values = {k: float(v) for k, v in sc.params.items() if k in used}
    params = tuple(
        ParamInfo(k, "", "subcircuit parameter", sc.name, None, None, False, False, v, float)
        for k, v in values.items()
    )
    module = CompactModel(
        name=f"{sc.name}_va",
        doc=f"{sc.doc}\ncompiled form of subcircuit {sc.name} (spinspice.circuits.compiled)".strip(),
        ports=tuple(nodes.values()),
        internal=(),
        params=params,
        values=tuple(values.items()),
        variables=variables,
        contributions=tuple(contributions),
    )
    return module, tuple(nodes)


@functools.lru_cache(maxsize=512)
def compiled_subckt(sc: Subckt) -> Subckt:
    """``sc`` with its behavioural part (and that of every subcircuit it uses) compiled."""
    elements: list[Element] = []
    for e in sc.elements:
        if isinstance(e, Instance) and not _is_pure(e.subckt):
            child = compiled_subckt(e.subckt)
            if child is not e.subckt:
                e = Instance(e.name, child, e.conns)
        elements.append(e)
    flat: list[Element] = []
    kept: list[Element] = []
    for e in elements:
        if isinstance(e, _TRANSLATED):
            flat.append(e)
        elif (
            isinstance(e, Instance)
            and _is_pure(e.subckt)
            and any(isinstance(x, _BEHAVIOURAL) for x in _flatten(e))
        ):
            flat += _flatten(e)
        else:
            kept.append(e)
    same = all(a is b for a, b in zip(elements, sc.elements, strict=True))
    unchanged = sc if same else Subckt(sc.name, sc.ports, tuple(elements), sc.doc, sc.params)
    if not any(isinstance(e, _BEHAVIOURAL) for e in flat):
        return unchanged
    try:
        module, conns = _module(sc, flat, kept)
    except _Untranslatable:
        return unchanged
    card = VerilogAModelCard(module.name, module, doc=f"compiled Verilog-A module of {sc.name} (OSDI)")
    return Subckt(
        name=sc.name,
        ports=sc.ports,
        elements=(*kept, VerilogAInstance("va", conns, card)),
        doc=sc.doc,
        params={},
    )


def compiled_testbench(tb: Testbench) -> Testbench:
    """``tb`` with every subcircuit it instantiates compiled (top-level elements unchanged)."""
    import dataclasses

    elements = tuple(
        Instance(e.name, compiled_subckt(e.subckt), e.conns) if isinstance(e, Instance) else e
        for e in tb.elements
    )
    return dataclasses.replace(tb, elements=elements)


def verilog_a_cards(top: Subckt) -> list[VerilogAModelCard]:
    """The compiled modules ``top`` uses (each once)."""
    return [m for m in top.models() if isinstance(m, VerilogAModelCard)]
