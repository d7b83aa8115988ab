"""Writes become change requests: PATCH a configuration (a merge patch, If-Match required),
review, merge under policy.yaml; bad input answered with problems and nothing written. On a
real repository, in-process and through one real uvicorn process."""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pygit2
import pytest
from fastapi.testclient import TestClient

from cfgctl.agent.windows import commit_trailers
from cfgctl.server.security import NoAudit, Security
from cfgctl.telemetry import Traceparent
from tests.support.cli import SECRET_VALUES, RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.policies import FOUR_EYES
from tests.support.secretrepo import set_secret
from tests.support.server import served
from tests.support.writeserver import HeaderUser, Writers, write_server, writers

CONFIG = "/api/v1/config/payments/prod"
PROD = "config/prod/payments.yaml"
MERGE_PATCH = "application/merge-patch+json"


@pytest.fixture
def repo(example_repo: ConfigRepo) -> ConfigRepo:
    example_repo.commit({"policy.yaml": FOUR_EYES}, "a simple policy")
    return example_repo


def _refs(repo: ConfigRepo) -> dict[str, str]:
    return {name: str(repo.repo.references[name].target) for name in repo.repo.references}


def _patch(
    client: TestClient, patch: Any, etag: str | None, user: str = "alice", **headers: str
) -> Any:
    sent = {"Content-Type": MERGE_PATCH, "X-User": user, **headers}
    if etag is not None:
        sent["If-Match"] = etag
    return client.patch(CONFIG, content=json.dumps(patch), headers=sent)


def _blob(repo: ConfigRepo, commit: str, path: str) -> str:
    tree = repo.repo[pygit2.Oid(hex=commit)].peel(pygit2.Commit).tree
    return repo.repo[tree[path].id].peel(pygit2.Blob).data.decode()


def test_a_patch_opens_a_change_request_and_never_moves_the_branch(repo: ConfigRepo) -> None:
    tip = str(repo.repo.head.target)
    with served(repo.workdir, security=writers()) as client:
        etag = client.get(CONFIG).headers["etag"]
        answer = _patch(client, {"db": {"pool_size": 60}, "features": {"refunds_v2": True}}, etag)
        listed = client.get("/api/v1/changes", params={"state": "open"}).json()
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == "/api/v1/changes/1"
    doc = answer.json()
    assert (doc["id"], doc["state"], doc["author"], doc["base"]) == (1, "open", "alice", "main")
    assert doc["title"] == "payments@prod: db.pool_size, features.refunds_v2"
    pairs = {(p["service"], p["env"]): p["keys"] for p in doc["plan"]["impact"]}
    assert pairs[("payments", "prod")] == ["db.pool_size", "features.refunds_v2"]
    assert ("payments", "prod-eu") in pairs  # inherited effects are in the plan
    assert [r["name"] for r in doc["plan"]["rules"]] == ["four-eyes"]
    assert doc["verdict"]["state"] == "pending"
    assert str(repo.repo.references["refs/heads/main"].target) == tip  # the branch did not move
    assert "pool_size: 40" in (repo.workdir / PROD).read_text()  # nor the work tree
    assert not (repo.workdir / ".cfgctl").exists()  # no cache written by the plans either
    text = _blob(repo, doc["head"], PROD)
    assert "replicas: 6           # card traffic peaks at lunch time" in text  # comments kept
    assert "  pool_size: 60\n" in text and "refunds_v2: true" in text
    head = repo.repo[pygit2.Oid(hex=doc["head"])].peel(pygit2.Commit)
    assert str(head.parents[0].id) == tip and head.author.name == "alice"
    assert [c["id"] for c in listed["items"]] == [1] and "plan" not in listed["items"][0]


