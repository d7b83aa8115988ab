"""The approval gate: a pull request's reviews judged against the policy and the change's impact.

    verdict = evaluate(policy, impact, facts, owners, is_member, now)
    verdict.state          # "success", "pending" or "failure"
    verdict.description    # what is missing, in under 140 characters (a commit status)

Pure: the GitHub facts (author, head commit, labels, reviews) come in as `PullRequestFacts` and
team membership as a function, so the same code judges a real pull request and a test's.

The rules, as GitHub's own branch protection counts them: each reviewer's latest review counts
(a comment does not undo an approval; a dismissal does); only approvals given on the current head
commit count, so a push after an approval makes it stale; the author's approval never counts; a
pending "changes requested" review fails the gate until that reviewer approves or is dismissed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cfgctl.repo.timespec import utc_iso
from cfgctl.review.impact import ChangeImpact
from cfgctl.review.policy import Freeze, Policy, Principals, Require, RuleMatch

__all__ = [
    "Membership",
    "PullRequestFacts",
    "RequirementResult",
    "Review",
    "Verdict",
    "evaluate",
    "latest_reviews",
]

State = Literal["success", "pending", "failure"]
# (team as "org/slug", login) -> is the user an active member of the team?
Membership = Callable[[str, str], bool]
STATUS_LIMIT = 140  # GitHub refuses longer commit status descriptions


# Reviewers GitHub's branch protection listens to: those with write access to the repository.
TRUSTED = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})


@dataclass(frozen=True)
class Review:
    user: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit: str | None = None
    submitted_at: datetime | None = None
    association: str | None = None  # GitHub's author_association; None: not known

    @property
    def trusted(self) -> bool:
        """Whether an anyone-may-approve rule counts it (and its "changes requested" blocks)."""
        return self.association is None or self.association in TRUSTED


@dataclass(frozen=True)
class PullRequestFacts:
    author: str
    head_sha: str
    labels: tuple[str, ...] = ()
    reviews: tuple[Review, ...] = ()
    number: int | None = None
    title: str = ""


def latest_reviews(reviews: Iterable[Review]) -> dict[str, Review]:
    """Each reviewer's latest review that counts: comments and pending drafts are skipped."""
    latest: dict[str, Review] = {}
    ordered = sorted(
        enumerate(reviews), key=lambda ir: (ir[1].submitted_at is None, ir[1].submitted_at, ir[0])
    )
    for _, review in ordered:
        if review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[review.user.lower()] = review
    return latest


@dataclass
class RequirementResult:
    """One requirement of one applying rule (a rule with `from: owners` gives one per service)."""

    rule: str
    require: str
    needed: int
    eligible: str  # who may approve, for people
    approvers: list[str] = field(default_factory=list)
    request: Principals = field(default_factory=Principals)  # whom to ask for a review

    @property
    def met(self) -> bool:
        return len(self.approvers) >= self.needed

    @property
    def missing(self) -> int:
        return max(0, self.needed - len(self.approvers))

    def shortfall(self) -> str:
        who = f" from {self.eligible}" if self.eligible else ""
        return f"{self.rule}: {self.missing} more approval{'s' if self.missing != 1 else ''}{who}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "require": self.require,
            "needed": self.needed,
            "approvers": self.approvers,
            "met": self.met,
        }


@dataclass
class Verdict:
    state: State
    description: str
    requirements: list[RequirementResult] = field(default_factory=list)
    matches: list[RuleMatch] = field(default_factory=list)
    changes_requested: list[str] = field(default_factory=list)
    approved: list[str] = field(default_factory=list)  # approvals on the head commit
    stale: list[str] = field(default_factory=list)
    frozen: list[Freeze] = field(default_factory=list)
    emergency: bool = False

    @property
    def passed(self) -> bool:
        return self.state == "success"

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "description": self.description,
            "emergency": self.emergency,
            "requirements": [r.to_dict() for r in self.requirements],
            "changes_requested": self.changes_requested,
            "stale_approvals": self.stale,
            "freezes": [f.describe() for f in self.frozen],
        }


