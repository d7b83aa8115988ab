"""The agent's canary gate (agent.yaml `analysis:`): after a wave is delivered and healthy, its
metrics are judged over a window; a regression rolls the wave back and blocks the later waves.

Real agent processes (`agent once`, `agent run`) over a real Git remote; the metrics are files
(analytics.yaml `source: {files: ...}`) written with a shift after the delivery the gate judges,
so each test controls what the metrics say.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cfgctl.repo.yamlio import parse
from tests.support.agentworld import AgentWorld, config, wait_for
from tests.support.cli import run_cli

pytestmark = pytest.mark.slow  # real agent processes, a real Prometheus or sample service

ANALYTICS = """\
version: 1
source: {files: {folder: %s}}
metrics:
  - {name: latency, query: "{service}-{env}.csv#p99", direction: higher_is_worse, critical: true}
"""


def read_yaml(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = parse(path.read_text(), str(path)).data
    return data


def audit(world: AgentWorld) -> list[dict[str, Any]]:
    lines = (world.state_dir / "audit.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _once(world: AgentWorld) -> dict[str, Any]:
    """One pass, in this process (as `agent once` runs it, without the process start-up)."""
    from cfgctl.agent.config import load_agent_config
    from cfgctl.agent.reconcile import Agent

    return Agent(load_agent_config(world.config)).run_pass().to_dict()


def _status(world: AgentWorld) -> list[dict[str, Any]]:
    """/status's targets, in this process."""
    from cfgctl.agent.config import load_agent_config
    from cfgctl.agent.server import status_document
    from cfgctl.agent.state import AgentState

    config = load_agent_config(world.config)
    targets: list[dict[str, Any]] = status_document(
        config, AgentState.load(config.state_dir / "state.json")
    )["targets"]
    return targets


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat().replace("+00:00", "Z")


def _setup(
    world: AgentWorld, analysis: str, metrics_folder: Path | None = None
) -> tuple[Path, Path]:
    """payments@prod in wave 1 with `analysis`, search@prod in wave 2; both delivered once."""
    folder = metrics_folder or world.root / "metrics"
    folder.mkdir(exist_ok=True)
    world.push({"analytics.yaml": ANALYTICS % folder}, "analytics")
    first, second = world.root / "payments.yaml", world.root / "search.yaml"
    config(
        world,
        f"  - {{service: payments, env: prod, path: {first}, wave: 1, analysis: {analysis}}}\n"
        f"  - {{service: search, env: prod, path: {second}, wave: 2}}\n",
    )
    first_pass = _once(world)
    assert sorted(first_pass["applied"]) == sorted(
        [f"payments@prod:{first}", f"search@prod:{second}"]
    )
    # the first delivery onto no file has nothing to compare with: not judged
    assert _status(world)[0]["canary"]["state"] == "skipped"
    return first, second


def _metrics(world: AgentWorld, since: float, shift: float, *, seed: int = 3) -> None:
    """p99 latency every 0.1 s from 60 s before the delivery to 60 s after: 100 +- 5, plus
    `shift` after it."""
    rng = np.random.default_rng(seed)
    rows = ["time,p99"]
    for t in np.arange(since - 60, since + 60, 0.1):
        rows.append(f"{_iso(t)},{rng.normal(100 + (shift if t >= since else 0), 5):.3f}")
    (world.root / "metrics/payments-prod.csv").write_text("\n".join(rows) + "\n")


def _canary(world: AgentWorld) -> dict[str, Any]:
    canary: dict[str, Any] = _status(world)[0]["canary"]
    return canary


def _since(world: AgentWorld) -> float:
    state = json.loads((world.state_dir / "state.json").read_text())
    return float(next(iter(state["targets"].values()))["canary"]["since"])


def _wait_until_due(world: AgentWorld) -> None:
    state = json.loads((world.state_dir / "state.json").read_text())
    until = float(next(iter(state["targets"].values()))["canary"]["until"])
    wait_for(lambda: time.time() > until + 0.05, timeout=30, what="the canary window to end")


