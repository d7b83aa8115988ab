"""A GitHub REST API emulator on 127.0.0.1 that github3.py talks to over HTTP as to GitHub.

Every response body is a recorded GitHub response from ``tests/fixtures/github/rest/`` (its
README.md says which github3.py class reads which file), copied, with the values that identify
things (ids, numbers, logins, repository names, SHAs, timestamps, texts) replaced from the
emulator's state and every other field kept: github3.py 4.0.1 reads most fields with
``json["key"]`` and raises ``IncompleteResponse`` on a missing one.

    with GitHubEmulator() as emu:
        emu.add_team("acme", "reviewers", ["bob"])
        number = emu.open_pull("acme/cfg", author="alice", head_sha="a" * 40, base_sha="b" * 40)
        gh = github3.GitHubEnterprise(emu.url, token=emu.token)
        pr = gh.repository("acme", "cfg").pull_request(number)
        pr.create_review_requests(reviewers=["bob"])
        assert emu.requested_reviewers("acme/cfg", number) == {"users": ["bob"], "teams": []}
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import itertools
import json
import logging
import math
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

__all__ = ["GitHubEmulator"]

Json = Any
JsonDict = dict[str, Any]

LOG = logging.getLogger(__name__)
RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "github" / "rest"
RECORDED_API = "https://api.github.com"
API_PREFIX = "/api/v3"
BOT_LOGIN = "cfgctl-bot"
RATE_LIMIT = 5000
STATUS_STATES = ("error", "failure", "pending", "success")
REVIEW_STATES = ("APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING")
# GitHub's colour for a label created by adding it to an issue (issues_labels_add.json).
NEW_LABEL_COLOR = "ededed"
ERROR_RECORDINGS = {
    401: "error_401_bad_credentials",
    403: "error_403_forbidden",
    404: "error_404_not_found",
    422: "error_422_validation_failed",
}


# -- recordings and the rewriting of their values ------------------------------------------------


@functools.cache
def _recording(name: str) -> JsonDict:
    data: JsonDict = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _map_strings(tree: Json, change: Callable[[str], str]) -> Json:
    """Copy ``tree`` deeply, passing every string value through ``change``."""
    if isinstance(tree, str):
        return change(tree)
    if isinstance(tree, list):
        return [_map_strings(item, change) for item in tree]
    if isinstance(tree, dict):
        return {key: _map_strings(value, change) for key, value in tree.items()}
    return tree


def _strings(tree: Json) -> Iterator[str]:
    if isinstance(tree, str):
        yield tree
    elif isinstance(tree, list):
        for item in tree:
            yield from _strings(item)
    elif isinstance(tree, dict):
        for value in tree.values():
            yield from _strings(value)


def _replace_name(tree: Json, old: str, new: str) -> Json:
    """Replace ``old`` where it stands whole: a login, ``owner/repo``, a slug or a SHA in a URL."""
    pattern = re.compile(rf"(?<![\w.-]){re.escape(old)}(?![\w-])")
    return _map_strings(tree, lambda text: pattern.sub(lambda _: new, text))


def _replace_number(tree: Json, prefixes: Sequence[str], old: object, new: object) -> Json:
    """Replace the number ``old`` after any of ``prefixes`` (``/pulls/``, ``#issuecomment-``)."""
    pattern = re.compile(f"({'|'.join(map(re.escape, prefixes))}){old}(?!\\d)")
    return _map_strings(tree, lambda text: pattern.sub(lambda m: f"{m[1]}{new}", text))


_REPO_IN_URL = re.compile(r"/repos/([^/{?#\s]+/[^/{?#\s]+)")


def _move_to_repo(tree: Json, full_name: str) -> Json:
    """Point every ``owner/repo`` of a recording (forks and scratch repos too) at ``full_name``."""
    names = {name for text in _strings(tree) for name in _REPO_IN_URL.findall(text)}
    for name in names:
        tree = _replace_name(tree, name, full_name)
    return tree


def _set_present(target: JsonDict, **values: Json) -> None:
    """Substitute values of keys the recording has; a key it lacks stays absent."""
    for key, value in values.items():
        if key in target:
            target[key] = value


def _timestamp(value: str | datetime | None = None) -> str:
    """ISO 8601 as GitHub writes it: ``2024-05-01T12:00:00Z``; now when ``value`` is None."""
    if value is None:
        value = datetime.now(UTC)
    elif isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _node_id(kind: str, number: int) -> str:
    """A node id in GitHub's legacy form: base64 of ``0<len>:<Kind><id>``."""
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


def _avatar_url(account_id: int) -> str:
    return f"https://avatars.githubusercontent.com/u/{account_id}?v=4"


def _html(text: str | None) -> str | None:
    if not text:
        return None
    return f"<p>{html.escape(text.strip())}</p>"


# -- state ---------------------------------------------------------------------------------------


@dataclass
class _Account:
    login: str
    id: int
    type: str  # "User" or "Organization"
    created_at: str


@dataclass
class _Team:
    id: int
    org: str
    slug: str
    members: list[str]
    created_at: str


@dataclass
class _Repo:
    owner: str
    name: str
    id: int
    created_at: str
    labels: dict[str, int] = field(default_factory=dict)  # name -> label id

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class _Review:
    id: int
    user: str
    state: str
    commit_id: str
    submitted_at: str
    body: str


@dataclass
class _Pull:
    id: int
    head_sha: str
    base_sha: str
    head_ref: str
    base_ref: str
    draft: bool
    requested_users: list[str] = field(default_factory=list)
    requested_teams: list[str] = field(default_factory=list)
    reviews: list[_Review] = field(default_factory=list)


@dataclass
class _Issue:
    """An issue, or the issue half of a pull request (same number, ``pull`` set)."""

    repo: str
    number: int
    id: int
    user: str
    title: str
    body: str | None
    labels: list[str]
    assignees: list[str]
    state: str
    created_at: str
    updated_at: str
    closed_at: str | None = None
    closed_by: str | None = None
    pull: _Pull | None = None


@dataclass
class _Comment:
    id: int
    repo: str
    number: int
    user: str
    body: str
    created_at: str
    updated_at: str


@dataclass
class _Status:
    id: int
    state: str
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: str


class _State:
    """What the emulator knows; its users hold the emulator's lock."""

    def __init__(self) -> None:
        self._ids = itertools.count(1001)
        self.accounts: dict[str, _Account] = {}
        self.teams: list[_Team] = []
        self.repos: dict[str, _Repo] = {}
        self.issues: dict[tuple[str, int], _Issue] = {}
        self.comments: dict[int, _Comment] = {}
        self.statuses: dict[tuple[str, str], list[_Status]] = {}

    def new_id(self) -> int:
        return next(self._ids)

    def account(self, login: str, kind: str = "User") -> _Account:
        acct = self.accounts.get(login)
        if acct is None:
            acct = self.accounts[login] = _Account(login, self.new_id(), kind, _timestamp())
        elif kind == "Organization":
            acct.type = kind
        return acct

    def is_user(self, login: str) -> bool:
        return login in self.accounts and self.accounts[login].type == "User"

    def is_org(self, login: str) -> bool:
        return login in self.accounts and self.accounts[login].type == "Organization"

    def repo(self, full_name: str) -> _Repo:
        """The repository ``owner/name``, created with its owner when new."""
        repo = self.repos.get(full_name)
        if repo is None:
            owner, _, name = full_name.partition("/")
            if not owner or not name or "/" in name:
                raise ValueError(f"a repository is 'owner/name', not {full_name!r}")
            self.account(owner)
            repo = self.repos[full_name] = _Repo(owner, name, self.new_id(), _timestamp())
        return repo

    def team(self, org: str, slug: str) -> _Team | None:
        return next((t for t in self.teams if t.org == org and t.slug == slug), None)

    def team_by_id(self, team_id: int) -> _Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def issue(self, full_name: str, number: int) -> _Issue:
        found = self.issues.get((full_name, number))
        if found is None:
            raise LookupError(f"no issue or pull request {full_name}#{number}")
        return found

    def pull(self, full_name: str, number: int) -> _Pull:
        pull = self.issue(full_name, number).pull
        if pull is None:
            raise LookupError(f"{full_name}#{number} is an issue, not a pull request")
        return pull

    def new_issue(self, full_name: str, number: int | None, **fields: Any) -> _Issue:
        taken = [n for repo, n in self.issues if repo == full_name]
        if number is None:
            number = max(taken, default=0) + 1
        elif number in taken:
            raise ValueError(f"{full_name}#{number} exists already")
        now = fields.pop("created_at", None) or _timestamp()
        issue = _Issue(full_name, number, self.new_id(), created_at=now, updated_at=now, **fields)
        self.issues[(full_name, number)] = issue
        return issue

    def comments_on(self, issue: _Issue) -> list[_Comment]:
        return [
            c for c in self.comments.values() if (c.repo, c.number) == (issue.repo, issue.number)
        ]

    def add_labels(self, issue: _Issue, names: Sequence[str]) -> None:
        """Add labels, creating them in the repository; names match case-insensitively."""
        repo = self.repos[issue.repo]
        for name in names:
            known = next((n for n in repo.labels if n.lower() == name.lower()), None)
            if known is None:
                repo.labels[name] = self.new_id()
                known = name
            if known not in issue.labels:
                issue.labels.append(known)
        issue.updated_at = _timestamp()

    def set_state(self, issue: _Issue, state: str, by: str) -> None:
        if state == issue.state:
            return
        issue.state, issue.updated_at = state, _timestamp()
        closed = state == "closed"
        issue.closed_at = issue.updated_at if closed else None
        issue.closed_by = by if closed else None

    def add_review(self, issue: _Issue, review: _Review) -> None:
        """Record a review; a submitted one fulfils its author's review request, as on GitHub."""
        assert issue.pull is not None
        issue.pull.reviews.append(review)
        if review.state != "PENDING" and review.user in issue.pull.requested_users:
            issue.pull.requested_users.remove(review.user)

    def association(self, full_name: str, login: str) -> str:
        owner = self.repos[full_name].owner
        if login == owner:
            return "OWNER"
        if any(t.org == owner and login in t.members for t in self.teams):
            return "MEMBER"
        return "NONE"

    def resolve_ref(self, full_name: str, ref: str) -> str:
        """A branch name of a pull request gives its commit; anything else is taken as a SHA."""
        for issue in self.issues.values():
            if issue.repo == full_name and issue.pull is not None:
                if issue.pull.head_ref == ref:
                    return issue.pull.head_sha
                if issue.pull.base_ref == ref:
                    return issue.pull.base_sha
        return ref


# -- response bodies -----------------------------------------------------------------------------


class _Render:
    """Builds each response body from its recording, with the state's values substituted."""

    def __init__(self, state: _State, api_url: str) -> None:
        self.state, self.api = state, api_url

    def body(self, name: str) -> Json:
        """A copy of a recorded body, its API URLs moved to the emulator."""
        return _map_strings(
            _recording(name)["body"], lambda text: text.replace(RECORDED_API, self.api)
        )

    def account(self, template: JsonDict, login: str) -> JsonDict:
        acct = self.state.accounts[login]
        out: JsonDict = _replace_name(template, template["login"], login)
        out.update(login=login, id=acct.id, type=acct.type, avatar_url=_avatar_url(acct.id))
        _set_present(out, node_id=_node_id(acct.type, acct.id))
        return out

    def profile(self, name: str, login: str) -> JsonDict:
        """GET /users/{login} (``users_get``) or GET /user (``user_authenticated_get``)."""
        acct = self.state.accounts[login]
        out = self.account(self.body(name), login)
        owned = sum(1 for r in self.state.repos.values() if r.owner == login)
        _set_present(
            out,
            name=None,
            company=None,
            blog="",
            location=None,
            bio=None,
            hireable=None,
            public_repos=owned,
            created_at=acct.created_at,
            updated_at=acct.created_at,
        )
        return out

    def organization(self, template: JsonDict, login: str) -> JsonDict:
        acct = self.state.accounts[login]
        out: JsonDict = _replace_name(template, template["login"], login)
        owned = sum(1 for r in self.state.repos.values() if r.owner == login)
        out.update(login=login, id=acct.id, avatar_url=_avatar_url(acct.id))
        _set_present(
            out,
            node_id=_node_id("Organization", acct.id),
            description=None,
            billing_email=None,
            public_repos=owned,
            created_at=acct.created_at,
            updated_at=acct.created_at,
        )
        return out

    def repository(self, template: JsonDict, repo: _Repo) -> JsonDict:
        out: JsonDict = _move_to_repo(template, repo.full_name)
        out.update(id=repo.id, name=repo.name, full_name=repo.full_name)
        open_issues = sum(
            1 for i in self.state.issues.values() if i.repo == repo.full_name and i.state == "open"
        )
        _set_present(
            out,
            node_id=_node_id("Repository", repo.id),
            description=None,
            fork=False,
            created_at=repo.created_at,
            updated_at=repo.created_at,
            pushed_at=repo.created_at,
            default_branch="main",
            topics=[],
            size=0,
            stargazers_count=0,
            watchers_count=0,
            watchers=0,
            forks_count=0,
            forks=0,
            network_count=0,
            subscribers_count=0,
            open_issues_count=open_issues,
            open_issues=open_issues,
        )
        out["owner"] = self.account(template["owner"], repo.owner)
        if "organization" in out:
            if self.state.is_org(repo.owner):
                out["organization"] = self.account(template["organization"], repo.owner)
            else:  # GitHub sends no "organization" for a repository a user owns
                del out["organization"]
        return out

    def label(self, template: JsonDict, repo: _Repo, name: str) -> JsonDict:
        label_id = repo.labels[name]
        out = dict(template)
        _set_present(
            out,
            id=label_id,
            node_id=_node_id("Label", label_id),
            name=name,
            url=f"{self.api}/repos/{repo.full_name}/labels/{quote(name)}",
            color=NEW_LABEL_COLOR,
            default=False,
            description=None,
        )
        return out

    def _issue_fields(self, template: JsonDict, issue: _Issue) -> JsonDict:
        """Fields a pull request and its issue share, in either's recorded shape."""
        repo = self.state.repos[issue.repo]
        out: JsonDict = _move_to_repo(template, issue.repo)
        out = _replace_number(
            out, ("/pulls/", "/pull/", "/issues/"), template["number"], issue.number
        )
        user_template = template["user"]
        assignees = [self.account(user_template, login) for login in issue.assignees]
        closer = template.get("closed_by") or user_template
        out.update(
            number=issue.number,
            title=issue.title,
            state=issue.state,
            locked=False,
            body=issue.body or None,
            user=self.account(user_template, issue.user),
            labels=[self.label(self.body("issues_labels_add")[0], repo, n) for n in issue.labels],
            assignees=assignees,
            assignee=assignees[0] if assignees else None,
            milestone=None,
            created_at=issue.created_at,
            updated_at=issue.updated_at,
            closed_at=issue.closed_at,
        )
        _set_present(
            out,
            body_html=_html(issue.body),
            body_text=issue.body or None,
            author_association=self.state.association(issue.repo, issue.user),
            comments=len(self.state.comments_on(issue)),
            active_lock_reason=None,
            closed_by=self.account(closer, issue.closed_by) if issue.closed_by else None,
            state_reason="completed" if issue.state == "closed" else None,
            performed_via_github_app=None,
        )
        return out

    def issue(self, name: str, issue: _Issue) -> JsonDict:
        """An issue in the shape of ``issues_get`` (GET, PATCH, lists) or ``issues_create``."""
        out = self._issue_fields(self.body(name), issue)
        kind = "issues" if issue.pull is None else "pull"
        out.update(id=issue.id, html_url=f"https://github.com/{issue.repo}/{kind}/{issue.number}")
        if issue.pull is None:
            _set_present(out, node_id=_node_id("Issue", issue.id))
            out.pop("pull_request", None)  # GitHub marks only a pull request's issue
        else:
            _set_present(out, node_id=_node_id("PullRequest", issue.pull.id))
        return out

    def pull(self, name: str, issue: _Issue) -> JsonDict:
        """A pull request as ``pulls_get`` (full) or ``pulls_requested_reviewers_create`` (short)."""
        assert issue.pull is not None
        pull, repo = issue.pull, self.state.repos[issue.repo]
        template = self.body(name)
        out: JsonDict = _replace_name(
            self._issue_fields(template, issue), template["head"]["sha"], pull.head_sha
        )
        teams = [self.state.team(repo.owner, slug) for slug in pull.requested_teams]
        out.update(
            id=pull.id,
            node_id=_node_id("PullRequest", pull.id),
            draft=pull.draft,
            merged_at=None,
            merge_commit_sha=None,
            auto_merge=None,
            requested_reviewers=[self.account(template["user"], u) for u in pull.requested_users],
            requested_teams=[self.team(t) for t in teams if t is not None],
            head=self._branch(template["head"], repo, pull.head_ref, pull.head_sha),
            base=self._branch(template["base"], repo, pull.base_ref, pull.base_sha),
        )
        _set_present(out, merged=False, merged_by=None, review_comments=0)
        return out

    def _branch(self, template: JsonDict, repo: _Repo, ref: str, sha: str) -> JsonDict:
        out = dict(template)
        out.update(
            label=f"{repo.owner}:{ref}",
            ref=ref,
            sha=sha,
            user=self.account(template["user"], repo.owner),
            repo=self.repository(template["repo"], repo),
        )
        return out

    def review(self, issue: _Issue, review: _Review) -> JsonDict:
        template: JsonDict = self.body("pulls_reviews_list")[0]
        old_number = template["pull_request_url"].rsplit("/", 1)[1]
        out: JsonDict = _move_to_repo(template, issue.repo)
        out = _replace_number(out, ("/pulls/", "/pull/"), old_number, issue.number)
        out = _replace_number(out, ("#pullrequestreview-",), template["id"], review.id)
        out.update(
            id=review.id,
            user=self.account(template["user"], review.user),
            state=review.state,
            body=review.body,
            commit_id=review.commit_id,
            submitted_at=review.submitted_at,
        )
        _set_present(
            out,
            node_id=_node_id("PullRequestReview", review.id),
            body_html=_html(review.body) or "",
            body_text=review.body,
            author_association=self.state.association(issue.repo, review.user),
        )
        return out

    def comment(self, template: JsonDict, comment: _Comment) -> JsonDict:
        issue = self.state.issue(comment.repo, comment.number)
        old_number = template["issue_url"].rsplit("/", 1)[1]
        out: JsonDict = _move_to_repo(template, comment.repo)
        out = _replace_number(out, ("/issues/", "/pull/"), old_number, comment.number)
        out = _replace_number(out, ("/comments/", "#issuecomment-"), template["id"], comment.id)
        kind = "issues" if issue.pull is None else "pull"
        out.update(
            id=comment.id,
            user=self.account(template["user"], comment.user),
            body=comment.body,
            created_at=comment.created_at,
            updated_at=comment.updated_at,
            html_url=f"https://github.com/{comment.repo}/{kind}/{comment.number}"
            f"#issuecomment-{comment.id}",
        )
        _set_present(
            out,
            node_id=_node_id("IssueComment", comment.id),
            body_html=_html(comment.body),
            body_text=comment.body,
            performed_via_github_app=None,
            author_association=self.state.association(comment.repo, comment.user),
        )
        return out

    def status(self, template: JsonDict, repo: _Repo, sha: str, status: _Status) -> JsonDict:
        old_sha = template["url"].rsplit("/", 1)[1]
        out: JsonDict = _replace_name(_move_to_repo(template, repo.full_name), old_sha, sha)
        creator = self.state.accounts[status.creator]
        out.update(
            id=status.id,
            state=status.state,
            context=status.context,
            description=status.description,
            target_url=status.target_url,
            created_at=status.created_at,
            updated_at=status.created_at,
        )
        _set_present(
            out, node_id=_node_id("StatusContext", status.id), avatar_url=_avatar_url(creator.id)
        )
        if "creator" in out:
            out["creator"] = self.account(template["creator"], status.creator)
        return out

    def combined_status(self, repo: _Repo, sha: str) -> JsonDict:
        template: JsonDict = self.body("status_combined_get")
        newest_first = reversed(self.state.statuses.get((repo.full_name, sha), []))
        latest: dict[str, _Status] = {}
        for status in newest_first:
            latest.setdefault(status.context, status)
        out: JsonDict = _replace_name(_move_to_repo(template, repo.full_name), template["sha"], sha)
        out.update(
            state=_combined_state([s.state for s in latest.values()]),
            sha=sha,
            total_count=len(latest),
            repository=self.repository(template["repository"], repo),
            statuses=[self.status(template["statuses"][0], repo, sha, s) for s in latest.values()],
        )
        return out

    def team(self, team: _Team) -> JsonDict:
        template: JsonDict = self.body("teams_get_by_slug")
        out: JsonDict = _replace_number(template, ("/teams/",), template["id"], team.id)
        out = _replace_name(out, template["organization"]["login"], team.org)
        out = _replace_name(out, template["slug"], team.slug)
        repos = sum(1 for r in self.state.repos.values() if r.owner == team.org)
        out.update(id=team.id, name=team.slug, slug=team.slug)
        _set_present(
            out,
            node_id=_node_id("Team", team.id),
            description=None,
            members_count=len(team.members),
            repos_count=repos,
            created_at=team.created_at,
            updated_at=team.created_at,
        )
        if "organization" in out:
            out["organization"] = self.organization(template["organization"], team.org)
        return out

    def membership(self, team: _Team, login: str) -> JsonDict:
        out: JsonDict = self.body("teams_membership_get")
        out.update(
            state="active", role="member", url=f"{self.api}/teams/{team.id}/memberships/{login}"
        )
        return out

    def error(self, status: int, message: str | None = None) -> JsonDict:
        """The recorded error body for 401/403/404/422; any other status gets the 404's shape."""
        out: JsonDict = self.body(ERROR_RECORDINGS.get(status, "error_404_not_found"))
        if status not in ERROR_RECORDINGS:
            out.update(
                message=HTTPStatus(status).phrase, documentation_url="https://docs.github.com/rest"
            )
        if message is not None:
            out["message"] = message
        return out

    def invalid(self, resource: str, field: str, code: str, message: str | None = None) -> JsonDict:
        """A 422 body in the recorded shape, its ``errors`` naming ``resource`` and ``field``."""
        out = self.error(422, message)
        entry = dict(out["errors"][0])
        entry.update(resource=resource, field=field, code=code)
        out.update(errors=[entry], documentation_url="https://docs.github.com/rest")
        return out

    def rate_limited(self) -> JsonDict:
        out: JsonDict = self.body("error_403_rate_limited")
        out["message"] = out["message"].replace("xxx.xxx.xxx.xxx", "127.0.0.1")
        return out


def _combined_state(states: Sequence[str]) -> str:
    """GitHub's rule: any error or failure fails, then any pending (or none at all) is pending."""
    if any(s in ("error", "failure") for s in states):
        return "failure"
    if not states or "pending" in states:
        return "pending"
    return "success"


# -- the REST endpoints --------------------------------------------------------------------------


@dataclass
class _Request:
    path: str  # below /api/v3, without the query
    query: list[tuple[str, str]]
    body: Json

    def param(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.query if k == name), default)


