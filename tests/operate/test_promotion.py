"""Promotion's parts: key globs, env-local marks, the differences walk, and (hypothesis) that a
promotion leaves only the differences it reports as skipped, and a second one finds nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cfgctl.errors import InputError
from cfgctl.operate.keyselect import KeyGlob
from cfgctl.operate.promote import plan_promotion
from cfgctl.operate.promotion import differences
from cfgctl.repo.gitstore import FileRef
from cfgctl.repo.secretpaths import marked_paths
from cfgctl.repo.snapshot import Snapshot


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("db", ("db", "host"), True),  # a match selects what lies below it
        ("db.*", ("db", "host"), True),
        ("db.*", ("db",), False),
        ("db.h*", ("db", "pool"), False),
        ("*.host", ("db", "host"), True),
        ("*.host", ("a", "db", "host"), False),  # * stays within one key
        ("**.host", ("a", "db", "host"), True),  # ** crosses keys
        ("**.host", ("host",), True),  # ** may be no key at all
        ("a.**.c", ("a", "c"), True),
        ("a.**.c", ("a", "b", "x", "c", "d"), True),
        ('labels."app.io/name"', ("labels", "app.io/name"), True),
        ("replicas", ("replica",), False),
    ],
)
def test_key_globs(glob: str, path: tuple[str, ...], expected: bool) -> None:
    assert KeyGlob.parse(glob).matches(path) is expected


def test_a_malformed_glob_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"bad key glob 'a\.\.b'"):
        KeyGlob.parse("a..b")


def test_env_local_marks_are_found_through_refs() -> None:
    schema = {
        "$defs": {"host": {"type": "string", "x-cfgctl-env-local": True}},
        "properties": {
            "db": {"properties": {"host": {"$ref": "#/$defs/host"}, "pool": {}}},
            "replicas": {"x-cfgctl-env-local": True},
            "secret": {"x-cfgctl-secret": True},
        },
    }
    data = {"db": {"host": "h", "pool": 1}, "replicas": 3, "secret": "s"}
    marker = ("x-cfgctl-env-local",)
    assert set(marked_paths(schema, data, marker)) == {("db", "host"), ("replicas",)}


def test_differences_are_key_by_key_and_lists_whole() -> None:
    a = {"db": {"host": "a", "pool": 1}, "hosts": [1, 2], "only_a": {"x": 1}, "kind": {"k": 1}}
    b = {"db": {"host": "b", "pool": 1}, "hosts": [1], "only_b": 2, "kind": "scalar"}
    found = {d.path: (d.in_source, d.in_target) for d in differences(a, b)}
    assert found == {
        ("db", "host"): (True, True),
        ("hosts",): (True, True),
        ("only_a", "x"): (True, False),  # a mapping facing nothing: key by key
        ("kind",): (True, True),  # a mapping facing a scalar: one value
        ("only_b",): (False, True),
    }


MANIFEST = """\
version: 1
environments:
  base: {abstract: true}
  staging: {inherits: base}
  prod: {inherits: base}
  prod-eu: {inherits: prod}
services:
  api: {schema: api, env_local: [c]}
"""
LAYERS = (
    "config/base/_defaults.yaml",
    "config/base/api.yaml",
    "config/staging/api.yaml",
    "config/prod/_defaults.yaml",
    "config/prod/api.yaml",
    "config/prod-eu/api.yaml",
)

_scalars = st.one_of(st.integers(0, 2), st.sampled_from(["x", "on", "0755"]), st.booleans())
_values = st.one_of(_scalars, st.lists(st.integers(0, 2), max_size=2))
_inner = st.dictionaries(st.sampled_from(["p", "q"]), _values, max_size=2)
_docs = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.one_of(_values, _inner), max_size=3)


def _snapshot(files: dict[str, str]) -> Snapshot:
    refs = {rel: FileRef.of_bytes(rel, text.encode()) for rel, text in files.items()}
    return Snapshot(Path("/nonexistent/promotion"), refs)


def _effective(snap: Snapshot, env: str) -> Any:
    return snap.render("api", env).data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_docs, min_size=len(LAYERS), max_size=len(LAYERS)))
# staging's empty mapping over prod's inherited one: the key under it is only inherited
@example([{}, {}, {"a": {}}, {"a": {"p": 0}}, {}, {}])
def test_a_promotion_leaves_only_what_it_reports(docs: list[dict[str, Any]]) -> None:
    files = {"cfgctl.yaml": MANIFEST, "schemas/api.schema.json": "{}"}
    files.update({rel: json.dumps(doc) for rel, doc in zip(LAYERS, docs, strict=True)})
    snap = _snapshot(files)
    plan = plan_promotion(snap, "staging", "prod", [])
    assert set(plan.writes) <= {"config/prod/api.yaml"}
    after = snap.with_files(plan.writes)
    skipped = {s.path for s in plan.skipped}
    assert "unresolved" not in {s.reason for s in plan.skipped}
    for diff in differences(_effective(after, "staging"), _effective(after, "prod")):
        assert diff.path[0] == "c" or diff.path in skipped, (diff, plan.skipped)
    again = plan_promotion(after, "staging", "prod", [])
    assert not again.moves and not again.writes
    assert _effective(after, "staging") == _effective(snap, "staging")
