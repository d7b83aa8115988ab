"""The CLI's reports as JSON: the same library functions, the same bodies `--format json` prints.

    GET /api/v1/diff?base=&head=              cfgctl diff BASE HEAD --format json
    GET /api/v1/history/{service}/{env}?key=  cfgctl history SERVICE KEY --env ENV --format json
    GET /api/v1/explain/{service}/{env}?key=  cfgctl explain SERVICE KEY --env ENV --format json
    GET /api/v1/validate?rev=                 cfgctl validate --rev REV --format json
    GET /api/v1/plan?base=&head=              cfgctl pr plan --base B --head H --format json

Revisions are resolved first (an unknown one is a 404 problem) and each answer is computed once
per commit on the repository's thread and kept (a commit never changes). Secrets are masked as
the CLI masks them (`secret: true`, `***`); diff, history, explain and validate read through
the server's masked session, which never decrypts: a secret is compared by its ciphertext and
its value is not validated (as `cfgctl validate` without a key). Authorization: `read` on
`config:SERVICE@ENV` for history and explain; `read` on `config:*@*` for diff, validate and
plan, which span every service and environment.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response

from cfgctl.errors import CfgctlError, InputError
from cfgctl.server.etag import encode, etag_of, headers_for, respond
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.reads import commit_for
from cfgctl.server.repository import ServedRepo
from cfgctl.server.security import Subject, authorize, current_subject

__all__ = ["ALL_CONFIGS", "router", "validation_body"]

router = APIRouter(tags=["reports"])
ALL_CONFIGS = "config:*@*"
SubjectDep = Annotated[Subject, Depends(current_subject)]
INM = Annotated[str | None, Header()]
KeyQuery = Annotated[str, Query(description="A dotted key path: db.pool_size.")]
RevQuery = Annotated[
    str | None, Query(description="A commit, branch or tag; default: the branch head.")
]
ERRORS = problem_responses(400, 403, 404, 422, 503)
RESPONSES: dict[int | str, dict[str, Any]] = {304: {"description": "Not modified"}, **ERRORS}


def _library(fn: Callable[[], Any]) -> Callable[[], bytes]:
    """`fn()`'s result encoded; an InputError of the library (a bad key, a key no layer sets)
    is the request's: 400; any other CfgctlError mapped by its class."""

    def run() -> bytes:
        try:
            return encode(fn())
        except InputError as exc:
            raise Problem.from_error(exc, "bad-request") from None
        except CfgctlError as exc:
            raise Problem.from_error(exc) from None

    return run


async def _answer(
    request: Request, key: Hashable, build: Callable[[], bytes], commit: str, inm: str | None
) -> Response:
    served: ServedRepo = request.app.state.served
    body = await served.once(key, build)
    return respond(inm, body, etag_of(body), headers_for(commit))


@router.get("/diff", responses=RESPONSES, summary="The semantic diff of two revisions")
async def diff(
    request: Request,
    subject: SubjectDep,
    base: Annotated[str, Query(description="The old side: a commit, branch or tag.")],
    head: Annotated[
        str | None, Query(description="The new side; default: the branch head.")
    ] = None,
    env: Annotated[list[str] | None, Query(description="Only these environments (globs).")] = None,
    service: Annotated[list[str] | None, Query(description="Only these services (globs).")] = None,
    if_none_match: INM = None,
) -> Response:
    """What `cfgctl diff BASE HEAD --format json` prints: every changed key of every service in
    every environment, inherited effects included, secrets as `secret: true` without values."""
    from cfgctl.changes.diff import diff_snapshots

    authorize(request, subject, "read", ALL_CONFIGS)
    served: ServedRepo = request.app.state.served
    old, new = await served.resolve(base), await commit_for(request, head)
    envs, services = tuple(env or ()), tuple(service or ())

    def build() -> Any:
        result = diff_snapshots(
            served.snapshot(old), served.snapshot(new), envs=list(envs), services=list(services)
        )
        return result.to_list()

    key = (new, "diff", old, envs, services)
    return await _answer(request, key, _library(build), new, if_none_match)


