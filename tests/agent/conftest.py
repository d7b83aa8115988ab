"""Fixtures of the agent's tests: a world (a config repository, its bare remote, a state folder),
its agent processes stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agentworld import AgentWorld


@pytest.fixture
def world(tmp_path: Path) -> Iterator[AgentWorld]:
    w = AgentWorld.create(tmp_path)
    yield w
    w.stop_all()
