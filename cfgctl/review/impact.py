"""The impact of a change between two snapshots: the (service, env) pairs whose effective
configuration changes, the keys that change in them (inherited effects included), the files that
change, and the risks (prod, secrets, schema, policy). Approval rules are matched against it.

    impact = ChangeImpact.of(base, head)
    impact.pairs, impact.paths, impact.risk
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cfgctl.changes.diff import DiffResult, diff_snapshots
from cfgctl.changes.tree import changed_paths
from cfgctl.repo.manifest import Manifest
from cfgctl.repo.snapshot import Snapshot

__all__ = ["POLICY", "ChangeImpact", "PairImpact", "protected_envs"]

POLICY = "policy.yaml"  # the approval rules; a change to them is a risk of its own


@dataclass(frozen=True)
class PairImpact:
    """One (service, env) whose effective configuration changes, and the keys that change."""

    service: str
    env: str
    status: str  # added, removed, changed
    keys: list[str]
    secret_keys: list[str]
    schema_changed: bool

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "service": self.service,
            "env": self.env,
            "status": self.status,
            "keys": self.keys,
        }
        if self.secret_keys:
            out["secret_keys"] = self.secret_keys
        if self.schema_changed:
            out["schema_changed"] = True
        return out


@dataclass
class ChangeImpact:
    """What a change means: the pairs and keys that change, the files that change, the risks."""

    base: str
    head: str
    pairs: list[PairImpact] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    risk: list[str] = field(default_factory=list)
    diff: DiffResult | None = None

    @classmethod
    def of(cls, base: Snapshot, head: Snapshot) -> ChangeImpact:
        diff = diff_snapshots(base, head)
        impact = cls(base.label, head.label, diff=diff)
        for pair in diff.pairs:
            impact.pairs.append(
                PairImpact(
                    pair.service,
                    pair.env,
                    pair.status,
                    [c.dotted for c in pair.changes],
                    [c.dotted for c in pair.changes if c.secret],
                    pair.schema_changed,
                )
            )
        impact.paths = sorted(changed_paths(base, head, relevant=lambda path: True))
        impact.risk = _risk(impact, head.manifest)
        return impact

    @property
    def services(self) -> list[str]:
        return sorted({p.service for p in self.pairs})

    @property
    def environments(self) -> list[str]:
        return sorted({p.env for p in self.pairs})


def protected_envs(manifest: Manifest) -> set[str]:
    """The environments marked `protected`, and those inheriting one; when none is marked, the
    ones named prod* or production*."""
    marked = {e.name for e in manifest.environments.values() if e.protected}
    if not marked:
        marked = {e for e in manifest.environments if e.startswith(("prod", "production"))}
    return {child for env in marked for child in manifest.children(env)}


def _risk(impact: ChangeImpact, manifest: Manifest) -> list[str]:
    risk = []
    if any(p.env in protected_envs(manifest) for p in impact.pairs):
        risk.append("prod")
    if any(p.secret_keys for p in impact.pairs) or any(
        f.endswith(".secrets.yaml") for f in impact.paths
    ):
        risk.append("secrets")
    if any(p.schema_changed for p in impact.pairs) or any(
        f.startswith("schemas/") for f in impact.paths
    ):
        risk.append("schema")
    if POLICY in impact.paths:
        risk.append("policy")
    return risk
