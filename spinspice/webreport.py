"""Self-contained HTML reports (``report.html``): summary tables and zoomable plotly figures.

One file holds everything a browser needs: plotly.js is inlined once in the head and every
figure carries its own data, so the report opens offline, from a mail attachment or an
archive, years later.  Long waveforms are decimated for display (:func:`decimate`): the
minimum and maximum of every bucket are kept, and so are the two samples on either side of
every crossing of the levels that matter (thresholds, the comparator's spike level), so a
spike edge drawn in the browser is the simulated edge, not an interpolation between
buckets.

The layout (a title, blocks of tables, text and figures) is built with :class:`HtmlReport`;
the neuron, co-simulation and sweep reports fill it (``spinspice.experiments.html``,
``spinspice.cosim.html``).  plotly is imported on first use.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.io import atomic_write_text
from spinspice.units import eng

__all__ = [
    "DISPLAY_POINTS",
    "HtmlReport",
    "decimate",
    "edge_indices",
    "energy_bars",
    "plotly_modules",
]

#: samples kept per displayed waveform (before the crossings, which are all kept)
DISPLAY_POINTS = 4000

#: the plotly toolbar: no logo, images saved as SVG (vector, for papers), scroll zoom on
PLOT_CONFIG = {
    "displaylogo": False,
    "scrollZoom": True,
    "responsive": True,
    "toImageButtonOptions": {"format": "svg"},
}

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0 auto;
       max-width: 1180px; padding: 1em 1.5em 3em; color: #1d232a; line-height: 1.45; }
h1 { font-size: 1.55em; margin-bottom: 0.1em; }
h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #d5dbe1; padding-bottom: 0.2em; }
p.sub { color: #56606b; margin-top: 0.2em; }
p.note { color: #56606b; font-size: 0.92em; }
p.warn { background: #fff4e0; border-left: 4px solid #e69b00; padding: 0.4em 0.8em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.93em; }
th, td { border: 1px solid #d5dbe1; padding: 0.25em 0.7em; text-align: left; vertical-align: top; }
th { background: #f1f4f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.figure { margin: 0.5em 0 1em; }
footer { margin-top: 3em; color: #7b8590; font-size: 0.85em; }
"""


