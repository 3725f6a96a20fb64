r"""Ideal leaky integrate-and-fire neuron: the software baseline.

**Discrete form** (snnTorch ``Leaky``, one step per network time step)::

    reset[t] = H(U[t-1] - U_thr)                   (computed from the previous state)
    U[t]     = clip(beta, 0, 1) U[t-1] + I[t] - reset[t] U_thr      (reset "subtract")
    U[t]     = clip(beta, 0, 1) (1 - reset[t]) U[t-1] + I[t]        (reset "zero")
    S[t]     = H(U[t] - U_thr)

:func:`lif_step` reproduces it step for step (a test compares with
``snntorch.Leaky`` when snnTorch is installed).

**Continuous form** (what a circuit realises): a membrane capacitor C with a
leak resistor R, ``dV/dt = -V/(R C) + I(t)/C``, with ``R C = tau`` chosen so
that one network step ``slot_s`` decays by ``beta = exp(-slot_s/tau)``, and
``V = U * v_unit_v``.  A spike (V reaching ``U_thr * v_unit``) closes a reset
switch of conductance ``g_reset_s`` that discharges C while the input is
steered away, down to ``release_frac * V_thr``: a reset to (near) zero whose
duration is set by the circuit.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import sympy as sp

from spinspice.errors import ModelParameterError
from spinspice.models.compact import CompactModel, Contribution, Variable
from spinspice.models.expr import Equation, node_voltage, symbols
from spinspice.models.params import ParamSet, param

__all__ = ["LIF_RHS", "LIFParams", "compact_model", "lif_step", "pulse_weight_s"]

SNN = "snnTorch Leaky (paper 001 Table 2 baseline)"


@dataclasses.dataclass(frozen=True)
class LIFParams(ParamSet):
    title = "ideal LIF (snnTorch Leaky equivalent)"

    beta: float = param(0.9, unit="1", desc="membrane decay per network step", source=SNN, lo=0.0, hi=1.0)
    u_thr: float = param(1.0, unit="1", desc="threshold (network units)", source=SNN, lo=0.0, lo_open=True)
    reset_subtract: bool = param(True, unit="1", desc="reset by subtraction (else to zero)", source=SNN)
    slot_s: float = param(
        2e-9,
        unit="s",
        desc="duration of one network step (write slot)",
        source="SPEC 4 (one step = one write slot)",
        lo=0.0,
        lo_open=True,
    )
    c_mem_f: float = param(
        100e-15,
        unit="F",
        desc="membrane capacitance of the circuit",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
    )
    v_unit_v: float = param(
        0.5,
        unit="V",
        desc="membrane voltage of one network unit",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
        hi=10.0,
    )
    g_reset_s: float = param(
        2e-3,
        unit="S",
        desc="conductance of the reset switch",
        source="modelling choice (50 ps discharge)",
        lo=0.0,
        lo_open=True,
    )
    release_frac: float = param(
        0.02,
        unit="1",
        desc="reset ends below this fraction of V_thr",
        source="modelling choice",
        lo=1e-4,
        hi=0.5,
    )

    def _check(self) -> None:
        if not 0.0 < self.beta < 1.0:
            raise ModelParameterError(
                f"beta = {self.beta:g}: the circuit needs a leak, 0 < beta < 1 (snnTorch clips to [0, 1])"
            )

    @property
    def tau_s(self) -> float:
        """Membrane time constant with exp(-slot/tau) = beta."""
        return -self.slot_s / math.log(self.beta)

    @property
    def r_leak_ohm(self) -> float:
        return self.tau_s / self.c_mem_f

    @property
    def v_thr_v(self) -> float:
        return self.u_thr * self.v_unit_v


_v, _i, _fire = symbols(["v_v", "i_a", "fire"])
_c, _r, _g = symbols(["c_mem_f", "r_leak_ohm", "g_reset_s"])

#: dV/dt [V/s] of the continuous LIF membrane; ``fire`` is 1 while the reset switch is closed
LIF_RHS = Equation(
    name="lif_dvdt",
    expr=(-_v / _r + _i - _fire * _g * _v) / _c,
    inputs=(_v, _i, _fire),
    params=(_c, _r, _g),
    unit="V/s",
    doc="continuous LIF membrane: C dV/dt = -V/R + I - fire * g_reset * V [V/s]",
)

#: reset-switch current [A] (drawn from the membrane while ``fire`` = 1)
LIF_RESET_CURRENT = Equation(
    name="lif_reset_current",
    expr=_fire * _g * _v,
    inputs=(_v, _fire),
    params=(_g,),
    unit="A",
    doc="reset switch current g_reset * V while firing [A]",
)


def lif_step(mem: Any, input_: Any, p: LIFParams, backend: str = "numpy") -> tuple[Any, Any]:
    """One snnTorch ``Leaky`` step (default ``reset_delay=True``): returns ``(spk, mem)``."""
    beta = min(max(p.beta, 0.0), 1.0)
    reset = (mem - p.u_thr > 0) * 1.0
    if p.reset_subtract:
        new = beta * mem + input_ - reset * p.u_thr
    else:
        new = beta * (1.0 - reset) * mem + input_
    spk = (new - p.u_thr > 0) * 1.0
    if backend == "torch":
        spk = spk.to(new.dtype) if hasattr(spk, "to") else spk
    return spk, new


def pulse_weight_s(t_edge_s: float, t_on_s: float, t_after_s: float, tau_s: float) -> float:
    r"""``K`` [s]: what a unit-amplitude current pulse leaves on an RC membrane at a later sample.

    The pulse is the charge-equivalent trapezoid of a write slot (rise ``t_edge``, plateau
    ``t_on - t_edge``, fall ``t_edge``: :func:`~spinspice.circuits.network.slot_pwl`), starting
    at ``s = 0``; the sample is taken ``t_after`` after it ends, at ``t_s = t_on + t_edge +
    t_after``.  With ``C dV/dt = -V/R + I(t)`` and ``tau = R C``::

        V(t_s) = (I_0 / C) K,    K = integral_0^{t_on + t_edge} shape(s) exp(-(t_s - s)/tau) ds

    so a current ``I_0 = C v_unit / K`` adds exactly ``v_unit`` at the sample (the clocked
    ideal-LIF cell, docs/netlists.md "Ideal-LIF layers").  Closed form: the plateau gives
    ``tau (e^{b} - e^{a})`` and each edge ``tau^2/t_edge (x e^x - e^x + 1)`` weighted by its
    end's exponential, with ``x = t_edge/tau``.
    """
    if not (0 < t_edge_s < t_on_s and t_after_s >= 0 and tau_s > 0):
        raise ModelParameterError(
            f"pulse_weight_s: need 0 < t_edge ({t_edge_s:g} s) < t_on ({t_on_s:g} s), t_after >= 0 "
            f"({t_after_s:g} s) and tau > 0 ({tau_s:g} s)"
        )
    x = t_edge_s / tau_s
    t_s = t_on_s + t_edge_s + t_after_s
    # rise ramp (0 -> 1 over [0, e]) and fall ramp (1 -> 0 over [t_on, t_on + e]), stable for small x
    ramp_up = tau_s * (x * math.exp(x) - math.expm1(x)) / x  # int_0^e (u/e) e^{u/tau} du
    ramp_down = tau_s * math.expm1(x) - ramp_up  # int_0^e (1 - u/e) e^{u/tau} du
    rise = math.exp(-t_s / tau_s) * ramp_up
    plateau = tau_s * (math.exp((t_on_s - t_s) / tau_s) - math.exp((t_edge_s - t_s) / tau_s))
    fall = math.exp((t_on_s - t_s) / tau_s) * ramp_down
    return rise + plateau + fall


def compact_model(p: LIFParams) -> CompactModel:
    """Membrane ``(in, gnd)`` with leak; port ``fire`` closes the reset switch (1 V = on)."""
    v, fire = node_voltage("in"), node_voltage("fire")
    r, ir = symbols(["r_leak_ohm", "i_reset_a"])
    infos = {i.name: i for i in LIFParams.param_info()}
    return CompactModel(
        name="spinspice_lif",
        doc="Continuous LIF membrane (snnTorch Leaky equivalent): C dV/dt = -V/R + I.",
        ports=("in", "fire"),
        internal=(),
        params=(infos["c_mem_f"], infos["g_reset_s"], infos["slot_s"], infos["beta"]),
        values=tuple((k, float(getattr(p, k))) for k in ("c_mem_f", "g_reset_s", "slot_s", "beta")),
        variables=(
            Variable(
                "r_leak_ohm",
                -_slot_over_log_beta() / sp.Symbol("c_mem_f", real=True),
                "ohm",
                "leak resistance tau/C with tau = -slot/ln(beta)",
            ),
            Variable(
                "i_reset_a", LIF_RESET_CURRENT.expr.xreplace({_v: v, _fire: fire}), "A", LIF_RESET_CURRENT.doc
            ),
        ),
        contributions=(
            Contribution("in", None, sp.Symbol("c_mem_f", real=True) * v, ddt=True),
            Contribution("in", None, v / r + ir),
        ),
    )


def _slot_over_log_beta() -> sp.Expr:
    slot, beta = symbols(["slot_s", "beta"])
    return slot / sp.log(beta)
