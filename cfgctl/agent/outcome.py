"""What one reconcile pass did, target by target (what `agent once --format json` prints, and
what the agent reports to a server and to etcd)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["PassResult"]


@dataclass
class PassResult:
    tip: str | None = None
    applied: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)  # edited by hand, reported (drift: report)
    error: str | None = None  # the remote's, when the fetch failed
    stopped: bool = False
    wake_at: float | None = None  # a canary analysis is due then (Unix seconds): pass again

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed and not self.blocked

    def to_dict(self) -> dict[str, Any]:
        return {
            "tip": self.tip,
            "applied": self.applied,
            "failed": self.failed,
            "held": self.held,
            "unchanged": self.unchanged,
            "blocked": self.blocked,
            "drifted": self.drifted,
            "error": self.error,
            "stopped": self.stopped,
            "wake_at": self.wake_at,
        }
