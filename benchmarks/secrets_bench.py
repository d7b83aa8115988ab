"""Rendering with SOPS-encrypted secrets: 100 services, 20 secret values each.

    python -m benchmarks.secrets_bench [--services N]

Measured in one run, in one process:
- the peer: a loop of N sequential `sops -d` calls of the same sops binary, one per file;
- cfgctl cold: render all N services of a fresh snapshot (every file decrypted, in parallel);
- cfgctl warm: render them again in the same process (unchanged blobs: the in-memory cache).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pygit2
import pyrage

from benchmarks.generate import OUT
from cfgctl.repo import sops
from cfgctl.repo.session import Session
from cfgctl.repo.snapshot import Snapshot


def _repo(n: int, recipient: str) -> Path:
    root = OUT / f"secrets-{n}"
    if root.exists():
        shutil.rmtree(root)
    (root / "schemas").mkdir(parents=True)
    pygit2.init_repository(str(root), initial_head="main")  # its own repository: no commit yet
    (root / "schemas" / "svc.schema.json").write_text('{"type": "object"}')
    names = [f"svc{i:03d}" for i in range(n)]
    (root / "cfgctl.yaml").write_text(
        "version: 1\nenvironments:\n  prod: {}\nservices:\n"
        + "".join(f"  {s}: {{schema: svc}}\n" for s in names)
    )
    (root / ".sops.yaml").write_text(
        "creation_rules:\n  - path_regex: ^config/prod/.*\\.secrets\\.yaml$\n"
        f"    age: {recipient}\n"
    )
    (root / "config" / "prod").mkdir(parents=True)
    for s in names:
        (root / "config" / "prod" / f"{s}.yaml").write_text(f"name: {s}\nport: 8080\n")
        plain = "".join(
            f"secret_{k:02d}: value-{s}-{k:02d}-{os.urandom(8).hex()}\n" for k in range(20)
        )
        rel = f"config/prod/{s}.secrets.yaml"
        (root / rel).write_bytes(sops.encrypt(plain.encode(), rel, root))
    return root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--services", type=int, default=100)
    args = ap.parse_args(argv)
    n = args.services
    key_file = OUT / "secrets-bench-key.txt"
    OUT.mkdir(parents=True, exist_ok=True)
    identity = pyrage.x25519.Identity.generate()
    key_file.write_text(f"{identity}\n")
    key_file.chmod(0o600)
    os.environ["SOPS_AGE_KEY_FILE"] = str(key_file)
    root = _repo(n, str(identity.to_public()))
    files = sorted((root / "config" / "prod").glob("*.secrets.yaml"))
    binary = sops.sops_path()

    started = time.perf_counter()
    for path in files:
        subprocess.run(
            [binary, "--disable-version-check", "decrypt", str(path)],
            capture_output=True,
            check=True,
        )
    loop = time.perf_counter() - started

    session = Session(use_cache=False)  # the warm runs reuse its decrypted trees
    snap = Snapshot.from_worktree(root, session=session)
    started = time.perf_counter()
    session.decrypter.prefetch([snap.files[p.relative_to(root).as_posix()] for p in files])
    rendered = [snap.render(s, "prod") for s in snap.manifest.services]
    cold = time.perf_counter() - started
    assert all(len(r.data) == 22 for r in rendered), "every value decrypted"

    warm_runs = []
    for _ in range(5):
        again = Snapshot.from_worktree(root, session=session)
        started = time.perf_counter()
        for s in again.manifest.services:
            again.render(s, "prod")
        warm_runs.append(time.perf_counter() - started)
    warm = statistics.median(warm_runs)

    rows = [
        (f"{n} sequential `sops -d` (the binary)", loop, None),
        (f"cfgctl render of {n} services, cold (parallel decryption)", cold, 1.8),
        (f"cfgctl render of {n} services, warm (same process)", warm, 50.0),
    ]
    print(f"{'measurement':<60}{'seconds':>10}{'vs loop':>10}  goal")
    for label, seconds, goal in rows:
        ratio = loop / seconds
        verdict = "" if goal is None else f">= {goal:.1f}x {'PASS' if ratio >= goal else 'MISS'}"
        print(f"{label:<60}{seconds:>10.3f}{ratio:>9.1f}x  {verdict}")
    print(f"({os.cpu_count()} CPUs, sops {binary})")
    key_file.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
