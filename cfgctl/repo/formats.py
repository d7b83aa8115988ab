"""The file formats an effective configuration is written in: yaml, json, env, toml.

    serialize(rendered.data, "toml")    # bytes, ready to write
    env_lines({"db": {"host": "x"}})    # ["DB_HOST=x"]

Each refuses, with an InputError naming the key, what its format cannot hold (an env variable
name that is not one, two keys giving one variable, a null in TOML).
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, Literal

from cfgctl.errors import InputError
from cfgctl.repo.yamlwrite import dump_plain

__all__ = ["FORMATS", "Format", "env_lines", "serialize"]

Format = Literal["yaml", "json", "env", "toml"]
FORMATS: tuple[Format, ...] = ("yaml", "json", "env", "toml")


def env_lines(data: Any) -> list[str]:
    """KEY=value lines: nested keys joined with `_`, upper-cased; collections as JSON."""
    seen: dict[str, str] = {}
    lines: list[str] = []

    def walk(value: Any, path: list[str]) -> None:
        if isinstance(value, dict) and value:
            for key, sub in value.items():
                walk(sub, [*path, str(key)])
            return
        name = "_".join("".join(c if c.isalnum() else "_" for c in p) for p in path).upper()
        dotted = ".".join(path)
        if not re.match(r"^[A-Z_][A-Z0-9_]*$", name):
            raise InputError(
                f"key {dotted} gives {name!r}, which is no environment variable name",
                hint="variable names start with a letter or '_'; use --format json or yaml",
            )
        if name in seen:
            raise InputError(
                f"keys {seen[name]} and {dotted} both give the variable {name}",
                hint="rename one of the keys, or use --format json or yaml",
            )
        seen[name] = dotted
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = ""
        elif isinstance(value, (dict, list)):
            text = json.dumps(value, separators=(",", ":"))
        else:
            text = str(value)
        lines.append(f"{name}={shlex.quote(text) if text else ''}")

    walk(data, [])
    return lines


def _no_nulls(value: Any, path: list[str]) -> None:
    if value is None:
        raise InputError(
            f"key {'.'.join(path) or '(top)'} is null, which TOML cannot hold",
            hint="remove the key or give it a value, or write the target as yaml or json",
        )
    if isinstance(value, dict):
        for key, sub in value.items():
            _no_nulls(sub, [*path, str(key)])
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _no_nulls(sub, [*path, str(i)])


def serialize(data: Any, fmt: Format) -> bytes:
    """`data` (an effective configuration) as the bytes of a file in `fmt`."""
    data = data if data is not None else {}
    if fmt == "json":
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
    if fmt == "env":
        return "".join(line + "\n" for line in env_lines(data)).encode()
    if fmt == "toml":
        import tomli_w

        _no_nulls(data, [])
        return tomli_w.dumps(data).encode()
    return (dump_plain(data) if data else "{}\n").encode()
