"""Every report figure at the standard of a journal figure (issue item 1), on small synthetic
data: no overprinted text, a label on every axis that shows values, units with the prefix
the data needs, legends beside the data, titles that say what is shown."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from spinspice.figures import prefix_scale, text_overlaps
from spinspice.io import pyplot
from spinspice.sim.waveforms import Waveforms


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    pyplot().close("all")


def _data_axes(fig: Any) -> list[Any]:
    """The axes that show data (not colour bars, not the axes of a table)."""
    return [ax for ax in fig.axes if ax.axison and getattr(ax, "_colorbar", None) is None]


def _shows_ticks(axis: Any) -> bool:
    return any(t.get_visible() and t.get_text() for t in axis.get_ticklabels())


def check_figure(fig: Any) -> None:
    """No overprinted text; every axis that shows tick labels has a label; legends outside
    every data axes; colour bars labelled."""
    fig.canvas.draw()
    assert text_overlaps(fig) == []
    axes = _data_axes(fig)
    assert axes
    for ax in axes:
        if _shows_ticks(ax.xaxis):
            assert ax.get_xlabel().strip(), f"x axis without a label in {ax.get_title()!r}"
        if _shows_ticks(ax.yaxis):
            assert ax.get_ylabel().strip(), f"y axis without a label in {ax.get_title()!r}"
    renderer = fig.canvas.get_renderer()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None] + list(fig.legends)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in axes:
            frame = ax.get_window_extent(renderer)
            assert not box.overlaps(frame), f"legend over the data of {ax.get_title()!r}"
    for ax in fig.axes:
        if getattr(ax, "_colorbar", None) is not None:
            assert ax._colorbar.ax.get_ylabel() or ax._colorbar.ax.get_xlabel()


def _unit(label: str) -> str | None:
    match = re.search(r"\(([^()]*)\)\s*$", label)
    return match[1] if match else None


def _title_text(fig: Any) -> str:
    texts = [fig.get_suptitle()] + [ax.get_title(loc) for ax in fig.axes for loc in ("center", "left")]
    return "\n".join(texts)


# -- helpers ----------------------------------------------------------------------------------
def test_prefix_scale_picks_the_prefix_of_the_data() -> None:
    assert prefix_scale(4e-8, "s") == (pytest.approx(1e9), "ns")
    assert prefix_scale(0.0665, "V") == (pytest.approx(1e3), "mV")
    assert prefix_scale(7.7e-4, "A") == (pytest.approx(1e6), "µA")
    assert prefix_scale(2.3e-3, "A") == (pytest.approx(1e3), "mA")
    assert prefix_scale(4.75e-10, "J") == (pytest.approx(1e12), "pJ")
    assert prefix_scale(999.7e-9, "s") == (pytest.approx(1e6), "µs")  # 999.7 ns reads as 1 µs
    assert prefix_scale(5e3, "ohm") == (pytest.approx(1e-3), "kΩ")
    assert prefix_scale(1e11, "A/m^2") == (pytest.approx(1e-9), "GA/m²")
    assert prefix_scale(0.0, "V") == (1.0, "V")
    assert prefix_scale(0.5, "") == (1.0, "")


def test_text_overlaps_finds_overprinted_labels() -> None:
    fig, ax = pyplot().subplots()
    ax.set_xlabel("time (ns)")
    ax.set_ylabel("read-out (mV)")
    assert text_overlaps(fig) == []
    ax.text(0.5, 0.5, "first label", transform=ax.transAxes)
    ax.text(0.52, 0.5, "second label", transform=ax.transAxes)
    pairs = text_overlaps(fig)
    assert ("text 'first label'", "text 'second label'") in pairs
    ax.texts[1].set_visible(False)  # what is not drawn does not count
    assert text_overlaps(fig) == []


# -- neuron.png -------------------------------------------------------------------------------
class _Cell:
    def state_plot(self):
        return "m", "m", "membrane m", 0.75

    def thresholds_v(self):
        return 0.0665, 0.055


def _neuron_result(*, reset: bool, reference: bool = True) -> Any:
    t = np.linspace(0.0, 40e-9, 4001)
    pulses = ((t % 2e-9) < 1e-9) & (t < 38e-9)
    i_write = 7.7e-4 * pulses
    phase = (t % 20e-9) / 17e-9
    m = np.where(phase <= 1, 0.75 * phase, 0.0)
    spikes = np.array([17e-9, 37e-9])
    firing = np.any([(t >= s) & (t < s + 2.3e-9) for s in spikes], axis=0)
    i_reset = 2.3e-3 * firing
    vectors = {
        "i(vdd_w)": -i_write,
        "v(m)": m,
        "v(v_out)": 0.055 + 0.0153 * m,
        "v(spike)": 0.8 * firing,
        "i(vtrack)": i_write - i_reset if reset else i_write,
    }
    probes = {"i_dd_w": "i(vdd_w)", "m": "v(m)", "v_out": "v(v_out)", "spike": "v(spike)"}
    probes["i_track"] = "i(vtrack)"
    if reset:
        vectors["i(vreset)"] = i_reset
        probes["i_reset"] = "i(vreset)"
    return SimpleNamespace(
        model="dw-lif",
        preset="paper-001",
        backend="batch",
        cell=_Cell(),
        drive=SimpleNamespace(frequency_hz=5e8),
        waveforms=Waveforms(t, vectors, probes),
        spike_times_s=spikes,
        reference=SimpleNamespace(t_s=t, state=lambda name: m) if reference else None,
    )


@pytest.mark.parametrize("reset", [True, False], ids=["reset-driver", "no-reset"])
def test_neuron_figure(reset: bool) -> None:
    from spinspice.experiments.plots import figure_neuron

    fig = figure_neuron(_neuron_result(reset=reset))
    check_figure(fig)
    axes = _data_axes(fig)
    assert len(axes) == (5 if reset else 4)
    assert "dw-lif" in fig.get_suptitle() and "paper-001" in fig.get_suptitle()
    assert axes[-1].get_xlabel() == "time (ns)"
    units = [_unit(ax.get_ylabel()) for ax in axes]
    assert units[0] == "µA" and units[2] == "mV" and units[3] == "mV"
    # the write pulses fill their axis: the reset current is neither on it nor drawn twice
    lines = axes[0].get_lines()
    if reset:
        assert units[4] == "mA" and len(lines) == 1
        assert axes[0].get_ylim()[1] < 1000 and axes[0].get_ylim()[0] > -100
    # threshold on the state panel, comparator thresholds on the read-out panel, spikes marked
    assert any(np.allclose(line.get_ydata(), 0.75) for line in axes[1].get_lines())
    assert sum(np.allclose(line.get_ydata(), v) for line in axes[2].get_lines() for v in (66.5, 55.0)) == 2
    assert any(line.get_marker() == "v" and len(line.get_xdata()) == 2 for line in axes[3].get_lines())


def test_neuron_sweep_figure() -> None:
    from spinspice.experiments.plots import figure_sweep

    fig = figure_sweep(
        [100, 200, 333, 500],
        {"lat": [30.0, 20.0, None, 16.8], "rate": [10.0, 30.0, 40.0, 50.0]},
        xlabel="input pulse frequency (MHz)",
        ylabels={"lat": "first-spike latency (ns)", "rate": "spike rate (MHz)"},
        title="dw-lif: latency vs input frequency",
    )
    check_figure(fig)
    assert "dw-lif" in fig.get_suptitle()


# -- fit.png ----------------------------------------------------------------------------------
def test_fit_figure() -> None:
    from spinspice.experiments.calibrate import _fit_figure

    t = np.linspace(0.0, 80e-9, 801)
    fit = 0.25 * (1 - np.exp(-t / 10e-9))
    report = {
        "model": "lif",
        "preset": "snntorch-leaky",
        "trace": {"path": "lif.csv", "drive": "input current I [A]", "readout": "membrane voltage [V]"},
        "goodness": {"unit": "V", "r2": 0.9999, "rmse": 1e-3},
    }
    rng = np.random.default_rng(0)
    series = {"time_s": t, "drive": 7.5e-6 * (t < 40e-9), "readout": fit + 1e-3 * rng.standard_normal(len(t))}
    fig = _fit_figure(report, {**series, "fit": fit})
    check_figure(fig)
    drive, readout, residual = _data_axes(fig)
    assert _unit(drive.get_ylabel()) == "µA"
    assert _unit(readout.get_ylabel()) == "mV" and _unit(residual.get_ylabel()) == "mV"
    assert residual.get_xlabel() == "time (ns)"
    assert readout.get_title() == "" and "lif" in fig.get_suptitle() and "lif.csv" in fig.get_suptitle()


# -- co-simulation figures --------------------------------------------------------------------
def _cosim_result() -> dict[str, Any]:
    return {
        "index": 7,
        "label": 6,
        "steps": 8,
        "torch_class": 6,
        "circuit_class": 5,
        "layers": [
            {
                "index": 0,
                "n_neurons": 4,
                "slot_s": 2e-9,
                "circuit_steps": [[0, 4], [2], [], [5, 7]],
                "torch_steps": [[0, 5], [], [3], [5, 7]],
            },
            {
                "index": 1,
                "n_neurons": 3,
                "slot_s": 2e-9,
                "circuit_steps": [[], [3], [6]],
                "torch_steps": [[], [3, 4], []],
            },
        ],
    }


def test_raster_figure_names_the_image_and_colours_the_mismatches() -> None:
    from spinspice.cosim.report import figure_raster

    fig = figure_raster(_cosim_result(), n_images=4)
    check_figure(fig)
    title = fig.get_suptitle()
    assert "test image 7" in title and "first of 4" in title and "label 6" in title
    axes = _data_axes(fig)
    assert axes[-1].get_xlabel().startswith("time (ns)")
    assert all(ax.get_ylabel() for ax in axes)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("torch only" in x for x in legend) and any("circuit only" in x for x in legend)
    # layer 0: neuron 1 spiked only in the circuit (step 2), neuron 2 only in torch (step 3)
    kinds = ("torch", "circuit", "torch only", "circuit only")
    sizes = {label: len(c.get_offsets()) for c, label in zip(axes[0].collections, kinds, strict=True)}
    assert sizes == {"torch": 4, "circuit": 4, "torch only": 1, "circuit only": 1}
    assert "1 missed, 1 spurious" in axes[0].get_title(loc="left")
    # x in ns: step 7 at 14 ns
    assert np.allclose(sorted(axes[0].collections[1].get_offsets()[:, 0]), [0, 8, 10, 14])


def _trace(layer: int, neuron: int, *, meta: bool) -> dict[str, Any]:
    t = np.linspace(0.0, 16e-9, 1601)
    m = 0.76 * ((t % 5e-9) / 4.9e-9)
    spike = 0.8 * ((t % 5e-9) > 4.9e-9)
    tr = {
        "layer": layer,
        "neuron": neuron,
        "time_s": t,
        "spike": spike,
        "m": m,
        "v_out": 0.055 + 0.0153 * m,
        "thresholds_v": [0.0665, 0.055],
    }
    if meta:
        tr |= {"spike_level_v": 0.4, "state_key": "m", "state_label": "membrane m", "state_threshold": 0.75}
    return tr


def test_traces_figure_names_image_and_neurons_and_marks_spikes() -> None:
    from spinspice.cosim.report import figure_traces

    traces = {"l0n5": _trace(0, 5, meta=True), "l1n0": _trace(1, 0, meta=False)}
    fig = figure_traces(traces, _cosim_result())
    check_figure(fig)
    assert "test image 7" in fig.get_suptitle()
    axes = _data_axes(fig)
    titles = [ax.get_title(loc="left") for ax in axes]
    assert titles[0].startswith("layer 0, neuron 5") and titles[2].startswith("layer 1, neuron 0")
    for ax in axes:
        assert ax.get_xlabel() == "time (ns)"
        marks = [line for line in ax.get_lines() if line.get_marker() == "v"]
        assert len(marks) == 1 and len(marks[0].get_xdata()) == 3  # spikes at 4.9, 9.9, 14.9 ns
    assert _unit(axes[1].get_ylabel()) == "mV"
    # the state threshold where the trace carries it, V_hi and V_lo on every read-out panel
    assert any(np.allclose(line.get_ydata(), 0.75) for line in axes[0].get_lines())
    for ax in (axes[1], axes[3]):
        assert sum(np.allclose(line.get_ydata(), v) for line in ax.get_lines() for v in (66.5, 55.0)) == 2


def _cosim_report() -> dict[str, Any]:
    parts = {
        "write_driver": 3.79e-10,
        "reset_driver": 8.04e-11,
        "comparator": 8.05e-12,
        "read_divider": 7.23e-12,
        "crossbar_read": 9.4e-13,
        "new_block": 2e-13,
    }
    layer = {"spike_agreement": 0.97, "exact_agreement": 0.9}
    return {
        "network": {"arch": "fc:64-12-10", "neuron": "dw-lif"},
        "settings": {"mode": "stepped", "options": {"schedule": "all"}},
        "n_samples": 4,
        "energy_per_inference_j": sum(parts.values()),
        "energy_per_spike_j": 4.19e-11,
        "spike_agreement": 0.96,
        "energy": {"per_inference_by_component_j": parts},
        "agreement": {
            "per_layer": [layer, {"spike_agreement": 1.0, "exact_agreement": 1.0}],
            "vs_model_per_layer": [{"spike_agreement": 0.99}, {"spike_agreement": 1.0}],
        },
    }


def test_energy_figure_is_log_with_names_values_and_shares() -> None:
    from spinspice.cosim.report import figure_energy

    fig = figure_energy(_cosim_report())
    check_figure(fig)
    (ax,) = _data_axes(fig)
    assert ax.get_xscale() == "log" and _unit(ax.get_xlabel()).startswith("pJ")
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names[0] == "write drivers" and "comparators" in names and "new block" in names
    assert not any("_" in n for n in names)
    values = [t.get_text() for t in ax.texts]
    assert len(values) == 6 and "379 pJ (79.7 %)" in values and any("fJ" in v for v in values)
    assert "fc:64-12-10" in ax.get_title() and "dw-lif" in ax.get_title()


def test_latency_figure() -> None:
    from spinspice.cosim.report import figure_latency

    results = [
        {"latency": {"decision_s": d, "first_output_spike_s": f}}
        for d, f in ((16e-9, None), (12e-9, 9e-9), (14e-9, 10e-9))
    ]
    fig = figure_latency(results, _cosim_report())
    check_figure(fig)
    (ax,) = _data_axes(fig)
    assert _unit(ax.get_xlabel()) == "ns" and "3 images" in ax.get_title()


def test_agreement_figure_has_values_on_the_bars() -> None:
    from spinspice.cosim.report import figure_agreement

    fig = figure_agreement(_cosim_report())
    check_figure(fig)
    (ax,) = _data_axes(fig)
    assert _unit(ax.get_ylabel()) == "%"
    assert {t.get_text() for t in ax.texts} >= {"97", "90", "99", "100"}


# -- sweep: tradeoff.png ----------------------------------------------------------------------
def _sweep_rows() -> list[dict[str, Any]]:
    rows = []
    acc = [0.7, 0.8, 0.8, 0.9, 0.85, 0.95]
    energy = [1e-10, 2e-10, 2e-10, 4e-10, 6e-10, 3e-9]
    for i, (t_off, var) in enumerate(
        [(1e-9, 0.0), (1e-9, 0.1), (2e-9, 0.0), (2e-9, 0.1), (4e-9, 0.0), (4e-9, 0.1)]
    ):
        rows.append(
            {
                "point": {"t_off_s": t_off, "variability": var},
                "status": "done",
                "circuit_accuracy": acc[i],
                "class_agreement": 0.9,
                "spike_agreement": 0.8 + 0.03 * i,
                "energy_per_inference_j": energy[i],
                "mean_latency_s": 16e-9 * t_off / 1e-9,
                "n_samples": 5,
            }
        )
    rows.append({"point": {"t_off_s": 3e-9, "variability": 0.2}, "status": "failed"})
    return rows


def test_tradeoff_is_a_pareto_plot() -> None:
    from spinspice.cosim.grid import figure_tradeoffs, pareto_front

    assert pareto_front([1, 2, 2, 4, 6, 30], [70, 80, 80, 90, 85, 95]) == [0, 1, 3, 5]
    fig = figure_tradeoffs(_sweep_rows())
    check_figure(fig)
    left, right = _data_axes(fig)
    assert "t_off_s" in fig.get_suptitle() and "5 images" in fig.get_suptitle()
    for ax in (left, right):
        assert ax.get_xlabel().startswith("energy per inference (nJ") and ax.get_xscale() == "log"
        assert _unit(ax.get_ylabel()) == "%" and ax.get_ylim()[1] <= 100
        assert sorted(t.get_text() for t in ax.texts) == sorted(f"P{i}" for i in range(1, 7))
    assert left.get_ylim()[0] >= 60 and "accuracy" in left.get_ylabel()
    assert "agreement" in right.get_ylabel()
    # the front: a step line through P1, P2, P4, P6 on the left
    step = left.get_lines()[0]
    assert np.allclose(np.unique(step.get_ydata()), [70, 80, 90, 95])
    colour_bar = [ax for ax in fig.axes if getattr(ax, "_colorbar", None) is not None]
    assert len(colour_bar) == 1 and colour_bar[0].get_ylabel() == "mean latency (ns)"
    tables = [t for ax in fig.axes for t in ax.tables]
    assert len(tables) == 1
    cells = {c.get_text().get_text() for c in tables[0].get_celld().values()}
    assert {"P1", "P6", "1 ns", "4 ns", "100 pJ", "3 nJ"} <= cells


def test_tradeoff_labels_never_overprint_on_crowded_points() -> None:
    from spinspice.cosim.grid import figure_tradeoffs

    rng = np.random.default_rng(1)
    rows = [
        {
            "point": {"v_read_v": 0.05 + 0.01 * i},
            "status": "done",
            "circuit_accuracy": 1.0,
            "class_agreement": 1.0,
            "spike_agreement": 1.0 - 0.002 * int(rng.integers(0, 3)),
            "energy_per_inference_j": 4.7e-10 * (1 + 0.01 * rng.random()),
            "mean_latency_s": 16e-9,
            "n_samples": 1,
        }
        for i in range(16)
    ]
    fig = figure_tradeoffs(rows)
    check_figure(fig)
    assert all(ax.get_ylim()[1] <= 100 for ax in _data_axes(fig))


# -- training and evaluation ------------------------------------------------------------------
def test_training_curve_and_confusion() -> None:
    from spinspice.snn.train import figure_confusion, figure_history

    def hist(a: float) -> list[dict[str, float]]:
        return [
            {
                "epoch": e,
                "train_loss": 2 / e + a,
                "test_loss": 2.1 / e + a,
                "train_accuracy": 0.5 + 0.1 * e,
                "test_accuracy": 0.45 + 0.1 * e,
            }
            for e in range(1, 5)
        ]

    fig = figure_history({"dw-lif": hist(0.0), "lif": hist(0.05)})
    check_figure(fig)
    assert "dw-lif" in fig.get_suptitle() and "lif" in fig.get_suptitle()
    assert _unit(_data_axes(fig)[1].get_ylabel()) == "%"
    confusion = np.diag(np.arange(100, 110)) + np.ones((10, 10), int)
    fig = figure_confusion(confusion, "dw-lif: test accuracy 91.2 %")
    check_figure(fig)
    assert "dw-lif" in _title_text(fig)


# -- Co/Gd ANN --------------------------------------------------------------------------------
def test_ann_figures() -> None:
    from spinspice.cosim.ann import figure_activations, figure_ann_traces

    rng = np.random.default_rng(0)
    results = [
        {"index": i, "layers": [{"activations": a}, {"activations": a[:3]}]}
        for i, a in enumerate(rng.random((3, 5)))
    ]
    torch_acts = {r["index"]: [r["layers"][0]["activations"], r["layers"][1]["activations"]] for r in results}
    report = {
        "checkpoint": "ann.pt",
        "layers": [{"activation_error_rms": 0.01}, {"activation_error_rms": 0.02}],
        "circuit": {"options": {"v_read_v": 0.1}, "set_windows_s": [(0.0, 2e-6), (3e-6, 5e-6)]},
    }
    fig = figure_activations(report, results, torch_acts)
    check_figure(fig)
    assert "3 images" in fig.get_suptitle()
    t = np.linspace(0, 6e-6, 200)
    trace = {"time_s": t, **{f"ro1_{j}": 0.1 * np.tanh(t / 1e-6 * (j + 1)) for j in range(3)}}
    trace |= {f"ro0_{j}": 0.05 * np.tanh(t / 1e-6) for j in range(2)}
    fig = figure_ann_traces(report, {"index": 4, "label": 2, "trace": trace}, 2)
    check_figure(fig)
    (ax,) = _data_axes(fig)
    assert ax.get_xlabel() == "time (µs)" and "test image 4" in ax.get_title()
