"""`cfgctl fleet publish`: one commit of the repository into etcd, the head last.

    result = publish(snap, etcd, Layout.of("/cfgctl"), CommitInfo(sha, time, message))

What changed since the published head is written (pairs, index shards, shared files), what is
gone is deleted, in transactions under etcd's limits (128 operations, 1.5 MiB), then the head in
a transaction that holds only if nobody published in between. Publishing the commit that is
already the head writes nothing. A publish holds `<prefix>/v1/lock` (under a lease: a publisher
killed midway frees it within LOCK_TTL seconds); a half-published commit is never seen by a
reader, who reads at the head's revision and checks every digest (cfgctl.fleet.view).
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from cfgctl import telemetry
from cfgctl.errors import EnvError, InputError
from cfgctl.fleet.documents import (
    FleetDataError,
    HeadDoc,
    LayerDoc,
    PairDoc,
    digest,
    index_bytes,
    parse_index,
    parse_roots,
    pointer_bytes,
    roots_bytes,
)
from cfgctl.fleet.etcd import MAX_OPS, MAX_REQUEST_BYTES, Etcd, delete, prefix_end, put
from cfgctl.fleet.layout import Layout, shard_of
from cfgctl.repo.snapshot import Snapshot

__all__ = ["LOCK_TTL", "CommitInfo", "PublishResult", "commit_info", "publish", "shared_files"]

LOCK_TTL = 60  # seconds
# What one transaction may carry: etcd's limit less room for the request's own framing.
_BUDGET = MAX_REQUEST_BYTES - 64 * 1024
_SHARED = ("cfgctl.yaml", "policy.yaml")


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    time: int  # Unix seconds
    message: str


@dataclass
class PublishResult:
    commit: str
    previous: str | None
    pairs: int = 0  # pairs of the commit
    written: list[str] = field(default_factory=list)  # "env/service" written
    deleted: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # shared files written or deleted
    transactions: int = 0
    revision: int = 0
    seconds: float = 0.0

    @property
    def unchanged(self) -> bool:
        return self.transactions == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "previous": self.previous,
            "pairs": self.pairs,
            "written": self.written,
            "deleted": self.deleted,
            "files": self.files,
            "transactions": self.transactions,
            "revision": self.revision,
            "unchanged": self.unchanged,
            "seconds": round(self.seconds, 3),
        }


def shared_files(snap: Snapshot) -> dict[str, bytes]:
    """What every pair needs besides its layers: cfgctl.yaml, policy.yaml and the schemas."""
    out = {path: snap.files[path].read() for path in _SHARED if path in snap.files}
    for path in sorted(snap.files):
        if path.startswith("schemas/"):
            out[path] = snap.files[path].read()
    return out


def _text(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            f"{path} is not UTF-8: it cannot be published", hint="save the file as UTF-8"
        ) from None


def _pairs(
    snap: Snapshot, commit: str, published: Callable[[str, str], str | None]
) -> Iterator[tuple[str, str, str, PairDoc | None]]:
    """(service, env, digest, document) of every pair; the document None when `published`
    (env, service) already has that digest: an unchanged pair is neither parsed nor rendered,
    so a commit changing a few pairs of thousands costs about its changes, not the repository."""
    texts: dict[str, str] = {}  # a layer shared by many pairs (_defaults.yaml) read once
    for service, env in snap.pairs():
        found = snap.layers(service, env)
        layers = []
        for layer in found:
            if layer.path not in texts:
                texts[layer.path] = _text(layer.path, snap.files[layer.path].read())
            layers.append(LayerDoc(layer.path, layer.kind, texts[layer.path]))
        known = PairDoc.content_digest(service, env, tuple(layers))
        if published(env, service) == known:
            yield service, env, known, None
            continue
        plain = [snap.document(layer.path).data for layer in found if not layer.secret]
        pair = PairDoc.build(service, env, commit, layers, plain)
        yield service, env, pair.digest, pair


@dataclass
class _Published:
    """What the head in etcd says, read at one revision."""

    head: HeadDoc | None
    head_revision: int  # the head key's mod revision (0: none)
    indexes: dict[str, dict[str, str]]  # "env/shard" -> service -> digest
    roots: dict[str, dict[str, str]]  # env -> shard -> digest of the shard


def _read_published(etcd: Etcd, layout: Layout) -> _Published:
    found = etcd.range(layout.head)
    if not found.kvs:
        _refuse_foreign(etcd, layout)
        return _Published(None, 0, {}, {})
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
    return _Published(head, kv.mod_revision, indexes, roots)


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


def _plan(
    snap: Snapshot, info: CommitInfo, layout: Layout, old: _Published, result: PublishResult
) -> tuple[list[dict[str, Any]], HeadDoc]:
    """The operations that turn what is published into `info.sha`, and the new head."""
    ops: list[dict[str, Any]] = []
    new_index: dict[str, dict[str, str]] = {}

    def published(env: str, service: str) -> str | None:
        return old.indexes.get(f"{env}/{shard_of(service)}", {}).get(service)

    for service, env, pair_digest, pair in _pairs(snap, info.sha, published):
        result.pairs += 1
        new_index.setdefault(f"{env}/{shard_of(service)}", {})[service] = pair_digest
        if pair is not None:
            ops.append(_sized(put(layout.config(env, service), pair.to_bytes()), pair))
            result.written.append(f"{env}/{service}")
    for name, entries in old.indexes.items():
        env = name.split("/", 1)[0]
        for service in sorted(set(entries) - set(new_index.get(name, {}))):
            ops.append(delete(layout.config(env, service)))
            result.deleted.append(f"{env}/{service}")
    ops += _index_ops(layout, old, new_index)
    index_digests = _roots_ops(layout, old, new_index, ops)
    files = shared_files(snap)
    file_digests = {path: digest(data) for path, data in files.items()}
    old_files = old.head.files if old.head is not None else {}
    for path, data in files.items():
        if old_files.get(path) != file_digests[path]:
            ops.append(_sized(put(layout.file(path), data), None, path))
            result.files.append(path)
    for path in sorted(set(old_files) - set(files)):
        ops.append(delete(layout.file(path)))
        result.files.append(path)
    head = HeadDoc(
        info.sha,
        index_digests,
        file_digests,
        result.pairs,
        info.time,
        info.message,
        datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return ops, head


def _index_ops(
    layout: Layout, old: _Published, new_index: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    ops = []
    for name, entries in sorted(new_index.items()):
        if old.indexes.get(name) != entries:
            env, shard = name.split("/", 1)
            ops.append(put(layout.index(env, shard), index_bytes(entries)))
    gone = sorted(set(old.indexes) - set(new_index))
    return ops + [delete(layout.indexes() + name) for name in gone]


def _roots_ops(
    layout: Layout,
    old: _Published,
    new_index: dict[str, dict[str, str]],
    ops: list[dict[str, Any]],
) -> dict[str, str]:
    """Each environment's roots (shard -> digest), written when changed; env -> their digest."""
    roots: dict[str, dict[str, str]] = {}
    for name, entries in new_index.items():
        env, shard = name.split("/", 1)
        roots.setdefault(env, {})[shard] = digest(index_bytes(entries))
    digests = {}
    for env, shards in sorted(roots.items()):
        raw = roots_bytes(shards)
        digests[env] = digest(raw)
        if old.roots.get(env) != shards:
            ops.append(put(layout.roots(env), raw))
    ops += [delete(layout.roots(env)) for env in sorted(set(old.roots) - set(roots))]
    return digests


