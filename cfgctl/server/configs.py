"""`GET /api/v1/config/{service}/{env}`: the effective configuration, at the head or a revision,
with provenance on demand, secrets masked, and the long poll that follows commits.

The body holds the configuration only; the commit it was read at is the `Cfgctl-Commit`
header (as Consul's `X-Consul-Index`), so the strong ETag of the body changes only when the
configuration does, and a client polling with `If-None-Match` gets 304 across unrelated commits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response

from cfgctl.server.etag import respond
from cfgctl.server.longpoll import HeadWatcher, parse_wait, wait_for_change
from cfgctl.server.models import ConfigDocument
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.reads import commit_for, headers_for
from cfgctl.server.rendering import config_document
from cfgctl.server.repository import ServedRepo, View
from cfgctl.server.security import Subject, authorize, current_subject
from cfgctl.server.warmreads import config_key

__all__ = ["config_view", "router"]

router = APIRouter()


async def config_view(
    served: ServedRepo, commit: str, service: str, env: str, provenance: bool, reveal: bool
) -> View:
    """The configuration read of (service, env) at `commit`, computed once (its ETag is the
    one a write's If-Match names)."""

    def build() -> View:
        body = config_document(served, commit, service, env, provenance=provenance, reveal=reveal)
        return View.of(body, commit)

    # A revealed body holds plaintext: computed for its request, never kept.
    key = config_key(commit, service, env, provenance, reveal)
    return await served.once(key, build, keep=not reveal)


RevQuery = Annotated[
    str | None, Query(description="A commit, branch or tag; default: the branch head.")
]
ProvenanceQuery = Annotated[
    bool, Query(description="Add file, line, layer and last commit of every leaf.")
]
RevealQuery = Annotated[
    bool, Query(description="Secret values in clear; needs the reveal permission.")
]
WaitQuery = Annotated[
    str | None,
    Query(
        description="Hold the request up to this long (60s, 500ms; at most 120s) until the "
        "configuration differs from `after` or If-None-Match; 304 if it does not."
    ),
]
AfterQuery = Annotated[
    str | None, Query(description="With wait: the commit the client has already read.")
]


@router.get(
    "/config/{service}/{env}",
    response_model=ConfigDocument,
    response_model_by_alias=True,
    responses={
        304: {"description": "Not modified: If-None-Match matched, or the long poll ended"},
        **problem_responses(400, 401, 403, 404, 422, 503),
    },
    summary="The effective configuration of SERVICE in ENV",
)
async def read_config(
    request: Request,
    service: str,
    env: str,
    subject: Annotated[Subject, Depends(current_subject)],
    rev: RevQuery = None,
    provenance: ProvenanceQuery = False,
    reveal: RevealQuery = False,
    wait: WaitQuery = None,
    after: AfterQuery = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    obj = f"config:{service}@{env}"
    authorize(request, subject, "read", obj)
    if reveal:
        authorize(request, subject, "reveal", obj)
    served: ServedRepo = request.app.state.served
    if wait is not None:
        if rev is not None:
            raise Problem.bad_request(
                "wait= follows the branch head; it cannot be combined with rev=",
                hint="drop rev=, and pass after=COMMIT with the commit you have",
            )
        seconds = parse_wait(wait, request.app.state.settings.max_wait)
        return await _long_poll(
            request, seconds, after, if_none_match, (service, env, provenance, reveal)
        )
    if after is not None:
        raise Problem.bad_request("after= is only read with wait=", hint="add wait=60s")
    commit = await commit_for(request, rev)
    view = await config_view(served, commit, service, env, provenance, reveal)
    return _answer(if_none_match, view, reveal)


async def _long_poll(
    request: Request,
    seconds: float,
    after: str | None,
    if_none_match: str | None,
    what: tuple[str, str, bool, bool],
) -> Response:
    """Hold the request until the view of `what` (service, env, provenance, reveal) at the
    head differs from the one the client has, or `seconds` pass (304)."""
    served: ServedRepo = request.app.state.served
    watcher: HeadWatcher = request.app.state.watcher
    service, env, provenance, reveal = what
    baseline = await _baseline(served, after, if_none_match, service, env, provenance, reveal)

    async def view_at(commit: str) -> View:
        return await config_view(served, commit, service, env, provenance, reveal)

    view, changed = await wait_for_change(
        watcher, view_at, baseline, seconds, gone=lambda: _disconnected(request)
    )
    if not changed:
        headers = {"ETag": view.etag, **headers_for(view.commit)}
        return Response(status_code=304, headers=headers)
    return _answer(None, view, reveal)


async def _disconnected(request: Request) -> None:
    """Return once the client has gone (the ASGI server says http.disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _baseline(
    served: ServedRepo,
    after: str | None,
    if_none_match: str | None,
    service: str,
    env: str,
    provenance: bool,
    reveal: bool,
) -> str | None:
    """The ETag a long poll waits to differ from: the view at `after`, else If-None-Match.
    None when (service, env) did not exist at `after`: anything at the head is news."""
    if after is None:
        if not if_none_match:
            raise Problem.bad_request(
                "wait= needs after=COMMIT or an If-None-Match header: what to wait for a change of",
                hint="pass the Cfgctl-Commit of your last read as after=",
            )
        return if_none_match.split(",")[0].strip().removeprefix("W/")
    commit = await served.resolve(after)
    try:
        return (await config_view(served, commit, service, env, provenance, reveal)).etag
    except Problem as problem:
        if problem.kind in ("not-found", "check-failed"):
            return None
        raise


def _answer(if_none_match: str | None, view: View, reveal: bool) -> Response:
    headers = headers_for(view.commit)
    if reveal:
        headers["Cache-Control"] = "no-store"
    return respond(if_none_match, view.body, view.etag, headers)
