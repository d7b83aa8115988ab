"""The GitHub emulator, driven over HTTP by github3.py 4.0.1 as cfgctl drives GitHub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import github3
import pytest
import requests
from github3.exceptions import (
    AuthenticationFailed,
    ForbiddenError,
    NotFoundError,
    ServerError,
    UnprocessableEntity,
)
from github3.repos.repo import Repository
from github3.repos.status import CombinedStatus

from tests.support.github_emulator import GitHubEmulator

RECORDINGS = Path(__file__).parents[1] / "fixtures" / "github" / "rest"
HEAD, NEXT, BASE = "1a" * 20, "2b" * 20, "3c" * 20
REPO = "acme/cfg"


@pytest.fixture
def emu() -> Iterator[GitHubEmulator]:
    with GitHubEmulator() as emulator:
        emulator.add_team("acme", "reviewers", ["bob", "carol"])
        emulator.add_user("dave")
        emulator.add_repo("acme", "cfg")
        yield emulator


@pytest.fixture
def gh(emu: GitHubEmulator) -> Iterator[github3.GitHub]:
    client = github3.GitHubEnterprise(emu.url, token=emu.token)
    yield client
    client.session.close()


@pytest.fixture
def repo(gh: github3.GitHub) -> Repository:
    return gh.repository("acme", "cfg")


def _open(emu: GitHubEmulator, **kwargs: Any) -> int:
    return emu.open_pull(REPO, author="alice", head_sha=HEAD, base_sha=BASE, **kwargs)


def _get(emu: GitHubEmulator, path: str, **params: Any) -> requests.Response:
    headers = {"Authorization": f"token {emu.token}"}
    return requests.get(emu.api_url + path, params=params, headers=headers, timeout=10)


def _recorded(name: str) -> Any:
    return json.loads((RECORDINGS / f"{name}.json").read_text())["body"]


# users, organizations, repositories


def test_users_organizations_and_repository(gh: github3.GitHub, repo: Repository) -> None:
    me = gh.me()
    assert (me.login, me.type) == ("cfgctl-bot", "User")
    assert gh.user("bob").login == "bob"
    assert gh.organization("acme").login == "acme"
    assert (repo.full_name, repo.owner.login, repo.owner.type) == (
        "acme/cfg",
        "acme",
        "Organization",
    )
    assert repo.default_branch == "main"
    with pytest.raises(NotFoundError):
        gh.user("nobody")
    with pytest.raises(NotFoundError):
        gh.repository("acme", "missing")


# pull requests


def test_pull_request_carries_what_was_opened(emu: GitHubEmulator, repo: Repository) -> None:
    number = _open(
        emu,
        title="Raise the pool",
        body="Why: load",
        head_ref="pool",
        base_ref="prod",
        labels=["prod"],
        created_at=datetime(2024, 1, 2, 3, 4, 5),
        draft=True,
    )
    pr = repo.pull_request(number)
    assert (pr.number, pr.title, pr.body, pr.state, pr.draft) == (
        1,
        "Raise the pool",
        "Why: load",
        "open",
        True,
    )
    assert (pr.head.sha, pr.head.ref, pr.base.sha, pr.base.ref) == (HEAD, "pool", BASE, "prod")
    assert pr.user.login == "alice"
    assert pr.created_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert pr.repository.full_name == REPO
    issue = pr.issue()
    assert (issue.number, issue.title) == (number, "Raise the pool")
    assert [label.name for label in issue.labels()] == ["prod"]


def test_push_moves_the_head_and_later_reviews(emu: GitHubEmulator, repo: Repository) -> None:
    number = _open(emu)
    emu.add_review(REPO, number, "bob")
    emu.push(REPO, number, NEXT)
    emu.add_review(REPO, number, "carol")
    pr = repo.pull_request(number)
    assert pr.head.sha == NEXT
    assert pr.statuses_url.endswith(f"/statuses/{NEXT}")
    assert [(r.user.login, r.commit_id) for r in pr.reviews()] == [("bob", HEAD), ("carol", NEXT)]


def test_pull_requests_by_state(emu: GitHubEmulator, repo: Repository) -> None:
    first, second, third = _open(emu), _open(emu), _open(emu)
    emu.close_pull(REPO, second)
    assert [p.number for p in repo.pull_requests(state="open")] == [third, first]
    assert [p.number for p in repo.pull_requests(state="closed")] == [second]
    assert [p.number for p in repo.pull_requests(state="all")] == [third, second, first]
    assert repo.pull_request(second).closed_at is not None


def test_pull_requests_are_paginated_with_link_headers(
    emu: GitHubEmulator, repo: Repository
) -> None:
    numbers = [_open(emu) for _ in range(5)]
    pulls = repo.pull_requests(state="all")
    pulls.params["per_page"] = 2
    assert [p.number for p in pulls] == numbers[::-1]
    pages = [path for method, path in emu.requests if "/pulls?" in path]
    assert len(pages) == 3
    assert "page=3" in pages[-1]

    first = _get(emu, "/repos/acme/cfg/pulls", state="all", per_page=2)
    assert set(first.links) == {"next", "last"}
    assert first.links["next"]["url"].startswith(emu.api_url + "/repos/acme/cfg/pulls?")
    assert "page=2" in first.links["next"]["url"]
    assert "page=3" in first.links["last"]["url"]
    last = _get(emu, "/repos/acme/cfg/pulls", state="all", per_page=2, page=3)
    assert set(last.links) == {"prev", "first"}
    assert len(last.json()) == 1


def test_closing_a_pull_through_the_api_persists(emu: GitHubEmulator, repo: Repository) -> None:
    number = _open(emu)
    assert repo.pull_request(number).close()
    assert repo.pull_request(number).state == "closed"
    assert repo.issue(number).state == "closed"


# reviews and review requests


def test_reviews_list_state_user_commit_and_time(emu: GitHubEmulator, repo: Repository) -> None:
    number = _open(emu)
    emu.add_review(REPO, number, "bob", "CHANGES_REQUESTED", submitted_at="2024-03-01T10:00:00Z")
    emu.add_review(REPO, number, "carol", "COMMENTED", commit_id=BASE, body="nit")
    review_id = emu.add_review(REPO, number, "bob")
    reviews = list(repo.pull_request(number).reviews())
    assert [(r.user.login, r.state) for r in reviews] == [
        ("bob", "CHANGES_REQUESTED"),
        ("carol", "COMMENTED"),
        ("bob", "APPROVED"),
    ]
    assert reviews[0].submitted_at == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert (reviews[1].commit_id, reviews[1].body) == (BASE, "nit")
    assert reviews[2].id == review_id
    assert reviews[2].commit_id == HEAD


def test_review_requests_round_trip(emu: GitHubEmulator, repo: Repository) -> None:
    number = _open(emu)
    pr = repo.pull_request(number)
    short = pr.create_review_requests(reviewers=["bob", "dave"], team_reviewers=["reviewers"])
    assert [u.login for u in short.requested_reviewers] == ["bob", "dave"]
    assert [t.slug for t in short.requested_teams] == ["reviewers"]
    requested = pr.review_requests()
    assert [u.login for u in requested.users] == ["bob", "dave"]
    assert [t.slug for t in requested.teams] == ["reviewers"]
    assert emu.requested_reviewers(REPO, number) == {
        "users": ["bob", "dave"],
        "teams": ["reviewers"],
    }

    emu.add_review(REPO, number, "bob", "COMMENTED")
    assert [u.login for u in pr.review_requests().users] == ["dave"]
    assert [u.login for u in repo.pull_request(number).requested_reviewers] == ["dave"]
    assert emu.requested_reviewers(REPO, number) == {"users": ["dave"], "teams": ["reviewers"]}


def test_review_request_from_the_author_is_422(emu: GitHubEmulator, repo: Repository) -> None:
    pr = repo.pull_request(_open(emu))
    with pytest.raises(UnprocessableEntity) as caught:
        pr.create_review_requests(reviewers=["alice"])
    assert caught.value.msg == "Review cannot be requested from pull request author."
    assert caught.value.errors[0]["field"] == "reviewers"
    assert emu.requested_reviewers(REPO, pr.number) == {"users": [], "teams": []}


@pytest.mark.parametrize(
    ("reviewers", "teams"), [(["mallory"], []), ([], ["ghosts"]), (["acme"], [])]
)
def test_review_request_from_strangers_is_422(
    emu: GitHubEmulator, repo: Repository, reviewers: list[str], teams: list[str]
) -> None:
    pr = repo.pull_request(_open(emu))
    with pytest.raises(UnprocessableEntity) as caught:
        pr.create_review_requests(reviewers=reviewers, team_reviewers=teams)
    assert "not a collaborator" in caught.value.msg


# issues, labels, comments


def test_labels_of_a_pull_request_issue(emu: GitHubEmulator, repo: Repository) -> None:
    number = _open(emu, labels=["prod"])
    emu.add_label(REPO, number, "needs-review")
    issue = repo.issue(number)
    assert [label.name for label in issue.labels()] == ["prod", "needs-review"]
    added = issue.add_labels("urgent", "PROD")
    assert [label.name for label in added] == ["prod", "needs-review", "urgent"]
    assert [label.name for label in repo.issue(number).labels()] == [
        "prod",
        "needs-review",
        "urgent",
    ]


def test_comments_create_list_edit_delete(emu: GitHubEmulator, repo: Repository) -> None:
    number = _open(emu)
    issue = repo.issue(number)
    comment = issue.create_comment("Plan: 2 changes")
    assert (comment.user.login, comment.body) == ("cfgctl-bot", "Plan: 2 changes")
    assert [c.body for c in issue.comments()] == ["Plan: 2 changes"]
    assert issue.comment(comment.id).body == "Plan: 2 changes"
    [stored] = emu.comments(REPO, number)
    assert (stored["id"], stored["user"], stored["body"]) == (
        comment.id,
        "cfgctl-bot",
        "Plan: 2 changes",
    )

    assert comment.edit("Plan: 3 changes")
    assert comment.body == "Plan: 3 changes"
    [stored] = emu.comments(REPO, number)
    assert stored["body"] == "Plan: 3 changes"
    assert stored["updated_at"] >= stored["created_at"]
    assert repo.pull_request(number).as_dict()["comments"] == 1

    assert comment.delete()
    assert emu.comments(REPO, number) == []
    assert list(issue.comments()) == []


def test_comments_are_paginated(emu: GitHubEmulator, repo: Repository) -> None:
    issue = repo.issue(_open(emu))
    for n in range(5):
        issue.create_comment(f"comment {n}")
    comments = issue.comments()
    comments.params["per_page"] = 2
    assert [c.body for c in comments] == [f"comment {n}" for n in range(5)]
    assert sum("/comments?" in path for _, path in emu.requests) == 3


def test_create_issue_list_filter_and_close(emu: GitHubEmulator, repo: Repository) -> None:
    pull_number = _open(emu, labels=["prod"])
    created = repo.create_issue(
        "Drift in prod", "3 keys differ", labels=["drift"], assignees=["bob"]
    )
    assert created.number == pull_number + 1
    assert (created.title, created.body, created.user.login) == (
        "Drift in prod",
        "3 keys differ",
        "cfgctl-bot",
    )
    assert [label.name for label in created.original_labels] == ["drift"]
    [stored] = emu.issues(REPO)
    assert {k: stored[k] for k in ("number", "title", "body", "labels", "state")} == {
        "number": created.number,
        "title": "Drift in prod",
        "body": "3 keys differ",
        "labels": ["drift"],
        "state": "open",
    }

    listed = list(repo.issues(state="all"))
    assert [(i.number, i.pull_request_urls is not None) for i in listed] == [
        (created.number, False),
        (pull_number, True),
    ]
    assert [i.number for i in repo.issues(labels="drift")] == [created.number]
    assert [i.number for i in repo.issues(labels="drift,prod")] == []
    assert [i.number for i in repo.issues(state="all", since="2000-01-01T00:00:00Z")] == [
        created.number,
        pull_number,
    ]
    assert list(repo.issues(state="all", since="2999-01-01T00:00:00Z")) == []

    issue = repo.issue(created.number)
    assert [a.login for a in issue.assignees] == ["bob"]
    assert issue.edit(assignees=["carol"])
    assert emu.issues(REPO)[0]["assignees"] == ["carol"]
    with pytest.raises(UnprocessableEntity):
        issue.edit(assignees=["mallory"])
    assert issue.close()
    assert emu.issues(REPO)[0]["state"] == "closed"
    assert [i.number for i in repo.issues()] == [pull_number]
    assert [i.number for i in repo.issues(state="closed")] == [created.number]


def test_create_issue_without_title_is_422(repo: Repository) -> None:
    with pytest.raises(UnprocessableEntity):
        repo.create_issue("")


# commit statuses


def test_statuses_create_list_and_combine(emu: GitHubEmulator, repo: Repository) -> None:
    url = "https://ci.example/1"
    status = repo.create_status(HEAD, "pending", url, "validating", "cfgctl/validate")
    assert (status.state, status.context, status.description, status.target_url) == (
        "pending",
        "cfgctl/validate",
        "validating",
        url,
    )
    assert status.creator.login == "cfgctl-bot"
    repo.create_status(HEAD, "success", url, "ok", "cfgctl/validate")
    repo.create_status(HEAD, "failure", None, "2 errors", "cfgctl/policy")

    assert [(s.context, s.state) for s in repo.statuses(HEAD)] == [
        ("cfgctl/policy", "failure"),
        ("cfgctl/validate", "success"),
        ("cfgctl/validate", "pending"),
    ]
    assert [(s["context"], s["state"]) for s in emu.statuses(REPO, HEAD)] == [
        ("cfgctl/validate", "pending"),
        ("cfgctl/validate", "success"),
        ("cfgctl/policy", "failure"),
    ]
    assert emu.statuses(REPO, HEAD)[2]["target_url"] is None

    url = f"{repo.url}/commits/{HEAD}/status"
    combined = CombinedStatus(repo._json(repo._get(url), 200), repo)
    assert (combined.state, combined.total_count, combined.sha) == ("failure", 2, HEAD)
    assert {s.context: s.state for s in combined.statuses} == {
        "cfgctl/policy": "failure",
        "cfgctl/validate": "success",
    }


def test_statuses_by_branch_name(emu: GitHubEmulator, repo: Repository) -> None:
    _open(emu, head_ref="pool")
    repo.create_status(HEAD, "success", context="ci")
    assert _get(emu, "/repos/acme/cfg/commits/pool/status").json()["state"] == "success"
    assert [s["context"] for s in _get(emu, "/repos/acme/cfg/commits/pool/statuses").json()] == [
        "ci"
    ]


@pytest.mark.parametrize(("state", "description"), [("passed", "ok"), ("success", "x" * 141)])
def test_invalid_status_is_422(
    emu: GitHubEmulator, repo: Repository, state: str, description: str
) -> None:
    with pytest.raises(UnprocessableEntity):
        repo.create_status(HEAD, state, None, description, "ci")
    assert emu.statuses(REPO, HEAD) == []
    assert repo.create_status(HEAD, "success", None, "x" * 140, "ci").description == "x" * 140


# teams


def test_team_members_and_memberships(emu: GitHubEmulator, gh: github3.GitHub) -> None:
    team = gh.organization("acme").team_by_name("reviewers")
    assert (team.slug, team.members_count) == ("reviewers", 2)
    assert team.url.startswith(emu.api_url + "/teams/")
    assert [m.login for m in team.members()] == ["bob", "carol"]
    membership = team.membership_for("bob")
    assert (membership["state"], membership["role"]) == ("active", "member")
    with pytest.raises(NotFoundError):
        team.membership_for("dave")
    with pytest.raises(NotFoundError):
        gh.organization("acme").team_by_name("nobody")


def test_team_paths_by_organization_and_slug(emu: GitHubEmulator) -> None:
    members = _get(emu, "/orgs/acme/teams/reviewers/members")
    assert [m["login"] for m in members.json()] == ["bob", "carol"]
    assert _get(emu, "/orgs/acme/teams/reviewers/memberships/carol").json()["state"] == "active"
    assert _get(emu, "/orgs/acme/teams/reviewers/memberships/dave").status_code == 404


# authentication, faults and the protocol


def test_wrong_token_is_401(emu: GitHubEmulator) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        github3.GitHubEnterprise(emu.url, token="wrong").me()
    assert caught.value.msg == "Bad credentials"
    assert requests.get(emu.api_url + "/user", timeout=10).status_code == 401


def test_bearer_token_is_accepted(emu: GitHubEmulator) -> None:
    answer = requests.get(
        emu.api_url + "/user", headers={"Authorization": f"Bearer {emu.token}"}, timeout=10
    )
    assert answer.json()["login"] == "cfgctl-bot"


def test_fail_next_503_then_recovers(emu: GitHubEmulator, gh: github3.GitHub) -> None:
    emu.fail_next(503)
    with pytest.raises(ServerError) as caught:
        gh.me()
    assert caught.value.code == 503
    assert caught.value.msg == "Service Unavailable"
    assert gh.me().login == "cfgctl-bot"


def test_fail_next_matches_method_and_path(emu: GitHubEmulator, repo: Repository) -> None:
    issue = repo.issue(_open(emu))
    emu.fail_next(502, count=2, method="POST", path_contains="/comments")
    assert list(issue.comments()) == []
    for _ in range(2):
        with pytest.raises(ServerError):
            issue.create_comment("hello")
    assert issue.create_comment("hello").body == "hello"
    assert len(emu.comments(REPO, issue.number)) == 1


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (401, AuthenticationFailed, "Bad credentials"),
        (403, ForbiddenError, "Resource not accessible by integration"),
        (404, NotFoundError, "Not Found"),
        (500, ServerError, "Internal Server Error"),
    ],
)
def test_fail_next_answers_recorded_errors(
    emu: GitHubEmulator, gh: github3.GitHub, status: int, error: type[Exception], message: str
) -> None:
    emu.fail_next(status)
    with pytest.raises(error) as caught:
        gh.me()
    assert caught.value.msg == message  # type: ignore[attr-defined]


def test_rate_limit_until_cleared(emu: GitHubEmulator, gh: github3.GitHub) -> None:
    reset = int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    emu.rate_limit(reset)
    for _ in range(2):
        with pytest.raises(ForbiddenError) as caught:
            gh.me()
        headers = caught.value.response.headers
        assert (headers["X-RateLimit-Remaining"], headers["X-RateLimit-Reset"]) == ("0", str(reset))
        assert caught.value.msg.startswith("API rate limit exceeded")
    emu.clear_faults()
    assert gh.me().login == "cfgctl-bot"


def test_headers_on_every_answer(emu: GitHubEmulator) -> None:
    first, second = _get(emu, "/user"), _get(emu, "/nowhere")
    for answer in (first, second):
        assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
        assert answer.headers["Date"]
        assert answer.headers["X-RateLimit-Limit"] == "5000"
        assert answer.headers["X-RateLimit-Resource"] == "core"
        assert answer.headers["Server"] == "GitHub.com"
    remaining = [int(a.headers["X-RateLimit-Remaining"]) for a in (first, second)]
    assert remaining[1] == remaining[0] - 1
    assert int(second.headers["X-RateLimit-Used"]) == 5000 - remaining[1]
    assert first.headers["X-RateLimit-Reset"] == second.headers["X-RateLimit-Reset"]


def test_unknown_paths_are_404_with_the_recorded_body(emu: GitHubEmulator) -> None:
    for path in ("/nowhere", "/repos/acme/cfg/pulls/99", "/repos/acme/cfg/issues/1/events"):
        answer = _get(emu, path)
        assert answer.status_code == 404
        assert answer.json() == _recorded("error_404_not_found")
    answer = requests.get(emu.url + "/user", headers={"Authorization": f"token {emu.token}"})
    assert answer.status_code == 404


def test_requests_are_logged_with_their_query(emu: GitHubEmulator, repo: Repository) -> None:
    list(repo.pull_requests(state="open"))
    method, path = emu.requests[-1]
    assert method == "GET"
    assert path.startswith("/api/v3/repos/acme/cfg/pulls?")
    assert "state=open" in path
    assert "per_page=100" in path
    assert emu.requests[0] == ("GET", "/api/v3/repos/acme/cfg")


def test_python_api_refuses_what_github_would_not_hold(emu: GitHubEmulator) -> None:
    number = _open(emu)
    with pytest.raises(ValueError, match="exists already"):
        emu.open_pull(REPO, number, author="alice", head_sha=HEAD, base_sha=BASE)
    with pytest.raises(ValueError, match="review state"):
        emu.add_review(REPO, number, "bob", "LGTM")
    with pytest.raises(LookupError):
        emu.push(REPO, 42, NEXT)
    assert emu.open_pull(REPO, 10, author="alice", head_sha=HEAD, base_sha=BASE) == 10
    assert _open(emu) == 11
    with pytest.raises(ValueError, match="fail_next"):
        emu.fail_next(200)
    with pytest.raises(ValueError, match="fail_next"):
        emu.fail_next(503, count=0)


def test_etag_answers_304_to_a_matching_if_none_match(emu: GitHubEmulator) -> None:
    first = _get(emu, "/orgs/acme")
    again = requests.get(
        emu.api_url + "/orgs/acme",
        headers={"Authorization": f"token {emu.token}", "If-None-Match": first.headers["ETag"]},
        timeout=10,
    )
    assert (again.status_code, again.content) == (304, b"")


# the bodies are the recordings


def _bodies(emu: GitHubEmulator) -> dict[str, tuple[Any, Any]]:
    """What each endpoint answers, beside the recording it is built from."""
    number = _open(emu, labels=["prod"], body="text")
    emu.add_review(REPO, number, "bob")
    gh = github3.GitHubEnterprise(emu.url, token=emu.token)
    pr = gh.repository("acme", "cfg").pull_request(number)
    pr.create_review_requests(reviewers=["dave"], team_reviewers=["reviewers"])
    comment = pr.issue().create_comment("hi")
    gh.repository("acme", "cfg").create_status(HEAD, "success", context="ci")
    issue = gh.repository("acme", "cfg").create_issue("Drift", labels=["drift"])
    gh.session.close()
    team_id = _get(emu, "/orgs/acme/teams/reviewers").json()["id"]
    pairs = {
        "user_authenticated_get": "/user",
        "users_get": "/users/bob",
        "orgs_get": "/orgs/acme",
        "repos_get": "/repos/acme/cfg",
        "pulls_get": f"/repos/acme/cfg/pulls/{number}",
        "pulls_requested_reviewers_create": "/repos/acme/cfg/pulls",
        "pulls_reviews_list": f"/repos/acme/cfg/pulls/{number}/reviews",
        "pulls_requested_reviewers_list": f"/repos/acme/cfg/pulls/{number}/requested_reviewers",
        "issues_get": f"/repos/acme/cfg/issues/{number}",
        "issues_labels_list": f"/repos/acme/cfg/issues/{number}/labels",
        "issues_comments_list": f"/repos/acme/cfg/issues/{number}/comments",
        "issues_comment_get": f"/repos/acme/cfg/issues/comments/{comment.id}",
        "statuses_list": f"/repos/acme/cfg/commits/{HEAD}/statuses",
        "status_combined_get": f"/repos/acme/cfg/commits/{HEAD}/status",
        "teams_get_by_slug": "/orgs/acme/teams/reviewers",
        "teams_members_list": f"/teams/{team_id}/members",
        "teams_membership_get": f"/teams/{team_id}/memberships/bob",
    }
    bodies = {name: (_get(emu, path).json(), _recorded(name)) for name, path in pairs.items()}
    bodies["issues_list"] = (
        _get(emu, "/repos/acme/cfg/issues", labels="drift").json(),
        _recorded("issues_get"),
    )
    assert issue.number == number + 1
    return bodies


def _shape(value: Any) -> Any:
    """Keys and value kinds, recursively; a list by its first item."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__ if value is not None else None