def _size(op: dict[str, Any]) -> int:
    request = op.get("request_put") or op.get("request_delete_range") or {}
    return sum(len(str(v)) for v in request.values()) * 3 // 4 + 16


def _sized(op: dict[str, Any], pair: PairDoc | None, path: str = "") -> dict[str, Any]:
    if _size(op) > _BUDGET:
        what = f"{pair.service} in {pair.env}" if pair is not None else path
        raise InputError(
            f"the configuration of {what} is {_size(op) // 1024} KiB: over etcd's request "
            f"limit ({MAX_REQUEST_BYTES // 1024} KiB)",
            hint="split it into smaller services, or raise etcd's --max-request-bytes",
        )
    return op


def _batches(ops: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    size = 0
    for op in ops:
        cost = _size(op)
        if batch and (len(batch) >= MAX_OPS or size + cost > _BUDGET):
            yield batch
            batch, size = [], 0
        batch.append(op)
        size += cost
    if batch:
        yield batch


@contextmanager
def _locked(etcd: Etcd, layout: Layout) -> Iterator[None]:
    lease = etcd.lease(LOCK_TTL)
    compare = [{"key": _key64(layout.lock), "target": "CREATE", "create_revision": "0"}]
    owner = f"pid {os.getpid()} at {datetime.now(UTC).isoformat(timespec='seconds')}"
    held, _ = etcd.txn([put(layout.lock, owner.encode(), lease)], compare)
    if not held:
        etcd.revoke(lease)
        raise EnvError(
            f"another publish to {layout.prefix} is running (it holds {layout.lock})",
            hint=f"wait for it; a publisher that died frees the lock within {LOCK_TTL} s",
        )
    try:
        yield
    finally:
        with suppress(EnvError):  # else the lease runs out by itself
            etcd.revoke(lease)  # the lock goes with its lease


def _key64(key: str) -> str:
    return base64.b64encode(key.encode()).decode()


def publish(snap: Snapshot, etcd: Etcd, layout: Layout, info: CommitInfo) -> PublishResult:
    """Publish `snap` (the repository at `info.sha`); see the module docstring. It runs in a
    span `fleet.publish` continuing the commit's trace (its Traceparent: trailer); the head
    document names that span, so agents and `watch_etcd` continue it in turn."""
    attributes = {"cfgctl.commit": info.sha, "cfgctl.prefix": layout.prefix}
    parent = telemetry.trailer_traceparent(info.message)
    with telemetry.span("fleet.publish", attributes, parent=parent) as span:
        result = _publish(snap, etcd, layout, info)
        span.set("cfgctl.pairs", result.pairs)
        return result


def _publish(snap: Snapshot, etcd: Etcd, layout: Layout, info: CommitInfo) -> PublishResult:
    started = time.monotonic()
    old = _read_published(etcd, layout)
    result = PublishResult(info.sha, old.head.commit if old.head else None)
    ops, head = _plan(snap, info, layout, old, result)
    head = replace(head, traceparent=telemetry.current_traceparent() or "")
    if old.head is not None and old.head.commit == info.sha and not ops:
        result.seconds = time.monotonic() - started
        return result  # this commit is the head already: nothing to write
    with _locked(etcd, layout):
        for batch in _batches(ops):
            _, result.revision = etcd.txn(batch)
            result.transactions += 1
        compare = [
            {"key": _key64(layout.head), "target": "MOD", "mod_revision": str(old.head_revision)}
        ]
        raw = head.to_bytes()
        writes = [put(layout.head, raw), put(layout.commit, pointer_bytes(info.sha, raw))]
        done, result.revision = etcd.txn(writes, compare)
        result.transactions += 1
        if not done:
            raise EnvError(
                f"the head of {layout.prefix} moved while this commit was published",
                hint="publish again: the later publish wins, this one wrote no head",
            )
    result.seconds = time.monotonic() - started
    return result


def commit_info(snap: Snapshot) -> CommitInfo:
    """The commit a snapshot opened with `Snapshot.at` is of."""
    if snap.store is None or snap.commit is None:
        raise InputError(
            "only a commit can be published, not the work tree",
            hint="commit your changes, then publish (--rev names another commit)",
        )
    commit = snap.store.commit_of(snap.commit)
    return CommitInfo(str(commit.id), int(commit.commit_time), commit.message)
