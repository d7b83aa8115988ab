"""Spring Cloud Config compatibility: the Environment JSON and the .yml/.properties files at the
root, checked against the shapes of Spring's documentation; /api/v1/ never shadowed."""

from __future__ import annotations

import json

import jsonschema
import pytest

from cfgctl.operate.springenv import spring_source
from tests.support.cli import SECRET_VALUES, RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.secretrepo import set_secret
from tests.support.server import served
from tests.support.spring import ENVIRONMENT

VALUE = "s3cr3t-spring-51ab"


def test_the_environment_is_springs_shape_and_the_effective_configuration(
    example_repo: ConfigRepo, run_cli: RunCli
) -> None:
    rendered = run_cli(
        "render", "payments", "--env", "prod-eu", "--format", "json", cwd=example_repo.workdir
    )
    head = str(example_repo.repo.head.target)
    with served(example_repo.workdir) as client:
        answer = client.get("/payments/prod-eu")
        again = client.get("/payments/prod-eu", headers={"If-None-Match": answer.headers["etag"]})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    jsonschema.validate(doc, ENVIRONMENT)
    assert (doc["name"], doc["profiles"], doc["version"]) == ("payments", ["prod-eu"], head)
    assert doc["label"] == example_repo.repo.head.shorthand
    (source,) = doc["propertySources"]
    assert source["name"] == "cfgctl:payments@prod-eu"
    assert source["source"] == spring_source(json.loads(rendered.stdout))
    assert answer.headers["cfgctl-commit"] == head
    assert again.status_code == 304


def test_a_label_reads_a_branch_tag_or_commit(example_repo: ConfigRepo) -> None:
    first = str(example_repo.repo.head.target)
    example_repo.repo.references.create("refs/tags/v1", first)
    text = example_repo.read("config/prod-eu/payments.yaml")
    example_repo.commit(
        {"config/prod-eu/payments.yaml": text.replace("pay.example.eu", "pay.example.de")}, "de"
    )
    with served(example_repo.workdir) as client:
        now = client.get("/payments/prod-eu").json()
        tagged = client.get("/payments/prod-eu/v1").json()
        by_commit = client.get(f"/payments/prod-eu/{first}").json()
        unknown = client.get("/payments/prod-eu/no-such-label")
    assert tagged["label"] == "v1" and tagged["version"] == first
    assert by_commit["propertySources"] == tagged["propertySources"]
    assert now["propertySources"] != tagged["propertySources"]
    assert "pay.example.de" in json.dumps(now) and "pay.example.de" not in json.dumps(tagged)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/payments/default", 404, "spring.profiles.active"),
        ("/payments/prod,prod-eu", 400, "most specific"),
        ("/payments/prdo", 404, "did you mean 'prod'"),
        ("/paymnts/prod", 404, "did you mean 'payments'"),
        ("/paymnts-prod.yml", 404, "payments"),
        ("/api/v1", 404, "/api/v1/"),
        ("/api/v1/nothing-here", 404, "/api/v1/"),
    ],
)
def test_profiles_name_exactly_one_environment(
    example_repo: ConfigRepo, path: str, status: int, words: str
) -> None:
    with served(example_repo.workdir) as client:
        answer = client.get(path)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert words in problem["detail"] + problem.get("hint", "")


def test_the_api_is_never_shadowed(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        assert client.get("/api/v1/openapi.json").json()["info"]["title"] == "cfgctl"
        assert client.get("/api/v1/config/payments/prod").json()["service"] == "payments"
        assert "items" in client.get("/api/v1/services").json()


def test_yml_and_properties_are_the_export_without_secrets(
    secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    SECRET_VALUES.add(VALUE)
    set_secret(run_cli, secret_repo, VALUE)
    secret_repo.commit({}, "a secret", add_all=True)
    exported = run_cli(
        "export", "payments", "--env", "prod", "--format", "yaml", "--skip-secrets",
        cwd=secret_repo.workdir,
    )  # fmt: skip
    branch = secret_repo.repo.head.shorthand
    with served(secret_repo.workdir) as client:
        answers = {
            path: client.get(path)
            for path in (
                "/payments-prod.yml",
                "/payments-prod.yaml",
                "/payments-prod.properties",
                "/payments-prod.json",
                f"/{branch}/payments-prod.yml",
                "/payments/prod",
            )
        }
    for path, answer in answers.items():
        assert answer.status_code == 200, (path, answer.text)
        assert VALUE not in answer.text, path
    yml = answers["/payments-prod.yml"]
    assert yml.headers["cfgctl-omitted-secrets"] == "db.password"
    assert "password" not in yml.text and "host:" in yml.text
    assert exported.exit_code == 0, exported.output
    assert yml.text == exported.stdout  # the CLI's export, byte for byte
    assert yml.text == answers[f"/{branch}/payments-prod.yml"].text
    props = answers["/payments-prod.properties"].text
    assert "db.host" in props and "db.password" not in props
    env = answers["/payments/prod"].json()
    assert env["propertySources"][0]["source"]["db.password"] == "***"


def test_a_hyphenated_environment_splits_at_the_service(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        answer = client.get("/payments-prod-eu.properties")
    assert answer.status_code == 200, answer.text
    assert "pay.example.eu" in answer.text
