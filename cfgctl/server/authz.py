"""`GET /api/v1/authz/check?subject=&action=&object=`: may SUBJECT do ACTION on OBJECT, by the
rbac.yaml of the branch head, with the reason and the grant that allows it. For callers with
the `admin` action on the server only (an answer says who may see what).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from cfgctl.errors import InputError
from cfgctl.server.access import RbacPolicy, Rules
from cfgctl.server.etag import encode
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.repository import ServedRepo
from cfgctl.server.security import Subject, authorize, current_subject

__all__ = ["router"]

router = APIRouter()


class AuthzDecision(BaseModel):
    """The answer of /authz/check (the OpenAPI shape)."""

    subject: str
    action: str
    object: str
    allowed: bool
    reason: str
    matched_rule: str | None  # rbac.yaml:LINE:COLUMN of the grant that allows it
    commit: str  # the branch head whose rbac.yaml decided


@router.get(
    "/authz/check",
    response_model=AuthzDecision,
    responses=problem_responses(400, 401, 403, 422, 503),
    summary="Can SUBJECT do ACTION on OBJECT? (admin only)",
)
async def check(
    request: Request,
    caller: Annotated[Subject, Depends(current_subject)],
    subject: Annotated[str, Query(description="A subject rbac.yaml names (alice, ci-bot).")],
    action: Annotated[str, Query(description="read, reveal, edit, approve, merge or admin.")],
    target: Annotated[
        str,
        Query(alias="object", description="SERVICE@ENV (payments@prod), or *@* for the server."),
    ],
) -> Response:
    authorize(request, caller, "admin", "server")
    rules = await _rules(request)
    obj = target.removeprefix("config:")
    try:
        decision = rules.authorizer.explain(subject, action, obj)
    except InputError as exc:
        raise Problem.bad_request(exc.message, hint=exc.hint) from None
    body = {"subject": subject, "action": action, "object": obj, **decision.to_dict()}
    body["commit"] = rules.commit
    return Response(
        encode(body),
        media_type="application/json",
        headers={"Cache-Control": "no-store", "Cfgctl-Commit": rules.commit},
    )


async def _rules(request: Request) -> Rules:
    """The rules the server decides with; loaded from the head when its policy is another."""
    policy = request.app.state.security.policy
    if isinstance(policy, RbacPolicy) and policy.rules is not None:
        return policy.rules
    served: ServedRepo = request.app.state.served
    head: str = request.app.state.watcher.head
    loaded = RbacPolicy()
    return await served.run(Rules.load, served, loaded.cache, head)
