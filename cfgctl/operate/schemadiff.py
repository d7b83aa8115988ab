"""`cfgctl schema diff NAME@N NAME@M`: what changed between two versions of a schema, and the
draft of the migration file from N to M.

    result = diff_schemas(snap, "web@2", "web@3")
    result.changes      # added, removed, renamed/moved (inferred), changed (type, constraints)
    result.skeleton     # schemas/web.v3.migration.yaml's text, operations inferred
    write_skeleton(snap, result, None)    # written there, never over an existing file

Both versions are flattened to dotted key paths (`schemawalk.flatten`). A property removed and
one added with the same shape (type and constraints, nested properties included; description,
title and default ignored) is a rename (same parent) or a move (another parent) when neither
side has another candidate of that shape; otherwise the candidates are listed as comments, not
guessed. A removed property becomes `remove`; an added required one with a default becomes
`default`; a scalar whose type changed becomes `convert`; an enum that lost values is noted with
a `map` to consider. The skeleton passes the migration file's own schema (checked before it is
shown or written).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfgctl.errors import InputError
from cfgctl.operate.migration import read_migration
from cfgctl.operate.schemawalk import Prop, flatten, types_of
from cfgctl.repo.fsutil import atomic_write, confined
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.schemas import SchemaRef, migration_path, parse_spec
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath, parse

__all__ = ["Change", "SchemaDiff", "diff_schemas", "write_skeleton"]

# The keywords compared on a property present in both versions (besides its type).
CONSTRAINTS = (
    "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "format", "minItems", "maxItems", "uniqueItems",
    "items", "additionalProperties", "x-cfgctl-secret", "writeOnly", "default",
)  # fmt: skip
_CONVERT = {"string": "string", "integer": "int", "number": "float", "boolean": "bool"}
_SCALARS = frozenset({"string", "integer", "number", "boolean"})


@dataclass(frozen=True)
class Change:
    """One difference. kind: added, removed, renamed, moved, type, changed (a constraint:
    `detail` names the keyword, `required` included)."""

    kind: str
    path: str
    detail: str = ""
    before: Any = None
    after: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v not in (None, "")}


@dataclass
class SchemaDiff:
    name: str
    source: SchemaRef
    target: SchemaRef
    changes: list[Change] = field(default_factory=list)
    operations: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # comments in the skeleton
    skeleton: str = ""

    @property
    def migration_file(self) -> str:
        return migration_path(self.name, self.target.version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": str(self.source),
            "to": str(self.target),
            "files": [self.source.path, self.target.path],
            "changes": [c.to_dict() for c in self.changes],
            "operations": self.operations,
            "notes": self.notes,
            "migration_file": self.migration_file,
            "skeleton": self.skeleton,
        }


def _refs(snap: Snapshot, old: str, new: str) -> tuple[SchemaRef, SchemaRef]:
    for spec in (old, new):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*(@[0-9]+)?", spec):
            raise InputError(f"bad schema version {spec!r}", hint="write NAME@N, e.g. web@2")
    (a_name, _), (b_name, _) = parse_spec(old), parse_spec(new)
    if a_name != b_name:
        raise InputError(
            f"{old} and {new} are two schemas: diff compares two versions of one",
            hint=f"cfgctl schema diff {a_name}@N {a_name}@M",
        )
    a, b = snap.schemas.resolve(old), snap.schemas.resolve(new)
    if a.version >= b.version:
        raise InputError(
            f"{a} is not older than {b}: name the older version first",
            hint=f"cfgctl schema diff {b} {a}" if a.version > b.version else "name two versions",
        )
    return a, b


def diff_schemas(snap: Snapshot, old: str, new: str) -> SchemaDiff:
    """The changes from `old` (NAME@N) to `new` (NAME@M, M > N) and the migration's draft."""
    a, b = _refs(snap, old, new)
    for ref in (a, b):
        problems = snap.schemas.check(ref)
        if problems:
            first = problems[0]
            raise InputError(f"{ref}: {first.message}", location=first.location, hint=first.hint)
    before, after = flatten(snap, a), flatten(snap, b)
    result = SchemaDiff(a.name, a, b)
    renames, ambiguous = _renames(before, after, result)
    _removed_and_added(before, after, renames, ambiguous, result)
    for path in sorted(set(before) & set(after), key=_order):
        _compare(before[path], after[path], result)
    result.skeleton = _skeleton(snap, result)
    return result


def _order(path: JsonPath) -> tuple[str, ...]:
    return tuple(map(str, path))


def _inside(path: JsonPath, parents: set[JsonPath]) -> bool:
    return any(path[:n] in parents for n in range(len(path) + 1))


