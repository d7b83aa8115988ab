"""`cfgctl drift`: prod values that never passed through staging, with the commit that set them."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import RunCli
from tests.support.gitrepo import SIGNATURE, ConfigRepo

MANIFEST = """\
version: 1
environments:
  base: {abstract: true}
  staging: {inherits: base}
  prod: {inherits: base}
services:
  api: {schema: api, env_local: [replicas]}
"""
SCHEMA = {
    "type": "object",
    "properties": {
        "pool": {"type": "integer"},
        "timeout": {"type": "integer"},
        "replicas": {"type": "integer"},
        "hosts": {"type": "array"},
    },
}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A repository whose history holds one change that skipped staging (the hotfix); read
    only, shared by the module's tests."""
    repo = ConfigRepo.init(tmp_path_factory.mktemp("drift") / "h")
    ids = {"workdir": str(repo.workdir)}
    repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/api.schema.json": json.dumps(SCHEMA),
            "config/base/api.yaml": "pool: 10\ntimeout: 30\nhosts: [a, b]\n",
            "config/staging/api.yaml": "replicas: 1\n",
            "config/prod/api.yaml": "replicas: 5\n",
        },
        "init",
    )
    repo.commit({"config/staging/api.yaml": "replicas: 1\npool: 20\n"}, "staging: pool 20")
    repo.commit({"config/staging/api.yaml": "replicas: 1\npool: 30\n"}, "staging: pool 30")
    repo.commit({"config/prod/api.yaml": "replicas: 5\npool: 20\n"}, "prod: pool 20")  # passed
    repo.commit({"config/base/api.yaml": "pool: 10\ntimeout: 60\nhosts: [a, b]\n"}, "both: 60")
    hotfix = SIGNATURE.__class__("Hot Fixer", "hot@example.com", 1_700_000_100, 0)
    ids["hotfix"] = repo.commit(
        {"config/prod/api.yaml": "replicas: 5\npool: 20\nhosts: [a]\n"},
        "hotfix: prod hosts",
        author=hotfix,
    )
    return ids


def test_a_change_that_skipped_staging_is_found_with_its_commit(
    history: dict[str, str], run_cli: RunCli
) -> None:
    args = ("-C", history["workdir"], "drift", "--env", "prod", "--from", "staging")
    result = run_cli(*args, "-f", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["commits"] == 6
    assert [(d["key"], d["value"], d["commit"]) for d in data["drift"]] == [
        ("hosts", ["a"], history["hotfix"])
    ]
    assert data["drift"][0]["author"] == "Hot Fixer"
    assert {"service": "api", "key": "replicas", "reason": "env-local"} in data["not_compared"]
    text = run_cli(*args)
    assert text.exit_code == 1
    assert 'api: hosts = ["a"]' in text.stdout
    assert f"set by {history['hotfix'][:12]}" in text.stdout and "hotfix: prod hosts" in text.stdout


def test_no_drift_exits_zero_and_keys_narrow_it(history: dict[str, str], run_cli: RunCli) -> None:
    args = ("-C", history["workdir"], "drift", "--env", "prod", "--from", "staging")
    result = run_cli(*args, "--keys", "pool", "--keys", "timeout")
    assert result.exit_code == 0, result.output
    assert "no drift: every value of prod passed through staging (6 commits" in result.stdout
    before = run_cli(*args, "--rev", "HEAD~1")
    assert before.exit_code == 0, before.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--env", "prod", "--from", "prod"), "both 'prod'"),
        (("--env", "prd", "--from", "staging"), "did you mean 'prod'"),
        (("--env", "prod", "--from", "base"), "base is abstract"),
        (("--env", "prod", "--from", "staging", "--rev", "nope"), "unknown revision"),
        (("--env", "prod", "--from", "staging", "--keys", "a..b"), "bad key glob"),
        (("--env", "prod", "--from", "staging", "--keys", "poool"), "--keys 'poool' matches no"),
    ],
)
def test_bad_input_is_one_clear_error(
    history: dict[str, str], run_cli: RunCli, extra: tuple[str, ...], message: str
) -> None:
    result = run_cli("-C", history["workdir"], "drift", *extra)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output
