"""Weight -> conductance mapping (differential pairs, levels, clipping, variability)."""

from __future__ import annotations

import numpy as np
import pytest

from spinspice.circuits.synapses import SYNAPSE_DEVICES, get_synapse_device, map_layer
from spinspice.errors import ModelParameterError


def _layer(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.3, (20, 50)), rng.normal(0, 0.1, 20)


def test_ideal_device_realises_the_weights_exactly() -> None:
    w, b = _layer()
    m = map_layer(w, b, get_synapse_device("ideal"))
    np.testing.assert_allclose(m.effective_weights[:, :-1], w, rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.effective_weights[:, -1], b, rtol=0, atol=1e-12)
    dev = m.device
    assert m.g_pos_s.min() >= dev.g_min_s * (1 - 1e-12) and m.g_pos_s.max() <= dev.g_max_s * (1 + 1e-12)
    # one side of every pair sits at G_min
    assert np.all(np.isclose(np.minimum(m.g_pos_s, m.g_neg_s), dev.g_min_s))
    assert m.errors["max_error_rel"] < 1e-10 and m.errors["n_clipped"] == 0


def test_quantisation_error_falls_with_the_number_of_levels() -> None:
    w, b = _layer(1)
    rms = [
        map_layer(w, b, get_synapse_device("dw-mtj", levels=n)).errors["rms_error_rel"]
        for n in (2, 4, 16, 64)
    ]
    assert rms == sorted(rms, reverse=True) and rms[-1] < 0.01
    two = map_layer(w, b, get_synapse_device("mtj"))
    assert set(np.unique(np.round(two.effective_weights / two.w_clip, 9))) <= {-1.0, 0.0, 1.0}
    levels = get_synapse_device("cogd").level_values()
    assert np.all(np.isin(map_layer(w, b, get_synapse_device("cogd")).g_pos_s, levels))


def test_clipping_and_variability_are_reported_and_seeded() -> None:
    w, b = _layer(2)
    m = map_layer(w, b, get_synapse_device("ideal"), clip_percentile=90)
    assert m.errors["n_clipped"] == pytest.approx(0.1 * m.errors["n_weights"], abs=2)
    assert np.abs(m.effective_weights).max() <= m.w_clip * (1 + 1e-12)
    a = map_layer(w, b, get_synapse_device("ideal"), variability=0.1, seed=5)
    again = map_layer(w, b, get_synapse_device("ideal"), variability=0.1, seed=5)
    other = map_layer(w, b, get_synapse_device("ideal"), variability=0.1, seed=6)
    np.testing.assert_array_equal(a.g_pos_s, again.g_pos_s)
    assert not np.array_equal(a.g_pos_s, other.g_pos_s)
    assert 0.01 < a.errors["rms_error_rel"] < 0.3


def test_bad_inputs() -> None:
    w, b = _layer()
    w[3, 4] = np.nan
    with pytest.raises(ModelParameterError, match="NaN"):
        map_layer(w, b, get_synapse_device("ideal"))
    with pytest.raises(ModelParameterError, match="unknown synapse device"):
        get_synapse_device("memristor")
    with pytest.raises(ModelParameterError, match="exactly 2 levels"):
        get_synapse_device("mtj", levels=4)
    assert set(SYNAPSE_DEVICES) == {"ideal", "mtj", "dw-mtj", "cogd"}
