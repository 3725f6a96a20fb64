r"""Spiking neurons for torch networks, built on the device models.

One network time step is one *write slot* of the circuit: a write pulse of
``t_on`` carrying the synaptic drive, then ``t_off`` without it (SPEC 4).
:class:`DeviceNeuron` integrates a cell's own :class:`CellDynamics`
(``local_rhs``: the device equation *and* the circuit's reset rule) over
each slot:

* the synaptic input ``x`` (dimensionless, one per neuron) becomes the drive
  ``u = x * u_unit`` (A/m^2 or A; ``u_unit`` = the amplitude of the model's
  default pulse) during the ON part -- a rectangle of the charge-equivalent
  width ``t_on``, as the circuit's trapezoidal pulse carries ``u * t_on``;
* classical RK4 sub-steps (as many as the device's stiffness needs) with the
  comparator state ``fire`` held over each;
* comparator events -- the read-out crossing V_hi while idle (spike), or V_lo
  while firing (release, end of reset) -- are located inside a sub-step by
  linear interpolation; the comparator output switches ``tau_comp ln 2``
  later (its core relaxes half-way in that time; the switch may fall in a
  later sub-step or slot and is carried in the state), and the sub-step is
  split there, so the reset starts and ends where the circuit's would;
* states are clipped to their physical bounds after each sub-step.

Spikes are exact in the forward pass (computed without autograd); the
backward pass uses the ArcTan surrogate (:mod:`spinspice.snn.surrogate`) of
the normalised distance of the free-running threshold state to its threshold
and a one-slot tangent for the state (see :meth:`DeviceNeuron.forward`).

:class:`LeakyNeuron` is the ideal LIF baseline, identical to ``snntorch.Leaky``
(:func:`spinspice.models.lif.lif_step`).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from spinspice.circuits.cellbase import CellDynamics, CellParams
from spinspice.circuits.network import ROW_SCHEDULES, SCHEDULES, CrossbarOptions, max_write_current
from spinspice.circuits.registry import get_cell, network_preset
from spinspice.errors import ModelParameterError, TrainingError
from spinspice.models.lif import LIFParams, lif_step
from spinspice.models.waveforms import PulseTrain
from spinspice.snn.surrogate import straight_through
from spinspice.units import parse_value

__all__ = [
    "COMPILE_MIN",
    "DeviceNeuron",
    "Generators",
    "LeakyNeuron",
    "RowScheduledNeuron",
    "compile_setting",
    "draw",
    "make_neuron",
    "neuron_spec",
    "set_compile_min",
]

State = tuple[torch.Tensor, ...]

#: where a forward pass draws its randomness: one shared generator (training), one per row of
#: the batch (per-image seeds), or None (torch's global generator)
Generators = torch.Generator | list[torch.Generator] | None


def draw(sample: Any, shape: tuple[int, ...], generator: Generators, dtype: torch.dtype) -> torch.Tensor:
    """``sample`` (``torch.rand`` or ``torch.randn``) of ``shape`` on the CPU: from one
    generator, or, given a list, row r of the batch from ``generator[r]`` alone (so an image's
    draws do not depend on the batch it runs in)."""
    if not isinstance(generator, list):
        return sample(shape, generator=generator, dtype=dtype, device="cpu")
    if len(generator) != shape[0]:
        raise ModelParameterError(
            f"{len(generator)} generators for a batch of {shape[0]}: give one per row of the batch"
        )
    if not generator:
        return torch.empty(shape, dtype=dtype)
    return torch.stack([sample(shape[1:], generator=g, dtype=dtype) for g in generator])


#: layers of at least this many neurons (batch included) integrate with a ``torch.compile``-d
#: RK4 step unless a neuron says otherwise; 0 = never (``--no-compile``, environment variable
#: ``SPINSPICE_COMPILE_MIN``).  Compiling costs ~10 s once per layer and pays off in training.
COMPILE_MIN = int(os.environ.get("SPINSPICE_COMPILE_MIN", "1024"))


def set_compile_min(neurons: int) -> None:
    """Set :data:`COMPILE_MIN` (0 disables compiling)."""
    global COMPILE_MIN
    COMPILE_MIN = max(0, int(neurons))


@contextlib.contextmanager
def compile_setting(enabled: bool) -> Iterator[None]:
    """Within the block, compile large layers as configured (``enabled``) or never."""
    saved = COMPILE_MIN
    if not enabled:
        set_compile_min(0)
    try:
        yield
    finally:
        set_compile_min(saved)


#: edges of at least this fraction of the ON time are integrated as ramps (``edges_resolved``)
EDGE_RESOLVED = 0.05
#: constant-drive pieces per resolved edge
EDGE_PIECES = 4


class DeviceNeuron(nn.Module):
    """A layer of device neurons of one cell type (all neurons share the cell's parameters)."""

    def __init__(
        self,
        cell: CellParams,
        *,
        slot: PulseTrain | None = None,
        u_unit: float | None = None,
        substeps: tuple[int, int] | None = None,
        max_events: int = 2,
        alpha: float = 2.0,
        max_change: float = 0.5,
        refine: int = 3,
        compile_min: int = 16384,
        u_max: float | None = None,
        gate_closed: tuple[float, float] | None = None,
    ) -> None:
        super().__init__()
        self.cell = cell
        #: drive limit (input units): the write driver's current limit, what the cell's write path
        #: carries at the highest supply (drive-aware training); None: unlimited
        self.u_max = None if u_max is None or math.isinf(u_max) else float(u_max)
        if self.u_max is not None and not self.u_max > 0:
            raise ModelParameterError(f"u_max = {u_max!r}: the drive limit must be > 0")
        #: (start after the OFF part begins, duration) [s] of a gate-closed interval: the field
        #: line is off (row-by-row field-gated arrays between the row's windows), so neither the
        #: write nor the reset current moves the state (the dynamics' ``nz`` = 0), only the leak
        self.gate_closed = gate_closed
        self.slot = slot or cell.network_drive()
        cell = cell.network_cell()
        if not (self.slot.t_on_s > 0 and self.slot.t_off_s >= 0):
            raise ModelParameterError("the write slot needs t_on_s > 0 and t_off_s >= 0")
        self.dyn: CellDynamics = cell.dynamics(self.slot)
        self.u_unit = float(u_unit if u_unit is not None else self.threshold_drive())
        if not math.isfinite(self.u_unit) or self.u_unit == 0:
            raise ModelParameterError(
                f"u_unit = {self.u_unit!r}: the drive of one input unit must be non-zero"
            )
        self.v_hi, self.v_lo = cell.thresholds_v()
        ts = self.dyn.threshold_state
        # the comparator's events: crossings of the threshold state, of the event state (DW-MTJ:
        # the wall entering MTJ_B), else of the read-out voltage
        ev = self.dyn.event_state or ts
        self.hi, self.lo = (ev[1], ev[2]) if ev is not None else (self.v_hi, self.v_lo)
        self.span = abs(self.hi - self.lo) or 1.0
        # the surrogate measures the distance to firing on a progress state: the threshold state,
        # else the model's declared progress (DW-MTJ: wall position), else the read-out voltage
        prog = ts or self.dyn.progress
        self.z_index = prog[0] if prog is not None else None
        self.z_hi = prog[1] if prog is not None else self.hi
        self.z_span = abs(prog[1] - prog[2]) if prog is not None else self.span
        if substeps is None:
            h_max = cell.max_step_s(self.slot)
            substeps = (
                max(1, math.ceil(self.slot.t_on_s / h_max - 1e-9)),
                max(1, math.ceil(self.slot.t_off_s / h_max - 1e-9)) if self.slot.t_off_s > 0 else 0,
            )
        self.substeps = (int(substeps[0]), int(substeps[1]))
        if self.substeps[0] < 1 or self.substeps[1] < 0:
            raise ModelParameterError("substeps: at least one ON sub-step and zero or more OFF sub-steps")
        self.max_events = int(max_events)
        self.delay = float(self.dyn.schmitt["tau_comp_s"]) * math.log(2.0)
        #: largest change of the threshold state per sub-step, as a fraction of the threshold span
        self.max_change = float(max_change)
        self.refine = int(refine)
        self.compile_min = compile_min
        self._compiled: Any = None
        self._compile_failed = False
        self._fast = False
        self.alpha = float(alpha)
        #: integrate a domain-wall neuron (the cell's :class:`WallMotion`) event by event; False:
        #: sub-step its equations (the reference the event integration is tested against)
        self.wall_events = True
        dwmtj = getattr(cell, "dwmtj", None)
        self.sigma = float(dwmtj.sigma) if dwmtj is not None else 0.0
        if self.sigma > 0 and not math.isclose(dwmtj.noise_interval_s, self.slot.period_s, rel_tol=1e-9):
            raise ModelParameterError(
                "network DW-MTJ neurons draw one velocity factor per write slot: set noise_interval_s "
                f"to the slot period ({self.slot.period_s:g} s)"
            )

    def __getstate__(self) -> dict[str, Any]:
        # the cell's dynamics hold local functions (not picklable): rebuilt on unpickling, so
        # a neuron travels to worker processes (cosim's model expectations run there)
        state = dict(super().__getstate__() if hasattr(super(), "__getstate__") else self.__dict__)
        state.pop("dyn", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.dyn = self.cell.network_cell().dynamics(self.slot)

    def threshold_drive(self) -> float:
        """The drive that takes a resting neuron to its threshold in one ON pulse (the default
        ``u_unit``: one input unit then means what it means for the ideal LIF, threshold 1).

        From the device's sensitivity at rest, ``d(dy/dt)/du`` of the threshold state (or the
        model's progress state: the DW-MTJ wall position, whose target is MTJ_B), linear
        extrapolation; a model with neither uses the amplitude of its default write pulse.
        """
        ts = self.dyn.threshold_state or self.dyn.progress
        if ts is None:
            return float(self.slot.amplitude)
        y0 = torch.as_tensor(np.asarray(self.dyn.y0, float), dtype=torch.float64)[:, None]
        fire = torch.zeros(1, dtype=torch.float64)
        amp = float(self.slot.amplitude)
        rate = self.dyn.local_rhs(y0, fire, amp, 1.0, torch) - self.dyn.local_rhs(y0, fire, 0.0, 1.0, torch)
        sens = float(rate[ts[0], 0]) / amp
        gap = ts[1] - float(y0[ts[0], 0])
        if not (math.isfinite(sens) and sens * gap > 0):
            raise ModelParameterError(
                f"{self.cell.model}: the default write pulse does not drive the neuron towards its "
                "threshold; give u_unit explicitly"
            )
        return gap / (self.slot.t_on_s * sens)

    # -- description ------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Everything that fixes this neuron's behaviour, resolved (for checkpoints/netlists)."""
        return {
            "model": self.model,
            "params": self.cell.values(),
            # parameters the network integration changes (the sharp saturation wall of DW-LIF)
            "network_overrides": {
                k: v for k, v in self.cell.network_cell().values().items() if self.cell.values().get(k) != v
            },
            "slot": {
                "t_on_s": self.slot.t_on_s,
                "t_off_s": self.slot.t_off_s,
                "t_edge_s": self.slot.t_edge_s,
                "period_s": self.slot.period_s,
            },
            "u_unit": self.u_unit,
            "u_unit_meaning": "drive of one input unit (A/m^2 or A): rest to threshold in one pulse",
            "u_max": self.u_max,
            "substeps": list(self.substeps),
            "max_change": self.max_change,
        }

    @property
    def model(self) -> str:
        return self.cell.model

    @property
    def stochastic(self) -> bool:
        return self.sigma > 0

    def extra_repr(self) -> str:
        return (
            f"model={self.model}, slot={self.slot.t_on_s:g}+{self.slot.t_off_s:g} s, "
            f"u_unit={self.u_unit:g}, substeps={self.substeps}"
        )

    @property
    def edges_resolved(self) -> bool:
        """Whether the pulse's edges are integrated as ramps (they last at least
        :data:`EDGE_RESOLVED` of the ON time: paper 004's 10 ns edges on 40 ns) rather than
        folded into the charge-equivalent rectangle of ``t_on_s``."""
        return self.slot.t_edge_s >= EDGE_RESOLVED * self.slot.t_on_s

    def _on_phases(self, u: Any, nz: Any) -> list[tuple[Any, float, int, Any]]:
        """The ON part: one phase at the drive ``u`` for ``t_on_s``, or, with resolved edges, the
        trapezoid the write driver makes (rise, plateau, fall; each edge in
        :data:`EDGE_PIECES` steps at its pieces' mid values: the same charge, the same timing).
        ``u`` is the unclipped device drive; the driver's current limit clips the instantaneous
        drive, so a clipped trapezoid keeps steeper edges (more charge than the clipped
        rectangle), as in the circuit."""
        t_on, n_on = self.slot.t_on_s, self.substeps[0]
        lim = None if self.u_max is None else self.u_max * abs(self.u_unit)

        def clip(v: Any) -> Any:
            return v if lim is None else v.clamp(-lim, lim)

        if not self.edges_resolved:
            return [(clip(u), t_on, n_on, nz)]

        def ramp(f0: float, f1: float) -> Any:
            """The mean of the clipped drive ``clip(u f)`` over ``f`` in ``[f0, f1]``."""
            if lim is None:
                return u * (0.5 * (f0 + f1))
            a = u.abs() if isinstance(u, torch.Tensor) else torch.as_tensor(abs(u), dtype=torch.float64)
            knee = (lim / a).clamp(f0, f1)  # where the ramp reaches the limit
            charge = a * (knee**2 - f0**2) / 2 + lim * (f1 - knee)
            return torch.sign(torch.as_tensor(u)) * charge / (f1 - f0)

        tr = self.slot.t_edge_s
        n_piece = max(1, math.ceil(n_on * tr / (EDGE_PIECES * t_on) - 1e-9))
        cuts = [i / EDGE_PIECES for i in range(EDGE_PIECES + 1)]
        rise = [(ramp(f0, f1), tr / EDGE_PIECES, n_piece, nz) for f0, f1 in itertools.pairwise(cuts)]
        fall = [(r, d, n, z) for r, d, n, z in reversed(rise)]
        plateau = (clip(u), t_on - tr, max(1, math.ceil(n_on * (t_on - tr) / t_on - 1e-9)), nz)
        return [*rise, plateau, *fall]

    def _wall_phases(self, u: Any, nz: Any) -> list[tuple[Any, Any, float, Any]]:
        """The slot as phases ``(drive at start, drive at end, duration, nz)`` over which the
        drive runs linearly: :meth:`_on_phases` with each edge piece's start value the clipped
        ramp's and its end value set so that the piece keeps its exact (clipped) charge, then the
        OFF part.  Exact for an unclipped ramp."""
        lim = None if self.u_max is None else self.u_max * abs(self.u_unit)

        def clip(v: Any) -> Any:
            return v if lim is None else v.clamp(-lim, lim)

        on = self._on_phases(u, nz)
        out = []
        if len(on) == 1:
            out.append((on[0][0], on[0][0], on[0][1], on[0][3]))
        else:
            n = EDGE_PIECES
            for i, (mean, dur, _, z) in enumerate(on):
                if i < n:  # rising edge piece i: from u i/n
                    start = clip(u * (i / n))
                elif i == n:  # plateau
                    start = mean
                else:  # falling edge piece: from u (1 - (i - n - 1)/n)
                    start = clip(u * (1.0 - (i - n - 1) / n))
                out.append((start, 2 * mean - start, dur, z))
        return out + [(d, d, dur, z) for d, dur, _, z in self._off_phases(nz)]

    def _off_phases(self, nz: Any) -> list[tuple[float, float, int, Any]]:
        """The OFF part (after the falling edge where edges are resolved): one phase, or three
        around the gate-closed interval (sub-steps shared in proportion to their durations)."""
        t_off, n_off = self.slot.t_off_s, self.substeps[1]
        if self.edges_resolved and t_off > 0:
            t_off -= self.slot.t_edge_s
            n_off = max(1, math.ceil(n_off * t_off / self.slot.t_off_s - 1e-9)) if n_off else 0
        if self.gate_closed is None or n_off == 0:
            return [(0.0, t_off, n_off, nz)]
        a, d = self.gate_closed
        parts = [(a, nz), (d, 0.0), (t_off - a - d, nz)]
        return [(0.0, dur, max(1, math.ceil(n_off * dur / t_off - 1e-9)), z) for dur, z in parts if dur > 0]

    def drive(self, x: torch.Tensor) -> torch.Tensor:
        """The device drive of input ``x`` (input units): ``u_unit x``, clipped at the drive limit."""
        if self.u_max is not None:
            x = x.clamp(-self.u_max, self.u_max)
        return x * self.u_unit

    # -- state ------------------------------------------------------------------------------
    def init_state(self, shape: tuple[int, ...], like: torch.Tensor) -> State:
        """Rest state ``(y, fire, wait)`` for a layer output of ``shape`` (batch first)."""
        y0 = torch.as_tensor(np.asarray(self.dyn.y0, float), dtype=like.dtype, device=like.device)
        y = y0.reshape(-1, *([1] * len(shape))).expand(-1, *shape).clone()
        fire = torch.zeros(shape, dtype=like.dtype, device=like.device)
        return y, fire, torch.full_like(fire, math.inf)

    def draw_noise(self, shape: tuple[int, ...], like: torch.Tensor, generator: Generators) -> Any:
        """Velocity factors N(1, sigma) for one slot (1.0 for deterministic models).

        ``generator`` a list (per-image seeds): row r of the batch draws from ``generator[r]``
        alone (:func:`draw`), so an image's noise does not depend on the batch it runs in."""
        if not self.stochastic:
            return 1.0
        return 1.0 + self.sigma * draw(torch.randn, shape, generator, like.dtype).to(like.device)

    # -- integration ------------------------------------------------------------------------
    def _clip(self, y: torch.Tensor) -> torch.Tensor:
        if self.dyn.bounds is None:
            return y
        parts = []
        for k, (lo, hi) in enumerate(self.dyn.bounds):
            parts.append(y[k].clamp(min=lo, max=hi) if (lo is not None or hi is not None) else y[k])
        return torch.stack(parts)

    def _rk4(
        self, y: torch.Tensor, fire: torch.Tensor, u: Any, nz: Any, h: Any, f: Any = None
    ) -> torch.Tensor:
        """One classical RK4 step of ``h`` (scalar or per neuron) with ``fire`` held; ``f``: the
        right-hand side with ``fire``, ``u`` and ``nz`` held (:meth:`_held`), if already at hand.

        Layers of at least ``compile_min`` neurons (batch included) use a
        ``torch.compile``-d copy, also for their small event subsets (the dozens
        of element-wise passes fuse into one loop: about 5x faster on CPU, and
        far fewer Python dispatches); if compiling is impossible here (no C++ compiler, unsupported
        platform) the step silently stays eager after one warning.
        """
        if self._fast and not self._compile_failed:
            try:
                if self._compiled is None:
                    from torch import _dynamo

                    cfg = _dynamo.config
                    cfg.cache_size_limit = max(cfg.cache_size_limit, 64)
                    self._compiled = torch.compile(self._rk4_eager, dynamic=True)
                n = y.shape[-1]

                def flat(v: Any) -> torch.Tensor:  # one graph: every argument a 1-D tensor
                    return torch.as_tensor(v, dtype=y.dtype, device=y.device).expand(n)

                return self._compiled(y, flat(fire), flat(u), flat(nz), flat(h))
            except Exception as err:
                self._compile_failed = True
                warnings.warn(
                    f"torch.compile is not usable here ({type(err).__name__}); the {self.model} "
                    "neurons integrate eagerly (slower, same results)",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return self._rk4_eager(y, fire, u, nz, h, f)

    def _rk4_eager(
        self, y: torch.Tensor, fire: torch.Tensor, u: Any, nz: Any, h: Any, f: Any = None
    ) -> torch.Tensor:
        # the stages are clipped to the bounds too: past a bound the smooth saturation of the
        # device equation turns into a strong restoring rate that would throw the step off
        f, c = f if f is not None else self._held(fire, u, nz), self._clip
        k1 = f(y)
        k2 = f(c(y + h / 2 * k1))
        k3 = f(c(y + h / 2 * k2))
        k4 = f(c(y + h * k3))
        return c(y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4))

    def _held(self, fire: Any, u: Any, nz: Any) -> Any:
        """``local_rhs`` with ``fire``, ``u`` and ``nz`` held, a function of the states alone: the
        cell's ``held_rhs`` evaluates what depends on them alone (the field gate) once for all
        the RK4 stages and steps that share them."""
        if self.dyn.held_rhs is not None:
            return self.dyn.held_rhs(fire, u, nz, torch)
        rhs = self.dyn.local_rhs
        return lambda y: rhs(y, fire, u, nz, torch)

    def _shared(self, fire: Any, u: Any, nz: Any) -> Any:
        """:meth:`_held` for several eager RK4 steps from the same ``fire``, ``u`` and ``nz``
        (None where the compiled step evaluates its own)."""
        return None if self._fast and not self._compile_failed else self._held(fire, u, nz)

    def _level(self, y: torch.Tensor) -> torch.Tensor:
        ev = self.dyn.event_state or self.dyn.threshold_state
        return y[ev[0]] if ev is not None else self.dyn.comparator_input(y, torch)

    def _z(self, y: torch.Tensor) -> torch.Tensor:
        """Normalised distance to firing (0 at the threshold) for the surrogate gradient."""
        level = y[self.z_index] if self.z_index is not None else self._level(y)
        return (level - self.z_hi) / self.z_span

    def _substep(
        self, y: torch.Tensor, fire: torch.Tensor, wait: torch.Tensor, u: Any, nz: Any, h: float
    ) -> tuple[torch.Tensor, ...]:
        """One sub-step of flat neurons with comparator events.

        Returns ``(y, fire, wait, spiked, z of the free run, spike time inside the sub-step or
        NaN)``.  ``wait`` is the time until an already scheduled comparator switch (inf: none):
        the output switches ``tau ln 2`` after its input crosses a threshold (the comparator
        core relaxes half-way in that time), possibly in a later sub-step or slot.  The whole
        layer takes one RK4 step; only the neurons with a crossing or a due switch (a few per
        cent) are gathered and re-integrated in pieces, up to ``max_events`` switches per
        sub-step.
        """
        free = self._rk4(y, fire, u, nz, h)
        c0, c1 = self._level(y), self._level(free)
        z = self._z(free)
        idle = fire < 0.5
        free_wait = torch.isinf(wait)
        event = (free_wait & ((idle & (c1 >= self.hi)) | (~idle & (c1 < self.lo)))) | (wait <= h)
        spiked = torch.zeros_like(fire, dtype=torch.bool)
        when = torch.full_like(fire, math.nan)
        wait = torch.where(free_wait, wait, wait - h)
        if self.max_events == 0 or not bool(event.any()):
            return free, fire, wait, spiked, z, when
        idx = event.nonzero().squeeze(1)

        def pick(v: Any) -> Any:
            return v[idx] if isinstance(v, torch.Tensor) and v.dim() > 0 else v

        ys, fs, us, nzs = y[:, idx], fire[idx], pick(u), pick(nz)
        ws = wait[idx] + h  # undo the decrement for the gathered neurons
        y_end, c0s, c1s = free[:, idx], c0[idx], c1[idx]
        rem = torch.full_like(fs, h)
        active = torch.ones_like(fs, dtype=torch.bool)
        spiked_s = torch.zeros_like(fs, dtype=torch.bool)
        when_s = torch.full_like(fs, math.nan)
        f_s = self._shared(fs, us, nzs)  # for every RK4 step until the comparator switches
        for _ in range(self.max_events):
            idle_s = fs < 0.5
            crossing = active & torch.isinf(ws) & ((idle_s & (c1s >= self.hi)) | (~idle_s & (c1s < self.lo)))
            if bool(crossing.any()):
                thr = torch.where(idle_s, self.hi, self.lo)
                t_cross = self._locate(ys, fs, us, nzs, c0s, c1s, rem, thr, f_s)
                ws = torch.where(crossing, t_cross + self.delay, ws)
            ev = active & (ws <= rem)
            # a switch due after this sub-step stays scheduled
            ws = torch.where(active & ~ev, ws - rem, ws)
            if not bool(ev.any()):
                break
            t_ev = torch.where(ev, ws, torch.zeros_like(rem))
            up, down = ev & idle_s, ev & ~idle_s
            when_s = torch.where(up, h - rem + t_ev, when_s)
            ys = torch.where(ev, self._rk4(ys, fs, us, nzs, t_ev, f_s), y_end)
            rem = torch.where(ev, rem - t_ev, torch.zeros_like(rem))
            ws = torch.where(ev, torch.full_like(ws, math.inf), ws)
            fs = torch.where(up, torch.ones_like(fs), torch.where(down, torch.zeros_like(fs), fs))
            spiked_s = spiked_s | up
            f_s = self._shared(fs, us, nzs)
            y_end = self._rk4(ys, fs, us, nzs, rem, f_s)
            c0s, c1s = self._level(ys), self._level(y_end)
            active = ev
        y_out, fire_out, wait_out = free.clone(), fire.clone(), wait.clone()
        y_out[:, idx], fire_out[idx], wait_out[idx] = y_end, fs, ws
        spiked[idx], when[idx] = spiked_s, when_s
        return y_out, fire_out, wait_out, spiked, z, when

    def _locate(
        self,
        y: torch.Tensor,
        fire: torch.Tensor,
        u: Any,
        nz: Any,
        c0: torch.Tensor,
        c1: torch.Tensor,
        span: torch.Tensor,
        thr: torch.Tensor,
        f: Any = None,
    ) -> torch.Tensor:
        """Time in ``[0, span]`` at which the threshold state crosses ``thr``: regula falsi
        (Illinois variant) on RK4 sub-steps from ``y``, ``refine`` iterations (``f``: the
        right-hand side held at ``fire``, ``u``, ``nz``, as for :meth:`_rk4`).

        A plain linear interpolation between the sub-step's ends is off where the
        trajectory bends, e.g. when the free step ran into a state bound and was clipped.
        """
        a, b = torch.zeros_like(span), span.clone()
        fa, fb = c0 - thr, c1 - thr
        t = b
        for _ in range(self.refine):
            den = fb - fa
            t = torch.where(den.abs() > 0, a - fa * (b - a) / torch.where(den.abs() > 0, den, 1.0), b)
            t = torch.minimum(torch.maximum(t, a), b)
            ft = self._level(self._rk4(y, fire, u, nz, t, f)) - thr
            left = torch.sign(ft) == torch.sign(fa)
            # Illinois: halve the stale end's value so that the bracket shrinks from both sides
            fb = torch.where(left, fb / 2, ft)
            b = torch.where(left, b, t)
            fa = torch.where(left, ft, fa / 2)
            a = torch.where(left, t, a)
        return t

    def _substeps_needed(
        self, y: torch.Tensor, fire: torch.Tensor, u: Any, nz: Any, dur: float, n: int
    ) -> torch.Tensor:
        """Sub-steps per neuron for a phase of ``dur``: at least ``n``, more (rounded up to ``n``
        times a power of two, at most 64) where a strong drive would move the threshold state
        by more than ``max_change`` of the threshold span in one sub-step -- so that crossings
        are located accurately and the RK stages stay near the trajectory."""
        count = y.shape[1]
        ts = self.dyn.threshold_state
        if ts is None or n == 0:
            return torch.full((count,), n, dtype=torch.long, device=y.device)
        rate = self.dyn.local_rhs(y, fire, u, nz, torch)[ts[0]].abs()
        rate = rate.expand(count) if rate.dim() == 0 else rate
        if not bool(torch.isfinite(rate).all()):
            raise TrainingError(
                f"{self.model} neurons received a non-finite drive: the weights diverged; "
                "lower the learning rate (--lr) or check the input data"
            )
        need = torch.ceil(rate * (dur / (self.max_change * self.span * n)) - 1e-9).clamp(1, 64 // n)
        return n * torch.exp2(torch.ceil(torch.log2(need))).to(torch.long)

    def _phase(
        self,
        y: torch.Tensor,
        fire: torch.Tensor,
        wait: torch.Tensor,
        u: Any,
        nz: Any,
        dur: float,
        n: int,
        t0: float,
    ) -> tuple[torch.Tensor, ...]:
        """``n`` sub-steps over ``dur`` of flat neurons: (y, fire, wait, spiked, z_max, first spike)."""
        spiked = torch.zeros_like(fire, dtype=torch.bool)
        first = torch.full_like(fire, math.nan)
        z_max = torch.full_like(fire, -math.inf)
        h = dur / n
        for i in range(n):
            y, fire, wait, sp, z, when = self._refined_substep(y, fire, wait, u, nz, h)
            first = torch.where(torch.isnan(first), t0 + i * h + when, first)
            spiked = spiked | sp
            z_max = torch.maximum(z_max, z)
        return y, fire, wait, spiked, z_max, first

    def _refined_substep(
        self, y: torch.Tensor, fire: torch.Tensor, wait: torch.Tensor, u: Any, nz: Any, h: float
    ) -> tuple[torch.Tensor, ...]:
        """:meth:`_substep`, redone in steps of at most the model's ``fine_step_s`` for the
        neurons whose sub-step its ``refine`` marks (a fast relaxation inside it: the DW-MTJ
        auto-reset), from the same start."""
        out = self._substep(y, fire, wait, u, nz, h)
        mark, fine = self.dyn.refine, self.dyn.fine_step_s
        if mark is None or fine is None or h <= fine:
            return out
        need = mark(y, out[0], torch)
        if not bool(need.any()):
            return out
        idx = need.nonzero().squeeze(1)

        def pick(v: Any) -> Any:
            return v[idx] if isinstance(v, torch.Tensor) and v.dim() > 0 else v

        ys, fs, ws, us, nzs = y[:, idx], fire[idx], wait[idx], pick(u), pick(nz)
        m = math.ceil(h / fine - 1e-9)
        hh = h / m
        sp_s = torch.zeros_like(fs, dtype=torch.bool)
        when_s = torch.full_like(fs, math.nan)
        z_s = torch.full_like(fs, -math.inf)
        for i in range(m):
            ys, fs, ws, sp, z, when = self._substep(ys, fs, ws, us, nzs, hh)
            when_s = torch.where(torch.isnan(when_s), i * hh + when, when_s)
            sp_s, z_s = sp_s | sp, torch.maximum(z_s, z)
        y_out, fire_out, wait_out, spiked, z_out, when_out = (v.clone() for v in out)
        y_out[:, idx], fire_out[idx], wait_out[idx] = ys, fs, ws
        spiked[idx], z_out[idx], when_out[idx] = sp_s, z_s, when_s
        return y_out, fire_out, wait_out, spiked, z_out, when_out

    def _at_bound(self, y: torch.Tensor) -> torch.Tensor:
        """True where any state sits on (within 1e-6 of the range of) one of its bounds."""
        out = torch.zeros(y.shape[1:], dtype=torch.bool, device=y.device)
        for k, (lo, hi) in enumerate(self.dyn.bounds or ()):
            tol = 1e-6 * (abs(hi - lo) if lo is not None and hi is not None else 1.0)
            if lo is not None:
                out = out | (y[k] <= lo + tol)
            if hi is not None:
                out = out | (y[k] >= hi - tol)
        return out

    def integrate(
        self, x: torch.Tensor, state: State, nz: Any
    ) -> tuple[State, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The exact slot (no gradient): ``(state, spiked, z_max, first spike offset)``.

        Neurons are grouped by the number of sub-steps their drive needs
        (:meth:`_substeps_needed`), so a few strongly driven neurons do not
        make the whole layer take their small steps.
        """
        if self.dyn.wall is not None and self.wall_events:
            return self._integrate_wall(x, state, nz)
        y, fire, wait = state
        shape = x.shape
        n_states = y.shape[0]
        limit = COMPILE_MIN if self.compile_min is None else self.compile_min
        self._fast = 0 < limit <= x.numel()
        with torch.no_grad():
            yf, ff, wf = y.reshape(n_states, -1), fire.reshape(-1), wait.reshape(-1)
            nzf = nz.expand(shape).reshape(-1) if isinstance(nz, torch.Tensor) and nz.dim() > 0 else nz
            spiked = torch.zeros_like(ff, dtype=torch.bool)
            first = torch.full_like(ff, math.nan)
            z_max = torch.full_like(ff, -math.inf)
            t0 = 0.0
            phases = self._on_phases(x.reshape(-1) * self.u_unit, nzf) + self._off_phases(nzf)
            for u, dur, n, nzf in phases:
                if n == 0:
                    continue
                need = self._substeps_needed(yf, ff, u, nzf, dur, n)
                levels, counts = torch.unique(need, return_counts=True)
                bulk = int(levels[counts.argmax()])
                # the most common sub-step count runs on the whole layer (no gather); the other
                # groups restart from the phase's start state and overwrite their neurons
                y_start, f_start, w_start = yf, ff, wf
                spiked_in, z_in, first_in = spiked, z_max, first
                yf, ff, wf, sp, z, when = self._phase(yf, ff, wf, u, nzf, dur, bulk, t0)
                spiked, z_max = spiked | sp, torch.maximum(z_max, z)
                first = torch.where(torch.isnan(first), when, first)
                others = [int(v) for v in levels.tolist() if int(v) != bulk]
                if others:
                    yf, ff, wf = yf.clone(), ff.clone(), wf.clone()  # never write into the caller's state
                    for lv in others:
                        idx = (need == lv).nonzero().squeeze(1)
                        ui = u[idx] if isinstance(u, torch.Tensor) else u
                        ni = nzf[idx] if isinstance(nzf, torch.Tensor) and nzf.dim() > 0 else nzf
                        yg, fg, wg, sp, z, when = self._phase(
                            y_start[:, idx], f_start[idx], w_start[idx], ui, ni, dur, lv, t0
                        )
                        yf[:, idx], ff[idx], wf[idx] = yg, fg, wg
                        spiked[idx] = spiked_in[idx] | sp
                        z_max[idx] = torch.maximum(z_in[idx], z)
                        first[idx] = torch.where(torch.isnan(first_in[idx]), when, first_in[idx])
                t0 += dur
        new = (yf.reshape(y.shape), ff.reshape(shape), wf.reshape(shape))
        return new, spiked.reshape(shape), z_max.reshape(shape), first.reshape(shape)

    def _integrate_wall(
        self, x: torch.Tensor, state: State, nz: Any
    ) -> tuple[State, torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`integrate` of a domain-wall neuron event by event (:class:`WallMotion`): in
        each constant-drive phase the wall runs linearly to the next event -- the comparator
        firing (the wall entering the read-out's window from either side), its release
        (leaving it) or the auto-reset (``exit_at``), after which it rests for the tabulated
        dead time and moves
        on from the tabulated resume position.  Exact for the linear motion; the reset is the
        table's, taken at the speed the wall had when it left the track."""
        wall = self.dyn.wall
        y, fire, wait = state
        shape = x.shape
        with torch.no_grad():
            yf = y.reshape(y.shape[0], -1).clone()
            pos, ff = yf[wall.index], fire.reshape(-1).clone()
            nzf = nz.expand(shape).reshape(-1) if isinstance(nz, torch.Tensor) and nz.dim() > 0 else nz
            like = pos
            speeds = torch.as_tensor(wall.table_speed, dtype=like.dtype, device=like.device)
            dead_tab = torch.as_tensor(wall.table_dead_s, dtype=like.dtype, device=like.device)
            resume_tab = torch.as_tensor(wall.table_resume, dtype=like.dtype, device=like.device)

            def table(col: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
                vc = v.clamp(float(speeds[0]), float(speeds[-1]))
                i = torch.searchsorted(speeds, vc).clamp(1, len(speeds) - 1)
                w = (vc - speeds[i - 1]) / (speeds[i] - speeds[i - 1])
                return col[i - 1] + w * (col[i] - col[i - 1])

            dead = torch.zeros_like(pos)  # remaining dead time of an auto-reset [s]
            resume = torch.zeros_like(pos)
            spiked = torch.zeros_like(ff, dtype=torch.bool)
            first = torch.full_like(ff, math.nan)
            z_max = torch.full_like(ff, -math.inf)
            inf = torch.full_like(pos, math.inf)
            t0 = 0.0
            for d_a, d_b, dur, nzp in self._wall_phases(x.reshape(-1) * self.u_unit, nzf):
                # the speed runs linearly from v_a to v_b over the phase (a piece of an edge)
                v_a = torch.as_tensor(wall.speed(d_a, nzp, torch), dtype=like.dtype).expand_as(pos)
                v_b = torch.as_tensor(wall.speed(d_b, nzp, torch), dtype=like.dtype).expand_as(pos)
                acc = (v_b - v_a) / (2 * dur)  # position = v_a tau + acc tau^2 from the phase's start
                fwd, bwd = v_a + v_b > 0, v_a + v_b < 0
                tau = torch.zeros_like(pos)  # time into the phase

                def reach(
                    gap: torch.Tensor, tau: torch.Tensor, v_a: torch.Tensor = v_a, acc: torch.Tensor = acc
                ) -> torch.Tensor:
                    """Time from ``tau`` until the wall has moved by ``gap`` (inf: not in this phase)."""
                    v1 = v_a + 2 * acc * tau
                    disc = v1 * v1 + 4 * acc * gap
                    sgn = torch.where(v1 != 0, torch.sign(v1), torch.sign(gap))
                    den = v1 + sgn * disc.clamp(min=0).sqrt()
                    s = torch.where((disc >= 0) & (den != 0), 2 * gap / torch.where(den != 0, den, 1.0), inf)
                    return torch.where(s >= 0, s, inf)

                for _ in range(8):  # events per phase: fire, release, reset, fire again ...
                    rest = torch.minimum(dead, dur - tau)
                    dead, tau = dead - rest, tau + rest
                    pos = torch.where((rest > 0) & (dead <= 0), resume, pos)
                    rem = dur - tau
                    moving = (dead <= 0) & (rem > 0)
                    idle = ff < 0.5
                    # the read-out bump: on entering [fire_at, fire_far] from either side the
                    # comparator fires; it releases on leaving [release_at, release_far]
                    t_fire = torch.minimum(
                        torch.where(idle & fwd & (pos < wall.fire_at), reach(wall.fire_at - pos, tau), inf),
                        torch.where(idle & bwd & (pos > wall.fire_far), reach(wall.fire_far - pos, tau), inf),
                    )
                    t_rel = torch.minimum(
                        torch.where(
                            ~idle & fwd & (pos < wall.release_far), reach(wall.release_far - pos, tau), inf
                        ),
                        torch.where(
                            ~idle & bwd & (pos > wall.release_at), reach(wall.release_at - pos, tau), inf
                        ),
                    )
                    t_exit = torch.where(fwd, reach((wall.exit_at - pos).clamp(min=0), tau), inf)
                    t_ev = torch.minimum(torch.minimum(t_fire, t_exit), t_rel)
                    hit = moving & (t_ev <= rem)
                    step = torch.where(moving, torch.where(hit, t_ev, rem), torch.zeros_like(rem))
                    pos = pos + v_a * step + acc * ((tau + step) ** 2 - tau**2)
                    tau = tau + step
                    up = hit & (t_ev == t_fire)
                    out = hit & (t_ev == t_exit) & ~up
                    down = (hit & (t_ev == t_rel) & ~up) | out
                    when = t0 + tau + self.delay
                    first = torch.where(up & torch.isnan(first), when, first)
                    spiked = spiked | up
                    z_max = torch.where(up, torch.maximum(z_max, (pos - self.z_hi) / self.z_span), z_max)
                    ff = torch.where(up, torch.ones_like(ff), torch.where(down, torch.zeros_like(ff), ff))
                    v_now = (v_a + 2 * acc * tau).abs()
                    dead = torch.where(out, table(dead_tab, v_now), dead)
                    resume = torch.where(out, table(resume_tab, v_now), resume)
                    if not bool(hit.any()):
                        break
                shown = torch.where(dead > 0, resume, pos)
                z_max = torch.maximum(z_max, (shown - self.z_hi) / self.z_span)
                t0 += dur
            # a reset still under way at the slot's end has finished before the next pulse
            pos = torch.where(dead > 0, resume, pos)
            yf[wall.index] = pos
        new = (yf.reshape(y.shape), ff.reshape(shape), wait)
        return new, spiked.reshape(shape), z_max.reshape(shape), first.reshape(shape)

    def forward(
        self, x: torch.Tensor, state: State | None = None, noise: Any = None
    ) -> tuple[torch.Tensor, State]:
        """One write slot: input ``x`` (any shape, batch first) -> (spikes, new state).

        The state is ``(y, fire, wait)``: device states (leading axis), the
        comparator output (0/1) and the time to a scheduled comparator switch
        (inf: none).  Forward values are the exact integration
        (:meth:`integrate`).  The backward pass follows the *slot tangent*:
        the device state carries its gradient unchanged through a slot
        (identity) unless the neuron fired, was resetting or sits on a bound
        (then none: the state was overwritten), and the input enters as
        ``t_on * df/du`` at the slot's start state -- the explicit-Euler
        derivative of the slot.  The exact Jacobian of the sub-stepped device
        ODE is not used: the smooth saturation of the bounded states makes it
        stiff (|df/dm| ~ 1e12/s for DW-LIF at m = +-1) and its product over
        time steps overflows.
        """
        state = state if state is not None else self.init_state(tuple(x.shape), x)
        y0, fire0, wait0 = state
        nz = noise if noise is not None else 1.0
        (y, fire, wait), spiked, z_max, first = self.integrate(x, (y0.detach(), fire0, wait0), nz)
        #: time of the (first) spike inside the last slot, s from its start (NaN: none)
        self.last_spike_offset_s = first
        if not (torch.is_grad_enabled() and (x.requires_grad or y0.requires_grad)):
            return spiked.to(x.dtype), (y, fire, wait)
        f = self.dyn.local_rhs(y0.detach(), fire0, self.drive(x), nz, torch)
        tangent = y0 + self.slot.t_on_s * (f - f.detach())  # value y0, gradient of the slot
        z_soft = self._z(tangent)
        z = z_max + (z_soft - z_soft.detach())
        spk = straight_through(spiked.to(x.dtype), z, self.alpha)
        keep = ~(spiked | (fire0 > 0.5) | (fire > 0.5) | torch.isfinite(wait) | self._at_bound(y))
        y = y + keep.to(y.dtype) * (tangent - tangent.detach())
        return spk, (y, fire, wait)


class RowScheduledNeuron(DeviceNeuron):
    """A layer of device neurons written row by row: the ``rows`` field-line schedule.

    The layer's ``M`` neurons sit in an ``R x C`` array (``C = array_cols``, default
    ``ceil(sqrt(M))``); one network step holds ``R`` write slots of the cell (``slot``, the
    circuit's write slot), and array row ``r`` is written in the ``r``-th of them.  So a
    neuron of row ``r`` idles ``r`` slots before its first write, then sees a write of
    ``t_on`` every ``R`` slots (it leaks ``R P - t_on`` between writes), and a spike that comes
    after the end of the network step counts in the next step -- the timing the row-by-row
    circuit has (:func:`spinspice.cosim.build.expected_spikes`), so a network trained with it
    agrees with its row-by-row circuit.  ``slot``, ``cell`` and ``u_unit`` are those of the
    write slot, as for :class:`DeviceNeuron`; the state is ``(device state, late spikes)``.
    """

    def __init__(
        self,
        cell: CellParams,
        *,
        n_neurons: int,
        array_cols: int | None = None,
        slots_per_step: int | None = None,
        slot: PulseTrain | None = None,
        u_unit: float | None = None,
        u_max: float | None = None,
    ) -> None:
        super().__init__(cell, slot=slot, u_unit=u_unit, u_max=u_max)
        if n_neurons < 1 or (array_cols is not None and array_cols < 1):
            raise ModelParameterError("a row-scheduled layer needs n_neurons >= 1 and array_cols >= 1")
        self.n_cols = int(array_cols or max(1, math.ceil(math.sqrt(n_neurons))))
        self.n_rows = math.ceil(n_neurons / self.n_cols)
        #: write slots per network step: the rows of this array, or more when layers of
        #: different arrays share one step (a whole-network netlist)
        self.slots_per_step = int(slots_per_step or self.n_rows)
        if self.slots_per_step < self.n_rows:
            raise ModelParameterError(f"{self.n_rows} array rows need at least {self.n_rows} slots per step")
        p, (n_on, n_off) = self.slot.period_s, self.substeps
        # the long OFF and the idle wait take sub-steps as long as the write slot's own (one
        # RK4 step over 11 ns of leak and reset missed ~3 % of the spikes of a 6-row array)
        h = self.slot.t_off_s / n_off if n_off else self.slot.t_on_s / n_on
        t_off = self.slots_per_step * p - self.slot.t_on_s
        # a field-gated row's field line is biased for one write slot around its write pulse
        # (from the middle of the OFF part before it to the middle of the one after it) and off
        # for the other rows' slots: the gate is closed then, for the write and the reset alike
        gated = getattr(self.cell, "fieldline", None) is not None and self.slots_per_step > 1
        closed = (self.slot.t_off_s / 2, (self.slots_per_step - 1) * p) if gated else None
        #: one write every ``slots_per_step`` slots: ON t_on, then OFF for the other rows' slots
        self.long = DeviceNeuron(
            self.cell,
            slot=self.slot.replace(t_off_s=t_off),
            u_unit=self.u_unit,
            substeps=(n_on, max(1, math.ceil(t_off / h - 1e-9))),
            u_max=self.u_max,
            gate_closed=closed,
        )
        #: the idle wait of row r before its first write (r slots, no input)
        self.idles = nn.ModuleList(
            DeviceNeuron(
                self.cell,
                slot=self.slot.replace(t_on_s=r * p, t_off_s=0.0),
                u_unit=1.0,
                substeps=(max(1, math.ceil(r * p / h - 1e-9)), 0),
            )
            for r in range(1, self.n_rows)
        )
        rows = torch.arange(n_neurons) // self.n_cols
        self.register_buffer("row", rows, persistent=False)
        self.step_s = self.slots_per_step * p

    def init_state(self, shape: tuple[int, ...], like: torch.Tensor) -> Any:
        """The state at the first write of each row: rows ``r > 0`` have idled ``r`` slots."""
        y, fire, wait = self.long.init_state(shape, like)
        y, fire, wait = y.clone(), fire.clone(), wait.clone()
        for r, idle in enumerate(self.idles, start=1):
            cols = (self.row == r).nonzero().squeeze(1).to(like.device)
            _, (yr, fr, wr) = idle(torch.zeros(*shape[:-1], len(cols), dtype=like.dtype, device=like.device))
            y[..., cols], fire[..., cols], wait[..., cols] = yr, fr, wr
        return (y, fire, wait), torch.zeros(shape, dtype=like.dtype, device=like.device)

    def forward(self, x: torch.Tensor, state: Any = None, noise: Any = None) -> tuple[torch.Tensor, Any]:
        """One network step (``R`` write slots): input ``x`` ``(batch, M)`` -> (spikes, state)."""
        if x.shape[-1] != len(self.row):
            raise ModelParameterError(
                f"a row-scheduled layer of {len(self.row)} neurons got {x.shape[-1]} inputs per sample"
            )
        inner, carry = state if state is not None else self.init_state(tuple(x.shape), x)
        spk, inner = self.long(x, inner, noise)
        offset = self.long.last_spike_offset_s + self.row.to(x.device) * self.slot.period_s
        late = (offset >= self.step_s * (1 - 1e-12)).to(x.dtype)  # NaN (no spike): not late
        self.last_spike_offset_s = offset
        return torch.maximum(spk * (1 - late), carry), (inner, spk * late)


class LeakyNeuron(nn.Module):
    """Ideal LIF, step for step ``snntorch.Leaky`` (reset by subtraction or to zero)."""

    def __init__(self, p: LIFParams | None = None, alpha: float = 2.0) -> None:
        super().__init__()
        self.p = p or LIFParams()
        self.alpha = float(alpha)

    model = "lif"
    stochastic = False

    def describe(self) -> dict[str, Any]:
        """The resolved LIF parameters (for checkpoints/netlists)."""
        return {"model": "lif", "params": self.p.values(), "slot": {"period_s": self.p.slot_s}}

    def extra_repr(self) -> str:
        return f"beta={self.p.beta:g}, threshold={self.p.u_thr:g}, subtract={self.p.reset_subtract}"

    def init_state(self, shape: tuple[int, ...], like: torch.Tensor) -> State:
        return (torch.zeros(shape, dtype=like.dtype, device=like.device),)

    def draw_noise(self, shape: tuple[int, ...], like: torch.Tensor, generator: Generators) -> Any:
        return 1.0

    def forward(
        self, x: torch.Tensor, state: State | None = None, noise: Any = None
    ) -> tuple[torch.Tensor, State]:
        mem = state[0] if state is not None else torch.zeros_like(x)
        exact, new = lif_step(mem, x, self.p, backend="torch")  # the reset term carries no gradient
        spk = straight_through(exact, (new - self.p.u_thr) / self.p.u_thr, self.alpha)
        return spk, (new,)


def neuron_spec(
    model: str, preset: str | None = None, params: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON-able description of a neuron choice (model, preset, parameter overrides).

    Without a preset a network takes its model's network preset
    (:data:`~spinspice.circuits.registry.NETWORK_PRESETS`: field-gated networks use the scaled
    MTJ-read device, not the measured Hall bar), recorded here so a checkpoint names it."""
    return {"model": model, "preset": network_preset(model, preset), "params": dict(params or {})}


def make_neuron(
    spec: Mapping[str, Any],
    *,
    n_neurons: int | None = None,
    schedule: str = "all",
    array_cols: int | None = None,
    drive_limit_v: float | None = None,
) -> nn.Module:
    """A neuron module from ``neuron_spec(...)`` (``lif`` = the snnTorch-equivalent baseline).

    ``schedule="rows"`` (or ``"rows-free"``): a layer of ``n_neurons`` device neurons written
    row by row in an array of ``array_cols`` columns (:class:`RowScheduledNeuron`).
    ``drive_limit_v``: drive-aware neurons, whose drive is clipped at what the cell's write path
    carries with supplies of at most that voltage
    (:func:`~spinspice.circuits.network.max_write_current`; on the access-transistor-free
    array ``rows-free`` through the array's rows in series): the circuit's write drivers have
    the same current limit, so a network that trained is a network that netlists."""
    model = spec["model"]
    params = dict(spec.get("params") or {})
    if schedule not in SCHEDULES:
        raise ModelParameterError(f"schedule {schedule!r}: choose {', '.join(SCHEDULES)}")
    if schedule in ROW_SCHEDULES and (model == "lif" or n_neurons is None):
        raise ModelParameterError(
            "the rows schedule writes the neuron array of a fully connected layer row by row: it needs "
            "device neurons (not lif) in fully connected layers"
        )
    if model == "lif":
        lif_names = set(LIFParams.param_names())
        unknown = [k for k in params if k not in lif_names]
        if unknown:
            LIFParams().with_text({unknown[0]: params[unknown[0]]})  # raises with a suggestion
        return LeakyNeuron(LIFParams().with_text(params))
    cell, _ = get_cell(model, spec.get("preset"))
    slot_keys = {"t_on_s", "t_off_s", "u_unit"}
    cell = cell.with_text({k: v for k, v in params.items() if k not in slot_keys})
    slot = cell.network_drive()
    # the slot and the input unit are given as numbers or as text with an SI suffix (-p t_on_s=1u)
    changes = {k: parse_value(params[k], "s", name=k) for k in ("t_on_s", "t_off_s") if k in params}
    if changes:
        slot = slot.replace(**changes, t_edge_s=min(slot.t_edge_s, changes.get("t_on_s", slot.t_on_s) / 10))
    u_unit = None if params.get("u_unit") is None else parse_value(params["u_unit"], name="u_unit")
    u_max = None
    if drive_limit_v is not None:
        probe = DeviceNeuron(cell, slot=slot, u_unit=u_unit)
        shape = CrossbarOptions(array_cols=array_cols, schedule=schedule).array_shape(int(n_neurons or 1))
        series = shape[0] if schedule == "rows-free" else 1
        net_cell = cell.network_cell()
        i_unit = float(net_cell.drive_current(slot.replace(amplitude=probe.u_unit)).amplitude)
        u_max = max_write_current(net_cell, series, float(drive_limit_v)) / abs(i_unit)
    if schedule in ROW_SCHEDULES:
        return RowScheduledNeuron(
            cell, n_neurons=int(n_neurons), array_cols=array_cols, slot=slot, u_unit=u_unit, u_max=u_max
        )
    return DeviceNeuron(cell, slot=slot, u_unit=u_unit, u_max=u_max)
