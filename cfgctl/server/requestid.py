"""One id per request, in `request.state.request_id`, the audit log and the `X-Request-Id`
response header.

    app.add_middleware(RequestIdMiddleware)

The id is always the server's own (`r-` and 16 hex digits): one a client sends is ignored, so
what the audit log holds cannot be chosen by a caller. A pure ASGI middleware: it only adds a
header, and leaves the body and `http.disconnect` (which the long poll listens for) alone.
"""

from __future__ import annotations

import secrets
from collections.abc import MutableMapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADER", "RequestIdMiddleware", "new_request_id"]

HEADER = "X-Request-Id"


def new_request_id() -> str:
    return "r-" + secrets.token_hex(8)


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # No route sets this header: the middleware's is the only one.
                headers = [*message.get("headers", ()), (b"x-request-id", rid.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)
