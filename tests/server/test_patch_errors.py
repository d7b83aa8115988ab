"""A patch the schema refuses: the 422 problem names each error's value by a JSON pointer, so a
client (the dashboard's Service page) shows it on the field it concerns."""

from __future__ import annotations

import json

from tests.support.gitrepo import ConfigRepo
from tests.support.server import served
from tests.support.writeserver import writers

CONFIG = "/api/v1/config/payments/prod"


def test_each_schema_error_has_the_json_pointer_of_its_value(example_repo: ConfigRepo) -> None:
    patch = {"replicas": "many", "db": {"pool_size": 0}, "features": {"a.b/c": "yes"}}
    with served(example_repo.workdir, security=writers()) as client:
        etag = client.get(CONFIG).headers["etag"]
        headers = {"Content-Type": "application/merge-patch+json", "X-User": "alice"}
        answer = client.patch(
            CONFIG, content=json.dumps(patch), headers=headers | {"If-Match": etag}
        )
        changes = client.get("/api/v1/changes").json()["items"]
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["type"] == "urn:cfgctl:problem:check-failed"
    found = {(e["pointer"], e["path"]) for e in problem["errors"] if e["pairs"][0]["env"] == "prod"}
    # the dotted path cannot tell a key holding a dot from a nested key; the pointer can
    assert found == {
        ("/replicas", "replicas"),
        ("/db/pool_size", "db.pool_size"),
        ("/features/a.b~1c", "features.a.b/c"),
    }
    # prod-eu inherits prod: the pairs say whose configuration each error breaks
    assert all(("payments", "prod-eu") in _pairs(e) for e in problem["errors"])
    assert changes == []


def test_a_missing_required_key_points_where_it_would_be(example_repo: ConfigRepo) -> None:
    base = "/api/v1/config/payments/base"  # base sets db.port; every environment inherits it
    with served(example_repo.workdir, security=writers()) as client:
        etag = client.get(base).headers["etag"]
        headers = {"Content-Type": "application/merge-patch+json", "X-User": "alice"}
        body = json.dumps({"db": {"port": None}})
        answer = client.patch(base, content=body, headers=headers | {"If-Match": etag})
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert {(e["pointer"], e["path"]) for e in errors} == {("/db/port", "db")}
    assert {p for e in errors for p in _pairs(e)} >= {("payments", "base"), ("payments", "prod")}


def _pairs(error: dict[str, object]) -> set[tuple[str, str]]:
    pairs = error["pairs"]
    assert isinstance(pairs, list)
    return {(p["service"], p["env"]) for p in pairs}
