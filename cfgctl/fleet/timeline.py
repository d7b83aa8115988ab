"""The timeline of a commit, read from span files: `cfgctl trace COMMIT`.

    found = timeline([Path("/var/lib/cfgctl-agent/traces"), Path("hosts/")], "1a2b3c4d")
    print(render_text(found))       # or to_dict(found) for --format json

Span files are the JSON lines cfgctl/_spanfile.py writes (`*.jsonl`, searched recursively, so a
folder holding several hosts' trace folders works). The traces of a commit are those holding a
span whose `cfgctl.commit` (or `cfgctl.commits`) starts with the given prefix; every span of
those traces is shown, whichever file it is in: the commit (`cfgctl set`, a change request),
its publish (`fleet.publish`), each target's apply, write, reload, health and rollback, and the
service's `sdk.reload`, grouped by host and service, each with its start offset from the
trace's first span and its duration. An unreadable file or a malformed line is skipped with a
warning, never an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.errors import CheckFailed, InputError

__all__ = ["Group", "Row", "SpanRecord", "Timeline", "TraceView", "render_text", "timeline"]

_HEX = re.compile(r"^[0-9a-f]+$")
_COMMIT = re.compile(r"^[0-9a-f]{4,64}$")
MAX_LINE = 1 << 20


@dataclass(frozen=True)
class SpanRecord:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    service: str
    host: str
    start_ns: int
    end_ns: int
    status: str
    error: str | None
    attributes: dict[str, Any]

    def commits(self) -> list[str]:
        found = [self.attributes.get("cfgctl.commit")]
        more = self.attributes.get("cfgctl.commits")
        if isinstance(more, list):
            found += more
        return [c for c in found if isinstance(c, str)]


@dataclass
class Row:
    span: SpanRecord
    depth: int
    offset_s: float
    duration_s: float


@dataclass
class Group:
    host: str
    service: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class TraceView:
    trace_id: str
    start_ns: int
    duration_s: float
    groups: list[Group]


@dataclass
class Timeline:
    commit: str  # the full commit id when the spans name one, else the prefix given
    traces: list[TraceView]
    files: int
    warnings: list[str]


def _record(raw: Any) -> SpanRecord | None:
    """A span of a file's line; None when the line is no span."""
    if not isinstance(raw, dict):
        return None
    ids = (raw.get("trace_id"), raw.get("span_id"))
    parent = raw.get("parent_id")
    times = (raw.get("start_ns"), raw.get("end_ns"))
    if not all(isinstance(i, str) and _HEX.match(i) for i in ids) or not all(
        isinstance(t, int) and not isinstance(t, bool) for t in times
    ):
        return None
    if parent is not None and not (isinstance(parent, str) and _HEX.match(parent)):
        return None
    attributes = raw.get("attributes")
    return SpanRecord(
        str(ids[0]),
        str(ids[1]),
        parent,
        str(raw.get("name", "?")),
        str(raw.get("service", "?")),
        str(raw.get("host", "?")),
        int(times[0]),  # type: ignore[arg-type]
        int(times[1]),  # type: ignore[arg-type]
        str(raw.get("status", "unset")),
        raw.get("error") if isinstance(raw.get("error"), str) else None,
        attributes if isinstance(attributes, dict) else {},
    )


def span_files(places: Iterable[Path], *, required: bool = True) -> list[Path]:
    """The span files in `places` (files, or folders searched recursively); InputError for a
    place that does not exist (skipped when not `required`: a default folder)."""
    found: list[Path] = []
    for place in places:
        if place.is_file():
            found.append(place)
        elif place.is_dir():
            found += sorted(p for p in place.rglob("*.jsonl") if p.is_file())
        elif required:
            raise InputError(
                f"{place}: neither a folder nor a span file"
                if place.exists()
                else f"{place}: no such file or folder",
                hint="give a trace folder (an agent's STATE_DIR/traces, or a folder of hosts')",
            )
    return list(dict.fromkeys(found))


def read_spans(files: list[Path], warnings: list[str]) -> list[SpanRecord]:
    spans: list[SpanRecord] = []
    for path in files:
        bad = 0
        try:
            with path.open("rb") as fh:
                for raw in fh:
                    try:
                        record = _record(json.loads(raw)) if len(raw) <= MAX_LINE else None
                    except (ValueError, RecursionError):
                        record = None
                    if record is None:
                        bad += raw.strip() != b""
                    else:
                        spans.append(record)
        except OSError as exc:
            warnings.append(f"{path}: skipped, cannot be read: {exc.strerror or exc}")
            continue
        if bad:
            warnings.append(f"{path}: {bad} malformed line{'s' if bad > 1 else ''} skipped")
    return spans


