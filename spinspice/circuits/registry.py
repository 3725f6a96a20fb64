"""The one registry of device models, neuron cells and their documented presets.

- :data:`MODELS`: every device model (name, parameter sets, equations, Verilog-A builder);
- :data:`NEURON_CELLS`: model name -> the cell class that realises it in a circuit;
- :data:`PRESETS`: model name -> documented cells (name -> instance), the first the default.

Each preset is defined once, here; nothing is attached to a class and nothing is filled
by importing another module.  ``spinspice models``, ``spinspice neuron --model M
--preset P``, the docs and the tests iterate over these tables, so a new model is covered
as soon as it is added (gdsfactory's ``get_cells`` habit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from spinspice.circuits.cell import DWLIFCell, InputDriverParams
from spinspice.circuits.cellbase import CellParams
from spinspice.circuits.comparator import ComparatorParams
from spinspice.circuits.library import DWMTJCell, FieldGatedCell, LIFCell, SAFLIFCell
from spinspice.circuits.steered import ResetSinkParams
from spinspice.errors import ModelParameterError, did_you_mean
from spinspice.models import cogd, dwlif, dwmtj, fieldgate, lif, mtj, saflif
from spinspice.models.compact import CompactModel
from spinspice.models.dwlif import DWLIFParams
from spinspice.models.dwmtj import DWMTJParams
from spinspice.models.expr import Equation
from spinspice.models.fieldgate import FieldGateParams, FieldLineParams, HallReadoutParams
from spinspice.models.params import ParamSet
from spinspice.models.saflif import SAFLIFParams

__all__ = [
    "MODELS",
    "NETWORK_PRESETS",
    "NEURON_CELLS",
    "PRESETS",
    "PRESET_SOURCES",
    "ModelSpec",
    "catalog",
    "get_cell",
    "get_model",
    "get_presets",
    "network_preset",
    "preset_source",
]


# --- device models -----------------------------------------------------------------
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


# --- documented presets ----------------------------------------------------------------
_DWLIF = {"paper-001": DWLIFCell()}

#: the measured [Ta/CoFeB/MgO]x20 Hall-bar mem-transistor of paper 001 (Fig. 1-4):
#: 2 um x 50 um arm, 500 us pulses at 13 mA (6e10 A/m^2), Hall read-out, threshold windows
_HALLBAR = DWLIFParams(
    alpha_per_s=0.0,
    beta_per_s=-20.0,
    gamma_m2_per_a_s=2.67e-9,
    m_th=0.6,
    j_reset_a_per_m2=6e10,
    eps_rate_per_s=1.0,
    track_length_m=50e-6,
    track_width_m=2e-6,
    t_cofeb_m=0.5e-9,
)
_FIELD_GATED = {
    "paper-001-hallbar": FieldGatedCell(
        device=_HALLBAR,
        fieldline=FieldLineParams(k_h_oe_per_a=1000.0, r_line_ohm=1.0),
        hall=HallReadoutParams(v_hall_full_v=50e-6),
        comparator=ComparatorParams(tau_comp_s=1e-6),
        drivers=InputDriverParams(v_dd_write_v=10.0, headroom_write_v=1.0),
        reset=ResetSinkParams(v_ss_reset_v=-10.0),
    ),
    # the scaled 256 x 64 nm DW-LIF of paper 001 with field-line gating and MTJ read-out
    "paper-001-scaled": FieldGatedCell(
        gate=FieldGateParams(j_ref_a_per_m2=7.7e10),
        hall=HallReadoutParams(use_hall_readout=False),
        reset=ResetSinkParams(v_ss_reset_v=-0.8),
    ),
}

_SAFLIF = {
    "paper-002": SAFLIFCell(),
    "paper-002-3us": SAFLIFCell(
        saf=SAFLIFParams(tau_int_s=3e-6, tau_leak_s=3e-6, release_frac=0.5),
        comparator=ComparatorParams(tau_comp_s=1e-9),
    ),
}

_D = DWMTJParams()
_DWMTJ = {
    "paper-004-12": DWMTJCell(dwmtj=DWMTJParams(x_b_m=_D.x_b_for_pulses(12, 1e11, 40e-9))),
    "paper-004-35": DWMTJCell(dwmtj=DWMTJParams(x_b_m=_D.x_b_for_pulses(35, 1e11, 40e-9))),
}

_LIF = {"snntorch-leaky": LIFCell()}


#: model name -> preset -> parameter -> where the preset's value comes from.  A preset that
#: changes a parameter from its field default says why here (the field's own source
#: describes the default, often in other units); ``tests/test_registry.py`` checks that every
#: changed value has an entry, so no preset inherits a provenance that is not its own.
PRESET_SOURCES: dict[str, dict[str, dict[str, str]]] = {
    "field-gated-lif": {
        "paper-001-hallbar": {
            "alpha_per_s": "paper 001 Fig. 1d/7a (Hall bar, ms scale): no quadratic leak resolved; "
            "modelling choice",
            "beta_per_s": "fitted to paper 001 Fig. 1d (read-out relaxes over tens of ms without current); "
            "modelling choice",
            "gamma_m2_per_a_s": "fitted to paper 001 Fig. 1d/4a: gamma J = 160 1/s at 13 mA (6e10 A/m^2), "
            "~9 pulses of 500 us to m_th",
            "m_th": "paper 001 Fig. 4f: the 200-Oe window (28 uV) is ~0.6 of the 50 uV full Hall signal",
            "j_reset_a_per_m2": "paper 001 Fig. 1d write density (6e10 A/m^2) reversed; the paper resets "
            "with a field: modelling choice",
            "eps_rate_per_s": "modelling choice: smoothing rate for the ms time scale of the Hall bar",
            "track_length_m": "modelling choice: Hall-bar arm length (not given in paper 001; sets only "
            "the track resistance)",
            "track_width_m": "paper 001 Fig. 1d text: 13 mA = 6e10 A/m^2 through the x20 "
            "(Ta 5 nm/CoFeB 0.5 nm) stack gives a 2 um wide bar",
            "t_cofeb_m": "paper 001 Methods (CoFeB x not given): 0.5 nm, consistent with 13 mA = 6e10 A/m^2",
            "k_h_oe_per_a": "modelling choice: a wide line over the 2 um bar (200 Oe at 0.2 A)",
            "r_line_ohm": "modelling choice: a wide, short Cu line over the Hall bar",
            "v_hall_full_v": "paper 001 Fig. 2c/4f (signals up to ~40 uV): 50 uV at m = 1; modelling choice",
            "tau_comp_s": "modelling choice: a us-class comparator for the ms-scale Hall read-out "
            "(paper 001: read OP-AMP comparator)",
            "v_dd_write_v": "modelling choice: current-source compliance for 13 mA into the bar "
            "(paper 001 Methods: Keithley 6221)",
            "headroom_write_v": "modelling choice: current-source compliance margin",
        },
        "paper-001-scaled": {
            "j_ref_a_per_m2": "chosen so that the scaled device's 1e11 A/m^2 write sees the window the bar "
            "has at 15 mA (6.5e10 A/m^2, paper 001 Fig. 2c): 5e10 x 1e11/6.5e10",
            "use_hall_readout": "paper 001 Fig. 1a/6: the scaled device is read by an MTJ",
            "v_ss_reset_v": "modelling choice: a -0.8 V reset rail, the mirror of the 0.8 V supplies",
        },
    },
    "saf-lif": {
        "paper-002": {
            "tau_comp_s": "modelling choice: a us-class comparator for the ms-scale neuron",
        },
        "paper-002-3us": {
            "tau_int_s": "paper 002 SNN study: tau_int scaled down to 3 us",
            "tau_leak_s": "paper 002 SNN study: tau_leak scaled down to 3 us",
            "release_frac": "comparator hysteresis V_th - V_release = 27 uV, half the 54 uV span: the "
            "hysteretic comparator windows measured on uV Hall read-outs (paper 001 Fig. 4f: 17-37 uV, "
            "28 uV at 200 Oe); the SAF self-reset then takes tau_leak ln 2 (docs/saf-lif.md)",
            "tau_comp_s": "modelling choice: a ns-class comparator for the us-scale neuron",
        },
    },
    "dw-mtj-autoreset": {
        "paper-004-12": {
            "x_b_m": "paper 004 Fig. 5b: MTJ_B placed where the wall arrives after ~12 pulses of 1e11 A/m^2",
            "tau_comp_s": "modelling choice: a 200 ps comparator for 50 ns pulses",
            "v_dd_write_v": "modelling choice: 1.2 V supplies for the 4-terminal device's write path",
        },
        "paper-004-35": {
            "x_b_m": "paper 004 Fig. 5b: MTJ_B placed where the wall arrives after ~35 pulses of 1e11 A/m^2",
            "tau_comp_s": "modelling choice: a 200 ps comparator for 50 ns pulses",
            "v_dd_write_v": "modelling choice: 1.2 V supplies for the 4-terminal device's write path",
        },
    },
}


def preset_source(model: str, preset: str, name: str, default: str) -> str:
    """Where preset ``preset`` of ``model`` takes parameter ``name`` from (``default``: the
    field's own source, for a value the preset does not change)."""
    return PRESET_SOURCES.get(model, {}).get(preset, {}).get(name, default)


#: model name -> the cell class that realises it
NEURON_CELLS: dict[str, type[CellParams]] = {
    cls.model: cls for cls in (DWLIFCell, FieldGatedCell, SAFLIFCell, DWMTJCell, LIFCell)
}

#: model name -> its documented cells (name -> instance); the first is the model's default
PRESETS: dict[str, dict[str, CellParams]] = {
    "dw-lif": _DWLIF,
    "field-gated-lif": _FIELD_GATED,
    "saf-lif": _SAFLIF,
    "dw-mtj-autoreset": _DWMTJ,
    "lif": _LIF,
}


#: model name -> the preset a *network* of that model uses unless told otherwise, where it is
#: not the model's default: the measured field-gated Hall bar (500 us writes, uV Hall read-out,
#: a 425 ohm track) cannot carry a trained layer's write currents, the scaled 256 x 64 nm
#: device of paper 001 (1 ns writes, MTJ read) is the one paper 001 proposes for its networks.
NETWORK_PRESETS: dict[str, str] = {"field-gated-lif": "paper-001-scaled"}


def network_preset(model: str, preset: str | None = None) -> str | None:
    """The preset a network of ``model`` uses: ``preset`` when given, else the model's network
    preset (:data:`NETWORK_PRESETS`), else None (the model's default)."""
    return preset or NETWORK_PRESETS.get(model)


def get_presets(model: str) -> Mapping[str, CellParams]:
    """The documented cells of neuron model ``model`` (name -> cell; the first is the default)."""
    if model not in PRESETS:
        raise ModelParameterError(
            f"no neuron cell for model {model!r}{did_you_mean(model, PRESETS)}; "
            "`spinspice models` lists the spiking ones"
        )
    return PRESETS[model]


def get_cell(model: str, preset: str | None = None) -> tuple[CellParams, str]:
    """The cell of ``model`` with ``preset`` (default: its first preset) and the preset name."""
    presets = get_presets(model)
    name = preset or next(iter(presets))
    if name not in presets:
        raise ModelParameterError(
            f"model {model} has no preset {name!r}{did_you_mean(name, presets)}; "
            f"presets: {', '.join(presets)}"
        )
    return presets[name], name


def _info_row(info: Any, value: Any, group: str, source: str | None = None) -> dict[str, Any]:
    return {
        "name": info.name,
        "unit": info.unit,
        "default": value,
        "range": info.range_text(),
        "source": source or info.source,
        "description": info.desc,
        "group": group,
    }


def catalog() -> list[dict[str, Any]]:
    """Every registered model with its parameters (name, unit, default, range, source).

    Defaults are those of the model's default preset (its first), so the
    listing shows what ``spinspice neuron --model M`` simulates.  Circuit
    parameters (read-out, comparator, drivers ...) are listed apart from the
    device's own.
    """
    out = []
    for spec in MODELS.values():
        presets_of = PRESETS.get(spec.name)
        device_sets = {ps.__name__ for ps in spec.param_sets}
        params, circuit, presets = [], [], []
        if presets_of is not None:
            presets = list(presets_of)
            cell = next(iter(presets_of.values()))
            values = cell.values()
            for _group, ps in cell.groups().items():
                rows = [
                    _info_row(
                        i,
                        values[i.name],
                        type(ps).__name__,
                        preset_source(spec.name, presets[0], i.name, i.source),
                    )
                    for i in ps.param_info()
                ]
                (params if type(ps).__name__ in device_sets else circuit).extend(rows)
            listed = {type(ps).__name__ for ps in cell.groups().values()}
        else:
            listed = set()
        for ps in spec.param_sets:
            if ps.__name__ not in listed:
                params.extend(_info_row(i, i.default, ps.__name__) for i in ps.param_info())
        out.append(
            {
                "name": spec.name,
                "title": spec.title,
                "source": spec.source,
                "spiking": spec.spiking,
                "presets": presets,
                "parameters": params,
                "circuit_parameters": circuit,
            }
        )
    return out
