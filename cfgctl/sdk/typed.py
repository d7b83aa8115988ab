"""Plain data to an instance of the user's own model, with every error named by its key.

    settings = convert(parsed, Settings)   # a Settings: the user's frozen dataclass or model
    plain(settings)                         # back to nested dicts, to compare versions

pydantic v2 validates (its lax mode: `"20"` is an integer for an `int` field, as a `.env` file
needs) and builds the user's own class, not a proxy: reading `settings.db.pool_size` costs what
reading any frozen dataclass costs. Extra keys follow the model: ignored by dataclasses and by
pydantic's default, refused with `extra="forbid"`.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from pydantic import TypeAdapter, ValidationError
from pydantic.errors import PydanticUndefinedAnnotation, PydanticUserError

from cfgctl.errors import InputError, Location
from cfgctl.repo.keypath import dotted_path
from cfgctl.sdk.files import Parsed
from cfgctl.sdk.models import key_path, model_name, require_model

__all__ = ["ConfigError", "Problem", "adapter", "convert", "plain"]

T = TypeVar("T")

# A value under such a name is never repeated in an error (errors end up in logs).
_SECRET_KEY = re.compile(
    r"(?i)(pass(word|wd)?|secret|token|api[_-]?key|private[_-]?key|credential)"
)
_SHOWN = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class Problem:
    """One invalid value: its dotted key path, what is wrong, where it is."""

    key: str
    message: str
    location: Location

    def __str__(self) -> str:
        return f"{self.location}: {self.key}: {self.message}"


class ConfigError(InputError):
    """A configuration file does not fit its model (exit 2). `.key` names the first bad key,
    `.problems` lists every one."""

    def __init__(self, source: str, model: type, problems: list[Problem]) -> None:
        first = problems[0]
        if len(problems) == 1:
            message, location = f"{first.key}: {first.message}", first.location
        else:
            lines = "".join(f"\n  {p}" for p in problems)
            message = f"{len(problems)} invalid values for {model_name(model)}:{lines}"
            location = Location(source)
        super().__init__(
            message,
            location=location,
            hint=f"fix the file, or the model {model_name(model)} if the file is right",
        )
        self.key = first.key
        self.problems = tuple(problems)


# Validators by model, bounded: a process that makes models on the fly (tests, plugins) must not
# keep every one alive; a service has a handful, built once.
# A process-wide memo like pydantic's own (a model class is process-wide too), bounded and
# locked: `load` has no object to own it, and a watcher's thread builds adapters beside the app.
_ADAPTERS: OrderedDict[type, TypeAdapter[Any]] = OrderedDict()
_ADAPTERS_LOCK = threading.Lock()
ADAPTERS_KEPT = 64


def adapter(model: type[T]) -> TypeAdapter[T]:
    """The pydantic validator of a model, built once per model (building costs milliseconds)."""
    with _ADAPTERS_LOCK:
        found = _ADAPTERS.get(model) if isinstance(model, type) else None
        if found is not None:
            _ADAPTERS.move_to_end(model)
    if found is None:
        require_model(model)
        try:
            found = TypeAdapter(model)
            rebuild = getattr(found, "rebuild", None)
            if rebuild is not None:  # pydantic >= 2.10 defers what it cannot resolve yet
                rebuild(raise_errors=True)
        except (PydanticUserError, PydanticUndefinedAnnotation) as exc:
            raise InputError(
                f"pydantic cannot build {model_name(model)}: {exc.message}",
                hint="define the model and the classes it names at module level (with `from "
                "__future__ import annotations`, a class local to a function cannot be found)",
            ) from exc
        _require_schema(found, model)
        if isinstance(model, type):
            with _ADAPTERS_LOCK:
                _ADAPTERS[model] = found
                while len(_ADAPTERS) > ADAPTERS_KEPT:
                    _ADAPTERS.popitem(last=False)
    return cast("TypeAdapter[T]", found)


def _require_schema(built: TypeAdapter[Any], model: type) -> None:
    """A model is configuration only if it has a JSON Schema: a field no file can hold (a
    callable, an arbitrary class) is refused here, by `load` as by `cfgctl schema generate`."""
    try:
        built.json_schema(mode="validation")
    except PydanticUserError as exc:  # PydanticInvalidForJsonSchema among them
        raise InputError(
            f"no JSON Schema for {model_name(model)}: {exc.message}",
            hint="a configuration model holds data: str, int, float, bool, lists, mappings, "
            "Literal, nested models",
        ) from exc


def _message(error: Any, key: str) -> tuple[str, str]:
    """What is wrong, and `, got VALUE` when the value is a scalar that may be shown."""
    kind = error["type"]
    if kind == "missing":
        return "required key is missing", ""
    if kind == "extra_forbidden":
        return "unknown key: the model forbids keys it does not declare", ""
    value = error.get("input")
    if not isinstance(value, _SHOWN) or _SECRET_KEY.search(key):
        return str(error["msg"]), ""
    shown = repr(value)
    return str(error["msg"]), f", got {shown if len(shown) <= 60 else shown[:57] + '...'}"


def _problems(exc: ValidationError, parsed: Parsed, model: type) -> list[Problem]:
    merged: dict[tuple[str | int, ...], tuple[list[str], str]] = {}
    for error in exc.errors(include_url=False):
        path = key_path(model, tuple(error["loc"]))
        text, got = _message(error, dotted_path(path))
        texts, _ = merged.setdefault(path, ([], got))
        if text not in texts:
            texts.append(text)
    # A value failing every member of a union fails each one: one line saying all it could be.
    return [
        Problem(
            dotted_path(path),
            " or ".join([texts[0], *(t.removeprefix("Input should be ") for t in texts[1:])]) + got,
            parsed.locate(path),
        )
        for path, (texts, got) in merged.items()
    ]


def _settle(value: Any) -> Any:
    """The same objects, each dataclass instance rebuilt attribute by attribute, as its
    `__init__` would.

    pydantic gives a dataclass instance a `__dict__` of its own making; CPython then reads its
    attributes through a dict lookup (~19 ns for `cfg.db.pool_size`) instead of its
    inline-values fast path (~14 ns, what a hand-built instance gets). Setting the attributes in
    order on a fresh instance restores the fast path; whatever `__post_init__` added is kept.
    """
    kind = type(value)
    if kind is list:
        return [_settle(v) for v in value]
    if kind is tuple:
        return tuple(_settle(v) for v in value)
    if kind is dict:
        return {k: _settle(v) for k, v in value.items()}
    if dataclasses.is_dataclass(kind) and hasattr(value, "__dict__"):  # not slots=True
        fresh = object.__new__(kind)
        for name, attr in vars(value).items():
            object.__setattr__(fresh, name, _settle(attr))
        return fresh
    return value


def convert(parsed: Parsed, model: type[T]) -> T:
    """An instance of `model` from the parsed file; ConfigError listing every bad key."""
    try:
        value = adapter(model).validate_python(parsed.data)
    except ValidationError as exc:
        # from None: pydantic's error holds the refused input (a secret, maybe), and a service
        # that logs the exception with its cause would print it.
        raise ConfigError(parsed.source, model, _problems(exc, parsed, model)) from None
    return cast(T, _settle(value)) if dataclasses.is_dataclass(model) else value


def plain(model: type[T], value: T) -> Any:
    """The configuration as nested dicts and lists (defaults included)."""
    return adapter(model).dump_python(value, mode="python")
