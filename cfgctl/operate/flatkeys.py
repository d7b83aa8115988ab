"""Flat key names of a nested configuration, as each ecosystem spells them, and back.

    leaves({"db": {"hosts": ["a"]}}, index_lists=True)   # [(("db", "hosts", 0), "a")]
    dotted_key(("db", "hosts", 0))                       # "db.hosts[0]"      (.properties)
    parse_dotted("db.hosts[0]")                          # ("db", "hosts", 0)
    env_name(("db", "pool_size"), "APP")                 # "APP_DB_POOL_SIZE" (.env)
    spring_name(("db", "pool_size", 0), None)            # "DB_POOLSIZE_0"   (Spring Boot)

- `.properties` (Spring's convention): parts joined with `.`, list items `[N]`, a key holding
  `.`, `[` or `]` in brackets (`labels[app.kubernetes.io/name]`).
- `.env`: parts joined with `_`, every other character than a letter or digit made `_`,
  upper-cased (as `cfgctl render --format env` and the SDK's envfile reader).
- Spring Boot's relaxed binding of environment variables: `.` becomes `_`, any other character
  than a letter or digit is removed (`pool_size`, `pool-size` and `poolSize` are one property
  to Spring), upper-cased; list items are their index (`MY_LIST_0_NAME`).
"""

from __future__ import annotations

import re
from typing import Any

from cfgctl.errors import InputError
from cfgctl.repo.yamlio import JsonPath

__all__ = [
    "dotted_key",
    "env_name",
    "env_part",
    "leaves",
    "norm_prefix",
    "parse_dotted",
    "spring_name",
    "spring_part",
]


def leaves(data: Any, *, index_lists: bool, path: JsonPath = ()) -> list[tuple[JsonPath, Any]]:
    """(path, value) of every value that is no non-empty mapping: a list is one value unless
    `index_lists` (then its items are, by index); an empty mapping or list is a value too."""
    out: list[tuple[JsonPath, Any]] = []
    if isinstance(data, dict) and data:
        for key, value in data.items():
            out.extend(leaves(value, index_lists=index_lists, path=(*path, key)))
    elif isinstance(data, list) and data and index_lists:
        for i, value in enumerate(data):
            out.extend(leaves(value, index_lists=index_lists, path=(*path, i)))
    elif path:
        out.append((path, data))
    return out


_BRACKETED = re.compile(r"[.\[\]]")


def dotted_key(path: JsonPath) -> str:
    """The `.properties` key of a path: `db.hosts[0]`, `labels[app.kubernetes.io/name]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _BRACKETED.search(part) or part == "":
            if "]" in part:
                raise InputError(
                    f"key {part!r} holds ']', which no .properties key path can name",
                    hint="rename the key, or export as yaml or json",
                )
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


_TOKEN = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


def parse_dotted(key: str) -> JsonPath | None:
    """The path of a `.properties` key (`[N]` an index, `[a.b]` a key), None when malformed."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(key):
        if key[pos] == "." and parts:
            pos += 1
        match = _TOKEN.match(key, pos)
        if match is None:
            return None
        bracket, plain = match.groups()
        if bracket is not None:
            parts.append(int(bracket) if bracket.isdigit() else bracket)
        else:
            parts.append(plain)
        pos = match.end()
    return tuple(parts) or None


def norm_prefix(prefix: str | None) -> str:
    """`--prefix app` -> "APP_" (an environment variable's prefix); "" without one."""
    if not prefix:
        return ""
    text = prefix.strip().rstrip("_").upper()
    if not re.fullmatch(r"[A-Z_][A-Z0-9_]*", text):
        raise InputError(
            f"--prefix {prefix!r} cannot start an environment variable name",
            hint="letters, digits and '_', not starting with a digit: --prefix APP",
        )
    return text + "_"


def env_part(part: str | int) -> str:
    return "".join(c if c.isalnum() and c.isascii() else "_" for c in str(part)).upper()


def env_name(path: JsonPath, prefix: str | None) -> str:
    """The `.env` variable of a path: `DB_POOL_SIZE` (with --prefix APP: `APP_DB_POOL_SIZE`)."""
    return norm_prefix(prefix) + "_".join(env_part(p) for p in path)


def spring_part(part: str | int) -> str:
    return "".join(c for c in str(part) if c.isalnum() and c.isascii()).upper()


def spring_name(path: JsonPath, prefix: str | None) -> str:
    """The environment variable Spring Boot binds to a path: `db.pool_size` -> `DB_POOLSIZE`,
    `servers[0].port` -> `SERVERS_0_PORT`."""
    return norm_prefix(prefix) + "_".join(spring_part(p) for p in path)
