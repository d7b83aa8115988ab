"""The actions themselves, run step by step as GitHub's runner would (tests/support/actions_runner)
with real `pull_request` / `pull_request_review` event payloads, `GITHUB_OUTPUT` and
`GITHUB_STEP_SUMMARY` files, the real `cfgctl` process, and the GitHub API emulator: a pull
request on the example repository gets its plan comment, review requests to the right people,
and a `cfgctl/approval` status that follows the policy."""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

import pygit2
import pytest

from cfgctl.cli.table import COMMANDS
from tests.support.actions_runner import ActionRun, run_action
from tests.support.githubworld import REPO, GitHubWorld
from tests.support.sarif import sarif_errors

pytestmark = pytest.mark.slow  # the actions' steps run as real processes

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests/fixtures/github/webhooks"


def event(name: str, pr: int, base: str, head: str) -> dict[str, Any]:
    """A recorded webhook payload, made to name our repository, pull request and commits."""
    payload: dict[str, Any] = copy.deepcopy(
        json.loads((FIXTURES / f"{name}.json").read_text())["payload"]
    )
    payload["pull_request"]["number"] = pr
    payload["pull_request"]["base"]["sha"] = base
    payload["pull_request"]["head"]["sha"] = head
    payload["repository"]["full_name"] = REPO
    payload["repository"]["name"] = REPO.split("/")[1]
    if "number" in payload:
        payload["number"] = pr
    return payload


