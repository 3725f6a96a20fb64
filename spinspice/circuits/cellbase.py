"""What every neuron cell provides, whatever its device.

A cell is a frozen bundle of :class:`~spinspice.models.params.ParamSet`
groups (device, read-out, comparator, CMOS, drivers ...) whose parameter
names are unique across the groups, so a user sets any of them with a flat
``--param name=value``.  Subclasses implement:

* :meth:`CellParams.testbench` -- the circuit driven by a pulse train;
* :meth:`CellParams.dynamics` -- the same behaviour as plain numeric
  equations (:class:`CellDynamics`), integrated by the independent scipy
  reference (:mod:`spinspice.sim.reference`);
* :meth:`CellParams.default_drive` and friends -- the model's natural
  stimulus, so ``spinspice neuron --model M`` works without options.

The reference rule common to every cell: a comparator core ``s`` (the
:data:`~spinspice.circuits.comparator.SCHMITT_RATE` equation) watches the
cell's read-out voltage; the cell *fires* while ``s > 1/2`` and each model
says what firing does to its device (reset current, blocked input, a
discharge, or nothing).
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from spinspice.circuits.core import Testbench
from spinspice.errors import ModelParameterError, did_you_mean
from spinspice.models.params import ParamInfo, ParamSet
from spinspice.models.waveforms import PulseTrain

__all__ = ["CellDynamics", "CellParams", "PerBackend", "Stimulus", "backend_of", "stack"]


def backend_of(xp: Any) -> str:
    """``"torch"`` or ``"numpy"`` for an array namespace."""
    return "torch" if getattr(xp, "__name__", "") == "torch" else "numpy"


class PerBackend:
    """Build a function once per array namespace (numpy / torch) and reuse it."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._build = build
        self._cache: dict[str, Any] = {}

    def __call__(self, xp: Any) -> Any:
        key = backend_of(xp)
        if key not in self._cache:
            self._cache[key] = self._build(xp)
        return self._cache[key]


def stack(parts: list[Any], xp: Any) -> Any:
    """Stack per-state derivatives into one array of the namespace ``xp``."""
    if backend_of(xp) == "torch":
        return xp.stack([p if isinstance(p, xp.Tensor) else xp.as_tensor(p) for p in parts])
    return np.stack([np.asarray(p, dtype=float) for p in parts])


@dataclasses.dataclass(frozen=True)
class WallMotion:
    """A domain-wall neuron whose wall moves at a speed set by the drive alone (no leak, no
    reset current), so that network neurons can integrate it event by event: the wall runs
    linearly between events, the comparator fires where it reaches ``fire_at`` (releases
    below ``release_at``), and at ``exit_at`` the auto-reset takes over for a dead time after
    which the new domain moves on from ``resume_at`` -- both tabulated over the wall speed by
    integrating the cell's own equations (:attr:`CellDynamics.local_rhs`) finely through the
    reset, so the events follow the same device equations as the circuit.

    ``speed(drive, nz, xp)``: d(state)/dt [1/s] of the wall state ``index`` while it moves.
    The read-out is a bump as the domain passes the read junction: the comparator is high
    while the wall lies in ``[fire_at, fire_far]`` when it switched on there and stays on until
    the wall leaves ``[release_at, release_far]`` (a wall driven back under the junction fires
    again, as in the circuit).
    ``table_speed`` (ascending, 1/s), ``table_dead_s`` [s], ``table_resume`` (state) describe
    the auto-reset entered at the speed of the row (constant speed through the reset)."""

    index: int
    speed: Callable[[Any, Any, Any], Any]
    fire_at: float
    release_at: float
    exit_at: float
    table_speed: np.ndarray
    table_dead_s: np.ndarray
    table_resume: np.ndarray
    fire_far: float = float("inf")
    release_far: float = float("inf")


