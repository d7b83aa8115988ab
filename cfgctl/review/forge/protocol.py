"""What the review workflow needs from a code forge, and nothing more: pull requests, reviews,
review requests, team membership, comments, commit statuses, issues.

    def gate(gh: Forge, number: int, ...) -> ...:   # the workflow (review/pullrequest.py)
    gh = GitHubRepo.connect(target)                   # the CLI picks the implementation

`forge/github.py` is the implementation through github3.py; the workflow never imports it, so a
test, another forge or a dry run can stand in without loading github3.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from cfgctl.review.approval import Review

__all__ = ["Forge", "ForgeTarget", "Linked", "PullInfo"]


@dataclass(frozen=True)
class PullInfo:
    number: int
    title: str
    author: str
    head_sha: str
    base_sha: str
    base_ref: str
    labels: tuple[str, ...]
    created_at: datetime
    draft: bool
    state: str
    html_url: str


class ForgeTarget(Protocol):
    """The repository a forge speaks for."""

    @property
    def owner(self) -> str: ...


class Linked(Protocol):
    """A comment or an issue: something with an address to show."""

    @property
    def html_url(self) -> Any: ...


class Forge(Protocol):
    """One repository on a forge. Failures raise `EnvError` (exit 3)."""

    @property
    def target(self) -> ForgeTarget: ...

    def pull(self, number: int) -> PullInfo: ...

    def open_pulls(self) -> list[PullInfo]: ...

    def reviews(self, number: int) -> list[Review]: ...

    def requested_reviewers(self, number: int) -> tuple[set[str], set[str]]:
        """The users (logins) and teams (slugs) whose review is requested."""
        ...

    def request_reviews(self, number: int, users: list[str], teams: list[str]) -> None: ...

    def is_member(self, team: str, user: str) -> bool: ...

    def find_comment(self, number: int, marker: str) -> Linked | None: ...

    def upsert_comment(self, number: int, marker: str, body: str) -> tuple[str, str]:
        """Create the comment holding `marker`, or edit it in place. Returns (what, url)."""
        ...

    def comment(self, number: int, body: str) -> None: ...

    def set_status(
        self, sha: str, state: str, description: str, context: str, target_url: str | None
    ) -> None: ...

    def latest_status(self, sha: str, context: str) -> str | None: ...

    def find_issue(self, marker: str) -> Linked | None: ...

    def create_issue(self, title: str, body: str, labels: list[str]) -> Linked: ...
