"""JSON Schema regexes as the specification reads them: ECMA 262 with the `u` flag, via `regress`.

JSON Schema says `pattern`, `patternProperties` and the `regex` format follow ECMA 262; the
reference `jsonschema` uses Python's `re` instead (`\\p{Letter}` raises, `$` matches before a final
newline, `\\d` matches every Unicode digit). This module gives both validators the standard:

- `reference_class(cls)`: a copy of a `jsonschema` validator class whose keywords search with
  `regress` wherever the original calls `re` (`pattern`, `patternProperties`, and the property
  lists of `additionalProperties` and `unevaluatedProperties`), whose `regex` format compiles with
  `regress`, and which stays ECMA when a `$ref` leads into a schema with its own `$schema`;
- `rs_portable(pattern)`: whether jsonschema-rs, whose own ECMA 262 translation judges
  `patternProperties` natively, matches exactly as `regress` does (tests/repo/test_validator.py
  fuzzes the two against each other); a schema with a pattern outside that subset goes to the
  reference.

Patterns compile with the `u` flag, as check-jsonschema's default: an identity escape such as
`\\-` outside a character class is an error there, as in every ECMA 262 engine in Unicode mode.

Private to cfgctl.repo: `cfgctl.repo.validator` and `cfgctl.repo.secretpaths` use it.
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Mapping
from typing import Any

import attrs
import jsonschema
import jsonschema.validators
import regress

__all__ = ["RegexError", "compile_pattern", "reference_class", "rs_portable", "search"]


class RegexError(ValueError):
    """A pattern that is not an ECMA 262 regular expression in Unicode mode."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"{pattern!r} is not an ECMA 262 regular expression ({reason})")
        self.pattern = pattern
        self.reason = reason


@functools.lru_cache(maxsize=4096)
def compile_pattern(pattern: str) -> regress.Regex:
    """`pattern` compiled as ECMA 262 with the `u` flag; `RegexError` when it is not one."""
    try:
        return regress.Regex(pattern, flags="u")
    except regress.RegressError as exc:
        raise RegexError(pattern, str(exc).lower()) from None


def search(pattern: str, text: str) -> bool:
    """Whether `pattern` matches anywhere in `text` (ECMA 262's `RegExp.prototype.test`)."""
    return compile_pattern(pattern).find(text) is not None


class _EcmaRe:
    """The part of the `re` module that jsonschema's keywords call, answered by `regress`."""

    error = RegexError

    @staticmethod
    def search(pattern: str, string: str) -> regress.Match | None:
        return compile_pattern(pattern).find(string)

    @staticmethod
    def compile(pattern: str) -> regress.Regex:
        return compile_pattern(pattern)


_ECMA_RE = _EcmaRe()


def _is_regex(instance: object) -> bool:
    if isinstance(instance, str):
        compile_pattern(instance)
    return True


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _rebound(function: Any, memo: dict[Any, Any]) -> Any:
    """A copy of a jsonschema function whose `re`, and that of every jsonschema helper it calls
    by name, is `_ECMA_RE`; the function itself when none of them uses `re`."""
    if function in memo:
        return memo[function]
    if not isinstance(function, types.FunctionType) or not function.__module__.startswith(
        "jsonschema"
    ):
        return function
    memo[function] = function  # a recursive helper sees itself while it is being rebound
    namespace = dict(function.__globals__)
    changed = False
    for name in _code_names(function.__code__):
        value = namespace.get(name)
        if value is re:
            namespace[name] = _ECMA_RE
            changed = True
        elif isinstance(value, types.FunctionType):
            copy = _rebound(value, memo)
            changed |= copy is not value
            namespace[name] = copy
    if not changed:
        return function
    copy = types.FunctionType(
        function.__code__,
        namespace,
        function.__name__,
        function.__defaults__,
        function.__closure__,
    )
    copy.__kwdefaults__ = function.__kwdefaults__
    copy.__qualname__ = function.__qualname__
    memo[function] = copy
    for name in _code_names(function.__code__):  # a recursive helper calls its copy
        if namespace.get(name) is function:
            namespace[name] = copy
    return copy


_Validator = type[jsonschema.protocols.Validator]


@functools.cache
def reference_class(cls: _Validator) -> _Validator:
    """The validator class `cls` with ECMA 262 regexes; see the module docstring."""
    if getattr(cls, "_cfgctl_ecma", False):
        return cls
    memo: dict[Any, Any] = {}
    keywords = {name: _rebound(function, memo) for name, function in cls.VALIDATORS.items()}
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers = {**cls.FORMAT_CHECKER.checkers, "regex": (_is_regex, (RegexError,))}
    ecma: Any = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
        cls, validators=keywords, format_checker=checker
    )
    ecma._cfgctl_ecma = True
    ecma.evolve = _evolve
    ecma.__name__ = ecma.__qualname__ = f"Ecma{cls.__name__}"
    return ecma  # type: ignore[no-any-return]


def _evolve(self: Any, **changes: Any) -> Any:
    """jsonschema's `evolve`, except that a `$schema` met on the way gives the ECMA class of
    that draft, never the stock one."""
    schema = changes.setdefault("schema", self.schema)
    target = reference_class(jsonschema.validators.validator_for(schema, default=type(self)))
    for field in attrs.fields(type(self)):
        if field.init and field.alias not in changes:
            changes[field.alias] = getattr(self, field.name)
    return target(**changes)


# Pieces after which jsonschema-rs and regress are known to part ways: word boundaries (Unicode
# in one, ASCII in the other), look-arounds and back-references (another engine in jsonschema-rs,
# whose \d and \w are Unicode), the empty classes `[]` and `[^]`, and `\0`.
_UNPORTABLE = re.compile(r"\\[bB0-9k]|\(\?(?!:)|\[\^?\]")
_ESCAPED_BACKSLASH = re.compile(r"\\\\")


def rs_portable(pattern: object) -> bool:
    """Whether jsonschema-rs matches `pattern` exactly as `regress` does (and both compile it)."""
    if not isinstance(pattern, str):
        return False
    try:
        compile_pattern(pattern)
    except RegexError:
        return False
    # Drop escaped backslashes first so that `\\b` (a backslash, then b) is not taken for `\b`.
    return _UNPORTABLE.search(_ESCAPED_BACKSLASH.sub("", pattern)) is None


class Walk:
    """What a schema holds that decides whether jsonschema-rs may judge it: whether every
    `patternProperties` regex is portable, and every `$schema` met."""

    _DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
    _NAMED_SCHEMAS = frozenset(
        {"properties", "$defs", "definitions", "dependentSchemas", "dependencies"}
    )

    def __init__(self) -> None:
        self.portable = True
        self.dialects: list[Any] = []

    def schema(self, node: Any) -> Any:
        """`node`, unchanged, after noting what it holds (a callable for the rs retriever)."""
        self._visit(node)
        return node

    def _visit(self, node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                self._visit(item)
            return
        if not isinstance(node, Mapping):
            return
        if "$schema" in node:
            self.dialects.append(node["$schema"])
        for key, value in node.items():
            if key in self._DATA_KEYWORDS:
                continue
            if key == "patternProperties" and isinstance(value, Mapping):
                self.portable &= all(rs_portable(pattern) for pattern in value)
            if key in self._NAMED_SCHEMAS | {"patternProperties"} and isinstance(value, Mapping):
                for subschema in value.values():
                    self._visit(subschema)
            else:
                self._visit(value)
