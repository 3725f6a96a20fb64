#!/usr/bin/env python3
"""Generate docs/models.md: a section per model -- equations, parameters and a
paper-vs-spinspice table -- plus the figures in docs/figures/.

Every number in the tables is measured by this script (ngspice circuit
simulations, the torch stepper, scipy fits or the model functions); run it
again after changing a model:  ``make docs``  or
``.venv/bin/python docs/gen_models.py [--out docs/models.md] [--figures DIR]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from spinspice.circuits.registry import MODELS, PRESETS, catalog, get_cell
from spinspice.experiments.neuron import simulate_cell
from spinspice.io import atomic_write_text
from spinspice.models.mtj import divider_vout, mtj_resistance
from spinspice.models.waveforms import PulseTrain
from spinspice.sim.backends import ngspice_version
from spinspice.sim.osdi import resolve_models

PAPER_ENERGY_PJ = 11.7


def measure_dwlif() -> dict[str, object]:
    cell = get_cell("dw-lif", "paper-001")[0]
    out: dict[str, object] = {}
    mtj0 = cell.mtj.replace(bias_dependence=False)
    out["r_rest0"] = float(mtj_resistance(0.0, 0.0, cell.mtj))
    out["r_full0"] = float(mtj_resistance(1.0, 0.0, cell.mtj))
    v0 = divider_vout([0.0, 1.0], mtj0, cell.divider)
    vb = divider_vout([0.0, 1.0], cell.mtj, cell.divider)
    out["v0"], out["vb"] = v0, vb
    out["runs"] = {}
    for t_off, duration in ((1e-9, 120e-9), (1.5e-9, 150e-9), (2e-9, 170e-9), (3e-9, 240e-9)):
        r = simulate_cell(cell, PulseTrain(t_off_s=t_off), duration, backend="shared").report()
        out["runs"][t_off] = r
    rates = {}
    for j in (0.6e11, 1.0e11, 1.5e11):
        r = simulate_cell(cell, PulseTrain(amplitude=j), 200e-9, reference=False).report()
        rates[j] = r["spike_rate_hz"]
    out["rates"] = rates
    return out


def _row(q: str, paper: str, ours: str, how: str) -> str:
    return f"| {q} | {paper} | {ours} | {how} |"


def dwlif_table(m: dict[str, object]) -> list[str]:
    runs = m["runs"]
    r500, r333 = runs[1e-9], runs[2e-9]
    e500 = r500["energy_per_spike_j"] * 1e12
    e333 = r333["energy_per_spike_j"] * 1e12
    dom = ", ".join(f"{t['component']} {t['fraction'] * 100:.0f} %" for t in r500["dominant_energy_terms"])
    v0, vb = m["v0"], m["vb"]
    rates = m["rates"]
    lines = [
        "| quantity | paper 001 | spinspice (paper-001 set) | how spinspice gets it |",
        "|---|---|---|---|",
        _row("MTJ R_P / R_AP", "200 / 600 ohm (TMR 200 %)", "200 / 600 ohm", "parameters r_p_ohm, tmr0"),
        _row(
            "read resistance rest -> full",
            "380 -> 590 ohm (Fig. 6e)",
            f"{m['r_rest0']:.1f} -> {m['r_full0']:.1f} ohm (zero bias)",
            "Eq. 2 with the m -> cosine map",
        ),
        _row(
            "read-out V_out rest -> full",
            "55 -> 70 mV (Fig. 6f)",
            f"{v0[0] * 1e3:.2f} -> {v0[1] * 1e3:.2f} mV (constant TMR); "
            f"{vb[0] * 1e3:.2f} -> {vb[1] * 1e3:.2f} mV (TMR(V))",
            "Eq. 3 divider, solved self-consistently",
        ),
        _row(
            "threshold time, 500 MHz (1 ns ON / 1 ns OFF)",
            "~16 ns (Fig. 6c)",
            f"{r500['first_spike_latency_s'] * 1e9:.2f} ns",
            "ngspice circuit, first comparator edge",
        ),
        _row(
            "threshold time, 400 MHz",
            "(curve only)",
            f"{runs[1.5e-9]['first_spike_latency_s'] * 1e9:.2f} ns",
            "ngspice circuit",
        ),
        _row(
            "threshold time, 333 MHz",
            "~27 ns (Fig. 6c)",
            f"{r333['first_spike_latency_s'] * 1e9:.2f} ns",
            "ngspice circuit",
        ),
        _row(
            "threshold time, 250 MHz",
            "(curve only)",
            f"{runs[3e-9]['first_spike_latency_s'] * 1e9:.2f} ns",
            "ngspice circuit",
        ),
        _row(
            "latency",
            "~15 ns (8-layer device)",
            f"{r500['first_spike_latency_s'] * 1e9:.2f} ns at 500 MHz",
            "same as threshold time",
        ),
        _row(
            "energy per spike",
            f"~{PAPER_ENERGY_PJ} pJ (write energy)",
            f"{e500:.2f} pJ at 500 MHz ({(e500 / PAPER_ENERGY_PJ - 1) * 100:+.0f} %), "
            f"{e333:.2f} pJ at 333 MHz ({(e333 / PAPER_ENERGY_PJ - 1) * 100:+.0f} %)",
            f"integral of V*I of every supply per inter-spike interval; {dom}",
        ),
        _row(
            "spike width / refractory time",
            "(not given)",
            f"{r500['spike_width_s'] * 1e9:.2f} ns",
            "reset NMOS current, released by the comparator",
        ),
        _row(
            "spike rate grows with write current",
            "yes (Fig. 7b/e)",
            ", ".join(f"{rates[j] / 1e6:.1f} MHz at {j:.2g} A/m^2" for j in sorted(rates)),
            "ngspice circuit, 200 ns",
        ),
        _row(
            "circuit vs equations",
            "(not given)",
            f"max {max(r['max_spike_time_error_s'] for r in runs.values()) * 1e12:.1f} ps over "
            f"{sum(r['n_spikes_compared'] for r in runs.values())} spikes",
            "ngspice vs scipy solve_ivp of the same equations",
        ),
    ]
    return lines


DWLIF_PROSE = """### DW-LIF neuron (paper 001, Eq. 4)

