"""What a commit changes of what is published, from Git alone: the cost of a publish follows the
change, not the repository.

    opened = OpenedCommit.at(Path("."), "HEAD")         # the store and the commit; no tree read
    found = changed(opened, head, indexes)              # Delta, or None: publish everything
    pair = pair_at(opened, "payments", "prod", chain)   # one pair read from the commit's tree

When the published head's commit is in the repository and `cfgctl.yaml` is the same blob in both
commits, the tree diff between them names every file that changed; a changed layer
`config/E/<service>[.secrets].yaml` reaches that service in each environment whose chain holds E
(the head keeps the chains), a changed `config/E/_defaults.yaml` every service there, and a
changed `policy.yaml` or schema is a shared file. Anything else (a new manifest, no common
commit, an older head without chains) falls back to reading the whole commit, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pygit2

from cfgctl.errors import InputError
from cfgctl.fleet.documents import HeadDoc, LayerDoc, PairDoc
from cfgctl.repo.gitstore import GitStore
from cfgctl.repo.manifest import MANIFEST
from cfgctl.repo.render import layer_paths
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import parse

__all__ = ["Delta", "OpenedCommit", "changed", "layer_text", "pair_at"]


def layer_text(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            f"{path} is not UTF-8: it cannot be published", hint="save the file as UTF-8"
        ) from None


@dataclass
class OpenedCommit:
    """A commit to publish: its store and folder (the config repository inside Git), and the
    whole Snapshot, opened only when needed."""

    store: GitStore
    prefix: str  # "" or "ops/cfg/"
    commit: pygit2.Commit
    open_snapshot: Callable[[], Snapshot]
    _snap: Snapshot | None = field(default=None, repr=False)

    @classmethod
    def at(cls, start: Path, rev: str) -> OpenedCommit:
        """Commit `rev` of the config repository at or above `start` (its files are looked up
        path by path: opening it reads no tree)."""
        return cls.of(Snapshot.at(start, rev))

    @classmethod
    def of(cls, snap: Snapshot) -> OpenedCommit:
        if snap.store is None or snap.commit is None:
            raise InputError(
                "only a commit can be published, not the work tree",
                hint="commit your changes, then publish (--rev names another commit)",
            )
        opened = cls(snap.store, snap.git_prefix, snap.store.commit_of(snap.commit), lambda: snap)
        opened._snap = snap
        return opened

    @property
    def sha(self) -> str:
        return str(self.commit.id)

    def snapshot(self) -> Snapshot:
        if self._snap is None:
            self._snap = self.open_snapshot()
        return self._snap

    def read(self, path: str) -> bytes | None:
        """A file of the config repository at this commit, None when absent."""
        try:
            entry = self.commit.tree[self.prefix + path]
        except KeyError:
            return None
        blob = self.store.repo[entry.id]
        return bytes(blob.data) if isinstance(blob, pygit2.Blob) else None


@dataclass
class Delta:
    pairs: set[tuple[str, str]]  # (service, env) whose layers may have changed
    files: set[str]  # shared files (policy.yaml, schemas/...) changed, added or removed


def _changed_paths(opened: OpenedCommit, old_sha: str) -> set[str] | None:
    repo = opened.store.repo
    try:
        old = repo[old_sha].peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        return None  # the published commit is not here (another repository, a shallow clone)
    paths: set[str] = set()
    for delta in old.tree.diff_to_tree(opened.commit.tree).deltas:
        paths.update((delta.old_file.path, delta.new_file.path))
    return {p[len(opened.prefix) :] for p in paths if p.startswith(opened.prefix)}


def changed(
    opened: OpenedCommit, head: HeadDoc, indexes: dict[str, dict[str, str]]
) -> Delta | None:
    """What changed between the published head and `opened`; None when only a whole read
    tells (see the module docstring)."""
    if not head.chains:
        return None
    paths = _changed_paths(opened, head.commit)
    if paths is None or MANIFEST in paths:
        return None
    services: dict[str, set[str]] = {}
    for name, entries in indexes.items():
        services.setdefault(name.split("/", 1)[0], set()).update(entries)
    delta = Delta(set(), set())
    for path in paths:
        if path == "policy.yaml" or path.startswith("schemas/"):
            delta.files.add(path)
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != "config" or not parts[2].endswith(".yaml"):
            continue
        layer_env, name = parts[1], parts[2]
        reached = [env for env, chain in head.chains.items() if layer_env in chain]
        for env in reached:
            known = services.get(env, set())
            if name == "_defaults.yaml":
                delta.pairs.update((service, env) for service in known)
                continue
            service = name.removesuffix(".yaml").removesuffix(".secrets")
            if service in known:
                delta.pairs.add((service, env))
    return delta


def pair_at(
    opened: OpenedCommit, service: str, env: str, chain: list[str], texts: dict[str, str]
) -> PairDoc:
    """The pair document of (service, env) read from the commit's tree, as the whole read
    (publish._pairs) makes it; `texts` keeps the layers read so far (a _defaults.yaml once)."""
    layers, plain = [], []
    for name in chain:
        for path, kind in layer_paths(name, service):
            if path not in texts:
                data = opened.read(path)
                if data is None:
                    continue
                texts[path] = layer_text(path, data)
            layers.append(LayerDoc(path, kind, texts[path]))
            if kind != "secrets":
                plain.append(parse(texts[path].encode(), path).data)
    return PairDoc.build(service, env, opened.sha, layers, plain)
