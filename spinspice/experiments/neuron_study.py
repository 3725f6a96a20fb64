"""The neuron study from a model name and user settings (``spinspice neuron``).

:func:`run_neuron` simulates one cell of a registered spiking model under its
write-pulse train and checks it against the scipy reference;
:func:`run_neuron_sweep` does so once per OFF time or write amplitude (latency
vs input frequency, rate vs current: paper 001 Fig. 6c-d, 7b/e).  Settings are
SI values or text with SI suffixes (``"1n"``); what is not given comes from the
model's preset: its default drive and a duration that shows several spikes.
The simulation itself is :func:`~spinspice.experiments.neuron.simulate_cell`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from spinspice.circuits.cellbase import CellParams
from spinspice.circuits.registry import get_cell, get_model
from spinspice.errors import ModelParameterError, check_setting
from spinspice.experiments.neuron import NeuronResult, simulate_cell
from spinspice.experiments.neuron_report import accuracy_note, neuron_files, write_neuron_outputs
from spinspice.experiments.neuron_sweep import sweep_cell, sweep_report, write_sweep
from spinspice.experiments.results import StudyResult, displayed
from spinspice.io import seed_all
from spinspice.models.waveforms import PulseTrain
from spinspice.units import eng, parse_value

__all__ = [
    "DRIVE_PARAMS",
    "SWEEPS",
    "NeuronRunResult",
    "NeuronSetup",
    "NeuronSweepResult",
    "neuron_setup",
    "run_neuron",
    "run_neuron_sweep",
]

Value = float | str

#: drive settings also accepted in ``params`` (with or without the unit suffix)
DRIVE_PARAMS = {
    "t_on": ("t_on", "t_on_s"),
    "t_off": ("t_off", "t_off_s"),
    "t_edge": ("t_edge", "t_edge_s"),
    "j_write": ("j_write", "j_write_a_per_m2"),
    "i_write": ("i_write", "i_write_a"),
}

#: what :func:`run_neuron_sweep` sweeps -> the unit of its values
SWEEPS = {"t_off_s": "s", "j_write_a_per_m2": "A/m^2", "i_write_a": "A"}


@dataclasses.dataclass(frozen=True)
class NeuronSetup:
    """A cell with the user's parameters, its preset's name, the drive and the simulated time."""

    cell: CellParams
    preset: str
    drive: PulseTrain
    duration_s: float


def _drive(
    cell: CellParams,
    t_on: Value | None = None,
    t_off: Value | None = None,
    j_write: Value | None = None,
    i_write: Value | None = None,
    t_edge: Value | None = None,
) -> PulseTrain:
    """The model's default drive with the user's overrides applied."""
    changes: dict[str, float] = {}
    if t_on is not None:
        changes["t_on_s"] = parse_value(t_on, "s", name="t_on")
    if t_off is not None:
        changes["t_off_s"] = parse_value(t_off, "s", name="t_off")
    if t_edge is not None:
        changes["t_edge_s"] = parse_value(t_edge, "s", name="t_edge")
    if j_write is not None and i_write is not None:
        raise ModelParameterError("give --j-write or --i-write, not both")
    if j_write is not None:
        if cell.drive_quantity != "j":
            raise ModelParameterError(
                f"model {cell.model} is driven by a current: use --i-write (A), not --j-write"
            )
        changes["amplitude"] = parse_value(j_write, "A/m^2", name="j_write")
    if i_write is not None:
        if cell.drive_quantity != "i":
            raise ModelParameterError(
                f"model {cell.model} is driven by a current density: use --j-write (A/m^2), not --i-write"
            )
        changes["amplitude"] = parse_value(i_write, "A", name="i_write")
    drive = cell.default_drive()
    if "t_on_s" in changes and "t_edge_s" not in changes:
        changes["t_edge_s"] = min(drive.t_edge_s, changes["t_on_s"] / 10)
    return drive.replace(**changes)


def neuron_setup(
    model: str = "dw-lif",
    preset: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    t_on_s: Value | None = None,
    t_off_s: Value | None = None,
    t_edge_s: Value | None = None,
    j_write_a_per_m2: Value | None = None,
    i_write_a: Value | None = None,
    duration_s: Value | None = None,
    param_file: str | Path | None = None,
) -> NeuronSetup:
    """Resolve user settings into a cell, drive and duration.

    ``param_file`` (a ``params.json`` of ``spinspice calibrate``) is applied
    first, then ``params``; drive settings may also come in ``params``
    (``t_on=1n`` is ``t_on_s="1n"``), an explicit argument wins.  The write
    amplitude is a current density (``j_write_a_per_m2``) or a current
    (``i_write_a``), as the model is driven; a given ``t_on_s`` without
    ``t_edge_s`` caps the edges at a tenth of it.
    """
    spec = get_model(model)
    settings: dict[str, Any] = {}
    if param_file is not None:
        from spinspice.experiments.calibrate import read_param_file

        settings.update(read_param_file(param_file, model))
    settings.update(params or {})
    if not spec.spiking:
        raise ModelParameterError(
            f"{model} is not a neuron model (it does not spike); `spinspice models` marks the spiking ones"
        )
    cell, preset_name = get_cell(model, preset)
    drive_text = {
        key: settings.pop(name) for key, names in DRIVE_PARAMS.items() for name in names if name in settings
    }
    cell = cell.with_text(settings)
    drive = _drive(
        cell,
        t_on_s if t_on_s is not None else drive_text.get("t_on"),
        t_off_s if t_off_s is not None else drive_text.get("t_off"),
        j_write_a_per_m2 if j_write_a_per_m2 is not None else drive_text.get("j_write"),
        i_write_a if i_write_a is not None else drive_text.get("i_write"),
        t_edge_s if t_edge_s is not None else drive_text.get("t_edge"),
    )
    duration = (
        parse_value(duration_s, "s", name="duration")
        if duration_s is not None
        else cell.default_duration_s(drive)
    )
    if not duration > 0:
        raise ModelParameterError(f"duration = {duration:g} s is outside its allowed range (0, inf) s")
    return NeuronSetup(cell, preset_name, drive, duration)


def _swept_value(swept: str, quantity: str, value: float) -> str:
    """A swept drive value with its name and unit: ``t_off 1.5 ns``, ``J 6e+10 A/m^2``, ``I 768 µA``."""
    if swept == "t_off_s":
        return f"t_off {eng(value, 's')}"
    return f"J {value:.4g} A/m^2" if quantity == "j" else f"I {eng(value, 'A')}"


@dataclasses.dataclass(repr=False, eq=False)
class NeuronRunResult(StudyResult):
    """One neuron run: :attr:`run` holds the testbench, netlist, waveforms and reference.

    Files: ``netlist.cir``, ``waveforms.npz``, ``neuron.png``, ``report.json``
    (schema ``spinspice.neuron``) and ``report.md``.
    """

    run: NeuronResult

    def report(self) -> dict[str, Any]:
        return {**self.run.report(), "files": neuron_files()}

    def summary(self) -> str:
        r = self.report()
        err = r["max_spike_time_error_s"]
        terms = ", ".join(f"{t['component']} {t['fraction'] * 100:.0f}%" for t in r["dominant_energy_terms"])
        return "\n".join(
            [
                f"{r['n_spikes']} spikes; first-spike latency {eng(r['first_spike_latency_s'], 's')}"
                + "; max error vs scipy reference "
                + ("n/a" if err is None else f"{eng(err, 's')} over {r['n_spikes_compared']} spikes"),
                f"energy per spike {eng(r['energy_per_spike_j'], 'J')} ({terms})"
                + accuracy_note(r.get("accuracy")),
                *(f"warning: {w}" for w in r.get("warnings", [])),
                *self._report_line("report.md"),
                *self._report_line("report.html", "html: "),
            ]
        )

    def _write_files(self, folder: Path) -> None:
        write_neuron_outputs(self.run, folder)


@dataclasses.dataclass(repr=False, eq=False)
class NeuronSweepResult(StudyResult):
    """One neuron run per value of the swept drive field :attr:`swept` (``t_off_s`` or
    ``amplitude``).  Files: every point's run in ``point_<k>_<field>_<value>/``,
    ``sweep.json`` (schema ``spinspice.neuron_sweep``) and ``sweep.png``."""

    swept: str
    values: list[float]
    runs: list[NeuronResult]
    seed: int | None = None

    def report(self) -> dict[str, Any]:
        return sweep_report(self.runs, self.swept, self.values, seed=self.seed)

    def summary(self) -> str:
        quantity = self.runs[0].cell.drive_quantity
        return "\n".join(
            [
                f"{_swept_value(self.swept, quantity, p['value'])}: {p['n_spikes']} spike"
                + ("s" if p["n_spikes"] != 1 else "")
                + ", latency "
                + f"{eng(p['first_spike_latency_s'], 's')}, rate {eng(p['spike_rate_hz'], 'Hz')}"
                for p in self.report()["points"]
            ]
            + self._report_line("sweep.json")
        )

    def _write_files(self, folder: Path) -> None:
        write_sweep(self.runs, self.report(), folder)


def run_neuron(
    model: str = "dw-lif",
    preset: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    t_on_s: Value | None = None,
    t_off_s: Value | None = None,
    t_edge_s: Value | None = None,
    j_write_a_per_m2: Value | None = None,
    i_write_a: Value | None = None,
    duration_s: Value | None = None,
    param_file: str | Path | None = None,
    backend: str = "shared",
    reference: bool = True,
    timeout_s: float | None = None,
    seed: int = 0,
    out: str | Path | None = None,
) -> NeuronRunResult:
    """Simulate one cell of ``model`` driven by write pulses; check it against the scipy reference.

    Settings as in :func:`neuron_setup`; ``backend``: ``shared`` (in-process
    ngspice) or ``batch`` (``ngspice -b``); ``reference=False`` skips the
    scipy reference; ``timeout_s`` bounds the simulation; stochastic models
    draw their noise from ``seed``.  ``out``: also write the run's files there.

    >>> r = run_neuron("dw-lif", params={"j_reset": "5e11"}, duration_s="40n")  # doctest: +SKIP
    >>> r.report()["n_spikes"]  # doctest: +SKIP
    """
    if timeout_s is not None:
        check_setting("timeout", timeout_s, low=0.0, low_open=True, unit="s")
    seed_all(seed)
    setup = neuron_setup(
        model,
        preset,
        params,
        t_on_s=t_on_s,
        t_off_s=t_off_s,
        t_edge_s=t_edge_s,
        j_write_a_per_m2=j_write_a_per_m2,
        i_write_a=i_write_a,
        duration_s=duration_s,
        param_file=param_file,
    )
    run = simulate_cell(
        setup.cell,
        setup.drive,
        setup.duration_s,
        backend=backend,
        reference=reference,
        preset=setup.preset,
        seed=seed,
        timeout_s=timeout_s,
        netlist_path=None if out is None else Path(out) / "netlist.cir",
    )
    return NeuronRunResult(run)._publish(out)


def run_neuron_sweep(
    model: str = "dw-lif",
    preset: str | None = None,
    params: Mapping[str, Any] | None = None,
    *,
    sweep: str,
    values: Sequence[Value],
    t_on_s: Value | None = None,
    t_off_s: Value | None = None,
    t_edge_s: Value | None = None,
    j_write_a_per_m2: Value | None = None,
    i_write_a: Value | None = None,
    duration_s: Value | None = None,
    param_file: str | Path | None = None,
    backend: str = "shared",
    reference: bool = True,
    timeout_s: float | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    progress: Any = None,
) -> NeuronSweepResult:
    """:func:`run_neuron` once per value of ``sweep``: ``t_off_s`` (latency vs input frequency),
    ``j_write_a_per_m2`` or ``i_write_a`` (rate vs write current, as the model is driven).

    Every other setting is that of :func:`run_neuron`; ``progress``: a rich
    progress display (``add_task``/``advance``), None for none.
    """
    seed_all(seed)
    if sweep not in SWEEPS:
        raise ModelParameterError(f"cannot sweep {sweep!r}: sweep one of {', '.join(SWEEPS)}")
    if not len(values):
        raise ModelParameterError(f"sweep of {sweep}: give at least one value")
    setup = neuron_setup(
        model,
        preset,
        params,
        t_on_s=t_on_s,
        t_off_s=t_off_s,
        t_edge_s=t_edge_s,
        j_write_a_per_m2=j_write_a_per_m2,
        i_write_a=i_write_a,
        duration_s=duration_s,
        param_file=param_file,
    )
    name = "t_off_s" if sweep == "t_off_s" else "amplitude"
    if name == "amplitude":  # the swept quantity must be the one that drives the model
        _drive(
            setup.cell,
            j_write=values[0] if sweep == "j_write_a_per_m2" else None,
            i_write=values[0] if sweep == "i_write_a" else None,
        )
    swept = [parse_value(v, SWEEPS[sweep], name=sweep) for v in values]
    with displayed(progress) as shown:
        runs = sweep_cell(
            setup.cell,
            setup.drive,
            setup.duration_s,
            name,
            swept,
            progress=shown,
            backend=backend,
            reference=reference,
            preset=setup.preset,
            timeout_s=timeout_s,
            seed=seed,
        )
        return NeuronSweepResult(name, swept, runs, seed)._publish(out)
