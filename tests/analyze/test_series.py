"""Series read from CSV and JSON: every bad cell named, never a number made up."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgctl.analyze.series import read_series
from cfgctl.errors import InputError


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_with_times_is_sorted_and_missing_values_dropped(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        "lat.csv",
        "time,p50,p99\n2026-12-01T10:00:02Z,1,9\n2026-12-01T10:00:00Z,1,7\n2026-12-01T10:00:01Z,2,\n",
    )
    series = read_series(path, column="p99")
    assert series.values.tolist() == [7.0, 9.0] and series.dropped == 1
    assert series.time_text(0) == "2026-12-01T10:00:00Z"
    assert read_series(path).name == "p50"  # the first metric by default


def test_an_index_csv_and_json_arrays(tmp_path: Path) -> None:
    assert read_series(_file(tmp_path, "a.csv", "i,v\n0,1.5\n1,nan\n2,2\n")).times is None
    assert read_series(_file(tmp_path, "a.json", "[1, 2, null, 3]")).values.tolist() == [1, 2, 3]
    objects = '[{"time": 1700000001, "lat": 2}, {"time": 1700000000, "lat": 1}]'
    assert read_series(_file(tmp_path, "o.json", objects), column="lat").values.tolist() == [1, 2]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("e.csv", "", "needs a header"),
        ("n.csv", "i,v\n0,\n1,nan\n", "has no values (2 missing)"),
        ("x.csv", "i,v\n0,1\n1,fast\n", "x.csv:3: v: 'fast' is not a number"),
        ("d.csv", "t,v\n2026-01-01T00:00:00Z,1\n2026-01-01T00:00:00Z,2\n", "two values at"),
        ("c.csv", "i,v\n0,1\n", "no column 'w'"),
        ("b.json", "[1, true]", "True is not a number"),
        ("j.json", "{", "not JSON"),
        ("r.csv", "i,v\n0,1,2\n", "row has 3 cells"),
        ("inf.csv", "i,v\n0,inf\n", "is infinite"),
    ],
)
def test_bad_series_are_named_errors(tmp_path: Path, name: str, text: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        read_series(_file(tmp_path, name, text), column="w" if name == "c.csv" else None)
    assert message in str(caught.value)


def test_an_index_counts_up_and_a_time_is_a_real_time(tmp_path: Path) -> None:
    from cfgctl.analyze.series import parse_time

    repeated = tmp_path / "repeated.csv"
    repeated.write_text("t,v\n1,1\n2,2\n2,3\n")
    with pytest.raises(InputError, match="2 after 2: an index counts up") as caught:
        read_series(repeated, None)
    assert caught.value.location is not None and caught.value.location.line == 4
    for text in ("nan", "inf", "-inf", "1e20"):
        assert parse_time(text) is None, text
    assert parse_time("1764583200") == 1764583200.0
