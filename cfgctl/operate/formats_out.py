"""Writing an effective configuration in the formats teams already have, and saying what each
format cannot hold.

    written = write_format(data, "properties", service="payments", env="prod", prefix=None)
    written.data      # bytes, ready to write
    written.losses    # [Loss("types", "numbers and booleans become strings", ("db.port",)), ...]

Every format is written so that its standard reader gets the values back: python-dotenv for
`env` and `spring`, jproperties (Java's rules) for `properties`, `kubectl` for `configmap` and
`secret`, `consul kv import` for `consul-kv`, tomllib for `toml`. What the format cannot hold
is a `Loss` (types turned to strings, nulls, lists written as text, empty mappings, values
python-dotenv would interpolate); what cannot be written at all (two keys giving one variable,
a key no ConfigMap may have) is an InputError naming the key.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cfgctl.errors import InputError
from cfgctl.operate.flatkeys import dotted_key, env_name, leaves, spring_name
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.yamlio import JsonPath
from cfgctl.repo.yamlwrite import dump_plain

__all__ = [
    "FORMATS",
    "LOSSES",
    "Loss",
    "Written",
    "consul_prefix",
    "scalar_text",
    "write_format",
]

FORMATS = (
    "yaml",
    "json",
    "toml",
    "env",
    "properties",
    "spring",
    "configmap",
    "secret",
    "helm-values",
    "consul-kv",
)

LOSSES = {
    "types": "numbers and booleans become strings",
    "nulls": "nulls become empty strings",
    "null-dropped": "nulls (and lists holding one) are left out: TOML has no null",
    "lists": "lists and mappings become JSON text in one value",
    "empty": "empty lists and mappings are left out: no key can hold one",
    "names": "keys the schema does not declare come back lower-cased, without the characters "
    "the variable name drops",
    "interpolation": "python-dotenv expands ${NAME} in these values (read with interpolate=False)",
}


@dataclass(frozen=True)
class Loss:
    kind: str
    what: str
    keys: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "what": self.what, "keys": list(self.keys)}


@dataclass
class Written:
    data: bytes
    losses: list[Loss] = field(default_factory=list)


class _Losses:
    def __init__(self) -> None:
        self.keys: dict[str, list[str]] = {}

    def add(self, kind: str, path: JsonPath) -> None:
        self.keys.setdefault(kind, []).append(dotted_path(path))

    def note_value(self, path: JsonPath, value: Any, *, json_lists: bool) -> None:
        """The losses of writing `value` as text."""
        if isinstance(value, (bool, int, float)):
            self.add("types", path)
        elif value is None:
            self.add("nulls", path)
        elif isinstance(value, (list, dict)):
            self.add("lists" if json_lists else "empty", path)

    def to_list(self) -> list[Loss]:
        return [Loss(k, LOSSES[k], tuple(keys)) for k, keys in self.keys.items()]


def scalar_text(value: Any) -> str:
    """A value as the text a flat format holds: true/false, '' for null, numbers as Python
    writes them (shortest round trip), lists and mappings as compact JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value)
    return str(value)


# --- .env and Spring ----------------------------------------------------------------------------

_BARE = re.compile(r"^[A-Za-z0-9_./:@%+,-]+$")
_DOTENV_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\x0b": "\\v",
    "\x0c": "\\f",
    "\x07": "\\a",
    "\x08": "\\b",
}
_INTERPOLATED = re.compile(r"\$\{[^}]*\}")


def dotenv_quote(text: str) -> str:
    """A value as python-dotenv reads it back: bare when safe, else double-quoted with the
    escapes it decodes (so that no raw line break meets a reader's newline translation)."""
    if text == "" or _BARE.match(text):
        return text
    return '"' + "".join(_DOTENV_ESCAPES.get(c, c) for c in text) + '"'


def _env_lines(data: Any, prefix: str | None, spring: bool, lost: _Losses) -> list[str]:
    seen: dict[str, JsonPath] = {}
    lines = []
    for path, value in leaves(data, index_lists=spring):
        if spring and isinstance(value, (list, dict)):
            lost.add("empty", path)
            continue
        name = spring_name(path, prefix) if spring else env_name(path, prefix)
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", name):
            raise InputError(
                f"key {dotted_path(path)} gives {name!r}, which is no environment variable name",
                hint="rename the key, or export as yaml or json",
            )
        if name in seen:
            raise InputError(
                f"keys {dotted_path(seen[name])} and {dotted_path(path)} both give the "
                f"variable {name}",
                hint="rename one of the keys, or export as yaml or json",
            )
        seen[name] = path
        lost.note_value(path, value, json_lists=True)
        text = scalar_text(value)
        if _INTERPOLATED.search(text):
            lost.add("interpolation", path)
        lines.append(f"{name}={dotenv_quote(text)}")
    return lines


# --- .properties --------------------------------------------------------------------------------


def properties_escape(text: str, *, key: bool) -> str:
    """Java's escapes (jproperties reads them): `\\`, line breaks, tabs, a leading space (every
    space, `=`, `:`, `#`, `!` of a key), and \\uXXXX for anything not printable ASCII."""
    out = []
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}[ch])
        elif (ch == " " and (key or i == 0)) or (key and ch in "=:#!") or (i == 0 and ch in "#!"):
            out.append("\\" + ch)
        elif code < 0x20 or code >= 0x7F:
            raw = ch.encode("utf-16-be")
            out.extend(f"\\u{raw[j] << 8 | raw[j + 1]:04x}" for j in range(0, len(raw), 2))
        else:
            out.append(ch)
    return "".join(out)


