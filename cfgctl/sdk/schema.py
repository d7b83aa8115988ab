"""The JSON Schema of a service's model, so that a repository validates what the service reads.

    model = import_model("payments.settings:Settings")   # the current folder on sys.path
    model_schema(model)   # {"$schema": ".../2020-12/schema", "properties": {...}, ...}

pydantic writes the schema (validation mode): defaults, descriptions (`Field(description=...)`,
docstrings of models), constraints (`Annotated[int, Field(ge=1)]`, `annotated_types.Ge`), enums
for `Literal`, `$defs` for nested models. `additionalProperties: false` appears where the model
forbids extra keys (pydantic's `extra="forbid"`); a dataclass accepts them by default, and so does
its schema. A `SecretStr` field is `writeOnly`, which cfgctl treats as a secret key.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from cfgctl.errors import InputError
from cfgctl.sdk.models import is_model
from cfgctl.sdk.typed import adapter

__all__ = ["DRAFT", "import_model", "model_schema"]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
_EXAMPLE = "e.g. payments.settings:Settings"


def _import(module_name: str) -> Any:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise InputError(
                f"no module {module_name!r} importable from {Path.cwd()}",
                hint="run from the folder holding it (as `python -m` would), or set PYTHONPATH",
            ) from exc
        raise InputError(
            f"importing {module_name} failed: {exc}",
            hint="install what the module imports, in the environment that runs cfgctl",
        ) from exc
    except Exception as exc:  # the user's module may raise anything on import
        raise InputError(
            f"importing {module_name} failed: {type(exc).__name__}: {exc}",
            hint=f"fix the module; `python -c 'import {module_name}'` shows the traceback",
        ) from exc


def import_model(spec: str) -> type:
    """The class named by `MODULE:CLASS` (CLASS may be dotted: `module:Outer.Inner`)."""
    module_name, colon, attr = spec.partition(":")
    if not colon or not module_name.strip() or not attr.strip():
        raise InputError(f"{spec!r} is not MODULE:CLASS", hint=_EXAMPLE)
    cwd = str(Path.cwd())
    if cwd not in sys.path:  # as uvicorn and `python -m` do: the service's own package
        sys.path.insert(0, cwd)
    found: Any = _import(module_name)
    for part in attr.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            module = _import(module_name)
            models = sorted(
                n
                for n, v in vars(module).items()
                if is_model(v) and v.__module__ == module.__name__
            )
            raise InputError(
                f"module {module_name} has no {attr}",
                hint=f"its models: {', '.join(models)}" if models else _EXAMPLE,
            ) from None
    if not is_model(found):
        raise InputError(
            f"{spec} is a {type(found).__name__}, not a dataclass or pydantic model",
            hint="point at a class decorated with @dataclass or deriving from pydantic.BaseModel",
        )
    return found  # type: ignore[no-any-return]


def model_schema(model: type, *, title: str | None = None) -> dict[str, Any]:
    """The draft 2020-12 JSON Schema of a dataclass or pydantic model; `InputError` for a model
    `cfgctl.sdk.load` refuses (not frozen, unresolved names, a field no file can hold)."""
    schema = adapter(model).json_schema(mode="validation")
    out: dict[str, Any] = {"$schema": DRAFT, **schema}
    if title:
        out["title"] = title
    return out
