"""What a change touches: the changed files between two snapshots, and the (service, env) pairs
whose effective configuration they feed, inheritance and `_defaults.yaml` included.

    changed = changed_paths(base, head)              # {"config/base/_defaults.yaml", ...}
    impact = affected_pairs(base, head, changed)     # every pair whose inputs changed

Cost follows the change: between two revisions the changed paths come from a tree diff in
libgit2, and only the pairs they feed are rendered afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
from pygit2.enums import DiffOption

from cfgctl.errors import CfgctlError, InputError
from cfgctl.repo.gitstore import GitStore, OverlayFiles, TreeFiles
from cfgctl.repo.manifest import MANIFEST, Manifest
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot, find_root

__all__ = ["Impact", "affected_pairs", "changed_paths", "open_range"]

_LAYER = re.compile(r"^config/(?P<env>[^/]+)/(?P<name>[^/]+?)(?:\.secrets)?\.yaml$")
_WATCHED = ("config", "schemas")


@dataclass
class Impact:
    """The pairs whose inputs changed, and what changed in the set of pairs itself."""

    pairs: set[tuple[str, str]] = field(default_factory=set)
    changed_paths: set[str] = field(default_factory=set)
    schema_changed: set[str] = field(default_factory=set)  # services whose schema changed
    # A changed schema file that is no service's own (one others $ref): it may change any verdict.
    shared_schema_changed: bool = False


def _in_config_repository(start: Path) -> None:
    """Outside a config repository, say so first (exit 2); a bare repository (a server's clone
    of a remote) has no folder to look in: its commits say."""
    try:
        find_root(start)
    except InputError:
        found = GitStore.discover(start.resolve()) if start.exists() else None
        if found is None or not found.repo.is_bare:
            raise


def open_range(
    start: Path,
    base: str | None,
    head: str | None,
    *,
    use_cache: bool = True,
    session: Session | None = None,
) -> tuple[Snapshot, Snapshot]:
    """The two snapshots of `cfgctl diff [BASE [HEAD]]`: HEAD against the work tree by default;
    `A..B` is A against B; `A...B` is the merge base of A and B against B, as a pull request.
    Both share `session` (a new one if None): the manifest is parsed once."""
    session = session if session is not None else Session(use_cache=use_cache)
    if base is not None and head is None and ".." in base:
        three = "..." in base
        left, right = base.split("..." if three else "..", 1)
        left, right = left or "HEAD", right or "HEAD"
        if three:
            _in_config_repository(start)
            store = GitStore.open(start)
            a, b = store.commit_of(left), store.commit_of(right)
            merge_base = store.repo.merge_base(a.id, b.id)
            if merge_base is None:
                raise InputError(
                    f"{left!r} and {right!r} have no common ancestor",
                    hint=f"compare them directly: cfgctl diff {left} {right}",
                )
            left = str(merge_base)
        return (
            Snapshot.at(start, left, use_cache=use_cache, session=session),
            Snapshot.at(start, right, use_cache=use_cache, session=session),
        )
    base_snap = Snapshot.at(start, base or "HEAD", use_cache=use_cache, session=session)
    head_snap = Snapshot.open(start, head, use_cache=use_cache, session=session)
    return base_snap, head_snap


def _relevant_path(path: str) -> bool:
    return path == MANIFEST or path.split("/", 1)[0] in _WATCHED


def _tree_diff(
    a: pygit2.Tree | None, b: pygit2.Tree | None, relevant: Callable[[str], bool]
) -> set[str] | None:
    if a is None or b is None:
        return None
    out: set[str] = set()
    _diff_trees(a, b, "", out)
    return {p for p in out if relevant(p)}


# A folder with more entries than this is compared by libgit2 (in C), a smaller one entry by
# entry here, so that only the folders that differ are descended into: diffing two whole trees
# in libgit2 costs ~25 ms when one file of a 10,000-file folder changed, its folder alone ~8 ms.
_SMALL_TREE = 256


def _diff_trees(a: pygit2.Tree | None, b: pygit2.Tree | None, base: str, out: set[str]) -> None:
    """The paths that differ between `a` and `b` (None: no tree), as libgit2's tree diff lists
    them: a file whose blob or mode changed, every file of a folder added or removed."""
    if a is not None and b is not None and a.id == b.id:
        return
    if a is None or b is None or len(a) + len(b) > _SMALL_TREE:
        # Paths only: without the flag, listing the deltas reads blobs to tell binary from text.
        flags = DiffOption.SKIP_BINARY_CHECK
        if a is not None and b is not None:
            diff = a.diff_to_tree(b, flags=flags)
        else:  # against the empty tree: every file of the one that exists
            tree = a if a is not None else b
            assert tree is not None
            diff = tree.diff_to_tree(flags=flags)
        for delta in diff.deltas:
            out.add(base + delta.old_file.path)
            out.add(base + delta.new_file.path)
        return
    old = {e.name: e for e in a}
    new = {e.name: e for e in b}
    for name in old.keys() | new.keys():
        x, y = old.get(name), new.get(name)
        if x is not None and y is not None and x.id == y.id and x.filemode == y.filemode:
            continue
        subtrees = [e if isinstance(e, pygit2.Tree) else None for e in (x, y)]
        if (x is not None and subtrees[0] is None) or (y is not None and subtrees[1] is None):
            out.add(base + str(name))  # a file (or submodule) on one side at least
        if subtrees[0] is not None or subtrees[1] is not None:
            _diff_trees(subtrees[0], subtrees[1], f"{base}{name}/", out)


def _tree_of(snap: Snapshot) -> pygit2.Tree | None:
    """The Git tree a snapshot is based on."""
    if isinstance(snap.files, TreeFiles):
        return snap.files.tree
    if isinstance(snap.files, OverlayFiles):
        return snap.files.base.tree
    return None


def _extra_of(snap: Snapshot) -> dict[str, Any]:
    """The files a snapshot has on top of its tree (None: deleted): a work tree's changes."""
    return snap.files.changed if isinstance(snap.files, OverlayFiles) else {}


