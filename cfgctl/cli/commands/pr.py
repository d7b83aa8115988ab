"""`cfgctl pr plan|comment|route|gate|escalate`: pull requests as the approval workflow."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import MarkdownFormat, TextOrJson
from cfgctl.cli.output import err, out, print_json
from cfgctl.cli.reporters import REPORTER_BY_NAME, emit
from cfgctl.cli.state import STATE

if TYPE_CHECKING:
    from cfgctl.review.forge.github import GitHubRepo, GitHubTarget
    from cfgctl.review.plan import Plan
    from cfgctl.review.pullrequest import EscalationResult, GateResult, RouteResult

__all__ = ["app"]

app = typer.Typer(rich_markup_mode=None)
pr_app = typer.Typer(
    help="Pull requests as the approval workflow: plan, comment, route, gate, escalate.\n\n"
    "The rules are in policy.yaml (see `cfgctl schema show --builtin policy`). `plan` works "
    "offline; the others talk to GitHub through its API with the token in GITHUB_TOKEN. Inside "
    "GitHub Actions the repository, the pull request and its commits come from the event, so "
    "no option is needed; elsewhere pass --github-repo and --pr (and --github-url for GitHub "
    "Enterprise). API failures exit 3 with what to fix.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(pr_app, name="pr")


RepoOpt = Annotated[
    str | None,
    typer.Option(
        "--github-repo",
        metavar="OWNER/NAME",
        help="The GitHub repository (default: $GITHUB_REPOSITORY).",
    ),
]
PrOpt = Annotated[
    int | None,
    typer.Option(
        "--pr", metavar="N", min=1, help="The pull request (default: from $GITHUB_EVENT_PATH)."
    ),
]
UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--github-url",
        metavar="URL",
        help="A GitHub Enterprise server, e.g. https://github.acme.com (default: github.com, or "
        "$GITHUB_SERVER_URL in Actions).",
    ),
]
BaseOpt = Annotated[
    str | None,
    typer.Option(
        "--base", metavar="REV", help="The base revision (default: the pull request's base)."
    ),
]
HeadOpt = Annotated[
    str | None,
    typer.Option(
        "--head", metavar="REV", help="The head revision (default: the pull request's head)."
    ),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Compute and print; change nothing on GitHub.")
]
FormatOpt = Annotated[TextOrJson, typer.Option("--format", "-f", help="text or json.")]


def _now() -> datetime:
    return datetime.now(UTC)


def _connect(
    repo: str | None, pr: int | None, url: str | None, need_pr: bool = True
) -> tuple[GitHubTarget, GitHubRepo]:
    from cfgctl.repo.snapshot import find_root
    from cfgctl.review.forge.github import GitHubRepo, GitHubTarget

    find_root(STATE.start())  # outside a repository: exit 2 before any network call
    target = GitHubTarget.resolve(repo, pr, url, need_pr=need_pr)
    return target, GitHubRepo.connect(target)


PlanBaseOpt = Annotated[
    str | None,
    typer.Option(
        "--base",
        metavar="REV",
        help="The branch or commit the change merges into (default: the Actions event's "
        "base, else origin/main or main).",
    ),
]
PlanHeadOpt = Annotated[
    str | None,
    typer.Option(
        "--head", metavar="REV", help="The change (default: the event's head, else HEAD)."
    ),
]
PlanFormatOpt = Annotated[
    MarkdownFormat, typer.Option("--format", "-f", help="text, markdown or json.")
]
TargetUrlOpt = Annotated[
    str | None,
    typer.Option("--target-url", metavar="URL", help="Link of the status (e.g. the run)."),
]


@pr_app.command("plan")
def plan_cmd(
    base: PlanBaseOpt = None,
    head: PlanHeadOpt = None,
    fmt: PlanFormatOpt = MarkdownFormat.text,
) -> None:
    """Show what a change means and which approval rules it triggers, offline.

    The impact is the semantic diff of the effective configuration from the merge base of BASE
    and HEAD to HEAD, as a pull request sees it: the (service, env) pairs that change and their
    changed keys, inherited effects included, so a rule on prod fires for an edit of
    config/base/_defaults.yaml. Risk flags: prod (a protected environment), secrets, schema,
    policy. Rules come from policy.yaml at BASE (a change cannot weaken its own review).

    JSON: {"base", "head", "impact": [{"service", "env", "status", "keys"}], "files",
    "rules": [{"name", "applies", "require", "why"}], "risk": [...], "policy"}.

    Example: cfgctl pr plan --base main --head feature --format json
    """
    from cfgctl.review.forge.actions import add_summary
    from cfgctl.review.plan import make_plan
    from cfgctl.review.revisions import change_range

    plan = make_plan(
        STATE.start(), *change_range(STATE.start(), base, head), use_cache=STATE.use_cache
    )
    plan.permissions_added = permissions_added(plan)
    add_summary(plan.markdown())
    REPORTER_BY_NAME[fmt.value]().plan(plan)


def permissions_added(plan: Plan) -> list[str]:
    """What the plan's change to rbac.yaml grants that its base did not (the server's access
    rules: cfgctl.server.rbacdiff); none when rbac.yaml did not change."""
    from cfgctl.repo.snapshot import Snapshot
    from cfgctl.server.rbacdiff import added_by_change

    start = STATE.start()
    base = Snapshot.at(start, plan.base, use_cache=STATE.use_cache)
    head = Snapshot.at(start, plan.head, use_cache=STATE.use_cache, session=base.session)
    return [str(p) for p in added_by_change(base, head)]


@pr_app.command("comment")
def comment_cmd(
    github_repo: RepoOpt = None,
    pr: PrOpt = None,
    github_url: UrlOpt = None,
    base: BaseOpt = None,
    head: HeadOpt = None,
    dry_run: DryRunOpt = False,
) -> None:
    """Post the plan and the diff of the effective configuration on the pull request, as one
    sticky comment: the first run creates it, later runs edit it in place (it is found by a
    hidden <!-- cfgctl:plan --> marker). Secret values are never in it.

    Example: GITHUB_TOKEN=... cfgctl pr comment --github-repo acme/config --pr 42
    """
    from cfgctl.review.forge.actions import set_outputs
    from cfgctl.review.plan import PLAN_MARKER, comment_body
    from cfgctl.review.pullrequest import plan_for_pull

    target, gh = _connect(github_repo, pr, github_url)
    assert target.pr is not None
    pull = gh.pull(target.pr)
    plan = plan_for_pull(STATE.start(), pull, base, head, use_cache=STATE.use_cache)
    plan.permissions_added = permissions_added(plan)
    body = comment_body(plan)
    if dry_run:
        sys.stdout.write(body)
        return
    what, url = gh.upsert_comment(pull.number, PLAN_MARKER, body)
    set_outputs({"comment-url": url, "risk": ",".join(plan.impact.risk)})
    out.print(f"{what} the plan comment on #{pull.number}: {url}")


@pr_app.command("route")
def route_cmd(
    github_repo: RepoOpt = None,
    pr: PrOpt = None,
    github_url: UrlOpt = None,
    base: BaseOpt = None,
    head: HeadOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Request reviews from the users and teams that the applying, not yet met rules require
    and that are neither requested already nor approved, never the author. Teams must belong
    to the repository's organization (GitHub's rule).

    Example: cfgctl pr route --github-repo acme/config --pr 42 --dry-run
    """
    from cfgctl.review.pullrequest import route

    target, gh = _connect(github_repo, pr, github_url)
    assert target.pr is not None
    result = route(gh, target.pr, STATE.start(), now=_now(), base=base, head=head, dry_run=dry_run)
    emit(fmt.value, result.to_dict(), lambda: _print_route(result, dry_run))


