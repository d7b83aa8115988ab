"""`GET /api/v1/compare`: environments (or two commits) side by side, for the dashboard's
Compare page.

    GET /compare?env=staging&env=prod&service=payments           # two or more environments
    GET /compare?env=prod&rev=v1.4&rev=main&service=payments      # one environment, two commits
    GET /compare?env=staging&env=prod&all=true&limit=50           # every service, every key

    {"sides": [{"env": "staging", "rev": null, "commit": "3f2a..."}, ...],
     "items": [{"name": "payments", "errors": [null, null], "differences": 3, "keys": 11,
                "rows": [{"key": "db.pool_size", "path": ["db", "pool_size"],
                          "status": "differs", "secret": false,
                          "cells": [{"present": true, "value": 10, "env": "base",
                                     "layer": "service", "file": "config/base/payments.yaml",
                                     "line": 4, "column": 14}, ...]}]}],
     "next_cursor": null}

Rows are `cfgctl.operate.compare`'s: the keys that differ (`status` `differs`, or `secret`: a
secret whose values cannot be compared here), every key with `all=true`. Values are masked as
every read masks them; nothing is decrypted. A configuration that fails its schema is shown all
the same (that is what one compares to find out why); one that cannot be rendered (a broken
file) has its side's `errors` entry, and no cells. Without `service`, the services are paged
(`limit`, `cursor`) and, unless `all=true`, those with no difference are left out.

Access: `read` on `config:SERVICE@ENV` of every side with `service`; without it, the services
the caller may read in every environment compared (403 when none). Computed once per
(commits, environments, service, all) on the repository's thread; an ETag, 304.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from cfgctl.errors import CfgctlError
from cfgctl.repo.manifest import suggest
from cfgctl.server.etag import encode, etag_of, headers_for, respond
from cfgctl.server.overviewaccess import readable_pairs
from cfgctl.server.pagination import paginate
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.reads import CursorQuery, LimitQuery, commit_for
from cfgctl.server.security import Subject, authorize, current_subject

if TYPE_CHECKING:
    from cfgctl.repo.render import Rendered
    from cfgctl.repo.snapshot import Snapshot
    from cfgctl.server.repository import ServedRepo

__all__ = ["MAX_SIDES", "check_names", "router"]

router = APIRouter(tags=["dashboard"])
MAX_SIDES = 6


class CompareSide(BaseModel):
    env: str
    rev: str | None  # as asked; null: the branch head
    commit: str


class CompareCell(BaseModel):
    present: bool
    value: Any = None  # *** for a secret
    env: str | None = None  # the layer that sets it: its environment, kind, file and position
    layer: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None


class CompareRowModel(BaseModel):
    key: str
    path: list[str | int]
    status: str  # same, differs, secret
    secret: bool
    cells: list[CompareCell]  # one per side


class CompareService(BaseModel):
    name: str
    errors: list[str | None]  # one per side: why it cannot be rendered, else null
    differences: int
    keys: int
    rows: list[CompareRowModel]


class CompareDocument(BaseModel):
    """The answer of /compare (the OpenAPI shape)."""

    sides: list[CompareSide]
    items: list[CompareService]
    next_cursor: str | None


def _sides(envs: list[str], revs: list[str]) -> list[tuple[str, str | None]]:
    """(env, rev) of each side: two or more environments at one revision, or one environment
    at two revisions; a 400 otherwise."""
    if len(envs) >= 2 and len(revs) <= 1:
        sides = [(env, revs[0] if revs else None) for env in envs]
    elif len(envs) == 1 and len(revs) == 2:
        sides = [(envs[0], rev) for rev in revs]
    else:
        raise Problem.bad_request(
            f"compare needs two or more env= (at one rev= at most), or one env= and two rev=; "
            f"got {len(envs)} env and {len(revs)} rev",
            hint="e.g. ?env=staging&env=prod&service=payments, or ?env=prod&rev=HEAD~1&rev=main",
        )
    if len(sides) > MAX_SIDES:
        raise Problem.bad_request(
            f"compare at most {MAX_SIDES} sides at once", hint="leave some environments out"
        )
    if len(set(sides)) != len(sides):
        raise Problem.bad_request("a side is named twice", hint="name each environment once")
    return sides


def check_names(snap: Snapshot, env: str, service: str | None) -> None:
    manifest = snap.manifest
    if service is not None and service not in manifest.services:
        raise Problem.not_found(
            f"unknown service {service!r}", hint=suggest(service, manifest.services, "service")
        )
    if env not in manifest.environments:
        raise Problem.not_found(
            f"unknown environment {env!r}", hint=suggest(env, manifest.environments, "environment")
        )
    if snap.is_abstract(env):
        raise Problem.not_found(
            f"environment {env!r} is abstract: only inherited from, never used on its own",
            hint="compare an environment that inherits it",
        )


def _service_row(
    snaps: list[Snapshot], envs: list[str], service: str, everything: bool
) -> dict[str, Any]:
    """The service's rows: every key with `everything`, else those that differ."""
    from cfgctl.operate.compare import compare_rendered

    rendered: list[Rendered] = []
    errors: list[str | None] = []
    for snap, env in zip(snaps, envs, strict=True):
        if service not in snap.manifest.services:
            errors.append(f"no service {service!r} at this commit")
            continue
        try:
            rendered.append(snap.render(service, env))
            errors.append(None)
        except CfgctlError as exc:
            errors.append(exc.message)
    if any(errors):
        return {"name": service, "errors": errors, "differences": 0, "keys": 0, "rows": []}
    rows = compare_rendered(rendered, everything=True)
    differing = sum(row.status != "same" for row in rows)
    shown = rows if everything else [row for row in rows if row.status != "same"]
    return {
        "name": service,
        "errors": errors,
        "differences": differing,
        "keys": len(rows),
        "rows": [row.to_dict() for row in shown],
    }


