"""Reading the files `cfgctl import` takes, each with its format's standard reader: cfgctl's
YAML reader, json, tomllib, python-dotenv's parser (`env`, `spring`), jproperties
(`properties`), a Kubernetes ConfigMap or Secret, `consul kv export`'s JSON.

    source = read_source(Path("application-prod.properties"), None, prefix=None)
    source.fmt        # "properties" (from the name; --format says it otherwise)
    source.typed      # nested data with types (yaml, json, toml, helm-values), or None
    source.flat       # {"db.pool_size": ("10", 3)}: the text and line of each key otherwise

A file that does not parse is an InputError with file:line:col where the parser gives one.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.errors import InputError, Location
from cfgctl.operate.flatkeys import norm_prefix
from cfgctl.operate.formats_out import FORMATS, consul_prefix, properties_escape
from cfgctl.repo.yamlio import Document, JsonPath, decode, parse

__all__ = ["Source", "detect_format", "read_source"]


@dataclass
class Source:
    """What one import file holds, before the service's schema gives its strings types."""

    name: str  # as the user named it, for messages
    fmt: str
    typed: dict[str, Any] | None = None
    doc: Document | None = None  # the YAML document of `typed`, for positions
    flat: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # variables without the prefix

    def location(self, path: JsonPath | None = None, line: int | None = None) -> Location:
        if self.doc is not None and path is not None:
            return self.doc.location(path)
        return Location(self.name, line)


def detect_format(name: str, text: str) -> str:
    """The format of a file from its name (and, for YAML and JSON, its shape)."""
    base = Path(name).name.lower()
    if base.endswith((".yaml", ".yml")):
        head = re.search(r"(?m)^kind:\s*['\"]?(ConfigMap|Secret)\b", text)
        if head and re.search(r"(?m)^apiVersion:", text):
            return "configmap" if head[1] == "ConfigMap" else "secret"
        return "yaml"
    if base.endswith(".json"):
        return "consul-kv" if text.lstrip().startswith("[") else "json"
    if base.endswith(".toml"):
        return "toml"
    if base.endswith(".properties"):
        return "properties"
    if base.endswith(".env") or base.startswith(".env"):
        return "env"
    raise InputError(
        f"cannot tell the format of {name} from its name",
        hint=f"pass --format, one of {', '.join(FORMATS)}",
    )


