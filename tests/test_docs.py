"""Docs run: the Python examples in README/docs execute, and papers.md is current."""

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


def test_every_linked_image_and_page_exists() -> None:
    """Images (the report screenshots of `make docs`, figures) and relative links resolve."""
    for doc in DOCS:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if "://" in target or target.startswith("mailto:"):
                continue
            assert (doc.parent / target).exists(), f"{doc.name}: {target}"


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
        assert fig["train_schema"].startswith("spinspice.") and 0 < fig["test_accuracy"] <= 1
        if fig["cosim_schema"] is None:  # trained, not co-simulated: the record says why
            assert len(fig["note"]) > 40 and "samples" not in fig
            continue
        assert fig["cosim_schema"].startswith("spinspice.") and fig["samples"] >= 1
        assert ("spike_agreement" in fig) != ("activation_error_rms" in fig)
    assert (ROOT / "docs" / "papers.md").read_text() == gen_papers.render(data), "run docs/gen_papers.py"
