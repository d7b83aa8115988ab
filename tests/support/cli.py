"""The real CLI driven in-process (check-jsonschema's `run_line`), stdout and stderr apart, and
the session's record of every output, so that no secret value is ever printed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from cfgctl.cli.app import app
from cfgctl.cli.state import STATE


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


RunCli = Callable[..., Result]

# Secret values the tests use, and every output of the CLI in this test session: at the end of
# the session, no output may hold any of them (stdout, stderr, logs, diffs, errors).
SECRET_VALUES: set[str] = set()
OUTPUTS: list[tuple[tuple[str, ...], str]] = []


def run_cli(*args: str, cwd: Path | None = None, input: str | None = None) -> Result:
    """`cfgctl ARGS` in this process, from `cwd`; its output joins the session's leak check."""
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
    finally:
        os.chdir(old)
        STATE.repo = None
        STATE.use_cache = True
        STATE.verbose = 0
    out = Result(result.exit_code, result.stdout, result.stderr)
    if args[:2] != ("secrets", "decrypt"):  # decrypt prints plaintext by design
        OUTPUTS.append((tuple(args), out.output))
    return out


def run_with_env(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`run_cli(*args)` with `env` added to the environment, as a process started with it would
    see it, and the environment put back afterwards whatever the command changed in it (the
    agent points SOPS_AGE_KEY_FILE at its key); the result as `subprocess.run` gives it."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        result = run_cli(*args)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(
        ["cfgctl", *args], result.exit_code, result.stdout, result.stderr
    )


def leaked_secrets() -> list[tuple[tuple[str, ...], str]]:
    """(command, value) for every output so far that holds a secret value."""
    return [
        (args, v)
        for args, text in OUTPUTS
        for v in SECRET_VALUES
        if v in text and "--reveal" not in args
    ]
