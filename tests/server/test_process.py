"""`cfgctl serve` as a real uvicorn process on 127.0.0.1: reads, 304s, long polls woken by real
commits, many waiters on a handful of threads; and the refusals before it starts."""

from __future__ import annotations

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest

from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.server import ServerProcess, server_process

pytestmark = pytest.mark.slow  # real `cfgctl serve` processes

CONFIG = "/config/payments/prod"


def _bump(repo: ConfigRepo, replicas: int) -> str:
    text = repo.read("config/prod/payments.yaml")
    lines = [
        f"replicas: {replicas}" if ln.startswith("replicas:") else ln for ln in text.split("\n")
    ]
    return repo.commit({"config/prod/payments.yaml": "\n".join(lines)}, f"{replicas} replicas")


def _long_poll_woken_by_a_commit(server: ServerProcess, repo: ConfigRepo) -> None:
    head = str(repo.repo.head.target)
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(
            httpx2.get, server.api(CONFIG), params={"wait": "20s", "after": head}, timeout=30
        )
        time.sleep(0.5)
        assert not waiting.done()
        committed_at = time.monotonic()
        new = _bump(repo, 9)
        answer = waiting.result(timeout=25)
        latency = time.monotonic() - committed_at
    assert answer.status_code == 200
    assert answer.headers["cfgctl-commit"] == new
    assert answer.json()["config"]["replicas"] == 9
    assert latency < 1.5, latency


def _long_poll_times_out_with_304(server: ServerProcess, repo: ConfigRepo) -> None:
    head = str(repo.repo.head.target)
    started = time.monotonic()
    answer = httpx2.get(server.api(CONFIG), params={"wait": "400ms", "after": head}, timeout=10)
    took = time.monotonic() - started
    assert answer.status_code == 304
    assert answer.headers["cfgctl-commit"] == head
    assert 0.35 < took < 3, took


async def _many_waiters(server: ServerProcess, repo: ConfigRepo, count: int) -> float:
    head = str(repo.repo.head.target)
    limits = httpx2.Limits(max_connections=count + 10)
    async with httpx2.AsyncClient(limits=limits, timeout=40) as client:
        polls = [
            asyncio.ensure_future(
                client.get(server.api(CONFIG), params={"wait": "30s", "after": head})
            )
            for _ in range(count)
        ]
        await asyncio.sleep(1.5)  # every request reaches the server and waits
        assert not any(p.done() for p in polls)
        threads = server.threads()
        assert threads <= 8, f"{threads} threads for {count} waiting requests"
        committed_at = time.monotonic()
        new = _bump(repo, 11)
        answers = await asyncio.gather(*polls)
        latency = time.monotonic() - committed_at
    assert {a.status_code for a in answers} == {200}
    assert {a.headers["cfgctl-commit"] for a in answers} == {new}
    return latency