def _commit_of(spans: list[SpanRecord], prefix: str) -> tuple[str, set[str]]:
    """The full commit id the prefix names, and the traces holding a span of it."""
    full: set[str] = set()
    traces: set[str] = set()
    for span in spans:
        named = [c for c in span.commits() if c.lower().startswith(prefix)]
        if named:
            full.update(c.lower() for c in named)
            traces.add(span.trace_id)
    if len(full) > 1:
        shown = ", ".join(sorted(c[:12] for c in full))
        raise InputError(
            f"{prefix} names several commits: {shown}", hint="give more digits of the commit"
        )
    return (full.pop() if full else prefix), traces


def _view(trace_id: str, spans: list[SpanRecord]) -> TraceView:
    t0 = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    by_id = {s.span_id: s for s in spans}
    groups: dict[tuple[str, str], Group] = {}
    for span in sorted(spans, key=lambda s: (s.start_ns, s.end_ns)):
        key = (span.host, span.service)
        group = groups.setdefault(key, Group(*key))
        depth, parent, seen = 0, span.parent_id, {span.span_id}
        while parent in by_id and parent not in seen:
            seen.add(parent)
            above = by_id[parent]
            if (above.host, above.service) != key:
                break
            depth, parent = depth + 1, above.parent_id
        offset = (span.start_ns - t0) / 1e9
        group.rows.append(Row(span, depth, offset, max(0, span.end_ns - span.start_ns) / 1e9))
    return TraceView(trace_id, t0, (end - t0) / 1e9, list(groups.values()))


def timeline(places: list[Path], commit: str, *, required: bool = True) -> Timeline:
    """The traces of `commit` (a prefix of 4 hex digits or more) in the span files of
    `places`; CheckFailed (exit 1) when no span names it, InputError (exit 2) for a bad
    prefix or (when `required`) a place that does not exist."""
    prefix = commit.strip().lower()
    if not _COMMIT.match(prefix):
        raise InputError(
            f"{commit!r} is not a commit id", hint="give 4 or more hex digits of the commit"
        )
    files = span_files(places, required=required)
    warnings: list[str] = []
    spans = read_spans(files, warnings)
    full, trace_ids = _commit_of(spans, prefix)
    if not trace_ids:
        where = ", ".join(str(p) for p in places)
        raise CheckFailed(
            f"no span of commit {prefix} in {len(files)} span files under {where}",
            hint="give the trace folders of the hosts (--dir, repeatable); spans are written "
            "only where tracing is on (CFGCTL_TRACE, docs/agent.md: Traces)",
        )
    by_trace: dict[str, dict[str, SpanRecord]] = {}
    for span in spans:
        if span.trace_id in trace_ids:
            by_trace.setdefault(span.trace_id, {})[span.span_id] = span
    views = [_view(t, list(found.values())) for t, found in by_trace.items()]
    views.sort(key=lambda v: v.start_ns)
    return Timeline(full, views, len(files), warnings)


def _label(span: SpanRecord) -> str:
    attrs = span.attributes
    parts = [span.name]
    where = attrs.get("cfgctl.target", attrs.get("cfgctl.path"))  # a target names its path
    parts += [str(v) for v in (where, attrs.get("cfgctl.outcome")) if v is not None]
    if span.status == "error":
        parts.append(f"FAILED: {span.error or 'error'}")
    return "  ".join(parts)


def render_text(found: Timeline) -> str:
    lines: list[str] = []
    for view in found.traces:
        spans = sum(len(g.rows) for g in view.groups)
        lines.append(
            f"commit {found.commit[:12]}  trace {view.trace_id}  "
            f"({spans} spans, {view.duration_s:.3f} s)"
        )
        for group in view.groups:
            lines.append(f"  {group.host} / {group.service}")
            for row in group.rows:
                indent = "  " * row.depth
                lines.append(
                    f"    +{row.offset_s:8.3f}s {row.duration_s:8.3f}s  {indent}{_label(row.span)}"
                )
    return "\n".join(lines)


def to_dict(found: Timeline) -> dict[str, Any]:
    return {
        "commit": found.commit,
        "files": found.files,
        "warnings": found.warnings,
        "traces": [
            {
                "trace_id": view.trace_id,
                "start_ns": view.start_ns,
                "duration_s": round(view.duration_s, 6),
                "groups": [
                    {
                        "host": group.host,
                        "service": group.service,
                        "spans": [
                            {
                                "name": row.span.name,
                                "span_id": row.span.span_id,
                                "parent_id": row.span.parent_id,
                                "offset_s": round(row.offset_s, 6),
                                "duration_s": round(row.duration_s, 6),
                                "status": row.span.status,
                                "error": row.span.error,
                                "attributes": row.span.attributes,
                            }
                            for row in group.rows
                        ],
                    }
                    for group in view.groups
                ],
            }
            for view in found.traces
        ],
    }
