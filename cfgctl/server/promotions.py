"""`POST /api/v1/promotions`: "make prod like staging for these keys", as a change request.

    POST /promotions  {"from": "staging", "to": "prod",
                       "keys": [{"service": "payments", "key": "db.pool_size"}],
                       "commit": "3f2a...", "title": "prod: the pool of staging"}
    202 Accepted, Location: /api/v1/changes/7
    {"id": 7, ..., "plan": {...}, "verdict": {...},
     "promotion": {"from": "staging", "to": "prod",
                   "moves": [{"service": "payments", "key": "db.pool_size", "action": "unset",
                              "file": "config/prod/payments.yaml", "secret": false}],
                   "skipped": []}}

The edits are `cfgctl promote`'s (`cfgctl.operate.promote.plan_promotion`, once per service:
the fewest values written into the target's own files, comments kept, the result validated for
the target and every environment inheriting it), committed as a change request on the branch
head through the server's desk (writes.py): the branch never moves here. Planned on the masked
snapshot, which opens no secret: a secret that differs is listed in `skipped` (set it with
`PUT /secrets/...`), never moved nor shown.

`commit` is the commit the comparison was read at: when the configurations of a service in
`from` or `to` at the head differ from those at `commit`, the answer is 412 (compare again),
as a PATCH's If-Match. Access: `read` on `config:SERVICE@FROM` and `edit` on
`config:SERVICE@TO` for every service named. A key neither side has is a 400 naming it; a
promotion that changes nothing (the keys agree already, or every one is skipped) a 422
`invalid-patch` with the skipped keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from cfgctl.diagnostics import DiagnosedFailure
from cfgctl.errors import InputError
from cfgctl.server.compare import check_names
from cfgctl.server.etag import encode
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.security import Subject, authorize, current_subject
from cfgctl.server.writes import MAX_TITLE, Desk, desk_of, read_json, title_of

if TYPE_CHECKING:
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["router"]

router = APIRouter(tags=["dashboard"])
MAX_KEYS = 500
GLOB = set("*?[]")
ITEM = ("service", "key")
BODY = {
    "requestBody": {
        "required": True,
        "description": "What to promote: {from, to, keys: [{service, key}], commit?, title?}",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["from", "to", "keys"],
                    "properties": {
                        "from": {"type": "string"},
                        "to": {"type": "string"},
                        "keys": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_KEYS,
                            "items": {
                                "type": "object",
                                "required": ["service", "key"],
                                "properties": {
                                    "service": {"type": "string"},
                                    "key": {"type": "string"},
                                },
                            },
                        },
                        "commit": {"type": "string"},
                        "title": {"type": "string", "maxLength": MAX_TITLE},
                    },
                }
            }
        },
    }
}


@dataclass(frozen=True)
class Ask:
    """A promotion asked for: keys by service, in the order given."""

    source: str
    target: str
    keys: dict[str, list[str]]
    commit: str | None
    title: str | None


def _ask(body: Any) -> Ask:
    """The body checked; a 400 naming what is wrong."""
    hint = (
        'e.g. {"from": "staging", "to": "prod", '
        '"keys": [{"service": "payments", "key": "db.pool_size"}]}'
    )
    if not isinstance(body, dict) or not {"from", "to", "keys"} <= body.keys():
        raise Problem.bad_request("the body is {from, to, keys, commit?, title?}", hint=hint)
    source, target, keys = body["from"], body["to"], body["keys"]
    commit, title = body.get("commit"), body.get("title")
    if not all(isinstance(v, str) and v for v in (source, target)):
        raise Problem.bad_request("from and to are environments' names", hint=hint)
    if not all(isinstance(v, str | None) for v in (commit, title)):
        raise Problem.bad_request("commit and title are strings", hint=hint)
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_KEYS:
        raise Problem.bad_request(f"keys is a list of 1 to {MAX_KEYS} keys", hint=hint)
    chosen: dict[str, list[str]] = {}
    for item in keys:
        ok = isinstance(item, dict) and all(
            isinstance(item.get(k), str) for k in ("service", "key")
        )
        if not ok:
            raise Problem.bad_request("each key is {service, key}, both strings", hint=hint)
        if GLOB & set(item["key"]):
            raise Problem.bad_request(
                f"key {item['key']!r}: name one key, not a pattern",
                hint="cfgctl promote --keys takes patterns; here each key is named",
            )
        names = chosen.setdefault(item["service"], [])
        if item["key"] not in names:
            names.append(item["key"])
    if source == target:
        raise Problem.bad_request(
            f"from and to are both {source!r}", hint="promote from one environment to another"
        )
    return Ask(source, target, chosen, commit, title)


def _check_keys(snap: Snapshot, ask: Ask) -> None:
    """404 for names the snapshot lacks, 400 for a key neither side has."""
    from cfgctl.repo.keypath import parse_key
    from cfgctl.repo.render import lookup

    for env in (ask.source, ask.target):
        check_names(snap, env, None)
    for service, keys in ask.keys.items():
        check_names(snap, ask.source, service)
        sides = [snap.render(service, env).data for env in (ask.source, ask.target)]
        for key in keys:
            try:
                path = parse_key(key)
            except InputError as exc:
                raise Problem.bad_request(exc.message, hint=exc.hint) from None
            if not any(lookup(data, path)[0] for data in sides):
                raise Problem.bad_request(
                    f"{service} has no key {key} in {ask.source} or {ask.target}",
                    hint=f"GET /api/v1/compare?env={ask.source}&env={ask.target}&service="
                    f"{service}&all=true lists its keys",
                )


def _moved(before: Snapshot, after: Snapshot, ask: Ask) -> list[str]:
    """The pairs whose configuration differs between the two snapshots."""
    from cfgctl.repo.yamlio import same_data

    out = []
    for service in ask.keys:
        for env in (ask.source, ask.target):
            try:
                same = same_data(before.render(service, env).data, after.render(service, env).data)
            except InputError:
                same = False
            if not same:
                out.append(f"{service}@{env}")
    return out


def _open(desk: Desk, tip: str, ask: Ask, author: str) -> dict[str, Any]:
    """On the repository's thread: the promotion planned at `tip`, opened as a change
    request on `tip`, judged; its document with `promotion`."""
    from cfgctl.operate.promote import plan_promotion

    snap = desk.served.snapshot(tip)
    _check_keys(snap, ask)
    if ask.commit is not None:
        moved = _moved(desk.served.snapshot(desk.served.resolve_now(ask.commit)), snap, ask)
        if moved:
            raise Problem(
                "precondition-failed",
                f"{', '.join(moved)} changed since the comparison at {ask.commit[:12]}",
                hint="compare again, check the promotion still makes sense, and send it again",
                extra={"commit": tip},
            )
    moves, skipped, files = [], [], {}
    for service, keys in ask.keys.items():
        try:
            plan = plan_promotion(snap, ask.source, ask.target, [service], keys=keys, secrets=False)
        except DiagnosedFailure as exc:
            errors = [d.to_dict() for d in exc.diagnostics]
            raise Problem(
                "check-failed", exc.message, hint=exc.hint, extra={"errors": errors}
            ) from None
        moves += [m.to_dict() for m in plan.moves]
        skipped += [s.to_dict() for s in plan.skipped]
        files.update({snap.git_prefix + rel: data for rel, data in plan.writes.items()})
    if not files:
        raise Problem(
            "invalid-patch",
            f"the promotion from {ask.source} to {ask.target} changes nothing",
            hint="the keys agree already, or each one is skipped (see skipped: a secret is set "
            "with PUT /api/v1/secrets/..., an env-local key differs on purpose)",
            extra={"skipped": skipped},
        )
    keys = [f"{m['service']}.{m['key']}" if len(ask.keys) > 1 else m["key"] for m in moves]
    shown = ", ".join(keys[:3]) + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
    where = "" if len(ask.keys) > 1 else f"{next(iter(ask.keys))} "
    default = f"{ask.target} like {ask.source}: {where}{shown}"
    title = title_of(ask.title, "", "", []) if ask.title is not None else default[:MAX_TITLE]
    message = f"{title}\n\nPromoted {ask.source} to {ask.target} through the API:\n" + "".join(
        f"- {m['action']} {m['service']} {m['key']} in {m['file']}\n" for m in moves
    )
    change = desk.store.open(title, author, desk.served.branch, files, message=message,
                             parent=tip)  # fmt: skip
    doc = desk.judge(change.id).to_dict()
    doc["promotion"] = {"from": ask.source, "to": ask.target, "moves": moves, "skipped": skipped}
    return doc


@router.post(
    "/promotions",
    status_code=202,
    responses={
        202: {"description": "The change request opened"},
        **problem_responses(400, 403, 404, 412, 413, 415, 422, 503),
    },
    openapi_extra=BODY,
    summary="Make TO like FROM for these keys: opens a change request (cfgctl promote's edits)",
)
async def post_promotion(
    request: Request, subject: Annotated[Subject, Depends(current_subject)]
) -> Response:
    ask = _ask(await read_json(request, types=("application/json",)))
    for service in ask.keys:
        authorize(request, subject, "read", f"config:{service}@{ask.source}")
        authorize(request, subject, "edit", f"config:{service}@{ask.target}")
    served = request.app.state.served
    tip = served.read_head()
    if tip is None:
        raise Problem("environment", f"branch {served.branch} is gone", hint="restart the server")
    desk = desk_of(request)
    doc = await desk.write(_open, desk, tip, ask, subject.name)
    headers = {"Cache-Control": "no-store", "Location": f"/api/v1/changes/{doc['id']}"}
    return Response(encode(doc), 202, headers, media_type="application/json")
