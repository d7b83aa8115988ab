"""Validation of a whole snapshot: the manifest, every file, every effective configuration.

    report = validate_snapshot(Snapshot.from_worktree(Path(".")))
    report.ok, report.diagnostics

Each diagnostic points at the line a person must edit: the layer that contributed the offending
value, or, for a missing required key, the file where it should go. A verdict for one (service,
env) is cached under the digest of its layers' blob ids and the schemas, so an unchanged
configuration costs a file lookup, not a parse.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from cfgctl.checks.files import check_files
from cfgctl.checks.pairs import cached_verdict, verdict_key
from cfgctl.checks.protocol import RepositoryCheck
from cfgctl.checks.verdicts import compute_verdicts
from cfgctl.diagnostics import Diagnostic, Report
from cfgctl.errors import CfgctlError, Location
from cfgctl.repo.cache import FORMAT, digest
from cfgctl.repo.manifest import MANIFEST
from cfgctl.repo.render import is_encrypted
from cfgctl.repo.schemas import MIGRATION_FILE, check_migration
from cfgctl.repo.snapshot import Snapshot

if TYPE_CHECKING:
    pass

__all__ = ["validate_changes", "validate_snapshot"]

log = logging.getLogger(__name__)


def validate_snapshot(
    snap: Snapshot,
    *,
    pairs: Iterable[tuple[str, str]] | None = None,
    files: Iterable[str] | None = None,
    checks: Sequence[RepositoryCheck] = (),
) -> Report:
    """Every problem of `snap`; or, given `pairs` and `files`, only of those pairs and files (the
    manifest and the schemas are always checked). `checks` run last, on the same files: the
    checks of the packages above this one (secrets, policy), composed by the caller."""
    started = time.perf_counter()
    report = Report()
    log.info(
        "validating %s at %s",
        snap.root,
        snap.label,
        extra={"fields": {"root": str(snap.root), "rev": snap.commit}},
    )
    manifest, problems = snap.manifest_and_problems
    for p in problems:
        report.add(p)
    report.checked_files += 1
    if manifest is None or any(p.severity == "error" for p in problems):
        return report.finish()
    _check_schemas(snap, report)
    only = None if files is None else set(files)
    broken = check_files(snap, report, only)
    _check_pairs(snap, report, list(pairs) if pairs is not None else snap.pairs(), broken)
    for check in checks:
        for d in check(snap, only):
            report.add(d)
    report.finish()
    snap.cache.flush()
    _log_done(snap, report, time.perf_counter() - started)
    return report


def _check_pairs(
    snap: Snapshot, report: Report, selected: list[tuple[str, str]], broken: set[str]
) -> None:
    """The verdict of every selected pair whose schema and layers can be used: from the cache,
    else computed (the encrypted layers of those decrypted ahead, in parallel)."""
    bad_services = _check_service_schemas(snap, report)
    todo = []
    for service, env in selected:
        report.checked_pairs += 1
        if service in bad_services:
            continue
        if any(layer.path in broken for layer in snap.layers(service, env)):
            continue
        key = verdict_key(snap, service, env)
        cached = cached_verdict(snap, key)
        if cached is not None:
            for d in cached:
                report.add(d)
        else:
            todo.append((service, env, key))
    _decrypt_ahead(snap, [(s, e) for s, e, _ in todo], broken)
    for verdict in compute_verdicts(snap, todo):
        for d in verdict:
            report.add(d)


def _log_done(snap: Snapshot, report: Report, seconds: float) -> None:
    log.info(
        "validated %d pairs: %d errors, %d warnings in %.3f s (cache: %d hits, %d misses)",
        report.checked_pairs,
        len(report.errors),
        len(report.warnings),
        seconds,
        snap.cache.hits,
        snap.cache.misses,
        extra={
            "fields": {
                "pairs": report.checked_pairs,
                "errors": len(report.errors),
                "warnings": len(report.warnings),
                "seconds": round(seconds, 3),
                "cache_hits": snap.cache.hits,
                "cache_misses": snap.cache.misses,
            }
        },
    )


def _decrypt_ahead(snap: Snapshot, pairs: list[tuple[str, str]], broken: set[str]) -> None:
    """Decrypt the encrypted secrets layers of these pairs in parallel, before rendering."""
    paths = {layer.path for s, e in pairs for layer in snap.layers(s, e) if layer.secret}
    refs = []
    for path in sorted(paths - broken):
        try:
            if is_encrypted(snap.document(path).data):
                refs.append(snap.files[path])
        except CfgctlError:
            continue
    if refs:
        snap.session.decrypter.prefetch(refs)


def _check_migration_file(snap: Snapshot, path: str, version: int) -> list[Diagnostic]:
    """A migration file against its schema, and its `from`/`to` against its name."""
    try:
        doc = snap.document(path)
    except CfgctlError as exc:
        return [Diagnostic.from_error(exc, "yaml", Location(path))]
    return check_migration(doc, version)


def _check_schemas(snap: Snapshot, report: Report) -> None:
    registry = snap.schemas
    for d in registry.problems:
        report.add(d)
    named = {ref.path for versions in registry.versions.values() for ref in versions.values()}
    named |= {d.location.path for d in registry.problems}  # reported already, as a duplicate
    for path in sorted(registry.files):
        report.checked_files += 1
        migration = MIGRATION_FILE.match(path)
        if migration is not None:
            for d in _check_migration_file(snap, path, int(migration["v"])):
                report.add(d)
        elif path not in named:
            report.add(
                Diagnostic(
                    "warning",
                    "schema",
                    "not read: a schema file is named NAME.schema.json, NAME.vN.schema.json "
                    "(or .yaml)",
                    Location(path),
                    hint="rename the file, or move it out of schemas/",
                )
            )
    for versions in registry.versions.values():
        for ref in versions.values():
            for d in registry.check(ref):
                report.add(d)


def _check_service_schemas(snap: Snapshot, report: Report) -> set[str]:
    """Services whose schema cannot be used (missing, unknown version, invalid), cached by the
    manifest's blob and the schemas: a one-file check does not resolve 10,000 services again."""

    key = digest(FORMAT, "service-schemas", snap.files[MANIFEST].oid, snap.schemas.digest())
    cached = snap.cache.get("service-schemas", key)
    if isinstance(cached, dict):
        try:
            found = [Diagnostic.from_dict(d) for d in cached["diagnostics"]]
            bad = set(cached["bad"])
        except (KeyError, TypeError, ValueError):
            pass
        else:
            for d in found:
                report.add(d)
            return bad
    own = Report()
    bad = _resolve_service_schemas(snap, own)
    snap.cache.put(
        "service-schemas",
        key,
        {"bad": list(bad), "diagnostics": [d.to_dict() for d in own.diagnostics]},
    )
    for d in own.diagnostics:
        report.add(d)
    return bad


