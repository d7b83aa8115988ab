"""`cfgctl serve --state-dir DIR` as a real uvicorn process, with a token made by `cfgctl serve
token create` on the same state directory, and revoked by `cfgctl serve token revoke`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.rbac import RULES
from tests.support.server import server_process


@pytest.mark.slow
def test_serve_with_a_token_from_the_cli(
    example_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    example_repo.commit({"rbac.yaml": RULES}, "access rules")
    state = str(tmp_path / "state")
    made = run_cli(
        "serve", "token", "create", "--name", "alice", "--role", "viewer",
        "--scope", "payments@staging", "--state-dir", state,
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    token = made.stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    args = ("--state-dir", state)
    with server_process(example_repo.workdir, *args, log_dir=tmp_path, insecure=False) as server:
        staging = httpx2.get(server.api("/config/payments/staging"), headers=auth, timeout=10)
        prod = httpx2.get(server.api("/config/payments/prod"), headers=auth, timeout=10)
        anonymous = httpx2.get(server.api("/config/payments/staging"), timeout=10)
        token_id = token.split("_")[1]
        assert run_cli("serve", "token", "revoke", token_id, *args).exit_code == 0
        revoked = httpx2.get(server.api("/config/payments/staging"), headers=auth, timeout=10)
    assert staging.status_code == 200, staging.text
    assert staging.headers["x-request-id"].startswith("r-")
    assert prod.status_code == 403
    assert anonymous.status_code == 401 and anonymous.json()["reason"] == "missing"
    assert revoked.status_code == 401 and revoked.json()["reason"] == "revoked"
    log = Path(state) / "audit.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    events = [(e["action"], e["outcome"]) for e in lines]
    assert events[0] == ("token.create", "ok")
    assert ("read", "denied") in events and ("token.revoke", "ok") in events
    assert events[-1] == ("authenticate", "denied")
    assert prod.headers["x-request-id"] in {e["request_id"] for e in lines}
    assert token not in log.read_text() and token not in (tmp_path / "server.log").read_text()
    verified = run_cli("audit", "verify", str(log))
    assert verified.exit_code == 0, verified.stdout + verified.stderr
