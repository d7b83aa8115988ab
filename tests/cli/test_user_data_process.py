"""Values, keys and names are printed as written on every path that prints user data (errors,
diagnostics, diff, explain, history, pr plan, usage errors): rich's emoji codes and markup are
off everywhere. A real process, as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gitrepo import ConfigRepo

pytestmark = pytest.mark.slow  # the console script as a real process

CFGCTL = str(Path(sys.executable).parent / "cfgctl")
OLD = "a :ok: user:x:1000 [red]r[/red] [bold]b"
NEW = "c :x: [link=http://x]l[/link] :thumbs_up: [/]"
EMOJI = ("\u2705", "\u274c", "\U0001f44d")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "300"}
    return subprocess.run(
        [CFGCTL, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=60, check=False
    )


def assert_verbatim(proc: subprocess.CompletedProcess[str], *texts: str) -> None:
    output = proc.stdout + proc.stderr
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)  # colour codes apart, the text intact
    for text in texts:
        assert text in plain, (text, output)
    assert not any(e in output for e in EMOJI), output


def test_every_printer_shows_user_data_as_written(small_repo: ConfigRepo) -> None:
    cwd = small_repo.workdir
    small_repo.commit({"config/prod/payments.yaml": f"host: '{OLD}'\n"}, "old")
    small_repo.commit({"config/prod/payments.yaml": f"host: '{NEW}'\n"}, "new")

    assert_verbatim(run("explain", "payments", "host", "--env", "prod", cwd=cwd), NEW)
    assert_verbatim(run("get", "payments", "host", "--env", "prod", cwd=cwd), NEW)
    assert_verbatim(run("diff", "HEAD~1", "HEAD", cwd=cwd), OLD, NEW)
    assert_verbatim(run("diff", "HEAD~1", "HEAD", "--format", "markdown", cwd=cwd), OLD, NEW)
    assert_verbatim(run("history", "payments", "host", "--env", "prod", cwd=cwd), OLD, NEW)
    plan = run("pr", "plan", "--base", "HEAD~1", "--head", "HEAD", cwd=cwd)
    assert plan.returncode == 0, plan.stderr
    assert_verbatim(plan, "host")

    # errors and diagnostics that repeat what the user wrote
    assert_verbatim(run("render", "[red]pay:ok:", "--env", "prod", cwd=cwd), "[red]pay:ok:")
    assert_verbatim(run("get", "payments", "h:ok:[b]", "--env", "prod", cwd=cwd), "h:ok:[b]")
    assert_verbatim(run("render", "payments", "--env", ":x:[b]", cwd=cwd), ":x:[b]")
    assert_verbatim(
        run("render", "payments", "--env", "prod", "--format", ":x:[b]", cwd=cwd), ":x:[b]"
    )
    small_repo.write({"config/prod/payments.yaml": "host: x\nport: ':ok: [red]1'\n"})
    assert_verbatim(run("validate", cwd=cwd), ":ok: [red]1")
    refused = run("set", "payments", "port", ":x: [b]", "--string", "--env", "prod", cwd=cwd)
    assert refused.returncode == 1
    assert_verbatim(refused, ":x: [b]")