def _resolve_service_schemas(snap: Snapshot, report: Report) -> set[str]:
    bad: set[str] = set()
    manifest = snap.manifest
    for name, service in manifest.services.items():
        try:
            ref = snap.schemas.resolve(service.schema)
        except CfgctlError as exc:
            bad.add(name)
            report.add(
                Diagnostic(
                    "error",
                    "schema",
                    f"service {name!r}: {exc.message}",
                    manifest.doc.location(("services", name, "schema")),
                    path=f"services.{name}.schema",
                    hint=exc.hint,
                )
            )
            continue
        if snap.schemas.check(ref):
            bad.add(name)
    return bad


def validate_changes(
    snap: Snapshot, since: Snapshot, *, checks: Sequence[RepositoryCheck] = ()
) -> Report:
    """Validate only what changed since `since`: the pairs whose inputs changed (all of them when
    a schema that others $ref changed), the changed files, the manifest and the schemas."""
    from cfgctl.changes.tree import affected_pairs, changed_paths

    # What needs no work tree first: its status may still be computing (repo/gitstatus.py).
    since.manifest_and_problems  # noqa: B018 - parsed now, shared by blob id with `snap`
    changed = changed_paths(since, snap)
    impact = affected_pairs(since, snap, changed)
    try:
        if impact.shared_schema_changed:
            pairs = snap.pairs()
        else:  # looked up, not listed: one changed file costs the same in any repository
            pairs = sorted(p for p in impact.pairs if snap.has_pair(*p))
    except CfgctlError:  # a broken manifest: validate_snapshot reports it
        pairs = []
    log.info(
        "changed since %s: %d files, %d pairs to validate",
        since.label,
        len(changed),
        len(pairs),
        extra={"fields": {"since": since.commit, "files": len(changed), "pairs": len(pairs)}},
    )
    return validate_snapshot(
        snap, pairs=pairs, files=[p for p in changed if p.startswith("config/")], checks=checks
    )