class _Eligibility:
    """Who may approve, with team lookups asked once per (team, user)."""

    def __init__(self, is_member: Membership, author: str, trusted: set[str]) -> None:
        self._is_member = is_member
        self._author = author.lower()
        self._trusted = trusted  # lower-case logins with write access
        self._memo: dict[tuple[str, str], bool] = {}

    def member(self, team: str, user: str) -> bool:
        key = (team, user.lower())
        if key not in self._memo:
            self._memo[key] = self._is_member(team, user)
        return self._memo[key]

    def approvers(self, approved: list[str], who: Principals | None) -> list[str]:
        """The approvers among `approved` that `who` admits, author excluded. `who` None: anyone
        with write access (as GitHub's branch protection counts)."""
        out = []
        for user in approved:
            low = user.lower()
            if low == self._author:
                continue
            if who is None:
                if low in self._trusted:
                    out.append(user)
            elif any(u.lower() == low for u in who.users) or any(
                self.member(t, user) for t in who.teams
            ):
                out.append(user)
        return out


def _union(a: Principals, b: Principals) -> Principals:
    return Principals(
        tuple(dict.fromkeys((*a.teams, *b.teams))), tuple(dict.fromkeys((*a.users, *b.users)))
    )


def _requirements(
    name: str,
    require: Require,
    services: list[str],
    owners: Mapping[str, tuple[str, ...]],
    approved: list[str],
    who: _Eligibility,
) -> list[RequirementResult]:
    def one(label: str, eligible: Principals) -> RequirementResult:
        return RequirementResult(
            label,
            require.describe(),
            require.approvals,
            eligible.describe(),
            who.approvers(approved, eligible if eligible else None),
            eligible,
        )

    if not require.from_owners or not services:
        # No changed service to take owners from: the rule still asks for its approvals.
        return [one(name, require.eligible)]
    return [
        one(
            f"{name} ({service})",
            _union(require.eligible, Principals.of_owners(owners.get(service, ()))),
        )
        for service in services
    ]


def evaluate(
    policy: Policy,
    impact: ChangeImpact,
    facts: PullRequestFacts,
    owners: Mapping[str, tuple[str, ...]],
    is_member: Membership,
    now: datetime,
) -> Verdict:
    """`owners`: each service's owners as the *base* declares them (a change must not choose
    who approves it); services the change adds: as the head declares them."""
    latest = latest_reviews(facts.reviews)
    trusted = {u for u, r in latest.items() if r.trusted}
    approved = [
        r.user for r in latest.values() if r.state == "APPROVED" and r.commit == facts.head_sha
    ]
    stale = [
        r.user for r in latest.values() if r.state == "APPROVED" and r.commit != facts.head_sha
    ]
    blocking = [r.user for r in latest.values() if r.state == "CHANGES_REQUESTED" and r.trusted]
    who = _Eligibility(is_member, facts.author, trusted)
    emergency = policy.emergency
    labels = {label.lower() for label in facts.labels}  # GitHub matches labels case-blind
    is_emergency = emergency is not None and emergency.label.lower() in labels
    verdict = Verdict("success", "", stale=sorted(stale), changes_requested=sorted(blocking))
    verdict.approved = approved
    verdict.emergency = is_emergency
    verdict.matches = policy.match(impact)
    if emergency is not None and is_emergency:
        verdict.requirements = _requirements(
            f"emergency ({emergency.label})",
            emergency.require,
            impact.services,
            owners,
            approved,
            who,
        )
    else:
        verdict.frozen = policy.active_freezes(impact, now)
        for match in verdict.matches:
            if match.applies:
                services = sorted({p.service for p in match.pairs} or set(impact.services))
                verdict.requirements += _requirements(
                    match.rule.name, match.rule.require, services, owners, approved, who
                )
    verdict.state, verdict.description = _state(verdict)
    return verdict


def _clip(text: str) -> str:
    return text if len(text) <= STATUS_LIMIT else text[: STATUS_LIMIT - 1] + "…"


def _state(verdict: Verdict) -> tuple[State, str]:
    if verdict.frozen:
        first = verdict.frozen[0]
        scope = ", ".join(first.environments) or "all environments"
        return "failure", _clip(f"change freeze on {scope} until {utc_iso(first.end)}")
    if verdict.changes_requested:
        names = ", ".join("@" + u for u in verdict.changes_requested)
        return "failure", _clip(f"changes requested by {names}")
    missing = [r for r in verdict.requirements if not r.met]
    if missing:
        return "pending", _clip("needs " + "; ".join(r.shortfall() for r in missing))
    if not verdict.requirements:
        return "success", "no approval rule applies to this change"
    approvers = ", ".join(
        "@" + n for n in sorted({u for r in verdict.requirements for u in r.approvers})
    )
    prefix = "emergency path: " if verdict.emergency else ""
    count = len({r.rule for r in verdict.requirements})
    return "success", _clip(
        f"{prefix}{count} rule{'s' if count != 1 else ''} met, approved by {approvers}"
    )
