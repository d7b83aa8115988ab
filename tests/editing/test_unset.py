"""`cfgctl unset`: a key removed from one environment's layer, which then inherits."""

from __future__ import annotations

import json

from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo

PROD = "config/prod/payments.yaml"


def test_unset_removes_the_key_and_the_environment_inherits(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    repo = ["-C", str(example_repo.workdir)]
    result = run_cli(*repo, "unset", "payments", "db.pool_size", "--env", "prod")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{PROD}: removed db.pool_size; prod now inherits 10\n"
    text = example_repo.read(PROD)
    assert "pool_size" not in text
    assert "replicas: 6           # card traffic peaks at lunch time\n" in text  # comment kept
    got = run_cli(*repo, "get", "payments", "db.pool_size", "--env", "prod-eu")
    assert got.stdout.strip() == "10"


def test_unset_of_an_inherited_key_names_the_layer_that_sets_it(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    before = example_repo.read_bytes(PROD)
    result = run_cli(
        "-C", str(example_repo.workdir), "unset", "payments", "db.port", "--env", "prod"
    )
    assert result.exit_code == 2
    assert "config/prod/payments.yaml does not set db.port" in result.stderr
    assert "inherited from config/base/payments.yaml" in result.stderr
    assert "cfgctl explain payments db.port --env prod" in result.stderr
    assert example_repo.read_bytes(PROD) == before
    missing = run_cli(
        "-C", str(example_repo.workdir), "unset", "payments", "db.nope", "--env", "prod"
    )
    assert missing.exit_code == 2 and "no layer of payments@prod sets it" in missing.stderr


def test_unset_that_breaks_the_schema_is_refused(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    base = "config/base/payments.yaml"
    before = example_repo.read_bytes(base)
    result = run_cli(
        "-C", str(example_repo.workdir), "unset", "payments", "db.host", "--env", "base"
    )
    # staging reads db.host from base only: removing it breaks a required key there
    assert result.exit_code == 1, result.output
    assert "refused" in result.stderr and "host" in result.stderr
    assert example_repo.read_bytes(base) == before


def test_unset_dry_run_and_json(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    before = example_repo.read_bytes(PROD)
    result = run_cli(
        "-C",
        str(example_repo.workdir),
        "unset",
        "payments",
        "replicas",
        "--env",
        "prod",
        "--dry-run",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {"file": PROD, "key": "replicas", "inherited": 3, "written": False}
    assert example_repo.read_bytes(PROD) == before
