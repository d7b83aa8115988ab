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