def _print_route(result: RouteResult, dry_run: bool) -> None:
    asked = [f"@{u}" for u in result.users] + [f"@{t}" for t in result.teams]
    verb = "would request" if dry_run else "requested"
    out.print(f"#{result.pr}: {verb} " + (", ".join(asked) if asked else "no one"))
    for line in result.skipped:
        out.print(f"  not asked: {line}")


@pr_app.command("gate")
def gate_cmd(
    github_repo: RepoOpt = None,
    pr: PrOpt = None,
    github_url: UrlOpt = None,
    base: BaseOpt = None,
    head: HeadOpt = None,
    target_url: TargetUrlOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Judge the pull request's reviews against policy.yaml and set the commit status
    `cfgctl/approval` on its head: success, pending (approvals missing) or failure (a change
    freeze, or changes requested), with a description of what is missing. Exits 0 when the
    policy is satisfied, 1 otherwise.

    How reviews count: each reviewer's latest review; only approvals on the current head
    commit (a push makes earlier approvals stale); never the author's; team membership read
    from the teams API. A PR with the emergency label needs only the emergency requirement
    (freezes do not apply) and, once it passes, a follow-up issue is opened (once).

    Example: cfgctl pr gate --github-repo acme/config --pr 42
    """
    from cfgctl.review.forge.actions import add_summary, set_outputs
    from cfgctl.review.pullrequest import gate

    target, gh = _connect(github_repo, pr, github_url)
    assert target.pr is not None
    result = gate(
        gh,
        target.pr,
        STATE.start(),
        now=_now(),
        base=base,
        head=head,
        target_url=target_url,
        dry_run=dry_run,
    )
    verdict = result.verdict
    set_outputs({"state": verdict.state, "description": verdict.description})
    add_summary(f"### cfgctl/approval: {verdict.state}\n\n{verdict.description}")
    emit(fmt.value, result.to_dict(), lambda: _print_gate(result))
    raise typer.Exit(0 if verdict.passed else 1)


def _print_gate(result: GateResult) -> None:
    verdict = result.verdict
    style = {"success": "green", "pending": "yellow", "failure": "red"}[verdict.state]
    out.print(f"cfgctl/approval: {verdict.state}: {verdict.description}", style=style)
    for req in verdict.requirements:
        mark = "met" if req.met else "missing"
        who = ", ".join("@" + a for a in req.approvers) or "none yet"
        out.print(f"  {req.rule}: {mark}: {req.needed} needed, approved by {who}")
    if verdict.stale:
        out.print("  stale approvals (before the last push): " + ", ".join(verdict.stale))
    if result.follow_up:
        out.print(f"  follow-up issue: {result.follow_up}")


@pr_app.command("escalate")
def escalate_cmd(
    github_repo: RepoOpt = None,
    github_url: UrlOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """For every open pull request still waiting for approval (its cfgctl/approval status is
    not success) longer than `escalation.after` of policy.yaml since it was opened: comment
    once and request reviews from `escalation.to`. Idempotent: a PR is escalated once (a hidden
    <!-- cfgctl:escalation --> marker in the comment). Meant for a scheduled workflow.

    Example: cfgctl pr escalate --github-repo acme/config --dry-run
    """
    from cfgctl.review.policyfile import policy_of
    from cfgctl.review.pullrequest import escalate

    policy = policy_of(STATE.snapshot())
    if policy is None or policy.escalation is None:
        err.print("policy.yaml has no `escalation`: nothing to do")
        if fmt is TextOrJson.json:
            print_json({"escalated": [], "already_escalated": [], "within_deadline": []})
        return
    _, gh = _connect(github_repo, None, github_url, need_pr=False)
    result = escalate(gh, policy, now=_now(), dry_run=dry_run)
    from cfgctl.review.forge.actions import set_outputs

    set_outputs({"escalated": ",".join(str(n) for n in result.escalated)})
    emit(fmt.value, result.to_dict(), lambda: _print_escalation(result, dry_run))


def _print_escalation(result: EscalationResult, dry_run: bool) -> None:
    verb = "would escalate" if dry_run else "escalated"
    shown = ", ".join(f"#{n}" for n in result.escalated) or "none"
    out.print(f"{verb}: {shown}")
    if result.already:
        out.print("escalated before: " + ", ".join(f"#{n}" for n in result.already))
    if result.waiting:
        out.print("waiting, within the deadline: " + ", ".join(f"#{n}" for n in result.waiting))