@dataclass
class _Reply:
    status: int
    body: Json
    headers: dict[str, str] = field(default_factory=dict)


class _Abort(Exception):
    def __init__(self, reply: _Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


Args = dict[str, str]
Handler = Callable[[_Request, Args], _Reply]
_REPO = "/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
_ISSUE = _REPO + r"/issues/(?P<number>\d+)"
_PULL = _REPO + r"/pulls/(?P<number>\d+)"
_TEAM_FORMS = (
    "/orgs/(?P<org>[^/]+)/teams/(?P<slug>[^/]+)",
    r"/teams/(?P<team_id>\d+)",
    r"/organizations/\d+/team/(?P<team_id>\d+)",
)


class _Api:
    """Answers one request from the state; the caller holds the emulator's lock."""

    def __init__(self, state: _State, api_url: str) -> None:
        self.state, self.api = state, api_url
        self.render = _Render(state, api_url)
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (verb, re.compile(path), handler)
            for verb, path, handler in [
                ("GET", "/user", self.get_me),
                ("GET", "/users/(?P<login>[^/]+)", self.get_user),
                ("GET", "/orgs/(?P<org>[^/]+)", self.get_org),
                *[("GET", form, self.get_team) for form in _TEAM_FORMS],
                *[("GET", form + "/members", self.list_members) for form in _TEAM_FORMS],
                *[
                    ("GET", form + "/memberships/(?P<login>[^/]+)", self.get_membership)
                    for form in _TEAM_FORMS
                ],
                ("GET", _REPO, self.get_repo),
                ("GET", _REPO + "/pulls", self.list_pulls),
                ("GET", _PULL, self.get_pull),
                ("PATCH", _PULL, self.edit_pull),
                ("GET", _PULL + "/reviews", self.list_reviews),
                ("GET", _PULL + "/requested_reviewers", self.get_review_requests),
                ("POST", _PULL + "/requested_reviewers", self.request_reviews),
                ("DELETE", _PULL + "/requested_reviewers", self.remove_review_requests),
                ("GET", _REPO + "/issues", self.list_issues),
                ("POST", _REPO + "/issues", self.create_issue),
                ("GET", _ISSUE, self.get_issue),
                ("PATCH", _ISSUE, self.edit_issue),
                ("GET", _ISSUE + "/labels", self.list_labels),
                ("POST", _ISSUE + "/labels", self.add_labels),
                ("GET", _ISSUE + "/comments", self.list_comments),
                ("POST", _ISSUE + "/comments", self.create_comment),
                ("GET", _REPO + r"/issues/comments/(?P<id>\d+)", self.get_comment),
                ("PATCH", _REPO + r"/issues/comments/(?P<id>\d+)", self.edit_comment),
                ("DELETE", _REPO + r"/issues/comments/(?P<id>\d+)", self.delete_comment),
                ("POST", _REPO + "/statuses/(?P<sha>[^/]+)", self.create_status),
                ("GET", _REPO + "/commits/(?P<ref>[^/]+)/statuses", self.list_statuses),
                # The older path of the same list, which github3.py's Repository.statuses uses.
                ("GET", _REPO + "/statuses/(?P<ref>[^/]+)", self.list_statuses),
                ("GET", _REPO + "/commits/(?P<ref>[^/]+)/status", self.get_combined_status),
            ]
        ]

    def dispatch(self, method: str, target: str, body: Json) -> _Reply:
        parts = urlsplit(target)
        if not parts.path.startswith(API_PREFIX + "/"):
            return self.not_found()
        path = parts.path[len(API_PREFIX) :].rstrip("/")
        request = _Request(path, parse_qsl(parts.query), body)
        for verb, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match is not None and verb == method:
                args = {key: unquote(value) for key, value in match.groupdict().items()}
                try:
                    return handler(request, args)
                except _Abort as abort:
                    return abort.reply
        return self.not_found()

    # helpers

    def not_found(self) -> _Reply:
        return _Reply(404, self.render.error(404))

    def invalid(self, resource: str, field: str, code: str, message: str | None = None) -> _Abort:
        return _Abort(_Reply(422, self.render.invalid(resource, field, code, message)))

    def created(self, body: JsonDict) -> _Reply:
        return _Reply(201, body, {"Location": body["url"]})

    def _repo(self, args: Args) -> _Repo:
        repo = self.state.repos.get(f"{args['owner']}/{args['name']}")
        if repo is None:
            raise _Abort(self.not_found())
        return repo

    def _issue(self, args: Args) -> _Issue:
        repo = self._repo(args)
        issue = self.state.issues.get((repo.full_name, int(args["number"])))
        if issue is None:
            raise _Abort(self.not_found())
        return issue

    def _pull(self, args: Args) -> tuple[_Issue, _Pull]:
        issue = self._issue(args)
        if issue.pull is None:
            raise _Abort(self.not_found())
        return issue, issue.pull

    def _comment(self, args: Args) -> _Comment:
        repo = self._repo(args)
        comment = self.state.comments.get(int(args["id"]))
        if comment is None or comment.repo != repo.full_name:
            raise _Abort(self.not_found())
        return comment

    def _team(self, args: Args) -> _Team:
        if "team_id" in args:
            team = self.state.team_by_id(int(args["team_id"]))
        else:
            team = self.state.team(args["org"], args["slug"])
        if team is None:
            raise _Abort(self.not_found())
        return team

    def _object(self, request: _Request) -> JsonDict:
        if not isinstance(request.body, dict):
            raise _Abort(_Reply(400, self.render.error(400, "Problems parsing JSON")))
        return request.body

    def _names(self, value: Json, resource: str, field: str) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.invalid(resource, field, "invalid")
        return value

    def page(
        self, request: _Request, items: Sequence[Any], render: Callable[[Any], Json]
    ) -> _Reply:
        """One page of ``items`` (``per_page``, ``page``), with GitHub's ``Link`` header."""
        per_page = min(max(_int(request.param("per_page"), 30), 1), 100)
        last = max(math.ceil(len(items) / per_page), 1)
        number = max(_int(request.param("page"), 1), 1)
        chosen = items[(number - 1) * per_page : number * per_page]
        links = {"prev": number - 1, "next": number + 1, "last": last, "first": 1}
        if number >= last:
            del links["next"], links["last"]
        if number <= 1:
            del links["prev"], links["first"]
        reply = _Reply(200, [render(item) for item in chosen])
        if links:
            reply.headers["Link"] = ", ".join(
                f'<{self._page_url(request, n)}>; rel="{rel}"' for rel, n in links.items()
            )
        return reply

    def _page_url(self, request: _Request, number: int) -> str:
        query = [(k, v) for k, v in request.query if k != "page"] + [("page", str(number))]
        return f"{self.api}{request.path}?{urlencode(query)}"

    # users, organizations, teams

    def get_me(self, request: _Request, args: Args) -> _Reply:
        return _Reply(200, self.render.profile("user_authenticated_get", BOT_LOGIN))

    def get_user(self, request: _Request, args: Args) -> _Reply:
        if args["login"] not in self.state.accounts:
            return self.not_found()
        return _Reply(200, self.render.profile("users_get", args["login"]))

    def get_org(self, request: _Request, args: Args) -> _Reply:
        if not self.state.is_org(args["org"]):
            return self.not_found()
        return _Reply(200, self.render.organization(self.render.body("orgs_get"), args["org"]))

    def get_team(self, request: _Request, args: Args) -> _Reply:
        return _Reply(200, self.render.team(self._team(args)))

    def list_members(self, request: _Request, args: Args) -> _Reply:
        template = self.render.body("teams_members_list")[0]
        members = self._team(args).members
        return self.page(request, members, lambda login: self.render.account(template, login))

    def get_membership(self, request: _Request, args: Args) -> _Reply:
        team = self._team(args)
        if args["login"] not in team.members:
            return self.not_found()
        return _Reply(200, self.render.membership(team, args["login"]))

    # repositories and pull requests

    def get_repo(self, request: _Request, args: Args) -> _Reply:
        return _Reply(200, self.render.repository(self.render.body("repos_get"), self._repo(args)))

    def list_pulls(self, request: _Request, args: Args) -> _Reply:
        repo = self._repo(args)
        base, head = request.param("base"), request.param("head")
        pulls = [
            i
            for i in _select(self.state.issues.values(), repo.full_name, request.param("state"))
            if i.pull is not None
            and (not base or i.pull.base_ref == base)
            and (not head or f"{repo.owner}:{i.pull.head_ref}" == head or i.pull.head_ref == head)
        ]
        ordered = _ordered(pulls, request, self.state)
        return self.page(
            request, ordered, lambda i: self.render.pull("pulls_requested_reviewers_create", i)
        )

    def get_pull(self, request: _Request, args: Args) -> _Reply:
        issue, _ = self._pull(args)
        return _Reply(200, self.render.pull("pulls_get", issue))

    def edit_pull(self, request: _Request, args: Args) -> _Reply:
        (issue, pull), data = self._pull(args), self._object(request)
        self._edit(issue, data, "PullRequest")
        if isinstance(data.get("base"), str):
            pull.base_ref = data["base"]
        return _Reply(200, self.render.pull("pulls_get", issue))

    def list_reviews(self, request: _Request, args: Args) -> _Reply:
        issue, pull = self._pull(args)
        # A pending review is visible to its author only.
        shown = [r for r in pull.reviews if r.state != "PENDING" or r.user == BOT_LOGIN]
        return self.page(request, shown, lambda r: self.render.review(issue, r))

    def get_review_requests(self, request: _Request, args: Args) -> _Reply:
        issue, pull = self._pull(args)
        out: JsonDict = self.render.body("pulls_requested_reviewers_list")
        user_template = self.render.body("pulls_requested_reviewers_create")["user"]
        owner = self.state.repos[issue.repo].owner
        teams = [self.state.team(owner, slug) for slug in pull.requested_teams]
        out.update(
            users=[self.render.account(user_template, u) for u in pull.requested_users],
            teams=[self.render.team(t) for t in teams if t is not None],
        )
        return _Reply(200, out)

    def request_reviews(self, request: _Request, args: Args) -> _Reply:
        (issue, pull), data = self._pull(args), self._object(request)
        users = self._names(data.get("reviewers"), "PullRequest", "reviewers")
        slugs = self._names(data.get("team_reviewers"), "PullRequest", "team_reviewers")
        owner = self.state.repos[issue.repo].owner
        if issue.user in users:
            raise self.invalid(
                "PullRequest",
                "reviewers",
                "invalid",
                "Review cannot be requested from pull request author.",
            )
        unknown = [u for u in users if not self.state.is_user(u)]
        unknown += [s for s in slugs if self.state.team(owner, s) is None]
        if unknown:
            raise self.invalid(
                "PullRequest",
                "reviewers" if unknown[0] in users else "team_reviewers",
                "invalid",
                "Reviews may only be requested from collaborators. One or more of the users or "
                f"teams you specified is not a collaborator of the {issue.repo} repository.",
            )
        pull.requested_users += [u for u in dict.fromkeys(users) if u not in pull.requested_users]
        pull.requested_teams += [s for s in dict.fromkeys(slugs) if s not in pull.requested_teams]
        issue.updated_at = _timestamp()
        return self.created(self.render.pull("pulls_requested_reviewers_create", issue))

    def remove_review_requests(self, request: _Request, args: Args) -> _Reply:
        (issue, pull), data = self._pull(args), self._object(request)
        users = self._names(data.get("reviewers"), "PullRequest", "reviewers")
        slugs = self._names(data.get("team_reviewers"), "PullRequest", "team_reviewers")
        pull.requested_users = [u for u in pull.requested_users if u not in users]
        pull.requested_teams = [s for s in pull.requested_teams if s not in slugs]
        return _Reply(200, self.render.pull("pulls_requested_reviewers_create", issue))

    # issues, labels and comments

    def list_issues(self, request: _Request, args: Args) -> _Reply:
        repo = self._repo(args)
        wanted = [n.strip().lower() for n in request.param("labels").split(",") if n.strip()]
        try:
            since = _timestamp(request.param("since")) if request.param("since") else ""
        except ValueError:
            raise self.invalid("Issue", "since", "invalid") from None
        issues = [
            i
            for i in _select(self.state.issues.values(), repo.full_name, request.param("state"))
            if all(w in (n.lower() for n in i.labels) for w in wanted) and i.updated_at >= since
        ]
        ordered = _ordered(issues, request, self.state)
        return self.page(request, ordered, lambda i: self.render.issue("issues_get", i))

    def create_issue(self, request: _Request, args: Args) -> _Reply:
        repo, data = self._repo(args), self._object(request)
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise self.invalid("Issue", "title", "missing_field")
        body = data.get("body")
        issue = self.state.new_issue(
            repo.full_name,
            None,
            user=BOT_LOGIN,
            title=title,
            body=body if isinstance(body, str) else None,
            labels=[],
            assignees=self._assignees(data, "Issue"),
            state="open",
        )
        self.state.add_labels(issue, self._names(data.get("labels"), "Issue", "labels"))
        return self.created(self.render.issue("issues_create", issue))

    def get_issue(self, request: _Request, args: Args) -> _Reply:
        return _Reply(200, self.render.issue("issues_get", self._issue(args)))

    def edit_issue(self, request: _Request, args: Args) -> _Reply:
        issue = self._issue(args)
        self._edit(issue, self._object(request), "Issue")
        return _Reply(200, self.render.issue("issues_get", issue))

    def _edit(self, issue: _Issue, data: JsonDict, resource: str) -> None:
        """Apply a PATCH body (title, body, state, labels, assignees) to an issue or pull."""
        state = data.get("state", issue.state)
        if state not in ("open", "closed"):
            raise self.invalid(resource, "state", "invalid")
        if isinstance(data.get("title"), str):
            issue.title = data["title"]
        if "body" in data:
            issue.body = data["body"] if isinstance(data["body"], str) else None
        if "labels" in data:
            issue.labels = []
            self.state.add_labels(issue, self._names(data["labels"], resource, "labels"))
        if "assignees" in data or "assignee" in data:
            issue.assignees = self._assignees(data, resource)
        self.state.set_state(issue, state, BOT_LOGIN)
        issue.updated_at = _timestamp()

    def _assignees(self, data: JsonDict, resource: str) -> list[str]:
        """The logins of ``assignees`` and the older single ``assignee``; each must be a user."""
        logins = self._names(data.get("assignees"), resource, "assignees")
        if isinstance(data.get("assignee"), str) and data["assignee"]:
            logins.insert(0, data["assignee"])
        if any(not self.state.is_user(login) for login in logins):
            raise self.invalid(resource, "assignees", "invalid")
        return list(dict.fromkeys(logins))

    def list_labels(self, request: _Request, args: Args) -> _Reply:
        issue = self._issue(args)
        repo, template = self.state.repos[issue.repo], self.render.body("issues_labels_list")[0]
        return self.page(request, issue.labels, lambda n: self.render.label(template, repo, n))

    def add_labels(self, request: _Request, args: Args) -> _Reply:
        issue = self._issue(args)
        data = request.body  # GitHub takes ["a", "b"] as well as {"labels": ["a", "b"]}
        names = data.get("labels") if isinstance(data, dict) else data
        self.state.add_labels(issue, self._names(names, "Label", "labels"))
        repo, template = self.state.repos[issue.repo], self.render.body("issues_labels_add")[0]
        return _Reply(200, [self.render.label(template, repo, n) for n in issue.labels])

    def list_comments(self, request: _Request, args: Args) -> _Reply:
        comments = self.state.comments_on(self._issue(args))
        template = self.render.body("issues_comments_list")[0]
        return self.page(request, comments, lambda c: self.render.comment(template, c))

    def create_comment(self, request: _Request, args: Args) -> _Reply:
        issue, text = self._issue(args), self._object(request).get("body")
        if not isinstance(text, str) or not text:
            raise self.invalid("IssueComment", "body", "missing_field")
        now = _timestamp()
        comment = _Comment(self.state.new_id(), issue.repo, issue.number, BOT_LOGIN, text, now, now)
        self.state.comments[comment.id] = comment
        issue.updated_at = now
        return self.created(self.render.comment(self.render.body("issues_comment_create"), comment))

    def get_comment(self, request: _Request, args: Args) -> _Reply:
        comment = self._comment(args)
        return _Reply(200, self.render.comment(self.render.body("issues_comment_get"), comment))

    def edit_comment(self, request: _Request, args: Args) -> _Reply:
        comment, text = self._comment(args), self._object(request).get("body")
        if not isinstance(text, str) or not text:
            raise self.invalid("IssueComment", "body", "missing_field")
        comment.body, comment.updated_at = text, _timestamp()
        # The recorded PATCH answer (issues_comment_update.json, 2016) lacks fields github3.py
        # reads; GitHub answers with the whole comment, as a create does.
        return _Reply(200, self.render.comment(self.render.body("issues_comment_create"), comment))

    def delete_comment(self, request: _Request, args: Args) -> _Reply:
        del self.state.comments[self._comment(args).id]
        return _Reply(204, None)

    # commit statuses

    def create_status(self, request: _Request, args: Args) -> _Reply:
        repo, data, sha = self._repo(args), self._object(request), args["sha"]
        if data.get("state") not in STATUS_STATES:
            raise self.invalid("Status", "state", "custom")
        description = data.get("description")
        if isinstance(description, str) and len(description) > 140:
            raise self.invalid("Status", "description", "custom")
        status = _Status(
            self.state.new_id(),
            data["state"],
            str(data.get("context") or "default"),
            description if isinstance(description, str) else None,
            data.get("target_url") if isinstance(data.get("target_url"), str) else None,
            BOT_LOGIN,
            _timestamp(),
        )
        self.state.statuses.setdefault((repo.full_name, sha), []).append(status)
        template = self.render.body("statuses_create")
        return self.created(self.render.status(template, repo, sha, status))

    def list_statuses(self, request: _Request, args: Args) -> _Reply:
        repo = self._repo(args)
        sha = self.state.resolve_ref(repo.full_name, args["ref"])
        newest_first = list(reversed(self.state.statuses.get((repo.full_name, sha), [])))
        template = self.render.body("statuses_list")[0]
        return self.page(
            request, newest_first, lambda s: self.render.status(template, repo, sha, s)
        )

    def get_combined_status(self, request: _Request, args: Args) -> _Reply:
        repo = self._repo(args)
        sha = self.state.resolve_ref(repo.full_name, args["ref"])
        return _Reply(200, self.render.combined_status(repo, sha))


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def _select(issues: Iterable[_Issue], full_name: str, state: str) -> list[_Issue]:
    """The issues of one repository in ``state`` (open by default, or closed, or all)."""
    state = state or "open"
    return [i for i in issues if i.repo == full_name and state in ("all", i.state)]


