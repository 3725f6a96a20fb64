"""SI values: parse user text (``"1n"``, ``"10mA"``, ``"564ohm"``) and format
numbers for netlists (``1.024e-14`` -> ``"10.24f"``).

Code works in plain SI floats with the unit in the variable name
(``t_on_s``).  Prefixes exist only at the two edges handled here: the text a
user types and the text written into a netlist.

Conventions for parsing (documented in ``docs/cli.md``):

* prefixes ``f p n u µ m k M G T`` and SPICE's ``meg``; unlike SPICE, ``M``
  means mega (``m`` is milli), because users type ``1M`` for a million;
* a unit may follow the prefix and must then match the parameter's unit
  (``"1ns"`` is fine for a time, ``"1nA"`` is rejected);
* a suffix that equals the expected unit is the unit, not a prefix
  (``"2m"`` for a length in metres is two metres).
"""

from __future__ import annotations

import math
import re

from spinspice.errors import ModelParameterError, UnitError

__all__ = [
    "PREFIXES",
    "SPICE_SCALE",
    "eng",
    "format_float",
    "format_si",
    "parse_grid",
    "parse_list",
    "parse_value",
]

#: SI prefix -> multiplier accepted when parsing.
PREFIXES: dict[str, float] = {
    "f": 1e-15,
    "p": 1e-12,
    "n": 1e-9,
    "u": 1e-6,
    "µ": 1e-6,
    "μ": 1e-6,
    "m": 1e-3,
    "k": 1e3,
    "K": 1e3,
    "meg": 1e6,
    "M": 1e6,
    "G": 1e9,
    "g": 1e9,
    "T": 1e12,
    "t": 1e12,
}

#: SPICE's scale factors (case-insensitive: ``m`` and ``M`` are milli, ``meg`` is 1e6), as
#: ngspice reads numbers in a netlist; the same values as :data:`PREFIXES`, plus ``mil``.
SPICE_SCALE: dict[str, float] = {
    **{p: PREFIXES[p] for p in ("f", "p", "n", "u", "m", "k", "meg", "g", "t")},
    "mil": 25.4e-6,
}

# Spellings of the same unit the parser accepts.
_UNIT_ALIASES: dict[str, tuple[str, ...]] = {
    "ohm": ("ohm", "Ohm", "ohms", "Ω"),
    "s": ("s", "sec"),
    "A": ("A", "amp"),
    "V": ("V", "volt"),
    "F": ("F",),
    "Hz": ("Hz", "hz"),
    "J": ("J",),
    "W": ("W",),
    "S": ("S", "siemens"),
    "m": ("m",),
    "Oe": ("Oe", "oe"),
    "A/m^2": ("A/m^2", "A/m2"),
}

_NUMBER = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*?)\s*$")


def _unit_spellings(unit: str | None) -> tuple[str, ...]:
    if not unit:
        return ()
    return _UNIT_ALIASES.get(unit, (unit,))


