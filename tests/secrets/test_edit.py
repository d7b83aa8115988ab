"""`cfgctl secrets edit` with real sops, real age keys and real editor scripts as $EDITOR: the
plaintext copy in memory-backed storage, gone on every signal, the editor ended with cfgctl,
stale folders removed, an invalid edit re-opened with the error at the top."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from cfgctl.repo import sops
from cfgctl.secrets.editor import PREFIX, edit_folder_base
from tests.support.cli import SECRET_VALUES, Result, RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import Key, set_secret

pytestmark = pytest.mark.slow  # the real sops binary in every test

FILE = "config/prod/payments.secrets.yaml"
PASSWORD = "Edit-password-for-prod-db-0005"
OTHER = "Edit-other-secret-value-0006"
SECRET_VALUES.update({PASSWORD, OTHER})


def sops_decrypt(path: Path, key: Key) -> Any:
    proc = subprocess.run(
        [sops.sops_path(), "--disable-version-check", "decrypt", "--output-type", "json", path],
        capture_output=True,
        env={**os.environ, "SOPS_AGE_KEY_FILE": str(key.file)},
        check=True,
    )
    return json.loads(proc.stdout)


def no_leak(*results: Result) -> None:
    for result in results:
        assert PASSWORD not in result.output and OTHER not in result.output


def folders_of(pid: int) -> list[Path]:
    return sorted(edit_folder_base().glob(f"{PREFIX}{pid}-*"))


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def wait_for(predicate: object, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_edit_in_a_private_folder_in_memory(
    secret_repo: ConfigRepo,
    alice: Key,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cwd = secret_repo.workdir
    set_secret(run_cli, secret_repo, PASSWORD)
    editor = script(
        tmp_path / "editor.sh",
        f'ls -ld "$(dirname "$1")" > {tmp_path}/mode\ndirname "$1" > {tmp_path}/where\n'
        f"sed -i 's/{PASSWORD}/{OTHER}/' \"$1\"\n",
    )
    monkeypatch.setenv("EDITOR", str(editor))
    result = run_cli("secrets", "edit", FILE, cwd=cwd)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mode").read_text().startswith("drwx------")
    where = Path((tmp_path / "where").read_text().strip())
    assert where.parent == edit_folder_base() and where.name.startswith(f"{PREFIX}{os.getpid()}-")
    if Path("/dev/shm").is_dir():
        assert where.parent == Path("/dev/shm")
    assert not where.exists() and folders_of(os.getpid()) == []
    assert sops_decrypt(cwd / FILE, alice) == {"db": {"password": OTHER}}
    no_leak(result)


def test_an_invalid_edit_reopens_with_the_error_on_top(
    secret_repo: ConfigRepo,
    alice: Key,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cwd = secret_repo.workdir
    set_secret(run_cli, secret_repo, PASSWORD)
    count, log = tmp_path / "count", tmp_path / "header"
    editor = script(
        tmp_path / "editor.sh",
        f"n=$(($(cat {count} 2>/dev/null || echo 0) + 1)); echo $n > {count}\n"
        f"grep '^# cfgctl' \"$1\" > {log}.$n\n"
        "case $n in\n"
        "  1) printf 'db:\\n  password: [unclosed\\n' > \"$1\";;\n"
        "  2) sed -i 's/password: .*/password: short/' \"$1\";;\n"
        f"  3) sed -i 's/password: short/password: {OTHER}/' \"$1\";;\n"
        "esac\n",
    )
    monkeypatch.setenv("EDITOR", str(editor))
    result = run_cli("secrets", "edit", FILE, cwd=cwd)
    assert result.exit_code == 0, result.output
    assert count.read_text().strip() == "3"
    assert (tmp_path / "header.1").read_text() == ""
    second, third = (tmp_path / "header.2").read_text(), (tmp_path / "header.3").read_text()
    assert f"# cfgctl: the file was not saved: {FILE}:3:1: invalid YAML" in second
    assert "save it unchanged, or empty it, to give up" in second
    assert "the new secrets fail validation" in third and "minLength" in third
    assert "short" not in third.replace("shortest", "")
    assert sops_decrypt(cwd / FILE, alice) == {"db": {"password": OTHER}}
    plain = subprocess.run(
        [sops.sops_path(), "-d", str(cwd / FILE)],
        capture_output=True,
        env={**os.environ, "SOPS_AGE_KEY_FILE": str(alice.file)},
        check=False,
    ).stdout
    assert b"cfgctl" not in plain  # the comment at the top is not saved
    assert folders_of(os.getpid()) == []
    no_leak(result)


@pytest.mark.parametrize("give_up", ["true", ': > "$1"'], ids=["unchanged", "empty"])
def test_giving_up_on_an_invalid_edit_changes_nothing(
    give_up: str,
    secret_repo: ConfigRepo,
    run_cli: RunCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cwd = secret_repo.workdir
    set_secret(run_cli, secret_repo, PASSWORD)
    before = (cwd / FILE).read_bytes()
    count = tmp_path / "count"
    editor = script(
        tmp_path / "editor.sh",
        f"n=$(($(cat {count} 2>/dev/null || echo 0) + 1)); echo $n > {count}\n"
        f"if [ $n = 1 ]; then printf 'db: [\\n' > \"$1\"; else {give_up}; fi\n",
    )
    monkeypatch.setenv("EDITOR", str(editor))
    result = run_cli("secrets", "edit", FILE, cwd=cwd)
    assert result.exit_code == 1, result.output
    assert f"edit abandoned: {FILE} is unchanged" in result.stderr
    assert count.read_text().strip() == "2"
    assert (cwd / FILE).read_bytes() == before and folders_of(os.getpid()) == []
    no_leak(result)


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_editor_and_removes_the_plaintext(
    signum: signal.Signals, secret_repo: ConfigRepo, alice: Key, tmp_path: Path, run_cli: RunCli
) -> None:
    cwd = secret_repo.workdir
    set_secret(run_cli, secret_repo, PASSWORD)
    before = (cwd / FILE).read_bytes()
    pidfile = tmp_path / "editor.pid"
    editor = script(
        tmp_path / "slow-editor.sh",
        f"echo $$ > {pidfile}.new\nmv {pidfile}.new {pidfile}\nexec sleep 60\n",
    )
    env = {**os.environ, "EDITOR": str(editor), "SOPS_AGE_KEY_FILE": str(alice.file)}
    cfgctl = str(Path(sys.executable).parent / "cfgctl")
    proc = subprocess.Popen(
        [cfgctl, "secrets", "edit", FILE],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(pidfile.exists)
        editor_pid = int(pidfile.read_text())
        (folder,) = folders_of(proc.pid)  # the plaintext exists while the editor runs...
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert PASSWORD.encode() in (folder / "payments.secrets.yaml").read_bytes()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert not folder.exists() and folders_of(proc.pid) == []  # ...and is gone after it
    wait_for(lambda: not alive(editor_pid), timeout=10)  # the editor ended with cfgctl
    assert (cwd / FILE).read_bytes() == before
    assert PASSWORD.encode() not in out + err


def test_stale_folders_of_dead_processes_are_removed(
    secret_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd = secret_repo.workdir
    set_secret(run_cli, secret_repo, PASSWORD)
    dead = subprocess.Popen(["true"])
    dead.wait()
    living = subprocess.Popen(["sleep", "60"])
    base = edit_folder_base()
    stale = base / f"{PREFIX}{dead.pid}-test"
    busy = base / f"{PREFIX}{living.pid}-test"
    try:
        for folder in (stale, busy):
            folder.mkdir(mode=0o700)
            (folder / "payments.secrets.yaml").write_text("db:\n  password: left-behind\n")
        monkeypatch.setenv("EDITOR", str(script(tmp_path / "editor.sh", "true\n")))
        result = run_cli("secrets", "edit", FILE, cwd=cwd)
        assert result.exit_code == 0, result.output
        assert "unchanged" in result.stdout
        assert not stale.exists()  # its process is gone: removed
        assert busy.exists()  # another edit still running: kept
    finally:
        living.kill()
        living.wait()
        for folder in (stale, busy):
            for f in folder.glob("*"):
                f.unlink()
            if folder.exists():
                folder.rmdir()
