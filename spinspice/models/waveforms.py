"""Drive waveforms shared by the reference models and the circuits.

A :class:`PulseTrain` is the write-pulse stimulus of paper 001: pulses of
width ``t_on_s`` separated by ``t_off_s`` (1 ns ON with 1, 1.5, 2, 3 ns OFF =
500, 400, 333, 250 MHz).  Edges are linear ramps of ``t_edge_s``; the plateau
is shortened by one edge time so that every pulse carries exactly
``amplitude * t_on_s`` of charge (or fluence), whatever the edge time.  The
reference integrators evaluate :meth:`PulseTrain.value`; the circuit writes
the same numbers into a SPICE ``PULSE`` source, so both see one waveform.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from spinspice.models.params import ParamSet, param

__all__ = ["PulseTrain", "SampledDrive"]


@dataclasses.dataclass(frozen=True)
class PulseTrain(ParamSet):
    """Periodic trapezoidal pulses (unit of ``amplitude`` set by the user)."""

    title = "write pulse train"

    t_on_s: float = param(
        1e-9,
        unit="s",
        desc="pulse ON time (charge-equivalent width)",
        source="paper 001, micromagnetic write pulses (1 ns)",
        lo=0.0,
        lo_open=True,
    )
    t_off_s: float = param(
        1e-9,
        unit="s",
        desc="OFF time between pulses",
        source="paper 001 (1, 1.5, 2, 3 ns OFF)",
        lo=0.0,
    )
    amplitude: float = param(
        1e11,
        unit="1",
        desc="pulse amplitude (A/m^2 for a model drive, A for a circuit source)",
        source="paper 001 Eq. 4 (J = 1e11 A/m^2)",
    )
    t_edge_s: float = param(
        10e-12,
        unit="s",
        desc="rise/fall time of each edge",
        source="modelling choice",
        lo=0.0,
        lo_open=True,
    )
    t_delay_s: float = param(
        0.0,
        unit="s",
        desc="start of the first pulse",
        source="modelling choice",
        lo=0.0,
    )
    n_pulses: float = param(
        0.0,
        unit="1",
        desc="number of pulses (0 = unlimited)",
        source="modelling choice",
        lo=0.0,
    )

    def _check(self) -> None:
        from spinspice.errors import ModelParameterError

        if self.t_edge_s >= self.t_on_s:
            raise ModelParameterError(
                f"t_edge_s = {self.t_edge_s:g} s must be shorter than t_on_s = {self.t_on_s:g} s"
            )
        if self.t_edge_s > self.t_off_s and self.t_off_s > 0:
            raise ModelParameterError(
                f"t_edge_s = {self.t_edge_s:g} s must not exceed t_off_s = {self.t_off_s:g} s"
            )
        if self.n_pulses != math.floor(self.n_pulses):
            raise ModelParameterError(f"n_pulses = {self.n_pulses:g} must be a whole number")

    # -- derived ---------------------------------------------------------
    @property
    def period_s(self) -> float:
        return self.t_on_s + self.t_off_s

    @property
    def frequency_hz(self) -> float:
        return 1.0 / self.period_s

    @property
    def plateau_s(self) -> float:
        """Time at full amplitude: ``t_on_s - t_edge_s``."""
        return self.t_on_s - self.t_edge_s

    @property
    def pulse_count(self) -> int | None:
        return None if self.n_pulses == 0 else int(self.n_pulses)

    def scaled(self, factor: float) -> PulseTrain:
        """Same timing, amplitude multiplied by ``factor`` (J -> current)."""
        return self.replace(amplitude=self.amplitude * factor)

    # -- evaluation --------------------------------------------------------
    def value(self, t_s: np.ndarray | float) -> np.ndarray:
        """Waveform value at ``t_s`` (vectorised)."""
        t = np.asarray(t_s, dtype=float) - self.t_delay_s
        k = np.floor(t / self.period_s)
        tau = t - k * self.period_s
        tr, pw = self.t_edge_s, self.plateau_s
        rise = np.clip(tau / tr, 0.0, 1.0)
        fall = np.clip((tau - tr - pw) / tr, 0.0, 1.0)
        shape = rise - fall
        active = t >= 0.0
        if self.pulse_count is not None:
            active &= k < self.pulse_count
        return np.where(active, self.amplitude * shape, 0.0)

    def breakpoints(self, t_stop_s: float) -> np.ndarray:
        """Sorted times in ``[0, t_stop_s]`` where the waveform has a kink."""
        points = [0.0, t_stop_s]
        k = 0
        tr, pw = self.t_edge_s, self.plateau_s
        while True:
            if self.pulse_count is not None and k >= self.pulse_count:
                break
            start = self.t_delay_s + k * self.period_s
            if start > t_stop_s:
                break
            points += [start, start + tr, start + tr + pw, start + 2 * tr + pw]
            k += 1
        arr = np.array(sorted(p for p in points if 0.0 <= p <= t_stop_s))
        return arr[np.concatenate(([True], np.diff(arr) > 1e-18))]

    def pulse_starts(self, t_stop_s: float) -> np.ndarray:
        n = math.floor((t_stop_s - self.t_delay_s) / self.period_s) + 1
        if self.pulse_count is not None:
            n = min(n, self.pulse_count)
        return self.t_delay_s + self.period_s * np.arange(max(n, 0))


class SampledDrive:
    """A drive given as samples (a measured trace), linear between them.

    Quacks like :class:`PulseTrain` where cell dynamics need it
    (``value(t)`` and ``breakpoints(t_stop)``), so a model can be driven by a
    CSV column as well as by a pulse train.
    """

    def __init__(self, t_s: np.ndarray, values: np.ndarray) -> None:
        self.t_s = np.asarray(t_s, dtype=float)
        self.values = np.asarray(values, dtype=float)
        if self.t_s.ndim != 1 or self.t_s.shape != self.values.shape or self.t_s.size < 2:
            from spinspice.errors import DataError

            raise DataError("a sampled drive needs matching 1-D time and value arrays (>= 2 points)")

    def value(self, t_s: np.ndarray | float) -> np.ndarray:
        return np.interp(t_s, self.t_s, self.values)

    def breakpoints(self, t_stop_s: float) -> np.ndarray:
        return self.t_s[self.t_s <= t_stop_s]
