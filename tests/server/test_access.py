"""`cfgctl serve` without --insecure-local: real API tokens, the rules of rbac.yaml on the
served branch, and the hash-chained audit log (the app in-process; test_access_process.py
starts the real command)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from httpx2 import Response

from cfgctl.server.auditlog import verify
from tests.support.gitrepo import ConfigRepo
from tests.support.guarded import PROD, STAGING, VALUE, Guarded
from tests.support.rbac import RULES
from tests.support.server import served


def _problem(answer: Response, status: int, kind: str) -> dict[str, object]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    doc: dict[str, object] = answer.json()
    assert doc["type"] == f"urn:cfgctl:problem:{kind}"
    return doc


def test_no_token_is_401_with_its_reason_and_audited(guarded: Guarded) -> None:
    answer = guarded.get(PROD)
    doc = _problem(answer, 401, "unauthenticated")
    assert doc["reason"] == "missing"
    assert answer.headers["www-authenticate"] == 'Bearer realm="cfgctl"'
    rid = answer.headers["x-request-id"]
    assert rid.startswith("r-")
    (line,) = guarded.audit()
    assert line["action"] == "authenticate" and line["outcome"] == "denied"
    assert line["request_id"] == rid and line["object"] == "/api/v1/config/payments/prod"
    assert line["detail"] == {"path": PROD, "reason": "missing", "via": "none"}
    assert guarded.get("/api/v1/services").status_code == 401  # lists too
    assert guarded.get("/api/v1/status").status_code == 401


def test_malformed_unknown_forged_revoked_and_expired_tokens_are_401(guarded: Guarded) -> None:
    good = guarded.token("root", "admin", "*")
    token_id = good.split("_")[1]
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    unknown = "cfgctl_0123456789ab_" + good.split("_", 2)[2]
    past = datetime.now(UTC) - timedelta(days=2)
    expired = guarded.token("root", "admin", "*", now=past)
    revoked = guarded.token("root", "admin", "*")
    guarded.store.revoke(revoked.split("_")[1])
    cases = {
        "malformed": "cfgctl_nope",
        "unknown": unknown,
        "forged": forged,
        "expired": expired,
        "revoked": revoked,
    }
    for reason, token in cases.items():
        answer = guarded.get(PROD, token)
        doc = _problem(answer, 401, "unauthenticated")
        assert doc["reason"] == reason
        assert 'error="invalid_token"' in answer.headers["www-authenticate"]
        assert token not in answer.text
        # the secret part (cfgctl_<id>_<secret>; the secret may hold "_" itself) never echoed
        assert token.split("_", 2)[-1] not in answer.text
    assert guarded.get(PROD, good).status_code == 200
    lines = guarded.audit()
    assert [line["detail"]["reason"] for line in lines] == list(cases)  # type: ignore[index]
    assert lines[2]["detail"]["token_id"] == token_id  # type: ignore[index]
    assert verify(guarded.state / "audit.jsonl").ok


def test_a_token_scoped_to_staging_cannot_read_prod(guarded: Guarded) -> None:
    alice = guarded.token("alice", "editor", "payments@staging")
    assert guarded.get(STAGING, alice).status_code == 200
    assert guarded.get("/api/v1/services", alice).status_code == 200
    doc = _problem(guarded.get(PROD, alice), 403, "forbidden")
    assert doc["object"] == "config:payments@prod" and doc["action"] == "read"
    assert "scope (payments@staging) does not cover payments@prod" in str(doc["reason"])
    # alice's own grants do not reach prod either, whatever her token says
    wide = guarded.token("alice", "editor", "*")
    doc = _problem(guarded.get(PROD, wide), 403, "forbidden")
    assert "no grant in rbac.yaml allows alice to read payments@prod" in str(doc["reason"])
    first, _ = guarded.audit()
    assert first["subject"] == "alice" and first["outcome"] == "denied"
    assert first["commit"] == str(guarded.repo.repo.head.target)


def test_a_subject_rbac_yaml_does_not_name_reads_nothing(guarded: Guarded) -> None:
    mallory = guarded.token("mallory", "admin", "*")
    for path in (PROD, "/api/v1/services", "/api/v1/status", "/api/v1/schemas/web-service"):
        doc = _problem(guarded.get(path, mallory), 403, "forbidden")
        assert "mallory" in str(doc["detail"])


def test_a_viewer_revealing_is_403_and_audited(guarded: Guarded) -> None:
    viewer = guarded.token("viewers-all", "viewer", "*")
    masked = guarded.get(PROD, viewer)
    assert masked.status_code == 200
    assert masked.json()["config"]["db"]["password"] == "***"
    answer = guarded.get(PROD, viewer, reveal="true")
    doc = _problem(answer, 403, "forbidden")
    assert doc["action"] == "reveal"
    assert "role viewer does not include reveal" in str(doc["reason"])
    assert VALUE not in answer.text
    (line,) = guarded.audit()  # the masked read is not audited, the refused reveal is
    assert (line["subject"], line["action"], line["outcome"]) == ("viewers-all", "reveal", "denied")
    assert line["request_id"] == answer.headers["x-request-id"]


def test_an_admin_reveals_and_the_audit_line_has_no_value(guarded: Guarded) -> None:
    root = guarded.token("root", "admin", "*")
    answer = guarded.get(PROD, root, reveal="true")
    assert answer.status_code == 200
    assert answer.json()["config"]["db"]["password"] == VALUE
    assert answer.headers["cache-control"] == "no-store"
    (line,) = guarded.audit()
    assert (line["subject"], line["action"], line["object"], line["outcome"]) == (
        "root", "reveal", "config:payments@prod", "allowed",
    )  # fmt: skip
    assert line["request_id"] == answer.headers["x-request-id"]
    assert str(line["detail"]["matched_rule"]).startswith("rbac.yaml:")  # type: ignore[index]
    assert line["detail"]["token_id"] == root.split("_")[1]  # type: ignore[index]
    assert VALUE not in (guarded.state / "audit.jsonl").read_text()


def test_an_unwritable_audit_log_refuses_reveals_but_not_reads(guarded: Guarded) -> None:
    (guarded.state / "audit.jsonl").mkdir()  # as root, a directory is what cannot be written
    root = guarded.token("root", "admin", "*")
    refused = guarded.get(PROD, root, reveal="true")
    doc = _problem(refused, 503, "environment")
    assert doc["exit_code"] == 3
    assert VALUE not in refused.text
    assert guarded.get(PROD, root).json()["config"]["db"]["password"] == "***"
    assert guarded.get("/api/v1/services", root).status_code == 200
    _problem(guarded.get(PROD), 401, "unauthenticated")  # denials stay denials
    guarded.answers.clear()  # the leak check reads the audit file, a folder here
    (guarded.state / "audit.jsonl").rmdir()


def test_authz_check_answers_admins_only(guarded: Guarded) -> None:
    root = guarded.token("root", "admin", "*")
    check = "/api/v1/authz/check"
    answer = guarded.get(check, root, subject="alice", action="edit", object="payments@staging")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["allowed"] is True
    assert body["matched_rule"].startswith("rbac.yaml:5:")
    assert "alice is in it" in body["reason"]
    assert body["commit"] == str(guarded.repo.repo.head.target)
    denied = guarded.get(check, root, subject="alice", action="edit", object="payments@prod")
    assert denied.json()["allowed"] is False and denied.json()["matched_rule"] is None
    bad = guarded.get(check, root, subject="alice", action="eddit", object="payments@prod")
    assert _problem(bad, 400, "bad-request")["hint"]
    scoped = guarded.token("root", "admin", "payments@*")  # an admin token not on the server
    _problem(guarded.get(check, scoped, subject="a", action="read", object="*@*"), 403, "forbidden")
    alice = guarded.token("alice", "editor", "*")
    _problem(guarded.get(check, alice, subject="a", action="read", object="*@*"), 403, "forbidden")


def test_a_broken_rbac_yaml_denies_everything_with_503(guarded: Guarded) -> None:
    root = guarded.token("root", "admin", "*")
    assert guarded.get(PROD, root).status_code == 200
    guarded.repo.commit({"rbac.yaml": RULES.replace("role: admin", "role: superuser")}, "typo")
    guarded.client.app.state.watcher.poll()  # type: ignore[attr-defined]
    doc = _problem(guarded.get(PROD, root), 503, "environment")
    assert "access rules cannot be read" in str(doc["detail"])
    assert doc["location"]["path"] == "rbac.yaml"  # type: ignore[index]
    line = guarded.audit()[-1]
    assert line["outcome"] == "denied" and "superuser" in str(line["detail"])


def test_without_rbac_yaml_nothing_is_allowed(guarded: Guarded) -> None:
    guarded.repo.commit({"rbac.yaml": None}, "no rules")
    guarded.client.app.state.watcher.poll()  # type: ignore[attr-defined]
    root = guarded.token("root", "admin", "*")
    doc = _problem(guarded.get(PROD, root), 403, "forbidden")
    assert "rbac.yaml (absent)" in str(doc["reason"])


def test_insecure_local_keeps_anonymous_reads_with_request_ids(example_repo: ConfigRepo) -> None:
    with served(example_repo.workdir) as client:
        read = client.get(PROD, headers={"X-Request-Id": "chosen-by-the-client"})
        again = client.get(PROD)
        check = client.get(
            "/api/v1/authz/check", params={"subject": "a", "action": "read", "object": "*@*"}
        )
        missing = client.get("/api/v1/config/paymnts/prod")
    assert read.status_code == 200
    rid = read.headers["x-request-id"]
    assert rid.startswith("r-") and rid != again.headers["x-request-id"]  # the server's own
    assert read.headers.get_list("x-request-id") == [rid]
    assert _problem(check, 403, "forbidden")["action"] == "admin"
    assert missing.headers["x-request-id"].startswith("r-")  # problems carry one too


def test_reports_spring_paths_and_agents_under_the_rules(guarded: Guarded) -> None:
    alice = guarded.token("alice", "editor", "payments@staging")
    everyone = guarded.token("viewers-all", "viewer", "*")
    assert guarded.get("/payments/staging", alice).status_code == 200  # Spring Cloud Config
    doc = _problem(guarded.get("/payments/staging,prod", alice), 403, "forbidden")
    assert "payments@prod" in str(doc["reason"])  # every profile is asked for
    history = "/api/v1/history/payments/{}"
    assert guarded.get(history.format("staging"), alice, key="replicas").status_code == 200
    _problem(guarded.get(history.format("prod"), alice, key="replicas"), 403, "forbidden")
    # a report over every configuration needs read on *@*
    _problem(guarded.get("/api/v1/validate", alice), 403, "forbidden")
    assert guarded.get("/api/v1/validate", everyone).status_code == 200
    assert guarded.get("/api/v1/agents", alice).status_code == 200


def _report(*pairs: str) -> dict[str, object]:
    targets = [
        {"target": f"{p}:/srv/{p}.yaml", "service": p.split("@")[0], "env": p.split("@")[1],
         "wave": 0, "commit": None, "state": "pending", "last_error": None, "canary": None}
        for p in pairs
    ]  # fmt: skip
    return {
        "agent": "web-1", "time": "2026-12-02T10:00:00Z",
        "pass": {"applied": [], "failed": [], "held": [], "blocked": []},
        "branch": "main", "tip": None, "remote": {"url": "/srv/c.git", "ok": True},
        "targets": targets,
    }  # fmt: skip


def test_an_agent_reports_on_the_configurations_rbac_yaml_lets_it(guarded: Guarded) -> None:
    agent = guarded.token("agent-payments", "agent", "*")
    viewer = guarded.token("viewers-all", "viewer", "*")
    root = guarded.token("root", "admin", "*")

    def post(token: str, body: dict[str, object]) -> Response:
        return guarded.client.post(
            "/api/v1/agents/web-1/report", json=body, headers={"Authorization": f"Bearer {token}"}
        )

    assert post(agent, _report("payments@prod", "payments@staging")).status_code == 204
    doc = _problem(post(agent, _report("payments@prod", "search@prod")), 403, "forbidden")
    assert doc["object"] == "config:search@prod"
    _problem(post(viewer, _report("payments@prod")), 403, "forbidden")  # read is not report
    _problem(post(agent, _report()), 403, "forbidden")  # no target: report on *@*
    assert post(root, _report()).status_code == 204
    denied = [line for line in guarded.audit() if line["action"] == "report"]
    assert [line["outcome"] for line in denied] == ["denied"] * 3


def test_the_rbac_policy_tells_teams_from_rbac_yaml_groups() -> None:
    from cfgctl.server.access import RbacPolicy, Rules
    from cfgctl.server.rbac import Authorizer

    policy = RbacPolicy()
    assert not policy.is_member("@acme/payments", "bob")  # no rules loaded yet: nobody
    policy.rules = Rules("0" * 40, Authorizer.from_text(
        "version: 1\ngroups: {acme/payments: [bob]}\n"
        "grants: [{subjects: [bob], role: approver, scope: ['payments@*']}]\n"
    ))  # fmt: skip
    assert policy.is_member("@acme/payments", "bob") and not policy.is_member("@acme/sre", "bob")


def test_every_write_is_audited_first_and_refused_when_it_cannot_be(guarded: Guarded) -> None:
    alice = guarded.token("alice", "editor", "payments@staging")
    read = guarded.get(STAGING, alice)
    assert read.status_code == 200
    patch = {"Authorization": f"Bearer {alice}", "If-Match": read.headers["etag"],
             "Content-Type": "application/merge-patch+json"}  # fmt: skip
    tip = str(guarded.repo.repo.head.target)
    (guarded.state / "audit.jsonl").mkdir()  # the audit log cannot be written
    refused = guarded.client.patch(STAGING, headers=patch, content=b'{"replicas": 3}')
    _problem(refused, 503, "environment")
    refs = sorted(guarded.repo.repo.references)
    assert not any(r.startswith("refs/cfgctl/changes/") for r in refs)  # nothing written
    (guarded.state / "audit.jsonl").rmdir()
    opened = guarded.client.patch(STAGING, headers=patch, content=b'{"replicas": 3}')
    assert opened.status_code == 202, opened.text
    assert str(guarded.repo.repo.head.target) == tip  # a change request, not a commit on main
    edits = [line for line in guarded.audit() if line["action"] == "edit"]
    assert [(e["subject"], e["object"], e["outcome"]) for e in edits] == [
        ("alice", "config:payments@staging", "allowed")
    ]


def test_a_write_beyond_the_token_scope_is_403_audited_and_writes_nothing(guarded: Guarded) -> None:
    alice = guarded.token("alice", "editor", "payments@staging")
    headers = {"Authorization": f"Bearer {alice}", "If-Match": '"any"',
               "Content-Type": "application/merge-patch+json"}  # fmt: skip
    doc = _problem(
        guarded.client.patch(PROD, headers=headers, content=b'{"replicas": 9}'), 403, "forbidden"
    )
    assert doc["object"] == "config:payments@prod" and doc["action"] == "edit"
    assert "scope (payments@staging) does not cover payments@prod" in str(doc["reason"])
    refs = sorted(guarded.repo.repo.references)
    assert not any(r.startswith("refs/cfgctl/changes/") for r in refs)  # nothing written
    denied = [line for line in guarded.audit() if line["action"] == "edit"]
    assert [(d["subject"], d["object"], d["outcome"]) for d in denied] == [
        ("alice", "config:payments@prod", "denied")
    ]


def test_editing_and_approving_are_separate_rights_and_nobody_approves_their_own_change(
    guarded: Guarded,
) -> None:
    bob = guarded.token("bob", "editor", "payments@staging")
    read = guarded.get(STAGING, bob)
    patch = {"Authorization": f"Bearer {bob}", "If-Match": read.headers["etag"],
             "Content-Type": "application/merge-patch+json"}  # fmt: skip
    opened = guarded.client.patch(STAGING, headers=patch, content=b'{"replicas": 4}')
    assert opened.status_code == 202, opened.text
    number = opened.json()["id"]

    def approve(token: str, change: int = number) -> Response:
        answer = guarded.client.post(
            f"/api/v1/changes/{change}/approve", headers={"Authorization": f"Bearer {token}"}
        )
        guarded.answers.append(answer)
        return answer

    alice = guarded.token("alice", "editor", "payments@staging")  # may edit, not approve
    doc = _problem(approve(alice), 403, "forbidden")
    assert doc["action"] == "approve"
    carol = guarded.token("carol", "approver", "*@prod*")  # approves, but not staging
    assert _problem(approve(carol), 403, "forbidden")["action"] == "approve"
    root = guarded.token("root", "admin", "*")  # may edit and approve, but never their own
    read = guarded.get(STAGING, root)
    patch |= {"Authorization": f"Bearer {root}", "If-Match": read.headers["etag"]}
    theirs = guarded.client.patch(STAGING, headers=patch, content=b'{"replicas": 6}')
    assert theirs.status_code == 202, theirs.text
    mine = _problem(approve(root, theirs.json()["id"]), 403, "forbidden")
    assert "nobody approves their own change" in str(mine["detail"]), mine
    approved = approve(root)  # bob's
    assert approved.status_code == 200, approved.text
    approvals = [
        (line["subject"], line["outcome"])
        for line in guarded.audit()
        if line["action"] == "approve"
    ]
    assert ("alice", "denied") in approvals and ("carol", "denied") in approvals
    assert ("root", "allowed") in approvals