def _properties(data: Any, lost: _Losses) -> list[str]:
    lines = []
    for path, value in leaves(data, index_lists=True):
        if isinstance(value, (list, dict)):
            lost.add("empty", path)
            continue
        lost.note_value(path, value, json_lists=False)
        key = properties_escape(dotted_key(path), key=True)
        lines.append(f"{key}={properties_escape(scalar_text(value), key=False)}")
    return lines


# --- Kubernetes and Consul ----------------------------------------------------------------------

_CONFIGMAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")


def _flat_strings(data: Any, lost: _Losses, key_of: Callable[[JsonPath], str]) -> dict[str, str]:
    out: dict[str, str] = {}
    seen: dict[str, JsonPath] = {}
    for path, value in leaves(data, index_lists=False):
        key = key_of(path)
        if key in seen:
            raise InputError(
                f"keys {dotted_path(seen[key])} and {dotted_path(path)} both give {key!r}",
                hint="rename one of the keys, or export as yaml or json",
            )
        seen[key] = path
        lost.note_value(path, value, json_lists=True)
        out[key] = scalar_text(value)
    return out


def _configmap_key(path: JsonPath) -> str:
    key = dotted_key(path)
    if not _CONFIGMAP_KEY.match(key):
        raise InputError(
            f"key {dotted_path(path)} gives {key!r}, which no ConfigMap or Secret key may be "
            "(letters, digits, '-', '_' and '.')",
            hint="rename the key, or export as yaml (one file) instead",
        )
    return key


def _manifest(kind: str, service: str, env: str, body: dict[str, Any]) -> bytes:
    doc = {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {
            "name": service,
            "labels": {"app.kubernetes.io/name": service, "app.kubernetes.io/managed-by": "cfgctl"},
            "annotations": {"cfgctl.io/environment": env},
        },
        **body,
    }
    return dump_plain(doc).encode()


def consul_prefix(service: str, env: str, prefix: str | None) -> str:
    """The folder of the keys: --prefix, or Spring Cloud Consul's `config/SERVICE,ENV/`."""
    text = prefix if prefix is not None else f"config/{service},{env}"
    return text.strip("/") + "/" if text.strip("/") else ""


def _consul_key(base: str) -> Callable[[JsonPath], str]:
    def key_of(path: JsonPath) -> str:
        parts = [str(p) for p in path]
        if any("/" in p or not p for p in parts):
            raise InputError(
                f"key {dotted_path(path)} holds '/' (or is empty), which Consul reads as a folder",
                hint="rename the key, or export as yaml or json",
            )
        return base + "/".join(parts)

    return key_of


# --- the formats ----------------------------------------------------------------------------------


def _drop_nulls(value: Any, path: JsonPath, lost: _Losses) -> tuple[bool, Any]:
    """(kept, value) with every null gone (TOML cannot hold one)."""
    if value is None or (isinstance(value, list) and _holds_null(value)):
        lost.add("null-dropped", path)
        return False, None
    if isinstance(value, dict):
        out = {}
        for key, sub in value.items():
            kept, new = _drop_nulls(sub, (*path, key), lost)
            if kept:
                out[key] = new
        return True, out
    return True, value


def _holds_null(value: Any) -> bool:
    if isinstance(value, list):
        return any(_holds_null(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_null(v) for v in value.values())
    return value is None


def _header(service: str, env: str) -> str:
    return f"# {service} in {env}, exported by cfgctl\n"


def write_format(data: Any, fmt: str, *, service: str, env: str, prefix: str | None) -> Written:
    """`data` (an effective configuration) in `fmt`, and what that format cannot hold."""
    lost = _Losses()
    data = data if data is not None else {}
    if fmt in ("yaml", "helm-values"):
        body = dump_plain(data) if data else "{}\n"
        what = "Helm values of" if fmt == "helm-values" else ""
        text = (f"# {what} " if what else "# ") + _header(service, env)[2:] + body
    elif fmt == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    elif fmt == "toml":
        import tomli_w

        text = _header(service, env) + tomli_w.dumps(_drop_nulls(data, (), lost)[1])
    elif fmt in ("env", "spring"):
        lines = _env_lines(data, prefix, fmt == "spring", lost)
        text = _header(service, env) + "".join(line + "\n" for line in lines)
    elif fmt == "properties":
        text = _header(service, env) + "".join(line + "\n" for line in _properties(data, lost))
    elif fmt in ("configmap", "secret"):
        values = _flat_strings(data, lost, _configmap_key)
        if fmt == "configmap":
            return Written(_manifest("ConfigMap", service, env, {"data": values}), lost.to_list())
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
        secret = {"type": "Opaque", "data": encoded}
        return Written(_manifest("Secret", service, env, secret), lost.to_list())
    elif fmt == "consul-kv":
        values = _flat_strings(data, lost, _consul_key(consul_prefix(service, env, prefix)))
        entries = [
            {"key": k, "flags": 0, "value": base64.b64encode(v.encode()).decode()}
            for k, v in sorted(values.items())
        ]
        text = json.dumps(entries, indent=2) + "\n"
    else:
        raise InputError(f"unknown format {fmt!r}", hint=f"one of {', '.join(FORMATS)}")
    return Written(text.encode(), lost.to_list())
