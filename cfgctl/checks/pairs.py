"""The verdict on one effective configuration (service, env): its schema, secrets in plain
layers, where each problem must be fixed; cached under the digest of its inputs (layers' blob ids,
schemas, manifest, the keys at hand), so an unchanged configuration costs a lookup, not a parse.

    diagnostics = validate_pair(snap, "payments", "prod")
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from cfgctl.diagnostics import Diagnostic
from cfgctl.errors import CfgctlError, Location
from cfgctl.repo.cache import FORMAT, digest
from cfgctl.repo.decrypt import key_fingerprint
from cfgctl.repo.keypath import dotted_path, json_pointer
from cfgctl.repo.manifest import MANIFEST
from cfgctl.repo.render import Rendered, layer_paths, lookup
from cfgctl.repo.schemas import SchemaRef
from cfgctl.repo.secretpaths import secret_paths
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import Document, JsonPath

if TYPE_CHECKING:
    from cfgctl.repo.validator import Violation

__all__ = ["cached_verdict", "compute_verdict", "validate_pair", "verdict_key", "verdict_of"]


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


def validate_pair(
    snap: Snapshot, service: str, env: str, rendered: Rendered | None = None
) -> list[Diagnostic]:
    """The diagnostics of one effective configuration (schema, secret placement). `rendered`:
    the pair already rendered by the caller, so that it is not rendered twice."""
    key = verdict_key(snap, service, env)
    cached = cached_verdict(snap, key)
    return cached if cached is not None else compute_verdict(snap, service, env, key, rendered)


def verdict_key(snap: Snapshot, service: str, env: str) -> str:
    """The cache key of the pair's verdict: its inputs' digest (computed once per pair)."""
    ref = snap.schemas.resolve(snap.manifest.service(service).schema)
    return _verdict_key(snap, service, env, ref)


def cached_verdict(snap: Snapshot, key: str) -> list[Diagnostic] | None:
    cached = snap.cache.get("verdict", key)
    if isinstance(cached, list):
        try:
            return [Diagnostic.from_dict(d) for d in cached]
        except (KeyError, TypeError, ValueError):
            return None
    return None


def compute_verdict(
    snap: Snapshot, service: str, env: str, key: str, rendered: Rendered | None = None
) -> list[Diagnostic]:
    """Render and validate one pair, and cache the verdict under `key` (the caller looked the
    cache up)."""
    out = verdict_of(snap, service, env, rendered)
    snap.cache.put("verdict", key, [d.to_dict() for d in out])
    return out


def verdict_of(
    snap: Snapshot, service: str, env: str, rendered: Rendered | None = None
) -> list[Diagnostic]:
    """Render and validate one pair (no cache)."""
    ref = snap.schemas.resolve(snap.manifest.service(service).schema)
    try:
        rendered = rendered if rendered is not None else snap.render(service, env)
        return _pair_diagnostics(snap, rendered, ref)
    except CfgctlError as exc:
        fallback = Location(f"config/{env}/{service}.yaml")
        return [replace(Diagnostic.from_error(exc, "render", fallback), pairs=((service, env),))]


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
                pointer=json_pointer(v.path if v.missing is None else (*v.path, v.missing)),
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
                    pointer=json_pointer(path),
                    hint=f"move it to {secret_file}: `cfgctl secrets set {service} "
                    f"{dotted_path(path)} --env {layer.env}` (the value on stdin), then remove it "
                    "here",
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
