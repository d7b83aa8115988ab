"""The semantic diff of two snapshots: what changes in the effective configuration of each
(service, env), inherited effects included, secrets masked.

    base, head = open_range(Path("."), "main...feature", None)
    result = diff_snapshots(base, head)
    result.to_list()  # [{"service", "env", "status", "changes": [{"path", "kind", "old", ...}]}]

Only the pairs whose inputs changed are rendered (see `cfgctl.changes.tree`); their two sides are
compared key by key, with deepdiff (imported only then) where a list differs. A value that is
secret on either side (an `x-cfgctl-secret`/`writeOnly` property, or one that comes from a
`.secrets.yaml` layer) is reported as changed, never shown.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from cfgctl.changes.tree import affected_pairs, changed_paths
from cfgctl.errors import CfgctlError, InputError
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.render import Rendered
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath, iter_leaves, same_data

__all__ = [
    "Change",
    "DiffResult",
    "PairDiff",
    "diff_envs",
    "diff_rendered",
    "diff_snapshots",
    "same_data",
]

Kind = Literal["added", "removed", "changed"]
Status = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class Change:
    """One key of one effective configuration that differs. For a secret, `old` and `new` are
    None and `secret` is True."""

    path: JsonPath
    kind: Kind
    old: Any = None
    new: Any = None
    secret: bool = False
    type_change: bool = False

    @property
    def dotted(self) -> str:
        return dotted_path(self.path)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.dotted,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
        }
        if self.secret:
            out["secret"] = True
        if self.type_change:
            out["type_change"] = True
        return out


@dataclass
class PairDiff:
    service: str
    env: str
    status: Status
    changes: list[Change] = field(default_factory=list)
    schema_old: str | None = None
    schema_new: str | None = None

    @property
    def schema_changed(self) -> bool:
        return self.schema_old != self.schema_new

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "service": self.service,
            "env": self.env,
            "status": self.status,
            "changes": [c.to_dict() for c in self.changes],
        }
        if self.schema_changed:
            out["schema"] = {"old": self.schema_old, "new": self.schema_new}
        return out


@dataclass
class DiffResult:
    base: str
    head: str
    pairs: list[PairDiff] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.pairs)

    def to_list(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.pairs]

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "head": self.head, "pairs": self.to_list()}


def _render(snap: Snapshot, service: str, env: str) -> Rendered:
    try:
        return snap.render(service, env)
    except CfgctlError as exc:
        where = f"{exc.location}: " if exc.location else ""
        raise InputError(
            f"cannot read {service}@{env} at {snap.label}: {where}{exc.message}",
            hint=exc.hint or "fix the file at that revision, or compare other revisions",
        ) from exc


def _secret(rendered: Rendered | None, path: JsonPath) -> bool:
    return rendered is not None and rendered.is_secret(path)


def _is_present(value: Any) -> bool:
    return type(value).__name__ != "NotPresent"


def diff_rendered(old: Rendered | None, new: Rendered | None) -> list[Change]:
    """The changes from `old` to `new` (None: the pair does not exist on that side)."""
    a = old.data if old is not None else {}
    b = new.data if new is not None else {}
    if same_data(a, b):
        return []
    if old is None or new is None:  # the pair appeared or disappeared: every key did
        kind: Kind = "added" if old is None else "removed"
        return _sorted(_leaves(kind, (), b if old is None else a, old, new))
    changes: list[Change] = []
    if _walk_changes(a, b, (), old, new, changes):
        return _sorted(changes)
    changes = []
    from deepdiff import DeepDiff  # ~200 ms to import: only for a list that differs

    tree = DeepDiff(a, b, verbose_level=2, view="tree")
    for report, levels in tree.items():
        for level in levels:
            path: JsonPath = tuple(level.path(output_format="list"))
            t1, t2 = level.t1, level.t2
            if report in ("dictionary_item_added", "iterable_item_added") or not _is_present(t1):
                changes.extend(_leaves("added", path, t2, old, new))
            elif report in ("dictionary_item_removed", "iterable_item_removed") or not _is_present(
                t2
            ):
                changes.extend(_leaves("removed", path, t1, old, new))
            else:
                secret = _secret(old, path) or _secret(new, path)
                changes.append(
                    Change(
                        path,
                        "changed",
                        None if secret else t1,
                        None if secret else t2,
                        secret=secret,
                        type_change=report == "type_changes",
                    )
                )
    return _sorted(changes)


def _walk_changes(
    a: Any, b: Any, path: JsonPath, old: Rendered, new: Rendered, out: list[Change]
) -> bool:
    """The changes from `a` to `b` as deepdiff reports them, for mappings and scalars; False
    (`out` incomplete) at a list that differs, which deepdiff aligns by content."""
    if same_data(a, b):
        return True
    both = isinstance(a, dict) and isinstance(b, dict)
    if both and not _mostly_different(a, b):
        for key, value in a.items():
            sub = (*path, key)
            if key not in b:
                out.extend(_leaves("removed", sub, value, old, new))
            elif not _walk_changes(value, b[key], sub, old, new, out):
                return False
        for key, value in b.items():
            if key not in a:
                out.extend(_leaves("added", (*path, key), value, old, new))
        return True
    same_type = type(a) is type(b)
    if same_type and isinstance(a, list):
        return False
    secret = _secret(old, path) or _secret(new, path)
    out.append(
        Change(
            path,
            "changed",
            None if secret else a,
            None if secret else b,
            secret=secret,
            type_change=not same_type,
        )
    )
    return True


def _mostly_different(a: dict[Any, Any], b: dict[Any, Any]) -> bool:
    """deepdiff's `threshold_to_diff_deeper` (0.33): mappings sharing under a third of their keys
    are reported as one changed value."""
    union = len(a.keys() | b.keys())
    return union > 1 and len(a.keys() & b.keys()) / union < 0.33


def _sorted(changes: list[Change]) -> list[Change]:
    return sorted(changes, key=lambda c: (tuple(str(p) for p in c.path), c.kind))


def _leaves(
    kind: Kind, base: JsonPath, value: Any, old: Rendered | None, new: Rendered | None
) -> list[Change]:
    out = []
    for sub, leaf in iter_leaves(value):
        path = (*base, *sub)
        secret = _secret(old, path) or _secret(new, path)
        shown = None if secret else leaf
        out.append(
            Change(
                path,
                kind,
                shown if kind == "removed" else None,
                shown if kind == "added" else None,
                secret=secret,
            )
        )
    return out


def _schema_name(snap: Snapshot, service: str) -> str | None:
    try:
        return str(snap.schema_of(service))
    except CfgctlError:
        return None


def _selected(
    pairs: Iterable[tuple[str, str]], envs: list[str], services: list[str]
) -> list[tuple[str, str]]:
    def matcher(patterns: list[str]) -> Callable[[str], bool]:
        exact = {p for p in patterns if not any(c in p for c in "*?[")}
        globs = [p for p in patterns if p not in exact]
        if not patterns:
            return lambda name: True
        return lambda name: name in exact or any(fnmatch.fnmatchcase(name, p) for p in globs)

    service_ok, env_ok = matcher(services), matcher(envs)
    return sorted((s, e) for s, e in pairs if service_ok(s) and env_ok(e))


def diff_snapshots(
    base: Snapshot,
    head: Snapshot,
    *,
    envs: list[str] | None = None,
    services: list[str] | None = None,
) -> DiffResult:
    """Every (service, env) whose effective configuration differs from `base` to `head`."""
    for snap in (base, head):
        snap.manifest  # noqa: B018  a broken manifest at either side is an error here
    result = DiffResult(base.label, head.label)
    impact = affected_pairs(base, head, changed_paths(base, head))
    for service, env in _selected(impact.pairs, envs or [], services or []):
        old = _render(base, service, env) if base.has_pair(service, env) else None
        new = _render(head, service, env) if head.has_pair(service, env) else None
        pair = pair_diff(base, head, old, new, service, env)
        if pair is not None:
            result.pairs.append(pair)
    return result


def pair_diff(
    base: Snapshot,
    head: Snapshot,
    old: Rendered | None,
    new: Rendered | None,
    service: str,
    env: str,
) -> PairDiff | None:
    """How one pair's effective configuration differs from `base` (`old`) to `head` (`new`,
    None where the pair does not exist); None when it does not."""
    status: Status = "added" if old is None else "removed" if new is None else "changed"
    pair = PairDiff(service, env, status, diff_rendered(old, new))
    pair.schema_old = _schema_name(base, service) if old is not None else None
    pair.schema_new = _schema_name(head, service) if new is not None else None
    if status != "changed" or pair.changes or pair.schema_changed:
        return pair
    return None


def diff_envs(
    snap: Snapshot, left: str, right: str, services: list[str] | None = None
) -> DiffResult:
    """The effective configuration of each service in `left` against the same in `right`."""
    manifest = snap.manifest
    manifest.env(left)
    manifest.env(right)
    chosen = sorted(
        s
        for s in manifest.services
        if not services or any(fnmatch.fnmatchcase(s, p) for p in services)
    )
    if services and not chosen:
        manifest.service(services[0])  # raises with a hint
    result = DiffResult(f"{left} ({snap.label})", f"{right} ({snap.label})")
    for service in chosen:
        old, new = _render(snap, service, left), _render(snap, service, right)
        changes = diff_rendered(old, new)
        if changes:
            result.pairs.append(PairDiff(service, f"{left}..{right}", "changed", changes))
    return result
