"""POST /api/v1/reverts (a change request that undoes one commit), GET /changes/{n}/impact and
GET /commits/{service}/{env}: on a real repository, in-process, with subjects named by X-User."""

from __future__ import annotations

import json
from typing import Any

import pygit2
import pytest
from fastapi.testclient import TestClient

from cfgctl.server.security import NoAudit, Security, Subject
from tests.support.gitrepo import ConfigRepo
from tests.support.policies import FOUR_EYES
from tests.support.server import served
from tests.support.writeserver import HeaderUser, writers

PROD = "config/prod/payments.yaml"


@pytest.fixture
def repo(example_repo: ConfigRepo) -> ConfigRepo:
    example_repo.commit({"policy.yaml": FOUR_EYES}, "a simple policy")
    return example_repo


def _tip(repo: ConfigRepo) -> str:
    return str(repo.repo.references["refs/heads/main"].target)


def _blob(repo: ConfigRepo, commit: str, path: str) -> str | None:
    tree = repo.repo[pygit2.Oid(hex=commit)].peel(pygit2.Commit).tree
    return repo.repo[tree[path].id].peel(pygit2.Blob).data.decode() if path in tree else None


def _revert(client: TestClient, commit: str, user: str = "alice", **extra: Any) -> Any:
    body = json.dumps({"commit": commit, **extra})
    headers = {"Content-Type": "application/json", "X-User": user}
    return client.post("/api/v1/reverts", content=body, headers=headers)


def _replicas(repo: ConfigRepo, value: int) -> str:
    text = repo.read(PROD).replace("replicas: 6", f"replicas: {value}")
    repo.commit({PROD: text}, f"payments: {value} replicas in prod")
    return _tip(repo)


def test_a_revert_opens_a_change_request_that_undoes_the_commit(repo: ConfigRepo) -> None:
    before = repo.read(PROD)
    commit = _replicas(repo, 9)
    repo.commit({"config/staging/search.yaml": "replicas: 2\n"}, "a later edit elsewhere")
    tip = _tip(repo)
    with served(repo.workdir, security=writers()) as client:
        answer = _revert(client, commit[:10])
        doc = answer.json()
        impact = client.get(f"/api/v1/changes/{doc['id']}/impact").json()
        client.post(f"/api/v1/changes/{doc['id']}/approve", headers={"X-User": "bob"})
        merged = client.post(f"/api/v1/changes/{doc['id']}/merge", headers={"X-User": "bob"})
        again = _revert(client, commit)
        history = client.get("/api/v1/commits/payments/prod", params={"key": "replicas"}).json()
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/api/v1/changes/{doc['id']}"
    assert doc["title"] == 'Revert "payments: 9 replicas in prod"' and doc["author"] == "alice"
    assert doc["plan"]["files"] == [PROD]
    head = repo.repo[pygit2.Oid(hex=doc["head"])].peel(pygit2.Commit)
    assert str(head.parents[0].id) == tip and f"This reverts commit {commit}." in head.message
    assert _blob(repo, doc["head"], PROD) == before
    assert _blob(repo, doc["head"], "config/staging/search.yaml") == "replicas: 2\n"  # kept
    pairs = {(p["service"], p["env"]): p["changes"] for p in impact["pairs"]}
    assert pairs[("payments", "prod")] == [
        {"path": "replicas", "kind": "changed", "old": 9, "new": 6}
    ]
    assert ("payments", "prod-eu") in pairs and impact["hidden"] == 0
    assert impact["base"] == tip and impact["checks"]["ok"] is True
    assert impact["edits"] == ["payments@prod"]
    assert merged.status_code == 200 and merged.json()["state"] == "merged"
    assert again.status_code == 409 and again.json()["files"] == []  # undone already
    assert "already" in again.json()["detail"]
    # The history: the revert's merge (from change request 1), then the commit it undid.
    (undo, did) = history["commits"][:2]
    assert undo["change_request"]["id"] == doc["id"] and undo["author"] == "alice"
    assert undo["changes"] == [{"path": "replicas", "kind": "changed", "old": 9, "new": 6}]
    assert did["commit"] == commit and did["change_request"] is None


