"""An import file's keys as the nested, typed configuration of a service: flat names mapped to
key paths (with the schema's help where the format loses the nesting), strings converted to the
types the schema declares.

    data, where = typed_data(source, view, existing)
    data               # {"db": {"pool_size": 10}}
    where[("db", "pool_size")]   # Location("application.properties", 3)

`DB_POOL_SIZE` may be `db.pool_size` or `db_pool.size`: the schema's property names (and the
keys the environment already has) say which; the longest name that matches wins. A variable
that names nothing the schema allows is an InputError at its line. A string the schema's type
cannot read (`port=eighty`) is an InputError at its line; nothing is written.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from cfgctl.errors import InputError, Location
from cfgctl.operate.flatkeys import env_part, leaves, parse_dotted, spring_part
from cfgctl.operate.formats_in import Source
from cfgctl.operate.schematypes import SchemaView, convert
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.render import lookup
from cfgctl.repo.yamlio import JsonPath

__all__ = ["typed_data"]

Where = dict[JsonPath, Location]


def typed_data(source: Source, view: SchemaView, existing: Any) -> tuple[dict[str, Any], Where]:
    """The nested data of `source`, typed by `view`, and where each value was read. `existing`:
    the environment's effective configuration, whose keys help to name flat variables."""
    if source.typed is not None:
        return _typed(source, view)
    tree: dict[Any, Any] = {}
    where: Where = {}
    for name, (text, line) in source.flat.items():
        at = Location(source.name, line)
        path = _path_of(source.fmt, name, view, existing)
        if path is None:
            raise InputError(
                f"{name} names no key of the service's schema",
                location=at,
                hint="check the name (and --prefix), or add the key to the schema first",
            )
        _place(tree, path, text, at)
        where[path] = at
    data = _lists(tree, (), where, source.name)
    for path, value in leaves(data, index_lists=True):
        if isinstance(value, str):
            _set(data, path, _converted(value, path, view, where.get(path) or _near(where, path)))
    return data, where


def _typed(source: Source, view: SchemaView) -> tuple[dict[str, Any], Where]:
    data = copy.deepcopy(source.typed or {})
    where: Where = {}
    for path, value in leaves(data, index_lists=True):
        types = view.types(path)
        if isinstance(value, str) and types and "string" not in types:
            at = source.location(path)
            where[path] = at
            _set(data, path, _converted(value, path, view, at))
    return data, where


def _converted(text: str, path: JsonPath, view: SchemaView, at: Location) -> Any:
    types = view.types(path)
    try:
        if "array" in types and "string" not in types and not text.lstrip().startswith("["):
            # Spring's comma-separated list (`hosts=a, b`), items trimmed as Spring does
            items = [item.strip() for item in text.split(",")] if text.strip() else []
            return [convert(item, view.types((*path, 0))) for item in items]
        return convert(text, types)
    except ValueError as exc:
        raise InputError(
            f"{dotted_path(path)}: {exc}, which the schema wants",
            location=at,
            hint="fix the value in the file (nothing was written)",
        ) from None


def _near(where: Where, path: JsonPath) -> Location:
    for cut in range(len(path), 0, -1):
        if path[:cut] in where:
            return where[path[:cut]]
    return next(iter(where.values()), Location("(import)"))


# --- names to paths -------------------------------------------------------------------------------


def _path_of(fmt: str, name: str, view: SchemaView, existing: Any) -> JsonPath | None:
    if fmt in ("env", "spring"):
        part_of = spring_part if fmt == "spring" else env_part
        return _env_path(name.upper(), (), view, existing, part_of, fmt == "spring")
    if fmt == "consul-kv":
        parts = name.split("/")
        return tuple(parts) if all(parts) else None
    return parse_dotted(name)


def _env_path(
    rest: str,
    path: JsonPath,
    view: SchemaView,
    existing: Any,
    part_of: Callable[[str | int], str],
    indexed: bool,
) -> JsonPath | None:
    """The key path a variable names below `path`, the longest matching key first."""
    node = lookup(existing, path)[1] if path else existing
    if indexed and (view.is_list(path) or isinstance(node, list)):
        match = re.fullmatch(r"(\d+)(?:_(.+))?", rest)
        if match:
            index = (*path, int(match[1]))
            if match[2] is None:
                return index
            return _env_path(match[2], index, view, existing, part_of, indexed)
    keys = view.keys(path) | (set(node) if isinstance(node, dict) else set())
    for key in sorted(keys, key=lambda k: (-len(part_of(k)), k)):
        spelled = part_of(key)
        if rest == spelled:
            return (*path, key)
        if spelled and rest.startswith(spelled + "_"):
            found = _env_path(
                rest[len(spelled) + 1 :], (*path, key), view, existing, part_of, indexed
            )
            if found is not None:
                return found
    if view.open(path) and not view.types(path) - {"object"}:
        return (*path, rest.lower())
    return None


# --- building the tree ----------------------------------------------------------------------------


def _place(tree: dict[Any, Any], path: JsonPath, value: str, at: Location) -> None:
    node = tree
    for i, part in enumerate(path[:-1]):
        nxt = node.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise InputError(
                f"{dotted_path(path)} is set, but {dotted_path(path[: i + 1])} is a value too",
                location=at,
                hint="keep one of the two keys",
            )
        node = nxt
    if isinstance(node.get(path[-1]), dict):
        raise InputError(
            f"{dotted_path(path)} is a value, and keys below it are set too",
            location=at,
            hint="keep one of the two",
        )
    node[path[-1]] = value


def _lists(node: Any, path: JsonPath, where: Where, name: str) -> Any:
    """Mappings whose keys are all indexes made lists (items 0..n-1, none missing)."""
    if not isinstance(node, dict):
        return node
    out = {k: _lists(v, (*path, k), where, name) for k, v in node.items()}
    if out and all(isinstance(k, int) for k in out):
        indexes = sorted(out)
        if indexes != list(range(len(indexes))):
            missing = next(i for i in range(len(indexes) + 1) if i not in out)
            raise InputError(
                f"{dotted_path((*path, missing))} is missing: list items go from 0 without a gap",
                location=_near(where, (*path, indexes[-1])),
                hint="number the items 0, 1, 2, ...",
            )
        return [out[i] for i in indexes]
    if any(isinstance(k, int) for k in out):
        raise InputError(
            f"{dotted_path(path)} has both list items and keys",
            location=_near(where, path),
            hint="keep one of the two",
        )
    return out


def _set(data: Any, path: JsonPath, value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
