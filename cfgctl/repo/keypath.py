"""Dotted key paths: `db.hosts[0].port` <-> ("db", "hosts", 0, "port")."""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping
from typing import Any

from cfgctl.errors import InputError
from cfgctl.repo.yamlio import JsonPath

__all__ = ["dotted_path", "json_pointer", "parse_key", "remove_in", "set_in"]

_PART = re.compile(r'([^.\[\]"]+)|"((?:[^"\\]|\\.)*)"|\[(\d+)\]')


def parse_key(key: str) -> JsonPath:
    """Parse a dotted path; keys holding dots are quoted: `annotations."app.kubernetes.io/name"`."""
    if not key or key.startswith(".") or key.endswith(".") or ".." in key:
        raise InputError(
            f"bad key path {key!r}", hint="write it dotted, e.g. db.pool_size or hosts[0].name"
        )
    out: list[str | int] = []
    pos = 0
    while pos < len(key):
        if key[pos] == "." and out:
            pos += 1
        match = _PART.match(key, pos)
        if match is None:
            raise InputError(
                f"bad key path {key!r} at character {pos + 1}",
                hint='write it dotted, e.g. db.pool_size, hosts[0].name or a."dotted.key"',
            )
        plain, quoted, index = match.groups()
        if index is not None:
            out.append(int(index))
        elif quoted is not None:
            out.append(quoted.replace('\\"', '"'))
        else:
            out.append(plain)
        pos = match.end()
    return tuple(out)


def dotted_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def json_pointer(path: Iterable[str | int]) -> str:
    """The path as an RFC 6901 JSON pointer: `/db/hosts/0/port`; `""` for the document."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def set_in(tree: dict[str, Any], path: Iterable[str | int], value: Any) -> None:
    """Set `path` in plain nested mappings, making (or replacing by) mappings on the way."""
    parts = [str(p) for p in path]
    node = tree
    for part in parts[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def remove_in(tree: Any, path: JsonPath) -> bool:
    """Remove `path` from nested mappings, and the mappings it leaves empty on the way;
    whether it was there."""
    parents = [tree]
    for part in path[:-1]:
        node = parents[-1]
        if not isinstance(node, MutableMapping) or part not in node:
            return False
        parents.append(node[part])
    if not isinstance(parents[-1], MutableMapping) or path[-1] not in parents[-1]:
        return False
    del parents[-1][path[-1]]
    for depth in range(len(path) - 1, 0, -1):
        if parents[depth]:
            break
        del parents[depth - 1][path[depth - 1]]
    return True