def _oid(snap: Snapshot, path: str) -> str | None:
    ref = snap.files.get(path)
    return ref.oid if ref is not None else None


def changed_paths(
    base: Snapshot, head: Snapshot, relevant: Callable[[str], bool] = _relevant_path
) -> set[str]:
    """The files that differ between the two: by default the config-relevant ones
    (cfgctl.yaml, config/, schemas/); `relevant` chooses others."""
    same_repo = (
        base.store is not None
        and head.store is not None
        and (base.store.repo.path == head.store.repo.path)
    )
    # The trees first: a work tree's changes may still be computing (repo/gitstatus.py).
    diffed = _tree_diff(_tree_of(base), _tree_of(head), relevant) if same_repo else None
    if diffed is not None:
        # Files changed on top of either tree: changed unless both sides hold the same blob.
        for path in (_extra_of(base).keys() | _extra_of(head).keys()) - diffed:
            if relevant(path) and _oid(base, path) != _oid(head, path):
                diffed.add(path)
        return diffed
    left, right = _relevant(base, relevant), _relevant(head, relevant)
    return {p for p in left.keys() | right.keys() if left.get(p) != right.get(p)}


def _relevant(snap: Snapshot, relevant: Callable[[str], bool]) -> dict[str, str]:
    if relevant is _relevant_path:  # the watched folders only: no listing of the whole tree
        out = {p: f.oid for folder in _WATCHED for p, f in snap.files_under(folder).items()}
        manifest = snap.files.get(MANIFEST)
        if manifest is not None:
            out[MANIFEST] = manifest.oid
        return out
    return {p: f.oid for p, f in snap.files.items() if relevant(p)}


def _pairs(snap: Snapshot) -> set[tuple[str, str]]:
    try:
        return set(snap.pairs())
    except CfgctlError:
        return set()


def _manifest(snap: Snapshot) -> Manifest | None:
    try:
        return snap.manifest
    except CfgctlError:
        return None


def _descendants(manifest: Manifest | None, env: str) -> set[str]:
    if manifest is None or env not in manifest.environments:
        return set()
    return set(manifest.children(env))


