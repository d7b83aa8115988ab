"""The history of one effective value, and the blame of the lines that set it.

    changes = key_history(Snapshot.at(Path("."), "HEAD"), "payments", "prod", ("db", "pool_size"))
    changes[0].commit, changes[0].author, changes[0].old, changes[0].new

A commit counts when the *effective* value changed in it: an edit of the service's own file, of a
parent environment's, of a `_defaults.yaml`, or of the inheritance in cfgctl.yaml. Only commits
that touch one of those files are rendered; the others cost two tree look-ups each.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pygit2

from cfgctl.errors import CfgctlError, InputError
from cfgctl.repo.gitstore import GitStore, TreeFiles
from cfgctl.repo.manifest import MANIFEST
from cfgctl.repo.render import Layer, layer_paths, lookup
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath

__all__ = [
    "BlameLine",
    "KeyChange",
    "PairCommit",
    "blame_layers",
    "iso_date",
    "key_history",
    "pair_history",
    "repo_prefix",
    "snapshot_of",
]

_UNSET = object()


@dataclass(frozen=True)
class KeyChange:
    commit: str
    author: str
    email: str
    date: str
    subject: str
    old: Any
    new: Any
    old_set: bool
    new_set: bool
    secret: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "author": self.author,
            "email": self.email,
            "date": self.date,
            "subject": self.subject,
            "old": self.old,
            "new": self.new,
            "old_set": self.old_set,
            "new_set": self.new_set,
            "secret": self.secret,
        }


def iso_date(sig: pygit2.Signature) -> str:
    tz = dt.timezone(dt.timedelta(minutes=sig.offset))
    return dt.datetime.fromtimestamp(sig.time, tz).isoformat()


def snapshot_of(base: Snapshot, commit: pygit2.Commit, prefix: str) -> Snapshot:
    assert base.store is not None
    files = base.store.files_of(commit, prefix)
    return Snapshot(
        base.root,
        files,
        rev=str(commit.id)[:12],
        commit=str(commit.id),
        store=base.store,
        cache=base.cache,
        session=base.session,  # a secrets blob met again is decrypted once
    )


def _inputs(snap: Snapshot, service: str, env: str) -> tuple[str | None, ...] | None:
    """The blob ids of everything the effective value depends on, or None without a manifest."""
    manifest_ref = snap.files.get(MANIFEST)
    if manifest_ref is None:
        return None
    try:
        chain = snap.manifest.chain(env)
    except CfgctlError:
        chain = []
    oids: list[str | None] = [manifest_ref.oid]
    for name in chain:
        for path, _ in layer_paths(name, service):
            ref = snap.files.get(path)
            oids.append(ref.oid if ref is not None else None)
    return tuple(oids)


def _value(snap: Snapshot, service: str, env: str, path: JsonPath) -> tuple[Any, bool]:
    """(value, secret) of the key at this snapshot; `_UNSET` when it is not set or unreadable."""
    try:
        rendered = snap.render(service, env)
    except CfgctlError:
        return _UNSET, False
    found, value = lookup(rendered.data, path)
    return (value if found else _UNSET), rendered.is_secret(path)


def key_history(
    head: Snapshot, service: str, env: str, path: JsonPath, *, max_count: int | None = None
) -> list[KeyChange]:
    """The commits, newest first, in which the effective value of `path` changed."""
    if head.store is None or head.commit is None:
        raise InputError("history needs a Git revision", hint="run it in a Git repository")
    head.manifest.service(service)
    head.manifest.env(env)
    store: GitStore = head.store
    prefix = repo_prefix(head)
    out: list[KeyChange] = []
    walker = store.repo.walk(
        pygit2.Oid(hex=head.commit), pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME
    )
    walker.simplify_first_parent()
    for commit in walker:
        if max_count is not None and len(out) >= max_count:
            break
        new_snap = snapshot_of(head, commit, prefix)
        parent = commit.parents[0] if commit.parents else None
        old_snap = snapshot_of(head, parent, prefix) if parent is not None else None
        new_inputs = _inputs(new_snap, service, env)
        old_inputs = _inputs(old_snap, service, env) if old_snap is not None else None
        if new_inputs == old_inputs:
            continue
        new, new_secret = _value(new_snap, service, env, path) if new_inputs else (_UNSET, False)
        old, old_secret = (
            _value(old_snap, service, env, path)
            if old_snap is not None and old_inputs
            else (_UNSET, False)
        )
        if _same(old, new):
            continue
        secret = old_secret or new_secret
        out.append(
            KeyChange(
                str(commit.id),
                commit.author.name,
                commit.author.email,
                iso_date(commit.author),
                commit.message.splitlines()[0] if commit.message else "",
                None if secret or old is _UNSET else old,
                None if secret or new is _UNSET else new,
                old is not _UNSET,
                new is not _UNSET,
                secret,
            )
        )
    if not out:
        head.render(service, env).get(path)  # exit 2, "did you mean", for a key never set
    return out


@dataclass(frozen=True)
class PairCommit:
    """A commit that changed the effective configuration of one pair, and how (secrets masked)."""

    commit: str
    parents: tuple[str, ...]
    author: str
    email: str
    date: str
    subject: str
    changes: tuple[Any, ...]  # cfgctl.changes.diff.Change

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "parents": list(self.parents),
            "author": self.author,
            "email": self.email,
            "date": self.date,
            "subject": self.subject,
            "changes": [c.to_dict() for c in self.changes],
        }


def _rendered(snap: Snapshot | None, service: str, env: str) -> Any:
    if snap is None:
        return None
    try:
        return snap.render(service, env)
    except CfgctlError:
        return None


def pair_history(
    head: Snapshot, service: str, env: str, key: JsonPath | None = None, *, max_count: int = 50
) -> list[PairCommit]:
    """The commits, newest first, in which the effective configuration of (service, env)
    changed (under `key` when given), each with its semantic diff; at most `max_count`."""
    from cfgctl.changes.diff import diff_rendered

    if head.store is None or head.commit is None:
        raise InputError("history needs a Git revision", hint="run it in a Git repository")
    head.manifest.service(service)
    head.manifest.env(env)
    prefix = repo_prefix(head)
    out: list[PairCommit] = []
    walker = head.store.repo.walk(
        pygit2.Oid(hex=head.commit), pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.TIME
    )
    walker.simplify_first_parent()
    for commit in walker:
        if len(out) >= max_count:
            break
        new_snap = snapshot_of(head, commit, prefix)
        parent = commit.parents[0] if commit.parents else None
        old_snap = snapshot_of(head, parent, prefix) if parent is not None else None
        if _inputs(new_snap, service, env) == (
            _inputs(old_snap, service, env) if old_snap is not None else None
        ):
            continue
        changes = diff_rendered(
            _rendered(old_snap, service, env), _rendered(new_snap, service, env)
        )
        if key is not None:
            changes = [c for c in changes if c.path[: len(key)] == key]
        if not changes:
            continue
        out.append(
            PairCommit(
                str(commit.id),
                tuple(str(p) for p in commit.parent_ids),
                commit.author.name,
                commit.author.email,
                iso_date(commit.author),
                commit.message.splitlines()[0] if commit.message else "",
                tuple(changes),
            )
        )
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal as data: 1 and true differ (Python says 1 == True)."""
    if a is _UNSET or b is _UNSET:
        return a is b
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def repo_prefix(snap: Snapshot) -> str:
    store = snap.store
    if store is None or store.workdir is None or not snap.root.is_relative_to(store.workdir):
        return ""
    rel = snap.root.relative_to(store.workdir).as_posix()
    return "" if rel == "." else rel


