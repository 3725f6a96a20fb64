"""Registry of neuron cells: model name -> cell class and its documented presets.

``spinspice neuron --model M --preset P`` and the tests iterate over
:data:`NEURON_CELLS`, so a new model is covered as soon as it is registered.
The first preset of a model is its default.
"""

from __future__ import annotations

from typing import Any

from spinspice.circuits.cell import DWLIFCell, InputDriverParams
from spinspice.circuits.cellbase import CellParams
from spinspice.circuits.comparator import ComparatorParams
from spinspice.circuits.library import DWMTJCell, FieldGatedCell, LIFCell, SAFLIFCell
from spinspice.circuits.steered import ResetSinkParams
from spinspice.errors import ModelParameterError, did_you_mean
from spinspice.models.dwlif import DWLIFParams
from spinspice.models.dwmtj import DWMTJParams
from spinspice.models.fieldgate import FieldGateParams, FieldLineParams, HallReadoutParams
from spinspice.models.saflif import SAFLIFParams

__all__ = ["NEURON_CELLS", "catalog", "get_cell", "register_cell"]

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
            f"no neuron cell for model {model!r}{did_you_mean(model, NEURON_CELLS)}; "
            "`spinspice models` lists the spiking ones"
        )
    presets = NEURON_CELLS[model].presets
    name = preset or next(iter(presets))
    if name not in presets:
        raise ModelParameterError(
            f"model {model} has no preset {name!r}{did_you_mean(name, presets)}; "
            f"presets: {', '.join(presets)}"
        )
    return presets[name], name


# --- documented presets ----------------------------------------------------------------
DWLIFCell.presets = {"paper-001": DWLIFCell()}

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
FieldGatedCell.presets = {
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

SAFLIFCell.presets = {
    "paper-002": SAFLIFCell(),
    "paper-002-3us": SAFLIFCell(
        saf=SAFLIFParams(tau_int_s=3e-6, tau_leak_s=3e-6),
        comparator=ComparatorParams(tau_comp_s=1e-9),
    ),
}

_D = DWMTJParams()
DWMTJCell.presets = {
    "paper-004-12": DWMTJCell(dwmtj=DWMTJParams(x_b_m=_D.x_b_for_pulses(12, 1e11, 40e-9))),
    "paper-004-35": DWMTJCell(dwmtj=DWMTJParams(x_b_m=_D.x_b_for_pulses(35, 1e11, 40e-9))),
}

LIFCell.presets = {"snntorch-leaky": LIFCell()}

for _cls in (DWLIFCell, FieldGatedCell, SAFLIFCell, DWMTJCell, LIFCell):
    register_cell(_cls)


def _info_row(info: Any, value: Any, group: str) -> dict[str, Any]:
    return {
        "name": info.name,
        "unit": info.unit,
        "default": value,
        "range": info.range_text(),
        "source": info.source,
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
    from spinspice.models.registry import MODELS

    out = []
    for spec in MODELS.values():
        cell_cls = NEURON_CELLS.get(spec.name)
        device_sets = {ps.__name__ for ps in spec.param_sets}
        params, circuit, presets = [], [], []
        if cell_cls is not None:
            presets = list(cell_cls.presets)
            cell = next(iter(cell_cls.presets.values()))
            values = cell.values()
            for _group, ps in cell.groups().items():
                rows = [_info_row(i, values[i.name], type(ps).__name__) for i in ps.param_info()]
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
