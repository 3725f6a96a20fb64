"""Imports flow one way (STYLE.md):
models -> circuits -> netlists -> sim -> experiments -> snn -> cosim -> demo -> cli.

Every ``import spinspice.X`` / ``from spinspice.X import`` in every module,
including the lazy ones inside functions, is checked; the shared top-level
helpers (errors, io, units, the package itself) may be used from anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import spinspice

ORDER = ["models", "circuits", "netlists", "sim", "experiments", "snn", "cosim", "demo", "cli"]
ROOT = Path(spinspice.__file__).parent


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "spinspice" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in ORDER else None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def test_imports_flow_one_way() -> None:
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        here = rel.parts[0].removesuffix(".py")
        if here not in ORDER:
            continue
        for name in _imports(path):
            target = _layer(name)
            if target is not None and ORDER.index(target) > ORDER.index(here):
                bad.append(f"{rel} imports {name}")
    assert not bad, "imports against the flow:\n" + "\n".join(bad)
