"""Property-based tests (hypothesis) of the package's input edges.

1. parameter sets: any value either builds a valid object or raises ModelParameterError
   with a one-line message naming the parameter; valid values round-trip (also as text);
2. weights -> synapse conductances: range, monotonicity, sign, quantisation error;
3. netlist text: SI formatting round-trips through the SI parser, identifiers are safe,
   comments cannot start a dot-command;
4. raw-file reader: truncated or corrupted files raise RawFileError and nothing else.

No ngspice runs.  The tests of the corners these properties found (digit names,
subnormal and huge weights, huge declared raw-file sizes ...) pin the fixes.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import math
import re
import signal
import time
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import raw_file_bytes
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spinspice.circuits.core import Capacitor, Probe, Resistor, Testbench, Transient, VoltageSource
from spinspice.circuits.synapses import SYNAPSE_DEVICES, get_synapse_device, map_layer
from spinspice.cli import parse_params
from spinspice.errors import (
    ModelParameterError,
    NetlistError,
    RawFileError,
    SpinspiceError,
    UnitError,
)
from spinspice.models.params import ParamInfo, ParamSet
from spinspice.netlists.names import MAX_IDENTIFIER, comment_lines, sanitize_identifier
from spinspice.netlists.spice import format_testbench
from spinspice.sim.rawfile import parse_raw, read_raw
from spinspice.units import _UNIT_ALIASES, PREFIXES, format_float, format_si, parse_value


def _settings(n: int) -> settings:
    # no example database: the suite must not write .hypothesis/ into the checkout
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def _one_line(message: str) -> bool:
    return "\n" not in message and "\r" not in message and len(message.splitlines()) == 1


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Turn a hang into a test failure (SIGALRM; the tests run in the main thread)."""

    def _raise(signum: int, frame: object) -> None:
        raise _TookTooLong(f"took longer than {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class _TookTooLong(Exception):
    pass


# =====================================================================================
# 1. parameter sets
# =====================================================================================
for _module in (
    "spinspice.models.cogd",
    "spinspice.models.dwlif",
    "spinspice.models.dwmtj",
    "spinspice.models.fieldgate",
    "spinspice.models.lif",
    "spinspice.models.mtj",
    "spinspice.models.saflif",
    "spinspice.models.waveforms",
    "spinspice.circuits.cell",
    "spinspice.circuits.cmos",
    "spinspice.circuits.comparator",
    "spinspice.circuits.library",
    "spinspice.circuits.steered",
):
    importlib.import_module(_module)


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


PARAM_SETS: list[type[ParamSet]] = sorted(
    {c for c in _subclasses(ParamSet) if c.__module__.startswith("spinspice.")},
    key=lambda c: f"{c.__module__}.{c.__qualname__}",
)
_IDS = [c.__name__ for c in PARAM_SETS]

#: cross-field messages that name no declared parameter (see the test below)
_KNOWN_UNNAMED = {"R_AP must exceed R_P for both MTJs"}


def _names_a_parameter(cls: type[ParamSet], name: str, message: str) -> bool:
    return name in message or any(p in message for p in cls.param_names())


def _check_error(cls: type[ParamSet], name: str, err: ModelParameterError) -> str:
    message = str(err)
    assert _one_line(message), message
    assert _names_a_parameter(cls, name, message) or message in _KNOWN_UNNAMED, message
    return message


def _info(cls: type[ParamSet], name: str) -> ParamInfo:
    return {p.name: p for p in cls.param_info()}[name]


_SPECIAL_FLOATS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    1e-300,
    -1e-300,
    5e-324,
    1e308,
    -1e308,
    math.nan,
    math.inf,
    -math.inf,
]


def _any_float_for(info: ParamInfo) -> st.SearchStrategy[float]:
    near: list[float] = []
    for bound in (info.lo, info.hi):
        if bound is not None:
            near += [bound, math.nextafter(bound, -math.inf), math.nextafter(bound, math.inf)]
    return st.one_of(st.floats(), st.sampled_from(_SPECIAL_FLOATS + near))


def _valid_float_for(info: ParamInfo) -> st.SearchStrategy[float]:
    return st.floats(
        min_value=info.lo,
        max_value=info.hi,
        exclude_min=info.lo is not None and info.lo_open,
        exclude_max=info.hi is not None and info.hi_open,
        allow_nan=False,
        allow_infinity=False,
    )


