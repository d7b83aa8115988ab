"""What sync agents report back (cfgctl.agent.report), kept per agent, and the rollout of a
commit across every target they reported.

    store = AgentReports(state_dir / "agents.json")
    store.receive("web-1", body, now)             # InputError when the body is no report
    store.agents(now)                             # [{agent, last_report, stale, ...}]
    rollout(store.latest(), commit, reached, now) # how many targets reached it, who is stuck

The latest report of each agent is kept in one JSON file under the server's state directory,
written atomically under a lock (`agents.json.lock`), and read back when another worker
process wrote it: every worker of `cfgctl serve --workers N` answers from the same reports, and
a restart forgets nothing. A report never holds a configuration value (commits, states, errors,
canary verdicts: what the agent's /status serves).

Staleness: an agent is stale when it has not reported for 3 times its usual interval (the
median of the gaps between its last reports as the server received them, at least 30 s), or
for 10 minutes while fewer than two reports are known.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import re
import statistics
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema

from cfgctl.errors import InputError
from cfgctl.repo.fsutil import atomic_write
from cfgctl.repo.timespec import utc_iso

__all__ = [
    "AGENT_ID",
    "MAX_REPORT_BYTES",
    "REPORT_SCHEMA",
    "STUCK_STATES",
    "AgentReports",
    "rollout",
    "stale_after",
]

MAX_REPORT_BYTES = 1024 * 1024  # a report of 1,000 targets is ~500 kB
AGENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
KEPT_TIMES = 6  # report times kept per agent, for its usual interval
UNKNOWN_INTERVAL_STALE = timedelta(minutes=10)
MIN_INTERVAL = timedelta(seconds=30)
# The agent's target states that stop a rollout (cfgctl.agent.delivery, reconcile): a failed
# delivery, one rolled back, a later wave blocked by a failed one or waiting on a held one.
STUCK_STATES = frozenset({"failed", "rolled-back", "blocked", "waiting"})
STUCK_CANARY = frozenset({"held", "regression", "failed", "rolled-back"})

_NULL_STR = {"type": ["string", "null"], "maxLength": 4096}
REPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["agent", "time", "targets"],
    "properties": {
        "agent": {"type": "string"},
        "time": {"type": "string", "maxLength": 64},
        "pass": {"type": "object"},
        "branch": _NULL_STR,
        "tip": _NULL_STR,
        "remote": {"type": ["object", "null"]},
        "targets": {
            "type": "array",
            "maxItems": 10000,
            "items": {
                "type": "object",
                "required": ["target", "service", "env", "commit", "state"],
                "properties": {
                    "target": {"type": "string", "maxLength": 4096},
                    "service": {"type": "string", "maxLength": 256},
                    "env": {"type": "string", "maxLength": 256},
                    "wave": {"type": ["integer", "null"]},
                    "commit": _NULL_STR,
                    "state": {"type": "string", "maxLength": 64},
                    "last_error": _NULL_STR,
                    "canary": {"type": ["object", "null"]},
                },
            },
        },
    },
}


def check_report(agent: str, body: Any) -> dict[str, Any]:
    """`body` when it is a report of `agent`; InputError naming what is wrong otherwise."""
    if not AGENT_ID.fullmatch(agent):
        raise InputError(
            f"agent id {agent[:80]!r} is not a name",
            hint="letters, digits, '.', '_' and '-', at most 128 (agent.yaml report.id)",
        )
    try:
        jsonschema.validate(body, REPORT_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(the body)"
        raise InputError(
            f"the report is not an agent's report: at {where}: {exc.message[:200]}",
            hint="send what cfgctl.agent.report sends: {agent, time, targets: [...], ...}",
        ) from None
    if body["agent"] != agent:
        raise InputError(
            f"the report is of agent {body['agent'][:80]!r}, sent to {agent!r}",
            hint="POST it to /api/v1/agents/AGENT/report with the body's agent",
        )
    return dict(body)


def stale_after(times: list[str]) -> timedelta:
    """How long without a report makes an agent stale, given its last report times."""
    stamps = [datetime.fromisoformat(t) for t in times]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps) if b > a]
    if not gaps:
        return UNKNOWN_INTERVAL_STALE
    return 3 * max(timedelta(seconds=statistics.median(gaps)), MIN_INTERVAL)


class AgentReports:
    """The latest report of every agent (see the module)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._entries: dict[str, dict[str, Any]] = {}

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock, self.path.with_name(self.path.name + ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self) -> dict[str, dict[str, Any]]:
        """The entries on disk (read again only when the file changed)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return self._entries
        seen = (stat.st_mtime_ns, stat.st_size)
        if seen != self._seen:
            try:
                loaded = json.loads(self.path.read_bytes())
            except ValueError:
                loaded = {}  # a file cut short is lost memory, rebuilt by the next reports
            self._entries = loaded if isinstance(loaded, dict) else {}
            self._seen = seen
        return self._entries

    def receive(self, agent: str, body: Any, now: datetime) -> dict[str, Any]:
        """Keep `body` (checked: InputError) as `agent`'s latest report, received `now`."""
        report = check_report(agent, body)
        with self._locked():
            entries = dict(self._load())
            times = [*entries.get(agent, {}).get("received", []), now.isoformat()][-KEPT_TIMES:]
            entry = {"received": times, "report": report}
            entries[agent] = entry
            atomic_write(self.path, json.dumps(entries, sort_keys=True).encode())
            self._entries, self._seen = entries, None
        return entry

    def latest(self) -> dict[str, dict[str, Any]]:
        """agent -> {received: [times], report}."""
        with self._locked():
            return dict(self._load())

    def agents(self, now: datetime) -> list[dict[str, Any]]:
        """Every agent with its last report time and whether it is stale, by name."""
        rows = []
        for agent, entry in sorted(self.latest().items()):
            report = entry["report"]
            last = entry["received"][-1]
            after = stale_after(entry["received"])
            rows.append(
                {
                    "agent": agent,
                    "last_report": last,
                    "sent": report.get("time"),
                    "stale": now - datetime.fromisoformat(last) > after,
                    "stale_after_seconds": after.total_seconds(),
                    "branch": report.get("branch"),
                    "tip": report.get("tip"),
                    "targets": len(report["targets"]),
                }
            )
        return rows


