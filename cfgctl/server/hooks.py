"""`POST /api/v1/hooks/git`: a Git host's push event makes a remote-mode server fetch at once.

GitHub's webhook (content type application/json, the secret of `--webhook-secret-env`): the
body is signed with HMAC-SHA256 in `X-Hub-Signature-256: sha256=<hex>`, checked as the agent
checks it (`agent.server.signature_ok`, a constant-time comparison). An unsigned or forged
request is a 401 and one audit line (`fetch` on `server`, reason `missing` or `forged`); its
body is never parsed. A `ping` is answered; a `push` to the served branch is fetched before the
answer (the long polls wake at once), a push to another branch is ignored (202). Without
`--remote` and `--webhook-secret-env` the path answers 404.
"""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from cfgctl.agent.server import MAX_BODY, signature_ok
from cfgctl.server.etag import encode
from cfgctl.server.problems import Problem, problem_responses
from cfgctl.server.repository import ServedRepo
from cfgctl.server.security import Decision, Security, Subject, request_id
from cfgctl.server.writes import read_capped

__all__ = ["router"]

router = APIRouter()
SENDER = Subject("webhook", anonymous=True, via="hmac")


def _refuse(request: Request, reason: str) -> Problem:
    security: Security = request.app.state.security
    path = request.url.path
    decision = Decision(
        SENDER, "fetch", "server", False, path, reason=reason,
        request_id=request_id(request), commit=request.app.state.watcher.head,
    )  # fmt: skip
    security.refused(decision)
    return Problem(
        "unauthenticated",
        f"{reason} X-Hub-Signature-256: the webhook's body must be signed with its secret",
        hint="set the same secret in the Git host's webhook and in the variable "
        "--webhook-secret-env names",
        extra={"reason": reason},
    )


def _answer(doc: dict[str, Any], status: int = 200) -> Response:
    headers = {"Cache-Control": "no-store"}
    return Response(encode(doc), status, headers, media_type="application/json")


@router.post(
    "/hooks/git",
    responses={
        200: {"description": "Fetched (a push to the served branch) or a ping answered"},
        202: {"description": "An event or a branch this server does not serve: ignored"},
        **problem_responses(401, 404, 413, 503),
    },
    summary="A Git host's push webhook (GitHub's X-Hub-Signature-256): fetch the remote now",
)
async def git_hook(request: Request) -> Response:
    served: ServedRepo = request.app.state.served
    settings = request.app.state.settings
    upstream = served.upstream
    if upstream is None or settings.webhook_secret_env is None:
        raise Problem.not_found(
            "this server takes no webhook",
            hint="start it with --remote URL --branch NAME --webhook-secret-env VAR",
        )
    header = request.headers.get("x-hub-signature-256")
    if not header or not header.startswith("sha256="):
        raise _refuse(request, "missing")
    body = await read_capped(request, MAX_BODY, "a push event is smaller")  # the agent's cap: 5 MB
    secret = os.environ.get(settings.webhook_secret_env, "").encode()
    if not secret or not signature_ok(secret, body, header):
        raise _refuse(request, "forged")
    event = request.headers.get("x-github-event", "")
    if event == "ping":
        return _answer({"event": "ping", "fetched": None})
    ref = _pushed_ref(body) if event == "push" else None
    if ref != f"refs/heads/{upstream.branch}":
        ignored = f"event {event!r}" if event != "push" else f"a push to {ref}"
        return _answer({"event": event, "ignored": ignored, "fetched": None}, 202)
    head = await upstream.fetch_soon()
    if head is None:
        doc = upstream.document()
        raise Problem(
            "environment",
            f"cannot fetch {upstream.url}: {doc['error']}",
            hint="the server keeps serving the last fetched commit and retries",
        )
    request.app.state.watcher.poll()  # the long polls of this worker wake now
    return _answer({"event": "push", "fetched": head})


def _pushed_ref(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    ref = data.get("ref") if isinstance(data, dict) else None
    return ref if isinstance(ref, str) else None
