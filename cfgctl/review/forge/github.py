"""GitHub through github3.py: pull requests, reviews, review requests, comments, statuses, teams.

    target = GitHubTarget.resolve(repo=None, pr=None, url=None)   # options, else GitHub Actions
    gh = GitHubRepo.connect(target)
    pull = gh.pull(target.pr)

Every API failure becomes an `EnvError` (exit 3) that says what failed and how to fix it: a bad
token (401), missing permissions (403), the rate limit with the time it resets, not found (404),
and server errors (5xx), which are retried with exponential backoff first.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import github3
import requests
from github3 import exceptions as gh_errors
from urllib3.util.retry import Retry

from cfgctl.deadlineadapter import DeadlineAdapter, DeadlineTimeout
from cfgctl.errors import EnvError, InputError
from cfgctl.review.approval import Review
from cfgctl.review.forge.actions import read_event
from cfgctl.review.forge.protocol import PullInfo

__all__ = ["GitHubRepo", "GitHubTarget", "PullInfo"]

log = logging.getLogger("cfgctl.github")

RETRY_STATUSES = (500, 502, 503, 504)
PR_EVENTS = ("pull_request", "pull_request_target", "pull_request_review")


@dataclass(frozen=True)
class GitHubTarget:
    """Where to talk: the repository, the pull request (when one is meant), the server."""

    owner: str
    name: str
    pr: int | None = None
    url: str | None = None  # None: github.com; else the GitHub Enterprise server URL
    event: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @classmethod
    def resolve(
        cls, repo: str | None, pr: int | None, url: str | None, *, need_pr: bool = True
    ) -> GitHubTarget:
        """The options first, then GitHub Actions' GITHUB_REPOSITORY, GITHUB_EVENT_PATH and
        GITHUB_SERVER_URL."""
        event = read_event()
        repo = repo or os.environ.get("GITHUB_REPOSITORY")
        if not repo:
            raise InputError(
                "which GitHub repository? none given",
                hint="pass --github-repo OWNER/NAME (inside GitHub Actions, GITHUB_REPOSITORY "
                "gives it)",
            )
        owner, sep, name = repo.partition("/")
        if not sep or not owner or not name or "/" in name:
            raise InputError(
                f"--github-repo must be OWNER/NAME, not {repo!r}", hint="e.g. acme/config"
            )
        if pr is None:
            pr = _event_pr(event)
        if pr is None and need_pr:
            raise InputError(
                "which pull request? none given",
                hint="pass --pr N (inside GitHub Actions, the pull_request event gives it)",
            )
        if url is None:
            server = os.environ.get("GITHUB_SERVER_URL", "")
            url = server if server and server.rstrip("/") != "https://github.com" else None
        return cls(owner, name, pr, url.rstrip("/") if url else None, event)


def _event_pr(event: dict[str, Any]) -> int | None:
    pull = event.get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("number"), int):
        return int(pull["number"])
    issue = event.get("issue")
    if isinstance(issue, dict) and "pull_request" in issue and isinstance(issue.get("number"), int):
        return int(issue["number"])
    return None


def _token() -> str:
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    if not token:
        raise EnvError(
            "no GitHub token: GITHUB_TOKEN is not set",
            hint="export GITHUB_TOKEN (in Actions: env: GITHUB_TOKEN: ${{ github.token }}) with "
            "pull-requests, issues and statuses write permissions",
        )
    return token


def _seconds(name: str, default: float, *, positive: bool) -> float:
    """A number of seconds from the environment; `default` when unset or malformed (or, with
    `positive`, not above zero)."""
    try:
        seconds = float(os.environ.get(name, default))
    except ValueError:
        return default
    return default if positive and seconds <= 0 else seconds


def _deadline() -> float:
    """Seconds a whole call may take, retries included (CFGCTL_GITHUB_DEADLINE, default 60)."""
    return _seconds("CFGCTL_GITHUB_DEADLINE", 60.0, positive=True)


def _backoff() -> float:
    return _seconds("CFGCTL_GITHUB_BACKOFF", 0.5, positive=False)


def _reset_text(headers: Any) -> str:
    raw = headers.get("X-RateLimit-Reset") if headers is not None else None
    try:
        reset = datetime.fromtimestamp(int(str(raw)), UTC)
    except (TypeError, ValueError, OverflowError):
        return "GitHub did not say when it resets"
    wait = max(0, int((reset - datetime.now(UTC)).total_seconds()))
    return f"it resets at {reset.strftime('%H:%M:%S')} UTC (in {wait // 60} min {wait % 60} s)"


def _transport_reason(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return "not a valid URL"
    if isinstance(exc, DeadlineTimeout):
        return str(exc)  # no complete answer within N s
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed (refused, or the name does not resolve)"
    return type(exc).__name__


def _api_error(exc: gh_errors.GitHubError, doing: str, where: str) -> EnvError:
    status = getattr(exc, "code", None)
    message = getattr(exc, "msg", None) or str(exc)
    headers = getattr(getattr(exc, "response", None), "headers", None)
    if status == 401:
        return EnvError(
            f"GitHub refused the token while {doing} (401 {message})",
            hint="GITHUB_TOKEN is wrong or expired: set a valid token",
        )
    if status in (403, 429) and headers is not None and headers.get("X-RateLimit-Remaining") == "0":
        return EnvError(
            f"GitHub's API rate limit is used up while {doing}; {_reset_text(headers)}",
            hint="wait for the reset, or use a token with a higher limit (a GitHub App token)",
        )
    if status in (403, 429):
        return EnvError(
            f"GitHub refused {doing} ({status} {message})",
            hint="the token needs pull-requests: write, issues: write, statuses: write and, for "
            "team rules, members: read (read:org)",
        )
    if status == 404:
        return EnvError(
            f"not found on GitHub while {doing}: {where} (404)",
            hint="check --github-repo, --pr and that the token can see the repository",
        )
    if status == 422:
        details = "; ".join(
            str(e.get("message") or e) for e in getattr(exc, "errors", []) if isinstance(e, dict)
        )
        return EnvError(
            f"GitHub did not accept {doing} (422 {message}{': ' + details if details else ''})",
            hint="check the users and teams named in policy.yaml exist and can review",
        )
    if status is not None and status >= 500:
        return EnvError(
            f"GitHub failed while {doing} ({status} {message}), also after retries",
            hint="GitHub is having trouble: run again later (see githubstatus.com)",
        )
    return EnvError(f"GitHub error while {doing}: {message}", hint="run again with -v")


class GitHubRepo:
    """One repository on GitHub, through an authenticated github3.py session."""

    def __init__(self, gh: github3.GitHub, target: GitHubTarget) -> None:
        self.gh = gh
        self.target = target
        self._repo: Any = None
        self._orgs: dict[str, Any] = {}
        self._teams: dict[str, Any] = {}
        self._pulls: dict[int, Any] = {}  # read once per run: reviews, requests use it too

    @classmethod
    def connect(cls, target: GitHubTarget) -> GitHubRepo:
        token = _token()
        gh = (
            github3.GitHubEnterprise(target.url, token=token)
            if target.url
            else github3.GitHub(token=token)
        )
        retry = Retry(
            total=4,
            connect=3,
            read=2,
            status=3,
            backoff_factor=_backoff(),
            status_forcelist=RETRY_STATUSES,
            # Idempotent verbs only: a POST retried after a 502 may create a second comment.
            allowed_methods=Retry.DEFAULT_ALLOWED_METHODS,
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        # A total deadline per call (retries and their back-off included), not only per read:
        # a server that drips its answer a byte at a time is cut off (cfgctl.deadlineadapter).
        adapter = DeadlineAdapter(total=_deadline(), max_retries=retry)
        gh.session.mount("https://", adapter)
        gh.session.mount("http://", adapter)
        return cls(gh, target)

    @contextmanager
    def _api(self, doing: str, where: str = "") -> Iterator[None]:
        try:
            yield
        except gh_errors.GitHubError as exc:
            raise _api_error(exc, doing, where or self.target.full_name) from None
        except (gh_errors.TransportError, requests.RequestException) as exc:
            # github3.py wraps connection failures (refused, DNS, a malformed URL) in its own
            # TransportError; the cause says which.
            cause = getattr(exc, "exception", None) or exc
            raise EnvError(
                f"cannot reach GitHub at {self.server} while {doing}: {_transport_reason(cause)}",
                hint="check the network and --github-url (a GitHub Enterprise server's URL, "
                "e.g. https://github.acme.com)",
            ) from None

    @property
    def server(self) -> str:
        return self.target.url or "https://api.github.com"

    @property
    def repo(self) -> Any:
        if self._repo is None:
            with self._api("reading the repository"):
                self._repo = self.gh.repository(self.target.owner, self.target.name)
        return self._repo

    # --- pull requests ------------------------------------------------------------------------

    def _pull(self, number: int) -> Any:
        if number not in self._pulls:
            where = f"{self.target.full_name}#{number}"
            with self._api(f"reading pull request #{number}", where):
                self._pulls[number] = self.repo.pull_request(number)
        return self._pulls[number]

    def pull(self, number: int) -> PullInfo:
        return _pull_info(self._pull(number))

    def open_pulls(self) -> list[PullInfo]:
        with self._api("listing open pull requests"):
            pulls = list(self.repo.pull_requests(state="open"))
        return [_pull_info(p) for p in pulls]

    def reviews(self, number: int) -> list[Review]:
        pull = self._pull(number)
        with self._api(f"reading the reviews of #{number}"):
            return [
                Review(r.user.login, r.state, r.commit_id, r.submitted_at, r.author_association)
                for r in pull.reviews()
            ]

    def requested_reviewers(self, number: int) -> tuple[set[str], set[str]]:
        """The users (logins) and teams (slugs) whose review is requested."""
        pull = self._pull(number)
        with self._api(f"reading the review requests of #{number}"):
            requested = pull.review_requests()
        return (
            {u.login.lower() for u in requested.users},
            {t.slug.lower() for t in requested.teams},
        )

    def request_reviews(self, number: int, users: list[str], teams: list[str]) -> None:
        pull = self._pull(number)
        with self._api(f"requesting reviews on #{number}"):
            pull.create_review_requests(reviewers=users, team_reviewers=teams)

    # --- teams --------------------------------------------------------------------------------

    def is_member(self, team: str, user: str) -> bool:
        """Is `user` an active member of `team` ("org/slug")? Read from the teams API."""
        org, _, slug = team.partition("/")
        key = team.lower()
        if key not in self._teams:
            with self._api(f"reading team @{team}", f"team @{team}"):
                if org not in self._orgs:
                    self._orgs[org] = self.gh.organization(org)
                self._teams[key] = self._orgs[org].team_by_name(slug)
        with self._api(f"reading @{user}'s membership of @{team}", team):
            try:
                membership = self._teams[key].membership_for(user)
            except gh_errors.NotFoundError:
                return False  # not a member: GitHub answers 404
        return bool(membership) and membership.get("state") == "active"

    # --- comments, statuses, issues -----------------------------------------------------------

    def find_comment(self, number: int, marker: str) -> Any | None:
        with self._api(f"reading the comments of #{number}"):
            for comment in self.repo.issue(number).comments():
                if marker in (comment.body or ""):
                    return comment
        return None

    def upsert_comment(self, number: int, marker: str, body: str) -> tuple[str, str]:
        """Create the comment holding `marker`, or edit it in place. Returns (what, url)."""
        existing = self.find_comment(number, marker)
        if existing is None:
            with self._api(f"commenting on #{number}"):
                created = self.repo.issue(number).create_comment(body)
            return "created", str(created.html_url)
        if existing.body == body:
            return "unchanged", str(existing.html_url)
        with self._api(f"updating the comment on #{number}"):
            existing.edit(body)
        return "updated", str(existing.html_url)

    def comment(self, number: int, body: str) -> None:
        with self._api(f"commenting on #{number}"):
            self.repo.issue(number).create_comment(body)

    def set_status(
        self, sha: str, state: str, description: str, context: str, target_url: str | None
    ) -> None:
        with self._api(f"setting the {context} status of {sha[:12]}"):
            self.repo.create_status(
                sha, state, target_url=target_url, description=description, context=context
            )

    def latest_status(self, sha: str, context: str) -> str | None:
        """The state of the newest status named `context` on `sha`, None when there is none."""
        with self._api(f"reading the statuses of {sha[:12]}"):
            for status in self.repo.statuses(sha):  # newest first, as GitHub lists them
                if status.context == context:
                    return str(status.state)
        return None

    def find_issue(self, marker: str) -> Any | None:
        with self._api("searching the issues"):
            for issue in self.repo.issues(state="all"):
                if marker in (issue.body or ""):
                    return issue
        return None

    def create_issue(self, title: str, body: str, labels: list[str]) -> Any:
        with self._api("opening an issue"):
            return self.repo.create_issue(title, body=body, labels=labels or None)


def _pull_info(pull: Any) -> PullInfo:
    raw = pull.as_dict()
    labels = tuple(str(lb.get("name")) for lb in raw.get("labels") or [] if isinstance(lb, dict))
    return PullInfo(
        number=int(pull.number),
        title=str(pull.title or ""),
        author=str(pull.user.login),
        head_sha=str(pull.head.sha),
        base_sha=str(pull.base.sha),
        base_ref=str(pull.base.ref),
        labels=labels,
        created_at=pull.created_at,
        draft=bool(raw.get("draft")),
        state=str(pull.state),
        html_url=str(pull.html_url),
    )
