"""Fixtures of the pull-request tests: the GitHub API emulator on 127.0.0.1 with the acme
organization's teams and a config repository (tests/support/githubworld.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.githubworld import GitHubWorld, github_world
from tests.support.gitrepo import ConfigRepo


@pytest.fixture
def github(example_repo: ConfigRepo, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubWorld]:
    with github_world(example_repo, monkeypatch) as world:
        yield world
