"""Agents report back, and rollouts are read from their reports (agentreports.py).

    POST /api/v1/agents/{id}/report    what one agent sends after each pass (204)
    GET  /api/v1/agents                every agent, its last report time, whether it is stale
    GET  /api/v1/rollouts/{commit}     how many targets reached COMMIT, which are stuck and why

Authorization: `report` on `agents` to send (the insecure-local policy allows it: such a server
listens on loopback only); `read` on `agents` for both reads. A body over MAX_REPORT_BYTES is
refused (413) from its Content-Length, or once that many bytes arrived; a body that is no
report is a 400 naming the field.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from cfgctl.errors import InputError
from cfgctl.repo.gitstore import GitStore
from cfgctl.server.agentreports import MAX_REPORT_BYTES, AgentReports, rollout
from cfgctl.server.etag import encode
from cfgctl.server.pagination import paginate
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.repository import ServedRepo
from cfgctl.server.security import Subject, authorize, current_subject
from cfgctl.server.statedir import state_dir
from cfgctl.server.writes import read_json

__all__ = ["AGENTS", "report_store", "router"]

router = APIRouter(tags=["agents"])
AGENTS = "agents"
SubjectDep = Annotated[Subject, Depends(current_subject)]
NO_STORE = {"Cache-Control": "no-store"}


def report_store(request: Request) -> AgentReports:
    """The app's report store, made on first use under the state directory."""
    store: AgentReports | None = getattr(request.app.state, "agent_reports", None)
    if store is None:
        # The settings name a state directory once `cfgctl serve --state-dir` has one.
        explicit = getattr(request.app.state.settings, "state_dir", None)
        store = AgentReports(state_dir(explicit) / "agents.json")
        request.app.state.agent_reports = store
    return store


async def _body(request: Request) -> Any:
    """The report as JSON (any media type: agents send application/json), at most
    MAX_REPORT_BYTES."""
    return await read_json(
        request,
        types=None,
        limit=MAX_REPORT_BYTES,
        smaller="an agent's report holds commits and states only; split the agent's targets",
    )


def _reported_pairs(body: object) -> list[tuple[str, str]]:
    """The (service, env) of every well-formed target of a report, sorted, once each (a
    malformed report is refused by the store with a 400, after this)."""
    targets = body.get("targets") if isinstance(body, dict) else None
    pairs = {
        (t["service"], t["env"])
        for t in (targets if isinstance(targets, list) else [])
        if isinstance(t, dict) and all(isinstance(t.get(k), str) for k in ("service", "env"))
    }
    return sorted(pairs)


@router.post(
    "/agents/{agent}/report",
    status_code=204,
    responses={204: {"description": "Kept"}, **problem_responses(400, 403, 413, 422, 503)},
    summary="An agent's report after a pass",
)
async def receive_report(request: Request, agent: str, subject: SubjectDep) -> Response:
    """Keep what AGENT reports (cfgctl.agent.report): its branch, tip, and for every target the
    commit it runs, its state, last error and canary verdict. The latest report is kept."""
    body = await _body(request)
    pairs = _reported_pairs(body)
    for service, env in pairs:  # `report` on each configuration it names
        authorize(request, subject, "report", f"config:{service}@{env}")
    if not pairs:
        authorize(request, subject, "report", AGENTS)
    store = report_store(request)
    try:
        # Not on the repository's thread: a burst of reports never holds a configuration read.
        await asyncio.to_thread(store.receive, agent, body, datetime.now(UTC))
    except InputError as exc:
        raise Problem.from_error(exc, "bad-request") from None
    return Response(status_code=204)


@router.get(
    "/agents",
    responses=problem_responses(400, 403, 422, 503),
    summary="Every agent that reported, with its last report time",
)
async def list_agents(
    request: Request,
    subject: SubjectDep,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="Items per page.")] = None,
    cursor: Annotated[str | None, Query(description="The next_cursor of the last page.")] = None,
) -> Response:
    """Agents by name: last_report (when the server received it), sent (the agent's clock),
    stale (no report for 3x its usual interval, or 10 minutes), branch, tip, targets."""
    authorize(request, subject, "read", AGENTS)
    store = report_store(request)
    rows = await asyncio.to_thread(store.agents, datetime.now(UTC))
    size = limit or request.app.state.settings.page_limit
    page = paginate(rows, limit=size, cursor=cursor, url=request.url)
    headers = dict(NO_STORE)
    if page.link:
        headers["Link"] = page.link
    return Response(encode(page.document), media_type="application/json", headers=headers)


@router.get(
    "/rollouts/{commit}",
    responses=problem_responses(400, 403, 404, 422, 503),
    summary="How far COMMIT has rolled out across the reporting agents",
)
async def read_rollout(request: Request, commit: str, subject: SubjectDep) -> Response:
    """Every target the agents reported: `reached` (it runs COMMIT or a descendant of it),
    `stuck` (failed, rolled-back, blocked, held, or its canary held or failed: `why` is its last
    error or the canary's reason), or `pending`; `stale` when its agent has not reported for a
    while. COMMIT is a commit, branch or tag of the served repository."""
    authorize(request, subject, "read", AGENTS)
    served: ServedRepo = request.app.state.served
    store = report_store(request)
    target = await served.resolve(commit)
    doc = await served.run(_rollout, served, store, target)
    return Response(encode(doc), media_type="application/json", headers=NO_STORE)


def _rollout(served: ServedRepo, store: AgentReports, commit: str) -> dict[str, Any]:
    """On the repository's thread: the rollout of `commit` (a full commit id)."""
    import pygit2

    repo = GitStore.open(served.root).repo
    wanted = pygit2.Oid(hex=commit)

    def reached(applied: str) -> bool | None:
        """Whether `applied` is `commit` or a descendant of it; None when it is unknown."""
        if applied == commit:
            return True
        try:
            oid = pygit2.Oid(hex=applied)
            if repo.get(oid) is None:
                return None
            return bool(repo.descendant_of(oid, wanted))
        except (ValueError, pygit2.GitError):
            return None

    return rollout(store.latest(), commit, reached, datetime.now(UTC))
