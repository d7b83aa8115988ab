"""agent.yaml checked at start against the source, with `cfgctl agent once|run` as real
processes: windows inherited along `inherits:`, a window or freeze for an unknown environment,
a poll interval below 1 s, a missing age key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.agentworld import AgentWorld
from tests.support.policies import POLICY

pytestmark = pytest.mark.slow  # agent processes against real Git remotes


def _config(world: AgentWorld, targets: str, extra: str = "", poll: str = "30s") -> Path:
    return world.write_config(
        f"source: {{url: {world.remote}, branch: main, poll_interval: {poll}}}\n"
        f"state_dir: {world.state_dir}\n"
        f"targets:\n{targets}{extra}"
    )


def _window(open_now: bool) -> str:
    now = datetime.now(UTC)
    start = now + (timedelta(hours=-1) if open_now else timedelta(hours=2))
    end = start + timedelta(hours=2 if open_now else 1)
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[start.weekday()]
    return f"{day} {start:%H:%M}-{end:%H:%M} UTC"


def _target(world: AgentWorld, env: str) -> tuple[Path, str]:
    out = world.root / f"{env}.yaml"
    return out, f"  - {{service: payments, env: {env}, path: {out}}}\n"


def test_windows_are_inherited_along_inherits(world: AgentWorld) -> None:
    out, target = _target(world, "prod-eu")
    _config(world, target, f"windows: {{prod: ['{_window(open_now=False)}']}}\n")
    result = world.once("--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["held"] == [f"payments@prod-eu:{out}"]
    assert not out.exists()
    assert "maintenance window of prod-eu" in world.status()["targets"][0]["last_error"]


def test_an_environment_with_its_own_windows_does_not_inherit(world: AgentWorld) -> None:
    out, target = _target(world, "prod-eu")
    closed, opened = _window(open_now=False), _window(open_now=True)
    _config(world, target, f"windows: {{prod: ['{closed}'], prod-eu: ['{opened}']}}\n")
    assert world.once().returncode == 0
    assert out.exists()
    # an empty list: always open, whatever prod says
    out.unlink()
    (world.state_dir / "state.json").unlink()
    _config(world, target, f"windows: {{prod: ['{closed}'], prod-eu: []}}\n")
    assert world.once().returncode == 0
    assert out.exists()


@pytest.mark.parametrize("command", ["once", "run"])
def test_a_window_for_an_unknown_environment_is_an_error_at_start(
    world: AgentWorld, command: str
) -> None:
    out, target = _target(world, "prod")
    _config(world, target, f"windows:\n  prdo: ['{_window(open_now=False)}']\n")
    result = world.cli("agent", command, "--config", str(world.config))
    assert result.returncode == 2, result.stderr
    assert f"{world.config}:6:" in result.stderr  # the line of `prdo:` in agent.yaml
    assert "'prdo' is no environment of cfgctl.yaml" in result.stderr
    assert "did you mean 'prod'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_a_freeze_for_an_unknown_environment_is_an_error_at_start(world: AgentWorld) -> None:
    now = datetime.now(UTC)
    world.push(
        {
            "policy.yaml": POLICY
            + "freeze:\n"
            + f'  - {{environments: [prdo], from: "{now - timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}", '
            + f'to: "{now + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ}"}}\n'
        },
        "a freeze with a typo",
    )
    out, target = _target(world, "prod")
    _config(world, target)
    result = world.once()
    assert result.returncode == 2, result.stderr
    assert "policy.yaml:" in result.stderr
    assert "'prdo'" in result.stderr and "did you mean 'prod'" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("poll", ["500ms", "0s"])
def test_a_poll_interval_below_one_second_is_refused_at_load(world: AgentWorld, poll: str) -> None:
    _, target = _target(world, "prod")
    _config(world, target, poll=poll)
    result = world.once()
    assert result.returncode == 2, result.stderr
    assert f"{world.config}:1" in result.stderr
    assert "below 1s" in result.stderr


def test_a_missing_age_key_file_is_an_error_at_start(world: AgentWorld) -> None:
    out, target = _target(world, "prod")
    missing = world.root / "no-such.key"
    _config(world, target, f"age_key_file: {missing}\n")
    for command in ("once", "run"):
        result = world.cli("agent", command, "--config", str(world.config))
        assert result.returncode == 3, result.stderr
        assert f"{world.config}:5:" in result.stderr
        assert "no-such.key" in result.stderr
        assert not out.exists()
    not_a_key = world.root / "not-a.key"
    not_a_key.write_text("hello\n")
    _config(world, target, f"age_key_file: {not_a_key}\n")
    result = world.once()
    assert result.returncode == 3, result.stderr
    assert "holds no age identity" in result.stderr
