"""`GET /api/v1/whoami`: who the caller is, and what it may do, for a client that hides or
disables what it may not (the dashboard).

    GET /api/v1/whoami                          the server-wide permissions (object *@*)
    GET /api/v1/whoami?object=payments@prod&object=search@staging

Each permission is asked of the app's access policy (security.py's seam) exactly as a route
would ask it, with the policy's reason, but it is a question about oneself, not a request to
act: nothing is audited and a "no" is an answer, not a 403. Any authenticated caller may ask.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from cfgctl.server.etag import encode
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.rbac import ACTIONS
from cfgctl.server.security import Security, Subject, current_subject

__all__ = ["MAX_OBJECTS", "router"]

router = APIRouter()
MAX_OBJECTS = 100
_OBJECT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-*@{},")
LOCAL_REASON = "this server runs with --insecure-local: it allows reads only"


class Permission(BaseModel):
    action: str
    object: str  # SERVICE@ENV, *@* for every configuration and the server itself
    allowed: bool
    reason: str | None


class Whoami(BaseModel):
    """The answer of /whoami (the OpenAPI shape)."""

    subject: str
    anonymous: bool
    via: str  # none (--insecure-local), token, oidc
    insecure_local: bool
    role: str | None  # the token's role
    scopes: list[str]  # the token's scopes; [] when it has none (not capped)
    expires: str | None
    permissions: list[Permission]


@router.get(
    "/whoami",
    response_model=Whoami,
    responses=problem_responses(400, 401, 422, 503),
    summary="Who the caller is, and what it may do on the objects asked",
)
async def whoami(
    request: Request,
    subject: Annotated[Subject, Depends(current_subject)],
    objects: Annotated[
        list[str] | None,
        Query(
            alias="object",
            description="SERVICE@ENV to ask about (repeatable, at most 100); default: *@*.",
        ),
    ] = None,
) -> Response:
    asked = objects or ["*@*"]
    if len(asked) > MAX_OBJECTS:
        raise Problem.bad_request(
            f"{len(asked)} objects asked; at most {MAX_OBJECTS}", hint="ask in several requests"
        )
    for obj in asked:
        if "@" not in obj or not set(obj) <= _OBJECT_CHARS or len(obj) > 300:
            raise Problem.bad_request(
                f"object {obj[:80]!r} is not SERVICE@ENV", hint="write e.g. payments@prod or *@*"
            )
    security: Security = request.app.state.security
    insecure = bool(request.app.state.settings.insecure_local)
    permissions = [
        _permission(security, subject, action, obj, insecure) for obj in asked for action in ACTIONS
    ]
    token = subject.token
    body: dict[str, Any] = {
        "subject": subject.name,
        "anonymous": subject.anonymous,
        "via": subject.via,
        "insecure_local": insecure,
        "role": token.role if token else None,
        "scopes": list(token.scopes) if token else [],
        "expires": token.to_dict()["expires"] if token else None,
        "permissions": permissions,
    }
    return Response(
        encode(body), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


def _permission(
    security: Security, subject: Subject, action: str, obj: str, insecure: bool
) -> dict[str, Any]:
    """What the policy says of (action, obj); a policy that cannot decide says no, with why."""
    target = "server" if action == "admin" and obj == "*@*" else f"config:{obj}"
    try:
        verdict = security.policy.allows(subject, action, target)
    except Problem as problem:
        return {"action": action, "object": obj, "allowed": False, "reason": problem.detail}
    if isinstance(verdict, bool):
        allowed, reason = verdict, None if verdict else (LOCAL_REASON if insecure else None)
    else:
        allowed, reason = verdict.allowed, verdict.reason
    return {"action": action, "object": obj, "allowed": allowed, "reason": reason}
