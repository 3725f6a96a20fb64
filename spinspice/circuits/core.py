"""Dialect-neutral circuit objects.

Generators in :mod:`spinspice.circuits` build these frozen objects from
parameters; :mod:`spinspice.netlists` is the only code that turns them into
SPICE text.  Names here are *logical* (``"sense"``, ``"dev"``); the netlister
adds the SPICE type letter and sanitises them.

Behavioural elements carry sympy expressions whose circuit references are
made with :func:`~spinspice.models.expr.node_voltage` (``V[node]``) and
:func:`~spinspice.models.expr.branch_current` (``I[element]``), local to the
subcircuit that holds the element.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import sympy as sp

from spinspice.errors import ModelParameterError, NetlistError, did_you_mean

__all__ = [
    "GENERATORS",
    "BehavioralCurrent",
    "BehavioralVoltage",
    "Capacitor",
    "CodeModel",
    "CodeModelCard",
    "CurrentSource",
    "Element",
    "Instance",
    "Mosfet",
    "MosfetModel",
    "Probe",
    "Pulse",
    "Pwl",
    "Resistor",
    "Subckt",
    "Testbench",
    "Transient",
    "VerilogAInstance",
    "VerilogAModelCard",
    "VoltageSource",
    "generator",
    "get_generator",
    "stable_hash",
]


# --- waveforms ------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Pulse:
    """SPICE PULSE(v1 v2 td tr tf pw per); ``per_s = 0`` means one pulse."""

    v1: float
    v2: float
    td_s: float
    tr_s: float
    tf_s: float
    pw_s: float
    per_s: float = 0.0
    count: int = 0  # 0 = unlimited (SPICE: np)


@dataclasses.dataclass(frozen=True)
class Pwl:
    """Piece-wise linear waveform ``((t0, v0), (t1, v1), ...)``."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        times = [t for t, _ in self.points]
        if len(times) < 1 or any(b < a for a, b in itertools.pairwise(times)):
            raise NetlistError("PWL points must be given in non-decreasing time order")


Waveform = Pulse | Pwl


# --- elements -------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Resistor:
    name: str
    p: str
    n: str
    r_ohm: float

    def __post_init__(self) -> None:
        if not self.r_ohm > 0:
            raise ModelParameterError(f"resistor {self.name}: r_ohm = {self.r_ohm:g} must be > 0")


@dataclasses.dataclass(frozen=True)
class Capacitor:
    name: str
    p: str
    n: str
    c_f: float

    def __post_init__(self) -> None:
        if not self.c_f > 0:
            raise ModelParameterError(f"capacitor {self.name}: c_f = {self.c_f:g} must be > 0")


@dataclasses.dataclass(frozen=True)
class VoltageSource:
    """Independent voltage source; also the ammeter for a branch current."""

    name: str
    p: str
    n: str
    dc_v: float = 0.0
    wave: Waveform | None = None


@dataclasses.dataclass(frozen=True)
class CurrentSource:
    """Independent current source; current flows p -> (through source) -> n."""

    name: str
    p: str
    n: str
    dc_a: float = 0.0
    wave: Waveform | None = None


@dataclasses.dataclass(frozen=True)
class BehavioralCurrent:
    """B-source current ``expr`` flowing p -> (through source) -> n."""

    name: str
    p: str
    n: str
    expr: sp.Expr


@dataclasses.dataclass(frozen=True)
class BehavioralVoltage:
    name: str
    p: str
    n: str
    expr: sp.Expr


