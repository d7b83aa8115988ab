"""GET /api/v1/config/{service}/{env} in-process: the CLI's rendering, provenance, ETags,
revisions and the problems of bad requests and broken repositories."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pygit2
import pytest

from cfgctl.repo.builtin import TEMPLATES
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.server import served

CONFIG = "/api/v1/config/payments/prod-eu"


def test_the_body_is_what_cfgctl_render_prints(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    rendered = run_cli(
        "render", "payments", "--env", "prod-eu", "--format", "json", cwd=example_repo.workdir
    )
    assert rendered.exit_code == 0, rendered.output
    with served(example_repo.workdir) as client:
        answer = client.get(CONFIG)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    doc = answer.json()
    assert doc["config"] == json.loads(rendered.stdout)
    assert (doc["service"], doc["env"], doc["schema"]) == ("payments", "prod-eu", "web-service@2")
    assert "provenance" not in doc
    assert answer.headers["cfgctl-commit"] == str(example_repo.repo.head.target)
    assert answer.headers["etag"].startswith('"')


def test_provenance_names_file_line_layer_and_commit(example_repo: ConfigRepo) -> None:
    first = str(example_repo.repo.head.target)
    text = example_repo.read("config/prod-eu/payments.yaml")
    later = example_repo.commit(
        {"config/prod-eu/payments.yaml": text.replace("pay.example.eu", "pay.example.de")},
        "the German domain",
    )
    with served(example_repo.workdir) as client:
        rows = client.get(CONFIG, params={"provenance": "true"}).json()["provenance"]
    by_key = {row["key"]: row for row in rows}
    assert by_key["db.host"] == {
        "key": "db.host",
        "path": ["db", "host"],
        "env": "prod-eu",
        "layer": "service",
        "file": "config/prod-eu/payments.yaml",
        "line": 3,
        "column": 9,
        "commit": first,
        "author": "Test Author",
        "date": "2023-11-14T22:13:20+00:00",
    }
    assert by_key["public_url"]["commit"] == later  # the line the later commit changed
    assert by_key["replicas"]["file"] == "config/prod/payments.yaml"
    assert by_key["server.host"]["layer"] == "defaults"


def test_etag_follows_the_configuration_not_the_commit(example_repo: ConfigRepo) -> None:
    example_repo.commit({"config/staging/_defaults.yaml": "replicas: 1\n"}, "unrelated")
    with served(example_repo.workdir) as client:
        now = client.get(CONFIG)
        before = client.get(CONFIG, params={"rev": "HEAD~1"})
        assert now.headers["cfgctl-commit"] != before.headers["cfgctl-commit"]
        assert now.headers["etag"] == before.headers["etag"]
        assert now.content == before.content
        cached = client.get(CONFIG, headers={"If-None-Match": f'"x", {now.headers["etag"]}'})
        assert cached.status_code == 304
        assert cached.content == b""
        assert cached.headers["etag"] == now.headers["etag"]
        assert client.get(CONFIG, headers={"If-None-Match": '"other"'}).status_code == 200
        with_prov = client.get(CONFIG, params={"provenance": "true"})
        assert with_prov.headers["etag"] != now.headers["etag"]


def test_unknown_names_are_404_with_the_nearest_name(example_repo: ConfigRepo) -> None:
    manifest = example_repo.read("cfgctl.yaml")
    example_repo.commit(
        {"cfgctl.yaml": manifest.replace("  base: {}", "  base: {abstract: true}")}, "abstract"
    )
    with served(example_repo.workdir) as client:
        service = client.get("/api/v1/config/paymnts/prod")
        env = client.get("/api/v1/config/payments/prd")
        abstract = client.get("/api/v1/config/payments/base")
        rev = client.get(CONFIG, params={"rev": "v9.9"})
    assert service.status_code == env.status_code == abstract.status_code == rev.status_code == 404
    assert service.json()["detail"] == "unknown service 'paymnts'"
    assert service.json()["hint"].startswith("did you mean 'payments'?")
    assert env.json()["hint"].startswith("did you mean 'prod'?")
    assert "abstract" in abstract.json()["detail"]
    assert rev.json()["detail"] == "unknown revision 'v9.9'"
    for answer in (service, env, abstract, rev):
        assert answer.headers["content-type"] == "application/problem+json"
        doc = answer.json()
        assert doc["type"] == "urn:cfgctl:problem:not-found"
        assert doc["status"] == 404
        assert doc["instance"] == answer.request.url.path


def test_a_value_that_breaks_the_schema_is_a_422_with_its_diagnostics(
    example_repo: ConfigRepo,
) -> None:
    text = example_repo.read("config/prod/payments.yaml")
    example_repo.commit(
        {"config/prod/payments.yaml": text.replace("replicas: 6", "replicas: lots")}, "break"
    )
    with served(example_repo.workdir) as client:
        broken = client.get("/api/v1/config/payments/prod")
        older = client.get("/api/v1/config/payments/prod", params={"rev": "HEAD~1"})
    assert broken.status_code == 422
    doc = broken.json()
    assert doc["type"] == "urn:cfgctl:problem:check-failed"
    assert doc["exit_code"] == 1
    assert [(e["file"], e["line"]) for e in doc["errors"]] == [("config/prod/payments.yaml", 1)]
    assert older.status_code == 200  # the commit before is still served by revision


def test_a_broken_file_is_a_422_pointing_at_its_line(example_repo: ConfigRepo) -> None:
    example_repo.commit({"config/prod/payments.yaml": "replicas: [6\n"}, "broken YAML")
    with served(example_repo.workdir) as client:
        answer = client.get("/api/v1/config/payments/prod")
        others = client.get("/api/v1/config/search/staging")
    assert answer.status_code == 422
    doc = answer.json()
    assert doc["type"] == "urn:cfgctl:problem:invalid-repository"
    assert doc["location"]["path"] == "config/prod/payments.yaml"
    assert doc["location"]["line"] is not None
    assert "Traceback" not in answer.text
    assert others.status_code == 200


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"wait": "soon", "after": "HEAD"}, "not a duration"),
        ({"wait": "500s", "after": "HEAD"}, "out of range"),
        ({"wait": "0s", "after": "HEAD"}, "out of range"),
        ({"wait": "10s"}, "needs after=COMMIT or an If-None-Match"),
        ({"wait": "10s", "after": ""}, "after= is empty"),
        ({"wait": "10s", "after": "HEAD", "rev": "HEAD"}, "cannot be combined with rev="),
        ({"after": "HEAD"}, "only read with wait="),
        ({"provenance": "perhaps"}, "provenance"),
    ],
)
def test_bad_parameters_are_400_problems(
    example_repo: ConfigRepo, params: dict[str, str], says: str
) -> None:
    with served(example_repo.workdir) as client:
        answer = client.get(CONFIG, params=params)
    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:cfgctl:problem:bad-request"
    assert says in answer.json()["detail"]


def test_a_long_poll_after_an_unknown_commit_is_404(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        answer = client.get(CONFIG, params={"wait": "1s", "after": "f" * 40})
    assert answer.status_code == 404
    assert answer.json()["detail"].startswith("unknown revision")


def test_a_long_poll_after_an_older_commit_answers_at_once(example_repo: ConfigRepo) -> None:
    first = str(example_repo.repo.head.target)
    text = example_repo.read("config/prod/payments.yaml")
    head = example_repo.commit(
        {"config/prod/payments.yaml": text.replace("replicas: 6", "replicas: 7")}, "more"
    )
    with served(example_repo.workdir) as client:
        moved = client.get(CONFIG, params={"wait": "30s", "after": first})
        same = client.get(CONFIG, params={"wait": "50ms", "after": head})
        etag = client.get(CONFIG).headers["etag"]
        by_etag = client.get(CONFIG, params={"wait": "50ms"}, headers={"If-None-Match": etag})
    assert moved.status_code == 200
    assert moved.headers["cfgctl-commit"] == head
    assert moved.json()["config"]["replicas"] == 7
    assert same.status_code == 304
    assert same.headers["cfgctl-commit"] == head
    assert by_etag.status_code == 304


def test_a_config_repository_in_a_folder_of_its_git_repository(tmp_path: Path) -> None:
    shutil.copytree(TEMPLATES / "default", tmp_path / "mono/ops/cfg")
    mono = ConfigRepo(
        tmp_path / "mono", pygit2.init_repository(str(tmp_path / "mono"), initial_head="main")
    )
    head = mono.commit({}, "init", add_all=True)
    with served(tmp_path / "mono/ops/cfg") as client:
        answer = client.get("/api/v1/config/payments/prod", params={"provenance": "true"})
    assert answer.status_code == 200
    assert answer.headers["cfgctl-commit"] == head
    row = next(r for r in answer.json()["provenance"] if r["key"] == "replicas")
    assert (row["file"], row["line"], row["commit"]) == ("config/prod/payments.yaml", 1, head)