def test_param_sets_found_and_defaults_valid() -> None:
    assert len(PARAM_SETS) >= 12
    for cls in PARAM_SETS:
        obj = cls()
        for info in cls.param_info():
            assert _one_line(info.range_text())
            value = getattr(obj, info.name)
            if info.kind is bool:
                assert isinstance(value, bool)
            else:
                assert type(value) is float and math.isfinite(value) and info.contains(value), info


@pytest.mark.parametrize("cls", PARAM_SETS, ids=_IDS)
@_settings(40)
@given(data=st.data())
def test_any_float_builds_valid_set_or_raises_model_parameter_error(cls: type[ParamSet], data) -> None:
    info = data.draw(st.sampled_from(cls.param_info()), label="param")
    if info.kind is bool:
        value = data.draw(st.one_of(st.booleans(), st.floats(), st.integers(-2, 2)), label="value")
    else:
        value = data.draw(_any_float_for(info), label="value")
    try:
        obj = cls().replace(**{info.name: value})
    except ModelParameterError as err:
        message = _check_error(cls, info.name, err)
        if info.kind is float and math.isfinite(value) and info.contains(value):
            # an in-range value can only fail a cross-field rule
            assert "allowed range" not in message and "not finite" not in message, message
        return
    got = getattr(obj, info.name)
    if info.kind is bool:
        assert isinstance(value, bool) and got is value
        return
    # validation is complete: nothing non-finite or out of range gets through
    assert math.isfinite(value) and info.contains(value), (info.name, value)
    assert type(got) is float and got == value
    for other in cls.param_info():
        if other.kind is float:
            assert math.isfinite(getattr(obj, other.name)) and other.contains(getattr(obj, other.name))


@pytest.mark.parametrize("cls", PARAM_SETS, ids=_IDS)
@_settings(30)
@given(data=st.data())
def test_valid_values_round_trip_as_numbers_and_text(cls: type[ParamSet], data) -> None:
    infos = [p for p in cls.param_info() if p.kind is float]
    info = data.draw(st.sampled_from(infos), label="param")
    value = data.draw(_valid_float_for(info), label="value")
    try:
        obj = cls().replace(**{info.name: value})
    except ModelParameterError as err:  # only a cross-field rule may refuse it
        message = _check_error(cls, info.name, err)
        assert "allowed range" not in message and "not finite" not in message, message
        return
    assert getattr(obj, info.name) == value
    assert cls(**obj.values()) == obj  # constructor round trip
    # ... and the same value written as user text, bare and with each spelling of its unit
    texts = [repr(value), format_float(value), f"  {value!r}  "]
    if info.unit not in ("", "1"):
        for u in _UNIT_ALIASES.get(info.unit, (info.unit,)):
            texts.append(f"{value!r} {u}")
            if not u[0].isdigit():  # "5.01/s" reads as 5.01 per "/s"
                texts.append(f"{value!r}{u}")
    for text in texts:
        assert cls().with_text({info.name: text}) == obj, text


@pytest.mark.parametrize("cls", PARAM_SETS, ids=_IDS)
@_settings(40)
@given(data=st.data())
def test_any_text_value_builds_valid_set_or_raises_model_parameter_error(cls: type[ParamSet], data) -> None:
    info = data.draw(st.sampled_from(cls.param_info()), label="param")
    prefixes = st.sampled_from(["", *PREFIXES])
    units = st.sampled_from(["", info.unit, "ohm", "A", "s", "V", "m", "x"])
    numbers = st.floats().map(repr) | st.integers().map(str)
    text = data.draw(
        st.one_of(
            st.text(),
            st.builds(lambda n, p, u: f"{n}{p}{u}", numbers, prefixes, units),
            st.sampled_from(["true", "False", "yes", "off", "1e999", "nan", "-inf", "1e-999k", "1..2"]),
        ),
        label="text",
    )
    try:
        obj = cls().with_text({info.name: text})
    except ModelParameterError as err:  # UnitError is a subclass
        _check_error(cls, info.name, err)
        return
    got = getattr(obj, info.name)
    if info.kind is bool:
        assert isinstance(got, bool)
    else:
        assert type(got) is float and math.isfinite(got) and info.contains(got)


