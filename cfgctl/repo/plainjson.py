"""Whether a value is plain JSON: what jsonschema-rs reads as the reference `jsonschema` does.

jsonschema-rs takes NaN and infinities for values of no type at all; the types it cannot read
(dates, sets, non-string keys...) it refuses. Its verdict on anything else is asked for only
after this check (cfgctl/repo/validator.py, cfgctl/repo/builtin.py).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["is_plain_json"]

_STRICT_JSON = json.JSONEncoder(allow_nan=False, check_circular=False)


def is_plain_json(instance: Any) -> bool:
    """Whether `instance` encodes as strict JSON (no NaN, no infinities, only JSON types)."""
    try:
        _STRICT_JSON.encode(instance)
    except (TypeError, ValueError, RecursionError):
        return False
    return True
