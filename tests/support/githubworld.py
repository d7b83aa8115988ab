"""The GitHub API emulator on 127.0.0.1 with the acme organization's teams and a config
repository: the world of the pull-request tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.github_emulator import GitHubEmulator
from tests.support.gitrepo import ConfigRepo
from tests.support.policies import POLICY

REPO = "acme/config"
TEAMS = {
    "sre": ["sam", "sue", "dev"],
    "payments": ["pat"],
    "search": ["sid"],
    "dba": ["dan"],
    "security": ["sec"],
    "sre-leads": ["lea"],
}

# Variables of a GitHub Actions run that would steer the CLI away from the emulator.
_ACTIONS_VARIABLES = (
    "GITHUB_REPOSITORY",
    "GITHUB_EVENT_PATH",
    "GITHUB_SERVER_URL",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
)


@dataclass
class GitHubWorld:
    emu: GitHubEmulator
    repo: ConfigRepo

    def args(self, *extra: str) -> tuple[str, ...]:
        return (*extra, "--github-repo", REPO, "--github-url", self.emu.url)

    def change(self, files: dict[str, str | bytes | None], message: str = "change") -> str:
        return self.repo.commit(files, message)

    def base_change(self) -> tuple[str, str]:
        """Commit an edit of config/base/_defaults.yaml (it reaches prod); (base, head) shas."""
        base = str(self.repo.repo.head.target)
        text = self.repo.read("config/base/_defaults.yaml")
        head = self.change(
            {
                "config/base/_defaults.yaml": text.replace(
                    "timeout_seconds: 30", "timeout_seconds: 45"
                )
            }
        )
        return base, head

    def open_pull(self, author: str = "dev", **kwargs: Any) -> int:
        base, head = self.base_change()
        return self.emu.open_pull(REPO, author=author, head_sha=head, base_sha=base, **kwargs)


def add_teams(emu: GitHubEmulator) -> None:
    """acme/config and acme's teams, with their members as users."""
    owner, name = REPO.split("/")
    emu.add_repo(owner, name)
    for slug, members in TEAMS.items():
        for login in members:
            emu.add_user(login)
        emu.add_team(owner, slug, members)


@contextmanager
def github_world(repo: ConfigRepo, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubWorld]:
    """`repo` with the issue's policy, served by a running emulator the CLI is pointed at."""
    repo.commit({"policy.yaml": POLICY}, "policy")
    with GitHubEmulator() as emu:
        add_teams(emu)
        for login in ("alice", "outsider"):
            emu.add_user(login)
        monkeypatch.setenv("GITHUB_TOKEN", emu.token)
        monkeypatch.setenv("CFGCTL_GITHUB_BACKOFF", "0.01")
        for var in _ACTIONS_VARIABLES:
            monkeypatch.delenv(var, raising=False)
        yield GitHubWorld(emu, repo)
