"""Durations and instants as people write them in cfgctl's files.

parse_duration("1h30m")                 # timedelta(hours=1, minutes=30)
parse_instant("2026-12-20T00:00:00Z")   # an aware datetime in UTC
format_duration(timedelta(hours=26))    # "1d 2h"
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from cfgctl.errors import InputError

__all__ = ["format_duration", "parse_duration", "parse_instant", "utc_iso"]

_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`90s`, `30m`, `24h`, `2d`, `1h30m`; raises InputError otherwise."""
    pos, seconds = 0, 0.0
    while pos < len(text):
        match = _PART.match(text, pos)
        if match is None or match.end() == pos:
            break
        seconds += float(match[1]) * _UNITS[match[2]]
        pos = match.end()
    if pos != len(text) or not text.strip():
        raise InputError(
            f"not a duration: {text!r}",
            hint="write a number and a unit (ms, s, m, h, d, w), e.g. 30s, 24h or 1h30m",
        )
    return timedelta(seconds=seconds)


def parse_instant(text: str) -> datetime:
    """An RFC 3339 time with an offset (`2026-12-20T00:00:00Z`), as an aware datetime."""
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InputError(
            f"not a time with a UTC offset: {text!r}",
            hint="write RFC 3339, e.g. 2026-12-20T00:00:00Z or 2026-12-20T01:00:00+01:00",
        )
    return value.astimezone(UTC)


def utc_iso(value: datetime) -> str:
    """`2026-12-20T00:00:00Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_duration(value: timedelta) -> str:
    """A short human form: `45s`, `12m`, `3h 5m`, `1d 2h`."""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes and not days:
        parts.append(f"{minutes}m")
    return " ".join(parts) or "0m"
