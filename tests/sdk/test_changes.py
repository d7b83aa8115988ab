"""Changed key paths between two versions, and the globs of `watch(keys=...)`."""

from __future__ import annotations

import pytest

import cfgctl.sdk
from cfgctl.sdk.changes import changed_paths, matches


def test_changed_paths() -> None:
    old = {"db": {"host": "a", "pool_size": 10, "tls": {"on": True}}, "tags": ["x"], "mode": "dev"}
    new = {"db": {"host": "a", "pool_size": 20, "tls": None}, "tags": ["x", "y"], "debug": True}
    assert changed_paths(old, new) == ["db.pool_size", "db.tls", "debug", "mode", "tags"]
    assert changed_paths(old, old) == []


@pytest.mark.parametrize(
    ("changed", "patterns", "expected"),
    [
        (["db.pool_size"], None, True),
        (["db.pool_size"], ["db.*"], True),
        (["db.pool_size"], ["db"], True),
        (["db.pool_size"], ["db.pool_size"], True),
        (["db"], ["db.pool_size"], True),  # the whole of db changed, so did db.pool_size
        (["dbx.pool_size"], ["db"], False),
        (["mode"], ["db.*"], False),
        (["features.new_ui"], ["db.*", "features.*"], True),
        (["server.port"], ["*.port"], True),
        ([], ["*"], False),
        (["db.pool_size"], [], False),
    ],
)
def test_matches(changed: list[str], patterns: list[str] | None, expected: bool) -> None:
    assert matches(changed, patterns) is expected


def test_public_names_are_exported() -> None:
    public = {
        name
        for name in dir(cfgctl.sdk)
        if not name.startswith("_") and not isinstance(getattr(cfgctl.sdk, name), type(cfgctl))
    }
    assert public == set(cfgctl.sdk.__all__)
