"""The approval rules of pull requests (policy.yaml's model), and which of them a change's impact
triggers.

    policy, problems = load_policy(snap)            # cfgctl.review.policyfile
    impact = ChangeImpact.of(base, head)            # cfgctl.review.impact
    for match in policy.match(impact):              # one RuleMatch per rule
        match.applies, match.why

A rule's `when` is matched against the *impact* of a change: the (service, env) pairs whose
effective configuration changes and the dotted keys that change in them, inherited effects
included. So a rule on `prod` fires for an edit of `config/base/_defaults.yaml`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cfgctl.repo.timespec import utc_iso
from cfgctl.review.impact import POLICY, ChangeImpact, PairImpact

__all__ = [
    "POLICY",
    "Emergency",
    "Escalation",
    "Freeze",
    "Policy",
    "Principals",
    "Require",
    "Rule",
    "RuleMatch",
    "When",
    "globs",
]


def globs(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _key_matches(key: str, patterns: Iterable[str]) -> bool:
    """`db.*` matches `db.host`; `db` matches `db` and every key below it."""
    return any(fnmatch.fnmatchcase(key, p) or fnmatch.fnmatchcase(key, p + ".*") for p in patterns)


def _login(name: str) -> str:
    return name.removeprefix("@")


@dataclass(frozen=True)
class Principals:
    """GitHub teams (`org/slug`, no @) and users (logins, no @)."""

    teams: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> Principals:
        return cls(
            tuple(_login(t).lower() for t in globs(spec.get("teams"))),
            tuple(_login(u) for u in globs(spec.get("users"))),
        )

    @classmethod
    def of_owners(cls, owners: Iterable[str]) -> Principals:
        """`@org/team` entries are teams, `@login` entries users (cfgctl.yaml's `owners`)."""
        names = [_login(o) for o in owners]
        return cls(
            tuple(n.lower() for n in names if "/" in n), tuple(n for n in names if "/" not in n)
        )

    def __bool__(self) -> bool:
        return bool(self.teams or self.users)

    def describe(self) -> str:
        return ", ".join([f"@{t}" for t in self.teams] + [f"@{u}" for u in self.users])


@dataclass(frozen=True)
class Require:
    approvals: int = 1
    eligible: Principals = field(default_factory=Principals)
    from_owners: bool = False

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> Require:
        return cls(
            int(spec.get("approvals", 1)), Principals.parse(spec), spec.get("from") == "owners"
        )

    def describe(self) -> str:
        n = self.approvals
        who = [self.eligible.describe()] if self.eligible else []
        if self.from_owners:
            who.append("the owners of each changed service")
        head = f"{n} approval{'s' if n != 1 else ''}"
        return f"{head} from {' or '.join(who)}" if who else head

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"approvals": self.approvals}
        if self.eligible.teams:
            out["teams"] = [f"@{t}" for t in self.eligible.teams]
        if self.eligible.users:
            out["users"] = list(self.eligible.users)
        if self.from_owners:
            out["from"] = "owners"
        out["not_author"] = True
        return out


@dataclass(frozen=True)
class When:
    environments: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    secrets: bool = False
    schema_change: bool = False
    paths: tuple[str, ...] = ()

    @classmethod
    def parse(cls, spec: dict[str, Any]) -> When:
        return cls(
            globs(spec.get("environments")),
            globs(spec.get("services")),
            globs(spec.get("keys")),
            spec.get("secrets") is True,
            spec.get("schema_change") is True,
            globs(spec.get("paths")),
        )

    @property
    def about_pairs(self) -> bool:
        return bool(
            self.environments or self.services or self.keys or self.secrets or self.schema_change
        )

    def pair_keys(self, pair: PairImpact) -> list[str] | None:
        """The keys of `pair` this condition matches (all of them when it names no keys), or None
        when the pair does not match."""
        if self.environments and not _matches(pair.env, self.environments):
            return None
        if self.services and not _matches(pair.service, self.services):
            return None
        if self.secrets and not pair.secret_keys:
            return None
        if self.schema_change and not pair.schema_changed:
            return None
        keys = pair.secret_keys if self.secrets else pair.keys
        if self.keys:
            keys = [k for k in keys if _key_matches(k, self.keys)]
            if not keys:
                return None
        return keys


