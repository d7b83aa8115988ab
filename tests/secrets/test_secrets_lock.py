"""Secrets edits never lose a change: real `cfgctl secrets` processes started at once, with the
real sops binary, and an edit during which another command changes the file."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cfgctl.repo import sops
from tests.support.cli import SECRET_VALUES
from tests.support.gitrepo import ConfigRepo
from tests.support.procs import CFGCTL, LockHolder, run_at_once, run_one
from tests.support.secretrepo import Key

pytestmark = pytest.mark.slow  # real processes and the real sops

FILE = "config/prod/payments.secrets.yaml"
PASSWORD = "Lock-test-password-0001"
TOKEN = "Lock-test-user-token-0002"
EDITED = "Lock-test-edited-pass-0003"


def _decrypt(path: Path, key: Key) -> dict[str, Any]:
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key.file)}
    proc = subprocess.run(
        [sops.sops_path(), "--disable-version-check", "decrypt", "--output-type", "json", path],
        capture_output=True,
        env=env,
        check=True,
    )
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _no_leak(*texts: str) -> None:
    for text in texts:
        for value in (PASSWORD, TOKEN, EDITED):
            assert value not in text


def test_concurrent_secret_sets_of_one_file_all_land(secret_repo: ConfigRepo, alice: Key) -> None:
    SECRET_VALUES.update({PASSWORD, TOKEN})
    commands: list[tuple[tuple[str, ...], str | None]] = [
        (("secrets", "set", "payments", "db.password", "--env", "prod"), PASSWORD),
        (("secrets", "set", "payments", "db.user_token", "--env", "prod"), TOKEN),
    ]
    commands += [
        (("secrets", "set", "payments", f"features.f{i}", "--env", "prod", "--json"), "true")
        for i in range(4)
    ]
    results = run_at_once(commands, cwd=secret_repo.workdir)
    assert [r.returncode for r in results] == [0] * len(commands), [r.stderr for r in results]
    _no_leak(*(r.stdout + r.stderr for r in results))
    data = _decrypt(secret_repo.workdir / FILE, alice)
    assert data["db"]["password"] == PASSWORD
    assert data["db"]["user_token"] == TOKEN
    assert data["features"] == {f"f{i}": True for i in range(4)}


def test_secrets_set_under_a_held_lock_exits_3(secret_repo: ConfigRepo) -> None:
    SECRET_VALUES.add(PASSWORD)
    holder = LockHolder(secret_repo.workdir)
    try:
        result = run_one(
            "secrets",
            "set",
            "payments",
            "db.password",
            "--env",
            "prod",
            cwd=secret_repo.workdir,
            env={"CFGCTL_LOCK_TIMEOUT": "0.3"},
            stdin=PASSWORD,
        )
    finally:
        holder.release()
    assert result.returncode == 3, result.stderr
    assert "another cfgctl is writing this repository" in result.stderr
    assert not (secret_repo.workdir / FILE).exists()
    _no_leak(result.stdout, result.stderr)


def test_an_edit_never_undoes_a_change_made_while_the_editor_was_open(
    secret_repo: ConfigRepo, alice: Key, tmp_path: Path
) -> None:
    SECRET_VALUES.update({PASSWORD, TOKEN, EDITED})
    cwd = secret_repo.workdir
    first = run_one(
        "secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd, stdin=PASSWORD
    )
    assert first.returncode == 0, first.stderr
    # The editor: while it is open, another cfgctl sets user_token; then it edits the password.
    editor = tmp_path / "editor.sh"
    editor.write_text(
        "#!/bin/sh\n"
        f"printf %s '{TOKEN}' | {CFGCTL} secrets set payments db.user_token --env prod || exit 9\n"
        f"sed -i 's/{PASSWORD}/{EDITED}/' \"$1\"\n"
    )
    editor.chmod(0o755)
    result = run_one("secrets", "edit", FILE, cwd=cwd, env={"EDITOR": str(editor)})
    assert result.returncode == 1, result.stderr
    assert "changed by another command while it was being edited" in result.stderr
    assert "cfgctl secrets edit" in result.stderr  # the hint
    data = _decrypt(cwd / FILE, alice)
    assert data["db"]["user_token"] == TOKEN  # the concurrent change stays
    assert data["db"]["password"] == PASSWORD
    _no_leak(result.stdout, result.stderr)


@pytest.mark.parametrize(
    "command",
    [
        ("secrets", "rotate", "--env", "prod"),
        ("secrets", "recipients", "add", "BOB", "--env", "prod"),
        ("secrets", "recipients", "remove", "ALICE", "--env", "prod"),
        ("secrets", "encrypt", "config/prod/search.secrets.yaml"),
        ("codeowners",),
        ("new", "service", "billing", "--template", "web-service"),
    ],
    ids=["rotate", "recipients-add", "recipients-remove", "encrypt", "codeowners", "new-service"],
)
def test_every_writer_under_a_held_lock_exits_3_and_writes_nothing(
    secret_repo: ConfigRepo, alice: Key, bob: Key, command: tuple[str, ...]
) -> None:
    SECRET_VALUES.add(PASSWORD)
    cwd = secret_repo.workdir
    assert run_one("secrets", "set", "payments", "db.password", "--env", "prod", cwd=cwd,
                   stdin=PASSWORD).returncode == 0  # fmt: skip
    (cwd / "config/prod/search.secrets.yaml").write_text("api_key: not-yet-encrypted\n")
    SECRET_VALUES.add("not-yet-encrypted")
    before = {p: p.read_bytes() for p in cwd.rglob("*") if p.is_file() and ".git" not in p.parts}
    args = [{"BOB": bob.recipient, "ALICE": alice.recipient}.get(a, a) for a in command]
    holder = LockHolder(cwd)
    try:
        result = run_one(*args, cwd=cwd, env={"CFGCTL_LOCK_TIMEOUT": "0.3"})
    finally:
        holder.release()
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert "another cfgctl is writing this repository" in result.stderr
    after = {p: p.read_bytes() for p in cwd.rglob("*") if p.is_file() and ".git" not in p.parts}
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert {p.relative_to(cwd).parts[0] for p in changed} <= {".cfgctl"}, changed  # the lock only
    _no_leak(result.stdout, result.stderr)
    assert "not-yet-encrypted" not in result.stdout + result.stderr
