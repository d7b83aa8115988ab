"""One client process of benchmarks/fleet_bench.py: thousands of etcd watchers on raw asyncio
connections (uvloop), each a `POST /v3/watch` stream on etcd's JSON gateway.

    python -m benchmarks.fleet_watchers < spec.json      # spec: one JSON line on stdin

The spec: {"endpoints": ["http://127.0.0.1:P", ...], "watchers": [[member, key], ...],
"marker": "<commit sha>", "timeout": 120}. The process opens every watch (one connection each:
the gateway carries one watch per HTTP stream), then prints one JSON line
{"ready": n, "failed": [...], "rss_before_kib": a, "rss_kib": b} and reads one line ("go") on
stdin; from then on each watcher waits for an event whose decoded value holds the marker and
notes `time.monotonic()` (one clock for every process of the machine). Then it prints
{"seen": [t, ...], "missing": k, "events": e, "bytes": b, "rss_end_kib": c, "cpu_s": s} and
exits (cpu_s: the process's CPU time from "go" to the last watcher).
"""

from __future__ import annotations

import asyncio
import base64
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_CONNECTING = 64  # connections being opened at once, per process


def rss_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def raise_nofile(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))


class Watcher:
    """One watch stream: opened, then read chunk by chunk until the marker's event."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port, self.key = host, port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.buffer = b""
        self.events = 0
        self.bytes = 0

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        request = {"create_request": {"key": base64.b64encode(self.key.encode()).decode()}}
        body = json.dumps(request).encode()
        self.writer.write(
            b"POST /v3/watch HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (self.host.encode(), self.port, len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        created = await self.message()
        if b'"created":true' not in created:
            raise ConnectionError(f"no watch created: {created[:200]!r}")

    async def message(self) -> bytes:
        """The next JSON message of the stream (chunked; one message per line)."""
        assert self.reader is not None
        while b"\n" not in self.buffer:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                raise ConnectionError("the stream ended")
            data = await self.reader.readexactly(size + 2)
            self.bytes += size
            self.buffer += data[:-2]
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    async def wait_for(self, marker: bytes) -> float:
        while True:
            line = await self.message()
            if b'"events"' not in line:
                continue  # a progress notification
            for event in json.loads(line)["result"]["events"]:
                self.events += 1
                if marker in base64.b64decode(event["kv"].get("value", "")):
                    return time.monotonic()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _open(watcher: Watcher, gate: asyncio.Semaphore) -> str | None:
    async with gate:
        error = ""
        for _attempt in range(3):
            try:
                await asyncio.wait_for(watcher.open(), 30)
                return None
            except (TimeoutError, OSError, ConnectionError, ValueError) as exc:
                watcher.close()
                error = f"{type(exc).__name__}: {exc}"
                await asyncio.sleep(0.2)
        return error


async def run(spec: dict[str, Any]) -> None:
    endpoints = [urlsplit(url) for url in spec["endpoints"]]
    watchers = [
        Watcher(endpoints[m].hostname or "127.0.0.1", endpoints[m].port or 2379, key)
        for m, key in spec["watchers"]
    ]
    before = rss_kib()
    gate = asyncio.Semaphore(_CONNECTING)
    errors = await asyncio.gather(*(_open(w, gate) for w in watchers))
    failed = [e for e in errors if e]
    live = [w for w, e in zip(watchers, errors, strict=True) if not e]
    _say({"ready": len(live), "failed": failed[:5], "rss_before_kib": before, "rss_kib": rss_kib()})
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    marker = spec["marker"].encode()
    cpu = time.process_time()
    done = await asyncio.gather(
        *(asyncio.wait_for(w.wait_for(marker), spec["timeout"]) for w in live),
        return_exceptions=True,
    )
    seen = [t for t in done if isinstance(t, float)]
    _say(
        {
            "seen": seen,
            "missing": len(watchers) - len(seen),
            "events": sum(w.events for w in watchers),
            "bytes": sum(w.bytes for w in watchers),
            "rss_end_kib": rss_kib(),
            "cpu_s": time.process_time() - cpu,
        }
    )
    for w in watchers:
        w.close()


def _say(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def main() -> int:
    import uvloop

    spec = json.loads(sys.stdin.readline())
    raise_nofile(len(spec["watchers"]) + 64)
    uvloop.run(run(spec))
    return 0


if __name__ == "__main__":
    sys.exit(main())
