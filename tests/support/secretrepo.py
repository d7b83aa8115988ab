"""Real age keys (pyrage) and the real sops binary, on a copy of the example repository."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyrage

from tests.support.cli import SECRET_VALUES, RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.repos import make_example_repo


@dataclass
class Key:
    file: Path
    recipient: str


def make_key(folder: Path, name: str) -> Key:
    identity = pyrage.x25519.Identity.generate()
    path = folder / f"{name}.txt"
    path.write_text(f"{identity}\n")
    path.chmod(0o600)
    return Key(path, str(identity.to_public()))


def make_secret_repo(path: Path, key: Key) -> ConfigRepo:
    """The example repository with .sops.yaml rules giving prod's secrets to `key`, and a second
    secret key (user_token) in the web-service schema."""
    repo = make_example_repo(path)
    sops_yaml = (
        "# who can read the secrets of each environment\n"
        "creation_rules:\n"
        f"  - path_regex: ^config/prod/[^/]+\\.secrets\\.yaml$\n    age: {key.recipient}\n"
        f"  - path_regex: ^config/prod-eu/[^/]+\\.secrets\\.yaml$\n    age: {key.recipient}\n"
    )
    schema = (repo.workdir / "schemas/web-service.v2.schema.json").read_text()
    token = '"user_token": {"type": "string", "x-cfgctl-secret": true},\n        "password"'
    repo.commit(
        {
            ".sops.yaml": sops_yaml,
            "schemas/web-service.v2.schema.json": schema.replace('"password"', token, 1),
        },
        "sops rules",
    )
    return repo


def set_secret(run_cli: RunCli, repo: ConfigRepo, value: str, key: str = "db.password") -> None:
    """`cfgctl secrets set payments KEY --env prod` with `value` on stdin; the value joins the
    session's leak check."""
    SECRET_VALUES.add(value)
    args = ("secrets", "set", "payments", key, "--env", "prod")
    result = run_cli(*args, input=value, cwd=repo.workdir)
    assert result.exit_code == 0, result.output