@router.get(
    "/history/{service}/{env}",
    responses=RESPONSES,
    summary="The commits that changed one effective value",
)
async def history(
    request: Request,
    service: str,
    env: str,
    subject: SubjectDep,
    key: KeyQuery,
    rev: RevQuery = None,
    max_count: Annotated[
        int | None, Query(alias="max", ge=1, le=10000, description="At most N commits.")
    ] = None,
    if_none_match: INM = None,
) -> Response:
    """What `cfgctl history SERVICE KEY --env ENV --format json` prints, newest first; a secret
    shows as `secret: true` without values."""
    from cfgctl.changes.history import key_history
    from cfgctl.repo.keypath import parse_key

    authorize(request, subject, "read", f"config:{service}@{env}")
    served: ServedRepo = request.app.state.served
    commit = await commit_for(request, rev)

    def build() -> Any:
        snap = served.snapshot(commit)
        served.check_pair(snap, service, env)
        changes = key_history(snap, service, env, parse_key(key), max_count=max_count)
        return [c.to_dict() for c in changes]

    cache_key = (commit, "history", service, env, key, max_count)
    return await _answer(request, cache_key, _library(build), commit, if_none_match)


@router.get(
    "/explain/{service}/{env}",
    responses=RESPONSES,
    summary="The layers that set one key, in merge order",
)
async def explain(
    request: Request,
    service: str,
    env: str,
    subject: SubjectDep,
    key: KeyQuery,
    rev: RevQuery = None,
    blame: Annotated[bool, Query(description="Add the commit that last changed each line.")] = (
        False
    ),
    if_none_match: INM = None,
) -> Response:
    """What `cfgctl explain SERVICE KEY --env ENV --format json` prints: a list of {env, file,
    line, column, value, wins} (with blame: commit, author, date); secret values `***`."""
    from cfgctl.changes.explain import explain_key

    authorize(request, subject, "read", f"config:{service}@{env}")
    served: ServedRepo = request.app.state.served
    commit = await commit_for(request, rev)

    def build() -> Any:
        snap = served.snapshot(commit)
        served.check_pair(snap, service, env)
        return explain_key(snap, service, env, key, blame=blame).to_list()

    cache_key = (commit, "explain", service, env, key, blame)
    return await _answer(request, cache_key, _library(build), commit, if_none_match)


@router.get("/validate", responses=RESPONSES, summary="The validation report of a revision")
async def validate(
    request: Request, subject: SubjectDep, rev: RevQuery = None, if_none_match: INM = None
) -> Response:
    """What `cfgctl validate --rev REV --format json` prints, with the same checks (policy.yaml,
    rbac.yaml, CODEOWNERS, sops files, credentials). 200 whether it passes or not: `ok` says."""
    authorize(request, subject, "read", ALL_CONFIGS)
    served: ServedRepo = request.app.state.served
    commit = await commit_for(request, rev)
    body = await validation_body(served, commit)
    return respond(if_none_match, body, etag_of(body), headers_for(commit))


async def validation_body(served: ServedRepo, commit: str) -> bytes:
    """The validation report of `commit` as JSON, computed once per commit (the overview of
    the dashboard reads it too)."""
    from cfgctl.checks.validate import validate_snapshot
    from cfgctl.server.checksuite import repository_checks

    def build() -> Any:
        snap = served.snapshot(commit)
        return validate_snapshot(snap, checks=repository_checks()).to_dict()

    return await served.once((commit, "validate"), _library(build))


@router.get("/plan", responses=RESPONSES, summary="The plan of a change: impact, rules, risk")
async def plan(
    request: Request,
    subject: SubjectDep,
    base: Annotated[str, Query(description="The branch the change merges into.")],
    head: Annotated[str, Query(description="The change: a commit, branch or tag.")],
    if_none_match: INM = None,
) -> Response:
    """What `cfgctl pr plan --base BASE --head HEAD --format json` prints: from the merge base
    of BASE and HEAD to HEAD, as a pull request sees it, with the rules of policy.yaml at BASE
    and the permissions a change to rbac.yaml adds."""
    authorize(request, subject, "read", ALL_CONFIGS)
    served: ServedRepo = request.app.state.served
    old, new = await served.resolve(base), await served.resolve(head)
    build = _library(lambda: _plan(served, old, new))
    return await _answer(request, (new, "plan", old), build, new, if_none_match)


def _plan(served: ServedRepo, base: str, head: str) -> dict[str, Any]:
    from cfgctl.review.plan import make_plan
    from cfgctl.server.rbacdiff import added_by_change

    made = make_plan(served.root, base, head, use_cache=False)
    made.permissions_added = [
        str(p) for p in added_by_change(served.snapshot(made.base), served.snapshot(made.head))
    ]
    return made.to_dict()
