r"""Two-wall DW-MTJ integrate-and-fire neuron with automatic reset (paper 004).

A domain bounded by two walls is written under MTJ_A, driven along the track
by current pulses (spin-transfer torque) and read by MTJ_B; it fires when it
arrives under MTJ_B and resets itself by leaving the track, after which a new
domain is written under MTJ_A -- no reset current.

**Wall velocity** (1D model, paper 004)::

    v = gamma_e Delta mu0 H_eff / alpha + g mu_B P j / (2 e M_sat)

with M_sat = 8e5 A/m, P = 0.7, alpha = 0.05, Delta = 9.7 nm, a track
w = 25 nm wide and d = 1.5 nm thick (paper 004 parameter table); j = I/(w d).
At j = 1e11 A/m^2, v = 5.07 m/s.

**Stochasticity** (paper 004): ``dx = v dt N(1, sigma)``, sigma = 0.3.  The
paper applies one factor per model step; with its dt = 0.1 ns the 500 factors
of a 50 ns pulse average out (pulse-count std ~0.05 pulses) and could not
produce the measured spread of Fig. 5a.  spinspice holds one factor for
``noise_interval_s`` (default: one pulse period, 100 ns), which gives a
pulse-count std of about sigma sqrt(N) = 1.0 / 1.8 pulses at the 12 / 35
pulse thresholds, as in Fig. 5b; set ``noise_interval_s = 0.1n`` for the
literal per-step reading.  The factors are drawn from a seed and fed both to
torch and, as a piece-wise constant source, to ngspice: the same seed gives
the same run in both.

**State and read-out.**  ``u = x / L_track`` is the leading-wall position;
the domain occupies ``[x - l, x]`` (``l`` = MTJ length = domain length).
MTJ_A covers ``[0, l]`` and MTJ_B ``[x_B, x_B + l]``; each junction's
resistance goes from R_P to R_AP with the (smoothly clipped, triangular)
overlap of the domain.  R_P/R_AP = 1650/1930 ohm (paper 004; R_B's AP value
assumes the same TMR as R_A).

**Auto-reset.**  When the trailing wall leaves the track (``x >= L + l``) a
flag state ``f`` (a Schmitt switch) sets; while it is set the domain is
re-written under MTJ_A (``u`` relaxes to ``l/L`` with ``tau_renucleate``),
and the flag clears once the new domain sits under MTJ_A.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import sympy as sp

from spinspice.errors import ModelParameterError
from spinspice.models.compact import CompactModel, Contribution, Variable
from spinspice.models.expr import Equation, node_voltage, smooth_clip, symbols
from spinspice.models.params import ParamSet, param
from spinspice.models.schmitt import SCHMITT_RATE, sharp_step

__all__ = [
    "FLAG_RHS",
    "FLAG_SHARPNESS",
    "MTJ_A_RESISTANCE",
    "MTJ_B_RESISTANCE",
    "POSITION_RHS",
    "VELOCITY",
    "DWMTJParams",
    "compact_model",
    "flag_values",
    "noise_factors",
    "pulse_counts_to_fire",
]

PAPER4 = "paper 004"
GAMMA_E = 1.76085963e11  # rad/(s T), electron gyromagnetic ratio
MU0 = 4e-7 * math.pi
G_LANDE = 2.00231930436
MU_B = 9.2740100783e-24  # J/T
E_CHARGE = 1.602176634e-19  # C
#: sharpness of the flag -> motion switch (same role as the comparator drive edge)
FLAG_SHARPNESS = 0.002


@dataclasses.dataclass(frozen=True)
class DWMTJParams(ParamSet):
    title = "auto-reset DW-MTJ integrate-and-fire neuron (paper 004)"

    m_sat_a_per_m: float = param(
        8e5,
        unit="A/m",
        desc="saturation magnetisation M_sat",
        source=f"{PAPER4} parameter table",
        lo=0.0,
        lo_open=True,
    )
    p_spin: float = param(
        0.7, unit="1", desc="spin polarisation P", source=f"{PAPER4} parameter table", lo=0.0, hi=1.0
    )
    alpha_damping: float = param(
        0.05, unit="1", desc="Gilbert damping alpha", source=f"{PAPER4} parameter table", lo=0.0, lo_open=True
    )
    delta_dw_m: float = param(
        9.7e-9,
        unit="m",
        desc="domain-wall width Delta",
        source=f"{PAPER4} parameter table",
        lo=0.0,
        lo_open=True,
    )
    track_width_m: float = param(
        25e-9, unit="m", desc="track width w", source=f"{PAPER4} parameter table", lo=0.0, lo_open=True
    )
    track_thickness_m: float = param(
        1.5e-9, unit="m", desc="track thickness d", source=f"{PAPER4} parameter table", lo=0.0, lo_open=True
    )
    h_eff_a_per_m: float = param(
        0.0,
        unit="A/m",
        desc="effective field along the wall motion",
        source=f"{PAPER4} (field-free integration)",
    )
    sigma: float = param(
        0.3,
        unit="1",
        desc="std of the velocity factor N(1, sigma)",
        source=f"{PAPER4} (sigma = 0.3)",
        lo=0.0,
        hi=2.0,
    )
    noise_interval_s: float = param(
        100e-9,
        unit="s",
        desc="time one random factor is held",
        source="modelling choice (one per 100 ns pulse period; module doc)",
        lo=1e-12,
    )
    dt_s: float = param(
        0.1e-9,
        unit="s",
        desc="model time step (torch stepping)",
        source=f"{PAPER4} parameter table (dt 0.1 ns)",
        lo=1e-15,
        lo_open=True,
    )
    l_mtj_m: float = param(
        50e-9,
        unit="m",
        desc="MTJ length along the track = domain length",
        source="modelling choice (scaled device)",
        lo=0.0,
        lo_open=True,
    )
    x_b_m: float = param(
        2.3575e-6,
        unit="m",
        desc="start of MTJ_B along the track",
        source="modelling choice: fires after ~12 pulses (Fig. 5b)",
        lo=0.0,
        lo_open=True,
    )
    l_margin_m: float = param(50e-9, unit="m", desc="track beyond MTJ_B", source="modelling choice", lo=0.0)
    tau_renucleate_s: float = param(
        2e-9,
        unit="s",
        desc="time to re-write a domain under MTJ_A",
        source="modelling choice",
        lo=1e-13,
        hi=1e-6,
    )
    k_overlap: float = param(
        0.01, unit="1", desc="smoothness of the overlap clip", source="modelling choice", lo=1e-4, hi=0.1
    )
    r_p_a_ohm: float = param(
        1650.0,
        unit="ohm",
        desc="MTJ_A parallel resistance",
        source=f"{PAPER4} (R_A = 1650 ohm)",
        lo=0.0,
        lo_open=True,
    )
    r_ap_a_ohm: float = param(
        1930.0,
        unit="ohm",
        desc="MTJ_A antiparallel resistance",
        source=f"{PAPER4} (R_A switches to 1930 ohm)",
        lo=0.0,
        lo_open=True,
    )
    r_p_b_ohm: float = param(
        1650.0,
        unit="ohm",
        desc="MTJ_B parallel resistance",
        source="SPEC 3.4 (1650/1930 ohm)",
        lo=0.0,
        lo_open=True,
    )
    r_ap_b_ohm: float = param(
        1930.0,
        unit="ohm",
        desc="MTJ_B antiparallel resistance",
        source="SPEC 3.4 (1650/1930 ohm)",
        lo=0.0,
        lo_open=True,
    )
    rho_track_ohm_m: float = param(
        1.0e-6,
        unit="ohm m",
        desc="track resistivity",
        source="modelling choice (Ta/CoFeB)",
        lo=0.0,
        lo_open=True,
    )

    def _check(self) -> None:
        if self.x_b_m <= self.l_mtj_m:
            raise ModelParameterError(
                f"x_b_m = {self.x_b_m:g} m must exceed l_mtj_m = {self.l_mtj_m:g} m (MTJ_B after MTJ_A)"
            )
        for mtj in ("a", "b"):
            r_p, r_ap = getattr(self, f"r_p_{mtj}_ohm"), getattr(self, f"r_ap_{mtj}_ohm")
            if r_ap <= r_p:
                raise ModelParameterError(
                    f"r_ap_{mtj}_ohm = {r_ap:g} ohm must exceed r_p_{mtj}_ohm = {r_p:g} ohm "
                    f"(MTJ_{mtj.upper()}: R_AP > R_P)"
                )

    # -- derived geometry ---------------------------------------------------------
    @property
    def l_track_m(self) -> float:
        return self.x_b_m + self.l_mtj_m + self.l_margin_m

    @property
    def area_m2(self) -> float:
        return self.track_width_m * self.track_thickness_m

    @property
    def r_track_ohm(self) -> float:
        return self.rho_track_ohm_m * self.l_track_m / self.area_m2

    @property
    def u_start(self) -> float:
        """Normalised position of a freshly written domain (under MTJ_A)."""
        return self.l_mtj_m / self.l_track_m

    @property
    def u_exit(self) -> float:
        """Normalised position at which the trailing wall leaves the track."""
        return (self.l_track_m + self.l_mtj_m) / self.l_track_m

    @property
    def u_rearm(self) -> float:
        return 1.5 * self.l_mtj_m / self.l_track_m

    @property
    def v_per_j(self) -> float:
        """Spin-transfer velocity per current density [m/s per A/m^2]."""
        return float(VELOCITY(1.0, 0.0, 1.0, params={**self.values(), "h_eff_a_per_m": 0.0}))

    def current_a(self, j_a_per_m2: float) -> float:
        return j_a_per_m2 * self.area_m2

    def x_b_for_pulses(self, n_pulses: float, j_a_per_m2: float, t_on_s: float) -> float:
        """MTJ_B position that fires, without noise, in the middle of pulse ``n_pulses``."""
        step = self.v_per_j * j_a_per_m2 * t_on_s
        return (n_pulses - 0.5) * step + self.l_mtj_m / 2


# --- equations ----------------------------------------------------------------
_j, _h, _nz, _u, _f = symbols(["j_a_per_m2", "h_a_per_m", "nz", "u", "f"])
_ms, _p, _al, _dl = symbols(["m_sat_a_per_m", "p_spin", "alpha_damping", "delta_dw_m"])

#: wall velocity [m/s]: inputs (J, H, noise factor)
VELOCITY = Equation(
    name="dwmtj_velocity",
    expr=_nz * (GAMMA_E * _dl * MU0 * _h / _al + G_LANDE * MU_B * _p * _j / (2 * E_CHARGE * _ms)),
    inputs=(_j, _h, _nz),
    params=(_ms, _p, _al, _dl),
    unit="m/s",
    doc="v = N (gamma_e Delta mu0 H/alpha + g mu_B P j/(2 e M_sat)) (paper 004) [m/s]",
)

_v, _lt, _u0, _tr = symbols(["v_m_per_s", "l_track_m", "u_start", "tau_renucleate_s"])

#: du/dt [1/s]: wall motion, or re-nucleation under MTJ_A while the flag is set
POSITION_RHS = Equation(
    name="dwmtj_dudt",
    expr=(1 - sharp_step(_f, FLAG_SHARPNESS)) * _v / _lt + sharp_step(_f, FLAG_SHARPNESS) * (_u0 - _u) / _tr,
    inputs=(_u, _f, _v),
    params=(_lt, _u0, _tr),
    unit="1/s",
    doc="du/dt: v/L while a domain travels, (u_start - u)/tau_renucleate while it is re-written [1/s]",
)

#: df/dt [1/s] of the auto-reset flag: sets at u_exit, clears at u_rearm
FLAG_RHS = Equation(
    name="dwmtj_dfdt",
    expr=SCHMITT_RATE.expr.xreplace({SCHMITT_RATE.inputs[0]: _u, SCHMITT_RATE.inputs[1]: _f}),
    inputs=(_u, _f),
    params=SCHMITT_RATE.params,
    unit="1/s",
    doc="auto-reset flag: a Schmitt switch on the wall position [1/s]",
)


def _overlap(center_m: sp.Expr) -> sp.Expr:
    """Smooth triangular overlap of the domain [x - l, x] with an MTJ ending at ``center_m``."""
    x = _u * _lt
    l_mtj, k = symbols(["l_mtj_m", "k_overlap"])
    return smooth_clip(1 - sp.Abs(x - center_m) / l_mtj, 0, 1, k)


_lm, _xb, _kov = symbols(["l_mtj_m", "x_b_m", "k_overlap"])
_rpa, _rapa, _rpb, _rapb = symbols(["r_p_a_ohm", "r_ap_a_ohm", "r_p_b_ohm", "r_ap_b_ohm"])

MTJ_A_RESISTANCE = Equation(
    name="dwmtj_r_a",
    expr=_rpa + (_rapa - _rpa) * _overlap(_lm),
    inputs=(_u,),
    params=(_rpa, _rapa, _lt, _lm, _kov),
    unit="ohm",
    doc="MTJ_A resistance: R_P + (R_AP - R_P) * overlap of the domain with MTJ_A [ohm]",
)

MTJ_B_RESISTANCE = Equation(
    name="dwmtj_r_b",
    expr=_rpb + (_rapb - _rpb) * _overlap(_xb + _lm),
    inputs=(_u,),
    params=(_rpb, _rapb, _lt, _lm, _xb, _kov),
    unit="ohm",
    doc="MTJ_B resistance: R_P + (R_AP - R_P) * overlap of the domain with MTJ_B [ohm]",
)


def equation_values(p: DWMTJParams, **extra: float) -> dict[str, float]:
    """Every parameter the DW-MTJ equations read, derived ones included."""
    return {**p.values(), "l_track_m": p.l_track_m, "u_start": p.u_start, **extra}


def flag_values(
    p: DWMTJParams, *, width: float = 1e-4, tau_s: float = 1e-9, k_hyst: float = 0.05
) -> dict[str, float]:
    """Parameters of the auto-reset flag (:data:`FLAG_RHS`): sets at ``u_exit``, clears at ``u_rearm``."""
    return {
        "v_hi_v": p.u_exit,
        "v_lo_v": p.u_rearm,
        "width_comp_v": width,
        "tau_comp_s": tau_s,
        "k_hyst": k_hyst,
    }


# --- stochastic drive ------------------------------------------------------------
def noise_factors(p: DWMTJParams, duration_s: float, seed: int) -> np.ndarray:
    """The seeded velocity factors N(1, sigma), one per ``noise_interval_s``."""
    n = math.ceil(duration_s / p.noise_interval_s) + 1
    return np.random.default_rng(seed).normal(1.0, p.sigma, n)


def pulse_counts_to_fire(
    p: DWMTJParams,
    j_a_per_m2: float,
    t_on_s: float,
    period_s: float,
    seeds: np.ndarray,
    *,
    max_pulses: int = 200,
    backend: str = "torch",
) -> np.ndarray:
    """Pulses until the domain of a fresh cycle reaches MTJ_B (``phi_B`` >= 1/2), per seed.

    Vectorised over seeds (torch by default).  Each pulse moves the wall by
    ``v j t_on N_k``, with ``N_k`` the factor held during pulse ``k`` (the
    same factors ngspice receives for the same seed); pulses past
    ``max_pulses`` count as ``max_pulses + 1``.  Assumes ``noise_interval_s ==
    period_s`` (one factor per pulse, the default).
    """
    if not math.isclose(p.noise_interval_s, period_s, rel_tol=1e-9):
        raise ModelParameterError(
            "pulse_counts_to_fire needs noise_interval_s equal to the pulse period "
            f"({p.noise_interval_s:g} s vs {period_s:g} s); simulate the circuit for other settings"
        )
    factors = np.stack([noise_factors(p, (max_pulses + 1) * period_s, int(s))[:max_pulses] for s in seeds])
    step = p.v_per_j * j_a_per_m2 * t_on_s
    d_fire = p.x_b_m - p.l_mtj_m / 2  # from the start under MTJ_A to half overlap with MTJ_B
    xp: Any
    if backend == "torch":
        import torch

        xp = torch
        travel = torch.cumsum(torch.as_tensor(factors, dtype=torch.float64) * step, dim=1)
        reached = travel >= d_fire
        first = torch.where(
            reached.any(dim=1), reached.float().argmax(dim=1) + 1, torch.full((len(seeds),), max_pulses + 1)
        )
        return first.numpy().astype(int)
    xp = np
    travel = xp.cumsum(factors * step, axis=1)
    reached = travel >= d_fire
    return np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, max_pulses + 1)


def compact_model(p: DWMTJParams, flag: dict[str, float]) -> CompactModel:
    """4-terminal DW-MTJ: track ``(t1, t2)``, MTJs ``a``/``b`` to ground, noise input ``nz``.

    Internal nodes ``u`` (wall position / L) and ``f`` (auto-reset flag).
    ``flag`` holds the Schmitt parameters of the auto-reset flag.
    """
    vt, vu, vf, vnz = node_voltage("t1", "t2"), node_voltage("u"), node_voltage("f"), node_voltage("nz")
    va, vb = node_voltage("a"), node_voltage("b")
    rt, area, j, vel, du, df, ra, rb = symbols(
        [
            "r_track_ohm",
            "area_m2",
            "j_a_per_m2",
            "v_m_per_s",
            "dudt_per_s",
            "dfdt_per_s",
            "r_a_ohm",
            "r_b_ohm",
        ]
    )
    infos = {i.name: i for i in DWMTJParams.param_info()}
    used = [
        s.name
        for s in (*VELOCITY.params, *MTJ_A_RESISTANCE.params, *MTJ_B_RESISTANCE.params, *POSITION_RHS.params)
        if s.name in infos
    ]
    used += ["h_eff_a_per_m", "tau_renucleate_s"]
    names = list(dict.fromkeys(used))
    derived = {
        "l_track_m": p.l_track_m,
        "u_start": p.u_start,
        "r_track_ohm": p.r_track_ohm,
        "area_m2": p.area_m2,
        **flag,
    }
    values = {**{n: float(getattr(p, n)) for n in names}, **derived}
    from spinspice.models.params import ParamInfo

    extra = tuple(
        ParamInfo(
            name=k,
            unit="",
            desc="derived (see spinspice.models.dwmtj)",
            source="derived",
            lo=None,
            hi=None,
            lo_open=False,
            hi_open=False,
            default=v,
            kind=float,
        )
        for k, v in derived.items()
    )
    return CompactModel(
        name="spinspice_dwmtj",
        doc="Two-wall DW-MTJ integrate-and-fire neuron with automatic reset (paper 004).",
        ports=("t1", "t2", "a", "b", "nz"),
        internal=("u", "f"),
        params=(*(infos[n] for n in names), *extra),
        values=tuple(values.items()),
        variables=(
            Variable("j_a_per_m2", vt / rt / area, "A/m^2", "current density along the track"),
            Variable(
                "v_m_per_s",
                VELOCITY.expr.xreplace({_j: j, _h: sp.Symbol("h_eff_a_per_m", real=True), _nz: vnz}),
                "m/s",
                VELOCITY.doc,
            ),
            Variable(
                "dudt_per_s", POSITION_RHS.expr.xreplace({_u: vu, _f: vf, _v: vel}), "1/s", POSITION_RHS.doc
            ),
            Variable("dfdt_per_s", FLAG_RHS.expr.xreplace({_u: vu, _f: vf}), "1/s", FLAG_RHS.doc),
            Variable("r_a_ohm", MTJ_A_RESISTANCE.expr.xreplace({_u: vu}), "ohm", MTJ_A_RESISTANCE.doc),
            Variable("r_b_ohm", MTJ_B_RESISTANCE.expr.xreplace({_u: vu}), "ohm", MTJ_B_RESISTANCE.doc),
        ),
        contributions=(
            Contribution("t1", "t2", vt / rt),
            Contribution("u", None, -du),
            Contribution("u", None, vu, ddt=True),
            Contribution("f", None, -df),
            Contribution("f", None, vf, ddt=True),
            Contribution("a", None, va / ra),
            Contribution("b", None, vb / rb),
        ),
    )
