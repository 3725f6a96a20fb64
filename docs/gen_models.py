#!/usr/bin/env python3
"""Generate docs/models.md: equations, parameters, paper-vs-spinspice table.

Every number in the comparison table is measured by this script (ngspice
circuit simulation of the paper-001 parameter set, or the model functions);
run it again after changing a model:  ``make docs``  or
``.venv/bin/python docs/gen_models.py [--out docs/models.md]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spinspice.circuits.cell import DWLIFCell, get_preset
from spinspice.cosim.backends import ngspice_version
from spinspice.cosim.neuron import run_neuron
from spinspice.io import atomic_write_text
from spinspice.models.mtj import divider_vout, mtj_resistance
from spinspice.models.registry import MODELS
from spinspice.models.waveforms import PulseTrain

PAPER_ENERGY_PJ = 11.7


def measure() -> dict[str, object]:
    cell = get_preset("paper-001")
    out: dict[str, object] = {}
    mtj0 = cell.mtj.replace(bias_dependence=False)
    out["r_rest0"] = float(mtj_resistance(0.0, 0.0, cell.mtj))
    out["r_full0"] = float(mtj_resistance(1.0, 0.0, cell.mtj))
    v0 = divider_vout([0.0, 1.0], mtj0, cell.divider)
    vb = divider_vout([0.0, 1.0], cell.mtj, cell.divider)
    out["v0"], out["vb"] = v0, vb
    out["runs"] = {}
    for t_off, duration in ((1e-9, 120e-9), (1.5e-9, 150e-9), (2e-9, 170e-9), (3e-9, 240e-9)):
        r = run_neuron(cell, PulseTrain(t_off_s=t_off), duration, backend="shared").report()
        out["runs"][t_off] = r
    rates = {}
    for j in (0.6e11, 1.0e11, 1.5e11):
        r = run_neuron(cell, PulseTrain(amplitude=j), 200e-9, reference=False).report()
        rates[j] = r["spike_rate_hz"]
    out["rates"] = rates
    return out


def _row(q: str, paper: str, ours: str, how: str) -> str:
    return f"| {q} | {paper} | {ours} | {how} |"


def comparison_table(m: dict[str, object]) -> list[str]:
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


def param_tables() -> list[str]:
    lines: list[str] = []
    seen: set[str] = set()
    groups = DWLIFCell().groups()
    for spec in MODELS.values():
        for ps in spec.param_sets:
            if ps.__name__ in seen:
                continue
            seen.add(ps.__name__)
            lines += [f"### {ps.title or ps.__name__} (`{ps.__name__}`)", ""]
            lines += _table(ps)
    for name, ps in groups.items():
        if type(ps).__name__ in seen:
            continue
        seen.add(type(ps).__name__)
        lines += [f"### {ps.title or name} (`{type(ps).__name__}`)", ""]
        lines += _table(type(ps))
    return lines


def _table(ps: type) -> list[str]:
    out = ["| name | default | unit | range | source | meaning |", "|---|---|---|---|---|---|"]
    for i in ps.param_info():
        out.append(f"| `{i.name}` | {i.default!r} | {i.unit} | {i.range_text()} | {i.source} | {i.desc} |")
    return [*out, ""]


HEADER = """# Device models

*Generated by `docs/gen_models.py` (`make docs`); every figure in the comparison
table was measured by that script with ngspice {ngv} on the paper-001
parameter set. Edit the script, not this file.*

## DW-LIF neuron (paper 001, Eq. 4)

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

## MTJ read-out (paper 001, Eq. 2 and 3)

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

## Neuron cell circuit

Generated by `spinspice.circuits.cell.dwlif_cell`: input steering switches
(`pass`, `dump`), the DW-LIF device with its read MTJ, the read divider,
a hysteretic comparator (behavioural Schmitt core + two CMOS inverters) whose
thresholds are the divider voltages at m_th and m_reset, the reset NMOS (sized
so that its saturation current at V_GS = V_dd is j_reset x area) and a return
driver that lifts T2 during the reset. Supplies: write driver, reset driver,
comparator (0.8 V each in the paper-001 set) and V_read. The MOSFETs use
documented generic level-1 cards (`spinspice.circuits.cmos`), lambda = 0.

## Paper 001 vs spinspice

{table}

## Modelling choices the paper leaves open

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

## Simulator settings and accuracy

The testbench uses `method=gear`, `reltol=1e-4` and a maximum step of
min(t_on/20, t_off/20, 2.5 tau_comp). The comparator core is bistable and
stiff: with steps much longer than tau_comp the implicit solver can land on the
wrong branch and release the reset early (observed: 100 ps - 5 ns spike errors
with reltol=1e-3 or tau_comp = 5 ps at the default step). With these settings
the circuit spike times stay within a few ps of the scipy reference at 250-500 MHz.
The scipy reference (`spinspice.cosim.reference`) integrates the same device,
divider and comparator equations with LSODA and event location; it shares no
code with ngspice.

## Parameters

{params}
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=str(Path(__file__).with_name("models.md")))
    args = ap.parse_args(argv)
    m = measure()
    text = HEADER.format(
        ngv=ngspice_version() or "?",
        table="\n".join(comparison_table(m)),
        params="\n".join(param_tables()),
    )
    atomic_write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
