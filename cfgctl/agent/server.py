"""The agent's HTTP endpoints: `/healthz`, `/status` (JSON per target), `/metrics` (Prometheus)
and the GitHub webhook (`POST /webhook`: `push` events signed with `X-Hub-Signature-256`;
anything unsigned or wrongly signed is refused with 401)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from cfgctl.agent.source import redact_url
from cfgctl.agent.state import on_disk

if TYPE_CHECKING:
    from cfgctl.agent.config import AgentConfig
    from cfgctl.agent.reconcile import Agent
    from cfgctl.agent.state import AgentState

__all__ = ["AgentServer", "signature_ok", "status_document"]

log = logging.getLogger("cfgctl.agent")
MAX_BODY = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """Does `X-Hub-Signature-256: sha256=<hex>` sign `body` with `secret`?"""
    if not header or not header.startswith("sha256=") or not secret:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    given = header.removeprefix("sha256=").encode("utf-8", "replace")  # bytes: any header
    return hmac.compare_digest(expected, given)


def status_document(config: AgentConfig, state: AgentState) -> dict[str, Any]:
    """What /status serves and `cfgctl agent status` prints."""
    targets = []
    for target in config.targets:
        ts = state.target(target.name)
        disk = on_disk(target.path, ts)
        live = ts.state
        if ts.inflight is not None and disk["commit"] == ts.inflight:
            live = "in-flight"  # written, its reload and health check cut off: checked at start
        elif disk["drifted"] and ts.state == "in-sync":
            live = "drifted"
        targets.append(
            {
                "target": target.name,
                "service": target.service,
                "env": target.env,
                "path": str(target.path),
                "wave": target.wave,
                "commit": ts.applied,
                "good": ts.good,
                "state": live,
                "on_disk": disk,
                "last_error": ts.error,
                "failed_commit": ts.failed,
                "held_until": ts.held_until,
                "updated": ts.updated,
            }
        )
    return {
        "branch": config.source.branch,
        "tip": state.tip,
        "last_sync": state.last_sync,
        "remote": {
            "url": redact_url(config.source.url),
            "ok": state.remote.ok,
            "error": state.remote.error,
            "last_fetch": state.remote.last_fetch,
            "last_success": state.remote.last_success,
        },
        "targets": targets,
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)

    def _send(
        self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, (json.dumps(data, indent=2) + "\n").encode(), "application/json")

    def do_GET(self) -> None:
        agent = self.server.agent
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send(200, b"ok\n")
        elif path == "/status":
            self._json(200, status_document(agent.config, agent.state))
        elif path == "/metrics":
            self._send(200, agent.metrics.render().encode(), "text/plain; version=0.0.4")
        else:
            self._json(404, {"error": f"no such endpoint: {path}"})

    def do_POST(self) -> None:
        agent = self.server.agent
        hook = agent.config.webhook
        if hook is None or self.path.split("?", 1)[0] != hook.path:
            self._json(404, {"error": "no such endpoint"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self._json(400, {"error": "bad Content-Length"})
            return
        body = self.rfile.read(length)
        secret = os.environ.get(hook.secret_env, "").encode()
        if not signature_ok(secret, body, self.headers.get("X-Hub-Signature-256")):
            log.warning("webhook refused: missing or bad X-Hub-Signature-256")
            self._json(401, {"error": "bad or missing X-Hub-Signature-256"})
            return
        event = self.headers.get("X-GitHub-Event", "")
        if event == "ping":
            self._json(200, {"ok": True, "event": "ping"})
            return
        if event != "push":
            self._json(202, {"ok": True, "ignored": f"event {event!r}"})
            return
        try:
            ref = json.loads(body).get("ref")
        except (ValueError, AttributeError):
            self._json(400, {"error": "the body is not a JSON push event"})
            return
        wanted = f"refs/heads/{agent.config.source.branch}"
        if ref != wanted:
            self._json(202, {"ok": True, "ignored": f"push to {ref}, not {wanted}"})
            return
        agent.trigger()
        self._json(202, {"ok": True, "triggered": True})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], agent: Agent) -> None:
        super().__init__(address, _Handler)
        self.agent = agent


class AgentServer:
    """The endpoints, served from a background thread."""

    def __init__(self, agent: Agent, address: tuple[str, int]) -> None:
        self.httpd = _Server(address, agent)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="cfgctl-agent-http", daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"{host!s}:{port}"

    def start(self) -> AgentServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
