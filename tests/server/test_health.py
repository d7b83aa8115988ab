"""`GET /api/v1/health` (no token: a probe's) and the 500 answer of a bug (its request id)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from cfgctl.server.security import Anonymous, NoAudit, Security, Subject
from tests.support.gitrepo import ConfigRepo
from tests.support.guarded import Guarded
from tests.support.server import served

HEALTH = "/api/v1/health"


def _until(client: TestClient, status: int) -> None:
    deadline = time.monotonic() + 10
    while client.get(HEALTH).status_code != status:
        assert time.monotonic() < deadline, f"health never answered {status}"
        time.sleep(0.02)


def test_health_needs_no_token_and_tells_nothing_else(guarded: Guarded) -> None:
    answer = guarded.get(HEALTH)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "ok"}
    assert answer.headers["cache-control"] == "no-store"
    assert guarded.get("/api/v1/status").status_code == 401  # the rest still needs one
    assert guarded.audit() == [] or all(line["object"] != HEALTH for line in guarded.audit())


def test_health_is_503_while_the_branch_is_gone(example_repo: ConfigRepo) -> None:
    repo = example_repo.repo
    branch = repo.head.shorthand
    head = repo.head.target
    with served(example_repo.workdir, poll_interval=0.01) as client:
        _until(client, 200)
        repo.references.delete(f"refs/heads/{branch}")
        _until(client, 503)
        doc = client.get(HEALTH).json()
        assert doc["type"] == "urn:cfgctl:problem:environment"
        assert "cannot be read" in doc["detail"]
        # The last head is still served meanwhile.
        assert client.get("/api/v1/config/payments/prod").status_code == 200
        repo.references.create(f"refs/heads/{branch}", head)
        _until(client, 200)


class Broken:
    """A policy with a bug: every question raises."""

    def allows(self, subject: Subject, action: str, obj: str) -> bool:
        raise RuntimeError("policy exploded 7f3")


def test_a_bug_is_a_500_problem_with_its_request_id(example_repo: ConfigRepo) -> None:
    security = Security(Anonymous(), Broken(), NoAudit())
    with served(example_repo.workdir, security=security) as client:
        answer = client.get("/api/v1/services")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    rid = answer.headers["x-request-id"]
    doc = answer.json()
    assert doc["type"] == "urn:cfgctl:problem:internal" and doc["request_id"] == rid
    assert rid in doc["hint"] and "exploded" not in answer.text  # the exception's text stays inside


def test_a_405_names_every_method_of_the_path(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        answers = {
            path: client.request("DELETE", path)
            for path in (
                "/api/v1/overview",
                "/api/v1/config/payments/prod",
                "/api/v1/changes",
                "/api/v1/reverts",
                "/payments/prod",
            )
        }
    allowed = {path: answer.headers["allow"] for path, answer in answers.items()}
    assert {a.status_code for a in answers.values()} == {405}
    assert allowed == {
        "/api/v1/overview": "GET",
        "/api/v1/config/payments/prod": "GET, PATCH",
        "/api/v1/changes": "GET, POST",
        "/api/v1/reverts": "POST",  # not the Spring fallback's GET of /{app}/{profile}/{label}
        "/payments/prod": "GET",  # which answers outside /api/
    }