def _ordered(issues: list[_Issue], request: _Request, state: _State) -> list[_Issue]:
    """Sort as GitHub does: ``sort`` created (default), updated or comments; ``direction``."""
    sort = request.param("sort", "created")
    # GitHub's default direction is desc for created, asc for the other sorts.
    direction = request.param("direction", "desc" if sort == "created" else "asc")

    def key(issue: _Issue) -> tuple[Any, int]:
        if sort == "updated":
            return issue.updated_at, issue.number
        if sort in ("comments", "popularity"):
            return len(state.comments_on(issue)), issue.number
        return issue.created_at, issue.number

    return sorted(issues, key=key, reverse=direction == "desc")


# -- the server ----------------------------------------------------------------------------------


@dataclass
class _Fault:
    status: int
    count: int
    method: str | None
    path_contains: str | None

    def matches(self, method: str, target: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path_contains is None or self.path_contains in target
        )


class _Server(ThreadingHTTPServer):
    emulator: GitHubEmulator


class _Handler(BaseHTTPRequestHandler):
    """Hands every request to the emulator; HTTP/1.0, so each connection closes after one answer."""

    server: _Server

    def do_GET(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, headers, payload = self.server.emulator._answer(
            self.command, self.path, dict(self.headers.items()), raw
        )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def version_string(self) -> str:
        """The ``Server`` header, as GitHub sends it."""
        return "GitHub.com"

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: ``emulator.requests`` logs what came in."""


class GitHubEmulator:
    """GitHub's REST API for github3.py, on ``http://127.0.0.1:<port>/api/v3``, state in memory.

    ``gh = github3.GitHubEnterprise(emu.url, token=emu.token)`` reaches it; the token's user is
    ``cfgctl-bot``, author of the comments, statuses and issues created through the API.
    """

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.url = ""
        self.api_url = ""
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        self._state = _State()
        self._state.account(BOT_LOGIN)
        self._faults: list[_Fault] = []
        self._rate_limit_reset: int | None = None
        self._remaining = RATE_LIMIT
        self._reset = int(datetime.now(UTC).timestamp()) + 3600
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._api: _Api | None = None

    # lifecycle

    def start(self) -> GitHubEmulator:
        """Listen on a free port of 127.0.0.1 in a background thread."""
        server = _Server(("127.0.0.1", 0), _Handler)
        server.emulator = self
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self.api_url = self.url + API_PREFIX
        self._api = _Api(self._state, self.api_url)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> GitHubEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # state setup

    def add_user(self, login: str) -> None:
        with self._lock:
            self._state.account(login)

    def add_team(self, org: str, slug: str, members: list[str]) -> None:
        """Add a team, and its organization and users when new; again, set its members.

        ``add_team("acme", "reviewers", ["bob"])``: GET /orgs/acme/teams/reviewers answers it.
        """
        with self._lock:
            self._state.account(org, "Organization")
            for login in members:
                self._state.account(login)
            team = self._state.team(org, slug)
            if team is None:
                team = _Team(self._state.new_id(), org, slug, [], _timestamp())
                self._state.teams.append(team)
            team.members = list(dict.fromkeys(members))

    def add_repo(self, owner: str, name: str) -> None:
        with self._lock:
            self._state.repo(f"{owner}/{name}")

    def open_pull(
        self,
        repo: str,
        number: int | None = None,
        *,
        author: str,
        head_sha: str,
        base_sha: str,
        base_ref: str = "main",
        head_ref: str = "feature",
        title: str = "Change",
        body: str = "",
        labels: Sequence[str] = (),
        created_at: str | datetime | None = None,
        draft: bool = False,
    ) -> int:
        """Open a pull request in ``owner/name``; returns its number, which its issue shares."""
        with self._lock:
            self._state.repo(repo)
            self._state.account(author)
            pull = _Pull(self._state.new_id(), head_sha, base_sha, head_ref, base_ref, draft)
            issue = self._state.new_issue(
                repo,
                number,
                user=author,
                title=title,
                body=body,
                labels=[],
                assignees=[],
                state="open",
                pull=pull,
                created_at=_timestamp(created_at),
            )
            self._state.add_labels(issue, labels)
            issue.updated_at = issue.created_at
            return issue.number

    def push(self, repo: str, number: int, head_sha: str) -> None:
        """A new head commit on the pull request's branch."""
        with self._lock:
            self._state.pull(repo, number).head_sha = head_sha
            self._state.issue(repo, number).updated_at = _timestamp()

    def add_review(
        self,
        repo: str,
        number: int,
        user: str,
        state: str = "APPROVED",
        commit_id: str | None = None,
        submitted_at: str | datetime | None = None,
        body: str = "",
    ) -> int:
        """Submit a review (on the head commit unless ``commit_id``); returns the review id."""
        if state not in REVIEW_STATES:
            raise ValueError(f"review state {state!r} is not one of {REVIEW_STATES}")
        with self._lock:
            issue = self._state.issue(repo, number)
            pull = self._state.pull(repo, number)
            self._state.account(user)
            review = _Review(
                self._state.new_id(),
                user,
                state,
                commit_id or pull.head_sha,
                _timestamp(submitted_at),
                body,
            )
            self._state.add_review(issue, review)
            return review.id

    def add_label(self, repo: str, number: int, label: str) -> None:
        with self._lock:
            self._state.add_labels(self._state.issue(repo, number), [label])

    def close_pull(self, repo: str, number: int) -> None:
        with self._lock:
            issue = self._state.issue(repo, number)
            self._state.pull(repo, number)
            self._state.set_state(issue, "closed", issue.user)

    # inspection

    def comments(self, repo: str, number: int) -> list[dict[str, Any]]:
        """The comments on an issue or pull request, oldest first; ``user`` is a login."""
        with self._lock:
            return [asdict(c) for c in self._state.comments_on(self._state.issue(repo, number))]

    def statuses(self, repo: str, sha: str) -> list[dict[str, Any]]:
        """The statuses set on a commit, in creation order."""
        with self._lock:
            return [asdict(s) for s in self._state.statuses.get((repo, sha), [])]

    def requested_reviewers(self, repo: str, number: int) -> dict[str, list[str]]:
        with self._lock:
            pull = self._state.pull(repo, number)
            return {"users": list(pull.requested_users), "teams": list(pull.requested_teams)}

    def issues(self, repo: str) -> list[dict[str, Any]]:
        """The issues created through the API (not those of pull requests), by number."""
        with self._lock:
            found = [i for i in self._state.issues.values() if i.repo == repo and i.pull is None]
            return [
                {k: v for k, v in asdict(i).items() if k != "pull"}
                for i in sorted(found, key=lambda i: i.number)
            ]

    # fault injection

    def fail_next(
        self,
        status: int,
        count: int = 1,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` and a GitHub error body.

        401, 403, 404 and 422 send the recorded error; other statuses (500, 502, 503) the same
        shape with the status's reason: ``fail_next(503, method="POST", path_contains="/comments")``.
        """
        if status < 400 or count < 1:
            raise ValueError(f"fail_next needs an error status and a count of 1 or more: {status}")
        with self._lock:
            self._faults.append(_Fault(status, count, method, path_contains))

    def rate_limit(self, reset_at: int) -> None:
        """Answer every request with GitHub's rate-limit 403 until :meth:`clear_faults`."""
        with self._lock:
            self._rate_limit_reset = reset_at

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rate_limit_reset = None

    # serving

    def _answer(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and payload for one request (called on the server's threads)."""
        with self._lock:
            self.requests.append((method, target))
            try:
                reply = self._reply(method, target, headers, raw)
            except Exception:  # a bug of the emulator: answer as GitHub would
                LOG.exception("github emulator failed on %s %s", method, target)
                assert self._api is not None
                reply = _Reply(500, self._api.render.error(500))
            return self._encode(method, headers, reply)

    def _reply(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> _Reply:
        assert self._api is not None
        render = self._api.render
        if not self._authorized(headers):
            return _Reply(401, render.error(401))
        if self._rate_limit_reset is not None:
            return _Reply(403, render.rate_limited())
        fault = next((f for f in self._faults if f.matches(method, target)), None)
        if fault is not None:
            fault.count -= 1
            if fault.count <= 0:
                self._faults.remove(fault)
            return _Reply(fault.status, render.error(fault.status))
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            return _Reply(400, render.error(400, "Problems parsing JSON"))
        return self._api.dispatch(method, target, body)

    def _authorized(self, headers: dict[str, str]) -> bool:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = value.partition(" ")
        return scheme.lower() in ("token", "bearer") and token.strip() == self.token

    def _encode(
        self, method: str, request_headers: dict[str, str], reply: _Reply
    ) -> tuple[int, dict[str, str], bytes]:
        payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-GitHub-Media-Type": "github.v3; param=full; format=json",
            **self._rate_headers(reply.status),
            **reply.headers,
        }
        if method == "GET" and reply.status == 200:
            headers["ETag"] = f'W/"{hashlib.sha256(payload).hexdigest()}"'
            if_none_match = {k.lower(): v for k, v in request_headers.items()}.get("if-none-match")
            if if_none_match == headers["ETag"]:
                return 304, {k: v for k, v in headers.items() if k != "Content-Type"}, b""
        headers["Content-Length"] = str(len(payload))
        return reply.status, headers, payload

    def _rate_headers(self, status: int) -> dict[str, str]:
        if status == 403 and self._rate_limit_reset is not None:
            remaining, reset = 0, self._rate_limit_reset
        else:
            self._remaining = max(self._remaining - 1, 0)
            remaining, reset = self._remaining, self._reset
        return {
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Used": str(RATE_LIMIT - remaining),
            "X-RateLimit-Resource": "core",
        }
