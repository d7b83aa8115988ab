"""What a change to rbac.yaml grants: added_permissions and added_by_change."""

from __future__ import annotations

import pytest

from cfgctl.errors import InputError
from cfgctl.repo.snapshot import Snapshot
from cfgctl.server.rbac import Authorizer, Permission
from cfgctl.server.rbacdiff import added_by_change, added_permissions
from tests.support.gitrepo import ConfigRepo
from tests.support.rbac import RULES


def test_added_permissions() -> None:
    old = Authorizer.from_text(RULES)
    new = Authorizer.from_text(
        RULES.replace("[alice, bob]", "[alice, bob, eve]")
        .replace("scope: [payments@staging,", "scope: [payments@staging, search@staging,")
        .replace('["*@prod*"]', '["*@prod*", "payments@prod-eu"]')
    )
    added = added_permissions(old, new)
    assert Permission("eve", "edit", "payments@staging") in added  # joined the group
    assert Permission("group:payments-team", "edit", "search@staging") in added
    assert Permission("alice", "edit", "search@staging") in added
    # carol's new glob is covered by the one she had: nothing new.
    assert not any(p.subject == "carol" for p in added)
    assert added == sorted(added) and len(added) == len(set(added))
    assert added_permissions(new, old) == []  # taking grants away adds none
    assert added_permissions(old, None) == []
    assert added_permissions(None, old) == sorted(old.permissions())
    narrower = Authorizer.from_text(RULES.replace('"payments@dev*"', '"payments@dev-eu*"'))
    assert added_permissions(old, narrower) == []
    wider = Authorizer.from_text(RULES.replace('"payments@dev*"', '"payments@d?v*"'))
    assert Permission("ci-bot", "edit", "payments@d?v*") in added_permissions(old, wider)


def test_added_by_a_change_between_revisions(example_repo: ConfigRepo) -> None:
    def at(rev: str) -> Snapshot:
        return Snapshot.at(example_repo.workdir, rev)

    base = example_repo.commit({"rbac.yaml": RULES}, "rules")
    assert added_by_change(at(base), at(base)) == []
    head = example_repo.commit(
        {"rbac.yaml": RULES.replace("[alice, bob]", "[alice, bob, eve]")}, "eve joins"
    )
    added = added_by_change(at(base), at(head))
    assert Permission("eve", "edit", "payments@staging") in added
    assert {p.subject for p in added} == {"eve"}
    broken = example_repo.commit({"rbac.yaml": "version: 1\n"}, "broken")
    with pytest.raises(InputError, match=r"grants"):
        added_by_change(at(head), at(broken))
    fixed = example_repo.commit({"rbac.yaml": RULES}, "fixed")
    assert len(added_by_change(at(broken), at(fixed))) == len(
        Authorizer.from_text(RULES).permissions()
    )
