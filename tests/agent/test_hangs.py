"""Nothing hangs: total deadlines on HTTP calls and commands (process groups killed), SIGTERM
within the grace period, and the webhook server's limits, with the faults injected on real
processes and real sockets (127.0.0.1)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import json
import signal
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import trustme

from cfgctl.agent.config import Health, Reload, Target
from cfgctl.agent.deliver import DeliveryError
from cfgctl.agent.probes import check_health, reload_service
from cfgctl.agent.server import MAX_CONNECTIONS, READ_TIMEOUT, REQUEST_DEADLINE
from tests.support.agentworld import AgentWorld, wait_for
from tests.support.drip import DripServer, live_group_members, pid_alive

AGENT_PROCESSES = True  # agents whose children hang, and the deadlines that end them

pytestmark = pytest.mark.slow  # agent processes, slow-drip servers, deadlines of seconds

SECRET = "hang-test-secret"


@pytest.fixture
def drip() -> Iterator[DripServer]:
    server = DripServer(interval=0.3)
    yield server
    server.close()


def _config(world: AgentWorld, target: str, extra: str = "") -> None:
    world.write_config(
        f"source: {{url: {world.remote}, branch: main, poll_interval: 1h}}\n"
        f"state_dir: {world.state_dir}\ntargets:\n  - {target}\n{extra}"
    )


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


@pytest.fixture
def tls_drip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DripServer]:
    """A dripping HTTPS server whose certificate this process trusts (SSL_CERT_FILE)."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    server = DripServer(interval=0.3, tls=server_context)
    yield server
    server.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_an_http_endpoint_that_drips_a_byte_a_second_is_cut_off_at_its_deadline(
    scheme: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    drip: DripServer = request.getfixturevalue("drip" if scheme == "http" else "tls_drip")
    assert drip.url.startswith(f"{scheme}://")
    target = Target("payments", "prod", tmp_path / "p.yaml")
    one_second = timedelta(seconds=1)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="no complete answer within 1 s"):
        reload_service(Reload(http=drip.url, timeout=one_second), target)
    assert time.monotonic() - started < 1.8  # each read got a byte in time: a total deadline
    started = time.monotonic()
    health = Health(http=drip.url, timeout=one_second, interval=timedelta(milliseconds=100))
    with pytest.raises(DeliveryError, match="health check failed for 1 s"):
        check_health(health, target)
    assert time.monotonic() - started < 1.8
    assert drip.requests >= 2


def test_a_reload_command_that_times_out_is_killed_with_its_whole_group(world: AgentWorld) -> None:
    out, groups, children = (world.root / n for n in ("p.yaml", "groups", "children"))
    # the reload leaves a sleeping grandchild behind and waits for it
    reload = _script(
        world.root / "reload.sh", f"echo $$ >> {groups}\nsleep 300 &\necho $! >> {children}\nwait\n"
    )
    _config(
        world,
        f"{{service: payments, env: prod, path: {out}, "
        f"reload: {{command: [{reload}], timeout: 1s}}}}",
    )
    started = time.monotonic()
    result = world.once("--format", "json")
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 15  # the reload and the rollback's reload: 1 s each
    error = world.status()["targets"][0]["last_error"]
    assert "did not finish within 1 s (its process group killed)" in error
    pgids = [int(line) for line in groups.read_text().split()]
    assert pgids  # the command ran in its own group (start_new_session): its pid is the group's
    grandchildren = [int(line) for line in children.read_text().split()]
    wait_for(lambda: not any(live_group_members(g) for g in pgids), what="the reload's groups gone")
    wait_for(lambda: not any(pid_alive(c) for c in grandchildren), what="the grandchildren gone")


@pytest.mark.parametrize(
    ("kind", "grace_from"), [("http", "flag"), ("command", "flag"), ("command", "agent.yaml")]
)
def test_sigterm_ends_the_agent_within_its_grace_period_during_a_slow_reload(
    world: AgentWorld, drip: DripServer, kind: str, grace_from: str
) -> None:
    out, started_file = world.root / "p.yaml", world.root / "reload.started"
    slow = _script(world.root / "slow.sh", f"echo $$ > {started_file}\nsleep 60 &\nwait\n")
    reload = f"{{http: '{drip.url}'}}" if kind == "http" else f"{{command: [{slow}]}}"
    _config(
        world,
        f"{{service: payments, env: prod, path: {out}, reload: {{timeout: 60s, "
        f"{reload.strip('{}')}}}}}",
        # the flag wins over agent.yaml: a 30 s grace_period there proves the flag was used
        "grace_period: 2s\n" if grace_from == "agent.yaml" else "grace_period: 30s\n",
    )
    proc = world.start(*(["--grace-period", "2s"] if grace_from == "flag" else []))
    if kind == "http":
        wait_for(drip.connected.is_set, timeout=30, what="the reload's POST")
    else:
        wait_for(started_file.exists, timeout=30, what="the reload command")
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(15) == 0
    seconds = time.monotonic() - sent
    print(f"SIGTERM-to-exit during a slow {kind} reload, grace 2 s: {seconds:.2f} s")
    assert 1.5 < seconds < 3.5  # the grace period, then the reload cut off
    assert "stopped at the end of the grace period" in world.logs()
    assert "Traceback" not in world.logs()
    if kind == "command":
        pgid = int(started_file.read_text())
        wait_for(lambda: not live_group_members(pgid), what="the reload's group gone")
    target = world.status()["targets"][0]
    assert target["failed_commit"] is None and target["state"] != "rolled-back"
    # the cut-off delivery is finished at the next start, not given up
    _config(world, f"{{service: payments, env: prod, path: {out}}}")
    assert world.once().returncode == 0
    assert world.status()["targets"][0]["state"] == "in-sync"


