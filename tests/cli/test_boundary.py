"""main() and the error boundary: one line and an exit code for every way a command can end."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pygit2
import pytest

from cfgctl.cli.app import main
from cfgctl.cli.state import STATE
from tests.support.gitrepo import ConfigRepo

CFGCTL = shutil.which("cfgctl", path=str(Path(sys.executable).parent)) or "cfgctl"


def test_bad_input_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["-C", "/nonexistent/config-repo", "validate"])
    STATE.repo = None
    assert exit_info.value.code == 2
    stderr = capsys.readouterr().err
    assert "error:" in stderr and "Traceback" not in stderr


def test_a_full_disk_is_the_environment_exit_3(small_repo: ConfigRepo) -> None:
    """A real ENOSPC: the report goes to /dev/full."""
    for argv in (
        [CFGCTL, "-C", str(small_repo.workdir), "render", "payments", "--env", "prod"],
        [CFGCTL, "--version"],
        [sys.executable, "-m", "cfgctl", "--version"],  # the full application's --version
    ):
        with Path("/dev/full").open("w") as full:
            proc = subprocess.run(
                argv, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, check=False
            )
        assert proc.returncode == 3, (argv, proc.stderr)
        assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr


def test_a_closed_stdout_is_exit_3_not_a_traceback() -> None:
    proc = subprocess.run(
        [CFGCTL, "--version"],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: os.close(1),  # in the child only, before exec
    )
    assert proc.returncode == 3, proc.stderr
    assert "cannot write the output" in proc.stderr and "Traceback" not in proc.stderr


def test_a_bug_in_a_dependency_is_exit_70_with_one_line(
    small_repo: ConfigRepo, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only bugs reach main()'s last resort: here pygit2 fails in a way cfgctl does not expect."""

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("oops")

    monkeypatch.setattr(pygit2, "discover_repository", broken)
    with pytest.raises(SystemExit) as exit_info:
        main(["-C", str(small_repo.workdir), "validate"])
    STATE.repo = None
    assert exit_info.value.code == 70
    stderr = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: oops" in stderr and "Traceback" not in stderr


def test_main_answers_version_without_the_application(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", [str(Path("/usr/bin/cfgctl"))])
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("cfgctl ")
