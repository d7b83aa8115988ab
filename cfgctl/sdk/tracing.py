"""The reload callback in a span of the delivery's trace: one trace from the commit to the
running process.

    run_traced(on_change, (old, new, changed), traceparent="00-...-...-01", attributes={...})

`watch` finds the traceparent the agent left beside the file (`.NAME.traceparent`, kept only
when it belongs to the content read: cfgctl.telemetry.read_traceparent_file); other sources
(`watch_etcd`: the etcd document) pass theirs. The span is `sdk.reload`, of the service
`$OTEL_SERVICE_NAME` (default `cfgctl-sdk`); when the application has set an OpenTelemetry
tracer provider of its own, the span goes to it, else to OTLP or the span files as
docs/agent.md ("Traces") says. `CFGCTL_TRACE=off`: no span. Tracing never changes what the
callback does or raises.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cfgctl import telemetry

__all__ = ["run_traced", "traceparent_of_file"]


def _service() -> str:
    return os.environ.get("OTEL_SERVICE_NAME", "").strip() or "cfgctl-sdk"


def traceparent_of_file(path: Path, data: bytes | None) -> tuple[str | None, str | None]:
    """(traceparent, commit) of the delivery that wrote `data` to `path`; (None, None)."""
    found = None if data is None else telemetry.read_traceparent_file(path, data)
    return found if found is not None else (None, None)


def run_traced(
    fn: Callable[..., Any],
    args: Sequence[Any],
    *,
    traceparent: str | None = None,
    commit: str | None = None,
    attributes: Mapping[str, str | int | list[str]] | None = None,
) -> None:
    """Call `fn(*args)` in a span `sdk.reload`, the child of `traceparent` when it is a valid
    one (a malformed one is ignored); an exception of `fn` marks the span and is raised."""
    if not telemetry.setup(_service(), eager=False, reuse_global=True):
        fn(*args)
        return
    attrs: dict[str, Any] = dict(attributes or {})
    if commit is not None:
        attrs["cfgctl.commit"] = commit
    with telemetry.span("sdk.reload", attrs, parent=traceparent):
        fn(*args)