def test_a_commit_that_no_longer_reverts_cleanly_is_a_409_naming_the_files(
    repo: ConfigRepo,
) -> None:
    commit = _replicas(repo, 9)
    _replicas_again = repo.read(PROD).replace("replicas: 9", "replicas: 10")
    repo.commit({PROD: _replicas_again}, "10 replicas")
    tip = _tip(repo)
    with served(repo.workdir, security=writers()) as client:
        answer = _revert(client, commit)
        listed = client.get("/api/v1/changes").json()["items"]
    assert answer.status_code == 409, answer.text
    problem = answer.json()
    assert problem["type"] == "urn:cfgctl:problem:conflict" and problem["files"] == [PROD]
    assert "no longer reverts cleanly" in problem["detail"] and problem["hint"]
    assert listed == [] and _tip(repo) == tip


def test_refusals_unknown_off_the_branch_first_commit_bad_bodies(repo: ConfigRepo) -> None:
    first = str(next(iter(repo.repo.walk(repo.repo.head.target))).id)
    root = next(c for c in repo.repo.walk(repo.repo.head.target) if not c.parents)
    with served(repo.workdir, security=writers()) as client:
        etag = client.get("/api/v1/config/payments/prod").headers["etag"]
        opened = client.patch(
            "/api/v1/config/payments/prod",
            content=json.dumps({"replicas": 7}),
            headers={"Content-Type": "application/json", "If-Match": etag, "X-User": "alice"},
        ).json()
        off_branch = _revert(client, opened["head"])  # a change request's head, not merged
        unknown = _revert(client, "0" * 40)
        rootless = _revert(client, str(root.id))
        no_commit = client.post(
            "/api/v1/reverts",
            content=b'{"sha": "x"}',
            headers={"Content-Type": "application/json", "X-User": "alice"},
        )
        option = _revert(client, "--all")
        nul = _revert(client, "HEAD\u0000")  # HEAD, to git; a 400 here
        anonymous = client.post(
            "/api/v1/reverts",
            content=json.dumps({"commit": first}),
            headers={"Content-Type": "application/json"},
        )
        count = len(client.get("/api/v1/changes").json()["items"])
    assert off_branch.status_code == 409 and "is not on main" in off_branch.json()["detail"]
    assert unknown.status_code == 404 and unknown.json()["type"] == "urn:cfgctl:problem:not-found"
    assert rootless.status_code == 409 and "first of main" in rootless.json()["detail"]
    assert no_commit.status_code == 400 and option.status_code == 400 and nul.status_code == 400
    assert anonymous.status_code == 403  # edit is not anybody's
    assert count == 1  # only the patch's


class EditOnly:
    """Read everything; edit only the objects named."""

    def __init__(self, *objects: str) -> None:
        self.objects = set(objects)

    def allows(self, subject: Subject, action: str, obj: str) -> bool:
        return action == "read" or (action == "edit" and obj in self.objects)


def test_a_revert_needs_edit_on_every_pair_it_touches(repo: ConfigRepo) -> None:
    prod = _replicas(repo, 9)
    defaults = repo.read("config/base/_defaults.yaml")
    repo.commit({"config/base/_defaults.yaml": defaults + "# a comment\nextra: 1\n"}, "defaults")
    base_edit = _tip(repo)
    manifest = repo.read("cfgctl.yaml") + "# a note\n"
    repo.commit({"cfgctl.yaml": manifest}, "a note in the manifest")
    note = _tip(repo)

    def security(*objects: str) -> Security:
        return Security(HeaderUser(), EditOnly(*objects), NoAudit())

    only_prod = security("config:payments@prod")
    with served(repo.workdir, security=only_prod) as client:
        narrow = _revert(client, prod)  # prod-eu inherits it: edit there too
        narrow_doc = narrow.json()
    with served(repo.workdir, security=security("config:payments@prod", "config:payments@prod-eu")) as client:  # fmt: skip
        wide = _revert(client, prod)
        objects = len(list(repo.repo))
        defaults_revert = _revert(client, base_edit)  # reaches every pair: refused
        manifest_revert = _revert(client, note)
        written = len(list(repo.repo)) - objects
    with served(repo.workdir, security=security("config:*@*")) as client:
        everything = _revert(client, note)
    assert narrow.status_code == 403, narrow.text
    assert narrow_doc["object"] == "config:payments@prod-eu"
    assert wide.status_code == 202, wide.text
    assert defaults_revert.status_code == 403
    assert defaults_revert.json()["object"] == "config:payments@base"  # every pair from base
    assert written == 0  # refused before the revert was computed
    assert manifest_revert.status_code == 403 and manifest_revert.json()["object"] == "config:*@*"
    assert everything.status_code == 202, everything.text


