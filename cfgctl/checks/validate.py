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
import multiprocessing
import os
import re
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cfgctl.checks.protocol import RepositoryCheck
from cfgctl.diagnostics import Diagnostic, Report
from cfgctl.errors import CfgctlError, Location
from cfgctl.repo.cache import FORMAT, digest
from cfgctl.repo.decrypt import key_fingerprint
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.manifest import MANIFEST, Manifest, suggest
from cfgctl.repo.schemas import SchemaRef, secret_paths
from cfgctl.repo.snapshot import Rendered, Snapshot, is_encrypted, layer_paths, lookup
from cfgctl.repo.yamlio import Document, JsonPath, parse

if TYPE_CHECKING:
    from cfgctl.repo.validator import Violation

__all__ = ["validate_changes", "validate_pair", "validate_snapshot"]

log = logging.getLogger(__name__)

_CONFIG_FILE = re.compile(r"^config/(?P<env>[^/]+)/(?P<name>[^/]+?)(?P<secrets>\.secrets)?\.yaml$")
# Parsing in worker processes pays off only past this many files (a fork costs ~20 ms).
PARALLEL_FROM = 400


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
    broken = _check_files(snap, report, None if files is None else set(files))
    selected = list(pairs) if pairs is not None else snap.pairs()
    bad_services = _check_service_schemas(snap, report)
    todo = []
    for service, env in selected:
        report.checked_pairs += 1
        if service in bad_services:
            continue
        layers = snap.layers(service, env)
        if any(layer.path in broken for layer in layers):
            continue
        cached = _cached_verdict(snap, service, env)
        if cached is not None:
            for d in cached:
                report.add(d)
        else:
            todo.append((service, env))
    _decrypt_ahead(snap, todo, broken)
    for service, env in todo:
        for d in _compute_verdict(snap, service, env):
            report.add(d)
    only = None if files is None else set(files)
    for check in checks:
        for d in check(snap, only):
            report.add(d)
    report.finish()
    snap.cache.flush()
    log.info(
        "validated %d pairs: %d errors, %d warnings in %.3f s (cache: %d hits, %d misses)",
        report.checked_pairs,
        len(report.errors),
        len(report.warnings),
        time.perf_counter() - started,
        snap.cache.hits,
        snap.cache.misses,
        extra={
            "fields": {
                "pairs": report.checked_pairs,
                "errors": len(report.errors),
                "warnings": len(report.warnings),
                "seconds": round(time.perf_counter() - started, 3),
                "cache_hits": snap.cache.hits,
                "cache_misses": snap.cache.misses,
            }
        },
    )
    return report


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


def _check_schemas(snap: Snapshot, report: Report) -> None:
    registry = snap.schemas
    for d in registry.problems:
        report.add(d)
    named = {ref.path for versions in registry.versions.values() for ref in versions.values()}
    named |= {d.location.path for d in registry.problems}  # reported already, as a duplicate
    for path in sorted(registry.files):
        report.checked_files += 1
        if path not in named:
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
    from cfgctl.repo.cache import FORMAT

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


def _check_files(snap: Snapshot, report: Report, only: set[str] | None = None) -> set[str]:
    """Parse every config file (or those of `only`); report the broken and the misplaced.
    Returns the broken paths."""
    manifest = snap.manifest
    broken: set[str] = set()
    to_parse: list[str] = []
    paths = snap.files_under("config") if only is None else [p for p in only if p in snap.files]
    for path in sorted(paths):
        if not path.startswith("config/"):
            continue
        match = _CONFIG_FILE.match(path)
        if match is None:
            # A .yml file is a config file under the wrong name: it would be silently ignored.
            yml = path.endswith(".yml") and path.count("/") == 2
            report.add(
                Diagnostic(
                    "error" if yml else "warning",
                    "layout",
                    "not read: config files are config/ENV/SERVICE.yaml, "
                    "config/ENV/_defaults.yaml or config/ENV/SERVICE.secrets.yaml",
                    Location(path),
                    hint="rename it (cfgctl reads the .yaml extension only) or move it",
                )
            )
            continue
        problem = _layout_problem(
            path, match["env"], match["name"], bool(match["secrets"]), manifest
        )
        if problem is not None:
            report.add(problem)
            if problem.severity == "error":
                broken.add(path)
            continue
        to_parse.append(path)
    report.checked_files += len(to_parse)
    _parse_all(snap, to_parse)
    for path in to_parse:
        try:
            doc = snap.document(path)
        except CfgctlError as exc:
            broken.add(path)
            report.add(Diagnostic.from_error(exc, "yaml", Location(path)))
            continue
        if doc.data is not None and not isinstance(doc.data, dict):
            broken.add(path)
            report.add(
                Diagnostic(
                    "error",
                    "yaml",
                    f"the document is a {_kind(doc.data)}; a config file must hold a mapping",
                    doc.location(()),
                    hint="write the settings as `key: value` lines at the top level",
                )
            )
        if path.endswith(".secrets.yaml") and doc.data and not is_encrypted(doc.data):
            report.add(
                Diagnostic(
                    "error",
                    "secret-plaintext",
                    "a .secrets.yaml file must be encrypted with SOPS; this one is plain text",
                    Location(path),
                    hint=f"encrypt it in place: sops --encrypt --in-place {path} "
                    "(and rotate any secret that was pushed in plain text)",
                )
            )
        for wpath, message in doc.warnings:
            report.add(
                Diagnostic(
                    "warning", "yaml-1.1", message, doc.location(wpath), path=dotted_path(wpath)
                )
            )
    return broken