def _renames(
    before: dict[JsonPath, Prop], after: dict[JsonPath, Prop], result: SchemaDiff
) -> tuple[dict[JsonPath, JsonPath], set[JsonPath]]:
    """The unambiguous pairs (removed -> added of one shape), shallowest first; ambiguous ones
    become notes (and are returned: no `remove` is drafted for them, a person decides)."""
    removed = sorted((p for p in before if p not in after), key=lambda p: (len(p), _order(p)))
    added = [p for p in sorted(after, key=_order) if p not in before]
    pairs: dict[JsonPath, JsonPath] = {}
    done_old: set[JsonPath] = set()
    done_new: set[JsonPath] = set()
    noted: set[JsonPath] = set()
    for p in removed:
        if _inside(p, done_old) or before[p].trivial:
            continue
        shape = before[p].shape
        cands = [q for q in added if not _inside(q, done_new) and after[q].shape == shape]
        back = [r for r in removed if not _inside(r, done_old) and before[r].shape == shape]
        if len(cands) == 1 and back == [p]:
            pairs[p] = cands[0]
            done_old.add(p)
            done_new.add(cands[0])
        elif cands and not _inside(p, noted):
            noted.update(back)
            old, new = _likeliest(back, cands)
            result.notes.append(
                f"ambiguous: {', '.join(map(dotted_path, back))} removed and "
                f"{', '.join(map(dotted_path, cands))} added with the same shape: rename or "
                "move by hand, e.g. "
                + _flow({"op": _verb(old, new), "from": _key(old), "to": _key(new)})
            )
    for p, q in pairs.items():
        verb = _verb(p, q)
        result.changes.append(Change(f"{verb}d", dotted_path(p), after=dotted_path(q)))
        result.operations.append({"op": verb, "from": _key(p), "to": _key(q)})
    return pairs, noted


def _likeliest(olds: list[JsonPath], news: list[JsonPath]) -> tuple[JsonPath, JsonPath]:
    """The pair to show as an example: the longest common parent, then the closest names."""

    def score(pair: tuple[JsonPath, JsonPath]) -> tuple[int, float]:
        a, b = pair
        shorter = min(len(a), len(b))
        common = next((n for n in range(shorter) if a[n] != b[n]), shorter)
        return common, difflib.SequenceMatcher(None, str(a[-1]), str(b[-1])).ratio()

    return max(((a, b) for a in olds for b in news), key=score)


def _verb(p: JsonPath, q: JsonPath) -> str:
    return "rename" if p[:-1] == q[:-1] else "move"


def _removed_and_added(
    before: dict[JsonPath, Prop],
    after: dict[JsonPath, Prop],
    renames: dict[JsonPath, JsonPath],
    ambiguous: set[JsonPath],
    result: SchemaDiff,
) -> None:
    moved_old, moved_new = set(renames), set(renames.values())
    for p in sorted(before, key=_order):
        if p in after or _inside(p, moved_old):
            continue
        result.changes.append(Change("removed", dotted_path(p), _kind(before[p])))
        # Its parent stays: remove it (a removed parent goes with its keys); an ambiguous one is
        # left to a person: the new version's validation refuses the migration until then.
        if p[:-1] in after and not _inside(p, ambiguous):
            result.operations.append({"op": "remove", "path": _key(p)})
    for q in sorted(after, key=_order):
        if q in before or _inside(q, moved_new):
            continue
        prop = after[q]
        result.changes.append(Change("added", dotted_path(q), _kind(prop)))
        if not prop.required or not _reached(q, before, after):
            continue
        if "default" in prop.schema:
            result.operations.append(
                {"op": "default", "path": _key(q), "value": prop.schema["default"]}
            )
        else:
            result.notes.append(
                f"TODO: {dotted_path(q)} is required in {result.target} and has no default: "
                f"add {_flow({'op': 'default', 'path': _key(q), 'value': '...'})} or set it in "
                "every service"
            )


def _reached(path: JsonPath, before: dict[JsonPath, Prop], after: dict[JsonPath, Prop]) -> bool:
    """Whether a configuration of the new version must hold `path`'s parent: each ancestor
    existed before or is required itself."""
    return all(path[:n] in before or after[path[:n]].required for n in range(1, len(path)))


def _kind(prop: Prop) -> str:
    return "|".join(types_of(prop.schema)) or ("enum" if "enum" in prop.schema else "any")


