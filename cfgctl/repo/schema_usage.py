"""Which services use which schema version, and cfgctl's own (built-in) schemas.

for row in schema_usage(snap): row["name"], row["versions"], row["services"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cfgctl.errors import InputError

if TYPE_CHECKING:
    from cfgctl.repo.snapshot import Snapshot

__all__ = ["builtin_schema_text", "schema_usage"]


def schema_usage(snap: Snapshot) -> list[dict[str, Any]]:
    """Every schema of schemas/: its versions, their files and the services using each."""
    users: dict[str, list[str]] = {}
    for service in snap.manifest.services.values():
        try:
            ref = snap.schemas.resolve(service.schema)
        except InputError:
            continue
        users.setdefault(str(ref), []).append(service.name)
    return [
        {
            "name": name,
            "versions": sorted(versions),
            "latest": max(versions),
            "files": [versions[v].path for v in sorted(versions)],
            "services": {str(v): users.get(f"{name}@{v}", []) for v in sorted(versions)},
        }
        for name, versions in sorted(snap.schemas.versions.items())
    ]


def builtin_schema_text(name: str) -> str:
    """The text of one of cfgctl's own schemas: cfgctl (cfgctl.yaml), template, policy, agent."""
    from cfgctl.repo.builtin import SCHEMAS

    known = sorted(p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json"))
    if name not in known:
        raise InputError(f"no built-in schema {name!r}", hint=f"known: {', '.join(known)}")
    return (SCHEMAS / f"{name}.schema.json").read_text()
