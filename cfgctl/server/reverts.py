"""`POST /api/v1/reverts`: a change request that undoes one commit of the served branch.

    curl -s -X POST $API/reverts -H 'Content-Type: application/json' -d '{"commit": "3f2a9c4"}'
    HTTP/1.1 202 Accepted   (Location: /api/v1/changes/N, the change request as GET shows it)

The revert is computed on the branch's tip without a work tree (review/reverts.py) and opened
through the desk like every write: it never moves the branch. Refused: a commit the repository
does not have (404), one the branch does not contain, one whose undoing conflicts with later
edits (409, the files in `files`) or undoes nothing. Access: `edit` on every configuration the
revert touches: each layer file's `config:SERVICE@ENV`, each pair whose effective configuration
it changes (a `_defaults.yaml`: every service of its environment and those inheriting it), and
`config:*@*` when it touches a file that spans every pair (cfgctl.yaml, a schema, policy.yaml,
rbac.yaml...). What the commit itself touched is asked before anything is computed or written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cfgctl.errors import InputError
from cfgctl.server.etag import encode
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.security import Subject, authorize, current_subject
from cfgctl.server.writes import EVERY_PAIR, Desk, desk_of, read_json, title_of, touched

if TYPE_CHECKING:
    from cfgctl.review.reverts import Revert

T = TypeVar("T")

__all__ = ["router"]

router = APIRouter(tags=["changes"])
SubjectDep = Annotated[Subject, Depends(current_subject)]
BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["commit"],
                    "properties": {
                        "commit": {"type": "string", "description": "The commit to undo."},
                        "title": {"type": "string", "description": "Else 'Revert \"...\"'."},
                    },
                }
            }
        },
    }
}


def _touched(desk: Desk, commit: str) -> tuple[str, list[str]]:
    """The commit, once it is one of the branch's, and the objects its own changes touch (asked
    before anything is written)."""
    from cfgctl.review.reverts import commit_on_branch

    served = desk.served
    found, paths = _refusals(lambda: commit_on_branch(desk.store.repo, served.branch, commit))
    tip = served.read_head() or found
    return found, sorted(touched(served.snapshot(tip), paths)) or [EVERY_PAIR]


def _prepare(desk: Desk, commit: str) -> tuple[Revert, list[str]]:
    """The revert of `commit` on the branch's tip and the objects it touches: its files', and
    every pair whose effective configuration it changes."""
    from cfgctl.changes.diff import diff_snapshots
    from cfgctl.review.reverts import revert_of

    served = desk.served
    found = _refusals(lambda: revert_of(desk.store.repo, served.branch, commit))
    before = served.snapshot(found.tip)
    objects = touched(before, list(found.files))
    if EVERY_PAIR not in objects:
        diff = diff_snapshots(before, served.snapshot(found.head))
        objects |= {f"config:{p.service}@{p.env}" for p in diff.pairs}
    return found, sorted(objects) or [EVERY_PAIR]


def _refusals(act: Callable[[], T]) -> T:
    from cfgctl.review.reverts import NotOnBranch, RevertConflict

    try:
        return act()
    except NotOnBranch as exc:
        raise Problem("conflict", exc.message, hint=exc.hint) from None
    except RevertConflict as exc:
        raise Problem("conflict", exc.message, hint=exc.hint, extra={"files": exc.files}) from None
    except InputError as exc:
        raise Problem.not_found(exc.message, hint=exc.hint) from None


def _open(desk: Desk, found: Revert, title: str, author: str) -> dict[str, Any]:
    change = desk.store.open(
        title, author, desk.served.branch, found.files, message=found.message, parent=found.tip
    )
    return desk.judge(change.id).to_dict()


@router.post(
    "/reverts",
    status_code=202,
    responses={
        202: {"description": "The change request opened"},
        **problem_responses(400, 403, 404, 409, 413, 415, 503),
    },
    openapi_extra=BODY,
    summary="Open a change request that undoes one commit of the branch",
)
async def post_revert(request: Request, subject: SubjectDep) -> Response:
    body = await read_json(request, types=("application/json",))
    commit = body.get("commit") if isinstance(body, dict) else None
    title = body.get("title") if isinstance(body, dict) else None
    if not isinstance(commit, str) or not commit.strip() or not isinstance(title, str | None):
        raise Problem.bad_request(
            'the body is {"commit": COMMIT, "title"?: TEXT}',
            hint='e.g. {"commit": "3f2a9c4"}: a commit of the branch (GET /api/v1/history/...)',
        )
    if len(commit) > 200 or commit.strip().startswith("-") or not commit.isprintable():
        raise Problem.bad_request("commit names a commit id", hint="e.g. 3f2a9c4")
    desk = desk_of(request)
    named, objects = await desk.run(_touched, desk, commit.strip())
    for obj in objects:  # what the commit touched: before anything is written
        authorize(request, subject, "edit", obj)
    found, more = await desk.run(_prepare, desk, named)
    for obj in sorted(set(more) - set(objects)):  # and the pairs its undoing reaches
        authorize(request, subject, "edit", obj)
    name = found.title if title is None else title_of(title, "", "", [])
    doc = await desk.write(_open, desk, found, name, subject.name)
    headers = {"Cache-Control": "no-store", "Location": f"/api/v1/changes/{doc['id']}"}
    return Response(encode(doc), 202, headers, media_type="application/json")
