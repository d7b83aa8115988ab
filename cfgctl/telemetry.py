"""Traces: one OpenTelemetry trace follows a change from the editor to the running process.

    telemetry.setup("cfgctl-agent", trace_dir=state_dir / "traces")    # once per process
    with telemetry.span("agent.apply", {"cfgctl.commit": sha}, parent=traceparent) as s:
        s.set("cfgctl.outcome", "applied")
    telemetry.current_traceparent()            # "00-<trace>-<span>-01", or None
    telemetry.with_trailer(message)            # the commit message with a Traceparent: trailer
    Traceparent.parse(text)                    # None for anything malformed, never an error

Spans go to OTLP/HTTP when `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`
is set, otherwise to JSON-lines span files (cfgctl/_spanfile.py) under the trace folder: the
agent's `<state_dir>/traces/`, else `$CFGCTL_TRACE_DIR`, `$XDG_STATE_HOME/cfgctl/traces`,
`~/.local/state/cfgctl/traces`. `CFGCTL_TRACE=off` turns all of it off (no spans, no trailers,
no traceparent files). No trace is ever required: a folder that cannot be written or an
endpoint that does not answer is one warning, and exports are bounded in time.

OpenTelemetry is imported only when a span needs it (cfgctl/_otel.py). A CLI command's root span
(`begin_command`/`end_command`) is only ids and a start time until something needs more: a
command without child spans and without OTLP writes its one line itself, so the CLI's start-up
does not pay for the SDK. Attributes name things (commits, services, paths, outcomes), never a
configuration value.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfgctl._spanfile import RootSpan, Span, SpanFiles, line, warn_once

if TYPE_CHECKING:
    from cfgctl._otel import Tracing

__all__ = [
    "Span",
    "Traceparent",
    "begin_command",
    "current_traceparent",
    "default_trace_dir",
    "enabled",
    "end_command",
    "note_commit",
    "otlp_endpoint",
    "read_traceparent_file",
    "remove_traceparent_temps",
    "setup",
    "span",
    "traceparent_file",
    "trailer_traceparent",
    "with_trailer",
    "write_traceparent_file",
]

Attributes = Mapping[str, str | bool | int | float | list[str]]

# Patterns, compiled by `re` on first use (its cache): a command that never parses one pays nothing.
_TRACEPARENT = r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$"
_TRAILER = r"^[A-Za-z][A-Za-z0-9-]*:\s*.*$"


class Traceparent:
    """A W3C trace context `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`."""

    __slots__ = ("flags", "span_id", "trace_id")

    def __init__(self, trace_id: str, span_id: str, flags: str = "01") -> None:
        self.trace_id, self.span_id, self.flags = trace_id, span_id, flags

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Traceparent) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def __repr__(self) -> str:
        return f"Traceparent({str(self)!r})"

    @classmethod
    def parse(cls, text: object) -> Traceparent | None:
        """The trace context in `text`; None when it is not one (quietly: a broken trailer or
        file must never break a delivery)."""
        if not isinstance(text, str) or len(text) > 128:
            return None
        match = re.match(_TRACEPARENT, text.strip().lower())
        if match is None:
            return None
        version, trace_id, span_id, flags = match.groups()
        if version == "ff" or set(trace_id) == {"0"} or set(span_id) == {"0"}:
            return None
        return cls(trace_id, span_id, flags)

    def __str__(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"


_NO_SPAN = Span()


class _State:
    """What this process's tracing holds (one, `_S`)."""

    def __init__(self) -> None:
        self.service: str | None = None
        self.folder: Path | None = None
        self.files: SpanFiles | None = None
        self.otel: Tracing | None = None
        self.broken = False  # OpenTelemetry could not be set up: one warning, no spans after
        self.root: RootSpan | None = None
        self.reuse_global = False


_S = _State()


def _off() -> bool:
    return os.environ.get("CFGCTL_TRACE", "").strip().lower() in ("off", "0", "false", "no")


def enabled() -> bool:
    """True when spans are recorded in this process (`setup` ran; CFGCTL_TRACE is not off)."""
    return _S.service is not None and not _S.broken and not _off()


