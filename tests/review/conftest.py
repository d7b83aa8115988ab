"""Fixtures of the pull-request tests: the secrets fixtures (real age keys, the real sops), and a
GitHub API emulator on 127.0.0.1 with the acme organization's teams and a config repository."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.secrets.conftest import alice, secret_repo
from tests.support.github_emulator import GitHubEmulator
from tests.support.gitrepo import ConfigRepo

__all__ = ["POLICY", "RULES", "TAIL", "GitHubWorld", "alice", "github", "secret_repo"]

REPO = "acme/config"
TEAMS = {
    "sre": ["sam", "sue", "dev"],
    "payments": ["pat"],
    "search": ["sid"],
    "dba": ["dan"],
    "security": ["sec"],
    "sre-leads": ["lea"],
}

# The policy, less the freeze (its dates would make the tests depend on the calendar;
# the freeze tests write their own window around now).
RULES = """\
  - name: prod-needs-sre
    when: {environments: [prod, prod-eu]}
    require: {approvals: 2, teams: ["@acme/sre"]}
  - name: owners-approve
    when: {services: ["*"]}
    require: {approvals: 1, from: owners}
  - name: db-keys
    when: {keys: ["db.*"]}
    require: {approvals: 1, teams: ["@acme/dba"], users: ["alice"], not_author: true}
"""
TAIL = """\
emergency: {label: emergency, require: {approvals: 1, teams: ["@acme/sre"]}, follow_up: true}
escalation: {after: 24h, to: {teams: ["@acme/sre-leads"]}}
"""
POLICY = "version: 1\nrules:\n" + RULES + TAIL


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

    def open_pull(self, author: str = "dev", **kwargs: object) -> int:
        base, head = self.base_change()
        return self.emu.open_pull(REPO, author=author, head_sha=head, base_sha=base, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def github(example_repo: ConfigRepo, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubWorld]:
    example_repo.commit({"policy.yaml": POLICY}, "policy")
    with GitHubEmulator() as emu:
        owner, name = REPO.split("/")
        emu.add_repo(owner, name)
        for slug, members in TEAMS.items():
            for login in members:
                emu.add_user(login)
            emu.add_team(owner, slug, members)
        for login in ("alice", "outsider"):
            emu.add_user(login)
        monkeypatch.setenv("GITHUB_TOKEN", emu.token)
        monkeypatch.setenv("CFGCTL_GITHUB_BACKOFF", "0.01")
        for var in (
            "GITHUB_REPOSITORY",
            "GITHUB_EVENT_PATH",
            "GITHUB_SERVER_URL",
            "GITHUB_OUTPUT",
            "GITHUB_STEP_SUMMARY",
        ):
            monkeypatch.delenv(var, raising=False)
        yield GitHubWorld(emu, example_repo)


def workspace_of(world: GitHubWorld) -> Path:
    return world.repo.workdir
