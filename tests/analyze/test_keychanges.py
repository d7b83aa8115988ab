"""The keys a delivery changed, read from the repository's history (real commits)."""

from __future__ import annotations

from cfgctl.analyze.deliveries import Delivery
from cfgctl.analyze.keychanges import KeyChanges
from cfgctl.repo.snapshot import Snapshot
from tests.support.gitrepo import ConfigRepo


def _delivery(previous: str | None, commit: str, env: str = "prod") -> Delivery:
    return Delivery(0.0, f"payments@{env}:/etc/p.yaml", "payments", env, commit, previous, 1)


def test_the_effective_keys_a_delivery_changed(small_repo: ConfigRepo) -> None:
    first = str(small_repo.repo.head.target)
    second = small_repo.commit(
        {
            "config/base/_defaults.yaml": "port: 9090\nhost: base.internal\n",
            "config/prod/payments.yaml": "host: prod.internal\ndb: {pool: 5, password: hunter2}\n",
        },
        "port from the defaults, a pool, a password",
    )
    changes = KeyChanges(Snapshot.from_worktree(small_repo.workdir))
    found = changes.of(_delivery(first, second))
    assert found is not None
    by_key = {c.dotted: c for c in found}
    assert set(by_key) == {"port", "db.pool", "db.password"}  # inherited from base too
    assert (by_key["port"].kind, by_key["port"].old, by_key["port"].new) == ("changed", 8080, 9090)
    assert by_key["db.password"].secret and by_key["db.password"].new is None
    assert changes.of(_delivery(second, second)) == []
    assert changes.of(_delivery(None, second)) is None  # a first delivery: unknown
    assert changes.of(_delivery("0" * 40, second)) is None
    assert changes.notes == ["commit 000000000000 is not in this repository"]
