"""The official SARIF 2.1.0 schema (OASIS, vendored in tests/fixtures/sarif/ with its source and
licence) and the errors of a log against it.

    assert sarif_errors(json.loads(text)) == []
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

__all__ = ["SARIF_SCHEMA", "sarif_errors"]

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "fixtures/sarif/sarif-schema-2.1.0.json"


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return loaded


def sarif_errors(log: Any) -> list[str]:
    """Every way `log` breaks the schema, as `[path]: message`; empty when it is valid."""
    cls = jsonschema.validators.validator_for(schema())  # Draft4Validator, from its $schema
    # every format jsonschema knows: the draft-04 checker alone skips `uri-reference`, the
    # format of artifactLocation.uri that SARIF borrows from later drafts
    validator = cls(schema(), format_checker=jsonschema.FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
