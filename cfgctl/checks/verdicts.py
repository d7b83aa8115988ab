"""The verdicts of many pairs at once: on every core when there are many.

A cold `cfgctl validate` (or a migration's check) of thousands of pairs spends most of its time
validating each effective configuration: the work is shared among forked worker processes,
which inherit the snapshot (its readings, schemas and decrypted secrets) and send back each
verdict as data; the parent keeps them in the cache, in the order asked.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from cfgctl.checks.pairs import compute_verdict, verdict_of
from cfgctl.diagnostics import Diagnostic
from cfgctl.repo.snapshot import Snapshot

__all__ = ["PARALLEL_FROM", "compute_verdicts"]

PARALLEL_FROM = 1500  # fewer pairs: one process (workers cost ~0.1 s to start)

Todo = list[tuple[str, str, str]]  # (service, env, verdict key)
_WORK: tuple[Snapshot, Todo] | None = None  # what the forked workers inherit


def _child() -> None:
    assert _WORK is not None
    _WORK[0].cache.after_fork()  # a SQLite connection must not cross a fork


def _verdict_at(index: int) -> list[dict[str, Any]]:
    assert _WORK is not None
    snap, todo = _WORK
    service, env, _ = todo[index]
    return [d.to_dict() for d in verdict_of(snap, service, env)]


def compute_verdicts(snap: Snapshot, todo: Todo) -> Iterator[list[Diagnostic]]:
    """The verdict of each pair of `todo`, in its order, cached under its key."""
    workers = min(os.cpu_count() or 1, 8)
    if len(todo) < PARALLEL_FROM or workers < 2:
        for service, env, key in todo:
            yield compute_verdict(snap, service, env, key)
        return
    global _WORK
    _WORK = (snap, todo)
    try:
        chunk = max(1, len(todo) // (workers * 8))
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_child) as pool:
            results = pool.map(_verdict_at, range(len(todo)), chunksize=chunk)
            for (_, _, key), dicts in zip(todo, results, strict=True):
                snap.cache.put("verdict", key, dicts)
                yield [Diagnostic.from_dict(d) for d in dicts]
    finally:
        _WORK = None
