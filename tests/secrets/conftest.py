"""Real age keys (pyrage) and the real sops binary, on a copy of the example repository."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyrage
import pytest

from cfgctl.repo.builtin import TEMPLATES
from tests.support.gitrepo import ConfigRepo


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


@pytest.fixture
def alice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Key:
    key = make_key(tmp_path, "alice")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key.file))
    return key


@pytest.fixture
def bob(tmp_path: Path) -> Key:
    return make_key(tmp_path, "bob")


@pytest.fixture
def secret_repo(tmp_path: Path, alice: Key) -> ConfigRepo:
    repo = ConfigRepo.from_template(tmp_path / "cfg", TEMPLATES / "default")
    sops_yaml = (
        "# who can read the secrets of each environment\n"
        "creation_rules:\n"
        f"  - path_regex: ^config/prod/[^/]+\\.secrets\\.yaml$\n    age: {alice.recipient}\n"
        f"  - path_regex: ^config/prod-eu/[^/]+\\.secrets\\.yaml$\n    age: {alice.recipient}\n"
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


def set_secret(run_cli: Any, repo: ConfigRepo, value: str, key: str = "db.password") -> None:
    """`cfgctl secrets set payments KEY --env prod` with `value` on stdin; the value joins the
    session's leak check."""
    from tests.conftest import SECRET_VALUES

    SECRET_VALUES.add(value)
    args = ("secrets", "set", "payments", key, "--env", "prod")
    result = run_cli(*args, input=value, cwd=repo.workdir)
    assert result.exit_code == 0, result.output
