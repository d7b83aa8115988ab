"""The lists and schemas of API v1, in-process: pages, ETags, revisions, problems."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from tests.support.gitrepo import ConfigRepo
from tests.support.server import served


def test_services_walk_every_page_by_cursor_and_link(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        first = client.get("/api/v1/services", params={"limit": 1})
        assert first.status_code == 200
        assert first.json()["items"] == [
            {"name": "payments", "schema": "web-service", "owners": ["@acme/payments"]}
        ]
        cursor = first.json()["next_cursor"]
        link = first.headers["link"]
        assert link.endswith('>; rel="next"')
        query = parse_qs(urlsplit(link[1 : link.index(">")]).query)
        assert query == {"limit": ["1"], "cursor": [cursor]}
        second = client.get("/api/v1/services", params={"limit": 1, "cursor": cursor})
        assert [s["name"] for s in second.json()["items"]] == ["search"]
        assert second.json()["next_cursor"] is None
        assert "link" not in second.headers
        whole = client.get("/api/v1/services").json()
        assert [s["name"] for s in whole["items"]] == ["payments", "search"]


def test_bad_paging_parameters_are_400_problems(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        for params in ({"limit": 0}, {"limit": 5000}, {"limit": "many"}, {"cursor": "%%%"}):
            answer = client.get("/api/v1/services", params=params)
            assert answer.status_code == 400, params
            assert answer.headers["content-type"] == "application/problem+json"
            doc = answer.json()
            assert doc["type"] == "urn:cfgctl:problem:bad-request"
            assert doc["exit_code"] == 2
            assert "Traceback" not in answer.text


def test_environments_schemas_and_templates(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        envs = {e["name"]: e for e in client.get("/api/v1/environments").json()["items"]}
        assert envs["prod-eu"] == {
            "name": "prod-eu",
            "inherits": "prod",
            "protected": False,
            "abstract": False,
        }
        assert envs["prod"]["protected"] is True
        schemas = {s["name"]: s for s in client.get("/api/v1/schemas").json()["items"]}
        assert schemas["web-service"]["versions"] == [1, 2]
        assert schemas["web-service"]["services"] == {"1": ["search"], "2": ["payments"]}
        templates = client.get("/api/v1/templates").json()["items"]
        assert [t["name"] for t in templates] == ["web-service"]
        assert {p["name"] for p in templates[0]["parameters"]} >= {"port", "replicas"}


def test_one_schema_by_version_and_the_newest(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        newest = client.get("/api/v1/schemas/web-service").json()
        assert (newest["version"], newest["file"]) == (2, "schemas/web-service.v2.schema.json")
        first = client.get("/api/v1/schemas/web-service", params={"version": 1}).json()
        assert first["file"] == "schemas/web-service.schema.json"
        assert first["schema"]["title"] == "web-service, version 1"
        missing = client.get("/api/v1/schemas/web-service", params={"version": 9})
        assert missing.status_code == 404
        assert "has no version 9" in missing.json()["detail"]
        typo = client.get("/api/v1/schemas/web-servce")
        assert typo.status_code == 404
        assert "did you mean 'web-service'" in typo.json()["hint"]


def test_lists_at_a_revision_and_their_etags(example_repo: ConfigRepo) -> None:
    before = str(example_repo.repo.head.target)
    manifest = example_repo.read("cfgctl.yaml")
    added = manifest.replace("services:\n", "services:\n  audit: {schema: web-service}\n", 1)
    after = example_repo.commit({"cfgctl.yaml": added}, "add audit")
    with served(example_repo.workdir) as client:
        now = client.get("/api/v1/services")
        assert now.headers["cfgctl-commit"] == after
        assert [s["name"] for s in now.json()["items"]] == ["audit", "payments", "search"]
        old = client.get("/api/v1/services", params={"rev": "HEAD~1"})
        assert old.headers["cfgctl-commit"] == before
        assert [s["name"] for s in old.json()["items"]] == ["payments", "search"]
        assert old.headers["etag"] != now.headers["etag"]
        again = client.get("/api/v1/services", headers={"If-None-Match": now.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == now.headers["etag"]
        unknown = client.get("/api/v1/environments", params={"rev": "no-such-branch"})
        assert unknown.status_code == 404
        assert unknown.json()["detail"] == "unknown revision 'no-such-branch'"


def test_status_and_unknown_paths(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        status = client.get("/api/v1/status").json()
        assert status["branch"] == "main"
        assert status["head"] == str(example_repo.repo.head.target)
        # /payments/prod is Spring Cloud Config's path now (compat.py): four segments are nothing
        for path in ("/api/v1/nothing", "/payments/prod/main/x", "/api/v1/config/payments"):
            answer = client.get(path)
            assert answer.status_code == 404
            assert answer.json()["type"] == "urn:cfgctl:problem:not-found"
        assert client.delete("/api/v1/services").status_code == 405  # POST: a new service
