"""`cfgctl serve` beside nginx serving the same bytes as a static file: warm throughput (wrk) and
the latency at a steady 500 requests/s, in one run.

    python -m benchmarks.serve_nginx_bench [--seconds 10] [--rate 500] [--connections 64]

On `cfgctl init`'s example repository: the answer of `GET /api/v1/config/payments/prod` is read
once from cfgctl and written where nginx (Debian's package, one worker process, access log off)
serves it as a file at the same path. Then, for nginx, cfgctl with one worker and cfgctl with two
(`--workers 2`), both with the access log off as nginx's is (`--no-access-log`), and cfgctl with
one worker and its access log on (formatted, written to /dev/null), to show its cost:

- throughput: `wrk -t2 -cCONNECTIONS -dSECONDS` (Debian's wrk) on the URL: requests per second,
  and each as a share of nginx's;
- latency at a steady rate: an open-loop client (asyncio, 16 kept-alive connections) sends
  `--rate` requests a second for `--seconds`; each latency is from the moment the request was
  due (not when a connection came free: no coordinated omission) to its last byte. p50, p99, max.

Goals (issue 15): cfgctl's throughput at least a quarter of nginx's; p99 under 10 ms at 500
requests/s. Client and servers share this machine's 2 cores, so all of them are slowed alike.
Results: benchmarks/out/serve_nginx.json and a table. Needs `nginx` and `wrk`
(scripts/system-packages.sh nginx wrk).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CFGCTL = str(Path(sys.executable).parent / "cfgctl")
RESULTS = Path(__file__).resolve().parent / "out" / "serve_nginx.json"
PATH = "/api/v1/config/payments/prod"
NGINX_CONF = """\
{user}daemon off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    root {root};
    default_type application/json;
  }}
}}
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def _cfgctl(root: Path, workers: int, *, access_log: bool = False) -> Iterator[str]:
    log = "--access-log" if access_log else "--no-access-log"
    proc = subprocess.Popen(
        [CFGCTL, "-C", str(root), "serve", "--insecure-local", "--listen", "127.0.0.1:0",
         "--workers", str(workers), log],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().split()[1].removesuffix("/api/v1/")
        _wait(base + PATH)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


@contextmanager
def _nginx(tmp: Path, body: bytes) -> Iterator[str]:
    root = tmp / "www"
    target = root / PATH.lstrip("/")
    target.parent.mkdir(parents=True)
    target.write_bytes(body)
    for folder in (tmp, *root.rglob("*"), root):
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    port = _free_port()
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, port=port, root=root))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    command = [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "nginx-error.log")]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait(base + PATH)
        yield base
    finally:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=30)


def _wrk(url: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert found, out
    return float(found[1])


async def _steady(host: str, port: int, rate: int, seconds: int) -> dict[str, float]:
    """Open loop: request i is due at start + i / rate, sent on the next free connection."""
    request = f"GET {PATH} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(16):
        free.put_nowait(await asyncio.open_connection(host, port))
    latencies: list[float] = []
    errors = 0

    async def one(due: float) -> None:
        nonlocal errors
        reader, writer = await free.get()
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head)[1])  # type: ignore[index]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - due)
        except (OSError, asyncio.IncompleteReadError, TypeError):
            errors += 1
        finally:
            free.put_nowait((reader, writer))

    start = time.perf_counter() + 0.1
    tasks = []
    for i in range(rate * seconds):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    while not free.empty():
        free.get_nowait()[1].close()
    lat = sorted(latencies)
    return {
        "requests": len(lat),
        "errors": errors,
        "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 2),
        "max_ms": round(lat[-1] * 1000, 2),
    }


def _measure(base: str, args: argparse.Namespace) -> dict[str, Any]:
    host, port = base.removeprefix("http://").split(":")
    throughput = _wrk(base + PATH, args.seconds, args.connections)
    steady = asyncio.run(_steady(host, int(port), args.rate, args.seconds))
    return {"requests_per_second": round(throughput), "steady": steady}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    for tool in ("nginx", "wrk"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"{tool} is not installed: bash scripts/system-packages.sh nginx wrk")
            return 1
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        root = tmp / "cfg"
        subprocess.run([CFGCTL, "init", str(root)], check=True, capture_output=True)
        with _cfgctl(root, 1) as base:
            with urllib.request.urlopen(base + PATH) as r:
                body = r.read()
            results["cfgctl, 1 worker"] = _measure(base, args)
        with _cfgctl(root, 1, access_log=True) as base:
            results["cfgctl, 1 worker, access log on"] = _measure(base, args)
        with _cfgctl(root, 2) as base:
            results["cfgctl, 2 workers"] = _measure(base, args)
        with _nginx(tmp / "nginx", body) as base:
            results["nginx (static file)"] = _measure(base, args)
    nginx = results["nginx (static file)"]["requests_per_second"]
    print(f"GET {PATH} ({len(body)} bytes), wrk -t2 -c{args.connections} -d{args.seconds}s; "
          f"steady {args.rate}/s for {args.seconds} s, 16 connections")  # fmt: skip
    print("| server | requests/s | share of nginx | p50 at rate | p99 at rate | max |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        s = r["steady"]
        r["share_of_nginx"] = round(r["requests_per_second"] / nginx, 3)
        print(
            f"| {name} | {r['requests_per_second']:,} | {r['share_of_nginx']:.0%} | "
            f"{s['p50_ms']} ms | {s['p99_ms']} ms | {s['max_ms']} ms |"
        )
    best = max(results["cfgctl, 1 worker"]["share_of_nginx"],
               results["cfgctl, 2 workers"]["share_of_nginx"])  # fmt: skip
    p99 = results["cfgctl, 1 worker"]["steady"]["p99_ms"]
    print(
        f"goal: a quarter of nginx's throughput: {best:.0%}: {'PASS' if best >= 0.25 else 'MISS'}"
    )
    print(f"goal: p99 under 10 ms at {args.rate}/s (1 worker): {p99} ms: "
          f"{'PASS' if p99 < 10 else 'MISS'}")  # fmt: skip
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"body_bytes": len(body), **results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
