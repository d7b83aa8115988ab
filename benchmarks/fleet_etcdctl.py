"""The etcdctl side of benchmarks/fleet_bench.py: the same keys and values written by the real
etcdctl (/usr/bin/etcdctl, etcd 3.4), and what is under the prefix read back to compare.

    kvs = dump(endpoints)                               # what cfgctl wrote (the lock left out)
    seconds, processes = etcdctl_write(other_endpoints, kvs)

`etcdctl txn` reads a transaction on stdin (compares, a blank line, the puts, a blank line, the
failure branch); each value is given as a Go double-quoted string, which etcdctl unquotes to
exactly its bytes. One process a batch of at most 128 puts and ~1.4 MiB, as cfgctl's
transactions; `etcdctl put` per key would start 30,000 processes.
"""

from __future__ import annotations

import subprocess
import time

from cfgctl.fleet.etcd import Etcd, KeyValue
from tests.support.etcd import ETCDCTL

PREFIX = "/cfgctl"
_BATCH_OPS, _BATCH_BYTES = 128, 1_572_864 - 64 * 1024  # cfgctl's transaction limits


def _go_quote(data: bytes) -> bytes:
    """A Go double-quoted string (what etcdctl txn reads with %q) of exactly these bytes."""
    out = bytearray(b'"')
    for byte in data:
        if 0x20 <= byte < 0x7F and byte not in (0x22, 0x5C):
            out.append(byte)
        else:
            out += b"\\x%02x" % byte
    return bytes(out + b'"')


def _batches(kvs: list[KeyValue]) -> list[list[KeyValue]]:
    out: list[list[KeyValue]] = [[]]
    size = 0
    for kv in kvs:
        cost = len(kv.key) + len(kv.value) + 16
        if out[-1] and (len(out[-1]) >= _BATCH_OPS or size + cost > _BATCH_BYTES):
            out.append([])
            size = 0
        out[-1].append(kv)
        size += cost
    return out


def etcdctl_write(endpoints: list[str], kvs: list[KeyValue]) -> tuple[float, int]:
    """Every key and value with `etcdctl txn` (no compares, puts only), one batch a process."""
    inputs = [
        b"\n"
        + b"".join(b"put %s %s\n" % (_go_quote(kv.key.encode()), _go_quote(kv.value)) for kv in b)
        + b"\n\n"
        for b in _batches(kvs)
    ]
    command = [ETCDCTL, "--endpoints", ",".join(endpoints), "--command-timeout", "60s", "txn"]
    env = {"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"}
    started = time.monotonic()
    for data in inputs:
        done = subprocess.run(command, input=data, capture_output=True, env=env, check=False)
        if done.returncode != 0 or not done.stdout.startswith(b"SUCCESS"):
            raise SystemExit(f"etcdctl txn failed: {done.stderr.decode()[:500]}")
    return time.monotonic() - started, len(inputs)


def dump(endpoints: list[str]) -> list[KeyValue]:
    etcd = Etcd(endpoints, timeout=60)
    try:
        return [kv for kv in etcd.prefix(PREFIX + "/").kvs if not kv.key.endswith("/v1/lock")]
    finally:
        etcd.close()