def test_a_regression_rolls_the_wave_back_and_blocks_the_later_waves(world: AgentWorld) -> None:
    first, second = _setup(world, "{window: 1s}")
    good, search_before = first.read_bytes(), second.read_bytes()
    sha = world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 4", "tiny pool")

    result = _once(world)
    assert result["applied"] == [f"payments@prod:{first}"]
    assert read_yaml(first)["db"]["pool_size"] == 4
    canary = _canary(world)
    assert canary["state"] == "analysing" and canary["commit"] == sha
    assert result["wake_at"] is not None

    _metrics(world, _since(world), shift=40)  # the change made p99 40% worse
    _wait_until_due(world)
    judged = world.once("--format", "json")
    result = json.loads(judged.stdout)
    assert judged.returncode == 1, judged.stdout
    assert result["failed"] == [f"payments@prod:{first}"]
    assert first.read_bytes() == good  # the file before the change is back
    assert second.read_bytes() == search_before
    status = _status(world)
    assert status[0]["state"] == "rolled-back" and status[0]["commit"] != sha
    assert status[0]["canary"]["state"] == "regression"
    assert "critical metric latency regressed" in status[0]["last_error"]
    analysis = next(e for e in audit(world) if e["action"] == "analysis")
    assert analysis["outcome"] == "regression" and analysis["to"] == sha
    (latency,) = analysis["metrics"]
    assert latency["verdict"] == "regression" and latency["p_value"] < 0.02
    assert audit(world)[-1]["action"] == "rollback"

    again = _once(world)  # not retried, later still blocked
    assert again["failed"] == [f"payments@prod:{first}"]
    assert read_yaml(first)["db"]["pool_size"] == 40

    # `analyze impact` reads the same audit log and metrics and tells why
    shown = run_cli(
        "-C", str(world.repo.workdir), "analyze", "impact", sha[:12], "--audit",
        str(world.state_dir), "--window", "2s", "--exit-code",
    )  # fmt: skip
    assert shown.exit_code == 1, shown.stderr
    assert "regression" in shown.stdout and "latency" in shown.stdout


def test_a_change_that_does_no_harm_goes_on_to_the_next_wave(world: AgentWorld) -> None:
    first, second = _setup(world, "{window: 1s}")
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 41", "pool +1")
    world.edit("config/base/search.yaml", "port: 9200", "port: 9201", "search port")
    result = _once(world)
    assert result["applied"] == [f"payments@prod:{first}"]
    assert result["held"] == [f"search@prod:{second}"]
    assert "waiting for the analysis of wave 1" in _status(world)[1]["last_error"]

    _metrics(world, _since(world), shift=0)
    _wait_until_due(world)
    result = _once(world)
    assert result["applied"] == [f"search@prod:{second}"], result
    assert read_yaml(second)["server"]["port"] == 9201
    assert _canary(world)["state"] == "passed"


def test_inconclusive_holds_then_keeps_the_later_waves_held(world: AgentWorld) -> None:
    # no metrics file at all: the judgement cannot be made, and says why
    first, second = _setup(world, "{window: 1s, rounds: 2}")
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 41", "pool +1")
    world.edit("config/base/search.yaml", "port: 9200", "port: 9201", "search port")
    _once(world)
    _wait_until_due(world)
    result = _once(world)
    assert result["held"] == [f"search@prod:{second}"]
    canary = _canary(world)
    assert canary["state"] == "analysing" and canary["round"] == 2
    assert "could not be judged" in canary["reason"]
    _wait_until_due(world)
    result = _once(world)
    assert result["held"] == [f"search@prod:{second}"]
    canary = _canary(world)
    assert canary["state"] == "held" and "after 2 window(s)" in canary["reason"]
    assert read_yaml(first)["db"]["pool_size"] == 41  # not rolled back: no harm was shown
    assert read_yaml(second)["server"]["port"] == 9200
    assert "is held" in _status(world)[1]["last_error"]


