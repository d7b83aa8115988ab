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

from cfgctl.server.configviews import Pair, config_headers, config_view, follow
from cfgctl.server.etag import headers_for, respond
from cfgctl.server.longpoll import disconnected, parse_wait
from cfgctl.server.models import ConfigDocument
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.reads import commit_for
from cfgctl.server.repository import ServedRepo, View
from cfgctl.server.security import Subject, authorize, current_subject

__all__ = ["router"]

router = APIRouter()


RevQuery = Annotated[
    str | None, Query(description="A commit, branch or tag; default: the branch head.")
]
ProvenanceQuery = Annotated[
    bool, Query(description="Add file, line, layer and last commit of every leaf.")
]
RevealQuery = Annotated[
    bool, Query(description="Secret values in clear; needs the reveal permission.")
]
InvalidQuery = Annotated[
    bool,
    Query(
        description="Serve it even when it fails its schema, its diagnostics in `errors` "
        "(to fix it: a PATCH may name this read's ETag). Not with wait."
    ),
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
    invalid: InvalidQuery = False,
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
        if invalid:
            raise Problem.bad_request(
                "wait= follows configurations that pass their schema; it cannot be combined "
                "with invalid=",
                hint="drop invalid=true to wait for a change",
            )
        if rev is not None:
            raise Problem.bad_request(
                "wait= follows the branch head; it cannot be combined with rev=",
                hint="drop rev=, and pass after=COMMIT with the commit you have",
            )
        seconds = parse_wait(wait, request.app.state.settings.max_wait)
        pair = Pair(service, env, provenance, reveal)
        return await _long_poll(request, seconds, after, if_none_match, pair)
    if after is not None:
        raise Problem.bad_request("after= is only read with wait=", hint="add wait=60s")
    commit = await commit_for(request, rev)
    view = await config_view(served, commit, service, env, provenance, reveal, not invalid)
    return _answer(if_none_match, view, reveal)


async def _long_poll(
    request: Request,
    seconds: float,
    after: str | None,
    if_none_match: str | None,
    pair: Pair,
) -> Response:
    """Hold the request until the view of `pair` at the head differs from the one the client
    has, or `seconds` pass (304)."""
    state = request.app.state
    view, changed = await follow(
        state.served, state.watcher, pair, after, if_none_match, seconds,
        gone=lambda: disconnected(request.receive),
    )  # fmt: skip
    if not changed:
        return Response(status_code=304, headers=config_headers(view))
    return _answer(None, view, pair.reveal)


def _answer(if_none_match: str | None, view: View, reveal: bool) -> Response:
    headers = headers_for(view.commit)
    if reveal:
        headers["Cache-Control"] = "no-store"
    return respond(if_none_match, view.body, view.etag, headers)
