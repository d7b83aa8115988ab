"""The OpenAPI document of API v1: valid, everything under /api/v1/, errors as problems."""

from __future__ import annotations

from openapi_spec_validator import validate

from cfgctl.server.compat import FILE_TYPES as SPRING_FILES
from tests.support.gitrepo import ConfigRepo
from tests.support.server import served


def test_the_openapi_document_validates_and_describes_every_route(
    example_repo: ConfigRepo,
) -> None:
    with served(example_repo.workdir) as client:
        doc = client.get("/api/v1/openapi.json").json()
        page = client.get("/api/v1/docs")
    validate(doc)
    assert page.status_code == 200
    assert "/api/v1/openapi.json" in page.text
    assert doc["info"]["title"] == "cfgctl"
    assert set(doc["paths"]) == {
        "/api/v1/status",
        "/api/v1/health",
        "/api/v1/services",
        "/api/v1/environments",
        "/api/v1/schemas",
        "/api/v1/schemas/{name}",
        "/api/v1/templates",
        "/api/v1/config/{service}/{env}",
        "/api/v1/authz/check",
        "/api/v1/diff",
        "/api/v1/history/{service}/{env}",
        "/api/v1/explain/{service}/{env}",
        "/api/v1/validate",
        "/api/v1/plan",
        "/api/v1/agents",
        "/api/v1/agents/{agent}/report",
        "/api/v1/rollouts/{commit}",
        "/api/v1/changes",
        "/api/v1/changes/{number}",
        "/api/v1/changes/{number}/approve",
        "/api/v1/changes/{number}/request-changes",
        "/api/v1/changes/{number}/reject",
        "/api/v1/changes/{number}/merge",
        "/api/v1/changes/{number}/impact",
        "/api/v1/commits/{service}/{env}",
        "/api/v1/reverts",
        "/api/v1/secrets/{service}/{env}/{key}",
        "/api/v1/hooks/git",  # remote mode's webhook (404 otherwise)
        "/api/v1/whoami",
        "/api/v1/overview",
        "/api/v1/compare",
        "/api/v1/promotions",
        "/api/v1/analytics/{service}/{env}",
        # Spring Cloud Config's paths, at the root
        "/{application}/{profile}",
        "/{application}/{profile}/{label}",
        *(f"{label}/{{spec}}.{ext}" for label in ("", "/{label}") for ext in SPRING_FILES),
    }
    writes = {  # a write answers 202 with the change request it opened
        ("patch", "/api/v1/config/{service}/{env}"),
        ("post", "/api/v1/changes"),
        ("post", "/api/v1/services"),  # a new service from a template
        ("put", "/api/v1/secrets/{service}/{env}/{key}"),
        ("post", "/api/v1/reverts"),
        ("post", "/api/v1/promotions"),
    }
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if path.endswith("/report"):
                assert method == "post" and "204" in responses, path
            elif (method, path) in writes:
                assert "202" in responses, (method, path)
            elif path == "/api/v1/hooks/git":
                assert method == "post" and {"200", "202", "401"} <= set(responses), path
            else:
                assert method == "get" or path.startswith("/api/v1/changes/"), (method, path)
                assert "200" in responses, (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], path
    config = doc["paths"]["/api/v1/config/{service}/{env}"]["get"]
    params = {p["name"] for p in config["parameters"]}
    assert params >= {"rev", "provenance", "reveal", "wait", "after", "if-none-match"}
    assert "304" in config["responses"]
    patch = doc["paths"]["/api/v1/config/{service}/{env}"]["patch"]
    assert "application/merge-patch+json" in patch["requestBody"]["content"]
    assert {"412", "413", "428"} <= set(patch["responses"])
    body = doc["components"]["schemas"]["ConfigDocument"]
    assert set(body["required"]) == {"service", "env", "schema", "config"}
