"""policy.yaml: its validation, the impact of real commits, and rule matching on that impact."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from cfgctl.errors import InputError
from cfgctl.repo.snapshot import Snapshot
from cfgctl.review.plan import comment_body, make_plan
from cfgctl.review.policyfile import load_policy, policy_of
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.policies import FULL_POLICY as POLICY
from tests.support.secretrepo import set_secret


@pytest.fixture
def repo(example_repo: ConfigRepo) -> ConfigRepo:
    example_repo.commit({"policy.yaml": POLICY}, "policy")
    return example_repo


def _applies(repo: ConfigRepo, files: dict[str, str | bytes | None]) -> dict[str, bool]:
    repo.commit(files, "change")
    plan = make_plan(repo.workdir, "HEAD~1", "HEAD")
    return {m.rule.name: m.applies for m in plan.matches}


def test_the_issue_policy_is_valid_and_loads(repo: ConfigRepo, run_cli: RunCli) -> None:
    result = run_cli("validate", cwd=repo.workdir)
    assert result.exit_code == 0, result.output
    policy = policy_of(Snapshot.from_worktree(repo.workdir))
    assert policy is not None
    assert [r.name for r in policy.rules][:3] == ["prod-needs-sre", "owners-approve", "db-keys"]
    assert policy.rules[0].require.approvals == 2
    assert policy.rules[0].require.eligible.teams == ("acme/sre",)
    assert policy.emergency is not None and policy.emergency.label == "emergency"
    assert policy.escalation is not None and policy.escalation.after.total_seconds() == 86400
    assert policy.freezes[0].environments == ("prod", "prod-eu")


def test_a_base_defaults_edit_fires_the_prod_rule(repo: ConfigRepo) -> None:
    text = repo.read("config/base/_defaults.yaml").replace(
        "timeout_seconds: 30", "timeout_seconds: 45"
    )
    applies = _applies(repo, {"config/base/_defaults.yaml": text})
    assert applies["prod-needs-sre"] is True  # no prod file changed: inheritance did it
    assert applies["owners-approve"] is True
    assert applies["db-keys"] is False
    assert applies["policy-file"] is False


def test_a_staging_only_edit_does_not_fire_the_prod_rule(repo: ConfigRepo) -> None:
    applies = _applies(repo, {"config/staging/payments.yaml": "replicas: 3\n"})
    assert applies["prod-needs-sre"] is False
    assert applies["owners-approve"] is True


def test_key_globs_match_changed_keys_only(repo: ConfigRepo) -> None:
    text = repo.read("config/prod/payments.yaml").replace("pool_size: 40", "pool_size: 41")
    assert text != repo.read("config/prod/payments.yaml")
    applies = _applies(repo, {"config/prod/payments.yaml": text})
    assert applies["db-keys"] is True
    assert applies["prod-needs-sre"] is True


def test_schema_change_and_paths(repo: ConfigRepo) -> None:
    manifest = repo.read("cfgctl.yaml").replace("web-service@1", "web-service@2")
    applies = _applies(repo, {"cfgctl.yaml": manifest})
    assert applies["schema-changes"] is True
    applies = _applies(repo, {"policy.yaml": POLICY + "# reviewed\n"})
    assert applies["policy-file"] is True
    assert applies["prod-needs-sre"] is False  # no effective configuration changed


def test_plan_json_has_the_documented_shape(repo: ConfigRepo, run_cli: RunCli) -> None:
    text = repo.read("config/base/_defaults.yaml").replace(
        "timeout_seconds: 30", "timeout_seconds: 45"
    )
    repo.commit({"config/base/_defaults.yaml": text}, "change")
    result = run_cli(
        "pr", "plan", "--base", "HEAD~1", "--head", "HEAD", "-f", "json", cwd=repo.workdir
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"base", "head", "impact", "rules", "risk"}
    pairs = {(p["service"], p["env"]): p["keys"] for p in data["impact"]}
    assert pairs[("payments", "prod-eu")] == ["server.timeout_seconds"]
    assert "prod" in data["risk"]
    rule = next(r for r in data["rules"] if r["name"] == "prod-needs-sre")
    assert rule["applies"] is True
    assert rule["require"]["approvals"] == 2 and rule["require"]["teams"] == ["@acme/sre"]
    assert "payments@prod" in rule["why"]
    other = next(r for r in data["rules"] if r["name"] == "db-keys")
    assert other["applies"] is False and "db.*" in other["why"]


def test_the_policy_of_the_base_is_enforced(repo: ConfigRepo) -> None:
    """A change cannot weaken its own review: the base's policy.yaml is the one used."""
    weakened = POLICY.replace('approvals: 2, teams: ["@acme/sre"]', "approvals: 1")
    text = repo.read("config/prod/payments.yaml").replace("pool_size: 40", "pool_size: 41")
    repo.commit({"policy.yaml": weakened, "config/prod/payments.yaml": text}, "sneaky")
    plan = make_plan(repo.workdir, "HEAD~1", "HEAD")
    rule = next(m for m in plan.matches if m.rule.name == "prod-needs-sre")
    assert rule.rule.require.approvals == 2
    assert "policy" in plan.impact.risk


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (
            "version: 1\nrules:\n  - name: x\n    require: {approvals: 0}\n",
            "policy.yaml:4",
            "at least 1",
        ),
        (
            "version: 1\nrules:\n  - name: x\n    when: {environment: [prod]}\n    require: {}\n",
            "policy.yaml:4",
            "environment",
        ),
        (
            "version: 1\nescalation: {after: soon, to: {teams: ['@a/b']}}\n",
            "policy.yaml:2",
            "after",
        ),
        (
            "version: 1\nfreeze:\n  - {from: '2027-01-02T00:00:00Z', to: '2027-01-01T00:00:00Z'}\n",
            "policy.yaml:3",
            "before it starts",
        ),
        (
            "version: 1\nrules:\n  - {name: a, require: {}}\n  - {name: a, require: {}}\n",
            "policy.yaml:4",
            "twice",
        ),
        ("version: 1\nrules: [\n", "policy.yaml", ""),
    ],
)
def test_bad_policies_are_reported_at_their_line(
    example_repo: ConfigRepo, run_cli: RunCli, text: str, where: str, what: str
) -> None:
    example_repo.write({"policy.yaml": text})
    result = run_cli("validate", cwd=example_repo.workdir)
    assert result.exit_code == 1, result.output
    assert where in result.output and what in result.output
    assert "Traceback" not in result.output
    with pytest.raises(InputError):
        policy_of(Snapshot.from_worktree(example_repo.workdir))