def _schema_key(snap: Snapshot, service: str) -> tuple[str, str] | None:
    try:
        ref = snap.schema_of(service)
    except CfgctlError:
        return None
    return str(ref), snap.schemas.files[ref.path].oid


def _schema_path(snap: Snapshot, service: str) -> tuple[str, str] | None:
    try:
        return service, snap.schema_of(service).path
    except CfgctlError:
        return None


def _same_manifest(base: Snapshot, head: Snapshot) -> bool:
    """Both sides hold the same cfgctl.yaml blob, hence the same pairs."""
    a, b = base.files.get(MANIFEST), head.files.get(MANIFEST)
    return a is not None and b is not None and a.oid == b.oid


def affected_pairs(base: Snapshot, head: Snapshot, changed: set[str]) -> Impact:
    """Every (service, env) of either side whose effective configuration may differ. With one
    manifest on both sides, a change of one file costs lookups, not a listing of every pair."""
    impact = Impact(changed_paths=changed)
    bm, hm = _manifest(base), _manifest(head)
    space = _PairSpace(base, head, shared=hm is not None and _same_manifest(base, head))
    if not space.shared:
        _manifest_effects(impact, space, bm, hm, changed)
    for path in changed:
        match = _LAYER.match(path)
        if match is None:
            continue
        envs = _descendants(bm, match["env"]) | _descendants(hm, match["env"])
        if match["name"] == "_defaults":
            impact.pairs |= {(s, e) for s, e in space.every() if e in envs}
        else:
            impact.pairs |= {(match["name"], e) for e in envs if space.has((match["name"], e))}
    if any(p.startswith("schemas/") for p in changed) or MANIFEST in changed:
        _schema_effects(impact, space, changed)
    return impact


class _PairSpace:
    """The (service, env) pairs of a change's two sides: looked up in the head when both share
    one manifest, listed (base | head) otherwise."""

    def __init__(self, base: Snapshot, head: Snapshot, *, shared: bool) -> None:
        self.base, self.head, self.shared = base, head, shared
        self.base_pairs: set[tuple[str, str]] = set() if shared else _pairs(base)
        self.head_pairs: set[tuple[str, str]] = set() if shared else _pairs(head)
        self._every = None if shared else self.base_pairs | self.head_pairs

    def has(self, pair: tuple[str, str]) -> bool:
        return self.head.has_pair(*pair) if self.shared else pair in self.every()

    def every(self) -> set[tuple[str, str]]:
        if self._every is None:
            self._every = _pairs(self.head)
        return self._every


def _manifest_effects(
    impact: Impact, space: _PairSpace, bm: Manifest | None, hm: Manifest | None, changed: set[str]
) -> None:
    """Pairs that appeared or disappeared, and those whose chain or schema cfgctl.yaml changed."""
    impact.pairs |= space.base_pairs ^ space.head_pairs
    if MANIFEST not in changed or bm is None or hm is None:
        return
    for service, env in space.base_pairs & space.head_pairs:
        try:
            same_chain = bm.chain(env) == hm.chain(env)
        except CfgctlError:
            same_chain = False
        if not same_chain or bm.services[service].schema != hm.services[service].schema:
            impact.pairs.add((service, env))


def _schema_effects(impact: Impact, space: _PairSpace, changed: set[str]) -> None:
    """The services whose schema changed (all their pairs), and whether a schema others `$ref`
    (one no service names) changed."""
    base, head = space.base, space.head
    pairs = space.every()
    common = pairs if _same_manifest(base, head) else _pairs(base) & _pairs(head)
    services = {s for s, _ in common}
    by_service: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        by_service.setdefault(pair[0], []).append(pair)
    for service in services:
        if _schema_key(base, service) != _schema_key(head, service):
            impact.schema_changed.add(service)
            impact.pairs.update(by_service.get(service, ()))
    own = {key[1] for snap in (base, head) for s in services if (key := _schema_path(snap, s))}
    impact.shared_schema_changed = any(p.startswith("schemas/") and p not in own for p in changed)
