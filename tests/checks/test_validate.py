from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

from cfgctl.repo.cache import FORMAT
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo


def test_example_repository_is_valid(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    result = run_cli("validate", cwd=example_repo.workdir)
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.stdout


def test_error_points_at_the_layer_that_set_the_value(
    small_repo: ConfigRepo, run_cli: RunCli
) -> None:
    small_repo.write({"config/base/_defaults.yaml": "port: eighty\nhost: base.internal\n"})
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    assert (
        'config/base/_defaults.yaml:1:7: error: port: expected integer, got string "eighty"'
        in result.stderr
    )
    # one diagnostic, naming every pair it breaks
    assert result.stderr.count("_defaults.yaml:1:7") == 1
    assert "payments@base, payments@prod, payments@staging" in result.stderr


def test_override_in_child_environment_is_blamed(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write({"config/prod/payments.yaml": "# prod\nhost: prod.internal\nport: -1\n"})
    result = run_cli("validate", "--format", "json", cwd=small_repo.workdir)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    [diag] = report["diagnostics"]
    assert (diag["file"], diag["line"], diag["column"], diag["path"]) == (
        "config/prod/payments.yaml",
        3,
        7,
        "port",
    )
    assert diag["pairs"] == [{"service": "payments", "env": "prod"}]


def test_missing_required_key_names_the_file_where_it_goes(
    small_repo: ConfigRepo, run_cli: RunCli
) -> None:
    small_repo.write({"config/base/_defaults.yaml": "host: base.internal\n"})
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    # prod has a service file: that is where the key belongs for prod
    assert (
        "config/prod/payments.yaml:1:1: error: (root): missing required key 'port'" in result.stderr
    )
    # base and staging have none: the file that would hold it
    assert "config/base/payments.yaml: error: (root): missing required key 'port'" in result.stderr


def test_unknown_key_points_at_the_key(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write({"config/prod/payments.yaml": "host: h\n\nprot: 80\n"})
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    assert "config/prod/payments.yaml:3:1: error: (root): unknown key 'prot'" in result.stderr


def test_github_annotations(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write({"config/prod/payments.yaml": "port: x\n"})
    result = run_cli("validate", "--format", "github", cwd=small_repo.workdir)
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "::error file=config/prod/payments.yaml,line=1,col=7::port: expected integer"
    )


def test_yaml_problems_are_diagnostics(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write(
        {
            "config/prod/payments.yaml": "port: 1\nport: 2\n",
            "config/staging/payments.yaml": "a:\n\tb: 1\n",
            "config/base/payments.yaml": "- a list\n",
            "config/base/_defaults.yaml": "port: 8080\nenabled: yes\n",
        }
    )
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    err = result.stderr
    assert (
        "config/prod/payments.yaml:2:1: error: duplicate key 'port' (first defined on line 1)"
        in err
    )
    assert (
        "config/staging/payments.yaml:2:1: error: invalid YAML: tab character in indentation" in err
    )
    assert "config/base/payments.yaml:1:1: error: the document is a list" in err
    assert "config/base/_defaults.yaml:2:10: warning: 'yes' is the string 'yes' in YAML 1.2" in err
    assert "Traceback" not in result.output


def test_manifest_problems_have_lines(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write(
        {
            "cfgctl.yaml": "version: 1\nenvironments:\n  base: {inherits: prod}\n  prod: {inherits: base}\n"
            "  qa: {inherits: nowhere}\nservices:\n  payments: {schema: svc, colour: red}\n"
        }
    )
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    err = result.stderr
    assert (
        "cfgctl.yaml:5:18: error: environment 'qa' inherits from unknown environment 'nowhere'"
        in err
    )
    assert "environment inheritance cycle" in err
    assert "cfgctl.yaml:7:27: error: services.payments: unknown key 'colour'" in err


def test_schema_problems(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write(
        {
            "schemas/svc.schema.json": '{"type": "object", "properties": {"port": {"minimum": "one"}}}'
        }
    )
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    assert (
        "schemas/svc.schema.json:1:55: error: invalid schema: properties.port.minimum:"
        in result.stderr
    )

    small_repo.write(
        {"cfgctl.yaml": small_repo.read("cfgctl.yaml").replace("schema: svc", "schema: svc@3")}
    )
    result = run_cli("validate", cwd=small_repo.workdir)
    assert (
        "cfgctl.yaml:7:22: error: service 'payments': schema 'svc' has no version 3 (it has 1)"
        in result.stderr
    )

    small_repo.write(
        {"cfgctl.yaml": small_repo.read("cfgctl.yaml").replace("schema: svc@3", "schema: svx")}
    )
    result = run_cli("validate", cwd=small_repo.workdir)
    assert "schema 'svx' not found in schemas/" in result.stderr
    assert "did you mean 'svc'" in result.stderr


def test_files_outside_the_manifest(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write(
        {
            "config/qa/payments.yaml": "port: 1\n",
            "config/prod/billing.yaml": "port: 1\n",
            "config/prod/notes.yml": "x: 1\n",
        }
    )
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    assert (
        "config/qa/payments.yaml: error: folder config/qa/ is not an environment" in result.stderr
    )
    assert (
        "config/prod/billing.yaml: error: service 'billing' is not declared in cfgctl.yaml"
        in result.stderr
    )
    assert "config/prod/notes.yml: error: not read" in result.stderr


def test_secret_key_in_plain_file(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write({"config/prod/payments.yaml": "db:\n  password: hunter2-secret\n"})
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    assert (
        "config/prod/payments.yaml:2:3: error: db.password is a secret (schema svc@1) set in a plain file"
        in result.stderr
    )
    assert "hunter2-secret" not in result.output


def test_secret_value_never_in_schema_errors(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write({"config/prod/payments.secrets.yaml": "db:\n  password: 12345678\n"})
    result = run_cli("validate", "--format", "json", cwd=small_repo.workdir)
    assert result.exit_code == 1
    assert "12345678" not in result.output
    assert "it holds a secret: not shown" in result.stdout
    assert "secret-plaintext" in result.stdout  # and a plain-text .secrets.yaml is an error


def test_validate_a_past_revision(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    first = str(small_repo.repo.head.target)
    small_repo.commit({"config/prod/payments.yaml": "port: bad\n"}, "break")
    assert run_cli("validate", cwd=small_repo.workdir).exit_code == 1
    assert run_cli("validate", "--rev", first, cwd=small_repo.workdir).exit_code == 0
    assert run_cli("validate", "--rev", "HEAD~1", cwd=small_repo.workdir).exit_code == 0
    bad = run_cli("validate", "--rev", "nope", cwd=small_repo.workdir)
    assert bad.exit_code == 2
    assert "error: unknown revision 'nope'" in bad.stderr


def test_revision_without_manifest(tmp_path: Path, run_cli: RunCli) -> None:
    repo = ConfigRepo.init(tmp_path / "r")
    repo.commit({"README": "x\n"}, "first")
    repo.commit({"cfgctl.yaml": "version: 1\nenvironments: {base: {}}\nservices: {}\n"}, "second")
    result = run_cli("validate", "--rev", "HEAD~1", cwd=repo.workdir)
    assert result.exit_code == 2
    assert "revision 'HEAD~1'" in result.stderr and "has no cfgctl.yaml" in result.stderr


def test_corrupt_cache_entries_are_rebuilt(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write({"config/prod/payments.yaml": "port: -5\n"})
    first = run_cli("validate", cwd=small_repo.workdir)
    assert first.exit_code == 1
    db_path = small_repo.workdir / ".cfgctl/cache/cache.sqlite3"
    with contextlib.closing(sqlite3.connect(db_path)) as db, db:
        keys = [k for (k,) in db.execute("SELECT key FROM entries")]
        assert keys
        # a foreign verdict claiming all is fine, a verdict for another key, and garbage
        db.execute(
            "UPDATE entries SET value = ?",
            (json.dumps({"format": FORMAT, "key": keys[0], "value": []}),),
        )
        db.execute("UPDATE entries SET value = 'garbage' WHERE key = ?", (keys[-1],))
    second = run_cli("validate", cwd=small_repo.workdir)
    assert second.exit_code == 1
    assert second.stderr == first.stderr
    db_path.write_bytes(b"\x00 not a database " * 100)
    third = run_cli("validate", cwd=small_repo.workdir)
    assert third.exit_code == 1
    assert third.stderr == first.stderr


def test_repo_option_and_no_manifest(
    tmp_path: Path, small_repo: ConfigRepo, run_cli: RunCli
) -> None:
    assert run_cli("-C", str(small_repo.workdir), "validate", cwd=tmp_path).exit_code == 0
    assert run_cli("validate", cwd=small_repo.workdir / "config" / "prod").exit_code == 0
    result = run_cli("validate", cwd=tmp_path)
    assert result.exit_code == 2
    assert "no cfgctl.yaml in" in result.stderr


@pytest.mark.slow
def test_many_files_are_parsed_on_every_core_and_cached(tmp_path: Path, run_cli: RunCli) -> None:
    services = [f"svc{i:03d}" for i in range(140)]
    manifest = "version: 1\nenvironments:\n  base: {}\n  staging: {inherits: base}\n  prod: {inherits: base}\nservices:\n"
    manifest += "".join(f"  {s}: {{schema: svc}}\n" for s in services)
    files: dict[str, str | bytes | None] = {
        "cfgctl.yaml": manifest,
        "schemas/svc.schema.yaml": "type: object\nrequired: [port]\nproperties:\n  port: {type: integer}\n",
    }
    for s in services:
        for env in ("base", "staging", "prod"):
            files[f"config/{env}/{s}.yaml"] = f"# {s} in {env}\nport: {8000 + len(env)}\n"
    files["config/prod/svc077.yaml"] = "port: '80'\n"
    repo = ConfigRepo.init(tmp_path / "big")
    repo.commit(files, "many services")
    cold = run_cli("validate", cwd=repo.workdir)
    assert cold.exit_code == 1
    assert cold.stderr.startswith(
        'config/prod/svc077.yaml:1:7: error: port: expected integer, got string "80"'
    )
    assert "420 service/environment pairs" in cold.stdout
    warm = run_cli("validate", cwd=repo.workdir)
    assert (warm.exit_code, warm.stderr, warm.stdout) == (cold.exit_code, cold.stderr, cold.stdout)
    no_cache = run_cli("--no-cache", "validate", cwd=repo.workdir)
    assert no_cache.stderr == cold.stderr


def test_schemas_with_ids_and_yaml_schemas(small_repo: ConfigRepo, run_cli: RunCli) -> None:
    small_repo.write(
        {
            "schemas/svc.schema.json": None,
            "schemas/svc.schema.yaml": "$id: https://acme.dev/schemas/svc.json\ntype: object\nproperties:\n  port: {$ref: 'defs.json#/$defs/port'}\n",
            "schemas/defs.schema.json": '{"$id": "https://acme.dev/schemas/defs.json", "$defs": {"port": {"type": "integer", "maximum": 100}}}',
        }
    )
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1, result.output
    assert (
        "config/base/_defaults.yaml:1:7: error: port: expected a number at most 100, got 8080"
        in result.stderr
    )


def test_values_from_secrets_layers_never_in_errors(
    small_repo: ConfigRepo, run_cli: RunCli
) -> None:
    small_repo.write({"config/prod/payments.secrets.yaml": 'host: ["TOPSECRET value!"]\n'})
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    assert "TOPSECRET" not in result.output
    assert (
        "config/prod/payments.secrets.yaml:1:7: error: host: the value breaks the schema (type); it holds a secret: not shown"
        in result.stderr
    )


SOPS_FILE = """\
db:
    password: ENC[AES256_GCM,data:8kYXb3mZ,iv:1p7cQxoLJaDLGSkzW3F5VpQ0Hdvp3L3k3yJ2ixF5bDQ=,tag:QqbuH3J0E6ZC6U5rm0Wuyw==,type:str]
sops:
    age:
        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBDRnpQ
            -----END AGE ENCRYPTED FILE-----
    lastmodified: "2026-11-25T04:00:00Z"
    mac: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]
    version: 3.9.4
"""


def test_sops_encrypted_layers_are_read_for_their_keys(
    small_repo: ConfigRepo, run_cli: RunCli
) -> None:
    small_repo.write({"config/prod/payments.secrets.yaml": SOPS_FILE})
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 0, result.output
    assert (
        "config/prod/payments.secrets.yaml: warning: values not checked: they are encrypted with SOPS"
        in result.stderr
    )
    rendered = run_cli("render", "payments", "--env", "prod", cwd=small_repo.workdir).stdout
    assert "password: '***'" in rendered and "sops" not in rendered and "ENC[" not in rendered
    small_repo.write(
        {
            "config/prod/payments.secrets.yaml": SOPS_FILE.replace(
                "db:\n    password", "db:\n    colour"
            )
        }
    )
    unknown = run_cli("validate", cwd=small_repo.workdir)
    assert unknown.exit_code == 0  # db allows any key in this schema; structure still read
    small_repo.write({"config/prod/payments.secrets.yaml": SOPS_FILE.replace("db:\n", "dbx:\n")})
    wrong_key = run_cli("validate", cwd=small_repo.workdir)
    assert wrong_key.exit_code == 1
    assert "unknown key 'dbx'" in wrong_key.stderr


def test_dangling_refs_are_errors_in_the_schema_file(
    small_repo: ConfigRepo, run_cli: RunCli
) -> None:
    small_repo.write(
        {
            "schemas/svc.schema.json": '{\n  "type": "object",\n  "properties": {\n    "tls": {"$ref": "missing.schema.json#/$defs/tls"},\n'
            '    "port": {"$ref": "#/$defs/nope"}\n  }\n}\n'
        }
    )
    result = run_cli("validate", cwd=small_repo.workdir)
    assert result.exit_code == 1
    assert (
        "schemas/svc.schema.json:4:21: error: $ref 'missing.schema.json#/$defs/tls' names a schema that does not exist"
        in result.stderr
    )
    assert (
        "schemas/svc.schema.json:5:22: error: $ref '#/$defs/nope' points at nothing in svc.schema.json"
        in result.stderr
    )


def test_github_paths_are_relative_to_the_git_root(tmp_path: Path, run_cli: RunCli) -> None:
    repo = ConfigRepo.init(tmp_path / "mono")
    repo.commit(
        {
            "ops/cfg/cfgctl.yaml": "version: 1\nenvironments: {prod: {}}\nservices: {api: {schema: s}}\n",
            "ops/cfg/schemas/s.schema.json": '{"properties": {"port": {"type": "integer"}}}',
            "ops/cfg/config/prod/api.yaml": "port: x\n",
        },
        "init",
    )
    result = run_cli("validate", "--format", "github", cwd=repo.workdir / "ops" / "cfg")
    assert result.stdout.startswith("::error file=ops/cfg/config/prod/api.yaml,line=1,col=7::")
    text = run_cli("validate", cwd=repo.workdir / "ops" / "cfg")
    assert text.stderr.startswith("config/prod/api.yaml:1:7: error:")  # text: from the config root


def test_abstract_environments_and_env_format_errors(
    small_repo: ConfigRepo, run_cli: RunCli
) -> None:
    manifest = small_repo.read("cfgctl.yaml").replace("base: {}", "base: {abstract: true}")
    small_repo.write(
        {
            "cfgctl.yaml": manifest,
            "config/base/_defaults.yaml": "host: base.internal\n",
            "config/prod/payments.yaml": "port: 1\n",
            "config/staging/payments.yaml": "port: 2\n",
        }
    )
    assert (
        run_cli("validate", cwd=small_repo.workdir).exit_code == 0
    )  # base alone lacks port: not checked
    refused = run_cli("render", "payments", "--env", "base", cwd=small_repo.workdir)
    assert refused.exit_code == 2 and "abstract" in refused.stderr
    small_repo.write(
        {"schemas/svc.schema.json": "{}", "config/prod/payments.yaml": "a_b: 1\na: {b: 2}\n"}
    )
    clash = run_cli(
        "render", "payments", "--env", "prod", "--format", "env", cwd=small_repo.workdir
    )
    assert clash.exit_code == 2 and "keys a_b and a.b both give the variable A_B" in clash.stderr
