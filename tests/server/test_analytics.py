"""GET /api/v1/analytics/{service}/{env}: the metrics of a pair over a period, its change
points, the deliveries and their verdicts, from analytics.yaml's files source and the agent's
audit log; "no analytics.yaml" said plainly; bad input as problems."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.analyticsdata import QUIET_AGO, REGRESSION_AGO, analytics_files, write_audit
from tests.support.gitrepo import ConfigRepo
from tests.support.prometheus import PROMETHEUS, Prometheus, SampleExporter
from tests.support.server import served

URL = "/api/v1/analytics/payments/prod"


@pytest.fixture
def world(example_repo: ConfigRepo, tmp_path: Path) -> tuple[ConfigRepo, Path, float]:
    now = time.time()
    head = str(example_repo.repo.head.target)
    commits = (head, "a" * 40, "b" * 40)
    example_repo.commit(analytics_files(now), "analytics: a files source")
    audit = write_audit(tmp_path / "agent", commits, now)
    return example_repo, audit, now


def test_metrics_changepoints_deliveries_and_verdicts(
    world: tuple[ConfigRepo, Path, float],
) -> None:
    repo, audit, now = world
    with served(repo.workdir, agent_audit=audit) as client:
        answer = client.get(URL, params={"from": str(now - 47 * 3600), "window": "30m"})
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert (doc["configured"], doc["source"], doc["notes"]) == (True, "files", [])
    latency, errors = doc["metrics"]
    assert (latency["name"], latency["critical"], latency["problem"]) == ("latency_ms", True, None)
    series = latency["series"][0]
    assert series["points"] > 2000 and len(series["values"]) <= 1000  # thinned for the page
    assert len(series["times"]) == len(series["values"]) == len(series["high"])
    [shift] = series["changepoints"]
    assert abs(shift["time"] - (now - REGRESSION_AGO)) < 180 and shift["p_value"] < 1e-6
    assert shift["after"] > shift["before"] * 1.2
    assert errors["series"][0]["changepoints"] == []
    assert [d["commit"] for d in doc["deliveries"]] == ["a" * 40, "b" * 40]
    assert abs(doc["deliveries"][1]["time"] - (now - QUIET_AGO)) < 1
    first, second = doc["impacts"]
    [target] = first["targets"]
    assert target["verdict"] == "regression"
    judged = {m["metric"]: m for m in target["metrics"]}
    assert judged["latency_ms"]["verdict"] == "regression"
    assert judged["latency_ms"]["p_value"] < 0.02 and judged["latency_ms"]["effect"] > 20
    low, high = judged["latency_ms"]["interval"]
    assert low < judged["latency_ms"]["effect"] < high
    assert second["targets"][0]["verdict"] == "pass"


def test_a_period_before_the_deliveries_has_none(world: tuple[ConfigRepo, Path, float]) -> None:
    repo, audit, now = world
    with served(repo.workdir, agent_audit=audit) as client:
        doc = client.get(URL, params={"from": now - 47 * 3600, "to": now - 40 * 3600}).json()
    assert doc["deliveries"] == [] and doc["impacts"] == []
    assert doc["metrics"][0]["series"][0]["changepoints"] == []


def test_without_analytics_yaml_or_an_audit_log_it_says_so(
    example_repo: ConfigRepo, world: tuple[ConfigRepo, Path, float]
) -> None:
    repo, _, _ = world
    with served(repo.workdir) as client:
        no_audit = client.get(URL).json()
    repo.commit({"analytics.yaml": None}, "no analytics")
    with served(repo.workdir) as client:
        none = client.get(URL)
    assert no_audit["deliveries"] == [] and "--agent-audit" in no_audit["notes"][0]
    assert none.status_code == 200
    assert none.json()["configured"] is False
    assert "no analytics.yaml" in none.json()["reason"]


def test_bad_requests_and_a_broken_source(world: tuple[ConfigRepo, Path, float]) -> None:
    repo, audit, _ = world
    with served(repo.workdir, agent_audit=audit) as client:
        unknown = client.get("/api/v1/analytics/paymnts/prod")
        bad_time = client.get(URL, params={"from": "yesterday"})
        backwards = client.get(URL, params={"from": "2026-12-02T00:00:00Z", "to": "2026-12-01"})
        bad_window = client.get(URL, params={"window": "forever"})
    assert unknown.status_code == 404 and "payments" in unknown.json()["hint"]
    assert bad_time.status_code == 400 and "from" in bad_time.json()["detail"]
    assert backwards.status_code == 400 and bad_window.status_code == 400
    repo.commit({"analytics.yaml": "version: 1\nsource: {files: {}}\nmetrics: []\n"}, "broken")
    with served(repo.workdir, agent_audit=audit) as client:
        broken = client.get(URL)
    assert broken.status_code == 422
    assert broken.json()["location"]["path"] == "analytics.yaml"
    unreachable = "version: 1\nsource: {prometheus: {url: 'http://127.0.0.1:9', timeout: 2s}}\n"
    metric = "metrics: [{name: m, query: 'up{service={service}}', direction: higher_is_worse}]\n"
    repo.commit({"analytics.yaml": unreachable + metric}, "prometheus")
    with served(repo.workdir, agent_audit=audit) as client:
        down = client.get(URL)
    assert down.status_code == 503, down.text
    assert "cannot reach Prometheus" in down.json()["detail"]


@pytest.mark.slow  # a real Prometheus scraping for a few seconds
@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed")
def test_metrics_from_prometheus(example_repo: ConfigRepo, tmp_path: Path) -> None:
    """analytics.yaml naming Prometheus: the pair's query filled in (escaped) and read."""
    config = (
        "version: 1\n"
        "source: {prometheus: {url: URL, step: 1s}}\n"
        "metrics: [{name: latency, query: 'sample_latency_seconds{service={service}}',"
        " direction: higher_is_worse}]\n"
    )
    with SampleExporter() as exporter, Prometheus(tmp_path, [exporter.address]) as prom:
        prom.wait_for_samples("sample_latency_seconds", 3)
        example_repo.commit({"analytics.yaml": config.replace("URL", prom.url)}, "prometheus")
        with served(example_repo.workdir) as client:
            doc = client.get(URL, params={"from": str(time.time() - 60)}).json()
    assert doc["source"] == "Prometheus", doc
    [metric] = doc["metrics"]
    assert metric["problem"] is None, metric
    [series] = metric["series"]
    assert 'service="payments"' in series["name"]
    assert series["points"] >= 3 and set(series["values"]) == {0.25}
