"""How much a literal looks like configuration: the evidence of its name, the call it feeds, its
shape, how it is bound and how often it changed, summed and mapped to a score in 0..1, with the
reasons; and (`key_of`) the key it would get.

    verdict = judge(literal, module="db", changes=0)
    verdict.score, key_of(literal, "db")    # 0.88, "db.pool_size"

Evidence adds up in log-odds: 2 points is a score of 0.5 (the default `--min-score`), 4 points
0.88. A literal something rules out (an index, a comparison, a message, formatting) gets no
verdict at all, nor do 0, 1, -1, "" and the like unless they are the default of a declared
setting (an environment variable's or an option's default, a settings class or module).
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass
from typing import Any

from cfgctl.checks.credentials import looks_like_credential
from cfgctl.codescan.calls import consumer
from cfgctl.codescan.findings import JsonType, Kind
from cfgctl.codescan.literals import Literal
from cfgctl.codescan.names import GROUPS, name_weight, negative_words, secret_name, words
from cfgctl.codescan.shapes import is_trivial, shape_of

__all__ = ["BIAS", "Verdict", "json_type", "judge", "key_of"]

BIAS = 2.0
_SHAPE_POINTS = {
    "url": 2.5, "uri": 1.0, "template": -2.5, "host": 1.5, "duration": 1.0, "path": 0.8,
    "email": 0.8, "level": 1.0, "code": -2.0, "prose": -3.0,
}  # fmt: skip
_GENERIC = frozenset(
    {"config", "conf", "settings", "setting", "options", "option", "defaults", "default", "cfg",
     "kwargs", "params", "opts", "constants", "const", "init", "main", "app", "core", "base",
     "utils", "util", "common", "globals", "env", "environment", "meta", "self", "cls", "args"}
)  # fmt: skip
_SETTINGS_MODULES = frozenset(
    {"settings", "config", "conf", "configuration", "defaults", "constants"}
)
_CREDENTIAL_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^(?:\$\{.*\}|\{\{.*\}\}|<.*>|%\(.*\)s|x+|\*+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    score: float
    reasons: tuple[str, ...]
    kind: Kind


def json_type(value: Any) -> JsonType:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _secret(lit: Literal, ws: list[str]) -> str | None:
    """Why a literal is a credential: a private key or a known token (whatever its name), a URL
    with a password, or a value under a credential's name (`DB_PASSWORD`, `api_key`)."""
    value = lit.value
    if isinstance(value, int) and not isinstance(value, bool):
        return (
            f"a credential under {lit.name!r}" if secret_name(ws) and abs(value) >= 1000 else None
        )
    if not isinstance(value, str) or _PLACEHOLDER.match(value.strip()):
        return None
    why = looks_like_credential("", value)  # the value's own patterns: key blocks, token prefixes
    if why:
        return why
    if _CREDENTIAL_URL.match(value):
        return "a URL holding a password"
    shape = shape_of(value)
    if shape is not None and shape[0] in ("url", "uri", "path", "prose", "template"):
        return None
    if secret_name(ws) and len(value) >= 6 and " " not in value and value.lower() not in ws:
        return f"a credential under {lit.name!r}"
    return None


def settings_module(module: str) -> bool:
    """`settings.py`, `global_settings.py`, `config.py`, `app_defaults.py`, `defaults.py`."""
    ws = words(module)
    return bool(ws) and ws[-1] in _SETTINGS_MODULES


def _declared(lit: Literal, module: str) -> bool:
    """Whether the literal is the value of a declared setting: an environment variable's or an
    option's default, an attribute of a settings class, a constant of a settings module."""
    if lit.how in ("env", "option", "setting", "fallback"):
        return True
    return lit.how == "assigned" and not lit.scope and settings_module(module)


def _binding(lit: Literal, ws: list[str], module: str) -> tuple[float, str | None]:
    if lit.how == "env" and lit.name:
        return 3.0, f"the default of {lit.name}"
    if lit.how == "option":
        return 3.0, f"the default of option {lit.name}"
    if lit.how == "setting":
        return 2.5, f"a setting of {lit.scope[-1] if lit.scope else 'a class'}"
    if lit.how == "fallback":
        return 2.0, f"the default of {lit.call}({lit.name!r})"
    if lit.how == "assigned" and not lit.scope and settings_module(module):
        return 3.0, f"a constant of the settings module {module}"
    if lit.how == "assigned" and lit.name and lit.name.isupper() and len(ws) > 0:
        if not lit.scope:
            return 1.0, "a module-level constant"
        return 0.8, "a class-level constant"
    if lit.how == "dict" and any(o.lower().strip("_") in _GENERIC for o in lit.outer):
        return 1.0, f"a value of {'.'.join(lit.outer)}"
    if lit.how == "default":
        if lit.outer[-1:] == ("__init__",):
            return 1.0, "a constructor's default"
        return 0.4, "a parameter's default"
    if lit.how in ("local", "state"):
        return -1.0, "a local variable" if lit.how == "local" else "an object's state"
    return 0.0, None


