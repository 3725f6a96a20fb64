"""Co/Gd experiments (paper 003): sigmoid activation curve and STDP window.

Both run the ngspice subcircuit and an independent scipy integration of the
same state equation (:data:`~spinspice.models.cogd.COGD_RHS`) on the same
current waveform, and compare them -- and the activation with the closed-form
sigmoid Y(X) = 1/(1 + exp(-(X - X0)/K)).  :func:`run_activation`
(``spinspice neuron --model cogd-sigmoid``) and :func:`run_stdp`
(``spinspice stdp``) take user settings and return results with files.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp
from scipy.optimize import curve_fit

from spinspice.circuits.cogd import cogd_testbench, pwl_current
from spinspice.errors import ModelParameterError, SimulationError
from spinspice.experiments.results import StudyResult
from spinspice.io import atomic_write_json, atomic_write_text, report_header, save_figure, seed_all
from spinspice.io import pyplot as _pyplot
from spinspice.models.cogd import COGD_RHS, CoGdParams, sigmoid, stdp_pair_current
from spinspice.sim.osdi import netlist_text
from spinspice.sim.simulate import simulate
from spinspice.units import eng, parse_value

__all__ = [
    "STDP_DELAYS_S",
    "ActivationResult",
    "ActivationTiming",
    "STDPResult",
    "STDPShape",
    "activation_curve",
    "run_activation",
    "run_stdp",
    "stdp_window",
    "write_activation",
    "write_stdp",
]

ACTIVATION_FILES = {
    "report_json": "report.json",
    "report_md": "report.md",
    "netlist": "netlist.cir",
    "plot": "activation.png",
}
STDP_FILES = {"report_json": "report.json", "report_md": "report.md", "plot": "stdp.png"}
#: delays (post - pre) of ``spinspice stdp`` by default: -12 ms to 12 ms in 1 ms steps
STDP_DELAYS_S = tuple(k * 1e-3 for k in range(-12, 13))


@dataclasses.dataclass(frozen=True)
class ActivationTiming:
    """RESET-then-SET pulse protocol of Fig. 4 (paper 003: 10 ms pulses)."""

    t_pulse_s: float = 10e-3
    t_gap_s: float = 5e-3
    t_edge_s: float = 0.1e-3
    i_reset_a: float = -30e-3


@dataclasses.dataclass(frozen=True)
class STDPShape:
    """Engineered spike of the STDP experiment (paper 003 Fig. 3b analogue).

    Main pulse ``-main_frac * X0`` for ``t_pulse_s`` then an opposite tail
    from ``tail_frac`` of the main amplitude to zero over ``t_tail_s``; each
    part alone stays below the switching threshold, only overlaps switch.
    The polarity makes post-after-pre (dt > 0) potentiate, the Hebbian sign.
    """

    main_frac: float = 0.8
    tail_frac: float = 0.6
    t_pulse_s: float = 1e-3
    t_tail_s: float = 15e-3

    def spike_kwargs(self, p: CoGdParams) -> dict[str, float]:
        return {
            "amplitude_a": -self.main_frac * p.x0_a,
            "t_pulse_s": self.t_pulse_s,
            "t_tail_s": self.t_tail_s,
            "tail_frac": self.tail_frac,
        }


def _reference(
    p: CoGdParams, times: np.ndarray, currents: np.ndarray, w0: float, sample_s: np.ndarray
) -> np.ndarray:
    """scipy integration of dw/dt on the piece-wise linear current; w at ``sample_s``."""
    f = COGD_RHS.numeric("numpy")
    pv = tuple(COGD_RHS.param_values(p).values())
    w, t = w0, times[0]
    out = np.empty(len(sample_s))
    stops = np.union1d(times, sample_s)
    k = 0
    for t_next in stops[stops > t]:
        if t_next - t < 1e-12:  # merged breakpoints: nothing to integrate
            t = t_next
            while k < len(sample_s) and np.isclose(sample_s[k], t, rtol=0, atol=1e-12):
                out[k] = w
                k += 1
            continue
        sol = solve_ivp(
            lambda tt, y: [float(f(y[0], float(np.interp(tt, times, currents)), *pv))],
            (t, t_next),
            [w],
            method="LSODA",
            rtol=1e-10,
            atol=1e-12,
        )
        if not sol.success:  # pragma: no cover - solver failure
            raise SimulationError(f"Co/Gd reference failed: {sol.message}")
        w, t = float(sol.y[0, -1]), t_next
        while k < len(sample_s) and np.isclose(sample_s[k], t, rtol=0, atol=1e-12):
            out[k] = w
            k += 1
    return out


def activation_curve(
    p: CoGdParams,
    x_values_a: Sequence[float],
    *,
    timing: ActivationTiming = ActivationTiming(),
    backend: str = "shared",
) -> dict[str, Any]:
    """Y(X) of the sigmoid neuron from the circuit, the scipy reference and the formula."""
    xs = np.asarray(x_values_a, dtype=float)
    if xs.size == 0:
        raise ModelParameterError("activation curve: give at least one input current")
    tp, tg, te = timing.t_pulse_s, timing.t_gap_s, timing.t_edge_s
    times, currents, samples = [0.0], [0.0], []
    t = 0.0
    for x in xs:
        for amp in (timing.i_reset_a, x):  # RESET then SET, each followed by a gap
            times += [t + tg, t + tg + te, t + tg + te + tp, t + tg + 2 * te + tp]
            currents += [0.0, amp, amp, 0.0]
            t += tg + 2 * te + tp
        samples.append(t + tg / 2)  # read in the middle of the gap after the SET
        times.append(t + tg)
        currents.append(0.0)
        t += tg
    t_arr, i_arr = np.array(times), np.array(currents)
    tb = cogd_testbench(p, pwl_current(t_arr, i_arr), float(t_arr[-1]), w0=0.5, t_max_s=te / 2)
    wf = simulate(tb, backend)
    y_circuit = wf.at("w", np.array(samples))
    y_ref = _reference(p, t_arr, i_arr, 0.5, np.array(samples))
    y_formula = sigmoid(xs, p)
    (x0_fit, k_fit), _ = curve_fit(
        lambda x, x0, k: 1 / (1 + np.exp(-(x - x0) / k)), xs, y_circuit, p0=(p.x0_a, p.k_a)
    )
    return {
        **report_header("spinspice.cogd_activation"),
        "backend": backend,
        "params": p.values(),
        "timing": dataclasses.asdict(timing),
        "x_a": xs,
        "y_circuit": y_circuit,
        "y_reference": y_ref,
        "y_sigmoid": y_formula,
        "max_error_vs_reference": float(np.max(np.abs(y_circuit - y_ref))),
        "max_error_vs_sigmoid": float(np.max(np.abs(y_circuit - y_formula))),
        "fit": {"x0_a": float(x0_fit), "k_a": float(k_fit)},
        "netlist": netlist_text(tb),
        "wall_s": wf.wall_s,
    }


def stdp_window(
    p: CoGdParams,
    dts_s: Sequence[float],
    *,
    shape: STDPShape = STDPShape(),
    backend: str = "shared",
) -> dict[str, Any]:
    """Weight change vs pre/post delay (Fig. 3d analogue), circuit and reference.

    For each delay the device starts demagnetised (w = 1/2, as the paper's
    alternating decaying pulse sequence leaves it) and receives the
    superposition ``I_pre(t) - I_post(t - dt)``.
    """
    dts = np.asarray(dts_s, dtype=float)
    kw = shape.spike_kwargs(p)
    span = shape.t_pulse_s + shape.t_tail_s
    dw_c, dw_r = [], []
    for dt in dts:
        t0 = 1e-3 + max(0.0, -dt)
        t_end = t0 + max(dt, 0.0) + span + 2e-3
        # sample the waveform densely enough to carry its corners into the PWL
        t = np.unique(
            np.concatenate(
                [
                    np.linspace(0.0, t_end, 801),
                    t0 + np.array([0.0, shape.t_pulse_s, span]),
                    t0 + dt + np.array([0.0, shape.t_pulse_s, span]),
                ]
            )
        )
        t = t[(t >= 0) & (t <= t_end)]
        i = stdp_pair_current(t, dt, t0, **kw)
        # vertical steps of the ideal spikes become 10 us edges in the PWL
        t_pwl, i_pwl = _ramped(t, i, 10e-6)
        tb = cogd_testbench(p, pwl_current(t_pwl, i_pwl), float(t_pwl[-1]), w0=0.5, t_max_s=20e-6)
        wf = simulate(tb, backend)
        dw_c.append(float(wf["w"][-1] - 0.5))
        dw_r.append(float(_reference(p, t_pwl, i_pwl, 0.5, np.array([t_pwl[-1]]))[0] - 0.5))
    return {
        **report_header("spinspice.cogd_stdp"),
        "backend": backend,
        "params": p.values(),
        "shape": dataclasses.asdict(shape),
        "dt_s": dts,
        "dw_circuit": np.array(dw_c),
        "dw_reference": np.array(dw_r),
        "d_r_hall_ohm": np.array(dw_c) * (p.r_hall_max_ohm - p.r_hall_min_ohm),
        "max_error_vs_reference": float(np.max(np.abs(np.array(dw_c) - np.array(dw_r)))),
    }


def _ramped(t: np.ndarray, i: np.ndarray, edge_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Turn jumps of a sampled waveform into linear edges of ``edge_s``."""
    out_t, out_i = [float(t[0])], [float(i[0])]
    for k in range(1, len(t)):
        if abs(i[k] - i[k - 1]) > 1e-9 * max(1.0, abs(i[k])) and t[k] - out_t[-1] > 1.001 * edge_s:
            out_t.append(float(t[k]) - edge_s)
            out_i.append(float(i[k - 1]))
        out_t.append(float(t[k]))
        out_i.append(float(i[k]))
    return np.array(out_t), np.array(out_i)


