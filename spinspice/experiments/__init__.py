"""Single-device studies: one neuron cell, field maps, pulse-count distributions, Co/Gd, calibration.

The public API is one function per study.  Each takes settings (SI values, or
text with SI suffixes such as ``"1n"``), writes its files into ``out=`` when
given, and returns a :class:`spinspice.io.Result`: ``.report()`` (the JSON
report, schemas in docs/reports.md), ``.summary()`` (what ``spinspice`` prints)
and ``.write(folder)`` (the files, atomically).  Every ``spinspice`` device
command is one of these calls:

=====================  ====================================  =================================
function               module                                command
=====================  ====================================  =================================
``list_models``        :mod:`~.catalog`                      ``spinspice models``
``run_neuron``         :mod:`~.neuron_study`                 ``spinspice neuron``
``run_neuron_sweep``   :mod:`~.neuron_study`                 ``spinspice neuron --sweep-...``
``run_activation``     :mod:`~.cogd`                         ``neuron --model cogd-sigmoid``
``run_stdp``           :mod:`~.cogd`                         ``spinspice stdp``
``run_fieldmap``       :mod:`~.fieldmap`                     ``spinspice fieldmap``
``run_distribution``   :mod:`~.distribution`                 ``spinspice distribution``
``run_calibration``    :mod:`~.calibrate`                    ``spinspice calibrate``
=====================  ====================================  =================================

The building blocks live in the same modules: :mod:`~.neuron`
(``simulate_cell``: one cell under a pulse train, checked against its scipy
reference, and its metrics), :mod:`~.neuron_sweep`, :mod:`~.neuron_report` and
:mod:`~.plots` (files and figures of neuron runs), ``activation_curve`` /
``stdp_window`` (:mod:`~.cogd`), ``field_map``, ``pulse_count_distribution``,
``calibrate`` with the trace readers, and :mod:`~.results` (the results' base).

The names below are imported on first use, so ``import spinspice.experiments.neuron``
does not load scipy's optimisers or the Co/Gd circuits.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from spinspice.experiments.calibrate import CalibrationResult, run_calibration
    from spinspice.experiments.catalog import ModelsResult, list_models
    from spinspice.experiments.cogd import ActivationResult, STDPResult, run_activation, run_stdp
    from spinspice.experiments.distribution import DistributionResult, run_distribution
    from spinspice.experiments.fieldmap import FieldMapResult, run_fieldmap
    from spinspice.experiments.neuron_study import (
        NeuronRunResult,
        NeuronSweepResult,
        run_neuron,
        run_neuron_sweep,
    )

#: public name -> the module (in this package) that defines it
_EXPORTS = {
    "list_models": "catalog",
    "ModelsResult": "catalog",
    "run_neuron": "neuron_study",
    "run_neuron_sweep": "neuron_study",
    "NeuronRunResult": "neuron_study",
    "NeuronSweepResult": "neuron_study",
    "run_activation": "cogd",
    "run_stdp": "cogd",
    "ActivationResult": "cogd",
    "STDPResult": "cogd",
    "run_fieldmap": "fieldmap",
    "FieldMapResult": "fieldmap",
    "run_distribution": "distribution",
    "DistributionResult": "distribution",
    "run_calibration": "calibrate",
    "CalibrationResult": "calibrate",
}

__all__ = [
    "ActivationResult",
    "CalibrationResult",
    "DistributionResult",
    "FieldMapResult",
    "ModelsResult",
    "NeuronRunResult",
    "NeuronSweepResult",
    "STDPResult",
    "list_models",
    "run_activation",
    "run_calibration",
    "run_distribution",
    "run_fieldmap",
    "run_neuron",
    "run_neuron_sweep",
    "run_stdp",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
