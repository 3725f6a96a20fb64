"""Figures of the reports (matplotlib, headless Agg backend, written atomically).

``figure_*`` functions build a figure and return it (the tests inspect them); ``plot_*``
write it as a PNG.  Axes carry their unit with the engineering prefix chosen for the data
(:func:`spinspice.figures.prefix_scale`); legends sit beside the axes, never over the data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spinspice.figures import legend_outside, prefix_scale, pyplot, save_figure
from spinspice.units import eng

if TYPE_CHECKING:  # pragma: no cover
    from spinspice.experiments.neuron import NeuronResult

__all__ = ["figure_neuron", "figure_sweep", "plot_neuron", "plot_sweep", "save_figure"]

#: a state label that ends with its SI unit, e.g. ``"membrane V (V)"``
_UNIT_LABEL = re.compile(r"^(.*?)\s*\((V|A|s|ohm|Ω)\)\s*$")


def _peak(*arrays: Any) -> float:
    values = [float(np.max(np.abs(np.real(a)))) for a in arrays if a is not None and len(a)]
    return max(values, default=0.0)


def figure_neuron(result: NeuronResult) -> Any:
    """Write current, main state vs reference with its threshold, read-out with the comparator
    thresholds, comparator output with the spikes marked, and the reset current (cells with a
    reset driver), each in the engineering unit its data needs."""
    plt = pyplot()
    wf = result.waveforms
    cell = result.cell
    t_scale, t_unit = prefix_scale(float(wf.time_s[-1]), "s")
    t = wf.time_s * t_scale
    key, ref_name, label, threshold = cell.state_plot()
    has_reset = "i_reset" in wf
    n = 5 if has_reset else 4
    fig, ax = plt.subplots(n, 1, figsize=(9, 2.0 * n + 0.6), sharex=True, layout="constrained")
    # write current: the driver's pulses, on an axis sized for them; the device current too
    # where it is the write current (no reset panel shows a reset part of it, and no reset
    # transient through the device would dwarf the pulses: each current is drawn once)
    write = -np.real(wf["i_dd_w"])
    track = None if has_reset or "i_track" not in wf else np.real(wf["i_track"])
    if track is not None and _peak(track) > 1.2 * _peak(write):
        track = None
    scale, unit = prefix_scale(_peak(write, track), "A")
    ax[0].plot(t, write * scale, color="tab:blue", label="write driver")
    if track is not None:
        ax[0].plot(t, track * scale, color="tab:gray", lw=0.8, label="device current")
    ax[0].set_ylabel(f"write current ({unit})")
    fig.suptitle(
        f"{result.model} neuron, preset {result.preset}: {eng(result.drive.frequency_hz, 'Hz', 3)} write "
        f"pulses, {len(result.spike_times_s)} spikes ({result.backend} backend)"
    )
    # main state: scaled to a prefixed unit where its label names one (membrane voltages)
    match = _UNIT_LABEL.match(label)
    state = np.real(wf[key])
    ref = None if result.reference is None else np.asarray(result.reference.state(ref_name))
    s_scale, s_label = 1.0, label
    if match:
        thr = None if threshold is None else [threshold]
        s_scale, s_unit = prefix_scale(_peak(state, ref, thr), match[2])
        s_label = f"{match[1]} ({s_unit})"
    ax[1].plot(t, state * s_scale, label="circuit (ngspice)")
    if ref is not None:
        ax[1].plot(result.reference.t_s * t_scale, ref * s_scale, "--", lw=1, label="scipy reference")
    if threshold is not None:
        ax[1].axhline(threshold * s_scale, color="tab:red", ls=":", lw=1, label="threshold")
    ax[1].set_ylabel(s_label)
    v_hi, v_lo = cell.thresholds_v()
    v_out = np.real(wf["v_out"])
    vs, vu = prefix_scale(_peak(v_out, [v_hi, v_lo]), "V")
    ax[2].plot(t, v_out * vs, label="read-out")
    ax[2].axhline(v_hi * vs, color="tab:red", ls=":", lw=1, label="$V_\\mathrm{hi}$")
    ax[2].axhline(v_lo * vs, color="tab:green", ls=":", lw=1, label="$V_\\mathrm{lo}$")
    ax[2].set_ylabel(f"read-out ({vu})")
    spike = np.real(wf["spike"])
    cs, cu = prefix_scale(_peak(spike), "V")
    ax[3].plot(t, spike * cs, color="tab:purple", label="comparator")
    if len(result.spike_times_s):
        top = _peak(spike) * cs
        ax[3].plot(
            np.asarray(result.spike_times_s) * t_scale,
            np.full(len(result.spike_times_s), top * 1.08),
            "v",
            color="tab:red",
            ms=5,
            label="spike",
        )
        ax[3].set_ylim(top=top * 1.25)
    ax[3].set_ylabel(f"comparator ({cu})")
    if has_reset:
        reset = np.real(wf["i_reset"])
        rs, ru = prefix_scale(_peak(reset), "A")
        ax[4].plot(t, reset * rs, color="tab:orange", label="reset driver")
        ax[4].set_ylabel(f"reset current ({ru})")
    ax[-1].set_xlabel(f"time ({t_unit})")
    for a in ax:
        a.grid(alpha=0.3)
        legend_outside(a)
    fig.align_ylabels(ax)
    return fig


def plot_neuron(result: NeuronResult, path: str | Path) -> Path:
    """``neuron.png``: :func:`figure_neuron` of ``result``."""
    return save_figure(figure_neuron(result), path)


def figure_sweep(
    x: Sequence[float],
    ys: dict[str, Sequence[float | None]],
    *,
    xlabel: str,
    ylabels: dict[str, str],
    title: str,
) -> Any:
    """One panel per quantity against the swept variable (values as the labels' units give);
    a swept variable that spans more than two decades gets a log axis."""
    plt = pyplot()
    fig, ax = plt.subplots(
        len(ys), 1, figsize=(6.5, 2.6 * len(ys) + 0.6), sharex=True, squeeze=False, layout="constrained"
    )
    xv = np.asarray(x, float)
    for a, (key, values) in zip(ax[:, 0], ys.items(), strict=True):
        vals = np.array([np.nan if v is None else v for v in values], dtype=float)
        a.plot(xv, vals, "o-", ms=4)
        a.set_ylabel(ylabels[key])
        a.grid(alpha=0.3)
    positive = xv[xv > 0]
    if len(positive) == len(xv) > 1 and positive.max() / positive.min() > 100:
        ax[-1, 0].set_xscale("log")
    fig.suptitle(title)
    ax[-1, 0].set_xlabel(xlabel)
    fig.align_ylabels(ax[:, 0])
    return fig


def plot_sweep(
    x: Sequence[float],
    ys: dict[str, Sequence[float | None]],
    *,
    xlabel: str,
    ylabels: dict[str, str],
    title: str,
    path: str | Path,
) -> Path:
    """One panel per quantity against the swept variable (:func:`figure_sweep`)."""
    return save_figure(figure_sweep(x, ys, xlabel=xlabel, ylabels=ylabels, title=title), path)
