"""The pull-request workflow end to end: the real CLI, a real Git repository, github3.py over
HTTP to the GitHub API emulator on 127.0.0.1."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import github3
import pytest

from tests.support.cli import Result, RunCli
from tests.support.githubworld import REPO, GitHubWorld
from tests.support.gitrepo import ConfigRepo
from tests.support.policies import POLICY
from tests.support.secretrepo import set_secret


def gate(world: GitHubWorld, run_cli: RunCli, pr: int, *extra: str) -> Result:
    return run_cli("pr", "gate", *world.args("--pr", str(pr), *extra), cwd=world.repo.workdir)


def status(world: GitHubWorld, sha: str) -> dict:  # type: ignore[type-arg]
    statuses = [s for s in world.emu.statuses(REPO, sha) if s["context"] == "cfgctl/approval"]
    assert statuses, "no cfgctl/approval status was set"
    return statuses[-1]


def head_of(world: GitHubWorld) -> str:
    return str(world.repo.repo.head.target)


def test_a_base_change_that_reaches_prod_needs_two_sre_approvals(
    github: GitHubWorld, run_cli: RunCli
) -> None:
    pr = github.open_pull()
    head = head_of(github)
    result = gate(github, run_cli, pr)
    assert result.exit_code == 1, result.output
    st = status(github, head)
    assert st["state"] == "pending"
    assert "prod-needs-sre: 2 more approvals from @acme/sre" in st["description"]

    for user in ("pat", "sid", "sam"):  # the owners, and one SRE
        github.emu.add_review(REPO, pr, user)
    assert gate(github, run_cli, pr).exit_code == 1
    assert (
        status(github, head)["description"]
        == "needs prod-needs-sre: 1 more approval from @acme/sre"
    )

    github.emu.add_review(REPO, pr, "sue")
    result = gate(github, run_cli, pr)
    assert result.exit_code == 0, result.output
    st = status(github, head)
    assert st["state"] == "success"
    assert "approved by @pat, @sam, @sid, @sue" in st["description"]


def test_approvals_before_a_new_push_are_stale(github: GitHubWorld, run_cli: RunCli) -> None:
    pr = github.open_pull()
    for user in ("pat", "sid", "sam", "sue"):
        github.emu.add_review(REPO, pr, user)
    assert gate(github, run_cli, pr).exit_code == 0
    new_head = github.change({"config/staging/payments.yaml": "replicas: 2\n"}, "more")
    github.emu.push(REPO, pr, new_head)
    result = gate(github, run_cli, pr, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["state"] == "pending" and data["head"] == new_head
    assert sorted(data["stale_approvals"]) == ["pat", "sam", "sid", "sue"]
    assert status(github, new_head)["state"] == "pending"


def test_the_authors_own_approval_does_not_count(github: GitHubWorld, run_cli: RunCli) -> None:
    pr = github.open_pull(author="sam")  # sam is in @acme/sre
    for user in ("sam", "sue", "pat", "sid"):
        github.emu.add_review(REPO, pr, user)
    assert gate(github, run_cli, pr).exit_code == 1
    assert status(github, head_of(github))["description"] == (
        "needs prod-needs-sre: 1 more approval from @acme/sre"
    )


def test_a_team_members_approval_counts_and_an_outsiders_does_not(
    github: GitHubWorld, run_cli: RunCli
) -> None:
    pr = github.open_pull()
    for user in ("pat", "sid", "sue", "outsider", "lea"):
        github.emu.add_review(REPO, pr, user)
    result = gate(github, run_cli, pr, "--format", "json")
    sre = next(
        r for r in json.loads(result.stdout)["requirements"] if r["rule"] == "prod-needs-sre"
    )
    assert sre["approvers"] == ["sue"] and sre["met"] is False
    github.emu.add_review(REPO, pr, "dev")  # dev is in @acme/sre, but is the author
    assert gate(github, run_cli, pr).exit_code == 1
    github.emu.add_review(REPO, pr, "sam")
    assert gate(github, run_cli, pr).exit_code == 0


def test_changes_requested_fails_until_that_reviewer_approves(
    github: GitHubWorld, run_cli: RunCli
) -> None:
    pr = github.open_pull()
    for user in ("pat", "sid", "sue", "sam"):
        github.emu.add_review(REPO, pr, user)
    github.emu.add_review(REPO, pr, "lea", state="CHANGES_REQUESTED")
    assert gate(github, run_cli, pr).exit_code == 1
    st = status(github, head_of(github))
    assert st["state"] == "failure" and st["description"] == "changes requested by @lea"
    github.emu.add_review(REPO, pr, "lea", state="APPROVED")
    assert gate(github, run_cli, pr).exit_code == 0


def test_emergency_label_needs_one_sre_and_opens_one_follow_up(
    github: GitHubWorld, run_cli: RunCli
) -> None:
    pr = github.open_pull(labels=["emergency"], title="Raise the timeout")
    assert gate(github, run_cli, pr).exit_code == 1
    assert status(github, head_of(github))["description"] == (
        "needs emergency (emergency): 1 more approval from @acme/sre"
    )
    assert github.emu.issues(REPO) == []
    github.emu.add_review(REPO, pr, "sue")
    result = gate(github, run_cli, pr)
    assert result.exit_code == 0, result.output
    assert status(github, head_of(github))["description"].startswith("emergency path:")
    issues = github.emu.issues(REPO)
    assert len(issues) == 1
    assert f"#{pr}" in issues[0]["title"] and "prod-needs-sre" in issues[0]["body"]
    assert "follow-up issue:" in result.stdout
    assert gate(github, run_cli, pr).exit_code == 0  # a rerun opens no second issue
    assert len(github.emu.issues(REPO)) == 1


def _freeze_policy(start: datetime, end: datetime) -> str:
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return POLICY + (
        "freeze:\n"
        f"  - {{environments: [prod, prod-eu], from: '{start.strftime(iso)}', "
        f"to: '{end.strftime(iso)}', reason: year-end}}\n"
    )


def test_a_freeze_blocks_prod_changes_unless_emergency(
    github: GitHubWorld, run_cli: RunCli
) -> None:
    now = datetime.now(UTC)
    github.change(
        {"policy.yaml": _freeze_policy(now - timedelta(hours=1), now + timedelta(days=3))}
    )
    pr = github.open_pull()
    for user in ("pat", "sid", "sue", "sam"):
        github.emu.add_review(REPO, pr, user)
    assert gate(github, run_cli, pr).exit_code == 1
    st = status(github, head_of(github))
    assert st["state"] == "failure" and "change freeze on prod, prod-eu until" in st["description"]
    github.emu.add_label(REPO, pr, "emergency")
    assert gate(github, run_cli, pr).exit_code == 0


def test_a_freeze_does_not_block_a_staging_only_change(
    github: GitHubWorld, run_cli: RunCli
) -> None:
    now = datetime.now(UTC)
    github.change(
        {"policy.yaml": _freeze_policy(now - timedelta(hours=1), now + timedelta(days=3))}
    )
    base = head_of(github)
    head = github.change({"config/staging/payments.yaml": "replicas: 2\n"})
    pr = github.emu.open_pull(REPO, author="dev", head_sha=head, base_sha=base)
    github.emu.add_review(REPO, pr, "pat")
    result = gate(github, run_cli, pr)
    assert result.exit_code == 0, result.output


def test_route_requests_the_required_reviewers_once(github: GitHubWorld, run_cli: RunCli) -> None:
    pr = github.open_pull(author="pat")
    result = run_cli(
        "pr", "route", *github.args("--pr", str(pr), "--format", "json"), cwd=github.repo.workdir
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert sorted(data["requested"]["teams"]) == ["@acme/payments", "@acme/search", "@acme/sre"]
    assert github.emu.requested_reviewers(REPO, pr) == {
        "users": [],
        "teams": ["sre", "payments", "search"],
    } or sorted(github.emu.requested_reviewers(REPO, pr)["teams"]) == ["payments", "search", "sre"]
    again = run_cli(
        "pr", "route", *github.args("--pr", str(pr), "--format", "json"), cwd=github.repo.workdir
    )
    data = json.loads(again.stdout)
    assert data["requested"] == {"users": [], "teams": []}
    assert any("asked already" in s for s in data["skipped"])


def test_route_asks_users_but_never_the_author(github: GitHubWorld, run_cli: RunCli) -> None:
    text = github.repo.read("config/prod/payments.yaml").replace("pool_size: 40", "pool_size: 41")
    base = head_of(github)
    head = github.change({"config/prod/payments.yaml": text})
    pr = github.emu.open_pull(REPO, author="alice", head_sha=head, base_sha=base)
    result = run_cli(
        "pr", "route", *github.args("--pr", str(pr), "--format", "json"), cwd=github.repo.workdir
    )
    data = json.loads(result.stdout)
    assert "@acme/dba" in data["requested"]["teams"]
    assert "alice" not in data["requested"]["users"]
    assert any(s.startswith("@alice: the author") for s in data["skipped"])


def test_the_plan_comment_is_one_comment_updated_in_place(
    github: GitHubWorld, run_cli: RunCli
) -> None:
    pr = github.open_pull()
    first = run_cli("pr", "comment", *github.args("--pr", str(pr)), cwd=github.repo.workdir)
    assert first.exit_code == 0, first.output
    assert "created the plan comment" in first.stdout
    comments = github.emu.comments(REPO, pr)
    assert len(comments) == 1
    body = comments[0]["body"]
    assert "<!-- cfgctl:plan -->" in body and "prod-needs-sre" in body
    assert "server.timeout_seconds" in body and "`30` → `45`" in body

    rerun = run_cli("pr", "comment", *github.args("--pr", str(pr)), cwd=github.repo.workdir)
    assert "unchanged" in rerun.stdout
    new_head = github.change({"config/staging/payments.yaml": "replicas: 2\n"}, "more")
    github.emu.push(REPO, pr, new_head)
    third = run_cli("pr", "comment", *github.args("--pr", str(pr)), cwd=github.repo.workdir)
    assert "updated the plan comment" in third.stdout
    comments = github.emu.comments(REPO, pr)
    assert len(comments) == 1 and comments[0]["id"] == github.emu.comments(REPO, pr)[0]["id"]
    assert "replicas" in comments[0]["body"]


def test_secrets_never_reach_the_comment(
    secret_repo: ConfigRepo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.github_emulator import GitHubEmulator
    from tests.support.githubworld import TEAMS

    secret = "Comment-Secret-Value-4471"
    base = str(secret_repo.repo.head.target)
    set_secret(run_cli, secret_repo, secret)
    head = secret_repo.commit({}, "a secret", add_all=True)
    with GitHubEmulator() as emu:
        emu.add_repo("acme", "config")
        for slug, members in TEAMS.items():
            for login in members:
                emu.add_user(login)
            emu.add_team("acme", slug, members)
        monkeypatch.setenv("GITHUB_TOKEN", emu.token)
        pr = emu.open_pull(REPO, author="dev", head_sha=head, base_sha=base)
        result = run_cli(
            "pr",
            "comment",
            "--github-repo",
            REPO,
            "--github-url",
            emu.url,
            "--pr",
            str(pr),
            cwd=secret_repo.workdir,
        )
        assert result.exit_code == 0, result.output
        body = emu.comments(REPO, pr)[0]["body"]
        assert "db.password" in body and "secret changed" in body
        assert secret not in body and secret not in result.output


def test_escalation_after_the_deadline_happens_once(github: GitHubWorld, run_cli: RunCli) -> None:
    old = datetime.now(UTC) - timedelta(hours=25)
    late = github.open_pull(created_at=old)
    head = github.change({"config/staging/payments.yaml": "replicas: 3\n"})
    fresh = github.emu.open_pull(
        REPO,
        author="dev",
        head_sha=head,
        base_sha=head,
        created_at=datetime.now(UTC) - timedelta(hours=1),
    )
    approved_head = github.change({"config/staging/search.yaml": "replicas: 2\n"})
    approved = github.emu.open_pull(
        REPO, author="dev", head_sha=approved_head, base_sha=head, created_at=old
    )
    # the gate passed on `approved` earlier: its status says so
    gh = github3.GitHubEnterprise(github.emu.url, token=github.emu.token)
    gh.repository("acme", "config").create_status(
        approved_head, "success", context="cfgctl/approval", description="ok"
    )

    result = run_cli("pr", "escalate", *github.args("--format", "json"), cwd=github.repo.workdir)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["escalated"] == [late]
    assert data["within_deadline"] == [fresh] and data["approved"] == [approved]
    comments = github.emu.comments(REPO, late)
    assert len(comments) == 1 and "<!-- cfgctl:escalation -->" in comments[0]["body"]
    assert "waited for approval for 1d 1h" in comments[0]["body"]
    assert "sre-leads" in github.emu.requested_reviewers(REPO, late)["teams"]
    assert github.emu.comments(REPO, fresh) == []

    again = json.loads(
        run_cli("pr", "escalate", *github.args("--format", "json"), cwd=github.repo.workdir).stdout
    )
    assert again["escalated"] == [] and again["already_escalated"] == [late]
    assert len(github.emu.comments(REPO, late)) == 1


def test_api_errors_exit_3_with_a_clear_message(
    github: GitHubWorld, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    pr = github.open_pull()
    monkeypatch.setenv("GITHUB_TOKEN", "wrong")
    result = gate(github, run_cli, pr)
    assert result.exit_code == 3
    assert "GitHub refused the token" in result.stderr and "Traceback" not in result.output
    monkeypatch.setenv("GITHUB_TOKEN", github.emu.token)

    reset = int(time.time()) + 600
    github.emu.rate_limit(reset)
    result = gate(github, run_cli, pr)
    assert result.exit_code == 3
    assert "rate limit" in result.stderr
    assert datetime.fromtimestamp(reset, UTC).strftime("%H:%M:%S") in result.stderr
    github.emu.clear_faults()

    result = run_cli(
        "pr",
        "gate",
        "--github-repo",
        "acme/nothing",
        "--github-url",
        github.emu.url,
        "--pr",
        str(pr),
        cwd=github.repo.workdir,
    )
    assert result.exit_code == 3 and "not found" in result.stderr

    monkeypatch.delenv("GITHUB_TOKEN")
    result = gate(github, run_cli, pr)
    assert result.exit_code == 3 and "GITHUB_TOKEN" in result.stderr


def test_server_errors_are_retried_then_reported(github: GitHubWorld, run_cli: RunCli) -> None:
    pr = github.open_pull()
    github.emu.fail_next(503, count=2)
    result = gate(github, run_cli, pr)
    assert result.exit_code == 1, result.output  # answered after two retries: pending
    assert status(github, head_of(github))["state"] == "pending"
    github.emu.fail_next(502, count=50)
    result = gate(github, run_cli, pr)
    assert result.exit_code == 3
    assert "502" in result.stderr and "after retries" in result.stderr
    github.emu.clear_faults()


def test_bad_options_are_usage_errors(github: GitHubWorld, run_cli: RunCli) -> None:
    result = run_cli(
        "pr", "gate", "--github-repo", "not-a-repo", "--pr", "1", cwd=github.repo.workdir
    )
    assert result.exit_code == 2 and "OWNER/NAME" in result.stderr
    result = run_cli("pr", "gate", "--github-repo", REPO, cwd=github.repo.workdir)
    assert result.exit_code == 2 and "--pr" in result.stderr


def test_a_permission_error_and_a_missing_commit_are_explained(
    github: GitHubWorld, run_cli: RunCli
) -> None:
    pr = github.open_pull()
    github.emu.fail_next(403, method="POST", path_contains="/statuses/")
    result = gate(github, run_cli, pr)
    assert result.exit_code == 3
    assert "GitHub refused setting the cfgctl/approval status" in result.stderr
    assert "statuses: write" in result.stderr

    base = head_of(github)
    missing = github.emu.open_pull(REPO, author="dev", head_sha="f" * 40, base_sha=base)
    result = gate(github, run_cli, missing)
    assert result.exit_code == 3
    assert "commit ffffffffffff is not in the local repository" in result.stderr
    assert "fetch-depth: 0" in result.stderr and "Traceback" not in result.output


def test_an_unreachable_server_is_an_environment_error(
    github: GitHubWorld, run_cli: RunCli
) -> None:
    for url, why in (("http://127.0.0.1:1", "connection failed"), ("not a url", "not a valid URL")):
        result = run_cli(
            "pr",
            "gate",
            "--github-repo",
            REPO,
            "--github-url",
            url,
            "--pr",
            "1",
            cwd=github.repo.workdir,
        )
        assert result.exit_code == 3, result.output
        assert f"cannot reach GitHub at {url}" in result.stderr and why in result.stderr
