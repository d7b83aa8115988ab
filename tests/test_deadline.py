"""Every HTTP client of cfgctl ends within a total deadline, not a per-read one: against a real
server on 127.0.0.1 that answers a byte every 0.2 s (each read in time, the answer never whole),
urllib's fetch, Prometheus queries, the SDK's remote read, etcd calls and GitHub calls all give
up at their deadline with a clear message."""

from __future__ import annotations

import http.server
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator

import pytest
from pydantic import BaseModel, ConfigDict

from cfgctl.analyze.prometheus import PrometheusSource
from cfgctl.deadline import DeadlineExceeded, fetch
from cfgctl.errors import CfgctlError, EnvError
from cfgctl.fleet.etcd import Etcd
from cfgctl.review.forge.github import GitHubRepo, GitHubTarget
from cfgctl.sdk.remote import RemoteWatcher
from tests.support.drip import DripServer

pytestmark = pytest.mark.slow  # each waits out a 1 s deadline against a dripping server

# The drip takes 10,000 s to send its headers; each call below must give up within its 1 s
# deadline. The bound leaves room for a loaded 2-core machine; a per-read timeout never ends.
BOUND = 8.0


@pytest.fixture
def drip() -> Iterator[DripServer]:
    server = DripServer(interval=0.2)
    yield server
    server.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 404 if self.path == "/missing" else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def plain() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _timed(call: Callable[[], object]) -> tuple[BaseException, float]:
    start = time.monotonic()
    try:
        call()
    except BaseException as exc:  # noqa: BLE001  what it raised is the result
        return exc, time.monotonic() - start
    raise AssertionError("the call against a dripping server returned")


def test_fetch_answers_every_status_and_cuts_a_drip_at_its_deadline(
    drip: DripServer, plain: str
) -> None:
    answer = fetch(urllib.request.Request(plain + "/ok"), timeout=5, max_bytes=1024)
    assert (answer.status, answer.body) == (200, b'{"ok": true}')
    missing = fetch(urllib.request.Request(plain + "/missing"), timeout=5, max_bytes=1024)
    assert missing.status == 404  # an answer, not an exception
    error, took = _timed(lambda: fetch(urllib.request.Request(drip.url), timeout=1, max_bytes=1))
    assert isinstance(error, DeadlineExceeded) and "within 1 s" in str(error), error
    assert took < BOUND and drip.requests == 1


def test_a_prometheus_that_drips_fails_the_query_at_its_timeout(drip: DripServer) -> None:
    source = PrometheusSource(drip.url.removesuffix("/drip"), timeout=1)
    error, took = _timed(lambda: source.series("up", 0, 60, 15))
    assert isinstance(error, EnvError), error
    assert "cannot reach Prometheus" in error.message and "within 1 s" in error.message
    assert took < BOUND


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    port: int = 0


def test_the_sdks_remote_read_of_a_dripping_server_fails_at_its_timeout(
    drip: DripServer,
) -> None:
    base = drip.url.removesuffix("/drip")
    error, took = _timed(lambda: RemoteWatcher(base, "payments", "prod", Settings, timeout=1))
    assert isinstance(error, CfgctlError) and "within 1 s" in str(error.message), error
    assert took < BOUND


def test_an_etcd_member_that_drips_is_given_up_at_the_timeout(drip: DripServer) -> None:
    etcd = Etcd(drip.url.removesuffix("/drip"), timeout=1)
    try:
        error, took = _timed(lambda: etcd.call("kv/range", {"key": "Zm9v"}))
    finally:
        etcd.close()
    assert isinstance(error, CfgctlError) and "no etcd member answered" in error.message, error
    assert "no complete answer within 1 s" in error.message
    assert took < BOUND


def test_a_github_that_drips_fails_the_call_at_its_deadline(
    drip: DripServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "t0ken")
    monkeypatch.setenv("CFGCTL_GITHUB_DEADLINE", "1")
    monkeypatch.setenv("CFGCTL_GITHUB_BACKOFF", "0")
    target = GitHubTarget("acme", "config", pr=1, url=drip.url.removesuffix("/drip"))
    error, took = _timed(lambda: GitHubRepo.connect(target).pull(1))
    assert isinstance(error, EnvError), error
    assert "cannot reach GitHub" in error.message and "within 1 s" in error.message, error
    assert took < BOUND
