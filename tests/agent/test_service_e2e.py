"""End to end with the sample service: a merged change reaches a running service that reads its
file through the SDK; a change that breaks its health is rolled back and it keeps serving the
old configuration."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.agentworld import AgentWorld, wait_for

pytestmark = pytest.mark.slow  # agent and service processes

SECRET = "e2e-hook-secret"
SERVICE = Path(__file__).resolve().parents[1] / "support/sample_service.py"


class Service:
    def __init__(self, config: Path, root: Path) -> None:
        port_file = root / "service.port"
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVICE), "--config", str(config), "--port-file", str(port_file)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = wait_for(lambda: port_file.is_file() and port_file.read_text().strip(), what="port")
        self.url = f"http://127.0.0.1:{port}"

    def config(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/config", timeout=5) as r:
            data: dict[str, Any] = json.loads(r.read())["config"]
            return data

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as r:
                return bool(r.status == 200)
        except urllib.error.HTTPError:
            return False

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[AgentWorld, Service, Path]]:
    world = AgentWorld.create(tmp_path)
    path = tmp_path / "run/payments.yaml"
    base = (
        f"source: {{url: {world.remote}, branch: main, poll_interval: 1h}}\n"
        f"state_dir: {world.state_dir}\n"
        "webhook: {listen: '127.0.0.1:0', secret_env: HOOK}\n"
    )
    world.write_config(base + f"targets:\n  - {{service: payments, env: prod, path: {path}}}\n")
    assert world.once().returncode == 0  # the first file, before the service starts
    service = Service(path, tmp_path)
    world.write_config(
        base + "targets:\n"
        f"  - service: payments\n    env: prod\n    path: {path}\n"
        f"    reload: {{http: {service.url}/reload}}\n"
        f"    health: {{http: {service.url}/healthz, timeout: 1s, interval: 50ms}}\n"
    )
    world.start(env={"HOOK": SECRET})
    world.address()
    yield world, service, path
    world.stop_all()
    service.stop()


def push_and_notify(world: AgentWorld, rel: str, old: str, new: str) -> str:
    sha = world.edit(rel, old, new)
    body = json.dumps({"ref": "refs/heads/main", "after": sha}).encode()
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    status = world.post(
        "/webhook", body, {"X-GitHub-Event": "push", "X-Hub-Signature-256": signature}
    )
    assert status == 202
    return sha


def test_a_merged_change_reaches_the_running_service(
    running: tuple[AgentWorld, Service, Path],
) -> None:
    world, service, _ = running
    assert service.config()["replicas"] == 6
    push_and_notify(world, "config/prod/payments.yaml", "pool_size: 40", "pool_size: 45")
    wait_for(
        lambda: service.config()["db"]["pool_size"] == 45, what="the service to use the change"
    )
    # a change for another environment leaves it alone
    reloads = service.config()
    push_and_notify(world, "config/staging/_defaults.yaml", "", "# staging\nreplicas: 2\n")
    wait_for(
        lambda: world.status()["tip"] == world.status()["targets"][0]["commit"], what="the pass"
    )
    assert service.config() == reloads


def test_a_change_that_breaks_health_is_rolled_back(
    running: tuple[AgentWorld, Service, Path],
) -> None:
    world, service, path = running
    good = path.read_bytes()
    sha = push_and_notify(
        world, "config/base/_defaults.yaml", "timeout_seconds: 30", "timeout_seconds: 2"
    )
    wait_for(lambda: world.status()["targets"][0]["state"] == "rolled-back", what="the rollback")
    target = world.status()["targets"][0]
    assert target["failed_commit"] == sha and "health check failed" in target["last_error"]
    assert path.read_bytes() == good
    wait_for(
        lambda: service.config()["server"]["timeout_seconds"] == 30, what="the old config back"
    )
    assert service.healthy()
    entries = [json.loads(x) for x in (world.state_dir / "audit.jsonl").read_text().splitlines()]
    assert entries[-1]["action"] == "rollback" and entries[-1]["from"] == sha
