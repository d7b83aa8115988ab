r"""The fast verdict of `SchemaValidator` agrees with its reference (draft 2020-12).

Every test of the official JSON Schema Test Suite for draft 2020-12, required and optional (formats
included), is validated by `SchemaValidator.is_valid`, which asks jsonschema-rs whenever it can,
and by the reference: `jsonschema.Draft202012Validator` with its format checker and ECMA 262
regexes (`cfgctl.repo._ecma.reference_class`); both resolve `http://localhost:1234/...` to the
suite's remotes/. The verdicts must be equal, and `is_valid` must say yes exactly when
`violations` finds nothing.

The suite's own "valid" is the yardstick for regexes (every test of pattern.json,
patternProperties.json and the two ecmascript-regex.json files must pass), not for the rest: where
`jsonschema` departs from the suite, `SchemaValidator` must depart the same way. With jsonschema
4.26.0 and its format-nongpl extra, it departs in (file: number of tests):

    format.json: 19                 cfgctl asserts formats: "only an annotation by default" fails
    vocabulary.json: 1              $vocabulary is ignored: validation applies anyway
    optional/dependencies-compatibility.json: 14    `dependencies` is not a 2020-12 keyword
    optional/format/date-time.json: 2, time.json: 6  leap seconds are refused
    optional/format/email.json: 5   dotted local parts, bad domains and IPv4 literals pass

Without the extra (only idna installed) the reference checks no date-time, time, duration,
hostname, json-pointer, relative-json-pointer, uri, uri-reference, iri, iri-reference or
uri-template: it departs in 88 more tests of optional/format and 11 fewer of format.json. The
agreement must hold either way (and with the extra but without rfc3987-syntax: no iri checks).

`scripts/test-setup.sh` fetches the suite into `.cache/json-schema-test-suite/`; without it the
module is skipped.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
import referencing.exceptions
import referencing.jsonschema

from cfgctl.errors import InputError
from cfgctl.repo import _ecma
from cfgctl.repo.validator import SchemaValidator

pytestmark = pytest.mark.slow  # the JSON Schema Test Suite, 1,900 cases

SUITE = Path(__file__).resolve().parents[2] / ".cache" / "json-schema-test-suite"
DRAFT = SUITE / "tests" / "draft2020-12"
REMOTES = SUITE / "remotes"
REMOTE_PREFIX = "http://localhost:1234/"

if not DRAFT.is_dir():
    pytest.skip(
        f"the JSON Schema Test Suite is missing at {SUITE}; run scripts/test-setup.sh to fetch it",
        allow_module_level=True,
    )


# Where the suite's own verdict is the yardstick: every regex of JSON Schema is ECMA 262.
REGEX_FILES = frozenset(
    {
        "pattern.json",
        "patternProperties.json",
        "optional/ecmascript-regex.json",
        "optional/format/ecmascript-regex.json",
    }
)


def _suite_files() -> list[Path]:
    return sorted(DRAFT.glob("*.json")) + sorted(DRAFT.glob("optional/**/*.json"))


@functools.cache
def _cases(path: Path) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return cases


def retrieve_remote(uri: str) -> Any:
    """The suite's remotes/ folder, served as `http://localhost:1234/<path>`; nothing else."""
    if uri.startswith(REMOTE_PREFIX):
        path = (REMOTES / uri.removeprefix(REMOTE_PREFIX).split("#")[0]).resolve()
        if path.is_relative_to(REMOTES.resolve()) and path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise InputError(f"no such remote in the test suite: {uri}")


def _reference_retrieve(uri: str) -> referencing.Resource[Any]:
    try:
        contents = retrieve_remote(uri)
    except InputError:
        # `ref` is an attrs field, which mypy does not see through referencing's `frozen`.
        raise referencing.exceptions.NoSuchResource(ref=uri) from None  # type: ignore[call-arg]
    return referencing.Resource.from_contents(
        contents, default_specification=referencing.jsonschema.DRAFT202012
    )


# `retrieve` is the attrs alias of Registry's `_retrieve`, which mypy does not see.
REGISTRY: referencing.Registry[Any] = referencing.Registry(retrieve=_reference_retrieve)  # type: ignore[call-arg]


@functools.cache
def _validators(path: Path, index: int) -> tuple[jsonschema.protocols.Validator, SchemaValidator]:
    schema = _cases(path)[index]["schema"]
    cls = _ecma.reference_class(jsonschema.Draft202012Validator)
    reference = cls(schema, registry=REGISTRY, format_checker=cls.FORMAT_CHECKER)
    uri = f"https://cfgctl.invalid/suite/{path.relative_to(DRAFT).as_posix()}/{index}.json"
    fast = SchemaValidator(schema, uri=uri, retrieve=retrieve_remote)
    return reference, fast


def _params() -> list[Any]:
    params = []
    for path in _suite_files():
        name = f"draft2020-12/{path.relative_to(DRAFT).as_posix()}"
        for index, case in enumerate(_cases(path)):
            for number, test in enumerate(case["tests"]):
                params.append(
                    pytest.param(
                        path,
                        index,
                        number,
                        id=f"{name}::{case['description']}::{test['description']}",
                    )
                )
    return params


@pytest.mark.parametrize(("path", "index", "number"), _params())
def test_fast_verdict_agrees_with_reference(path: Path, index: int, number: int) -> None:
    data = _cases(path)[index]["tests"][number]["data"]
    reference, fast = _validators(path, index)
    try:
        expected = reference.is_valid(data)
    except _ecma.RegexError:
        # A pattern that is no ECMA 262 regex: the reference has no verdict, so SchemaValidator
        # has none either and says why, both ways.
        with pytest.raises(InputError, match="not an ECMA 262 regular expression"):
            fast.is_valid(data)
        with pytest.raises(InputError, match="not an ECMA 262 regular expression"):
            fast.violations(data)
        return
    verdict = fast.is_valid(data)
    assert verdict == expected, f"is_valid says {verdict}, jsonschema says {expected}"
    violations = fast.violations(data)
    assert verdict == (violations == []), f"is_valid says {verdict}, violations: {violations}"
    if path.relative_to(DRAFT).as_posix() in REGEX_FILES:
        suite = _cases(path)[index]["tests"][number]["valid"]
        assert verdict == suite, f"is_valid says {verdict}, the suite says {suite}"