@pytest.mark.parametrize("cls", PARAM_SETS, ids=_IDS)
@_settings(15)
@given(name=st.text())
def test_unknown_parameter_names_are_model_parameter_errors(cls: type[ParamSet], name: str) -> None:
    assume(name not in cls.param_names())
    for attempt in (lambda: cls().replace(**{name: 1.0}), lambda: cls().with_text({name: "1"})):
        with pytest.raises(ModelParameterError) as info:
            attempt()
        assert _one_line(str(info.value)) and repr(name) in str(info.value)


_no_line_breaks = st.text(alphabet=st.characters(exclude_categories=("Cc", "Zl", "Zp")))
_param_items = st.lists(
    _no_line_breaks | st.builds(lambda a, b: f"{a}={b}", _no_line_breaks, _no_line_breaks), max_size=4
)


def _check_parse_params(items: list[str]) -> None:
    try:
        pairs = parse_params(items)
    except ModelParameterError as err:
        assert _one_line(str(err)), str(err)
        return
    assert len(pairs) == len(items)
    for name, value in pairs.items():
        assert name and value and name == name.strip() and value == value.strip() and "=" not in name


@_settings(150)
@given(items=_param_items)
def test_cli_param_pairs_parse_or_raise_model_parameter_error(items: list[str]) -> None:
    _check_parse_params(items)


@_settings(50)
@given(items=st.lists(st.text(), max_size=4))
@example(items=["a\nb=1", "a\nb=2"])
def test_cli_param_pairs_with_line_breaks_give_one_line_errors(items: list[str]) -> None:
    _check_parse_params(items)


@_settings(50)
@given(value=st.integers(min_value=-(10**400), max_value=10**400))
@example(value=10**400)
def test_huge_int_values_raise_model_parameter_error(value: int) -> None:
    from spinspice.models.mtj import MTJParams

    try:
        MTJParams().replace(r_p_ohm=value)
    except ModelParameterError as err:
        assert _one_line(str(err))


def test_dwmtj_resistance_order_message_names_the_parameter() -> None:
    from spinspice.models.dwmtj import DWMTJParams

    with pytest.raises(ModelParameterError) as info:
        DWMTJParams().replace(r_ap_a_ohm=1.0)
    assert "r_ap_a_ohm" in str(info.value)


# =====================================================================================
# 2. weights -> synapse conductances
# =====================================================================================
SYNAPSE_KINDS = ["ideal", "mtj", "dw-mtj", "cogd"]
assert set(SYNAPSE_KINDS) <= set(SYNAPSE_DEVICES)

# |w| in [1e-300, 1e300] or 0: the subnormal corner is pinned by a test below
_weight = st.one_of(
    st.just(0.0),
    st.floats(min_value=1e-300, max_value=1e300),
    st.floats(min_value=-1e300, max_value=-1e-300),
    st.floats(min_value=-10.0, max_value=10.0, allow_subnormal=False),
)


@st.composite
def _layer(draw, elements: st.SearchStrategy[float] = _weight) -> tuple[np.ndarray, np.ndarray]:
    n_out = draw(st.integers(1, 5))
    n_in = draw(st.integers(0, 5))
    w = draw(hnp.arrays(np.float64, (n_out, n_in), elements=elements))
    b = draw(hnp.arrays(np.float64, (n_out,), elements=elements))
    return w, b


def _device(kind: str, levels: int | None):
    if levels is None or kind in ("ideal", "mtj"):
        return get_synapse_device(kind)
    return get_synapse_device(kind, levels=levels)


