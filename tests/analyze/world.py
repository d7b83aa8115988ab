"""A configuration history that really happened: a Git repository whose commits change payments'
prod settings, the agent's audit log delivering each commit at a chosen time, and a latency
series (one point a minute, in a CSV file) that follows the settings delivered as `effect` says.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from tests.support.gitrepo import ConfigRepo

MANIFEST = """\
version: 1
environments:
  base: {}
  prod: {inherits: base}
services:
  payments: {schema: svc}
"""

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "workers": {"type": "integer", "minimum": 1, "maximum": 32},
        "timeout_ms": {"type": "integer", "minimum": 100, "maximum": 5000, "multipleOf": 100},
        "log_level": {"type": "string", "enum": ["debug", "info", "warn"]},
        "cache_ratio": {"type": "number", "minimum": 0, "exclusiveMaximum": 1},
    },
}

ANALYTICS = """\
version: 1
source: {files: {folder: metrics}}
metrics:
  - {name: latency, query: "{service}-{env}.csv#latency", direction: higher_is_worse}
  - {name: errors, query: "{service}-{env}.csv#errors", direction: higher_is_worse}
"""

Settings = dict[str, object]
BASE: Settings = {"workers": 8, "timeout_ms": 1000, "log_level": "info", "cache_ratio": 0.5}


def config_text(s: Settings) -> str:
    return (
        "# payments in prod: tuned by hand\n"
        f"workers: {s['workers']}  # threads serving requests\n"
        f"timeout_ms: {s['timeout_ms']}\n"
        f"log_level: {s['log_level']}\n"
        f"cache_ratio: {s['cache_ratio']}\n"
    )


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")


@dataclass
class World:
    repo: ConfigRepo
    commits: list[str]
    times: list[float]  # when each commit was delivered
    settings: list[Settings]
    start: float
    notes: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.repo.workdir

    @property
    def audit(self) -> Path:
        return self.root.parent / "state" / "audit.jsonl"


def make_world(
    tmp_path: Path,
    changes: Sequence[Settings],
    effect: Callable[[Settings], float],
    *,
    every: float = 5400.0,
    noise: float = 3.0,
    seed: int = 1,
) -> World:
    """Commit BASE, then each of `changes` (merged over the settings before); deliver commit i
    at start + i * `every` (the first from nothing); latency = effect(settings) + N(0, noise)
    each minute from start to now."""
    repo = ConfigRepo.init(tmp_path / "cfg")
    first = repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/svc.schema.json": json.dumps(SCHEMA, indent=2),
            "analytics.yaml": ANALYTICS,
            "config/prod/payments.yaml": config_text(BASE),
        },
        "init",
    )
    now = time.time()
    start = now - every * (len(changes) + 1)
    commits, settings, times = [first], [dict(BASE)], [start]
    for i, change in enumerate(changes, start=1):
        current = {**settings[-1], **change}
        text = ", ".join(f"{k}={v}" for k, v in change.items())
        commits.append(repo.commit({"config/prod/payments.yaml": config_text(current)}, text))
        settings.append(current)
        times.append(start + i * every)
    world = World(repo, commits, times, settings, start)
    _write_audit(world)
    _write_metrics(world, effect, noise, seed, now)
    return world


def _write_audit(world: World) -> None:
    world.audit.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (commit, when) in enumerate(zip(world.commits, world.times, strict=True)):
        entry = {"time": iso(when), "action": "apply", "target": "payments@prod:/etc/p.yaml",
                 "from": world.commits[i - 1] if i else None, "to": commit, "outcome": "ok",
                 "wave": 1}  # fmt: skip
        lines.append(json.dumps(entry))
    world.audit.write_text("\n".join(lines) + "\n")


def _write_metrics(
    world: World, effect: Callable[[Settings], float], noise: float, seed: int, now: float
) -> None:
    rng = np.random.default_rng(seed)
    rows = ["time,latency,errors"]
    t, i = world.start + 30.0, 0
    while t < now:
        while i + 1 < len(world.times) and world.times[i + 1] <= t:
            i += 1
        value = effect(world.settings[i]) + rng.normal(0, noise)
        rows.append(f"{iso(t)},{value:.3f},{rng.poisson(3)}")
        t += 60.0
    (world.root / "metrics").mkdir(exist_ok=True)
    (world.root / "metrics" / "payments-prod.csv").write_text("\n".join(rows) + "\n")
