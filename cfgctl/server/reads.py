"""The read routes of lists and schemas: services, environments, schemas, templates, status.

Each list is computed once per commit on the repository's thread (`ServedRepo.once`), served
in pages (`pagination.py`) with a strong ETag, at the branch head or at `?rev=REV`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from cfgctl._version import __version__
from cfgctl.errors import InputError
from cfgctl.server.etag import encode, etag_of, headers_for, respond
from cfgctl.server.models import (
    EnvironmentPage,
    HealthDocument,
    SchemaDocument,
    SchemaPage,
    ServicePage,
    StatusDocument,
    TemplatePage,
)
from cfgctl.server.pagination import paginate
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.repository import ServedRepo
from cfgctl.server.security import Subject, authorize, current_subject

if TYPE_CHECKING:
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["MAX_LIMIT", "commit_for", "router"]

MAX_LIMIT = 1000
router = APIRouter()
SubjectDep = Annotated[Subject, Depends(current_subject)]
RevQuery = Annotated[
    str | None,
    Query(description="A commit, branch or tag to read at; default: the served branch's head."),
]
LimitQuery = Annotated[
    int | None, Query(ge=1, le=MAX_LIMIT, description="Items per page (default 100).")
]
CursorQuery = Annotated[
    str | None, Query(description="The next_cursor of the previous page (opaque).")
]
ERRORS = problem_responses(400, 401, 403, 404, 422, 503)


async def commit_for(request: Request, rev: str | None) -> str:
    """The commit a read is at: `rev` resolved, else the head the watcher last saw."""
    served: ServedRepo = request.app.state.served
    return await served.resolve(rev) if rev else request.app.state.watcher.head


async def _list(
    request: Request,
    subject: Subject,
    what: str,
    build: Callable[[Snapshot], list[dict[str, Any]]],
    rev: str | None,
    limit: int | None,
    cursor: str | None,
) -> Response:
    authorize(request, subject, "read", what)
    served: ServedRepo = request.app.state.served
    commit = await commit_for(request, rev)
    items = await served.once((commit, what), lambda: build(served.snapshot(commit)))
    size = limit or request.app.state.settings.page_limit
    page = paginate(items, limit=size, cursor=cursor, url=request.url)
    body = encode(page.document)
    headers = headers_for(commit)
    if page.link:
        headers["Link"] = page.link
    return respond(request.headers.get("if-none-match"), body, etag_of(body), headers)


def _services(snap: Snapshot) -> list[dict[str, Any]]:
    services = snap.manifest.services
    return [
        {"name": name, "schema": services[name].schema, "owners": list(services[name].owners)}
        for name in sorted(services)
    ]


def _environments(snap: Snapshot) -> list[dict[str, Any]]:
    manifest = snap.manifest
    return [
        {
            "name": env.name,
            "inherits": env.inherits,
            "protected": env.protected,
            "abstract": snap.is_abstract(env.name),
        }
        for env in sorted(manifest.environments.values(), key=lambda e: e.name)
    ]


def _schemas(snap: Snapshot) -> list[dict[str, Any]]:
    from cfgctl.repo.schema_usage import schema_usage

    return schema_usage(snap)


def _templates(snap: Snapshot) -> list[dict[str, Any]]:
    from cfgctl.editing.templates import template_rows

    return sorted(template_rows(snap), key=lambda row: str(row["name"]))


@router.get(
    "/health",
    response_model=HealthDocument,
    responses=problem_responses(503),
    summary="Whether the server can serve (no token needed)",
)
async def health(request: Request) -> Response:
    """For a load balancer's or Kubernetes' probe: 200 `{"status": "ok"}` while the branch
    head can be read; 503 when its last read failed. No token, and nothing about the
    repository in the answer (its head, branch and version are /status's, behind a token)."""
    if not request.app.state.watcher.healthy:
        raise Problem(
            "environment",
            "the served branch's head cannot be read",
            hint="check the repository's disk and permissions (the server log says more)",
        )
    body = encode({"status": "ok"})
    return respond(None, body, etag_of(body), {"Cache-Control": "no-store"})


@router.get("/status", response_model=StatusDocument, summary="The server and its branch head")
async def status(request: Request, subject: SubjectDep) -> Response:
    authorize(request, subject, "read", "status")
    served: ServedRepo = request.app.state.served
    watcher = request.app.state.watcher
    doc = {
        "version": __version__,
        "branch": served.branch,
        "head": watcher.head,
        "waiting": watcher.waiting,
        "remote": None if served.upstream is None else served.upstream.document(),
    }
    body = encode(doc)
    return respond(None, body, etag_of(body), {"Cache-Control": "no-store"})


@router.get(
    "/services", response_model=ServicePage, responses=ERRORS, summary="The services, by name"
)
async def services(
    request: Request,
    subject: SubjectDep,
    rev: RevQuery = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    return await _list(request, subject, "services", _services, rev, limit, cursor)


@router.get(
    "/environments",
    response_model=EnvironmentPage,
    responses=ERRORS,
    summary="The environments, with what each inherits",
)
async def environments(
    request: Request,
    subject: SubjectDep,
    rev: RevQuery = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    return await _list(request, subject, "environments", _environments, rev, limit, cursor)


@router.get(
    "/schemas",
    response_model=SchemaPage,
    responses=ERRORS,
    summary="The schemas, their versions and the services using each",
)
async def schemas(
    request: Request,
    subject: SubjectDep,
    rev: RevQuery = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    return await _list(request, subject, "schemas", _schemas, rev, limit, cursor)


@router.get(
    "/templates",
    response_model=TemplatePage,
    responses=ERRORS,
    summary="The service templates, with the services made from each",
)
async def templates(
    request: Request,
    subject: SubjectDep,
    rev: RevQuery = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    return await _list(request, subject, "templates", _templates, rev, limit, cursor)


@router.get(
    "/schemas/{name}",
    response_model=SchemaDocument,
    responses=ERRORS,
    summary="One schema document (the newest version unless ?version=N)",
)
async def schema(
    request: Request,
    name: str,
    subject: SubjectDep,
    version: Annotated[int | None, Query(ge=1, description="The version to read.")] = None,
    rev: RevQuery = None,
) -> Response:
    authorize(request, subject, "read", "schemas")
    served: ServedRepo = request.app.state.served
    commit = await commit_for(request, rev)

    def build() -> bytes:
        snap = served.snapshot(commit)
        try:
            ref = snap.schemas.resolve(name if version is None else f"{name}@{version}")
        except InputError as exc:
            raise Problem.from_error(exc, "not-found") from None
        doc = snap.schemas.document(ref.path)
        return encode({"name": ref.name, "version": ref.version, "file": ref.path, "schema": doc})

    body = await served.once((commit, "schema", name, version), build)
    return respond(request.headers.get("if-none-match"), body, etag_of(body), headers_for(commit))