def _points(lit: Literal, ws: list[str], changes: int, module: str) -> tuple[float, list[str]]:
    points, reasons = 0.0, []
    weight, found = name_weight(ws)
    if weight:
        points += weight
        reasons.append(f"named {lit.name} ({', '.join(found)})")
    if ws and ws[0] == "default" and len(ws) > 1:
        points += 1.0
        reasons.append(f"named {lit.name} (a default)")
    bad = negative_words(ws) if not _declared(lit, module) else []
    if bad:
        points -= 2.0
        reasons.append(f"named {lit.name} ({', '.join(bad)}: code, not configuration)")
    bound, why = _binding(lit, ws, module)
    if why:
        points += bound
        reasons.append(why)
    group, leaf = consumer(lit.call, lit.arg)
    passed = lit.how in ("keyword", "positional", "element")
    if group is not None and passed and (leaf or isinstance(lit.arg, str) or lit.how == "element"):
        points += 2.0
        reasons.append(f"passed to {lit.call}()")
    shape = shape_of(lit.value)
    if shape and not (shape[0] == "code" and _declared(lit, module)):  # env default "yes"
        points += _SHAPE_POINTS[shape[0]]
        reasons.append(f"its value is {shape[1]}")
    if isinstance(lit.value, bool) and not weight:
        points -= 1.0
    if is_trivial(lit.value):
        points -= 1.0
    if changes:
        points += 1.2 * min(changes, 3)
        reasons.append(f"changed in {changes} commit{'s' if changes > 1 else ''}")
    return points, reasons


def judge(lit: Literal, module: str, changes: int = 0) -> Verdict | None:
    """The verdict on one literal, or None when it is never configuration."""
    if lit.negative or (is_trivial(lit.value) and not _declared(lit, module)):
        return None
    ws = words(lit.name) if lit.name else []
    secret = _secret(lit, ws)
    if secret:
        return Verdict(0.95, (f"looks like {secret}",), "secret")
    points, reasons = _points(lit, ws, changes, module)
    score = 1.0 / (1.0 + math.exp(-(points - BIAS)))
    return Verdict(score, tuple(reasons), "config")


def key_of(lit: Literal, module: str) -> str:
    """The suggested key of a literal (asked only of those reported: it costs)."""
    return suggest_key(lit, module, words(lit.name) if lit.name else [])


# --- the key ------------------------------------------------------------------------------------


def _segment(ws: list[str]) -> str:
    text = re.sub(r"[^a-z0-9_]", "_", "_".join(ws).lower()).strip("_") or "value"
    if text[0].isdigit():
        text = "n" + text
    return text + "_value" if keyword.iskeyword(text) else text


def _section(lit: Literal, module: str, ws: list[str]) -> list[str]:
    if len(ws) > 1 and ws[0] in GROUPS:
        return [GROUPS[ws[0]]]
    # A parameter's `outer` is its function: the module names its section better.
    named_by = lit.outer if lit.how not in ("default", "setting") else ()
    outer = [o for o in named_by if o.lower().strip("_") not in _GENERIC]
    if outer:
        return [_segment(words(o)) for o in outer[-2:]]
    group, _ = consumer(lit.call, lit.arg)
    if group:
        return [group]
    if lit.scope and lit.how == "assigned" and lit.name and lit.name.isupper():
        owner = words(lit.scope[-1])
        if "".join(owner) not in _GENERIC:
            return [_segment(owner)]
    if module.lower() not in _GENERIC and not module.startswith("_"):
        return [_segment(words(module))]
    return []


def suggest_key(lit: Literal, module: str, ws: list[str]) -> str:
    """A dotted key for the literal: `DB_POOL_SIZE` -> `db.pool_size`, `timeout=` of
    requests.get -> `http.timeout`, `time.sleep(30)` in worker.py -> `worker.sleep_seconds`."""
    section = _section(lit, module, ws)
    if len(ws) > 1 and section and (GROUPS.get(ws[0]) == section[0] or ws[0] == section[-1]):
        ws = ws[1:]  # DB_HOST under db, PROCESSOR_URL in processor.py: not db.db_host
    if not ws:
        _, leaf = consumer(lit.call, lit.arg)
        shape = shape_of(lit.value)
        ws = [leaf] if leaf else [shape[0]] if shape and shape[0] not in ("code", "prose") else []
    leaf = _segment(ws)
    if section and section[-1] == leaf:
        section = section[:-1]
    return ".".join([*section, leaf])