def test_fail_on_inconclusive_rolls_back_what_cannot_be_shown_safe(world: AgentWorld) -> None:
    first, _ = _setup(world, "{window: 1s, fail_on: inconclusive, metrics: [latency]}")
    good = first.read_bytes()
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 41", "pool +1")
    _once(world)
    _wait_until_due(world)
    assert _once(world)["failed"] == [f"payments@prod:{first}"]
    assert first.read_bytes() == good
    assert _canary(world)["state"] == "failed"


def test_a_metric_analytics_yaml_lacks_is_inconclusive_with_its_name(world: AgentWorld) -> None:
    _, second = _setup(world, "{window: 1s, rounds: 1, metrics: [latnecy]}")
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 41", "pool +1")
    _once(world)
    _wait_until_due(world)
    result = _once(world)
    assert result["held"] == [f"search@prod:{second}"]
    canary = _canary(world)
    assert canary["state"] == "held" and "no metric 'latnecy'" in canary["reason"]


def test_the_running_agent_judges_when_the_window_ends(world: AgentWorld) -> None:
    """`agent run` polls hourly, yet judges the canary as soon as its window is over."""
    first, _ = _setup(world, "{window: 2s}")
    good = first.read_bytes()
    world.write_config(
        world.config.read_text().replace("poll_interval: 30s", "poll_interval: 1h")
        + "http: {listen: '127.0.0.1:0'}\n"
    )
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 4", "tiny pool")
    world.start()
    wait_for(lambda: _canary(world)["state"] == "analysing", what="the canary to start")
    _metrics(world, _since(world), shift=40)
    wait_for(lambda: first.read_bytes() == good, timeout=30, what="the canary rollback")
    _, body = world.get("/metrics")
    assert 'cfgctl_agent_analyses_total{verdict="regression"} 1.0' in body
    assert "cfgctl_agent_canary_rollbacks_total 1.0" in body
    _, status = world.get("/status")
    assert json.loads(status)["targets"][0]["canary"]["state"] == "regression"


def test_a_window_of_nothing_is_refused_with_its_line(world: AgentWorld) -> None:
    config(
        world,
        f"  - {{service: payments, env: prod, path: {world.root / 'p.yaml'}, "
        "analysis: {window: 0s}}\n",
    )
    result = world.once()
    assert result.returncode == 2
    assert "agent.yaml:4:" in result.stderr and "window" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_window_of_weeks_is_refused(tmp_path: Path) -> None:
    from cfgctl.agent.config import load_agent_config
    from cfgctl.errors import InputError

    path = tmp_path / "agent.yaml"
    path.write_text(
        "source: {url: /nowhere}\nstate_dir: st\n"
        "targets:\n  - {service: a, env: prod, path: a.yaml, analysis: {window: 100000d}}\n"
    )
    with pytest.raises(InputError, match="more than 7 days"):
        load_agent_config(path)


def test_a_wave_wide_analysis_applies_to_the_waves_it_names(tmp_path: Path) -> None:
    from cfgctl.agent.config import load_agent_config

    path = tmp_path / "agent.yaml"
    path.write_text(
        "source: {url: /nowhere}\nstate_dir: st\n"
        "analysis: {window: 10s, waves: [1]}\n"
        "targets:\n"
        "  - {service: a, env: prod, path: a.yaml}\n"
        "  - {service: b, env: prod, path: b.yaml, wave: 2}\n"
        "  - {service: c, env: prod, path: c.yaml, wave: 2, analysis: {window: 1m}}\n"
    )
    a, b, c = load_agent_config(path).targets
    assert a.analysis is not None and a.analysis.window.total_seconds() == 10
    assert b.analysis is None
    assert c.analysis is not None and c.analysis.window.total_seconds() == 60


