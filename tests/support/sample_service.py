"""A sample service for the agent's end-to-end tests, the demo and the benchmark: a small HTTP
server that reads its configuration through `cfgctl.sdk.watch` and reports it.

    python tests/support/sample_service.py --config /etc/payments.yaml --port-file port \\
        [--pidfile pid] [--model payments|bench]

    GET  /config    {"config": {...}, "reloads": N}   the configuration it runs with now
                    (a password masked)
    GET  /healthz   200, or 503 when the configuration is one it cannot work with
                    (payments: server.timeout_seconds below 5)
    GET  /work      one request of work: it waits for a database connection, longer when
                    db.pool_size is below 40 (2 ms x 40 / pool_size; 2 ms from 40 up)
    GET  /metrics   Prometheus: sample_request_latency_seconds{service}, the mean latency of
                    the /work requests of the last 250 ms (0 when there were none)
    POST /reload    re-reads the file now and answers when the new version is in use
                    (200), or 500 when the file is invalid (the old version stays)
    SIGHUP          the same as POST /reload
    SIGTERM         stops
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cfgctl.errors import CfgctlError
from cfgctl.sdk import load, watch


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    timeout_seconds: int


@dataclass(frozen=True)
class Log:
    level: Literal["debug", "info", "warn", "warning", "error"]
    format: str


@dataclass(frozen=True)
class Db:
    host: str
    port: int
    pool_size: int
    password: str | None = None


@dataclass(frozen=True)
class Payments:
    """The payments service's configuration (the example repository's web-service schema)."""

    replicas: int
    server: Server
    log: Log
    db: Db
    public_url: str | None = None
    features: dict[str, bool] = field(default_factory=dict)

    def problem(self) -> str | None:
        if self.server.timeout_seconds < 5:
            return "server.timeout_seconds below 5: upstream calls time out"
        return None

    def work_seconds(self) -> float:
        """A request waits for a database connection: the smaller the pool, the longer."""
        return 0.002 * max(1.0, 40 / max(1, self.db.pool_size))


@dataclass(frozen=True)
class Bench:
    version: int
    replicas: int

    def problem(self) -> str | None:
        return None

    def work_seconds(self) -> float:
        return 0.0


class _Server(ThreadingHTTPServer):
    """A client that goes away mid-answer (a load generator stopped, a timed-out scrape) is not
    an error of the service: no traceback for it."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class Latency:
    """The mean latency of the requests of the last `span` seconds, for /metrics."""

    def __init__(self, span: float = 0.25) -> None:
        self.span = span
        self.recent: deque[tuple[float, float]] = deque()
        self.lock = threading.Lock()

    def add(self, seconds: float) -> None:
        with self.lock:
            self.recent.append((time.monotonic(), seconds))

    def mean(self) -> float:
        with self.lock:
            cut = time.monotonic() - self.span
            while self.recent and self.recent[0][0] < cut:
                self.recent.popleft()
            values = [v for _, v in self.recent]
        return sum(values) / len(values) if values else 0.0


MODELS: dict[str, type[Payments] | type[Bench]] = {"payments": Payments, "bench": Bench}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cfgctl's sample service")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--port-file", required=True, type=Path)
    parser.add_argument("--pidfile", type=Path)
    parser.add_argument("--model", choices=sorted(MODELS), default="payments")
    args = parser.parse_args(argv)
    model = MODELS[args.model]
    watcher: Any = watch(args.config, model, debounce_ms=10, poll_ms=50)
    lock = threading.Lock()
    latency = Latency()

    def reload_now() -> tuple[bool, str]:
        """Read the file; wait until the watcher serves the same version (it validates and
        swaps atomically); the old version stays when the file is invalid."""
        try:
            wanted = load(args.config, model)
        except CfgctlError as exc:
            return False, exc.message
        deadline = time.monotonic() + 5
        while watcher.current != wanted:
            if time.monotonic() > deadline:
                return False, "the watcher did not pick the file up in 5 s"
            time.sleep(0.005)
        return True, "reloaded"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *a: Any) -> None:
            return

        def _send(self, status: int, data: Any) -> None:
            body = (json.dumps(data) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            current = watcher.current
            if self.path == "/config":
                self._send(
                    200, {"config": dataclasses.asdict(current), "reloads": watcher.outcomes}
                )
            elif self.path == "/healthz":
                problem = current.problem()
                self._send(503 if problem else 200, {"ok": problem is None, "problem": problem})
            elif self.path == "/work":
                started = time.monotonic()
                time.sleep(current.work_seconds())
                latency.add(time.monotonic() - started)
                self._send(200, {"ok": True})
            elif self.path == "/metrics":
                body = (
                    "# TYPE sample_request_latency_seconds gauge\n"
                    f'sample_request_latency_seconds{{service="{args.model}"}} {latency.mean():.6f}\n'
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            if self.path != "/reload":
                self._send(404, {"error": "not found"})
                return
            with lock:
                ok, message = reload_now()
            self._send(200 if ok else 500, {"ok": ok, "message": message})

    server = _Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(
        signal.SIGHUP, lambda *_: threading.Thread(target=reload_now, daemon=True).start()
    )
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    if args.pidfile is not None:
        args.pidfile.write_text(f"{os.getpid()}\n")
    tmp = args.port_file.with_name(args.port_file.name + ".tmp")
    tmp.write_text(f"{server.server_address[1]}\n")
    tmp.replace(args.port_file)
    try:
        server.serve_forever()
    finally:
        watcher.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
