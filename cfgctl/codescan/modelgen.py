"""The service's typed model: frozen dataclasses for the keys its code reads, written as a
module that loads them once through the SDK (`settings = cfgctl.sdk.load(...)`).

    fields = read_model(old_text)                   # {("db", "pool_size"): Field(...)} or {}
    fields[("db", "pool_size")] = Field("integer", 10, secret=False)
    text = model_source(fields, service="payments")
    Model = build_model(fields)                       # the same classes, made in memory

The module is what `cfgctl schema generate MODULE:Settings` reads. A model file cfgctl wrote
before is read back (its fields kept) and written again with the new ones; the path of the
configuration file comes from the environment variable `CFGCTL_CONFIG` (default
`<service>.yaml`, beside the process's working directory).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import keyword
import re
from dataclasses import dataclass
from typing import Any

from cfgctl.codescan.findings import JsonType
from cfgctl.codescan.sources import MODEL_MARKER
from cfgctl.errors import InputError

__all__ = [
    "MARKER",
    "Field",
    "KeyPath",
    "build_model",
    "check_key",
    "class_name",
    "model_source",
    "read_model",
]

KeyPath = tuple[str, ...]

MARKER = MODEL_MARKER
_PY = {"integer": "int", "number": "float", "string": "str", "boolean": "bool"}
_JSON = {v: k for k, v in _PY.items()}


@dataclass(frozen=True)
class Field:
    type: JsonType
    default: Any  # the literal; None for a secret (its value lives only in the configuration)
    secret: bool = False


def class_name(path: KeyPath) -> str:
    """`Settings` for the root, `DbSettings` for db, `HttpRetrySettings` for http.retry: never
    the root's name, whatever the keys."""
    if not path:
        return "Settings"
    return "".join(part.title().replace("_", "") for part in path) + "Settings"


# Names the model module's class bodies use: a field named so would shadow them.
_RESERVED = frozenset({"field", "int", "str", "float", "bool", "dataclass", "os", "cfgctl", "any"})
_PART = re.compile(r"[a-z][a-z0-9_]*")


def check_key(path: KeyPath) -> None:
    """`InputError` unless every part of the key is a lower-case Python name the model can hold
    (not a keyword, not a name its class bodies use: `field`, `int`, ...)."""
    for part in path:
        if not _PART.fullmatch(part) or keyword.iskeyword(part) or part in _RESERVED:
            raise InputError(
                f"{'.'.join(path)}: {part!r} cannot be a Python attribute",
                hint="choose a key of lower-case words joined by _ and .: --key ID=db.pool_size",
            )


def _sections(fields: dict[KeyPath, Field]) -> dict[KeyPath, list[str]]:
    """Each object path -> its children's names, in a stable order (root first)."""
    out: dict[KeyPath, list[str]] = {(): []}
    for path in sorted(fields):
        for depth in range(len(path)):
            parent, child = path[:depth], path[depth]
            out.setdefault(parent, [])
            if child not in out[parent]:
                out[parent].append(child)
    return out


def model_source(fields: dict[KeyPath, Field], service: str) -> str:
    sections = _sections(fields)
    lines = [
        f'"""The configuration of {service} its code reads ({MARKER}).',
        "",
        "`cfgctl schema generate MODULE:Settings` gives its JSON Schema. The file read is",
        f"$CFGCTL_CONFIG, by default {service}.yaml",
        f"(`cfgctl render {service} --env ENV > {service}.yaml` writes it).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import os",
        "from dataclasses import dataclass, field",
        "from typing import Any",
        "",
        "import cfgctl.sdk",
        "",
        f"SERVICE = {_literal(service)}",
        f'CONFIG_PATH = os.environ.get("CFGCTL_CONFIG", {_literal(service + ".yaml")})',
    ]
    for path in sorted(sections, key=lambda p: (-len(p), p)):
        lines += ["", "", "@dataclass(frozen=True)", f"class {class_name(path)}:"]
        for name in sections[path]:
            child = (*path, name)
            if child in fields:
                f = fields[child]
                if f.secret:  # None where no environment gives it, never a value in code
                    lines.append(
                        f"    {name}: {_PY[f.type]} | None = field(default=None, repr=False)"
                    )
                else:
                    lines.append(f"    {name}: {_PY[f.type]} = {_literal(f.default)}")
            else:
                lines.append(
                    f"    {name}: {class_name(child)} = field(default_factory={class_name(child)})"
                )
    lines += [
        "",
        "",
        "def __getattr__(name: str) -> Any:",
        '    """`settings` (read once) and `settings_provider` (the current version of a shared',
        "    watch, for FastAPI's Depends and Flask views), made from CONFIG_PATH on first use:",
        '    importing the classes alone, as `cfgctl schema generate` does, reads no file."""',
        '    if name == "settings":',
        "        made: Any = cfgctl.sdk.load(CONFIG_PATH, Settings)",
        '    elif name == "settings_provider":',
        "        made = cfgctl.sdk.provider(Settings, CONFIG_PATH)",
        "    else:",
        '        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")',
        "    globals()[name] = made",
        "    return made",
        "",
    ]
    return "\n".join(lines)


