"""cfgctl.yaml: the environments, their inheritance, the services, their schemas and owners.

manifest, problems = load_manifest(parse(text, "cfgctl.yaml"))
manifest.chain("prod-eu")   # ["base", "prod", "prod-eu"]
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cfgctl.diagnostics import Diagnostic
from cfgctl.errors import InputError
from cfgctl.repo.builtin import check_own_file
from cfgctl.repo.yamlio import Document

__all__ = ["MANIFEST", "Environment", "Manifest", "Service", "load_manifest", "suggest"]

MANIFEST = "cfgctl.yaml"


@dataclass(frozen=True)
class Environment:
    name: str
    inherits: str | None = None
    protected: bool = False


@dataclass(frozen=True)
class Service:
    name: str
    schema: str  # as written: NAME or NAME@N
    owners: tuple[str, ...] = ()
    env_local: tuple[str, ...] = ()  # key globs never promoted between environments


class ServiceTable(Mapping[str, Service]):
    """The `services:` of the manifest, each `Service` built when first looked up: a one-file
    diff or `set` in a 10,000-service repository looks up a few, it does not build them all."""

    def __init__(self, raw: dict[Any, Any]) -> None:
        self._raw = raw
        self._built: dict[str, Service] = {}
        self._names: list[str] | None = None

    @staticmethod
    def _usable(spec: Any) -> bool:
        return isinstance(spec, dict) and isinstance(spec.get("schema"), str)

    def __getitem__(self, name: str) -> Service:
        found = self._built.get(name)
        if found is None:
            spec: Any = self._raw.get(name)
            if not self._usable(spec):
                raise KeyError(name)
            owners, env_local = _strings(spec.get("owners")), _strings(spec.get("env_local"))
            found = self._built[name] = Service(name, spec["schema"], owners, env_local)
        return found

    def __contains__(self, name: object) -> bool:
        return self._usable(self._raw.get(name))

    def _listing(self) -> list[str]:
        if self._names is None:
            self._names = [n for n, spec in self._raw.items() if self._usable(spec)]
        return self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._listing())

    def __len__(self) -> int:
        return len(self._listing())


@dataclass
class Manifest:
    """The parsed manifest. `chain` and lookups raise `InputError` with a hint for unknown names."""

    doc: Document
    environments: dict[str, Environment] = field(default_factory=dict)
    services: Mapping[str, Service] = field(default_factory=dict)

    def env(self, name: str) -> Environment:
        if name not in self.environments:
            raise InputError(
                f"unknown environment {name!r}",
                hint=suggest(name, self.environments, "environment"),
            )
        return self.environments[name]

    def service(self, name: str) -> Service:
        if name not in self.services:
            raise InputError(
                f"unknown service {name!r}", hint=suggest(name, self.services, "service")
            )
        return self.services[name]

    def chain(self, env: str) -> list[str]:
        """The environments `env` inherits from, root first, `env` last."""
        out: list[str] = []
        name: str | None = self.env(env).name
        while name is not None:
            if name in out:
                cycle = " -> ".join([*out[out.index(name) :], name])
                raise InputError(
                    f"environment inheritance cycle: {cycle}",
                    location=self.doc.location(("environments", name)),
                    hint="remove one `inherits:` of the cycle",
                )
            out.append(name)
            name = self.env(name).inherits
        return list(reversed(out))

    def children(self, env: str) -> list[str]:
        """Every environment whose chain includes `env` (itself included)."""
        return [e for e in self.environments if env in self._chain_or_empty(e)]

    def _chain_or_empty(self, env: str) -> list[str]:
        try:
            return self.chain(env)
        except InputError:
            return []


def _strings(raw: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in raw) if isinstance(raw, list) else ()


def suggest(name: str, known: Iterable[str], what: str) -> str:
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    listing = ", ".join(names) if len(names) <= 12 else ", ".join(names[:12]) + ", …"
    if close:
        return f"did you mean {close[0]!r}? known {what}s: {listing}"
    return f"known {what}s: {listing or '(none)'}"


def load_manifest(
    doc: Document, schema_problems: list[Diagnostic] | None = None
) -> tuple[Manifest | None, list[Diagnostic]]:
    """The manifest and every problem of it; None when it is too broken to use.
    `schema_problems`: its problems against cfgctl.schema.json, when known already (cached)."""
    problems = (
        list(schema_problems) if schema_problems is not None else check_own_file(doc, "cfgctl")
    )
    data = doc.data
    if not isinstance(data, dict):
        if not problems:
            problems.append(
                Diagnostic("error", "manifest", "cfgctl.yaml is empty", doc.location(()))
            )
        return None, problems
    manifest = Manifest(doc)
    _read_environments(manifest, data.get("environments"))
    services = data.get("services")
    if isinstance(services, dict):
        manifest.services = ServiceTable(services)
    problems += _inheritance_problems(manifest)
    if any(p.severity == "error" for p in problems) and not manifest.environments:
        return None, problems
    return manifest, problems


def _read_environments(manifest: Manifest, envs: Any) -> None:
    if not isinstance(envs, dict):
        return
    for name, spec in envs.items():
        spec = spec if isinstance(spec, dict) else {}
        parent = spec.get("inherits")
        manifest.environments[name] = Environment(
            name, parent if isinstance(parent, str) else None, spec.get("protected") is True
        )


def _inheritance_problems(manifest: Manifest) -> list[Diagnostic]:
    """Unknown parents, and each inheritance cycle once."""
    doc = manifest.doc
    problems = []
    for env in manifest.environments.values():
        if env.inherits is not None and env.inherits not in manifest.environments:
            problems.append(
                Diagnostic(
                    "error",
                    "manifest",
                    f"environment {env.name!r} inherits from unknown environment {env.inherits!r}",
                    doc.location(("environments", env.name, "inherits")),
                    path=f"environments.{env.name}.inherits",
                    hint=suggest(env.inherits, manifest.environments, "environment"),
                )
            )
    reported: set[frozenset[str]] = set()
    for env in manifest.environments.values():
        try:
            manifest.chain(env.name)
        except InputError as exc:
            if "cycle" not in exc.message:
                continue
            members = frozenset(exc.message.split(": ", 1)[1].split(" -> "))
            if members not in reported:
                reported.add(members)
                problems.append(Diagnostic.from_error(exc, "manifest", doc.location(())))
    return problems
