"""Frozen, validated, self-documenting parameter sets.

Every physical parameter is declared with :func:`param`, which records its
unit, a description, its source (paper + equation, or "modelling choice") and
its allowed range.  :class:`ParamSet` validates all of them on construction
and knows how to describe itself, so the CLI (``spinspice models``), the docs
and the error messages all read from the same declaration (Hdl21's
``Param(desc=...)`` habit).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, TypeVar

from spinspice.errors import ModelParameterError, did_you_mean
from spinspice.units import parse_value

__all__ = ["ParamInfo", "ParamSet", "param"]

T = TypeVar("T", bound="ParamSet")


@dataclasses.dataclass(frozen=True)
class ParamInfo:
    """What :func:`param` records about one field."""

    name: str
    unit: str
    desc: str
    source: str
    lo: float | None
    hi: float | None
    lo_open: bool
    hi_open: bool
    default: Any
    kind: type

    def range_text(self) -> str:
        if self.kind is bool:
            return "true|false"
        if self.lo is None and self.hi is None:
            return "any finite value"
        left = "(" if self.lo_open or self.lo is None else "["
        right = ")" if self.hi_open or self.hi is None else "]"
        lo = "-inf" if self.lo is None else f"{self.lo:g}"
        hi = "inf" if self.hi is None else f"{self.hi:g}"
        return f"{left}{lo}, {hi}{right}"

    def contains(self, value: float) -> bool:
        if self.lo is not None and (value < self.lo or (self.lo_open and value == self.lo)):
            return False
        if self.hi is not None and (value > self.hi or (self.hi_open and value == self.hi)):
            return False
        return True


def param(
    default: Any,
    *,
    unit: str,
    desc: str,
    source: str,
    lo: float | None = None,
    hi: float | None = None,
    lo_open: bool = False,
    hi_open: bool = False,
) -> Any:
    """Declare a parameter field (use inside a ``ParamSet`` dataclass).

    ``unit`` is the SI unit ("1" for dimensionless), ``source`` cites the paper
    and equation or says "modelling choice", ``lo``/``hi`` bound the value
    (``*_open`` makes the bound exclusive).
    """
    meta = {
        "spinspice": {
            "unit": unit,
            "desc": desc,
            "source": source,
            "lo": lo,
            "hi": hi,
            "lo_open": lo_open,
            "hi_open": hi_open,
        }
    }
    return dataclasses.field(default=default, metadata=meta)


@dataclasses.dataclass(frozen=True)
class ParamSet:
    """Base class: frozen dataclass whose fields are declared with :func:`param`.

    Subclasses may override :meth:`_check` for rules that involve several
    fields; it must raise :class:`ModelParameterError` with a helpful message.
    """

    #: short human title used in docs and ``spinspice models``
    title: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for info in self.param_info():
            value = getattr(self, info.name)
            if info.kind is bool:
                if not isinstance(value, bool):
                    raise ModelParameterError(f"{info.name} = {value!r} must be true or false ({info.desc})")
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ModelParameterError(
                    f"{info.name} = {value!r} is not a number ({info.desc}, unit {info.unit})"
                )
            unit = "" if info.unit in ("", "1") else f" {info.unit}"
            try:
                as_float = float(value)
            except OverflowError:  # an int beyond the float range
                as_float = math.inf
            if not math.isfinite(as_float):
                raise ModelParameterError(
                    f"{info.name} = {str(value)[:24]} is not finite; allowed range {info.range_text()}{unit}"
                )
            if not info.contains(as_float):
                raise ModelParameterError(
                    f"{info.name} = {value:g} is outside its allowed range "
                    f"{info.range_text()}{unit} ({info.desc})"
                )
            object.__setattr__(self, info.name, as_float)
        self._check()

    def _check(self) -> None:
        """Cross-field validation hook."""

    # -- introspection -------------------------------------------------
    @classmethod
    def param_info(cls) -> list[ParamInfo]:
        out = []
        for f in dataclasses.fields(cls):
            meta = f.metadata.get("spinspice")
            if meta is None:
                continue
            default = f.default
            kind = bool if isinstance(default, bool) else float
            out.append(ParamInfo(name=f.name, default=default, kind=kind, **meta))
        return out

    @classmethod
    def param_names(cls) -> list[str]:
        return [p.name for p in cls.param_info()]

    def values(self) -> dict[str, Any]:
        """Flat ``{name: value}`` of the declared parameters."""
        return {p.name: getattr(self, p.name) for p in self.param_info()}

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self.values().items())

    # -- construction from user input -----------------------------------
    def replace(self: T, **changes: Any) -> T:
        """Return a copy with ``changes`` applied (validated)."""
        names = self.param_names()
        for key in changes:
            if key not in names:
                raise ModelParameterError(
                    f"unknown parameter {key!r} for {type(self).__name__}{did_you_mean(key, names)}"
                )
        return dataclasses.replace(self, **changes)

    @classmethod
    def coerce(cls, name: str, text: Any) -> Any:
        """Parse a user value (``"1n"``, ``"true"``) for parameter ``name``."""
        infos = {p.name: p for p in cls.param_info()}
        if name not in infos:
            raise ModelParameterError(f"unknown parameter {name!r}{did_you_mean(name, infos)}")
        info = infos[name]
        if info.kind is bool:
            if isinstance(text, bool):
                return text
            low = str(text).strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ModelParameterError(f"{name}: expected true or false, got {text!r}")
        unit = None if info.unit in ("1", "") else info.unit
        return parse_value(text, unit, name=name)

    def with_text(self: T, pairs: Mapping[str, Any]) -> T:
        """``replace`` from user text values (SI suffixes accepted)."""
        return self.replace(**{k: self.coerce(k, v) for k, v in pairs.items()})
