"""The three-way merge of YAML documents as data: the laws it keeps (hypothesis), and comments."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cfgctl.editing.threeway import MISSING, merge_file
from cfgctl.repo.yamlio import parse

KEYS = st.sampled_from(["a", "b", "c", "port", "db"])
SCALARS = st.one_of(st.integers(-5, 5), st.booleans(), st.sampled_from(["x", "y", "on"]))
DOCS: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.dictionaries(KEYS, SCALARS, max_size=3),
    lambda inner: st.dictionaries(KEYS, st.one_of(SCALARS, inner), max_size=3),
    max_leaves=8,
)


def _yaml(doc: dict[str, Any]) -> bytes:
    return (json.dumps(doc) + "\n").encode()  # JSON is YAML: any document, exactly


def _typed(value: Any) -> str:
    """A value as typed text (1 and True differ), "absent" for a missing key."""
    return "absent" if value is MISSING else json.dumps(value, sort_keys=True)


def _data(text: bytes | None) -> Any:
    return None if text is None else parse(text, "f.yaml").data


@settings(max_examples=30, deadline=None)
@given(base=DOCS, theirs=DOCS)
def test_an_untouched_file_becomes_the_templates(
    base: dict[str, Any], theirs: dict[str, Any]
) -> None:
    merged = merge_file("f.yaml", base=_yaml(base), ours=_yaml(base), theirs=_yaml(theirs))
    assert merged.conflicts == [] and _data(merged.result) == theirs


@settings(max_examples=30, deadline=None)
@given(base=DOCS, ours=DOCS)
def test_an_unchanged_template_leaves_the_service_alone(
    base: dict[str, Any], ours: dict[str, Any]
) -> None:
    merged = merge_file("f.yaml", base=_yaml(base), ours=_yaml(ours), theirs=_yaml(base))
    assert merged.conflicts == [] and merged.result == _yaml(ours) and not merged.changes


@settings(max_examples=30, deadline=None)
@given(base=DOCS, ours=DOCS, theirs=DOCS)
def test_sides_agree_keys_of_the_service_stay_and_ours_theirs_settle(
    base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]
) -> None:
    merged = merge_file("f.yaml", base=_yaml(base), ours=_yaml(ours), theirs=_yaml(theirs))
    keep = merge_file(
        "f.yaml", base=_yaml(base), ours=_yaml(ours), theirs=_yaml(theirs), prefer="ours"
    )
    take = merge_file(
        "f.yaml", base=_yaml(base), ours=_yaml(ours), theirs=_yaml(theirs), prefer="theirs"
    )
    assert keep.conflicts == [] and take.conflicts == []
    for result in (keep, take) + ((merged,) if not merged.conflicts else ()):
        data = _data(result.result) or {}
        for key in set(ours) - set(base) - set(theirs):  # the service's own keys
            assert data[key] == ours[key]
    if ours == theirs:
        assert merged.conflicts == [] and _data(merged.result) == ours
    for conflict in merged.conflicts:  # a conflict is a key both sides changed, differently
        base_, ours_, theirs_ = map(_typed, (conflict.base, conflict.ours, conflict.theirs))
        assert ours_ != base_ and theirs_ != base_ and ours_ != theirs_


def test_comments_order_and_quoting_of_the_service_stay() -> None:
    base = b"server:\n  port: 8080\nreplicas: 2\n"
    ours = b"# mine\nserver:\n  port: 9000   # ours\n  host: 'h'\nreplicas: 2  # two\nx: 1\n"
    theirs = b"server:\n  port: 8080\n  timeout: 5   # new\nreplicas: 3\n"
    merged = merge_file("f.yaml", base=base, ours=ours, theirs=theirs)
    assert merged.changes == ["added server.timeout", "changed replicas"]
    assert merged.result == (
        b"# mine\nserver:\n  port: 9000   # ours\n  timeout: 5   # new\n  host: 'h'\n"
        b"replicas: 3  # two\nx: 1\n"
    )


def test_files_that_come_and_go() -> None:
    new = merge_file("f.yaml", base=None, ours=None, theirs=b"a: 1\n")
    assert new.result == b"a: 1\n" and new.changes == ["created"]
    deleted_here = merge_file("f.yaml", base=b"a: 1\n", ours=None, theirs=b"a: 1\n")
    assert deleted_here.result is None and not deleted_here.changed
    changed_there = merge_file("f.yaml", base=b"a: 1\n", ours=None, theirs=b"a: 2\n")
    assert [c.describe() for c in changed_there.conflicts] == [
        "(root): the service has absent, the template changes a mapping to a mapping"
    ]
    dropped = merge_file("f.yaml", base=b"a: 1\n", ours=b"a: 1\n", theirs=None)
    assert dropped.result is None and dropped.changes == ["removed a"]
    kept = merge_file("f.yaml", base=b"a: 1\n", ours=b"a: 1\nmine: 2\n", theirs=None)
    assert kept.result == b"mine: 2\n"
