"""`POST /api/v1/services`: a new service from a template, as a change request.

    POST /api/v1/services  {"template": "web-service", "service": "billing",
                            "params": {"port": 9000}, "title": "..."}
    -> 202, Location: /api/v1/changes/N, the change request as GET /changes/N shows it

What `cfgctl new service NAME --template T --set K=V` writes (the rendered files of
templates/T/files/, the service's entry in cfgctl.yaml with its template record, a generated
CODEOWNERS brought up to date), computed from the branch head with the same library
(`editing.scaffold.plan_new_service`) and committed as a change request on that head through
the desk (writes.py): the branch never moves here. Parameters arrive typed (JSON); one that is
unknown, missing or breaks its declaration is a 422 `invalid-parameter` naming it in
`parameter` (`service` for a name that is malformed or taken). Access: `edit` on every
`config:SERVICE@ENV` of the new service (each environment that is not abstract), asked before
anything is rendered.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cfgctl.errors import CheckFailed, InputError
from cfgctl.review.changerequests import Judged
from cfgctl.server.etag import encode
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.security import Subject, authorize, current_subject
from cfgctl.server.writes import MAX_DEPTH, MAX_TITLE, Desk, depth, desk_of, read_json

__all__ = ["router"]

router = APIRouter()
SubjectDep = Annotated[Subject, Depends(current_subject)]
BODY = {
    "requestBody": {
        "required": True,
        "description": "The template, the new service's name, its parameters (typed).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["template", "service"],
                    "properties": {
                        "template": {"type": "string"},
                        "service": {"type": "string"},
                        "params": {"type": "object", "additionalProperties": True},
                        "title": {"type": "string", "minLength": 1, "maxLength": MAX_TITLE},
                    },
                }
            }
        },
    }
}


def _fields(body: Any) -> tuple[str, str, dict[str, Any], str | None]:
    hint = '{"template": "web-service", "service": "billing", "params": {"port": 9000}}'
    if not isinstance(body, dict) or not {"template", "service"} <= body.keys():
        raise Problem.bad_request("the body is {template, service, params?, title?}", hint=hint)
    template, service = body["template"], body["service"]
    params, title = body.get("params", {}), body.get("title")
    if not isinstance(template, str) or not isinstance(service, str):
        raise Problem.bad_request("template and service are strings", hint=hint)
    if not isinstance(params, dict) or depth(params) > MAX_DEPTH:
        raise Problem.bad_request("params is an object of the template's parameters", hint=hint)
    bad_title = not isinstance(title, str) or not 0 < len(title.strip()) <= MAX_TITLE
    if title is not None and bad_title:
        raise Problem.bad_request(f"title holds 1 to {MAX_TITLE} characters", hint=hint)
    return template, service, params, title


def _pairs(desk: Desk, tip: str, service: str) -> list[str]:
    """The `config:SERVICE@ENV` objects the new service will have (its environments that are
    not abstract) at `tip`; a 422 naming `service` when the name is malformed or taken."""
    from cfgctl.editing.scaffold import check_new_name

    snap = desk.served.snapshot(tip)
    try:
        check_new_name(snap, service)
    except InputError as exc:
        raise _parameter_problem(exc, "service") from None
    envs = [e for e in snap.manifest.environments if not snap.is_abstract(e)]
    return [f"config:{service}@{e}" for e in envs]


def _parameter_problem(exc: InputError, parameter: str) -> Problem:
    return Problem(
        "invalid-parameter",
        exc.message,
        hint=exc.hint,
        location=exc.location,
        extra={"parameter": parameter},
    )


def _open(
    desk: Desk, tip: str, fields: tuple[str, str, dict[str, Any], str | None], author: str
) -> Judged:
    """Plan the new service at `tip` (the problems of a bad request as problems) and open it
    as a change request on `tip`, judged."""
    from cfgctl.checks.codeowners import CODEOWNERS, generated_codeowners_text
    from cfgctl.editing.scaffold import plan_new_service
    from cfgctl.editing.templates import BadParameter, read_template, typed_parameters

    name, service, params, title = fields
    snap = desk.served.snapshot(tip)
    try:
        template = read_template(snap, name)
    except InputError as exc:
        if exc.location is not None:  # the template's own file is broken
            raise Problem.from_error(exc) from None
        raise Problem.not_found(exc.message, hint=exc.hint) from None
    try:
        snap.schemas.resolve(template.schema)
    except InputError as exc:  # the template names a schema the repository lacks
        raise Problem.from_error(exc) from None
    try:
        planned = plan_new_service(snap, service, template, typed_parameters(template, params))
    except BadParameter as exc:
        raise _parameter_problem(exc, exc.parameter) from None
    except CheckFailed as exc:
        raise Problem.from_error(exc, "check-failed") from None
    except InputError as exc:
        if exc.location is not None:  # a template file that does not render
            raise Problem.from_error(exc) from None
        raise _parameter_problem(exc, "service") from None  # the name, or a file of it exists
    files: dict[str, bytes | None] = {
        snap.git_prefix + rel: data for rel, data in planned.writes.items()
    }
    owners = generated_codeowners_text(snap, snap.with_files(planned.writes).manifest)
    if owners is not None:
        files[CODEOWNERS] = owners.encode()
    shown = ", ".join(f"{k}={v!r}" for k, v in sorted(planned.record.parameters.items()))
    name_of = title or f"new service {service} from template {template.name}"
    message = (
        f"{name_of}\n\nThrough the API: template {template.name} version {template.version}"
        f" ({shown or 'defaults'}); files: {', '.join(sorted(planned.writes))}."
    )
    change = desk.store.open(name_of, author, desk.served.branch, files, message=message,
                             parent=tip)  # fmt: skip
    return desk.judge(change.id)


@router.post(
    "/services",
    status_code=202,
    responses={
        202: {"description": "The change request that adds the service"},
        **problem_responses(400, 403, 404, 413, 415, 422, 503),
    },
    openapi_extra=BODY,
    summary="Propose a new service made from a template (cfgctl new service): a change request",
)
async def create_service(request: Request, subject: SubjectDep) -> Response:
    fields = _fields(await read_json(request, types=("application/json",)))
    served = request.app.state.served
    tip = served.read_head()
    if tip is None:
        raise Problem("environment", f"branch {served.branch} is gone", hint="restart the server")
    desk = desk_of(request)
    for obj in await desk.run(_pairs, desk, tip, fields[1]):
        authorize(request, subject, "edit", obj)
    judged = await desk.write(_open, desk, tip, fields, subject.name)
    doc = judged.to_dict()
    headers = {"Cache-Control": "no-store", "Location": f"/api/v1/changes/{doc['id']}"}
    return Response(encode(doc), 202, headers, media_type="application/json")