def test_the_commits_of_a_pair_with_their_diffs_and_a_key(repo: ConfigRepo) -> None:
    nine = _replicas(repo, 9)
    with served(repo.workdir, security=writers()) as client:
        every = client.get("/api/v1/commits/payments/prod").json()
        keyed = client.get("/api/v1/commits/payments/prod", params={"key": "db"}).json()
        limited = client.get("/api/v1/commits/payments/prod", params={"max": 1}).json()
        unknown = client.get("/api/v1/commits/paymnts/prod")
        bad_key = client.get("/api/v1/commits/payments/prod", params={"key": "a..b"})
    assert every["commits"][0]["commit"] == nine and every["commits"][0]["parents"]
    assert every["commits"][0]["changes"] == [
        {"path": "replicas", "kind": "changed", "old": 6, "new": 9}
    ]
    assert every["commits"][-1]["changes"][0]["kind"] == "added"  # the pair's first commit
    assert nine not in [c["commit"] for c in keyed["commits"]]
    assert all(c["path"].startswith("db") for k in keyed["commits"] for c in k["changes"])
    assert len(limited["commits"]) == 1
    assert unknown.status_code == 404 and bad_key.status_code == 400


class OnConfigurations:
    """Every action on configurations (`config:...`, `*@*` included), nothing on anything else:
    as rbac.yaml, whose grants name configurations only."""

    def allows(self, subject: Subject, action: str, obj: str) -> bool:
        return action == "read" or obj.startswith("config:")


def test_a_change_of_other_files_is_reviewed_and_merged_on_everything(repo: ConfigRepo) -> None:
    defaults = repo.read("config/staging/_defaults.yaml")
    repo.commit({"config/staging/_defaults.yaml": defaults + "extra: 1\n"}, "staging defaults")
    staging = _tip(repo)
    repo.commit({"cfgctl.yaml": repo.read("cfgctl.yaml") + "# a note\n"}, "a manifest note")
    note = _tip(repo)
    security = Security(HeaderUser(), OnConfigurations(), NoAudit())
    with served(repo.workdir, security=security) as client:
        answers = [_revert(client, commit) for commit in (staging, note)]
        assert [a.status_code for a in answers] == [202, 202], [a.text for a in answers]
        opened = [a.json()["id"] for a in answers]
        for number in opened:  # once asked on an object no grant covers: stuck open for good
            impact = client.get(f"/api/v1/changes/{number}/impact", headers={"X-User": "bob"})
            assert impact.status_code == 200, impact.text
            approved = client.post(f"/api/v1/changes/{number}/approve", headers={"X-User": "bob"})
            assert approved.status_code == 200, approved.text
        staging_edits = client.get(f"/api/v1/changes/{opened[0]}/impact").json()["edits"]
        merged = client.post(f"/api/v1/changes/{opened[1]}/merge", headers={"X-User": "bob"})
        withdrawn = client.post(f"/api/v1/changes/{opened[0]}/reject", headers={"X-User": "alice"})
    assert "payments@staging" in staging_edits and "search@staging" in staging_edits
    assert merged.status_code == 200, merged.text
    assert withdrawn.status_code == 200, withdrawn.text