def test_kill_9_during_a_canary_rollback_is_finished_at_restart(world: AgentWorld) -> None:
    """The agent killed while the canary rollback reloads the service: the next start finds the
    rollback marked in flight and finishes it (file, state, audit)."""
    out = world.root / "payments.yaml"
    marker = world.root / "reloading"
    # the first reload of the restored file (pool 40) hangs: the agent is killed there
    script = world.root / "reload.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"if grep -q 'pool_size: 40' {out} && [ ! -e {marker} ]; then touch {marker}; sleep 60; fi\n"
    )
    script.chmod(0o755)
    world.push({"analytics.yaml": ANALYTICS % (world.root / "metrics")}, "analytics")
    (world.root / "metrics").mkdir()
    config(
        world,
        f"  - {{service: payments, env: prod, path: {out}, reload: {{command: [{script}], "
        "timeout: 90s}, analysis: {window: 1s}}\n",
    )
    marker.touch()  # the first delivery's reload must not hang
    _once(world)
    good = out.read_bytes()
    marker.unlink()
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 4", "tiny pool")
    world.write_config(world.config.read_text() + "http: {listen: '127.0.0.1:0'}\n")
    proc = world.start()
    wait_for(lambda: (_canary(world) or {}).get("state") == "analysing", what="the canary")
    _metrics(world, _since(world), shift=40)
    wait_for(marker.exists, timeout=30, what="the rollback's reload")
    proc.kill()  # kill -9 in the middle of the rollback
    proc.wait()
    state = json.loads((world.state_dir / "state.json").read_text())
    (ts,) = state["targets"].values()
    assert ts["inflight"] is not None and ts["failed"] == ts["inflight"]
    assert out.read_bytes() == good  # restored before the reload that was cut off

    result = _once(world)  # the restart finishes the rollback, then judges nothing new
    assert result["failed"] == [f"payments@prod:{out}"]
    (ts,) = json.loads((world.state_dir / "state.json").read_text())["targets"].values()
    assert ts["inflight"] is None and ts["state"] == "rolled-back"
    assert out.read_bytes() == good
    last = audit(world)[-1]
    assert last["action"] == "rollback" and "finished after a restart" in last["error"]


def test_each_canary_of_a_wave_is_judged_when_its_own_window_ends(world: AgentWorld) -> None:
    folder = world.root / "metrics"
    folder.mkdir()
    world.push({"analytics.yaml": ANALYTICS % folder}, "analytics")
    short, long, later = (world.root / f"{n}.yaml" for n in ("short", "long", "later"))
    config(
        world,
        f"  - {{service: payments, env: prod, path: {short}, analysis: {{window: 1s}}}}\n"
        f"  - {{service: payments, env: prod, path: {long}, analysis: {{window: 5s}}}}\n"
        f"  - {{service: search, env: prod, path: {later}, wave: 2}}\n",
    )
    _once(world)
    world.edit("config/prod/payments.yaml", "pool_size: 40", "pool_size: 41", "pool +1")
    world.edit("config/base/search.yaml", "port: 9200", "port: 9201", "search port")
    _once(world)
    _metrics(world, _since(world), shift=0)
    state = json.loads((world.state_dir / "state.json").read_text())
    short_until = float(state["targets"][f"payments@prod:{short}"]["canary"]["until"])
    wait_for(lambda: time.time() > short_until + 0.05, timeout=30, what="the short window")
    result = _once(world)
    states = [t["canary"]["state"] for t in _status(world)[:2]]
    assert states == ["passed", "analysing"], states
    assert result["held"] == [f"search@prod:{later}"]
    state = json.loads((world.state_dir / "state.json").read_text())
    until = max(float(t["canary"]["until"]) for t in list(state["targets"].values())[:2])
    wait_for(lambda: time.time() > until + 0.05, timeout=30, what="the long window")
    assert _once(world)["applied"] == [f"search@prod:{later}"]