def test_a_glob_that_matches_no_environment_is_a_warning(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    example_repo.write(
        {
            "policy.yaml": "version: 1\nrules:\n  - name: p\n    when: {environments: [prdo]}\n    require: {}\n"
        }
    )
    result = run_cli("validate", cwd=example_repo.workdir)
    assert result.exit_code == 0
    assert "policy.yaml:4" in result.output and "'prdo' matches no environment" in result.output
    assert "did you mean 'prod'" in result.output


def test_impact_of_a_secret_change_names_the_key_not_the_value(
    secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    secret = "plan-Secret-Value-8812"
    set_secret(run_cli, secret_repo, secret)
    secret_repo.commit({}, "secret", add_all=True)
    plan = make_plan(secret_repo.workdir, "HEAD~1", "HEAD")
    assert "secrets" in plan.impact.risk
    assert any(p.secret_keys == ["db.password"] for p in plan.impact.pairs)
    shown = json.dumps(plan.to_dict()) + "\n".join(plan.text_lines()) + comment_body(plan)
    assert "db.password" in shown and secret not in shown


def test_no_policy_means_no_rule(example_repo: ConfigRepo) -> None:
    assert load_policy(Snapshot.from_worktree(example_repo.workdir)) != (
        None,
        [],
    )  # template has one
    example_repo.commit({"policy.yaml": None}, "no policy")
    assert load_policy(Snapshot.from_worktree(example_repo.workdir)) == (None, [])


def test_the_base_branchs_current_policy_applies_to_older_branches(repo: ConfigRepo) -> None:
    """A feature branched before main tightened its policy is judged by main's policy now."""
    import subprocess

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo.workdir, check=True, capture_output=True)

    git("checkout", "-q", "-b", "feature")
    text = repo.read("config/prod/payments.yaml").replace("pool_size: 40", "pool_size: 41")
    repo.write({"config/prod/payments.yaml": text})
    git("commit", "-qam", "feature")
    git("checkout", "-q", "main")
    repo.write({"policy.yaml": POLICY.replace("approvals: 2, teams", "approvals: 3, teams")})
    git("commit", "-qam", "stricter")
    plan = make_plan(repo.workdir, "main", "feature")
    rule = next(m for m in plan.matches if m.rule.name == "prod-needs-sre")
    assert rule.applies and rule.rule.require.approvals == 3
    assert "policy" not in plan.impact.risk  # the feature did not touch policy.yaml


def test_the_plan_shows_a_freeze_in_force(repo: ConfigRepo, run_cli: RunCli) -> None:
    text = repo.read("config/prod/payments.yaml").replace("pool_size: 40", "pool_size: 41")
    repo.commit({"config/prod/payments.yaml": text}, "change")
    frozen = make_plan(repo.workdir, "HEAD~1", "HEAD", now=datetime(2026, 12, 24, tzinfo=UTC))
    assert [f.environments for f in frozen.freezes] == [("prod", "prod-eu")]
    assert "Freeze in force: prod, prod-eu frozen from 2026-12-20T00:00:00Z" in "\n".join(
        frozen.text_lines()
    )
    assert "Change freeze in force" in frozen.markdown()
    assert (
        make_plan(repo.workdir, "HEAD~1", "HEAD", now=datetime(2027, 2, 1, tzinfo=UTC)).freezes
        == []
    )


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (
            "version: 1\nescalation: {after: 0h, to: {teams: ['@a/b']}}\n",
            "policy.yaml:2",
            "longer than 0",
        ),
        (
            "version: 1\nrules:\n  - name: x\n    require: {approvals: 3, users: [alice]}\n",
            "policy.yaml:4",
            "can never be met",
        ),
        (
            "version: 1\nrules:\n  - name: x\n    require: {teams: [sre]}\n",
            "policy.yaml:4",
            "a team as @org/team-slug",
        ),
        (
            "version: 1\nescalation: {after: 1 day, to: {teams: ['@a/b']}}\n",
            "policy.yaml:2",
            "'1 day' is written 1d",
        ),
    ],
)
def test_policies_that_cannot_work_are_refused(
    example_repo: ConfigRepo, run_cli: RunCli, text: str, where: str, what: str
) -> None:
    example_repo.write({"policy.yaml": text})
    result = run_cli("validate", cwd=example_repo.workdir)
    assert result.exit_code == 1, result.output
    assert where in result.output and what in result.output