def _check_mapping(w: np.ndarray, b: np.ndarray, dev, m) -> None:
    full = np.concatenate([w, b[:, None]], axis=1)
    tol = 1e-12
    for g in (m.g_pos_s, m.g_neg_s):
        assert g.shape == full.shape
        assert np.all(np.isfinite(g))
        assert np.all(g >= dev.g_min_s * (1 - tol)) and np.all(g <= dev.g_max_s * (1 + tol))
    eff = m.effective_weights
    flat_w, flat_eff = full.ravel(), eff.ravel()
    # monotone: a larger weight never realises a smaller G+ - G- (nor larger G- / smaller G+)
    order = np.argsort(flat_w, kind="stable")
    assert np.all(np.diff(flat_eff[order]) >= 0)
    assert np.all(np.diff(m.g_pos_s.ravel()[order]) >= 0)
    assert np.all(np.diff(m.g_neg_s.ravel()[order]) <= 0)
    # sign: never opposite, zero weights give exactly zero
    assert np.all(np.sign(flat_eff) * np.sign(flat_w) >= 0)
    assert np.all(flat_eff[flat_w == 0] == 0)
    # quantisation error: at most half a level step (in weight units) beyond the clipping
    wc = np.clip(flat_w, -m.w_clip, m.w_clip)
    half_step = 0.0 if dev.levels is None else 0.5 * m.w_clip / (dev.levels - 1)
    bound = half_step + 1e-9 * m.w_clip
    assert np.all(np.abs(flat_eff - wc) <= bound)
    # ... so every weight that is not quantised to zero keeps its sign
    big = np.abs(wc) > bound
    assert np.all(np.sign(flat_eff[big]) == np.sign(flat_w[big]))
    assert m.errors["n_weights"] == full.size
    assert m.errors["n_zero_weights"] == int(np.sum(full == 0))


# err**2 in the error report overflows for |w| > ~1e154 (see the test below); the
# conductances themselves are fine up to 1e300
@pytest.mark.filterwarnings("ignore:overflow encountered in square:RuntimeWarning")
@pytest.mark.parametrize("kind", SYNAPSE_KINDS)
@_settings(60)
@given(layer=_layer(), levels=st.none() | st.integers(2, 40))
def test_weight_mapping_range_monotone_sign(kind: str, layer, levels: int | None) -> None:
    w, b = layer
    dev = _device(kind, levels)
    m = map_layer(w, b, dev)
    _check_mapping(w, b, dev, m)
    assert m.errors["n_clipped"] == 0
    assert m.w_clip == (float(np.max(np.abs(np.concatenate([w.ravel(), b])))) or 1.0)
    again = map_layer(w, b, dev)
    np.testing.assert_array_equal(again.g_pos_s, m.g_pos_s)
    np.testing.assert_array_equal(again.g_neg_s, m.g_neg_s)


@pytest.mark.parametrize("kind", SYNAPSE_KINDS)
@_settings(40)
@given(
    layer=_layer(st.one_of(st.just(0.0), st.floats(1e-6, 1e3), st.floats(-1e3, -1e-6))),
    percentile=st.floats(min_value=1.0, max_value=100.0),
)
def test_weight_mapping_with_clipping(kind: str, layer, percentile: float) -> None:
    w, b = layer
    dev = _device(kind, None)
    m = map_layer(w, b, dev, clip_percentile=percentile)
    _check_mapping(w, b, dev, m)


@pytest.mark.parametrize("kind", SYNAPSE_KINDS)
@_settings(40)
@given(
    layer=_layer(st.floats(min_value=-1e3, max_value=1e3)),
    bad=st.sampled_from([math.nan, math.inf, -math.inf]),
    where=st.sampled_from(["weight", "bias"]),
    data=st.data(),
)
def test_non_finite_weights_raise_spinspice_error(kind: str, layer, bad: float, where: str, data) -> None:
    w, b = (a.copy() for a in layer)
    target = w if where == "weight" and w.size else b
    idx = data.draw(st.integers(0, target.size - 1), label="index")
    target.flat[idx] = bad
    with pytest.raises(SpinspiceError) as info:
        map_layer(w, b, get_synapse_device(kind))
    assert _one_line(str(info.value))


@pytest.mark.parametrize("kind", SYNAPSE_KINDS)
@_settings(40)
@given(
    layer=_layer(st.one_of(st.just(0.0), st.floats(1e-6, 1e3), st.floats(-1e3, -1e-6))),
    exponent=st.integers(-300, 300),
)
def test_weight_mapping_is_scale_invariant(kind: str, layer, exponent: int) -> None:
    """Scaling a layer by a power of two changes nothing but the scale (exact in binary)."""
    w, b = layer
    k = 2.0**exponent
    dev = get_synapse_device(kind)
    m, mk = map_layer(w, b, dev), map_layer(w * k, b * k, dev)
    np.testing.assert_array_equal(mk.g_pos_s, m.g_pos_s)
    np.testing.assert_array_equal(mk.g_neg_s, m.g_neg_s)
    assert mk.w_clip == m.w_clip * k or not np.any(np.concatenate([w.ravel(), b]))
    assert mk.errors == m.errors


