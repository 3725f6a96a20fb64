"""Registry of device models, so the CLI, docs and tests can iterate over them.

Each :class:`ModelSpec` names a model, its parameter sets, its equations and
its Verilog-A builder.  Tests are parametrised over :data:`MODELS`, so a new
model is covered automatically (gdsfactory's ``get_cells`` habit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from spinspice.errors import ModelParameterError, did_you_mean
from spinspice.models import dwlif, mtj
from spinspice.models.compact import CompactModel
from spinspice.models.expr import Equation
from spinspice.models.params import ParamSet

__all__ = ["MODELS", "ModelSpec", "get_model"]


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    title: str
    source: str
    param_sets: tuple[type[ParamSet], ...]
    equations: tuple[Equation, ...]
    compact_model: Callable[[], CompactModel]
    spiking: bool
    doc: str


MODELS: dict[str, ModelSpec] = {
    "dw-lif": ModelSpec(
        name="dw-lif",
        title="field-free DW-LIF neuron read by an MTJ",
        source="paper 001 Eq. 2-4",
        param_sets=(dwlif.DWLIFParams, mtj.MTJParams, mtj.ReadDividerParams),
        equations=(dwlif.DWLIF_RHS, dwlif.AREA, dwlif.R_TRACK, mtj.MTJ_RESISTANCE[True]),
        compact_model=lambda: dwlif.compact_model(dwlif.DWLIFParams(), mtj.MTJParams()),
        spiking=True,
        doc=(dwlif.__doc__ or "").strip().splitlines()[0],
    ),
    "mtj-read": ModelSpec(
        name="mtj-read",
        title="MTJ read-out with bias-dependent TMR",
        source="paper 001 Eq. 2-3",
        param_sets=(mtj.MTJParams, mtj.ReadDividerParams),
        equations=(mtj.MTJ_RESISTANCE[True], mtj.MTJ_RESISTANCE[False], mtj.COSINE_OF_R),
        compact_model=lambda: mtj.compact_model(mtj.MTJParams()),
        spiking=False,
        doc=(mtj.__doc__ or "").strip().splitlines()[0],
    ),
}


def get_model(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ModelParameterError(
            f"unknown model {name!r}{did_you_mean(name, MODELS)}; `spinspice models` lists them"
        )
    return MODELS[name]
