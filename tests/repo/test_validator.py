"""`SchemaValidator` beyond the official test suite: disagreements the suite does not show.

tests/repo/test_validator_agreement.py compares the fast verdict with the reference (`jsonschema`
with ECMA 262 regexes) on the JSON Schema Test Suite. These are the differences between
jsonschema-rs, `jsonschema` and Python's `re` that it misses (its "$ does not match trailing
newline" test sends a backslash and an n, not a newline), and a check that the fast validator is
still used for ordinary schemas: agreement is trivial if the reference decides everything.
"""

from __future__ import annotations

import datetime
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.jsonschema
from hypothesis import given, settings
from hypothesis import strategies as st

from cfgctl.errors import InputError
from cfgctl.repo import _ecma
from cfgctl.repo.validator import SchemaValidator

DRAFT7 = "http://json-schema.org/draft-07/schema#"
URI = "file:///repo/schemas/test.schema.json"


def reference_is_valid(schema: Any, instance: Any, resources: dict[str, Any] | None = None) -> bool:
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (uri, referencing.Resource.from_contents(contents))
        for uri, contents in (resources or {}).items()
    )
    cls = _ecma.reference_class(jsonschema.Draft202012Validator)
    return cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER).is_valid(instance)


def assert_agrees(validator: SchemaValidator, instance: Any, expected: bool) -> None:
    assert validator.is_valid(instance) == expected
    assert (validator.violations(instance) == []) == expected


