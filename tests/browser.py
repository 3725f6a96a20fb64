"""Open a ``report.html`` in headless Chromium (Debian's ``chromium``, driven by Playwright) and
check it as a reader's browser would show it: every plot rendered, no console error, no
network request.  Used by tests/test_browser.py and by ``make docs`` (docs/gen_screenshots.py),
which saves the screenshots shown in docs/reports.md.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

#: where Debian and other distributions put Chromium
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def chromium_path() -> str | None:
    """The Chromium executable on PATH, or None."""
    return next((p for name in CHROMIUM_NAMES if (p := shutil.which(name))), None)


def unavailable() -> str | None:
    """Why the browser check cannot run here (None when it can)."""
    if chromium_path() is None:
        return "no Chromium on PATH (make install runs .ci/install-chromium, which needs apt as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]')"
    return None


@dataclasses.dataclass
class PageCheck:
    """What the browser saw."""

    figures_expected: int
    figures_rendered: int
    console_errors: list[str]
    page_errors: list[str]
    network_requests: list[str]
    title: str
    screenshot: Path | None


def check_report(
    path: Path, *, screenshot: Path | None = None, width_px: int = 1280, full_page: bool = False
) -> PageCheck:
    """Load ``path`` from disk with every non-file request blocked (and recorded), wait until
    each of the page's figures has drawn its SVG, and collect console and page errors."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    page_errors: list[str] = []
    requests: list[str] = []

    def route(r):  # the page must need nothing but itself
        if r.request.url.startswith(("file:", "data:", "blob:")):
            return r.continue_()
        requests.append(r.request.url)
        return r.abort()

    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; containers
        # often have a small /dev/shm, and no GPU
        args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
        browser = p.chromium.launch(executable_path=chromium_path(), args=args)
        try:
            page = browser.new_page(viewport={"width": width_px, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.route("**/*", route)
            page.goto(Path(path).resolve().as_uri(), wait_until="load", timeout=60_000)
            expected = int(page.get_attribute("body", "data-figures") or 0)
            page.wait_for_function(
                "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n",
                arg=expected,
                timeout=60_000,
            )
            rendered = page.evaluate("document.querySelectorAll('.js-plotly-plot').length")
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=full_page)
            title = page.title()
        finally:
            browser.close()
    return PageCheck(expected, rendered, errors, page_errors, requests, title, screenshot)
