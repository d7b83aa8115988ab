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
from cfgctl.repo.yamlio import Document, JsonPath, copy_data, parse
from cfgctl.repo.yamlpatch import edit_document

__all__ = ["PARALLEL_FROM", "LayerJob", "Migrated", "migrate_layer", "migrate_layers"]

PARALLEL_FROM = 300  # fewer layers: one process (a pool costs ~0.1 s to start)


@dataclass(frozen=True)
class LayerJob:
    """One plain layer to migrate: its bytes, their reading (None: not read yet, the worker
    reads it), the chain of migrations."""

    rel: str
    before: bytes
    old: Document | None
    migrations: tuple[Migration, ...]
    moved: dict[JsonPath, JsonPath]

    def reading(self) -> Document:
        return self.old if self.old is not None else parse(self.before, self.rel)


def migrate_layer(job: LayerJob, old: Document | None = None) -> Document | None:
    """The layer's new reading and text, or None when the migrations do not change it."""
    old = old or job.reading()
    data = copy_data(old.data)
    changed = False
    for migration in job.migrations:
        changed |= apply_to_layer(migration, data, job.rel)
    if not changed:
        return None
    return edit_document(job.before, job.rel, old.data, data, job.moved)


_JOBS: list[LayerJob] = []  # the work list the forked workers inherit


def _work(index: int) -> tuple[str, tuple[Any, ...] | None, tuple[Any, ...]]:
    """(path, the new reading or an error or None, the old reading when this worker made it)."""
    job = _JOBS[index]
    try:
        old = job.reading()
        read = (old.data, old.warnings) if job.old is None else ()
        doc = migrate_layer(job, old)
    except CfgctlError as exc:
        return job.rel, ("error", exc.message, exc.location, exc.hint), ()
    if doc is None:
        return job.rel, None, read
    return job.rel, ("ok", doc.text, doc.data, doc.warnings), read


@dataclass
class Migrated:
    """What `migrate_layers` gives: each changed layer's new document, and the documents the
    workers read that their caller had not (to keep, as a parse would)."""

    new: dict[str, Document]
    read: dict[str, Document]


def migrate_layers(jobs: list[LayerJob]) -> Migrated:
    """Every layer of `jobs` migrated; the first refusal raised (InputError)."""
    workers = min(os.cpu_count() or 1, 8)
    out = Migrated({}, {})
    if len(jobs) < PARALLEL_FROM or workers < 2:
        for job in jobs:
            old = job.reading()
            if job.old is None:
                out.read[job.rel] = old
            if (doc := migrate_layer(job, old)) is not None:
                out.new[job.rel] = doc
        return out
    global _JOBS
    _JOBS = jobs
    texts = {job.rel: job.before for job in jobs}
    try:
        chunk = max(1, len(jobs) // (workers * 4))
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            for rel, result, read in pool.map(_work, range(len(jobs)), chunksize=chunk):
                if read:
                    text = texts[rel].decode("utf-8-sig")
                    out.read[rel] = Document(rel, text, read[0], read[1])
                if result is None:
                    continue
                if result[0] == "error":
                    _, message, location, hint = result
                    raise InputError(message, location=location, hint=hint)
                _, text, data, warnings = result
                out.new[rel] = Document(rel, text, data, warnings)
    finally:
        _JOBS = []
    return out
