"""The device library reproduces its papers: field gating (001), SAF-LIF (002), Co/Gd (003),
the stochastic auto-reset DW-MTJ (004), and the ideal LIF baseline (snnTorch)."""

from __future__ import annotations

import numpy as np
import pytest

from spinspice.circuits.registry import get_cell
from spinspice.errors import ModelParameterError
from spinspice.models.cogd import CoGdParams
from spinspice.models.fieldgate import HallReadoutParams, threshold_window
from spinspice.models.lif import LIFParams, lif_step


# --- paper 001: field-line gating -------------------------------------------------------------
@pytest.mark.parametrize(
    ("h_oe", "centre_v", "sigma_v"), [(180.0, 17e-6, 2.6e-6), (200.0, 28e-6, 4.65e-6), (220.0, 37e-6, 7.8e-6)]
)
def test_threshold_windows_are_the_papers(h_oe: float, centre_v: float, sigma_v: float) -> None:
    assert threshold_window(HallReadoutParams(), h_oe) == pytest.approx((centre_v, sigma_v))
    assert threshold_window(HallReadoutParams(), -h_oe) == pytest.approx((centre_v, sigma_v))
    cell, _ = get_cell("field-gated-lif")
    cell = cell.with_text({"h_bias_oe": h_oe})
    g = cell.hall.preamp_gain
    v_hi, v_lo = cell.thresholds_v()
    assert v_hi == pytest.approx(g * (centre_v - sigma_v))
    assert v_lo == pytest.approx(cell.readout_v(cell.device.m_reset) + g * sigma_v)


def test_field_line_sets_the_field_from_its_current() -> None:
    cell, _ = get_cell("field-gated-lif")
    line = cell.fieldline
    assert line.i_bias_a * line.k_h_oe_per_a == pytest.approx(line.h_bias_oe)


@pytest.fixture(scope="module")
def field_map_report():
    from spinspice.experiments.fieldmap import field_map

    cell, preset = get_cell("field-gated-lif")
    return field_map(
        cell,
        cell.default_drive(),
        [6e-3, 10e-3, 15e-3],
        np.arange(-500.0, 501.0, 10.0),
        12,
        circuit_fields_oe=[200.0, -200.0, 0.0],
        preset=preset,
    )


@pytest.mark.ngspice
def test_field_map_reproduces_the_gating_of_fig_3(field_map_report) -> None:
    rep = field_map_report
    fields = np.asarray(rep["fields_oe"])
    swing = np.asarray(rep["readout_v"])[..., -1] - np.asarray(rep["readout_v"])[..., 0]
    maxima = []
    for ci, per in enumerate(rep["per_current"]):
        s = swing[ci]
        peak = np.max(np.abs(s))
        maxima.append(peak)
        # excitatory near 150-230 Oe, inverted polarity for the negative field
        assert 150 <= per["field_of_max_swing_oe"] <= 230
        assert -230 <= per["field_of_min_swing_oe"] <= -150
        assert per["min_swing_v"] == pytest.approx(-per["max_swing_v"], rel=0.05)
        # inhibited at low field and above ~250 Oe
        for h in (0.0, 50.0, 90.0, 300.0, 500.0, -300.0, -500.0):
            assert abs(s[np.argmin(np.abs(fields - h))]) < 0.05 * peak, (per["i_write_a"], h)
    # amplitude grows with write current, and so does the usable window
    assert maxima[0] < maxima[1] < maxima[2]
    widths = [p["excitatory_range_oe"][1] - p["excitatory_range_oe"][0] for p in rep["per_current"]]
    assert widths[0] <= widths[1] <= widths[2] and widths[0] < widths[2]


@pytest.mark.ngspice
def test_field_map_model_agrees_with_the_ngspice_circuit(field_map_report) -> None:
    full_scale = field_map_report["params"]["v_hall_full_v"]
    assert len(field_map_report["circuit_checks"]) == 3
    assert field_map_report["max_circuit_error_v"] < 1e-3 * full_scale


