"""`cfgctl backup restore FILE DIR [--at COMMIT|TIME]`: a backup back into a repository.

    restored = restore_backup(Path("cfg.backup"), Path("restored"))          # a new folder
    restored = restore_backup(Path("cfg.backup"), Path("."), at="2026-11-30T12:00:00Z")

Into a new (or empty) folder: the bundle's refs as they were, HEAD where it pointed and checked
out, every digest of the manifest compared with the configuration rendered from the result, all
in a hidden folder beside DIR that takes DIR's place only once everything passed (`etcdutl
snapshot restore` and `consul snapshot restore` refuse a used target the same way). On any
failure that folder is removed; a folder that existed before is never removed.

`--at COMMIT|TIME` restores the configuration as it was at a commit of the backed-up history (a
revision, or the newest commit of HEAD's first-parent line committed at or before an RFC 3339
time) as a new commit on top of the current history: nothing is rewritten. In an existing
repository it takes the repository lock and refuses uncommitted changes; only the config
repository's folder is replaced (all of it when the config repository is the Git root).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import CheckoutStrategy, FileStatus, ObjectType

from cfgctl.errors import InputError, Location
from cfgctl.operate.backup import scratch
from cfgctl.operate.backupfile import OpenedBackup
from cfgctl.operate.verify import open_verified
from cfgctl.repo.gitstore import GitStore, default_signature
from cfgctl.repo.lock import repository_lock
from cfgctl.repo.session import Session
from cfgctl.repo.timespec import parse_instant, utc_iso
from cfgctl.telemetry import note_commit, with_trailer

__all__ = ["AtCommit", "Restored", "commit_tree_of", "resolve_at", "restore_backup"]

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}")
_IGNORED = FileStatus.WT_NEW | FileStatus.IGNORED  # untracked files do not make a tree dirty


@dataclass
class AtCommit:
    """What `--at` did: the backed-up commit restored, and the commit that restored it."""

    source: str
    source_time: str
    commit: str | None  # None: the tree was already that one

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "source_time": self.source_time, "commit": self.commit}


@dataclass
class Restored:
    path: Path
    head: dict[str, str | None]
    refs: dict[str, str]
    pairs: int
    at: AtCommit | None
    steps: dict[str, float]
    new: bool  # a new repository, not a commit in an existing one

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "new": self.new,
            "head": self.head,
            "refs": self.refs,
            "pairs": self.pairs,
            "at": self.at.to_dict() if self.at else None,
            "seconds": {k: round(v, 3) for k, v in self.steps.items()},
        }


def _state(target: Path) -> str:
    """'new', 'empty' or 'used'."""
    if not target.exists():
        if not target.parent.is_dir():
            raise InputError(f"folder {target.parent} does not exist", hint="create it first")
        return "new"
    if not target.is_dir():
        raise InputError(f"{target} is a file", hint="name a new or empty folder to restore into")
    return "used" if any(target.iterdir()) else "empty"


def restore_backup(
    path: Path, target: Path, *, at: str | None = None, cache_root: Path | None = None
) -> Restored:
    """Restore the backup at `path` into `target` (see the module docstring)."""
    target = target.absolute()
    target = target.parent.resolve() / target.name
    state = _state(target)
    if state == "used" and at is None:
        raise InputError(
            f"{target} is not empty: a backup is restored into a new or empty folder",
            hint="name a new folder; or --at COMMIT|TIME to restore the configuration as of "
            "then as a new commit of the repository in it",
        )
    session = Session()
    try:
        if state == "used":
            return _restore_at(path, target, at or "", cache_root, session)
        return _restore_new(path, target, state, at, cache_root, session)
    finally:
        session.close()


def _restore_new(
    path: Path,
    target: Path,
    state: str,
    at: str | None,
    cache_root: Path | None,
    session: Session,
) -> Restored:
    hidden = Path(tempfile.mkdtemp(prefix=f".{target.name}.cfgctl-restore-", dir=target.parent))
    try:
        with scratch() as work:
            got = open_verified(
                path, work, bare=False, cache_root=cache_root, session=session, repo_dir=hidden
            )
            done = None
            if at is not None:
                source = resolve_at(got.store, got.opened, at)
                done = commit_tree_of(got.store, source, got.store, got.opened, lock=False)
        _move_into(hidden, target, state)
    except BaseException:
        shutil.rmtree(hidden, ignore_errors=True)
        raise
    return _result(target, got.opened, done, got.steps, new=True)


def _restore_at(
    path: Path, target: Path, at: str, cache_root: Path | None, session: Session
) -> Restored:
    dest = GitStore.discover(target)
    if dest is None or dest.workdir is None:
        raise InputError(
            f"{target} is not empty and not a Git work tree",
            hint="--at restores into an existing repository; name a new folder otherwise",
        )
    with scratch() as work:
        got = open_verified(path, work, bare=True, cache_root=cache_root, session=session)
        prefix = got.opened.manifest["prefix"]
        if target.resolve() not in (dest.workdir, (dest.workdir / prefix).resolve()):
            # A folder inside some other repository: never commit into that one by surprise.
            raise InputError(
                f"{target} is not the top of a Git work tree nor its config repository's folder",
                hint=f"name the repository's folder ({dest.workdir}) or a new folder",
            )
        source = resolve_at(got.store, got.opened, at)
        done = commit_tree_of(got.store, source, dest, got.opened, lock=True)
    return _result(dest.workdir, got.opened, done, got.steps, new=False)


def _result(
    target: Path,
    opened: OpenedBackup,
    done: AtCommit | None,
    steps: dict[str, float],
    *,
    new: bool,
) -> Restored:
    m = opened.manifest
    pairs = sum(len(e) for e in m["pairs"].values())
    return Restored(target, m["head"], m["refs"], pairs, done, steps, new)


def _move_into(hidden: Path, target: Path, state: str) -> None:
    """The restored folder in `target`'s place: renamed when `target` is new, its entries moved
    in when it is an existing empty folder (kept: its owner and mode are the user's)."""
    if state == "new":
        umask = os.umask(0)
        os.umask(umask)
        hidden.chmod(0o777 & ~umask)  # mkdtemp's 0700 is for the time it is hidden
        hidden.rename(target)
        return
    moved: list[Path] = []
    try:
        for entry in sorted(hidden.iterdir()):
            entry.rename(target / entry.name)
            moved.append(target / entry.name)
    except OSError:
        for entry in moved:
            with contextlib.suppress(OSError):
                (shutil.rmtree if entry.is_dir() else Path.unlink)(entry)
        raise
    hidden.rmdir()


# --- --at ---------------------------------------------------------------------------------------


def resolve_at(store: GitStore, opened: OpenedBackup, at: str) -> pygit2.Commit:
    """The commit of the backed-up history that `at` names: a revision, or the newest commit of
    HEAD's first-parent line committed at or before a time."""
    where = Location(str(opened.path))
    if not _TIME.match(at):
        try:
            return store.commit_of(at)
        except InputError:
            raise InputError(
                f"the backup holds no commit {at!r}",
                location=where,
                hint="name a commit, branch or tag of the backed-up history, or an RFC 3339 time",
            ) from None
    when = parse_instant(at)
    head = opened.manifest["head"].get("commit")
    commit = store.commit_of(head) if head else None
    while commit is not None and commit.commit_time > when.timestamp():
        commit = commit.parents[0] if commit.parents else None
    if commit is None:
        raise InputError(
            f"the backup's history has no commit at or before {utc_iso(when)}",
            location=where,
            hint="name a later time, or a commit",
        )
    return commit


def _copy_tree(source: pygit2.Repository, dest: pygit2.Repository, tree: pygit2.Tree) -> None:
    """Every object of `tree` into `dest`'s object database (those it lacks)."""
    odb = dest.odb
    for entry in tree:
        if entry.id in odb:
            continue
        obj = source[entry.id]
        if entry.type == ObjectType.TREE:
            assert isinstance(obj, pygit2.Tree)
            _copy_tree(source, dest, obj)
        elif entry.type == ObjectType.BLOB:
            odb.write(ObjectType.BLOB, obj.read_raw())
    if tree.id not in odb:
        odb.write(ObjectType.TREE, tree.read_raw())


def _graft(
    repo: pygit2.Repository, base: pygit2.Tree | None, parts: list[str], sub: pygit2.Oid
) -> pygit2.Oid:
    """The id of `base` with the folder `parts` replaced by the tree `sub`."""
    builder = repo.TreeBuilder(base) if base is not None else repo.TreeBuilder()
    if not parts:
        return sub
    name, rest = parts[0], parts[1:]
    inner: pygit2.Tree | None = None
    if base is not None and name in base:
        found = repo[base[name].id]
        inner = found if isinstance(found, pygit2.Tree) else None
    builder.insert(name, _graft(repo, inner, rest, sub), pygit2.enums.FileMode.TREE)
    return builder.write()


def _refuse_dirty(dest: GitStore) -> None:
    changed = sorted(
        p
        for p, flags in dest.repo.status().items()
        if flags & ~_IGNORED and flags != FileStatus.CURRENT
    )
    if changed:
        raise InputError(
            f"the work tree has uncommitted changes ({changed[0]}"
            + (f" and {len(changed) - 1} more)" if len(changed) > 1 else ")"),
            location=Location(changed[0]),
            hint="commit or stash them first: --at commits on top of the current history",
        )


def commit_tree_of(
    source: GitStore,
    commit: pygit2.Commit,
    dest: GitStore,
    opened: OpenedBackup,
    *,
    lock: bool,
) -> AtCommit:
    """Commit, on top of `dest`'s HEAD, the config repository's folder as it was at `commit` of
    the backed-up history; under the repository lock (`lock`: a repository of others), refused
    on a dirty work tree."""
    prefix = opened.manifest["prefix"]
    assert dest.workdir is not None
    root = dest.workdir / prefix if prefix else dest.workdir
    when = utc_iso(_commit_time(commit))
    held = repository_lock(root if root.is_dir() else dest.workdir) if lock else None
    with held or contextlib.nullcontext():
        _refuse_dirty(dest)
        repo = dest.repo
        tree = commit.tree if not prefix else _subtree(source.repo, commit, prefix, opened)
        if repo is not source.repo:
            _copy_tree(source.repo, repo, tree)
        head = None if repo.head_is_unborn else repo.head.peel(pygit2.Commit)
        parts = [p for p in prefix.split("/") if p]
        new_tree = _graft(repo, head.tree if head else None, parts, tree.id)
        if head is not None and new_tree == head.tree.id:
            return AtCommit(str(commit.id), when, None)
        target_tree = repo[new_tree]
        assert isinstance(target_tree, pygit2.Tree)
        try:
            repo.checkout_tree(target_tree, strategy=CheckoutStrategy.SAFE)  # type: ignore[no-untyped-call]
        except pygit2.GitError as exc:
            raise InputError(
                f"cannot write the restored files: {exc}",
                hint="move the untracked files in the way aside, then run it again",
            ) from None
        message = (
            f"Restore the configuration as of {str(commit.id)[:12]} ({when})\n\n"
            f"From the backup {opened.path.name} (made {opened.manifest['created']}): the tree "
            f"of {commit.id}, committed on top of the history; nothing rewritten.\n"
        )
        sig = default_signature(repo)
        parents = [head.id] if head is not None else []
        oid = repo.create_commit("HEAD", sig, sig, with_trailer(message), new_tree, parents)
        note_commit(str(oid))
    return AtCommit(str(commit.id), when, str(oid))


def _commit_time(commit: pygit2.Commit) -> datetime:
    return datetime.fromtimestamp(commit.commit_time, UTC)


def _subtree(
    repo: pygit2.Repository, commit: pygit2.Commit, prefix: str, opened: OpenedBackup
) -> pygit2.Tree:
    try:
        found = repo[commit.tree[prefix.rstrip("/")].id]
    except KeyError:
        found = None
    if not isinstance(found, pygit2.Tree):
        raise InputError(
            f"commit {str(commit.id)[:12]} has no folder {prefix}",
            location=Location(str(opened.path)),
            hint="name a commit made after the config repository was created",
        )
    return found
