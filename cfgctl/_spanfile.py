"""Span files: one JSON line per finished span, appended to a file per service and day.

    files = SpanFiles(Path("~/.local/state/cfgctl/traces"), "cfgctl-cli")
    files.write([line(...), ...])       # one os.write with O_APPEND: whole lines, never mixed

Every process of a service on a host appends to `<service>-<YYYY-MM-DD>.jsonl` (O_APPEND: the
lines of concurrent processes never interleave); a file that reaches `max_file` bytes is
continued in `<service>-<date>.1.jsonl`, `.2`..., and when a new file is started the oldest files
of the service are removed until the service's files hold at most `max_total` bytes. A folder
that cannot be written is one warning (logger `cfgctl.telemetry`), then the spans are dropped:
no trace is ever required for anything to work.

This module imports nothing of OpenTelemetry: the CLI writes its one span per command through it
without loading the SDK (cfgctl/telemetry.py).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any

__all__ = ["HOST", "RootSpan", "Span", "SpanFiles", "line", "warn_once"]

HOST = os.uname().nodename
MAX_FILE = 8 * 1024 * 1024
MAX_TOTAL = 64 * 1024 * 1024
_SAFE = r"[^A-Za-z0-9._-]+"

log = logging.getLogger("cfgctl.telemetry")
_warned: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """A warning about tracing, once per process and cause: traces never fail anything."""
    if key not in _warned:
        _warned.add(key)
        log.warning("%s", message)


class Span:
    """What `span()` yields: attributes and an error for the span (nothing when tracing is off)."""

    def set(self, key: str, value: str | bool | int | float | list[str]) -> None:
        """Set an attribute (a name, a commit, an outcome: never a configuration value)."""

    def fail(self, why: str) -> None:
        """Mark the span as failed, with why."""

    @property
    def traceparent(self) -> str | None:
        """This span's trace context, to hand to another process."""
        return None


class RootSpan:
    """A CLI command's root span, kept as ids and a start time until something needs more.
    (A plain class: a dataclass costs ~0.6 ms at import, which every command would pay.)"""

    __slots__ = (
        "attributes",
        "error",
        "name",
        "parent_id",
        "span_id",
        "start_ns",
        "status",
        "trace_id",
    )

    def __init__(
        self,
        name: str,
        trace_id: str,
        span_id: str,
        parent_id: str | None,
        start_ns: int,
        attributes: dict[str, Any],
    ) -> None:
        self.name, self.trace_id, self.span_id = name, trace_id, span_id
        self.parent_id, self.start_ns, self.attributes = parent_id, start_ns, attributes
        self.status: str = "unset"
        self.error: str | None = None


def line(
    *,
    trace_id: str,
    span_id: str,
    parent_id: str | None,
    name: str,
    service: str,
    start_ns: int,
    end_ns: int,
    status: str = "unset",
    error: str | None = None,
    attributes: dict[str, Any] | None = None,
    links: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """One span as the files hold it (ids in lower-case hex, times in Unix nanoseconds)."""
    return {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_id": parent_id,
        "name": name,
        "service": service,
        "host": HOST,
        "pid": os.getpid(),
        "start_ns": start_ns,
        "end_ns": end_ns,
        "status": status,
        "error": error,
        "attributes": attributes or {},
        "links": links or [],
    }


class SpanFiles:
    """The span files of one service in one folder (see the module's docstring)."""

    def __init__(
        self, folder: Path, service: str, *, max_file: int = MAX_FILE, max_total: int = MAX_TOTAL
    ) -> None:
        self.folder = folder
        self.service = re.sub(_SAFE, "_", service) or "cfgctl"
        self.max_file = max_file
        self.max_total = max_total

    def write(self, lines: list[dict[str, Any]]) -> bool:
        """Append the lines; False (after one warning per process) when they could not be."""
        if not lines:
            return True
        data = b"".join(
            json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=str).encode()
            + b"\n"
            for entry in lines
        )
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = self._current(len(data))
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        except OSError as exc:
            warn_once(
                f"dir:{self.folder}",
                f"traces: cannot write span files in {self.folder}: {exc.strerror or exc}; "
                "spans are dropped (set CFGCTL_TRACE_DIR, or CFGCTL_TRACE=off)",
            )
            return False
        return True

    def _current(self, size: int) -> Path:
        """Today's newest file, or the next one when that is full (a new one: prune first)."""
        day = time.strftime("%Y-%m-%d", time.gmtime())
        mine = sorted(self._files(day))
        n = mine[-1][1] if mine else 0
        path = self._name(day, n)
        try:
            used = path.stat().st_size
        except FileNotFoundError:
            used = -1
        if used >= 0 and used + size > self.max_file and used > 0:
            path, used = self._name(day, n + 1), -1
        if used < 0:
            self._prune()
        return path

    def _name(self, day: str, n: int) -> Path:
        return self.folder / f"{self.service}-{day}{f'.{n}' if n else ''}.jsonl"

    def _files(self, day: str | None = None) -> list[tuple[str, int, Path]]:
        """(day, number, path) of the service's files (of `day`), oldest first when sorted."""
        found = []
        for path in self.folder.glob(f"{self.service}-*.jsonl"):
            stem = path.name[len(self.service) + 1 : -len(".jsonl")]
            when, _, n = stem.partition(".")
            if len(when) == 10 and (n == "" or n.isdigit()) and day in (None, when):
                found.append((when, int(n or 0), path))
        return found

    def _prune(self) -> None:
        """Remove the service's oldest files while they hold more than `max_total` bytes
        less room for the file about to start."""
        try:
            files = [(p.stat().st_size, p) for _, _, p in sorted(self._files())]
        except OSError:
            return
        total = sum(size for size, _ in files)
        for size, path in files:
            if total <= self.max_total - self.max_file:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= size
