"""Which keys a migration names that the schema of its source version does not have.

A migration from version N to N+1 acts on version-N configurations: every key an operation reads
(`from` of rename and move, `path` of convert, map and remove) must be one version N declares, or
one an earlier operation of the same file created (a rename's target, a default). A key beneath
a free-form mapping of version N (an object, or a schema with no `type`, that has no
`properties`, or `additionalProperties` or `patternProperties` that admit other keys) is
accepted: the schema lets any key live there.

    check_paths(migration, flatten(snap, snap.schemas.resolve("web@2")))   # raises on the first
"""

from __future__ import annotations

from collections.abc import Mapping

from cfgctl.errors import InputError
from cfgctl.operate.migration import Migration, Operation
from cfgctl.operate.schemawalk import Prop, types_of
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.manifest import suggest
from cfgctl.repo.yamlio import JsonPath

__all__ = ["check_paths"]

_READS = {"rename", "move", "convert", "map", "remove"}


def _free(prop: Prop) -> bool:
    """Whether keys the schema does not name may live under `prop`."""
    schema = prop.schema
    kinds = types_of(schema)
    if kinds and "object" not in kinds:  # a string, a number, a list: no keys beneath it
        return False
    if schema.get("additionalProperties") is False or schema.get("unevaluatedProperties") is False:
        return False
    if "patternProperties" in schema or isinstance(schema.get("additionalProperties"), dict):
        return True
    if schema.get("additionalProperties") is True:
        return True
    # A mapping that names its keys: those are its keys (JSON Schema would let others in, but a
    # migration naming one is far likelier a typo than a key the schema forgot).
    return "properties" not in schema


def _moved(paths: set[JsonPath], old: JsonPath, new: JsonPath | None) -> set[JsonPath]:
    """`paths` with those at or under `old` moved under `new` (dropped when `new` is None)."""
    out = {p for p in paths if p[: len(old)] != old}
    if new is not None:
        out |= {(*new, *p[len(old) :]) for p in paths if p[: len(old)] == old}
    return out


class _Keys:
    """The keys a version-N configuration may hold, as the operations move them."""

    def __init__(self, props: Mapping[JsonPath, Prop]) -> None:
        self.declared = set(props)
        self.free = {path for path, prop in props.items() if _free(prop)}

    def has(self, path: JsonPath) -> bool:
        if path in self.declared:
            return True
        return any(path[:i] in self.free for i in range(len(path)))

    def apply(self, op: Operation) -> None:
        if op.op in ("rename", "move") and op.to is not None:
            self.declared = _moved(self.declared, op.path, op.to)
            self.free = _moved(self.free, op.path, op.to)
            self.declared |= {op.to[:i] for i in range(1, len(op.to))}
        elif op.op == "remove":
            self.declared = _moved(self.declared, op.path, None)
            self.free = _moved(self.free, op.path, None)
        elif op.op == "default":
            self.declared |= {op.path[:i] for i in range(1, len(op.path) + 1)}


def check_paths(migration: Migration, props: Mapping[JsonPath, Prop]) -> None:
    """Raise `InputError` (with the operation's file:line:col) for the first operation that reads
    a key version `migration.source` of its schema does not have."""
    keys = _Keys(props)
    for op in migration.operations:
        if op.op in _READS and not keys.has(op.path):
            known = sorted(dotted_path(p) for p in keys.declared if p)
            raise InputError(
                f"{op.describe()}: {dotted_path(op.path)} is not a key of "
                f"{migration.schema}@{migration.source}, the version this migration starts from",
                location=op.location,
                hint=suggest(dotted_path(op.path), known, "key"),
            )
        keys.apply(op)
