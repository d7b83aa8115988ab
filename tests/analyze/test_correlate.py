"""`cfgctl analyze correlate`: a real history (Git commits delivered by the agent at known times)
and a latency series that moves only when `workers` changes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from cfgctl.analyze.config import Metric, load_analytics
from cfgctl.analyze.correlate import correlate, prometheus_step
from cfgctl.analyze.deliveries import read_deliveries
from cfgctl.analyze.keychanges import KeyChanges
from cfgctl.analyze.prometheus import PrometheusSource
from cfgctl.repo.snapshot import Snapshot
from tests.analyze.world import Settings, World, make_world
from tests.support.cli import run_cli
from tests.support.gitrepo import ConfigRepo
from tests.support.prometheus import Prometheus

CHANGES: list[Settings] = [
    {"workers": 12},
    {"log_level": "debug"},
    {"workers": 16},
    {"log_level": "info"},
    {"workers": 6},
    {"log_level": "warn", "timeout_ms": 1200},
    {"workers": 20},
    {"log_level": "info"},
    {"workers": 10},
    {"log_level": "debug"},
    {"workers": 24},
    {"log_level": "info"},
]


def _latency(s: Settings) -> float:
    return 200.0 - 4.0 * float(s["workers"])  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return make_world(tmp_path_factory.mktemp("correlate"), CHANGES, _latency)


def _run(world: World, *args: str) -> tuple[int, str, str]:
    result = run_cli(
        "-C", str(world.root), "analyze", "correlate", "--audit", str(world.audit), *args
    )
    return result.exit_code, result.stdout, result.stderr


def test_the_key_that_moves_the_metric_ranks_first(world: World) -> None:
    status, stdout, stderr = _run(world, "--metric", "latency", "--format", "json")
    assert status == 0, stderr
    data = json.loads(stdout)
    assert data["deliveries"] == 13 and data["series"] == 1 and data["reason"] is None
    assert len(data["shifts"]) == 6
    workers_commits = {world.commits[i] for i in range(1, 13, 2)}
    for shift in data["shifts"]:
        (before,) = shift["preceding"]
        assert before["commit"] in workers_commits and before["keys"] == ["workers"]
        assert shift["worse"] == (shift["after"] > shift["before"])
    first = data["ranking"][0]
    assert (first["service"], first["key"]) == ("payments", "workers")
    assert first["changes"] == 6 and first["hits"] == 6 and first["rate"] == 1.0
    assert 0.05 < first["p0"] < 0.3 and first["p_value"] < 1e-3
    assert len(data["ranking"]) == 1
    stop = {r["key"]: r for r in data["stop_tuning"]}
    assert stop["log_level"]["changes"] == 6 and stop["log_level"]["hits"] == 0
    assert stop["timeout_ms"]["changes"] == 1 and stop["log_level"]["p_value"] == 1.0
    text = _run(world, "--metric", "latency")[1]
    assert "latency: 13 deliveries, 1 series, 6 shift(s)" in text
    assert "payments workers: 6/6 (100%)" in text
    assert "candidates to stop tuning" in text and "payments log_level: 6 change(s)" in text


def test_the_library_result_and_the_prometheus_step(world: World) -> None:
    config = load_analytics(world.root / "analytics.yaml")
    snap = Snapshot.from_worktree(world.root)
    deliveries = read_deliveries(world.audit)
    result = correlate(
        KeyChanges(snap),
        deliveries,
        config.metric("errors"),
        config.open_source(),
        start=world.start - 60,
        end=world.times[-1] + 7200,
        window=1800.0,
    )
    assert result.shifts == [] and result.reason is not None
    assert "no change point" in result.reason
    assert set(result.to_dict()) >= {"ranking", "stop_tuning", "shifts", "reason"}
    assert prometheus_step(0, 86400 * 30) == pytest.approx(259.2)
    assert prometheus_step(0, 600) == 1.0
    assert prometheus_step(0, 600, step=15) == 15.0  # analytics.yaml's step, the scrape interval


def test_no_deliveries_in_the_range_is_said_plainly(world: World, tmp_path: Path) -> None:
    empty = tmp_path / "audit.jsonl"
    empty.write_text("")
    result = run_cli(
        "-C", str(world.root), "analyze", "correlate", "--metric", "latency",
        "--audit", str(empty),
    )  # fmt: skip
    assert result.exit_code == 0 and "no deliveries in the range" in result.stdout
    status, stdout, _ = _run(world, "--metric", "latency", "--since", "1m", "-f", "json")
    assert status == 0 and json.loads(stdout)["deliveries"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metric", "latncy"], "did you mean 'latency'?"),
        (["--metric", "latency", "--since", "a month"], "--since a month: not a duration"),
        (["--metric", "latency", "--window", "0s"], "--window 0s: not a positive duration"),
        (["--metric", "latency", "--service", "payment"], "did you mean 'payments'"),
        (["--metric", "latency", "--env", "qa"], "qa"),
    ],
)
def test_bad_input_is_exit_2(world: World, args: list[str], message: str) -> None:
    status, stdout, stderr = _run(world, *args)
    assert status == 2 and message in stderr and "Traceback" not in stdout + stderr


def test_no_analytics_yaml(world: World, tmp_path: Path, small_repo: ConfigRepo) -> None:
    result = run_cli(
        "-C", str(world.root), "analyze", "correlate", "--metric", "latency",
        "--audit", str(world.audit), "--config", str(tmp_path / "none.yaml"),
    )  # fmt: skip
    assert result.exit_code == 2 and "cannot read the analytics configuration" in result.stderr
    for command in (
        ["correlate", "--metric", "latency"],
        ["recommend", "payments", "--env", "prod", "--metric", "latency"],
    ):
        found = run_cli(
            "-C", str(small_repo.workdir), "analyze", *command, "--audit", str(world.audit)
        )
        assert found.exit_code == 2, found.output
        assert "this repository has no analytics.yaml" in found.stderr


@pytest.mark.slow
def test_over_a_real_prometheus(world: World, prometheus: Prometheus) -> None:
    """The query filled in as PromQL for each delivery, asked at a step that keeps 30 days
    under 10,000 points: the sample's constant latency has no shift to explain."""
    source = PrometheusSource(prometheus.url)
    metric = Metric("latency", 'sample_latency_seconds{service="{service}"}', "higher_is_worse")
    now = time.time()
    result = correlate(
        KeyChanges(Snapshot.from_worktree(world.root)),
        read_deliveries(world.audit),
        metric,
        source,
        start=now - 30 * 86400,
        end=now,
        window=1800.0,
    )
    assert result.deliveries == 13 and result.series == 1
    assert result.shifts == [] and result.reason is not None and "no change point" in result.reason
    assert result.ranking == [] and result.stop_tuning == []  # no change with data around it
    every = Metric("latency", "sample_latency_seconds", "higher_is_worse")  # one per service
    changes = KeyChanges(Snapshot.from_worktree(world.root))
    wide = correlate(
        changes, read_deliveries(world.audit), every, source, start=now - 7 * 86400, end=now,
        window=60,
    )  # fmt: skip
    assert wide.series == 3 and wide.deliveries == 13 and wide.shifts == []
