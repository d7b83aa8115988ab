"""The secret keys of a configuration: the paths of an instance whose schema marks them
`x-cfgctl-secret: true` or `writeOnly: true`, found by walking only the subschemas from which such
a marker can be reached (remembered per set of schemas), `$ref`s followed.

    for path in secret_paths(schema, data, resolve, memo): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from cfgctl.errors import CfgctlError
from cfgctl.repo.yamlio import JsonPath

__all__ = ["SECRET_MARKERS", "Memo", "deref", "marked_paths", "secret_paths"]


Memo = dict[int, tuple[Any, bool]]

# The keywords that make a property secret.
SECRET_MARKERS = ("x-cfgctl-secret", "writeOnly")


def secret_paths(
    schema: Any,
    instance: Any,
    resolve: Callable[[str], Any] | None = None,
    memo: Memo | None = None,
) -> Iterator[JsonPath]:
    """The paths of `instance` whose schema marks them `x-cfgctl-secret: true` or `writeOnly: true`.

    Follows properties, patternProperties, additionalProperties, items, prefixItems, allOf, anyOf,
    oneOf, if/then/else and `$ref` (local `#/...` pointers, and other files through `resolve`).
    Only the subschemas from which a secret can be reached are walked; `memo` (one per set of
    schemas, e.g. a SchemaRegistry's) remembers which those are across calls.
    """
    return marked_paths(schema, instance, SECRET_MARKERS, resolve, memo)


def marked_paths(
    schema: Any,
    instance: Any,
    markers: tuple[str, ...],
    resolve: Callable[[str], Any] | None = None,
    memo: Memo | None = None,
) -> Iterator[JsonPath]:
    """The paths of `instance` whose schema sets one of the keywords `markers` to true (as
    `x-cfgctl-env-local: true`), walked as `secret_paths` walks; `memo` belongs to one tuple of
    markers."""
    seen: set[JsonPath] = set()
    finder = _Finder(resolve, {} if memo is None else memo, markers)
    for path in finder.walk(schema, schema, instance, (), 0):
        if path not in seen:
            seen.add(path)
            yield path


def deref(root: Any, ref: str, resolve: Callable[[str], Any] | None) -> tuple[Any, Any]:
    target, _, pointer = ref.partition("#")
    doc = root
    if target:
        if resolve is None:
            return root, None
        try:
            doc = resolve(target)
        except CfgctlError:
            return root, None
    node = doc
    for part in [p for p in pointer.split("/") if p]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return doc, None
    return doc, node


_APPLICATORS = ("allOf", "anyOf", "oneOf")
_CONDITIONALS = ("if", "then", "else")


class _Finder:
    def __init__(
        self, resolve: Callable[[str], Any] | None, memo: Memo, markers: tuple[str, ...]
    ) -> None:
        self.resolve = resolve
        self.memo = memo
        self.markers = markers

    def marked(self, schema: Mapping[str, Any]) -> bool:
        return any(schema.get(m) is True for m in self.markers)

    def _children(self, root: Any, schema: Mapping[str, Any]) -> Iterator[tuple[Any, Any]]:
        """(root, subschema) of every subschema one step below `schema`."""
        if isinstance(schema.get("$ref"), str):
            yield deref(root, schema["$ref"], self.resolve)
        for key in _APPLICATORS:
            for sub in schema.get(key) or []:
                yield root, sub
        for key in (*_CONDITIONALS, "additionalProperties", "items"):
            yield root, schema.get(key)
        for key in ("properties", "patternProperties"):
            for sub in (schema.get(key) or {}).values():
                yield root, sub
        for sub in schema.get("prefixItems") or []:
            yield root, sub

    def reaches(self, root: Any, schema: Any, active: set[int] | None = None) -> bool:
        """Whether any secret marker can be reached from `schema`."""
        if not isinstance(schema, Mapping):
            return False
        known = self.memo.get(id(schema))
        if known is not None:
            return known[1]
        if self.marked(schema):
            self.memo[id(schema)] = (schema, True)
            return True
        active = active if active is not None else set()
        if id(schema) in active:  # a recursive schema: the other branches decide
            return False
        active.add(id(schema))
        found = any(self.reaches(r, sub, active) for r, sub in self._children(root, schema))
        active.discard(id(schema))
        self.memo[id(schema)] = (schema, found)
        return found

    def walk(
        self, root: Any, schema: Any, instance: Any, path: JsonPath, depth: int
    ) -> Iterator[JsonPath]:
        if not isinstance(schema, Mapping) or depth > 64 or not self.reaches(root, schema):
            return
        if self.marked(schema):
            yield path
            return
        if isinstance(schema.get("$ref"), str):
            ref_root, target = deref(root, schema["$ref"], self.resolve)
            yield from self.walk(ref_root, target, instance, path, depth + 1)
        for key in _APPLICATORS:
            for sub in schema.get(key) or []:
                yield from self.walk(root, sub, instance, path, depth + 1)
        for key in _CONDITIONALS:
            yield from self.walk(root, schema.get(key), instance, path, depth + 1)
        if isinstance(instance, dict):
            for key, value in instance.items():
                for sub in _member_schemas(schema, key):
                    yield from self.walk(root, sub, value, (*path, key), depth + 1)
        elif isinstance(instance, list):
            prefix = schema.get("prefixItems") or []
            for i, value in enumerate(instance):
                sub = prefix[i] if i < len(prefix) else schema.get("items")
                yield from self.walk(root, sub, value, (*path, i), depth + 1)


def _member_schemas(schema: Mapping[str, Any], key: str) -> list[Any]:
    """The subschemas that apply to member `key` of an object: its property, every matching
    pattern property, else `additionalProperties`."""
    props = schema.get("properties") or {}
    found = [props[key]] if key in props else []
    patterns = schema.get("patternProperties") or {}
    found += [sub for pattern, sub in patterns.items() if _search(pattern, key)]
    return found or [schema.get("additionalProperties")]


def _search(pattern: str, text: str) -> bool:
    # Imported here: _ecma loads jsonschema (~0.2 s), which a render whose verdict is cached, or
    # a schema without patternProperties, never needs.
    from cfgctl.repo import _ecma

    try:
        return _ecma.search(pattern, text)
    except _ecma.RegexError:
        return False
