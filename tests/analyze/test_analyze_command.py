"""`cfgctl analyze changepoints` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.support.cli import run_cli


def test_changepoints_of_a_csv_in_text_and_json(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    values = np.r_[rng.normal(1, 0.05, 212), rng.normal(1.3, 0.05, 369)]
    rows = "".join(f"2026-12-01T10:{i // 60:02d}:{i % 60:02d}Z,{v}\n" for i, v in enumerate(values))
    (tmp_path / "lat.csv").write_text("time,p99\n" + rows)
    text = run_cli("analyze", "changepoints", str(tmp_path / "lat.csv"))
    assert text.exit_code == 0, text.output
    assert "p99: 581 points, 1 change point(s)" in text.stdout
    assert "at 212 (2026-12-01T10:03:32Z): " in text.stdout
    data = json.loads(
        run_cli("analyze", "changepoints", str(tmp_path / "lat.csv"), "-f", "json").stdout
    )
    assert data["series"] == "p99" and data["n"] == 581
    (point,) = data["changepoints"]
    assert point["index"] == 212 and point["time"] == "2026-12-01T10:03:32Z"
    assert set(point) == {"index", "time", "before", "after", "change", "p_value"}


def test_bad_series_are_exit_2_with_where(tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_text("i,v\n0,1\n1,fast\n")
    result = run_cli("analyze", "changepoints", str(tmp_path / "bad.csv"))
    assert result.exit_code == 2 and "bad.csv:3: error: v: 'fast' is not a number" in result.stderr
    missing = run_cli("analyze", "changepoints", str(tmp_path / "none.csv"))
    assert missing.exit_code == 2 and "Traceback" not in missing.output