CASES: list[tuple[str, dict[str, Any], Any]] = [
    # Where Python's re and ECMA 262 differ; ECMA_VERDICTS says what the standard answers.
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


# ECMA 262's answers for the regex cases above, and for what Python cannot compile at all.
ECMA_VERDICTS = {
    "pattern $ before a final newline": False,
    "pattern $ at the end": True,
    "pattern . on a carriage return": False,
    "pattern . on a line separator": False,
    "pattern . on a newline": False,
    "pattern \\d on a Bengali digit": False,
    "patternProperties $ before a final newline": False,
    "patternProperties . on a carriage return": True,
    "patternProperties $ in a class stays a dollar": False,
    "patternProperties \\w on an accented letter": True,
}


@pytest.mark.parametrize(("schema", "instance"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_agrees_beyond_the_suite(schema: dict[str, Any], instance: Any) -> None:
    assert_agrees(SchemaValidator(schema, uri=URI), instance, reference_is_valid(schema, instance))


@pytest.mark.parametrize(("name", "expected"), ECMA_VERDICTS.items())
def test_regexes_answer_as_ecma_262(name: str, expected: bool) -> None:
    _, schema, instance = next(case for case in CASES if case[0] == name)
    assert_agrees(SchemaValidator(schema, uri=URI), instance, expected)


@pytest.mark.parametrize(
    ("schema", "valid", "invalid"),
    [
        ({"pattern": "^\\p{Letter}+$"}, "\u00e9t\u00e9", "abc1"),
        ({"pattern": "^\\p{Script=Greek}+$"}, "\u03b1\u03b2", "ab"),
        ({"pattern": "^\\cJ$"}, "\n", "cJ"),
        ({"propertyNames": {"pattern": "^\\p{Lu}"}}, {"\u00c9t\u00e9": 1}, {"abc": 1}),
        (
            {
                "patternProperties": {"^\\p{L}+$": {"type": "integer"}},
                "additionalProperties": False,
            },
            {"\u00e9": 1},
            {"1": 1},
        ),
        (
            {"patternProperties": {"^\\p{L}+$": True}, "unevaluatedProperties": False},
            {"\u00e9": 1},
            {"\u00e9-": 1},
        ),
        ({"format": "regex"}, "^\\p{L}$", "\\a"),
    ],
)
def test_unicode_property_escapes_and_other_ecma_only_syntax(
    schema: dict[str, Any], valid: Any, invalid: Any
) -> None:
    validator = SchemaValidator(schema, uri=URI)
    assert_agrees(validator, valid, True)
    assert_agrees(validator, invalid, False)


def test_a_referenced_schema_with_its_own_dialect_keeps_ecma_regexes() -> None:
    shared: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "file:///repo/schemas/shared.json",
        "properties": {"name": {"pattern": "^\\p{L}+$"}},
    }
    validator = SchemaValidator(
        {"$ref": "shared.json"},
        uri="file:///repo/schemas/main.json",
        resources={shared["$id"]: shared},
    )
    assert_agrees(validator, {"name": "\u00e9t\u00e9"}, True)
    assert_agrees(validator, {"name": "x1"}, False)


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


@pytest.mark.parametrize(
    "schema",
    [
        {"pattern": "\\-"},  # an identity escape: refused in Unicode mode
        {"pattern": "\\p{NoSuchProperty}"},
        {"patternProperties": {"(": True}},
        {"propertyNames": {"pattern": "a{2,1}"}},
    ],
)
def test_a_pattern_that_is_no_ecma_regex_is_an_input_error(schema: dict[str, Any]) -> None:
    validator = SchemaValidator(schema, uri=URI)
    instance: Any = {"a": 1} if "pattern" not in schema else "x"
    with pytest.raises(InputError, match="is not an ECMA 262 regular expression") as caught:
        validator.is_valid(instance)
    assert caught.value.hint and "Unicode mode" in caught.value.hint


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


# Pieces of ECMA 262 regexes, and keys to try them on: jsonschema-rs judges `patternProperties`
# itself exactly when `_ecma.rs_portable` says it matches as regress does.
_PIECES = [
    *"ab.$^*+?|-,01\n\r:",
    *["(", ")", "(?:", "{1,2}", "{2}", "{1,}", "[a-c]", "[^a]", "[$.]", "[-a]", "[a-]", "[\\]]"],
    *["\\.", "\\$", "\\n", "\\t", "\\/", "\\[", "\u2028", "\u00e9", "\U0001f600", "*?", "\\d"],
    *["\\w", "\\s", "\\S", "\\p{L}", "\\P{L}", "\\p{Nd}", "\\u00e9", "\\cJ", "[\\p{L}\\d]"],
    *["\\b", "\\B", "(?=a)", "(?<!a)", "(a)\\1", "[]", "[^]", "\\-"],
]
_KEY_CHARS = "abA\n\r\u2028-$.:0\u00e9\U0001f600\t\\\u0661\u00a0\u03b1_"


def _ecma_regex(pattern: str) -> Any:
    try:
        return _ecma.compile_pattern(pattern)
    except _ecma.RegexError:
        return None


@pytest.mark.slow
@settings(max_examples=400, deadline=None, database=None)
@given(
    pattern=st.lists(st.sampled_from(_PIECES), max_size=8).map("".join),
    keys=st.lists(st.text(alphabet=_KEY_CHARS, max_size=5), min_size=1, max_size=8),
)
def test_pattern_properties_match_as_ecma_262_does(pattern: str, keys: list[str]) -> None:
    regex = _ecma_regex(pattern)
    validator = SchemaValidator({"patternProperties": {pattern: False}}, uri=URI)
    if regex is None:
        assert not _ecma.rs_portable(pattern)
        with pytest.raises(InputError):
            validator.is_valid({keys[0]: 1})
        return
    for key in keys:
        assert validator.is_valid({key: 1}) == (regex.find(key) is None), (pattern, key)


def test_portable_patterns_take_the_fast_path() -> None:
    for pattern in ("^[a-z]+$", "^x-", "^\\p{L}+\\d*$", "^a.b$", "(?:ab)+"):
        assert _ecma.rs_portable(pattern)
        assert SchemaValidator({"patternProperties": {pattern: True}}, uri=URI)._rs is not None
    for pattern in ("\\bword", "a(?=b)", "(a)\\1", "[]", "x\\B"):
        assert not _ecma.rs_portable(pattern)
    assert _ecma.rs_portable("\\\\b")  # a backslash, then b: no word boundary
