#!/usr/bin/env python3
"""Screenshots of the three kinds of ``report.html`` for docs/reports.md (run by ``make docs``).

Writes a neuron run, a co-simulation of 3 images and a 3 x 2 sweep of a small DW-LIF network
(fc:64-32-10, trained here on the bundled 8x8 digits: no network access), opens each report in
headless Chromium with the checks of tests/test_browser.py (every plot rendered, no console
error, no network request) and saves each whole page as docs/img/report-<kind>.png.
About 5 minutes on 2 cores.

    .venv/bin/python docs/gen_screenshots.py [--workdir DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent / "tests"))

from browser import check_report, unavailable  # noqa: E402


def write_reports(work: Path) -> dict[str, Path]:
    """The three reports, written by the library calls the CLI makes; kind -> report.html."""
    from spinspice import cosim, experiments
    from spinspice.snn import train_network

    ckpt = work / "digits-dwlif.pt"
    if not ckpt.is_file():
        train_network("digits", "fc:64-32-10", "dw-lif", epochs=3, steps=16, baseline=False, out=ckpt, seed=0)
    experiments.run_neuron("dw-lif", out=work / "neuron")
    cosim.run(ckpt, samples=3, workers=0, out=work / "cosim", fresh=True)
    grid = {"variability": [0.0, 0.1, 0.2], "v_read_v": [0.08, 0.12]}
    cosim.sweep(ckpt, grid, samples=3, workers=0, out=work / "sweep", fresh=True)
    return {kind: work / kind / "report.html" for kind in ("neuron", "cosim", "sweep")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None, help="keep the reports here")
    args = parser.parse_args()
    why = unavailable()
    if why is not None:
        print(f"gen_screenshots: skipped: {why}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for kind, page in write_reports(work).items():
            shot = DOCS / "img" / f"report-{kind}.png"
            seen = check_report(page, screenshot=shot, width_px=1200, full_page=True)
            problems = seen.console_errors + seen.page_errors + seen.network_requests
            if problems or seen.figures_rendered != seen.figures_expected:
                print(f"gen_screenshots: {page}: {seen}", file=sys.stderr)
                return 1
            print(f"{shot.relative_to(DOCS.parent)}: {seen.figures_rendered} plots, no console errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
