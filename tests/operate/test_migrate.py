"""`cfgctl migrate`: a schema's migration applied to every layer, checked, all or nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo

MANIFEST = """\
version: 1
environments:
  base: {}
  prod: {inherits: base}
  prod-eu: {inherits: prod}
services:
  payments: {schema: web@2}   # pinned
  orders: {schema: web@2}
"""

V2 = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "db": {"type": "object", "properties": {"pool_size": {"type": "integer"}}},
        "timeout_ms": {"type": "integer"},
        "log": {"type": "object", "properties": {"level": {"enum": ["info", "warn"]}}},
        "legacy": {"type": "object"},
        "name": {"type": "string"},
    },
}
V3 = {
    "type": "object",
    "additionalProperties": False,
    "required": ["db"],
    "properties": {
        "db": {
            "type": "object",
            "additionalProperties": False,
            "required": ["pool"],
            "properties": {
                "pool": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"max": {"type": "integer"}, "min": {"type": "integer"}},
                }
            },
        },
        "http": {"type": "object", "properties": {"timeout_ms": {"type": "string"}}},
        "log": {"type": "object", "properties": {"level": {"enum": ["info", "warning"]}}},
        "name": {"type": "string"},
    },
}
MIGRATION = """\
from: 2
to: 3
operations:
  - {op: rename,  from: db.pool_size, to: db.pool.max}
  - {op: move,    from: timeout_ms,   to: http.timeout_ms}
  - {op: convert, path: http.timeout_ms, to: duration}
  - {op: map,     path: log.level, values: {warn: warning}}
  - {op: default, path: db.pool.min, value: 1}
  - {op: remove,  path: legacy}
"""
BASE_PAYMENTS = """\
# payments: the checkout service
db:
  pool_size: 10   # connections
