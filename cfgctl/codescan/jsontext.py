"""Members added to a JSON document's text without reformatting the rest of it: the new member is
written before the closing brace of its object, indented like its siblings.

    text = add_member(text, ("properties", "db", "properties"), "pool_size", {"type": "integer"})

`add_member` returns None when the object is not in the text (the caller writes the whole
document instead); the result is always checked by reading it back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["add_member"]

_DECODER = json.JSONDecoder()
# json's own string scanner (C), untyped in typeshed: (text, index after the quote) -> (str, end)
_SCANSTRING: Callable[[str, int], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009
_WS = " \t\n\r"


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _objects(
    text: str, i: int, path: tuple[str, ...], out: dict[tuple[str, ...], tuple[int, int]]
) -> int:
    """Scan the value at `i`; record (open, close) of every object by its path; return its end."""
    i = _skip(text, i)
    if text.startswith("{", i):
        start, i = i, _skip(text, i + 1)
        while not text.startswith("}", i):
            key, i = _SCANSTRING(text, i + 1)
            i = _skip(text, _skip(text, i) + 1)  # past the colon
            i = _skip(text, _objects(text, i, (*path, key), out))
            if text.startswith(",", i):
                i = _skip(text, i + 1)
        out[path] = (start, i)
        return i + 1
    if text.startswith("[", i):
        i = _skip(text, i + 1)
        n = 0
        while not text.startswith("]", i):
            i = _skip(text, _objects(text, i, (*path, str(n)), {}))
            n += 1
            if text.startswith(",", i):
                i = _skip(text, i + 1)
        return i + 1
    _, end = _DECODER.raw_decode(text, i)
    return int(end)


def _indent_of(text: str, pos: int) -> str:
    line_start = text.rfind("\n", 0, pos) + 1
    line = text[line_start:pos]
    return line[: len(line) - len(line.lstrip())]


def add_member(text: str, path: tuple[str, ...], key: str, value: Any) -> str | None:
    """`text` with `"key": value` added to the object at `path` (a tuple of keys)."""
    found: dict[tuple[str, ...], tuple[int, int]] = {}
    try:
        _objects(text, 0, (), found)
    except (ValueError, IndexError):
        return None
    if path not in found:
        return None
    start, close = found[path]
    body = text[start + 1 : close]
    last = len(body.rstrip())  # the end of the last member, in body
    multiline = "\n" in body or not body.strip()
    outer = _indent_of(text, close) if "\n" in text[start:close] else _indent_of(text, start)
    if body.strip():
        member_at = start + 1 + len(body) - len(body.lstrip())
        inner = (
            _indent_of(text, member_at)
            if "\n" in body[: len(body) - len(body.lstrip())]
            else outer + "  "
        )
    else:
        inner = outer + "  "
    if multiline:
        dumped = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n" + inner)
    else:
        dumped = json.dumps(value, ensure_ascii=False)
    member = f"{json.dumps(key, ensure_ascii=False)}: {dumped}"
    if body.strip() and multiline:
        head = text[: start + 1 + last]
        return f"{head},\n{inner}{member}\n{outer}{text[close:]}"
    if body.strip():
        return f"{text[: start + 1 + last]}, {member}{text[close:]}"
    return f"{text[: start + 1]}\n{inner}{member}\n{outer}{text[close:]}"
