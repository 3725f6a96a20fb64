"""report.html without a browser: display decimation keeps every edge, the page is self-contained,
the raster marks mismatches, the trade-off finds the Pareto front (tests/test_browser.py opens
the written reports in Chromium)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from spinspice.cosim.grid import pareto_front
from spinspice.cosim.html import raster_figure, tradeoff_figure
from spinspice.sim.spikes import crossings
from spinspice.webreport import HtmlReport, decimate, edge_indices, energy_bars, plotly_modules


def _pulses(n: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """A comparator-like waveform: 0.8 V pulses with 40-sample edges, on a noisy 1 mV floor."""
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 1e-6, n))
    y = np.zeros(n)
    for start in rng.integers(0, n - 2000, 37):
        ramp = np.linspace(0, 0.8, 40)
        y[start : start + 40] = np.maximum(y[start : start + 40], ramp)
        y[start + 40 : start + 900] = 0.8
        y[start + 900 : start + 940] = np.maximum(y[start + 900 : start + 940], ramp[::-1])
    return t, y + rng.normal(0, 1e-3, n)


def test_decimation_keeps_every_level_crossing_exactly() -> None:
    t, y = _pulses()
    td, yd = decimate(t, y, max_points=2000, levels=(0.4,))
    assert len(td) < 3000 and np.all(np.diff(td) > 0)
    # the spike times read from the thinned waveform are the simulated ones, to the bit
    for direction in ("rising", "falling"):
        edges = crossings(t, y, 0.4, direction)
        np.testing.assert_array_equal(crossings(td, yd, 0.4, direction), edges)
        assert len(edges) > 20
    # the extremes survive (min/max per bucket) and the ends are kept
    assert yd.max() == y.max() and yd.min() == y.min() and td[0] == t[0] and td[-1] == t[-1]
    # without the level, min/max buckets alone move the crossings: the kept edges are what fixes it
    tb, yb = decimate(t, y, max_points=2000)
    assert not np.array_equal(crossings(tb, yb, 0.4), crossings(t, y, 0.4))
    # short waveforms are returned as they are
    ts, ys = decimate(t[:100], y[:100])
    assert np.array_equal(ts, t[:100]) and np.array_equal(ys, y[:100])


def test_edge_indices_bracket_each_crossing() -> None:
    y = np.array([0.0, 0.2, 0.6, 0.9, 0.5, 0.1, 0.7])
    assert edge_indices(y, (0.5,)).tolist() == [1, 2, 4, 5, 6]
    assert edge_indices(y, (None, float("nan"))).tolist() == []


def test_pareto_front_keeps_the_points_nothing_beats() -> None:
    energy = [3.0, 1.0, 2.0, 2.5, 1.0, 4.0]
    score = [90.0, 80.0, 85.0, 84.0, 70.0, 90.0]
    assert pareto_front(energy, score) == [1, 2, 0]
    assert pareto_front([1.0], [50.0]) == [0]


def test_page_is_one_self_contained_file(tmp_path) -> None:
    go, _ = plotly_modules()
    page = HtmlReport("A <report>", "sub & title")
    page.heading("Table").table([("energy", "1.2 nJ"), ("spikes", 4)], ["quantity", "value"])
    page.text("careful: <b>not markup</b>", "warn")
    page.figure(go.Figure(go.Scatter(x=[1, 2], y=[3, 4])), "caption")
    page.figure(energy_bars(go, {"write_driver": 1e-12, "comparator": 1e-15}, "energy"))
    text = page.write(tmp_path / "r.html").read_text()
    assert text.count('class="plotly-graph-div"') == 2 and 'data-figures="2"' in text
    # no file, script or style is fetched: plotly.js is inlined once
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text)
    assert text.count("plotly.js v") >= 1 and len(text) > 1_000_000
    assert "A &lt;report&gt;" in text and "&lt;b&gt;not markup&lt;/b&gt;" in text
    assert "sub &amp; title" in text


def test_energy_bars_are_logarithmic_and_labelled() -> None:
    go, _ = plotly_modules()
    fig = energy_bars(go, {"write_driver": 1.68e-9, "crossbar_read": 3.3e-12}, "e", {"crossbar_read": "xbar"})
    assert fig.layout.xaxis.type == "log"
    bar = fig.data[0]
    assert list(bar.y) == ["xbar", "write driver"]  # smallest first: the largest on top
    assert bar.text[0].startswith("3.3 pJ (0.196") and bar.text[1].startswith("1.68 nJ")


def _result(index: int, circuit: list[list[int]], torch: list[list[int]]) -> dict:
    slot = 2e-9
    return {
        "index": index,
        "label": 3,
        "steps": 10,
        "torch_class": 1,
        "circuit_class": 1,
        "circuit_spikes": sum(map(len, circuit)),
        "layers": [
            {
                "index": 0,
                "slot_s": slot,
                "circuit_steps": circuit,
                "torch_steps": torch,
                "circuit_times_s": [[(s + 0.3) * slot for s in row] for row in circuit],
            }
        ],
    }


def test_raster_marks_circuit_only_and_torch_only_spikes() -> None:
    # neuron 0 agrees (step 2 vs 3 is within +-1); neuron 1: circuit spike at 7 that torch lacks;
    # neuron 2: a torch spike at 5 the circuit missed
    fig = raster_figure([_result(0, [[2], [1, 7], []], [[3], [1], [5]]), _result(4, [[1]], [[1]])])
    by_name = {tr.name: tr for tr in fig.data if tr.visible}
    only_c = by_name["circuit only (no torch spike within ±1 step)"]
    only_t = by_name["torch only (no circuit spike within ±1 step)"]
    assert list(only_c.y) == [1] and list(only_c.x) == pytest.approx([7.5 * 2.0])  # ns: step centre
    assert list(only_t.y) == [2] and list(only_t.x) == pytest.approx([5.5 * 2.0])
    circuit = by_name["circuit spike (ngspice time)"]
    assert list(circuit.x) == pytest.approx([2.3 * 2, 1.3 * 2, 7.3 * 2])  # the ngspice times
    assert "1 circuit-only, 1 torch-only" in fig.layout.title.text
    # a menu switches to the second image
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["image 0 (label 3)", "image 4 (label 3)"]
    assert fig.layout.xaxis.title.text == "time in the layer's run (ns)"


def test_tradeoff_figure_draws_each_point_and_the_front() -> None:
    rows = [
        {
            "point": {"variability": v},
            "status": "done",
            "torch_accuracy": 0.9,
            "circuit_accuracy": acc,
            "spike_agreement": agr,
            "energy_per_inference_j": e,
            "energy_per_spike_j": e / 50,
            "mean_latency_s": 7e-9,
        }
        for v, acc, agr, e in [(0.0, 0.9, 1.0, 2.2e-9), (0.1, 0.85, 0.9, 2.1e-9), (0.2, 0.8, 0.95, 2.4e-9)]
    ]
    fig = tradeoff_figure(rows)
    points = [tr for tr in fig.data if tr.mode == "markers+text"]
    assert [list(p.text) for p in points] == [["P1", "P2", "P3"]] * 2
    fronts = [tr for tr in fig.data if tr.name.startswith("Pareto")]
    assert list(fronts[0].x) == pytest.approx([2.1, 2.2])  # accuracy: P3 costs more and scores less
    assert list(fronts[1].x) == pytest.approx([2.1, 2.2])
    assert fig.layout.yaxis.range[1] <= 100 and fig.layout.xaxis.title.text == "energy per inference (nJ)"
    assert "variability=0.1" in points[0].hovertext[1]
