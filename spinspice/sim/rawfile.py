"""Reader for SPICE raw files (binary and ASCII, real and complex).

ngspice writes a text header (``Title:``, ``Plotname:``, ``Flags:``,
``No. Variables:``, ``No. Points:``, ``Variables:``) followed by ``Binary:``
(little-endian float64, point by point) or ``Values:`` (text).  A file may
hold several plots.  Anything inconsistent -- missing header fields, fewer
points than announced, a stray tail -- raises :class:`RawFileError` naming
the file and the problem, never returns partial data silently.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from spinspice.errors import RawFileError

__all__ = ["RawPlot", "canonical_name", "parse_raw", "read_raw"]


@dataclasses.dataclass(frozen=True)
class RawPlot:
    """One plot of a raw file: ``names`` in order, ``data[name] -> array``."""

    title: str
    plotname: str
    flags: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    data: dict[str, np.ndarray]

    @property
    def n_points(self) -> int:
        return len(next(iter(self.data.values()))) if self.data else 0


def canonical_name(name: str) -> str:
    """Lower-case vector name in raw-file spelling: ``v(node)``, ``i(vsrc)``.

    The shared library reports ``node`` and ``vsrc#branch``; the raw file
    ``v(node)`` and ``i(vsrc)``.  Both map to the raw-file spelling.
    """
    n = name.strip().lower()
    if n.endswith("#branch"):
        return f"i({n[: -len('#branch')]})"
    if n.startswith(("v(", "i(")) or n in ("time", "frequency"):
        return n
    if n.startswith("@"):
        return f"i({n})" if n.endswith("[i]") else n
    return f"v({n})"


def read_raw(path: str | Path) -> list[RawPlot]:
    """Read every plot in the raw file at ``path``."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise RawFileError(f"raw file {path} does not exist; did ngspice run?") from None
    except OSError as err:  # a folder, no permission ...
        raise RawFileError(f"cannot read raw file {path}: {err.strerror or err}") from None
    return parse_raw(blob, source=str(path))


def _header_value(fields: dict[str, str], key: str, source: str) -> str:
    if key not in fields:
        raise RawFileError(f"{source}: raw header lacks '{key}:' (not a SPICE raw file?)")
    return fields[key]


def parse_raw(blob: bytes, *, source: str = "<bytes>") -> list[RawPlot]:
    if not blob:
        raise RawFileError(f"{source}: raw file is empty")
    plots: list[RawPlot] = []
    pos = 0
    while pos < len(blob):
        if not blob[pos:].strip():
            break
        plot, pos = _parse_one(blob, pos, source)
        plots.append(plot)
    if not plots:
        raise RawFileError(f"{source}: no plot found in raw file")
    return plots


def _readline(blob: bytes, pos: int, source: str) -> tuple[str, int]:
    end = blob.find(b"\n", pos)
    if end < 0:
        raise RawFileError(f"{source}: raw header is truncated")
    try:
        return blob[pos:end].decode("ascii").rstrip("\r"), end + 1
    except UnicodeDecodeError:
        raise RawFileError(f"{source}: raw header is not ASCII (corrupt file?)") from None


def _parse_one(blob: bytes, pos: int, source: str) -> tuple[RawPlot, int]:
    fields: dict[str, str] = {}
    names: list[str] = []
    types: list[str] = []
    while True:
        line, pos = _readline(blob, pos, source)
        if not line.strip():
            continue
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "Variables":
            n_vars = _int(_header_value(fields, "No. Variables", source), "No. Variables", source)
            for _ in range(n_vars):
                vline, pos = _readline(blob, pos, source)
                parts = vline.split()
                if len(parts) < 3:
                    raise RawFileError(f"{source}: malformed variable line {vline!r}")
                names.append(parts[1])
                types.append(parts[2])
            continue
        if key in ("Binary", "Values"):
            break
        fields[key] = value.strip()
    n_vars = _int(_header_value(fields, "No. Variables", source), "No. Variables", source)
    n_points = _int(_header_value(fields, "No. Points", source), "No. Points", source)
    flags = _header_value(fields, "Flags", source).lower()
    if len(names) != n_vars:
        raise RawFileError(f"{source}: header announces {n_vars} variables, lists {len(names)}")
    is_complex = "complex" in flags
    width = 2 if is_complex else 1
    if n_vars == 0:
        raise RawFileError(f"{source}: raw header announces no variables (not a SPICE result)")
    # ASCII data needs 2 bytes a value at least: a corrupt point count never allocates or
    # loops beyond what the file can hold (binary data is measured exactly below)
    if key != "Binary" and n_points * n_vars * 2 > len(blob) - pos:
        have = (len(blob) - pos) // (n_vars * 2)
        raise RawFileError(f"{source}: raw file is truncated: at most {have} of {n_points} points present")
    if key == "Binary":
        n_bytes = n_points * n_vars * width * 8
        chunk = blob[pos : pos + n_bytes]
        if len(chunk) != n_bytes:
            got = len(chunk) // (n_vars * width * 8)
            raise RawFileError(f"{source}: raw file is truncated: {got} of {n_points} points present")
        arr = np.frombuffer(chunk, dtype="<f8").reshape(n_points, n_vars * width)
        pos += n_bytes
    else:
        arr, pos = _parse_ascii(blob, pos, n_points, n_vars, is_complex, source)
    data: dict[str, np.ndarray] = {}
    for k, name in enumerate(names):
        if is_complex:
            col = arr[:, 2 * k] + 1j * arr[:, 2 * k + 1]
        else:
            col = arr[:, k].copy()
        if not np.all(np.isfinite(col)):
            raise RawFileError(f"{source}: vector {name} contains NaN or inf (corrupt data)")
        data[name.lower()] = col
    plot = RawPlot(
        title=fields.get("Title", ""),
        plotname=fields.get("Plotname", ""),
        flags=flags,
        names=tuple(n.lower() for n in names),
        types=tuple(types),
        data=data,
    )
    return plot, pos


def _int(text: str, what: str, source: str) -> int:
    try:
        value = int(text.split()[0])
    except (ValueError, IndexError):
        raise RawFileError(f"{source}: '{what}: {text}' is not a number") from None
    if value < 0:
        raise RawFileError(f"{source}: '{what}' is negative")
    return value


def _parse_ascii(
    blob: bytes, pos: int, n_points: int, n_vars: int, is_complex: bool, source: str
) -> tuple[np.ndarray, int]:
    width = 2 if is_complex else 1
    out = np.empty((n_points, n_vars * width))
    for p in range(n_points):
        for v in range(n_vars):
            while True:
                try:
                    line, pos = _readline(blob, pos, source)
                except RawFileError:
                    raise RawFileError(
                        f"{source}: raw file is truncated: {p} of {n_points} points present"
                    ) from None
                if line.strip():
                    break
            parts = line.split()
            token = parts[1] if v == 0 and len(parts) > 1 else parts[-1]
            try:
                if is_complex:
                    re_, im_ = token.split(",")
                    out[p, 2 * v], out[p, 2 * v + 1] = float(re_), float(im_)
                else:
                    out[p, v] = float(token)
            except ValueError:
                raise RawFileError(f"{source}: cannot read value {token!r}") from None
    return out, pos
