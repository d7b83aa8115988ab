"""What access control costs a request of `cfgctl serve`: an rbac.yaml decision (allowed and
denied), a token check (warm: its hash already checked by this process; cold: a new store, so a
new SQLite connection and PBKDF2), an audit line (fsync), verifying an audit log, and building
the Authorizer (once per change of rbac.yaml).

    python -m benchmarks.authz_bench [--grants 50] [--calls 2000]

The rules: `--grants` grants of the editor role, each to a subject and a group on two scopes
(4 Casbin rules each), one admin grant on everything. Nothing is asserted: the figures are
printed (microseconds a call, the median of five runs) and written to benchmarks/out/authz.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from cfgctl.server.auditlog import AuditLog, verify
from cfgctl.server.rbac import Authorizer
from cfgctl.server.tokens import TokenStore

OUT = Path(__file__).resolve().parent / "out" / "authz.json"


def _per_call(fn: Callable[[], object], calls: int) -> float:
    """Microseconds a call, the median of five runs of `calls` calls."""
    fn()
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        runs.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(runs)


def _rules(grants: int) -> str:
    lines = ["version: 1", "groups:", "  team0: [alice]", "grants:"]
    for i in range(grants):
        lines += [
            f"  - subjects: [user{i}, group:team{i}]",
            "    role: editor",
            f"    scope: [svc{i}@staging, 'svc{i}@dev*']",
        ]
    lines += ["  - subjects: [root]", "    role: admin", "    scope: ['*']"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grants", type=int, default=50)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    text = _rules(args.grants)
    start = time.perf_counter()
    authz = Authorizer.from_text(text)
    authz.enforce("alice", "edit", "svc0@staging")
    build_ms = (time.perf_counter() - start) * 1000
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder)
        store = TokenStore.open(state)
        _, token = store.create("ci", "editor", ["*"], timedelta(days=1))
        log = AuditLog(state / "audit.jsonl")
        figures = {
            "grants": args.grants,
            "authorizer_build_ms": round(build_ms, 1),
            "enforce_allowed_us": _per_call(
                lambda: authz.enforce("alice", "edit", "svc0@staging"), args.calls
            ),
            "enforce_denied_us": _per_call(
                lambda: authz.enforce("bob", "edit", "svc0@prod"), args.calls
            ),
            "token_verify_warm_us": _per_call(lambda: store.verify(token), args.calls),
            "token_verify_cold_us": _per_call(
                lambda: TokenStore(store.path).verify(token), max(1, args.calls // 10)
            ),
            "audit_append_fsync_us": _per_call(
                lambda: log.append("alice", "edit", "svc0@prod", "allowed", request_id="r"),
                max(1, args.calls // 4),
            ),
        }
        start = time.perf_counter()
        lines = verify(state / "audit.jsonl").lines
        figures["audit_verify_lines"] = lines
        figures["audit_verify_ms"] = round((time.perf_counter() - start) * 1000, 2)
    for name, value in figures.items():
        shown = f"{value:.0f}" if isinstance(value, float) and name.endswith("_us") else value
        print(f"{name:24} {shown}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
