"""`cfgctl serve`: warm reads and the long poll, against a real server process.

    python -m benchmarks.serve_bench                          # 1,000 and 3,000 waiters
    python -m benchmarks.serve_bench --waiters 200 1000 10000 # raise `ulimit -n` first

On `cfgctl init`'s example repository, one `cfgctl serve --insecure-local` process (1 worker):

- warm read: `GET /api/v1/config/payments/prod` 2,000 times in a row on one kept-alive
  connection (the answer is computed once, then served from memory): median and p99;
- long poll: N clients each hold `?wait=60s&after=HEAD` open (one asyncio connection each, no
  HTTP library: the client must not be the bottleneck it measures), then one commit changes
  that configuration; the time from the commit to each client's status line (median, p99, max),
  the server's threads while they wait, and its resident memory per waiting client (the RSS
  with N waiting, less the RSS before they came, over N).

Clients and server share this machine's cores, so the figures are an upper bound. Benchmarks
measure; no test asserts a timing. Results: benchmarks/out/serve.json and a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pygit2

T = TypeVar("T")
CFGCTL = str(Path(sys.executable).parent / "cfgctl")
RESULTS = Path(__file__).resolve().parent / "out" / "serve.json"
SIGNATURE = pygit2.Signature("bench", "bench@example.com")
CONFIG = "/api/v1/config/payments/prod"


def _commit_replicas(root: Path, replicas: int) -> str:
    path = root / "config/prod/payments.yaml"
    lines = path.read_text().split("\n")
    lines = [f"replicas: {replicas}" if ln.startswith("replicas:") else ln for ln in lines]
    path.write_text("\n".join(lines))
    repo = pygit2.Repository(str(root))
    repo.index.add("config/prod/payments.yaml")
    repo.index.write()
    tree = repo.index.write_tree()
    msg = f"{replicas} replicas"
    return str(repo.create_commit("HEAD", SIGNATURE, SIGNATURE, msg, tree, [repo.head.target]))


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def _request(host: str, port: int, path: str) -> tuple[asyncio.StreamReader, Any]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    await writer.drain()
    return reader, writer


async def _warm(host: str, port: int, count: int) -> list[float]:
    reader, writer = await asyncio.open_connection(host, port)
    times = []
    request = f"GET {CONFIG} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    for _ in range(count):
        started = time.perf_counter()
        writer.write(request)
        headers = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(h.split(b":")[1])
            for h in headers.split(b"\r\n")
            if h.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        times.append(time.perf_counter() - started)
    writer.close()
    return sorted(times)


async def _long_poll(
    host: str, port: int, root: Path, pid: int, n: int, value: int
) -> dict[str, Any]:
    head = str(pygit2.Repository(str(root)).head.target)
    before = _rss_kib(pid)
    started = [await _request(host, port, f"{CONFIG}?wait=60s&after={head}") for _ in range(n)]
    await asyncio.sleep(2 + n / 1000)
    threads = sum(1 for _ in Path(f"/proc/{pid}/task").iterdir())
    waiting = _rss_kib(pid)
    committed = time.monotonic()
    _commit_replicas(root, value)

    async def status(reader: asyncio.StreamReader, writer: Any) -> tuple[float, bytes]:
        line = await reader.readline()
        writer.close()
        return time.monotonic() - committed, line.split(b" ")[1]

    done = await asyncio.gather(*(status(r, w) for r, w in started))
    lat = sorted(t for t, _ in done)
    return {
        "waiters": n,
        "statuses": sorted({c.decode() for _, c in done}),
        "threads": threads,
        "rss_per_waiter_kib": round((waiting - before) / n, 1),
        "p50_s": round(lat[len(lat) // 2], 3),
        "p99_s": round(lat[max(0, int(len(lat) * 0.99) - 1)], 3),
        "max_s": round(lat[-1], 3),
    }


def _run(main: Coroutine[Any, Any, T]) -> T:
    """`main` on uvloop, as the server runs: the client reads 10,000 sockets at once, and must
    not be the bottleneck it measures."""
    import uvloop

    return uvloop.run(main)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waiters", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument(
        "--access-log", action="store_true", help="serve with its access log on (default off)"
    )
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(args.waiters) * 2 + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "cfg"
        subprocess.run([CFGCTL, "init", str(root)], check=True, capture_output=True)
        log = "--access-log" if args.access_log else "--no-access-log"
        proc = subprocess.Popen(
            [CFGCTL, "-C", str(root), "serve", "--insecure-local", "--listen", "127.0.0.1:0", log],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[1]
            host, port = url.removeprefix("http://").split("/")[0].split(":")
            time.sleep(1)
            warm = asyncio.run(_warm(host, int(port), args.reads))
            results: dict[str, Any] = {
                "warm_read": {
                    "reads": args.reads,
                    "p50_ms": round(warm[len(warm) // 2] * 1000, 2),
                    "p99_ms": round(warm[int(len(warm) * 0.99) - 1] * 1000, 2),
                    "per_second_one_client": round(len(warm) / sum(warm)),
                },
                "long_poll": [
                    _run(_long_poll(host, int(port), root, proc.pid, n, 11 + i))
                    for i, n in enumerate(args.waiters)
                ],
            }
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    w = results["warm_read"]
    print(
        f"warm read, one kept-alive client: p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms, "
        f"{w['per_second_one_client']}/s"
    )
    print(
        "| waiters | statuses | server threads | RSS per waiter | commit->answer p50 | p99 | max |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in results["long_poll"]:
        print(
            f"| {r['waiters']} | {','.join(r['statuses'])} | {r['threads']} | "
            f"{r['rss_per_waiter_kib']} KiB | {r['p50_s']} s | {r['p99_s']} s | {r['max_s']} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
