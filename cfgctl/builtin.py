"""The schemas and templates cfgctl ships, and validation of cfgctl's own files against them.

diagnostics = check_own_file(doc, "cfgctl")   # cfgctl.yaml against schemas/cfgctl.schema.json
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cfgctl.diagnostics import Diagnostic
from cfgctl.errors import Location
from cfgctl.yamlio import Document

if TYPE_CHECKING:
    from cfgctl.jsonvalidate import SchemaValidator

__all__ = ["DATA", "SCHEMAS", "TEMPLATES", "check_own_file", "own_validator"]

DATA = Path(__file__).resolve().parent / "data"
SCHEMAS = DATA / "schemas"
TEMPLATES = DATA / "templates"


@functools.cache
def own_validator(name: str) -> SchemaValidator:
    """The validator of one of cfgctl's own file kinds: cfgctl, template, policy, agent."""
    from cfgctl.jsonvalidate import SchemaValidator

    path = SCHEMAS / f"{name}.schema.json"
    return SchemaValidator(json.loads(path.read_text()), uri=path.as_uri())


def check_own_file(doc: Document, kind: str) -> list[Diagnostic]:
    """Every way `doc` breaks the schema of its kind, each at the line of the offending value."""
    out: list[Diagnostic] = []
    for v in own_validator(kind).validate(doc.data if doc.data is not None else {}):
        if v.missing is not None:
            location = doc.location(v.path, key=bool(v.path))
        elif v.keyword in ("additionalProperties", "propertyNames", "unevaluatedProperties"):
            location = _unknown_key_location(doc, v.path, v.message)
        else:
            location = doc.location(v.path)
        out.append(
            Diagnostic(
                "error",
                f"{kind}-schema",
                f"{v.dotted}: {v.message}",
                location,
                path=v.dotted,
                hint=f"the format is described by `cfgctl schema show --builtin {kind}`",
            )
        )
    return out


def _unknown_key_location(doc: Document, path: tuple[str | int, ...], message: str) -> Location:
    data: Any = doc.data
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            data = None
    if isinstance(data, dict):
        for key in data:
            if repr(key) in message:
                return doc.location((*path, key), key=True)
    return doc.location(path)
