"""The console script as a user runs it: a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitrepo import ConfigRepo

pytestmark = pytest.mark.slow  # the console script as a real process

CFGCTL = str(Path(sys.executable).parent / "cfgctl")


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [CFGCTL, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


def test_errors_are_one_line_without_traceback(small_repo: ConfigRepo) -> None:
    small_repo.write({"config/prod/payments.yaml": "port: [\n"})
    for args, code in (
        (["render", "payments", "--env", "prod"], 2),
        (["validate"], 1),
        (["get", "payments", "port", "--env", "nope"], 2),
        (["render"], 2),
        (["validate", "--format", "yaml"], 2),
    ):
        proc = run(*args, cwd=small_repo.workdir)
        assert proc.returncode == code, (args, proc.stderr)
        assert "Traceback" not in proc.stderr


def test_no_color_and_pipes_have_no_escape_codes(small_repo: ConfigRepo) -> None:
    small_repo.write({"config/prod/payments.yaml": 'port: "[red]x[/red]"\n'})
    proc = run("validate", cwd=small_repo.workdir, env={"NO_COLOR": "1", "FORCE_COLOR": ""})
    assert proc.returncode == 1
    assert "\x1b[" not in proc.stderr + proc.stdout
    assert "[red]x[/red]" in proc.stderr  # user data printed as text, not as markup


def test_json_logs(small_repo: ConfigRepo) -> None:
    proc = run("-v", "--log-format", "json", "validate", cwd=small_repo.workdir)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "message"} <= set(entry) for entry in lines)


def test_user_data_is_printed_as_written(small_repo: ConfigRepo) -> None:
    """No rich markup and no emoji codes in values: `:x:` and `[red]` stay text."""
    small_repo.write({"config/prod/payments.yaml": "port: 8080\nhost: 'warn :x: [red]x[/red]'\n"})
    shown = run("explain", "payments", "host", "--env", "prod", cwd=small_repo.workdir)
    assert shown.returncode == 0, shown.stderr
    assert "warn :x: [red]x[/red]" in shown.stdout
    assert "\u274c" not in shown.stdout


def test_a_reader_that_goes_away_is_exit_141(small_repo: ConfigRepo) -> None:
    """`cfgctl explain ... | head -0`: the pipe's reader is gone before the first write."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [CFGCTL, "explain", "payments", "port", "--env", "prod"],
            cwd=small_repo.workdir,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert "Traceback" not in proc.stderr
