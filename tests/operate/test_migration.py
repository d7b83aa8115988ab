"""What a migration's operations do to documents: on layers and on the merged configuration."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from cfgctl.errors import InputError, Location
from cfgctl.operate.migration import (
    Migration,
    Operation,
    apply_to_effective,
    apply_to_layer,
    convert,
)
from cfgctl.repo.render import lookup, merge

HERE = Location("schemas/x.v2.migration.yaml", 3, 5)
KEYS = ["a", "b", "c"]
PATHS = [(k,) for k in KEYS] + [(k, j) for k in KEYS for j in KEYS]
scalars = st.one_of(
    st.integers(-5, 300), st.sampled_from(["warn", "info", "250", "x"]), st.booleans()
)


def documents(depth: int = 2) -> st.SearchStrategy[Any]:
    leaf = scalars
    if depth == 0:
        return leaf
    return st.dictionaries(st.sampled_from(KEYS), st.one_of(leaf, documents(depth - 1)), max_size=3)


def operations() -> st.SearchStrategy[Operation]:
    path = st.sampled_from(PATHS)

    def moved(op: str) -> st.SearchStrategy[Operation]:
        return (
            st.tuples(path, path)
            .filter(lambda p: p[1][: len(p[0])] != p[0])
            .map(lambda p: Operation(op, p[0], HERE, to=p[1]))
        )

    return st.one_of(
        moved("rename"),
        moved("move"),
        path.map(lambda p: Operation("remove", p, HERE)),
        path.map(lambda p: Operation("map", p, HERE, values={"warn": "warning", 1: 2})),
        st.tuples(path, st.sampled_from(["duration", "string", "int", "float", "bool"])).map(
            lambda p: Operation("convert", p[0], HERE, to_type=p[1])
        ),
        st.tuples(path, scalars).map(lambda p: Operation("default", p[0], HERE, value=p[1])),
    )


def _merged(layers: list[Any]) -> Any:
    data: Any = {}
    for layer in layers:
        data = merge(data, layer)
    return data


def _shadowed(layers: list[Any], ops: list[Operation]) -> bool:
    """Whether a later layer replaces a mapping on the way to an operation's path with a value
    of another kind (or the other way round), or a layer holds an empty mapping there (which
    the merged result prunes once emptied): there the layers cannot be migrated one by one,
    and `cfgctl migrate` refuses, as tests/operate/test_migrate.py shows."""
    paths = [p for op in ops for p in (op.path, op.to) if p is not None]
    for path in paths:
        for cut in range(1, len(path) + 1):
            kinds: set[object] = set()
            for layer in layers:
                found, value = lookup(layer, path[:cut])
                if found:
                    kinds.add("empty" if value == {} else isinstance(value, dict))
            if len(kinds) > 1 or "empty" in kinds:
                return True
    return False


@pytest.mark.slow  # a property test of 600 examples
@settings(max_examples=600, deadline=None, database=None)
@given(layers=st.lists(documents(), min_size=1, max_size=3), ops=st.lists(operations(), max_size=4))
def test_migrating_the_layers_then_merging_is_migrating_the_merge(
    layers: list[Any], ops: list[Operation]
) -> None:
    """Wherever neither way refuses, the two agree: `cfgctl migrate` relies on it, and refuses
    (nothing written) where a refusal or a difference remains."""
    if _shadowed(layers, ops):
        event("shadowed: refused by migrate's check")
        return
    migration = Migration("x", 1, 2, "schemas/x.v2.migration.yaml", tuple(ops))
    try:
        effective = apply_to_effective(migration, copy.deepcopy(_merged(layers)))
        migrated = [copy.deepcopy(layer) for layer in layers]
        for i, layer in enumerate(migrated):
            apply_to_layer(migration, layer, f"layer {i}")
        by_layers = apply_to_effective(
            Migration("x", 1, 2, "", tuple(op for op in ops if op.op == "default")),
            _merged(migrated),
        )
    except InputError as exc:
        refusal: InputError | None = exc
    else:
        refusal = None
    if refusal is not None:
        assert refusal.location == HERE  # a refusal names the operation
        event("refused")
        return
    event("compared" if ops else "no operation")
    assert by_layers == effective


@pytest.mark.parametrize(
    ("value", "to", "expected"),
    [
        (250, "duration", "250ms"),
        ("2s", "duration", "2s"),
        (5, "string", "5"),
        (True, "string", "true"),
        ("42", "int", 42),
        (3.0, "int", 3),
        ("1.5", "float", 1.5),
        ("TRUE", "bool", True),
    ],
)
def test_convert(value: Any, to: str, expected: Any) -> None:
    got = convert(value, to)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("value", "to"),
    [
        (2.5, "duration"),
        (-1, "duration"),
        ("soon", "duration"),
        (True, "int"),
        ("x", "int"),
        (1.5, "int"),
        ([1], "string"),
        (None, "string"),
        ("maybe", "bool"),
        (1, "bool"),
    ],
)
def test_convert_refuses(value: Any, to: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        convert(value, to)