def _why_stuck(target: dict[str, Any], passed: dict[str, Any]) -> tuple[str, str] | None:
    """(status, why) when the target is stuck on its way to a commit, else None."""
    name = target["target"]
    canary = target.get("canary") or {}
    reason = target.get("last_error") or canary.get("reason")
    if target["state"] in STUCK_STATES:
        return target["state"], reason or target["state"]
    if canary.get("state") in STUCK_CANARY:
        return f"canary-{canary['state']}", reason or f"canary {canary['state']}"
    for kind in ("failed", "blocked", "held"):
        if name in (passed.get(kind) or ()):
            return kind, reason or f"the last pass left it {kind}"
    return None


def rollout(
    entries: dict[str, dict[str, Any]],
    commit: str,
    reached: Callable[[str], bool | None],
    now: datetime,
) -> dict[str, Any]:
    """Every reported target's progress towards `commit`: reached (`reached(its commit)`: the
    commit or a descendant on the branch), stuck (and why), or pending; and stale agents."""
    rows: list[dict[str, Any]] = []
    for agent, entry in sorted(entries.items()):
        report = entry["report"]
        last = entry["received"][-1]
        stale = now - datetime.fromisoformat(last) > stale_after(entry["received"])
        for target in report["targets"]:
            applied = target.get("commit")
            known = reached(applied) if applied else False
            stuck = None if known else _why_stuck(target, report.get("pass") or {})
            status, why = ("reached", None) if known else stuck or ("pending", None)
            if known is None and status == "pending":
                why = f"commit {str(applied)[:12]} is not in the served repository"
            rows.append(
                {
                    "agent": agent,
                    "target": target["target"],
                    "service": target["service"],
                    "env": target["env"],
                    "wave": target.get("wave"),
                    "commit": applied,
                    "state": target["state"],
                    "status": status,
                    "why": why,
                    "last_report": last,
                    "stale": stale,
                }
            )
    count = {s: sum(1 for r in rows if r["status"] == s) for s in ("reached", "pending")}
    return {
        "commit": commit,
        "total": len(rows),
        "reached": count["reached"],
        "stuck": len(rows) - count["reached"] - count["pending"],
        "pending": count["pending"],
        "stale": sum(1 for r in rows if r["stale"]),
        "time": utc_iso(now),
        "targets": rows,
    }
