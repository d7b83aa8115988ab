"""Merge-to-applied latency of the sync agent, with the webhook trigger.

    python -m benchmarks.agent_bench [--changes 50] [--targets 1 100]

A commit is pushed to a bare remote on disk, a signed GitHub `push` webhook is sent to the
running agent (`cfgctl agent run`, a real process), and the clock stops when every target file
holds the new value (for one target: when the sample service, which reads its file through
`cfgctl.sdk.watch`, reports it over HTTP). p50 and p99 over the changes, for 1 and 100 targets.

Anchors: Apollo promises ~1 s to its clients, Configerator reports ~14.5 s commit to fleet,
Argo CD polls every 3 minutes without a webhook. Goal: p99 under 1 s for 100 targets.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pygit2

SECRET = "bench-secret"
SIG = pygit2.Signature("bench", "bench@example.com")
SCHEMA = {
    "type": "object",
    "required": ["version", "replicas"],
    "properties": {
        "version": {"type": "integer"},
        "replicas": {"type": "integer", "minimum": 1},
        "name": {"type": "string"},
        "db": {
            "type": "object",
            "properties": {"host": {"type": "string"}, "pool": {"type": "integer"}},
        },
    },
}


def _commit(repo: pygit2.Repository, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        path = Path(repo.workdir) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        repo.index.add(rel)
    repo.index.write()
    tree = repo.index.write_tree()
    parents = [] if repo.head_is_unborn else [repo.head.target]
    return str(repo.create_commit("HEAD", SIG, SIG, message, tree, parents))


def build(root: Path, services: int) -> tuple[pygit2.Repository, Path]:
    work = root / "work"
    repo = pygit2.init_repository(str(work), initial_head="main")
    names = [f"svc{i:03d}" for i in range(services)]
    manifest = "version: 1\nenvironments:\n  base: {}\n  prod: {inherits: base}\nservices:\n"
    manifest += "".join(f"  {n}: {{schema: svc}}\n" for n in names)
    files = {
        "cfgctl.yaml": manifest,
        "schemas/svc.schema.json": json.dumps(SCHEMA),
        "config/base/_defaults.yaml": "version: 0\nreplicas: 2\n",
    }
    for n in names:
        files[f"config/prod/{n}.yaml"] = f"name: {n}\ndb: {{host: {n}-db.internal, pool: 10}}\n"
    _commit(repo, files, "init")
    remote = root / "remote.git"
    pygit2.clone_repository(str(work), str(remote), bare=True)
    repo.remotes.create("origin", str(remote))
    return repo, remote


def _post(address: str, body: bytes) -> None:
    sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"http://{address}/webhook",
        data=body,
        method="POST",
        headers={"X-GitHub-Event": "push", "X-Hub-Signature-256": sig},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202


def _wait(path: Path, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while not path.is_file() or not path.read_text().strip():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {path}")
        time.sleep(0.01)
    return path.read_text().strip()


def measure(targets: int, changes: int, with_service: bool) -> list[float]:
    root = Path(tempfile.mkdtemp(prefix=f"cfgctl-agent-bench-{targets}-"))
    try:
        repo, remote = build(root, max(targets, 1))
        out = root / "out"
        lines = [
            f"source: {{url: {remote}, branch: main, poll_interval: 1h}}",
            f"state_dir: {root / 'state'}",
            "webhook: {listen: '127.0.0.1:0', secret_env: BENCH_HOOK_SECRET}",
            "targets:",
        ]
        for i in range(targets):
            path = out / f"svc{i:03d}.json"
            lines.append(f"  - {{service: svc{i:03d}, env: prod, path: {path}, format: json}}")
        config = root / "agent.yaml"
        config.write_text("\n".join(lines) + "\n")
        env = {**os.environ, "BENCH_HOOK_SECRET": SECRET}
        agent = subprocess.Popen(
            [sys.executable, "-m", "cfgctl", "agent", "run", "--config", str(config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        service = None
        try:
            address = _wait(root / "state/agent.addr")
            files = [out / f"svc{i:03d}.json" for i in range(targets)]
            for f in files:
                _wait(f)
            if with_service:
                port_file = root / "service.port"
                service = subprocess.Popen(
                    [
                        sys.executable,
                        str(Path(__file__).parent.parent / "tests/support/sample_service.py"),
                        "--config",
                        str(files[0]),
                        "--port-file",
                        str(port_file),
                        "--model",
                        "bench",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                port = _wait(port_file)
            samples = []
            for n in range(1, changes + 1):
                sha = _commit(
                    repo,
                    {"config/base/_defaults.yaml": f"version: {n}\nreplicas: 2\n"},
                    f"change {n}",
                )
                repo.remotes["origin"].push(["+refs/heads/main:refs/heads/main"])
                start = time.perf_counter()
                _post(address, json.dumps({"ref": "refs/heads/main", "after": sha}).encode())
                want = f'"version": {n},'
                if service is not None:
                    url = f"http://127.0.0.1:{port}/config"
                    while True:
                        with urllib.request.urlopen(url, timeout=5) as r:
                            if json.loads(r.read())["config"]["version"] == n:
                                break
                        time.sleep(0.002)
                else:
                    pending = list(files)
                    while pending:
                        pending = [f for f in pending if want not in f.read_text()]
                        if pending:
                            time.sleep(0.002)
                samples.append(time.perf_counter() - start)
            return samples
        finally:
            for proc in (service, agent):
                if proc is not None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(30)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--targets", type=int, nargs="+", default=[1, 100])
    args = parser.parse_args(argv)
    print(f"merge-to-applied latency, webhook trigger, {args.changes} changes each")
    print(f"{'targets':>8} {'p50 s':>8} {'p99 s':>8} {'max s':>8}  measured until")
    verdicts = []
    for n in args.targets:
        samples = measure(n, args.changes, with_service=n == 1)
        p50, p99 = statistics.median(samples), _pct(samples, 99)
        until = "the sample service reports it" if n == 1 else f"all {n} files hold it"
        print(f"{n:>8} {p50:>8.3f} {p99:>8.3f} {max(samples):>8.3f}  {until}")
        if n == 100:
            verdicts.append(f"goal p99 < 1 s for 100 targets: {'PASS' if p99 < 1 else 'MISS'}")
    print("anchors: Apollo ~1 s; Configerator ~14.5 s commit to fleet; Argo CD polls every 180 s")
    for v in verdicts:
        print(v)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
