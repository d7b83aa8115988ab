"""The JSON documents cfgctl keeps in etcd (cfgctl.fleet.layout) and their digests.

    pair = PairDoc.build("payments", "prod", commit, layers)   # layers: [(path, kind, bytes)]
    pair.to_bytes(); PairDoc.parse(key, raw)                    # FleetDataError when foreign
    head = HeadDoc(commit=..., index={env: roots digest}, files={...}, ...)

A pair's digest covers its service, environment and layers (not the commit it was written at):
publishing a later commit that leaves the pair as it was writes nothing for it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cfgctl.errors import EnvError

__all__ = [
    "FORMAT",
    "FleetDataError",
    "HeadDoc",
    "LayerDoc",
    "PairDoc",
    "canonical",
    "digest",
    "index_bytes",
    "merge",
    "parse_index",
    "parse_roots",
    "pointer_bytes",
    "roots_bytes",
]

FORMAT = 1
_LATEST = 10**11  # no Unix time or count cfgctl writes reaches it (year 5138)


class FleetDataError(EnvError):
    """What is under the prefix is not what cfgctl wrote (foreign data, a half-published or
    damaged commit): nothing of it is applied (exit 3)."""


def merge(base: Any, over: Any) -> Any:
    """Deep merge as cfgctl.repo.render does (mappings key by key, anything else replaced); here
    again so that the SDK's etcd watch reads these documents without the repository stack."""
    if not (isinstance(base, dict) and isinstance(over, dict)):
        return over
    out = dict(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if key in out else value
    return out


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _load(key: str, raw: bytes, kind: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # a hostile nesting depth too
        data = None
    if not isinstance(data, dict) or data.get("kind") != kind:
        raise FleetDataError(
            f"{key} does not hold a {kind} document of cfgctl",
            hint="the prefix holds foreign data: publish under a prefix of cfgctl's own "
            "(--prefix), or remove what is there",
        )
    if data.get("format") != FORMAT:
        raise FleetDataError(
            f"{key} is in format {data.get('format')!r}; this cfgctl reads format {FORMAT}",
            hint="upgrade cfgctl on this host, or publish with the cfgctl of the fleet",
        )
    return data


@dataclass(frozen=True)
class LayerDoc:
    path: str
    kind: str  # defaults, service, secrets
    text: str  # the file as in the repository (a secrets layer: the sops document, encrypted)

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class PairDoc:
    service: str
    env: str
    commit: str
    layers: tuple[LayerDoc, ...]
    config: dict[str, Any] = field(default_factory=dict)  # the plain layers, merged
    digest: str = ""

    @staticmethod
    def content_digest(service: str, env: str, layers: tuple[LayerDoc, ...]) -> str:
        return digest(
            canonical({"service": service, "env": env, "layers": [x.to_json() for x in layers]})
        )

    @classmethod
    def build(
        cls, service: str, env: str, commit: str, layers: list[LayerDoc], plain: list[Any]
    ) -> PairDoc:
        """`plain`: the parsed data of each non-secret layer, in merge order."""
        config: Any = {}
        for data in plain:
            if isinstance(data, dict):
                config = merge(config, data)
        frozen = tuple(layers)
        return cls(service, env, commit, frozen, config, cls.content_digest(service, env, frozen))

    def to_bytes(self) -> bytes:
        return canonical(
            {
                "kind": "cfgctl.pair",
                "format": FORMAT,
                "service": self.service,
                "env": self.env,
                "commit": self.commit,
                "digest": self.digest,
                "config": self.config,
                "secrets": [x.path for x in self.layers if x.kind == "secrets"],
                "layers": [x.to_json() for x in self.layers],
            }
        )

    @classmethod
    def parse(cls, key: str, raw: bytes) -> PairDoc:
        data = _load(key, raw, "cfgctl.pair")
        try:
            layers = tuple(
                LayerDoc(str(x["path"]), str(x["kind"]), str(x["text"])) for x in data["layers"]
            )
            pair = cls(
                str(data["service"]),
                str(data["env"]),
                str(data["commit"]),
                layers,
                dict(data.get("config") or {}),
                str(data["digest"]),
            )
        except (KeyError, TypeError, ValueError):
            raise FleetDataError(f"{key}: a pair document with missing fields") from None
        if cls.content_digest(pair.service, pair.env, layers) != pair.digest:
            raise FleetDataError(
                f"{key}: its content does not match its digest (damaged or edited by hand)",
                hint="publish the commit again: `cfgctl fleet publish`",
            )
        if pair.config != _rendered(key, layers):  # the digest covers the layers it comes from
            raise FleetDataError(
                f"{key}: its rendered configuration is not that of its layers (edited by hand)",
                hint="publish the commit again: `cfgctl fleet publish`",
            )
        return pair


def _rendered(key: str, layers: tuple[LayerDoc, ...]) -> Any:
    """The plain layers merged, as the publisher rendered them (through JSON, as stored)."""
    from cfgctl.errors import CfgctlError
    from cfgctl.repo.yamlio import parse

    config: Any = {}
    try:
        for layer in layers:
            if layer.kind != "secrets":
                data = parse(layer.text.encode(), layer.path).data
                if isinstance(data, dict):
                    config = merge(config, data)
        return json.loads(canonical(config))
    except (CfgctlError, TypeError, ValueError, RecursionError):
        raise FleetDataError(f"{key}: a layer that does not parse") from None


@dataclass(frozen=True)
class HeadDoc:
    commit: str
    index: dict[str, str]  # env -> digest of its roots document (shard -> digest of the shard)
    files: dict[str, str]  # repository path -> digest of its bytes
    pairs: int
    commit_time: int = 0  # Unix seconds, the commit's own
    message: str = ""  # the commit message (its trailers: Deploy-After, Emergency, Traceparent)
    published_at: str = ""
    traceparent: str = ""  # the publish's span
    # Each environment with pairs -> its inheritance chain (root first): the next publish of a
    # commit with the same cfgctl.yaml finds the pairs a changed file reaches without parsing it.
    chains: dict[str, list[str]] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return canonical(
            {
                "kind": "cfgctl.head",
                "format": FORMAT,
                "commit": self.commit,
                "index": self.index,
                "files": self.files,
                "pairs": self.pairs,
                "commit_time": self.commit_time,
                "message": self.message,
                "published_at": self.published_at,
                "traceparent": self.traceparent,
                "chains": self.chains,
            }
        )

    @classmethod
    def parse(cls, key: str, raw: bytes) -> HeadDoc:
        data = _load(key, raw, "cfgctl.head")
        try:
            head = cls._of(data)
        except (KeyError, TypeError, ValueError):
            raise FleetDataError(f"{key}: a head document with missing fields") from None
        if not 0 <= head.commit_time < _LATEST or not 0 <= head.pairs < _LATEST:
            raise FleetDataError(f"{key}: a head document with numbers out of range")
        return head

    @classmethod
    def _of(cls, data: dict[str, Any]) -> HeadDoc:
        return cls(
            str(data["commit"]),
            {str(k): str(v) for k, v in dict(data["index"]).items()},
            {str(k): str(v) for k, v in dict(data["files"]).items()},
            int(data["pairs"]),
            int(data.get("commit_time") or 0),
            str(data.get("message") or ""),
            str(data.get("published_at") or ""),
            str(data.get("traceparent") or ""),
            {str(k): [str(e) for e in v] for k, v in dict(data.get("chains") or {}).items()},
        )


def parse_index(key: str, raw: bytes) -> dict[str, str]:
    data = _load(key, raw, "cfgctl.index")
    entries = data.get("pairs")
    if not isinstance(entries, dict):
        raise FleetDataError(f"{key}: an index document without pairs")
    return {str(k): str(v) for k, v in entries.items()}


def index_bytes(entries: dict[str, str]) -> bytes:
    return canonical({"kind": "cfgctl.index", "format": FORMAT, "pairs": entries})


def roots_bytes(shards: dict[str, str]) -> bytes:
    """An environment's shard -> digest of its index shard (the head lists this document's
    digest per environment: a reader of one environment reads only its own)."""
    return canonical({"kind": "cfgctl.roots", "format": FORMAT, "shards": shards})


def parse_roots(key: str, raw: bytes) -> dict[str, str]:
    data = _load(key, raw, "cfgctl.roots")
    shards = data.get("shards")
    if not isinstance(shards, dict):
        raise FleetDataError(f"{key}: a roots document without shards")
    return {str(k): str(v) for k, v in shards.items()}


def pointer_bytes(commit: str, head: bytes) -> bytes:
    """The small key agents and services watch: the commit and the digest of its head, written
    in the head's own transaction (a watcher gets ~150 bytes, not the head, on each publish)."""
    return canonical({"kind": "cfgctl.commit", "format": FORMAT, "commit": commit,
                      "head": digest(head)})  # fmt: skip
