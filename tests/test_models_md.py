"""docs/models.md is current: regenerated, its prose identical and every table number within
0.5 % (a file of its own, so that `-n auto --dist loadfile` runs it beside the docs examples)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


NUMBER = re.compile(r"-?\d+(?:\.(\d+))?(?:e([+-]?\d+))?")


def _numbers(line: str) -> list[tuple[float, float]]:
    """(value, one unit of its last printed digit) for every number in ``line``."""
    out = []
    for m in NUMBER.finditer(line):
        decimals = len(m.group(1) or "")
        exponent = int(m.group(2) or 0)
        out.append((float(m.group(0)), 10.0 ** (exponent - decimals)))
    return out


@pytest.mark.ngspice
@pytest.mark.slow
def test_models_md_is_current(tmp_path) -> None:
    """Regenerate docs/models.md: prose identical, every table number within 0.5 % (or one
    unit of its last printed digit)."""
    from spinspice.sim.backends import ngspice_version
    from spinspice.sim.osdi import resolve_models

    old = (ROOT / "docs" / "models.md").read_text().splitlines()
    here = f"with ngspice {ngspice_version()} ({resolve_models()} device models)"
    if here not in old[2]:  # error figures are per simulator version and model form
        pytest.skip(f"docs/models.md was not generated {here}: {old[2]}")
    out = tmp_path / "models.md"
    subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_models.py"), "--out", str(out), "--figures", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    new = out.read_text().splitlines()
    assert len(new) == len(old), "docs/models.md is stale: run `make docs`"
    for a, b in zip(new, old, strict=True):
        if not b.startswith("|"):
            assert a == b, f"docs/models.md is stale (run `make docs`): {b!r}"
            continue
        na, nb = _numbers(a), _numbers(b)
        assert len(na) == len(nb), f"stale row (run `make docs`): {b}"
        for (x, _), (y, ulp) in zip(na, nb, strict=True):
            assert x == pytest.approx(y, rel=5e-3, abs=1.01 * ulp), f"stale row (run `make docs`): {b}"
    for fig in re.findall(r"\(figures/([^)]+)\)", "\n".join(old)):
        assert (ROOT / "docs" / "figures" / fig).is_file(), fig
        assert (tmp_path / fig).is_file(), fig


def test_every_command_is_documented_in_cli_md() -> None:
    from spinspice.cli import app

    text = (ROOT / "docs" / "cli.md").read_text()
    names = [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]
    assert len(names) >= 11
    missing = [n for n in names if f"## `spinspice {n}" not in text]
    assert not missing, f"docs/cli.md lacks sections for {missing}"
