from __future__ import annotations

import json
from pathlib import Path

import pygit2

from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo


def test_init_creates_a_committed_valid_repository(tmp_path: Path, run_cli: RunCli) -> None:
    target = tmp_path / "new"
    result = run_cli("init", str(target))
    assert result.exit_code == 0, result.output
    repo = pygit2.Repository(str(target))
    assert not repo.head_is_unborn
    assert repo.head.shorthand == "main"
    assert "cfgctl.yaml" in repo.head.peel(pygit2.Commit).tree
    assert ".cfgctl/" in (target / ".gitignore").read_text()
    assert run_cli("validate", cwd=target).exit_code == 0
    again = run_cli("init", str(target))
    assert again.exit_code == 2
    assert "not empty" in again.stderr
    assert run_cli("init", str(tmp_path / "x"), "--template", "nope").exit_code == 2


def test_render_formats(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = example_repo.workdir
    as_json = json.loads(
        run_cli("render", "payments", "--env", "prod-eu", "--format", "json", cwd=cwd).stdout
    )
    assert as_json["db"] == {"host": "payments-db.prod-eu.internal", "port": 5432, "pool_size": 40}
    assert as_json["replicas"] == 6 and as_json["log"]["level"] == "warning"
    yaml_out = run_cli("render", "payments", "--env", "staging", cwd=cwd).stdout
    assert "level: debug" in yaml_out
    env_out = run_cli("render", "search", "--env", "prod", "--format", "env", cwd=cwd).stdout
    assert "SERVER_PORT=9200\n" in env_out and "FEATURES_FUZZY_MATCHING=true\n" in env_out


def test_render_refuses_invalid_and_unknown(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = example_repo.workdir
    unknown = run_cli("render", "payment", "--env", "prod", cwd=cwd)
    assert unknown.exit_code == 2
    assert (
        "unknown service 'payment'" in unknown.stderr
        and "did you mean 'payments'" in unknown.stderr
    )
    example_repo.write({"config/prod/payments.yaml": "replicas: 0\n"})
    invalid = run_cli("render", "payments", "--env", "prod", cwd=cwd)
    assert invalid.exit_code == 1 and invalid.stdout == ""
    assert "config/prod/payments.yaml:1:11: error: replicas" in invalid.stderr
    forced = run_cli("render", "payments", "--env", "prod", "--no-validate", cwd=cwd)
    assert forced.exit_code == 0 and "replicas: 0" in forced.stdout
    example_repo.write({"config/prod/payments.yaml": "replicas: [\n"})
    broken = run_cli("render", "payments", "--env", "prod", cwd=cwd)
    assert broken.exit_code == 2
    assert "config/prod/payments.yaml:2:1: error: invalid YAML" in broken.stderr


def test_render_masks_secrets(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write({"config/prod/payments.secrets.yaml": "db:\n  password: s3cr3t-value-xyz\n"})
    cwd = small_repo.workdir
    masked = run_cli("render", "payments", "--env", "prod", cwd=cwd)
    assert masked.exit_code == 0, masked.output
    assert "s3cr3t-value-xyz" not in masked.output and "password: '***'" in masked.stdout
    shown = run_cli("render", "payments", "--env", "prod", "--reveal", cwd=cwd)
    assert "s3cr3t-value-xyz" in shown.stdout
    explained = run_cli("explain", "payments", "db.password", "--env", "prod", cwd=cwd)
    assert "s3cr3t-value-xyz" not in explained.output and "***" in explained.stdout
    got = run_cli("get", "payments", "db.password", "--env", "prod", cwd=cwd)
    assert got.stdout == "***\n"


def test_get_and_explain(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = example_repo.workdir
    assert run_cli("get", "payments", "db.pool_size", "--env", "prod-eu", cwd=cwd).stdout == "40\n"
    assert run_cli("get", "payments", "db", "--env", "base", cwd=cwd).stdout.startswith(
        "host: payments-db.internal\n"
    )
    missing = run_cli("get", "payments", "db.nope", "--env", "prod", cwd=cwd)
    assert missing.exit_code == 2 and "has no key db.nope" in missing.stderr
    bad = run_cli("get", "payments", "db..x", "--env", "prod", cwd=cwd)
    assert bad.exit_code == 2 and "bad key path" in bad.stderr

    text = run_cli("explain", "payments", "db.host", "--env", "prod-eu", cwd=cwd).stdout
    assert text.splitlines() == [
        "payments@prod-eu db.host = payments-db.prod-eu.internal",
        "  config/base/payments.yaml:3:9: [base] payments-db.internal  (overridden)",
        "  config/prod/payments.yaml:4:9: [prod] payments-db.prod.internal  (overridden)",
        "  config/prod-eu/payments.yaml:3:9: [prod-eu] payments-db.prod-eu.internal  (wins)",
    ]
    rows = json.loads(
        run_cli(
            "explain", "payments", "log.level", "--env", "prod", "--format", "json", cwd=cwd
        ).stdout
    )
    assert [(r["env"], r["file"], r["line"], r["value"], r["wins"]) for r in rows] == [
        ("base", "config/base/_defaults.yaml", 8, "info", False),
        ("prod", "config/prod/_defaults.yaml", 3, "warning", True),
    ]


def test_set_keeps_comments_and_validates(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = example_repo.workdir
    path = "config/prod/payments.yaml"
    before = example_repo.read(path)
    result = run_cli("set", "payments", "db.pool_size", "80", "--env", "prod", cwd=cwd)
    assert result.exit_code == 0, result.output
    after = example_repo.read(path)
    assert after == before.replace("pool_size: 40", "pool_size: 80")
    assert "# card traffic peaks at lunch time" in after
    assert run_cli("get", "payments", "db.pool_size", "--env", "prod", cwd=cwd).stdout == "80\n"

    refused = run_cli("set", "payments", "db.pool_size", "many", "--env", "prod", cwd=cwd)
    assert refused.exit_code == 1
    assert "db.pool_size: expected integer" in refused.stderr
    assert example_repo.read(path) == after  # untouched

    # the value breaks a child environment (prod-eu inherits prod): refused as well
    refused_child = run_cli("set", "payments", "replicas", "0", "--env", "prod", cwd=cwd)
    assert refused_child.exit_code == 1
    assert example_repo.read(path) == after

    new_key = run_cli("set", "payments", "features.fast_lane", "true", "--env", "prod", cwd=cwd)
    assert new_key.exit_code == 0, new_key.output
    assert "features:\n  fast_lane: true\n" in example_repo.read(path)


def test_set_string_and_new_file(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = example_repo.workdir
    result = run_cli("set", "search", "db.host", "1234", "--string", "--env", "staging", cwd=cwd)
    # db needs a port too: refused, and no file created
    assert result.exit_code == 1
    assert not (cwd / "config/staging/search.yaml").exists()
    ok = run_cli("set", "search", "log.level", "error", "--env", "staging", cwd=cwd)
    assert ok.exit_code == 0, ok.output
    assert example_repo.read("config/staging/search.yaml") == "log:\n  level: error\n"


def test_set_refuses_secret_keys(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    result = run_cli(
        "set", "payments", "db.password", "p4ssw0rd-abcdef", "--env", "prod", cwd=small_repo.workdir
    )
    assert result.exit_code == 2
    assert "is a secret" in result.stderr and "p4ssw0rd-abcdef" not in result.output
    assert "password" not in small_repo.read("config/prod/payments.yaml")


def test_new_service_from_template(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = example_repo.workdir
    manifest_before = example_repo.read("cfgctl.yaml")
    missing = run_cli("new", "service", "billing", "--template", "web-service", cwd=cwd)
    assert missing.exit_code == 2 and "owners" in missing.stderr
    assert example_repo.read("cfgctl.yaml") == manifest_before
    bad_type = run_cli(
        "new",
        "service",
        "billing",
        "--template",
        "web-service",
        "--set",
        "owners=@acme/billing",
        "--set",
        "port=http",
        cwd=cwd,
    )
    assert bad_type.exit_code == 2 and "port" in bad_type.stderr
    assert not (cwd / "config/base/billing.yaml").exists()

    ok = run_cli(
        "new",
        "service",
        "billing",
        "--template",
        "web-service",
        "--set",
        "owners=@acme/billing",
        "--set",
        "port=9000",
        cwd=cwd,
    )
    assert ok.exit_code == 0, ok.output
    assert example_repo.read("config/base/billing.yaml") == (
        "# billing: created from the web-service template.\nserver:\n  port: 9000\n"
    )
    manifest = example_repo.read("cfgctl.yaml")
    assert "# pinned to version 1" in manifest and "billing:" in manifest
    assert "@acme/billing" in manifest
    assert run_cli("validate", cwd=cwd).exit_code == 0
    assert (
        json.loads(run_cli("render", "billing", "--env", "prod", "-f", "json", cwd=cwd).stdout)[
            "replicas"
        ]
        == 2
    )
    again = run_cli(
        "new", "service", "billing", "--template", "web-service", "--set", "owners=@a", cwd=cwd
    )
    assert again.exit_code == 2 and "already exists" in again.stderr


def test_schema_list_and_show(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = example_repo.workdir
    rows = json.loads(run_cli("schema", "list", "--format", "json", cwd=cwd).stdout)
    web = next(r for r in rows if r["name"] == "web-service")
    assert web["versions"] == [1, 2] and web["services"] == {"1": ["search"], "2": ["payments"]}
    v1 = json.loads(run_cli("schema", "show", "web-service@1", cwd=cwd).stdout)
    assert "password" not in json.dumps(v1)
    latest = json.loads(run_cli("schema", "show", "web-service", cwd=cwd).stdout)
    assert latest["properties"]["db"]["properties"]["password"]["x-cfgctl-secret"] is True
    missing = run_cli("schema", "show", "web-service@7", cwd=cwd)
    assert missing.exit_code == 2 and "has no version 7 (it has 1, 2)" in missing.stderr


def test_version_and_help(run_cli: RunCli) -> None:
    assert run_cli("--version").stdout.startswith("cfgctl ")
    for command in (
        ["validate"],
        ["render"],
        ["set"],
        ["explain"],
        ["new", "service"],
        ["schema", "show"],
        ["init"],
    ):
        result = run_cli(*command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout


def test_set_keeps_indentation_line_endings_and_quotes_ambiguous_text(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = example_repo.workdir
    example_repo.write(
        {"config/prod/search.yaml": "# four spaces\r\nserver:\r\n    port: 9300   # prod port\r\n"}
    )
    assert (
        run_cli(
            "set", "search", "server.host", "on", "--string", "--env", "prod", cwd=cwd
        ).exit_code
        == 0
    )
    assert example_repo.read_bytes("config/prod/search.yaml") == (
        b"# four spaces\r\nserver:\r\n    port: 9300   # prod port\r\n    host: 'on'\r\n"
    )
    hashed = run_cli("set", "search", "server.host", "a # b", "--env", "prod", cwd=cwd)
    assert hashed.exit_code == 2 and "comment" in hashed.stderr


def test_set_refuses_when_the_schema_is_broken(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write({"schemas/svc.schema.json": '{"type": "objekt"}'})
    before = small_repo.read("config/prod/payments.yaml")
    result = run_cli("set", "payments", "port", "0", "--env", "prod", cwd=small_repo.workdir)
    assert result.exit_code == 2
    assert "schema svc@1 is broken" in result.stderr
    assert small_repo.read("config/prod/payments.yaml") == before


def test_render_quotes_what_yaml11_would_misread(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write(
        {
            "schemas/svc.schema.json": "{}",
            "config/prod/payments.yaml": "country: 'NO'\nmode: '0755'\nflag: 'on'\n",
        }
    )
    out = run_cli("render", "payments", "--env", "prod", cwd=small_repo.workdir).stdout
    assert "country: 'NO'\n" in out and "mode: '0755'\n" in out and "flag: 'on'\n" in out


def test_init_into_a_file_and_output_errors(tmp_path: Path, run_cli: RunCli) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    result = run_cli("init", str(afile))
    assert result.exit_code == 2 and "not a folder" in result.stderr


def test_the_usage_line_of_a_grouped_command_names_it_once(run_cli: RunCli) -> None:
    for words in (("fleet", "publish"), ("backup", "create"), ("schema", "list"), ("pr", "plan")):
        result = run_cli(*words, "--help")
        assert result.exit_code == 0, result.output
        usage = result.stdout.splitlines()[0].split()  # Usage: PROG GROUP COMMAND [OPTIONS]
        assert usage[2:][: len(words) + 1] == [*words, "[OPTIONS]"], usage
