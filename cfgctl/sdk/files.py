"""Reading a configuration file of any format cfgctl writes, by its extension.

    parsed = read_file(Path("config.yaml"), Settings)
    parsed.data                       # plain data: dict, list, str, int, float, bool, None
    parsed.locate(("db", "port"))     # Location("config.yaml", 3, 9) for YAML and JSON

YAML (`.yaml`, `.yml`) is read by `cfgctl.repo.yamlio` (strict: no duplicate keys, YAML 1.2), JSON
strictly, TOML with `tomllib`, `.env` files as `cfgctl render --format env` writes them (see
`cfgctl.sdk.envfile`). An empty YAML file is an empty mapping.
"""

from __future__ import annotations

import contextlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.errors import CfgctlError, InputError, Location
from cfgctl.repo.yamlio import Document, JsonPath, decode, load_strict_json, parse
from cfgctl.sdk.envfile import parse_env

__all__ = ["FORMATS", "Parsed", "format_of", "parse_text", "read_bytes", "read_file"]

FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml", ".env": "env"}


@dataclass
class Parsed:
    """The data of one file, and where its keys are (found only when an error needs them)."""

    source: str
    text: str
    fmt: str
    data: Any
    doc: Document | None = None
    env_lines: dict[JsonPath, int] = field(default_factory=dict)

    def locate(self, path: JsonPath) -> Location:
        """file:line:col of the value at `path` (or of its nearest ancestor), where known."""
        if self.doc is None and self.fmt == "json":
            with contextlib.suppress(CfgctlError):  # positions only; JSON is YAML, mostly
                self.doc = parse(self.text, self.source)
        if self.doc is not None:
            return self.doc.location(path)
        for cut in range(len(path), 0, -1):
            if path[:cut] in self.env_lines:
                return Location(self.source, self.env_lines[path[:cut]])
        return Location(self.source)


def format_of(path: Path) -> str:
    """yaml, json, toml or env, from the file's extension (`.env` and `prod.env` are env)."""
    suffix = path.suffix.lower() or (path.name.lower() if path.name.startswith(".") else "")
    if suffix in FORMATS:
        return FORMATS[suffix]
    raise InputError(
        f"cannot tell the format from the extension {suffix or '(none)'}",
        location=Location(str(path)),
        hint=f"name it {', '.join(FORMATS)}, or pass format='yaml' (json, toml, env)",
    )


def parse_text(raw: bytes | str, fmt: str, source: str, model: type) -> Parsed:
    """Parse the text of a file in format `fmt`; InputError with a location when broken."""
    if fmt not in FORMATS.values():
        raise InputError(
            f"unknown format {fmt!r}", hint=f"use one of {', '.join(sorted(set(FORMATS.values())))}"
        )
    text = decode(raw, source)
    parsed = Parsed(source, text, fmt, None)
    if fmt == "yaml":
        parsed.doc = parse(text, source)
        parsed.data = parsed.doc.data
    elif fmt == "json":
        parsed.data = load_strict_json(text, source)
    elif fmt == "toml":
        try:
            parsed.data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(
                f"invalid TOML: {exc}", location=Location(source), hint="fix the TOML syntax"
            ) from exc
    else:
        parsed.data, parsed.env_lines = parse_env(text, source, model)
    if parsed.data is None:
        parsed.data = {}
    if not isinstance(parsed.data, dict):
        raise InputError(
            f"the top level is a {type(parsed.data).__name__}, not a mapping of keys",
            location=Location(source, 1, 1),
            hint="a configuration file holds keys: `key: value` at the top level",
        )
    return parsed


def read_bytes(path: Path) -> bytes:
    """The file's bytes; InputError saying why it cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(
            "no such configuration file",
            location=Location(str(path)),
            hint=f"check the path (relative paths start from the current directory {Path.cwd()})",
        ) from exc
    except OSError as exc:
        raise InputError(
            f"cannot read it: {exc.strerror or exc}",
            location=Location(str(path)),
            hint="check that it is a readable file",
        ) from exc


def read_file(path: Path, model: type, fmt: str | None = None) -> Parsed:
    """Read and parse one configuration file; the format from its extension unless `fmt`."""
    fmt = fmt or format_of(path)
    return parse_text(read_bytes(path), fmt, str(path), model)
