"""Fixtures of the agent's tests: a world (a config repository, its bare remote, a state folder),
its agent processes stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.agentworld import AgentWorld


@pytest.fixture
def world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[AgentWorld]:
    """A module with `AGENT_PROCESSES = True` runs every command as a process of its own."""
    w = AgentWorld.create(tmp_path, processes=getattr(request.module, "AGENT_PROCESSES", False))
    yield w
    w.stop_all()