# --- paper 002: SAF-LIF ------------------------------------------------------------------------
def test_saf_lif_presets_have_the_papers_constants() -> None:
    base, _ = get_cell("saf-lif", "paper-002")
    fast, _ = get_cell("saf-lif", "paper-002-3us")
    assert (base.saf.v_th_v, base.saf.v_reset_v) == (214e-6, 160e-6)
    assert base.saf.tau_int_s == base.saf.tau_leak_s == 3e-3
    assert fast.saf.tau_int_s == fast.saf.tau_leak_s == 3e-6


@pytest.mark.ngspice
def test_saf_lif_time_to_fire_follows_eq_1() -> None:
    """Constant current: V(t) = V_r + R I tau_l/tau_i (1 - exp(-t/tau_l)) reaches V_th at t_fire."""
    from spinspice.experiments.neuron import simulate_cell
    from spinspice.models.waveforms import PulseTrain

    cell, _ = get_cell("saf-lif", "paper-002-3us")
    p = cell.saf
    i = 2e-3  # constant SOT current (one long pulse)
    drive = PulseTrain(t_on_s=50e-6, t_off_s=0.0, t_edge_s=1e-9, amplitude=i, n_pulses=1)
    r = simulate_cell(cell, drive, 20e-6, reference=False)
    v_inf = p.r_mem_ohm * i * p.tau_leak_s / p.tau_int_s
    t_fire = -p.tau_leak_s * np.log(1 - (p.v_th_v - p.v_reset_v) / v_inf)
    assert r.spike_times_s[0] == pytest.approx(t_fire, rel=0.01)


# --- paper 003: Co/Gd sigmoid neuron and multilevel synapse ------------------------------------
@pytest.mark.ngspice
def test_cogd_activation_is_the_fitted_sigmoid() -> None:
    from spinspice.experiments.cogd import activation_curve

    p = CoGdParams()
    rep = activation_curve(p, np.linspace(p.x0_a - 4 * p.k_a, p.x0_a + 4 * p.k_a, 9))
    assert rep["max_error_vs_reference"] < 1e-3
    assert rep["max_error_vs_sigmoid"] < 0.02
    assert rep["fit"]["x0_a"] == pytest.approx(p.x0_a, rel=0.02)
    assert rep["fit"]["k_a"] == pytest.approx(p.k_a, rel=0.05)
    assert np.all(np.diff(rep["y_circuit"]) > 0)


@pytest.mark.ngspice
def test_cogd_stdp_window_is_antisymmetric_and_decays() -> None:
    from spinspice.experiments.cogd import stdp_window

    dts = np.array([1, 3, 5, 7, 12]) * 1e-3
    rep = stdp_window(CoGdParams(), np.concatenate([-dts[::-1], dts]))
    dw = np.asarray(rep["dw_circuit"])
    neg, pos = dw[:5][::-1], dw[5:]
    assert rep["max_error_vs_reference"] < 2e-3
    assert np.all(pos[:4] > 0) and np.all(neg[:4] < 0)  # Hebbian: post after pre potentiates
    np.testing.assert_allclose(pos, -neg, atol=0.01)
    assert np.all(np.diff(pos[:4]) < 0)  # |dw| falls with |dt|
    assert abs(pos[4]) < 0.01 * pos[0]  # outside the window: no change


def test_cogd_synapse_levels_and_programming_currents() -> None:
    from spinspice.models.cogd import CoGdSynapseParams, programming_currents, sigmoid, synapse_levels

    p, s = CoGdParams(), CoGdSynapseParams()
    levels = synapse_levels(s)
    assert len(levels) == s.n_levels and np.all(np.diff(levels) > 0)
    currents = programming_currents(p, s)
    assert np.all(np.diff(currents) > 0)
    # each programming current's sigmoid lands on its level (within the margin)
    w = (levels - s.g_min_s) / (s.g_max_s - s.g_min_s)
    np.testing.assert_allclose(sigmoid(currents, p)[1:-1], w[1:-1], atol=1e-9)