def test_review_and_merge_follow_the_policy(repo: ConfigRepo) -> None:
    with served(repo.workdir, security=writers()) as client:
        first = client.get(CONFIG)
        opened = _patch(client, {"replicas": 8}, first.headers["etag"], **{"X-Cfgctl-Title": "8"})
        number = opened.json()["id"]
        path = f"/api/v1/changes/{number}"
        early = client.post(f"{path}/merge", headers={"X-User": "bob"})
        own = client.post(f"{path}/approve", headers={"X-User": "alice"})
        own_upper = client.post(f"{path}/approve", headers={"X-User": "ALICE"})
        asked = client.post(f"{path}/request-changes", headers={"X-User": "carol"})
        approved = client.post(f"{path}/approve", headers={"X-User": "bob"})
        still = client.post(f"{path}/merge", headers={"X-User": "bob"})
        client.post(f"{path}/approve", headers={"X-User": "carol"})
        merged = client.post(f"{path}/merge", headers={"X-User": "bob"})
        after = client.get(CONFIG)
        again = client.post(f"{path}/approve", headers={"X-User": "dave"})
        shown = client.get(path).json()
    assert opened.json()["title"] == "8"
    assert early.status_code == 409 and early.json()["type"] == "urn:cfgctl:problem:conflict"
    assert early.json()["verdict"]["state"] == "pending"
    assert "four-eyes" in early.json()["detail"]
    assert own.status_code == 403 and "nobody approves their own change" in own.json()["detail"]
    assert own_upper.status_code == 403  # names compare as rbac.yaml compares them
    assert asked.json()["verdict"]["state"] == "failure"
    assert approved.json()["verdict"]["state"] == "failure"  # carol still asks for changes
    assert still.status_code == 409
    assert merged.status_code == 200, merged.text
    assert merged.json()["state"] == "merged" and merged.json()["closed_by"] == "bob"
    main = str(repo.repo.references["refs/heads/main"].target)
    assert merged.json()["merged"] == main == opened.json()["head"]  # a fast-forward
    assert after.headers["cfgctl-commit"] == main and after.json()["config"]["replicas"] == 8
    assert again.status_code == 409 and "is merged" in again.json()["detail"]
    assert shown["state"] == "merged" and shown["plan"] is None
    assert [(r["user"], r["state"]) for r in shown["reviews"]] == [
        ("carol", "CHANGES_REQUESTED"),
        ("bob", "APPROVED"),
        ("carol", "APPROVED"),
    ]


def test_a_stale_read_is_412_and_a_branch_that_moved_is_merged_not_overwritten(
    repo: ConfigRepo,
) -> None:
    with served(repo.workdir, security=writers()) as client:
        etag = client.get(CONFIG).headers["etag"]
        # Unrelated to payments@prod: the configuration read is still the current one.
        repo.commit({"config/staging/_defaults.yaml": "replicas: 1\n"}, "staging")
        opened = _patch(client, {"replicas": 9}, etag)
        text = repo.read(PROD).replace("pool_size: 40", "pool_size: 41")
        repo.commit({PROD: text}, "prod moved")
        stale = _patch(client, {"replicas": 10}, etag)
        client.post("/api/v1/changes/1/approve", headers={"X-User": "bob"})
        merged = client.post("/api/v1/changes/1/merge", headers={"X-User": "bob"})
        config = client.get(CONFIG).json()["config"]
    assert opened.status_code == 202 and stale.status_code == 412
    assert stale.json()["type"] == "urn:cfgctl:problem:precondition-failed"
    assert stale.headers["etag"] == stale.json()["etag"] != etag
    assert merged.status_code == 200, merged.text
    assert (config["replicas"], config["db"]["pool_size"]) == (9, 41)  # both edits kept


def test_post_changes_and_pages(repo: ConfigRepo) -> None:
    with served(repo.workdir, security=writers()) as client:
        etag = client.get(CONFIG).headers["etag"]
        for replicas in (7, 8, 9):
            body = {"service": "payments", "env": "prod", "patch": {"replicas": replicas}}
            headers = {"If-Match": etag, "X-User": "alice"}
            answer = client.post("/api/v1/changes", json=body, headers=headers)
            assert answer.status_code == 202, answer.text
        client.post("/api/v1/changes/2/reject", headers={"X-User": "alice"})  # withdrawn
        first = client.get("/api/v1/changes", params={"limit": 2})
        second = client.get(first.json()["next_cursor"] and first.links["next"]["url"])
        rejected = client.get("/api/v1/changes", params={"state": "rejected"}).json()
    assert [c["id"] for c in first.json()["items"]] == [1, 2]
    assert [c["id"] for c in second.json()["items"]] == [3]
    assert second.json()["next_cursor"] is None
    assert [(c["id"], c["closed_by"]) for c in rejected["items"]] == [(2, "alice")]


BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("malformed json", {"content": b"{replicas: 3"}, 400, "bad-request"),
    ("not an object", {"content": b"[1, 2]"}, 422, "invalid-patch"),
    ("NaN", {"content": b'{"replicas": NaN}'}, 400, "bad-request"),
    ("no If-Match", {"if_match": None}, 428, "precondition-required"),
    ("If-Match *", {"if_match": "*"}, 428, "precondition-required"),
    ("stale If-Match", {"if_match": '"0000"'}, 412, "precondition-failed"),
    ("huge body", {"content": b'{"x": "' + b"a" * 300_000 + b'"}'}, 413, "payload-too-large"),
    ("form body", {"type": "application/x-www-form-urlencoded"}, 415, "unsupported-media-type"),
    ("schema broken", {"content": b'{"replicas": "many"}'}, 422, "check-failed"),
    ("deep", {"content": b'{"a": ' * 40 + b"1" + b"}" * 40}, 422, "invalid-patch"),
    ("too deep to parse", {"content": b"[" * 100_000 + b"]" * 100_000}, 400, "bad-request"),
    ("no change", {"content": b'{"replicas": 6}'}, 422, "invalid-patch"),
    ("unknown service", {"path": "/api/v1/config/paymnts/prod"}, 404, "not-found"),
    ("unknown env", {"path": "/api/v1/config/payments/prd"}, 404, "not-found"),
    ("dot dot", {"path": "/api/v1/config/..%2F..%2Fcfgctl/prod"}, 404, "not-found"),
    ("dot dot env", {"path": "/api/v1/config/payments/%2E%2E"}, 404, "not-found"),
    ("anonymous", {"user": None}, 403, "forbidden"),
]