@pytest.mark.filterwarnings("ignore:overflow encountered in square:RuntimeWarning")
def test_mapping_error_report_survives_large_weights() -> None:
    w, b = np.array([[1.0, 0.3, -0.7]]), np.array([0.1])
    dev = get_synapse_device("cogd")
    k = 2.0**600
    assert map_layer(w * k, b * k, dev).errors == map_layer(w, b, dev).errors


@pytest.mark.parametrize("kind", SYNAPSE_KINDS)
def test_subnormal_weights_map_into_the_device_range(kind: str) -> None:
    dev = get_synapse_device(kind)
    w, b = np.array([[0.0, 5e-324, -1e-320]]), np.array([0.0])
    with np.errstate(all="ignore"):
        m = map_layer(w, b, dev)
    _check_mapping(w, b, dev, m)


# =====================================================================================
# 3. netlist text: SI numbers, identifiers, comments
# =====================================================================================
_finite = st.floats(allow_nan=False, allow_infinity=False)
_SI_TEXT = re.compile(r"^-?(\d+(\.\d+)?(f|p|n|u|m|k|meg|g|t)?|0|-?\d(\.\d+)?e[+-]\d+|-?\d+\.\d+|-?\d+)$")


@_settings(300)
@given(value=_finite, digits=st.integers(1, 17))
@example(value=999.9999999999999e-3, digits=12)
@example(value=1e-15, digits=12)
@example(value=-1e15, digits=12)
@example(value=5e-324, digits=12)
@example(value=1.7976931348623157e308, digits=12)
def test_format_si_parses_back(value: float, digits: int) -> None:
    text = format_si(value, digits)
    assert _SI_TEXT.match(text), text  # plain SPICE number: no spaces, no 'M' (milli to SPICE)
    back = parse_value(text)
    assert math.isfinite(back)
    assert abs(back - value) <= (5 * 10.0**-digits + 1e-15) * abs(value), (text, back)
    default = parse_value(format_si(value))
    assert abs(default - value) <= 1e-9 * abs(value)


@_settings(300)
@given(value=_finite)
def test_format_float_parses_back_exactly(value: float) -> None:
    text = format_float(value)
    assert parse_value(text) == value and float(text) == value


@_settings(300)
@given(value=st.floats(min_value=-1e308, max_value=1e308), digits=st.integers(1, 17))
def test_format_float_with_digits_parses_back(value: float, digits: int) -> None:
    back = parse_value(format_float(value, digits))
    assert abs(back - value) <= (5 * 10.0**-digits + 1e-15) * abs(value)


def test_format_float_with_digits_stays_finite_near_the_float_maximum() -> None:
    text = format_float(1.5e308, 1)
    assert math.isfinite(float(text)), text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_formatters_reject_non_finite(value: float) -> None:
    for fmt in (format_si, format_float):
        with pytest.raises(UnitError):
            fmt(value)


_ALL_UNITS = [None, *sorted(_UNIT_ALIASES), "1/s", "ohm m"]


@_settings(300)
@given(
    text=st.text() | st.from_regex(r"\A\s*[+-]?\d*\.?\d*([eE][+-]?\d+)?\s*\w{0,4}\s*\Z"),
    unit=st.sampled_from(_ALL_UNITS),
)
def test_parse_value_returns_finite_float_or_unit_error(text: str, unit: str | None) -> None:
    try:
        value = parse_value(text, unit, name="the_param")
    except UnitError as err:
        assert _one_line(str(err)) and "the_param" in str(err)
        return
    assert type(value) is float and math.isfinite(value)


@_settings(300)
@given(
    mantissa=st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    prefix=st.sampled_from(sorted(PREFIXES)),
    unit=st.sampled_from(_ALL_UNITS),
    data=st.data(),
)
def test_parse_value_applies_prefix_and_unit(mantissa: float, prefix: str, unit: str | None, data) -> None:
    spellings = _UNIT_ALIASES.get(unit, (unit,)) if unit else ("",)
    spelled = data.draw(st.sampled_from(["", *spellings]), label="unit spelling")
    suffix = prefix + spelled
    # documented: a suffix equal to the unit is the unit ("2m" for a length is 2 metres)
    assume(not (unit and prefix and suffix in spellings))
    value = parse_value(f"{mantissa!r}{suffix}", unit)
    assert value == pytest.approx(mantissa * PREFIXES[prefix], rel=1e-15, abs=0)


