"""Options of the root command, shared by every sub-command, and the snapshots one run opened."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cfgctl.repo.gitstatus import StatusProbe
    from cfgctl.repo.session import Session
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["STATE", "State"]


@dataclass
class State:
    repo: Path | None = None
    use_cache: bool = True
    verbose: int = 0
    opened: list[Snapshot] = field(default_factory=list)
    session: Session | None = None  # what this command's snapshots share; closed with it
    probe: StatusProbe | None = None  # the work tree's status, computed while we import

    def start(self) -> Path:
        return self.repo if self.repo is not None else Path.cwd()

    def snapshot(self, rev: str | None = None) -> Snapshot:
        # Imported here: `cfgctl --version` must not pay for Git and YAML.
        from cfgctl.repo.session import Session
        from cfgctl.repo.snapshot import Snapshot

        if self.session is None:
            self.session = Session(use_cache=self.use_cache, probe=self.probe)
            self.probe = None
        snap = Snapshot.open(self.start(), rev, use_cache=self.use_cache, session=self.session)
        self.opened.append(snap)
        return snap

    def close(self) -> None:
        """Write what the snapshots of this command left in their caches."""
        while self.opened:
            self.opened.pop().cache.close()
        if self.probe is not None:
            self.probe.close()
            self.probe = None
        if self.session is not None:  # decrypted values dropped: the command is over
            self.session.close()
            self.session = None


STATE = State()
