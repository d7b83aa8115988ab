"""A compiled JSON Schema: a fast verdict, and the reference validator's words when it fails.

Validating a typical document with the reference `jsonschema` costs ~150 µs; `jsonschema-rs` gives
the same verdict in ~5-20 µs (more the more formats it must check). Most documents are valid, so the
fast validator decides, and only a document it rejects is validated again by `jsonschema` to produce
the errors a person reads.

    validator = SchemaValidator({"type": "object", "required": ["port"]}, uri="file:///s.json")
    validator.violations({"host": "x"})  # -> [Violation(path=(), keyword="required", ...)]

The reference is `jsonschema` with regexes as the specification reads them (ECMA 262 in Unicode
mode, through `regress`: `cfgctl.repo._ecma`) instead of Python's `re`. The two must agree:
tests/repo/test_validator_agreement.py compares them on the official JSON Schema Test Suite,
tests/repo/test_validator.py where the suite says nothing. Left alone, jsonschema-rs disagrees in
many places, so it is made to judge as the reference does:

- `format`, `pattern` and `multipleOf` are judged by the reference's own implementations, called
  back from jsonschema-rs: its format checkers differ from `jsonschema`'s (which formats the
  reference checks even depends on the optional packages installed), and the reference finds 0.3
  no multiple of 0.1 (float division) where jsonschema-rs finds it one;
- `dependencies`, gone from drafts 2019-09 and 2020-12 and so ignored by the reference there, is
  ignored by jsonschema-rs too (it still applies it);
- jsonschema-rs matches `patternProperties` itself only where its regexes are known to agree with
  `regress` (no word boundaries, look-arounds or back-references); any other sends the schema to
  the reference;
- the reference alone decides for a schema jsonschema-rs cannot compile, one that mixes drafts
  (the callbacks follow the root's), and a document that is not plain JSON (NaN or infinite
  numbers, dates, non-string keys: jsonschema-rs rejects or misjudges them).

`$ref`s resolve offline only: against the resources given (other schemas of the same repository)
and through `retrieve`, a callable that returns a schema for a URI or raises `InputError`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.protocols
import jsonschema.validators
import jsonschema_rs
import referencing
import referencing.exceptions
import referencing.jsonschema

from cfgctl.errors import InputError
from cfgctl.repo import _ecma
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.plainjson import is_plain_json

__all__ = ["Retrieve", "SchemaValidator", "Violation", "check_schema"]

Retrieve = Callable[[str], Any]
JsonPath = tuple[str | int, ...]

# Keywords that jsonschema-rs judges by calling back the reference's own implementation: leaf
# keywords (they look at the instance only, never descend into subschemas) where the two differ.
DELEGATED_KEYWORDS = ("format", "pattern", "multipleOf")
# Keywords that jsonschema-rs applies in every draft but the reference only in the drafts that have
# them: where the reference's dialect lacks one, jsonschema-rs is told to ignore it.
LEGACY_KEYWORDS = ("dependencies",)


# Keywords whose complaints name keys, never values: safe to print about a secret's parent.
KEY_ONLY_KEYWORDS = frozenset(
    {
        "required",
        "additionalProperties",
        "unevaluatedProperties",
        "propertyNames",
        "dependentRequired",
        "dependencies",
        "minProperties",
        "maxProperties",
    }
)


@dataclass(frozen=True)
class Violation:
    """One complaint of the schema about a document.

    `path` is the JSON path of the offending value in the document (for a missing required
    property: the path of the object that lacks it, with `missing` naming the property).
    """

    path: JsonPath
    keyword: str
    message: str
    missing: str | None = None

    @property
    def dotted(self) -> str:
        """The path as `db.hosts[0].port`; `(root)` for the document itself."""
        return dotted_path(self.path)

    def masked(self) -> str:
        """The complaint without the value: for a value that is or holds a secret."""
        if self.missing is not None or self.keyword in KEY_ONLY_KEYWORDS:
            return self.message
        return f"the value breaks the schema ({self.keyword}); it holds a secret: not shown"


def _no_remote(uri: str) -> Any:
    raise InputError(
        f"cannot resolve $ref {uri!r}: cfgctl resolves references offline only",
        hint="put the referenced schema in schemas/ or next to the schema that refers to it",
    )


class SchemaValidator:
    """A schema compiled once for both validators; see the module docstring."""

    def __init__(
        self,
        schema: Mapping[str, Any] | bool,
        *,
        uri: str,
        resources: Mapping[str, Any] | None = None,
        retrieve: Retrieve | None = None,
    ) -> None:
        self.schema = schema
        self.uri = uri
        if isinstance(schema, Mapping) and "$id" not in schema:
            # The base URI of relative $refs: the schema's own file, for both validators.
            schema = {"$id": uri, **schema}
        retrieve = retrieve or _no_remote
        resources = dict(resources or {})
        resources.setdefault(uri, schema)

        def py_retrieve(target: str) -> referencing.Resource[Any]:
            contents = resources.get(target)
            if contents is None:
                contents = retrieve(target)
            return referencing.jsonschema.specification_with(
                jsonschema.validators.validator_for(contents).META_SCHEMA["$schema"]
            ).create_resource(contents)

        # `retrieve` is the attrs alias of Registry's `_retrieve`, which mypy does not see.
        registry: referencing.Registry[Any] = referencing.Registry(
            retrieve=py_retrieve,  # type: ignore[call-arg]
        )
        cls = _ecma.reference_class(
            jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        )
        self._py = cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
        self._state = threading.local()
        self._rs = self._compile_rs(schema, resources, retrieve)

    def _compile_rs(
        self, schema: Mapping[str, Any] | bool, resources: Mapping[str, Any], retrieve: Retrieve
    ) -> Any:
        """jsonschema-rs made to judge as the reference does, or None where it cannot."""
        walk = _ecma.Walk()
        rs_resources = [(key, walk.schema(value)) for key, value in resources.items()]

        def rs_retrieve(target: str) -> Any:
            return walk.schema(retrieve(target))

        try:
            validator = jsonschema_rs.validator_for(
                walk.schema(schema),
                base_uri=self.uri,
                registry=jsonschema_rs.Registry(rs_resources, retriever=rs_retrieve),
                retriever=rs_retrieve,
                keywords=self._rs_keywords(),
            )
        except Exception:  # noqa: BLE001  anything rs cannot compile, the reference decides
            return None
        if not walk.portable or not _one_dialect(schema, walk.dialects):
            return None
        return validator

    def _rs_keywords(self) -> dict[str, type[Any]]:
        py = self._py
        state = self._state
        keywords: dict[str, type[Any]] = {}
        for name in DELEGATED_KEYWORDS:
            implementation = py.VALIDATORS.get(name)
            if implementation is not None:
                keywords[name] = _delegate(name, implementation, py, state)
        for name in LEGACY_KEYWORDS:
            if name not in py.VALIDATORS:
                keywords[name] = _Ignored
        return keywords

    def is_valid(self, instance: Any) -> bool:
        """The verdict, from the fast validator when it can judge as the reference does."""
        if self._rs is not None and is_plain_json(instance):
            self._state.crashed = False
            try:
                verdict = bool(self._rs.is_valid(instance))
            except Exception:  # noqa: BLE001  e.g. a lone surrogate rs cannot convert
                pass
            else:
                if not self._state.crashed:
                    return verdict
        return not self.violations(instance)

    def violations(self, instance: Any) -> list[Violation]:
        """Every complaint of the reference validator, in document order of their paths."""
        try:
            errors = list(self._py.iter_errors(instance))
        except referencing.exceptions.Unresolvable as exc:
            raise InputError(
                f"cannot resolve $ref {exc.ref!r} in schema {self.uri}",
                hint="check the reference; cfgctl resolves references offline only",
            ) from exc
        except _ecma.RegexError as exc:
            raise InputError(
                f"schema {self.uri}: the pattern {exc}",
                hint="JSON Schema patterns are ECMA 262 regexes in Unicode mode: escape only"
                " syntax characters outside a class (write - for \\-), use \\p{...} with a"
                " known property name",
            ) from exc
        out: list[Violation] = []
        for error in errors:
            out.extend(_violations_of(error))
        return sorted(set(out), key=lambda v: (tuple(map(str, v.path)), v.keyword, v.message))

    def validate(self, instance: Any) -> list[Violation]:
        """`[]` for a valid document, else its violations."""
        if self.is_valid(instance):
            return []
        return self.violations(instance)


_KeywordImplementation = Callable[
    [jsonschema.protocols.Validator, Any, Any, Any], Iterator[jsonschema.exceptions.ValidationError]
]


def _delegate(
    name: str,
    implementation: _KeywordImplementation,
    py: jsonschema.protocols.Validator,
    state: threading.local,
) -> type[Any]:
    """A jsonschema-rs keyword judging as the reference's `implementation` of keyword `name`."""

    class Delegated:
        def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
            if name == "pattern" and isinstance(value, str):
                _ecma.compile_pattern(value)  # none: the reference decides (and fails)
            self.parent_schema = parent_schema
            self.value = value

        def validate(self, instance: Any) -> None:
            try:
                error = next(implementation(py, self.value, instance, self.parent_schema), None)
            except Exception:
                state.crashed = True  # the reference raises here: is_valid asks it again
                raise
            if error is not None:
                raise ValueError(error.message)

    Delegated.__name__ = Delegated.__qualname__ = f"Delegated_{name}"
    return Delegated


