"""What the dashboard's change request and history pages read beside the change requests:

    GET /api/v1/changes/{number}/impact        the semantic diff of every effective configuration
                                               the change request changes, and the checks of its
                                               head on those pairs
    GET /api/v1/commits/{service}/{env}?key=   the commits that changed a pair (or one key of it),
                                               each with its diff, author and change request

The impact is from the commit the change request was opened on (its head's parent, a commit of
the branch) to its head, whatever its state: a merged or rejected one still shows what it did.
Both read through the server's masked session (secrets as `secret: true`, never a value), and are
computed once per commit. Access: `read` on every `config:SERVICE@ENV` the change request edits
(as GET /changes/{number}); pairs it reaches by inheritance that the caller may not read are left
out and counted in `hidden`, and the repository-wide diagnostics (no pair) are shown only to a
caller that may read `config:*@*`. The commits of a pair: `read` on `config:SERVICE@ENV`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import pygit2
from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from cfgctl.errors import CfgctlError, InputError
from cfgctl.server.etag import encode, headers_for
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.reads import commit_for
from cfgctl.server.reports import validation_body
from cfgctl.server.repository import ServedRepo
from cfgctl.server.security import Security, Subject, authorize, current_subject
from cfgctl.server.writes import Desk, desk_of

__all__ = ["router"]

router = APIRouter(tags=["changes"])
SubjectDep = Annotated[Subject, Depends(current_subject)]
NumberPath = Annotated[int, Path(ge=1, le=10**9, description="The change request's number.")]
ERRORS = problem_responses(400, 403, 404, 422, 503)


def _library(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except InputError as exc:
        raise Problem.from_error(exc, "bad-request") from None
    except CfgctlError as exc:
        raise Problem.from_error(exc) from None


def _may_read(security: Security, subject: Subject, obj: str) -> bool:
    verdict = security.policy.allows(subject, "read", obj)
    return verdict if isinstance(verdict, bool) else verdict.allowed


def _impact(served: ServedRepo, head: str) -> tuple[str, list[dict[str, Any]]]:
    from cfgctl.changes.diff import diff_snapshots

    commit = served.snapshot(head)
    assert commit.store is not None
    parents = commit.store.repo[pygit2.Oid(hex=head)].peel(pygit2.Commit).parent_ids
    base = str(parents[0]) if parents else head
    result = diff_snapshots(served.snapshot(base), commit)
    return base, result.to_list()


def _checks(report: dict[str, Any], pairs: set[tuple[str, str]], everything: bool) -> Any:
    found = []
    for diag in report["diagnostics"]:
        named = {(p["service"], p["env"]) for p in diag["pairs"]}
        if (named & pairs) or (not named and everything):
            found.append(diag)
    errors = sum(1 for d in found if d["severity"] == "error")
    return {
        "ok": errors == 0,
        "errors": errors,
        "warnings": sum(1 for d in found if d["severity"] == "warning"),
        "diagnostics": found,
    }


@router.get(
    "/changes/{number}/impact",
    responses=ERRORS,
    summary="A change request's semantic diff (every configuration it changes) and its checks",
)
async def change_impact(request: Request, number: NumberPath, subject: SubjectDep) -> Response:
    desk: Desk = desk_of(request)

    def load() -> tuple[Any, list[str]]:
        change = desk.get(number)
        return change, desk.objects(change)

    change, objects = await desk.run(load)
    for obj in objects:
        authorize(request, subject, "read", obj)
    served: ServedRepo = request.app.state.served
    base, pairs = await served.once(
        (change.head, "impact"), lambda: _library(_impact, served, change.head)
    )
    security: Security = request.app.state.security
    everything = _may_read(security, subject, "config:*@*")
    shown = [
        p for p in pairs
        if everything or _may_read(security, subject, f"config:{p['service']}@{p['env']}")
    ]  # fmt: skip
    report = json.loads(await validation_body(served, change.head))
    doc = {
        "id": change.id,
        "base": base,
        "head": change.head,
        "edits": [o.removeprefix("config:") for o in objects if o.startswith("config:")],
        "pairs": shown,
        "hidden": len(pairs) - len(shown),
        "checks": _checks(report, {(p["service"], p["env"]) for p in shown}, everything),
    }
    return Response(encode(doc), 200, {"Cache-Control": "no-store"}, media_type="application/json")


def _merged_from(desk: Desk) -> dict[str, dict[str, Any]]:
    """Commit -> the change request it came from: the commit a merge moved the branch to (a
    merge commit, or the change's own head when it fast-forwarded)."""
    out: dict[str, dict[str, Any]] = {}
    for change in desk.store.list("merged"):
        ref = {"id": change.id, "title": change.title, "author": change.author}
        out[change.head] = ref
        if change.merged:
            out[change.merged] = ref
    return out


@router.get(
    "/commits/{service}/{env}",
    responses={304: {"description": "Not modified"}, **ERRORS},
    summary="The commits that changed a configuration (or one key), each with its diff",
)
async def pair_commits(
    request: Request,
    service: str,
    env: str,
    subject: SubjectDep,
    key: Annotated[str | None, Query(description="Only the changes under this key.")] = None,
    rev: Annotated[str | None, Query(description="From this commit; default the head.")] = None,
    max_count: Annotated[int, Query(alias="max", ge=1, le=500, description="At most N.")] = 50,
) -> Response:
    """Newest first, on the branch's first-parent line: each commit with `parents`, `author`,
    `date`, `subject`, its `changes` to this pair (as `/diff`'s), and `change_request` (`{id,
    title, author}`, or null) when it came from a merged change request."""
    from cfgctl.changes.history import pair_history
    from cfgctl.repo.keypath import parse_key

    authorize(request, subject, "read", f"config:{service}@{env}")
    served: ServedRepo = request.app.state.served
    commit = await commit_for(request, rev)

    def build() -> list[dict[str, Any]]:
        snap = served.snapshot(commit)
        served.check_pair(snap, service, env)
        path = parse_key(key) if key else None
        return [c.to_dict() for c in pair_history(snap, service, env, path, max_count=max_count)]

    found = await served.once(
        (commit, "commits", service, env, key, max_count), lambda: _library(build)
    )
    desk = desk_of(request)
    origins = await desk.run(_merged_from, desk)
    items = [{**c, "change_request": origins.get(c["commit"])} for c in found]
    doc = {"service": service, "env": env, "key": key, "head": commit, "commits": items}
    headers = {**headers_for(commit), "Cache-Control": "no-store"}
    return Response(encode(doc), 200, headers, media_type="application/json")