def _literal(value: Any) -> str:
    """Python source of a scalar, strings in double quotes as formatters write them."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if ast.literal_eval(text) == value else repr(value)
    return repr(value)


def _default_of(value: ast.expr | None) -> tuple[Any, bool, str | None]:
    """(literal default, secret, nested class name) of a field's right-hand side."""
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "field"
    ):
        kw = {k.arg: k.value for k in value.keywords}
        factory = kw.get("default_factory")
        if isinstance(factory, ast.Name):
            return None, False, factory.id
        shown = kw.get("repr")
        secret = isinstance(shown, ast.Constant) and shown.value is False
        return (ast.literal_eval(kw["default"]) if "default" in kw else None), secret, None
    return (ast.literal_eval(value) if value is not None else None), False, None


def read_model(text: str, source: str, service: str) -> dict[KeyPath, Field]:
    """The fields of a model module cfgctl wrote for `service`; `InputError` for one it did not
    write, one of another service, or one edited by hand (cfgctl writes it whole again, and
    would drop the edits)."""
    if MARKER not in text:
        raise InputError(
            f"{source} exists and was not written by cfgctl scan-code --fix",
            hint="name another file with --model, or remove this one",
        )
    try:
        tree = ast.parse(text)
        classes = {
            node.name: [s for s in node.body if isinstance(s, ast.AnnAssign)]
            for node in tree.body
            if isinstance(node, ast.ClassDef)
        }
        out: dict[KeyPath, Field] = {}
        _collect(classes, "Settings", (), out)
        owner = next(
            (
                ast.literal_eval(node.value)
                for node in tree.body
                if isinstance(node, ast.Assign)
                and [ast.unparse(t) for t in node.targets] == ["SERVICE"]
            ),
            None,
        )
    except (SyntaxError, ValueError) as exc:
        raise InputError(
            f"{source}: cannot read the model: {exc}", hint="fix it, or remove it"
        ) from exc
    if owner != service:
        raise InputError(
            f"{source} is the model of {owner!r}, not of {service!r}",
            hint="name another file for this service's model: --model FILE",
        )
    if model_source(out, service) != text:
        raise InputError(
            f"{source} was changed by hand since cfgctl wrote it; writing it again would drop "
            "the changes",
            hint="keep additions in another module, or name a new model file with --model",
        )
    return out


def _collect(
    classes: dict[str, list[ast.AnnAssign]], name: str, path: KeyPath, out: dict[KeyPath, Field]
) -> None:
    for stmt in classes.get(name, []):
        if not isinstance(stmt.target, ast.Name) or len(path) > 16:
            continue
        child = (*path, stmt.target.id)
        default, secret, nested = _default_of(stmt.value)
        annotation = ast.unparse(stmt.annotation).removesuffix(" | None")
        if nested is not None:
            _collect(classes, nested, child, out)
        elif annotation in _JSON:
            out[child] = Field(_JSON[annotation], default, secret)  # type: ignore[arg-type]


def build_model(fields: dict[KeyPath, Field]) -> type:
    """The model's classes made in memory (no code of the project is imported or run)."""
    sections = _sections(fields)
    made: dict[KeyPath, type] = {}
    types = {"integer": int, "number": float, "string": str, "boolean": bool}
    for path in sorted(sections, key=lambda p: (-len(p), p)):
        spec: list[tuple[str, Any, Any]] = []
        for name in sections[path]:
            child = (*path, name)
            if child in fields:
                f = fields[child]
                if f.secret:
                    kind: Any = types[f.type] | None
                    spec.append((name, kind, dataclasses.field(default=None, repr=False)))
                else:
                    spec.append((name, types[f.type], dataclasses.field(default=f.default)))
            else:
                spec.append((name, made[child], dataclasses.field(default_factory=made[child])))
        made[path] = dataclasses.make_dataclass(class_name(path), spec, frozen=True)
    return made[()]
