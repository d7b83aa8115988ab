"""The fleet through etcd: fan-out of one commit to 10,000 watchers, and the publish of a
10,000-service repository beside the same bytes written by etcdctl, in one run.

    python -m benchmarks.fleet_bench [--watchers 10000] [--pairs 100] [--services 10000]
    python -m benchmarks.fleet_bench --services 1000 --watchers 1000 --procs 2   # a smoke run

On a real three-member etcd 3.4 cluster on loopback (tests/support/etcd.py) and the generated
repository benchmarks/out/repo-N (benchmarks/generate.py: N services x 3 environments, so
3 x N pairs; its first commit is published):

1. publish: `cfgctl.fleet.publish.publish` of the first commit into an empty cluster (timed,
   the library call, caches off as on a CI job's fresh clone; its etcd transactions timed apart),
   then every key and value it wrote is written again by /usr/bin/etcdctl into a second, empty
   cluster: `etcdctl txn` fed on stdin, batches of at most 128 puts and ~1.4 MiB as cfgctl's,
   one process per batch, one after the other; the result is read back and compared, byte for
   byte, with what cfgctl wrote.
2. fan-out: the first cluster is restarted (a clean memory baseline), `--procs` client processes
   (benchmarks/fleet_watchers.py) open `--watchers` watch streams spread evenly over the three
   members, then one commit changing `--pairs` pairs (config/prod/SERVICE.yaml of the first
   services, `replicas`) is published, and each watcher notes when it decoded the new value.
   Two modes, each on its own commit: `head` (every watcher on PREFIX/v1/commit, the small key
   written in the head's transaction: what the agent of each host watches) and `pair`
   (watchers / pairs on each changed PREFIX/v1/config/prod/S:
   each replica of a service watching its own pair, as `cfgctl.sdk.watch_etcd` would).
   Times from the start of the publish (and from its end: the fan-out alone), p50, p99, max;
   the RSS of each etcd member before and after the watchers connect (and etcd's own count of
   watchers, from /metrics), and of the client processes, per watcher.

Everything shares this machine's cores (etcd members, clients, publisher), so the figures are
an upper bound. Results: benchmarks/out/fleet.json and the tables printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import benchmarks.generate as generate
from benchmarks.fleet_etcdctl import PREFIX, dump, etcdctl_write
from benchmarks.fleet_watchers import raise_nofile, rss_kib
from cfgctl.fleet.etcd import Etcd
from cfgctl.fleet.layout import Layout
from cfgctl.fleet.publish import PublishResult, commit_info, publish
from cfgctl.repo.snapshot import Snapshot
from tests.support.etcd import ETCD, EtcdCluster

RESULTS = generate.OUT / "fleet.json"
_QUIET: Any = {"capture_output": True, "text": True, "check": False}
REFERENCES = (("Configerator, commit to fleet (published)", 14.5), ("Apollo (published)", 1.0))


class TimedEtcd(Etcd):
    """The client publish uses, with the time spent in its transactions counted."""

    txn_seconds = 0.0

    def txn(self, *args: Any, **kwargs: Any) -> tuple[bool, int]:
        started = time.monotonic()
        try:
            return super().txn(*args, **kwargs)
        finally:
            self.txn_seconds += time.monotonic() - started


def _log(message: str) -> None:
    print(f"[fleet] {message}", file=sys.stderr, flush=True)


def _publish(root: Path, rev: str, endpoints: list[str]) -> tuple[PublishResult, float, float]:
    """(result, seconds of the whole call, seconds in etcd transactions)."""
    etcd = TimedEtcd(endpoints, timeout=60)
    try:
        snap = Snapshot.at(root, rev, use_cache=False)
        started = time.monotonic()
        result = publish(snap, etcd, Layout.of(PREFIX), commit_info(snap))
        return result, time.monotonic() - started, etcd.txn_seconds
    finally:
        etcd.close()


def _first_commit(root: Path) -> str:
    import pygit2

    repo = pygit2.Repository(str(root))
    commit = repo.revparse_single("HEAD").peel(pygit2.Commit)
    while commit.parents:
        commit = commit.parents[0]
    return str(commit.id)


def _commit_changing(root: Path, parent: str, services: list[str], replicas: int) -> str:
    """A commit (no branch moves) on `parent` whose config/prod/S.yaml has `replicas` for each S."""
    import pygit2

    repo = pygit2.Repository(str(root))
    index = pygit2.Index()
    index.read_tree(repo[parent].peel(pygit2.Commit).tree)
    for name in services:
        path = f"config/prod/{name}.yaml"
        text = repo[index[path].id].peel(pygit2.Blob).data.decode()
        new = re.sub(r"(?m)^replicas: \d+", f"replicas: {replicas}", text, count=1)
        assert new != text, path
        index.add(
            pygit2.IndexEntry(path, repo.create_blob(new.encode()), pygit2.enums.FileMode.BLOB)
        )
    tree = index.write_tree(repo)
    sig = pygit2.Signature("cfgctl bench", "bench@example.com", generate.COMMIT_TIME + 7200, 0)
    message = f"{len(services)} services: {replicas} replicas in prod"
    return str(repo.create_commit(None, sig, sig, message, tree, [pygit2.Oid(hex=parent)]))


def bench_publish(repo: generate.Repo, tmp: Path, first: str) -> tuple[EtcdCluster, dict[str, Any]]:
    cluster = EtcdCluster(tmp / "a").start()
    try:
        _log(f"publishing the first commit of {repo.root.name} ({repo.pairs} pairs) with cfgctl")
        result, seconds, txn = _publish(repo.root, first, cluster.endpoints)
        kvs = dump(cluster.endpoints)
    finally:
        cluster.stop()  # idle while etcdctl writes; restarted for the fan-out
    other = EtcdCluster(tmp / "b").start()
    try:
        _log(f"writing the same {len(kvs)} keys with etcdctl txn")
        ctl_seconds, processes = etcdctl_write(other.endpoints, kvs)
        written = [(kv.key, kv.value) for kv in dump(other.endpoints)]
    finally:
        other.stop()
    same = written == [(kv.key, kv.value) for kv in kvs]
    shutil.rmtree(tmp / "b", ignore_errors=True)
    if not same:
        raise SystemExit("etcdctl's keys and values differ from cfgctl's: the comparison is void")
    return cluster, {
        "services": len(repo.services),
        "environments": len(repo.envs),
        "pairs": result.pairs,
        "keys": len(kvs),
        "bytes": sum(len(kv.key) + len(kv.value) for kv in kvs),
        "cfgctl_s": round(seconds, 2),
        "cfgctl_txn_s": round(txn, 2),
        "cfgctl_transactions": result.transactions,
        "etcdctl_s": round(ctl_seconds, 2),
        "etcdctl_processes": processes,
        "ratio": round(seconds / ctl_seconds, 2),
        "ratio_txn": round(txn / ctl_seconds, 2),
        "same_bytes": same,
    }


# --- fan-out --------------------------------------------------------------------------------


def _metrics(endpoint: str) -> dict[str, float]:
    wanted = (
        "etcd_debugging_mvcc_watcher_total",
        "etcd_debugging_mvcc_watch_stream_total",
        "go_memstats_heap_inuse_bytes",
        "go_memstats_stack_inuse_bytes",
        "go_goroutines",
    )
    with urllib.request.urlopen(endpoint + "/metrics", timeout=10) as answer:
        text = answer.read().decode()
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in wanted:
            out[name] = float(value)
    return out


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _etcd_cpu_s(cluster: EtcdCluster) -> float:
    return sum(_cpu_s(m.process.pid) for m in cluster.members if m.process is not None)


def _members(cluster: EtcdCluster) -> list[dict[str, float]]:
    out = []
    for member in cluster.members:
        assert member.process is not None
        out.append({"rss_kib": rss_kib(member.process.pid), **_metrics(member.endpoint)})
    return out


def _restart(cluster: EtcdCluster) -> None:
    cluster.stop()
    for member in cluster.members:
        cluster.start_member(member, wait=False)
    cluster.wait_healthy()
    time.sleep(2)


def _spawn(spec: dict[str, Any]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.fleet_watchers"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(spec) + "\n")
    proc.stdin.flush()
    return proc


def _line(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"a watcher process ended early (exit {proc.wait()})")
    data: dict[str, Any] = json.loads(line)
    return data


def _keys(mode: str, watchers: int, changed: list[str]) -> list[tuple[int, str]]:
    layout = Layout.of(PREFIX)
    if mode == "head":
        return [(i % 3, layout.commit) for i in range(watchers)]
    return [(i % 3, layout.config("prod", changed[i % len(changed)])) for i in range(watchers)]


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def _start_watchers(
    cluster: EtcdCluster, keys: list[tuple[int, str]], commit: str, count: int
) -> tuple[list[subprocess.Popen[str]], list[dict[str, Any]], float]:
    """`count` client processes holding `keys` between them: (processes, ready lines, seconds)."""
    procs = []
    for p in range(count):
        spec = {
            "endpoints": cluster.endpoints,
            "watchers": keys[p::count],
            "marker": commit,
            "timeout": 180,
        }
        procs.append(_spawn(spec))
    opened = time.monotonic()
    ready = [_line(p) for p in procs]
    return procs, ready, time.monotonic() - opened


def _per_watcher(before: list[dict[str, float]], after: list[dict[str, float]], n: int) -> Any:
    def delta(name: str, scale: float = 1.0) -> float:
        total = sum(a.get(name, 0) - b.get(name, 0) for a, b in zip(after, before, strict=True))
        return round(total * scale / n, 1)

    return {
        "etcd_bytes_per_watcher": delta("rss_kib", 1024),
        "etcd_heap_bytes_per_watcher": delta("go_memstats_heap_inuse_bytes"),
        "etcd_stack_bytes_per_watcher": delta("go_memstats_stack_inuse_bytes"),
        "etcd_goroutines_per_watcher": delta("go_goroutines"),
    }


def _latencies(seen: list[float], started: float, ended: float) -> dict[str, float]:
    out = {}
    for name, origin in (("", started), ("after_publish_", ended)):
        times = [t - origin for t in seen] or [float("nan")]
        out[f"{name}p50_s"] = round(_pct(times, 0.5), 3)
        out[f"{name}p99_s"] = round(_pct(times, 0.99), 3)
        out[f"{name}max_s"] = round(times[-1], 3)
    return out


def bench_fanout(
    cluster: EtcdCluster, repo: generate.Repo, mode: str, args: argparse.Namespace, commit: str
) -> dict[str, Any]:
    """`args.watchers` watchers of `mode`, then `commit` published: the figures."""
    _restart(cluster)
    before = _members(cluster)
    keys = _keys(mode, args.watchers, repo.services[: args.pairs])
    _log(f"{mode}: {args.watchers} watchers connecting from {args.procs} processes")
    procs, ready, connect_s = _start_watchers(cluster, keys, commit, args.procs)
    time.sleep(2)
    after = _members(cluster)
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    _log(f"{mode}: publishing {commit[:12]} ({args.pairs} pairs changed)")
    etcd_cpu = _etcd_cpu_s(cluster)
    started = time.monotonic()
    result, seconds, txn = _publish(repo.root, commit, cluster.endpoints)
    reports = [_line(p) for p in procs]
    etcd_cpu = _etcd_cpu_s(cluster) - etcd_cpu
    for proc in procs:
        proc.wait(30)
    seen = sorted(t for r in reports for t in r["seen"])
    client_delta = sum(r["rss_kib"] - r["rss_before_kib"] for r in ready)
    return {
        "mode": mode,
        "watchers": args.watchers,
        "ready": sum(r["ready"] for r in ready),
        "connect_failures": [f for r in ready for f in r["failed"]][:5],
        "connect_s": round(connect_s, 1),
        "processes": args.procs,
        "pairs_changed": len(result.written),
        "publish_s": round(seconds, 3),
        "publish_txn_s": round(txn, 3),
        "seen": len(seen),
        "missing": sum(r["missing"] for r in reports),
        "events": sum(r["events"] for r in reports),
        "stream_mib": round(sum(r["bytes"] for r in reports) / 2**20, 1),
        "etcd_cpu_s": round(etcd_cpu, 1),
        "client_cpu_s": round(sum(r["cpu_s"] for r in reports), 1),
        **_latencies(seen, started, started + seconds),
        "etcd_before": before,
        "etcd_after": after,
        **_per_watcher(before, after, args.watchers),
        "client_rss_kib": [r["rss_kib"] for r in ready],
        "client_bytes_per_watcher": round(client_delta * 1024 / args.watchers),
    }


# --- output ---------------------------------------------------------------------------------


def _print(results: dict[str, Any]) -> None:
    pub = results["publish"]
    print(
        f"\npublish of the first commit: {pub['services']} services x {pub['environments']} "
        f"environments = {pub['pairs']} pairs, {pub['keys']} keys, {pub['bytes'] / 2**20:.1f} MiB"
    )
    print("| writer | seconds | transactions | x etcdctl |")
    print("|---|---:|---:|---:|")
    print(
        f"| cfgctl fleet publish (library, cold) | {pub['cfgctl_s']:.2f} | "
        f"{pub['cfgctl_transactions']} | {pub['ratio']:.2f}x |"
    )
    print(
        f"| of which etcd transactions (JSON gateway) | {pub['cfgctl_txn_s']:.2f} | | "
        f"{pub['ratio_txn']:.2f}x |"
    )
    print(
        f"| etcdctl txn, 128 puts a process | {pub['etcdctl_s']:.2f} | "
        f"{pub['etcdctl_processes']} | 1.00x |"
    )
    print(f"same keys and values read back from both: {pub['same_bytes']}")
    for f in results["fanout"]:
        _print_fanout(f)
    host = results["host"]
    print(
        f"{host['etcd']}, {host['cpus']} CPUs shared by the members, the clients and the "
        f"publisher; load {host['load_before'][0]} before, {host['load_after'][0]} after; "
        f"cfgctl {host['cfgctl_commit']}"
    )
    print(f"results: {RESULTS}")


def _print_fanout(f: dict[str, Any]) -> None:
    print(
        f"\nfan-out, mode {f['mode']}: {f['ready']} of {f['watchers']} watchers ready in "
        f"{f['connect_s']} s from {f['processes']} processes, 3 members; "
        f"{f['pairs_changed']} pairs changed; {f['events']} events, "
        f"{f['stream_mib']} MiB streamed; {f['missing']} missed; CPU from the publish to "
        f"the last watcher: etcd {f['etcd_cpu_s']} s, clients {f['client_cpu_s']} s"
    )
    print("| from | p50 | p99 | max |")
    print("|---|---:|---:|---:|")
    print(
        f"| start of publish ({f['publish_s']:.2f} s, {f['publish_txn_s']:.2f} s in etcd) | "
        f"{f['p50_s']:.3f} s | {f['p99_s']:.3f} s | {f['max_s']:.3f} s |"
    )
    print(
        f"| end of publish (fan-out alone) | {f['after_publish_p50_s']:.3f} s | "
        f"{f['after_publish_p99_s']:.3f} s | {f['after_publish_max_s']:.3f} s |"
    )
    for name, seconds in REFERENCES:
        print(f"| reference: {name} | {seconds} s | | |")
    verdict = "PASS" if f["missing"] == 0 and f["p99_s"] < 1 else "MISS"
    print(f"goal: p99 under 1 s from the start of the publish: {f['p99_s']:.3f} s: {verdict}")
    print("| etcd member | RSS before | RSS after | watchers (etcd) | goroutines |")
    print("|---|---:|---:|---:|---:|")
    for i, (b, a) in enumerate(zip(f["etcd_before"], f["etcd_after"], strict=True)):
        print(
            f"| m{i + 1} | {b['rss_kib'] / 1024:.0f} MiB | {a['rss_kib'] / 1024:.0f} MiB | "
            f"{a.get('etcd_debugging_mvcc_watcher_total', 0):.0f} | "
            f"{a.get('go_goroutines', 0):.0f} |"
        )
    print(
        f"per watcher: etcd RSS {f['etcd_bytes_per_watcher'] / 1024:.1f} KiB "
        f"(Go heap in use {f['etcd_heap_bytes_per_watcher'] / 1024:.1f} KiB, goroutine stacks "
        f"{f['etcd_stack_bytes_per_watcher'] / 1024:.1f} KiB, "
        f"{f['etcd_goroutines_per_watcher']} goroutines; etcd's own figure over gRPC: "
        f"~350 bytes), client processes "
        f"{f['client_bytes_per_watcher'] / 1024:.1f} KiB"
    )


def _host() -> dict[str, Any]:
    here = Path(__file__).resolve().parent.parent
    head = subprocess.run(["git", "-C", str(here), "rev-parse", "--short", "HEAD"], **_QUIET)
    dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "cfgctl"], **_QUIET)
    return {
        "cpus": os.cpu_count(),
        "etcd": subprocess.run([ETCD, "--version"], **_QUIET).stdout.split("\n")[0],
        "cfgctl_commit": head.stdout.strip() + (" (uncommitted changes)" if dirty.stdout else ""),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--watchers", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=100, help="pairs the fan-out commit changes")
    parser.add_argument("--services", type=int, default=10_000, help="the repository's size")
    parser.add_argument("--procs", type=int, default=4, help="client processes of the watchers")
    parser.add_argument("--modes", nargs="+", choices=("head", "pair"), default=["head", "pair"])
    args = parser.parse_args(argv)
    raise_nofile(4096)
    repo = generate.ensure_repo(args.services)
    first = _first_commit(repo.root)
    results: dict[str, Any] = {"args": vars(args), "commit": first, "host": _host()}
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        cluster, results["publish"] = bench_publish(repo, Path(tmp), first)
        try:
            results["fanout"] = []
            parent = first
            for i, mode in enumerate(args.modes):
                parent = _commit_changing(repo.root, parent, repo.services[: args.pairs], 40 + i)
                results["fanout"].append(bench_fanout(cluster, repo, mode, args, parent))
        finally:
            cluster.stop()
    results["host"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    _print(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
