"""`cfgctl analyze impact`: a commit's deliveries from the agent's audit log, each metric of
analytics.yaml judged before and after, over metric files."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tests.support.cli import run_cli

SHA = "3f2a9c41d0e5b7a8c9d0e1f2a3b4c5d6e7f8a9b0"
ANALYTICS = """\
version: 1
source: {files: {folder: metrics}}
metrics:
  - {name: latency, query: "{service}-{env}.csv#p99", direction: higher_is_worse, critical: true}
  - {name: errors, query: "{service}-{env}.csv#errors", direction: higher_is_worse}
"""


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")


def _world(tmp_path: Path, delivered: float, shift: float) -> Path:
    (tmp_path / "analytics.yaml").write_text(ANALYTICS)
    (tmp_path / "metrics").mkdir()
    rng = np.random.default_rng(7)
    rows = ["time,p99,errors"]
    for t in np.arange(delivered - 1800, min(delivered + 1800, time.time()), 10.0):
        p99 = rng.normal(100 + (shift if t >= delivered else 0), 5)
        rows.append(f"{_iso(t)},{p99:.3f},{rng.poisson(3)}")
    (tmp_path / "metrics/payments-prod.csv").write_text("\n".join(rows) + "\n")
    entry = {"time": _iso(delivered), "action": "apply", "target": "payments@prod:/etc/p.yaml",
             "from": "0" * 40, "to": SHA, "outcome": "ok", "wave": 1}  # fmt: skip
    (tmp_path / "state").mkdir()
    (tmp_path / "state/audit.jsonl").write_text(json.dumps(entry) + "\n")
    return tmp_path


def _impact(root: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(
        "analyze", "impact", SHA[:7], "--audit", str(root / "state"),
        "--config", str(root / "analytics.yaml"), *args,
    )  # fmt: skip
    return result.exit_code, result.stdout, result.stderr


def test_a_slowdown_is_a_regression_with_every_number(tmp_path: Path) -> None:
    root = _world(tmp_path, time.time() - 7200, shift=30)
    status, stdout, _ = _impact(root, "--format", "json", "--exit-code")
    assert status == 1
    (target,) = json.loads(stdout)["targets"]
    assert target["verdict"] == "regression" and "critical metric latency" in target["reason"]
    latency, errors = target["metrics"]
    assert latency["verdict"] == "regression" and latency["p_value"] < 1e-6
    assert 25 < latency["effect"] < 35 and latency["interval"][0] < latency["effect"]
    assert latency["n_before"] == 180 and latency["n_after"] == 180
    assert errors["verdict"] in ("no change", "inconclusive")
    text = _impact(root)[1]
    assert "payments@prod:/etc/p.yaml (wave 1): regression" in text
    assert "latency: regression: worse, and significant; effect +" in text


def test_a_window_not_over_or_a_commit_never_delivered(tmp_path: Path) -> None:
    root = _world(tmp_path, time.time() - 600, shift=0)
    status, stdout, _ = _impact(root, "--format", "json")
    assert status == 0
    (target,) = json.loads(stdout)["targets"]
    assert {m["verdict"] for m in target["metrics"]} == {"inconclusive"}
    assert "the window after the delivery ends in" in target["metrics"][0]["reason"]
    never = run_cli(
        "analyze", "impact", "1234567", "--audit", str(root / "state"),
        "--config", str(root / "analytics.yaml"),
    )  # fmt: skip
    assert never.exit_code == 2 and "the agent never delivered 1234567" in never.stderr
