"""When a change may go out: maintenance windows, and the commit trailers that move it.

    window = parse_window("Sat 02:00-06:00 UTC")
    window.is_open(now), next_opening([window], now)
    trailers = commit_trailers(message)       # {"deploy-after": "...", "emergency": "true"}

A window `DAY HH:MM-HH:MM UTC` opens on DAY (Mon..Sun, a range Mon-Fri, or * for every day) at
the first time and closes at the second; a window whose end is not after its start runs past
midnight into the next day (`Fri 22:00-02:00 UTC`).

Windows are inherited along `inherits:` of cfgctl.yaml: prod's windows hold prod-eu, unless
prod-eu has an entry of its own (`prod-eu: []`: always open).

    inherited_windows(config.windows, manifest, "prod-eu")
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cfgctl.errors import InputError, Location
from cfgctl.repo.manifest import Manifest, suggest

__all__ = [
    "Window",
    "commit_trailers",
    "inherited_windows",
    "next_opening",
    "parse_window",
    "unknown_window_environment",
]

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WINDOW = re.compile(
    r"^\s*(?P<day>\*|[A-Z][a-z]{2})(?:-(?P<last>[A-Z][a-z]{2}))?\s+"
    r"(?P<h1>\d{2}):(?P<m1>\d{2})-(?P<h2>\d{2}):(?P<m2>\d{2})\s+UTC\s*$"
)
_TRAILER = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9-]*):\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class Window:
    text: str
    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after midnight
    end: int

    def _spans(self, now: datetime) -> list[tuple[datetime, datetime]]:
        """The openings starting from the day before `now`'s to a week after it."""
        midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        out = []
        for offset in range(-1, 8):
            day = midnight + timedelta(days=offset)
            if day.weekday() in self.days:
                begin = day + timedelta(minutes=self.start)
                length = (self.end - self.start) % 1440 or 1440
                out.append((begin, begin + timedelta(minutes=length)))
        return out

    def is_open(self, now: datetime) -> bool:
        return any(begin <= now < end for begin, end in self._spans(now))

    def next_open(self, now: datetime) -> datetime:
        return min(begin for begin, _ in self._spans(now) if begin > now)


def parse_window(text: str, location: Location | None = None) -> Window:
    match = _WINDOW.match(text)
    bad = match is None
    if match is not None:
        first, last = match["day"], match["last"] or match["day"]
        hours = (int(match["h1"]), int(match["m1"]), int(match["h2"]), int(match["m2"]))
        bad = (
            (first != "*" and first not in DAYS)
            or (last != "*" and last not in DAYS)
            or (first == "*") != (last == "*")
            or hours[0] > 23
            or hours[2] > 24
            or hours[1] > 59
            or hours[3] > 59
        )
    if bad or match is None:
        raise InputError(
            f"not a maintenance window: {text!r}",
            location=location,
            hint="write DAY HH:MM-HH:MM UTC, e.g. 'Sat 02:00-06:00 UTC', 'Mon-Fri 22:00-23:30 UTC' "
            "or '* 03:00-04:00 UTC'",
        )
    if first == "*":
        days = frozenset(range(7))
    else:
        a, b = DAYS.index(first), DAYS.index(last)
        days = frozenset((a + i) % 7 for i in range((b - a) % 7 + 1))
    return Window(text.strip(), days, hours[0] * 60 + hours[1], hours[2] * 60 + hours[3])


def next_opening(windows: list[Window], now: datetime) -> datetime | None:
    """None when a window is open now (or there are none); else when the next one opens."""
    if not windows or any(w.is_open(now) for w in windows):
        return None
    return min(w.next_open(now) for w in windows)


def commit_trailers(message: str) -> dict[str, str]:
    """The `Key: value` trailers of a commit message's last paragraph, keys lower-cased."""
    paragraphs = [p for p in re.split(r"\n\s*\n", message.strip()) if p.strip()]
    if len(paragraphs) < 2:
        return {}
    out: dict[str, str] = {}
    for line in paragraphs[-1].splitlines():
        match = _TRAILER.match(line)
        if match is None:
            return {}  # not a trailer block
        out[match["key"].lower()] = match["value"]
    return out


def inherited_windows(
    windows: Mapping[str, list[Window]], manifest: Manifest, env: str
) -> list[Window]:
    """The windows of `env`: its own entry, else that of the nearest environment it inherits
    from (along `inherits:` of `manifest`) that has one; none when no ancestor has an entry."""
    for name in reversed(manifest.chain(env)):
        if name in windows:
            return windows[name]
    return []


def unknown_window_environment(
    windows: Mapping[str, list[Window]], manifest: Manifest
) -> tuple[str, str] | None:
    """The first environment of `windows` that `manifest` does not know, and the hint that
    names the closest one ("did you mean"); None when every one is known."""
    known = list(manifest.environments)
    for env in sorted(windows):
        if env not in manifest.environments:
            return env, suggest(env, known, "environment")
    return None