@dataclass(frozen=True)
class BlameLine:
    layer: Layer
    line: int
    commit: str | None  # None: the line is not committed yet
    author: str | None
    date: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "author": self.author, "date": self.date}


def blame_layers(snap: Snapshot, lines: list[tuple[Layer, int]]) -> list[BlameLine]:
    """For each (layer, line), the commit and author that last changed that line."""
    store = snap.store
    out: list[BlameLine] = []
    if store is None:
        return [BlameLine(layer, line, None, None, None) for layer, line in lines]
    prefix = repo_prefix(snap)
    newest: pygit2.Oid | None = pygit2.Oid(hex=snap.commit) if snap.commit else None
    if newest is None and not store.repo.head_is_unborn:
        newest = store.commit_of("HEAD").id
    committed: TreeFiles | None = None
    if newest is not None:
        committed = store.files_of(store.repo[newest].peel(pygit2.Commit), prefix)
    blames: dict[str, Any] = {}
    for layer, line in lines:
        ref = snap.files.get(layer.path)
        in_commit = committed.get(layer.path) if committed is not None else None
        if ref is None or in_commit is None or in_commit.oid != ref.oid:
            out.append(BlameLine(layer, line, None, None, None))  # edited since the last commit
            continue
        repo_path = f"{prefix}/{layer.path}" if prefix else layer.path
        if repo_path not in blames:
            blames[repo_path] = store.repo.blame(repo_path, newest_commit=newest)
        try:
            hunk = blames[repo_path].for_line(line)
        except (IndexError, ValueError):
            out.append(BlameLine(layer, line, None, None, None))
            continue
        author = store.repo[hunk.final_commit_id].peel(pygit2.Commit).author
        out.append(BlameLine(layer, line, str(hunk.final_commit_id), author.name, iso_date(author)))
    return out