def _compare(old: Prop, new: Prop, result: SchemaDiff) -> None:
    path = dotted_path(old.path)
    if old.path and old.required != new.required:
        result.changes.append(Change("changed", path, "required", old.required, new.required))
    old_types, new_types = types_of(old.schema), types_of(new.schema)
    if old_types != new_types:
        result.changes.append(Change("type", path, "type", old_types, new_types))
        _convert(old, new, old_types, new_types, result)
    for keyword in CONSTRAINTS:
        a, b = old.schema.get(keyword), new.schema.get(keyword)
        if isinstance(a, dict) or isinstance(b, dict):
            same = json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
        else:
            same = a == b and type(a) is type(b)
        if not same:
            result.changes.append(Change("changed", path, keyword, a, b))
    _enum_note(old, new, result)


def _convert(
    old: Prop, new: Prop, old_types: list[str], new_types: list[str], result: SchemaDiff
) -> None:
    if len(new_types) != 1 or not set(old_types) <= _SCALARS or new_types[0] not in _SCALARS:
        return
    to = _CONVERT[new_types[0]]
    pattern = str(new.schema.get("pattern", ""))
    if to == "string" and (new.schema.get("format") == "duration" or "ms" in pattern):
        to = "duration"  # a number of milliseconds becomes "250ms"
    result.operations.append({"op": "convert", "path": _key(new.path), "to": to})


def _enum_note(old: Prop, new: Prop, result: SchemaDiff) -> None:
    a, b = old.schema.get("enum"), new.schema.get("enum")
    if not isinstance(a, list) or not isinstance(b, list):
        return
    lost = [v for v in a if v not in b]
    gained = [v for v in b if v not in a]
    if lost:
        values = dict(zip(lost, gained, strict=False)) if len(lost) == len(gained) else {}
        hint = (
            " if they mean the same: "
            + _flow({"op": "map", "path": _key(old.path), "values": values})
            if values
            else ""
        )
        result.notes.append(
            f"{dotted_path(old.path)} no longer allows {json.dumps(lost)}"
            + (f" (new: {json.dumps(gained)})" if gained else "")
            + f"; map the old values{hint}"
        )


# --- the skeleton ------------------------------------------------------------------------------


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")


def _key(path: JsonPath) -> str:
    """A key path as migrations write it: dotted, a key holding `.`, `[`, `]`, `"` or a space
    quoted (`annotations."app.kubernetes.io/name"`)."""
    parts = []
    for part in path:
        text = str(part)
        if not text or re.search(r'[.\[\]"\s]', text):
            text = '"' + text.replace('"', '\\"') + '"'
        parts.append(text)
    return ".".join(parts)


def _scalar(value: Any) -> str:
    if isinstance(value, str) and _PLAIN.match(value) and value.lower() not in _YAML_WORDS:
        return value
    return json.dumps(value, ensure_ascii=False)


_YAML_WORDS = frozenset({"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"})


def _flow(op: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{" + ", ".join(f"{_scalar(k)}: {value(x)}" for k, x in v.items()) + "}"
        return _scalar(v) if isinstance(v, str) else json.dumps(v, ensure_ascii=False)

    return value(op)


def _skeleton(snap: Snapshot, result: SchemaDiff) -> str:
    source, target = result.source, result.target
    lines = [
        f"# {result.migration_file}: from {source} to {target}, drafted by",
        f"# `cfgctl schema diff {source} {target}`. Review every operation: cfgctl migrate",
        "# applies them in order (`cfgctl schema show --builtin migration`).",
    ]
    if target.version != source.version + 1:
        lines.append(
            f"# {source} -> {target} spans several versions: a migration file holds one step."
        )
    lines += [f"# {note}" for note in result.notes]
    lines += [f"from: {target.version - 1}", f"to: {target.version}"]
    if result.operations:
        lines.append("operations:")
        lines += [f"  - {_flow(op)}" for op in result.operations]
    else:
        lines.append("operations: []")
    text = "\n".join(lines) + "\n"
    # The draft must be a valid migration file: read it as `cfgctl migrate` would.
    read_migration(parse(text, result.migration_file), result.name, target.version)
    return text


def write_skeleton(snap: Snapshot, result: SchemaDiff, out: Path | None) -> Path:
    """Write the skeleton to `out` (default: schemas/NAME.vM.migration.yaml of the repository);
    never over an existing file, and only for one step (M = N + 1)."""
    if result.target.version != result.source.version + 1:
        previous = f"{result.name}@{result.target.version - 1}"
        raise InputError(
            f"a migration file goes one version up; {result.source} -> {result.target} spans "
            f"{result.target.version - result.source.version}",
            hint=f"cfgctl schema diff {previous} {result.target} --write",
        )
    path = out if out is not None else confined(snap.root, result.migration_file)
    shown = str(out) if out is not None else result.migration_file
    if path.exists() or (out is None and result.migration_file in snap.files):
        raise InputError(
            f"{shown} exists already: nothing written",
            hint="edit it, or remove it first, or pass --out FILE",
        )
    atomic_write(path, result.skeleton.encode())
    return path
