"""A schema migration file and what its operations do to one document.

`schemas/NAME.v<N>.migration.yaml` turns a configuration of NAME version N-1 into one of version
N (schema: `cfgctl schema show --builtin migration`):

    from: 2
    to: 3
    operations:
      - {op: rename,  from: db.pool_size, to: db.pool.max}
      - {op: move,    from: timeout_ms,   to: http.timeout_ms}
      - {op: convert, path: http.timeout_ms, to: duration}
      - {op: map,     path: log.level, values: {warn: warning}}
      - {op: default, path: db.pool.min, value: 1}
      - {op: remove,  path: legacy.flag}

Operations apply in order. On one layer (`apply_to_layer`) each acts where its path is present;
`default` is the exception: it applies after the others, to the effective configuration
(`apply_to_effective`), where the merged layers lack the path. Both work on plain data and on
ruamel.yaml's round-trip containers alike (a rename keeps the key's place and its comments).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from cfgctl.errors import InputError, Location
from cfgctl.repo.keypath import dotted_path, parse_key
from cfgctl.repo.schemas import check_migration
from cfgctl.repo.yamlio import Document, JsonPath

__all__ = [
    "CONVERSIONS",
    "Migration",
    "Operation",
    "apply_to_effective",
    "apply_to_layer",
    "read_migration",
]

CONVERSIONS = ("duration", "string", "int", "float", "bool")


@dataclass(frozen=True)
class Operation:
    """One step of a migration; `path` is what it acts on (`from` for rename and move)."""

    op: str
    path: JsonPath
    location: Location
    to: JsonPath | None = None  # rename, move
    to_type: str | None = None  # convert
    values: Mapping[Any, Any] | None = None  # map
    value: Any = None  # default

    def describe(self) -> str:
        where = dotted_path(self.path)
        if self.to is not None:
            return f"{self.op} {where} -> {dotted_path(self.to)}"
        if self.op == "convert":
            return f"convert {where} to {self.to_type}"
        return f"{self.op} {where}"


@dataclass(frozen=True)
class Migration:
    schema: str
    source: int  # the version it starts from
    target: int
    path: str
    operations: tuple[Operation, ...]


def read_migration(doc: Document, name: str, version: int) -> Migration:
    """The migration in `doc` (its file), checked against its schema and its place."""
    problems = check_migration(doc, version)
    if problems:  # bad input (exit 2): the first problem, where it is, and how many more
        first, more = problems[0], len(problems) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise InputError(
            f"not a valid migration: {first.message}{extra}",
            location=first.location,
            hint=first.hint or "`cfgctl schema show --builtin migration` shows the format",
        )
    data = doc.data
    operations = tuple(
        _operation(spec, doc, ("operations", i)) for i, spec in enumerate(data["operations"])
    )
    return Migration(name, version - 1, version, doc.source, operations)


def _operation(spec: Mapping[str, Any], doc: Document, where: JsonPath) -> Operation:
    op = spec["op"]
    location = doc.location(where)
    if op in ("rename", "move"):
        source, target = _key(spec["from"], doc, where), _key(spec["to"], doc, where)
        if source == target or target[: len(source)] == source:
            raise InputError(
                f"{op} {spec['from']} -> {spec['to']}: the target is the key itself or inside it",
                location=location,
                hint="move a key to a place outside itself",
            )
        return Operation(op, source, location, to=target)
    path = _key(spec["path"], doc, where)
    if op == "convert":
        return Operation(op, path, location, to_type=spec["to"])
    if op == "map":
        return Operation(op, path, location, values=dict(spec["values"]))
    if op == "default":
        return Operation(op, path, location, value=spec["value"])
    return Operation(op, path, location)


def _key(text: str, doc: Document, where: JsonPath) -> JsonPath:
    try:
        path = parse_key(text)
    except InputError as exc:
        raise InputError(exc.message, location=doc.location(where), hint=exc.hint) from None
    if any(isinstance(part, int) for part in path):
        raise InputError(
            f"{text}: migrations name mapping keys, not list items",
            location=doc.location(where),
            hint="name the key of the list itself",
        )
    return path


# --- applying ---------------------------------------------------------------------------------


def _parent(data: Any, path: JsonPath, *, create: bool) -> MutableMapping[Any, Any] | None:
    node = data
    for part in path[:-1]:
        if not isinstance(node, MutableMapping):
            return None
        if part not in node or node[part] is None:
            if not create:
                return None
            node[part] = type(node)()
        node = node[part]
    return node if isinstance(node, MutableMapping) else None


def _get(data: Any, path: JsonPath) -> tuple[bool, Any]:
    parent = _parent(data, path, create=False)
    if parent is None or path[-1] not in parent:
        return False, None
    return True, parent[path[-1]]


def _remove(data: Any, path: JsonPath) -> None:
    parent = _parent(data, path, create=False)
    if parent is not None and path[-1] in parent:
        del parent[path[-1]]
        _prune(data, path[:-1])


def _prune(data: Any, path: JsonPath) -> None:
    """Drop mappings left empty on the way to `path` (a move emptied them)."""
    while path:
        found, value = _get(data, path)
        if not found or not isinstance(value, Mapping) or value:
            return
        parent = _parent(data, path, create=False)
        assert parent is not None
        del parent[path[-1]]
        path = path[:-1]


def _place(data: Any, path: JsonPath, value: Any, op: Operation, layer: str) -> None:
    parent = _parent(data, path, create=True)
    if parent is None:
        raise InputError(
            f"{layer}: cannot {op.describe()}: a value on the way to {dotted_path(path)} is not "
            "a mapping",
            location=op.location,
            hint="move that value out of the way first (another operation before this one)",
        )
    if path[-1] in parent:
        raise InputError(
            f"{layer}: cannot {op.describe()}: {dotted_path(path)} is set already",
            location=op.location,
            hint=f"remove {dotted_path(path)} first, or rename it as well",
        )
    parent[path[-1]] = value


def _comment_of(parent: Any, key: Any) -> Any:
    """The comment ruamel.yaml keeps for `key` of `parent` (its end-of-line one), taken away."""
    comments = getattr(parent, "ca", None)
    return comments.items.pop(key, None) if comments is not None else None


def _rename_in_place(parent: Any, old: Any, new: Any) -> None:
    """Rename a key of one mapping, keeping its position (and, in ruamel's containers, its
    comments)."""
    if new in parent:
        raise KeyError(new)
    items = list(parent.items())
    position = [k for k, _ in items].index(old)
    if hasattr(parent, "insert"):  # ruamel's CommentedMap
        value = parent[old]
        comment = getattr(parent, "ca", None)
        keep = comment.items.pop(old, None) if comment is not None else None
        del parent[old]
        parent.insert(position, new, value)
        if comment is not None and keep is not None:
            comment.items[new] = keep
        return
    parent.clear()
    for key, value in items:
        parent[new if key == old else key] = value


_DURATION = re.compile(r"^[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h|d)$")


def _duration(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{value!r} is no duration")
    if isinstance(value, str):
        if not _DURATION.match(value.strip()):
            raise ValueError(f"{value!r} is no duration")
        return value.strip()
    if value != int(value) or value < 0:
        raise ValueError(f"{value!r} is no whole number of milliseconds")
    return f"{int(value)}ms"


def convert(value: Any, to: str) -> Any:
    """`value` as type `to`; ValueError when it cannot be. A number becomes a duration in
    milliseconds (250 -> "250ms"); a string becomes a number as Python reads it."""
    if to == "duration":
        return _duration(value)
    if to == "string":
        if isinstance(value, (dict, list)) or value is None:
            raise ValueError(f"a {type(value).__name__} is no string")
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    if to == "int":
        if isinstance(value, bool) or (isinstance(value, float) and value != int(value)):
            raise ValueError(f"{value!r} is no whole number")
        return int(value)
    if to == "float":
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is no number")
        return float(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"{value!r} is no boolean")


def _step(data: Any, op: Operation, layer: str) -> bool:
    """Apply `op` (not `default`) to `data`; whether it changed anything."""
    found, value = _get(data, op.path)
    if not found:
        return False
    if op.op in ("rename", "move"):
        assert op.to is not None
        parent = _parent(data, op.path, create=False)
        assert parent is not None
        if op.to[:-1] == op.path[:-1] and op.to[-1] not in parent:
            _rename_in_place(parent, op.path[-1], op.to[-1])
            return True
        comment = _comment_of(parent, op.path[-1])
        _place(data, op.to, value, op, layer)
        _remove(data, op.path)
        target = _parent(data, op.to, create=False)
        if comment is not None and hasattr(target, "ca"):
            target.ca.items[op.to[-1]] = comment  # type: ignore[union-attr]
        return True
    if op.op == "remove":
        _remove(data, op.path)
        return True
    parent = _parent(data, op.path, create=False)
    assert parent is not None
    if op.op == "map":
        assert op.values is not None
        if not isinstance(value, (str, int, float, bool)) or value not in op.values:
            return False
        parent[op.path[-1]] = op.values[value]
        return True
    assert op.to_type is not None
    try:
        new = convert(value, op.to_type)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(
            f"{layer}: cannot convert {dotted_path(op.path)} to {op.to_type}: {exc}",
            location=op.location,
            hint="fix the value first, or map it (op: map) before converting",
        ) from None
    if new == value and type(new) is type(value):
        return False
    parent[op.path[-1]] = new
    return True


def apply_to_layer(migration: Migration, data: Any, layer: str) -> bool:
    """Every operation but `default` on one layer's data, in place; whether it changed."""
    if not isinstance(data, MutableMapping):
        return False
    changed = False
    for op in migration.operations:
        if op.op != "default":
            changed |= _step(data, op, layer)
    return changed


def apply_to_effective(migration: Migration, data: Any) -> Any:
    """Every operation on an effective configuration, in place: the others in order, then each
    `default` where the result lacks its path."""
    if not isinstance(data, MutableMapping):
        return data
    apply_to_layer(migration, data, "the effective configuration")
    for op in defaults(migration):
        if not _get(data, op.path)[0]:
            _place(data, op.path, op.value, op, "the effective configuration")
    return data


def defaults(migration: Migration) -> Iterator[Operation]:
    """The `default` operations, in order."""
    return (op for op in migration.operations if op.op == "default")
