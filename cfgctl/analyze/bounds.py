"""What the schema allows a numeric key: its type and bounds, and a value brought inside them.

    bounds = key_bounds(snap, "payments", ("workers",))
    bounds.numeric, bounds.integer          # True, True
    bounds.clamp(40.0)                      # 32 (maximum 32); multipleOf and exclusive bounds too

The key's subschema is found by following `properties` from the service's schema through `$ref`
(local or to another schema file) and `allOf`; a key the schema does not describe has no bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cfgctl.repo.secretpaths import deref
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath

__all__ = ["Bounds", "key_bounds"]

_MAX_DEPTH = 32


@dataclass(frozen=True)
class Bounds:
    types: tuple[str, ...]  # the schema's `type`s; () when it names none
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    multiple_of: float | None = None

    @property
    def numeric(self) -> bool:
        return not self.types or bool({"integer", "number"} & set(self.types))

    @property
    def integer(self) -> bool:
        return "integer" in self.types and "number" not in self.types

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": list(self.types),
            "minimum": self.minimum,
            "maximum": self.maximum,
            "exclusiveMinimum": self.exclusive_minimum,
            "exclusiveMaximum": self.exclusive_maximum,
            "multipleOf": self.multiple_of,
        }

    def _range(self) -> tuple[float, float]:
        lo, hi = -math.inf, math.inf
        if self.minimum is not None:
            lo = self.minimum
        if self.maximum is not None:
            hi = self.maximum
        if self.exclusive_minimum is not None:
            edge = self.exclusive_minimum
            lo = max(lo, math.floor(edge) + 1 if self.integer else math.nextafter(edge, math.inf))
        if self.exclusive_maximum is not None:
            edge = self.exclusive_maximum
            hi = min(hi, math.ceil(edge) - 1 if self.integer else math.nextafter(edge, -math.inf))
        if self.integer:
            lo, hi = (
                math.ceil(lo) if lo > -math.inf else lo,
                math.floor(hi) if hi < math.inf else hi,
            )
        return lo, hi

    def clamp(self, value: float) -> int | float | None:
        """`value` moved inside the bounds (to the nearest allowed value); None when the
        bounds allow none."""
        lo, hi = self._range()
        value = min(max(value, lo), hi)
        step = self.multiple_of
        if step:
            value = round(value / step) * step
            if value < lo:
                value = math.ceil(lo / step) * step
            if value > hi:
                value = math.floor(hi / step) * step
            if not lo <= value <= hi:
                return None
        if self.integer:
            return round(value)
        return float(value)

    def allows(self, value: float) -> bool:
        lo, hi = self._range()
        return lo <= value <= hi


def _resolved(node: Any, root: Any, resolve: Any, depth: int = 0) -> tuple[dict[str, Any], Any]:
    """`node` with its `$ref` followed and its `allOf` merged in; the root its refs read."""
    if not isinstance(node, dict) or depth > _MAX_DEPTH:
        return {}, root
    out = dict(node)
    target = out.pop("$ref", None)
    if isinstance(target, str):
        doc, found = deref(root, target, resolve)
        base, root = _resolved(found, doc, resolve, depth + 1)
        out = {**base, **out}
    for part in out.pop("allOf", None) or []:
        sub, _ = _resolved(part, root, resolve, depth + 1)
        for key, value in sub.items():
            if key == "properties" and isinstance(out.get(key), dict):
                out[key] = {**out[key], **value}
            else:
                out.setdefault(key, value)
    return out, root


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def key_bounds(snap: Snapshot, service: str, path: JsonPath) -> Bounds:
    """The type and bounds the schema of `service` gives `path` (none when it does not say)."""
    ref = snap.schema_of(service)
    root: Any = snap.schemas.document(ref.path)
    resolve = snap.schema_resolver(ref)
    node, root = _resolved(root, root, resolve)
    for part in path:
        props = node.get("properties")
        if not isinstance(props, dict) or part not in props:
            return Bounds(())
        node, root = _resolved(props[part], root, resolve)
    kind = node.get("type")
    types = (kind,) if isinstance(kind, str) else tuple(k for k in kind or () if isinstance(k, str))
    minimum, maximum = _number(node.get("minimum")), _number(node.get("maximum"))
    ex_min, ex_max = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
    if ex_min is True:  # draft 4: a flag on minimum
        ex_min, minimum = minimum, None
    if ex_max is True:
        ex_max, maximum = maximum, None
    return Bounds(
        types,
        minimum,
        maximum,
        _number(ex_min),
        _number(ex_max),
        _number(node.get("multipleOf")),
    )
