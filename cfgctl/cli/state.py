"""Options of the root command, shared by every sub-command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cfgctl.snapshot import Snapshot

__all__ = ["STATE", "State"]


@dataclass
class State:
    repo: Path | None = None
    use_cache: bool = True
    verbose: int = 0

    def start(self) -> Path:
        return self.repo if self.repo is not None else Path.cwd()

    def snapshot(self, rev: str | None = None) -> Snapshot:
        return Snapshot.open(self.start(), rev, use_cache=self.use_cache)


STATE = State()
