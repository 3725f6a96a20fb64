"""Shared helpers of the report figures: engineering prefixes chosen for the data, legends
outside the data, and a check that no two texts of a figure overprint each other.

Figures are built by ``figure_*`` functions that return a matplotlib ``Figure`` (testable
without writing files); the report writers pass it to :func:`spinspice.io.save_figure`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from spinspice.io import pyplot, save_figure
from spinspice.units import _ENG_PREFIXES

__all__ = [
    "display_unit",
    "legend_outside",
    "log_scale_if_wide",
    "place_labels",
    "prefix_scale",
    "pyplot",
    "save_figure",
    "text_overlaps",
]

#: how units read on an axis (the code's spellings -> the typeset ones)
_DISPLAY = {"ohm": "Ω", "A/m^2": "A/m²", "m^2": "m²", "u": "µ"}


def display_unit(unit: str) -> str:
    """``unit`` as typeset on an axis: ``"ohm"`` -> ``"Ω"``, ``"A/m^2"`` -> ``"A/m²"``."""
    return _DISPLAY.get(unit, unit)


def prefix_scale(max_abs_value: float | None, unit: str) -> tuple[float, str]:
    """The factor and prefixed unit that show values up to ``max_abs_value`` (SI, in ``unit``)
    as 1 to 999: ``prefix_scale(4e-8, "s")`` -> ``(1e9, "ns")``; plot ``values * scale`` and
    label the axis ``f"time ({unit})"``.  A dimensionless quantity (``unit`` ``""``), zero,
    None or a non-finite maximum keeps the SI value (``(1.0, unit)``).  The prefixes are
    those of :func:`spinspice.units.eng`."""
    shown = display_unit(unit)
    if not unit or max_abs_value is None or not math.isfinite(max_abs_value) or max_abs_value == 0:
        return 1.0, shown
    prefixes = dict(_ENG_PREFIXES)
    exp3 = math.floor(math.log10(abs(max_abs_value)) / 3.0) * 3
    exp3 = max(min(prefixes), min(max(prefixes), exp3))
    if abs(max_abs_value) / 10.0**exp3 >= 999.5 and exp3 + 3 in prefixes:  # 999.96 reads as 1000
        exp3 += 3
    return 10.0**-exp3, prefixes[exp3] + shown


def log_scale_if_wide(ax: Any, values: Iterable[float], axis: str = "x", decades: float = 1.0) -> bool:
    """Put ``axis`` of ``ax`` on a log scale when the positive ``values`` span more than
    ``decades`` decades (a factor of 10 by default); return whether it did."""
    v = np.asarray([x for x in values if x is not None and x > 0], float)
    if len(v) < 2 or v.max() / v.min() <= 10.0**decades:
        return False
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    return True


def legend_outside(
    ax: Any, *, where: str = "right", handles: Sequence[Any] | None = None, **kwargs: Any
) -> Any:
    """A legend of ``ax`` beside the axes (``where="right"``) or above them (``"top"``), so
    that it never hides data; keyword arguments go to ``ax.legend``."""
    opts: dict[str, Any] = {"fontsize": 8, "frameon": False, "borderaxespad": 0.0}
    if where == "top":
        opts |= {"loc": "lower left", "bbox_to_anchor": (0.0, 1.02, 1.0, 0.1), "ncols": 4, "mode": "expand"}
    else:
        opts |= {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0)}
    opts |= kwargs
    if handles is not None:
        return ax.legend(handles=handles, **opts)
    return ax.legend(**opts)


def _axis_texts(ax: Any) -> list[tuple[str, Any]]:
    texts: list[tuple[str, Any]] = []
    for name in ("title", "_left_title", "_right_title"):
        texts.append(("title", getattr(ax, name)))
    for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        texts.append((f"{axis_name}label", axis.label))
        texts.append((f"{axis_name} offset", axis.offsetText))
        for tick in axis._update_ticks():  # the ticks that are drawn (matplotlib's own selection)
            for label in (tick.label1, tick.label2):
                texts.append((f"{axis_name} tick", label))
    texts += [("text", t) for t in ax.texts]
    legend = ax.get_legend()
    if legend is not None:
        texts += [("legend", t) for t in legend.get_texts()]
        texts.append(("legend title", legend.get_title()))
    return texts


def text_overlaps(fig: Any) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty texts of ``fig`` (titles, axis labels, tick labels, offset
    texts, legend entries, annotations, colour-bar labels, figure texts) whose rendered
    extents overlap, each named ``"kind 'text'"``; ``[]`` when nothing overprints."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts: list[tuple[str, Any]] = []
    for ax in fig.axes:
        if ax.get_visible() and ax.axison:
            texts += _axis_texts(ax)
        elif ax.get_visible():
            texts += [("text", t) for t in ax.texts]
    texts += [("figure text", t) for t in fig.texts]
    if fig._suptitle is not None:
        texts.append(("suptitle", fig._suptitle))
    for legend in fig.legends:
        texts += [("legend", t) for t in legend.get_texts()]
    boxes = []
    seen: set[int] = set()
    for kind, t in texts:
        if id(t) in seen or not t.get_visible() or not t.get_text().strip():
            continue
        seen.add(id(t))
        box = Text.get_window_extent(t, renderer)  # the text alone (an annotation's includes its arrow)
        if box.width <= 0 or box.height <= 0:
            continue
        boxes.append((f"{kind} {t.get_text()!r}", box))
    pairs = []
    for i, (name_a, a) in enumerate(boxes):
        for name_b, b in boxes[i + 1 :]:
            # strictly overlapping: texts that only touch (stacked legend rows) do not overprint
            if a.x0 < b.x1 - 0.5 and b.x0 < a.x1 - 0.5 and a.y0 < b.y1 - 0.5 and b.y0 < a.y1 - 0.5:
                pairs.append((name_a, name_b))
    return pairs


def place_labels(
    ax: Any,
    xs: Sequence[float],
    ys: Sequence[float],
    labels: Sequence[str],
    *,
    fontsize: float = 8,
    marker_pt: float = 5.0,
    **text_kw: Any,
) -> list[Any]:
    """Label the points ``(xs[i], ys[i])`` of ``ax`` with ``labels[i]`` so that no label
    overprints another label, a marker (a square of ``marker_pt`` points around each point)
    or leaves the axes: each label takes the first free spot of a ring of offsets around its
    point, farther out (with a leader line) where the near ones are taken.  Lay the figure out
    (colour bars, tables) before: the spots are found on the figure as drawn."""
    from matplotlib.text import Text

    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    px = fig.dpi / 72.0
    frame = ax.get_window_extent(renderer)
    centres = ax.transData.transform(np.column_stack([xs, ys]).astype(float))
    half = marker_pt * px
    taken = [(cx - half, cy - half, cx + half, cy + half) for cx, cy in centres]
    directions = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]
    placed = []

    def clash(box: Any) -> float:
        """How much ``box`` overprints what is taken or sticks out of the axes (0: free)."""
        out = max(0.0, frame.x0 - box.x0) + max(0.0, box.x1 - frame.x1)
        out += max(0.0, frame.y0 - box.y0) + max(0.0, box.y1 - frame.y1)
        area = sum(
            max(0.0, min(box.x1, b[2]) - max(box.x0, b[0])) * max(0.0, min(box.y1, b[3]) - max(box.y0, b[1]))
            for b in taken
        )
        return 1e3 * out + area

    ha = {1: "left", -1: "right", 0: "center"}
    va = {1: "bottom", -1: "top", 0: "center"}
    radii = [marker_pt + r for r in (1, 7, 14, 24, 36, 50, 68)]
    for (x, y), label in zip(zip(xs, ys, strict=True), labels, strict=True):
        probe = ax.annotate(label, (x, y), (0, 0), textcoords="offset points", fontsize=fontsize, **text_kw)
        spot, least = (1, 1, radii[0]), np.inf  # crowded everywhere: the spot that overprints least
        for radius in radii:
            for dx, dy in directions:
                probe.xyann = (dx * radius, dy * radius)
                probe.set_ha(ha[dx])
                probe.set_va(va[dy])
                cost = clash(probe.get_window_extent(renderer))
                if cost < least:
                    spot, least = (dx, dy, radius), cost
                if cost == 0:
                    break
            if least == 0:
                break
        probe.remove()
        dx, dy, radius = spot
        leader = {"arrowstyle": "-", "lw": 0.5, "color": "0.4", "shrinkA": 0, "shrinkB": 2}
        ann = ax.annotate(
            label,
            (x, y),
            xytext=(dx * radius, dy * radius),
            textcoords="offset points",
            ha=ha[dx],
            va=va[dy],
            fontsize=fontsize,
            arrowprops=leader if radius > marker_pt + 8 else None,
            **text_kw,
        )
        ann.set_in_layout(False)  # placed on the laid-out axes: it must not move them
        ann.update_positions(renderer)
        box = Text.get_window_extent(ann, renderer)
        taken.append((box.x0, box.y0, box.x1, box.y1))
        placed.append(ann)
    return placed
