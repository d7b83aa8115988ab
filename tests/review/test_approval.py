"""The approval gate's judgement on a real change of the example repository."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cfgctl.review.approval import PullRequestFacts, Review, Verdict, evaluate, latest_reviews
from cfgctl.review.plan import Plan, make_plan
from cfgctl.review.policy import Policy, Require, Rule, When
from tests.support.gitrepo import ConfigRepo
from tests.support.policies import FULL_POLICY as POLICY

HEAD, OLD = "b" * 40, "a" * 40
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TEAMS = {
    "acme/sre": {"sam", "sue", "author"},
    "acme/payments": {"pat"},
    "acme/search": {"sid"},
    "acme/dba": {"dan"},
    "acme/sre-leads": {"lea"},
}


def member(team: str, user: str) -> bool:
    return user in TEAMS.get(team, set())


@pytest.fixture
def prod_plan(example_repo: ConfigRepo) -> Plan:
    """A base `_defaults.yaml` edit: reaches prod and prod-eu of both services."""
    example_repo.commit({"policy.yaml": POLICY}, "policy")
    text = example_repo.read("config/base/_defaults.yaml").replace(
        "timeout_seconds: 30", "timeout_seconds: 45"
    )
    example_repo.commit({"config/base/_defaults.yaml": text}, "change")
    return make_plan(example_repo.workdir, "HEAD~1", "HEAD")


def approve(user: str, commit: str = HEAD, minutes: int = 0, state: str = "APPROVED") -> Review:
    return Review(user, state, commit, NOW - timedelta(hours=1) + timedelta(minutes=minutes))


def judge(
    plan: Plan, *reviews: Review, labels: tuple[str, ...] = (), now: datetime = NOW
) -> Verdict:
    facts = PullRequestFacts("author", HEAD, labels, reviews, 7, "change")
    assert plan.policy is not None
    return evaluate(plan.policy, plan.impact, facts, plan.owners, member, now)


def test_a_base_change_reaching_prod_needs_two_sre_and_the_owners(prod_plan: Plan) -> None:
    verdict = judge(prod_plan)
    assert verdict.state == "pending"
    assert "prod-needs-sre: 2 more approvals from @acme/sre" in verdict.description
    rules = {r.rule for r in verdict.requirements}
    assert rules == {"prod-needs-sre", "owners-approve (payments)", "owners-approve (search)"}

    verdict = judge(prod_plan, approve("sam"), approve("sue"), approve("pat"), approve("sid"))
    assert verdict.state == "success", verdict.description
    assert "approved by @pat, @sam, @sid, @sue" in verdict.description


def test_one_sre_is_not_enough(prod_plan: Plan) -> None:
    verdict = judge(prod_plan, approve("sam"), approve("pat"), approve("sid"))
    assert verdict.state == "pending"
    assert verdict.description == "needs prod-needs-sre: 1 more approval from @acme/sre"


def test_approvals_before_a_push_are_stale(prod_plan: Plan) -> None:
    verdict = judge(prod_plan, approve("sam", OLD), approve("sue"), approve("pat"), approve("sid"))
    assert verdict.state == "pending"
    assert verdict.stale == ["sam"]


def test_the_authors_own_approval_does_not_count(prod_plan: Plan) -> None:
    """`author` is in @acme/sre, yet cannot be one of the two."""
    verdict = judge(prod_plan, approve("author"), approve("sam"), approve("pat"), approve("sid"))
    assert verdict.state == "pending"
    sre = next(r for r in verdict.requirements if r.rule == "prod-needs-sre")
    assert sre.approvers == ["sam"]


def test_non_members_do_not_count_for_a_team_rule(prod_plan: Plan) -> None:
    verdict = judge(prod_plan, approve("pat"), approve("sid"), approve("dan"), approve("lea"))
    sre = next(r for r in verdict.requirements if r.rule == "prod-needs-sre")
    assert sre.approvers == [] and verdict.state == "pending"


def test_the_latest_review_counts(prod_plan: Plan) -> None:
    reviews = (
        approve("sam", minutes=0),
        approve("sam", minutes=5, state="CHANGES_REQUESTED"),
        approve("sue"),
        approve("pat"),
        approve("sid"),
    )
    verdict = judge(prod_plan, *reviews)
    assert verdict.state == "failure"
    assert verdict.description == "changes requested by @sam"
    # a later approval lifts it; a comment after an approval does not undo it
    verdict = judge(
        prod_plan,
        *reviews,
        approve("sam", minutes=9),
        approve("sam", minutes=10, state="COMMENTED"),
    )
    assert verdict.state == "success"
    # a dismissal removes the approval
    verdict = judge(
        prod_plan,
        *reviews,
        approve("sam", minutes=9),
        approve("sam", minutes=11, state="DISMISSED"),
    )
    assert verdict.state == "pending"


def test_latest_reviews_orders_by_time_not_by_list() -> None:
    later = Review("x", "APPROVED", HEAD, NOW)
    earlier = Review("x", "CHANGES_REQUESTED", HEAD, NOW - timedelta(hours=1))
    assert latest_reviews([later, earlier])["x"].state == "APPROVED"


def test_a_freeze_fails_the_gate_even_with_every_approval(prod_plan: Plan) -> None:
    frozen = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
    everyone = (approve("sam"), approve("sue"), approve("pat"), approve("sid"))
    verdict = judge(prod_plan, *everyone, now=frozen)
    assert verdict.state == "failure"
    assert "freeze" in verdict.description and "2027-01-04T00:00:00Z" in verdict.description
    assert judge(prod_plan, *everyone, now=datetime(2027, 1, 4, tzinfo=UTC)).state == "success"


def test_the_emergency_label_needs_one_sre_and_skips_the_freeze(prod_plan: Plan) -> None:
    frozen = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
    verdict = judge(prod_plan, labels=("emergency",), now=frozen)
    assert verdict.state == "pending" and verdict.emergency
    assert verdict.description == "needs emergency (emergency): 1 more approval from @acme/sre"
    verdict = judge(prod_plan, approve("sue"), labels=("emergency",), now=frozen)
    assert verdict.state == "success"
    assert verdict.description.startswith("emergency path:")


def test_status_descriptions_fit_githubs_limit(prod_plan: Plan) -> None:
    for verdict in (judge(prod_plan), judge(prod_plan, approve("sam"))):
        assert len(verdict.description) <= 140


def test_a_change_cannot_choose_the_owners_who_approve_it(example_repo: ConfigRepo) -> None:
    example_repo.commit({"policy.yaml": POLICY}, "policy")
    manifest = example_repo.read("cfgctl.yaml").replace('["@acme/payments"]', '["@buddy"]')
    example_repo.commit(
        {"cfgctl.yaml": manifest, "config/staging/payments.yaml": "replicas: 2\n"}, "sneaky"
    )
    plan = make_plan(example_repo.workdir, "HEAD~1", "HEAD")
    verdict = judge(plan, approve("buddy"))
    assert verdict.state == "pending"
    assert "owners-approve (payments): 1 more approval from @acme/payments" in verdict.description


def test_owners_rules_without_a_changed_service_still_need_approvals(
    example_repo: ConfigRepo,
) -> None:
    rules = (
        "version: 1\nrules:\n  - name: guard-policy\n    when: {paths: [policy.yaml]}\n"
        "    require: {approvals: 2, from: owners}\n"
    )
    example_repo.commit({"policy.yaml": rules}, "policy")
    example_repo.commit({"policy.yaml": rules + "# touched\n"}, "touch the policy only")
    plan = make_plan(example_repo.workdir, "HEAD~1", "HEAD")
    assert plan.impact.pairs == []
    assert judge(plan).state == "pending"
    assert judge(plan, approve("sam"), approve("pat")).state == "success"


def test_reviewers_without_write_access_neither_approve_nor_block(prod_plan: Plan) -> None:
    outsider = Review("drive-by", "APPROVED", HEAD, NOW, "NONE")
    sam = Review("sam", "APPROVED", HEAD, NOW, "MEMBER")
    blocker = Review("troll", "CHANGES_REQUESTED", HEAD, NOW, "CONTRIBUTOR")
    facts = PullRequestFacts("author", HEAD, (), (outsider, blocker), 7, "change")
    policy = Policy(rules=[Rule("any-review", When(), Require())])  # approvals: 1, from anyone
    verdict = evaluate(policy, prod_plan.impact, facts, prod_plan.owners, member, NOW)
    assert verdict.state == "pending" and verdict.changes_requested == []
    facts = PullRequestFacts("author", HEAD, (), (outsider, blocker, sam), 7, "change")
    assert (
        evaluate(policy, prod_plan.impact, facts, prod_plan.owners, member, NOW).state == "success"
    )
