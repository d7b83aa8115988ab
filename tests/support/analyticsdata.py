"""Metrics and deliveries for the Analytics page and its API: analytics.yaml with a files source,
a CSV of one point a minute for payments in prod over the last two days (latency steps up by
30% at the first delivery, errors flat), and an agent's audit log delivering two commits.

    repo.commit(analytics_files(now), "analytics")      # analytics.yaml and the CSV
    audit = write_audit(state, (before, c1, c2), now)   # deliveries of c1 and c2
    ... cfgctl serve --agent-audit AUDIT
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ANALYTICS = """\
version: 1
source: {files: {folder: metrics}}
metrics:
  - {name: latency_ms, query: "{service}-{env}.csv#latency_ms", direction: higher_is_worse, critical: true}
  - {name: errors, query: "{service}-{env}.csv#errors", direction: higher_is_worse}
"""
HOURS = 48
REGRESSION_AGO = 30 * 3600.0  # the first delivery: latency 100 -> 130 ms
QUIET_AGO = 10 * 3600.0  # the second: nothing changes


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")


def metrics_csv(now: float) -> str:
    rng = np.random.default_rng(16)
    start = int(now // 60) * 60 - HOURS * 3600
    rows = ["time,latency_ms,errors"]
    for i in range(HOURS * 60):
        t = start + 60 * i
        level = 130.0 if t >= now - REGRESSION_AGO else 100.0
        latency = level + rng.normal(0, 4)
        errors = 2.0 + rng.normal(0, 0.5)
        rows.append(f"{_iso(t)},{latency:.2f},{errors:.3f}")
    return "\n".join(rows) + "\n"


def audit_log(commits: tuple[str, str, str], now: float) -> str:
    """Deliveries to payments@prod: commits[1] (replacing commits[0]) then commits[2]."""
    first, second, third = commits
    entries = [
        (now - REGRESSION_AGO, first, second),
        (now - QUIET_AGO, second, third),
    ]
    lines = [
        json.dumps(
            {
                "time": _iso(t),
                "action": "apply",
                "outcome": "ok",
                "target": "payments@prod:/etc/payments/config.yaml",
                "from": old,
                "to": new,
                "wave": 1,
            }
        )
        for t, old, new in entries
    ]
    return "\n".join(lines) + "\n"


def analytics_files(now: float) -> dict[str, str | bytes | None]:
    """The files to commit in the config repository: analytics.yaml and the CSV."""
    return {"analytics.yaml": ANALYTICS, "metrics/payments-prod.csv": metrics_csv(now)}


def write_audit(state: Path, commits: tuple[str, str, str], now: float) -> Path:
    """The agent's audit log under `state` (see `audit_log`)."""
    state.mkdir(parents=True, exist_ok=True)
    audit = state / "audit.jsonl"
    audit.write_text(audit_log(commits, now))
    return audit
