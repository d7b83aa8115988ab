"""Writes and change requests: `PATCH /api/v1/config/{service}/{env}`, `/api/v1/changes`.

A write never moves the served branch: it becomes a change request (writes.py), reviewed and
merged under the repository's policy.yaml, the same code as `cfgctl pr gate`. The author never
approves their own change (403); a merge waits for the verdict to pass (409 with what is
missing); a merge that conflicts with the branch is refused (409). Actions asked of the
security seam: `edit` (open one), `read` (see them), `approve` (approve, request changes,
reject), `merge`, on the `config:SERVICE@ENV` objects the change edits.

Without a forge, the access policy says who is in a policy.yaml team when it has an
`is_member(team, user)` (rbac.yaml's groups named as teams); without one, teams have no members
here and a rule that requires a team's approval cannot be met by the API's reviews.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from starlette.responses import Response

from cfgctl.errors import EnvError, InputError
from cfgctl.review.changerequests import ChangeRequest, Judged, NotAllowed
from cfgctl.server.configviews import config_view
from cfgctl.server.etag import encode
from cfgctl.server.pagination import paginate
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.reads import CursorQuery, LimitQuery
from cfgctl.server.security import Subject, authorize, current_subject
from cfgctl.server.writes import MAX_DEPTH, Desk, check_if_match, depth, desk_of, read_json

__all__ = ["router"]

T = TypeVar("T")
router = APIRouter()
SubjectDep = Annotated[Subject, Depends(current_subject)]
NumberPath = Annotated[int, Path(ge=1, le=10**9, description="The change request's number.")]
TitleHeader = Annotated[
    str | None,
    Header(alias="X-Cfgctl-Title", description="The change request's title (else generated)."),
]
IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", description="The ETag of the configuration read (required)."),
]
WRITE_ERRORS = problem_responses(400, 403, 404, 412, 413, 415, 422, 428, 503)
CHANGE_ERRORS = problem_responses(400, 403, 404, 409, 422, 503)
PATCH_BODY = {
    "requestBody": {
        "required": True,
        "description": "A JSON merge patch (RFC 7396) of the environment's layer file.",
        "content": {
            media: {"schema": {"type": "object", "additionalProperties": True}}
            for media in ("application/merge-patch+json", "application/json")
        },
    }
}


def _document(judged: Judged | ChangeRequest) -> dict[str, Any]:
    """A change request's document: plan and verdict when it is open, null once closed."""
    if isinstance(judged, Judged):
        return judged.to_dict()
    return {**judged.to_dict(), "plan": None, "verdict": None}


def _answer(doc: dict[str, Any], status: int = 200) -> Response:
    headers = {"Cache-Control": "no-store"}
    if status == 202:
        headers["Location"] = f"/api/v1/changes/{doc['id']}"
    return Response(encode(doc), status, headers, media_type="application/json")


async def _propose(
    request: Request,
    subject: Subject,
    where: tuple[str, str],
    patch: Any,
    if_match: str | None,
    title: str | None,
) -> Response:
    """Open the change request of `patch` of `where` (service, env); `subject` may edit it."""
    service, env = where
    if not isinstance(patch, dict):
        raise Problem(
            "invalid-patch",
            f"a merge patch of a layer file is a JSON object, not {type(patch).__name__}",
            hint='send the keys to change, e.g. {"db": {"pool_size": 60}}; null removes one',
        )
    if depth(patch) > MAX_DEPTH:
        raise Problem(
            "invalid-patch",
            f"the patch nests deeper than {MAX_DEPTH} levels",
            hint="a configuration's keys are far shallower; send the keys that change",
        )
    served = request.app.state.served
    tip = served.read_head()
    if tip is None:
        raise Problem("environment", f"branch {served.branch} is gone", hint="restart the server")
    # 404 for unknown names; unchecked, so that a configuration that fails its schema can be
    # fixed (its ETag is that of `?invalid=true`; a valid one's is the same as a plain read's)
    view = await config_view(served, tip, service, env, False, False, checked=False)
    check_if_match(if_match, view.etag)
    desk = desk_of(request)
    judged = await desk.write(desk.propose, tip, service, env, patch, title, subject.name)
    return _answer(judged.to_dict(), 202)