@dataclasses.dataclass(frozen=True)
class CellDynamics:
    """A cell's behaviour as numeric equations, for numpy or torch.

    ``local_rhs(y, fire, u, nz, xp)`` returns dy/dt of the device states ``y``
    (shape ``(n_states, *batch)``) for the instantaneous drive ``u`` (the
    cell's drive quantity: A/m^2 or A) and velocity/noise factor ``nz`` (1 for
    deterministic models); ``fire`` (0 idle, 1 firing, broadcastable to the
    batch) says whether the comparator output is high -- the reset rule lives
    here; ``xp`` is the array namespace (``numpy`` or ``torch``).
    :meth:`rhs` evaluates it under the cell's own ``drive`` and ``stimulus``;
    the network neurons of :mod:`spinspice.snn` evaluate it under the
    synaptic drive of each network step.

    ``comparator_input(y, xp)`` is the voltage the comparator watches and
    ``schmitt`` the parameter values of its core equation.
    ``threshold_state`` = ``(index, y_hi, y_lo)`` when that voltage is a
    monotone increasing function of state ``index`` alone: the comparator then
    fires where ``y[index]`` reaches ``y_hi`` and releases below ``y_lo``
    (used by the network neurons, which skip the read-out).  ``bounds`` are
    the physical limits of each state (None: unbounded); ``atol`` the absolute
    tolerance per state.  ``progress`` = ``(index, y_fire, y_rest)`` names a
    state that measures the way to a spike where no threshold state exists
    (the DW-MTJ wall position): network neurons use it for their surrogate
    gradient and input unit.  ``event_state`` = ``(index, y_hi, y_lo)`` where
    the comparator input is a bump rather than a monotone function of one
    state, but rises monotonically in it on the way to firing (the MTJ_B
    read-out as the DW-MTJ's leading wall enters MTJ_B): network neurons find
    the comparator's rising event where ``y[index]`` reaches ``y_hi`` -- a
    crossing that a sub-step cannot step over, as it can step over a short
    bump -- and release it below ``y_lo``.  ``refine(y_start, y_end, xp)``
    (optional) marks the neurons whose sub-step holds a fast relaxation (the
    DW-MTJ auto-reset and re-nucleation): network neurons redo those sub-steps
    in steps of at most ``fine_step_s``.  ``wall`` (optional, :class:`WallMotion`) lets
    them integrate a domain-wall neuron event by event instead (the fast path; the sub-stepped
    integration of ``local_rhs`` stays its reference).  The scipy reference, the fixed-step stepper and the
    network neurons all integrate this one description.

    ``held_rhs(fire, u, nz, xp)`` (optional) is ``local_rhs`` with the comparator output, drive
    and noise factor held, as over one RK4 step of the network neurons: a function of ``y``
    alone, equal to ``local_rhs(y, fire, u, nz, xp)``, that evaluates what does not depend on
    the states once instead of in every stage (the field gate g(H, J) of the field-gated cell).
    """

    y0: np.ndarray
    local_rhs: Callable[[Any, Any, Any, Any, Any], Any]
    comparator_input: Callable[[Any, Any], Any]
    schmitt: Mapping[str, float]
    atol: np.ndarray
    state_names: tuple[str, ...]
    drive: Any = None
    stimulus: Stimulus | None = None
    threshold_state: tuple[int, float, float] | None = None
    bounds: tuple[tuple[float | None, float | None], ...] | None = None
    progress: tuple[int, float, float] | None = None
    held_rhs: Callable[[Any, Any, Any, Any], Callable[[Any], Any]] | None = None
    event_state: tuple[int, float, float] | None = None
    refine: Callable[[Any, Any, Any], Any] | None = None
    fine_step_s: float | None = None
    wall: WallMotion | None = None

    def rhs(self, t: float, y: Any, fire: Any, xp: Any) -> Any:
        """dy/dt at time ``t`` under the cell's drive and stimulus."""
        u = float(self.drive.value(t)) if self.drive is not None else 0.0
        nz: Any = 1.0
        if self.stimulus is not None:
            nz = self.stimulus.value(t)  # one factor per realisation of a batched stimulus
            nz = float(nz) if np.ndim(nz) == 0 else (xp.as_tensor(nz) if backend_of(xp) == "torch" else nz)
        return self.local_rhs(y, fire, u, nz, xp)

    def breakpoints(self, t_stop_s: float) -> np.ndarray:
        """Kinks of the drive and the stimulus up to ``t_stop_s``."""
        pts = np.asarray(self.drive.breakpoints(t_stop_s) if self.drive is not None else [], dtype=float)
        if self.stimulus is not None:
            pts = np.union1d(pts, self.stimulus.breakpoints(t_stop_s))
        return pts


