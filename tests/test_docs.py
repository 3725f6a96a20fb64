"""Docs run: the Python examples in README/docs execute, and models.md is current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_readme_starts_with_the_two_commands() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert lines[2:6] == ["```", "make demo", "make test", "```"]


@pytest.mark.ngspice
@pytest.mark.parametrize("path", [p for p in DOCS if _python_blocks(p)], ids=lambda p: p.name)
def test_python_examples_run(path: Path, tmp_path) -> None:
    for block in _python_blocks(path):
        proc = subprocess.run(
            [sys.executable, "-c", block],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr


@pytest.mark.ngspice
@pytest.mark.slow
def test_models_md_is_current(tmp_path) -> None:
    """Regenerate the paper-vs-spinspice table and compare its numbers (0.5 %)."""
    out = tmp_path / "models.md"
    subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_models.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=600,
    )

    def table(text: str) -> list[str]:
        section = text.split("## Paper 001 vs spinspice", 1)[1].split("##", 1)[0]
        return [ln for ln in section.splitlines() if ln.startswith("|")]

    new, old = table(out.read_text()), table((ROOT / "docs" / "models.md").read_text())
    assert len(new) == len(old), "docs/models.md is stale: run `make docs`"
    number = re.compile(r"-?\d+\.?\d*(?:e[+-]?\d+)?")
    for a, b in zip(new, old, strict=True):
        na, nb = [float(x) for x in number.findall(a)], [float(x) for x in number.findall(b)]
        assert len(na) == len(nb), f"stale row: {b}"
        for x, y in zip(na, nb, strict=True):
            assert x == pytest.approx(y, rel=5e-3, abs=0.15), f"stale row (run `make docs`): {b}"
    rest_new = out.read_text().split("## Modelling choices", 1)[1]
    rest_old = (ROOT / "docs" / "models.md").read_text().split("## Modelling choices", 1)[1]
    assert rest_new == rest_old, "docs/models.md is stale: run `make docs`"