@router.patch(
    "/config/{service}/{env}",
    status_code=202,
    responses={202: {"description": "The change request opened"}, **WRITE_ERRORS},
    openapi_extra=PATCH_BODY,
    summary="Propose a change of SERVICE in ENV (a merge patch): opens a change request",
)
async def patch_config(
    request: Request,
    service: str,
    env: str,
    subject: SubjectDep,
    if_match: IfMatchHeader = None,
    title: TitleHeader = None,
) -> Response:
    authorize(request, subject, "edit", f"config:{service}@{env}")
    if not (if_match or "").strip():  # before the body is read
        check_if_match(if_match, "")
    patch = await read_json(request)
    return await _propose(request, subject, (service, env), patch, if_match, title)


@router.post(
    "/changes",
    status_code=202,
    responses={202: {"description": "The change request opened"}, **WRITE_ERRORS},
    summary="Propose a change: {service, env, patch, title}, with If-Match as for PATCH",
)
async def post_change(
    request: Request, subject: SubjectDep, if_match: IfMatchHeader = None
) -> Response:
    body = await read_json(request, types=("application/json",))
    if not isinstance(body, dict) or not {"service", "env", "patch"} <= body.keys():
        raise Problem.bad_request(
            "the body is {service, env, patch, title?}",
            hint='e.g. {"service": "payments", "env": "prod", "patch": {"replicas": 8}}',
        )
    service, env, title = body["service"], body["env"], body.get("title")
    if not all(isinstance(v, str) for v in (service, env)) or not isinstance(title, str | None):
        raise Problem.bad_request("service, env and title are strings", hint="quote them")
    authorize(request, subject, "edit", f"config:{service}@{env}")
    return await _propose(request, subject, (service, env), body["patch"], if_match, title)


@router.put(
    "/secrets/{service}/{env}/{key}",
    status_code=202,
    responses={202: {"description": "The change request opened"}, **WRITE_ERRORS},
    summary="Propose a secret's new value (encrypted with SOPS): opens a change request",
)
async def put_secret(
    request: Request, service: str, env: str, key: str, subject: SubjectDep
) -> Response:
    authorize(request, subject, "edit", f"config:{service}@{env}")
    body = await read_json(request, types=("application/json",))
    value = body.get("value") if isinstance(body, dict) else None
    if not isinstance(value, str | int | float) or value == "":
        raise Problem.bad_request(
            'the body is {"value": V}, V a non-empty string, a number or a boolean',
            hint="a secret is one scalar; set each key of a mapping on its own",
        )
    served = request.app.state.served
    tip = served.read_head()
    if tip is None:
        raise Problem("environment", f"branch {served.branch} is gone", hint="restart the server")
    await config_view(served, tip, service, env, False, False)  # 404 for unknown names
    desk = desk_of(request)
    judged = await desk.write(desk.propose_secret, tip, service, env, key, value, subject.name)
    return _answer(judged.to_dict(), 202)