@pytest.mark.parametrize(("case", "how", "status", "kind"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_problem_and_writes_nothing(
    repo: ConfigRepo, case: str, how: dict[str, Any], status: int, kind: str
) -> None:
    before = _refs(repo)
    with served(repo.workdir, security=writers(), max_body=250_000) as client:
        etag = client.get(CONFIG).headers["etag"]
        headers = {"Content-Type": how.get("type", MERGE_PATCH)}
        if_match = how.get("if_match", etag)
        if if_match is not None:
            headers["If-Match"] = if_match
        if how.get("user", "alice") is not None:
            headers["X-User"] = how.get("user", "alice")
        path = how.get("path", CONFIG)
        answer = client.patch(path, content=how.get("content", b'{"replicas": 7}'), headers=headers)
        changes = client.get("/api/v1/changes").json()["items"]
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"] == f"urn:cfgctl:problem:{kind}"
    assert _refs(repo) == before and changes == []
    if case == "unknown service":
        assert answer.json()["hint"].startswith("did you mean 'payments'?")
    if case == "dot dot env":  # the server saw the name `..`, and knows no such environment
        assert answer.json()["detail"] == "unknown environment '..'"
    if case == "schema broken":
        assert answer.json()["errors"][0]["path"] == "replicas"


def test_a_chunked_body_is_cut_at_the_cap(repo: ConfigRepo) -> None:
    before = _refs(repo)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap counts what arrives
        yield b'{"x": "'
        for _ in range(100):
            yield b"a" * 1024
        yield b'"}'

    with served(repo.workdir, security=writers(), max_body=8192) as client:
        etag = client.get(CONFIG).headers["etag"]
        headers = {"Content-Type": MERGE_PATCH, "If-Match": etag, "X-User": "alice"}
        answer = client.patch(CONFIG, content=chunks(), headers=headers)
    assert answer.status_code == 413, answer.text
    assert "content-length" not in answer.request.headers
    assert _refs(repo) == before


def test_secrets_are_never_written_in_clear_nor_shown(
    secret_repo: ConfigRepo, run_cli: RunCli
) -> None:
    value = "s3cr3t-write-4d1e"
    set_secret(run_cli, secret_repo, value)
    secret_repo.commit({"policy.yaml": FOUR_EYES}, "a secret and a policy", add_all=True)
    before = _refs(secret_repo)
    with served(secret_repo.workdir, security=writers()) as client:
        etag = client.get(CONFIG).headers["etag"]
        refused = _patch(client, {"db": {"password": "plain"}}, etag)
        other = client.patch(
            "/api/v1/config/payments/prod",
            content=json.dumps({"db": {"pool_size": 50}}),
            headers={"Content-Type": MERGE_PATCH, "If-Match": etag, "X-User": "alice"},
        )
        shown = client.get("/api/v1/changes/1")
    assert refused.status_code == 422
    assert refused.json()["secret_keys"] == ["db.password"]
    assert refused.json()["hint"].startswith("PUT /api/v1/secrets/payments/prod/KEY")
    assert "cfgctl secrets set payments KEY --env prod" in refused.json()["hint"]
    assert other.status_code == 202 and shown.status_code == 200
    assert before == {k: v for k, v in _refs(secret_repo).items() if "cfgctl/changes" not in k}
    for answer in (refused, other, shown):
        for secret in SECRET_VALUES:
            assert secret not in answer.text


@pytest.mark.slow
def test_a_real_server_wakes_a_long_poll_with_the_merge(repo: ConfigRepo, tmp_path: Path) -> None:
    with write_server(repo.workdir, tmp_path) as url:
        api = url + "/api/v1"
        first = httpx2.get(api + CONFIG.removeprefix("/api/v1"), timeout=10)
        old = first.headers["cfgctl-commit"]
        headers = {"Content-Type": MERGE_PATCH, "If-Match": first.headers["etag"]}
        opened = httpx2.patch(
            api + "/config/payments/prod",
            content=b'{"db": {"pool_size": 55}}',
            headers={**headers, "X-User": "alice"},
            timeout=30,
        )
        assert opened.status_code == 202, opened.text
        number = opened.json()["id"]
        polled: list[httpx2.Response] = []
        poll = threading.Thread(
            target=lambda: polled.append(
                httpx2.get(
                    api + "/config/payments/prod",
                    params={"wait": "10s", "after": old},
                    timeout=30,
                )
            )
        )
        poll.start()
        deadline = time.monotonic() + 10
        while httpx2.get(api + "/status").json()["waiting"] < 1:  # the poll is held
            assert time.monotonic() < deadline, "the long poll never waited"
            time.sleep(0.02)
        denied = httpx2.post(f"{api}/changes/{number}/approve", headers={"X-User": "alice"})
        approved = httpx2.post(f"{api}/changes/{number}/approve", headers={"X-User": "bob"})
        merged = httpx2.post(f"{api}/changes/{number}/merge", headers={"X-User": "bob"}, timeout=30)
        poll.join(timeout=20)
    assert denied.status_code == 403 and approved.json()["verdict"]["state"] == "success"
    assert merged.status_code == 200, merged.text
    assert len(polled) == 1 and polled[0].status_code == 200
    assert polled[0].headers["cfgctl-commit"] == merged.json()["merged"] != old
    assert polled[0].json()["config"]["db"]["pool_size"] == 55
    # the change and its merge are commits in the trace of the server's write (cfgctl.telemetry)
    merge = repo.repo[pygit2.Oid(hex=merged.json()["merged"])].peel(pygit2.Commit)
    for commit in (merge, *merge.parents[1:]):
        assert Traceparent.parse(commit_trailers(commit.message).get("traceparent")), commit.message
    spans = [
        json.loads(line)
        for path in (Path.home() / ".local/state/cfgctl/traces").glob("cfgctl-serve-*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert {s["name"] for s in spans} >= {"serve.propose", "serve.act"}
    made = {s["attributes"].get("cfgctl.commit") for s in spans}
    assert {str(c.id) for c in (merge, *merge.parents[1:])} <= made


def test_a_secret_is_proposed_encrypted_and_never_shown(
    secret_repo: ConfigRepo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cfgctl.repo import sops
    from cfgctl.repo.render import is_encrypted
    from cfgctl.repo.yamlio import parse

    old, new = "s3cr3t-old-7c21", "s3cr3t-new-b9e0"
    set_secret(run_cli, secret_repo, old)
    secret_repo.commit({"policy.yaml": FOUR_EYES}, "a secret and a policy", add_all=True)
    SECRET_VALUES.add(new)
    rel = "config/prod/payments.secrets.yaml"
    tip = str(secret_repo.repo.head.target)
    path = "/api/v1/secrets/payments/prod/db.password"
    headers = {"X-User": "alice"}
    with served(secret_repo.workdir, security=writers()) as client:
        opened = client.put(path, json={"value": new}, headers=headers)
        created = client.put(
            "/api/v1/secrets/payments/prod-eu/db.password", json={"value": new}, headers=headers
        )
        broken = client.put(path, json={"value": 12345}, headers=headers)
        empty = client.put(path, json={"value": ""}, headers=headers)
        anonymous = client.put(path, json={"value": new})
        unknown = client.put("/api/v1/secrets/paymnts/prod/db.password", json={"value": new},
                             headers=headers)  # fmt: skip
    assert opened.status_code == 202, opened.text
    assert created.status_code == 202, created.text
    assert str(secret_repo.repo.references["refs/heads/main"].target) == tip
    data = _blob(secret_repo, opened.json()["head"], rel).encode()
    assert is_encrypted(parse(data, rel).data)
    assert sops.decrypt(data, rel)["db"]["password"] == new  # alice's key opens it
    plain = _blob(secret_repo, created.json()["head"], "config/prod-eu/payments.secrets.yaml")
    assert new not in plain and "ENC[" in plain
    assert opened.json()["plan"]["impact"][0]["secret_keys"] == ["db.password"]
    assert broken.status_code == 422 and empty.status_code == 400
    assert anonymous.status_code == 403 and unknown.status_code == 404
    for answer in (opened, created, broken, empty, anonymous, unknown):
        for secret in SECRET_VALUES:
            assert secret not in answer.text
    assert not list(Path(tempfile.gettempdir()).glob("cfgctl-secret-*"))  # copies removed
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(tmp_path / "no-key.txt"))
    with served(secret_repo.workdir, security=writers()) as client:
        keyless = client.put(path, json={"value": new}, headers=headers)
    assert keyless.status_code == 503, keyless.text
    assert keyless.json()["type"] == "urn:cfgctl:problem:environment" and new not in keyless.text


class SreTeam(Writers):
    """Writers, and a team: bob is in @acme/sre (as rbac.yaml's group acme/sre would say)."""

    def is_member(self, team: str, user: str) -> bool:
        return team.removeprefix("@") == "acme/sre" and user == "bob"


def test_a_team_rule_counts_the_members_the_policy_names(example_repo: ConfigRepo) -> None:
    policy = FOUR_EYES.replace("require: {approvals: 1}", 'require: {teams: ["@acme/sre"]}')
    example_repo.commit({"policy.yaml": policy}, "sre approves")
    for security, approver, passes in (
        (writers(), "bob", False),  # no membership: teams count nobody
        (Security(HeaderUser(), SreTeam(), NoAudit()), "carol", False),
        (Security(HeaderUser(), SreTeam(), NoAudit()), "bob", True),
    ):
        with served(example_repo.workdir, security=security) as client:
            etag = client.get(CONFIG).headers["etag"]
            number = _patch(client, {"replicas": 7}, etag).json()["id"]
            path = f"/api/v1/changes/{number}"
            verdict = client.post(f"{path}/approve", headers={"X-User": approver}).json()["verdict"]
            merge = client.post(f"{path}/merge", headers={"X-User": approver})
            client.post(f"{path}/reject", headers={"X-User": "alice"})
        assert (verdict["state"] == "success") is passes, (approver, verdict)
        assert merge.status_code == (200 if passes else 409)


def test_a_merge_moves_the_checked_out_work_tree_or_waits_for_its_edits(repo: ConfigRepo) -> None:
    work = repo.workdir / PROD
    original = work.read_text()
    with served(repo.workdir, security=writers()) as client:
        opened = _patch(client, {"replicas": 8}, client.get(CONFIG).headers["etag"])
        path = f"/api/v1/changes/{opened.json()['id']}"
        client.post(f"{path}/approve", headers={"X-User": "bob"})
        before = str(repo.repo.references["refs/heads/main"].target)
        work.write_text(original + "# an edit of someone's, not committed\n")
        waiting = client.post(f"{path}/merge", headers={"X-User": "bob"})
        assert waiting.status_code == 409, waiting.text
        assert (
            "edits not committed" in waiting.json()["detail"] and PROD in waiting.json()["detail"]
        )
        assert "stash" in waiting.json()["hint"]
        assert str(repo.repo.references["refs/heads/main"].target) == before  # nothing moved
        assert work.read_text().endswith("not committed\n")  # nothing lost
        work.write_text(original)
        merged = client.post(f"{path}/merge", headers={"X-User": "bob"})
    assert merged.status_code == 200, merged.text
    assert "replicas: 8" in work.read_text()  # the work tree followed the branch
    assert repo.repo.status() == {}  # and its index: nothing looks edited
