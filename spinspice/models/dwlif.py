r"""Domain-wall leaky-integrate-and-fire neuron (paper 001, Eq. 4-6).

State: the normalised free-layer magnetisation ``m`` (the membrane
potential), driven by the current density ``J`` flowing T1 -> T2 along the
track::

    dm/dt = f(m, J) = -alpha m^2 + beta + gamma J            (Eq. 4)

with alpha = -1.549 1/s, beta = -1e7 1/s, gamma = 1.039e-3 m^2/(A s),
J = 1e11 A/m^2 during write pulses and threshold m_th = 0.75.  With these
numbers ``-alpha m^2`` is negligible, the ON rate is +9.39e7 1/s and the OFF
leak -1e7 1/s: from rest (m = 0) the threshold is reached after 16.8 ns at
500 MHz and 27.9 ns at 333 MHz (paper: ~16 ns and ~27 ns).

**Saturation.**  The raw equation runs past |m| = 1, which a normalised
magnetisation cannot.  spinspice splits the drift smoothly into its rising
and falling parts, ``f+ = (f + sqrt(f^2 + eps^2))/2`` and ``f- = f - f+``,
and damps each one only near the wall it pushes towards::

    dm/dt = f+ tanh((m_max - m)/k_sat) + f- tanh((m - m_min)/k_sat)

Inside (-1, 1) the factors are 1 to better than 1e-8 at |m| <= 0.9
(k_sat = 0.01), so the paper's dynamics are untouched; at m = m_max a rising
drive stops while a falling one acts at full strength, so the state never
sticks to a wall.  The expression is smooth (C-infinity) and *bounded* for
any m, which matters: a Newton iterate that strays outside [-1, 1] must not
meet an exponential (``1 - exp(...)`` saturation overflowed in ngspice).

**Reset rule** (what the circuit does, paper 001 Fig. 5): when m reaches
m_th the comparator fires and the reset NMOS drives a current T2 -> T1, a
current density ``-j_reset``, until m is back at ``m_reset`` (the
comparator's lower threshold, rest by default); during that time the input
is steered away from the track.  Spike width and refractory time are
therefore ``(m_th - m_reset)/|dm/dt|`` and come out of the circuit.

**Geometry** (for currents, resistance and energy): a 256 x 64 nm track of
20 x [Ta 5 nm / CoFeB 1 nm / MgO 2 nm] (paper 001, micromagnetic device and
Methods; the CoFeB thickness x is not given there, 1 nm is the usual PMA
value).  J is the mean current density over the conducting metal
(Ta + CoFeB, 120 nm): I = J w t_metal.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import sympy as sp

from spinspice.errors import ModelParameterError
from spinspice.models.compact import CompactModel, Contribution, Variable
from spinspice.models.expr import Equation, node_voltage, symbols
from spinspice.models.mtj import MTJParams, cosine_variables, resistance_equation
from spinspice.models.params import ParamSet, param

__all__ = [
    "AREA",
    "DWLIF_RHS",
    "R_TRACK",
    "SHARP_K_SAT",
    "DWLIFParams",
    "DWLIFState",
    "compact_model",
    "dmdt",
    "step",
]

PAPER1 = "paper 001"

#: k_sat of the sharp-wall limit the network neurons use (the smallest allowed value)
SHARP_K_SAT = 1e-4


@dataclasses.dataclass(frozen=True)
class DWLIFParams(ParamSet):
    """Parameters of the DW-LIF device (paper 001)."""

    title = "DW-LIF neuron device (paper 001 Eq. 4)"

    alpha_per_s: float = param(
        -1.549,
        unit="1/s",
        desc="quadratic leak coefficient alpha_D",
        source=f"{PAPER1} Eq. 4 (alpha = -1.549)",
    )
    beta_per_s: float = param(
        -1e7,
        unit="1/s",
        desc="constant drift beta_D (leak when no current flows)",
        source=f"{PAPER1} Eq. 4 (beta = -1e7)",
    )
    gamma_m2_per_a_s: float = param(
        1.039e-3,
        unit="m^2/(A s)",
        desc="write efficiency gamma_D",
        source=f"{PAPER1} Eq. 4 (gamma = 1.039e-3)",
        lo=0.0,
        lo_open=True,
    )
    m_th: float = param(
        0.75,
        unit="1",
        desc="firing threshold of the membrane state",
        source=f"{PAPER1} Eq. 4 text (threshold = 0.75)",
        lo=-1.0,
        hi=1.0,
        lo_open=True,
        hi_open=True,
    )
    m_rest: float = param(
        0.0,
        unit="1",
        desc="initial (rest) membrane state",
        source="SPEC 3.2 (rest m = 0 reproduces 16.8/27.9 ns)",
        lo=-1.0,
        hi=1.0,
        lo_open=True,
        hi_open=True,
    )
    m_reset: float = param(
        0.0,
        unit="1",
        desc="state at which the reset releases (comparator lower threshold)",
        source=f"{PAPER1} (reset to rest); modelling choice",
        lo=-1.0,
        hi=1.0,
        lo_open=True,
        hi_open=True,
    )
    j_reset_a_per_m2: float = param(
        3e11,
        unit="A/m^2",
        desc="reset current density T2 -> T1 while the neuron fires",
        source=f"{PAPER1} (negative reset pulse); value a modelling choice",
        lo=0.0,
        lo_open=True,
    )
    m_max: float = param(
        1.0,
        unit="1",
        desc="upper saturation of m",
        source="SPEC 3.2 (|m| <= 1)",
        lo=0.0,
        hi=1.0,
        lo_open=True,
    )
    m_min: float = param(
        -1.0,
        unit="1",
        desc="lower saturation of m",
        source="SPEC 3.2 (|m| <= 1)",
        lo=-1.0,
        hi=0.0,
        hi_open=True,
    )
    k_sat: float = param(
        0.01,
        unit="1",
        desc="width of the smooth saturation near m_min/m_max",
        source="modelling choice",
        lo=1e-4,
        hi=0.1,
    )
    eps_rate_per_s: float = param(
        1e4,
        unit="1/s",
        desc="smoothing of the rising/falling split of dm/dt",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
    )
    track_length_m: float = param(
        256e-9,
        unit="m",
        desc="track length T1 -> T2",
        source=f"{PAPER1} (256 x 64 nm^2)",
        lo=0.0,
        lo_open=True,
    )
    track_width_m: float = param(
        64e-9,
        unit="m",
        desc="track width",
        source=f"{PAPER1} (256 x 64 nm^2)",
        lo=0.0,
        lo_open=True,
    )
    n_repeats: float = param(
        20.0,
        unit="1",
        desc="number of [Ta/CoFeB/MgO] repeats",
        source=f"{PAPER1} Methods (x20)",
        lo=1.0,
    )
    t_ta_m: float = param(
        5e-9,
        unit="m",
        desc="Ta thickness per repeat",
        source=f"{PAPER1} Methods (Ta 5 nm)",
        lo=0.0,
    )
    t_cofeb_m: float = param(
        1e-9,
        unit="m",
        desc="CoFeB thickness per repeat",
        source=f"{PAPER1} Methods (x not given); 1 nm modelling choice",
        lo=0.0,
    )
    rho_ta_ohm_m: float = param(
        1.9e-6,
        unit="ohm m",
        desc="resistivity of (beta-)Ta",
        source="typical literature value (190 uOhm cm); modelling choice",
        lo=0.0,
        lo_open=True,
    )
    rho_cofeb_ohm_m: float = param(
        1.6e-6,
        unit="ohm m",
        desc="resistivity of CoFeB",
        source="typical literature value (160 uOhm cm); modelling choice",
        lo=0.0,
        lo_open=True,
    )

    def _check(self) -> None:
        if not self.m_min < self.m_reset < self.m_th < self.m_max:
            raise ModelParameterError(
                f"need m_min < m_reset < m_th < m_max, got {self.m_min:g} < {self.m_reset:g} "
                f"< {self.m_th:g} < {self.m_max:g}"
            )
        if not self.m_min < self.m_rest < self.m_th:
            raise ModelParameterError(
                f"m_rest = {self.m_rest:g} must lie in (m_min, m_th) = ({self.m_min:g}, {self.m_th:g})"
            )
        if self.t_ta_m + self.t_cofeb_m <= 0:
            raise ModelParameterError("t_ta_m + t_cofeb_m must be > 0 (no conducting layer)")

    # -- derived geometry (one definition each: the Equations below) -------
    @property
    def t_metal_m(self) -> float:
        """Conducting thickness of the stack (Ta + CoFeB, all repeats)."""
        return self.n_repeats * (self.t_ta_m + self.t_cofeb_m)

    @property
    def area_m2(self) -> float:
        """Cross-section that converts current to current density."""
        return float(AREA(params=self))

    @property
    def r_track_ohm(self) -> float:
        """T1-T2 resistance: Ta and CoFeB layers in parallel."""
        return float(R_TRACK(params=self))

    def current_a(self, j_a_per_m2: float) -> float:
        return j_a_per_m2 * self.area_m2


# --- the one symbolic definition -----------------------------------------
_len, _wid, _nrep, _tta, _tcfb, _rta, _rcfb = symbols(
    ["track_length_m", "track_width_m", "n_repeats", "t_ta_m", "t_cofeb_m", "rho_ta_ohm_m", "rho_cofeb_ohm_m"]
)

#: conducting cross-section of the track [m^2]
AREA = Equation(
    name="dwlif_area",
    expr=_wid * _nrep * (_tta + _tcfb),
    inputs=(),
    params=(_wid, _nrep, _tta, _tcfb),
    unit="m^2",
    doc="conducting cross-section w * n * (t_Ta + t_CoFeB) [m^2]",
)

#: T1-T2 track resistance [ohm]: Ta and CoFeB sheets in parallel
R_TRACK = Equation(
    name="dwlif_r_track",
    expr=_len / (_nrep * _wid * (_tta / _rta + _tcfb / _rcfb)),
    inputs=(),
    params=(_len, _wid, _nrep, _tta, _tcfb, _rta, _rcfb),
    unit="ohm",
    doc="track resistance L / (n w (t_Ta/rho_Ta + t_CoFeB/rho_CoFeB)) [ohm]",
)

_m, _j = symbols(["m", "j_a_per_m2"])
_alpha, _beta, _gamma, _mmax, _mmin, _ksat, _eps = symbols(
    ["alpha_per_s", "beta_per_s", "gamma_m2_per_a_s", "m_max", "m_min", "k_sat", "eps_rate_per_s"]
)


def _rhs_expr() -> sp.Expr:
    f = -_alpha * _m**2 + _beta + _gamma * _j
    root = sp.sqrt(f**2 + _eps**2)
    f_up = (f + root) / 2
    f_down = (f - root) / 2
    w_up = sp.tanh((_mmax - _m) / _ksat)
    w_down = sp.tanh((_m - _mmin) / _ksat)
    return f_up * w_up + f_down * w_down


#: dm/dt [1/s] of the DW-LIF neuron: inputs (m, J [A/m^2]).
DWLIF_RHS = Equation(
    name="dwlif_dmdt",
    expr=_rhs_expr(),
    inputs=(_m, _j),
    params=(_alpha, _beta, _gamma, _mmax, _mmin, _ksat, _eps),
    unit="1/s",
    doc="dm/dt of the DW-LIF neuron (paper 001 Eq. 4) with smooth saturation [1/s].",
)


def compact_model(p: DWLIFParams, mtj: MTJParams) -> CompactModel:
    """The DW-LIF device with its read MTJ as one 4-terminal compact model.

    Terminals: ``t1``/``t2`` (write track), ``t3`` (MTJ top, read output) and
    ``b`` (MTJ reference).  Internal node ``m`` holds the state (1 F).
    """
    vm, vtrack, vmtj = node_voltage("m"), node_voltage("t1", "t2"), node_voltage("t3", "b")
    area, rtr, jsym, dm, rm = symbols(["area_m2", "r_track_ohm", "j_a_per_m2", "dmdt_per_s", "r_mtj_ohm"])
    r_eq = resistance_equation(mtj)
    infos = {i.name: i for i in (*DWLIFParams.param_info(), *MTJParams.param_info())}
    values = {**p.values(), **mtj.values()}
    return CompactModel(
        name="spinspice_dwlif",
        doc=(
            "DW-LIF neuron with MTJ read-out (paper 001 Eq. 2 and 4).\n"
            "t1 -> t2: write track; t3 -> b: read MTJ; internal node m: membrane state (1 F)."
        ),
        ports=("t1", "t2", "t3", "b"),
        internal=("m",),
        params=(
            *(infos[s.name] for s in (*R_TRACK.params, *DWLIF_RHS.params, *r_eq.params) if s.name in infos),
            infos["r_rest_ohm"],
            infos["r_full_ohm"],
        ),
        values=tuple((k, float(v)) for k, v in values.items() if not isinstance(v, bool)),
        variables=(
            Variable("area_m2", AREA.expr, "m^2", AREA.doc),
            *cosine_variables(),
            Variable("r_track_ohm", R_TRACK.expr, "ohm", R_TRACK.doc),
            Variable("j_a_per_m2", vtrack / rtr / area, "A/m^2", "current density T1 -> T2"),
            Variable("dmdt_per_s", DWLIF_RHS.expr.xreplace({_m: vm, _j: jsym}), "1/s", DWLIF_RHS.doc),
            Variable(
                "r_mtj_ohm", r_eq.expr.xreplace({r_eq.inputs[0]: vm, r_eq.inputs[1]: vmtj}), "ohm", r_eq.doc
            ),
        ),
        contributions=(
            Contribution("t1", "t2", vtrack / rtr),
            Contribution("m", None, -dm),
            Contribution("m", None, vm, ddt=True),
            Contribution("t3", "b", vmtj / rm),
        ),
    )


def dmdt(m: Any, j_a_per_m2: Any, p: DWLIFParams, backend: str = "numpy") -> Any:
    """Evaluate dm/dt (numpy arrays or torch tensors)."""
    return DWLIF_RHS(m, j_a_per_m2, params=p, backend=backend)


# --- explicit-state step (numpy or torch) -----------------------------------
@dataclasses.dataclass(frozen=True)
class DWLIFState:
    """Explicit neuron state: membrane ``m`` and ``firing`` (1 while resetting)."""

    m: Any
    firing: Any

    @staticmethod
    def rest(
        p: DWLIFParams, shape: Sequence[int] = (), backend: str = "numpy", dtype: Any = None
    ) -> DWLIFState:
        """State at rest; torch tensors use ``dtype`` (default: torch's default dtype)."""
        if backend == "torch":
            import torch

            kw = {"dtype": dtype} if dtype is not None else {}
            return DWLIFState(torch.full(tuple(shape), p.m_rest, **kw), torch.zeros(tuple(shape), **kw))
        return DWLIFState(np.full(tuple(shape), p.m_rest), np.zeros(tuple(shape)))


def step(
    state: DWLIFState,
    j_in_a_per_m2: Any,
    p: DWLIFParams,
    dt_s: float,
    *,
    n_sub: int = 1,
    backend: str = "numpy",
) -> tuple[Any, DWLIFState]:
    """Advance ``dt_s`` with input J held constant; returns ``(spikes, state)``.

    ``n_sub`` RK4 sub-steps.  The reset rule is applied *inside* each
    sub-step: when m crosses m_th (or, while firing, m_reset) the crossing
    instant is located by linear interpolation and the rest of the sub-step
    is integrated with the other drive (``-j_reset`` while firing, the input
    otherwise), so event times are second-order accurate instead of being
    rounded to the sub-step.  ``spikes`` counts threshold crossings in the
    interval.  Works on numpy arrays or torch tensors alike (branch-free).
    """
    if n_sub < 1:
        raise ModelParameterError(f"n_sub = {n_sub} must be >= 1")
    xp = _namespace(backend)
    f = DWLIF_RHS.numeric(backend)
    pv = tuple(DWLIF_RHS.param_values(p).values())
    h = dt_s / n_sub
    j_rst = -p.j_reset_a_per_m2

    def rk4(m: Any, j: Any, dt: Any) -> Any:
        k1 = f(m, j, *pv)
        k2 = f(m + 0.5 * dt * k1, j, *pv)
        k3 = f(m + 0.5 * dt * k2, j, *pv)
        k4 = f(m + dt * k3, j, *pv)
        return m + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)

    m, firing = state.m, state.firing
    spikes = 0.0 * m
    for _ in range(n_sub):
        j = firing * j_rst + (1.0 - firing) * j_in_a_per_m2
        m1 = rk4(m, j, h)
        fire_now = (1.0 - firing) * (m1 >= p.m_th)
        release = firing * (m1 <= p.m_reset)
        event = fire_now + release
        # fraction of the sub-step before the crossing, and the level crossed
        level = fire_now * p.m_th + release * p.m_reset + (1.0 - event) * m1
        denom = xp.where(event > 0, m1 - m, 1.0)
        theta = xp.clip(xp.where(event > 0, (level - m) / denom, 1.0), 0.0, 1.0)
        j_after = fire_now * j_rst + release * j_in_a_per_m2
        rest = (1.0 - theta) * h
        m_mid = level + 0.5 * rest * f(level, j_after, *pv)
        m_after = level + rest * f(m_mid, j_after, *pv)  # midpoint rule for the remainder
        m = event * m_after + (1.0 - event) * m1
        spikes = spikes + fire_now
        firing = firing + fire_now - release
    return spikes, DWLIFState(m, firing)


def _namespace(backend: str) -> Any:
    if backend == "torch":
        import torch

        return torch
    return np
