"""A branch moved by something other than the user (the server merging a change request) while
a work tree has it checked out: the work tree follows, as Git's `receive.denyCurrentBranch =
updateInstead` has it, or the move is refused, never leaving files that silently undo it.

    move_checked_out(repo, "main", old, new, move=lambda: swap_the_ref(old, new))

Without it, the files of a served repository would still hold the old commit after a merge, and
the next `cfgctl set` (which commits the work tree) would quietly revert the merge.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pygit2
from pygit2.enums import DeltaStatus, FileMode, FileStatus

from cfgctl.errors import EnvError
from cfgctl.repo.fsutil import atomic_write

__all__ = ["move_checked_out"]

# What a clean work tree may have: files Git does not track, or ignores.
_CLEAN = FileStatus.WT_NEW | FileStatus.IGNORED


def move_checked_out(
    repo: pygit2.Repository,
    branch: str,
    old: pygit2.Oid,
    new: pygit2.Oid,
    move: Callable[[], None],
) -> None:
    """`move()` the branch from `old` to `new`; when a work tree has `branch` checked out, its
    files and index follow (only the files that differ). `EnvError`, nothing moved, when that
    work tree has edits not committed or an untracked file where `new` adds one."""
    workdir = _checked_out(repo, branch)
    if workdir is None:
        move()
        return
    diff = repo[old].peel(pygit2.Tree).diff_to_tree(repo[new].peel(pygit2.Tree))
    _refuse_edits(repo, branch, workdir)
    added = [d.new_file.path for d in diff.deltas if d.status == DeltaStatus.ADDED]
    in_the_way = [p for p in added if os.path.lexists(workdir / p)]
    if in_the_way:
        raise EnvError(
            f"{branch} is checked out in {workdir}, where untracked files stand in the way of "
            f"the change: {', '.join(in_the_way[:5])}",
            hint="move them away (or commit them), then try again",
        )
    move()
    index = repo.index
    index.read()
    for delta in diff.deltas:
        if delta.status == DeltaStatus.DELETED:
            (workdir / delta.old_file.path).unlink(missing_ok=True)
            index.remove(delta.old_file.path)
        else:
            _write(repo, workdir, delta.new_file)
            index.add(delta.new_file.path)
    index.write()


def _checked_out(repo: pygit2.Repository, branch: str) -> Path | None:
    if repo.is_bare or repo.head_is_detached or repo.head_is_unborn:
        return None
    if repo.references["HEAD"].target != f"refs/heads/{branch}":
        return None
    return Path(repo.workdir)


def _refuse_edits(repo: pygit2.Repository, branch: str, workdir: Path) -> None:
    edited = sorted(path for path, flags in repo.status().items() if flags & ~_CLEAN)
    if edited:
        shown = ", ".join(edited[:5]) + (f" and {len(edited) - 5} more" if len(edited) > 5 else "")
        raise EnvError(
            f"{branch} is checked out in {workdir} with edits not committed ({shown}): moving "
            "it would leave them undoing the change",
            hint="commit or stash them (git stash), then try again; or serve a clone "
            "(cfgctl serve --remote URL) that nobody edits",
        )


def _write(repo: pygit2.Repository, workdir: Path, file: pygit2.DiffFile) -> None:
    path = workdir / file.path
    path.parent.mkdir(parents=True, exist_ok=True)
    data = repo[file.id].peel(pygit2.Blob).data
    if file.mode == FileMode.LINK:
        path.unlink(missing_ok=True)
        path.symlink_to(data.decode())
        return
    if path.is_symlink():
        path.unlink()
    atomic_write(path, data, mode=0o755 if file.mode == FileMode.BLOB_EXECUTABLE else 0o644)
