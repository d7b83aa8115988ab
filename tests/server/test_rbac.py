"""rbac.yaml through Casbin: roles, scopes, groups, token ceilings, no self-approval, and what a
change to the rules adds."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from cfgctl.errors import InputError
from cfgctl.repo.snapshot import Snapshot
from cfgctl.server.rbac import (
    SERVER,
    Authorizer,
    AuthorizerCache,
    Principal,
    rbac_of,
)
from cfgctl.server.tokens import TokenStore
from tests.support.cli import RunCli
from tests.support.gitrepo import ConfigRepo
from tests.support.rbac import RULES


@pytest.fixture
def authz() -> Authorizer:
    return Authorizer.from_text(RULES)


def test_roles_and_scopes(authz: Authorizer) -> None:
    allowed = authz.enforce("alice", "edit", "payments@staging")
    assert allowed.allowed and allowed.matched_rule == "rbac.yaml:5:5"
    assert "group:payments-team" in allowed.reason
    assert authz.enforce("ci-bot", "read", "payments@dev-2").allowed
    assert not authz.enforce("alice", "edit", "payments@prod").allowed
    assert not authz.enforce("alice", "edit", "search@staging").allowed
    assert not authz.enforce("mallory", "read", "payments@staging").allowed
    # Edit and approve are separate rights.
    assert not authz.enforce("alice", "approve", "payments@staging").allowed
    assert not authz.enforce("carol", "edit", "payments@prod").allowed
    assert authz.enforce("carol", "approve", "search@prod-eu").allowed
    assert authz.enforce("carol", "merge", "payments@prod").allowed
    assert not authz.enforce("carol", "approve", "payments@staging").allowed
    # Reveal is in no role but admin; single actions and brace globs.
    assert not authz.enforce("alice", "reveal", "payments@staging").allowed
    assert authz.enforce("dave", "reveal", "search@staging").allowed
    assert not authz.enforce("dave", "reveal", "search@prod").allowed
    assert authz.enforce("root", "reveal", "search@prod").allowed


def test_the_server_object_needs_a_grant_on_everything(authz: Authorizer) -> None:
    assert authz.enforce("root", "admin", SERVER).allowed
    assert not authz.enforce("carol", "admin", SERVER).allowed
    assert authz.enforce("viewers-all", "read", SERVER).allowed
    assert authz.enforce("viewers-all", "read", "search@prod").allowed
    assert not authz.enforce("viewers-all", "admin", SERVER).allowed


def test_a_token_never_exceeds_its_scope_or_role(authz: Authorizer) -> None:
    # root may edit prod, but not through a token scoped to staging, nor beyond its role.
    staging = Principal("root", role="editor", scopes=("payments@staging",))
    assert authz.enforce(staging, "edit", "payments@staging").allowed
    refused = authz.enforce(staging, "edit", "payments@prod")
    assert not refused.allowed and "scope (payments@staging) does not cover" in refused.reason
    assert not authz.enforce(staging, "approve", "payments@staging").allowed
    assert "role editor does not include admin" in authz.enforce(staging, "admin", SERVER).reason
    # And a token is never more than its subject: ci-bot holds no grant on prod.
    wide = Principal("ci-bot", role="admin", scopes=("*",))
    assert not authz.enforce(wide, "edit", "payments@prod").allowed
    assert not authz.enforce(Principal("root", scopes=("*@staging",)), "admin", SERVER).allowed


def test_a_verified_token_acts_as_its_subject_within_its_ceiling(
    authz: Authorizer, tmp_path: Path
) -> None:
    store = TokenStore.open(tmp_path)
    _, token = store.create("root", "editor", ["payments@staging"], None)
    bearer = Principal.of_token(store.verify(token))
    assert authz.enforce(bearer, "edit", "payments@staging").allowed
    assert not authz.enforce(bearer, "edit", "payments@prod").allowed
    assert not authz.may_approve(bearer, "alice", "payments@staging").allowed


def test_groups_a_login_brings(authz: Authorizer) -> None:
    oidc = Principal("erin@example.com", groups=("payments-team", "other"))
    decision = authz.enforce(oidc, "edit", "payments@staging")
    assert decision.allowed and decision.reason.endswith(
        "grants group:payments-team edit on payments@staging; erin@example.com is in it"
    )
    assert not authz.enforce(Principal("erin@example.com"), "edit", "payments@staging").allowed


def test_nobody_approves_their_own_change(authz: Authorizer) -> None:
    own = authz.may_approve("carol", change_author="Carol", obj="payments@prod")
    assert not own.allowed and "nobody approves their own change" in own.reason
    assert not authz.may_approve("root", "root", "payments@prod").allowed  # admin neither
    assert authz.may_approve("root", "alice", "payments@prod").allowed
    assert authz.may_approve("carol", "alice", "payments@prod").allowed
    assert not authz.may_approve("alice", "bob", "payments@staging").allowed  # an editor


def test_explain_and_bad_requests(authz: Authorizer) -> None:
    assert authz.explain("alice", "read", "payments@staging").to_dict() == {
        "allowed": True,
        "reason": "rbac.yaml:5:5 grants group:payments-team read on payments@staging;"
        " alice is in it",
        "matched_rule": "rbac.yaml:5:5",
    }
    with pytest.raises(InputError, match="no action 'delete'"):
        authz.enforce("alice", "delete", "payments@staging")
    for bad in ("payments", "*@prod", "../x@prod", "payments@prod/x"):
        with pytest.raises(InputError, match="not an object"):
            authz.enforce("alice", "read", bad)


def test_no_rules_allow_nothing(example_repo: ConfigRepo) -> None:
    snap = Snapshot.from_worktree(example_repo.workdir)
    assert rbac_of(snap) is None
    authz = Authorizer.from_snapshot(snap)
    decision = authz.enforce("root", "read", "payments@staging")
    assert not decision.allowed and "rbac.yaml (absent)" in decision.reason


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (
            "version: 1\ngrants:\n  - subjects: [a]\n    role: owner\n    scope: ['*']\n",
            ":4:11:",
            "grants[0].role",
        ),
        (
            "version: 1\ngrants:\n  - subjects: [a]\n    role: viewer\n    actions: [read]\n"
            "    scope: ['*']\n",
            ":3:5:",
            "role: or actions:",
        ),
        (
            "version: 1\ngrants:\n  - subjects: [a]\n    role: viewer\n    scope: [payments]\n",
            ":5:13:",
            "SERVICE@ENV",
        ),
        (
            "version: 1\ngrants:\n  - subjects: ['group:']\n    role: viewer\n    scope: ['*']\n",
            ":3:16:",
            "group:NAME",
        ),
        (
            "version: 1\ngrants:\n  - subjects: [a]\n    role: viewer\n    scope: ['*']\n"
            "    when: always\n",
            ":6:5:",
            "when",
        ),
    ],
)
def test_errors_point_at_the_line(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = tmp_path / "rbac.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        Authorizer.from_file(path)
    assert str(caught.value).startswith(f"{path}{where}"), str(caught.value)
    assert message in str(caught.value) + (caught.value.hint or "")


def test_a_scope_naming_an_unknown_service_is_an_error(example_repo: ConfigRepo) -> None:
    example_repo.commit(
        {
            "rbac.yaml": "version: 1\ngrants:\n  - subjects: [a]\n    role: viewer\n"
            "    scope: [paymnets@prod, 'search@*', payments@qa]\n"
        },
        "rbac",
    )
    with pytest.raises(InputError) as caught:
        Authorizer.from_snapshot(Snapshot.at(example_repo.workdir, "HEAD"))
    text = str(caught.value)
    assert text.startswith("rbac.yaml:5:13: grants[0].scope[0]: no service 'paymnets'")
    assert "rbac.yaml:5:40: error: grants[0].scope[2]: no environment 'qa'" in text
    assert "payments" in (caught.value.hint or "")
    example_repo.write({"rbac.yaml": RULES.replace("payments@dev*", "payments@stag*")})
    authz = Authorizer.from_snapshot(Snapshot.from_worktree(example_repo.workdir))
    assert authz.enforce("bob", "edit", "payments@staging").allowed


def test_the_first_grant_in_the_file_explains_and_threads_agree() -> None:
    authz = Authorizer.from_text(
        "version: 1\ngrants:\n"
        + "".join(
            f"  - subjects: [u{i}, alice]\n    role: editor\n    scope: ['svc{i}@*', '*@staging']\n"
            for i in range(30)
        )
    )
    assert authz.enforce("alice", "edit", "svc7@staging").matched_rule == "rbac.yaml:3:5"
    assert authz.enforce("alice", "edit", "svc7@prod").matched_rule == "rbac.yaml:24:5"
    expected = {
        (s, o): authz.enforce(s, "edit", o).allowed
        for s in ("alice", "u3", "bob")
        for o in ("svc3@prod", "svc4@prod", "x@staging")
    }
    failures: list[str] = []

    def work() -> None:
        for _ in range(50):
            for (s, o), allowed in expected.items():
                if authz.enforce(s, "edit", o).allowed != allowed:
                    failures.append(f"{s} {o}")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert expected[("u3", "svc3@prod")] and not expected[("u3", "svc4@prod")]
    assert not expected[("bob", "x@staging")]


def test_the_example_of_the_docs_holds() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "security.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    authz = Authorizer.from_text(example)
    assert authz.enforce("alice", "edit", "payments@dev-1").allowed
    assert authz.enforce(Principal("x", groups=("sre",)), "approve", "search@prod-eu").allowed
    assert authz.enforce("dave", "reveal", "search@staging").allowed
    assert authz.enforce("root", "admin", SERVER).allowed
    assert not authz.enforce("ci-bot", "approve", "payments@staging").allowed


def test_validate_checks_rbac_yaml(example_repo: ConfigRepo, run_cli: RunCli) -> None:
    example_repo.write({"rbac.yaml": RULES.replace("payments@staging,", "payments@stagin,")})
    broken = run_cli("validate", cwd=example_repo.workdir)
    assert broken.exit_code == 1
    assert "rbac.yaml:7:13: error: grants[0].scope[0]: no environment 'stagin'" in broken.stderr
    example_repo.write({"rbac.yaml": "version: 1\ngrants: {}\n"})
    schema = run_cli("validate", cwd=example_repo.workdir)
    assert schema.exit_code == 1 and "rbac.yaml:2:9: error: grants" in schema.stderr
    example_repo.write({"rbac.yaml": "version: 1\ngrants: [\n"})
    yaml = run_cli("validate", cwd=example_repo.workdir)
    assert yaml.exit_code == 1 and "rbac.yaml:3:1: error:" in yaml.stderr
    example_repo.write({"rbac.yaml": RULES})
    assert run_cli("validate", cwd=example_repo.workdir).exit_code == 0


def test_the_cache_builds_again_only_when_the_rules_change(example_repo: ConfigRepo) -> None:
    cache = AuthorizerCache()
    none = cache.of(Snapshot.from_worktree(example_repo.workdir))
    assert not none.enforce("root", "read", "payments@prod").allowed
    example_repo.commit({"rbac.yaml": RULES}, "rules")
    first = cache.of(Snapshot.at(example_repo.workdir, "HEAD"))
    assert first.enforce("root", "read", "payments@prod").allowed
    example_repo.commit({"config/prod/payments.yaml": "port: 8081\n"}, "unrelated")
    assert cache.of(Snapshot.at(example_repo.workdir, "HEAD")) is first
    assert cache.of(Snapshot.from_worktree(example_repo.workdir)) is first
    example_repo.commit({"rbac.yaml": RULES.replace("role: admin", "role: viewer")}, "less")
    fewer = cache.of(Snapshot.at(example_repo.workdir, "HEAD"))
    assert fewer is not first and not fewer.enforce("root", "edit", "payments@prod").allowed
    # A broken rbac.yaml allows nothing (fails closed) and says why.
    example_repo.commit({"rbac.yaml": RULES.replace("role: viewer", "role: root")}, "broken")
    broken = cache.of(Snapshot.at(example_repo.workdir, "HEAD"))
    decision = broken.enforce("root", "read", "payments@prod")
    assert not decision.allowed and "rbac.yaml (broken: rbac.yaml:" in decision.reason
    assert cache.error is not None and cache.error.location is not None


def test_the_schema_is_shown_and_named_in_hints(run_cli: RunCli, tmp_path: Path) -> None:
    shown = run_cli("schema", "show", "--builtin", "rbac")
    assert shown.exit_code == 0 and '"rbac.yaml, who may do what' in shown.stdout
    path = tmp_path / "rbac.yaml"
    path.write_text("version: 1\ngrants: []\nextra: 1\n")
    with pytest.raises(InputError) as caught:
        Authorizer.from_file(path)
    assert str(caught.value).startswith(f"{path}:3:1: ")
    assert "cfgctl schema show --builtin rbac" in (caught.value.hint or "")
    with pytest.raises(InputError, match="cannot read the access rules"):
        Authorizer.from_file(tmp_path / "none.yaml")


def test_a_group_named_as_a_team_says_who_is_in_it() -> None:
    from cfgctl.server.rbac import Authorizer

    authz = Authorizer.from_text(
        "version: 1\ngroups: {acme/sre: [bob], ops: [carol]}\n"
        "grants: [{subjects: [group:acme/sre], role: approver, scope: ['*@*']}]\n"
    )
    assert authz.is_member("@acme/sre", "bob") and authz.is_member("acme/sre", "bob")
    assert not authz.is_member("@acme/sre", "carol") and not authz.is_member("@acme/dba", "bob")
    assert authz.enforce("bob", "approve", "payments@prod").allowed