def _keys(value: Any) -> set[str]:
    return set(value[0] if isinstance(value, list) else value)


def test_bodies_keep_every_recorded_field(emu: GitHubEmulator) -> None:
    bodies = _bodies(emu)
    for name, (served, recorded) in bodies.items():
        expected = _keys(recorded)
        if name == "issues_list":  # an issue that is no pull request has no "pull_request"
            expected -= {"pull_request"}
        assert _keys(served) == expected, name
    served, recorded = bodies["pulls_get"]
    for side in ("head", "base"):
        assert set(served[side]) == set(recorded[side])
        assert set(served[side]["repo"]) == set(recorded[side]["repo"])
        assert set(served[side]["repo"]["owner"]) == set(recorded[side]["repo"]["owner"])
    assert _shape(served["user"]) == _shape(recorded["user"])


def test_bodies_hold_no_value_of_the_recordings(emu: GitHubEmulator) -> None:
    text = json.dumps([served for served, _ in _bodies(emu).values()])
    for recorded in (
        "api.github.com",
        "sigmavirus24",
        "github3py",
        "github3.py",
        "octokit",
        "jacquerie",
        "<GITHUB",
        "erico-sandbox",
        "tmp-scenario",
        "testgh3py",
        "bgilbert",
        "itsmemattchung",
        "delete_contents",
        "team-1",
        "hello-world",
        "0000000000000000000000000000000000000001",
    ):
        assert recorded not in text
    assert emu.api_url + "/repos/acme/cfg" in text
