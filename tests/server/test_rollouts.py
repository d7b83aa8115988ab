"""Agents report back to the server, and a rollout is read from their reports: which targets
reached a commit (or a descendant), which are stuck and why, which agents went quiet. Reports
are checked (shape, size), authorized (`report` on `agents`) and kept in the state directory."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cfgctl.repo.timespec import utc_iso
from cfgctl.server.agentreports import MAX_REPORT_BYTES, stale_after
from cfgctl.server.security import Anonymous, LocalReads, NoAudit, Security, Subject
from tests.support.gitrepo import ConfigRepo
from tests.support.server import served


@pytest.fixture(autouse=True)
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state"
    monkeypatch.setenv("CFGCTL_STATE_DIR", str(path))
    return path


def target(name: str, commit: str | None, state: str = "in-sync", **more: Any) -> dict[str, Any]:
    return {
        "target": f"payments@{name}:/srv/{name}.yaml",
        "service": "payments",
        "env": name,
        "wave": 0,
        "commit": commit,
        "state": state,
        "last_error": None,
        "canary": None,
        **more,
    }


def report(agent: str, targets: list[dict[str, Any]], **passed: Any) -> dict[str, Any]:
    return {
        "agent": agent,
        "time": utc_iso(datetime.now(UTC)),
        "pass": {"applied": [], "failed": [], "held": [], "blocked": [], **passed},
        "branch": "main",
        "tip": targets[0]["commit"] if targets else None,
        "remote": {"url": "/srv/config.git", "ok": True},
        "targets": targets,
    }


def _post(client: TestClient, agent: str, body: Any) -> int:
    return client.post(f"/api/v1/agents/{agent}/report", json=body).status_code


def test_a_rollout_counts_reached_stuck_and_pending_targets(example_repo: ConfigRepo) -> None:
    old = str(example_repo.repo.head.target)
    new = str(example_repo.commit({"config/staging/_defaults.yaml": "replicas: 1\n"}, "one"))
    newer = str(example_repo.commit({"config/staging/_defaults.yaml": "replicas: 2\n"}, "two"))
    canary = {"state": "held", "reason": "p99 latency inconclusive after 3 windows"}
    with served(example_repo.workdir) as client:
        assert _post(client, "web-1", report("web-1", [target("prod", newer)])) == 204
        stuck = [
            target("staging", old, "failed", last_error="health check: HTTP 503"),
            target("prod-eu", old, canary=canary),
            target("dev", "f" * 40),
            target("qa", old, "waiting", last_error="wave 0 is held: canary inconclusive"),
        ]
        assert _post(client, "web-2", report("web-2", stuck)) == 204
        assert _post(client, "web-3", report("web-3", [target("prod", new)])) == 204
        doc = client.get(f"/api/v1/rollouts/{new}").json()
        by_head = client.get("/api/v1/rollouts/HEAD").json()
        agents = client.get("/api/v1/agents").json()["items"]
    assert (doc["total"], doc["reached"], doc["stuck"], doc["pending"]) == (6, 2, 3, 1)
    rows = {(r["agent"], r["env"]): r for r in doc["targets"]}
    assert rows["web-1", "prod"]["status"] == "reached"  # a descendant of the commit
    assert rows["web-3", "prod"]["status"] == "reached"
    assert rows["web-2", "staging"]["status"] == "failed"
    assert rows["web-2", "staging"]["why"] == "health check: HTTP 503"
    assert rows["web-2", "prod-eu"]["status"] == "canary-held"
    assert rows["web-2", "prod-eu"]["why"] == canary["reason"]
    assert rows["web-2", "qa"]["status"] == "waiting"
    assert rows["web-2", "qa"]["why"] == "wave 0 is held: canary inconclusive"
    assert rows["web-2", "dev"]["status"] == "pending"
    assert "not in the served repository" in rows["web-2", "dev"]["why"]
    assert by_head["commit"] == newer and by_head["reached"] == 1
    assert [a["agent"] for a in agents] == ["web-1", "web-2", "web-3"]
    assert agents[0]["targets"] == 1 and agents[0]["stale"] is False
    assert agents[0]["stale_after_seconds"] == 600


def test_a_blocked_target_is_stuck_and_a_quiet_agent_stale(
    example_repo: ConfigRepo, state: Path
) -> None:
    old = str(example_repo.repo.head.target)
    head = str(example_repo.commit({"config/staging/_defaults.yaml": "replicas: 1\n"}, "x"))
    body = report("web-1", [target("prod", old)], blocked=["payments@prod:/srv/prod.yaml"])
    with served(example_repo.workdir) as client:
        assert _post(client, "web-1", body) == 204
        entries = json.loads((state / "agents.json").read_text())
        hour_ago = utc_iso(datetime.now(UTC) - timedelta(hours=1))
        entries["web-1"]["received"] = [hour_ago]
        (state / "agents.json").write_text(json.dumps(entries))
        doc = client.get(f"/api/v1/rollouts/{head}").json()
        (agent,) = client.get("/api/v1/agents").json()["items"]
    (row,) = doc["targets"]
    assert row["status"] == "blocked" and row["stale"] is True and doc["stale"] == 1
    assert agent["stale"] is True and agent["last_report"] == hour_ago


def test_reports_survive_a_restart(example_repo: ConfigRepo) -> None:
    head = str(example_repo.repo.head.target)
    with served(example_repo.workdir) as client:
        assert _post(client, "web-1", report("web-1", [target("prod", head)])) == 204
        assert _post(client, "web-1", report("web-1", [target("prod", head)])) == 204
    with served(example_repo.workdir) as client:
        (agent,) = client.get("/api/v1/agents").json()["items"]
        assert client.get(f"/api/v1/rollouts/{head}").json()["reached"] == 1
    assert agent["agent"] == "web-1"
    assert agent["stale_after_seconds"] == 90  # two reports: 3 x max(gap, 30 s)


def test_the_usual_interval_is_the_median_gap() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = [utc_iso(start + timedelta(seconds=s)) for s in (0, 60, 120, 900)]
    assert stale_after(times) == timedelta(seconds=180)
    assert stale_after(times[:1]) == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("agent", "body", "status", "words"),
    [
        ("web-1", "not json", 400, "not JSON"),
        ("web-1", {"agent": "web-1"}, 400, "'time' is a required property"),
        ("web-1", {**report("web-1", []), "targets": [{"target": 1}]}, 400, "targets/0"),
        ("web-2", report("web-1", []), 400, "sent to 'web-2'"),
        ("-x", report("-x", []), 400, "is not a name"),
        ("web-1", {**report("web-1", []), "pad": "x" * MAX_REPORT_BYTES}, 413, "bytes"),
    ],
)
def test_a_body_that_is_no_report_is_refused(
    example_repo: ConfigRepo, agent: str, body: Any, status: int, words: str, state: Path
) -> None:
    data = body if isinstance(body, str) else json.dumps(body)
    with served(example_repo.workdir) as client:
        answer = client.post(f"/api/v1/agents/{agent}/report", content=data)
        listed = client.get("/api/v1/agents").json()["items"]
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert words in answer.json()["detail"]
    assert listed == [] and not (state / "agents.json").exists()


class ReadOnly:
    def allows(self, subject: Subject, action: str, obj: str) -> bool:
        return action == "read"


def test_reporting_needs_the_report_permission(example_repo: ConfigRepo) -> None:
    head = str(example_repo.repo.head.target)
    body = report("web-1", [target("prod", head)])
    with served(example_repo.workdir, security=Security(Anonymous(), ReadOnly(), NoAudit())) as c:
        refused = c.post("/api/v1/agents/web-1/report", json=body)
        unknown = c.get("/api/v1/rollouts/no-such-commit")
    assert refused.status_code == 403
    # asked for each configuration the report names
    assert refused.json()["object"] == "config:payments@prod"
    assert refused.json()["action"] == "report"
    assert unknown.status_code == 404
    assert LocalReads().allows(Anonymous.subject, "report", "config:payments@prod")
    assert not LocalReads().allows(Anonymous.subject, "reveal", "config:payments@prod")


@pytest.mark.slow
def test_a_real_agent_reports_to_a_real_server(tmp_path: Path) -> None:
    """`cfgctl agent once` with `report: {url}` against `cfgctl serve --insecure-local`: the
    target shows as reached in the rollout of the commit it delivered."""
    import httpx2

    from tests.support.agentworld import AgentWorld, config
    from tests.support.server import server_process

    world = AgentWorld.create(tmp_path / "world")
    out = world.root / "payments.yaml"
    sha = world.edit("config/prod/payments.yaml", "replicas: 6", "replicas: 7")
    with server_process(world.repo.workdir, log_dir=tmp_path) as server:
        target_line = f"  - {{service: payments, env: prod, path: {out}}}\n"
        config(world, target_line, f"report: {{url: '{server.url}', id: web-1}}\n")
        result = world.once()
        assert result.returncode == 0, result.stderr
        assert "cannot report" not in result.stderr
        doc = httpx2.get(server.api(f"/rollouts/{sha}"), timeout=10).json()
        agents = httpx2.get(server.api("/agents"), timeout=10).json()["items"]
    assert (doc["total"], doc["reached"], doc["stuck"]) == (1, 1, 0)
    (row,) = doc["targets"]
    assert (row["agent"], row["service"], row["env"], row["commit"]) == (
        "web-1", "payments", "prod", sha
    )  # fmt: skip
    assert row["state"] == "in-sync" and out.exists()
    assert [a["agent"] for a in agents] == ["web-1"]