@dataclasses.dataclass(frozen=True)
class MosfetModel:
    """Level-1 (Shichman-Hodges) MOSFET model card.

    ``I_D = KP/2 (W/L) (V_GS - V_TO)^2 (1 + LAMBDA V_DS)`` in saturation and
    ``KP (W/L) (V_GS - V_TO - V_DS/2) V_DS (1 + LAMBDA V_DS)`` in triode, as in
    ngspice's MOS1.  ``vto_v`` is positive for both polarities here; the
    netlister writes it negative for PMOS.
    """

    name: str
    polarity: str  # "n" or "p"
    vto_v: float
    kp_a_per_v2: float
    lambda_per_v: float = 0.0
    doc: str = ""

    def __post_init__(self) -> None:
        if self.polarity not in ("n", "p"):
            raise ModelParameterError(f"MOSFET model {self.name}: polarity must be 'n' or 'p'")
        if not self.kp_a_per_v2 > 0:
            raise ModelParameterError(f"MOSFET model {self.name}: kp must be > 0")
        if not self.vto_v > 0:
            raise ModelParameterError(f"MOSFET model {self.name}: |vto| must be > 0")
        if self.lambda_per_v < 0:
            raise ModelParameterError(f"MOSFET model {self.name}: lambda must be >= 0")

    def overdrive_v(self, vgs_v: float) -> float:
        """|V_GS| - V_TO, or an error saying the gate drive cannot turn the FET on."""
        vov = abs(vgs_v) - self.vto_v
        if vov <= 0:
            raise ModelParameterError(
                f"MOSFET model {self.name}: gate drive {vgs_v:g} V does not exceed "
                f"V_TO = {self.vto_v:g} V; raise the supply or lower vto"
            )
        return vov

    def saturation_current_a(self, w_m: float, l_m: float, vgs_v: float) -> float:
        """Drain current in saturation for gate drive ``vgs_v`` (magnitude), V_DS term excluded."""
        vov = abs(vgs_v) - self.vto_v
        return 0.0 if vov <= 0 else 0.5 * self.kp_a_per_v2 * (w_m / l_m) * vov * vov

    def width_for_on_resistance(self, r_ohm: float, l_m: float, vgs_v: float) -> float:
        """Width whose small-V_DS channel resistance is ``r_ohm`` at gate drive ``vgs_v``."""
        return l_m / (self.kp_a_per_v2 * self.overdrive_v(vgs_v) * r_ohm)

    def width_for_current(self, i_a: float, l_m: float, vgs_v: float) -> float:
        """Width that gives saturation current ``i_a`` at gate drive ``vgs_v``."""
        vov = self.overdrive_v(vgs_v)
        return 2.0 * i_a * l_m / (self.kp_a_per_v2 * vov * vov)

    def triode_vds_for_current(self, i_a: float, w_m: float, l_m: float, vgs_v: float) -> float:
        """|V_DS| at which a triode-region FET carries ``i_a`` (level-1, lambda = 0).

        Solves ``I = KP W/L (V_ov - V_DS/2) V_DS``; raises if ``i_a`` exceeds
        the saturation current (the switch could not carry it).
        """
        vov = abs(vgs_v) - self.vto_v
        beta = self.kp_a_per_v2 * w_m / l_m
        disc = vov * vov - 2.0 * i_a / beta if vov > 0 else -1.0
        if disc < 0:
            raise ModelParameterError(
                f"MOSFET model {self.name}: W = {w_m:g} m at |V_GS| = {abs(vgs_v):g} V cannot "
                f"carry {i_a:g} A (saturates at {self.saturation_current_a(w_m, l_m, vgs_v):g} A)"
            )
        return vov - disc**0.5

    def on_resistance_ohm(self, w_m: float, l_m: float, vgs_v: float) -> float:
        """Small-V_DS channel resistance 1/(KP W/L (V_GS - V_TO))."""
        vov = abs(vgs_v) - self.vto_v
        if vov <= 0:
            return float("inf")
        return 1.0 / (self.kp_a_per_v2 * (w_m / l_m) * vov)


@dataclasses.dataclass(frozen=True)
class Mosfet:
    name: str
    d: str
    g: str
    s: str
    b: str
    model: MosfetModel
    w_m: float
    l_m: float

    def __post_init__(self) -> None:
        if not (self.w_m > 0 and self.l_m > 0):
            raise ModelParameterError(f"MOSFET {self.name}: W and L must be > 0")