def parse_value(text: str | float | int, unit: str | None = None, *, name: str = "value") -> float:
    """Parse ``text`` into an SI float.

    ``unit`` is the parameter's SI unit (``"s"``, ``"A"``, ``"ohm"`` ...); it is
    optional in the text but, when present, must match.  ``name`` only feeds
    the error message.

    >>> parse_value("1n", "s")
    1e-09
    >>> parse_value("10mA", "A")
    0.01
    """
    if isinstance(text, bool):
        raise UnitError(f"{name}: expected a number, got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = _NUMBER.match(str(text))
        if match is None:
            raise UnitError(f"{name}: cannot read {text!r} as a number; write e.g. 1.5, 1e-9, 1n or 1ns")
        value = float(match.group(1))
        suffix = match.group(2)
        if suffix:
            value *= _suffix_scale(suffix, unit, name=name, text=str(text))
    if not math.isfinite(value):
        raise UnitError(f"{name}: {text!r} is not a finite number")
    return value


def _suffix_scale(suffix: str, unit: str | None, *, name: str, text: str) -> float:
    spellings = _unit_spellings(unit)
    if suffix in spellings:
        return 1.0
    # longest prefix first so that "meg" wins over "m"
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        if suffix.startswith(prefix):
            rest = suffix[len(prefix) :]
            if rest == "" or rest in spellings:
                return PREFIXES[prefix]
    expected = f" (unit {unit})" if unit else ""
    raise UnitError(
        f"{name}: cannot read the suffix {suffix!r} in {text!r}{expected}; "
        f"use an SI prefix ({', '.join(p for p in PREFIXES if p.isascii())})"
        + (f" optionally followed by {unit}" if unit else "")
    )


_FORMAT_PREFIXES: tuple[tuple[int, str], ...] = (
    (-15, "f"),
    (-12, "p"),
    (-9, "n"),
    (-6, "u"),
    (-3, "m"),
    (0, ""),
    (3, "k"),
    (6, "meg"),
    (9, "g"),
    (12, "t"),
)


def format_float(value: float, digits: int | None = None) -> str:
    """Plain notation that SPICE, Verilog-A and Python all read.

    Without ``digits`` the shortest text that reads back as exactly the same
    double (Python's ``repr``); with ``digits``, that many significant digits.
    """
    value = float(value)
    if not math.isfinite(value):
        raise UnitError(f"cannot format non-finite number {value!r}")
    if value == 0.0:
        return "0"
    if digits is None:
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    text = f"{value:.{digits}g}"
    if not math.isfinite(float(text)):  # rounded past the largest double (1.8e308 -> 2e+308)
        text = repr(value)
    return text


def format_si(value: float, digits: int = 12) -> str:
    """Format ``value`` with a SPICE-safe SI prefix: ``1.024e-14`` -> ``10.24f``.

    Uses ``meg`` for 1e6 (``M`` would be milli to SPICE).  Values outside
    f..t, or that would need more digits than ``digits``, fall back to
    exponent notation.
    """
    value = float(value)
    if not math.isfinite(value):
        raise UnitError(f"cannot format non-finite number {value!r}")
    if value == 0.0:
        return "0"
    exp3 = math.floor(math.log10(abs(value)) / 3.0) * 3
    for power, prefix in _FORMAT_PREFIXES:
        if power == exp3:
            mantissa = value / 10.0**power
            text = f"{mantissa:.{digits}g}"
            if "e" in text:  # rounding pushed it to 1000: let Python decide
                break
            return text + prefix
    return format_float(value)


#: engineering prefixes for reading (reports, CLI lines, axes): power of ten -> prefix
_ENG_PREFIXES = ((-18, "a"), (-15, "f"), (-12, "p"), (-9, "n"), (-6, "µ"), (-3, "m"), (0, ""), (3, "k"))
_ENG_PREFIXES += ((6, "M"), (9, "G"), (12, "T"))


def eng(value: float | None, unit: str, digits: int = 4) -> str:
    """``value`` (SI) for a reader, with the engineering prefix that puts 1 to 999 before the
    unit: ``eng(1.013e-8, "J")`` -> ``"10.13 nJ"``; None -> ``"n/a"``.  The one formatter of
    every figure the CLI and the reports print."""
    if value is None:
        return "n/a"
    value = float(value)
    if not math.isfinite(value):
        return f"{value} {unit}".strip()
    if value == 0.0:
        return f"0 {unit}".strip()
    exp3 = max(-18, min(12, math.floor(math.log10(abs(value)) / 3.0) * 3))
    mantissa = value / 10.0**exp3
    if float(f"{abs(mantissa):.{digits}g}") >= 1000 and exp3 < 12:  # 999.96 rounds up: next prefix
        exp3 += 3
        mantissa = value / 10.0**exp3
    prefix = dict(_ENG_PREFIXES)[exp3]
    return f"{mantissa:.{digits}g} {prefix}{unit}".rstrip()


def parse_list(text: str, unit: str | None, name: str) -> list[float]:
    """``"a,b,c"`` -> values, SI suffixes accepted (``name`` is named in errors)."""
    values = [parse_value(v, unit, name=name) for v in text.split(",") if v.strip()]
    if not values:
        raise ModelParameterError(f"{name}: give a comma-separated list of values")
    return values


def parse_grid(text: str, unit: str | None, name: str) -> list[float]:
    """``"a,b,c"`` or ``"start:stop:step"`` (stop included) -> values, SI suffixes accepted."""
    if ":" not in text:
        return parse_list(text, unit, name)
    parts = text.split(":")
    if len(parts) != 3:
        raise ModelParameterError(f"{name}: write START:STOP:STEP, e.g. -500:500:10")
    start, stop, step = (parse_value(v, unit, name=name) for v in parts)
    if step <= 0 or stop < start:
        raise ModelParameterError(f"{name}: need STEP > 0 and STOP >= START")
    n = round((stop - start) / step) + 1
    if n > 100_000:
        raise ModelParameterError(f"{name}: {n} points is too many (at most 100000)")
    return [start + k * step for k in range(n)]