def _layout_problem(
    path: str, env: str, name: str, secrets: bool, manifest: Manifest
) -> Diagnostic | None:
    """Why a config file does not belong where it is, or None."""
    if env not in manifest.environments:
        message = f"folder config/{env}/ is not an environment of {MANIFEST}"
        hint = "declare it under environments:, or move the file; " + suggest(
            env, manifest.environments, "environment"
        )
        return Diagnostic("error", "layout", message, Location(path), hint=hint)
    if name == "_defaults" and secrets:
        message = "not read: secrets are per service (config/ENV/SERVICE.secrets.yaml)"
        hint = "move these values into the services' .secrets.yaml files"
        return Diagnostic("warning", "layout", message, Location(path), hint=hint)
    if name != "_defaults" and name not in manifest.services:
        message = f"service {name!r} is not declared in {MANIFEST}"
        hint = "declare it under services:, or remove the file; " + suggest(
            name, manifest.services, "service"
        )
        return Diagnostic("error", "layout", message, Location(path), hint=hint)
    return None


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


def _parse_one(item: tuple[str, bytes]) -> tuple[str, Any]:
    path, data = item
    try:
        doc = parse(data, path)
    except CfgctlError as exc:
        return path, ("error", exc.message, exc.location, exc.hint)
    return path, ("ok", doc.data, doc.warnings)


