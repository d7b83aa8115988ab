"""New keys added to a service's JSON Schema: the type from the value, the literal as `default`
(never for a secret, which is marked `x-cfgctl-secret` instead), a description from the code.

    text = add_properties(snap, ref, [NewKey(("db", "pool_size"), "integer", 10, False, "...")])

A key the schema declares already (through `$ref`s and `allOf` too) is left as it is when the
value fits its type, and refused when it does not; a key below a property the schema defines by
`$ref` (shared with other schemas) is refused with the place to add it by hand. Objects on the
way are created (`{"type": "object", "properties": {}}`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cfgctl.codescan.findings import JsonType
from cfgctl.errors import InputError, Location
from cfgctl.operate.schemawalk import Prop, flatten, types_of
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.schemas import SchemaRef
from cfgctl.repo.snapshot import Snapshot

__all__ = ["NewKey", "add_properties", "declared"]

_FITS: dict[str, set[str]] = {
    "integer": {"integer", "number"},
    "number": {"number"},
    "string": {"string"},
    "boolean": {"boolean"},
}


@dataclass(frozen=True)
class NewKey:
    path: tuple[str, ...]
    type: JsonType
    value: Any
    secret: bool
    description: str


def _key_hint(key: str) -> str:
    return f"choose another key: --key ID={key}_2 (or any free dotted key)"


def declared(snap: Snapshot, ref: SchemaRef, new: NewKey) -> bool:
    """Whether the schema declares the key already; `InputError` when it does with a type the
    value does not fit, or when a key above it is not an object."""
    props = flatten(snap, ref)
    key = dotted_path(new.path)
    found: Prop | None = props.get(new.path)
    if found is not None:
        types = types_of(found.schema)
        if types and not set(types) & _FITS[new.type]:
            raise InputError(
                f"{key} exists in {ref.path} as {'/'.join(types)}; the code's value is "
                f"{'a secret' if new.secret else repr(new.value)} ({new.type})",
                location=Location(ref.path),
                hint=_key_hint(key),
            )
        return True
    for depth in range(1, len(new.path)):
        above = props.get(new.path[:depth])
        if above is not None and not above.is_object and types_of(above.schema):
            raise InputError(
                f"{dotted_path(new.path[:depth])} is a {'/'.join(types_of(above.schema))} in "
                f"{ref.path}: it cannot hold {key}",
                location=Location(ref.path),
                hint=_key_hint(key),
            )
    return False


def _property(new: NewKey) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": new.type, "description": new.description}
    if new.secret:
        prop["x-cfgctl-secret"] = True
    else:
        prop["default"] = new.value
    return prop


def _node_for(doc: dict[str, Any], new: NewKey, ref: SchemaRef) -> dict[str, Any]:
    """The object schema of the file that should hold the key's last part, created on the way."""
    node = doc
    for depth, part in enumerate(new.path[:-1]):
        properties = node.setdefault("properties", {})
        if not isinstance(properties, dict):
            raise InputError(f"{ref.path}: properties is not an object", hint="fix the schema")
        child = properties.get(part)
        if child is None:
            child = properties[part] = {"type": "object", "properties": {}}
        elif not isinstance(child, dict) or "$ref" in child or "allOf" in child:
            above = dotted_path(new.path[: depth + 1])
            raise InputError(
                f"{dotted_path(new.path)}: {above} is defined by a $ref or allOf in {ref.path}, "
                "shared with other schemas; cfgctl does not change shared definitions",
                location=Location(ref.path),
                hint=f"add it there by hand, or {_key_hint(above + '_' + new.path[-1])}",
            )
        node = child
    return node


def add_properties(snap: Snapshot, ref: SchemaRef, keys: list[NewKey]) -> bytes | None:
    """The schema file's new text with `keys` added, or None when it declares them all."""
    missing = [k for k in keys if not declared(snap, ref, k)]
    if not missing:
        return None
    before = snap.files[ref.path].read()
    doc = json.loads(before)
    if not isinstance(doc, dict):
        raise InputError(f"{ref.path} is not a JSON object", hint="fix the schema")
    for new in missing:
        node = _node_for(doc, new, ref)
        node.setdefault("properties", {})[new.path[-1]] = _property(new)
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode()
