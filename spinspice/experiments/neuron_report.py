"""Write the outputs of a neuron run: netlist, waveforms, plot, report.json/md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spinspice.experiments.html import write_neuron_html
from spinspice.experiments.neuron import NeuronResult
from spinspice.experiments.plots import plot_neuron
from spinspice.io import atomic_write_json, atomic_write_text
from spinspice.sim.osdi import localize_osdi

__all__ = ["format_neuron_markdown", "neuron_files", "write_neuron_outputs"]


def neuron_files(*, plot: bool = True, html: bool = True) -> dict[str, str]:
    """The files of one run (the report's ``files``): role -> name (``report.html`` only with
    ``plot`` and ``html``)."""
    files = {
        "netlist": "netlist.cir",
        "waveforms": "waveforms.npz",
        "report_json": "report.json",
        "report_md": "report.md",
    }
    if plot:
        files["plot"] = "neuron.png"
        if html:
            files["report_html"] = "report.html"
    return files


def write_neuron_outputs(
    result: NeuronResult, out_dir: Path, *, plot: bool = True, html: bool = True
) -> dict[str, Any]:
    """Write every file of one run into ``out_dir``; return the report (with file list).
    ``html=False`` leaves out ``report.html`` (4-5 MB each: the points of a sweep)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = neuron_files(plot=plot, html=html)
    atomic_write_text(out_dir / files["netlist"], localize_osdi(result.netlist, out_dir))
    result.waveforms.save_npz(out_dir / files["waveforms"])
    if plot:
        plot_neuron(result, out_dir / files["plot"])
    report = result.report()
    report["files"] = files
    atomic_write_json(out_dir / files["report_json"], report)
    atomic_write_text(out_dir / files["report_md"], format_neuron_markdown(report))
    if "report_html" in files:
        write_neuron_html(result, report, out_dir / files["report_html"])
    return report


def _fmt(value: float | None, scale: float, unit: str, digits: int = 4) -> str:
    if value is None:
        return "n/a"
    return f"{value * scale:.{digits}g} {unit}"


def format_neuron_markdown(r: dict[str, Any]) -> str:
    d = r["drive"]
    amp = (
        f"J = {d['j_write_a_per_m2']:.4g} A/m^2 (I = {_fmt(d['i_write_a'], 1e3, 'mA')})"
        if d.get("j_write_a_per_m2") is not None
        else f"I = {_fmt(d['i_write_a'], 1e3, 'mA')}"
    )
    lines = [
        f"# spinspice neuron report: {r['model']} ({r['preset']})",
        "",
        f"Write pulses {_fmt(d['t_on_s'], 1e9, 'ns')} ON / {_fmt(d['t_off_s'], 1e9, 'ns')} OFF "
        f"({_fmt(d['frequency_hz'], 1e-6, 'MHz')}), {amp}, simulated "
        f"{_fmt(d['duration_s'], 1e9, 'ns')} with the ngspice {r['backend']} backend"
        + (f", seed {r['seed']}" if r.get("seed") is not None else "")
        + f"; device models: {r.get('device_models', 'bsource')}"
        + accuracy_note(r.get("accuracy"))
        + ".",
        "",
        *(f"**Warning:** {w}.\n" for w in r.get("warnings", [])),
        "| quantity | value |",
        "|---|---|",
        f"| spikes | {r['n_spikes']} |",
        f"| first-spike latency | {_fmt(r['first_spike_latency_s'], 1e9, 'ns')} |",
        f"| spike width (= refractory time) | {_fmt(r['spike_width_s'], 1e9, 'ns')} |",
        f"| spike rate | {_fmt(r['spike_rate_hz'], 1e-6, 'MHz')} |",
        f"| max spike-time error vs scipy reference | {_fmt(r['max_spike_time_error_s'], 1e12, 'ps')} "
        f"({r['n_spikes_compared']} spikes) |",
        f"| energy per spike | {_fmt(r['energy_per_spike_j'], 1e12, 'pJ')} |",
        f"| energy, whole run | {_fmt(r['energy_total_j'], 1e12, 'pJ')} |",
        "",
        "## Energy per spike by component (energy drawn from each supply)",
        "",
        "| component | energy | share |",
        "|---|---|---|",
    ]
    for term in r["dominant_energy_terms"]:
        lines.append(
            f"| {term['component']} | {_fmt(term['energy_j'], 1e12, 'pJ')} | {term['fraction'] * 100:.1f} % |"
        )
    th = r["comparator_thresholds_v"]
    lines += ["", f"Comparator thresholds: V_hi = {th['v_hi_v']:.6g} V, V_lo = {th['v_lo_v']:.6g} V.", ""]
    ro = r.get("readout")
    if ro and "r_rest_ohm" in ro:
        lines += [
            "## MTJ read-out (paper 001 Eq. 2-3, with bias-dependent TMR)",
            "",
            "| state | R_MTJ | V_out |",
            "|---|---|---|",
            f"| rest | {ro['r_rest_ohm']:.1f} ohm | {ro['v_out_rest_v'] * 1e3:.2f} mV |",
            f"| threshold | {ro['r_threshold_ohm']:.1f} ohm | {ro['v_out_threshold_v'] * 1e3:.2f} mV |",
            f"| full | {ro['r_full_ohm']:.1f} ohm | {ro['v_out_full_v'] * 1e3:.2f} mV |",
            "",
        ]
    checks = r.get("checks")
    if checks:
        lines += ["## Checks", ""]
        for key, value in checks.items():
            lines.append(f"- {key.replace('_', ' ')}: " + ("n/a" if value is None else f"{value:.4g}"))
        lines.append("")
    lines += ["Files: " + ", ".join(f"`{v}`" for v in r.get("files", {}).values()), ""]
    return "\n".join(lines)


def accuracy_note(acc: dict[str, Any] | None) -> str:
    """``; accuracy fast (reltol 1e-3): spikes moved up to 13.5 ps vs the default`` (or nothing)."""
    if not acc or acc.get("preset", "default") == "default":
        return ""
    shift = acc.get("max_spike_shift_s")
    moved = (
        f"spikes moved up to {shift * 1e12:.1f} ps against the default accuracy"
        if shift is not None
        else f"{acc['spikes']} spikes against {acc['spikes_default']} at the default accuracy"
    )
    return f"; accuracy {acc['preset']} (reltol 1e-3): {moved}"