def _compare(
    served: ServedRepo,
    sides: list[tuple[str, str]],
    service: str | None,
    everything: bool,
) -> list[dict[str, Any]]:
    """Every service compared (or `service` only), in name order, at `sides` (env, commit)."""
    snaps = [served.snapshot(commit) for _, commit in sides]
    envs = [env for env, _ in sides]
    for snap, env in zip(snaps, envs, strict=True):
        check_names(snap, env, service)
    if service is not None:
        names = [service]
    else:
        names = sorted(set().union(*(snap.manifest.services for snap in snaps)))
    out = []
    for name in names:
        row = _service_row(snaps, envs, name, everything)
        if everything or service is not None or row["differences"] or any(row["errors"]):
            out.append(row)
    return out


def _grid(snap: Snapshot) -> dict[str, Any]:
    """Every service x every environment that is not abstract: the overview's grid, so the
    pairs a caller may read are asked once per caller and commit for both pages."""
    manifest = snap.manifest
    envs = [name for name in manifest.environments if not snap.is_abstract(name)]
    return {"environments": envs, "services": [{"name": n} for n in sorted(manifest.services)]}


async def _readable(
    request: Request, subject: Subject, items: list[dict[str, Any]], sides: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """The services of `items` `subject` may read in every environment compared; 403 when
    none (`overviewaccess.readable_pairs`: asked of the access policy, not audited, kept per
    caller and commit)."""
    served: ServedRepo = request.app.state.served
    commit = sides[-1][1]
    grid = await served.once((commit, "compare-grid"), lambda: _grid(served.snapshot(commit)))
    readable = await readable_pairs(request, subject, commit, grid)
    if readable is None:
        return items
    kept = [i for i in items if all((i["name"], env) in readable for env, _ in sides)]
    if not kept and items:
        raise Problem(
            "forbidden",
            f"{subject.name!r} may read no service in every environment compared",
            hint="compare environments you may read, or ask for a role that allows reading them",
        )
    return kept


EnvQuery = Annotated[
    list[str],
    Query(description="An environment to compare (repeat: two or more, or one with two rev)."),
]
RevsQuery = Annotated[
    list[str] | None,
    Query(description="A commit, branch or tag: one for every side, or two to compare commits."),
]


@router.get(
    "/compare",
    response_model=CompareDocument,
    responses={304: {"description": "Not modified"}, **problem_responses(400, 401, 403, 404, 422)},
    summary="Environments (or two commits) side by side: the keys that differ, and where from",
)
async def compare(
    request: Request,
    subject: Annotated[Subject, Depends(current_subject)],
    env: EnvQuery,
    rev: RevsQuery = None,
    service: Annotated[
        str | None, Query(description="One service (default: every service).")
    ] = None,
    all: Annotated[bool, Query(description="Every key, not only those that differ.")] = False,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    asked = _sides(env, rev or [])
    if service is not None:
        for name in dict.fromkeys(e for e, _ in asked):
            authorize(request, subject, "read", f"config:{service}@{name}")
    else:
        authorize(request, subject, "read", "services")
    served: ServedRepo = request.app.state.served
    commits = [await commit_for(request, r) for _, r in asked]
    sides = [(e, c) for (e, _), c in zip(asked, commits, strict=True)]
    key = ("compare", tuple(sides), service, all)
    items = await served.once(key, lambda: _compare(served, sides, service, all))
    if service is None:
        items = await _readable(request, subject, items, sides)
    size = limit or request.app.state.settings.page_limit
    page = paginate(items, limit=size, cursor=cursor, url=request.url)
    doc = {
        "sides": [
            {"env": e, "rev": r, "commit": c} for (e, r), c in zip(asked, commits, strict=True)
        ],
        **page.document,
    }
    body = encode(doc)
    headers = headers_for(commits[-1])
    if page.link:
        headers["Link"] = page.link
    return respond(request.headers.get("if-none-match"), body, etag_of(body), headers)
