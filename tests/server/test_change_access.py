"""Who sees which change request, behind real API tokens and rbac.yaml (tests/support/rbac.py):
the list shows each to a caller who may read what it edits; one change request and its impact
need read on every configuration it edits."""

from __future__ import annotations

import json

from tests.support.guarded import STAGING, Guarded


def test_the_list_shows_each_change_request_to_who_may_read_what_it_edits(
    guarded: Guarded,
) -> None:
    alice = guarded.token("alice", "editor", "payments@staging")
    read = guarded.get(STAGING, alice)
    headers = {
        "Authorization": f"Bearer {alice}",
        "If-Match": read.headers["etag"],
        "Content-Type": "application/json",
    }
    opened = guarded.client.patch(STAGING, content=json.dumps({"replicas": 5}), headers=headers)
    assert opened.status_code == 202, opened.text
    number = opened.json()["id"]
    carol = guarded.token("carol", "approver", "*@prod*")
    everyone = guarded.token("viewers-all", "viewer", "*@*")

    def listed(token: str) -> list[int]:
        answer = guarded.get("/api/v1/changes", token)
        assert answer.status_code == 200, answer.text
        return [c["id"] for c in answer.json()["items"]]

    assert listed(alice) == [number] and listed(everyone) == [number]
    assert listed(carol) == []  # she reads prod only
    assert guarded.get("/api/v1/changes").status_code == 401
    impact = guarded.get(f"/api/v1/changes/{number}/impact", alice)
    assert impact.status_code == 200, impact.text
    assert impact.json()["edits"] == ["payments@staging"]
    assert [p["env"] for p in impact.json()["pairs"]] == ["staging"]
    assert "diagnostics" in impact.json()["checks"]
    refused = guarded.get(f"/api/v1/changes/{number}/impact", carol)
    assert refused.status_code == 403 and refused.json()["object"] == "config:payments@staging"