@dataclass(frozen=True)
class Rule:
    name: str
    when: When
    require: Require
    description: str = ""


@dataclass(frozen=True)
class Emergency:
    label: str
    require: Require
    follow_up: bool = True


@dataclass(frozen=True)
class Escalation:
    after: timedelta
    to: Principals


@dataclass(frozen=True)
class Freeze:
    start: datetime
    end: datetime
    environments: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    reason: str = ""

    def active(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def covers(self, service: str, env: str) -> bool:
        return (not self.environments or _matches(env, self.environments)) and (
            not self.services or _matches(service, self.services)
        )

    def hits(self, impact: ChangeImpact) -> list[PairImpact]:
        return [p for p in impact.pairs if self.covers(p.service, p.env)]

    def describe(self) -> str:
        scope = ", ".join(self.environments) or "every environment"
        if self.services:
            scope += f" (services {', '.join(self.services)})"
        why = f": {self.reason}" if self.reason else ""
        return f"{scope} frozen from {utc_iso(self.start)} to {utc_iso(self.end)}{why}"


@dataclass(frozen=True)
class RuleMatch:
    rule: Rule
    applies: bool
    why: str
    pairs: tuple[PairImpact, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.rule.name,
            "applies": self.applies,
            "require": self.rule.require.to_dict(),
            "why": self.why,
        }


def _why_pairs(hits: list[tuple[PairImpact, list[str]]]) -> list[str]:
    """`server.timeout_seconds in payments@prod, search@prod`: pairs grouped by changed keys."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for pair, keys in hits:
        groups.setdefault(tuple(keys), []).append(f"{pair.service}@{pair.env}")
    out = []
    for names, pairs in groups.items():
        shown = ", ".join(names[:3]) + (f" (+{len(names) - 3} keys)" if len(names) > 3 else "")
        where = ", ".join(pairs[:4]) + (f" and {len(pairs) - 4} more" if len(pairs) > 4 else "")
        out.append(f"{shown or 'the pair itself'} in {where}")
    return out


@dataclass
class Policy:
    rules: list[Rule] = field(default_factory=list)
    emergency: Emergency | None = None
    escalation: Escalation | None = None
    freezes: list[Freeze] = field(default_factory=list)

    def match(self, impact: ChangeImpact) -> list[RuleMatch]:
        return [self._match_rule(rule, impact) for rule in self.rules]

    def _match_rule(self, rule: Rule, impact: ChangeImpact) -> RuleMatch:
        when = rule.when
        if not impact.pairs and not impact.paths:
            return RuleMatch(rule, False, "the change changes nothing")
        reasons: list[str] = []
        hit: list[PairImpact] = []
        if when.about_pairs:
            found = [(p, k) for p in impact.pairs if (k := when.pair_keys(p)) is not None]
            if not found:
                return RuleMatch(rule, False, f"no changed pair matches {_describe_when(when)}")
            hit = [p for p, _ in found]
            reasons += _why_pairs(found)
        if when.paths:
            files = [f for f in impact.paths if _matches(f, when.paths)]
            if not files:
                return RuleMatch(rule, False, f"no changed file matches {', '.join(when.paths)}")
            reasons.append("files " + ", ".join(files[:5]) + (" …" if len(files) > 5 else ""))
        if not when.about_pairs and not when.paths:
            hit = list(impact.pairs)
            reasons.append("it matches every change")
        shown = reasons[:6] + ([f"and {len(reasons) - 6} more"] if len(reasons) > 6 else [])
        return RuleMatch(rule, True, "changes " + "; ".join(shown), tuple(hit))

    def active_freezes(self, impact: ChangeImpact, now: datetime) -> list[Freeze]:
        return [f for f in self.freezes if f.active(now) and f.hits(impact)]


def _describe_when(when: When) -> str:
    parts = []
    if when.environments:
        parts.append("environments " + ", ".join(when.environments))
    if when.services:
        parts.append("services " + ", ".join(when.services))
    if when.keys:
        parts.append("keys " + ", ".join(when.keys))
    if when.secrets:
        parts.append("a secret")
    if when.schema_change:
        parts.append("a schema change")
    return " and ".join(parts)
