"""A compiled JSON Schema: a fast verdict, and the reference validator's words when it fails.

Validating a document with the reference `jsonschema` costs ~600 µs; `jsonschema-rs` gives the same
verdict in ~7 µs. Most documents are valid, so the fast validator decides, and only a document it
rejects is validated again by `jsonschema` to produce the errors a person reads (the official JSON
Schema Test Suite, in tests/test_validator_agreement.py, shows the two agree on draft 2020-12).

    validator = SchemaValidator({"type": "object", "required": ["port"]}, uri="file:///s.json")
    validator.violations({"host": "x"})  # -> [Violation(path=(), keyword="required", ...)]

`$ref`s resolve offline only: against the resources given (other schemas of the same repository)
and through `retrieve`, a callable that returns a schema for a URI or raises `InputError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.validators
import jsonschema_rs
import referencing
import referencing.exceptions
import referencing.jsonschema

from cfgctl.errors import InputError

__all__ = ["Retrieve", "SchemaValidator", "Violation", "check_schema"]

Retrieve = Callable[[str], Any]
JsonPath = tuple[str | int, ...]

# Formats whose checkers in jsonschema-rs and jsonschema (with its format-nongpl extra) are known to
# disagree on some inputs: for a schema that uses one, the reference validator decides alone.
SLOW_FORMATS = frozenset({"idn-email", "idn-hostname", "iri", "iri-reference", "regex", "duration"})


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


def dotted_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def _no_remote(uri: str) -> Any:
    raise InputError(
        f"cannot resolve $ref {uri!r}: cfgctl resolves references offline only",
        hint="put the referenced schema in schemas/ or next to the schema that refers to it",
    )


def _uses_slow_format(schema: Any) -> bool:
    if isinstance(schema, Mapping):
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in SLOW_FORMATS:
            return True
        return any(_uses_slow_format(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_uses_slow_format(v) for v in schema)
    return False


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

        registry: referencing.Registry[Any] = referencing.Registry(retrieve=py_retrieve)
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        self._py = cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
        self._rs: Any = None
        if not _uses_slow_format(schema):
            try:
                self._rs = jsonschema_rs.validator_for(
                    schema,
                    validate_formats=True,
                    base_uri=uri,
                    registry=jsonschema_rs.Registry(list(resources.items())),
                    retriever=retrieve,
                )
            except Exception:  # noqa: BLE001  anything rs cannot compile, the reference decides
                self._rs = None

    def is_valid(self, instance: Any) -> bool:
        """The verdict, from the fast validator when it could compile the schema."""
        if self._rs is not None:
            return bool(self._rs.is_valid(instance))
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
        out: list[Violation] = []
        for error in errors:
            out.extend(_violations_of(error))
        return sorted(set(out), key=lambda v: (tuple(map(str, v.path)), v.keyword, v.message))

    def validate(self, instance: Any) -> list[Violation]:
        """`[]` for a valid document, else its violations."""
        if self.is_valid(instance):
            return []
        return self.violations(instance)


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
    if keyword == "required" and isinstance(instance, Mapping):
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
    got = f"{_type_name(instance)} {_short(instance)}"
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
        names = ", ".join(repr(k) for k in extra) or error.message
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
                if re.search(pattern, key):
                    return True
            except re.error:
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
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    meta = cls(cls.META_SCHEMA)
    out = []
    for error in meta.iter_errors(schema):
        best = jsonschema.exceptions.best_match([error])
        out.append(Violation(tuple(best.absolute_path), str(best.validator), best.message))
    return out