@router.get(
    "/changes",
    responses=problem_responses(400, 403, 422),
    summary="The change requests the caller may read, oldest first (no plan: GET one for it)",
)
async def list_changes(
    request: Request,
    subject: SubjectDep,
    state: Annotated[Literal["open", "merged", "rejected"] | None, Query()] = None,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    authorize(request, subject, "read", "changes")
    desk = desk_of(request)
    found = await desk.run(desk.store.list, state)
    if not _may(request, subject, "config:*@*"):  # those whose configurations it may read
        edits = await desk.run(lambda: [desk.objects(c) for c in found])
        found = [c for c, objs in zip(found, edits, strict=True)
                 if all(_may(request, subject, o) for o in objs)]  # fmt: skip
    items = [{"name": f"{c.id:010d}", **c.to_dict()} for c in found]
    size = limit or request.app.state.settings.page_limit
    page = paginate(items, limit=size, cursor=cursor, url=request.url)
    for item in page.document["items"]:
        del item["name"]
    response = _answer(page.document)
    if page.link:
        response.headers["Link"] = page.link
    return response


@router.get(
    "/changes/{number}",
    responses=CHANGE_ERRORS,
    summary="One change request: state, reviews, plan (impact, rules, risk) and verdict",
)
async def get_change(request: Request, number: NumberPath, subject: SubjectDep) -> Response:
    desk = desk_of(request)
    await _authorized(request, desk, subject, "read", number)
    return _answer(_document(await desk.run(_judged, desk, number)))


def _may(request: Request, subject: Subject, obj: str) -> bool:
    """Whether `subject` may read `obj`: a question (a list's filter), not audited."""
    verdict = request.app.state.security.policy.allows(subject, "read", obj)
    return verdict if isinstance(verdict, bool) else bool(verdict.allowed)


def _judged(desk: Desk, number: int) -> Judged | ChangeRequest:
    change = desk.get(number)
    return desk.judge(number) if change.state == "open" else change


async def _authorized(
    request: Request, desk: Desk, subject: Subject, action: str, number: int
) -> ChangeRequest:
    """The change request, once `subject` may do `action` on everything it edits."""

    def load() -> tuple[ChangeRequest, list[str]]:
        change = desk.get(number)
        return change, desk.objects(change)

    change, objects = await desk.run(load)
    for obj in objects:
        authorize(request, subject, action, obj)
    return change


async def _workflow(desk: Desk, act: Callable[[], T], refused: str) -> T:
    """`act()` on the repository's thread, the workflow's refusals as problems: a rule of the
    workflow broken is `refused` (forbidden or conflict); a closed change request, a branch
    that moved under the merge are conflicts."""
    try:
        return await desk.write(act)
    except NotAllowed as exc:
        raise Problem(refused, exc.message, hint=exc.hint) from None
    except (InputError, EnvError) as exc:
        if isinstance(exc, Problem):
            raise
        raise Problem("conflict", exc.message, hint=exc.hint) from None


async def _review(
    request: Request, number: int, subject: Subject, kind: Literal["approve", "request_changes"]
) -> Response:
    desk = desk_of(request)
    await _authorized(request, desk, subject, "approve", number)

    def act() -> Judged | ChangeRequest:
        desk.store.review(number, subject.name, kind)
        return _judged(desk, number)

    return _answer(_document(await _workflow(desk, act, "forbidden")))


@router.post(
    "/changes/{number}/approve",
    responses=CHANGE_ERRORS,
    summary="Approve the change request's head (never one's own change: 403)",
)
async def approve_change(request: Request, number: NumberPath, subject: SubjectDep) -> Response:
    return await _review(request, number, subject, "approve")


@router.post(
    "/changes/{number}/request-changes",
    responses=CHANGE_ERRORS,
    summary="Ask for changes: the verdict fails until the reviewer approves",
)
async def request_changes(request: Request, number: NumberPath, subject: SubjectDep) -> Response:
    return await _review(request, number, subject, "request_changes")


@router.post(
    "/changes/{number}/reject",
    responses=CHANGE_ERRORS,
    summary="Close the change request unmerged (the author withdrawing, or a reviewer)",
)
async def reject_change(request: Request, number: NumberPath, subject: SubjectDep) -> Response:
    desk = desk_of(request)
    change = await desk.run(desk.get, number)
    action = "edit" if change.author == subject.name else "approve"
    await _authorized(request, desk, subject, action, number)

    def act() -> ChangeRequest:
        return desk.store.reject(number, subject.name)

    return _answer(_document(await _workflow(desk, act, "conflict")))


@router.post(
    "/changes/{number}/merge",
    responses=CHANGE_ERRORS,
    summary="Merge into the served branch once the verdict passes (409 with what is missing)",
)
async def merge_change(request: Request, number: NumberPath, subject: SubjectDep) -> Response:
    desk = desk_of(request)
    await _authorized(request, desk, subject, "merge", number)

    def act() -> ChangeRequest:
        try:
            return desk.store.merge(number, subject.name, now=datetime.now(UTC))
        except NotAllowed as exc:
            change = desk.get(number)
            verdict = desk.judge(number).verdict.to_dict() if change.state == "open" else None
            raise Problem(
                "conflict", exc.message, hint=exc.hint, extra={"verdict": verdict}
            ) from None

    merged = await _workflow(desk, act, "conflict")
    request.app.state.watcher.poll()  # the long polls wake now, not at the next tick
    return _answer(_document(merged))
