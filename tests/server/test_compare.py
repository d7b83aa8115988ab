"""GET /api/v1/compare and POST /api/v1/promotions: environments (or commits) side by side, and
"make prod like staging for these keys" as a change request, on real repositories."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.gitrepo import ConfigRepo
from tests.support.guarded import Guarded
from tests.support.server import served
from tests.support.writeserver import writers

COMPARE = "/api/v1/compare"
PROMOTE = "/api/v1/promotions"
PAYMENTS = {"env": ["staging", "prod"], "service": "payments"}


def _rows(doc: dict[str, Any], service: str = "payments") -> dict[str, dict[str, Any]]:
    (item,) = [i for i in doc["items"] if i["name"] == service]
    return {row["key"]: row for row in item["rows"]}


def test_two_environments_differences_only_with_where_each_value_comes_from(
    example_repo: ConfigRepo,
) -> None:
    with served(example_repo.workdir) as client:
        answer = client.get(COMPARE, params=PAYMENTS)
        everything = client.get(COMPARE, params={**PAYMENTS, "all": "true"})
        again = client.get(
            COMPARE, params=PAYMENTS, headers={"If-None-Match": answer.headers["etag"]}
        )
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    head = str(example_repo.repo.head.target)
    assert doc["sides"] == [
        {"env": "staging", "rev": None, "commit": head},
        {"env": "prod", "rev": None, "commit": head},
    ]
    rows = _rows(doc)
    assert set(rows) == {"replicas", "log.level", "db.host", "db.pool_size", "public_url"}
    pool = rows["db.pool_size"]
    assert pool["status"] == "differs"
    staging, prod = pool["cells"]
    assert (staging["value"], staging["file"], staging["line"]) == (
        10,
        "config/base/payments.yaml",
        5,
    )
    assert (staging["env"], staging["layer"]) == ("base", "service")
    assert (prod["value"], prod["file"], prod["line"], prod["env"]) == (
        40,
        "config/prod/payments.yaml",
        5,
        "prod",
    )
    assert rows["public_url"]["cells"][0] == {"present": False}
    item = doc["items"][0]
    assert (item["differences"], item["keys"], item["errors"]) == (5, 11, [None, None])
    full = _rows(everything.json())
    assert len(full) == 11 and full["server.port"]["status"] == "same"
    assert again.status_code == 304


def test_two_commits_of_one_environment(example_repo: ConfigRepo) -> None:
    before = str(example_repo.repo.head.target)
    example_repo.commit({"config/prod/payments.yaml": "replicas: 9\n"}, "fewer keys in prod")
    with served(example_repo.workdir) as client:
        answer = client.get(
            COMPARE, params={"env": "prod", "rev": [before, "main"], "service": "payments"}
        )
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert [s["rev"] for s in doc["sides"]] == [before, "main"]
    rows = _rows(doc)
    assert rows["replicas"]["cells"][0]["value"] == 6
    assert rows["replicas"]["cells"][1]["value"] == 9
    # the prod layer no longer sets the host: prod inherits base's
    host = rows["db.host"]["cells"]
    assert (host[0]["file"], host[1]["file"]) == (
        "config/prod/payments.yaml",
        "config/base/payments.yaml",
    )


def test_every_service_paged_and_an_invalid_configuration_is_still_compared(
    example_repo: ConfigRepo,
) -> None:
    example_repo.commit({"config/staging/payments.yaml": "replicas: many\n"}, "a mistake")
    with served(example_repo.workdir) as client:
        first = client.get(COMPARE, params={"env": ["staging", "prod", "prod-eu"], "limit": 1})
        cursor = first.json()["next_cursor"]
        second = client.get(
            COMPARE, params={"env": ["staging", "prod", "prod-eu"], "limit": 1, "cursor": cursor}
        )
    assert first.status_code == 200, first.text
    assert [i["name"] for i in first.json()["items"]] == ["payments"]
    assert [i["name"] for i in second.json()["items"]] == ["search"]
    assert second.json()["next_cursor"] is None
    replicas = _rows(first.json())["replicas"]["cells"]
    assert [c["value"] for c in replicas] == ["many", 6, 6]
    assert first.headers["link"].endswith('rel="next"')


@pytest.mark.parametrize(
    ("params", "status", "said"),
    [
        ({"env": "prod"}, 400, "two or more env="),
        ({"env": ["prod", "staging"], "rev": ["main", "main"]}, 400, "two or more env="),
        ({"env": ["prod", "prod"]}, 400, "named twice"),
        ({"env": ["prod", "stagin"]}, 404, "did you mean 'staging'"),
        ({"env": ["prod", "staging"], "service": "paymnts"}, 404, "did you mean 'payments'"),
        ({"env": ["prod", "staging"], "rev": "nope"}, 404, "unknown revision"),
        ({"env": ["a", "b", "c", "d", "e", "f", "g"]}, 400, "at most 6"),
    ],
)
def test_bad_comparisons_are_problems(
    example_repo: ConfigRepo, params: dict[str, Any], status: int, said: str
) -> None:
    with served(example_repo.workdir) as client:
        answer = client.get(COMPARE, params=params)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert said in answer.json()["detail"] + answer.json().get("hint", "")


def test_secrets_are_masked_and_access_is_asked_per_side(guarded: Guarded) -> None:
    def get(token: str, **params: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        answer = guarded.client.get(COMPARE, params=params, headers=headers)
        guarded.answers.append(answer)
        return answer

    viewer = guarded.token("viewers-all", "viewer", "*")
    answer = get(viewer, **PAYMENTS)
    assert answer.status_code == 200, answer.text
    password = _rows(answer.json())["db.password"]
    assert password["secret"] is True and password["status"] == "differs"
    assert password["cells"][0] == {"present": False}
    assert password["cells"][1]["value"] == "***"
    assert password["cells"][1]["layer"] == "secrets"
    alice = guarded.token("alice", "editor", "payments@*")  # rbac: payments@staging only
    refused = get(alice, **PAYMENTS)
    assert refused.status_code == 403
    assert refused.json()["object"] == "config:payments@prod"
    # every service: what alice may read in both environments, which is nothing
    none = get(alice, env=["staging", "prod"])
    assert none.status_code == 403 and "every environment compared" in none.json()["detail"]
    viewed = get(viewer, env=["staging", "prod"])  # every service: a secret only in prod
    assert [i["name"] for i in viewed.json()["items"]] == ["payments", "search"]
    scoped = guarded.token("viewers-all", "viewer", "payments@*")  # its token reads payments
    narrowed = get(scoped, env=["staging", "prod"])
    assert [i["name"] for i in narrowed.json()["items"]] == ["payments"]


# --- promotions ---------------------------------------------------------------------------------


def _promote(client: Any, user: str = "alice", **body: Any) -> Any:
    sent = {"from": "staging", "to": "prod", **body}
    return client.post(PROMOTE, json=sent, headers={"X-User": user})


def test_a_promotion_opens_a_change_request_and_never_moves_the_branch(
    example_repo: ConfigRepo,
) -> None:
    tip = str(example_repo.repo.head.target)
    keys = [
        {"service": "payments", "key": "db.pool_size"},
        {"service": "payments", "key": "log.level"},
    ]
    with served(example_repo.workdir, security=writers()) as client:
        answer = _promote(client, keys=keys, commit=tip)
        change = client.get("/api/v1/changes/1").json()
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == "/api/v1/changes/1"
    doc = answer.json()
    assert doc["title"] == "prod like staging: payments db.pool_size, log.level"
    assert doc["author"] == "alice" and doc["state"] == "open"
    moves = {m["key"]: m for m in doc["promotion"]["moves"]}
    # prod's own 40 removed: prod inherits base's 10, as staging does
    assert moves["db.pool_size"]["action"] == "unset"
    assert moves["log.level"] == {
        "service": "payments",
        "key": "log.level",
        "action": "set",
        "file": "config/prod/payments.yaml",
        "secret": False,
        "value": "debug",
    }
    impact = {(p["service"], p["env"]): p["keys"] for p in doc["plan"]["impact"]}
    assert impact[("payments", "prod")] == ["db.pool_size", "log.level"]
    assert change["id"] == 1 and change["plan"]["impact"] == doc["plan"]["impact"]
    assert str(example_repo.repo.references["refs/heads/main"].target) == tip
    assert "pool_size: 40" in (example_repo.workdir / "config/prod/payments.yaml").read_text()


def test_promotion_refusals(example_repo: ConfigRepo) -> None:
    before = str(example_repo.repo.head.target)
    example_repo.commit(
        {"config/prod/payments.yaml": "replicas: 6\npublic_url: https://pay.example.com\n"},
        "prod changed after the comparison",
    )
    pool = [{"service": "payments", "key": "db.pool_size"}]
    with served(example_repo.workdir, security=writers()) as client:
        missing = _promote(client, keys=[{"service": "payments", "key": "db.nope"}])
        stale = _promote(client, keys=pool, commit=before)
        agreed = _promote(client, keys=pool)  # prod inherits base's pool now, as staging
        same = _promote(client, keys=pool, to="staging")
        unknown = _promote(client, keys=[{"service": "paymnts", "key": "replicas"}])
        pattern = _promote(client, keys=[{"service": "payments", "key": "db.*"}])
        shape = _promote(client, keys=[])
        anonymous = client.post(PROMOTE, json={"from": "staging", "to": "prod", "keys": pool})
        listed = client.get("/api/v1/changes").json()["items"]
    assert missing.status_code == 400, missing.text
    assert missing.json()["detail"] == "payments has no key db.nope in staging or prod"
    assert stale.status_code == 412 and "payments@prod changed" in stale.json()["detail"]
    assert agreed.status_code == 422 and agreed.json()["type"].endswith("invalid-patch")
    assert same.status_code == 400
    assert unknown.status_code == 404 and "did you mean 'payments'" in unknown.json()["hint"]
    assert pattern.status_code == 400 and "not a pattern" in pattern.json()["detail"]
    assert shape.status_code == 400
    assert anonymous.status_code == 403 and anonymous.json()["action"] == "edit"
    assert listed == []  # nothing was opened


def test_a_promotion_that_breaks_the_schema_is_refused(example_repo: ConfigRepo) -> None:
    example_repo.commit({"config/staging/payments.yaml": "replicas: many\n"}, "a mistake")
    with served(example_repo.workdir, security=writers()) as client:
        answer = _promote(client, keys=[{"service": "payments", "key": "replicas"}])
    assert answer.status_code == 422, answer.text
    doc = answer.json()
    assert doc["type"].endswith("check-failed") and doc["errors"]


def test_promotion_access_and_secrets(guarded: Guarded) -> None:
    alice = guarded.token("alice", "editor", "payments@*")  # edits payments@staging only
    root = guarded.token("root", "admin", "*")
    client = guarded.client

    def post(token: str, body: dict[str, Any]) -> Any:
        answer = client.post(PROMOTE, json=body, headers={"Authorization": f"Bearer {token}"})
        guarded.answers.append(answer)
        return answer

    pool = [{"service": "payments", "key": "db.pool_size"}]
    into_prod = post(alice, {"from": "staging", "to": "prod", "keys": pool})
    assert into_prod.status_code == 403, into_prod.text
    assert into_prod.json()["object"] == "config:payments@prod"
    # alice may edit staging, but not read prod, the source
    from_prod = post(alice, {"from": "prod", "to": "staging", "keys": pool})
    assert from_prod.status_code == 403 and from_prod.json()["action"] == "read"
    # a secret is never moved here (the masked snapshot opens none): skipped, nothing opened
    secret = [{"service": "payments", "key": "db.password"}]
    skipped = post(root, {"from": "prod", "to": "staging", "keys": secret})
    assert skipped.status_code == 422, skipped.text
    assert [s["reason"] for s in skipped.json()["skipped"]] == ["secret"]
    denied = [e for e in guarded.audit() if e.get("outcome") == "denied"]
    assert {e["action"] for e in denied} >= {"edit", "read"}


def test_a_secret_held_in_a_plain_layer_is_never_promoted(guarded: Guarded) -> None:
    staging = "config/staging/payments.yaml"
    text = "db:\n  password: plain-held-7c1\n"
    secrets = "config/prod/payments.secrets.yaml"  # prod's own secret gone: nothing to open there
    guarded.repo.commit({staging: text, secrets: None}, "a secret written in clear, by mistake")
    root = guarded.token("root", "admin", "*")
    body = {"from": "staging", "to": "prod", "keys": [{"service": "payments", "key": "db"}]}
    refs = set(guarded.repo.repo.references)
    answer = guarded.client.post(PROMOTE, json=body, headers={"Authorization": f"Bearer {root}"})
    guarded.answers.append(answer)
    moved = [] if answer.status_code != 202 else answer.json()["promotion"]["moves"]
    assert all(m["key"] != "db.password" for m in moved), moved
    skipped = answer.json().get("skipped") or answer.json()["promotion"]["skipped"]
    assert any(s["key"] == "db.password" and s["reason"] == "secret" for s in skipped), skipped
    if answer.status_code != 202:
        assert set(guarded.repo.repo.references) == refs  # nothing opened
    assert "plain-held-7c1" not in answer.text