@dataclasses.dataclass(frozen=True)
class Stimulus:
    """Extra time-dependent inputs besides the drive, as step functions.

    ``values[k]`` holds from ``k * interval_s`` to ``(k + 1) * interval_s``
    (the last value holds on).  Used for seeded random factors (paper 004)
    so that torch and ngspice see the same realisation.  A batch of
    realisations (:meth:`stack`, ``values`` of shape ``(batch, n)``) drives
    the batched torch stepper; only a single one can become a PWL source.
    """

    name: str
    interval_s: float
    values: tuple[float, ...] | tuple[tuple[float, ...], ...]
    edge_s: float = 1e-12

    def __post_init__(self) -> None:
        if not self.interval_s > 0 or not self.values:
            raise ModelParameterError(f"stimulus {self.name}: need interval_s > 0 and values")
        if not 0 < self.edge_s < self.interval_s / 2:
            raise ModelParameterError(f"stimulus {self.name}: edge_s must be in (0, interval_s/2)")

    @classmethod
    def stack(cls, stimuli: Sequence[Stimulus]) -> Stimulus:
        """One batched stimulus from equally spaced single realisations (padded with their last value)."""
        if not stimuli or any(s.array.ndim != 1 for s in stimuli):
            raise ModelParameterError("Stimulus.stack needs at least one single (1-D) stimulus")
        first = stimuli[0]
        if any(s.interval_s != first.interval_s or s.edge_s != first.edge_s for s in stimuli):
            raise ModelParameterError("Stimulus.stack: every stimulus needs the same interval and edge")
        n = max(len(s.values) for s in stimuli)
        rows = tuple(
            tuple(float(v) for v in s.values) + (float(s.values[-1]),) * (n - len(s.values)) for s in stimuli
        )
        return cls(first.name, first.interval_s, rows, first.edge_s)

    @functools.cached_property
    def array(self) -> np.ndarray:
        return np.asarray(self.values, dtype=float)

    @property
    def batch(self) -> int | None:
        """Number of realisations of a batched stimulus (None for a single one)."""
        return None if self.array.ndim == 1 else self.array.shape[0]

    def value(self, t_s: np.ndarray | float) -> np.ndarray:
        """Value at ``t_s``, with the same linear edges as the PWL source.

        A batched stimulus at a scalar time gives one value per realisation.
        """
        t = np.asarray(t_s, dtype=float)
        vals = self.array
        n = vals.shape[-1]
        k = np.clip(np.floor(t / self.interval_s).astype(int), 0, n - 1)
        tau = t - k * self.interval_s
        prev = vals[..., np.maximum(k - 1, 0)]
        ramp = np.clip(tau / self.edge_s, 0.0, 1.0)
        return np.where(k == 0, vals[..., 0], prev + (vals[..., k] - prev) * ramp)

    def pwl_points(self) -> tuple[tuple[float, float], ...]:
        if self.batch is not None:
            raise ModelParameterError(f"stimulus {self.name}: a batch of realisations has no single PWL")
        pts = [(0.0, self.values[0])]
        for k in range(1, len(self.values)):
            t0 = k * self.interval_s
            pts += [(t0, self.values[k - 1]), (t0 + self.edge_s, self.values[k])]
        return tuple(pts)

    def breakpoints(self, t_stop_s: float) -> np.ndarray:
        ks = np.arange(1, self.array.shape[-1])
        t = np.concatenate([ks * self.interval_s, ks * self.interval_s + self.edge_s])
        return np.sort(t[t <= t_stop_s])


