"""Where cfgctl keeps a repository's configuration in etcd, under one prefix:

    <prefix>/v1/head                      the published commit (written last): HeadDoc
    <prefix>/v1/commit                    the commit and its head's digest, in the head's own
                                          transaction: the small key agents watch
    <prefix>/v1/roots/<env>               shard -> digest of the environment's index shards
    <prefix>/v1/config/<env>/<service>    one pair: its layers (secrets as sops documents), the
                                          rendered configuration of its plain layers, a digest
    <prefix>/v1/index/<env>/<shard>       service -> digest of the pairs whose name hashes to shard
    <prefix>/v1/files/<path>              cfgctl.yaml, policy.yaml, schemas/...: what a pair needs
    <prefix>/v1/agents/<env>/<agent>      each agent's report (fleet status), under a lease
    <prefix>/v1/lock                      held by the publisher at work (under a lease)

The head lists the digest of each environment's roots and of every file; the roots the digest of
each index shard; each shard the digest of every pair: a reader at the head's revision checks
what it reads against it (a Merkle tree of three levels), so
a half-published commit, a foreign writer or a lost key is seen, never applied.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from cfgctl.errors import InputError

__all__ = ["Layout", "shard_of"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def shard_of(service: str) -> str:
    """The index shard of a service: two hex digits of its name's SHA-256."""
    return hashlib.sha256(service.encode()).hexdigest()[:2]


@dataclass(frozen=True)
class Layout:
    prefix: str  # normalised: "/cfgctl", no trailing slash

    @classmethod
    def of(cls, prefix: str) -> Layout:
        text = prefix.strip().rstrip("/")
        segments = text.split("/")[1:]
        if (
            not text.startswith("/")
            or "" in segments
            or "v1" in segments  # inside the keys of another prefix
            or any(c < " " or c == "\x7f" for c in text)
        ):
            raise InputError(
                f"not an etcd prefix: {prefix!r}",
                hint="a key path such as /cfgctl or /teams/payments/cfgctl (not /, no empty or "
                "v1 segment)",
            )
        return cls(text)

    @property
    def root(self) -> str:
        return f"{self.prefix}/v1/"

    @property
    def head(self) -> str:
        return f"{self.prefix}/v1/head"

    @property
    def commit(self) -> str:
        return f"{self.prefix}/v1/commit"

    def roots(self, env: str) -> str:
        return f"{self.prefix}/v1/roots/{env}"

    def all_roots(self) -> str:
        return f"{self.prefix}/v1/roots/"

    @property
    def lock(self) -> str:
        return f"{self.prefix}/v1/lock"

    def config(self, env: str, service: str) -> str:
        return f"{self.prefix}/v1/config/{env}/{service}"

    def index(self, env: str, shard: str) -> str:
        return f"{self.prefix}/v1/index/{env}/{shard}"

    def indexes(self) -> str:
        return f"{self.prefix}/v1/index/"

    def file(self, path: str) -> str:
        return f"{self.prefix}/v1/files/{path}"

    def agent(self, env: str, agent_id: str) -> str:
        return f"{self.prefix}/v1/agents/{env}/{agent_id}"

    def agents(self, env: str | None = None) -> str:
        return f"{self.prefix}/v1/agents/" + (f"{env}/" if env else "")

    def owns(self, key: str) -> bool:
        """Whether `key` is one cfgctl writes (anything else under the prefix is foreign)."""
        rest = key[len(self.root) :] if key.startswith(self.root) else None
        if rest is None:
            return False
        if rest in ("head", "lock", "commit"):
            return True
        kind, _, tail = rest.partition("/")
        parts = tail.split("/")
        if kind == "roots":
            return len(parts) == 1 and bool(_NAME.match(parts[0]))
        if kind in ("config", "index", "agents"):
            return len(parts) == 2 and all(_NAME.match(p) for p in parts)
        return kind == "files" and bool(tail)