# --- paper 004: stochastic auto-reset DW-MTJ ---------------------------------------------------
@pytest.mark.ngspice
@pytest.mark.parametrize(("preset", "nominal"), [("paper-004-12", 12), ("paper-004-35", 35)])
def test_dw_mtj_pulse_count_distribution_torch_vs_ngspice(preset: str, nominal: int) -> None:
    from spinspice.experiments.distribution import pulse_count_distribution

    cell, _ = get_cell("dw-mtj-autoreset", preset)
    rep = pulse_count_distribution(
        cell, cell.default_drive(), n_torch=500, n_circuit=25, workers=2, preset=preset
    )
    t, c = rep["torch"], rep["circuit"]
    assert t["n_runs"] == t["n_fired"] == 500 and c["n_runs"] == c["n_fired"] == 25
    assert abs(t["mean_pulses"] - c["mean_pulses"]) < 1.0
    assert abs(t["mean_pulses"] - nominal) < 0.5
    # N(1, 0.3) per pulse: std of the pulse count ~ 0.3 sqrt(N)
    assert t["std_pulses"] == pytest.approx(0.3 * np.sqrt(nominal), rel=0.3)
    # the same seed gives the same noise in torch and ngspice
    assert rep["same_count_fraction"] >= 0.9
    assert rep["closed_form_equals_torch_fraction"] >= 0.98


def test_dw_mtj_noise_is_seeded_and_reproducible() -> None:
    cell, _ = get_cell("dw-mtj-autoreset")
    d = cell.default_drive()
    a, b, c = (cell.stimulus(d, 5e-6, s).values for s in (1, 1, 2))
    assert a == b and a != c
    factors = np.asarray(cell.stimulus(d, 2e-3, 7).values)
    assert factors.mean() == pytest.approx(1.0, abs=0.03) and factors.std() == pytest.approx(0.3, rel=0.1)


def test_distribution_rejects_deterministic_models() -> None:
    from spinspice.experiments.distribution import pulse_count_distribution

    cell, _ = get_cell("lif")
    with pytest.raises(ModelParameterError, match="deterministic"):
        pulse_count_distribution(cell, cell.default_drive(), n_torch=2, n_circuit=0)


# --- ideal LIF: snnTorch Leaky ------------------------------------------------------------------
@pytest.mark.parametrize("mechanism", ["subtract", "zero"])
def test_lif_step_matches_snntorch_leaky_step_for_step(mechanism: str) -> None:
    snn = pytest.importorskip("snntorch")
    import torch

    torch.manual_seed(0)
    # beta = 7/8 is exact in float32 too, whatever precision snnTorch keeps it in
    p = LIFParams(beta=0.875, u_thr=1.0, reset_subtract=mechanism == "subtract")
    # float64 beta and threshold: snnTorch would otherwise round them to float32
    leaky = snn.Leaky(
        beta=torch.tensor(p.beta, dtype=torch.float64),
        threshold=torch.tensor(p.u_thr, dtype=torch.float64),
        reset_mechanism=mechanism,
    )
    x = torch.rand(300, 16, dtype=torch.float64) * 0.6
    mem_ref = torch.zeros(16, dtype=torch.float64)
    mem = torch.zeros(16, dtype=torch.float64)
    spikes = 0
    for k in range(x.shape[0]):
        spk_ref, mem_ref = leaky(x[k], mem_ref)
        spk, mem = lif_step(mem, x[k], p, backend="torch")
        torch.testing.assert_close(mem, mem_ref.to(mem.dtype), rtol=0, atol=1e-12)
        torch.testing.assert_close(spk, spk_ref.to(spk.dtype), rtol=0, atol=0)
        spikes += int(spk.sum())
    assert spikes > 100  # the comparison covered many resets