@dataclasses.dataclass(frozen=True)
class CellParams(abc.ABC):
    """Base of every neuron cell: grouped, flat-named, validated parameters."""

    #: registry name of the device model this cell realises
    model: ClassVar[str] = ""
    #: what ``PulseTrain.amplitude`` means for this cell: "j" (A/m^2) or "i" (A)
    drive_quantity: ClassVar[str] = "j"

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for group, ps in self.groups().items():
            for name in ps.param_names():
                if name in seen:
                    raise ModelParameterError(  # pragma: no cover - programming error
                        f"parameter {name} defined in both {seen[name]} and {group}"
                    )
                seen[name] = group

    # -- parameter bundle ------------------------------------------------------
    def groups(self) -> dict[str, ParamSet]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def param_info(self) -> list[tuple[str, ParamInfo]]:
        return [(g, i) for g, ps in self.groups().items() for i in ps.param_info()]

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for ps in self.groups().values():
            out.update(ps.values())
        return out

    def with_text(self, pairs: Mapping[str, Any]) -> Any:
        """Apply flat ``name=value`` user settings (SI suffixes accepted)."""
        owner = {name: g for g, ps in self.groups().items() for name in ps.param_names()}
        per_group: dict[str, dict[str, Any]] = {}
        for name, text in pairs.items():
            # a name without its unit suffix (alpha for alpha_per_s) names the one parameter it starts
            suffixed = [full for full in owner if full.startswith(f"{name}_")]
            if name not in owner and len(suffixed) == 1:
                name = suffixed[0]
            if name not in owner:
                raise ModelParameterError(
                    f"unknown parameter {name!r} for model {self.model}{did_you_mean(name, owner)}; "
                    "`spinspice models` lists them"
                )
            per_group.setdefault(owner[name], {})[name] = text
        changes = {g: getattr(self, g).with_text(kv) for g, kv in per_group.items()}
        return dataclasses.replace(self, **changes)

    # -- interface every cell implements ---------------------------------------------
    @abc.abstractmethod
    def default_drive(self) -> PulseTrain:
        """The model's natural write-pulse train."""

    @abc.abstractmethod
    def default_duration_s(self, drive: PulseTrain) -> float:
        """A simulated time that shows several spikes under ``drive``."""

    @abc.abstractmethod
    def drive_current(self, drive: PulseTrain) -> PulseTrain:
        """The drive as a current (A) pulse train."""

    @abc.abstractmethod
    def testbench(self, drive: PulseTrain, t_stop_s: float, *, stimulus: Stimulus | None = None) -> Testbench:
        """The cell driven by ``drive`` (and ``stimulus``), with supplies and probes."""

    @abc.abstractmethod
    def dynamics(self, drive: PulseTrain, *, stimulus: Stimulus | None = None) -> CellDynamics:
        """The same behaviour as numeric equations, for the scipy reference."""

    @abc.abstractmethod
    def spike_level_v(self) -> float:
        """Comparator output level that counts as a spike edge (half the logic swing)."""

    @abc.abstractmethod
    def thresholds_v(self) -> tuple[float, float]:
        """Comparator thresholds (V_hi, V_lo) on the read-out voltage."""

    @abc.abstractmethod
    def state_plot(self) -> tuple[str, str, str, float | None]:
        """(probe key, reference state name, axis label, threshold or None) of the main state."""

    def max_step_s(self, drive: PulseTrain) -> float:
        """Largest step the device states tolerate (stiffness), besides the pulse resolution."""
        return np.inf

    def stepper_dt_s(self, drive: PulseTrain) -> float:
        """Default step of the fixed-step (torch) integration of :meth:`dynamics`.

        Resolves the pulses and the device's stiff states; the comparator core
        needs no limit there (the stepper updates it exactly).
        """
        pulse = min(drive.t_on_s, drive.t_off_s or drive.t_on_s) / 20
        return min(pulse, self.max_step_s(drive))

    def report_extras(self, waveforms: Any, spikes: np.ndarray, releases: np.ndarray) -> dict[str, Any]:
        """Model-specific report fields (read-out, design checks ...)."""
        return {}

    def network_cell(self) -> Any:
        """The cell as the network neurons of :mod:`spinspice.snn` integrate it.

        Identical by default.  Devices with a smooth saturation at |m| = 1
        take it in its sharp limit there (``k_sat`` at its minimum; the states
        are clipped to their bounds instead): the dynamics inside the walls are
        unchanged, and the ~10 ps time scale of the smooth walls, which
        explicit sub-steps of a write slot cannot resolve, disappears from
        both the integration and its gradients.
        """
        return self

    def network_drive(self) -> PulseTrain:
        """The write slot of one network time step (SPEC 4: one step = one slot, ON + OFF):
        :meth:`default_drive` unless the model's self-reset needs a longer OFF part (SAF-LIF)."""
        return self.default_drive()

    def stimulus(self, drive: PulseTrain, t_stop_s: float, seed: int) -> Stimulus | None:
        """Seeded random inputs the model needs (None for deterministic models)."""
        return None
