"""`GET /api/v1/overview`: every service in every environment in one answer, for the
dashboard's first page.

    {"commit": ..., "environments": ["dev", "staging", "prod"],
     "ok": false, "errors": 3, "warnings": 0,
     "problems": [...],            # diagnostics that name no (service, env): manifest, schemas
     "services": [{"name": "payments", "owners": [...],
                   "errors": [0, 2, 0], "warnings": [0, 0, 0]}],   # one per environment
     "changes": [{"id": 4, "title": ..., "author": ..., "pairs": ["payments@staging"]}],
     "agents": [{"service": "payments", "env": "prod", "commit": ..., "targets": 2,
                 "stuck": 0, "stale": 0}]}

The per-pair counts come from the validation report of the commit (`reports.validation_body`,
computed once per commit and shared with `/validate`); the open change requests and the agents'
reports are read at each request (they move without a commit). Authorization: a caller with
`read` on `config:*@*` sees everything; one that may read some configurations sees the services
it may read, the other environments' counts null, the totals, change requests and agents of
what it sees, and no repository-wide problem (overviewaccess.py); one that may read none: 403.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel
from starlette.responses import Response

from cfgctl.server.etag import encode, etag_of, headers_for, respond
from cfgctl.server.overviewaccess import narrow, readable_pairs
from cfgctl.server.problems import problem_responses
from cfgctl.server.reads import commit_for
from cfgctl.server.reports import validation_body
from cfgctl.server.repository import ServedRepo
from cfgctl.server.rollouts import report_store
from cfgctl.server.security import Subject, authorize, current_subject
from cfgctl.server.writes import Desk, desk_of

__all__ = ["MAX_PROBLEMS", "router"]

router = APIRouter(tags=["dashboard"])
MAX_PROBLEMS = 50


class OverviewService(BaseModel):
    name: str
    owners: list[str]
    # one count per environment, in the order of `environments`; null: the caller may not read it
    errors: list[int | None]
    warnings: list[int | None]


class OverviewProblem(BaseModel):
    severity: str
    message: str
    file: str | None
    line: int | None
    hint: str | None


class OverviewChange(BaseModel):
    id: int
    title: str
    author: str
    pairs: list[str]  # SERVICE@ENV whose layer files it edits


class OverviewAgents(BaseModel):
    service: str
    env: str
    commit: str | None
    targets: int
    stuck: int
    stale: int


class OverviewDocument(BaseModel):
    """The answer of /overview (the OpenAPI shape)."""

    commit: str
    environments: list[str]
    ok: bool
    errors: int
    warnings: int
    problems: list[OverviewProblem]
    services: list[OverviewService]
    changes: list[OverviewChange]
    agents: list[OverviewAgents]


@router.get(
    "/overview",
    response_model=OverviewDocument,
    responses={304: {"description": "Not modified"}, **problem_responses(400, 401, 403, 422, 503)},
    summary="Every service x environment: errors, open change requests, what agents run",
)
async def overview(
    request: Request,
    subject: Annotated[Subject, Depends(current_subject)],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    authorize(request, subject, "read", "services")  # may read one configuration at least
    served: ServedRepo = request.app.state.served
    commit = await commit_for(request, None)
    grid = await served.once((commit, "overview"), lambda: _grid(served, commit))
    readable = await readable_pairs(request, subject, commit, grid)
    report = await validation_body(served, commit)
    counts = await served.once((commit, "overview-counts"), lambda: _counts(report, grid))
    desk = desk_of(request)
    changes = await desk.run(_open_changes, desk)
    store = report_store(request)
    agents = _agents(await served.run(store.latest))
    doc = {"commit": commit, **narrow(counts, changes, agents, readable)}
    body = encode(doc)
    return respond(if_none_match, body, etag_of(body), headers_for(commit))


def _grid(served: ServedRepo, commit: str) -> dict[str, Any]:
    """The environments (not abstract) and the services with their owners, at `commit`."""
    snap = served.snapshot(commit)
    manifest = snap.manifest
    envs = [name for name in manifest.environments if not snap.is_abstract(name)]
    services = [
        {"name": name, "owners": list(manifest.services[name].owners)}
        for name in sorted(manifest.services)
    ]
    return {"environments": envs, "services": services}


def _counts(report_body: bytes, grid: dict[str, Any]) -> dict[str, Any]:
    """The grid with each pair's errors and warnings from the validation report."""
    report = json.loads(report_body)
    errors: Counter[tuple[str, str]] = Counter()
    warnings: Counter[tuple[str, str]] = Counter()
    problems: list[dict[str, Any]] = []
    for diag in report["diagnostics"]:
        counter = errors if diag["severity"] == "error" else warnings
        for pair in diag["pairs"]:
            counter[(pair["service"], pair["env"])] += 1
        if not diag["pairs"] and len(problems) < MAX_PROBLEMS:
            keep = ("severity", "message", "file", "line", "hint")
            problems.append({k: diag[k] for k in keep})
    envs = grid["environments"]
    services = [
        {
            **service,
            "errors": [errors[(service["name"], env)] for env in envs],
            "warnings": [warnings[(service["name"], env)] for env in envs],
        }
        for service in grid["services"]
    ]
    return {
        "environments": envs,
        "ok": report["ok"],
        "errors": report["errors"],
        "warnings": report["warnings"],
        "problems": problems,
        "services": services,
    }


def _open_changes(desk: Desk) -> list[dict[str, Any]]:
    """The open change requests and the SERVICE@ENV pairs whose layer files each edits."""
    rows = []
    for change in desk.store.list("open"):
        objects = desk.objects(change)
        pairs = [o.removeprefix("config:") for o in objects if o.startswith("config:")]
        rows.append({"id": change.id, "title": change.title, "author": change.author,
                     "pairs": pairs})  # fmt: skip
    return rows


def _agents(entries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """What the agents report running, per (service, env, commit): targets, stuck, stale."""
    from cfgctl.server.agentreports import STUCK_STATES, stale_after

    now = datetime.now(UTC)
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in entries.values():
        stale = now - datetime.fromisoformat(entry["received"][-1]) > stale_after(entry["received"])
        for target in entry["report"]["targets"]:
            commit = target.get("commit") or ""
            key = (target["service"], target["env"], commit)
            row = rows.setdefault(
                key,
                {"service": key[0], "env": key[1], "commit": commit or None,
                 "targets": 0, "stuck": 0, "stale": 0},
            )  # fmt: skip
            row["targets"] += 1
            row["stuck"] += target["state"] in STUCK_STATES
            row["stale"] += stale
    return [rows[key] for key in sorted(rows)]