_SAFE_IDENTIFIER = re.compile(rf"^(0|[a-z][a-z0-9_]{{0,{MAX_IDENTIFIER - 1}}})$")
_hostile_text = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(list("aZ09_ .-'\"\n\r\t*+=()$;\\/é中\u2028\x00")), max_size=12),
    st.sampled_from([".control", "shell rm -rf ~", ".endc", "0", "00", " 0", "gnd", "a" * 200, "É", "ﬁ"]),
    st.builds(lambda a, b: f"{a}\n.control\nshell {b}\n.endc", st.text(max_size=5), st.text(max_size=5)),
)


@_settings(400)
@given(text=_hostile_text)
def test_sanitize_identifier_is_safe_and_deterministic(text: str) -> None:
    if not text.strip():
        with pytest.raises(NetlistError):
            sanitize_identifier(text)
        return
    name = sanitize_identifier(text)
    assert _SAFE_IDENTIFIER.match(name), (text, name)
    assert len(name) <= MAX_IDENTIFIER
    assert sanitize_identifier(text) == name  # deterministic
    assert sanitize_identifier(name) == name  # idempotent: a safe name is left alone
    if name != text.lower() and text.lstrip()[:1].isalpha():
        # (a name starting with a digit gets no hash: see the test below)
        # a changed name carries a hash of the original, so it cannot collide by accident
        assert name == "0" or re.search(r"_[0-9a-f]{6,8}$", name), (text, name)


def _variants(text: str) -> list[str]:
    return [
        text.upper(),
        text + " ",
        "_" + text,
        text.replace(" ", "_"),
        text.replace("_", " "),
        text.replace("-", "_"),
        text + "_",
        text[:-1],
        text + "x",
        text * 2,
    ]


@_settings(300)
@given(text=_hostile_text, other=_hostile_text)
def test_sanitize_identifier_keeps_distinct_names_distinct(text: str, other: str) -> None:
    """Injective up to case (SPICE is case-insensitive) for names that start with a letter.

    (Strict injectivity on all text is impossible: a safe name maps to itself, so the input
    "a b" and its own output "a_b_<hash>" must share it; that needs a forged hash.)"""
    if not text.strip() or not text.lstrip()[:1].isalpha():
        return
    for y in [other, *_variants(text)]:
        if not y.strip() or not y.lstrip()[:1].isalpha() or y.lower() == text.lower():
            continue
        assert sanitize_identifier(text) != sanitize_identifier(y), (text, y)


@_settings(100)
@given(
    text=st.text(alphabet="n01_a", min_size=1, max_size=4),
    other=st.text(alphabet="n01_a", min_size=1, max_size=4),
)
@example(text="1", other="n_1")
def test_sanitize_identifier_keeps_digit_names_distinct(text: str, other: str) -> None:
    assume(text.lower() != other.lower())
    assert sanitize_identifier(text) != sanitize_identifier(other)


_CONTROL_WORDS = (".control", ".endc", "shell", ".include", ".lib", "source", "run", "write", "set")


@_settings(300)
@given(text=_hostile_text, prefix=st.sampled_from(["*", "//", "    //"]))
def test_comment_lines_cannot_escape(text: str, prefix: str) -> None:
    lines = comment_lines(text, prefix)
    assert lines
    for line in lines:
        assert line.startswith(prefix), line
        assert all(ch.isprintable() for ch in line), line
        assert not line.lstrip().startswith(_CONTROL_WORDS), line
    # no hidden line break for any reader (SPICE, Python, an editor)
    assert "\n".join(lines).splitlines() == lines
    if text.isprintable() and text:
        assert lines == [f"{prefix} {text}".rstrip()]


_NETLIST_STARTS = ("*", "+ ", ".options", ".include", ".model", ".subckt", ".ends", ".ic", ".save")
_NETLIST_STARTS += (".print", ".tran", ".end", "r", "c", "v", "i", "b", "m", "a", "x")
_positive = st.floats(min_value=1e-18, max_value=1e12)


