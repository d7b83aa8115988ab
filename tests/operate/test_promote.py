"""`cfgctl promote`: the fewest values written into the target's own files, validated."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import Key

LOCAL = (
    '  payments: {schema: web-service, owners: ["@acme/payments"], env_local: [replicas, db.host]}'
)


def _env_local(repo: ConfigRepo) -> None:
    text = repo.read("cfgctl.yaml")
    old = '  payments: {schema: web-service, owners: ["@acme/payments"]}'
    repo.commit({"cfgctl.yaml": text.replace(old, LOCAL)}, "env_local")


def _render(run_cli: RunCli, repo: ConfigRepo, env: str, service: str = "payments") -> object:
    result = run_cli("-C", str(repo.workdir), "render", service, "--env", env, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _without(data: object, *keys: str) -> object:
    assert isinstance(data, dict)
    out = json.loads(json.dumps(data))
    for key in keys:
        *parents, last = key.split(".")
        node = out
        for p in parents:
            node = node[p]
        node.pop(last, None)
    return out


def test_fewest_values_comments_kept_env_local_skipped(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    repo = example_repo
    _env_local(repo)
    result = run_cli(
        "-C", str(repo.workdir), "promote", "payments", "--from", "staging", "--to", "prod"
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "promoted staging -> prod" in out
    assert "payments: unset db.pool_size in config/prod/payments.yaml" in out  # inherits 10
    assert "payments: unset public_url in config/prod/payments.yaml" in out
    assert 'payments: set log.level = "debug" in config/prod/payments.yaml' in out
    assert "skipped replicas (env-local" in out and "skipped db.host (env-local" in out
    # only the values that had to change: replicas and its comment stay, nothing copied whole
    assert repo.read("config/prod/payments.yaml") == (
        "replicas: 6           # card traffic peaks at lunch time\n"
        "db:\n  host: payments-db.prod.internal\n"
        "log:\n  level: debug\n"
    )
    staging, prod = _render(run_cli, repo, "staging"), _render(run_cli, repo, "prod")
    assert _without(prod, "replicas", "db.host") == _without(staging, "replicas", "db.host")
    assert run_cli("-C", str(repo.workdir), "validate").exit_code == 0
    again = run_cli(
        "-C", str(repo.workdir), "promote", "payments", "--from", "staging", "--to", "prod"
    )
    assert again.exit_code == 0 and "nothing to promote" in again.stdout


def test_keys_globs_and_dry_run_json(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    repo = example_repo
    before = repo.read_bytes("config/prod/payments.yaml")
    args = ("-C", str(repo.workdir), "promote", "--from", "staging", "--to", "prod")
    result = run_cli(*args, "--keys", "db.*", "--keys", "**.level", "--dry-run", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["written"] is False
    moved = {(m["service"], m["key"], m["action"]) for m in data["moves"]}
    assert moved == {
        ("payments", "db.host", "unset"),
        ("payments", "db.pool_size", "unset"),
        ("payments", "log.level", "set"),
        ("search", "log.level", "set"),
    }
    assert {p["env"] for p in data["diff"]["pairs"]} == {"prod", "prod-eu"}
    text = run_cli(*args, "payments", "--keys", "log", "--dry-run")
    assert "would promote" in text.stdout and "work tree -> after the promotion" in text.stdout
    assert '~ log.level: "warning" -> "debug"' in text.stdout
    assert repo.read_bytes("config/prod/payments.yaml") == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--keys", "dbb.*"), "--keys 'dbb.*' matches no key"),
        (("--keys", "db..x"), "bad key glob"),
        (("paymnts",), "did you mean 'payments'"),
    ],
)
def test_bad_selection_is_refused(
    example_repo: ConfigRepo, run_cli: RunCli, extra: tuple[str, ...], message: str
) -> None:
    before = example_repo.read_bytes("config/prod/payments.yaml")
    args = ("-C", str(example_repo.workdir), "promote", "--from", "staging", "--to", "prod")
    result = run_cli(*args, *extra)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert example_repo.read_bytes("config/prod/payments.yaml") == before


SCHEMA = {
    "type": "object",
    "properties": {
        "port": {"type": "integer"},
        "flag": {"type": "boolean"},
        "zone": {"type": "string", "x-cfgctl-env-local": True},
        "db": {
            "type": "object",
            "required": ["host"],
            "properties": {"host": {"type": "string"}, "pool": {"type": "integer"}},
        },
        "hosts": {"type": "array"},
    },
}
MANIFEST = """\
version: 1
environments:
  base: {abstract: true}
  staging: {inherits: base}
  prod: {inherits: base}
  prod-eu: {inherits: prod}
