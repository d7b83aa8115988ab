"""The revert of one commit of a branch, as the files a change request commits on its tip.

    found = revert_of(repo, "main", "3f2a9c4...")     # NotOnBranch, RevertConflict
    store.open(found.title, "alice", "main", found.files, message=found.message, parent=found.tip)

`git revert` without a work tree: the commit's changes undone on the branch's tip, merged
three-way (a merge commit is reverted against its first parent, the branch's side), so later
edits of other lines survive. A commit the branch does not contain is refused; so is one whose
undoing conflicts with what the branch changed since (the files named), and one whose changes
are undone already (nothing left to revert).
"""

from __future__ import annotations

from dataclasses import dataclass

import pygit2

from cfgctl.errors import InputError
from cfgctl.repo.gitstore import default_signature
from cfgctl.review.changerequests import NotAllowed
from cfgctl.telemetry import note_commit, with_trailer

__all__ = ["NotOnBranch", "Revert", "RevertConflict", "commit_on_branch", "revert_of"]


class NotOnBranch(NotAllowed):
    """The commit is not one of the branch's."""


class RevertConflict(NotAllowed):
    """Undoing the commit conflicts with the branch as it is now (or undoes nothing)."""

    def __init__(self, message: str, files: list[str], hint: str) -> None:
        super().__init__(message, hint=hint)
        self.files = files


@dataclass(frozen=True)
class Revert:
    commit: str  # the commit undone
    tip: str  # the branch's tip it applies to
    files: dict[str, bytes | None]  # paths from the top of the Git repository; None: removed
    head: str  # a commit of the revert on `tip`, referenced by nothing (to read its effects)
    title: str
    message: str


def _commit(repo: pygit2.Repository, rev: str) -> pygit2.Commit:
    try:
        return repo.revparse_single(rev).peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError, pygit2.InvalidSpecError):
        raise InputError(
            f"no commit {rev!r} in the repository", hint="name a commit of the branch's history"
        ) from None


def commit_on_branch(repo: pygit2.Repository, branch: str, rev: str) -> tuple[str, list[str]]:
    """The commit `rev` names, once it is one of `branch`'s (not its first), and the paths it
    changed (from its first parent); `InputError` (unknown), `NotOnBranch` otherwise. Reads
    only: nothing is written."""
    ref = repo.references.get(f"refs/heads/{branch}")
    if ref is None:
        raise InputError(f"no branch {branch!r}", hint="name the branch served")
    tip = ref.peel(pygit2.Commit)
    commit = _commit(repo, rev)
    if commit.id != tip.id and not repo.descendant_of(tip.id, commit.id):
        raise NotOnBranch(
            f"commit {str(commit.id)[:12]} is not on {branch}",
            hint=f"revert a commit of {branch}'s history (GET /api/v1/commits/...)",
        )
    if not commit.parents:
        raise NotOnBranch(
            f"commit {str(commit.id)[:12]} is the first of {branch}: reverting it empties it",
            hint="revert a later commit",
        )
    deltas = commit.parents[0].tree.diff_to_tree(commit.tree).deltas
    paths = sorted({p for d in deltas for p in (d.old_file.path, d.new_file.path)})
    return str(commit.id), paths


def revert_of(repo: pygit2.Repository, branch: str, rev: str) -> Revert:
    """The files that undo `rev` on the tip of `branch` (see the module docstring)."""
    commit_id, _ = commit_on_branch(repo, branch, rev)
    tip = repo.references[f"refs/heads/{branch}"].peel(pygit2.Commit)
    commit = repo[pygit2.Oid(hex=commit_id)].peel(pygit2.Commit)
    index = repo.revert_commit(commit, tip, 1 if len(commit.parents) > 1 else 0)
    short = str(commit.id)[:12]
    if index.conflicts is not None:
        paths = sorted({e.path for c in index.conflicts for e in c if e is not None})
        raise RevertConflict(
            f"commit {short} no longer reverts cleanly on {branch}: "
            f"{', '.join(paths)} changed since",
            paths,
            hint="edit those files by hand in a new change request",
        )
    tree = repo[index.write_tree(repo)].peel(pygit2.Tree)
    files: dict[str, bytes | None] = {}
    for delta in tip.tree.diff_to_tree(tree).deltas:
        if delta.status == pygit2.enums.DeltaStatus.DELETED:
            files[delta.old_file.path] = None
        else:
            files[delta.new_file.path] = repo[delta.new_file.id].peel(pygit2.Blob).data
    if not files:
        raise RevertConflict(
            f"commit {short} is undone on {branch} already: reverting it changes nothing",
            [],
            hint="nothing to do",
        )
    subject = commit.message.splitlines()[0] if commit.message else short
    title = f'Revert "{subject}"'[:200]
    message = f"{title}\n\nThis reverts commit {commit.id}."
    sig = default_signature(repo)
    head = repo.create_commit(None, sig, sig, with_trailer(message), tree.id, [tip.id])
    note_commit(str(head))
    return Revert(str(commit.id), str(tip.id), files, str(head), title, message)