def _keep_alive_median(server: ServerProcess) -> float:
    """The median time of 30 reads on one kept-alive connection."""
    times = []
    with httpx2.Client(timeout=10) as client:
        for _ in range(30):
            started = time.perf_counter()
            assert client.get(server.api(CONFIG)).status_code == 200
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def _waiting(server: ServerProcess, count: int) -> bool:
    """Whether the server holds `count` long polls within 5 s."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if httpx2.get(server.api("/status"), timeout=5).json()["waiting"] == count:
            return True
        time.sleep(0.05)
    return False


async def _waiters_that_leave_are_dropped(server: ServerProcess, repo: ConfigRepo) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    path = f"/api/v1{CONFIG}?wait=60s&after={repo.repo.head.target}"
    connections = [await asyncio.open_connection(host, int(port)) for _ in range(50)]
    for _, writer in connections:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        await writer.drain()
    assert await asyncio.to_thread(_waiting, server, 50)
    for _, writer in connections:
        writer.close()
    assert await asyncio.to_thread(_waiting, server, 0)  # long before the 60 s end


def test_serve_reads_and_follows_commits(example_repo: ConfigRepo, tmp_path: Path) -> None:
    with server_process(example_repo.workdir, log_dir=tmp_path) as server:
        first = httpx2.get(server.api(CONFIG), timeout=10)
        assert first.status_code == 200
        assert first.json()["config"]["replicas"] == 6
        again = httpx2.get(
            server.api(CONFIG), headers={"If-None-Match": first.headers["etag"]}, timeout=10
        )
        assert again.status_code == 304
        assert _keep_alive_median(server) < 0.025  # no 40 ms delayed ACK: TCP_NODELAY is on
        problem = httpx2.get(server.api("/config/paymnts/prod"), timeout=10)
        assert problem.status_code == 404
        assert problem.headers["content-type"] == "application/problem+json"
        _long_poll_woken_by_a_commit(server, example_repo)
        _long_poll_times_out_with_304(server, example_repo)
        asyncio.run(_waiters_that_leave_are_dropped(server, example_repo))
        latency = asyncio.run(_many_waiters(server, example_repo, 200))
        # Not a speed figure (benchmarks/serve_bench.py measures that): one wake answers them
        # all, where waking one per poll of the ref (0.1 s) would take 20 s.
        assert latency < 10.0, latency
    log = (tmp_path / "server.log").read_text()
    assert "Traceback" not in log
    assert '"GET /api/v1/config/payments/prod HTTP/1.1" 304' in log  # the access log


def test_two_workers_serve_the_same_answers(example_repo: ConfigRepo, tmp_path: Path) -> None:
    with server_process(example_repo.workdir, "--workers", "2", log_dir=tmp_path) as server:
        answers = [httpx2.get(server.api(CONFIG), timeout=10) for _ in range(6)]
    assert {a.status_code for a in answers} == {200}
    assert len({a.headers["etag"] for a in answers}) == 1


def test_serve_refuses_to_start_without_its_state_or_insecure_off_loopback(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    repo = str(example_repo.workdir)
    # Without --insecure-local it needs its token store: a state dir it cannot make is exit 3.
    no_store = run_cli(
        "-C", repo, "serve", "--listen", "0.0.0.0:0", "--state-dir", "/dev/null/state"
    )  # fmt: skip
    assert no_store.exit_code == 3
    assert "cannot make the state directory /dev/null/state" in no_store.stderr
    exposed = run_cli("-C", repo, "serve", "--insecure-local", "--listen", "0.0.0.0:0")
    assert exposed.exit_code == 2
    assert "loopback only" in exposed.stderr
    bad = run_cli("-C", repo, "serve", "--insecure-local", "--listen", "8080")
    assert bad.exit_code == 2
    assert "is not HOST:PORT" in bad.stderr
    branch = run_cli("-C", repo, "serve", "--insecure-local", "--branch", "mian")
    assert branch.exit_code == 2
    assert "did you mean 'main'?" in branch.stderr


def test_a_busy_address_is_exit_3(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(
            "-C",
            str(example_repo.workdir),
            "serve",
            "--insecure-local",
            "--listen",
            f"127.0.0.1:{port}",
        )
    assert result.exit_code == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_the_access_log_never_shows_a_credential_put_in_a_url(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    token = "cfgctl_0123456789ab_" + "S3cretS3cret" * 3
    with server_process(example_repo.workdir, log_dir=tmp_path) as server:
        for query in (f"access_token={token}", "password=hunter2&limit=1", f"x={token}"):
            httpx2.get(server.api(f"/services?{query}"), timeout=10)
        httpx2.get(server.api("/services?limit=1"), timeout=10)
    log = server.log.read_text()
    assert "S3cretS3cret" not in log and "hunter2" not in log
    assert "access_token=***" in log and "cfgctl_***" in log and "limit=1" in log


def test_an_insecure_local_server_answers_loopback_names_only(
    example_repo: ConfigRepo, tmp_path: Path
) -> None:
    """DNS rebinding: a page's own name resolving to 127.0.0.1 carries that name as Host."""
    with server_process(example_repo.workdir, log_dir=tmp_path) as server:
        url = server.api("/services")
        port = url.split(":")[2].split("/")[0]
        refused = httpx2.get(url, headers={"Host": f"evil.example:{port}"}, timeout=10)
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/problem+json"
        assert "not a loopback name" in refused.json()["detail"]
        for host in (f"localhost:{port}", f"127.0.0.1:{port}", "127.0.0.2"):
            assert httpx2.get(url, headers={"Host": host}, timeout=10).status_code == 200, host