def run(
    world: GitHubWorld, tmp: Path, action: str, event_name: str, payload: dict[str, Any]
) -> ActionRun:
    tmp.mkdir(parents=True, exist_ok=True)
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(payload))
    env = {
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SERVER_URL": world.emu.url,  # a GitHub Enterprise server, as far as cfgctl knows
        "GITHUB_RUN_ID": "4242",
        "GITHUB_TOKEN": world.emu.token,
        "CFGCTL_GITHUB_BACKOFF": "0.01",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return run_action(
        ROOT / "actions" / action,
        inputs={"python-version": "", "github-token": world.emu.token},
        env=env,
        workspace=world.repo.workdir,
        tmp=tmp,
    )


def test_a_pull_request_gets_plan_comment_reviewers_and_status(
    github: GitHubWorld, tmp_path: Path
) -> None:
    pr = github.open_pull(author="dev")
    base, head = (
        str(github.repo.repo.head.peel(pygit2.Commit).parents[0].id),
        str(github.repo.repo.head.target),
    )
    opened = event("pull_request_opened", pr, base, head)

    plan = run(github, tmp_path / "plan", "plan", "pull_request", opened)
    assert plan.ok, plan.output
    assert [s.skipped for s in plan.steps] == [True, False, False, False, False]  # setup-python
    assert "is installed" in plan.steps[1].stdout  # the install step found this very version
    comments = github.emu.comments(REPO, pr)
    assert len(comments) == 1 and "prod-needs-sre" in comments[0]["body"]
    assert plan.outputs["comment-url"] == (
        f"https://github.com/{REPO}/pull/{pr}#issuecomment-{comments[0]['id']}"
    )
    assert plan.outputs["risk"] == "prod"
    assert "### cfgctl plan" in plan.summary
    requested = github.emu.requested_reviewers(REPO, pr)
    assert sorted(requested["teams"]) == ["payments", "search", "sre"]

    gate = run(github, tmp_path / "gate", "gate", "pull_request", opened)
    assert gate.ok, gate.output  # fail-when-unmet is false: the status carries the verdict
    assert gate.outputs["state"] == "pending"
    assert "prod-needs-sre: 2 more approvals" in gate.outputs["description"]
    statuses = github.emu.statuses(REPO, head)
    assert statuses[-1]["state"] == "pending" and statuses[-1]["context"] == "cfgctl/approval"
    assert statuses[-1]["target_url"] == f"{github.emu.url}/{REPO}/actions/runs/4242"
    assert "cfgctl/approval: pending" in gate.summary

    for user in ("pat", "sid", "sam", "sue"):
        github.emu.add_review(REPO, pr, user)
    reviewed = event("pull_request_review_submitted", pr, base, head)
    reviewed["review"]["state"] = "approved"
    gate = run(github, tmp_path / "gate2", "gate", "pull_request_review", reviewed)
    assert gate.ok, gate.output
    assert gate.outputs["state"] == "success"
    assert github.emu.statuses(REPO, head)[-1]["state"] == "success"

    # the plan again (a `synchronize` run): the same comment, edited in place
    again = run(github, tmp_path / "plan2", "plan", "pull_request", opened)
    assert again.ok, again.output
    assert len(github.emu.comments(REPO, pr)) == 1


def test_the_gate_action_can_fail_the_job(github: GitHubWorld, tmp_path: Path) -> None:
    pr = github.open_pull()
    base, head = (
        str(github.repo.repo.head.peel(pygit2.Commit).parents[0].id),
        str(github.repo.repo.head.target),
    )
    payload = event("pull_request_opened", pr, base, head)
    event_path = tmp_path / "e.json"
    event_path.write_text(json.dumps(payload))
    env = {
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_SERVER_URL": github.emu.url,
        "GITHUB_RUN_ID": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    gate = run_action(
        ROOT / "actions/gate",
        inputs={"python-version": "", "github-token": github.emu.token, "fail-when-unmet": "true"},
        env=env,
        workspace=github.repo.workdir,
        tmp=tmp_path,
    )
    assert not gate.ok and gate.steps[-1].returncode == 1
    assert gate.outputs["state"] == "pending"


def test_the_escalate_action_on_a_schedule(github: GitHubWorld, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    pr = github.open_pull(created_at=datetime.now(UTC) - timedelta(days=2))
    result = run(github, tmp_path, "escalate", "schedule", {"schedule": "17 * * * *"})
    assert result.ok, result.output
    assert result.outputs["escalated"] == str(pr)
    assert "sre-leads" in github.emu.requested_reviewers(REPO, pr)["teams"]


def test_the_validate_action_annotates_problems(github: GitHubWorld, tmp_path: Path) -> None:
    pr = github.open_pull()
    base, head = (
        str(github.repo.repo.head.peel(pygit2.Commit).parents[0].id),
        str(github.repo.repo.head.target),
    )
    clean = run(
        github,
        tmp_path / "ok",
        "validate",
        "pull_request",
        event("pull_request_opened", pr, base, head),
    )
    assert clean.ok, clean.output
    github.repo.write({"config/prod/payments.yaml": "replicas: lots\n"})
    broken = run(
        github,
        tmp_path / "bad",
        "validate",
        "pull_request",
        event("pull_request_opened", pr, base, head),
    )
    assert not broken.ok
    assert "::error file=config/prod/payments.yaml,line=1" in broken.output


SCAN_SECRET = "xK9mP2vL8qR5tY7wZ3nB6"


def _scan(work: Path, tmp: Path, **inputs: str) -> ActionRun:
    tmp.mkdir(parents=True)
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return run_action(
        ROOT / "actions/scan-code",
        inputs={"python-version": "", **inputs},
        env=env,
        workspace=work,
        tmp=tmp,
    )


@pytest.mark.skipif(
    "scan-code" not in COMMANDS, reason="the scan-code command is not in this build yet"
)
def test_the_scan_code_action_writes_sarif_for_upload_sarif(tmp_path: Path) -> None:
    """The scan step runs for real on a small checkout; upload-sarif (remote) is checked for
    what it would be given."""
    work = tmp_path / "checkout"
    (work / "app").mkdir(parents=True)
    (work / "app/db.py").write_text(
        "import psycopg\n\n"
        "POOL_SIZE = 25\n"
        f'DB_PASSWORD = "{SCAN_SECRET}"\n\n\n'
        "def connect():\n"
        '    return psycopg.connect(host="db.internal", password=DB_PASSWORD, '
        "pool_size=POOL_SIZE, timeout=30)\n"
    )
    run = _scan(work, tmp_path / "run", paths="app", **{"min-score": "0"})
    assert run.ok, run.output
    text = (work / "cfgctl-scan.sarif").read_text(encoding="utf-8")
    assert SCAN_SECRET not in text
    log = json.loads(text)
    assert sarif_errors(log) == []
    results = log["runs"][0]["results"]
    assert run.outputs == {"sarif-file": "cfgctl-scan.sarif", "results": str(len(results))}
    assert results, "no finding in a file with a pool size, a timeout and a password"
    for result in results:
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "app/db.py", "uriBaseId": "%SRCROOT%"}
    assert f"{len(results)} findings" in run.summary
    upload = run.steps[-1]
    assert upload.uses == "github/codeql-action/upload-sarif@v3" and upload.would_run
    assert upload.with_inputs == {"sarif_file": "cfgctl-scan.sarif", "category": "cfgctl-scan-code"}

    kept = _scan(work, tmp_path / "kept", upload="false", output="out.sarif")
    assert kept.ok, kept.output
    assert (work / "out.sarif").is_file() and not kept.steps[-1].would_run

    bad = _scan(work, tmp_path / "bad", **{"min-score": "lots"})
    assert not bad.ok and bad.steps[2].returncode == 2  # bad input: nothing is uploaded
    assert not bad.steps[-1].would_run
