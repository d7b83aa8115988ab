"""The agent's webhook server under hostile load: memory under large bodies, a burst of signed
pushes.

    python -m benchmarks.agent_limits_bench [--bodies 20] [--body-mb 25] [--burst 200]

A real agent (`cfgctl agent run`) with a webhook. Its resident memory (VmRSS, and the peak
VmHWM) is read from /proc before and after `--bodies` concurrent unsigned bodies of
`--body-mb` MB, then after as many bodies of the largest size the server reads (MAX_BODY) with
a wrong signature; then `--burst` signed pushes are sent at once and counted by answer.

Before the server's limits: 20 unsigned 25 MB bodies took the agent from 75 to 576 MB.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import hashlib
import hmac
import json
import socket
import tempfile
import threading
import time
from pathlib import Path

from cfgctl.agent.server import MAX_BODY
from tests.support.agentworld import AgentWorld, wait_for

SECRET = "bench-secret"


def _memory(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def _send(address: str, size: int, signature: str | None) -> str:
    """POST `size` bytes the way a plain client does (all of it, then read the answer)."""
    host, port = address.split(":")
    head = (
        f"POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\nContent-Length: {size}\r\n"
    )
    if signature is not None:
        head += f"X-Hub-Signature-256: {signature}\r\n"
    chunk = b"x" * (1024 * 1024)
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        try:
            sock.sendall(head.encode() + b"\r\n")
            for start in range(0, size, len(chunk)):
                sock.sendall(chunk[: min(len(chunk), size - start)])
        except OSError:
            pass  # refused before the body was read: the answer may still be there
        try:
            answer = sock.recv(100)
        except OSError as exc:
            return type(exc).__name__
    return answer.split(b"\r\n", 1)[0].decode() or "closed"


def _concurrently(count: int, work: collections.abc.Callable[[], str]) -> collections.Counter[str]:
    barrier = threading.Barrier(count)

    def one(_: int) -> str:
        barrier.wait()
        return work()

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return collections.Counter(pool.map(one, range(count)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", type=int, default=20)
    parser.add_argument("--body-mb", type=int, default=25)
    parser.add_argument("--burst", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        world = AgentWorld.create(Path(tmp))
        out = Path(tmp) / "p.yaml"
        world.write_config(
            f"source: {{url: {world.remote}, branch: main, poll_interval: 1h}}\n"
            f"state_dir: {world.state_dir}\n"
            f"targets:\n  - {{service: payments, env: prod, path: {out}}}\n"
            "webhook: {listen: '127.0.0.1:0', secret_env: HOOK}\n"
        )
        proc = world.start(env={"HOOK": SECRET})
        try:
            address = world.address()
            wait_for(out.exists, timeout=60, what="the first pass")
            print(f"agent at rest: {_memory(proc.pid)}")
            size = args.body_mb * 1024 * 1024
            answers = _concurrently(args.bodies, lambda: _send(address, size, None))
            print(f"{args.bodies} unsigned {args.body_mb} MB bodies: {dict(answers)}")
            print(f"  agent after: {_memory(proc.pid)}")
            wrong = "sha256=" + "0" * 64
            answers = _concurrently(args.bodies, lambda: _send(address, MAX_BODY, wrong))
            print(f"{args.bodies} bodies of {MAX_BODY} bytes, wrong signature: {dict(answers)}")
            print(f"  agent after: {_memory(proc.pid)}")
            body = json.dumps({"ref": "refs/heads/main"}).encode()
            signed = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            started = time.monotonic()
            answers = _concurrently(args.burst, lambda: _push(address, body, signed))
            seconds = time.monotonic() - started
            print(f"a burst of {args.burst} signed pushes: {dict(answers)} in {seconds:.2f} s")
        finally:
            world.stop_all()
    return 0


def _push(address: str, body: bytes, signature: str) -> str:
    host, port = address.split(":")
    head = (
        "POST /webhook HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"
        f"X-Hub-Signature-256: {signature}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    try:
        with socket.create_connection((host, int(port)), timeout=60) as sock:
            sock.sendall(head.encode() + body)
            return sock.recv(100).split(b"\r\n", 1)[0].decode() or "closed"
    except OSError as exc:
        return type(exc).__name__


if __name__ == "__main__":
    raise SystemExit(main())