def otlp_endpoint() -> str | None:
    """The OTLP endpoint of the environment, when one is set."""
    for name in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def default_trace_dir() -> Path:
    """Where the CLI, `cfgctl serve` and the SDK write span files: $CFGCTL_TRACE_DIR, else
    $XDG_STATE_HOME/cfgctl/traces, else ~/.local/state/cfgctl/traces."""
    explicit = os.environ.get("CFGCTL_TRACE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    state = os.environ.get("XDG_STATE_HOME", "").strip()
    base = Path(state) if state else Path.home() / ".local" / "state"
    return base / "cfgctl" / "traces"


def setup(
    service: str,
    *,
    trace_dir: Path | None = None,
    eager: bool = True,
    reuse_global: bool = False,
) -> bool:
    """Set tracing up for this process as `service` (the first call names it; a later one may
    move the span folder). `eager`: load OpenTelemetry now (daemons), else when first needed.
    `reuse_global`: record into the application's own tracer provider when it has set one
    (the SDK). False when tracing is off."""
    if _off():
        return False
    if _S.service is None:
        _S.service = service
        _S.reuse_global = reuse_global
    folder = trace_dir if trace_dir is not None else default_trace_dir()
    if folder != _S.folder:
        _S.folder = folder
        _S.files = SpanFiles(folder, _S.service)
    if eager:
        _tracing()
    return not _S.broken


def _tracing() -> Tracing | None:
    """OpenTelemetry's part, built on first use; None when it cannot be (one warning)."""
    if _S.otel is None and not _S.broken and _S.service is not None:
        try:
            from cfgctl._otel import Tracing

            _S.otel = Tracing(
                _S.service, lambda: _S.files, otlp_endpoint(), reuse_global=_S.reuse_global
            )
        except Exception as exc:  # noqa: BLE001  tracing never breaks the work it watches
            _S.broken = True
            warn_once("setup", f"traces: OpenTelemetry could not be set up: {exc}; no spans")
            return None
    return _S.otel


@contextmanager
def span(
    name: str, attributes: Attributes | None = None, *, parent: str | Traceparent | None = None
) -> Iterator[Span]:
    """A span around the block, the child of the current span, or of `parent` (a traceparent,
    as read from a commit trailer or a file; a malformed one is ignored) and then linked to the
    current span. An exception leaving the block marks the span failed and goes on."""
    tracing = _tracing() if enabled() else None
    if tracing is None:
        yield _NO_SPAN
        return
    context = parent if isinstance(parent, Traceparent) else Traceparent.parse(parent)
    ids = None if context is None else (context.trace_id, context.span_id)
    manager = tracing.span(name, dict(attributes or {}), ids, _S.root)
    try:
        handle: Span = manager.__enter__()
    except Exception as exc:  # noqa: BLE001  a tracing bug must not stop the work it watches
        warn_once("span", f"traces: a span could not be started: {exc}; no spans")
        _S.broken = True
        yield _NO_SPAN
        return
    try:
        yield handle
    except BaseException as exc:
        if not manager.__exit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        _quietly_exit(manager)


def _quietly_exit(manager: AbstractContextManager[Span]) -> None:
    try:
        manager.__exit__(None, None, None)
    except Exception as exc:  # noqa: BLE001  the work is done: a failed export is no failure
        warn_once("span-end", f"traces: a span could not be ended: {exc}")


def current_traceparent() -> str | None:
    """The trace context of the current span (or of the CLI command's root span), or None."""
    if not enabled():
        return None
    if _S.otel is not None:
        found = _S.otel.current()
        if found is not None:
            return found
    root = _S.root
    return None if root is None else f"00-{root.trace_id}-{root.span_id}-01"


def note_commit(sha: str) -> None:
    """Record on the current span (or the CLI command's root span) that it made commit `sha`:
    `cfgctl.commit` (the latest) and `cfgctl.commits` (all), which `cfgctl trace` looks for."""
    if not enabled():
        return
    handle = _S.otel.current_span() if _S.otel is not None else None
    if handle is not None:
        handle.add_commit(sha)
    elif _S.root is not None:
        made = [*_S.root.attributes.get("cfgctl.commits", []), sha]
        _S.root.attributes.update({"cfgctl.commit": sha, "cfgctl.commits": made})


def trailer_traceparent(message: str) -> str | None:
    """The `Traceparent:` trailer of a commit message (its last paragraph), when valid."""
    paragraphs = re.split(r"\n\s*\n", message.strip())
    if len(paragraphs) < 2:
        return None
    for row in paragraphs[-1].splitlines():
        key, _, value = row.partition(":")
        if key.strip().lower() == "traceparent":
            found = Traceparent.parse(value.strip())
            return None if found is None else str(found)
    return None


def with_trailer(message: str, traceparent: str | None = None) -> str:
    """`message` with a `Traceparent:` trailer of the current span (or `traceparent`) in its
    trailer block (the last paragraph, when every line of it is `Key: value`; else a new one);
    an earlier Traceparent trailer is replaced. Unchanged when there is no trace context."""
    found = Traceparent.parse(traceparent if traceparent is not None else current_traceparent())
    if found is None:
        return message
    trailer = f"Traceparent: {found}"
    body = message.rstrip()
    paragraphs = re.split(r"\n\s*\n", body)
    last = paragraphs[-1].splitlines() if len(paragraphs) > 1 else []
    if last and all(re.match(_TRAILER, row) for row in last):
        kept = [row for row in last if not row.lower().startswith("traceparent:")]
        head = body[: len(body) - len(paragraphs[-1])]
        return head + "\n".join([*kept, trailer]) + "\n"
    return f"{body}\n\n{trailer}\n"


# --- the CLI: one root span per command ------------------------------------------------------


def begin_command(name: str, attributes: Attributes | None = None) -> None:
    """Open the root span of a CLI command (`cfgctl <command>`); `TRACEPARENT` in the
    environment (as CI systems set it) makes it a child of that trace."""
    if not setup("cfgctl-cli", eager=False):
        return
    if _S.service == "cfgctl-cli":
        setup("cfgctl-cli", trace_dir=default_trace_dir(), eager=False)  # HOME may have moved
    parent = Traceparent.parse(os.environ.get("TRACEPARENT"))
    _S.root = RootSpan(
        name,
        parent.trace_id if parent is not None else os.urandom(16).hex(),
        os.urandom(8).hex(),
        parent.span_id if parent is not None else None,
        time.time_ns(),
        dict(attributes or {}),
    )


def end_command(exit_code: int, error: str | None = None) -> None:
    """Close the command's root span and flush what this process recorded (bounded in time)."""
    root, _S.root = _S.root, None
    if root is None or not enabled():
        return
    root.attributes["cfgctl.exit_code"] = exit_code
    if exit_code != 0:
        root.status, root.error = "error", error or f"exit {exit_code}"
    tracing = _S.otel
    if tracing is None and otlp_endpoint() is not None:
        tracing = _tracing()
    if tracing is not None:
        tracing.end_root(root)
        tracing.flush()
        return
    if _S.files is not None and _S.service is not None:
        _S.files.write([_root_line(root, _S.service)])


def _root_line(root: RootSpan, service: str) -> dict[str, Any]:
    return line(
        trace_id=root.trace_id,
        span_id=root.span_id,
        parent_id=root.parent_id,
        name=root.name,
        service=service,
        start_ns=root.start_ns,
        end_ns=time.time_ns(),
        status=root.status,
        error=root.error,
        attributes=root.attributes,
    )


# --- handing a delivery's trace to the process that reads the file ---------------------------


def traceparent_file(path: Path) -> Path:
    """Where the agent leaves the trace context of the delivery of `path`: `.NAME.traceparent`
    beside it (JSON: traceparent, commit, and the digest of the content it belongs to)."""
    return path.parent / f".{path.name}.traceparent"


def write_traceparent_file(
    path: Path, traceparent: str | None, *, commit: str | None, data: bytes, mode: int = 0o644
) -> None:
    """Leave `traceparent` for the reader of `path`, whose content will be `data` (written
    atomically, before the content is swapped in). A failure is one warning, never an error."""
    if not enabled() or Traceparent.parse(traceparent) is None:
        return
    import hashlib
    import json

    doc = {
        "traceparent": traceparent,
        "commit": commit,
        "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
    }
    side = traceparent_file(path)
    temp = side.with_name(f"{side.name}.{os.getpid()}.tmp")
    try:
        side.parent.mkdir(parents=True, exist_ok=True)  # as the delivery would, right after
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode & 0o666)
        try:
            os.write(fd, json.dumps(doc).encode() + b"\n")
            os.fchmod(fd, mode & 0o666)
        finally:
            os.close(fd)
        temp.replace(side)
    except OSError as exc:
        warn_once(f"side:{side.parent}", f"traces: cannot write {side}: {exc.strerror or exc}")
        with contextlib.suppress(OSError):
            temp.unlink()


def remove_traceparent_temps(path: Path) -> list[Path]:
    """Remove what a write of `path`'s traceparent file cut off (kill -9) left beside it."""
    side = traceparent_file(path)
    removed = []
    for stale in side.parent.glob(f"{side.name}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
            removed.append(stale)
    return removed


def read_traceparent_file(path: Path, data: bytes) -> tuple[str, str | None] | None:
    """(traceparent, commit) the agent left for `path`, when it belongs to exactly `data` (a
    file edited by hand since has none); None when there is none or it is malformed."""
    import hashlib
    import json

    try:
        with traceparent_file(path).open("rb") as fh:
            doc = json.loads(fh.read(4096))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("digest") != (
        "sha256:" + hashlib.sha256(data).hexdigest()
    ):
        return None
    found = Traceparent.parse(doc.get("traceparent"))
    commit = doc.get("commit")
    if found is None:
        return None
    return str(found), commit if isinstance(commit, str) and len(commit) <= 64 else None
