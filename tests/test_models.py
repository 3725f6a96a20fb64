"""Device physics against the paper's numbers and against itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from dwlif_reference import reference_run

from spinspice.models.dwlif import DWLIFParams, DWLIFState, dmdt, step
from spinspice.models.mtj import MTJParams, ReadDividerParams, divider_vout, mtj_resistance
from spinspice.models.waveforms import PulseTrain

P = DWLIFParams()


@pytest.mark.parametrize(("t_off_s", "expected_s"), [(1e-9, 16.8e-9), (2e-9, 27.9e-9)])
def test_threshold_time_from_rest(t_off_s: float, expected_s: float) -> None:
    """SPEC 3.2: from m = 0 the paper's parameters reach m_th at ~16.8 / 27.9 ns."""
    ref = reference_run(P, PulseTrain(t_off_s=t_off_s), 40e-9)
    assert ref.spike_times_s[0] == pytest.approx(expected_s, abs=0.1e-9)


def test_threshold_time_matches_closed_form() -> None:
    # alpha*m^2 is negligible: m rises (gamma J + beta) per ON ns, falls |beta| per OFF ns
    on = P.gamma_m2_per_a_s * 1e11 + P.beta_per_s
    per_period = on * 1e-9 + P.beta_per_s * 1e-9
    n = int(P.m_th // per_period)
    t_closed = n * 2e-9 + (P.m_th - n * per_period) / on
    ref = reference_run(P, PulseTrain(t_edge_s=1e-15), 30e-9)
    assert ref.spike_times_s[0] == pytest.approx(t_closed, abs=2e-12)


def test_saturation_keeps_state_in_range() -> None:
    p = P.replace(m_th=0.99, j_reset_a_per_m2=1e9)
    ref = reference_run(p.replace(m_th=0.999), PulseTrain(t_off_s=0.1e-9, t_on_s=5e-9), 300e-9)
    assert ref.m.max() <= 1.0 + 1e-9
    # falling drive at the upper wall acts at full strength: no sticking
    assert float(dmdt(1.0, 0.0, P)) == pytest.approx(P.beta_per_s - P.alpha_per_s, rel=1e-6)
    assert float(dmdt(1.0, 1e11, P)) == pytest.approx(0.0, abs=1e3)
    # long idle: the constant leak drives m to the lower wall, never past it
    ref = reference_run(P, PulseTrain(amplitude=0.0), 400e-9)
    assert ref.m.min() >= -1.0 - 1e-9 and ref.m[-1] < -0.99


def test_saturation_leaves_paper_dynamics_untouched() -> None:
    m = np.linspace(-0.9, 0.9, 19)
    for j in (0.0, 1e11, -3e11):
        raw = -P.alpha_per_s * m**2 + P.beta_per_s + P.gamma_m2_per_a_s * j
        np.testing.assert_allclose(dmdt(m, j, P), raw, rtol=1e-7)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_step_function_matches_scipy_reference(backend: str) -> None:
    """The explicit-state step reproduces the reference spike times (reset included)."""
    drive = PulseTrain(t_off_s=2e-9)
    t_stop, dt = 130e-9, 10e-12
    ref = reference_run(P, drive, t_stop)
    n = round(t_stop / dt)
    # charge-conserving input: J averaged over each step
    fine = drive.value(np.linspace(0, t_stop, n * 20, endpoint=False) + dt / 40).reshape(n, 20)
    j_avg = fine.mean(axis=1)
    state = DWLIFState.rest(P, backend=backend, dtype=torch.float64)
    times = []
    for k in range(n):
        j = j_avg[k] if backend == "numpy" else torch.tensor(j_avg[k], dtype=torch.float64)
        spikes, state = step(state, j, P, dt, backend=backend)
        if float(spikes) > 0:
            times.append((k + 1) * dt)
    assert len(times) == len(ref.spike_times_s) >= 4
    np.testing.assert_allclose(times, ref.spike_times_s, atol=dt)


def test_torch_step_is_differentiable() -> None:
    j = torch.tensor(1e11, requires_grad=True)
    state = DWLIFState(torch.tensor(0.5), torch.tensor(0.0))
    _, new = step(state, j, P, 1e-9, n_sub=10, backend="torch")
    new.m.backward()
    assert j.grad is not None and float(j.grad) > 0


def test_geometry() -> None:
    assert P.area_m2 == pytest.approx(64e-9 * 20 * 6e-9)
    assert P.r_track_ohm == pytest.approx(61.41, rel=1e-3)
    assert P.current_a(1e11) == pytest.approx(0.768e-3)


def test_mtj_mapping_anchors() -> None:
    """Fig. 6e: 380 ohm at rest, 590 ohm at full integration (zero bias)."""
    mtj = MTJParams()
    assert float(mtj_resistance(0.0, 0.0, mtj)) == pytest.approx(380.0, rel=1e-9)
    assert float(mtj_resistance(1.0, 0.0, mtj)) == pytest.approx(590.0, rel=1e-4)
    assert mtj.c_rest == pytest.approx(0.1) and mtj.c_full == pytest.approx(-0.95)
    # the cosine is clamped: never below R_P, never above R_AP
    r = mtj_resistance(np.linspace(-1, 1, 201), 0.0, mtj)
    assert r.min() >= 200.0 - 1e-9 and r.max() <= 600.0 + 1e-9
    assert np.all(np.diff(r) >= -1e-12)


def test_divider_gives_paper_readout() -> None:
    """Eq. 3: the 380 -> 590 ohm swing reads as ~55 -> 70 mV."""
    mtj, div = MTJParams(bias_dependence=False), ReadDividerParams()
    v = divider_vout(np.array([0.0, 1.0]), mtj, div)
    assert v[0] == pytest.approx(55.15e-3, abs=0.05e-3)
    assert v[1] == pytest.approx(70.0e-3, abs=0.1e-3)
    # bias dependence lowers the AP-side resistance slightly
    vb = divider_vout(np.array([0.0, 1.0]), MTJParams(), div)
    assert np.all(vb <= v) and np.all(v - vb < 0.5e-3)


def test_bias_dependent_tmr_formula() -> None:
    mtj = MTJParams()
    r0 = float(mtj_resistance(1.0, 0.0, mtj))
    r_half = float(mtj_resistance(1.0, mtj.v_h_v, mtj))
    # at V = V_h the TMR halves: R - R_P halves
    assert (r_half - mtj.r_p_ohm) == pytest.approx((r0 - mtj.r_p_ohm) / 2, rel=1e-9)
