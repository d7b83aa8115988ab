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


def test_an_invalid_configuration_is_served_on_demand_and_can_be_fixed(
    example_repo: ConfigRepo,
) -> None:
    example_repo.commit({"config/staging/payments.yaml": "replicas: many\n"}, "a mistake")
    staging = "/api/v1/config/payments/staging"
    with served(example_repo.workdir, security=writers()) as client:
        refused = client.get(staging)
        read = client.get(staging, params={"invalid": "true"})
        with_provenance = client.get(staging, params={"invalid": "true", "provenance": "true"})
        valid = client.get(CONFIG), client.get(CONFIG, params={"invalid": "true"})
        waited = client.get(staging, params={"invalid": "true", "wait": "1s", "after": "HEAD"})
        headers = {"Content-Type": "application/merge-patch+json", "X-User": "alice"}
        fixed = client.patch(staging, content=b'{"replicas": 2}',
                             headers=headers | {"If-Match": read.headers["etag"]})  # fmt: skip
    assert refused.status_code == 422
    assert "invalid=true" in refused.json()["hint"]
    assert read.status_code == 200, read.text
    doc = read.json()
    assert doc["config"]["replicas"] == "many"
    assert [(e["pointer"], e["code"]) for e in doc["errors"]] == [("/replicas", "schema")]
    assert {r["key"] for r in with_provenance.json()["provenance"]} >= {"replicas", "db.host"}
    # a valid configuration is the same answer either way: the same ETag for If-Match
    assert valid[0].content == valid[1].content
    assert valid[0].headers["etag"] == valid[1].headers["etag"]
    assert waited.status_code == 400
    assert fixed.status_code == 202, fixed.text
    impact = fixed.json()["plan"]["impact"]
    assert [(p["env"], p["keys"]) for p in impact] == [("staging", ["replicas"])]
