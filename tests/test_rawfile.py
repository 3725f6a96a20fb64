from __future__ import annotations

import numpy as np
import pytest
from conftest import raw_file_bytes

from spinspice.errors import RawFileError
from spinspice.sim.rawfile import canonical_name, parse_raw, read_raw


def _binary_raw(
    names: list[str], data: np.ndarray, *, complex_: bool = False, points: int | None = None
) -> bytes:
    return raw_file_bytes(names, data, ascii_=False, complex_=complex_, points=points)


def test_binary_real_round_trip() -> None:
    data = np.column_stack([np.linspace(0, 1e-9, 5), np.arange(5.0), -np.arange(5.0)])
    (plot,) = parse_raw(_binary_raw(["time", "v(a)", "i(vdd)"], data))
    assert plot.names == ("time", "v(a)", "i(vdd)")
    np.testing.assert_array_equal(plot.data["v(a)"], np.arange(5.0))
    assert plot.n_points == 5


def test_binary_complex() -> None:
    data = np.column_stack([np.arange(3.0) + 0j, np.array([1 + 2j, 3 - 1j, 0.5j])])
    (plot,) = parse_raw(_binary_raw(["frequency", "v(out)"], data, complex_=True))
    np.testing.assert_array_equal(plot.data["v(out)"], data[:, 1])


def test_ascii_values() -> None:
    text = (
        "Title: t\nPlotname: Transient Analysis\nFlags: real\nNo. Variables: 2\nNo. Points: 2\n"
        "Variables:\n\t0\ttime\ttime\n\t1\tv(x)\tvoltage\nValues:\n0\t0.0\n\t1.5\n1\t1e-9\n\t2.5\n"
    )
    (plot,) = parse_raw(text.encode())
    np.testing.assert_array_equal(plot.data["v(x)"], [1.5, 2.5])


def test_two_plots_in_one_file() -> None:
    d = np.column_stack([np.arange(2.0), np.arange(2.0)])
    blob = _binary_raw(["time", "v(a)"], d) + _binary_raw(["time", "v(b)"], d)
    plots = parse_raw(blob)
    assert [p.names[1] for p in plots] == ["v(a)", "v(b)"]


@pytest.mark.parametrize(
    ("blob", "needle"),
    [
        (b"", "empty"),
        (b"hello world\n", "truncated"),
        (b"Title: x\nNo. Points: 3\nVariables:\n", "No. Variables"),
    ],
)
def test_corrupt_headers(blob: bytes, needle: str) -> None:
    with pytest.raises(RawFileError, match=needle):
        parse_raw(blob)


def test_truncated_data_is_an_error() -> None:
    data = np.column_stack([np.arange(10.0), np.arange(10.0)])
    blob = _binary_raw(["time", "v(a)"], data)
    with pytest.raises(RawFileError, match="truncated: 5 of 10"):
        parse_raw(blob[: len(blob) - 4 * 16 - 3])
    # a header announcing more points than written (ngspice killed mid-run)
    with pytest.raises(RawFileError, match="truncated"):
        parse_raw(_binary_raw(["time", "v(a)"], data, points=12))


def test_nan_is_an_error() -> None:
    data = np.column_stack([np.arange(3.0), [1.0, np.nan, 2.0]])
    with pytest.raises(RawFileError, match="NaN"):
        parse_raw(_binary_raw(["time", "v(a)"], data))


def test_missing_file(tmp_path) -> None:
    with pytest.raises(RawFileError, match="does not exist"):
        read_raw(tmp_path / "nope.raw")


def test_canonical_names_of_both_backends() -> None:
    assert canonical_name("xcell.t3") == "v(xcell.t3)"
    assert canonical_name("V(XCELL.T3)") == "v(xcell.t3)"
    assert canonical_name("v.xcell.vsense#branch") == "i(v.xcell.vsense)"
    assert canonical_name("vdd#branch") == "i(vdd)"
    assert canonical_name("time") == "time"