timeout_ms: 250
legacy: {flag: true}
name: 'payments'
"""


@pytest.fixture
def repo(tmp_path: Path) -> ConfigRepo:
    repo = ConfigRepo.init(tmp_path / "cfg")
    repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/web.v2.schema.json": json.dumps(V2),
            "schemas/web.v3.schema.json": json.dumps(V3),
            "schemas/web.v3.migration.yaml": MIGRATION,
            "config/base/_defaults.yaml": "log: {level: warn}\n",
            "config/base/payments.yaml": BASE_PAYMENTS,
            "config/prod/payments.yaml": "db:\n  pool_size: 40\n",
            "config/base/orders.yaml": "db: {pool_size: 5}\n",
        },
        "init",
    )
    return repo


def _render(run_cli: RunCli, repo: ConfigRepo, service: str, env: str) -> object:
    result = run_cli("-C", str(repo.workdir), "render", service, "--env", env, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_every_layer_moves_and_comments_stay(repo: ConfigRepo, run_cli: RunCli) -> None:
    result = run_cli("-C", str(repo.workdir), "migrate", "--all")
    assert result.exit_code == 0, result.output
    assert "migrated payments: web @2 -> @3" in result.stdout
    base = repo.read("config/base/payments.yaml")
    assert base.startswith("# payments: the checkout service\n")
    assert re.search(r"\n    max: 10 +# connections\n", base)  # moved with its comment
    assert "pool_size" not in base and "legacy" not in base
    assert "timeout_ms: 250ms" in base and "name: 'payments'" in base  # quoting kept
    assert repo.read("config/base/_defaults.yaml") == "log: {level: warning}\n"
    manifest = repo.read("cfgctl.yaml")
    assert "payments: {schema: web@3}   # pinned" in manifest
    assert "orders: {schema: web@3}" in manifest
    assert _render(run_cli, repo, "payments", "prod-eu") == {
        "db": {"pool": {"max": 40, "min": 1}},
        "http": {"timeout_ms": "250ms"},
        "log": {"level": "warning"},
        "name": "payments",
    }
    assert _render(run_cli, repo, "orders", "prod")["db"] == {"pool": {"max": 5, "min": 1}}  # type: ignore[index]
    assert run_cli("-C", str(repo.workdir), "validate").exit_code == 0
    again = run_cli("-C", str(repo.workdir), "migrate", "--all")
    assert again.exit_code == 0 and "already at the target version" in again.stdout


def test_dry_run_shows_the_semantic_diff_and_writes_nothing(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    before = {rel: repo.read_bytes(rel) for rel in ("cfgctl.yaml", "config/base/payments.yaml")}
    result = run_cli("-C", str(repo.workdir), "migrate", "payments", "orders", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would migrate payments" in result.stdout
    assert "work tree -> after the migration" in result.stdout
    assert '~ db: {"pool_size": 40} -> {"pool": {"max": 40, "min": 1}}' in result.stdout
    assert {rel: repo.read_bytes(rel) for rel in before} == before
    data = json.loads(
        run_cli("-C", str(repo.workdir), "migrate", "--all", "--dry-run", "-f", "json").stdout
    )
    assert data["written"] is False
    assert "config/base/payments.yaml" in data["files"] and data["diff"]["pairs"]


def test_defaults_shared_with_a_service_that_stays_are_refused(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    before = repo.read_bytes("config/base/payments.yaml")
    result = run_cli("-C", str(repo.workdir), "migrate", "payments")
    assert result.exit_code == 2
    assert "config/base/_defaults.yaml sets log.level" in result.stderr
    assert "orders" in result.stderr and "Traceback" not in result.output
    assert repo.read_bytes("config/base/payments.yaml") == before


def test_a_result_the_new_schema_refuses_writes_nothing(repo: ConfigRepo, run_cli: RunCli) -> None:
    repo.write(
        {
            "schemas/web.v3.migration.yaml": MIGRATION.replace(
                "  - {op: remove,  path: legacy}\n", ""
            )
        }
    )
    before = repo.read_bytes("config/base/payments.yaml")
    result = run_cli("-C", str(repo.workdir), "migrate", "--all")
    assert result.exit_code == 1
    assert "breaks the new schema" in result.stderr and "legacy" in result.stderr
    assert repo.read_bytes("config/base/payments.yaml") == before
    assert "web@2" in repo.read("cfgctl.yaml")


@pytest.mark.parametrize(
    ("migration", "message"),
    [
        ("from: 1\nto: 3\noperations: []\n", "must migrate from 2 to 3"),
        ("from: 2\nto: 3\noperations:\n  - {op: rename, from: a}\n", "web.v3.migration.yaml:4"),
        ("from: 2\nto: 3\noperations:\n  - {op: explode, path: a}\n", "web.v3.migration.yaml:4"),
        ("from: 2\nto: 3\noperations:\n  - {op: move, from: a, to: a.b}\n", "inside it"),
        ("from: 2\nto: 3\noperations:\n  - {op: remove, path: 'a..b'}\n", "web.v3.migration.yaml"),
        (None, "no migration from web@2 to web@3"),
    ],
)
def test_a_bad_migration_file_is_one_clear_error(
    repo: ConfigRepo, run_cli: RunCli, migration: str | None, message: str
) -> None:
    repo.write({"schemas/web.v3.migration.yaml": migration})
    result = run_cli("-C", str(repo.workdir), "migrate", "--all")
    assert result.exit_code == 2, result.output
    assert message in result.stderr, result.stderr
    # one error line (file:line:col: error: ...), then at most its hint
    lines = result.stderr.strip().splitlines()
    assert lines[0].count("error:") == 1 and all(x.startswith("  hint:") for x in lines[1:]), lines
    assert "Traceback" not in result.output and "web@2" in repo.read("cfgctl.yaml")


@pytest.mark.parametrize(
    ("operation", "line"),
    [
        ("{op: rename, from: db.pool_sise, to: db.pool.max}", "db.pool_size"),  # a typo
        ("{op: convert, path: timeout, to: duration}", "timeout_ms"),
        ("{op: remove, path: name.first}", "name"),  # beneath a string, not a mapping
        ("{op: map, path: db.pool_size, values: {a: b}}", "db.pool.max"),  # renamed above
    ],
)
def test_an_operation_on_a_key_version_n_lacks_is_refused_with_its_line(
    repo: ConfigRepo, run_cli: RunCli, operation: str, line: str
) -> None:
    head = "from: 2\nto: 3\noperations:\n  - {op: rename, from: db.pool_size, to: db.pool.max}\n"
    if "sise" in operation:
        head = "from: 2\nto: 3\noperations:\n  - {op: move, from: legacy, to: old}\n"
    repo.write({"schemas/web.v3.migration.yaml": f"{head}  - {operation}\n"})
    before = {rel: repo.read_bytes(rel) for rel in ("cfgctl.yaml", "config/base/payments.yaml")}
    for args in (["--all"], ["--all", "--dry-run"]):
        result = run_cli("-C", str(repo.workdir), "migrate", *args)
        assert result.exit_code == 2, result.output
        assert "web.v3.migration.yaml:5:" in result.stderr, result.stderr
        assert "is not a key of web@2" in result.stderr
        assert line in result.stderr  # the nearest key the schema has
        assert "Traceback" not in result.output
    assert {rel: repo.read_bytes(rel) for rel in before} == before


def test_keys_an_earlier_operation_creates_or_a_free_form_mapping_holds_are_accepted(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    # legacy is {type: object} in web@2: any key may live under it
    extra = "  - {op: rename, from: legacy.flag, to: legacy.enabled}\n"
    repo.write(
        {
            "schemas/web.v3.migration.yaml": MIGRATION.replace(
                "operations:\n", f"operations:\n{extra}"
            )
        }
    )
    result = run_cli("-C", str(repo.workdir), "migrate", "--all", "--dry-run")
    assert result.exit_code == 0, result.output


def test_an_unpinned_service_and_an_unknown_target_are_refused(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    repo.write({"cfgctl.yaml": MANIFEST.replace("web@2}   # pinned", "web}")})
    unpinned = run_cli("-C", str(repo.workdir), "migrate", "payments")
    assert unpinned.exit_code == 2 and "not pinned" in unpinned.stderr
    assert "cfgctl.yaml:7" in unpinned.stderr
    unknown = run_cli("-C", str(repo.workdir), "migrate", "orders", "--to", "web@9")
    assert unknown.exit_code == 2 and "has no version 9" in unknown.stderr
    other = run_cli("-C", str(repo.workdir), "migrate", "orders", "--to", "api@3")
    assert other.exit_code == 2 and "uses schema web" in other.stderr
    typo = run_cli("-C", str(repo.workdir), "migrate", "paymnts")
    assert typo.exit_code == 2 and "payments" in typo.stderr


def test_an_undeclared_change_of_an_effective_value_is_refused(
    repo: ConfigRepo, run_cli: RunCli
) -> None:
    # prod sets db.pool.max already (in the new shape): migrating base's pool_size under it
    # would leave prod's own value winning where the operations say 40 -> max
    repo.write({"config/prod/payments.yaml": "db:\n  pool_size: 40\n  pool: {max: 7}\n"})
    result = run_cli("-C", str(repo.workdir), "migrate", "--all")
    assert result.exit_code == 2, result.output
    assert "is set already" in result.stderr or "do not declare" in result.stderr
    assert "web@2" in repo.read("cfgctl.yaml")


def test_secrets_layers_are_migrated_in_memory_and_stay_encrypted(
    secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    from tests.support.secretrepo import set_secret

    repo = secret_repo
    value = "migrate-me-s3cret-value"
    set_secret(run_cli, repo, value)
    v2 = repo.read("schemas/web-service.v2.schema.json")
    repo.commit(
        {
            "cfgctl.yaml": repo.read("cfgctl.yaml").replace(
                "{schema: web-service,", "{schema: web-service@2,"
            ),
            "schemas/web-service.v3.schema.json": v2.replace('"password"', '"credential"'),
            "schemas/web-service.v3.migration.yaml": (
                "from: 2\nto: 3\noperations:\n  - {op: rename, from: db.password, to: db.credential}\n"
            ),
        },
        "v3",
        add_all=True,
    )
    rel = "config/prod/payments.secrets.yaml"
    recipients_before = json.dumps(_age_recipients(repo.read(rel)))
    result = run_cli("-C", str(repo.workdir), "migrate", "payments")
    assert result.exit_code == 0, result.output
    assert f"{rel}: web-service@2 -> @3 (re-encrypted)" in result.stdout
    text = repo.read(rel)
    assert "sops:" in text and value not in text and "credential: ENC[" in text
    assert json.dumps(_age_recipients(text)) == recipients_before
    got = run_cli(
        "-C", str(repo.workdir), "get", "payments", "db.credential", "--env", "prod", "--reveal"
    )
    assert got.exit_code == 0 and got.stdout.strip() == value
    plain_files = [p for p in repo.workdir.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert not [p for p in plain_files if value.encode() in p.read_bytes()]
    assert value not in result.output


def _age_recipients(text: str) -> list[str]:
    from cfgctl.repo.yamlio import parse

    return sorted(r["recipient"] for r in parse(text, "secrets.yaml").data["sops"]["age"])
