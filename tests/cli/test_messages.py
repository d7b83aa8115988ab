"""Messages that tell the truth: explain of a mapping, history of an unknown key, hints naming
the cfgctl command, one exit code per cause, long lists cut, through the real CLI."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo


def test_explain_of_a_mapping_says_the_layers_merge(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = example_repo.workdir
    result = run_cli("explain", "payments", "db", "--env", "prod-eu", cwd=cwd)
    assert result.exit_code == 0, result.output
    assert "overridden" not in result.stdout and "(wins)" not in result.stdout
    assert result.stdout.splitlines()[-4:] == [
        "  a mapping: the layers below merge key by key; each key from the last that sets it",
        "  config/base/payments.yaml:3:3: [base] host: payments-db.internal port: 5432"
        " pool_size: 10  (merged, sets port)",
        "  config/prod/payments.yaml:4:3: [prod] host: payments-db.prod.internal pool_size: 40"
        "  (merged, sets pool_size)",
        "  config/prod-eu/payments.yaml:3:3: [prod-eu] host: payments-db.prod-eu.internal"
        "  (merged, sets host)",
    ]
    rows = json.loads(
        run_cli("explain", "payments", "db", "--env", "prod-eu", "--format", "json", cwd=cwd).stdout
    )
    assert [(r["env"], r["merged"], r["wins"], r["keys"]) for r in rows] == [
        ("base", True, False, ["port"]),
        ("prod", True, False, ["pool_size"]),
        ("prod-eu", True, False, ["host"]),
    ]
    # a scalar key keeps wins/overridden
    leaf = run_cli("explain", "payments", "db.host", "--env", "prod-eu", cwd=cwd).stdout
    assert leaf.rstrip().endswith("(wins)") and "merge" not in leaf


def test_history_of_a_key_set_nowhere_exits_2_with_did_you_mean(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = example_repo.workdir
    for command in ("history", "get"):
        result = run_cli(command, "payments", "db.hots", "--env", "prod", cwd=cwd)
        assert result.exit_code == 2, (command, result.output)
        assert "payments@prod has no key db.hots" in result.stderr
        assert "did you mean 'db.host'?" in result.stderr
    # a key that exists, and one that existed once, still have their history
    assert run_cli("history", "payments", "db.host", "--env", "prod", cwd=cwd).exit_code == 0
    before = example_repo.read("config/prod/payments.yaml")
    example_repo.commit({"config/prod/payments.yaml": before + "scratch: 1\n"}, "add scratch")
    example_repo.commit({"config/prod/payments.yaml": before}, "drop scratch")
    gone = run_cli("history", "payments", "scratch", "--env", "prod", cwd=cwd)
    assert gone.exit_code == 0, gone.output
    assert "1 -> (unset)" in gone.stdout and "(unset) -> 1" in gone.stdout


def test_hints_name_the_cfgctl_command_with_the_real_names(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = example_repo.workdir
    refused = run_cli("set", "payments", "db.password", "hunter2-hunter2", "--env", "prod", cwd=cwd)
    assert refused.exit_code == 2, refused.output
    assert "hint: store it encrypted: cfgctl secrets set payments db.password --env prod" in (
        refused.stderr
    )
    prod = example_repo.read("config/prod/payments.yaml")
    example_repo.write(
        {
            "config/prod/payments.yaml": prod.replace(
                "  pool_size: 40\n", "  pool_size: 40\n  password: hunter2-hunter2-x\n"
            ),
            "config/prod-eu/payments.secrets.yaml": "db:\n  password: plain-text-here\n",
            "config/staging/search.yaml": "api_token: ghp_" + "a1B2c3D4" * 5 + "\n",
        }
    )
    report = run_cli("validate", cwd=cwd)
    assert report.exit_code == 1
    text = report.stderr
    assert "sops --encrypt" not in text and "ENV" not in text and "SERVICE" not in text, text
    assert "cfgctl secrets encrypt config/prod-eu/payments.secrets.yaml" in text
    assert "cfgctl secrets set payments db.password --env prod" in text
    assert "cfgctl secrets set search api_token --env staging" in text


REPOSITORY_COMMANDS = [
    ["validate"],
    ["validate", "--changed-since", "HEAD"],
    ["render", "payments", "--env", "prod"],
    ["render", "payments", "--env", "prod", "--rev", "HEAD"],
    ["get", "payments", "db", "--env", "prod"],
    ["set", "payments", "replicas", "2", "--env", "prod"],
    ["explain", "payments", "db", "--env", "prod"],
    ["diff"],
    ["diff", "main...HEAD"],
    ["diff", "--env", "prod", "--against-env", "staging"],
    ["history", "payments", "db", "--env", "prod"],
    ["codeowners"],
    ["codeowners", "--check"],
    ["new", "service", "x", "--template", "web"],
    ["schema", "list"],
    ["schema", "show", "web-service"],
    ["secrets", "recipients", "list"],
    ["secrets", "recipients", "add", "age1xyz", "--env", "prod"],
    ["secrets", "set", "payments", "db.password", "--env", "prod"],
    ["secrets", "rotate"],
    ["secrets", "check"],
    ["secrets", "install-merge-driver"],
    ["pr", "plan"],
    ["pr", "comment", "--dry-run", "--github-repo", "a/b", "--pr", "1"],
    ["pr", "route", "--dry-run", "--github-repo", "a/b", "--pr", "1"],
    ["pr", "gate", "--dry-run", "--github-repo", "a/b", "--pr", "1"],
    ["pr", "escalate", "--dry-run", "--github-repo", "a/b"],
]


@pytest.mark.parametrize("args", REPOSITORY_COMMANDS, ids=" ".join)
def test_outside_a_repository_every_command_exits_2(
    args: list[str], tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "not-used")
    monkeypatch.setenv("GITHUB_SERVER_URL", "http://127.0.0.1:9")  # never reached
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(*args, cwd=empty, input="value\n")
    assert result.exit_code == 2, result.output
    assert "no cfgctl.yaml in" in result.stderr, result.stderr


def test_a_config_folder_outside_git_exits_2_for_commands_that_need_git(
    tmp_path: Path, run_cli: RunCli
) -> None:
    folder = tmp_path / "nogit"
    folder.mkdir()
    (folder / "cfgctl.yaml").write_text("version: 1\nenvironments: {}\nservices: {}\n")
    for args in (["diff"], ["history", "a", "b", "--env", "c"], ["pr", "plan"]):
        result = run_cli(*args, cwd=folder)
        assert result.exit_code == 2, (args, result.output)
        assert "is not inside a Git repository" in result.stderr


def test_an_invalid_schema_in_standalone_validate_exits_2_at_its_line(
    tmp_path: Path, run_cli: RunCli
) -> None:
    schema = tmp_path / "s.yaml"
    schema.write_text("type: object\nproperties:\n  a: {minLength: x, maxLength: y}\n")
    doc = tmp_path / "d.yaml"
    doc.write_text("a: b\n")
    for fmt in ("text", "json"):
        result = run_cli("validate", "--schema", str(schema), str(doc), "--format", fmt)
        assert result.exit_code == 2, result.output
        assert f"{schema}:3:" in result.stderr and "invalid schema: properties.a." in result.stderr
        assert "(and 1 more problem)" in result.stderr
    broken = tmp_path / "b.json"
    broken.write_text('{"type": [\n')
    syntax = run_cli("validate", "--schema", str(broken), str(doc))
    assert syntax.exit_code == 2 and f"{broken}:2:1: error: invalid JSON" in syntax.stderr


def test_hundreds_of_unknown_keys_are_cut_to_20_with_a_count(
    tmp_path: Path, run_cli: RunCli
) -> None:
    schema = tmp_path / "s.json"
    schema.write_text('{"type": "object", "properties": {"a": {}}, "additionalProperties": false}')
    doc = tmp_path / "d.yaml"
    doc.write_text("a: 1\n" + "".join(f"extra_{i:03}: {i}\n" for i in range(500)))
    result = run_cli("validate", "--schema", str(schema), str(doc), "--format", "json")
    assert result.exit_code == 1, result.output
    [diag] = json.loads(result.stdout)["diagnostics"]
    names = ", ".join(repr(f"extra_{i:03}") for i in range(20))
    assert diag["message"] == f"(root): unknown keys {names} and 480 more"
    text = run_cli("validate", "--schema", str(schema), str(doc))
    assert "'extra_019' and 480 more" in text.stderr and "extra_020" not in text.stderr


def test_render_offers_every_format_the_agent_writes(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    from cfgctl.repo.formats import FORMATS, serialize

    agent_schema = json.loads(run_cli("schema", "show", "--builtin", "agent").stdout)
    target_formats = agent_schema["$defs"]["target"]["properties"]["format"]["enum"]
    assert set(target_formats) <= set(FORMATS)
    cwd = example_repo.workdir
    data = json.loads(
        run_cli("render", "payments", "--env", "prod", "--format", "json", cwd=cwd).stdout
    )
    for fmt in FORMATS:
        result = run_cli("render", "payments", "--env", "prod", "--format", fmt, cwd=cwd)
        assert result.exit_code == 0, (fmt, result.output)
        assert result.stdout == serialize(data, fmt).decode()
    assert (
        tomllib.loads(
            run_cli("render", "payments", "--env", "prod", "--format", "toml", cwd=cwd).stdout
        )
        == data
    )


def test_new_service_updates_a_generated_codeowners(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = example_repo.workdir
    assert run_cli("codeowners", "--check", cwd=cwd).exit_code == 0
    args = ("new", "service", "billing", "--template", "web-service")
    created = run_cli(*args, "--set", "owners=@acme/billing", cwd=cwd)
    assert created.exit_code == 0, created.output
    assert ".github/CODEOWNERS" in created.stdout
    owners = example_repo.read(".github/CODEOWNERS")
    assert "/config/*/billing.yaml @acme/billing" in owners
    assert run_cli("codeowners", "--check", cwd=cwd).exit_code == 0
    # a file written by hand is left alone, and the service is created all the same
    example_repo.write({".github/CODEOWNERS": "* @acme/all\n"})
    other = run_cli(*args[:2], "ledger", *args[3:], "--set", "owners=@acme/ledger", cwd=cwd)
    assert other.exit_code == 0, other.output
    assert example_repo.read(".github/CODEOWNERS") == "* @acme/all\n"
    assert "CODEOWNERS" not in other.stdout
