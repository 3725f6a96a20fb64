from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spinspice.errors import UnitError
from spinspice.units import format_float, format_si, parse_value


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("1n", "s", 1e-9),
        ("1ns", "s", 1e-9),
        ("1.5n", None, 1.5e-9),
        ("10mA", "A", 10e-3),
        ("564ohm", "ohm", 564.0),
        ("564", "ohm", 564.0),
        ("2m", "m", 2.0),  # the unit, not milli
        ("64nm", "m", 64e-9),
        ("1meg", None, 1e6),
        ("1M", None, 1e6),
        ("1e11", "A/m^2", 1e11),
        ("-3p", "s", -3e-12),
        ("220", "Oe", 220.0),
        (7, None, 7.0),
    ],
)
def test_parse_value(text: str, unit: str | None, expected: float) -> None:
    assert parse_value(text, unit) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("text", ["abc", "1x", "1nA", "", "nan", "inf", "1e999"])
def test_parse_value_rejects(text: str) -> None:
    with pytest.raises(UnitError) as info:
        parse_value(text, "s", name="t_on")
    assert "t_on" in str(info.value)


def test_format_si_examples() -> None:
    assert format_si(1.024e-14) == "10.24f"
    assert format_si(1e6) == "1meg"
    assert format_si(0.8) == "800m"
    assert format_si(0) == "0"
    assert format_float(-1e7) == "-10000000"
    assert format_float(2.56e-07) == "2.56e-07"


@given(st.floats(min_value=1e-18, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_format_si_round_trip(x: float) -> None:
    for value in (x, -x):
        assert parse_value(format_si(value)) == pytest.approx(value, rel=1e-11)
        assert float(format_float(value)) == value


def test_format_rejects_non_finite() -> None:
    with pytest.raises(UnitError):
        format_si(math.inf)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.013e-8, "J", "10.13 nJ"),  # not "1.013e+04 pJ"
        (5.363483e-9, "J", "5.363 nJ"),
        (3.676883e-6, "s", "3.677 µs"),
        (-2.3e-3, "A", "-2.3 mA"),
        (999.96e-9, "s", "1 µs"),  # rounding carries into the next prefix
        (0.0, "V", "0 V"),
        (None, "J", "n/a"),
        (4.2e-21, "J", "0.0042 aJ"),  # below the smallest prefix: stays on it
    ],
)
def test_eng_prints_figures_with_the_prefix_a_reader_expects(value, unit, text) -> None:
    from spinspice.units import eng

    assert eng(value, unit) == text
