r"""Magnetic-field gating of the DW-LIF neuron: the spintronic mem-transistor (paper 001).

A field line above each device row carries a current I_b; the device sees
``H = k_H I_b`` (``k_H`` in Oe/A, documented per preset).  The device
integrates only in an excitatory window of |H| (paper 001 Fig. 2-4): about
150-230 Oe, best 180-280 Oe at the largest write current; |H| < 100 Oe or
> 250 Oe inhibits; the negative-field window gives inverted polarity.  The
window gates the write efficiency of Eq. 4::

    dm/dt = -alpha m^2 + beta tanh((m - m_rest)/w) + gamma g(H, J) J

    g(H, J) = tanh(H / h_pol) S((|H| - H_lo)/h_e) S((H_hi - |H|)/h_e),    S = logistic
    H_lo,hi = H_c -/+ W(J)/2,    W(J) = W_ref ((J^2 + eps^2) / J_ref^2)^(kappa/2)

(eps = 1e-3 J_ref keeps the derivative finite at J = 0) so the window
narrows at low write current (the range of usable bias points shrinks from
15 mA to 6 mA, Fig. 3c-f) and the signal amplitude grows with
current through ``gamma J`` itself.  The constant leak of Eq. 4 (beta < 0)
would carry an idle device to m_min; the measured Hall bar relaxes back to
rest at either polarity (read-out ~0 at H = 0 and +-500 Oe, Fig. 2c-d), so
the gated model multiplies beta by ``tanh((m - m_rest)/w)``.  The shape parameters are modelling
choices fitted to the paper's qualitative description; ``spinspice
calibrate field-gated-lif`` refits them to measured traces.

**Comparator windows.**  The measured Hall-bar device fires when its read-out
reaches the paper's threshold windows (Fig. 4f): 17 +- 2.6 uV at 180 Oe,
28 +- 4.65 uV at 200 Oe, 37 +- 7.8 uV at 220 Oe; :func:`threshold_window`
interpolates them linearly in |H| (clamped outside 180-220 Oe).
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import sympy as sp

from spinspice.models.dwlif import DWLIF_RHS, DWLIFParams
from spinspice.models.expr import Equation, symbols
from spinspice.models.params import ParamSet, param

__all__ = [
    "FIELD_GATED_RHS",
    "FIELD_WINDOW",
    "GATED_RHS",
    "FieldGateParams",
    "FieldLineParams",
    "HallReadoutParams",
    "compact_model",
    "field_window",
    "state_map",
    "threshold_window",
]

PAPER1 = "paper 001"
FIT = "modelling choice fitted to paper 001 Fig. 2-3 (qualitative)"


@dataclasses.dataclass(frozen=True)
class FieldGateParams(ParamSet):
    """Shape of the excitatory field window g(H, J)."""

    title = "field gate g(H, J) (paper 001 Fig. 2-4)"

    h_center_oe: float = param(
        200.0,
        unit="Oe",
        desc="centre of the excitatory window",
        source=f"{PAPER1} (150-230 Oe, optimum 180-220 Oe)",
        lo=0.0,
        lo_open=True,
    )
    h_width_ref_oe: float = param(
        80.0, unit="Oe", desc="window width W at J = j_ref", source=FIT, lo=0.0, lo_open=True
    )
    j_ref_a_per_m2: float = param(
        5e10,
        unit="A/m^2",
        desc="current density where W = h_width_ref_oe",
        source=f"{PAPER1} (10 mA = 5e10 A/m^2)",
        lo=0.0,
        lo_open=True,
    )
    width_exponent: float = param(
        0.5, unit="1", desc="W(J) = W_ref (|J|/J_ref)^kappa", source=FIT, lo=0.0, hi=3.0
    )
    h_edge_oe: float = param(
        8.0, unit="Oe", desc="softness of the window edges", source=FIT, lo=0.1, hi=200.0
    )
    h_pol_oe: float = param(
        10.0,
        unit="Oe",
        desc="width of the polarity switch around H = 0",
        source=f"{PAPER1} (inverted polarity for negative field)",
        lo=0.01,
        hi=100.0,
    )
    leak_width: float = param(
        0.02,
        unit="1",
        desc="width of the leak's sign change at m_rest: beta -> beta tanh((m - m_rest)/w)",
        source=f"{PAPER1} Fig. 2-3 (read-out relaxes to rest at either polarity, ~0 at H = 0 and +-500 Oe); "
        "modelling choice",
        lo=1e-4,
        hi=1.0,
    )


@dataclasses.dataclass(frozen=True)
class FieldLineParams(ParamSet):
    """The field line that biases one device row."""

    title = "field line (paper 001 Fig. 1e)"

    h_bias_oe: float = param(
        200.0,
        unit="Oe",
        desc="bias field the line applies",
        source=f"{PAPER1} (180/200/220 Oe bias points)",
        lo=-2000.0,
        hi=2000.0,
    )
    k_h_oe_per_a: float = param(
        47.6e3,
        unit="Oe/A",
        desc="field per line current k_H",
        source="strip line 100 nm wide, 20 nm above the device: H = I atan(w/2d)/(pi w)",
        lo=0.0,
        lo_open=True,
    )
    r_line_ohm: float = param(
        1.7,
        unit="ohm",
        desc="line resistance over one cell",
        source="Cu, 0.5 um x 100 nm x 50 nm (modelling choice)",
        lo=0.0,
        lo_open=True,
    )

    @property
    def i_bias_a(self) -> float:
        return self.h_bias_oe / self.k_h_oe_per_a


@dataclasses.dataclass(frozen=True)
class HallReadoutParams(ParamSet):
    """Anomalous-Hall read-out of the measured mem-transistor and its comparator windows."""

    title = "Hall read-out and threshold windows (paper 001 Fig. 4)"

    use_hall_readout: bool = param(
        True,
        unit="1",
        desc="read by the Hall voltage (else by the MTJ divider)",
        source=f"{PAPER1} (Hall for the measured device, MTJ for the scaled one)",
    )
    v_hall_full_v: float = param(
        40e-6,
        unit="V",
        desc="Hall voltage at m = 1",
        source=f"{PAPER1} Fig. 2-3 (signals of 20-30 uV); modelling choice",
        lo=0.0,
        lo_open=True,
    )
    v_th_180_v: float = param(
        17e-6,
        unit="V",
        desc="threshold window centre at 180 Oe",
        source=f"{PAPER1} Fig. 4f (17 +- 2.6 uV)",
        lo=0.0,
    )
    sigma_180_v: float = param(
        2.6e-6, unit="V", desc="threshold window half-width at 180 Oe", source=f"{PAPER1} Fig. 4f", lo=0.0
    )
    v_th_200_v: float = param(
        28e-6,
        unit="V",
        desc="threshold window centre at 200 Oe",
        source=f"{PAPER1} Fig. 4f (28 +- 4.65 uV)",
        lo=0.0,
    )
    sigma_200_v: float = param(
        4.65e-6, unit="V", desc="threshold window half-width at 200 Oe", source=f"{PAPER1} Fig. 4f", lo=0.0
    )
    v_th_220_v: float = param(
        37e-6,
        unit="V",
        desc="threshold window centre at 220 Oe",
        source=f"{PAPER1} Fig. 4f (37 +- 7.8 uV)",
        lo=0.0,
    )
    sigma_220_v: float = param(
        7.8e-6, unit="V", desc="threshold window half-width at 220 Oe", source=f"{PAPER1} Fig. 4f", lo=0.0
    )
    r_hall_bar_ohm: float = param(
        1e3,
        unit="ohm",
        desc="resistance of the Hall read path",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
    )
    v_read_hall_v: float = param(
        0.7,
        unit="V",
        desc="read bias (0.7 mA through 1 kohm)",
        source=f"{PAPER1} Methods (0.7 mA read pulses)",
        lo=0.0,
        lo_open=True,
    )
    preamp_gain: float = param(
        1000.0,
        unit="1",
        desc="gain of the read op-amp before the comparator",
        source=f"{PAPER1} (read OP-AMP comparator); modelling choice",
        lo=1.0,
        hi=1e6,
    )


def threshold_window(p: HallReadoutParams, h_oe: float) -> tuple[float, float]:
    """(centre, half-width) of the comparator window at |H|, linear in 180-220 Oe."""
    fields = np.array([180.0, 200.0, 220.0])
    centre = np.interp(abs(h_oe), fields, [p.v_th_180_v, p.v_th_200_v, p.v_th_220_v])
    sigma = np.interp(abs(h_oe), fields, [p.sigma_180_v, p.sigma_200_v, p.sigma_220_v])
    return float(centre), float(sigma)


# --- equations ------------------------------------------------------------------
_h, _j = symbols(["h_oe", "j_a_per_m2"])
_hc, _wr, _jr, _kap, _he, _hp = symbols(
    ["h_center_oe", "h_width_ref_oe", "j_ref_a_per_m2", "width_exponent", "h_edge_oe", "h_pol_oe"]
)


def _logistic(x: sp.Expr) -> sp.Expr:
    return (1 + sp.tanh(x / 2)) / 2


def _window_expr() -> sp.Expr:
    # (J^2 + eps^2)^(kappa/2) rather than |J|^kappa: finite derivative at J = 0 (pulse edges)
    width = _wr * ((_j**2 + (_jr * sp.Rational(1, 1000)) ** 2) / _jr**2) ** (_kap / 2)
    h_abs = sp.Abs(_h)
    lo = _logistic((h_abs - (_hc - width / 2)) / _he)
    hi = _logistic(((_hc + width / 2) - h_abs) / _he)
    return sp.tanh(_h / _hp) * lo * hi


#: excitatory field window g(H, J), dimensionless in [-1, 1]
FIELD_WINDOW = Equation(
    name="field_window",
    expr=_window_expr(),
    inputs=(_h, _j),
    params=(_hc, _wr, _jr, _kap, _he, _hp),
    unit="1",
    doc="field gate g(H, J): excitatory window of |H| whose width grows with |J| [1]",
)

_gamma = next(s for s in DWLIF_RHS.params if s.name == "gamma_m2_per_a_s")
_beta = next(s for s in DWLIF_RHS.params if s.name == "beta_per_s")
_m = DWLIF_RHS.inputs[0]
_mrest, _wl = symbols(["m_rest", "leak_width"])


def _gated(expr: sp.Expr, m: sp.Expr, g: sp.Expr) -> sp.Expr:
    """Eq. 4 with gamma -> gamma g and the constant leak beta -> beta tanh((m - m_rest)/w)."""
    return expr.xreplace({_gamma: _gamma * g, _beta: _beta * sp.tanh((m - _mrest) / _wl)})


_g = symbols(["g_field"])[0]

#: dm/dt of the field-gated DW-LIF for a gate value g: :data:`FIELD_GATED_RHS` is this equation
#: with g = :data:`FIELD_WINDOW`.  The network neurons evaluate it in that split: with the field
#: and the current held over an RK4 step, the gate is the same in every stage and evaluated once.
GATED_RHS = Equation(
    name="gated_dmdt",
    expr=_gated(DWLIF_RHS.expr, _m, _g),
    inputs=(*DWLIF_RHS.inputs, _g),
    params=(*DWLIF_RHS.params, _mrest, _wl),
    unit="1/s",
    doc="dm/dt of the field-gated DW-LIF for the gate value g_field (paper 001 Eq. 4) [1/s]",
)

#: dm/dt of the field-gated DW-LIF: Eq. 4 with gamma -> gamma g(H, J), leak towards rest
FIELD_GATED_RHS = Equation(
    name="field_gated_dmdt",
    expr=GATED_RHS.expr.xreplace({_g: FIELD_WINDOW.expr}),
    inputs=(*DWLIF_RHS.inputs, _h),
    params=(*GATED_RHS.params, *FIELD_WINDOW.params),
    unit="1/s",
    doc="dm/dt of the field-gated DW-LIF (paper 001 Eq. 4, gamma gated by g(H, J), leak to rest) [1/s]",
)


def field_window(h_oe: np.ndarray | float, j_a_per_m2: np.ndarray | float, p: FieldGateParams) -> np.ndarray:
    """g(H, J) (numpy)."""
    h, j = np.broadcast_arrays(np.asarray(h_oe, float), np.asarray(j_a_per_m2, float))
    return np.asarray(FIELD_WINDOW(h, j, params=p), dtype=float)


def compact_model(base: Any, gate: FieldGateParams) -> Any:
    """The DW-LIF compact model with its write efficiency gated by g(H, J).

    Adds a field input port ``h`` (V(h) = H in kOe, as the ngspice field line
    provides it) and retrieves ``g_field``.
    """
    from spinspice.models.compact import CompactModel, Variable
    from spinspice.models.expr import node_voltage

    g_sym, j_sym = symbols(["g_field", "j_a_per_m2"])
    window = FIELD_WINDOW.expr.xreplace({_h: node_voltage("h") * 1000, _j: j_sym})
    variables = []
    for var in base.variables:
        if var.name == "dmdt_per_s":
            variables.append(Variable("g_field", window, "1", FIELD_WINDOW.doc))
            variables.append(
                dataclasses.replace(
                    var, expr=_gated(var.expr, node_voltage("m"), g_sym), doc=FIELD_GATED_RHS.doc
                )
            )
        else:
            variables.append(var)
    infos = {i.name: i for i in (*FieldGateParams.param_info(), *DWLIFParams.param_info())}
    extra = (_mrest, _wl, *FIELD_WINDOW.params)
    have = {i.name for i in base.params}
    return CompactModel(
        name="spinspice_field_gated_lif",
        doc="Field-gated DW-LIF mem-transistor (paper 001 Eq. 4, Fig. 2-4); V(h) = H in kOe.",
        ports=(*base.ports, "h"),
        internal=base.internal,
        params=(*base.params, *(infos[s.name] for s in extra if s.name not in have)),
        values=(*base.values, *((n, float(v)) for n, v in gate.values().items())),
        variables=tuple(variables),
        contributions=base.contributions,
    )


def state_map(
    device: Any,
    gate: FieldGateParams,
    fields_oe: np.ndarray,
    currents_a: np.ndarray,
    drive: Any,
    n_pulses: int,
    *,
    substeps: int = 8,
) -> np.ndarray:
    """Membrane state after each of ``n_pulses`` write pulses, for every field and current.

    Paper 001 Fig. 3c-f analogue: the open-loop device (no comparator, no
    reset) starts at rest and receives the pulse train ``drive`` (a
    :class:`~spinspice.models.waveforms.PulseTrain`, its amplitude replaced by
    each current over the track cross-section).  Classical RK4 with
    ``substeps`` steps between consecutive drive breakpoints (edges and
    plateaus), vectorised over fields.  Returns ``m`` of shape
    ``(len(currents), len(fields), n_pulses + 1)``, sampled at rest and at
    ``t_delay + k * period`` (just before pulse ``k + 1``).
    """
    f = FIELD_GATED_RHS.numeric("numpy")
    pv = tuple(FIELD_GATED_RHS.param_values({**device.values(), **gate.values()}).values())
    fields = np.asarray(fields_oe, dtype=float)
    samples = drive.t_delay_s + drive.period_s * np.arange(n_pulses + 1)
    t_stop = float(samples[-1])
    knots = np.union1d(np.union1d(drive.breakpoints(t_stop), samples), [0.0])
    out = np.empty((len(currents_a), len(fields), n_pulses + 1))
    for ci, current in enumerate(currents_a):
        wave = drive.replace(amplitude=current / device.area_m2)
        m = np.full_like(fields, device.m_rest)
        k = 0
        for t0, t1 in itertools.pairwise(knots):
            while k <= n_pulses and samples[k] <= t0 + 1e-15 * max(1.0, t_stop):
                out[ci, :, k] = m
                k += 1
            h = (t1 - t0) / substeps
            for n in range(substeps):
                t = t0 + n * h
                j0, jm, j1 = (float(wave.value(x)) for x in (t, t + h / 2, t + h))
                k1 = f(m, j0, fields, *pv)
                k2 = f(m + h / 2 * k1, jm, fields, *pv)
                k3 = f(m + h / 2 * k2, jm, fields, *pv)
                k4 = f(m + h * k3, j1, fields, *pv)
                m = m + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        while k <= n_pulses:
            out[ci, :, k] = m
            k += 1
    return out