@dataclasses.dataclass(frozen=True)
class CodeModelCard:
    """An XSPICE code-model card (ngspice's ``digital.cm``/``analog.cm``): ``kind`` is the
    code model (``d_dff``, ``adc_bridge`` ...), ``params`` its parameters (SI values)."""

    name: str
    kind: str
    params: tuple[tuple[str, float], ...] = ()
    doc: str = ""


@dataclasses.dataclass(frozen=True)
class CodeModel:
    """An XSPICE code-model instance; a tuple connection is a port vector (``[a b c]``).
    Digital nodes (between bridges and gates) are ordinary names."""

    name: str
    conns: tuple[str | tuple[str, ...], ...]
    model: CodeModelCard

    def __post_init__(self) -> None:
        if any(isinstance(c, tuple) and not c for c in self.conns):
            raise NetlistError(f"code model {self.name}: empty port vector")


@dataclasses.dataclass(frozen=True)
class Instance:
    """An instance of ``subckt`` with ports connected to ``conns`` (in port order)."""

    name: str
    subckt: Subckt
    conns: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.conns) != len(self.subckt.ports):
            raise NetlistError(
                f"instance {self.name} of {self.subckt.name}: {len(self.conns)} connections "
                f"for {len(self.subckt.ports)} ports {self.subckt.ports}"
            )


@dataclasses.dataclass(frozen=True)
class VerilogAModelCard:
    """A ``.model NAME MODULE`` card of a compiled (OSDI) Verilog-A module.

    ``module`` is the dialect-neutral :class:`~spinspice.models.compact.CompactModel`
    (parameters carry their values as defaults, so the card sets none)."""

    name: str
    module: Any  # spinspice.models.compact.CompactModel
    doc: str = ""


@dataclasses.dataclass(frozen=True)
class VerilogAInstance:
    """An instance (ngspice ``N`` element) of a compiled Verilog-A module; ``conns`` in
    the module's port order."""

    name: str
    conns: tuple[str, ...]
    model: VerilogAModelCard

    def __post_init__(self) -> None:
        if len(self.conns) != len(self.model.module.ports):
            raise NetlistError(
                f"Verilog-A instance {self.name}: {len(self.conns)} connections for the ports "
                f"{self.model.module.ports} of {self.model.module.name}"
            )


Element = (
    Resistor
    | Capacitor
    | VoltageSource
    | CurrentSource
    | BehavioralCurrent
    | BehavioralVoltage
    | Mosfet
    | CodeModel
    | Instance
    | VerilogAInstance
)


@dataclasses.dataclass(frozen=True)
class Subckt:
    """A subcircuit: ports, elements and a documentation header."""

    name: str
    ports: tuple[str, ...]
    elements: tuple[Element, ...]
    doc: str = ""
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        counts = collections.Counter(e.name for e in self.elements)
        dup = {n for n, c in counts.items() if c > 1}
        if dup:
            shown = sorted(dup)[:5]
            more = f" and {len(dup) - 5} more" if len(dup) > 5 else ""
            raise NetlistError(f"subcircuit {self.name}: duplicate element names {shown}{more}")

    def element(self, name: str) -> Element:
        for e in self.elements:
            if e.name == name:
                return e
        raise NetlistError(
            f"subcircuit {self.name} has no element {name!r}"
            + did_you_mean(name, [e.name for e in self.elements])
        )

    def dependencies(self) -> list[Subckt]:
        """All subcircuits used (recursively), dependencies first, no repeats."""
        seen: dict[str, Subckt] = {}

        def visit(sc: Subckt) -> None:
            for e in sc.elements:
                if isinstance(e, Instance) and e.subckt.name not in seen:
                    visit(e.subckt)
                    seen[e.subckt.name] = e.subckt

        visit(self)
        return list(seen.values())

    def models(self) -> list[MosfetModel | CodeModelCard | VerilogAModelCard]:
        """Every model card used (MOSFET, XSPICE and compiled Verilog-A), each once."""
        found: dict[str, MosfetModel | CodeModelCard | VerilogAModelCard] = {}
        for sc in [*self.dependencies(), self]:
            for e in sc.elements:
                if isinstance(e, (Mosfet, CodeModel, VerilogAInstance)):
                    prev = found.setdefault(e.model.name, e.model)
                    if prev != e.model:
                        raise NetlistError(f"two different models named {e.model.name}")
        return list(found.values())


