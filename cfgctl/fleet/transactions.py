"""The publisher's transactions: operations cut into batches within etcd's limits, and the
publish lock (a key under a lease, so a publisher killed midway frees it by itself).

    for batch in batches(ops): etcd.txn(batch)
    with locked(etcd, layout): ...      # EnvError when another publish holds it
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import Any

from cfgctl.errors import EnvError
from cfgctl.fleet.etcd import MAX_OPS, MAX_REQUEST_BYTES, Etcd, absent, put
from cfgctl.fleet.layout import Layout

__all__ = ["BUDGET", "LOCK_TTL", "batches", "locked", "size"]

LOCK_TTL = 60  # seconds
# What one transaction may carry: etcd's limit less room for the request's own framing.
BUDGET = MAX_REQUEST_BYTES - 64 * 1024


def size(op: dict[str, Any]) -> int:
    """About what an operation weighs in a request (its key and value, decoded)."""
    request = op.get("request_put") or op.get("request_delete_range") or {}
    return sum(len(str(v)) for v in request.values()) * 3 // 4 + 16


def batches(ops: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """`ops` in order, cut into transactions of at most MAX_OPS operations and BUDGET bytes."""
    batch: list[dict[str, Any]] = []
    total = 0
    for op in ops:
        cost = size(op)
        if batch and (len(batch) >= MAX_OPS or total + cost > BUDGET):
            yield batch
            batch, total = [], 0
        batch.append(op)
        total += cost
    if batch:
        yield batch


@contextmanager
def locked(etcd: Etcd, layout: Layout) -> Iterator[None]:
    lease = etcd.lease(LOCK_TTL)
    compare = [absent(layout.lock)]
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
