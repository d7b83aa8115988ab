"""`SchemaValidator` beyond the official test suite: disagreements the suite does not show.

tests/repo/test_validator_agreement.py compares the fast verdict with the reference `jsonschema` on the
JSON Schema Test Suite. These are the differences between jsonschema-rs and `jsonschema` that it
misses (its "$ does not match trailing newline" test sends a backslash and an n, not a newline),
and a check that the fast validator is still used for ordinary schemas: agreement is trivial if
the reference decides everything.
"""

from __future__ import annotations

import datetime
import re
import warnings
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgctl.repo._rsregex import rs_regex
from cfgctl.repo.validator import SchemaValidator

DRAFT7 = "http://json-schema.org/draft-07/schema#"
URI = "file:///repo/schemas/test.schema.json"


def reference_is_valid(schema: Any, instance: Any, resources: dict[str, Any] | None = None) -> bool:
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (uri, referencing.Resource.from_contents(contents))
        for uri, contents in (resources or {}).items()
    )
    cls = jsonschema.Draft202012Validator
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER).is_valid(instance)


def assert_agrees(validator: SchemaValidator, instance: Any, expected: bool) -> None:
    assert validator.is_valid(instance) == expected
    assert (validator.violations(instance) == []) == expected


CASES: list[tuple[str, dict[str, Any], Any]] = [
    # Python's $ also matches before a final newline; ECMA 262's does not.
    ("pattern $ before a final newline", {"pattern": "^abc$"}, "abc\n"),
    ("pattern $ at the end", {"pattern": "^abc$"}, "abc"),
    # Python's . matches \r, \u2028 and \u2029; ECMA 262's does not.
    ("pattern . on a carriage return", {"pattern": "^a.b$"}, "a\rb"),
    ("pattern . on a line separator", {"pattern": "^a.b$"}, "a\u2028b"),
    ("pattern . on a newline", {"pattern": "^a.b$"}, "a\nb"),
    ("pattern \\d on a Bengali digit", {"pattern": "^\\d+$"}, "\u09ea"),
    (
        "patternProperties $ before a final newline",
        {"patternProperties": {"^[a-z]+$": True}, "additionalProperties": False},
        {"abc\n": 1},
    ),
    (
        "patternProperties . on a carriage return",
        {"patternProperties": {"^a.b$": False}},
        {"a\rb": 1},
    ),
    (
        "patternProperties $ in a class stays a dollar",
        {"patternProperties": {"^[$.]$": False}},
        {"$": 1},
    ),
    (
        "patternProperties \\w on an accented letter",
        {"patternProperties": {"^\\w+$": False}},
        {"\u00e9t\u00e9": 1},
    ),
    # The reference divides floats: 0.3 / 0.1 is 2.9999999999999996, so no multiple.
    ("multipleOf 0.1 on 0.3", {"multipleOf": 0.1}, 0.3),
    ("multipleOf 0.01 on 19.99", {"multipleOf": 0.01}, 19.99),
    ("multipleOf 0.5 on 2.5", {"multipleOf": 0.5}, 2.5),
    # `dependencies` is not a 2020-12 keyword; a property of that name is just a property.
    ("dependencies ignored", {"dependencies": {"a": ["b"]}}, {"a": 1}),
    (
        "a property named dependencies",
        {"properties": {"dependencies": {"type": "array"}}},
        {"dependencies": "x"},
    ),
    # YAML reads .nan, .inf and dates; jsonschema-rs misjudges or refuses them.
    ("NaN is a number", {"type": "number"}, float("nan")),
    ("infinity is above 1", {"maximum": 1}, float("inf")),
    ("a date is no string", {"type": "string"}, datetime.date(2024, 1, 1)),
    ("a lone surrogate is a string", {"type": "string", "maxLength": 1}, "\ud800"),
    ("non-string keys", {"type": "object", "minProperties": 2}, {1: "a"}),
    ("format hostname", {"format": "hostname"}, "-not-a-host-"),
    ("format date-time leap second", {"format": "date-time"}, "1998-12-31T23:59:60Z"),
    ("format email double dot", {"format": "email"}, "a..b@example.com"),
]


@pytest.mark.parametrize(("schema", "instance"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_agrees_beyond_the_suite(schema: dict[str, Any], instance: Any) -> None:
    assert_agrees(SchemaValidator(schema, uri=URI), instance, reference_is_valid(schema, instance))


def test_a_draft_7_resource_keeps_its_dependencies() -> None:
    old: dict[str, Any] = {
        "$schema": DRAFT7,
        "$id": "file:///repo/schemas/old.json",
        "dependencies": {"a": ["b"]},
    }
    schema = {"$ref": "old.json"}
    validator = SchemaValidator(
        schema, uri="file:///repo/schemas/new.json", resources={old["$id"]: old}
    )
    expected = reference_is_valid(
        {"$id": "file:///repo/schemas/new.json", **schema}, {"a": 1}, {old["$id"]: old}
    )
    assert expected is False
    assert_agrees(validator, {"a": 1}, expected)


def test_a_pattern_python_cannot_compile_is_an_input_error() -> None:
    from cfgctl.errors import InputError

    validator = SchemaValidator({"pattern": "\\p{L}"}, uri=URI)
    with pytest.raises(InputError, match="not a regular expression"):
        validator.is_valid("x")


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "required": ["port"], "properties": {"port": {"type": "integer"}}},
        {"type": "string", "pattern": "^[a-z][a-z0-9-]*$", "format": "hostname"},
        {"patternProperties": {"^x-.*$": {"type": "string"}}, "additionalProperties": False},
        {"patternProperties": {"^[A-Z_][A-Z0-9_]{0,63}$": True}, "unevaluatedProperties": False},
        {"type": "number", "multipleOf": 0.5, "maximum": 10},
        {"$defs": {"port": {"type": "integer"}}, "properties": {"p": {"$ref": "#/$defs/port"}}},
    ],
)
def test_ordinary_schemas_take_the_fast_path(schema: dict[str, Any]) -> None:
    assert SchemaValidator(schema, uri=URI)._rs is not None


# Regexes made of the pieces `rs_regex` knows (and a few it refuses), and keys to try them on.
_PIECES = [
    *"ab.$^*+?|-,01\n\r:",
    *["(", ")", "(?:", "{1,2}", "{2}", "{1,}", "[a-c]", "[^a]", "[$.]", "[-a]", "[a-]", "[\\]]"],
    *["\\.", "\\$", "\\n", "\\t", "\\/", "\\[", "\u2028", "\u00e9", "\U0001f600", "*?", "\\d"],
]
_KEY_CHARS = "ab\n\r\u2028-$.:0\u00e9\U0001f600\t\\"


def _python_regex(pattern: str) -> re.Pattern[str] | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return re.compile(pattern)
    except (re.error, Warning):
        return None


@pytest.mark.slow
@settings(max_examples=300, deadline=None, database=None)
@given(
    pattern=st.lists(st.sampled_from(_PIECES), max_size=8).map("".join),
    keys=st.lists(st.text(alphabet=_KEY_CHARS, max_size=5), min_size=1, max_size=8),
)
def test_rewritten_pattern_properties_match_as_python_does(pattern: str, keys: list[str]) -> None:
    regex = _python_regex(pattern)
    if regex is None:
        assert rs_regex(pattern) is None, "rewrote a regex Python refuses"
        return
    validator = SchemaValidator({"patternProperties": {pattern: False}}, uri=URI)
    for key in keys:
        assert validator.is_valid({key: 1}) == (regex.search(key) is None), (pattern, key)
    if validator._rs is not None:
        assert rs_regex(pattern) is not None
