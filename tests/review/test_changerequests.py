"""Change requests without a forge (`cfgctl.review.changerequests`): opened as commits in the
repository's own refs, reviewed, judged by the policy code of `pr gate`, merged with a
compare-and-swap of the base branch; on a real repository."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pygit2
import pytest

from cfgctl.errors import InputError
from cfgctl.repo.gitstore import GitStore
from cfgctl.review.changerequests import ChangeStore, NotAllowed
from tests.support.gitrepo import ConfigRepo

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)  # before the template's year-end freeze
POLICY = """\
version: 1
rules:
  - name: four-eyes
    when: {services: ["*"]}
    require: {approvals: 1}
"""
STAGING = "config/staging/payments.yaml"


@pytest.fixture
def store(example_repo: ConfigRepo) -> ChangeStore:
    example_repo.commit({"policy.yaml": POLICY}, "a simple policy")
    return ChangeStore(GitStore.open(example_repo.workdir), example_repo.workdir)


def _edit(replicas: int) -> dict[str, bytes | None]:
    """payments gets a staging layer of its own (the example has none)."""
    return {STAGING: f"replicas: {replicas}\n".encode()}


def _main(store: ChangeStore) -> str:
    return str(store.repo.references["refs/heads/main"].target)


def test_a_change_request_lives_in_refs_and_leaves_main_and_the_work_tree(
    store: ChangeStore, example_repo: ConfigRepo
) -> None:
    before = _main(store)
    files = _edit(3)
    cr = store.open("payments: 3 replicas in staging", "alice", "main", files, now=NOW)
    assert cr.id == 1 and cr.state == "open" and cr.author == "alice"
    assert _main(store) == before and not (example_repo.workdir / STAGING).exists()
    head = store.repo[pygit2.Oid(hex=cr.head)].peel(pygit2.Commit)
    assert str(head.parents[0].id) == before
    assert b"replicas: 3" in store.repo[head.tree[STAGING].id].peel(pygit2.Blob).data
    assert str(store.repo.references["refs/cfgctl/changes/1/head"].target) == cr.head
    second = store.open("another", "carol", "main", files, now=NOW)
    assert second.id == 2
    assert [c.id for c in store.list()] == [1, 2] and store.get(1).title == cr.title


def test_the_author_never_approves_and_merging_needs_the_policy(
    store: ChangeStore, example_repo: ConfigRepo
) -> None:
    cr = store.open("3 replicas", "alice", "main", _edit(3))
    with pytest.raises(NotAllowed, match="nobody approves their own change"):
        store.review(cr.id, "alice", "approve")
    judged = store.judge(cr.id, now=NOW)
    assert judged.verdict.state == "pending" and "four-eyes" in judged.verdict.description
    assert [p.to_dict()["service"] for p in judged.plan.impact.pairs] == ["payments"]
    before = _main(store)
    with pytest.raises(NotAllowed, match="cannot be merged"):
        store.merge(cr.id, "alice", now=NOW)
    assert _main(store) == before and store.get(cr.id).state == "open"  # nothing written

    store.review(cr.id, "bob", "approve", now=NOW)
    merged = store.merge(cr.id, "bob", now=NOW)
    assert merged.state == "merged" and merged.merged == cr.head == _main(store)  # fast-forward
    events = []
    commit = store.repo.references["refs/cfgctl/changes/1/meta"].peel(pygit2.Commit)
    while True:
        events.append(commit.message)
        if not commit.parents:
            break
        commit = commit.parents[0]
    assert [e.split(" ")[0] for e in reversed(events)] == ["opened", "approved", "merged"]
    with pytest.raises(InputError, match="is merged"):
        store.review(cr.id, "carol", "approve")


def test_a_base_that_moved_gets_a_merge_commit_or_a_refusal_on_conflict(
    store: ChangeStore, example_repo: ConfigRepo
) -> None:
    clean = store.open("3 replicas", "alice", "main", _edit(3))
    clash = store.open("4 replicas", "alice", "main", _edit(4))
    moved = example_repo.commit({"config/prod/payments.yaml": example_repo.read(
        "config/prod/payments.yaml").replace("replicas: 6", "replicas: 7")}, "prod moved")  # fmt: skip
    for cr in (clean, clash):
        store.review(cr.id, "bob", "approve")
    merged = store.merge(clean.id, "bob", now=NOW)
    commit = store.repo[pygit2.Oid(hex=_main(store))].peel(pygit2.Commit)
    assert merged.merged == str(commit.id) and len(commit.parents) == 2
    assert {str(p.id) for p in commit.parents} == {moved, clean.head}
    before = _main(store)
    with pytest.raises(NotAllowed, match=f"conflicts with main: {STAGING}"):
        store.merge(clash.id, "bob", now=NOW)
    assert _main(store) == before and store.get(clash.id).state == "open"


def test_a_stale_approval_and_a_rejection(store: ChangeStore, example_repo: ConfigRepo) -> None:
    cr = store.open("3 replicas", "alice", "main", _edit(3))
    store.review(cr.id, "bob", "request_changes")
    assert store.judge(cr.id, now=NOW).verdict.state == "failure"
    store.review(cr.id, "bob", "approve")  # the latest review of each reviewer counts
    assert store.judge(cr.id, now=NOW).verdict.passed
    rejected = store.reject(cr.id, "carol")
    assert rejected.state == "rejected" and rejected.closed_by == "carol"
    meta = store.repo.references["refs/cfgctl/changes/1/meta"].peel(pygit2.Commit)
    data = json.loads(store.repo[meta.tree["change.json"].id].peel(pygit2.Blob).data)
    assert [r["state"] for r in data["reviews"]] == ["CHANGES_REQUESTED", "APPROVED"]
    with pytest.raises(InputError, match="no change request 9"):
        store.get(9)
    with pytest.raises(InputError, match="no branch 'nope'"):
        store.open("x", "alice", "nope", {})


def test_a_change_is_opened_on_the_commit_it_was_computed_from(
    store: ChangeStore, example_repo: ConfigRepo
) -> None:
    old = _main(store)
    example_repo.commit({"config/prod/_defaults.yaml": "replicas: 2\n"}, "main moved")
    cr = store.open("3 replicas", "alice", "main", _edit(3), parent=old)
    head = store.repo[pygit2.Oid(hex=cr.head)].peel(pygit2.Commit)
    assert str(head.parents[0].id) == old  # not the tip: a merge will keep what main got since
    store.review(cr.id, "bob", "approve")
    merged = store.merge(cr.id, "bob", now=NOW)
    tree = store.repo[pygit2.Oid(hex=merged.merged or "")].peel(pygit2.Commit).tree
    assert STAGING in tree and "config/prod/_defaults.yaml" in tree
    side = example_repo.repo.create_commit(
        None, head.author, head.author, "elsewhere", head.tree.id, []
    )
    with pytest.raises(InputError, match="is not a commit of main"):
        store.open("x", "alice", "main", _edit(4), parent=str(side))
