"""Figures of the reports (matplotlib, headless Agg backend, written atomically)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from spinspice.io import atomic_write_bytes

if TYPE_CHECKING:  # pragma: no cover
    from spinspice.cosim.neuron import NeuronResult

__all__ = ["plot_neuron", "plot_sweep", "save_figure"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | Path, dpi: int = 130) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    _pyplot().close(fig)
    return atomic_write_bytes(path, buf.getvalue())


def plot_neuron(result: NeuronResult, path: str | Path) -> Path:
    """m(t), V_out with thresholds, comparator output, reset and write currents."""
    plt = _pyplot()
    wf = result.waveforms
    t_ns = wf.time_s * 1e9
    cell = result.cell
    fig, ax = plt.subplots(5, 1, figsize=(9, 10), sharex=True)
    ax[0].plot(t_ns, -wf["i_dd_w"] * 1e3, color="tab:blue", label="write driver")
    ax[0].plot(t_ns, wf["i_track"] * 1e3, color="tab:gray", lw=0.8, label="track T1->T2")
    ax[0].set_ylabel("current (mA)")
    ax[0].legend(loc="upper right", fontsize=8)
    ax[0].set_title(
        f"DW-LIF cell, {result.drive.frequency_hz / 1e6:.0f} MHz write pulses, "
        f"J = {result.drive.amplitude:.3g} A/m$^2$ ({result.backend} backend)"
    )
    ax[1].plot(t_ns, wf["m"], label="circuit (ngspice)")
    if result.reference is not None:
        ax[1].plot(result.reference.t_s * 1e9, result.reference.m, "--", lw=1, label="scipy reference")
    ax[1].axhline(cell.device.m_th, color="tab:red", ls=":", lw=1, label="m_th")
    ax[1].set_ylabel("membrane m")
    ax[1].legend(loc="lower right", fontsize=8)
    ax[2].plot(t_ns, wf["v_out"] * 1e3)
    ax[2].axhline(cell.v_th_hi_v * 1e3, color="tab:red", ls=":", lw=1, label="V_hi")
    ax[2].axhline(cell.v_th_lo_v * 1e3, color="tab:green", ls=":", lw=1, label="V_lo")
    ax[2].set_ylabel("V_out (mV)")
    ax[2].legend(loc="lower right", fontsize=8)
    ax[3].plot(t_ns, wf["spike"], color="tab:purple")
    for t in result.spike_times_s:
        ax[3].axvline(t * 1e9, color="tab:purple", lw=0.4, alpha=0.5)
    ax[3].set_ylabel("comparator (V)")
    ax[4].plot(t_ns, wf["i_reset"] * 1e3, color="tab:orange")
    ax[4].set_ylabel("reset (mA)")
    ax[4].set_xlabel("time (ns)")
    for a in ax:
        a.grid(alpha=0.3)
    return save_figure(fig, path)


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
