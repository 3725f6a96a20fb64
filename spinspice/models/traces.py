r"""Open-loop trace models: what a measured ``time, drive, readout`` trace obeys.

Each model's device equation (the same :class:`~spinspice.models.expr.Equation`
the circuits and the torch step use) is integrated under a sampled drive
(linear between samples) without comparator or reset -- a device on a probe
station.  :mod:`spinspice.experiments.calibrate` fits the free parameters of a
:class:`TraceModel` to a CSV trace.

=================  ======================  ===========================  ==========================
model              drive column            readout column               default free parameters
=================  ======================  ===========================  ==========================
dw-lif             J (A/m^2)               MTJ divider output V_out (V) gamma, beta
field-gated-lif    J (A/m^2) at H_bias     Hall voltage (V)             gamma, beta
saf-lif            SOT current I (A)       Hall read-out V (V)          tau_int, tau_leak, V_reset
dw-mtj-autoreset   J (A/m^2)               MTJ_B resistance (ohm)       P (velocity), R_AP of MTJ_B
cogd-sigmoid       current I (A)           Hall resistance (ohm)        X0, K, tau_sw
lif                input current I (A)     membrane voltage (V)         beta, C_mem
=================  ======================  ===========================  ==========================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from spinspice.errors import ModelParameterError, did_you_mean
from spinspice.models import cogd, dwlif, dwmtj, fieldgate, lif, mtj, saflif
from spinspice.models.params import ParamSet

__all__ = ["TRACE_MODELS", "TraceFunctions", "TraceModel", "get_trace_model"]


@dataclasses.dataclass(frozen=True)
class TraceFunctions:
    """Numeric open-loop dynamics for one set of parameter values."""

    y0: np.ndarray
    #: ``rhs(y, drive) -> dy/dt`` (numpy; ``y`` of shape ``(n_states,)``)
    rhs: Callable[[np.ndarray, float], np.ndarray]
    #: ``readout(y) -> readout`` (vectorised over the last axis of ``y``)
    readout: Callable[[np.ndarray], np.ndarray]
    #: absolute tolerance per state
    atol: np.ndarray


@dataclasses.dataclass(frozen=True)
class TraceModel:
    """One model's open-loop trace: parameter sets, free parameters and numeric functions."""

    name: str
    drive: str
    drive_unit: str
    readout: str
    readout_unit: str
    param_types: tuple[type[ParamSet], ...]
    free: tuple[str, ...]
    build: Callable[[Mapping[str, ParamSet]], TraceFunctions]
    #: quasi-random global starts the calibration tries by default (0: local fit only)
    starts: int = 0

    def param_sets(self, base: Sequence[ParamSet], values: Mapping[str, float]) -> dict[str, ParamSet]:
        """``base`` (one instance per type of :attr:`param_types`) with ``values`` applied, validated."""
        sets = {type(ps).__name__: ps for ps in base}
        missing = [t.__name__ for t in self.param_types if t.__name__ not in sets]
        if missing:  # pragma: no cover - programming error
            raise ModelParameterError(f"trace model {self.name}: missing parameter sets {missing}")
        owner = {n: k for k, ps in sets.items() for n in ps.param_names()}
        unknown = [n for n in values if n not in owner]
        if unknown:
            raise ModelParameterError(
                f"{self.name} has no parameter {unknown[0]!r}{did_you_mean(unknown[0], owner)}; "
                f"`spinspice models {self.name}` lists them"
            )
        changes: dict[str, dict[str, float]] = {}
        for n, v in values.items():
            changes.setdefault(owner[n], {})[n] = v
        return {k: (ps.replace(**changes[k]) if k in changes else ps) for k, ps in sets.items()}

    def functions(self, base: Sequence[ParamSet], values: Mapping[str, float]) -> TraceFunctions:
        return self.build(self.param_sets(base, values))

    def all_values(self, base: Sequence[ParamSet]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for ps in base:
            out.update(ps.values())
        return out


def _dwlif(s: Mapping[str, ParamSet]) -> TraceFunctions:
    p, m, div = s["DWLIFParams"], s["MTJParams"], s["ReadDividerParams"]
    f = dwlif.DWLIF_RHS.numeric("numpy")
    pv = tuple(dwlif.DWLIF_RHS.param_values(p).values())
    return TraceFunctions(
        y0=np.array([p.m_rest]),
        rhs=lambda y, j: np.array([f(y[0], j, *pv)]),
        readout=lambda y: np.asarray(mtj.divider_vout(y[0], m, div)),
        atol=np.array([1e-9]),
    )


def _field_gated(s: Mapping[str, ParamSet]) -> TraceFunctions:
    p, gate, line, hall = s["DWLIFParams"], s["FieldGateParams"], s["FieldLineParams"], s["HallReadoutParams"]
    f = fieldgate.FIELD_GATED_RHS.numeric("numpy")
    pv = tuple(fieldgate.FIELD_GATED_RHS.param_values({**p.values(), **gate.values()}).values())
    h = line.h_bias_oe
    return TraceFunctions(
        y0=np.array([p.m_rest]),
        rhs=lambda y, j: np.array([f(y[0], j, h, *pv)]),
        readout=lambda y: hall.v_hall_full_v * np.asarray(y[0]),
        atol=np.array([1e-9]),
    )


def _saflif(s: Mapping[str, ParamSet]) -> TraceFunctions:
    p = s["SAFLIFParams"]
    f = saflif.SAF_RHS.numeric("numpy")
    pv = tuple(saflif.SAF_RHS.param_values(p).values())
    return TraceFunctions(
        y0=np.array([p.v_reset_v]),
        rhs=lambda y, i: np.array([f(y[0], i, *pv)]),
        readout=lambda y: np.asarray(y[0]),
        atol=np.array([1e-12]),
    )


def _dwmtj(s: Mapping[str, ParamSet]) -> TraceFunctions:
    p = s["DWMTJParams"]
    values = dwmtj.equation_values(p, **dwmtj.flag_values(p))
    vel, du, df, rb = (
        (eq.numeric("numpy"), tuple(eq.param_values(values).values()))
        for eq in (dwmtj.VELOCITY, dwmtj.POSITION_RHS, dwmtj.FLAG_RHS, dwmtj.MTJ_B_RESISTANCE)
    )
    h = p.h_eff_a_per_m

    def rhs(y: np.ndarray, j: float) -> np.ndarray:
        v = vel[0](j, h, 1.0, *vel[1])
        return np.array([du[0](y[0], y[1], v, *du[1]), df[0](y[0], y[1], *df[1])])

    return TraceFunctions(
        y0=np.array([p.u_start, 0.0]),
        rhs=rhs,
        readout=lambda y: np.asarray(rb[0](y[0], *rb[1])),
        atol=np.array([1e-10, 1e-9]),
    )


def _cogd(s: Mapping[str, ParamSet]) -> TraceFunctions:
    p = s["CoGdParams"]
    f = cogd.COGD_RHS.numeric("numpy")
    pv = tuple(cogd.COGD_RHS.param_values(p).values())
    return TraceFunctions(
        y0=np.array([0.0]),
        rhs=lambda y, i: np.array([f(y[0], i, *pv)]),
        readout=lambda y: np.asarray(p.r_hall_ohm(y[0])),
        atol=np.array([1e-10]),
    )


def _lif(s: Mapping[str, ParamSet]) -> TraceFunctions:
    p = s["LIFParams"]
    f = lif.LIF_RHS.numeric("numpy")
    pv = tuple(lif.LIF_RHS.param_values({**p.values(), "r_leak_ohm": p.r_leak_ohm}).values())
    return TraceFunctions(
        y0=np.array([0.0]),
        rhs=lambda y, i: np.array([f(y[0], i, 0.0, *pv)]),
        readout=lambda y: np.asarray(y[0]),
        atol=np.array([1e-12]),
    )


TRACE_MODELS: dict[str, TraceModel] = {
    m.name: m
    for m in (
        TraceModel(
            "dw-lif",
            "write current density J",
            "A/m^2",
            "MTJ divider output V_out",
            "V",
            (dwlif.DWLIFParams, mtj.MTJParams, mtj.ReadDividerParams),
            ("gamma_m2_per_a_s", "beta_per_s"),
            _dwlif,
        ),
        TraceModel(
            "field-gated-lif",
            "write current density J (at the bias field h_bias_oe)",
            "A/m^2",
            "Hall voltage",
            "V",
            (
                dwlif.DWLIFParams,
                fieldgate.FieldGateParams,
                fieldgate.FieldLineParams,
                fieldgate.HallReadoutParams,
            ),
            ("gamma_m2_per_a_s", "beta_per_s"),
            _field_gated,
        ),
        TraceModel(
            "saf-lif",
            "SOT write current I",
            "A",
            "Hall read-out V",
            "V",
            (saflif.SAFLIFParams,),
            ("tau_int_s", "tau_leak_s", "v_reset_v"),
            _saflif,
        ),
        TraceModel(
            "dw-mtj-autoreset",
            "write current density J (no noise: N = 1)",
            "A/m^2",
            "MTJ_B resistance",
            "ohm",
            (dwmtj.DWMTJParams,),
            ("p_spin", "r_ap_b_ohm"),
            _dwmtj,
            starts=32,
        ),
        TraceModel(
            "cogd-sigmoid",
            "current pulse I",
            "A",
            "Hall resistance R_hall",
            "ohm",
            (cogd.CoGdParams,),
            ("x0_a", "k_a", "tau_sw_s"),
            _cogd,
        ),
        TraceModel(
            "lif",
            "input current I",
            "A",
            "membrane voltage",
            "V",
            (lif.LIFParams,),
            ("beta", "c_mem_f"),
            _lif,
        ),
    )
}


def get_trace_model(name: str) -> TraceModel:
    if name not in TRACE_MODELS:
        raise ModelParameterError(
            f"model {name!r} has no trace model to calibrate{did_you_mean(name, TRACE_MODELS)}; "
            f"calibratable models: {', '.join(TRACE_MODELS)}"
        )
    return TRACE_MODELS[name]