def write_activation(report: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    """report.json, report.md, netlist.cir and the Y(X) plot of an activation curve."""
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "netlist.cir", report.pop("netlist"))
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    x = np.asarray(report["x_a"]) * 1e3
    xx = np.linspace(x.min(), x.max(), 200)
    ax.plot(
        xx,
        sigmoid(xx * 1e-3, CoGdParams(**report["params"])),
        "-",
        color="gray",
        label="Y = 1/(1+exp(-(X-X0)/K))",
    )
    ax.plot(x, report["y_reference"], "s", mfc="none", label="scipy reference")
    ax.plot(x, report["y_circuit"], "o", ms=4, label="circuit (ngspice)")
    ax.set_xlabel("SET pulse current X (mA)")
    ax.set_ylabel("normalised R_hall  Y")
    ax.set_title("Co/Gd sigmoid neuron (paper 003 Fig. 4b analogue)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, out_dir / "activation.png")
    report["files"] = dict(ACTIVATION_FILES)
    atomic_write_json(out_dir / "report.json", report)
    tm = report["timing"]
    atomic_write_text(
        out_dir / "report.md",
        "\n".join(
            [
                "# spinspice Co/Gd sigmoid neuron (paper 003)",
                "",
                f"RESET ({tm['i_reset_a'] * 1e3:g} mA) then SET pulse of amplitude X, "
                f"{tm['t_pulse_s'] * 1e3:g} ms each, {tm['t_gap_s'] * 1e3:g} ms apart; "
                f"ngspice {report['backend']} backend.",
                "",
                "| X (mA) | Y circuit | Y reference | Y formula |",
                "|---|---|---|---|",
                *[
                    f"| {a * 1e3:.2f} | {b:.4f} | {c:.4f} | {d:.4f} |"
                    for a, b, c, d in zip(
                        report["x_a"],
                        report["y_circuit"],
                        report["y_reference"],
                        report["y_sigmoid"],
                        strict=True,
                    )
                ],
                "",
                f"Max |circuit - reference| = {report['max_error_vs_reference']:.2e}; "
                f"max |circuit - formula| = {report['max_error_vs_sigmoid']:.2e}; "
                f"sigmoid fitted to the circuit: X0 = {report['fit']['x0_a'] * 1e3:.3f} mA, "
                f"K = {report['fit']['k_a'] * 1e3:.3f} mA.",
                "",
            ]
        ),
    )
    return report


def write_stdp(report: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    dt = np.asarray(report["dt_s"]) * 1e3
    ax.plot(dt, report["dw_reference"], "s", mfc="none", label="scipy reference")
    ax.plot(dt, report["dw_circuit"], "o-", ms=4, label="circuit (ngspice)")
    ax.axhline(0, color="gray", lw=0.5)
    ax.set_xlabel("delay post - pre (ms)")
    ax.set_ylabel("weight change dw")
    ax.set_title("Co/Gd synapse STDP window (paper 003 Fig. 3d analogue)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    save_figure(fig, out_dir / "stdp.png")
    report["files"] = dict(STDP_FILES)
    atomic_write_json(out_dir / "report.json", report)
    sh = report["shape"]
    atomic_write_text(
        out_dir / "report.md",
        "\n".join(
            [
                "# spinspice Co/Gd synapse STDP window (paper 003 Fig. 3d analogue)",
                "",
                f"Spike: main pulse {sh['main_frac']:g} X0 for {sh['t_pulse_s'] * 1e3:g} ms, "
                f"opposite tail from {sh['tail_frac']:g} of it to 0 over {sh['t_tail_s'] * 1e3:g} ms; "
                "the device sees I_pre(t) - I_post(t - dt) from the demagnetised state (w = 1/2); "
                f"ngspice {report['backend']} backend.",
                "",
                "| dt (ms) | dw circuit | dw reference | dR_hall (ohm) |",
                "|---|---|---|---|",
                *[
                    f"| {a * 1e3:+.2f} | {b:+.4f} | {c:+.4f} | {d:+.4f} |"
                    for a, b, c, d in zip(
                        report["dt_s"],
                        report["dw_circuit"],
                        report["dw_reference"],
                        report["d_r_hall_ohm"],
                        strict=True,
                    )
                ],
                "",
                f"Max |circuit - reference| = {report['max_error_vs_reference']:.2e}.",
                "",
            ]
        ),
    )
    return report


# --- public studies -----------------------------------------------------------------------------
@dataclasses.dataclass(repr=False, eq=False)
class ActivationResult(StudyResult):
    """Y(X) of the Co/Gd sigmoid neuron: :attr:`curve` is :func:`activation_curve`'s report.

    Files: ``report.json`` (schema ``spinspice.cogd_activation``), ``report.md``,
    ``netlist.cir`` and ``activation.png``.
    """

    curve: dict[str, Any]
    seed: int = 0

    def report(self) -> dict[str, Any]:
        report = {k: v for k, v in self.curve.items() if k != "netlist"}
        return {**report, "seed": self.seed, "files": dict(ACTIVATION_FILES)}

    def summary(self) -> str:
        fit = self.curve["fit"]
        return "\n".join(
            [
                f"Co/Gd sigmoid neuron: {len(self.curve['x_a'])} SET currents; sigmoid fitted to the "
                f"circuit X0 = {eng(fit['x0_a'], 'A')}, K = {eng(fit['k_a'], 'A')}; "
                f"max |circuit - reference| = {self.curve['max_error_vs_reference']:.2e}",
                *self._report_line("report.md"),
            ]
        )

    def _write_files(self, folder: Path) -> None:
        write_activation({**self.curve, "seed": self.seed}, folder)


@dataclasses.dataclass(repr=False, eq=False)
class STDPResult(StudyResult):
    """Weight change vs pre/post delay: :attr:`window` is :func:`stdp_window`'s report.

    Files: ``report.json`` (schema ``spinspice.cogd_stdp``), ``report.md`` and ``stdp.png``.
    """

    window: dict[str, Any]
    seed: int = 0

    def report(self) -> dict[str, Any]:
        return {**self.window, "seed": self.seed, "files": dict(STDP_FILES)}

    def summary(self) -> str:
        dts = np.asarray(self.window["dt_s"])
        dw = np.asarray(self.window["dw_circuit"])
        k = int(np.argmax(np.abs(dw)))
        return "\n".join(
            [
                f"STDP window over {len(dts)} delays: largest |dw| = {abs(dw[k]):.3f} "
                f"at dt = {'+' if dts[k] > 0 else ''}{eng(dts[k], 's', 3)}; "
                f"max |circuit - reference| = {self.window['max_error_vs_reference']:.2e}",
                *self._report_line("report.md"),
            ]
        )

    def _write_files(self, folder: Path) -> None:
        write_stdp({**self.window, "seed": self.seed}, folder)


def _cogd_params(params: Mapping[str, Any] | None, param_file: str | Path | None) -> CoGdParams:
    settings: dict[str, Any] = {}
    if param_file is not None:
        from spinspice.experiments.calibrate import read_param_file

        settings.update(read_param_file(param_file, "cogd-sigmoid"))
    settings.update(params or {})
    return CoGdParams().with_text(settings)


def run_activation(
    params: Mapping[str, Any] | None = None,
    *,
    x_values_a: Sequence[float | str] | None = None,
    t_on_s: float | str | None = None,
    t_off_s: float | str | None = None,
    t_edge_s: float | str | None = None,
    param_file: str | Path | None = None,
    backend: str = "shared",
    seed: int = 0,
    out: str | Path | None = None,
) -> ActivationResult:
    """The sigmoid activation Y(X) of the Co/Gd neuron (paper 003 Fig. 4b): circuit, scipy
    reference and formula (``spinspice neuron --model cogd-sigmoid``).

    ``params``/``param_file``: :class:`~spinspice.models.cogd.CoGdParams`
    settings (SI values or text); ``x_values_a``: the SET pulse currents
    (default: 17 from X0 - 4 K to X0 + 4 K); ``t_on_s``/``t_off_s``/``t_edge_s``:
    pulse length, gap and edges of the RESET-then-SET protocol
    (:class:`ActivationTiming`).  ``out``: also write the files there.
    """
    seed_all(seed)
    p = _cogd_params(params, param_file)
    timing = ActivationTiming()
    changes = {
        k: parse_value(v, "s", name=n)
        for k, v, n in (
            ("t_pulse_s", t_on_s, "t_on"),
            ("t_gap_s", t_off_s, "t_off"),
            ("t_edge_s", t_edge_s, "t_edge"),
        )
        if v is not None
    }
    if changes:
        timing = dataclasses.replace(timing, **changes)
    xs = (
        [parse_value(x, "A", name="x_values_a") for x in x_values_a]
        if x_values_a is not None
        else list(np.linspace(p.x0_a - 4 * p.k_a, p.x0_a + 4 * p.k_a, 17))
    )
    curve = activation_curve(p, xs, timing=timing, backend=backend)
    return ActivationResult(curve, seed)._publish(out)


def run_stdp(
    params: Mapping[str, Any] | None = None,
    *,
    dt_s: Sequence[float | str] = STDP_DELAYS_S,
    backend: str = "shared",
    seed: int = 0,
    out: str | Path | None = None,
) -> STDPResult:
    """STDP window of the Co/Gd multilevel synapse (paper 003 Fig. 3d) at the delays ``dt_s``
    (post - pre) from spike-pair waveforms: circuit and scipy reference (``spinspice stdp``).

    ``params``: :class:`~spinspice.models.cogd.CoGdParams` settings (SI values
    or text); ``out``: also write the files there.
    """
    seed_all(seed)
    p = CoGdParams().with_text(params or {})
    dts = [parse_value(v, "s", name="dt_s") for v in dt_s]
    if not dts:
        raise ModelParameterError("STDP window: give at least one delay")
    window = stdp_window(p, dts, backend=backend)
    return STDPResult(window, seed)._publish(out)
