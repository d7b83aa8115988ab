"""Schemas prepared for jsonschema-rs: the regexes of `patternProperties` rewritten so that it
matches exactly where Python's `re.search` does, or the schema marked not portable.

Private to cfgctl.repo: `cfgctl.repo.validator` uses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["RsRewriter", "class_end", "rs_regex"]

# Keywords whose values are data, never schemas; and those whose values map names to schemas.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
_NAMED_SCHEMAS = frozenset(
    {"properties", "$defs", "definitions", "dependentSchemas", "dependencies"}
)

# After a backslash, outside or inside a character class: a literal in both dialects.
_LITERAL_ESCAPES = frozenset("^$\\.*+?()[]{}|/-") | frozenset("ntrfv")
_COUNTED = re.compile(r"\{(\d{1,4})(?:(,)(\d{1,4})?)?\}")


class RsRewriter:
    """Copies of schemas for jsonschema-rs, with the regexes of `patternProperties` rewritten.

    `portable` turns False on a regex outside the subset `rs_regex` knows; `dialects` collects
    every `$schema` met.
    """

    def __init__(self) -> None:
        self.portable = True
        self.dialects: list[Any] = []

    def schema(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.schema(item) for item in node]
        if not isinstance(node, Mapping):
            return node
        if "$schema" in node:
            self.dialects.append(node["$schema"])
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _DATA_KEYWORDS:
                out[key] = value
            elif key == "patternProperties" and isinstance(value, Mapping):
                out[key] = self._pattern_properties(value)
            elif key in _NAMED_SCHEMAS and isinstance(value, Mapping):
                out[key] = {name: self.schema(subschema) for name, subschema in value.items()}
            else:
                out[key] = self.schema(value)
        return out

    def _pattern_properties(self, value: Mapping[Any, Any]) -> dict[Any, Any]:
        rewritten = {}
        for pattern, subschema in value.items():
            rs_pattern = rs_regex(pattern) if isinstance(pattern, str) else None
            if rs_pattern is None:
                self.portable = False
                rs_pattern = pattern
            rewritten[rs_pattern] = self.schema(subschema)
        if len(rewritten) != len(value):
            self.portable = False
        return rewritten


def rs_regex(pattern: str) -> str | None:
    """`pattern` rewritten so that jsonschema-rs matches where Python's `re.search` does.

    Python's `.` matches anything but a newline and its `$` also matches before a final newline;
    ECMA 262's `.` also refuses \\r, \\u2028 and \\u2029, and its `$` is the end alone. So `.`
    becomes `[^\\n]` and `$` becomes `(?=\\n?$)`. The rest must be the subset where the two agree:
    literals, escaped punctuation and \\n \\t \\r \\f \\v, simple character classes, groups `(...)`
    and `(?:...)`, `|`, `^`, and the quantifiers `* + ? {n} {n,} {n,m}`, each maybe lazy. None for
    anything else (\\d \\w \\s \\b, look-arounds, back-references, flags, `{,n}`...).
    """
    return _Translation(pattern).run()


class _Translation:
    """One pass over a pattern; each step consumes one token or refuses the pattern (False)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.i = 0
        self.depth = 0
        self.repeatable = False  # whether a quantifier may follow what came before
        self.out: list[str] = []
        self.steps: dict[str, Callable[[], bool]] = {
            "\\": self._escape,
            "[": self._char_class,
            "(": self._open,
            ")": self._close,
            "*": self._quantifier,
            "+": self._quantifier,
            "?": self._quantifier,
            "{": self._quantifier,
        }

    def run(self) -> str | None:
        while self.i < len(self.pattern):
            char = self.pattern[self.i]
            if char in "]}":
                return None
            step = self.steps.get(char)
            if step is None:
                self._literal(char)
            elif not step():
                return None
        return "".join(self.out) if self.depth == 0 else None

    def _take(self, text: str, *, repeatable: bool) -> bool:
        self.out.append(text)
        self.i += len(text)
        self.repeatable = repeatable
        return True

    def _escape(self) -> bool:
        pattern, i = self.pattern, self.i
        if i + 1 == len(pattern) or pattern[i + 1] not in _LITERAL_ESCAPES:
            return False
        return self._take(pattern[i : i + 2], repeatable=True)

    def _char_class(self) -> bool:
        end = class_end(self.pattern, self.i)
        return end is not None and self._take(self.pattern[self.i : end], repeatable=True)

    def _open(self) -> bool:
        if self.pattern.startswith("(?:", self.i):
            self._take("(?:", repeatable=False)
        elif self.pattern.startswith("(?", self.i):
            return False
        else:
            self._take("(", repeatable=False)
        self.depth += 1
        return True

    def _close(self) -> bool:
        if self.depth == 0:
            return False
        self.depth -= 1
        return self._take(")", repeatable=True)

    def _quantifier(self) -> bool:
        if not self.repeatable:
            return False
        token = self.pattern[self.i]
        if token == "{":
            counted = _COUNTED.match(self.pattern, self.i)
            if counted is None:
                return False
            low, _, high = counted.groups()
            if high is not None and int(high) < int(low):
                return False
            token = counted.group()
        if self.pattern.startswith(token + "?", self.i):
            token += "?"  # lazy
        # No quantifier on a quantifier (Python 3.11 has possessive ones).
        return self._take(token, repeatable=False)

    def _literal(self, char: str) -> None:
        self.out.append({".": "[^\\n]", "$": "(?=\\n?$)"}.get(char, char))
        self.i += 1
        self.repeatable = char not in "^$|"


def class_end(pattern: str, start: int) -> int | None:
    """The end of the simple character class at `start`, or None for one outside the subset.

    Simple: items are literals or escapes of `_LITERAL_ESCAPES`, ranges `a-z` in order; no `[`
    inside, no `]` first (Python takes it literally, ECMA 262 as an empty class), none of the
    doubled `-&|~` Python warns of, and a `-` only first, last or between the ends of one range.
    """
    i = start + 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):
        return None
    while i < len(pattern) and pattern[i] != "]":
        item_end = _class_item(pattern, i)
        if item_end is None:
            return None
        i = item_end
    if i >= len(pattern):
        return None
    body = pattern[start : i + 1]
    if any(twice in body for twice in ("--", "&&", "||", "~~")):
        return None
    return i + 1


def _class_item(pattern: str, at: int) -> int | None:
    """The end of one item (a literal, an escape, or a range) of a character class."""
    low = _class_atom(pattern, at)
    if low is None:
        return None
    i = low[1]
    if not pattern.startswith("-", i) or pattern.startswith("-]", i):
        return i
    high = _class_atom(pattern, i + 1)
    if high is None or len(low[0]) != 1 or len(high[0]) != 1 or low[0] > high[0]:
        return None
    i = high[1]
    if pattern.startswith("-", i) and not pattern.startswith("-]", i):
        return None
    return i


def _class_atom(pattern: str, at: int) -> tuple[str, int] | None:
    if at >= len(pattern) or pattern[at] in "[]":
        return None
    if pattern[at] != "\\":
        return pattern[at], at + 1
    if at + 1 < len(pattern) and pattern[at + 1] in _LITERAL_ESCAPES:
        return pattern[at : at + 2], at + 2
    return None