def _sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def _raw(address: str, head: bytes, timeout: float = 10) -> bytes:
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head)
        return sock.recv(200)


def _post(address: str, body: bytes, signature: str | None) -> int:
    headers = {"X-GitHub-Event": "push", "Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    request = urllib.request.Request(
        f"http://{address}/webhook", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _drip_headers(address: str, dropped: list[float]) -> None:
    """Send a request's headers a byte every 0.5 s, below the read timeout; note the drop."""
    host, port = address.split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"z" * 100:
                sock.sendall(bytes([byte]))
                time.sleep(0.5)
        except OSError:
            pass
    dropped.append(time.monotonic() - started)


def test_the_webhook_server_has_limits(world: AgentWorld) -> None:
    out = world.root / "p.yaml"
    _config(
        world,
        f"{{service: payments, env: prod, path: {out}}}",
        "webhook: {listen: '127.0.0.1:0', secret_env: HOOK}\n",
    )
    world.start(env={"HOOK": SECRET})
    address = world.address()
    dropped: list[float] = []
    slow = threading.Thread(target=_drip_headers, args=(address, dropped))
    slow.start()

    # a body over the limit: refused from its Content-Length, before a byte of it is sent
    head = (
        "POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"
        f"X-Hub-Signature-256: sha256={'0' * 64}\r\nContent-Length: {25 * 1024 * 1024}\r\n\r\n"
    )
    assert _raw(address, head.encode()).startswith(b"HTTP/1.0 413")
    # a signed body that cannot be parsed: 400
    nested = b"[" * 100_000
    assert _post(address, nested, _sign(nested)) == 400
    # a burst of 200 signed pushes at once: every one answered
    body = json.dumps({"ref": "refs/heads/main"}).encode()
    barrier = threading.Barrier(200)

    def push(_: int) -> int:
        barrier.wait()
        return _post(address, body, _sign(body))

    with concurrent.futures.ThreadPoolExecutor(200) as pool:
        statuses = list(pool.map(push, range(200)))
    assert statuses == [202] * 200
    assert _post(address, body, None) == 401 and _post(address, body, "sha256=00") == 401

    slow.join(REQUEST_DEADLINE + 5)
    assert dropped and dropped[0] < REQUEST_DEADLINE + 2  # dropped at the deadline
    _, metrics = world.get("/metrics")
    assert f'cfgctl_agent_target_in_sync{{target="payments@prod:{out}"}} 1.0' in metrics
    assert "Traceback" not in world.logs()


def test_the_webhook_server_caps_its_connections(world: AgentWorld) -> None:
    _config(
        world,
        f"{{service: payments, env: prod, path: {world.root / 'p.yaml'}}}",
        "webhook: {listen: '127.0.0.1:0', secret_env: HOOK}\n",
    )
    world.start(env={"HOOK": SECRET})
    address = world.address()
    host, port = address.split(":")
    assert world.get("/healthz")[0] == 200
    idle = [socket.create_connection((host, int(port))) for _ in range(MAX_CONNECTIONS)]
    try:
        with pytest.raises((TimeoutError, urllib.error.URLError)):  # waits in the backlog
            urllib.request.urlopen(f"http://{address}/healthz", timeout=1).close()
        started = time.monotonic()
        with urllib.request.urlopen(f"http://{address}/healthz", timeout=30) as response:
            assert response.status == 200  # once the idle ones reach their read timeout
        assert time.monotonic() - started < READ_TIMEOUT + 2
    finally:
        for sock in idle:
            sock.close()


def test_a_remote_that_accepts_and_stays_silent_fails_the_fetch(world: AgentWorld) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (the backlog), never answers
    try:
        port = silent.getsockname()[1]
        world.write_config(
            f"source: {{url: 'http://127.0.0.1:{port}/config.git', branch: main, timeout: 2s}}\n"
            f"state_dir: {world.state_dir}\n"
            f"targets:\n  - {{service: payments, env: prod, path: {world.root / 'p.yaml'}}}\n"
        )
        started = time.monotonic()
        result = world.once()
        assert result.returncode == 3, result.stderr
        assert "no complete answer within 2 s (source.timeout)" in result.stderr
        assert time.monotonic() - started < 8
    finally:
        silent.close()


def test_a_remote_that_drips_its_branch_list_costs_the_fetch_timeout_once(
    world: AgentWorld, drip: DripServer
) -> None:
    # every read of the answer gets a byte in time: only a total deadline ends the fetch
    out = world.root / "p.yaml"
    world.write_config(
        f"source: {{url: '{drip.url}', branch: main, poll_interval: 1h, timeout: 2s}}\n"
        f"state_dir: {world.state_dir}\n"
        f"targets:\n  - {{service: payments, env: prod, path: {out}}}\n"
    )
    started = time.monotonic()
    result = world.once()
    seconds = time.monotonic() - started
    print(f"agent once against a dripping remote, timeout 2 s: {seconds:.2f} s")
    assert result.returncode == 3, result.stderr
    assert "no complete answer within 2 s (source.timeout)" in result.stderr
    assert seconds < 8  # the timeout once (the check at start hands its fetch to the pass)
    assert "Traceback" not in result.stderr and not out.exists()
