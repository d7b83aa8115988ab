"""Reading policy.yaml: the rules, the emergency label, freezes and escalation, with every
problem at its line; and the lint that warns of globs matching nothing in cfgctl.yaml.

    policy, problems = load_policy(snap)   # (None, []) when the repository has no policy.yaml
    policy = policy_of(snap)               # InputError when it is broken
"""

from __future__ import annotations

import fnmatch
from typing import Any

from cfgctl.diagnostics import Diagnostic, Severity
from cfgctl.errors import CfgctlError, InputError, Location
from cfgctl.repo.manifest import suggest
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.timespec import parse_duration, parse_instant
from cfgctl.repo.yamlio import Document
from cfgctl.review.impact import POLICY
from cfgctl.review.policy import (
    Emergency,
    Escalation,
    Freeze,
    Policy,
    Principals,
    Require,
    Rule,
    When,
    globs,
)

__all__ = ["lint_policy", "load_policy", "policy_of"]


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
    problems += _read_rules(policy, doc, data.get("rules") or [])
    if "emergency" in data:
        spec = data["emergency"]
        policy.emergency = Emergency(
            spec["label"], Require.parse(spec["require"]), spec.get("follow_up", True)
        )
        problems += _unmeetable(policy.emergency.require, doc, ("emergency", "require"))
    problems += _read_freezes(policy, doc, data.get("freeze") or [])
    if "escalation" in data:
        problems += _read_escalation(policy, doc, data["escalation"])
    return (None if problems else policy), problems


def _read_rules(policy: Policy, doc: Document, specs: list[Any]) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(specs):
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
    return problems


def _read_freezes(policy: Policy, doc: Document, specs: list[Any]) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for i, spec in enumerate(specs):
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
                globs(spec.get("environments")),
                globs(spec.get("services")),
                spec.get("reason", ""),
            )
        )
    return problems


def _read_escalation(policy: Policy, doc: Document, spec: Any) -> list[Diagnostic]:
    try:
        policy.escalation = Escalation(parse_duration(spec["after"]), Principals.parse(spec["to"]))
    except InputError as exc:
        return [Diagnostic.from_error(exc, "policy", doc.location(("escalation", "after")))]
    if policy.escalation.after.total_seconds() <= 0:
        return [
            _problem(
                doc,
                ("escalation", "after"),
                "escalation.after must be longer than 0: every pull request would be "
                "escalated at once",
                "e.g. after: 24h",
            )
        ]
    return []


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
            for j, pattern in enumerate(globs(spec.get(field_name))):
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
