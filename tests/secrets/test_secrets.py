"""cfgctl secrets with real age keys and the real sops binary; no value ever printed."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cfgctl.repo import sops
from tests.support.cli import SECRET_VALUES, Result, RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import Key

pytestmark = pytest.mark.slow  # the real sops binary in every test

PASSWORD = "Pa55-word-for-prod-db-0001"
OTHER = "An0ther-secret-value-0002"
SECRET_VALUES.update(
    {
        PASSWORD,
        OTHER,
        PASSWORD + "-new",
        OTHER + "-new",
        "side-one-value-123456",
        "side-two-value-123456",
    }
)


def sops_decrypt(path: Path, key: Key) -> dict[str, Any]:
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key.file)}
    proc = subprocess.run(
        [
            sops.sops_path(),
            "--disable-version-check",
            "decrypt",
            "--output-type",
            "json",
            str(path),
        ],
        capture_output=True,
        env=env,
        check=True,
    )
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def no_leak(*results: Result) -> None:
    for result in results:
        for value in (PASSWORD, OTHER):
            assert value not in result.output


def test_keygen(tmp_path: Path, run_cli: RunCli) -> None:
    target = tmp_path / "keys" / "me.txt"
    result = run_cli("secrets", "keygen", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("age1") and len(result.stdout.strip()) == 62
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "AGE-SECRET-KEY-1" in target.read_text()
    assert "AGE-SECRET-KEY" not in result.output
    again = run_cli("secrets", "keygen", "--out", str(target))
    assert again.exit_code == 2 and "never overwrites" in again.stderr


def test_set_render_reveal_and_plain_sops_interop(
    secret_repo: ConfigRepo, alice: Key, run_cli: RunCli
) -> None:
    cwd = secret_repo.workdir
    result = run_cli(
        "secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd, input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    path = cwd / "config/prod/payments.secrets.yaml"
    assert PASSWORD not in path.read_text() and "ENC[AES256_GCM" in path.read_text()
    assert sops_decrypt(path, alice) == {"db": {"password": PASSWORD}}  # plain sops reads it
    masked = run_cli("render", "payments", "--env", "prod", cwd=cwd)
    assert masked.exit_code == 0, masked.output
    assert "password: '***'" in masked.stdout
    shown = run_cli("render", "payments", "--env", "prod", "--reveal", "-f", "json", cwd=cwd)
    assert json.loads(shown.stdout)["db"]["password"] == PASSWORD
    validate = run_cli("validate", cwd=cwd)
    assert validate.exit_code == 0, validate.output
    assert "values not checked" not in validate.output  # decrypted: values checked
    # a second value keeps the first one's ciphertext (minimal diffs in review)
    first_line = next(line for line in path.read_text().splitlines() if "password:" in line)
    assert (
        run_cli(
            "secrets", "set", "payments", "db.user_token", "--env", "prod", cwd=cwd, input=OTHER
        ).exit_code
        == 0
    )
    assert first_line in path.read_text()
    assert sops_decrypt(path, alice)["db"] == {"password": PASSWORD, "user_token": OTHER}
    no_leak(result, masked, validate)


def test_values_are_validated_after_decryption(secret_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = secret_repo.workdir
    refused = run_cli(
        "secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd, input="short"
    )
    assert refused.exit_code == 1 and "(minLength); it holds a secret: not shown" in refused.stderr
    assert not (cwd / "config/prod/payments.secrets.yaml").exists()
    for bad_key, words in (("sops", "SOPS's own metadata"), ("db.password", "empty value")):
        bad = run_cli("secrets", "set", "payments", bad_key, "--env", "prod", cwd=cwd, input="")
        assert bad.exit_code == 2 and words in bad.stderr
    secret_repo.write({"config/prod/payments.secrets.yaml": "db:\n  password: short\n"})
    assert (
        run_cli("secrets", "encrypt", "config/prod/payments.secrets.yaml", cwd=cwd).exit_code == 0
    )
    result = run_cli("validate", cwd=cwd)
    assert result.exit_code == 1
    assert (
        "db.password: the value breaks the schema (minLength); it holds a secret: not shown"
        in result.stderr
    )
    assert "short" not in result.output.replace("shortest", "")


def test_without_the_key(
    secret_repo: ConfigRepo, bob: Key, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = secret_repo.workdir
    run_cli("secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd, input=PASSWORD)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(bob.file))
    validate = run_cli("validate", cwd=cwd)
    assert validate.exit_code == 0, validate.output
    assert "values not checked: they are encrypted with SOPS" in validate.stderr
    reveal = run_cli("render", "payments", "--env", "prod", "--reveal", cwd=cwd)
    assert (
        reveal.exit_code == 3
        and "no key at hand decrypts config/prod/payments.secrets.yaml" in reveal.stderr
    )
    get = run_cli("get", "payments", "db.password", "--env", "prod", "--reveal", cwd=cwd)
    assert get.exit_code == 3, get.output  # not the ciphertext, as if it were the value
    assert "no key at hand decrypts config/prod/payments.secrets.yaml" in get.stderr
    assert "ENC[" not in get.stdout
    decrypt = run_cli("secrets", "decrypt", "config/prod/payments.secrets.yaml", cwd=cwd)
    assert decrypt.exit_code == 3 and "no key can decrypt" in decrypt.stderr
    no_leak(validate, reveal, get, decrypt)


def test_tampered_files_are_refused(secret_repo: ConfigRepo, run_cli: RunCli) -> None:
    cwd = secret_repo.workdir
    run_cli("secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd, input=PASSWORD)
    path = cwd / "config/prod/payments.secrets.yaml"
    text = path.read_text()
    start = text.index("mac: ENC[AES256_GCM,data:") + len("mac: ENC[AES256_GCM,data:")
    path.write_text(text[:start] + ("A" if text[start] != "A" else "B") + text[start + 1 :])
    validate = run_cli("validate", cwd=cwd)
    assert validate.exit_code == 1
    assert "config/prod/payments.secrets.yaml: error: the file was tampered with" in validate.stderr
    render = run_cli("render", "payments", "--env", "prod", cwd=cwd)
    assert render.exit_code == 2 and "tampered" in render.stderr
    no_leak(validate, render)


def test_recipients_add_rekeys_and_rotate(
    secret_repo: ConfigRepo, alice: Key, bob: Key, run_cli: RunCli
) -> None:
    cwd = secret_repo.workdir
    run_cli("secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd, input=PASSWORD)
    added = run_cli("secrets", "recipients", "add", bob.recipient, "--env", "prod", cwd=cwd)
    assert added.exit_code == 0, added.output
    assert "re-keyed config/prod/payments.secrets.yaml" in added.stdout
    sops_yaml = (cwd / ".sops.yaml").read_text()
    assert sops_yaml.startswith("# who can read the secrets of each environment\n")
    assert f"{alice.recipient},{bob.recipient}" in sops_yaml
    path = cwd / "config/prod/payments.secrets.yaml"
    assert sops_decrypt(path, bob) == {"db": {"password": PASSWORD}}
    listed = json.loads(run_cli("secrets", "recipients", "list", "-f", "json", cwd=cwd).stdout)
    assert listed["prod"] == [alice.recipient, bob.recipient] and listed["staging"] == []
    before = path.read_text()
    rotated = run_cli("secrets", "rotate", "--env", "prod", cwd=cwd)
    assert rotated.exit_code == 0 and "rotated config/prod/payments.secrets.yaml" in rotated.stdout
    assert path.read_text() != before and sops_decrypt(path, alice) == {
        "db": {"password": PASSWORD}
    }
    removed = run_cli("secrets", "recipients", "remove", alice.recipient, "--env", "prod", cwd=cwd)
    assert removed.exit_code == 0
    with pytest.raises(subprocess.CalledProcessError):
        sops_decrypt(path, alice)
    bad = run_cli("secrets", "recipients", "add", "age1notakey", "--env", "prod", cwd=cwd)
    assert bad.exit_code == 2 and "not an age recipient" in bad.stderr
    no_leak(added, rotated, removed)


def test_rekey_without_a_key_changes_nothing(
    secret_repo: ConfigRepo, bob: Key, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = secret_repo.workdir
    run_cli("secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd, input=PASSWORD)
    before = {
        p: (cwd / p).read_bytes() for p in (".sops.yaml", "config/prod/payments.secrets.yaml")
    }
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(bob.file))
    result = run_cli("secrets", "recipients", "add", bob.recipient, "--env", "prod", cwd=cwd)
    assert result.exit_code == 3
    assert {p: (cwd / p).read_bytes() for p in before} == before
    assert not list((cwd / "config/prod").glob(".cfgctl-*"))


def test_check_finds_credentials_and_plain_secret_files(
    secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    cwd = secret_repo.workdir
    secret_repo.write(
        {
            "config/staging/search.yaml": "# oops\napi_token: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n",
            "config/staging/payments.secrets.yaml": "db:\n  password: " + OTHER + "\n",
        }
    )
    result = run_cli("secrets", "check", cwd=cwd)
    assert result.exit_code == 1
    assert (
        "config/staging/search.yaml:2:12: error: api_token looks like an access token, in a plain file"
        in result.stderr
    )
    assert (
        "config/staging/payments.secrets.yaml: error: a .secrets.yaml file must be encrypted"
        in result.stderr
    )
    assert run_cli("validate", cwd=cwd).exit_code == 1
    no_leak(result)


def test_encrypt(secret_repo: ConfigRepo, alice: Key, run_cli: RunCli) -> None:
    cwd = secret_repo.workdir
    secret_repo.write({"config/prod-eu/payments.secrets.yaml": f"db:\n  password: {PASSWORD}\n"})
    result = run_cli("secrets", "encrypt", "config/prod-eu/payments.secrets.yaml", cwd=cwd)
    assert result.exit_code == 0, result.output
    path = cwd / "config/prod-eu/payments.secrets.yaml"
    assert PASSWORD not in path.read_text()
    assert sops_decrypt(path, alice) == {"db": {"password": PASSWORD}}
    no_leak(result)


def test_files_encrypted_by_plain_sops_with_regex_settings(
    secret_repo: ConfigRepo, alice: Key, run_cli: RunCli
) -> None:
    cwd = secret_repo.workdir
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(alice.file)}
    plain = f"db:\n  password: {PASSWORD}\n  pool_size: 7\n".encode()
    cipher = subprocess.run(
        [
            sops.sops_path(),
            "--disable-version-check",
            "encrypt",
            "--encrypted-regex",
            "^password$",
            "--age",
            alice.recipient,
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "/dev/stdin",
        ],
        input=plain,
        capture_output=True,
        env=env,
        check=True,
    ).stdout
    assert b"pool_size: 7" in cipher  # left in the clear by the regex
    (cwd / "config/prod/payments.secrets.yaml").write_bytes(cipher)
    shown = run_cli("render", "payments", "--env", "prod", "--reveal", "-f", "json", cwd=cwd)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["db"] == {
        "host": "payments-db.prod.internal",
        "port": 5432,
        "pool_size": 7,
        "password": PASSWORD,
    }
    assert OTHER not in shown.output


def test_git_merge_of_two_branches_changing_different_secrets(
    secret_repo: ConfigRepo, alice: Key, run_cli: RunCli
) -> None:
    cwd = secret_repo.workdir
    run_cli("secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd, input=PASSWORD)
    run_cli("secrets", "set", "payments", "db.user_token", "--env", "prod", cwd=cwd, input=OTHER)
    assert run_cli("secrets", "install-merge-driver", cwd=cwd).exit_code == 0
    git_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@x",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@x",
        "SOPS_AGE_KEY_FILE": str(alice.file),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=git_env, capture_output=True, text=True, check=False
        )

    assert git("add", "-A").returncode == 0
    assert git("commit", "-qm", "secrets").returncode == 0
    assert git("checkout", "-qb", "feature").returncode == 0
    run_cli(
        "secrets",
        "set",
        "payments",
        "db.password",
        "--env",
        "prod",
        cwd=cwd,
        input=PASSWORD + "-new",
    )
    assert git("commit", "-qam", "new password").returncode == 0
    assert git("checkout", "-q", "main").returncode == 0
    run_cli(
        "secrets",
        "set",
        "payments",
        "db.user_token",
        "--env",
        "prod",
        cwd=cwd,
        input=OTHER + "-new",
    )
    assert git("commit", "-qam", "new token").returncode == 0
    merge = git("merge", "--no-edit", "feature")
    assert merge.returncode == 0, merge.stdout + merge.stderr
    path = cwd / "config/prod/payments.secrets.yaml"
    assert sops_decrypt(path, alice) == {
        "db": {"password": PASSWORD + "-new", "user_token": OTHER + "-new"}
    }
    # both sides change the same secret differently: a conflict named by its path only
    assert git("checkout", "-qb", "other").returncode == 0
    run_cli(
        "secrets",
        "set",
        "payments",
        "db.password",
        "--env",
        "prod",
        cwd=cwd,
        input="side-one-value-123456",
    )
    assert git("commit", "-qam", "one").returncode == 0
    assert git("checkout", "-q", "main").returncode == 0
    run_cli(
        "secrets",
        "set",
        "payments",
        "db.password",
        "--env",
        "prod",
        cwd=cwd,
        input="side-two-value-123456",
    )
    assert git("commit", "-qam", "two").returncode == 0
    conflict = git("merge", "--no-edit", "other")
    assert conflict.returncode != 0
    text = conflict.stdout + conflict.stderr
    assert "db.password" in text and "side-one" not in text and "side-two" not in text
    for secret in (PASSWORD, OTHER):
        assert secret not in text


def test_missing_sops_binary_is_exit_3(
    secret_repo: ConfigRepo, alice: Key, run_cli: RunCli
) -> None:
    cwd = secret_repo.workdir
    run_cli("secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd, input=PASSWORD)
    env = {**os.environ, "CFGCTL_SOPS": "/nonexistent/sops", "SOPS_AGE_KEY_FILE": str(alice.file)}
    cfgctl = str(Path(sys.executable).parent / "cfgctl")
    proc = subprocess.run(
        [cfgctl, "--no-cache", "render", "payments", "--env", "prod"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    assert "CFGCTL_SOPS names" in proc.stderr and "Traceback" not in proc.stderr
    assert PASSWORD not in proc.stdout + proc.stderr
