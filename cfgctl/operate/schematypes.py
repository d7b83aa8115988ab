"""What a service's JSON Schema says about one key: the types it allows and the names of the
keys below it, to give the strings of a flat file their types back.

    view = SchemaView(schema_doc, resolve)
    view.types(("db", "port"))              # {"integer"}
    view.keys(("db",))                      # {"host", "port", "pool_size"}
    convert("8080", {"integer"})            # 8080 (ValueError when it is none)

Followed: properties, patternProperties, additionalProperties, items, prefixItems, `$ref` (local
and other files through `resolve`), allOf, anyOf, oneOf. `types` of a key the schema says
nothing about is empty: its value stays a string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cfgctl.repo.secretpaths import deref
from cfgctl.repo.yamlio import JsonPath

__all__ = ["SchemaView", "convert"]

_Node = tuple[Any, Any]  # (root document, subschema)
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
_INT = re.compile(r"^[-+]?\d+$")
_SHAPES = {"properties", "additionalProperties", "patternProperties"}


class SchemaView:
    def __init__(self, schema: Any, resolve: Callable[[str], Any] | None = None) -> None:
        self.schema = schema
        self.resolve = resolve

    def _expand(self, node: _Node, depth: int = 0) -> Iterator[_Node]:
        """`node` and every subschema that applies with it ($ref, allOf, anyOf, oneOf)."""
        root, schema = node
        if not isinstance(schema, Mapping) or depth > 32:
            return
        yield node
        if isinstance(schema.get("$ref"), str):
            yield from self._expand(deref(root, schema["$ref"], self.resolve), depth + 1)
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key) or []:
                yield from self._expand((root, sub), depth + 1)

    def nodes(self, path: JsonPath) -> list[_Node]:
        """Every subschema that applies to the value at `path`."""
        current = list(self._expand((self.schema, self.schema)))
        for part in path:
            following: list[_Node] = []
            for root, schema in current:
                for sub in _member(schema, part):
                    following.extend(self._expand((root, sub)))
            current = following
            if not current:
                break
        return current

    def types(self, path: JsonPath) -> set[str]:
        """The JSON types the schema allows at `path` (from type, enum, const); empty when it
        does not say."""
        out: set[str] = set()
        for _, schema in self.nodes(path):
            kind = schema.get("type")
            if isinstance(kind, str):
                out.add(kind)
            elif isinstance(kind, list):
                out.update(k for k in kind if isinstance(k, str))
            values = list(schema.get("enum") or [])
            if "const" in schema:
                values.append(schema["const"])
            out.update(_type_of(v) for v in values)
        return out

    def keys(self, path: JsonPath) -> set[str]:
        """The property names the schema declares at `path`."""
        return {k for _, s in self.nodes(path) for k in (s.get("properties") or {})}

    def open(self, path: JsonPath) -> bool:
        """Whether the mapping at `path` may hold keys the schema does not name."""
        shaped = [s for _, s in self.nodes(path) if _SHAPES & s.keys()]
        return all(
            s.get("additionalProperties") is not False or bool(s.get("patternProperties"))
            for s in shaped
        )

    def is_list(self, path: JsonPath) -> bool:
        return "array" in self.types(path)


def _type_of(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return _JSON_TYPES.get(type(value), "string")


def _member(schema: Mapping[str, Any], part: str | int) -> list[Any]:
    if isinstance(part, int):
        prefix = schema.get("prefixItems") or []
        return [prefix[part] if part < len(prefix) else schema.get("items")]
    props = schema.get("properties") or {}
    if part in props:
        return [props[part]]
    found = []
    for pattern, sub in (schema.get("patternProperties") or {}).items():
        try:
            if re.search(pattern, part):
                found.append(sub)
        except re.error:
            continue
    return found or [schema.get("additionalProperties")]


def _number(text: str, types: set[str]) -> int | float | None:
    if ("integer" in types or "number" in types) and _INT.match(text.strip()):
        return int(text)
    if "number" not in types or text.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return None
    try:
        return float(text)
    except ValueError:
        return None


def convert(text: str, types: set[str]) -> Any:
    """`text` (from a flat file) as a value of one of `types`; the text itself when `types` is
    empty or allows strings and no other type reads it. ValueError when none can hold it."""
    if not types:
        return text
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    number = _number(text, types)
    if number is not None:
        return number
    if "null" in types and text in ("", "null") and "string" not in types:
        return None
    if types & {"array", "object"} and text.lstrip().startswith(("[", "{")):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc.msg}") from None
        if _type_of(value) in types:
            return value
    if "string" in types:
        return text
    if "null" in types and text in ("", "null"):
        return None
    raise ValueError(f"{text[:40]!r} is no {' or '.join(sorted(types))}")
