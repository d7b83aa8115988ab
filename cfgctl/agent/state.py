"""The agent's memory, persisted atomically in `state_dir/state.json` after every change: per
target the commit applied, the last good one, a commit that failed (not retried until a newer
one arrives), a commit in flight (written but not yet confirmed healthy: a restart after
`kill -9` reloads and checks it again instead of trusting it), and the canary analysis of the
last delivery (waited for across restarts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cfgctl.agent.deliver import content_digest
from cfgctl.repo.fsutil import atomic_write

__all__ = ["AgentState", "RemoteState", "TargetState", "on_disk"]


@dataclass
class TargetState:
    applied: str | None = None  # the commit whose configuration is in the file
    good: str | None = None  # the last commit that passed its health check
    failed: str | None = None  # a commit that failed here: not retried until a newer one
    inflight: str | None = None  # being delivered (marked before the swap), not yet confirmed
    inflight_digest: str | None = None  # the content being delivered ("sha256:<hex>")
    digest: str | None = None  # the content the agent last wrote or found in place
    drift: str | None = None  # the digest of a hand edit already reported
    # pending, in-sync, waiting, failed, rolled-back, invalid, blocked, drifted
    state: str = "pending"
    error: str | None = None
    updated: str | None = None  # when `state` last changed (ISO 8601)
    held_until: str | None = None
    previous: str | None = None  # the commit `applied` replaced (a canary rollback returns to it)
    # The canary gate of the last delivery (cfgctl.agent.canary): commit, since, until, round,
    # state (analysing, passed, proceeded, held, regression, failed), verdict, reason.
    canary: dict[str, Any] | None = None


def on_disk(path: Path, ts: TargetState) -> dict[str, Any]:
    """What the file holds now: its digest and the commit it matches (the applied one, the one
    in flight, or `unknown`: edited by hand, or the state was lost); `drifted` when it differs
    from what the agent wrote."""
    try:
        digest: str | None = content_digest(path.read_bytes())
    except OSError:
        digest = None
    if digest is not None and digest == ts.digest:
        commit = ts.applied or "unknown"
    elif digest is not None and digest == ts.inflight_digest:
        commit = ts.inflight or "unknown"
    else:
        commit = "unknown"
    drifted = ts.digest is not None and digest != ts.digest and digest != ts.inflight_digest
    return {"digest": digest, "commit": commit, "drifted": drifted}


@dataclass
class RemoteState:
    ok: bool = True
    error: str | None = None
    last_fetch: str | None = None
    last_success: str | None = None


def _known(cls: type, data: Any) -> dict[str, Any]:
    """The fields of `cls` found in `data` (a newer or hand-edited file may hold others)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names} if isinstance(data, dict) else {}


@dataclass
class AgentState:
    path: Path
    tip: str | None = None
    last_sync: str | None = None  # the last pass that fetched and left every target well
    remote: RemoteState = field(default_factory=RemoteState)
    targets: dict[str, TargetState] = field(default_factory=dict)
    # An etcd source: the store revision of the last head read (a watch resumes after it; an
    # older head is never applied). 0 for a Git source.
    source_revision: int = 0
    source_cluster: str = ""  # ...of this etcd cluster (a restored cluster is a new one)

    @classmethod
    def load(cls, path: Path) -> AgentState:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError):
            # A state file that cannot be read is lost memory, not a reason to stop delivering:
            # the agent compares the files on disk with what it would write and converges.
            return cls(path)
        if not isinstance(data, dict):
            return cls(path)
        state = cls(path, data.get("tip"), data.get("last_sync"))
        state.remote = RemoteState(**_known(RemoteState, data.get("remote")))
        revision = data.get("source_revision")
        state.source_revision = revision if isinstance(revision, int) and revision > 0 else 0
        state.source_cluster = str(data.get("source_cluster") or "")
        state.targets = {
            str(k): TargetState(**_known(TargetState, v))
            for k, v in (data.get("targets") or {}).items()
        }
        return state

    def target(self, name: str) -> TargetState:
        return self.targets.setdefault(name, TargetState())

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "tip": self.tip,
            "last_sync": self.last_sync,
            "source_revision": self.source_revision,
            "source_cluster": self.source_cluster,
            "remote": dict(vars(self.remote)),
            # vars(), not asdict(): the fields are flat, and this runs after every target
            "targets": {k: dict(vars(v)) for k, v in self.targets.items()},
        }

    def save(self) -> None:
        # Compact: json's C encoder (an indent would use the pure-Python one, 10x slower), and
        # this runs twice per delivered target.
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"
        # One agent per state folder (a lock), so a fixed temporary name is safe; the rename
        # makes the new state whole or absent, even after kill -9.
        atomic_write(
            self.path,
            text.encode(),
            mode=0o600,
            temp=self.path.with_name(self.path.name + ".tmp"),
            sync_dir=False,
        )
