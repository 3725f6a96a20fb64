"""Sanitising every identifier that reaches a netlist.

Netlists are code to ngspice (a ``.control`` block can run ``shell``), so no
user text is ever written raw: identifiers are reduced to ``[a-z0-9_]``,
start with a letter, and are bounded in length; free text (titles, docs)
becomes comment lines that cannot start a dot-command.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from spinspice.errors import NetlistError

__all__ = ["MAX_IDENTIFIER", "comment_lines", "sanitize_identifier"]

MAX_IDENTIFIER = 64
_BAD = re.compile(r"[^a-z0-9_]+")


def sanitize_identifier(text: str, *, what: str = "name") -> str:
    """Return a safe SPICE/Verilog-A identifier for ``text``.

    Lower-cases, transliterates accents, replaces every other character by
    ``_``, prefixes ``n_`` when the result would not start with a letter, and
    shortens very long names with a hash suffix (so distinct inputs stay
    distinct).  Ground ``"0"`` is kept.  Raises :class:`NetlistError` for an
    empty name.
    """
    if text == "0":
        return "0"
    raw = str(text)
    if not raw.strip():
        raise NetlistError(f"empty {what}: give every node, element and subcircuit a name")
    ascii_text = unicodedata.normalize("NFKD", raw).encode("ascii", "ignore").decode()
    name = _BAD.sub("_", ascii_text.lower()).strip("_")
    if not name:
        name = "n"
    if not name[0].isalpha():
        name = "n_" + name  # "1" -> "n_1_<hash>", never the same as a given "n_1"
    if name != raw and name != raw.lower():
        # keep distinct inputs distinct: "a b" and "a_b" must not collide
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:6]
        name = f"{name}_{digest}"
    if len(name) > MAX_IDENTIFIER:
        digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        name = name[: MAX_IDENTIFIER - 9] + "_" + digest
    return name


def comment_lines(text: str, prefix: str = "*") -> list[str]:
    """Turn free text into comment lines (control characters removed)."""
    out = []
    for line in str(text).splitlines() or [""]:
        clean = "".join(ch for ch in line if ch.isprintable())
        out.append(f"{prefix} {clean}".rstrip())
    return out
