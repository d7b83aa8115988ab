"""OpenTelemetry's part of cfgctl/telemetry.py: the tracer provider of the process, its
exporter (OTLP/HTTP, or the span files of cfgctl/_spanfile.py), and spans.

Imported only when a span needs it: the SDK costs ~20 ms to import, which a CLI command without
child spans never pays.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, Status, StatusCode, TraceFlags

from cfgctl._spanfile import HOST, RootSpan, Span, SpanFiles, line, warn_once
from cfgctl.errors import CfgctlError

__all__ = ["Tracing"]

EXPORT_TIMEOUT_S = 2.0  # one OTLP request, retries included; OTEL_EXPORTER_OTLP_TIMEOUT wins
FLUSH_TIMEOUT_MS = 3000
QUIET_AFTER_FAILURE_S = 60.0  # after a failed export, spans are dropped for this long


class _Ids(RandomIdGenerator):
    """Random ids, except the ones a CLI root span already handed out before the SDK loaded."""

    def __init__(self) -> None:
        self.trace_id: int | None = None
        self.span_id: int | None = None

    def generate_trace_id(self) -> int:
        forced, self.trace_id = self.trace_id, None
        return forced if forced is not None else super().generate_trace_id()

    def generate_span_id(self) -> int:
        forced, self.span_id = self.span_id, None
        return forced if forced is not None else super().generate_span_id()


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _line_of(span: ReadableSpan) -> dict[str, Any]:
    ctx = span.context
    assert ctx is not None
    status = {StatusCode.OK: "ok", StatusCode.ERROR: "error"}.get(span.status.status_code, "unset")
    attributes = {
        k: list(v) if isinstance(v, tuple) else v for k, v in (span.attributes or {}).items()
    }
    return line(
        trace_id=_hex(ctx.trace_id, 32),
        span_id=_hex(ctx.span_id, 16),
        parent_id=None if span.parent is None else _hex(span.parent.span_id, 16),
        name=span.name,
        service=str(span.resource.attributes.get("service.name", "")),
        start_ns=span.start_time or 0,
        end_ns=span.end_time or 0,
        status=status,
        error=span.status.description,
        attributes=attributes,
        links=[
            {"trace_id": _hex(link.context.trace_id, 32), "span_id": _hex(link.context.span_id, 16)}
            for link in span.links
        ],
    )


class _JsonLines(SpanExporter):
    """Finished spans appended to the span files (whichever folder the process uses now)."""

    def __init__(self, files: Callable[[], SpanFiles | None]) -> None:
        self.files = files

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        files = self.files()
        if files is not None:
            files.write([_line_of(s) for s in spans])
        return SpanExportResult.SUCCESS  # a failure was one warning; never retried


class _Otlp(SpanExporter):
    """The OTLP/HTTP exporter, with one warning (not a log line per batch) when it fails."""

    def __init__(self, endpoint: str) -> None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        timed = any(
            os.environ.get(v)
            for v in ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT")
        )
        self.endpoint = endpoint
        self.quiet_until = 0.0
        self.inner = OTLPSpanExporter(timeout=None if timed else EXPORT_TIMEOUT_S)
        # The exporter logs every retry; cfgctl says it once.
        logging.getLogger("opentelemetry.exporter.otlp.proto.http").setLevel(logging.CRITICAL)
        logging.getLogger("opentelemetry.sdk.trace.export").setLevel(logging.CRITICAL)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if time.monotonic() < self.quiet_until:
            return SpanExportResult.SUCCESS  # failed a moment ago: dropped, not waited for
        try:
            result = self.inner.export(spans)
        except Exception:  # noqa: BLE001  an exporter bug must not reach the work
            result = SpanExportResult.FAILURE
        if result is not SpanExportResult.SUCCESS:
            self.quiet_until = time.monotonic() + QUIET_AFTER_FAILURE_S
            warn_once(
                f"otlp:{self.endpoint}",
                f"traces: cannot export spans to {self.endpoint}: they are dropped",
            )
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        self.inner.shutdown()  # type: ignore[no-untyped-call]


class _Handle(Span):
    """telemetry.Span over an OpenTelemetry span."""

    def __init__(self, span: trace.Span) -> None:
        self.span = span

    def set(self, key: str, value: str | bool | int | float | list[str]) -> None:
        self.span.set_attribute(key, value)

    def fail(self, why: str) -> None:
        self.span.set_status(Status(StatusCode.ERROR, why[:300]))

    @property
    def traceparent(self) -> str | None:
        return _traceparent(self.span.get_span_context())

    def add_commit(self, sha: str) -> None:
        attributes = getattr(self.span, "attributes", None) or {}
        made = [*attributes.get("cfgctl.commits", ()), sha]
        self.span.set_attributes({"cfgctl.commit": sha, "cfgctl.commits": made})


def _traceparent(ctx: SpanContext) -> str | None:
    if not ctx.is_valid:
        return None
    return f"00-{_hex(ctx.trace_id, 32)}-{_hex(ctx.span_id, 16)}-01"


def _remote(trace_id: str, span_id: str) -> otel_context.Context:
    ctx = SpanContext(int(trace_id, 16), int(span_id, 16), True, TraceFlags(TraceFlags.SAMPLED))
    return trace.set_span_in_context(NonRecordingSpan(ctx))


class Tracing:
    """The process's tracer provider (or the application's, with `reuse_global`)."""

    def __init__(
        self,
        service: str,
        files: Callable[[], SpanFiles | None],
        endpoint: str | None,
        *,
        reuse_global: bool = False,
    ) -> None:
        self.ids = _Ids()
        self.roots: dict[str, trace.Span] = {}
        self.lock = threading.Lock()
        found = trace.get_tracer_provider() if reuse_global else None
        if isinstance(found, TracerProvider):  # the application traces: join its pipeline
            self.provider = found
            self.own = False
        else:
            attrs: dict[str, str | int] = {
                "service.name": service,
                "host.name": HOST,
                "process.pid": os.getpid(),
            }
            self.provider = TracerProvider(
                resource=Resource.create(attrs),
                id_generator=self.ids,
                sampler=ALWAYS_ON,
                shutdown_on_exit=False,
            )
            processor = (
                BatchSpanProcessor(_Otlp(endpoint), export_timeout_millis=FLUSH_TIMEOUT_MS)
                if endpoint is not None
                else SimpleSpanProcessor(_JsonLines(files))
            )
            self.provider.add_span_processor(processor)
            self.own = True
            atexit.register(self.shutdown)
        self.tracer = self.provider.get_tracer("cfgctl")

    def current_span(self) -> _Handle | None:
        found = trace.get_current_span()
        return _Handle(found) if found.get_span_context().is_valid else None

    def current(self) -> str | None:
        return _traceparent(trace.get_current_span().get_span_context())

    def _root_span(self, root: RootSpan) -> trace.Span:
        """The OpenTelemetry span of a CLI root span, made with the ids it handed out."""
        with self.lock:
            made = self.roots.get(root.span_id)
            if made is None:
                parent = None if root.parent_id is None else _remote(root.trace_id, root.parent_id)
                self.ids.trace_id = int(root.trace_id, 16)
                self.ids.span_id = int(root.span_id, 16)
                made = self.tracer.start_span(
                    root.name,
                    context=parent or otel_context.Context(),
                    attributes=root.attributes,
                    start_time=root.start_ns,
                )
                self.ids.trace_id = self.ids.span_id = None
                self.roots[root.span_id] = made
            return made

    @contextmanager
    def span(
        self,
        name: str,
        attributes: dict[str, Any],
        parent: tuple[str, str] | None,
        root: RootSpan | None,
    ) -> Iterator[_Handle]:
        links: list[Link] = []
        ctx: otel_context.Context | None = None
        current = trace.get_current_span().get_span_context()
        if parent is not None:
            ctx = _remote(*parent)
            if current.is_valid:
                links.append(Link(current))
        elif not current.is_valid and root is not None:
            ctx = trace.set_span_in_context(self._root_span(root))
        with self.tracer.start_as_current_span(
            name,
            context=ctx,
            attributes=attributes,
            links=links,
            record_exception=False,
            set_status_on_exception=False,
        ) as made:
            handle = _Handle(made)
            try:
                yield handle
            except BaseException as exc:
                why = exc.message if isinstance(exc, CfgctlError) else type(exc).__name__
                handle.fail(why)
                raise

    def end_root(self, root: RootSpan) -> None:
        made = self._root_span(root)
        made.set_attributes(root.attributes)
        if root.status == "error":
            made.set_status(Status(StatusCode.ERROR, root.error))
        made.end()
        with self.lock:
            self.roots.pop(root.span_id, None)

    def flush(self) -> None:
        if self.own:
            self.provider.force_flush(FLUSH_TIMEOUT_MS)

    def shutdown(self) -> None:
        if self.own:
            with contextlib.suppress(Exception):  # at exit: nothing left to tell
                self.provider.shutdown()