class _Ignored:
    """A jsonschema-rs keyword that accepts everything."""

    def __init__(self, parent_schema: Any, value: Any, schema_path: Any) -> None:
        pass

    def validate(self, instance: Any) -> None:
        pass


def _one_dialect(schema: Mapping[str, Any] | bool, dialects: Iterable[Any]) -> bool:
    """Whether every `$schema` met is a known draft, the root's: the callbacks follow the root."""
    root = schema.get("$schema") if isinstance(schema, Mapping) else None
    try:
        expected = referencing.jsonschema.specification_with(
            root if isinstance(root, str) else "https://json-schema.org/draft/2020-12/schema"
        )
        return all(
            isinstance(dialect, str)
            and referencing.jsonschema.specification_with(dialect) is expected
            for dialect in dialects
        )
    except referencing.jsonschema.UnknownDialect:
        return False


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TYPE_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}


def _type_name(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _violations_of(error: jsonschema.exceptions.ValidationError) -> list[Violation]:
    path: JsonPath = tuple(error.absolute_path)
    keyword = str(error.validator)
    expected = error.validator_value
    instance = error.instance
    if keyword == "required" and isinstance(instance, Mapping) and isinstance(expected, list):
        return [
            Violation(path, keyword, f"missing required key {name!r}", missing=str(name))
            for name in expected
            if name not in instance
        ]
    return [Violation(path, keyword, _plain(keyword, expected, instance, error))]


def _plain(
    keyword: str, expected: Any, instance: Any, error: jsonschema.exceptions.ValidationError
) -> str:
    """The complaint in plain words, naming the expectation and the value found."""
    got = "null" if instance is None else f"{_type_name(instance)} {_short(instance)}"
    if keyword == "type":
        want = expected if isinstance(expected, str) else " or ".join(map(str, expected))
        return f"expected {want}, got {got}"
    if keyword == "enum":
        return f"expected one of {_short(expected, 120)}, got {_short(instance)}"
    if keyword == "const":
        return f"expected {_short(expected)}, got {_short(instance)}"
    if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }
        return f"expected a number {words[keyword]} {expected}, got {_short(instance)}"
    if keyword == "format":
        return f"{_short(instance)} is not a valid {expected}"
    if keyword == "pattern":
        return f"{_short(instance)} does not match the pattern {expected!r}"
    if keyword in ("additionalProperties", "unevaluatedProperties") and expected is False:
        extra = _unexpected_keys(error)
        more = f" and {len(extra) - 20} more" if len(extra) > 20 else ""
        names = ", ".join(repr(k) for k in extra[:20]) + more or _short(error.message, 400)
        return f"unknown key{'s' if len(extra) > 1 else ''} {names}"
    if keyword in ("anyOf", "oneOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        return f"{error.message.split(' is ')[-1]}; closest: {best.message}"
    return str(error.message)


def _unexpected_keys(error: jsonschema.exceptions.ValidationError) -> list[str]:
    """The keys an `additionalProperties: false` rejected: neither named nor matched."""
    instance, schema = error.instance, error.schema
    if not isinstance(instance, Mapping) or not isinstance(schema, Mapping):
        return []
    named = schema.get("properties") or {}
    patterns = list((schema.get("patternProperties") or {}).keys())

    def matched(key: str) -> bool:
        for pattern in patterns:
            try:
                if _ecma.search(pattern, key):
                    return True
            except _ecma.RegexError:
                continue
        return False

    return [k for k in instance if k not in named and not matched(str(k))]


def check_schema(schema: Any) -> Sequence[Violation]:
    """The schema's own errors against its metaschema (its `$schema`, draft 2020-12 by default)."""
    if not isinstance(schema, (Mapping, bool)):
        return [
            Violation(
                (), "type", f"a schema must be an object or a boolean, got {_type_name(schema)}"
            )
        ]
    try:  # the fast metaschema check first; the reference's words only for a broken schema
        if jsonschema_rs.meta.is_valid(schema if isinstance(schema, bool) else dict(schema)):
            return []
    except Exception:  # noqa: BLE001  an unknown $schema: the reference decides
        pass
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    meta = cls(cls.META_SCHEMA)
    out = []
    for error in meta.iter_errors(schema):
        best = jsonschema.exceptions.best_match([error])
        out.append(Violation(tuple(best.absolute_path), str(best.validator), best.message))
    return out
