"""`.env` files as `cfgctl render --format env` writes them, read back into nested data.

render joins the keys of a path with `_`, upper-cased, any other character than a letter or digit
made `_` (`db.pool_size` -> `DB_POOL_SIZE`), quotes values for the shell, writes lists (and empty
mappings) as JSON, booleans as `true`/`false` and null as nothing. `DB_POOL_SIZE` could be
`db.pool_size` or `db_pool.size`: the model says which, so reading needs it.

    data, lines = parse_env("DB_POOL_SIZE=20\\n", "app.env", Settings)
    data                          # {"db": {"pool_size": "20"}}: the model's validation converts
    lines                         # {("db", "pool_size"): 1}

- A variable naming a mapping field (`dict[str, int]`) takes JSON, and `LIMITS_CPU=2` sets its key
  `cpu` (lower-cased: render upper-cases keys, the case is lost).
- An empty value is null where the field allows it, else the empty string.
- A variable no field names becomes a top-level key in lower case: the model ignores it, or
  rejects it when it forbids extra keys.
- Lines: `NAME=value`, `export NAME=value`, blank lines and `# comments`.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from cfgctl.errors import InputError, Location
from cfgctl.repo.keypath import set_in
from cfgctl.repo.yamlio import JsonPath
from cfgctl.sdk.models import allows_none, fields, is_mapping, is_model, is_sequence, members

__all__ = ["env_name", "parse_env"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_name(path: JsonPath) -> str:
    """The variable `cfgctl render --format env` writes for a key path."""
    return "_".join("".join(c if c.isalnum() else "_" for c in str(p)) for p in path).upper()


@dataclass(frozen=True)
class _Leaf:
    path: JsonPath
    kind: Literal["scalar", "json", "mapping"]
    nullable: bool


def _leaves(model: type, path: JsonPath, out: dict[str, _Leaf], stack: tuple[type, ...]) -> None:
    for key, annotation in fields(model):
        sub = (*path, key)
        alternatives = [m for m in members(annotation) if m is not type(None)]
        nested = [m for m in alternatives if is_model(m)]
        if any(is_mapping(m) for m in alternatives):
            kind: Literal["scalar", "json", "mapping"] = "mapping"
        elif nested or any(is_sequence(m) for m in alternatives):
            kind = "json"
        else:
            kind = "scalar"
        out.setdefault(env_name(sub), _Leaf(sub, kind, allows_none(annotation)))
        if len(nested) == 1 and nested[0] not in stack:  # a recursive model ends at its JSON
            _leaves(nested[0], sub, out, (*stack, nested[0]))


def _value(text: str, leaf: _Leaf | None, where: Location) -> Any:
    if leaf is None or leaf.kind == "scalar":
        return None if text == "" and leaf is not None and leaf.nullable else text
    if text == "" and leaf.nullable:
        return None
    if not text.lstrip().startswith(("[", "{")):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"invalid JSON in the value of a list or mapping: {exc.msg}",
            location=where,
            hint='write lists and mappings as JSON: NAME=\'["a", "b"]\'',
        ) from exc


class _Unclosed(Exception):
    """A quote opened on this line closes on a later one (render quotes newlines as they are)."""


def _split(line: str, where: Location) -> tuple[str, str] | None:
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    text = text.removeprefix("export ").lstrip()
    name, eq, rest = text.partition("=")
    name = name.strip()
    if not eq or not _NAME.match(name):
        raise InputError(
            f"not a NAME=value line: {line.strip()[:60]!r}",
            location=where,
            hint="write NAME=value (a letter or '_' first), as `cfgctl render --format env` does",
        )
    try:
        tokens = shlex.split(rest, comments=True)
    except ValueError as exc:  # shlex: "No closing quotation"
        raise _Unclosed(name) from exc
    if len(tokens) > 1:
        raise InputError(
            f"{name}: the value holds unquoted spaces",
            location=where,
            hint=f"quote it: {name}='{' '.join(tokens)}'",
        )
    return name.upper(), tokens[0] if tokens else ""


def _assignments(text: str, source: str) -> Iterator[tuple[str, str, Location]]:
    """(NAME, value, where) of each assignment; a quoted value may span lines."""
    lines = text.split("\n")  # not splitlines(): a quoted value may hold \r, \x0b, U+2028...
    i = 0
    while i < len(lines):
        where = Location(source, i + 1)
        chunk = lines[i]
        i += 1
        while True:
            try:
                split = _split(chunk, where)
                break
            except _Unclosed as exc:
                if i == len(lines):
                    raise InputError(
                        f"{exc}: the value's quote is never closed",
                        location=where,
                        hint="close the quote",
                    ) from None
                chunk += "\n" + lines[i]
                i += 1
        if split is not None:
            yield (*split, where)


def parse_env(text: str, source: str, model: type) -> tuple[dict[str, Any], dict[JsonPath, int]]:
    """The nested data of a `.env` file for `model`, and the line that set each key path."""
    table: dict[str, _Leaf] = {}
    _leaves(model, (), table, (model,))
    mappings = sorted(
        ((n, leaf) for n, leaf in table.items() if leaf.kind == "mapping"),
        key=lambda item: -len(item[0]),
    )
    found: list[tuple[JsonPath, Any, int]] = []
    for name, raw, where in _assignments(text, source):
        number = where.line or 1
        leaf = table.get(name)
        if leaf is not None:
            found.append((leaf.path, _value(raw, leaf, where), number))
            continue
        parent = next(((n, m) for n, m in mappings if name.startswith(n + "_")), None)
        if parent is not None:
            found.append(((*parent[1].path, name[len(parent[0]) + 1 :].lower()), raw, number))
        else:
            found.append(((name.lower(),), raw, number))
    data: dict[str, Any] = {}
    lines: dict[JsonPath, int] = {}
    # Shorter paths first: `DB={}` must not wipe out the `DB_HOST=...` set on another line.
    for path, value, number in sorted(found, key=lambda item: len(item[0])):
        set_in(data, path, value)
        lines[path] = number
    return data, lines