def _parse_all(snap: Snapshot, paths: list[str]) -> None:
    """Parse the files not in the cache, on every core when there are many."""
    workers = min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_FROM or workers < 2:
        return  # parsed lazily by snap.document, one by one
    missing = [p for p in paths if not snap.load_cached(p)]
    if len(missing) < PARALLEL_FROM:
        return
    log.info(
        "parsing %d files on %d processes",
        len(missing),
        workers,
        extra={"fields": {"files": len(missing), "workers": workers}},
    )
    items = [(p, snap.files[p].read()) for p in missing]
    raw = dict(items)
    chunk = max(1, len(items) // (workers * 4))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for path, result in pool.map(_parse_one, items, chunksize=chunk):
            if result[0] == "ok":
                _, data, warnings = result
                ref = snap.files[path]
                doc = Document(path, raw[path].decode("utf-8-sig"), data, warnings)
                snap.cache.put(
                    "doc", ref.oid, {"data": data, "warnings": [list(w) for w in warnings]}
                )
                snap.adopt(path, doc)


def _verdict_key(snap: Snapshot, service: str, env: str, ref: SchemaRef) -> str:
    manifest = snap.manifest
    layers = [
        f"{p}={snap.files[p].oid}"
        for e in manifest.chain(env)
        for p, _ in layer_paths(e, service)
        if p in snap.files
    ]
    keys = ""
    if any(".secrets.yaml=" in p for p in layers):
        keys = key_fingerprint()  # which layers decrypt changes the verdict
    return digest(
        FORMAT,
        service,
        env,
        str(ref),
        snap.schemas.digest(),
        snap.files[MANIFEST].oid,
        keys,
        *layers,
    )


def validate_changes(
    snap: Snapshot, since: Snapshot, *, checks: Sequence[RepositoryCheck] = ()
) -> Report:
    """Validate only what changed since `since`: the pairs whose inputs changed (all of them when
    a schema that others $ref changed), the changed files, the manifest and the schemas."""
    from cfgctl.changes.tree import affected_pairs, changed_paths

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


def validate_pair(
    snap: Snapshot, service: str, env: str, rendered: Rendered | None = None
) -> list[Diagnostic]:
    """The diagnostics of one effective configuration (schema, secret placement). `rendered`:
    the pair already rendered by the caller, so that it is not rendered twice."""
    cached = _cached_verdict(snap, service, env)
    return cached if cached is not None else _compute_verdict(snap, service, env, rendered)


def _cached_verdict(snap: Snapshot, service: str, env: str) -> list[Diagnostic] | None:
    ref = snap.schemas.resolve(snap.manifest.service(service).schema)
    cached = snap.cache.get("verdict", _verdict_key(snap, service, env, ref))
    if isinstance(cached, list):
        try:
            return [Diagnostic.from_dict(d) for d in cached]
        except (KeyError, TypeError, ValueError):
            return None
    return None


def _compute_verdict(
    snap: Snapshot, service: str, env: str, rendered: Rendered | None = None
) -> list[Diagnostic]:
    """Render and validate one pair, and cache the verdict (the caller looked the cache up)."""
    ref = snap.schemas.resolve(snap.manifest.service(service).schema)
    key = _verdict_key(snap, service, env, ref)
    try:
        rendered = rendered if rendered is not None else snap.render(service, env)
        out = _pair_diagnostics(snap, rendered, ref)
    except CfgctlError as exc:
        fallback = Location(f"config/{env}/{service}.yaml")
        out = [replace(Diagnostic.from_error(exc, "render", fallback), pairs=((service, env),))]
    snap.cache.put("verdict", key, [d.to_dict() for d in out])
    return out


def _pair_diagnostics(snap: Snapshot, rendered: Rendered, ref: SchemaRef) -> list[Diagnostic]:
    service, env = rendered.service, rendered.env
    pair = ((service, env),)
    out: list[Diagnostic] = []
    encrypted = [
        d
        for layer, d in zip(rendered.layers, rendered.docs, strict=True)
        if layer in rendered.encrypted
    ]
    for layer in rendered.encrypted:
        out.append(
            Diagnostic(
                "warning",
                "secrets-unchecked",
                "values not checked: they are encrypted with SOPS (their keys were checked)",
                Location(layer.path),
                hint="cfgctl checks encrypted values when it can decrypt them",
                pairs=pair,
            )
        )
    for v in snap.schemas.validator(ref).validate(rendered.data):
        if v.missing is None and any(
            lookup(d.data, v.path)[0] and _leaf_from(rendered, v.path, d) for d in encrypted
        ):
            continue  # an encrypted value: ciphertext says nothing of the plaintext's shape
        shown = v.masked() if rendered.is_secret(v.path) else v.message
        message = f"{v.dotted}: {shown}"
        out.append(
            Diagnostic(
                "error",
                "schema",
                f"{message} (schema {ref})",
                _violation_location(rendered, v),
                path=v.dotted,
                hint=_violation_hint(rendered, v),
                pairs=pair,
            )
        )
    # A secret may only be set in a .secrets.yaml layer: anywhere else it is plaintext in Git.
    schema_doc = snap.schemas.document(ref.path)
    resolver = snap.schema_resolver(ref)
    for layer, doc in zip(rendered.layers, rendered.docs, strict=True):
        if layer.secret or doc.data is None:
            continue
        for path in secret_paths(schema_doc, doc.data, resolver, snap.schemas.secret_memo):
            secret_file = f"config/{layer.env}/{service}.secrets.yaml"
            out.append(
                Diagnostic(
                    "error",
                    "secret-placement",
                    f"{dotted_path(path)} is a secret (schema {ref}) set in a plain file",
                    doc.location(path, key=True),
                    path=dotted_path(path),
                    hint=f"move it to {secret_file} (encrypted with SOPS) and remove it here",
                    pairs=pair,
                )
            )
    return out


def _leaf_from(rendered: Rendered, path: JsonPath, doc: Document) -> bool:
    """Whether the value at `path` comes from `doc` (the last layer holding it)."""
    prov = rendered.provenance(path)
    return prov is not None and rendered.docs[rendered.layers.index(prov.layer)] is doc


def _violation_location(rendered: Rendered, v: Violation) -> Location:
    if v.missing is not None:
        return _missing_location(rendered, v)
    if v.keyword in ("additionalProperties", "unevaluatedProperties"):
        extra = re.findall(r"'([^']*)'", v.message)
        for name in extra:
            prov = rendered.provenance((*v.path, name))
            if prov is not None:
                doc = rendered.docs[rendered.layers.index(prov.layer)]
                return doc.location((*v.path, name), key=True)
    prov = rendered.provenance(v.path)
    if prov is not None:
        return prov.location
    return _missing_location(rendered, v)


def _missing_location(rendered: Rendered, v: Violation) -> Location:
    """Where a missing key should go: the service's own file of the most specific environment
    that has one (at the object that lacks the key), else the file the environment would have."""
    for layer, doc in zip(reversed(rendered.layers), reversed(rendered.docs), strict=True):
        if layer.kind == "service":
            if v.path:
                pos = doc.position(v.path, key=True)
                if pos is not None:
                    return Location(layer.path, *pos)
            return Location(layer.path, 1, 1)
    return Location(f"config/{rendered.env}/{rendered.service}.yaml")


def _violation_hint(rendered: Rendered, v: Violation) -> str | None:
    if v.missing is not None:
        return (
            f"add `{v.missing}:` here, or in the file of an environment that {rendered.env} "
            "inherits from"
        )
    if v.keyword in ("additionalProperties", "unevaluatedProperties"):
        return "remove the key or fix its spelling; the schema does not allow it"
    if v.keyword == "type":
        return "change the value's type; quote a value meant as text"
    return None