def test_codeowners_does_not_replace_a_hand_written_file(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    example_repo.write({".github/CODEOWNERS": "* @everyone\n"})
    result = run_cli("codeowners", cwd=example_repo.workdir)
    assert result.exit_code == 2 and "not generated by cfgctl" in result.stderr
    assert example_repo.read(".github/CODEOWNERS") == "* @everyone\n"
    assert run_cli("codeowners", "--force", cwd=example_repo.workdir).exit_code == 0
    assert "/config/*/payments.yaml @acme/payments" in example_repo.read(".github/CODEOWNERS")


def test_plan_shows_the_permissions_a_change_to_rbac_yaml_adds(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    from tests.support.rbac import RULES

    before = RULES.replace('  - subjects: [root]\n    role: admin\n    scope: ["*"]\n', "")
    repo.commit({"rbac.yaml": before}, "access rules")
    repo.commit({"rbac.yaml": RULES}, "root is an admin")
    result = run_cli(
        "pr", "plan", "--base", "HEAD~1", "--head", "HEAD", "-f", "json", cwd=repo.workdir
    )
    assert result.exit_code == 0, result.output
    added = json.loads(result.stdout)["permissions_added"]
    assert added and all(p.startswith("root may ") for p in added), added
    text = run_cli("pr", "plan", "--base", "HEAD~1", "--head", "HEAD", cwd=repo.workdir)
    assert "Permissions this change adds (rbac.yaml):" in text.stdout
    same = run_cli("pr", "plan", "--base", "HEAD~2", "--head", "HEAD~2", "-f", "json",
                   cwd=repo.workdir)  # fmt: skip
    assert json.loads(same.stdout)["permissions_added"] == []