The membrane state is the normalised free-layer magnetisation `m`, driven by
the current density `J` along the track (T1 -> T2):

    dm/dt = f(m, J) = -alpha m^2 + beta + gamma J

with alpha = -1.549 1/s, beta = -1e7 1/s, gamma = 1.039e-3 m^2/(A s),
J = 1e11 A/m^2 while a write pulse is on, and threshold m_th = 0.75. With these
numbers the quadratic term is negligible (|alpha m^2| < 2 1/s), so m rises by
0.0939 per ns of write pulse and falls by 0.01 per ns without current.

**Saturation.** A normalised magnetisation cannot leave [-1, 1], but the raw
equation does. spinspice splits the drift smoothly into its rising and falling
parts and damps each only near the wall it pushes towards:

    f+ = (f + sqrt(f^2 + eps^2)) / 2,   f- = f - f+
    dm/dt = f+ tanh((m_max - m)/k_sat) + f- tanh((m - m_min)/k_sat)

Inside |m| <= 0.9 the factors equal 1 to 1e-8, so the paper's dynamics are
untouched; at a wall, the drive that pushes outwards stops while the one that
pulls back acts at full strength. The factors are bounded for every m, so a
Newton iterate that strays outside the range cannot overflow (an earlier
`1 - exp(...)` form did, in ngspice).

**State on a node.** In ngspice and in Verilog-A the state is the voltage of
an internal node `m` on a 1 F capacitor, charged by a B-source (contribution)
equal to dm/dt: no hidden variables, which OpenVAF forbids and which keeps the
same model valid in both simulators.

**One definition.** `spinspice.models.dwlif.DWLIF_RHS` is a sympy expression.
The numpy/torch functions are compiled from it, the ngspice B-source and the
Verilog-A module are printed from it; the test-suite checks all four agree to
1e-9 (Verilog-A through `verilogae`, the B-source by simulating it).

