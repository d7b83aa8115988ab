"""`GET /api/v1/analytics/{service}/{env}`: the metrics of a service in an environment, the
deliveries to it marked, their change points, and each delivery's impact judged (the
dashboard's Analytics page; `cfgctl.analyze.pairview` computes it).

    curl -s "$API/analytics/payments/prod?from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z"
    {"configured": true, "reason": null, "service": "payments", "env": "prod", "source": "files",
     "metrics": [{"name": "latency_p99", "series": [{"times": [...], "values": [...],
                  "changepoints": [{"index": 212, "time": ..., "p_value": 1e-30, ...}]}]}],
     "deliveries": [...], "impacts": [{"commit": "...", "targets": [{"verdict": "pass", ...}]}]}

analytics.yaml is read at the served branch's head; without one the answer is 200 with
`configured: false` and the reason (nothing to show is not an error). The deliveries come from
the sync agent's audit log the server was started with (`--agent-audit PATH`); without it, or
when it cannot be read, there are none and `notes` says why. Metrics are read from the source
analytics.yaml names (files under the repository's folder, or Prometheus), off the repository's
thread: a source that cannot be reached is a 503, a query or file that fails spoils only its
own metric. Access: `read` on `config:SERVICE@ENV`. Never a configuration value: metrics,
commits, targets, verdicts.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from cfgctl.errors import EnvError, InputError
from cfgctl.server.etag import encode
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.security import Subject, authorize, current_subject

if TYPE_CHECKING:
    from cfgctl.analyze.config import AnalyticsConfig
    from cfgctl.analyze.deliveries import Delivery
    from cfgctl.server.repository import ServedRepo

__all__ = ["AnalyticsDocument", "router"]

router = APIRouter()
SubjectDep = Annotated[Subject, Depends(current_subject)]
DEFAULT_SPAN = 7 * 86400.0  # from, when not given: a week before `to`
MAX_SPAN = 400 * 86400.0
FromQuery = Annotated[
    str | None,
    Query(
        alias="from", max_length=64, description="RFC 3339 or Unix seconds (default: 7d before to)."
    ),
]
ToQuery = Annotated[
    str | None,
    Query(alias="to", max_length=64, description="RFC 3339 or Unix seconds (default: now)."),
]
WindowQuery = Annotated[
    str,
    Query(max_length=32, description="Before and after each delivery, judged (default 30m)."),
]


class AnalyticsDocument(BaseModel):
    """The answer (see docs/api.md); with `configured: false`, only `reason` says more."""

    model_config = ConfigDict(extra="allow")

    configured: bool
    reason: str | None
    service: str
    env: str
    notes: list[str]
    metrics: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    impacts: list[dict[str, Any]] = []


def _instant(text: str | None, name: str, default: float) -> float:
    from cfgctl.analyze.series import parse_time

    if text is None or not text.strip():
        return default
    found = parse_time(text)
    if found is None:
        raise Problem.bad_request(
            f"{name}={text!r} is not a time",
            hint="write RFC 3339 (2026-12-01T10:00:00Z) or Unix seconds",
        )
    return found


def _period(start: str | None, end: str | None, window: str) -> tuple[float, float, float]:
    from cfgctl.repo.timespec import parse_duration

    now = time.time()
    to = _instant(end, "to", now)
    since = _instant(start, "from", to - DEFAULT_SPAN)
    if not 0 < to - since <= MAX_SPAN:
        raise Problem.bad_request(
            "from must be before to, at most 400 days apart", hint="e.g. ?from=2026-12-01T00:00:00Z"
        )
    try:
        seconds = parse_duration(window).total_seconds()
    except InputError as exc:
        raise Problem.bad_request(f"window: {exc.message}", hint=exc.hint) from None
    if not 0 < seconds <= 86400:
        raise Problem.bad_request("window is more than 0 and at most 24h", hint="e.g. window=30m")
    return since, to, seconds


def _config(served: ServedRepo, commit: str, service: str, env: str) -> AnalyticsConfig | None:
    """analytics.yaml at `commit` (None without one), once (service, env) is known to be a pair;
    on the repository's thread."""
    from cfgctl.analyze.config import analytics_of

    snap = served.snapshot(commit)
    served.check_pair(snap, service, env)
    try:
        return analytics_of(snap)
    except InputError as exc:
        raise Problem.from_error(exc) from None


def _deliveries(request: Request, notes: list[str]) -> list[Delivery]:
    from cfgctl.analyze.deliveries import read_deliveries

    audit = request.app.state.settings.agent_audit
    if audit is None:
        notes.append(
            "no deliveries: the server knows no agent's audit log (cfgctl serve --agent-audit PATH)"
        )
        return []
    try:
        return read_deliveries(audit)
    except InputError as exc:
        notes.append(f"no deliveries: {exc}")
        return []


def _answer(doc: dict[str, Any], commit: str) -> Response:
    headers = {"Cfgctl-Commit": commit, "Cache-Control": "private, no-cache"}
    return Response(encode(doc), 200, headers, media_type="application/json")


@router.get(
    "/analytics/{service}/{env}",
    response_model=AnalyticsDocument,
    responses=problem_responses(400, 401, 403, 404, 422, 503),
    summary="The metrics of SERVICE in ENV, the deliveries, change points and impact verdicts",
)
async def get_analytics(
    request: Request,
    service: str,
    env: str,
    subject: SubjectDep,
    start: FromQuery = None,
    end: ToQuery = None,
    window: WindowQuery = "30m",
) -> Response:
    from cfgctl.analyze.pairview import pair_analytics

    authorize(request, subject, "read", f"config:{service}@{env}")
    since, to, seconds = _period(start, end, window)
    served: ServedRepo = request.app.state.served
    commit = request.app.state.watcher.head
    config = await served.run(_config, served, commit, service, env)
    notes: list[str] = []
    doc: dict[str, Any] = {"service": service, "env": env, "notes": notes}
    if config is None:
        reason = "no analytics.yaml at the head of the branch: no metrics are configured"
        return _answer({"configured": False, "reason": reason, **doc}, commit)
    deliveries = _deliveries(request, notes)

    def compute() -> dict[str, Any]:
        return pair_analytics(config, config.open_source(), deliveries, service, env,
                              start=since, end=to, window=seconds, now=time.time())  # fmt: skip

    try:
        found = await asyncio.to_thread(compute)
    except EnvError as exc:
        raise Problem.from_error(exc) from None
    return _answer({"configured": True, "reason": None, **doc, **found}, commit)