services:
  api: {schema: api}
"""


@pytest.fixture
def layered(tmp_path: Path) -> ConfigRepo:
    repo = ConfigRepo.init(tmp_path / "layered")
    repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/api.schema.json": json.dumps(SCHEMA),
            "config/base/api.yaml": "port: 80\n",
            "config/staging/api.yaml": "zone: s1\nhosts: [a, b]\nport: 81\n",
            "config/prod/_defaults.yaml": "flag: true\n",
            "config/prod/api.yaml": "# prod\nzone: p1  # ours\nhosts: [a]\ndb:\n  host: h\n",
            "config/prod-eu/api.yaml": "db:\n  pool: 5\n",
        },
        "init",
    )
    return repo


def test_inherited_values_and_schema_env_local_are_skipped(
    layered: ConfigRepo, run_cli: RunCli
) -> None:
    args = ("-C", str(layered.workdir), "promote", "--from", "staging", "--to", "prod")
    result = run_cli(*args, "--keys", "flag", "--keys", "zone", "--keys", "hosts", "--keys", "port")
    assert result.exit_code == 0, result.output
    assert "skipped zone (env-local" in result.stdout
    assert "skipped flag (inherited: staging lacks it; prod inherits it from " in result.stdout
    assert "config/prod/_defaults.yaml" in result.stdout
    assert layered.read("config/prod/api.yaml") == (
        "# prod\nzone: p1  # ours\nhosts:\n- a\n- b\ndb:\n  host: h\nport: 81\n"
    )


def test_a_result_that_breaks_an_inheriting_environment_writes_nothing(
    layered: ConfigRepo, run_cli: RunCli
) -> None:
    before = layered.read_bytes("config/prod/api.yaml")
    args = ("-C", str(layered.workdir), "promote", "--from", "staging", "--to", "prod")
    result = run_cli(*args, "--keys", "db")
    assert result.exit_code == 1, result.output
    assert "refused: promoting staging to prod would fail validation" in result.stderr
    assert "config/prod-eu/api.yaml" in result.stderr and "host" in result.stderr
    assert layered.read_bytes("config/prod/api.yaml") == before


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("prod", "prod", "both 'prod'"),
        ("stagin", "prod", "did you mean 'staging'"),
        ("staging", "base", "base is abstract"),
    ],
)
def test_bad_environments_are_refused(
    layered: ConfigRepo, run_cli: RunCli, source: str, target: str, message: str
) -> None:
    args = ("-C", str(layered.workdir), "promote", "--from", source, "--to", target)
    result = run_cli(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not list(layered.workdir.glob("config/*/*.tmp*"))


def test_branch_commits_without_touching_the_work_tree(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    repo = example_repo
    head = str(repo.repo.head.target)
    before = repo.read_bytes("config/prod/payments.yaml")
    args = ("-C", str(repo.workdir), "promote", "--from", "staging", "--to", "prod")
    result = run_cli(*args, "payments", "--keys", "log.level", "--branch", "promote/prod")
    assert result.exit_code == 0, result.output
    assert "on new branch promote/prod (work tree unchanged)" in result.stdout
    assert str(repo.repo.head.target) == head and repo.repo.head.shorthand == "main"
    assert repo.read_bytes("config/prod/payments.yaml") == before
    assert not [p for p in repo.repo.status() if p.startswith("config/")]
    commit = repo.repo.revparse_single("promote/prod").peel(pygit2.Commit)
    assert [str(p) for p in commit.parent_ids] == [head]
    assert commit.message.startswith("Promote staging to prod: payments")
    blob = commit.tree["config/prod/payments.yaml"]
    text = repo.repo[blob.id].data.decode()  # type: ignore[attr-defined]
    assert "level: debug" in text and "# card traffic peaks at lunch time" in text
    plan = run_cli(
        "-C",
        str(repo.workdir),
        "pr",
        "plan",
        "--base",
        "main",
        "--head",
        "promote/prod",
        "-f",
        "json",
    )
    assert plan.exit_code == 0, plan.output
    assert '"log.level"' in plan.stdout and '"prod-eu"' in plan.stdout  # the PR's plan sees it
    again = run_cli(*args, "payments", "--keys", "log.level", "--branch", "promote/prod")
    assert again.exit_code == 2 and "exists already" in again.stderr
    for name in ("bad..name", "HEAD", "-x", "refs/heads/q"):  # Git's rules, and confusing names
        bad = run_cli(*args, "--branch", name)
        assert bad.exit_code == 2 and "not a valid branch name" in bad.stderr, name


def test_secrets_move_encrypted_or_are_skipped_without_a_key(
    secret_repo: ConfigRepo, alice: Key, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.secretrepo import set_secret

    repo = secret_repo
    value = "promote-me-s3cret-value"
    set_secret(run_cli, repo, value)
    rule = f"  - path_regex: ^config/staging/[^/]+\\.secrets\\.yaml$\n    age: {alice.recipient}\n"
    repo.commit({".sops.yaml": repo.read(".sops.yaml") + rule}, "staging rule", add_all=True)
    args = ("-C", str(repo.workdir), "promote", "payments", "--from", "prod", "--to", "staging")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(repo.workdir / "no-key.txt"))
    blind = run_cli(*args, "--keys", "db.password")
    assert blind.exit_code == 0, blind.output
    assert "skipped db.password (secret: no key at hand" in blind.stdout
    assert not (repo.workdir / "config/staging/payments.secrets.yaml").exists()
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(alice.file))
    result = run_cli(*args, "--keys", "db.password")
    assert result.exit_code == 0, result.output
    rel = "config/staging/payments.secrets.yaml"
    assert f"set db.password = (secret) in {rel}" in result.stdout
    text = repo.read(rel)
    assert "sops:" in text and value not in text and "password: ENC[" in text
    got = run_cli(
        "-C", str(repo.workdir), "get", "payments", "db.password", "--env", "staging", "--reveal"
    )
    assert got.exit_code == 0 and got.stdout.strip() == value
    plain = [p for p in repo.workdir.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert not [p for p in plain if value.encode() in p.read_bytes()]


def test_env_local_must_be_a_list_of_globs(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    text = example_repo.read("cfgctl.yaml")
    old = '  payments: {schema: web-service, owners: ["@acme/payments"]}'
    example_repo.write(
        {"cfgctl.yaml": text.replace(old, "  payments: {schema: web-service, env_local: replicas}")}
    )
    result = run_cli("-C", str(example_repo.workdir), "validate")
    assert result.exit_code == 1 and "env_local" in result.output
    args = ("-C", str(example_repo.workdir), "promote", "--from", "staging", "--to", "prod")
    refused = run_cli(*args)
    assert refused.exit_code == 2 and "cfgctl.yaml:11" in refused.stderr


def test_a_bad_env_local_glob_points_at_its_line(layered: ConfigRepo, run_cli: RunCli) -> None:
    layered.write(
        {"cfgctl.yaml": MANIFEST.replace("{schema: api}", "{schema: api, env_local: ['a..b']}")}
    )
    result = run_cli("-C", str(layered.workdir), "promote", "--from", "staging", "--to", "prod")
    assert result.exit_code == 2, result.output
    assert "cfgctl.yaml:8:" in result.stderr and "bad key glob 'a..b'" in result.stderr
