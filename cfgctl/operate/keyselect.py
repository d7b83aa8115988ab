"""Which keys of a service move between environments: key globs, and the env-local rules.

    glob = KeyGlob.parse("db.*")              # * within one key, ** across keys
    glob.matches(("db", "host"))              # True; a glob also selects what lies below a match
    rules = env_local_rules(snap, "payments") # cfgctl.yaml's env_local: globs + the schema's marks
    rules.is_local(("replicas",), data)       # never promoted, never drift

A glob is a dotted key path whose parts may hold `*` (any characters within one key, as
fnmatch) and `?`, or be `**` (any number of keys, none included). A glob selects the key it
matches and everything below it: `db` selects `db.host` and `db.port`. Keys holding a dot are
quoted as everywhere else: `annotations."app.kubernetes.io/name"`.

A key is env-local (it differs by environment on purpose: hosts, replica counts) when the
service's `env_local:` in cfgctl.yaml has a glob selecting it, or when the service's schema marks
its property `x-cfgctl-env-local: true` (found as `x-cfgctl-secret` is, `$ref`s followed).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cfgctl.errors import CfgctlError, InputError
from cfgctl.repo.keypath import parse_key
from cfgctl.repo.secretpaths import marked_paths
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath

__all__ = ["ENV_LOCAL_MARKER", "EnvLocal", "KeyGlob", "env_local_rules", "selected"]

ENV_LOCAL_MARKER = "x-cfgctl-env-local"


@dataclass(frozen=True)
class KeyGlob:
    text: str
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, *, where: str = "--keys") -> KeyGlob:
        """The glob of `text`; InputError for a malformed path."""
        try:
            parts = parse_key(text)
        except InputError as exc:
            raise InputError(
                f"{where}: bad key glob {text!r}: {exc.message}",
                hint="write a dotted key path; * matches within one key, ** across keys "
                "(db.*, **.host)",
            ) from None
        return cls(text, tuple(str(p) for p in parts))

    def matches(self, path: JsonPath) -> bool:
        """Whether this glob matches `path` or one of its ancestors."""
        keys = tuple(str(p) for p in path)
        return any(_match(self.parts, keys[:n]) for n in range(1, len(keys) + 1))


def _match(parts: tuple[str, ...], keys: tuple[str, ...]) -> bool:
    if not parts:
        return not keys
    head, rest = parts[0], parts[1:]
    if head == "**":
        return any(_match(rest, keys[i:]) for i in range(len(keys) + 1))
    return bool(keys) and fnmatch.fnmatchcase(keys[0], head) and _match(rest, keys[1:])


def selected(path: JsonPath, globs: Iterable[KeyGlob]) -> bool:
    """Whether any of `globs` selects `path` (every path when there are none)."""
    chosen = list(globs)
    return not chosen or any(g.matches(path) for g in chosen)


@dataclass
class EnvLocal:
    """The env-local rules of one service: its globs, and the schema to look marks up in."""

    globs: list[KeyGlob] = field(default_factory=list)
    schema: Any = None
    resolve: Any = None

    def paths(self, data: Any) -> set[JsonPath]:
        """The paths of `data` the schema marks env-local."""
        if self.schema is None:
            return set()
        return set(marked_paths(self.schema, data, (ENV_LOCAL_MARKER,), self.resolve))

    def is_local(self, path: JsonPath, marked: set[JsonPath]) -> bool:
        """Whether `path` is env-local: a glob selects it, or it is (or lies under, or holds)
        one of `marked` (from `paths`)."""
        if any(g.matches(path) for g in self.globs):
            return True
        for mark in marked:
            n = min(len(mark), len(path))
            if mark[:n] == path[:n]:
                return True
        return False


def env_local_rules(snap: Snapshot, service: str) -> EnvLocal:
    """The env-local rules of `service` in `snap`: its `env_local:` globs and its schema."""
    manifest = snap.manifest
    spec = manifest.service(service)
    globs = []
    for i, text in enumerate(spec.env_local):
        try:
            globs.append(KeyGlob.parse(text, where=f"services.{service}.env_local"))
        except InputError as exc:
            where = manifest.doc.location(("services", service, "env_local", i))
            raise InputError(exc.message, location=where, hint=exc.hint) from None
    try:
        ref = snap.schema_of(service)
        schema = snap.schemas.document(ref.path)
        resolve = snap.schema_resolver(ref)
    except CfgctlError:  # a broken schema is reported by rendering, where it matters
        schema = resolve = None
    return EnvLocal(globs, schema, resolve)
