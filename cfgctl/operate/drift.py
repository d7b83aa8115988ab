"""`cfgctl drift`: the values of an environment that never passed through the one before it.

    report = find_drift(Snapshot.at(Path("."), "HEAD"), "prod", "staging")
    report.keys[0].service, report.keys[0].path, report.keys[0].commit   # the commit that set it

A key of ENV drifts when its effective value at the revision was never the effective value of
the same key in SOURCE at any commit of the history (the first-parent history of the revision,
as `git log --first-parent`: the commits of the branch itself, merges included as one step). Its
commit is the last one that changed ENV's effective value of that key: the change that skipped
SOURCE. Mappings are compared key by key, a list as one value. Env-local keys
(`cfgctl.operate.keyselect`) and secrets are not compared (secrets would have to be decrypted at
every commit; they are listed as not compared).

The walk renders a (service, env) only at the commits where one of the files feeding it (its
layers along the inheritance chain, cfgctl.yaml, its schema) changed: each commit costs a tree
diff with its parent (`cfgctl.changes.tree`, as `cfgctl diff` finds the pairs it renders).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pygit2

from cfgctl.changes.history import iso_date, repo_prefix, snapshot_of
from cfgctl.changes.tree import affected_pairs, changed_paths
from cfgctl.errors import CfgctlError, InputError
from cfgctl.operate.keyselect import KeyGlob, env_local_rules, selected
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.render import Rendered
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath

__all__ = ["DriftReport", "DriftedKey", "find_drift"]


@dataclass(frozen=True)
class Setter:
    """The commit that last changed a value."""

    commit: str
    author: str
    date: str
    subject: str


@dataclass(frozen=True)
class DriftedKey:
    service: str
    path: JsonPath
    value: Any
    setter: Setter | None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "service": self.service,
            "key": dotted_path(self.path),
            "value": self.value,
            "commit": None,
        }
        if self.setter is not None:
            s = self.setter
            out.update(commit=s.commit, author=s.author, date=s.date, subject=s.subject)
        return out


@dataclass
class DriftReport:
    env: str
    source: str
    rev: str
    commits: int = 0  # walked
    keys: list[DriftedKey] = field(default_factory=list)
    not_compared: list[tuple[str, JsonPath, str]] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.keys)

    def to_dict(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "from": self.source,
            "rev": self.rev,
            "commits": self.commits,
            "drift": [k.to_dict() for k in self.keys],
            "not_compared": [
                {"service": s, "key": dotted_path(p), "reason": r} for s, p, r in self.not_compared
            ],
        }


def _leaves(data: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    """Mappings key by key; anything else (a list, a scalar, an empty mapping) is one value."""
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif path:
        yield path, data


def _canon(value: Any) -> str:
    """Equal as data: 1, 1.0 and true differ."""
    return json.dumps(value, sort_keys=True, default=str)


def _setter(commit: pygit2.Commit) -> Setter:
    subject = commit.message.splitlines()[0] if commit.message else ""
    return Setter(str(commit.id), commit.author.name, iso_date(commit.author), subject)


class _Track:
    """What the walk keeps of one service: SOURCE's values ever seen, ENV's values now and the
    commit that last changed each."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.seen: dict[JsonPath, set[str]] = {}
        self.now: dict[JsonPath, str] = {}
        self.set_by: dict[JsonPath, pygit2.Commit] = {}

    def source(self, rendered: Rendered | None) -> None:
        if rendered is None:
            return
        for path, value in _leaves(rendered.data):
            if not rendered.is_secret(path):
                self.seen.setdefault(path, set()).add(_canon(value))

    def env(self, rendered: Rendered | None, commit: pygit2.Commit) -> None:
        now: dict[JsonPath, str] = {}
        if rendered is not None:
            now = {p: _canon(v) for p, v in _leaves(rendered.data) if not rendered.is_secret(p)}
        for path, value in now.items():
            if self.now.get(path) != value:
                self.set_by[path] = commit
        for path in self.now.keys() - now.keys():
            self.set_by.pop(path, None)
        self.now = now


