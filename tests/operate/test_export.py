"""`cfgctl export`: the formats, the will-be-lost report, --strict, and secrets."""

from __future__ import annotations

import base64
import io
import stat
from pathlib import Path

import jproperties
import pytest
from dotenv import dotenv_values

from cfgctl.operate.export import memory_backed
from cfgctl.repo.yamlio import parse
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo


def _export(run_cli: RunCli, repo: ConfigRepo, *args: str) -> tuple[int, str, str]:
    result = run_cli("-C", str(repo.workdir), "export", "payments", "--env", "prod", *args)
    return result.exit_code, result.stdout, result.stderr


def test_each_format_is_read_back_by_its_standard_reader(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    code, out, err = _export(run_cli, example_repo, "--format", "properties")
    assert code == 0, err
    props = jproperties.Properties()
    props.load(out.encode(), "utf-8")
    assert props["db.pool_size"].data == "40" and props["replicas"].data == "6"
    assert "will be lost in properties: numbers and booleans become strings" in err
    assert "db.pool_size" in err
    code, out, _ = _export(run_cli, example_repo, "-f", "env", "--prefix", "app")
    assert code == 0
    values = dotenv_values(stream=io.StringIO(out))
    assert values["APP_DB_POOL_SIZE"] == "40" and values["APP_LOG_LEVEL"] == "warning"
    code, out, _ = _export(run_cli, example_repo, "-f", "spring")
    assert "DB_POOLSIZE=40" in out and "SERVER_TIMEOUTSECONDS=30" in out  # relaxed binding
    code, out, _ = _export(run_cli, example_repo, "-f", "configmap")
    doc = parse(out, "cm.yaml").data
    assert doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == "payments"
    assert doc["data"]["db.pool_size"] == "40" and doc["data"]["features.refunds_v2"] == "false"
    code, out, _ = _export(run_cli, example_repo, "-f", "consul-kv")
    entries = {e["key"]: base64.b64decode(e["value"]).decode() for e in parse(out, "kv").data}
    assert entries["config/payments,prod/db/pool_size"] == "40"


def test_strict_refuses_what_the_format_cannot_hold(
    example_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    target = tmp_path / "prod.env"
    code, out, err = _export(run_cli, example_repo, "-f", "env", "--strict", "--out", str(target))
    assert code == 1 and out == "" and not target.exists()
    assert "will be lost in env" in err and "--strict: env cannot hold" in err
    code, _, err = _export(run_cli, example_repo, "-f", "yaml", "--strict", "--out", str(target))
    assert code == 0, err
    assert parse(target.read_bytes(), "t").data["db"]["pool_size"] == 40
    assert "not exported: the comments of" in err  # a note, not a loss


def test_an_unknown_format_and_an_unknown_service_are_refused(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    code, _, err = _export(run_cli, example_repo, "-f", "xml")
    assert code == 2 and "xml" in err
    result = run_cli("-C", str(example_repo.workdir), "export", "paymnts", "--env", "prod")
    assert result.exit_code == 2 and "payments" in result.stderr


SECRET = "export-s3cret-value-123"


@pytest.fixture
def with_secret(secret_repo: ConfigRepo, run_cli: RunCli) -> ConfigRepo:
    from tests.support.secretrepo import set_secret

    set_secret(run_cli, secret_repo, SECRET)
    return secret_repo


def test_secrets_are_refused_without_reveal_and_never_masked(
    with_secret: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    code, out, err = _export(run_cli, with_secret, "-f", "properties")
    assert code == 2 and out == ""
    assert "holds secrets (db.password)" in err and "--reveal" in err
    code, out, err = _export(run_cli, with_secret, "-f", "properties", "--skip-secrets")
    assert code == 0 and "db.password" not in out and "***" not in out
    assert "left out (secrets, --skip-secrets): db.password" in err
    code, out, _ = _export(run_cli, with_secret, "-f", "secret", "--reveal")
    data = parse(out, "s.yaml").data["data"]
    assert base64.b64decode(data["db.password"]).decode() == SECRET


def test_revealed_secrets_go_to_disk_only_with_force_and_mode_0600(
    with_secret: ConfigRepo, run_cli: RunCli, tmp_path: Path
) -> None:
    disk = with_secret.workdir.parent / "prod.properties"
    args = ("-f", "properties", "--reveal", "--out", str(disk))
    if memory_backed(disk):
        pytest.skip("the test folder is in memory here")
    code, _, err = _export(run_cli, with_secret, *args)
    assert code == 2 and "not on a memory-backed filesystem" in err and not disk.exists()
    disk.write_text("old\n")
    disk.chmod(0o644)
    code, _, err = _export(run_cli, with_secret, *args, "--force")
    assert code == 0, err
    assert stat.S_IMODE(disk.stat().st_mode) == 0o600
    assert f"db.password={SECRET}" in disk.read_text()
    shm = Path("/dev/shm")
    if shm.is_dir() and memory_backed(shm / "x"):
        in_memory = shm / f"cfgctl-test-{disk.parent.name}.properties"
        try:
            code, _, err = _export(run_cli, with_secret, *args[:-1], str(in_memory))
            assert code == 0, err
            assert stat.S_IMODE(in_memory.stat().st_mode) == 0o600
        finally:
            in_memory.unlink(missing_ok=True)


def test_the_command_offers_every_format_the_library_writes() -> None:
    from cfgctl.cli.commands.exchange import ExchangeFormat
    from cfgctl.operate.formats_out import FORMATS

    assert tuple(f.value for f in ExchangeFormat) == FORMATS
