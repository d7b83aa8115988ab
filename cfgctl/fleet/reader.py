"""A consistent read of what is published: the head, and whatever is read after it at the very
revision the head was read at, each piece checked against the digests the head vouches for.

    view = FleetView.read(etcd, layout)          # None when nothing is published
    view.head.commit, view.revision
    pair = view.pair("prod", "payments")         # PairDoc, or None: no such pair in the commit

(cfgctl.fleet.view makes a Snapshot of it for the agent; this module stays light for the SDK.)

A key the head lists but etcd lacks, or one whose content does not match, is `FleetDataError`:
the commit is incomplete or damaged there, and nothing of it is applied. When the revision has
been compacted away between two reads, the whole read starts again at the current one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cfgctl.fleet.documents import (
    FleetDataError,
    HeadDoc,
    PairDoc,
    digest,
    parse_index,
    parse_roots,
)
from cfgctl.fleet.etcd import Etcd
from cfgctl.fleet.layout import Layout, shard_of

__all__ = ["FleetView"]


@dataclass
class FleetView:
    etcd: Etcd
    layout: Layout
    head: HeadDoc
    revision: int  # everything is read at this revision of the store
    head_revision: int  # the head key's own mod revision
    _indexes: dict[str, dict[str, str]] = field(default_factory=dict)
    _roots: dict[str, dict[str, str]] = field(default_factory=dict)
    cluster: str = ""  # the etcd cluster's id

    @classmethod
    def read(cls, etcd: Etcd, layout: Layout) -> FleetView | None:
        found = etcd.range(layout.head)
        if not found.kvs:
            return None
        kv = found.kvs[0]
        head = HeadDoc.parse(layout.head, kv.value)
        return cls(etcd, layout, head, found.revision, kv.mod_revision, cluster=found.cluster)

    def _get(self, key: str) -> bytes | None:
        found = self.etcd.range(key, revision=self.revision)
        return found.kvs[0].value if found.kvs else None

    def _incomplete(self, key: str, why: str) -> FleetDataError:
        return FleetDataError(
            f"commit {self.head.commit[:12]} is incompletely published: {key} {why}",
            hint="nothing of it is applied; publish it again (`cfgctl fleet publish`)",
        )

    def roots(self, env: str) -> dict[str, str]:
        """shard -> digest of the index shards of `env` ({} when the commit has no pair there)."""
        if env in self._roots:
            return self._roots[env]
        expected = self.head.index.get(env)
        shards: dict[str, str] = {}
        if expected is not None:
            key = self.layout.roots(env)
            raw = self._get(key)
            if raw is None:
                raise self._incomplete(key, "is missing")
            if digest(raw) != expected:
                raise self._incomplete(key, "is not the one the head lists")
            shards = parse_roots(key, raw)
        self._roots[env] = shards
        return shards

    def index(self, env: str, shard: str) -> dict[str, str]:
        name = f"{env}/{shard}"
        if name in self._indexes:
            return self._indexes[name]
        expected = self.roots(env).get(shard)
        entries: dict[str, str] = {}
        if expected is not None:
            key = self.layout.index(env, shard)
            raw = self._get(key)
            if raw is None:
                raise self._incomplete(key, "is missing")
            if digest(raw) != expected:
                raise self._incomplete(key, "is not the one the roots list")
            entries = parse_index(key, raw)
        self._indexes[name] = entries
        return entries

    def pair(self, env: str, service: str) -> PairDoc | None:
        expected = self.index(env, shard_of(service)).get(service)
        if expected is None:
            return None
        key = self.layout.config(env, service)
        raw = self._get(key)
        if raw is None:
            raise self._incomplete(key, "is missing")
        pair = PairDoc.parse(key, raw)
        if pair.digest != expected or (pair.service, pair.env) != (service, env):
            raise self._incomplete(key, "is not the one the index lists")
        return pair

    def file(self, path: str) -> bytes:
        key = self.layout.file(path)
        raw = self._get(key)
        if raw is None:
            raise self._incomplete(key, "is missing")
        if digest(raw) != self.head.files.get(path):
            raise self._incomplete(key, "is not the one the head lists")
        return raw
