"""`--insecure-local` answers only requests addressed to a loopback name: a web page the
developer has open cannot read the server through DNS rebinding (a name of the attacker's that
resolves to 127.0.0.1 carries the attacker's name in its `Host` header).

    app.add_middleware(LoopbackHostMiddleware)      # only when the server runs insecure-local

Allowed hosts: `localhost`, `127.0.0.1` (any 127.x address), `::1` (as `[::1]`), with or
without a port. Anything else: 400 `bad-request` as a problem document, nothing read.
"""

from __future__ import annotations

import functools
import ipaddress
import json

from starlette.types import ASGIApp, Receive, Scope, Send

from cfgctl.server.problems import PROBLEM_MEDIA_TYPE, Problem

__all__ = ["LoopbackHostMiddleware", "loopback_host"]


@functools.lru_cache(maxsize=256)  # a server is asked by few names: parse each once
def loopback_host(header: str) -> bool:
    """Whether a `Host` header names this machine's loopback (with or without a port)."""
    host = header.strip().lower()
    if host.startswith("["):  # [::1]:8080
        host = host[1 : host.find("]")] if "]" in host else ""
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackHostMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if not loopback_host(host):
                problem = Problem.bad_request(
                    f"Host {host[:100]!r} is not a loopback name: an --insecure-local server "
                    "answers requests to localhost only",
                    hint="ask http://127.0.0.1:PORT or http://localhost:PORT; serve with API "
                    "tokens to be reached by other names",
                )
                body = json.dumps(problem.document(scope.get("path"))).encode()
                await send({"type": "http.response.start", "status": 400, "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                ]})  # fmt: skip
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
