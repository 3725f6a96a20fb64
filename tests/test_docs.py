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
    out = tmp_path / "models.md"
    subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_models.py"), "--out", str(out), "--figures", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=900,
    )
    new = out.read_text().splitlines()
    old = (ROOT / "docs" / "models.md").read_text().splitlines()
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


def test_papers_md_is_the_rendering_of_the_recorded_runs() -> None:
    """docs/papers.md is generated from docs/papers.json (figures read from the reports of the
    rows' commands): re-rendering gives it exactly, and every record names its reports."""
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        import gen_papers
    finally:
        sys.path.pop(0)
    import json

    data = json.loads((ROOT / "docs" / "papers.json").read_text())
    assert set(data) <= set(gen_papers.ROWS) and len(data) >= 3
    for fig in data.values():
        assert fig["train_schema"].startswith("spinspice.") and fig["cosim_schema"].startswith("spinspice.")
        assert 0 < fig["test_accuracy"] <= 1 and fig["samples"] >= 1
        assert ("spike_agreement" in fig) != ("activation_error_rms" in fig)
    assert (ROOT / "docs" / "papers.md").read_text() == gen_papers.render(data), "run docs/gen_papers.py"
