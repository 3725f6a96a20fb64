"""Registry of device models, so the CLI, docs and tests can iterate over them.

Each :class:`ModelSpec` names a model, its parameter sets, its equations and
its Verilog-A builder.  Tests are parametrised over :data:`MODELS` (and the
neuron cells over ``spinspice.circuits.neurons.NEURON_CELLS``), so a new model
is covered automatically (gdsfactory's ``get_cells`` habit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from spinspice.errors import ModelParameterError, did_you_mean
from spinspice.models import cogd, dwlif, dwmtj, fieldgate, lif, mtj, saflif
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


def _first_line(module: object) -> str:
    return (getattr(module, "__doc__", "") or "").strip().splitlines()[0]


def _dwmtj_compact() -> CompactModel:
    p = dwmtj.DWMTJParams()
    return dwmtj.compact_model(p, dwmtj.flag_values(p))


def _field_gated_compact() -> CompactModel:
    base = dwlif.compact_model(dwlif.DWLIFParams(), mtj.MTJParams())
    return fieldgate.compact_model(base, fieldgate.FieldGateParams())


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="dw-lif",
            title="DW-LIF neuron read by an MTJ",
            source="paper 001 Eq. 2-4",
            param_sets=(dwlif.DWLIFParams, mtj.MTJParams, mtj.ReadDividerParams),
            equations=(dwlif.DWLIF_RHS, dwlif.AREA, dwlif.R_TRACK, mtj.MTJ_RESISTANCE[True]),
            compact_model=lambda: dwlif.compact_model(dwlif.DWLIFParams(), mtj.MTJParams()),
            spiking=True,
            doc=_first_line(dwlif),
        ),
        ModelSpec(
            name="field-gated-lif",
            title="field-gated DW-LIF mem-transistor (field line + excitatory window)",
            source="paper 001 Eq. 4, Fig. 1e-4",
            param_sets=(
                dwlif.DWLIFParams,
                fieldgate.FieldGateParams,
                fieldgate.FieldLineParams,
                fieldgate.HallReadoutParams,
            ),
            equations=(fieldgate.FIELD_WINDOW, fieldgate.FIELD_GATED_RHS),
            compact_model=_field_gated_compact,
            spiking=True,
            doc=_first_line(fieldgate),
        ),
        ModelSpec(
            name="saf-lif",
            title="SAF-coupled Co/Pt DW LIF neuron with self-reset",
            source="paper 002 Eq. 1",
            param_sets=(saflif.SAFLIFParams,),
            equations=(saflif.SAF_RHS,),
            compact_model=lambda: saflif.compact_model(saflif.SAFLIFParams()),
            spiking=True,
            doc=_first_line(saflif),
        ),
        ModelSpec(
            name="dw-mtj-autoreset",
            title="two-wall DW-MTJ integrate-and-fire with automatic reset, stochastic",
            source="paper 004 (1D wall model)",
            param_sets=(dwmtj.DWMTJParams,),
            equations=(
                dwmtj.VELOCITY,
                dwmtj.POSITION_RHS,
                dwmtj.FLAG_RHS,
                dwmtj.MTJ_A_RESISTANCE,
                dwmtj.MTJ_B_RESISTANCE,
            ),
            compact_model=_dwmtj_compact,
            spiking=True,
            doc=_first_line(dwmtj),
        ),
        ModelSpec(
            name="cogd-sigmoid",
            title="Co/Gd sigmoid neuron and multilevel synapse (STDP)",
            source="paper 003 Fig. 3-4",
            param_sets=(cogd.CoGdParams, cogd.CoGdSynapseParams),
            equations=(cogd.SIGMOID, cogd.COGD_RHS),
            compact_model=lambda: cogd.compact_model(cogd.CoGdParams()),
            spiking=False,
            doc=_first_line(cogd),
        ),
        ModelSpec(
            name="lif",
            title="ideal LIF (snnTorch Leaky equivalent), software baseline",
            source="snnTorch Leaky; paper 001 Table 2",
            param_sets=(lif.LIFParams,),
            equations=(lif.LIF_RHS, lif.LIF_RESET_CURRENT),
            compact_model=lambda: lif.compact_model(lif.LIFParams()),
            spiking=True,
            doc=_first_line(lif),
        ),
        ModelSpec(
            name="mtj-read",
            title="MTJ read-out with bias-dependent TMR",
            source="paper 001 Eq. 2-3",
            param_sets=(mtj.MTJParams, mtj.ReadDividerParams),
            equations=(mtj.MTJ_RESISTANCE[True], mtj.MTJ_RESISTANCE[False], mtj.COSINE_OF_R),
            compact_model=lambda: mtj.compact_model(mtj.MTJParams()),
            spiking=False,
            doc=_first_line(mtj),
        ),
    )
}


def get_model(name: str) -> ModelSpec:
    if name not in MODELS:
        raise ModelParameterError(
            f"unknown model {name!r}{did_you_mean(name, MODELS)}; `spinspice models` lists them"
        )
    return MODELS[name]