def plotly_modules() -> tuple[Any, Any]:
    """``(plotly.graph_objects, plotly.subplots.make_subplots)``, imported on first use."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    return go, make_subplots


def edge_indices(y: np.ndarray, levels: Iterable[float]) -> np.ndarray:
    """The indices ``i`` and ``i + 1`` of every sample pair of ``y`` between which it crosses
    (or touches) one of ``levels``, sorted and unique."""
    y = np.asarray(y, float)
    found = [np.empty(0, int)]
    for level in levels:
        if level is None or not np.isfinite(level):
            continue
        above = y >= level
        i = np.flatnonzero(above[1:] != above[:-1])
        found += [i, i + 1]
    return np.unique(np.concatenate(found))


def decimate(
    t: np.ndarray, y: np.ndarray, *, max_points: int = DISPLAY_POINTS, levels: Iterable[float] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """``(t, y)`` thinned for display: the first and last sample, the minimum and maximum of each
    of about ``max_points / 4`` buckets, their bucket edges, and both samples around every
    crossing of ``levels`` (so crossings drawn from the result are the simulated ones).
    Returned as they are when there are no more than ``max_points`` samples."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    n = len(t)
    if n <= max_points:
        return t, y
    size = -(-n // max(1, max_points // 4))  # samples per bucket
    padded = np.concatenate([y, np.full(-n % size, y[-1])]).reshape(-1, size)
    start = np.arange(0, n, size)
    keep = [start, np.minimum(start + size - 1, n - 1)]
    keep += [start + padded.argmin(axis=1), start + padded.argmax(axis=1)]
    keep.append(edge_indices(y, levels))
    idx = np.unique(np.clip(np.concatenate(keep), 0, n - 1))
    return t[idx], y[idx]


def _cell(value: Any) -> str:
    text = html.escape(str(value))
    number = isinstance(value, (int, float)) or (text[:1].isdigit() or text[:1] in "-+")
    return f'<td class="num">{text}</td>' if number and not isinstance(value, bool) else f"<td>{text}</td>"


@dataclasses.dataclass
class HtmlReport:
    """A report page: :meth:`heading`, :meth:`text`, :meth:`table`, :meth:`figure` append
    blocks in order; :meth:`write` writes the one self-contained file."""

    title: str
    subtitle: str = ""
    blocks: list[str] = dataclasses.field(default_factory=list)
    n_figures: int = 0

    def heading(self, text: str) -> HtmlReport:
        self.blocks.append(f"<h2>{html.escape(text)}</h2>")
        return self

    def text(self, text: str, kind: str = "") -> HtmlReport:
        """A paragraph (``kind``: ``note`` for a caption, ``warn`` for a warning)."""
        cls = f' class="{kind}"' if kind else ""
        self.blocks.append(f"<p{cls}>{html.escape(text)}</p>")
        return self

    def table(self, rows: Sequence[Sequence[Any]], header: Sequence[str] | None = None) -> HtmlReport:
        """A table of ``rows`` (cells printed as given: format numbers with :func:`eng` first)."""
        head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header or ())
        body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
        self.blocks.append(f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>")
        return self

    def figure(self, fig: Any, caption: str = "", *, height_px: int | None = None) -> HtmlReport:
        """A plotly figure (its data inlined), optionally with a caption under it."""
        self.n_figures += 1
        fig.update_layout(template="plotly_white", margin={"t": 50, "b": 50, "l": 70, "r": 30})
        if height_px is not None:
            fig.update_layout(height=height_px)
        div = fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            config=PLOT_CONFIG,
            div_id=f"figure-{self.n_figures}",
        )
        note = f'<p class="note">{html.escape(caption)}</p>' if caption else ""
        self.blocks.append(f'<div class="figure">{div}{note}</div>')
        return self

    def render(self) -> str:
        """The page: plotly.js inlined once, then the blocks."""
        from plotly.offline import get_plotlyjs

        from spinspice import __version__

        sub = f'<p class="sub">{html.escape(self.subtitle)}</p>' if self.subtitle else ""
        return "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                f"<title>{html.escape(self.title)}</title>",
                f"<style>{_CSS}</style>",
                f'<script type="text/javascript">{get_plotlyjs()}</script>',
                f'</head><body data-figures="{self.n_figures}">',
                f"<h1>{html.escape(self.title)}</h1>{sub}",
                *self.blocks,
                f"<footer>spinspice {html.escape(__version__)}: this file is self-contained "
                "(no network needed to view it); drag to zoom, double-click to reset, and the "
                "camera icon saves a figure as SVG.</footer>",
                "</body></html>",
            ]
        )

    def write(self, path: str | Path) -> Path:
        """Write the page atomically; return its path."""
        return atomic_write_text(path, self.render())


def energy_bars(go: Any, parts: dict[str, float], title: str, names: dict[str, str] | None = None) -> Any:
    """Horizontal bars of energy by component on a log axis, each with its value and share."""
    items = sorted(((k, v) for k, v in parts.items() if v and v > 0), key=lambda kv: kv[1])
    total = sum(parts.values()) or 1.0
    labels = [(names or {}).get(k, k.replace("_", " ")) for k, _ in items]
    values = [v for _, v in items]
    text = [f"{eng(v, 'J')} ({v / total * 100:.3g} %)" for v in values]
    fig = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            text=text,
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
            marker_color="#3b75af",
        )
    )
    top = max(values, default=1.0)
    fig.update_xaxes(
        type="log", dtick=1, title="energy (J), log scale", exponentformat="SI", showexponent="all"
    )
    fig.update_xaxes(range=[np.log10(min(values, default=top / 10)) - 0.5, np.log10(top) + 1.0])
    fig.update_layout(title=title, height=120 + 38 * len(items), showlegend=False)
    return fig
