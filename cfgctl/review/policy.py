"""policy.yaml: the approval rules of pull requests, and which of them a change's impact triggers.

    policy, problems = load_policy(snap)             # None when the repository has no policy.yaml
    impact = ChangeImpact.of(base, head)            # pairs, changed keys, changed files, risk
    for match in policy.match(impact, manifest):    # one RuleMatch per rule
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

from cfgctl.changes.diff import DiffResult, diff_snapshots
from cfgctl.changes.tree import changed_paths
from cfgctl.diagnostics import Diagnostic, Severity
from cfgctl.errors import CfgctlError, InputError, Location
from cfgctl.repo.manifest import Manifest, suggest
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.timespec import parse_duration, parse_instant, utc_iso
from cfgctl.repo.yamlio import Document

__all__ = [
    "POLICY",
    "ChangeImpact",
    "Emergency",
    "Escalation",
    "Freeze",
    "PairImpact",
    "Policy",
    "Principals",
    "Require",
    "Rule",
    "RuleMatch",
    "When",
    "lint_policy",
    "load_policy",
    "policy_of",
]

POLICY = "policy.yaml"


def _globs(value: Any) -> tuple[str, ...]:
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
            tuple(_login(t).lower() for t in _globs(spec.get("teams"))),
            tuple(_login(u) for u in _globs(spec.get("users"))),
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
            _globs(spec.get("environments")),
            _globs(spec.get("services")),
            _globs(spec.get("keys")),
            spec.get("secrets") is True,
            spec.get("schema_change") is True,
            _globs(spec.get("paths")),
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


def _problem(
    doc: Document,
    where: tuple[str | int, ...],
    message: str,
    hint: str,
    *,
    severity: Severity = "error",
) -> Diagnostic:
    """A problem of policy.yaml at the value `where` points to."""
    return Diagnostic(
        severity,
        "policy",
        message,
        doc.location(where),
        path=".".join(str(p) for p in where),
        hint=hint,
    )


def load_policy(snap: Snapshot) -> tuple[Policy | None, list[Diagnostic]]:
    """The policy of `snap` and every problem of policy.yaml; (None, []) when there is none,
    (None, problems) when it is broken."""
    if POLICY not in snap.files:
        return None, []
    try:
        doc = snap.document(POLICY)
    except CfgctlError as exc:
        return None, [Diagnostic.from_error(exc, "yaml", Location(POLICY))]
    problems = snap.own_file_problems(POLICY, "policy", doc)
    if problems:
        return None, problems
    data = doc.data or {}
    policy = Policy()
    seen: dict[str, int] = {}
    for i, spec in enumerate(data.get("rules") or []):
        rule = Rule(
            spec["name"],
            When.parse(spec.get("when") or {}),
            Require.parse(spec["require"]),
            spec.get("description", ""),
        )
        if rule.name in seen:
            problems.append(
                _problem(
                    doc,
                    ("rules", i, "name"),
                    f"rule name {rule.name!r} is used twice (rules {seen[rule.name]} and {i})",
                    "give each rule its own name: statuses and plans name them",
                )
            )
        seen[rule.name] = i
        policy.rules.append(rule)
        problems += _unmeetable(rule.require, doc, ("rules", i, "require"))
    if "emergency" in data:
        spec = data["emergency"]
        policy.emergency = Emergency(
            spec["label"], Require.parse(spec["require"]), spec.get("follow_up", True)
        )
        problems += _unmeetable(policy.emergency.require, doc, ("emergency", "require"))
    for i, spec in enumerate(data.get("freeze") or []):
        try:
            start, end = parse_instant(spec["from"]), parse_instant(spec["to"])
        except InputError as exc:
            problems.append(Diagnostic.from_error(exc, "policy", doc.location(("freeze", i))))
            continue
        if end <= start:
            problems.append(
                _problem(
                    doc,
                    ("freeze", i, "to"),
                    f"freeze {i} ends ({spec['to']}) before it starts ({spec['from']})",
                    "swap `from` and `to`",
                )
            )
            continue
        policy.freezes.append(
            Freeze(
                start,
                end,
                _globs(spec.get("environments")),
                _globs(spec.get("services")),
                spec.get("reason", ""),
            )
        )
    if "escalation" in data:
        spec = data["escalation"]
        try:
            policy.escalation = Escalation(
                parse_duration(spec["after"]), Principals.parse(spec["to"])
            )
        except InputError as exc:
            problems.append(
                Diagnostic.from_error(exc, "policy", doc.location(("escalation", "after")))
            )
        else:
            if policy.escalation.after.total_seconds() <= 0:
                problems.append(
                    _problem(
                        doc,
                        ("escalation", "after"),
                        "escalation.after must be longer than 0: every pull request would be "
                        "escalated at once",
                        "e.g. after: 24h",
                    )
                )
    return (None if problems else policy), problems


def _unmeetable(require: Require, doc: Document, where: tuple[str | int, ...]) -> list[Diagnostic]:
    """A requirement only named users can meet, asking for more approvals than there are."""
    who = require.eligible
    if require.from_owners or who.teams or not who.users:
        return []
    if require.approvals <= len(set(who.users)):
        return []
    return [
        _problem(
            doc,
            (*where, "approvals"),
            f"{require.approvals} approvals from {len(set(who.users))} user(s) can never be met "
            "(the author's approval does not count either)",
            "lower approvals, or name more users or a team",
        )
    ]


def policy_of(snap: Snapshot) -> Policy | None:
    """The policy of `snap`, None when it has no policy.yaml; a broken one raises InputError."""
    policy, problems = load_policy(snap)
    if problems:
        first = problems[0]
        raise InputError(
            f"{POLICY} at {snap.label} is invalid: {first.message}"
            + (f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""),
            location=first.location,
            hint=first.hint or "run `cfgctl validate` to see every problem",
        )
    return policy


def lint_policy(snap: Snapshot) -> list[Diagnostic]:
    """Every problem of policy.yaml, and a warning for each environment or service glob that
    matches nothing in cfgctl.yaml (a typo there would silently turn a rule off)."""
    policy, problems = load_policy(snap)
    if policy is None or POLICY not in snap.files:
        return problems
    doc = snap.document(POLICY)
    manifest = snap.manifest
    data = doc.data or {}
    places: list[tuple[tuple[str | int, ...], Any]] = []
    for i, spec in enumerate(data.get("rules") or []):
        places.append((("rules", i, "when"), spec.get("when") or {}))
    for i, spec in enumerate(data.get("freeze") or []):
        places.append((("freeze", i), spec))
    for where, spec in places:
        for field_name, known in (
            ("environments", manifest.environments),
            ("services", manifest.services),
        ):
            for j, pattern in enumerate(_globs(spec.get(field_name))):
                if not any(fnmatch.fnmatchcase(name, pattern) for name in known):
                    path = (*where, field_name, j)
                    problems.append(
                        _problem(
                            doc,
                            path,
                            f"{field_name[:-1]} pattern {pattern!r} matches no "
                            f"{field_name[:-1]} of cfgctl.yaml: it never fires",
                            suggest(pattern, known, field_name[:-1]),
                            severity="warning",
                        )
                    )
    return problems
