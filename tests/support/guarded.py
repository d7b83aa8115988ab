"""A served secret repository behind real API tokens, rbac.yaml and the audit log: the
`guarded` fixture of the server tests (registered in tests/server/conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from cfgctl.server.app import create_app
from cfgctl.server.settings import ServerSettings
from cfgctl.server.tokens import TokenStore
from tests.support.cli import SECRET_VALUES, RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.rbac import RULES
from tests.support.secretrepo import set_secret

VALUE = "s3cr3t-guarded-71ab"
PROD = "/api/v1/config/payments/prod"
STAGING = "/api/v1/config/payments/staging"


@dataclass
class Guarded:
    client: TestClient
    store: TokenStore
    state: Path
    repo: ConfigRepo
    answers: list[Response]

    def token(self, subject: str, role: str, *scopes: str, **kw: object) -> str:
        return self.store.create(subject, role, list(scopes), timedelta(days=1), **kw)[1]  # type: ignore[arg-type]

    def get(self, path: str, token: str | None = None, **params: str) -> Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        answer = self.client.get(path, headers=headers, params=params)
        self.answers.append(answer)
        return answer

    def audit(self) -> list[dict[str, object]]:
        path = self.state / "audit.jsonl"
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def guarded(secret_repo: ConfigRepo, run_cli: RunCli, tmp_path: Path) -> Iterator[Guarded]:
    """The secret repository with rbac.yaml and a committed secret, served with tokens."""
    set_secret(run_cli, secret_repo, VALUE)
    secret_repo.commit({"rbac.yaml": RULES}, "rbac and a secret", add_all=True)
    state = tmp_path / "state"
    app = create_app(ServerSettings(repo=secret_repo.workdir, state_dir=state))
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as client:
        found = Guarded(client, TokenStore.open(state), state, secret_repo, [])
        yield found
    for answer in found.answers:  # only an allowed reveal shows a value
        shown = answer.status_code == 200 and "reveal=true" in str(answer.request.url)
        assert shown or not any(v in answer.text for v in SECRET_VALUES), answer.request.url
    log = state / "audit.jsonl"
    text = log.read_text() if log.is_file() else ""
    assert "cfgctl_" not in text, "a token in the audit log"
    assert not any(v in text for v in SECRET_VALUES), "a secret value in the audit log"