@_settings(60)
@given(
    title=_hostile_text,
    names=st.lists(_hostile_text.filter(lambda t: bool(t.strip())), min_size=3, max_size=3),
    nodes=st.lists(_hostile_text.filter(lambda t: bool(t.strip())), min_size=2, max_size=2),
    r=_positive,
    c=_positive,
    v=_finite,
)
def test_netlist_from_hostile_names_has_no_control_lines(title, names, nodes, r, c, v) -> None:
    assume(len(set(names)) == 3)
    a, b = nodes
    tb = Testbench(
        title=title,
        elements=(
            VoltageSource(names[0], a, "0", dc_v=v),
            Resistor(names[1], a, b, r),
            Capacitor(names[2], b, "0", c),
        ),
        analysis=Transient(t_stop_s=1e-9, t_step_s=1e-12),
        probes=(Probe("i", "i", (names[0],)),),
    )
    text = format_testbench(tb, header=[title])
    lines = text.split("\n")
    assert lines[-1] == "" and lines[-2] == ".end"
    for line in lines[:-1]:
        assert line == "" or line.startswith(_NETLIST_STARTS), line
        assert line.isprintable(), line
        assert not line.startswith((".control", ".endc", "shell")), line
    assert text.splitlines() == lines[:-1]
    # every value written into the netlist reads back
    element_lines = [ln.split() for ln in lines if ln[:1] in ("r", "c")]
    assert [parse_value(p[3]) for p in element_lines] == [
        pytest.approx(r, rel=1e-9),
        pytest.approx(c, rel=1e-9),
    ]


# =====================================================================================
# 4. raw-file reader
# =====================================================================================
@st.composite
def _raw_files(draw) -> tuple[bytes, list[tuple[list[str], np.ndarray]], bool]:
    ascii_ = draw(st.booleans())
    complex_ = draw(st.booleans())
    plots = []
    blob = b""
    for k in range(draw(st.integers(1, 2))):
        n_vars = draw(st.integers(1, 3))
        n_points = draw(st.integers(0, 4))
        names = ["time", *[f"v(n{k}_{j})" for j in range(1, n_vars)]]
        real = draw(hnp.arrays(np.float64, (n_points, n_vars), elements=_finite))
        data = (
            real + 1j * draw(hnp.arrays(np.float64, (n_points, n_vars), elements=_finite))
            if complex_
            else real
        )
        plots.append((names, data))
        blob += raw_file_bytes(names, data, ascii_=ascii_, complex_=complex_)
    return blob, plots, complex_


def _parse_or_raw_file_error(blob: bytes) -> list | None:
    try:
        with _time_limit(5.0):
            return parse_raw(blob, source="fuzz.raw")
    except RawFileError as err:
        assert _one_line(str(err)) and "fuzz.raw" in str(err)
        return None


@_settings(50)
@given(spec=_raw_files())
def test_valid_raw_files_round_trip(spec) -> None:
    blob, plots, complex_ = spec
    got = parse_raw(blob)
    assert len(got) == len(plots)
    for plot, (names, data) in zip(got, plots, strict=True):
        assert plot.names == tuple(names)
        for j, name in enumerate(names):
            np.testing.assert_array_equal(plot.data[name], data[:, j])
            assert plot.data[name].dtype == (np.complex128 if complex_ else np.float64)


@_settings(20)
@given(spec=_raw_files())
def test_every_truncation_returns_plots_or_raises_raw_file_error(spec) -> None:
    blob = spec[0]
    for n in range(len(blob)):
        plots = _parse_or_raw_file_error(blob[:n])
        if plots is not None:  # only whole plots may come back, never a partial one
            assert 1 <= len(plots) < len(spec[1]) or blob[n:].strip() == b""


_mutation = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 7)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.binary(min_size=1, max_size=3)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 8)),
)


def _mutate(blob: bytes, mutations: list) -> bytes:
    buf = bytearray(blob)
    for kind, pos, arg in mutations:
        if not buf:
            break
        i = pos % len(buf)
        if kind == "set":
            buf[i] = arg
        elif kind == "flip":
            buf[i] ^= 1 << arg
        elif kind == "insert":
            buf[i:i] = arg
        else:
            del buf[i : i + arg]
    return bytes(buf)


