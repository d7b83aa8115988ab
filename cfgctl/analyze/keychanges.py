"""What each delivery changed: the keys of the effective configuration of its service and
environment that differ from the commit it replaced (`previous`) to the commit it delivered,
read from the repository's Git objects (no checkout).

    changes = KeyChanges(snap)
    changes.of(delivery)        # [Change(path=("db", "pool"), kind="changed", old=10, new=20)]
                                # None: unknown (no previous commit, a commit not here)
    changes.notes               # why some deliveries have no known keys

Snapshots and renderings are cached by commit: a commit delivered to many targets is read once.
A secret key is named (its value is never read into a change: `secret=True`, old/new None).
"""

from __future__ import annotations

from cfgctl.analyze.deliveries import Delivery
from cfgctl.changes.diff import Change, diff_rendered
from cfgctl.changes.history import repo_prefix, snapshot_of
from cfgctl.errors import CfgctlError, InputError
from cfgctl.repo.render import Rendered
from cfgctl.repo.snapshot import Snapshot

__all__ = ["KeyChanges"]


class KeyChanges:
    """The keys each delivery changed, from the history of the repository of `snap`."""

    def __init__(self, snap: Snapshot) -> None:
        if snap.store is None:
            raise InputError(
                f"{snap.root} is not a Git repository: the keys a delivery changed come from "
                "its history",
                hint="run it in the config repository the agent delivers from (-C DIR)",
            )
        self.snap = snap
        self.notes: list[str] = []
        self._snaps: dict[str, Snapshot | None] = {}
        self._rendered: dict[tuple[str, str, str], Rendered | None] = {}
        self._changes: dict[tuple[str, str, str, str], list[Change] | None] = {}

    def snapshot(self, commit: str) -> Snapshot | None:
        """The repository at `commit`; None (and a note) when it is not in this repository."""
        if commit not in self._snaps:
            assert self.snap.store is not None
            try:
                found = self.snap.store.commit_of(commit)
                self._snaps[commit] = snapshot_of(self.snap, found, repo_prefix(self.snap))
            except CfgctlError:
                self._snaps[commit] = None
                self.notes.append(f"commit {commit[:12]} is not in this repository")
        return self._snaps[commit]

    def rendered(self, commit: str, service: str, env: str) -> Rendered | None:
        """The effective configuration of (service, env) at `commit`; None when unreadable."""
        key = (commit, service, env)
        if key not in self._rendered:
            snap = self.snapshot(commit)
            result: Rendered | None = None
            if snap is not None:
                try:
                    result = snap.render(service, env)
                except CfgctlError as exc:
                    self.notes.append(f"{service}@{env} at {commit[:12]}: {exc.message}")
            self._rendered[key] = result
        return self._rendered[key]

    def of(self, d: Delivery) -> list[Change] | None:
        """The keys `d` changed; None when they cannot be known (a first delivery, with no
        previous commit; a commit missing or unreadable)."""
        key = (d.previous or "", d.commit, d.service, d.env)
        if key not in self._changes:
            self._changes[key] = self._compute(d)
        return self._changes[key]

    def _compute(self, d: Delivery) -> list[Change] | None:
        if d.previous is None:
            return None
        if d.previous == d.commit:
            return []
        old = self.rendered(d.previous, d.service, d.env)
        new = self.rendered(d.commit, d.service, d.env)
        if old is None or new is None:
            return None
        return diff_rendered(old, new)
