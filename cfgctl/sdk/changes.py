"""Which keys changed between two versions of a configuration, and whether a watcher cares.

    changed_paths({"db": {"pool_size": 10}}, {"db": {"pool_size": 20}})   # ["db.pool_size"]
    matches(["db.pool_size"], ["db.*"])                                    # True

Mappings are compared key by key; any other value (a list, a scalar) is one key path, so a list
that changed is reported once, under its own path.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

__all__ = ["changed_paths", "matches"]


def _walk(old: Any, new: Any, prefix: str) -> Iterator[str]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted({*old, *new}, key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in old or key not in new:
                yield path
            elif old[key] != new[key]:
                yield from _walk(old[key], new[key], path)
    elif old != new:
        yield prefix


def changed_paths(old: Any, new: Any) -> list[str]:
    """The dotted key paths whose values differ, sorted; [] when the two are equal."""
    return sorted(p for p in _walk(old, new, "") if p)


def _match(path: str, pattern: str) -> bool:
    if fnmatch.fnmatchcase(path, pattern):
        return True
    # `db` covers everything under it; a change of `db` itself changes any `db.x` watched.
    return path.startswith(pattern + ".") or pattern.startswith(path + ".")


def matches(changed: Iterable[str], patterns: Iterable[str] | None) -> bool:
    """True when a changed path matches a glob of `patterns` (None: everything matches)."""
    if patterns is None:
        return True
    wanted = list(patterns)
    return any(_match(path, pattern) for path in changed for pattern in wanted)
