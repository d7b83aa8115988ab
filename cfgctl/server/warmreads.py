"""The warm read: `GET /api/v1/config/{service}/{env}` answered in front of the framework when
its answer at the head is already computed, and its long poll held there.

    app.add_middleware(WarmReads)      # innermost of the app's own middleware (app.py)

The configuration read is what every service, sidecar and dashboard polls; at the head it is the
same bytes for everyone until a commit changes them, and 10,000 long polls all answer at once
when one does. This pure ASGI middleware answers both without FastAPI's routing, validation and
dependency injection, and only when all of these hold:

- `GET`, the path is exactly `/api/v1/config/SERVICE/ENV`, and the query is empty or exactly
  `wait=DURATION&after=COMMIT` (so no `rev`, `provenance`, `reveal`, no repeated parameter);
- the app's own `Security` authenticates the request and its policy allows `read` on
  `config:SERVICE@ENV` (the same calls the route makes, through `Security.permits`);
- the answer of (head, SERVICE, ENV) is in the `ServedRepo`'s memo (the route put it there),
  and for a long poll `wait` parses and the baseline at `after` can be found.

Anything else, including every refusal, an unknown name and the first read after a commit, falls
through to the route, unchanged: it answers, audits and fills the memo. What both answer with
is one code (configviews.py: the view, its headers, the long poll), so the fast path has no
behaviour of its own; tests/server/test_warmreads.py compares the two byte for byte. The app's
`state.warm.answered` counts the requests it answered.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from cfgctl.server.configviews import Pair, config_headers, config_key, follow
from cfgctl.server.etag import not_modified
from cfgctl.server.longpoll import HeadWatcher, disconnected, parse_wait
from cfgctl.server.problems import Problem, problem_response
from cfgctl.server.repository import ServedRepo, View
from cfgctl.server.security import Security

__all__ = ["CONFIG_PREFIX", "WarmReads", "WarmStats"]

CONFIG_PREFIX = "/api/v1/config/"
Headers = list[tuple[bytes, bytes]]


class WarmStats:
    """What the fast path answered (the app's `state.warm`)."""

    def __init__(self) -> None:
        self.answered = 0


class WarmReads:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # View -> its response headers (200, 304): built once per answer, not per request.
        self._heads: dict[int, tuple[View, Headers, Headers]] = {}
        self._app_state: tuple[ServedRepo, HeadWatcher, Security, WarmStats] | None = None

    def _state(self, scope: Scope) -> tuple[ServedRepo, HeadWatcher, Security, WarmStats]:
        """The app's parts, read from its state once (they live as long as the app)."""
        if self._app_state is None:
            state = scope["app"].state
            self._app_state = (state.served, state.watcher, state.security, state.warm)
        return self._app_state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(CONFIG_PREFIX)
        ):
            pair = _pair(scope["path"])
            if pair is not None:
                query = scope["query_string"]
                if not query:
                    view = await self._warm(scope, pair)
                    if view is not None:
                        self._state(scope)[3].answered += 1
                        await self._send(scope, view, True, send)
                        return
                elif await self._long_poll(scope, pair, query, receive, send):
                    return
        await self.app(scope, receive, send)

    async def _warm(self, scope: Scope, pair: Pair) -> View | None:
        """The kept answer this request may have, or None: the route decides."""
        served, watcher, security, _ = self._state(scope)
        view = served.known(config_key(watcher.head, pair.service, pair.env, False, False))
        if not isinstance(view, View) or not await _allowed(security, scope, pair):
            return None
        return view

    async def _long_poll(
        self, scope: Scope, pair: Pair, query: bytes, receive: Receive, send: Send
    ) -> bool:
        """Hold `?wait=&after=` here when the route would (see the module); False: it will."""
        params = _wait_after(query)
        if params is None or await self._warm(scope, pair) is None:
            return False
        served, watcher, _, stats = self._state(scope)
        try:
            seconds = parse_wait(params[0], served.settings.max_wait)
            view, changed = await follow(
                served, watcher, pair, params[1], None, seconds,
                gone=lambda: disconnected(receive),
            )  # fmt: skip
        except Problem as problem:  # answered as the route's handler answers it
            await problem_response(problem, Request(scope))(scope, receive, send)
            return True
        stats.answered += 1
        await self._send(scope, view, changed, send)
        return True

    async def _send(self, scope: Scope, view: View, changed: bool, send: Send) -> None:
        """200 with the view, or 304 when it has not changed or If-None-Match names it."""
        known = self._heads.get(id(view))
        if known is None or known[0] is not view:
            common = [(k.lower().encode(), v.encode()) for k, v in config_headers(view).items()]
            ok = [
                *common,
                (b"content-length", str(len(view.body)).encode()),
                (b"content-type", b"application/json"),
            ]
            if len(self._heads) >= 1024:
                self._heads.clear()
            known = (view, ok, common)
            self._heads[id(view)] = known
        if changed:
            tag = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
            changed = tag is None or not not_modified(tag.decode("latin-1"), view.etag)
        status, headers = (200, known[1]) if changed else (304, known[2])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": view.body if changed else b""})


def _pair(path: str) -> Pair | None:
    parts = path[len(CONFIG_PREFIX) :].split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return Pair(parts[0], parts[1])


def _wait_after(query: bytes) -> tuple[str, str] | None:
    """(wait, after) when the query is exactly those two parameters, once each."""
    try:
        params = parse_qsl(query.decode("latin-1"), keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return None
    found = dict(params)
    if len(params) != 2 or found.keys() != {"wait", "after"}:
        return None
    return found["wait"], found["after"]


async def _allowed(security: Security, scope: Scope, pair: Pair) -> bool:
    """Whether the app's Security lets this request read `pair`, recording nothing: any doubt
    (no subject, a refusal, an error) is False, and the route answers and audits it."""
    request = Request(scope)
    try:
        subject = await security.authenticator(request)
        if security.prepare is not None:
            await security.prepare(request)
        return security.permits(subject, "read", f"config:{pair.service}@{pair.env}")
    except Exception:  # noqa: BLE001
        return False
