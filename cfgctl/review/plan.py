"""The plan of a change request: its impact, the rules it triggers, the owners and freezes,
as text, markdown (the sticky pull-request comment) or JSON. Offline: Git only.

    plan = make_plan(Path("."), base="origin/main", head="HEAD")
    print(plan.markdown())

The rules are the base branch's current policy.yaml: a change cannot weaken its own review (a
repository whose base has no policy.yaml yet uses the head's). The impact is the semantic diff of
the effective configuration from the merge base to the head, as `cfgctl diff BASE...HEAD`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cfgctl.changes.report import GITHUB_COMMENT_LIMIT, markdown
from cfgctl.changes.tree import open_range
from cfgctl.errors import CfgctlError, EnvError
from cfgctl.repo.manifest import Manifest
from cfgctl.repo.snapshot import Snapshot
from cfgctl.review.impact import ChangeImpact
from cfgctl.review.policy import POLICY, Freeze, Policy, RuleMatch
from cfgctl.review.policyfile import policy_of

__all__ = ["PLAN_MARKER", "Plan", "comment_body", "make_plan"]

PLAN_MARKER = "<!-- cfgctl:plan -->"


@dataclass
class Plan:
    """What a change means and which rules it triggers."""

    base: str
    head: str
    impact: ChangeImpact
    policy: Policy | None
    matches: list[RuleMatch]
    manifest: Manifest | None
    freezes: list[Freeze] = field(default_factory=list)  # in force now, on this change
    # Each service's owners as the base declares them (a change must not choose who approves
    # it); for services the change adds, as the head declares them.
    owners: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # What a change to rbac.yaml grants that the base did not ("subject: action on object"),
    # filled in by the caller that knows the server's access rules (the CLI).
    permissions_added: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "head": self.head,
            "impact": [p.to_dict() for p in self.impact.pairs],
            "files": self.impact.paths,
            "rules": [m.to_dict() for m in self.matches],
            "risk": self.impact.risk,
            "freezes": [f.describe() for f in self.freezes],
            "policy": POLICY if self.policy is not None else None,
            "permissions_added": self.permissions_added,
        }

    def text_lines(self) -> list[str]:
        impact = self.impact
        lines = [f"Plan: {self.base} -> {self.head}"]
        if not impact.pairs:
            lines.append("Impact: no effective configuration changes")
        else:
            lines.append(
                f"Impact: {len(impact.pairs)} service/environment pairs in "
                f"{len(impact.services)} services ({', '.join(impact.services)}), "
                f"environments {', '.join(impact.environments)}"
            )
            for pair in impact.pairs:
                keys = ", ".join(pair.keys) if pair.keys else "(no key: schema only)"
                lines.append(f"  {pair.service}@{pair.env} [{pair.status}]: {keys}")
        lines.append("Risk: " + (", ".join(impact.risk) or "none"))
        for freeze in self.freezes:
            lines.append(f"Freeze in force: {freeze.describe()} (only the emergency path passes)")
        if self.policy is None:
            lines.append(f"Rules: no {POLICY}: no approval rule")
        else:
            lines.append("Rules:")
            for m in self.matches:
                mark = "applies" if m.applies else "does not apply"
                lines.append(f"  {m.rule.name}: {mark}; {m.why}")
                if m.applies:
                    lines.append(f"    requires {m.rule.require.describe()}")
        if self.permissions_added:
            lines.append("Permissions this change adds (rbac.yaml):")
            lines += [f"  {p}" for p in self.permissions_added]
        return lines

    def markdown(self) -> str:
        impact = self.impact
        out = ["### cfgctl plan", ""]
        risk = ", ".join(f"**{r}**" for r in impact.risk) or "none"
        if impact.pairs:
            out.append(
                f"{len(impact.pairs)} service/environment pairs change in "
                f"{len(impact.services)} services; risk: {risk}."
            )
        else:
            out.append(f"No effective configuration changes; risk: {risk}.")
        out.append("")
        for freeze in self.freezes:
            out += [f"**Change freeze in force:** {_md(freeze.describe())}.", ""]
        if self.policy is None:
            out.append(f"No `{POLICY}`: no approval rule applies.")
        elif self.matches:
            out += ["| rule | applies | requires | why |", "| --- | --- | --- | --- |"]
            for m in self.matches:
                out.append(
                    f"| {_md(m.rule.name)} | {'yes' if m.applies else 'no'} | "
                    f"{_md(m.rule.require.describe())} | {_md(m.why)} |"
                )
        out.append("")
        if self.permissions_added:
            out += ["**Permissions this change adds** (`rbac.yaml`):", ""]
            out += [f"- {_md(p)}" for p in self.permissions_added]
            out.append("")
        return "\n".join(out)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]


def _commit_exists(snap_root: Path, rev: str) -> None:
    from cfgctl.repo.gitstore import GitStore

    try:
        GitStore.open(snap_root).commit_of(rev)
    except CfgctlError:
        raise EnvError(
            f"commit {rev[:12]} is not in the local repository",
            hint="fetch the pull request's history first (actions/checkout with fetch-depth: 0, "
            "or git fetch origin pull/N/head)",
        ) from None


def make_plan(
    start: Path, base: str, head: str, *, use_cache: bool = True, now: datetime | None = None
) -> Plan:
    """The plan of `base...head` (from their merge base, as a pull request)."""
    for rev in (base, head):
        if len(rev) == 40:
            _commit_exists(start, rev)
    merge_base, head_snap = open_range(start, f"{base}...{head}", None, use_cache=use_cache)
    impact = ChangeImpact.of(merge_base, head_snap)
    # The rules are those of the base branch as it is now, not as it was at the merge base: a
    # policy tightened on main applies to branches made before.
    base_snap = Snapshot.at(start, base, use_cache=use_cache, session=head_snap.session)
    policy = _policy(base_snap, head_snap)
    matches = policy.match(impact) if policy is not None else []
    plan = Plan(base, head, impact, policy, matches, head_snap.manifest)
    plan.owners = _owners(base_snap, head_snap)
    if policy is not None:
        plan.freezes = policy.active_freezes(impact, now or datetime.now(UTC))
    return plan


def _owners(base: Snapshot, head: Snapshot) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for snap in (head, base):  # the base's entries win
        try:
            services = snap.manifest.services
        except CfgctlError:
            continue
        out.update({name: s.owners for name, s in services.items()})
    return out


def _policy(base: Snapshot, head: Snapshot) -> Policy | None:
    if POLICY in base.files:
        return policy_of(base)
    return policy_of(head)


def comment_body(plan: Plan) -> str:
    """The sticky PR comment: marker, plan, the diff; under GitHub's size limit."""
    text = f"{PLAN_MARKER}\n{plan.markdown()}\n"
    diff = plan.impact.diff
    if diff is not None:
        text += markdown(diff, limit=GITHUB_COMMENT_LIMIT - len(text) - 100)
    return text