**Reset rule (the circuit's).** When m reaches m_th the comparator fires; the
input is steered away from the track and the saturated reset NMOS sinks a fixed
current, so the track carries `J = -j_reset` until the comparator releases at
m = m_reset (its lower threshold, rest by default). Spike width and refractory
time are `(m_th - m_reset) / (gamma j_reset + |beta|)`: properties of the circuit.

**Geometry.** 256 x 64 nm track of 20 x [Ta 5 nm / CoFeB 1 nm / MgO 2 nm]; J is
the mean density over the conducting metal (Ta + CoFeB = 120 nm), so
I = J * 7.68e-15 m^2 (0.768 mA at 1e11 A/m^2). The track resistance
(Ta and CoFeB sheets in parallel) is 61.4 ohm.

### MTJ read-out (paper 001, Eq. 2 and 3)

    R(c) = R_AP (1 - c)/2 + R_P (1 + c)/2 = R_P [1 + TMR(V) (1 - c)/2]
    TMR(V) = TMR0 / (1 + (V/V_h)^2)          (V_h = 0.5 V; bias_dependence=false for constant)
    V_out = R / (R + R_read) * V_read

**Mapping m -> c.** The read MTJ sits near T2 and sees the part of the wall
motion under it: its resistance goes from 380 ohm at rest to 590 ohm at full
integration (Fig. 6e). Inverting Eq. 2 at zero bias gives c_rest = 0.1 and
c_full = -0.95; spinspice interpolates linearly in m and clamps c smoothly into
[-1, 1] (a cosine cannot leave it; below m = -0.86 the junction reads fully
parallel). With the bias dependence on, V_out is found self-consistently.
The divider R_read = 564 ohm, V_read = 0.137 V gives the paper's 55 -> 70 mV.

### Neuron cell circuit

Generated by `spinspice.circuits.cell.dwlif_cell`: input steering switches
(`pass`, `dump`), the DW-LIF device with its read MTJ, the read divider,
a hysteretic comparator (behavioural Schmitt core + two CMOS inverters) whose
thresholds are the divider voltages at m_th and m_reset, the reset NMOS (sized
so that its saturation current at V_GS = V_dd is j_reset x area) and a return
driver that lifts T2 during the reset. Supplies: write driver, reset driver,
comparator (0.8 V each in the paper-001 set) and V_read. The MOSFETs use
documented generic level-1 cards (`spinspice.circuits.cmos`), lambda = 0.

"""

DWLIF_CHOICES = """### Modelling choices the paper leaves open

- **Rest state.** m = 0 (SPEC 3.2); with it the paper's parameters give the
  16.8 / 27.9 ns threshold times. Without input the constant leak beta drives m
  towards the lower wall (-1): the literal Eq. 4 has no restoring force to rest.
- **Saturation** of m at +-1: smooth, bounded (tanh) factors, width k_sat = 0.01.
- **m -> MTJ cosine**: linear between the 380 and 590 ohm anchors, clamped to
  [-1, 1] with width k_clip = 0.005.
- **Bias-dependent TMR** (not in the paper): on by default, V_h = 0.5 V; it
  lowers V_out by < 0.5 mV at these biases.
- **Reset**: a current (j_reset = 3e11 A/m^2, 2.30 mA) from a saturated NMOS,
  released at m_reset = 0 by the comparator's lower threshold; input ignored
  while firing (refractory).
- **CoFeB thickness** 1 nm per repeat (x not given); resistivities 190 uOhm cm
  (beta-Ta) and 160 uOhm cm (CoFeB): literature values; J is referred to the
  conducting metal cross-section (120 nm), not the full stack with MgO.
- **Supplies**: one 0.8 V supply for the write driver, reset driver and
  comparator; the write driver is an ideal pulsed current source whose energy is
  V_dd * I; V_read = 0.137 V with R_read = 564 ohm.
- **Comparator**: behavioural Schmitt core (tau = 20 ps, width 50 uV) with 20 uA
  static bias and two strong CMOS inverters (100 ohm, 1 fF loads); hysteresis
  between the divider voltages at m_th and m_reset. The buffers must be strong:
  with 500 ohm inverters the few-ps dead time of the steering and return
  switches made every reset ~4 ps longer than the equations say (a 7 ps/spike
  drift at 400 MHz).
- **Write pulses**: 10 ps linear edges; the plateau is shortened by one edge so
  each pulse carries exactly I * t_on.

### Simulator settings and accuracy

The testbench uses `method=gear`, `reltol=1e-4` and a maximum step of
min(t_on/20, t_off/20, 2.5 tau_comp). The comparator core is bistable and
stiff: with steps much longer than tau_comp the implicit solver can land on the
wrong branch and release the reset early (observed: 100 ps - 5 ns spike errors
with reltol=1e-3 or tau_comp = 5 ps at the default step). With these settings
the circuit spike times stay within a few ps of the scipy reference at 250-500 MHz.
The scipy reference (`spinspice.sim.reference`) integrates the same device,
divider and comparator equations with LSODA and event location; it shares no
code with ngspice.

"""


# --- shared pieces ---------------------------------------------------------------------------
def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _param_table(model: str) -> list[str]:
    """Every parameter of ``model`` with the default preset's value."""
    entry = next(m for m in catalog() if m["name"] == model)
    out = []
    for title, rows in (("device", entry["parameters"]), ("circuit", entry["circuit_parameters"])):
        if not rows:
            continue
        out += [
            f"**{title.capitalize()} parameters**"
            + (f" (preset `{entry['presets'][0]}`)" if entry["presets"] else "")
            + ":",
            "",
            "| name | group | value | unit | range | source | meaning |",
            "|---|---|---|---|---|---|---|",
        ]
        out += [
            f"| `{p['name']}` | {p['group']} | {_fmt(p['default'])} | {p['unit']} | {p['range']} | "
            f"{p['source']} | {p['description']} |"
            for p in rows
        ]
        out.append("")
    return out


def _equations(model: str) -> list[str]:
    lines = [
        "**Equations** (one sympy definition each; numpy, torch, ngspice and Verilog-A are printed from it):",
        "",
    ]
    for eq in MODELS[model].equations:
        lines.append(f"- `{eq.name}`: {eq.doc}")
    return [*lines, ""]


def _preset_lines(model: str) -> list[str]:
    presets = PRESETS.get(model, {})
    if not presets:
        return []
    return [f"**Presets**: {', '.join(f'`{p}`' for p in presets)} (the first is the default).", ""]


def _ref_err(reports: list[dict[str, Any]]) -> str:
    errs = [r["max_spike_time_error_s"] for r in reports if r["max_spike_time_error_s"] is not None]
    n = sum(r["n_spikes_compared"] for r in reports)
    return f"max {max(errs):.3g} s over {n} spikes"


def _si(v: float, unit: str) -> str:
    for scale, prefix in ((1e-12, "p"), (1e-9, "n"), (1e-6, "u"), (1e-3, "m"), (1.0, "")):
        if abs(v) < scale * 1000:
            return f"{v / scale:.3g} {prefix}{unit}"
    return f"{v:.3g} {unit}"


def _default_run(model: str, preset: str, **kw: Any) -> dict[str, Any]:
    cell, _ = get_cell(model, preset)
    d = cell.default_drive()
    return simulate_cell(cell, d, cell.default_duration_s(d), preset=preset, **kw).report()


# --- field-gated mem-transistor (paper 001 Fig. 1e-4) -------------------------------------------
FIELD_PROSE = """The measured [Ta/CoFeB/MgO]x20 Hall bar of paper 001 integrates only when a
perpendicular bias field puts it in an excitatory window: about 150-230 Oe
(inverted polarity for negative fields); below ~100 Oe and above ~250 Oe the
hysteresis loop pinches and the device is inhibited.  A field line (a wire
above each device row carrying I_b, H = k_H I_b) selects the row to write in a
crossbar without access transistors ("field-line gating", Fig. 1e).
spinspice gates the write efficiency of Eq. 4 with a smooth window g(H, J)
whose width grows with the write current, and lets the constant leak relax
towards rest from either polarity:

    dm/dt = -alpha m^2 + beta tanh((m - m_rest)/w) + gamma g(H, J) J
    g(H, J) = tanh(H/h_pol) S((|H| - H_lo)/h_e) S((H_hi - |H|)/h_e),  S = logistic
    H_lo,hi = H_c -/+ W(J)/2,  W(J) = W_ref ((J^2 + eps^2)/J_ref^2)^(kappa/2)

The circuit: the field line is a resistor whose current sets V(h) = H (kOe)
at the device (`field_line` subcircuit); the read-out is the Hall voltage
V_Hall,full m through a preamplifier (gain 1000) into the hysteretic
comparator, whose thresholds are the paper's windows (Fig. 4f) interpolated in
|H|: V_hi = V_th(H) - sigma(H) (the comparator works in the window) and
V_lo = rest + sigma(H).  A reset sink (ideal switch to a -10 V rail) drives the
reset current while firing; the input is steered away.  `spinspice fieldmap`
draws the read-out heat maps (Fig. 3c-f analogue) from the model equation and
re-simulates chosen columns as open-loop ngspice circuits.
"""


def field_section(figures: Path) -> list[str]:
    from spinspice.experiments.fieldmap import field_map, write_field_map
    from spinspice.models.fieldgate import threshold_window

    cell, preset = get_cell("field-gated-lif")
    fm = field_map(
        cell,
        cell.default_drive(),
        [6e-3, 8e-3, 10e-3, 15e-3],
        np.arange(-500.0, 501.0, 10.0),
        20,
        circuit_fields_oe=[200.0, -200.0, 0.0],
        preset=preset,
    )
    fields = np.asarray(fm["fields_oe"])
    swing = np.asarray(fm["readout_v"])[..., -1] - np.asarray(fm["readout_v"])[..., 0]
    peak15 = np.max(np.abs(swing[-1]))
    inhib = {h: abs(swing[-1][np.argmin(np.abs(fields - h))]) / peak15 * 100 for h in (0, 100, 250, 300, 500)}
    with tempfile.TemporaryDirectory() as tmp:
        write_field_map(dict(fm), Path(tmp))
        shutil.copy(Path(tmp) / "fieldmap.png", figures / "field-gated-lif-fieldmap.png")
    hall = _default_run("field-gated-lif", "paper-001-hallbar")
    scaled = _default_run("field-gated-lif", "paper-001-scaled")
    g = cell.hall.preamp_gain
    windows = []
    for h in (180.0, 200.0, 220.0):
        c, sg = threshold_window(cell.hall, h)
        windows.append(f"{c * 1e6:.2f} +- {sg * 1e6:.2f} uV at {h:g} Oe")
    per = fm["per_current"]
    rows = [
        "| quantity | paper 001 | spinspice | how spinspice gets it |",
        "|---|---|---|---|",
        _row(
            "excitatory window at 15 mA",
            "150-230 Oe; best 180-280 Oe (Fig. 2-3)",
            "{:g} to {:g} Oe (read-out change >= half its maximum)".format(*per[-1]["excitatory_range_oe"]),
            "model heat map, 20 pulses of 500 us",
        ),
        _row(
            "window narrows at low current",
            "usable range shrinks from 15 mA to 6 mA (Fig. 3c-f)",
            ", ".join(
                "{:g} mA: {:g}-{:g} Oe".format(p["i_write_a"] * 1e3, *p["excitatory_range_oe"])
                for p in per
                if p["excitatory_range_oe"]
            ),
            "model heat map",
        ),
        _row(
            "signal grows with write current",
            "~22 uV at 15 mA, almost none at 6 mA (Fig. 3b)",
            ", ".join(f"{p['i_write_a'] * 1e3:g} mA: {p['max_swing_v'] * 1e6:.1f} uV" for p in per),
            "largest read-out change after 20 pulses",
        ),
        _row(
            "inverted polarity for negative field",
            "-30 uV at -220 Oe vs +20 uV at +220 Oe (Fig. 2c)",
            f"{per[-1]['min_swing_v'] * 1e6:.1f} uV at {per[-1]['field_of_min_swing_oe']:g} Oe vs "
            f"{per[-1]['max_swing_v'] * 1e6:.1f} uV at {per[-1]['field_of_max_swing_oe']:g} Oe",
            "model heat map, 15 mA",
        ),
        _row(
            "inhibition below ~100 Oe and above ~250 Oe",
            "output almost 0 at 0 and +-500 Oe",
            ", ".join(f"{v:.1f} % at {h} Oe" for h, v in inhib.items()) + " of the peak",
            "model heat map, 15 mA",
        ),
        _row(
            "comparator threshold windows",
            "17 +- 2.6, 28 +- 4.65, 37 +- 7.8 uV (Fig. 4f)",
            "; ".join(windows),
            f"parameters, interpolated in abs(H); thresholds x {g:g} preamp",
        ),
        _row(
            "heat map vs ngspice circuit",
            "(not given)",
            f"max {fm['max_circuit_error_v'] * 1e9:.2f} nV at 200, -200, 0 Oe (15 mA)",
            "open-loop ngspice cell (thresholds out of reach)",
        ),
        _row(
            "Hall-bar neuron at 13 mA, 200 Oe",
            "spikes when the read-out reaches the window (Fig. 1d, 4)",
            f"{hall['n_spikes']} spikes in {hall['drive']['duration_s'] * 1e3:.0f} ms, first after "
            f"{hall['first_spike_latency_s'] * 1e3:.3f} ms",
            "ngspice circuit, 500 us pulses",
        ),
        _row(
            "scaled (MTJ read) neuron at 200 Oe",
            "(the micromagnetic device, Fig. 6)",
            f"first spike after {scaled['first_spike_latency_s'] * 1e9:.2f} ns, "
            f"{scaled['energy_per_spike_j'] * 1e12:.2f} pJ/spike",
            "ngspice circuit, 1 ns pulses at 500 MHz",
        ),
        _row("circuit vs equations", "(not given)", _ref_err([hall, scaled]), "ngspice vs scipy reference"),
    ]
    return [
        "## `field-gated-lif`: field-gated mem-transistor (paper 001 Fig. 1e-4)",
        "",
        FIELD_PROSE,
        *_equations("field-gated-lif"),
        *_preset_lines("field-gated-lif"),
        "### Paper 001 (field gating) vs spinspice",
        "",
        *rows,
        "",
        "![read-out heat maps](figures/field-gated-lif-fieldmap.png)",
        "",
        "### Modelling choices",
        "",
        "- The window shape (centre 200 Oe, width 80 Oe at 5e10 A/m^2 growing as |J|^0.5, 8 Oe edges)"
        " is fitted to the paper's qualitative description; `spinspice calibrate field-gated-lif`"
        " refits gamma/beta (or any parameter) to a measured trace.",
        "- Leak to rest from either polarity (`leak_width`): the literal Eq. 4 leak would drive an idle"
        " device to m = -1; the measured Hall bar relaxes to rest.",
        "- Hall-bar preset: Hall voltage 50 uV at m = 1, gain-1000 preamplifier, reset by an ideal sink"
        " to a -10 V rail (a field reset in the paper), k_H = 1000 Oe/A for the wide Hall-bar line;"
        " the scaled preset uses the DW-LIF micromagnetic device with an MTJ read and k_H = 47.6 kOe/A"
        " (a 100 nm strip line 20 nm above the track).",
        "",
        *_param_table("field-gated-lif"),
    ]


# --- SAF-LIF (paper 002) -------------------------------------------------------------------------
SAF_PROSE = """SOT drives a domain wall in a Co/Pt track; the synthetic-antiferromagnetic
coupling pulls it back once the current stops.  That gives a modified LIF with
separate integration and leak time constants (paper 002, Eq. 1), read as an
anomalous-Hall voltage V (uV):

    dV/dt = -(V - V_reset)/tau_leak + R I(t)/tau_int

There is no reset transistor: when V reaches V_th the comparator fires, the
write current is steered away, and the SAF coupling itself returns V to
V_reset; the comparator re-arms when V is back within `release_frac` of the
V_th - V_reset span.  The circuit keeps the state on a node scaled by
`v_scale_v` (1e-4 V per volt of V) so that ngspice's tolerances see O(1) numbers.
"""


def saf_section() -> list[str]:
    cell, _ = get_cell("saf-lif", "paper-002-3us")
    p = cell.saf
    i = 2e-3
    drive = PulseTrain(t_on_s=50e-6, t_off_s=0.0, t_edge_s=1e-9, amplitude=i, n_pulses=1)
    step = simulate_cell(cell, drive, 20e-6, reference=False)
    v_inf = p.r_mem_ohm * i * p.tau_leak_s / p.tau_int_s
    t_fire = -p.tau_leak_s * np.log(1 - (p.v_th_v - p.v_reset_v) / v_inf)
    base = _default_run("saf-lif", "paper-002")
    fast = _default_run("saf-lif", "paper-002-3us")
    rows = [
        "| quantity | paper 002 | spinspice | how spinspice gets it |",
        "|---|---|---|---|",
        _row("threshold / reset potential", "214 / 160 uV", "214 / 160 uV", "parameters v_th_v, v_reset_v"),
        _row(
            "time constants",
            "3 ms (SNN study) ... 3 us",
            "3 ms (`paper-002`), 3 us (`paper-002-3us`)",
            "presets",
        ),
        _row(
            "time to fire at a constant 2 mA (3 us preset)",
            "Eq. 1: -tau_l ln(1 - (V_th - V_r)/(R I tau_l/tau_i))",
            f"{step.spike_times_s[0] * 1e6:.4f} us (Eq. 1: {t_fire * 1e6:.4f} us)",
            "ngspice circuit vs closed form",
        ),
        _row(
            "firing period, default pulse drive",
            "(not given)",
            f"{base['mean_isi_s'] * 1e3:.3f} ms (3 ms preset), "
            f"{fast['mean_isi_s'] * 1e6:.3f} us (3 us preset)",
            "ngspice circuit, 1 mA pulses of tau_int/30",
        ),
        _row("self-reset, no reset current", "SAF coupling", "input steered away while firing", "circuit"),
        _row("circuit vs equations", "(not given)", _ref_err([base, fast]), "ngspice vs scipy reference"),
    ]
    return [
        "## `saf-lif`: SAF-coupled Co/Pt DW neuron with self-reset (paper 002)",
        "",
        SAF_PROSE,
        *_equations("saf-lif"),
        *_preset_lines("saf-lif"),
        "### Paper 002 vs spinspice",
        "",
        *rows,
        "",
        "### Modelling choices",
        "",
        "- R (`r_mem_ohm` = 0.15 ohm, 150 uV per mA at tau_int = tau_leak) and the 100 ohm track are"
        " not given by the paper; only R/tau_int matters for the dynamics.",
        "- Re-arm at 5 % (`paper-002`) or 50 % (`paper-002-3us`) of the V_th - V_reset span above"
        " V_reset (`release_frac`); 50 % is a 27 uV comparator hysteresis, within the windows paper 001"
        " measured on uV Hall read-outs (Fig. 4f: 17-37 uV).",
        "- Networks write in slots of ON = tau_int/30 and OFF = ON + the SAF self-reset time"
        " tau_leak ln(1/release_frac) + the comparator delays (`SAFLIFCell.network_drive`), so that a"
        " neuron that fired is back at V_reset for the next step (paper 002 Eq. 3): docs/saf-lif.md.",
        "",
        *_param_table("saf-lif"),
    ]


# --- DW-MTJ (paper 004) ---------------------------------------------------------------------------
DWMTJ_PROSE = """Two MTJs share one free-layer track (paper 004): MTJ_A writes a reverse domain
bounded by two walls, write pulses drive it along the track at the 1D wall
velocity, MTJ_B fires when the domain passes under it, and the domain is then
driven out of the track -- an automatic reset without a reset current.  The
state is the leading-wall position u = x/L; an auto-reset flag f (a Schmitt
switch on u) re-nucleates a domain under MTJ_A (relaxation time
`tau_renucleate_s`) once the old one has left:

    v = N (gamma_e Delta mu0 H/alpha + g mu_B P j / (2 e M_sat))
    du/dt = (1 - F) v/L + F (u_start - u)/tau_renucleate,   F = step(f)
    R_A,B = R_P + (R_AP - R_P) overlap(domain, MTJ_A,B)

**Stochasticity.** The paper multiplies the velocity by N(1, sigma = 0.3).
spinspice draws the factors from a seeded numpy generator, one per
`noise_interval_s` (default: one pulse period), and writes the same numbers into
the netlist as a PWL source -- so torch, scipy and ngspice see one realisation
per seed and runs are reproducible.  (ngspice `trnoise` would be
reproducible only inside ngspice and could not be replayed in torch.)  Holding a
factor per 50 ns pulse reproduces the spread of Fig. 5b; redrawing it every 0.1
ns step would average it away (`noise_interval_s = 0.1n` for that reading).
"""


def dwmtj_section(figures: Path) -> list[str]:
    from spinspice.experiments.distribution import pulse_count_distribution, write_distribution

    reports = []
    for preset in PRESETS["dw-mtj-autoreset"]:
        cell, _ = get_cell("dw-mtj-autoreset", preset)
        reports.append(
            pulse_count_distribution(
                cell, cell.default_drive(), n_torch=500, n_circuit=50, workers=2, preset=preset
            )
        )
    with tempfile.TemporaryDirectory() as tmp:
        write_distribution(reports, Path(tmp))
        shutil.copy(Path(tmp) / "distribution.png", figures / "dw-mtj-distribution.png")
    runs = [_default_run("dw-mtj-autoreset", p) for p in PRESETS["dw-mtj-autoreset"]]
    cell, _ = get_cell("dw-mtj-autoreset")
    v = cell.dwmtj.v_per_j * 1e11  # (m^3/C) * (A/m^2) = m/s
    rows = [
        "| quantity | paper 004 | spinspice | how spinspice gets it |",
        "|---|---|---|---|",
        _row(
            "MTJ resistances R_P / R_AP",
            "1650 / 1930 ohm",
            f"{cell.dwmtj.r_p_b_ohm:g} / {cell.dwmtj.r_ap_b_ohm:g} ohm",
            "parameters",
        ),
        _row("wall velocity at 1e11 A/m^2, H = 0", "(1D model)", f"{v:.3g} m/s", "VELOCITY equation"),
    ]
    for rep in reports:
        t, c, cf = rep["torch"], rep["circuit"], rep["closed_form"]
        nominal = rep["preset"].split("-")[-1]
        rows.append(
            _row(
                f"pulses to fire, `{rep['preset']}`",
                f"average {nominal} (Fig. 5b)",
                f"torch {t['mean_pulses']:.2f} +- {t['std_pulses']:.2f} ({t['n_runs']} seeds); ngspice "
                f"{c['mean_pulses']:.2f} +- {c['std_pulses']:.2f} ({c['n_runs']} seeds); closed form "
                f"{cf['mean_pulses']:.2f}",
                f"same count per seed: {rep['same_count_fraction'] * 100:.0f} % (torch vs ngspice)",
            )
        )
    rows += [
        _row(
            "energy per spike",
            "(not given)",
            ", ".join(f"{r['energy_per_spike_j'] * 1e12:.1f} pJ ({r['preset']})" for r in runs),
            "ngspice circuit, all supplies",
        ),
        _row("circuit vs equations", "(not given)", _ref_err(runs), "ngspice vs scipy reference (seed 0)"),
    ]
    return [
        "## `dw-mtj-autoreset`: two-wall DW-MTJ with automatic reset (paper 004)",
        "",
        DWMTJ_PROSE,
        *_equations("dw-mtj-autoreset"),
        *_preset_lines("dw-mtj-autoreset"),
        "### Paper 004 vs spinspice",
        "",
        *rows,
        "",
        "![pulse-count distributions](figures/dw-mtj-distribution.png)",
        "",
        "### Modelling choices",
        "",
        "- Presets place MTJ_B so that the deterministic wall needs 12 or 35 pulses of 50 ns (40 ns"
        " charge-equivalent, 10 ns edges) at 1e11 A/m^2.",
        "- Re-nucleation under MTJ_A takes `tau_renucleate_s` = 2 ns and the auto-reset flag switches in"
        " 1 ns (fast against the 60 ns between pulses); both are modelling choices for the paper's"
        " 'Write' pulse.",
        "- Read-out: each MTJ in a divider with a 1650 ohm resistor at 0.1 V; the comparator fires at"
        " half overlap of the domain with MTJ_B.",
        "",
        *_param_table("dw-mtj-autoreset"),
    ]


# --- Co/Gd (paper 003) ----------------------------------------------------------------------------
COGD_PROSE = """Compensated ferrimagnetic Co/Gd multilayers switch by SOT in many small steps:
their Hall resistance after a current pulse follows a sigmoid of the pulse
amplitude (paper 003 Fig. 4b), which makes a sigmoid *neuron*
Y = 1/(1 + exp(-(X - X0)/K)), and well-defined current thresholds between
levels, which make a multilevel *synapse* with STDP (Fig. 3).  spinspice's state
is the normalised Hall resistance w in [0, 1]; during a pulse it relaxes
towards Y(I) if above it (SET) or towards Y(I + 2 X0) if below (RESET), with
time constant tau_sw, and holds between pulses:

    dw/dt = (softplus(Y(I) - w) - softplus(w - Y(I + 2 X0))) / tau_sw

`spinspice neuron --model cogd-sigmoid` measures the activation curve (RESET,
then SET pulses of amplitude X; ngspice vs scipy vs the formula); `spinspice
stdp` applies the superposed pre/post spike pair I_pre(t) - I_post(t - dt) to a
demagnetised device for each delay (Fig. 3d analogue).
"""


def cogd_section(figures: Path) -> list[str]:
    from spinspice.experiments.cogd import activation_curve, stdp_window, write_activation, write_stdp
    from spinspice.models.cogd import CoGdParams

    p = CoGdParams()
    act = activation_curve(p, np.linspace(p.x0_a - 4 * p.k_a, p.x0_a + 4 * p.k_a, 17))
    dts = np.arange(-12, 12.5, 1.0) * 1e-3
    stdp = stdp_window(p, dts)
    with tempfile.TemporaryDirectory() as tmp:
        write_activation(dict(act), Path(tmp) / "a")
        write_stdp(dict(stdp), Path(tmp) / "s")
        shutil.copy(Path(tmp) / "a" / "activation.png", figures / "cogd-activation.png")
        shutil.copy(Path(tmp) / "s" / "stdp.png", figures / "cogd-stdp.png")
    dw = np.asarray(stdp["dw_circuit"])
    k = int(np.argmax(dw))
    nonzero = dts[np.abs(dw) > 0.01 * np.max(np.abs(dw))]
    rows = [
        "| quantity | paper 003 | spinspice | how spinspice gets it |",
        "|---|---|---|---|",
        _row(
            "R_hall range",
            "about -0.6 ... +0.6 ohm (Fig. 1b)",
            f"{p.r_hall_min_ohm:g} ... {p.r_hall_max_ohm:g} ohm",
            "parameters",
        ),
        _row(
            "sigmoid neuron X0 / K",
            "fitted to R_hall(I) (Fig. 4b)",
            f"{act['fit']['x0_a'] * 1e3:.3f} / {act['fit']['k_a'] * 1e3:.3f} mA (parameters "
            f"{p.x0_a * 1e3:g} / {p.k_a * 1e3:g} mA)",
            "sigmoid fitted to the ngspice activation curve",
        ),
        _row(
            "activation: circuit vs formula",
            "(not given)",
            f"max {act['max_error_vs_sigmoid']:.2e}; vs scipy {act['max_error_vs_reference']:.2e}",
            "17 SET amplitudes, 10 ms pulses",
        ),
        _row(
            "STDP window",
            "abs(dR_hall) falls with abs(dt), measured over -12 ... 12 ms (Fig. 3d)",
            f"peak dw = {dw[k]:+.3f} ({dw[k] * (p.r_hall_max_ohm - p.r_hall_min_ohm):+.3f} ohm) at dt = "
            f"{dts[k] * 1e3:+.0f} ms, non-zero for abs(dt) <= {np.max(np.abs(nonzero)) * 1e3:.0f} ms, "
            f"antisymmetry max abs(dw(dt) + dw(-dt)) = {np.max(np.abs(dw + dw[::-1])):.1e}",
            "ngspice, demagnetised device per delay",
        ),
        _row(
            "STDP: circuit vs equations",
            "(not given)",
            f"max {stdp['max_error_vs_reference']:.1e} in dw",
            "scipy",
        ),
    ]
    return [
        "## `cogd-sigmoid`: Co/Gd sigmoid neuron and multilevel synapse (paper 003)",
        "",
        COGD_PROSE,
        *_equations("cogd-sigmoid"),
        "### Paper 003 vs spinspice",
        "",
        *rows,
        "",
        "![activation](figures/cogd-activation.png) ![STDP](figures/cogd-stdp.png)",
        "",
        "### Modelling choices",
        "",
        "- X0 = 14 mA, K = 2.5 mA and tau_sw = 1 ms are read off the paper's curves (10 ms pulses"
        " switch fully); `spinspice calibrate cogd-sigmoid` fits them to a measured trace.",
        "- The STDP spike (0.8 X0 for 1 ms, then an opposite tail from 60 % of it to 0 over 15 ms) is an"
        " engineered shape in the spirit of Fig. 3b: neither part switches alone, their overlap does;"
        " the sign makes post-after-pre potentiate.",
        "- Multilevel synapse: `n_levels` conductances between G_min and G_max, programmed by a RESET and"
        " the SET amplitude Y^-1(w) of each level.",
        "",
        *_param_table("cogd-sigmoid"),
    ]


# --- ideal LIF ------------------------------------------------------------------------------------
LIF_PROSE = """The software baseline: snnTorch's `Leaky` neuron, U[t+1] = beta U[t] + I[t] -
S[t] U_thr (reset by subtraction; `reset_subtract=false` resets to zero),
with S[t] = (U[t] > U_thr).  `spinspice.models.lif.lif_step` implements it in
numpy and torch; the circuit is an RC membrane (C_mem, R = tau/C with
exp(-slot/tau) = beta) charged by the input current, a comparator, and a
reset switch that discharges the membrane while firing.
"""


def lif_section() -> list[str]:
    import torch

    from spinspice.models.lif import LIFParams, lif_step

    rows_extra = []
    try:
        import snntorch

        worst = 0.0
        for mech in ("subtract", "zero"):
            p = LIFParams(beta=0.875, reset_subtract=mech == "subtract")
            leaky = snntorch.Leaky(
                beta=torch.tensor(p.beta, dtype=torch.float64),
                threshold=torch.tensor(p.u_thr, dtype=torch.float64),
                reset_mechanism=mech,
            )
            x = torch.rand(300, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 0.6
            m_ref = torch.zeros(16, dtype=torch.float64)
            m = torch.zeros(16, dtype=torch.float64)
            for k in range(300):
                _, m_ref = leaky(x[k], m_ref)
                _, m = lif_step(m, x[k], p, backend="torch")
                worst = max(worst, float((m - m_ref).abs().max()))
        rows_extra.append(
            _row(
                "`lif_step` vs `snntorch.Leaky`",
                "-",
                f"max abs(dU) = {worst:.1e} over 300 steps x 16 neurons, both reset mechanisms",
                f"snnTorch {snntorch.__version__}",
            )
        )
    except ImportError:  # pragma: no cover - snnTorch is a dev dependency
        pass
    run = _default_run("lif", "snntorch-leaky")
    cell, _ = get_cell("lif")
    rows = [
        "| quantity | reference | spinspice | how spinspice gets it |",
        "|---|---|---|---|",
        *rows_extra,
        _row(
            "membrane time constant",
            "tau = -slot/ln(beta)",
            f"{cell.lif.tau_s * 1e9:.3f} ns (beta {cell.lif.beta:g}, slot {cell.lif.slot_s * 1e9:g} ns)",
            "R_leak C_mem of the circuit",
        ),
        _row("circuit vs equations", "(not given)", _ref_err([run]), "ngspice vs scipy reference"),
    ]
    return [
        "## `lif`: ideal LIF (snnTorch `Leaky` equivalent)",
        "",
        LIF_PROSE,
        *_equations("lif"),
        *_preset_lines("lif"),
        "### snnTorch vs spinspice",
        "",
        *rows,
        "",
        *_param_table("lif"),
    ]


# --- calibration ----------------------------------------------------------------------------------
def calibration_section() -> list[str]:
    from spinspice.experiments.calibrate import EXAMPLES, base_params, calibrate, example_path, load_trace

    rows = [
        "| model | example protocol | parameter | truth | fitted | error | R^2 |",
        "|---|---|---|---|---|---|---|",
    ]
    for model in EXAMPLES:
        trace = load_trace(example_path(model))
        base, _ = base_params(model)
        rep = calibrate(model, base, trace)
        for k, name in enumerate(rep["free"]):
            rows.append(
                f"| {model if k == 0 else ''} | {trace.meta['protocol'] if k == 0 else ''} | `{name}` | "
                f"{rep['true_params'][name]:.6g} | {rep['fitted'][name]:.6g} | "
                f"{rep['relative_error_vs_truth'][name] * 100:.3f} % | "
                + (f"{rep['goodness']['r2']:.5f}" if k == 0 else "")
                + " |"
            )
    return [
        "## Calibration: fitting a model to a measured trace",
        "",
        "`spinspice calibrate MODEL DATA.csv` integrates the model's open-loop equations",
        "(`spinspice.models.traces`) under the sampled drive and fits the free parameters with",
        "`scipy.optimize.least_squares`; it writes `fit.json`, `fit.md`, `fit.png` and `params.json`",
        "(usable as `spinspice neuron --param-file`).  The shipped example traces",
        "(`spinspice/data/calibration/`, made by `docs/gen_calibration_examples.py` from the models",
        "with read-out noise) fit back as follows, starting from each model's default preset:",
        "",
        *rows,
        "",
    ]


# --- document -------------------------------------------------------------------------------------
def overview() -> list[str]:
    rows = ["| model | what | source | spiking | presets |", "|---|---|---|---|---|"]
    for m in catalog():
        rows.append(
            f"| `{m['name']}` | {m['title']} | {m['source']} | {'yes' if m['spiking'] else 'no'} | "
            + (", ".join(f"`{p}`" for p in m["presets"]) or "-")
            + " |"
        )
    return rows


HEADER = """# Device models

*Generated by `docs/gen_models.py` (`make docs`) with ngspice {ngv}; every number in
the comparison tables and every figure was measured by that script. Edit the
script, not this file.*

{overview}

Every model is one set of sympy equations (`spinspice.models.*`): the numpy and
torch functions are compiled from them and the ngspice B-sources and Verilog-A
modules printed from them, and the test-suite checks that they agree
(`tests/test_equivalence.py`, Verilog-A through `verilogae`).  Every neuron
cell is checked against an independent scipy integration of the same equations
(`tests/test_registry.py`: spike times within one simulation step, for every
model and preset) and against the fixed-step torch stepper.  `spinspice models`
lists every parameter with its unit, range and source.

"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(Path(__file__).with_name("models.md")))
    ap.add_argument("--figures", default=str(Path(__file__).with_name("figures")))
    args = ap.parse_args(argv)
    figures = Path(args.figures)
    figures.mkdir(parents=True, exist_ok=True)
    m = measure_dwlif()
    parts = [
        HEADER.format(
            ngv=f"{ngspice_version() or '?'} ({resolve_models()} device models)",
            overview="\n".join(overview()),
        ),
        "## `dw-lif`: DW-LIF neuron read by an MTJ (paper 001)\n",
        DWLIF_PROSE,
        *_equations("dw-lif"),
        *_preset_lines("dw-lif"),
        "### Paper 001 vs spinspice\n",
        "\n".join(dwlif_table(m)),
        "",
        DWLIF_CHOICES,
        *_param_table("dw-lif"),
        *field_section(figures),
        *saf_section(),
        *dwmtj_section(figures),
        *cogd_section(figures),
        *lif_section(),
        *calibration_section(),
    ]
    atomic_write_text(args.out, "\n".join(parts).rstrip() + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
