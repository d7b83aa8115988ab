"""`cfgctl serve token ...` and `cfgctl audit verify` from the root command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run_cli


def test_a_token_made_listed_revoked_and_its_audit_log_verified(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    made = run_cli(
        "serve", "token", "create", "--name", "alice", "--role", "viewer",
        "--scope", "payments@staging", "--expires", "1d", "--state-dir", state,
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("cfgctl_") and "\n" not in token
    listed = run_cli("serve", "token", "list", "--state-dir", state, "--format", "json")
    (entry,) = json.loads(listed.stdout)["tokens"]
    assert entry["subject"] == "alice" and token not in listed.stdout
    assert run_cli("serve", "token", "revoke", entry["id"], "--state-dir", state).exit_code == 0
    log = Path(state) / "audit.jsonl"
    verified = run_cli("audit", "verify", str(log))
    assert verified.exit_code == 0 and "ok, 2 lines" in verified.stdout, verified.stdout
    assert token not in log.read_text()
    lines = log.read_text().splitlines()
    log.write_text(lines[1] + "\n")  # the first line removed
    tampered = run_cli("audit", "verify", str(log))
    assert tampered.exit_code == 1 and f"{log}:1:" in tampered.stderr


def test_a_token_that_would_outlive_any_date_is_refused(tmp_path: Path) -> None:
    made = run_cli(
        "serve", "token", "create", "--name", "alice", "--role", "viewer",
        "--scope", "payments@staging", "--expires", "999999999d", "--state-dir", str(tmp_path),
    )  # fmt: skip
    assert made.exit_code == 2 and "may live 100 years at most" in made.stderr
    assert "Traceback" not in made.stderr
