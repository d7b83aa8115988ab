"""The schemas and templates cfgctl ships, and validation of cfgctl's own files against them.

diagnostics = check_own_file(doc, "cfgctl")   # cfgctl.yaml against schemas/cfgctl.schema.json
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfgctl.diagnostics import Diagnostic
from cfgctl.errors import Location
from cfgctl.repo.yamlio import Document

if TYPE_CHECKING:
    from cfgctl.repo.validator import SchemaValidator

__all__ = ["DATA", "SCHEMAS", "TEMPLATES", "check_own_file", "own_validator"]

DATA = Path(__file__).resolve().parent.parent / "resources"
SCHEMAS = DATA / "schemas"
TEMPLATES = DATA / "templates"


@functools.cache
def own_validator(name: str) -> SchemaValidator:
    """The validator of one of cfgctl's own file kinds: cfgctl, template, policy, agent,
    analytics, migration."""
    from cfgctl.repo.validator import SchemaValidator

    path = SCHEMAS / f"{name}.schema.json"
    return SchemaValidator(json.loads(path.read_text()), uri=path.as_uri())


@functools.cache
def _own_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return data


def _node(schema: dict[str, Any], path: tuple[str | int, ...]) -> dict[str, Any] | None:
    """The subschema of cfgctl's own (simple) schemas that describes the value at `path`:
    properties, additionalProperties, items and local `$ref`s are followed."""

    def deref(n: Any) -> Any:
        for _ in range(16):  # local $refs only; a cycle of them ends here
            ref = n.get("$ref") if isinstance(n, dict) else None
            if not isinstance(ref, str) or not ref.startswith("#/"):
                break
            n = schema
            for part in ref[2:].split("/"):
                n = n.get(part, {}) if isinstance(n, dict) else {}
        return n

    node: Any = deref(schema)
    for part in path:
        if not isinstance(node, dict):
            return None
        if isinstance(part, int):
            node = deref(node.get("items"))
        elif part in node.get("properties", {}):
            node = deref(node["properties"][part])
        else:
            node = deref(node.get("additionalProperties"))
    return node if isinstance(node, dict) else None


# Keywords whose own message says little to a person (a regex, a oneOf's internals): when the
# schema node has `x-expected`, the message says what was expected instead.
_EXPLAINED = ("pattern", "oneOf", "anyOf", "type", "format", "const", "enum", "not")


def check_own_file(doc: Document, kind: str) -> list[Diagnostic]:
    """Every way `doc` breaks the schema of its kind, each at the line of the offending value.
    A schema node's `x-expected` replaces unhelpful messages, and its `x-hint` is the hint."""
    out: list[Diagnostic] = []
    for v in own_validator(kind).validate(doc.data if doc.data is not None else {}):
        if v.missing is not None:
            location = doc.location(v.path, key=bool(v.path))
        elif v.keyword in ("additionalProperties", "propertyNames", "unevaluatedProperties"):
            location = _unknown_key_location(doc, v.path, v.message)
        else:
            location = doc.location(v.path)
        node = _node(_own_schema(kind), v.path) if v.missing is None else None
        message = v.message
        if node is not None and "x-expected" in node and v.keyword in _EXPLAINED:
            message = f"expected {node['x-expected']}"
        hint = f"the format is described by `cfgctl schema show --builtin {kind}`"
        if node is not None and "x-hint" in node:
            hint = str(node["x-hint"])
        out.append(
            Diagnostic(
                "error",
                f"{kind}-schema",
                f"{v.dotted}: {message}",
                location,
                path=v.dotted,
                hint=hint,
            )
        )
    return out


def _unknown_key_location(doc: Document, path: tuple[str | int, ...], message: str) -> Location:
    data: Any = doc.data
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            data = None
    if isinstance(data, dict):
        for key in data:
            if repr(key) in message:
                return doc.location((*path, key), key=True)
    return doc.location(path)
