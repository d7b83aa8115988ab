"""What the SDK needs to know about a user's model: its fields, the types under them, frozenness.

A model is a class the SDK can build a configuration into: a dataclass or a pydantic `BaseModel`.

    require_model(Settings)               # InputError unless a frozen dataclass or BaseModel
    fields(Settings)                      # [("db", DB), ("mode", Literal["dev", "prod"]), ...]
    key_path(Settings, ("u", "int"))      # ("u",): pydantic's union tags are no keys
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, Union, cast

from pydantic import BaseModel

from cfgctl.errors import InputError
from cfgctl.repo.yamlio import JsonPath

__all__ = [
    "allows_none",
    "fields",
    "is_mapping",
    "is_model",
    "is_sequence",
    "key_path",
    "members",
    "model_name",
    "require_model",
]

_SEQUENCES = (list, tuple, set, frozenset)
_FROZEN_HINT = (
    "declare it @dataclass(frozen=True), or give a pydantic model "
    "model_config = ConfigDict(frozen=True): configs are shared between threads, read-only"
)


def model_name(model: Any) -> str:
    """`module.Class`, as a user would import it."""
    return f"{getattr(model, '__module__', '?')}.{getattr(model, '__qualname__', model)}"


def is_model(tp: Any) -> bool:
    """A dataclass or a pydantic BaseModel class."""
    return isinstance(tp, type) and (dataclasses.is_dataclass(tp) or issubclass(tp, BaseModel))


def _is_frozen(model: type) -> bool:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return bool(model.model_config.get("frozen"))
    params = getattr(model, "__dataclass_params__", None)
    return bool(getattr(params, "frozen", False))


def _strip(tp: Any) -> Any:
    while typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def members(tp: Any) -> tuple[Any, ...]:
    """The alternatives of a union (Annotated stripped), or the type alone."""
    tp = _strip(tp)
    if typing.get_origin(tp) in (Union, types.UnionType):
        return tuple(m for arg in typing.get_args(tp) for m in members(arg))
    return (tp,)


def allows_none(tp: Any) -> bool:
    """True for `X | None`, `Optional[X]`, `None`, `Any` and `Literal[None, ...]`."""
    for m in members(tp):
        if m is type(None) or m is None or m is Any:
            return True
        if typing.get_origin(m) is Literal and None in typing.get_args(m):
            return True
    return False


def is_sequence(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return isinstance(origin, type) and (
        issubclass(origin, _SEQUENCES)
        or (origin.__module__ == "collections.abc" and origin.__name__ in ("Sequence", "Set"))
    )


def is_mapping(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return isinstance(origin, type) and (issubclass(origin, dict) or origin is Mapping)


def fields(model: type) -> list[tuple[str, Any]]:
    """(key in the data, annotation) of each field a model is built from, in declaration order."""
    if issubclass(model, BaseModel):
        out = []
        for name, info in model.model_fields.items():
            alias = info.validation_alias if isinstance(info.validation_alias, str) else None
            out.append((alias or info.alias or name, info.annotation))
        return out
    try:
        hints = typing.get_type_hints(model, include_extras=True)
    except (NameError, TypeError):  # a string annotation naming a class local to a function
        hints = {}
    return [
        (f.name, hints.get(f.name, f.type if not isinstance(f.type, str) else Any))
        for f in dataclasses.fields(cast(Any, model))
        if f.init
    ]


def _children(tp: Any) -> Iterator[Any]:
    """The types directly inside `tp`: union members, items, values, fields of a model."""
    for m in members(tp):
        if is_model(m):
            yield from (ann for _, ann in fields(m))
        else:
            yield from (a for a in typing.get_args(m) if not isinstance(a, (str, int, bool)))


def require_model(model: object) -> None:
    """Refuse anything but a dataclass or BaseModel class whose models are all frozen."""
    if not is_model(model):
        what = (
            model_name(model)
            if isinstance(model, type)
            else f"an instance of {type(model).__name__}"
        )
        raise InputError(
            f"{what} is not a model cfgctl.sdk can build a configuration into",
            hint="pass a class: a @dataclass(frozen=True) or a frozen pydantic BaseModel",
        )
    seen: set[Any] = set()
    stack: list[Any] = [model]
    while stack:
        tp = stack.pop()
        for m in members(tp):
            if is_model(m) and m not in seen:
                seen.add(m)
                if not _is_frozen(m):
                    raise InputError(f"model {model_name(m)} is not frozen", hint=_FROZEN_HINT)
        try:
            stack.extend(c for c in _children(tp) if c not in seen)
        except TypeError:  # an unhashable type argument (e.g. Literal of a list): no model in it
            continue


def _tag(tp: Any) -> str:
    """The name pydantic gives a union member in an error's location."""
    tp = _strip(tp)
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return repr(tp).replace("typing.", "")


def key_path(model: type, loc: tuple[int | str, ...]) -> JsonPath:
    """The keys of a pydantic error location, less its union tags and `[key]` markers.

    pydantic names the union member that failed (`('u', 'int')`): walking the model's types
    alongside the location tells a tag from a key.
    """
    out: list[str | int] = []
    tp: Any = model
    for part in loc:
        alternatives = [m for m in members(tp) if m is not type(None)]
        if tp is not None and len(alternatives) > 1 and isinstance(part, str):
            chosen = [m for m in alternatives if _tag(m) == part]
            if chosen or not any(is_model(m) for m in alternatives):
                tp = chosen[0] if chosen else None
                continue
        if part == "[key]":
            tp = None
            continue
        out.append(part)
        tp = _step(alternatives[0] if len(alternatives) == 1 else None, part)
    return tuple(out)


def _step(tp: Any, part: int | str) -> Any:
    """The type found under `part` of a value of type `tp` (None when unknown)."""
    if tp is None:
        return None
    if is_model(tp):
        return dict(fields(tp)).get(str(part))
    args = typing.get_args(tp)
    if is_mapping(tp):
        return args[1] if len(args) == 2 else None
    if is_sequence(tp) and args:
        if typing.get_origin(tp) is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return args[part] if isinstance(part, int) and part < len(args) else None
        return args[0]
    return None
