"""The agent's HTTP endpoints: `/healthz`, `/status` (JSON per target), `/metrics` (Prometheus)
and the GitHub webhook (`POST /webhook`: `push` events signed with `X-Hub-Signature-256`;
anything unsigned or wrongly signed is refused with 401).

The server is the standard library's, with each limit set: a listen backlog (`BACKLOG`) that
holds a burst of pushes, at most `MAX_CONNECTIONS` handled at once (the others wait in the
backlog), a timeout per read and a deadline per connection (a client that sends its headers a
byte at a time is dropped), a body over `MAX_BODY` refused from its Content-Length before it is
read (413), at most `MAX_BODIES_READ` bodies in memory at once, an unsigned body never kept,
and a request that cannot be parsed answered 400 (never a traceback in the log).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import mmap
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from cfgctl.agent.source import redact_url
from cfgctl.agent.state import on_disk
from cfgctl.repo.timespec import utc_iso

if TYPE_CHECKING:
    from cfgctl.agent.config import AgentConfig
    from cfgctl.agent.reconcile import Agent
    from cfgctl.agent.state import AgentState

__all__ = ["AgentServer", "signature_ok", "status_document"]

log = logging.getLogger("cfgctl.agent")
MAX_BODY = 5 * 1024 * 1024  # a push event is a few kB; GitHub's own cap is 25 MB
MAX_CONNECTIONS = 32  # handled at once; the next ones wait in the listen backlog
MAX_BODIES_READ = 4  # webhook bodies held in memory at once: at most 4 x MAX_BODY
BACKLOG = 1024  # the kernel caps it at net.core.somaxconn (4096 on current Linux)
READ_TIMEOUT = 5.0  # seconds without a byte
REQUEST_DEADLINE = 10.0  # seconds for a whole connection: request line, headers, body, answer


def signature_ok(secret: bytes, body: bytes | memoryview, header: str | None) -> bool:
    """Does `X-Hub-Signature-256: sha256=<hex>` sign `body` with `secret`?"""
    if not header or not header.startswith("sha256=") or not secret:
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest().encode()
    given = header.removeprefix("sha256=").encode("utf-8", "replace")  # bytes: any header
    return hmac.compare_digest(expected, given)


def _canary(canary: dict[str, Any] | None) -> dict[str, Any] | None:
    """The canary analysis of the target's last delivery, its times as ISO 8601."""
    if canary is None:
        return None
    out = dict(canary)
    for key in ("since", "until"):
        if isinstance(out.get(key), (int, float)):
            out[key] = utc_iso(datetime.fromtimestamp(out[key], UTC))
    return out


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
                "canary": _canary(ts.canary),
            }
        )
    return {
        "branch": config.source.branch,
        "tip": state.tip,
        "last_sync": state.last_sync,
        "remote": {
            "url": redact_url(config.source.describe()),
            "ok": state.remote.ok,
            "error": state.remote.error,
            "last_fetch": state.remote.last_fetch,
            "last_success": state.remote.last_success,
        },
        "targets": targets,
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = READ_TIMEOUT  # set on the socket by StreamRequestHandler.setup

    def setup(self) -> None:
        super().setup()
        # A total deadline, not a per-read one: at its end the socket is shut, which ends any
        # read or write in progress (a byte a second never reaches READ_TIMEOUT).
        self._deadline = threading.Timer(REQUEST_DEADLINE, self._cut)
        self._deadline.daemon = True
        self._deadline.start()

    def _cut(self) -> None:
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        self._deadline.cancel()
        with suppress(OSError):
            super().finish()

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
            self._send(200, *agent.metrics.exposition())
        else:
            self._json(404, {"error": f"no such endpoint: {path}"})

    def _length(self) -> int | None:
        """The body's announced length; None (and the answer sent) when it is refused."""
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self._json(400, {"error": "bad Content-Length"})
            return None
        if length > MAX_BODY:
            # Refused before a byte of it is read; the connection is closed after the answer.
            self.close_connection = True
            self._json(413, {"error": f"the body is over {MAX_BODY} bytes"})
            return None
        return length

    def _drain(self, length: int) -> None:
        """Read and drop an unwanted body (so that the client reads our answer)."""
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                return
            length -= len(chunk)

    @contextmanager
    def _read(self, length: int) -> Iterator[memoryview | None]:
        """The body, read into an anonymous mapping of its size: no copy, and its memory goes
        back to the system at once (a heap buffer of megabytes would stay with the process);
        None when it is cut short."""
        buffer = mmap.mmap(-1, max(length, 1))
        try:
            with memoryview(buffer)[:length] as view:
                got = 0
                while got < length:
                    n = self.rfile.readinto(view[got:])
                    if not n:
                        break
                    got += n
                yield view if got == length else None
        finally:
            with suppress(BufferError):  # a view still held: the mapping goes with it
                buffer.close()

    def do_POST(self) -> None:
        agent = self.server.agent
        hook = agent.config.webhook
        if hook is None or self.path.split("?", 1)[0] != hook.path:
            self._json(404, {"error": "no such endpoint"})
            return
        length = self._length()
        if length is None:
            return
        header = self.headers.get("X-Hub-Signature-256")
        if not header or not header.startswith("sha256="):
            self._drain(length)  # an unsigned body is never kept in memory
            self._refuse()
            return
        with self.server.bodies, self._read(length) as body:
            if body is None:
                return  # the client went away (or its deadline passed): nobody to answer
            secret = os.environ.get(hook.secret_env, "").encode()
            if not signature_ok(secret, body, header):
                self._refuse()
                return
            data = bytes(body)  # signed: the sender is trusted with this much memory
        self._event(data)

    def _refuse(self) -> None:
        log.warning("webhook refused: missing or bad X-Hub-Signature-256")
        self._json(401, {"error": "bad or missing X-Hub-Signature-256"})

    def _event(self, body: bytes) -> None:
        agent = self.server.agent
        event = self.headers.get("X-GitHub-Event", "")
        if event == "ping":
            self._json(200, {"ok": True, "event": "ping"})
            return
        if event != "push":
            self._json(202, {"ok": True, "ignored": f"event {event!r}"})
            return
        try:
            ref = json.loads(body).get("ref")
        except (ValueError, AttributeError, RecursionError):  # RecursionError: [[[[...
            self._json(400, {"error": "the body is not a JSON push event"})
            return
        wanted = f"refs/heads/{agent.config.source.branch}"
        if ref != wanted:
            self._json(202, {"ok": True, "ignored": f"push to {ref!r}, not {wanted}"})
            return
        agent.trigger()
        self._json(202, {"ok": True, "triggered": True})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = BACKLOG

    def __init__(self, address: tuple[str, int], agent: Agent) -> None:
        self.agent = agent
        self.connections = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.bodies = threading.BoundedSemaphore(MAX_BODIES_READ)
        self.closing = threading.Event()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # At the cap, stop accepting: the next connections wait in the listen backlog.
        while not self.connections.acquire(timeout=0.2):
            if self.closing.is_set():
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.connections.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connections.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away or was cut off at its deadline: one line, no traceback.
        log.warning("http: a request from %s ended in error", client_address[0], exc_info=False)
        log.debug("http: the error", exc_info=True)


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
        self.httpd.closing.set()
        self.httpd.shutdown()
        self.httpd.server_close()
