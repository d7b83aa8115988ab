"""POST /api/v1/services: a new service from a template becomes a change request (never a
moved branch), its parameters checked as `cfgctl new service` checks them, each bad one a 422
naming it; access asked on every pair of the new service."""

from __future__ import annotations

from typing import Any

import pygit2
from fastapi.testclient import TestClient

from cfgctl.server.security import NoAudit, Security, Subject
from tests.support.cli import run_cli
from tests.support.gitrepo import ConfigRepo
from tests.support.server import served
from tests.support.writeserver import HeaderUser, writers

SERVICES = "/api/v1/services"


def _create(client: TestClient, body: Any, user: str = "alice") -> Any:
    return client.post(SERVICES, json=body, headers={"X-User": user})


def _blob(repo: ConfigRepo, commit: str, path: str) -> str:
    tree = repo.repo[pygit2.Oid(hex=commit)].peel(pygit2.Commit).tree
    return repo.repo[tree[path].id].peel(pygit2.Blob).data.decode()


def test_a_service_from_a_template_is_a_change_request(example_repo: ConfigRepo) -> None:
    tip = str(example_repo.repo.head.target)
    body = {
        "template": "web-service",
        "service": "billing",
        "params": {"port": 9000, "owners": "@acme/billing"},
    }
    with served(example_repo.workdir, security=writers()) as client:
        answer = _create(client, body)
        again = client.get(answer.headers["location"])
    assert answer.status_code == 202, answer.text
    doc = answer.json()
    assert doc["title"] == "new service billing from template web-service"
    assert (doc["author"], doc["state"]) == ("alice", "open")
    assert again.json()["id"] == doc["id"]
    assert str(example_repo.repo.references["refs/heads/main"].target) == tip  # never moved
    assert not (example_repo.workdir / "config/base/billing.yaml").exists()
    impact = {(p["service"], p["env"]) for p in doc["plan"]["impact"]}
    assert ("billing", "prod") in impact
    manifest = _blob(example_repo, doc["head"], "cfgctl.yaml")
    assert "billing:" in manifest and "port: 9000" in manifest and "replicas: 2" in manifest
    assert "# cfgctl manifest" in manifest
    assert "9000" in _blob(example_repo, doc["head"], "config/base/billing.yaml")


def test_the_same_files_as_the_cli(example_repo: ConfigRepo, tmp_path: Any) -> None:
    """The change request's commit holds what `cfgctl new service` writes."""
    params = {"port": 9001, "replicas": 3, "owners": "@acme/x"}
    with served(example_repo.workdir, security=writers()) as client:
        doc = _create(client, {"template": "web-service", "service": "x1", "params": params})
    head = doc.json()["head"]
    made = run_cli("-C", str(example_repo.workdir), "new", "service", "x1", "--template",
                   "web-service", "--set", "port=9001", "--set", "replicas=3",
                   "--set", "owners=@acme/x")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    for path in ("cfgctl.yaml", "config/base/x1.yaml", "config/prod/x1.yaml"):
        assert _blob(example_repo, head, path) == (example_repo.workdir / path).read_text(), path


def test_bad_parameters_are_422_naming_the_parameter(example_repo: ConfigRepo) -> None:
    tip = str(example_repo.repo.head.target)
    base = {"template": "web-service", "service": "billing"}
    cases = [
        ({"port": 0, "owners": "@a"}, "port"),
        ({"port": "eighty", "owners": "@a"}, "port"),
        ({"owners": "acme"}, "owners"),  # breaks its pattern
        ({}, "owners"),  # required, no default
        ({"owners": "@a", "colour": "red"}, "colour"),  # unknown
    ]
    with served(example_repo.workdir, security=writers()) as client:
        answers = [(_create(client, {**base, "params": p}), name) for p, name in cases]
        taken = _create(client, {**base, "service": "payments", "params": {"owners": "@a"}})
        malformed = _create(client, {**base, "service": "Bad Name", "params": {"owners": "@a"}})
        unknown = _create(client, {**base, "template": "web-servic", "params": {}})
        shape = _create(client, {"template": "web-service"})
        listed = client.get("/api/v1/changes").json()["items"]
    for answer, name in answers:
        assert answer.status_code == 422, answer.text
        problem = answer.json()
        assert problem["type"] == "urn:cfgctl:problem:invalid-parameter"
        assert problem["parameter"] == name, problem
        assert name in problem["detail"]
    assert "colour" in answers[-1][0].json()["detail"]
    for answer in (taken, malformed):
        assert (answer.status_code, answer.json()["parameter"]) == (422, "service")
    assert "already exists" in taken.json()["detail"]
    assert unknown.status_code == 404 and "web-service" in unknown.json()["hint"]
    assert shape.status_code == 400
    assert listed == []  # nothing opened
    assert str(example_repo.repo.references["refs/heads/main"].target) == tip


class _EditStaging:
    """Everyone may read; edit only in staging (as a scoped editor)."""

    def allows(self, subject: Subject, action: str, obj: str) -> bool:
        return action == "read" or (action == "edit" and obj.endswith("@staging"))


def test_edit_is_needed_on_every_pair_of_the_new_service(example_repo: ConfigRepo) -> None:
    security = Security(HeaderUser(), _EditStaging(), NoAudit())
    body = {"template": "web-service", "service": "billing", "params": {"owners": "@a"}}
    with served(example_repo.workdir, security=security) as client:
        refused = _create(client, body)
        listed = client.get("/api/v1/changes").json()["items"]
    assert refused.status_code == 403, refused.text
    assert refused.json()["action"] == "edit"
    assert refused.json()["object"].startswith("config:billing@")
    assert listed == []


def test_a_broken_template_is_the_repositorys_problem(example_repo: ConfigRepo) -> None:
    example_repo.commit(
        {
            "templates/lost/template.yaml": "schema: no-such-schema\nparameters: {}\n",
            "templates/lost/files/config/base/{{ name }}.yaml": "port: 1\n",
            "templates/typo/template.yaml": "schema: web-service\nparameters: {}\n",
            "templates/typo/files/config/base/{{ name }}.yaml": "port: {{ prot }}\n",
        },
        "two broken templates",
    )
    with served(example_repo.workdir, security=writers()) as client:
        lost = _create(client, {"template": "lost", "service": "billing"})
        typo = _create(client, {"template": "typo", "service": "billing"})
    for answer in (lost, typo):
        assert answer.status_code == 422, answer.text
        assert answer.json()["type"] == "urn:cfgctl:problem:invalid-repository", answer.text
    assert "no-such-schema" in lost.json()["detail"]
    assert "prot" in typo.json()["detail"]
    assert typo.json()["location"]["path"] == "templates/typo/files/config/base/{{ name }}.yaml"