@_settings(300)
@given(spec=_raw_files(), mutations=st.lists(_mutation, min_size=1, max_size=4))
def test_corrupted_raw_files_return_plots_or_raise_raw_file_error(spec, mutations) -> None:
    plots = _parse_or_raw_file_error(_mutate(spec[0], mutations))
    if plots is not None:
        for plot in plots:
            assert all(np.all(np.isfinite(col)) for col in plot.data.values())


@_settings(100)
@given(
    spec=_raw_files(),
    field=st.sampled_from([b"No. Points: ", b"No. Variables: "]),
    value=st.integers(-(10**6), 10**6).map(str) | st.text(max_size=6),
)
def test_rewritten_header_counts_return_plots_or_raise_raw_file_error(spec, field, value) -> None:
    blob = spec[0]
    start = blob.index(field) + len(field)
    end = blob.index(b"\n", start)
    _parse_or_raw_file_error(blob[:start] + value.encode("utf-8") + blob[end:])


@pytest.mark.parametrize("blob", [b"", b" ", b"\n\n\r\n", b"\x00" * 64, b"Binary:\n", b"Values:\n"])
def test_empty_or_headless_raw_files_raise(blob: bytes) -> None:
    with pytest.raises(RawFileError):
        parse_raw(blob)


def _header_only(n_vars: int, n_points: int, ascii_: bool) -> bytes:
    return raw_file_bytes(
        [f"v{i}" for i in range(n_vars)],
        np.zeros((0, n_vars)),
        ascii_=ascii_,
        complex_=False,
        points=n_points,
    )


@pytest.mark.parametrize("n_points", [10**12, 10**30])
@pytest.mark.parametrize("n_vars", [2, 10**12])
def test_huge_declared_binary_sizes_raise_quickly(n_vars: int, n_points: int) -> None:
    head = _header_only(2, n_points, ascii_=False).replace(
        b"No. Variables: 2", f"No. Variables: {n_vars}".encode()
    )
    start = time.perf_counter()
    with _time_limit(5.0), pytest.raises(RawFileError):
        parse_raw(head + b"\x00" * 64)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("n_vars", [10**6, 10**12, 10**30])
def test_huge_declared_variable_count_raises_quickly(n_vars: int) -> None:
    for ascii_ in (True, False):
        head = _header_only(2, 3, ascii_=ascii_).replace(
            b"No. Variables: 2", f"No. Variables: {n_vars}".encode()
        )
        with _time_limit(5.0), pytest.raises(RawFileError):
            parse_raw(head + b"0 1\n" * 8)


@pytest.mark.parametrize(
    ("ascii_", "n_vars", "n_points"),
    [(True, 2, 10**12), (True, 2, 10**30), (True, 0, 10**9), (True, 0, 10**30), (False, 0, 10**30)],
)
def test_huge_declared_point_count_raises_quickly(ascii_: bool, n_vars: int, n_points: int) -> None:
    start = time.perf_counter()
    with _time_limit(2.0), pytest.raises(RawFileError):
        parse_raw(_header_only(n_vars, n_points, ascii_))
    assert time.perf_counter() - start < 2.0


def test_read_raw_matches_parse_raw(tmp_path) -> None:
    data = np.column_stack([np.arange(4.0), np.linspace(-1, 1, 4)])
    for ascii_ in (True, False):
        blob = raw_file_bytes(["time", "v(a)"], data, ascii_=ascii_, complex_=False)
        path = tmp_path / f"x{ascii_}.raw"
        path.write_bytes(blob)
        (plot,) = read_raw(path)
        np.testing.assert_array_equal(plot.data["v(a)"], data[:, 1])
        path.write_bytes(blob[:-3])
        with pytest.raises(RawFileError, match=re.escape(str(path))):
            read_raw(path)


def test_read_raw_on_a_directory_raises_raw_file_error(tmp_path) -> None:
    with pytest.raises(RawFileError):
        read_raw(tmp_path)


def test_hash_suffix_is_sha256_of_the_original() -> None:
    # pins the documented mechanism the distinctness property relies on
    assert sanitize_identifier("a b") == "a_b_" + hashlib.sha256(b"a b").hexdigest()[:6]
