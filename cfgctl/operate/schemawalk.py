"""A JSON Schema flattened to the dotted key paths migrations name: each property (nested
`properties`, through `$ref`s to the same or another file of schemas/ and `allOf`) with its
resolved subschema, whether its parent requires it, and its shape.

    props = flatten(snap, snap.schemas.resolve("web@2"))
    props[("db", "pool_size")].shape     # canonical JSON of its type and constraints

The shape ignores what does not constrain a value (description, title, default, examples,
$comment, deprecated, $id, $schema, $defs) and includes the shapes of a mapping's properties,
so two properties have the same shape when any value valid for one is valid for the other
(as far as their keywords say).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cfgctl.errors import InputError, Location
from cfgctl.repo.schemas import SchemaRef
from cfgctl.repo.secretpaths import deref
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath

__all__ = ["Prop", "flatten", "types_of"]

ANNOTATIONS = frozenset(
    {"description", "title", "default", "examples", "$comment", "deprecated", "$id", "$schema"}
)
_MAX_DEPTH = 32  # nested properties and $refs: a recursive schema is walked this deep


@dataclass(frozen=True)
class Prop:
    path: JsonPath
    schema: dict[str, Any]  # resolved: $ref and allOf merged in
    required: bool
    shape: str

    @property
    def trivial(self) -> bool:
        """No type and no constraint: anything is valid, so the shape says nothing."""
        return self.shape == "{}"

    @property
    def is_object(self) -> bool:
        return "properties" in self.schema or types_of(self.schema) == ["object"]


def types_of(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return sorted(str(k) for k in kind)
    return []


Resolve = Callable[[str], Any]


class _Walker:
    def __init__(self, ref: SchemaRef, resolve: Resolve) -> None:
        self.ref = ref
        self.resolve = resolve

    def node(self, node: Any, root: Any) -> tuple[dict[str, Any], Any]:
        """`node` with its `$ref`s followed (sibling keywords kept) and `allOf` merged; the root
        document local `$ref`s inside it resolve against."""
        if not isinstance(node, dict):
            return ({} if node is True else {"not": {}}), root
        for _ in range(_MAX_DEPTH):
            target = node.get("$ref")
            if not isinstance(target, str):
                break
            doc, found = deref(root, target, self.resolve)
            if not isinstance(found, dict):
                raise InputError(
                    f"{self.ref}: cannot resolve $ref {target!r}",
                    location=Location(self.ref.path),
                    hint="run `cfgctl validate`: it checks every $ref of the schemas",
                )
            node = {**found, **{k: v for k, v in node.items() if k != "$ref"}}
            root = doc
        if isinstance(node.get("allOf"), list):
            node = self._all_of(node, root)
        return node, root

    def _all_of(self, node: dict[str, Any], root: Any) -> dict[str, Any]:
        merged = {k: v for k, v in node.items() if k != "allOf"}
        properties = dict(merged.get("properties") or {})
        required = list(merged.get("required") or [])
        for part in node["allOf"]:
            sub, sub_root = self.node(part, root)
            for key, value in (sub.get("properties") or {}).items():
                properties.setdefault(key, _anchored(value, sub_root, root))
            required += [r for r in sub.get("required") or [] if r not in required]
            for key, value in sub.items():
                if key not in ("properties", "required"):
                    merged.setdefault(key, value)
        if properties:
            merged["properties"] = properties
        if required:
            merged["required"] = required
        return merged

    def shape(self, node: Any, root: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            return "(recursive)"
        resolved, root = self.node(node, root)
        out: dict[str, Any] = {}
        for key, value in resolved.items():
            if key in ANNOTATIONS or key == "$defs" or _extension(key):
                continue
            if key == "properties" and isinstance(value, dict):
                out[key] = {k: self.shape(v, root, depth + 1) for k, v in value.items()}
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out[key] = self.shape(value, root, depth + 1)
            elif key in ("type", "required") and isinstance(value, list):
                out[key] = sorted(map(str, value))
            else:
                out[key] = value
        return out

    def walk(self, node: Any, root: Any, path: JsonPath, out: dict[JsonPath, Prop]) -> None:
        if len(path) > _MAX_DEPTH:
            return
        resolved, root = self.node(node, root)
        required = set(resolved.get("required") or [])
        properties = resolved.get("properties")
        if not isinstance(properties, dict):
            return
        for key, child in properties.items():
            sub = (*path, key)
            child_resolved, child_root = self.node(child, root)
            shape = json.dumps(self.shape(child, root), sort_keys=True, default=str)
            out[sub] = Prop(sub, child_resolved, key in required, shape)
            self.walk(child_resolved, child_root, sub, out)


def _extension(key: str) -> bool:
    """An `x-` keyword other than the secret marker (which constrains where a value lives)."""
    return key.startswith("x-") and key != "x-cfgctl-secret"


def _anchored(value: Any, sub_root: Any, root: Any) -> Any:
    """A property taken from an `allOf` member of another file: its local `$ref`s would resolve
    against the wrong document, so a `$ref` there is resolved now (one level)."""
    if sub_root is root or not isinstance(value, dict) or "$ref" not in value:
        return value
    target = value["$ref"]
    if isinstance(target, str) and target.startswith("#"):
        found = deref(sub_root, target, None)[1]
        if isinstance(found, dict):
            return {**found, **{k: v for k, v in value.items() if k != "$ref"}}
    return value


def flatten(snap: Snapshot, ref: SchemaRef) -> dict[JsonPath, Prop]:
    """Every property of schema `ref` by its key path; the root is `()`."""
    doc = snap.schemas.document(ref.path)
    walker = _Walker(ref, snap.schema_resolver(ref))
    resolved, _ = walker.node(doc, doc)
    root_shape = json.dumps(walker.shape(doc, doc), sort_keys=True, default=str)
    out: dict[JsonPath, Prop] = {(): Prop((), resolved, True, root_shape)}
    walker.walk(doc, doc, (), out)
    return out
