"""The shape of Spring Cloud Config's answers, from its documentation: for the tests of
cfgctl.operate.springenv and of the server's Spring paths (cfgctl.server.compat)."""

from __future__ import annotations

from typing import Any

# Spring Cloud Config's Environment, as its documentation and client (Environment.java) have it.
ENVIRONMENT: dict[str, Any] = {
    "type": "object",
    "required": ["name", "profiles", "propertySources"],
    "properties": {
        "name": {"type": "string"},
        "profiles": {"type": "array", "items": {"type": "string"}},
        "label": {"type": ["string", "null"]},
        "version": {"type": ["string", "null"]},
        "state": {"type": ["string", "null"]},
        "propertySources": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "source"],
                "properties": {"name": {"type": "string"}, "source": {"type": "object"}},
            },
        },
    },
}
