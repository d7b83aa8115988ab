"""`cfgctl fleet publish`: one commit of the repository into etcd, the head last.

    result = publish(snap, etcd, Layout.of("/cfgctl"), CommitInfo(sha, time, message))
    result = publish_commit(OpenedCommit.at(Path("."), "HEAD"), etcd, layout, info)

What changed since the published head is written (found from Git's tree diff when the head's
commit is at hand and cfgctl.yaml is unchanged: cfgctl.fleet.incremental; else from the whole
commit): pairs, index shards, shared files; what is
gone is deleted, in transactions under etcd's limits (128 operations, 1.5 MiB), then the head in
a transaction that holds only if nobody published in between. Publishing the commit that is
already the head writes nothing. A publish holds `<prefix>/v1/lock` (under a lease: a publisher
killed midway frees it within LOCK_TTL seconds); a half-published commit is never seen by a
reader, who reads at the head's revision and checks every digest (cfgctl.fleet.view).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pygit2

from cfgctl import telemetry
from cfgctl.errors import EnvError, InputError
from cfgctl.fleet.documents import (
    HeadDoc,
    LayerDoc,
    PairDoc,
    digest,
    index_bytes,
    pointer_bytes,
    roots_bytes,
)
from cfgctl.fleet.etcd import (
    MAX_REQUEST_BYTES,
    Etcd,
    delete,
    put,
    unchanged_since,
)
from cfgctl.fleet.incremental import Delta, OpenedCommit, changed, layer_text, pair_at
from cfgctl.fleet.layout import Layout, shard_of
from cfgctl.fleet.published import Published, read_published
from cfgctl.fleet.transactions import BUDGET, LOCK_TTL, batches, locked, size
from cfgctl.repo.snapshot import Snapshot

__all__ = [
    "LOCK_TTL",
    "CommitInfo",
    "PublishResult",
    "commit_info",
    "publish",
    "publish_commit",
    "shared_files",
]

log = logging.getLogger("cfgctl.fleet")

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
    # "changes": only what Git's diff from the published head names was read; "commit": all
    incremental: bool = False

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
            "read": "changes" if self.incremental else "commit",
            "seconds": round(self.seconds, 3),
        }


def shared_files(snap: Snapshot) -> dict[str, bytes]:
    """What every pair needs besides its layers: cfgctl.yaml, policy.yaml and the schemas."""
    out = {path: snap.files[path].read() for path in _SHARED if path in snap.files}
    for path in sorted(snap.files):
        if path.startswith("schemas/"):
            out[path] = snap.files[path].read()
    return out


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
                texts[layer.path] = layer_text(layer.path, snap.files[layer.path].read())
            layers.append(LayerDoc(layer.path, layer.kind, texts[layer.path]))
        known = PairDoc.content_digest(service, env, tuple(layers))
        if published(env, service) == known:
            yield service, env, known, None
            continue
        plain = [snap.document(layer.path).data for layer in found if not layer.secret]
        pair = PairDoc.build(service, env, commit, layers, plain)
        yield service, env, pair.digest, pair


def _plan(
    snap: Snapshot, info: CommitInfo, layout: Layout, old: Published, result: PublishResult
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
            _put_pair(layout, pair, ops, result)
    for name, entries in old.indexes.items():
        env = name.split("/", 1)[0]
        for service in sorted(set(entries) - set(new_index.get(name, {}))):
            ops.append(delete(layout.config(env, service)))
            result.deleted.append(f"{env}/{service}")
    index_digests = _index_ops(layout, old, new_index, ops)
    files: dict[str, bytes | None] = dict(shared_files(snap))
    old_files = old.head.files if old.head is not None else {}
    files.update((path, None) for path in old_files if path not in files)  # gone
    file_digests = _file_ops(layout, old_files, files, ops, result)
    manifest = snap.manifest
    envs = sorted({name.split("/", 1)[0] for name in new_index})
    head = HeadDoc(
        info.sha,
        index_digests,
        file_digests,
        result.pairs,
        info.time,
        info.message,
        datetime.now(UTC).isoformat(timespec="seconds"),
        chains={env: manifest.chain(env) for env in envs},
    )
    return ops, head


def _plan_delta(
    opened: OpenedCommit,
    delta: Delta,
    info: CommitInfo,
    layout: Layout,
    old: Published,
    result: PublishResult,
) -> tuple[list[dict[str, Any]], HeadDoc]:
    """`_plan` for a commit whose changes since the published head Git names (`delta`): the
    pairs they reach and the shared files they touch, nothing else read."""
    assert old.head is not None
    ops: list[dict[str, Any]] = []
    new_index = {name: dict(entries) for name, entries in old.indexes.items()}
    texts: dict[str, str] = {}
    for service, env in sorted(delta.pairs):
        pair = pair_at(opened, service, env, old.head.chains[env], texts)
        entries = new_index.setdefault(f"{env}/{shard_of(service)}", {})
        if entries.get(service) != pair.digest:
            entries[service] = pair.digest
            _put_pair(layout, pair, ops, result)
    result.pairs = old.head.pairs
    index_digests = _index_ops(layout, old, new_index, ops)
    changed_files = {path: opened.read(path) for path in sorted(delta.files)}
    file_digests = _file_ops(layout, old.head.files, changed_files, ops, result)
    head = replace(
        old.head,
        commit=info.sha,
        index=index_digests,
        files=file_digests,
        commit_time=info.time,
        message=info.message,
        published_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return ops, head


def _put_pair(
    layout: Layout, pair: PairDoc, ops: list[dict[str, Any]], result: PublishResult
) -> None:
    ops.append(_sized(put(layout.config(pair.env, pair.service), pair.to_bytes()), pair))
    result.written.append(f"{pair.env}/{pair.service}")


def _file_ops(
    layout: Layout,
    published: dict[str, str],
    files: dict[str, bytes | None],
    ops: list[dict[str, Any]],
    result: PublishResult,
) -> dict[str, str]:
    """The shared files' writes: each of `files` (None: gone) that differs from `published`
    (path -> digest); the digests after them."""
    digests = dict(published)
    for path, data in files.items():
        if data is None:
            if digests.pop(path, None) is not None:
                ops.append(delete(layout.file(path)))
                result.files.append(path)
        elif digests.get(path) != digest(data):
            digests[path] = digest(data)
            ops.append(_sized(put(layout.file(path), data), None, path))
            result.files.append(path)
    return digests


def _index_ops(
    layout: Layout,
    old: Published,
    new_index: dict[str, dict[str, str]],
    ops: list[dict[str, Any]],
) -> dict[str, str]:
    """The index shards and each environment's roots (shard -> digest), written when changed,
    gone ones deleted; env -> the digest of its roots, for the head."""
    for name, entries in sorted(new_index.items()):
        if old.indexes.get(name) != entries:
            env, shard = name.split("/", 1)
            ops.append(put(layout.index(env, shard), index_bytes(entries)))
    gone = sorted(set(old.indexes) - set(new_index))
    ops += [delete(layout.indexes() + name) for name in gone]
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


def _sized(op: dict[str, Any], pair: PairDoc | None, path: str = "") -> dict[str, Any]:
    if size(op) > BUDGET:
        what = f"{pair.service} in {pair.env}" if pair is not None else path
        raise InputError(
            f"the configuration of {what} is {size(op) // 1024} KiB: over etcd's request "
            f"limit ({MAX_REQUEST_BYTES // 1024} KiB)",
            hint="split it into smaller services, or raise etcd's --max-request-bytes",
        )
    return op


def publish(
    snap: Snapshot, etcd: Etcd, layout: Layout, info: CommitInfo, *, force: bool = False
) -> PublishResult:
    """Publish `snap`, a Snapshot of commit `info.sha`: `publish_commit` of it."""
    return publish_commit(OpenedCommit.of(snap), etcd, layout, info, force=force)


def publish_commit(
    opened: OpenedCommit, etcd: Etcd, layout: Layout, info: CommitInfo, *, force: bool = False
) -> PublishResult:
    """Publish the commit `opened` (`info`: its id, time and message); see the module
    docstring. It runs in a span `fleet.publish` continuing the commit's trace (its
    Traceparent: trailer); the head document names that span, so agents and `watch_etcd`
    continue it in turn."""
    attributes = {"cfgctl.commit": info.sha, "cfgctl.prefix": layout.prefix}
    parent = telemetry.trailer_traceparent(info.message)
    with telemetry.span("fleet.publish", attributes, parent=parent) as span:
        result = _publish(opened, etcd, layout, info, force)
        span.set("cfgctl.pairs", result.pairs)
        return result


def _check_lineage(opened: OpenedCommit, published: str, force: bool) -> None:
    """Refuse (unless `force`) a publish that would replace the head with a commit of another
    repository, or with an older commit (CI jobs finishing out of order)."""
    repo = opened.store.repo
    try:
        head = repo[published].peel(pygit2.Commit)
    except (KeyError, ValueError, pygit2.GitError):
        if repo.is_shallow or force:
            log.warning("the published head %s is not in this repository", published[:12])
            return
        raise EnvError(
            f"the published head {published[:12]} is not in this repository: another "
            "repository publishes to this prefix",
            hint="publish under a prefix of this repository's own (--prefix), or --force to "
            "replace the other's configuration",
        ) from None
    if not force and repo.descendant_of(head.id, opened.commit.id):
        raise EnvError(
            f"{opened.sha[:12]} is older than the published head {published[:12]} (one of its "
            "ancestors): not published",
            hint="publish the branch's tip; to go back, revert in Git and publish the revert, "
            "or --force",
        )


def _publish(
    opened: OpenedCommit, etcd: Etcd, layout: Layout, info: CommitInfo, force: bool
) -> PublishResult:
    started = time.monotonic()
    old = read_published(etcd, layout)
    if old.head is not None and old.head.commit != opened.sha:
        _check_lineage(opened, old.head.commit, force)
    result = PublishResult(info.sha, old.head.commit if old.head else None)
    delta = changed(opened, old.head, old.indexes) if old.head is not None and old.whole else None
    if delta is None:
        ops, head = _plan(opened.snapshot(), info, layout, old, result)
    else:
        result.incremental = True
        ops, head = _plan_delta(opened, delta, info, layout, old, result)
    head = replace(head, traceparent=telemetry.current_traceparent() or "")
    if old.head is not None and old.head.commit == info.sha and not ops:
        result.seconds = time.monotonic() - started
        return result  # this commit is the head already: nothing to write
    with locked(etcd, layout):
        for batch in batches(ops):
            _, result.revision = etcd.txn(batch)
            result.transactions += 1
        compare = [unchanged_since(layout.head, old.head_revision)]
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


def commit_info(source: Snapshot | OpenedCommit) -> CommitInfo:
    """The id, time and message of the commit a Snapshot (opened with `Snapshot.at`) or an
    OpenedCommit is of."""
    opened = source if isinstance(source, OpenedCommit) else OpenedCommit.of(source)
    commit = opened.commit
    return CommitInfo(str(commit.id), int(commit.commit_time), commit.message)
