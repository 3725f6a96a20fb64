"""Each kind of report.html (neuron, cosim, sweep) opened in headless Chromium: every plot
renders, nothing is logged as an error, nothing is fetched from the network, and a screenshot
is taken (tests/browser.py; ``make docs`` keeps the screenshots in docs/img/)."""

from __future__ import annotations

import pytest
from browser import check_report, unavailable

WHY = unavailable()
pytestmark = [pytest.mark.ngspice, pytest.mark.skipif(WHY is not None, reason=f"browser check: {WHY}")]


@pytest.fixture(scope="module")
def reports(digits_checkpoint, tmp_path_factory):
    """The three kinds of report, written by the library calls the CLI makes."""
    from spinspice import cosim, experiments

    root = tmp_path_factory.mktemp("html")
    experiments.run_neuron("dw-lif", duration_s=60e-9, out=root / "neuron")
    cosim.run(digits_checkpoint, samples=2, workers=2, out=root / "cosim")
    cosim.sweep(digits_checkpoint, {"variability": [0.0, 0.1]}, samples=1, workers=2, out=root / "sweep")
    return root


@pytest.mark.parametrize(
    ("kind", "figures", "title"),
    [
        ("neuron", 2, "Neuron report: dw-lif"),
        ("cosim", 4, "Co-simulation report: m.pt"),
        ("sweep", 1, "Sweep report"),
    ],
)
def test_report_renders_in_chromium_offline_without_errors(reports, kind, figures, title) -> None:
    shot = reports / f"{kind}.png"
    seen = check_report(reports / kind / "report.html", screenshot=shot)
    assert seen.figures_expected == figures and seen.figures_rendered == figures
    assert seen.console_errors == [] and seen.page_errors == []
    assert seen.network_requests == []  # opens offline: scripts and data are in the file
    assert seen.title.startswith(title)
    assert shot.stat().st_size > 20_000  # a page with plots, not a blank one
