"""The warm read: `GET /api/v1/config/{service}/{env}` answered in front of the framework when
its answer at the head is already computed.

    app.add_middleware(WarmReads)      # innermost of the app's own middleware (app.py)

The configuration read is what every service, sidecar and dashboard polls; at the head it is the
same bytes for everyone until a commit changes them. This pure ASGI middleware answers it without
FastAPI's routing, validation and dependency injection, and only when all of these hold:

- `GET`, the path is exactly `/api/v1/config/SERVICE/ENV`, no query string (so no `rev`,
  `provenance`, `reveal` or `wait`: those go the full way);
- the app's own `Security` authenticates the request and its policy allows `read` on
  `config:SERVICE@ENV` (the same calls the route makes, through `Security.permits`);
- the answer of (head, SERVICE, ENV) is in the `ServedRepo`'s memo (the route put it there).

Anything else, including every refusal, an unknown name and the first read after a commit, falls
through to the route, unchanged: it answers, audits and fills the memo, so the fast path never
has a behaviour of its own to get wrong. The bytes, ETag, `Cfgctl-Commit` and `Cache-Control`
it sends are the route's (tests/server/test_warmreads.py compares the two). The app's
`state.warm_reads` counts the reads it answered.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cfgctl.server.etag import not_modified
from cfgctl.server.reads import headers_for
from cfgctl.server.repository import ServedRepo, View
from cfgctl.server.security import Security

__all__ = ["CONFIG_PREFIX", "WarmReads", "config_key"]

CONFIG_PREFIX = "/api/v1/config/"


def config_key(
    commit: str, service: str, env: str, provenance: bool, reveal: bool
) -> tuple[Any, ...]:
    """The memo key of a configuration read (the route's and the fast path's)."""
    return (commit, "config", service, env, provenance, reveal)


class WarmReads:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # View -> its response headers (200, 304): built once per answer, not per request.
        self._heads: dict[int, tuple[View, list[tuple[bytes, bytes]], list[tuple[bytes, bytes]]]]
        self._heads = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and not scope["query_string"]
            and scope["path"].startswith(CONFIG_PREFIX)
        ):
            view = await self._warm(scope)
            if view is not None:
                scope["app"].state.warm_reads += 1
                await self._send(scope, view, send)
                return
        await self.app(scope, receive, send)

    async def _warm(self, scope: Scope) -> View | None:
        """The kept answer this request may have, or None: the route decides."""
        pair = scope["path"][len(CONFIG_PREFIX) :].split("/")
        if len(pair) != 2 or not pair[0] or not pair[1]:
            return None
        service, env = pair
        state = scope["app"].state
        served: ServedRepo = state.served
        head: str | None = state.watcher.head
        if head is None:
            return None
        view = served.known(config_key(head, service, env, False, False))
        if not isinstance(view, View):
            return None
        security: Security = state.security
        request = Request(scope)
        try:
            subject = await security.authenticator(request)
            if security.prepare is not None:
                await security.prepare(request)
            allowed = security.permits(subject, "read", f"config:{service}@{env}")
        except Exception:  # noqa: BLE001  any doubt: the route answers (and audits) it
            return None
        return view if allowed else None

    async def _send(self, scope: Scope, view: View, send: Send) -> None:
        known = self._heads.get(id(view))
        if known is None or known[0] is not view:
            common = [(k.lower().encode(), v.encode()) for k, v in headers_for(view.commit).items()]
            etag = (b"etag", view.etag.encode())
            ok = [
                etag,
                *common,
                (b"content-length", str(len(view.body)).encode()),
                (b"content-type", b"application/json"),
            ]
            if len(self._heads) >= 1024:
                self._heads.clear()
            known = (view, ok, [etag, *common])
            self._heads[id(view)] = known
        if_none_match = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        if if_none_match is not None and not_modified(if_none_match.decode("latin-1"), view.etag):
            await send({"type": "http.response.start", "status": 304, "headers": known[2]})
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.start", "status": 200, "headers": known[1]})
        await send({"type": "http.response.body", "body": view.body})
