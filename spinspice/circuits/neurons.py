"""Registry of neuron cells: model name -> cell class and its documented presets.

``spinspice neuron --model M --preset P`` and the tests iterate over
:data:`NEURON_CELLS`, so a new model is covered as soon as it is registered.
"""

from __future__ import annotations

from spinspice.circuits.cell import DWLIFCell
from spinspice.circuits.cellbase import CellParams
from spinspice.errors import ModelParameterError, did_you_mean

__all__ = ["NEURON_CELLS", "get_cell", "register_cell"]

#: model name -> cell class (each with a ``presets`` mapping; the first is the default)
NEURON_CELLS: dict[str, type[CellParams]] = {}


def register_cell(cls: type[CellParams]) -> type[CellParams]:
    if not cls.model or not cls.presets:
        raise ModelParameterError(f"{cls.__name__} needs a model name and at least one preset")
    NEURON_CELLS[cls.model] = cls
    return cls


def get_cell(model: str, preset: str | None = None) -> tuple[CellParams, str]:
    """The cell of ``model`` with ``preset`` (default: its first preset) and the preset name."""
    if model not in NEURON_CELLS:
        raise ModelParameterError(
            f"unknown model {model!r}{did_you_mean(model, NEURON_CELLS)}; `spinspice models` lists them"
        )
    presets = NEURON_CELLS[model].presets
    name = preset or next(iter(presets))
    if name not in presets:
        raise ModelParameterError(
            f"model {model} has no preset {name!r}{did_you_mean(name, presets)}; "
            f"presets: {', '.join(presets)}"
        )
    return presets[name], name


DWLIFCell.presets = {"paper-001": DWLIFCell()}
register_cell(DWLIFCell)
