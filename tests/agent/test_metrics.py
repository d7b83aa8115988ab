"""The agent's target gauges after a pass: `cfgctl_agent_target_in_sync` and
`cfgctl_agent_target_held` say, for every target (later waves too), whether it holds the branch's
commit, waits on purpose, or is stuck; the alerts of deploy/prometheus/ read them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cfgctl.agent.config import load_agent_config
from cfgctl.agent.metrics import Metrics
from cfgctl.agent.reconcile import Agent
from tests.support.agentworld import AgentWorld, config


def _gauges(agent: Agent, target: str) -> tuple[str, str]:
    text = agent.metrics.exposition()[0].decode()
    lines = {line.rpartition(" ")[0]: line.rpartition(" ")[2] for line in text.splitlines()}
    label = f'{{target="{target}"}}'
    return (
        lines[f"cfgctl_agent_target_in_sync{label}"],
        lines[f"cfgctl_agent_target_held{label}"],
    )


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}")
    path.chmod(0o755)
    return path


def test_target_state_sets_both_gauges() -> None:
    metrics = Metrics()
    metrics.target_state("a@prod:/x", "waiting")
    metrics.target_state("b@prod:/y", "in-sync")
    metrics.target_state("c@prod:/z", "blocked")
    text = metrics.exposition()[0].decode()
    assert 'cfgctl_agent_target_held{target="a@prod:/x"} 1.0' in text
    assert 'cfgctl_agent_target_in_sync{target="a@prod:/x"} 0.0' in text
    assert 'cfgctl_agent_target_in_sync{target="b@prod:/y"} 1.0' in text
    assert 'cfgctl_agent_target_held{target="b@prod:/y"} 0.0' in text
    assert 'cfgctl_agent_target_in_sync{target="c@prod:/z"} 0.0' in text
    assert 'cfgctl_agent_target_held{target="c@prod:/z"} 0.0' in text


def test_a_blocked_later_wave_is_no_longer_counted_in_sync(world: AgentWorld) -> None:
    first, second = world.root / "payments.yaml", world.root / "search.yaml"
    health = _script(world.root / "health.sh", f"! grep -q 'timeout_seconds: 99' {first}\n")
    config(
        world,
        f"  - {{service: payments, env: prod, path: {first}, wave: 1, "
        f"health: {{command: [{health}], timeout: 500ms}}}}\n"
        f"  - {{service: search, env: prod, path: {second}, wave: 2}}\n",
    )
    agent = Agent(load_agent_config(world.config))
    assert agent.run_pass().ok
    assert _gauges(agent, f"search@prod:{second}") == ("1.0", "0.0")
    world.edit("config/base/_defaults.yaml", "timeout_seconds: 30", "timeout_seconds: 99")
    result = agent.run_pass()
    assert result.blocked == [f"search@prod:{second}"]
    # Stuck behind a failed wave: neither in sync (the old value was 1) nor held on purpose.
    assert _gauges(agent, f"search@prod:{second}") == ("0.0", "0.0")
    assert _gauges(agent, f"payments@prod:{first}") == ("0.0", "0.0")


def test_a_wave_held_by_a_window_holds_later_waves_and_says_so(world: AgentWorld) -> None:
    staging, prod = world.root / "staging.yaml", world.root / "prod.yaml"
    start = datetime.now(UTC) + timedelta(hours=2)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[start.weekday()]
    closed = f"{day} {start:%H:%M}-{start + timedelta(hours=1):%H:%M} UTC"
    config(
        world,
        f"  - {{service: payments, env: staging, path: {staging}, wave: 1}}\n"
        f"  - {{service: payments, env: prod, path: {prod}, wave: 2}}\n",
        f"windows: {{staging: ['{closed}']}}\n",
    )
    agent = Agent(load_agent_config(world.config))
    agent.run_pass()
    assert _gauges(agent, f"payments@staging:{staging}") == ("0.0", "1.0")
    assert _gauges(agent, f"payments@prod:{prod}") == ("0.0", "1.0")
