"""Migrating the plain layers of many services: on every core when there are many.

Each layer is migrated as data (`apply_to_layer` on its parsed reading), then written back as
text by line edits (`repo.yamlpatch`), whose reading of the result is kept for the checks that
follow. A repository of thousands of services spends most of a migration here, so the layers
are shared among worker processes (forked: they inherit the work list, nothing is pickled on
the way in).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from cfgctl.errors import CfgctlError, InputError
from cfgctl.operate.migration import Migration, apply_to_layer
from cfgctl.repo.yamlio import Document, JsonPath, copy_data
from cfgctl.repo.yamlpatch import edit_document

__all__ = ["PARALLEL_FROM", "LayerJob", "migrate_layer", "migrate_layers"]

PARALLEL_FROM = 300  # fewer layers: one process (a pool costs ~0.1 s to start)


@dataclass(frozen=True)
class LayerJob:
    """One plain layer to migrate: its bytes, their reading, the chain of migrations."""

    rel: str
    before: bytes
    old: Any
    migrations: tuple[Migration, ...]
    moved: dict[JsonPath, JsonPath]


def migrate_layer(job: LayerJob) -> Document | None:
    """The layer's new reading and text, or None when the migrations do not change it."""
    data = copy_data(job.old)
    changed = False
    for migration in job.migrations:
        changed |= apply_to_layer(migration, data, job.rel)
    if not changed:
        return None
    return edit_document(job.before, job.rel, job.old, data, job.moved)


_JOBS: list[LayerJob] = []  # the work list the forked workers inherit


def _work(index: int) -> tuple[str, tuple[Any, ...] | None]:
    job = _JOBS[index]
    try:
        doc = migrate_layer(job)
    except CfgctlError as exc:
        return job.rel, ("error", exc.message, exc.location, exc.hint)
    if doc is None:
        return job.rel, None
    return job.rel, ("ok", doc.text, doc.data, doc.warnings)


def migrate_layers(jobs: list[LayerJob]) -> dict[str, Document]:
    """Each changed layer's new document, by path; the first refusal raised (InputError)."""
    workers = min(os.cpu_count() or 1, 8)
    if len(jobs) < PARALLEL_FROM or workers < 2:
        return {job.rel: doc for job in jobs if (doc := migrate_layer(job)) is not None}
    global _JOBS
    _JOBS = jobs
    out: dict[str, Document] = {}
    try:
        chunk = max(1, len(jobs) // (workers * 4))
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            for rel, result in pool.map(_work, range(len(jobs)), chunksize=chunk):
                if result is None:
                    continue
                if result[0] == "error":
                    _, message, location, hint = result
                    raise InputError(message, location=location, hint=hint)
                _, text, data, warnings = result
                out[rel] = Document(rel, text, data, warnings)
    finally:
        _JOBS = []
    return out