# --- probes, analyses, testbench ----------------------------------------------
@dataclasses.dataclass(frozen=True)
class Probe:
    """A named quantity a report needs.

    ``kind`` is ``"v"`` (node voltage) or ``"i"`` (current through a voltage
    source).  ``path`` is the instance chain ending with the local node or
    element name, e.g. ``("cell", "dev", "m")``.
    """

    key: str
    kind: str
    path: tuple[str, ...]
    unit: str = ""
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("v", "i"):
            raise NetlistError(f"probe {self.key}: kind must be 'v' or 'i'")


@dataclasses.dataclass(frozen=True)
class Transient:
    """Transient analysis."""

    t_stop_s: float
    t_step_s: float
    t_max_s: float | None = None
    uic: bool = True

    def __post_init__(self) -> None:
        if not self.t_stop_s > 0 or not self.t_step_s > 0:
            raise ModelParameterError("transient: t_stop_s and t_step_s must be > 0")
        if self.t_max_s is not None and not self.t_max_s > 0:
            raise ModelParameterError("transient: t_max_s must be > 0")


@dataclasses.dataclass(frozen=True)
class Testbench:
    """A complete simulatable circuit: top-level elements + analysis + probes."""

    __test__ = False  # not a pytest test class

    title: str
    elements: tuple[Element, ...]
    analysis: Transient
    probes: tuple[Probe, ...] = ()
    initial_conditions: tuple[tuple[tuple[str, ...], float], ...] = ()
    options: tuple[tuple[str, Any], ...] = ()
    supplies: tuple[tuple[str, str], ...] = ()  # (component, voltage-source element name)
    #: probe keys written as ``.print tran`` (what ``ngspice -b netlist.cir`` prints)
    printed: tuple[str, ...] = ()

    def as_subckt(self) -> Subckt:
        return Subckt(name="top", ports=(), elements=self.elements)

    def probe(self, key: str) -> Probe:
        for p in self.probes:
            if p.key == key:
                return p
        raise NetlistError(f"no probe {key!r}" + did_you_mean(key, [p.key for p in self.probes]))


# --- generator registry ---------------------------------------------------------
F = TypeVar("F", bound=Callable[..., Subckt])

#: every registered subcircuit generator, by name (gdsfactory's ``get_cells``)
GENERATORS: dict[str, Callable[..., Subckt]] = {}


def generator(fn: F) -> F:
    """Register a pure subcircuit generator under its function name."""
    if fn.__name__ in GENERATORS:
        raise NetlistError(f"generator {fn.__name__} registered twice")
    GENERATORS[fn.__name__] = fn
    return fn


def get_generator(name: str) -> Callable[..., Subckt]:
    if name not in GENERATORS:
        raise NetlistError(f"no circuit generator {name!r}" + did_you_mean(name, GENERATORS))
    return GENERATORS[name]


def stable_hash(*objs: Any, n: int = 8) -> str:
    """Deterministic short hash of parameter objects (for subcircuit names)."""

    def norm(o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {f.name: norm(getattr(o, f.name)) for f in dataclasses.fields(o)}
        if isinstance(o, Mapping):
            return {str(k): norm(v) for k, v in sorted(o.items())}
        if isinstance(o, (list, tuple)):
            return [norm(v) for v in o]
        if isinstance(o, float):
            return repr(o)
        if isinstance(o, sp.Basic):
            return sp.srepr(o)
        return o

    text = json.dumps([norm(o) for o in objs], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def flatten(items: Iterable[Iterable[Element]]) -> tuple[Element, ...]:
    return tuple(e for group in items for e in group)
