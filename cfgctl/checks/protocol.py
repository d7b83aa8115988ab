"""What a check of the whole repository is, so that `validate_snapshot` runs checks it does
not know: the packages above this one (secrets, review) define theirs, and whoever composes a
run (the CLI's `validate`) passes them in.

    def check_todo(snap: Snapshot, files: set[str] | None) -> list[Diagnostic]:
        return [...]                                  # files: restrict to these, or None

    report = validate_snapshot(snap, checks=[check_todo, check_codeowners_current])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from cfgctl.diagnostics import Diagnostic
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.snapshot import Snapshot

__all__ = ["RepositoryCheck", "config_files"]


class RepositoryCheck(Protocol):
    """A callable taking the snapshot and the set of files to restrict to (None: all of them),
    returning diagnostics. Run after the schemas, files and pairs have been checked."""

    def __call__(self, snap: Snapshot, files: set[str] | None, /) -> Iterable[Diagnostic]: ...


def config_files(snap: Snapshot, only: set[str] | None) -> Mapping[str, FileRef]:
    """The files under config/ a check looks at: all of them, or those of `only`, looked up
    rather than listed, so that the cost follows the files asked for."""
    if only is None:
        return snap.files_under("config")
    return {p: snap.files[p] for p in only if p.startswith("config/") and p in snap.files}
