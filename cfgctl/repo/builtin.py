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
from cfgctl.repo.plainjson import is_plain_json
from cfgctl.repo.yamlio import Document

if TYPE_CHECKING:
    from cfgctl.repo.validator import SchemaValidator, Violation

__all__ = [
    "DATA",
    "RS_JUDGED",
    "SCHEMAS",
    "TEMPLATES",
    "check_own_file",
    "own_validator",
    "own_violations",
]

DATA = Path(__file__).resolve().parent.parent / "resources"
SCHEMAS = DATA / "schemas"
TEMPLATES = DATA / "templates"


# The kinds whose schema jsonschema-rs judges alone, as the reference would: every `pattern` and
# `patternProperties` regex in them is one both engines read alike (`_ecma.rs_portable`), they
# hold no `multipleOf`, and their one format, policy's `date-time`, is checked by the function the
# reference uses (tests/repo/test_builtin.py proves all three and compares the verdicts). A valid
# file is then checked without importing `jsonschema` (~120 ms of every `cfgctl agent ...`
# otherwise); the reference still words the complaints of an invalid one.
RS_JUDGED = frozenset({"agent", "analytics", "cfgctl", "migration", "policy", "rbac", "template"})


@functools.cache
def _rs_validator(name: str) -> Any:
    """jsonschema-rs for kind `name`; None where the reference must judge (no date-time
    checker installed: the reference then checks no date-time either)."""
    import jsonschema_rs

    try:
        from rfc3339_validator import validate_rfc3339
    except ImportError:  # pragma: no cover - a dependency of cfgctl
        return None

    def is_datetime(instance: str) -> bool:  # jsonschema/_format.py's own check
        return bool(validate_rfc3339(instance.upper()))

    return jsonschema_rs.validator_for(
        _own_schema(name), formats={"date-time": is_datetime}, validate_formats=True
    )


def own_violations(name: str, data: Any) -> list[Violation]:
    """`data` against cfgctl's own schema `name`: `[]` when valid."""
    fast = _rs_validator(name) if name in RS_JUDGED else None
    if fast is not None and is_plain_json(data) and fast.is_valid(data):
        return []
    return own_validator(name).validate(data)


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
    for v in own_violations(kind, doc.data if doc.data is not None else {}):
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
