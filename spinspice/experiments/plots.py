"""Figures of the reports (matplotlib, headless Agg backend, written atomically)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from spinspice.io import pyplot as _pyplot
from spinspice.io import save_figure

if TYPE_CHECKING:  # pragma: no cover
    from spinspice.experiments.neuron import NeuronResult

__all__ = ["plot_neuron", "plot_sweep", "save_figure"]


def plot_neuron(result: NeuronResult, path: str | Path) -> Path:
    """Drive current, main state vs reference, read-out with thresholds, spikes, reset."""
    plt = _pyplot()
    wf = result.waveforms
    cell = result.cell
    t_scale, t_unit = _time_scale(float(wf.time_s[-1]))
    t = wf.time_s * t_scale
    key, ref_name, label, threshold = cell.state_plot()
    has_reset = "i_reset" in wf
    fig, ax = plt.subplots(5 if has_reset else 4, 1, figsize=(9, 10 if has_reset else 8.5), sharex=True)
    write = -wf["i_dd_w"]
    scale, unit = _current_scale(float(np.max(np.abs(write))) or 1e-3)
    ax[0].plot(t, write * scale, color="tab:blue", label="write driver")
    if "i_track" in wf:
        ax[0].plot(t, wf["i_track"] * scale, color="tab:gray", lw=0.8, label="device current")
    ax[0].set_ylabel(f"current ({unit})")
    ax[0].legend(loc="upper right", fontsize=8)
    ax[0].set_title(
        f"{result.model} cell ({result.preset}), {result.drive.frequency_hz / 1e6:.4g} MHz pulses, "
        f"{result.backend} backend"
    )
    ax[1].plot(t, wf[key], label="circuit (ngspice)")
    if result.reference is not None:
        ax[1].plot(
            result.reference.t_s * t_scale,
            result.reference.state(ref_name),
            "--",
            lw=1,
            label="scipy reference",
        )
    if threshold is not None:
        ax[1].axhline(threshold, color="tab:red", ls=":", lw=1, label="threshold")
    ax[1].set_ylabel(label)
    ax[1].legend(loc="lower right", fontsize=8)
    v_hi, v_lo = cell.thresholds_v()
    vs, vu = _voltage_scale(max(abs(v_hi), abs(v_lo)) or 1.0)
    ax[2].plot(t, wf["v_out"] * vs)
    ax[2].axhline(v_hi * vs, color="tab:red", ls=":", lw=1, label="V_hi")
    ax[2].axhline(v_lo * vs, color="tab:green", ls=":", lw=1, label="V_lo")
    ax[2].set_ylabel(f"read-out ({vu})")
    ax[2].legend(loc="lower right", fontsize=8)
    ax[3].plot(t, wf["spike"], color="tab:purple")
    for ts in result.spike_times_s:
        ax[3].axvline(ts * t_scale, color="tab:purple", lw=0.4, alpha=0.5)
    ax[3].set_ylabel("comparator (V)")
    if has_reset:
        rs, ru = _current_scale(float(np.max(np.abs(wf["i_reset"]))) or 1e-3)
        ax[4].plot(t, wf["i_reset"] * rs, color="tab:orange")
        ax[4].set_ylabel(f"reset ({ru})")
    ax[-1].set_xlabel(f"time ({t_unit})")
    for a in ax:
        a.grid(alpha=0.3)
    return save_figure(fig, path)


def _time_scale(t_max_s: float) -> tuple[float, str]:
    for scale, unit in ((1e9, "ns"), (1e6, "us"), (1e3, "ms")):
        if t_max_s * scale <= 5e3:
            return scale, unit
    return 1.0, "s"


def _current_scale(i_max_a: float) -> tuple[float, str]:
    for scale, unit in ((1e6, "uA"), (1e3, "mA")):
        if i_max_a * scale < 1e3:
            return scale, unit
    return 1.0, "A"


def _voltage_scale(v_max_v: float) -> tuple[float, str]:
    for scale, unit in ((1e6, "uV"), (1e3, "mV")):
        if v_max_v * scale < 1e3:
            return scale, unit
    return 1.0, "V"


def plot_sweep(
    x: Sequence[float],
    ys: dict[str, Sequence[float | None]],
    *,
    xlabel: str,
    ylabels: dict[str, str],
    title: str,
    path: str | Path,
) -> Path:
    """One panel per quantity against the swept variable."""
    plt = _pyplot()
    fig, ax = plt.subplots(len(ys), 1, figsize=(6, 3 * len(ys)), sharex=True, squeeze=False)
    for a, (key, values) in zip(ax[:, 0], ys.items(), strict=True):
        vals = np.array([np.nan if v is None else v for v in values], dtype=float)
        a.plot(x, vals, "o-")
        a.set_ylabel(ylabels[key])
        a.grid(alpha=0.3)
    ax[0, 0].set_title(title)
    ax[-1, 0].set_xlabel(xlabel)
    return save_figure(fig, path)
