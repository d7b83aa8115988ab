"""A commit of changed files on a new branch, built in memory: the work tree, the index and the
checked-out branch are not touched.

    oid = commit_on_new_branch(store, "promote/prod", {"config/prod/payments.yaml": b"..."},
                               "Promote staging to prod")
    oid = commit_paths_on_head(store, ["config/prod/payments.yaml"], "Set ...")  # `set --commit`
"""

from __future__ import annotations

from collections.abc import Mapping

import pygit2
from pygit2.enums import FileMode

from cfgctl.errors import InputError
from cfgctl.repo.gitstore import GitStore, default_signature
from cfgctl.telemetry import note_commit, with_trailer

__all__ = ["check_new_branch", "commit_on_new_branch", "commit_paths_on_head"]


def check_new_branch(store: GitStore, branch: str) -> None:
    """InputError when `branch` is not a valid branch name or exists already."""
    ref = f"refs/heads/{branch}"
    # Git's own rules (git check-ref-format --branch), and names that would confuse it later:
    # HEAD (every command would warn that it is ambiguous), an option-like -x, a refs/ path.
    confusing = branch in ("HEAD", "@") or branch.startswith(("-", "refs/"))
    if confusing or not pygit2.reference_is_valid_name(ref):
        raise InputError(
            f"{branch!r} is not a valid branch name",
            hint="use letters, digits, '-', '_' and '/', e.g. promote/prod-2024-06-01",
        )
    if store.repo.references.get(ref) is not None:
        raise InputError(
            f"branch {branch!r} exists already",
            hint="choose a new name; cfgctl never moves an existing branch",
        )


def commit_on_new_branch(
    store: GitStore,
    branch: str,
    files: Mapping[str, bytes],
    message: str,
    *,
    base: str = "HEAD",
    author: pygit2.Signature | None = None,
) -> str:
    """Commit `files` (paths from the top of the Git repository) on top of `base` as the first
    commit of the new `branch`; the commit id. InputError when the branch exists."""
    check_new_branch(store, branch)
    repo = store.repo
    parent = store.commit_of(base)
    index = pygit2.Index()
    index.read_tree(parent.tree)
    for path, data in sorted(files.items()):
        try:
            mode = index[path].mode  # a changed file keeps its mode (an executable stays one)
        except KeyError:
            mode = FileMode.BLOB
        index.add(pygit2.IndexEntry(path, repo.create_blob(data), mode))
    tree = index.write_tree(repo)
    sig = author or default_signature(repo)
    oid = repo.create_commit(None, sig, sig, with_trailer(message), tree, [parent.id])
    note_commit(str(oid))
    repo.references.create(f"refs/heads/{branch}", oid)
    return str(oid)


def commit_paths_on_head(store: GitStore, paths: list[str], message: str) -> str:
    """Commit the work tree's content of `paths` (from the top of the Git repository), and
    nothing else that is staged or changed, on the checked-out branch; the commit id. The
    index gets the same entries, so `git status` shows those paths clean."""
    repo = store.repo
    if store.workdir is None:
        raise InputError("committing needs a work tree", hint="run it in a clone, not a bare one")
    unborn = repo.head_is_unborn
    staged = repo.index
    staged.read()
    index = pygit2.Index()
    if not unborn:
        index.read_tree(store.commit_of("HEAD").tree)
    for path in sorted(paths):
        data = (store.workdir / path).read_bytes()
        try:
            mode = index[path].mode
        except KeyError:
            mode = FileMode.BLOB
        index.add(pygit2.IndexEntry(path, repo.create_blob(data), mode))
        staged.add(path)
    tree = index.write_tree(repo)
    sig = default_signature(repo)
    parents = [] if unborn else [repo.head.target]
    oid = repo.create_commit("HEAD", sig, sig, with_trailer(message), tree, parents)
    note_commit(str(oid))
    staged.write()
    return str(oid)
