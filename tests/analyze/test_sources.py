"""FileSource: series from a CSV or JSON file, or from the files of a folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgctl.analyze.sources import FileSource, MetricSource
from cfgctl.errors import InputError

CSV = "time,p50,p99\n1700000000,1,10\n1700000001,2,20\n1700000002,3,30\n1700000003,4,\n"
T = 1_700_000_000


def test_a_file_source_over_one_file(tmp_path: Path) -> None:
    path = tmp_path / "lat.csv"
    path.write_text(CSV)
    source = FileSource(path)
    assert isinstance(source, MetricSource)
    (p99,) = source.series("p99", T + 1, T + 3, 1)
    assert p99.name == "p99" and p99.values.tolist() == [20, 30] and p99.dropped == 1
    assert p99.times is not None and p99.times.tolist() == [T + 1, T + 2]
    (p50,) = source.series("", 0, 2e9, 1)  # the first column
    assert p50.values.tolist() == [1, 2, 3, 4]
    assert source.series("p99", 0, T - 1, 1) == []  # nothing in the window
    with pytest.raises(InputError, match="no column 'p95'"):
        source.series("p95", 0, 2e9, 1)


def test_a_file_source_over_a_folder(tmp_path: Path) -> None:
    (tmp_path / "payments").mkdir()
    (tmp_path / "payments" / "prod.csv").write_text(CSV)
    (tmp_path / "index.json").write_text("[5, 6, 7]")
    source = FileSource(tmp_path)
    query = source.render("{service}/{env}.csv#p99", {"service": "payments", "env": "prod"})
    assert query == "payments/prod.csv#p99"
    assert source.series(query, 0, 2e9, 1)[0].values.tolist() == [10, 20, 30]
    (index,) = source.series("index.json", 5000, 6000, 1)  # no times: given whole
    assert index.times is None and index.values.tolist() == [5, 6, 7]
    with pytest.raises(InputError, match=r"no such metrics file") as caught:
        source.series("payments/staging.csv#p99", 0, 1, 1)
    assert caught.value.hint == "files there: index.json"
    for outside in ("../secret.csv", "/etc/passwd", "", "#p99"):
        with pytest.raises(InputError, match="is not a file inside"):
            source.series(outside, 0, 1, 1)


@pytest.mark.parametrize("value", ["..", "a/b", "a\\b", ""])
def test_file_placeholders_must_be_plain_names(tmp_path: Path, value: str) -> None:
    with pytest.raises(InputError, match="cannot be part of a file name"):
        FileSource(tmp_path).render("{service}.csv", {"service": value})


def test_a_missing_file_source(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder of metrics"):
        FileSource(tmp_path / "nope").series("p99", 0, 1, 1)
