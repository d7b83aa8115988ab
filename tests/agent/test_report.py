"""Agents report back (agent.yaml `report:`): after each pass, what each target runs, POSTed to
a server; a server that is down never stops a delivery. Real agent processes, a real HTTP
receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support.agentworld import AgentWorld, config, wait_for
from tests.support.prometheus import free_port

pytestmark = pytest.mark.slow  # agent processes against real Git remotes

TOKEN = "cfgctl_7_report-token-never-logged"


class Receiver:
    def __init__(self) -> None:
        self.reports: list[tuple[str, dict[str, str], dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.reports.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def _setup(world: AgentWorld, report: str) -> Path:
    out = world.root / "payments.yaml"
    config(world, f"  - {{service: payments, env: prod, path: {out}}}\n", f"report: {report}\n")
    return out


def test_each_pass_is_reported_with_what_each_target_runs(
    world: AgentWorld, receiver: Receiver
) -> None:
    out = _setup(world, f"{{url: {receiver.url}, token_env: REPORT_TOKEN, id: web-1}}")
    result = world.cli("-vv", "agent", "once", "--config", str(world.config),
                       env={"REPORT_TOKEN": TOKEN})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert out.exists()
    ((path, headers, body),) = receiver.reports
    assert path == "/api/v1/agents/web-1/report"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert body["agent"] == "web-1" and body["pass"]["applied"] == [f"payments@prod:{out}"]
    (target,) = body["targets"]
    assert target["state"] == "in-sync" and target["commit"] == body["tip"]
    assert TOKEN not in result.stdout + result.stderr


def test_a_server_that_is_down_never_stops_a_delivery(world: AgentWorld) -> None:
    out = _setup(world, f"{{url: 'http://127.0.0.1:{free_port()}', timeout: 1s}}")
    result = world.once()
    assert result.returncode == 0 and out.exists()
    assert "cannot report to http://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_daemon_reports_after_every_pass(world: AgentWorld, receiver: Receiver) -> None:
    _setup(world, f"{{url: {receiver.url}}}")
    world.write_config(world.config.read_text().replace("poll_interval: 30s", "poll_interval: 1s"))
    world.start()
    wait_for(lambda: len(receiver.reports) >= 1, what="the first report")
    sha = world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 7")
    wait_for(lambda: receiver.reports[-1][2]["tip"] == sha, timeout=20, what="a later report")
    assert receiver.reports[-1][2]["targets"][0]["commit"] == sha


@pytest.mark.parametrize(
    ("report", "env", "status", "message"),
    [
        ("{url: 'http://u:p@127.0.0.1:1'}", {}, 2, "report.url holds credentials"),
        ("{url: 'http://127.0.0.1:1', token_env: NOPE_TOKEN}", {}, 3, "NOPE_TOKEN is not set"),
        ("{url: 'ftp://x'}", {}, 2, "report.url"),
        ("{url: 'http://[::1'}", {}, 2, "is not a URL"),
        ("{url: 'http://127.0.0.1:1?token=abc'}", {}, 2, "credentials or a query"),
    ],
)
def test_a_bad_report_setting_is_refused_at_start(
    world: AgentWorld, report: str, env: dict[str, str], status: int, message: str
) -> None:
    _setup(world, report)
    result = world.once(env=env)
    assert result.returncode == status, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
