"""The `{service}`, `{env}` and `{target}` placeholders of metric queries, filled in safely.

    fill_promql('rate(http_requests_total{service="{service}"}[1m])', {"service": "payments"})
    fill_path("{service}/{env}.csv#p99", {"service": "payments", "env": "prod"})

A value is data, never query text: in PromQL it is escaped for the string it stands in (double
or single quotes; a backtick raw string refuses a value holding a backtick), quoted when it
stands outside any string (`service={service}` gives `service="payments"`), and in a regex
matcher (`=~`, `!~`) its regex metacharacters are escaped too, so `payments|.*` matches only
itself. In a file path a value must be one plain name: no `/`, `\\`, `..`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cfgctl.errors import InputError

__all__ = ["PLACEHOLDERS", "fill_path", "fill_promql", "unknown_placeholders"]

PLACEHOLDERS = ("service", "env", "target")

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# What Go's regexp.QuoteMeta escapes: RE2, Prometheus' regex engine, refuses other escapes.
_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$])")
_REGEX_OPERATOR = re.compile(r"[=!]~\s*$")


def unknown_placeholders(template: str) -> list[str]:
    """The `{name}` tokens of `template` that are none of the placeholders (a typo, mostly:
    such a token is never valid PromQL nor meant in a file name)."""
    return [m[1] for m in _PLACEHOLDER.finditer(template) if m[1] not in PLACEHOLDERS]


def _value(values: Mapping[str, str], name: str, template: str) -> str:
    if name not in values:
        raise InputError(
            f"the query {template[:120]!r} needs {{{name}}}, which is not known here",
            hint=f"give the {name} (or leave {{{name}}} out of the query)",
        )
    return values[name]


def _escape(text: str, quote: str) -> str:
    """`text` inside a PromQL string delimited by `quote` (Go's escapes)."""
    if quote == "`":
        if "`" in text:
            raise InputError(
                f"{text[:80]!r} contains a backtick, which a PromQL raw string cannot hold",
                hint='put the placeholder in double quotes: label="{service}"',
            )
        return text
    out = []
    for ch in text:
        if ch in ("\\", quote):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def fill_promql(template: str, values: Mapping[str, str]) -> str:
    """`template` with each placeholder replaced by its value, escaped for where it stands."""
    out: list[str] = []
    quote: str | None = None  # the delimiter of the string being copied
    regex = False  # that string is the pattern of =~ or !~
    i = 0
    while i < len(template):
        ch = template[i]
        match = _PLACEHOLDER.match(template, i)
        if match is not None and match[1] in PLACEHOLDERS:
            value = _value(values, match[1], template)
            here = regex if quote is not None else bool(_REGEX_OPERATOR.search(template[:i]))
            if here:
                value = _REGEX_META.sub(r"\\\1", value)
            out.append(_escape(value, quote) if quote else '"' + _escape(value, '"') + '"')
            i = match.end()
            continue
        if quote is None and ch == "#":  # a comment, to the end of the line
            end = template.find("\n", i)
            end = len(template) if end < 0 else end
            out.append(template[i:end])
            i = end
            continue
        if quote is None and ch in "\"'`":
            quote, regex = ch, bool(_REGEX_OPERATOR.search(template[:i]))
        elif quote is not None and ch == "\\" and quote != "`":
            out.append(template[i : i + 2])
            i += 2
            continue
        elif ch == quote:
            quote = None
        out.append(ch)
        i += 1
    return "".join(out)


def fill_path(template: str, values: Mapping[str, str]) -> str:
    """`template` (a file name under the metrics folder) with each placeholder replaced by its
    value, which must be one plain name."""

    def replace(match: re.Match[str]) -> str:
        if match[1] not in PLACEHOLDERS:
            return match[0]
        value = _value(values, match[1], template)
        if not value or value in (".", "..") or any(c in value for c in "/\\\0"):
            raise InputError(
                f"{match[1]} {value[:80]!r} cannot be part of a file name",
                hint="name metric files by {service} and {env}; a value with / or \\ "
                "or .. cannot be",
            )
        return value

    return _PLACEHOLDER.sub(replace, template)
