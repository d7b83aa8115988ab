"""The warm read (cfgctl/server/warmreads.py): the same answer as the route, and every case it
is not sure of left to the route (refusals audited, a moved head read anew)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.support.gitrepo import ConfigRepo
from tests.support.guarded import PROD, STAGING, VALUE, Guarded
from tests.support.server import served

# What differs between two answers of the same read by design.
PER_REQUEST = {"x-request-id", "date"}


def _warm_count(client: TestClient) -> int:
    count: int = client.app.state.warm.answered  # type: ignore[attr-defined]
    return count


def _same(a: Response, b: Response) -> None:
    assert a.status_code == b.status_code
    assert a.content == b.content
    ha = {k: v for k, v in a.headers.items() if k not in PER_REQUEST}
    hb = {k: v for k, v in b.headers.items() if k not in PER_REQUEST}
    assert ha == hb
    assert a.headers["x-request-id"] != b.headers["x-request-id"]


def test_a_warm_read_is_the_routes_answer_byte_for_byte(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        first = client.get(PROD)  # the route: computes and keeps it
        assert first.status_code == 200 and _warm_count(client) == 0
        warm = client.get(PROD)
        assert _warm_count(client) == 1
        _same(first, warm)
        # With a query the route answers, the same bytes and headers.
        routed = client.get(PROD, params={"provenance": "false"})
        assert _warm_count(client) == 1
        _same(routed, warm)
        # If-None-Match: a 304 with the same headers as the route's, no body.
        tag = warm.headers["etag"]
        warm_304 = client.get(PROD, headers={"If-None-Match": f'W/{tag}, "other"'})
        assert _warm_count(client) == 2 and warm_304.status_code == 304
        routed_304 = client.get(
            PROD, params={"provenance": "false"}, headers={"If-None-Match": tag}
        )
        _same(routed_304, warm_304)
        assert warm_304.content == b""


def test_unknown_names_and_other_paths_go_to_the_route(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        client.get(PROD)
        for path in (
            "/api/v1/config/nope/prod",
            "/api/v1/config/payments/nope",
            "/api/v1/config/payments",
            "/api/v1/config//prod",
        ):
            answer = client.get(path)
            assert answer.status_code in (404, 405), (path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
        assert client.post(PROD, json={}).status_code == 405
        slash = client.get(PROD + "/", follow_redirects=False)  # the route's redirect
        assert slash.status_code == 307 and slash.headers["location"].endswith(PROD)
        assert _warm_count(client) == 0


def test_a_moved_head_is_read_by_the_route_then_kept(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir, poll_interval=0.02) as client:
        before = client.get(PROD)
        client.get(PROD)
        assert _warm_count(client) == 1
        example_repo.commit({"config/prod/payments.yaml": "replicas: 9\n"}, "nine")
        deadline = time.monotonic() + 10
        while True:  # the watcher sees the commit within a poll
            after = client.get(PROD)
            if after.headers["cfgctl-commit"] != before.headers["cfgctl-commit"]:
                break
            assert time.monotonic() < deadline, "the new head was never served"
        assert after.json()["config"]["replicas"] == 9
        counted = _warm_count(client)
        again = client.get(PROD)
        assert _warm_count(client) == counted + 1
        _same(after, again)


def test_refusals_of_a_kept_answer_are_the_routes_and_audited(guarded: Guarded) -> None:
    root = guarded.token("root", "admin", "*")
    assert guarded.get(PROD, root).status_code == 200  # kept now
    assert guarded.get(PROD, root).status_code == 200
    warm = _warm_count(guarded.client)
    assert warm == 1
    audited = len(guarded.audit())
    # No token, a token of a subject with no grant on prod, a token scoped to staging.
    assert guarded.get(PROD).status_code == 401
    assert guarded.get(PROD, guarded.token("alice", "editor", "*")).status_code == 403
    scoped = guarded.token("root", "admin", "payments@staging")
    assert guarded.get(PROD, scoped).status_code == 403
    lines = guarded.audit()[audited:]
    assert [(line["action"], line["outcome"]) for line in lines] == [
        ("authenticate", "denied"),
        ("read", "denied"),
        ("read", "denied"),
    ]
    # Revoked after a warm read: refused at once.
    guarded.store.revoke(root.split("_")[1])
    assert guarded.get(PROD, root).status_code == 401
    assert _warm_count(guarded.client) == warm
    # The staging token reads staging, warm from its second read.
    assert guarded.get(STAGING, scoped).status_code == 200
    assert guarded.get(STAGING, scoped).status_code == 200
    assert _warm_count(guarded.client) == warm + 1


def test_a_warm_read_never_reveals(guarded: Guarded) -> None:
    root = guarded.token("root", "admin", "*")
    revealed = guarded.get(PROD, root, reveal="true")
    assert revealed.json()["config"]["db"]["password"] == VALUE
    masked = guarded.get(PROD, root)
    warm = guarded.get(PROD, root)
    assert _warm_count(guarded.client) == 1
    assert warm.content == masked.content != revealed.content
    assert VALUE not in warm.text
    assert warm.headers["cache-control"] == "private, no-cache"


def test_a_warm_long_poll_answers_as_the_route(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir, poll_interval=0.02) as client:
        old = client.get(PROD).headers["cfgctl-commit"]
        quiet = {"wait": "0.2s", "after": old}
        warm_304 = client.get(PROD, params=quiet)
        assert _warm_count(client) == 1 and warm_304.status_code == 304
        routed_304 = client.get(PROD, params={**quiet, "provenance": "false"})
        _same(routed_304, warm_304)
        # A commit that changes it: waiting after the old commit answers at once.
        example_repo.commit({"config/prod/payments.yaml": "replicas: 8\n"}, "eight")
        deadline = time.monotonic() + 10
        while client.get(PROD).headers["cfgctl-commit"] == old:  # the route fills the memo
            assert time.monotonic() < deadline
        counted = _warm_count(client)
        woken = client.get(PROD, params={"wait": "5s", "after": old})
        assert _warm_count(client) == counted + 1 and woken.json()["config"]["replicas"] == 8
        _same(client.get(PROD, params={"wait": "5s", "after": old, "provenance": "0"}), woken)
        # Errors: the same problem documents as the route's.
        for params in ({"wait": "soon", "after": old}, {"wait": "1s", "after": "no-such-rev"}):
            warm = client.get(PROD, params=params)
            routed = client.get(PROD, params={**params, "provenance": "false"})
            assert warm.status_code == routed.status_code in (400, 404)
            assert warm.headers["content-type"] == "application/problem+json"
            assert warm.json() == routed.json()
        # Not exactly wait and after: the route's (a repeated one, a third one, a blank).
        counted = _warm_count(client)
        for query in (f"wait=1s&after={old}&wait=2s", f"wait=0.1s&after={old}&x=1", "wait=&after="):
            client.get(f"{PROD}?{query}")
        assert _warm_count(client) == counted


def test_a_refused_long_poll_is_the_routes(guarded: Guarded) -> None:
    root = guarded.token("root", "admin", "*")
    head = guarded.get(PROD, root).headers["cfgctl-commit"]
    audited = len(guarded.audit())
    alice = guarded.token("alice", "editor", "*")
    refused = guarded.get(PROD, alice, wait="0.1s", after=head)
    assert refused.status_code == 403 and _warm_count(guarded.client) == 0
    assert [line["action"] for line in guarded.audit()[audited:]] == ["read"]
    assert guarded.get(PROD, root, wait="0.1s", after=head).status_code == 304
    assert _warm_count(guarded.client) == 1