def _render(snap: Snapshot, service: str, env: str) -> Rendered | None:
    try:
        return snap.render(service, env)
    except CfgctlError:  # not there yet, or broken at that commit: no values
        return None


def _affected(previous: Snapshot | None, snap: Snapshot) -> set[tuple[str, str]] | None:
    """The pairs whose effective configuration may differ from the previous commit (a tree
    diff, as `cfgctl diff` finds them); None: every pair (the first commit, a broken
    manifest)."""
    if previous is None:
        return None
    try:
        return affected_pairs(previous, snap, changed_paths(previous, snap)).pairs
    except CfgctlError:
        return None


def _check(head: Snapshot, env: str, source: str) -> None:
    manifest = head.manifest
    manifest.env(env)
    manifest.env(source)
    if env == source:
        raise InputError(
            f"--env and --from are both {env!r}",
            hint="compare an environment with the one before it: --env prod --from staging",
        )
    for name in (env, source):
        if head.is_abstract(name):
            raise InputError(
                f"{name} is abstract (only inherited from): it has no values of its own",
                location=manifest.doc.location(("environments", name)),
                hint="name concrete environments",
            )


def _first_parent(head: Snapshot) -> list[pygit2.Commit]:
    assert head.store is not None
    assert head.commit is not None
    walker = head.store.repo.walk(pygit2.Oid(hex=head.commit), pygit2.enums.SortMode.TOPOLOGICAL)
    walker.simplify_first_parent()
    return list(walker)[::-1]


def find_drift(
    head: Snapshot,
    env: str,
    source: str,
    services: list[str] | None = None,
    *,
    keys: Iterable[str] = (),
) -> DriftReport:
    """The keys of `env` at `head` (a revision) whose value `source` never had; see the module
    docstring."""
    if head.store is None or head.commit is None:
        raise InputError("drift reads the Git history", hint="run it in a Git repository")
    _check(head, env, source)
    for service in services or []:
        head.manifest.service(service)
    chosen = sorted(set(services)) if services else sorted(head.manifest.services)
    globs = [KeyGlob.parse(k) for k in keys]
    tracks = [_Track(s) for s in chosen]
    prefix = repo_prefix(head)
    report = DriftReport(env, source, head.label)
    previous: Snapshot | None = None
    for commit in _first_parent(head):
        report.commits += 1
        snap = snapshot_of(head, commit, prefix)
        changed = _affected(previous, snap)
        for track in tracks:
            if changed is None or (track.service, source) in changed:
                track.source(_render(snap, track.service, source))
            if changed is None or (track.service, env) in changed:
                track.env(_render(snap, track.service, env), commit)
        previous = snap
    matched: set[str] = set()
    for track in tracks:
        matched |= _judge(head, track, env, globs, report)
    missing = [g.text for g in globs if g.text not in matched]
    if missing:
        raise InputError(
            f"--keys {missing[0]!r} matches no key of the services in {env}",
            hint="`cfgctl render SERVICE --env ENV` lists the keys; * matches within one key, "
            "** across keys",
        )
    return report


def _judge(
    head: Snapshot, track: _Track, env: str, globs: list[KeyGlob], report: DriftReport
) -> set[str]:
    """Each key of the service in `env` judged into `report`; the globs that matched one."""
    rendered = _render(head, track.service, env)
    if rendered is None:
        return set()
    matched = {g.text for g in globs for p, _ in _leaves(rendered.data) if g.matches(p)}
    rules = env_local_rules(head, track.service)
    marked = rules.paths(rendered.data)
    for path, value in _leaves(rendered.data):
        if not selected(path, globs):
            continue
        if rendered.is_secret(path):
            report.not_compared.append((track.service, path, "secret"))
        elif rules.is_local(path, marked):
            report.not_compared.append((track.service, path, "env-local"))
        elif _canon(value) not in track.seen.get(path, set()):
            commit = track.set_by.get(path)
            setter = _setter(commit) if commit is not None else None
            report.keys.append(DriftedKey(track.service, path, value, setter))
    return matched
