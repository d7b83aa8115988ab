"""A JSON merge patch (RFC 7396) applied to one layer file: the server's PATCH of a configuration.

    result, after = patch_in_snapshot(snap, "payments", "prod", {"db": {"pool_size": 60}})
    result.path, result.set, result.removed        # config/prod/payments.yaml, [...], [...]

The patch edits config/ENV/SERVICE.yaml (created when missing) as `cfgctl set` edits it: in
ruamel.yaml's round-trip mode, so comments, key order and quoting are kept; an object merges
into the mapping, `null` removes a key, anything else (a list too) replaces the value. The
result is validated as `cfgctl set` validates (every environment inheriting ENV, and the files
they read; a problem the edit brings refuses it), and nothing is written: the caller commits the
bytes. Secrets are never written in clear: a key the schema marks secret, or one a secrets layer
of the pair sets, refuses the patch (`SecretInPatch`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from cfgctl.editing.values import quoted_if_ambiguous, refuse_new_problems
from cfgctl.errors import InputError
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.secretpaths import secret_paths
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath
from cfgctl.repo.yamlwrite import dump_roundtrip, load_roundtrip

__all__ = ["PatchResult", "SecretInPatch", "patch_in_snapshot"]


class SecretInPatch(InputError):
    """The patch sets secret keys; `keys` names them (never their values)."""

    def __init__(self, message: str, keys: list[str], *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.keys = keys


@dataclass(frozen=True)
class PatchResult:
    path: str  # config/ENV/SERVICE.yaml, from the top of the config repository
    set: list[str] = field(default_factory=list)  # dotted keys the patch sets
    removed: list[str] = field(default_factory=list)  # dotted keys it removes
    changed: bool = False
    created: bool = False  # the file did not exist before


def patch_in_snapshot(
    snap: Snapshot, service: str, env: str, patch: Mapping[str, Any]
) -> tuple[PatchResult, bytes]:
    """config/ENV/SERVICE.yaml of `snap` with `patch` merged in, and what changed; InputError
    for an unknown name or a file that holds no mapping, SecretInPatch for a secret key,
    DiagnosedFailure (nothing written anywhere) when the result fails validation."""
    snap.manifest.service(service)
    snap.manifest.env(env)
    rel = f"config/{env}/{service}.yaml"
    _refuse_secrets(snap, service, env, patch)
    ref = snap.files.get(rel)
    before = ref.read() if ref is not None else b""
    data = load_roundtrip(before, rel) if before.strip() else None
    if data is None:
        data = CommentedMap()
    if not isinstance(data, dict):
        raise InputError(f"{rel} does not hold a mapping", hint="fix the file first")
    set_keys: list[str] = []
    removed: list[str] = []
    _merge(data, patch, (), set_keys, removed)
    after = dump_roundtrip(data, like=before.decode("utf-8-sig", errors="replace")).encode()
    if not data and ref is None:
        after = before  # removing keys from a file that is not there changes nothing
    result = PatchResult(rel, set_keys, removed, after != before, ref is None and after != before)
    if result.changed:
        what = ", ".join([*set_keys[:3], *(f"-{k}" for k in removed[:3])]) or "the patch"
        refuse_new_problems(
            snap, [(service, e) for e in snap.manifest.children(env)], rel, after, what
        )
    return result, after


def _merge(
    target: dict[str, Any],
    patch: Mapping[str, Any],
    where: JsonPath,
    set_keys: list[str],
    removed: list[str],
) -> None:
    """RFC 7396 MergePatch of `patch` into `target`, in place; the keys it touches noted."""
    for key, value in patch.items():
        path = (*where, key)
        if value is None:
            if key in target:
                del target[key]
                removed.append(dotted_path(path))
        elif isinstance(value, Mapping):
            current = target.get(key)
            if not isinstance(current, dict):
                current = CommentedMap()
                target[key] = current
            _merge(current, value, path, set_keys, removed)
        elif key not in target or not _same(target[key], value):
            set_keys.append(dotted_path(path))
            target[key] = _yaml_value(value)


def _same(old: Any, new: Any) -> bool:
    """Whether a value of the document equals a JSON value, types included (`1` is not `true`
    nor `1.0`): an equal value is left as it is written (its quoting kept)."""
    return json.dumps(old, sort_keys=True, default=str) == json.dumps(new, sort_keys=True)


def _yaml_value(value: Any) -> Any:
    """A JSON value for a round-trip document: strings a YAML 1.1 reader would misread quoted."""
    if isinstance(value, str):
        return quoted_if_ambiguous(value)
    if isinstance(value, list):
        return CommentedSeq(_yaml_value(v) for v in value)
    if isinstance(value, Mapping):
        return CommentedMap((k, _yaml_value(v)) for k, v in value.items() if v is not None)
    return value


def _without_nulls(patch: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: _without_nulls(v) if isinstance(v, Mapping) else v
        for k, v in patch.items()
        if v is not None
    }


def _refuse_secrets(snap: Snapshot, service: str, env: str, patch: Mapping[str, Any]) -> None:
    """SecretInPatch when the patch sets a key the schema marks secret, or one a secrets layer
    of (service, env) sets: either would put a secret in a plain file."""
    probe = _without_nulls(patch)
    ref = snap.schemas.resolve(snap.manifest.service(service).schema)
    problems = snap.schemas.check(ref)
    if problems:
        first = problems[0]
        raise InputError(
            f"cannot check the patch: schema {ref} is broken: {first.message}",
            location=first.location,
            hint="fix the schema first (cfgctl validate lists its problems)",
        )
    doc = snap.schemas.document(ref.path)
    resolver = snap.schema_resolver(ref)
    found = {dotted_path(p) for p in secret_paths(doc, probe, resolver, snap.schemas.secret_memo)}
    layered: list[JsonPath] = []
    for layer in snap.layers(service, env):
        data = snap.document(layer.path).data
        if layer.secret and isinstance(data, Mapping):
            layered += _leaf_paths({k: v for k, v in data.items() if k != "sops"}, ())
    for path in _leaf_paths(probe, ()):
        # the same key, a key inside a secret, or a mapping that holds one
        if any(path[: len(s)] == s or s[: len(path)] == path for s in layered):
            found.add(dotted_path(path))
    if found:
        keys = sorted(found)
        raise SecretInPatch(
            f"the patch sets secret keys ({', '.join(keys)}); secrets are never written in "
            "plain text",
            keys,
            hint=f"store each encrypted: cfgctl secrets set {service} KEY --env {env} "
            "(the value on stdin), and leave it out of the patch",
        )


def _leaf_paths(data: Any, where: JsonPath) -> Iterator[JsonPath]:
    """The paths of the leaves of `data` (an empty mapping is a leaf)."""
    if isinstance(data, Mapping) and data:
        for key, value in data.items():
            yield from _leaf_paths(value, (*where, key))
    elif where:
        yield where
