"""main() and the error boundary: one line and an exit code for every way a command can end."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from cfgctl.cli.app import main
from cfgctl.cli.commands import validate as validate_command
from cfgctl.cli.state import STATE
from cfgctl.errors import InputError
from tests.support.gitrepo import ConfigRepo


def _fails_with(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(validate_command, "run_validation", boom)


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (InputError("bad flag", hint="try another"), 2, "error: bad flag"),
        (OSError(errno.ENOSPC, "No space left on device", "x.yaml"), 3, "(x.yaml)"),
        (KeyboardInterrupt(), 130, ""),  # typer turns ^C into exit 130 without a word
        (ZeroDivisionError("oops"), 70, "internal error: ZeroDivisionError: oops"),
    ],
)
def test_each_failure_is_one_line_and_its_exit_code(
    small_repo: ConfigRepo,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: int,
    line: str,
) -> None:
    _fails_with(monkeypatch, exc)
    with pytest.raises(SystemExit) as exit_info:
        main(["-C", str(small_repo.workdir), "validate"])
    STATE.repo = None
    assert exit_info.value.code == code
    stderr = capsys.readouterr().err
    assert line in stderr
    assert "Traceback" not in stderr


def test_main_answers_version_without_the_application(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", [str(Path("/usr/bin/cfgctl"))])
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith("cfgctl ")
