from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cfgctl.cli.app import app
from cfgctl.cli.state import STATE
from cfgctl.repo.builtin import TEMPLATES
from tests.support.gitrepo import ConfigRepo


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


@pytest.fixture(scope="session", autouse=True)
def _no_secret_in_any_output() -> Iterator[None]:
    yield
    leaks = [
        (args, v)
        for args, text in OUTPUTS
        for v in SECRET_VALUES
        if v in text and "--reveal" not in args
    ]
    assert not leaks, f"secret values printed by: {[' '.join(a) for a, _ in leaks][:5]}"


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(home / "no-such-key.txt"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    monkeypatch.delenv("CFGCTL_NO_CACHE", raising=False)
    (home / ".gitconfig").write_text("[user]\n\tname = Test\n\temail = test@example.com\n")


@pytest.fixture
def run_cli() -> RunCli:
    """Drive the real CLI in-process; stdout and stderr apart."""

    def run(*args: str, cwd: Path | None = None, input: str | None = None) -> Result:
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

    return run


@pytest.fixture
def example_repo(tmp_path: Path) -> ConfigRepo:
    """The example repository `cfgctl init` creates, committed."""
    return ConfigRepo.from_template(tmp_path / "cfg", TEMPLATES / "default")


MANIFEST = """\
version: 1
environments:
  base: {}
  staging: {inherits: base}
  prod: {inherits: base}
services:
  payments: {schema: svc}
"""

SCHEMA = """\
{
  "type": "object",
  "required": ["port"],
  "additionalProperties": false,
  "properties": {
    "port": {"type": "integer", "minimum": 1},
    "host": {"type": "string"},
    "db": {"type": "object", "properties": {"password": {"type": "string", "x-cfgctl-secret": true},
                                             "pool": {"type": "integer"}}},
    "tags": {"type": "array", "items": {"type": "string"}}
  }
}
"""


@pytest.fixture
def small_repo(tmp_path: Path) -> ConfigRepo:
    repo = ConfigRepo.init(tmp_path / "small")
    repo.commit(
        {
            "cfgctl.yaml": MANIFEST,
            "schemas/svc.schema.json": SCHEMA,
            "config/base/_defaults.yaml": "port: 8080\nhost: base.internal\n",
            "config/prod/payments.yaml": "# prod\nhost: prod.internal  # the prod host\n",
        },
        "init",
    )
    return repo
