"""A real Prometheus server (Debian's `prometheus` package) scraping a sample exporter, both
on 127.0.0.1, for the tests of `cfgctl analyze`.

    with SampleExporter() as exporter, Prometheus(tmp, [exporter.address]) as prom:
        prom.wait_for_samples("sample_latency_seconds", 3)
        prom.url                                   # http://127.0.0.1:PORT

The exporter serves /metrics from its own registry (prometheus_client's generate_latest):
  sample_requests_total{service}   a counter, +10 a scrape for every service
  sample_latency_seconds{service}  a gauge: payments 0.25, search 0.5, `we"ird\\name` 0.75
  sample_flaky_ratio               a gauge, NaN every other scrape and 1.0 otherwise
Prometheus scrapes it every second (scrape_interval: 1s), stores in a temporary folder, and is
stopped (SIGTERM, then SIGKILL) on exit. `PROMETHEUS` is None when it is not installed.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

PROMETHEUS = shutil.which("prometheus")
LATENCIES = {"payments": 0.25, "search": 0.5, 'we"ird\\name': 0.75}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SampleExporter:
    """The sample service's /metrics on a free loopback port, served by a thread."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sample_requests", "Requests served", ["service"], registry=self.registry
        )
        self.latency = Gauge(
            "sample_latency_seconds", "Latency", ["service"], registry=self.registry
        )
        self.flaky = Gauge("sample_flaky_ratio", "NaN every other scrape", registry=self.registry)
        for service, value in LATENCIES.items():
            self.latency.labels(service).set(value)
        self.scrapes = 0
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/metrics":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                body = exporter.scrape()
                self.send_header("Content-Length", str(len(body)))
                try:
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # a scrape that timed out (1 s) on a loaded machine: the next one counts

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def scrape(self) -> bytes:
        self.scrapes += 1
        for service in LATENCIES:
            self.requests.labels(service).inc(10)
        self.flaky.set(float("nan") if self.scrapes % 2 else 1.0)
        return generate_latest(self.registry)

    def __enter__(self) -> SampleExporter:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Prometheus:
    """`prometheus` on a free loopback port, scraping `targets` every second."""

    def __init__(self, folder: Path, targets: list[str]) -> None:
        assert PROMETHEUS is not None, "prometheus is not installed"
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "sample", "static_configs": [{"targets": targets}]}],
        }
        (folder / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        self.log = folder / "prometheus.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Prometheus:
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(PROMETHEUS),
                    f"--config.file={self.folder / 'prometheus.yml'}",
                    f"--storage.tsdb.path={self.folder / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            self._poll(lambda: self._get("/-/ready") is not None, "to be ready")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _get(self, path: str) -> bytes | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=2) as response:
                body: bytes = response.read()
                return body
        except OSError:
            return None

    def _poll(self, done: Any, what: str, limit: float = 30.0) -> None:
        deadline = time.monotonic() + limit
        while not done():
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"prometheus did not come {what}: {self.log.read_text()[-2000:]}"
                )
            time.sleep(0.05)  # a poll's pace, not a wait for an outcome

    def samples(self, metric: str) -> int:
        """How many samples of `metric` (its first series) the last minute holds."""
        query = urllib.parse.urlencode({"query": f"count_over_time({metric}[1m])"})
        body = self._get(f"/api/v1/query?{query}")
        result = json.loads(body)["data"]["result"] if body else []
        return min((int(float(r["value"][1])) for r in result), default=0)

    def wait_for_samples(self, metric: str, count: int) -> None:
        self._poll(lambda: self.samples(metric) >= count, f"to hold {count} samples of {metric}")
