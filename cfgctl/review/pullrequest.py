"""Pull requests as the approval workflow: plan, comment, route, gate, escalate.

    plan = make_plan(Path("."), base="origin/main", head="HEAD")   # cfgctl.review.plan, offline
    gh = GitHubRepo.connect(target)                  # any Forge; the CLI makes this one
    gate(gh, target.pr, Path("."), now=datetime.now(UTC))        # sets cfgctl/approval

The policy enforced is the one at the pull request's base: a change cannot weaken its own review
(a repository whose base has no policy.yaml yet uses the head's). The impact is the semantic diff
of the effective configuration from the merge base to the head, as `cfgctl diff BASE...HEAD`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cfgctl.repo.timespec import format_duration, utc_iso
from cfgctl.review.approval import PullRequestFacts, Verdict, evaluate
from cfgctl.review.forge.protocol import Forge, PullInfo
from cfgctl.review.plan import Plan, make_plan
from cfgctl.review.policy import Policy, Principals

__all__ = [
    "ESCALATION_MARKER",
    "STATUS_CONTEXT",
    "EscalationResult",
    "GateResult",
    "RouteResult",
    "escalate",
    "gate",
    "route",
]

log = logging.getLogger("cfgctl.pr")

ESCALATION_MARKER = "<!-- cfgctl:escalation -->"
STATUS_CONTEXT = "cfgctl/approval"
FOLLOW_UP_LABEL = "cfgctl-follow-up"


def _follow_up_marker(number: int) -> str:
    return f"<!-- cfgctl:follow-up pr={number} -->"


# --- gate ---------------------------------------------------------------------------------------


@dataclass
class GateResult:
    verdict: Verdict
    pull: PullInfo
    plan: Plan
    follow_up: str | None = None  # the follow-up issue URL, when this run opened or found it

    def to_dict(self) -> dict[str, Any]:
        out = {
            "pr": self.pull.number,
            "head": self.pull.head_sha,
            "context": STATUS_CONTEXT,
            **self.verdict.to_dict(),
            "rules": [m.to_dict() for m in self.plan.matches],
        }
        out["follow_up"] = self.follow_up
        return out


def plan_for_pull(
    start: Path, pull: PullInfo, base: str | None, head: str | None, *, use_cache: bool = True
) -> Plan:
    return make_plan(start, base or pull.base_sha, head or pull.head_sha, use_cache=use_cache)


@dataclass
class Judged:
    """A pull request read from GitHub, its plan, and the verdict on its reviews."""

    pull: PullInfo
    plan: Plan
    verdict: Verdict


def judge(
    gh: Forge,
    number: int,
    start: Path,
    *,
    now: datetime,
    base: str | None = None,
    head: str | None = None,
) -> Judged:
    pull = gh.pull(number)
    plan = plan_for_pull(start, pull, base, head)
    facts = PullRequestFacts(
        pull.author,
        pull.head_sha,
        pull.labels,
        tuple(gh.reviews(pull.number)),
        pull.number,
        pull.title,
    )
    policy = plan.policy or Policy()
    verdict = evaluate(policy, plan.impact, facts, plan.owners, gh.is_member, now)
    return Judged(pull, plan, verdict)


def gate(
    gh: Forge,
    number: int,
    start: Path,
    *,
    now: datetime,
    base: str | None = None,
    head: str | None = None,
    target_url: str | None = None,
    dry_run: bool = False,
) -> GateResult:
    """Judge the PR, set the `cfgctl/approval` status on its head, open the emergency follow-up."""
    judged = judge(gh, number, start, now=now, base=base, head=head)
    pull, plan, verdict = judged.pull, judged.plan, judged.verdict
    result = GateResult(verdict, pull, plan)
    if dry_run:
        return result
    gh.set_status(pull.head_sha, verdict.state, verdict.description, STATUS_CONTEXT, target_url)
    emergency = plan.policy.emergency if plan.policy is not None else None
    if verdict.emergency and verdict.passed and emergency is not None and emergency.follow_up:
        result.follow_up = _open_follow_up(gh, pull, plan)
    return result


def _open_follow_up(gh: Forge, pull: PullInfo, plan: Plan) -> str:
    marker = _follow_up_marker(pull.number)
    existing = gh.find_issue(marker)
    if existing is not None:
        return str(existing.html_url)
    skipped = [m for m in plan.matches if m.applies]
    lines = [
        marker,
        f"Pull request #{pull.number} ({pull.title}) took the emergency path: it was approved "
        "under the emergency rule instead of the normal policy.",
        "",
        "Review it after the fact. The normal rules it would have needed:",
        "",
    ]
    lines += [f"- **{m.rule.name}**: {m.rule.require.describe()} ({m.why})" for m in skipped] or [
        "- none"
    ]
    lines += ["", f"Pull request: {pull.html_url}"]
    issue = gh.create_issue(
        f"Follow-up: emergency change #{pull.number}: {pull.title}"[:250],
        "\n".join(lines),
        [FOLLOW_UP_LABEL],
    )
    log.info("opened follow-up issue for emergency PR #%d", pull.number)
    return str(issue.html_url)


# --- route --------------------------------------------------------------------------------------


@dataclass
class RouteResult:
    pr: int
    users: list[str] = field(default_factory=list)
    teams: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why someone was not asked

    def to_dict(self) -> dict[str, Any]:
        return {
            "pr": self.pr,
            "requested": {"users": self.users, "teams": [f"@{t}" for t in self.teams]},
            "skipped": self.skipped,
        }


def _wanted_reviewers(verdict: Verdict) -> Principals:
    teams: dict[str, None] = {}
    users: dict[str, None] = {}
    for req in verdict.requirements:
        if req.met:
            continue
        teams.update(dict.fromkeys(req.request.teams))
        users.update(dict.fromkeys(req.request.users))
    return Principals(tuple(teams), tuple(users))


def request_reviewers(
    gh: Forge, pull: PullInfo, wanted: Principals, approved: set[str], dry_run: bool
) -> RouteResult:
    """Ask `wanted` for a review, less the author, who approved and who is already asked."""
    result = RouteResult(pull.number)
    asked_users, asked_teams = gh.requested_reviewers(pull.number)
    for user in wanted.users:
        low = user.lower()
        if low == pull.author.lower():
            result.skipped.append(f"@{user}: the author")
        elif low in approved:
            result.skipped.append(f"@{user}: approved already")
        elif low in asked_users:
            result.skipped.append(f"@{user}: asked already")
        else:
            result.users.append(user)
    for team in wanted.teams:
        org, _, slug = team.partition("/")
        if org.lower() != gh.target.owner.lower():
            result.skipped.append(
                f"@{team}: GitHub asks only teams of {gh.target.owner} for reviews"
            )
        elif slug.lower() in asked_teams:
            result.skipped.append(f"@{team}: asked already")
        else:
            result.teams.append(team)
    if (result.users or result.teams) and not dry_run:
        gh.request_reviews(pull.number, result.users, [t.partition("/")[2] for t in result.teams])
    return result


def route(
    gh: Forge,
    number: int,
    start: Path,
    *,
    now: datetime,
    base: str | None = None,
    head: str | None = None,
    dry_run: bool = False,
) -> RouteResult:
    """Request reviews from the users and teams the unmet rules require."""
    judged = judge(gh, number, start, now=now, base=base, head=head)
    approved = {u.lower() for u in judged.verdict.approved}
    wanted = _wanted_reviewers(judged.verdict)
    return request_reviewers(gh, judged.pull, wanted, approved, dry_run)


# --- escalate -----------------------------------------------------------------------------------


@dataclass
class EscalationResult:
    escalated: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)  # pending, not yet past the deadline
    approved: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "escalated": self.escalated,
            "already_escalated": self.already,
            "within_deadline": self.waiting,
            "approved": self.approved,
        }


def escalate(
    gh: Forge, policy: Policy, *, now: datetime, dry_run: bool = False
) -> EscalationResult:
    """For every open PR still waiting for approval longer than `escalation.after` (since it
    was opened): one comment and review requests to the escalation reviewers, once."""
    result = EscalationResult()
    rule = policy.escalation
    if rule is None:
        return result
    for pull in gh.open_pulls():
        if pull.draft:
            continue
        if gh.latest_status(pull.head_sha, STATUS_CONTEXT) == "success":
            result.approved.append(pull.number)
            continue
        waited = now - pull.created_at
        if waited < rule.after:
            result.waiting.append(pull.number)
            continue
        if gh.find_comment(pull.number, ESCALATION_MARKER) is not None:
            result.already.append(pull.number)
            continue
        result.escalated.append(pull.number)
        if dry_run:
            continue
        request_reviewers(gh, pull, rule.to, set(), dry_run=False)
        who = rule.to.describe()
        gh.comment(
            pull.number,
            f"{ESCALATION_MARKER}\nThis change has waited for approval for "
            f"{format_duration(waited)} (the policy allows {format_duration(rule.after)}, "
            f"since {utc_iso(pull.created_at)}). Escalated to {who}: please review.",
        )
        log.info("escalated PR #%d after %s", pull.number, format_duration(waited))
    return result
