from __future__ import annotations

import pytest

from spinspice.circuits.cell import DWLIFCell
from spinspice.errors import ModelParameterError
from spinspice.models.dwlif import DWLIFParams
from spinspice.models.mtj import MTJParams, ReadDividerParams
from spinspice.models.waveforms import PulseTrain


@pytest.mark.parametrize(
    ("factory", "name", "needle"),
    [
        (lambda: ReadDividerParams(r_read_ohm=-5.0), "r_read_ohm", "(0, inf)"),
        (lambda: DWLIFParams(m_th=1.5), "m_th", "(-1, 1)"),
        (lambda: DWLIFParams(m_th=-1.0), "m_th", "(-1, 1)"),
        (lambda: PulseTrain(t_on_s=0.0), "t_on_s", "(0, inf)"),
        (lambda: PulseTrain(t_on_s=-1e-9), "t_on_s", "(0, inf)"),
        (lambda: MTJParams(r_p_ohm=0.0), "r_p_ohm", "(0, inf)"),
    ],
)
def test_out_of_range_messages_name_parameter_and_range(factory, name: str, needle: str) -> None:
    with pytest.raises(ModelParameterError) as info:
        factory()
    message = str(info.value)
    assert name in message and needle in message
    assert "\n" not in message


def test_cross_field_checks() -> None:
    with pytest.raises(ModelParameterError, match="m_reset"):
        DWLIFParams(m_reset=0.8)
    with pytest.raises(ModelParameterError, match="R_AP"):
        MTJParams(r_full_ohm=700.0)


def test_with_text_parses_units_and_suggests_names() -> None:
    cell = DWLIFCell().with_text({"r_read_ohm": "1k", "tau_comp_s": "30p"})
    assert cell.divider.r_read_ohm == 1000.0
    assert cell.comparator.tau_comp_s == pytest.approx(30e-12)
    with pytest.raises(ModelParameterError, match="did you mean 'r_read_ohm'"):
        DWLIFCell().with_text({"r_reed_ohm": "1k"})
    with pytest.raises(ModelParameterError, match="alpha_per_s"):
        DWLIFCell().with_text({"alpha_per_s": "abc"})


def test_bool_parameters() -> None:
    cell = DWLIFCell().with_text({"bias_dependence": "false"})
    assert cell.mtj.bias_dependence is False
    with pytest.raises(ModelParameterError):
        DWLIFCell().with_text({"bias_dependence": "maybe"})


def test_every_parameter_is_documented() -> None:
    for _group, info in DWLIFCell().param_info():
        assert info.unit and info.desc and info.source, info.name


def test_cell_design_checks() -> None:
    # a reset supply too low leaves the reset NMOS out of saturation
    cell = DWLIFCell().with_text({"v_dd_reset_v": "0.55"})
    with pytest.raises(ModelParameterError, match=r"saturation.*v_dd_reset_v"):
        cell.check()
    cell = DWLIFCell().with_text({"v_dd_reset_v": "0.42"})
    with pytest.raises(ModelParameterError, match="cannot carry the reset current"):
        cell.check()
    # a reset rail above the logic rail + |V_TO,p| keeps the return PMOS permanently on
    cell = DWLIFCell().with_text({"v_dd_reset_v": "1.5"})
    with pytest.raises(ModelParameterError, match="could never turn off"):
        cell.check()
    # a weak write supply cannot keep the current-source driver in compliance
    cell = DWLIFCell().with_text({"v_dd_write_v": "0.2"})
    with pytest.raises(ModelParameterError, match="compliance"):
        cell.check(i_write_a=cell.device.current_a(1e11))