def read_source(path: Path, fmt: str | None, *, prefix: str | None) -> Source:
    """Read `path` as `fmt` (detected from the name when None)."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read {name}: {exc.strerror}", hint="check the path and its permissions"
        ) from None
    text = decode(raw, name)
    fmt = fmt or detect_format(name, text)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}", hint=f"one of {', '.join(FORMATS)}")
    source = Source(name, fmt)
    if fmt in ("yaml", "helm-values"):
        source.doc = _yaml(text, name)
        source.typed = source.doc.data or {}
    elif fmt == "json":
        source.typed = _json_object(text, name)
    elif fmt == "toml":
        source.typed = _toml(text, name)
    elif fmt in ("env", "spring"):
        _dotenv(text, source, norm_prefix(prefix))
    elif fmt == "properties":
        _properties(raw, text, source)
    elif fmt in ("configmap", "secret"):
        _kubernetes(text, source)
    else:
        _consul(text, source, prefix)
    if not source.flat and source.typed is None and source.skipped:
        raise InputError(
            f"no key of {name} is under the prefix ({len(source.skipped)} skipped, such as "
            f"{source.skipped[0]!r})",
            hint="pass the --prefix the file was written with",
        )
    return source


def _yaml(text: str, name: str) -> Document:
    doc = parse(text, name)
    if doc.data is not None and not isinstance(doc.data, dict):
        raise InputError(
            f"{name} must hold a mapping of keys, not a {type(doc.data).__name__}",
            location=doc.location(()),
            hint="write the settings as `key: value` lines",
        )
    return doc


def _json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON: {exc.msg}",
            location=Location(name, exc.lineno, exc.colno),
            hint="fix the file, or pass --format if it is no JSON",
        ) from None


def _json_object(text: str, name: str) -> dict[str, Any]:
    data = _json(text, name)
    if not isinstance(data, dict):
        raise InputError(
            f"{name} must hold a JSON object, not a {type(data).__name__}",
            location=Location(name, 1, 1),
            hint="a list of {key, value} entries is consul-kv: pass --format consul-kv",
        )
    return data


def _toml(text: str, name: str) -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column (\d+)\)", message)
        where = Location(name, int(found[1]), int(found[2])) if found else Location(name)
        short = re.sub(r" ?\(at line .*\)", "", message) or message
        raise InputError(
            f"invalid TOML: {short}",
            location=where,
            hint="fix the file, or pass --format if it is no TOML",
        ) from None


def _dotenv(text: str, source: Source, prefix: str) -> None:
    from dotenv.parser import parse_stream

    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            shown = binding.original.string.strip().splitlines()[0][:60]
            raise InputError(
                f"not a NAME=value line: {shown!r}",
                location=Location(source.name, line),
                hint="write NAME=value; quote a value holding spaces or '#': NAME=\"a b\"",
            )
        if binding.key is None:
            continue
        name = binding.key.upper()
        if prefix and not name.startswith(prefix):
            source.skipped.append(binding.key)
            continue
        source.flat[name[len(prefix) :]] = (binding.value or "", line)


def _properties(raw: bytes, text: str, source: Source) -> None:
    import jproperties

    props = jproperties.Properties()
    try:
        props.load(raw, "utf-8" if _utf8(raw) else "iso-8859-1")
    except jproperties.ParseError as exc:
        message = str(getattr(exc, "message", "") or exc).splitlines()[0]
        raise InputError(
            f"invalid .properties: {message}",
            location=Location(source.name, getattr(exc, "line_number", None)),
            hint="fix the escape or the line there",
        ) from None
    starts = _line_starts(text)
    for key, (value, _meta) in props.items():
        line = starts.get(properties_escape(key, key=True)) or starts.get(key)
        source.flat[key] = (value, line)


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _line_starts(text: str) -> dict[str, int]:
    """The first line on which each key (as written) starts a logical line."""
    out: dict[str, int] = {}
    continued = False
    for number, line in enumerate(text.splitlines(), 1):
        body = line.lstrip()
        if not continued and body and body[0] not in "#!":
            key = re.match(r"((?:\\.|[^\\=:\s])*)", body)
            if key:
                out.setdefault(key[1], number)
        trailing = len(line) - len(line.rstrip("\\"))
        continued = trailing % 2 == 1
    return out


def _kubernetes(text: str, source: Source) -> None:
    doc = _yaml(text, source.name)
    data = doc.data or {}
    kind = data.get("kind")
    wanted = "ConfigMap" if source.fmt == "configmap" else "Secret"
    if kind != wanted:
        raise InputError(
            f"{source.name} is a {kind or 'document without kind'}, not a {wanted}",
            location=doc.location(("kind",)) if "kind" in data else Location(source.name, 1),
            hint="pass --format for what it is",
        )
    sections = ["data", "binaryData"] if wanted == "ConfigMap" else ["data", "stringData"]
    for section in sections:
        body = data.get(section) or {}
        if not isinstance(body, dict):
            raise InputError(f"{section} must be a mapping", location=doc.location((section,)))
        for key, value in body.items():
            where = doc.location((section, key))
            if not isinstance(value, str):
                raise InputError(
                    f"{section}.{key} must be a string, not {type(value).__name__}",
                    location=where,
                    hint="quote it: kubectl accepts only strings",
                )
            if section in ("binaryData",) or (wanted == "Secret" and section == "data"):
                value = _b64(value, where, f"{section}.{key}")
            source.flat[key] = (value, where.line)


def _b64(text: str, where: Location, what: str) -> str:
    try:
        return base64.b64decode(text.encode(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InputError(
            f"{what} is not base64 of UTF-8 text", location=where, hint="encode it: base64 -w0"
        ) from None


def _consul_folder(entries: list[Any], prefix: str | None) -> str:
    """--prefix as a folder; without it, the `config/NAME/` every key shares (Spring Cloud
    Consul's layout, as export writes it), else none."""
    if prefix is not None:
        return consul_prefix("", "", prefix)
    keys = [e.get("key") for e in entries if isinstance(e, dict)]
    folders = {k.split("/")[1] for k in keys if isinstance(k, str) and k.startswith("config/")}
    if len(folders) == 1 and all(isinstance(k, str) and k.startswith("config/") for k in keys):
        return f"config/{folders.pop()}/"
    return ""


def _consul(text: str, source: Source, given: str | None) -> None:
    entries = _json(text, source.name)
    if not isinstance(entries, list):
        raise InputError(
            f"{source.name} must be a JSON list of {{key, flags, value}}, as `consul kv export` "
            "writes",
            location=Location(source.name, 1, 1),
            hint="a JSON object is --format json",
        )
    prefix = _consul_folder(entries, given)
    for i, entry in enumerate(entries):
        if not (isinstance(entry, dict) and isinstance(entry.get("key"), str)):
            raise InputError(
                f"entry {i} is not a {{key, flags, value}} object", location=Location(source.name)
            )
        key = entry["key"]
        if not key.startswith(prefix):
            source.skipped.append(key)
            continue
        raw = entry.get("value")
        where = Location(source.name)
        value = "" if raw is None else _b64(str(raw), where, f"the value of {key}")
        if key.endswith("/") and value == "":
            continue  # a folder
        source.flat[key[len(prefix) :]] = (value, None)
