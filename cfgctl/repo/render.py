"""An effective configuration and where each of its values comes from: the layers of a
(service, env), their deep merge, and provenance computed by looking the layers up in reverse.

    rendered = snap.render("payments", "prod")       # a Rendered
    rendered.data, rendered.provenance(("db", "port"))

Mappings merge key by key; anything else (lists, scalars, null) is replaced by the later layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from cfgctl.errors import InputError, Location
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.schemas import SchemaRef
from cfgctl.repo.yamlio import Document, JsonPath

__all__ = [
    "Layer",
    "LayerKind",
    "Provenance",
    "Rendered",
    "closest_key",
    "is_encrypted",
    "layer_paths",
    "lookup",
    "merge",
    "overlaps",
    "without_sops",
]

LayerKind = Literal["defaults", "service", "secrets"]


@dataclass(frozen=True)
class Layer:
    """One file that contributes to an effective configuration."""

    env: str
    path: str
    kind: LayerKind

    @property
    def secret(self) -> bool:
        return self.kind == "secrets"


@dataclass(frozen=True)
class Provenance:
    """Where a value of an effective configuration comes from."""

    layer: Layer
    path: JsonPath
    line: int | None
    column: int | None

    @property
    def location(self) -> Location:
        return Location(self.layer.path, self.line, self.column)


def layer_paths(env: str, service: str) -> list[tuple[str, LayerKind]]:
    base = f"config/{env}/"
    return [
        (base + "_defaults.yaml", "defaults"),
        (base + f"{service}.yaml", "service"),
        (base + f"{service}.secrets.yaml", "secrets"),
    ]


def lookup(data: Any, path: JsonPath) -> tuple[bool, Any]:
    """(True, value) when `path` exists in `data`, else (False, None)."""
    node = data
    for part in path:
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_dict or in_list):
            return False, None
        node = node[part]
    return True, node


def closest_key(data: Any, path: JsonPath) -> JsonPath | None:
    """The existing key most like `path` (a typo in one of its parts), or None."""
    import difflib

    node, out = data, []
    for part in path:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
            continue
        if not (isinstance(node, dict) and isinstance(part, str)):
            return None
        close = difflib.get_close_matches(part, [str(k) for k in node], n=1)
        return (*out, close[0]) if close else None
    return None


def merge(base: Any, over: Any) -> Any:
    """Deep merge: mappings key by key, anything else replaced. Inputs are never mutated."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    out = dict(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if key in out else value
    return out


class Rendered:
    """The effective configuration of one (service, env), with the provenance of every value."""

    def __init__(
        self,
        service: str,
        env: str,
        schema: SchemaRef | None,
        layers: list[Layer],
        docs: list[Document],
        secrets: frozenset[JsonPath] = frozenset(),
    ) -> None:
        self.service, self.env, self.schema = service, env, schema
        # Layers encrypted with SOPS: their keys are known, their values are ciphertext.
        self.encrypted = [
            layer
            for layer, doc in zip(layers, docs, strict=True)
            if layer.secret and is_encrypted(doc.data)
        ]
        docs = [without_sops(layer, doc) for layer, doc in zip(layers, docs, strict=True)]
        self.layers, self.docs = layers, docs
        data: Any = {}
        for doc in docs:
            if doc.data is not None:
                data = merge(data, doc.data)
        self.data: dict[str, Any] = data
        self.secret_paths = secrets

    def get(self, path: JsonPath) -> Any:
        found, value = lookup(self.data, path)
        if not found:
            close = closest_key(self.data, path)
            mean = f"did you mean {dotted_path(close)!r}? " if close else ""
            raise InputError(
                f"{self.service}@{self.env} has no key {dotted_path(path)}",
                hint=f"{mean}see `cfgctl render {self.service} --env {self.env}` for its keys",
            )
        return value

    def setters(self, path: JsonPath) -> list[tuple[Layer, Any, Location]]:
        """Every layer that sets `path`, in merge order (the last one wins)."""
        out = []
        for layer, doc in zip(self.layers, self.docs, strict=True):
            found, value = lookup(doc.data, path)
            if found:
                out.append((layer, value, doc.location(path)))
        return out

    def provenance(self, path: JsonPath) -> Provenance | None:
        """The layer, file, line and column that gave the value at `path` (or its nearest
        ancestor that a layer sets), None for the root of an empty configuration."""
        found = self.source(path)
        if found is None:
            return None
        layer, sub = found
        loc = self.docs[self.layers.index(layer)].location(path)
        return Provenance(layer, sub, loc.line, loc.column)

    def source(self, path: JsonPath) -> tuple[Layer, JsonPath] | None:
        """The layer that gave the value at `path`, and the path (it or its nearest ancestor)
        that layer sets; no file is read for a position."""
        for cut in range(len(path), 0, -1):
            sub = path[:cut]
            for layer, doc in zip(reversed(self.layers), reversed(self.docs), strict=True):
                if lookup(doc.data, sub)[0]:
                    return layer, sub
        return None

    def leaves(self) -> Iterator[tuple[JsonPath, Any, Provenance | None]]:
        from cfgctl.repo.yamlio import iter_leaves

        for path, value in iter_leaves(self.data):
            yield path, value, self.provenance(path)

    def is_secret(self, path: JsonPath) -> bool:
        """True when the value at `path` is, lies under, or holds a secret: a property the
        schema marks secret, or anything a `.secrets.yaml` layer sets."""
        if overlaps(self.secret_paths, path):
            return True
        for layer, doc in zip(self.layers, self.docs, strict=True):
            if layer.secret and doc.data and lookup(doc.data, path)[0]:
                return True
        return False


def is_encrypted(data: Any) -> bool:
    """A SOPS-encrypted document: a top-level `sops` mapping holding its metadata."""
    return isinstance(data, dict) and isinstance(data.get("sops"), dict)


def without_sops(layer: Layer, doc: Document) -> Document:
    if not (layer.secret and is_encrypted(doc.data)):
        return doc
    data = {k: v for k, v in doc.data.items() if k != "sops"}
    return doc.with_data(data)


def overlaps(secrets: Iterable[JsonPath], path: JsonPath) -> bool:
    """Whether `path` is one of `secrets`, lies under one, or holds one."""
    for secret in secrets:
        n = min(len(secret), len(path))
        if secret[:n] == path[:n]:
            return True
    return False
