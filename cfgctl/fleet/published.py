"""What is published under a prefix now, as the publisher needs it: the head, and the roots and
index shards it vouches for (cfgctl.fleet.publish compares a commit against this).

    published = read_published(etcd, layout)   # FleetDataError when the prefix is foreign
"""

from __future__ import annotations

from dataclasses import dataclass

from cfgctl.fleet.documents import FleetDataError, HeadDoc, digest, parse_index, parse_roots
from cfgctl.fleet.etcd import Etcd, prefix_end
from cfgctl.fleet.layout import Layout

__all__ = ["Published", "read_published"]


@dataclass
class Published:
    """What the head in etcd says, read at one revision."""

    head: HeadDoc | None
    head_revision: int  # the head key's mod revision (0: none)
    indexes: dict[str, dict[str, str]]  # "env/shard" -> service -> digest
    roots: dict[str, dict[str, str]]  # env -> shard -> digest of the shard

    @property
    def whole(self) -> bool:
        """Every roots document and index shard the head lists was found as listed (a damaged
        or missing one is left out above, and the next publish reads the whole commit)."""
        if self.head is None or set(self.roots) != set(self.head.index):
            return False
        listed = {f"{env}/{shard}" for env, shards in self.roots.items() for shard in shards}
        return listed == set(self.indexes)


def read_published(etcd: Etcd, layout: Layout) -> Published:
    found = etcd.range(layout.head)
    if not found.kvs:
        _refuse_foreign(etcd, layout)
        return Published(None, 0, {}, {})
    kv = found.kvs[0]
    head = HeadDoc.parse(layout.head, kv.value)
    roots: dict[str, dict[str, str]] = {}
    for item in etcd.prefix(layout.all_roots(), revision=found.revision).kvs:
        env = item.key[len(layout.all_roots()) :]
        if digest(item.value) == head.index.get(env):  # roots the head vouches for
            roots[env] = parse_roots(item.key, item.value)
    indexes: dict[str, dict[str, str]] = {}
    for item in etcd.prefix(layout.indexes(), revision=found.revision).kvs:
        name = item.key[len(layout.indexes()) :]
        env, _, shard = name.partition("/")
        if digest(item.value) == roots.get(env, {}).get(shard):  # a shard vouched for
            indexes[name] = parse_index(item.key, item.value)
    return Published(head, kv.mod_revision, indexes, roots)


def _refuse_foreign(etcd: Etcd, layout: Layout) -> None:
    """No head: the prefix must hold nothing but cfgctl's own keys (another application's
    data there is never overwritten or deleted)."""
    start = layout.prefix + "/"
    found = etcd.range(start, prefix_end(start), keys_only=True, limit=1000)
    foreign = [kv.key for kv in found.kvs if not layout.owns(kv.key)]
    if foreign:
        raise FleetDataError(
            f"the prefix {layout.prefix} holds data that is not cfgctl's (e.g. {foreign[0]!r})",
            hint="publish under a prefix of cfgctl's own (--prefix /cfgctl-config)",
        )
