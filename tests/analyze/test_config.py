"""analytics.yaml: read, checked against its schema, every problem at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from cfgctl.analyze.config import (
    FilesSpec,
    PrometheusSpec,
    analytics_of,
    load_analytics,
)
from cfgctl.analyze.prometheus import PrometheusSource
from cfgctl.analyze.sources import FileSource
from cfgctl.errors import InputError
from cfgctl.repo.snapshot import Snapshot
from tests.support.gitrepo import ConfigRepo

GOOD = """\
version: 1
source:
  prometheus: {url: "http://127.0.0.1:9090", timeout: 5s}
metrics:
  - name: latency_p99
    query: histogram_quantile(0.99, sum by (le) (rate(req_bucket{service={service}}[1m])))
    direction: higher_is_worse
    weight: 2
    critical: true
  - name: throughput
    query: sum(rate(req_total{service="{service}", env="{env}"}[1m]))
    direction: higher_is_better
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "analytics.yaml"
    path.write_text(text)
    return path


def test_a_good_file(tmp_path: Path) -> None:
    config = load_analytics(_write(tmp_path, GOOD))
    assert config.source == PrometheusSpec("http://127.0.0.1:9090", 5.0)
    latency, throughput = config.metrics
    assert (latency.weight, latency.critical, latency.higher_is_worse) == (2.0, True, True)
    assert (throughput.weight, throughput.critical, throughput.higher_is_worse) == (
        1.0,
        False,
        False,
    )
    assert latency.origin == f"{tmp_path / 'analytics.yaml'}:5:5"
    assert config.metric("throughput") is throughput
    source = config.open_source()
    assert isinstance(source, PrometheusSource) and source.timeout == 5.0
    assert source.render(throughput.query, {"service": 'x"y', "env": "prod"}) == (
        'sum(rate(req_total{service="x\\"y", env="prod"}[1m]))'
    )
    with pytest.raises(InputError, match="no metric 'latency'") as caught:
        config.metric("latency")
    assert "did you mean 'latency_p99'?" in (caught.value.hint or "")


def test_a_tolerance_is_a_share_or_an_amount_and_the_step_a_duration(tmp_path: Path) -> None:
    text = GOOD.replace("weight: 2", "tolerance: 12.5%").replace(
        "direction: higher_is_better", "direction: higher_is_better\n    tolerance: 3"
    )
    config = load_analytics(_write(tmp_path, text.replace("timeout: 5s", "step: 15s")))
    latency, throughput = config.metrics
    assert (latency.tolerance, latency.relative_tolerance) == (0.125, True)
    assert (throughput.tolerance, throughput.relative_tolerance) == (3.0, False)
    assert config.step == 15.0
    assert load_analytics(_write(tmp_path, GOOD)).metrics[0].tolerance is None


def test_a_files_source_is_relative_to_the_repository_root(tmp_path: Path) -> None:
    text = GOOD.replace(
        'prometheus: {url: "http://127.0.0.1:9090", timeout: 5s}', "files: {folder: m}"
    )
    config = load_analytics(_write(tmp_path, text))
    assert config.source == FilesSpec(tmp_path / "m")
    assert isinstance(config.open_source(), FileSource)


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        (
            GOOD.replace("higher_is_worse", "up"),
            [
                ":7:16: metrics[0].direction: expected higher_is_worse (latency, errors) or higher_is_better"
            ],
        ),
        (
            GOOD.replace("weight: 2", "weight: -1").replace("critical: true", "critical: yes"),
            [
                ":8:13: metrics[0].weight: expected a number at least 0, got -1",
                ':9:15: error: metrics[0].critical: expected boolean, got string "yes"',
            ],
        ),
        (
            GOOD.replace("  prometheus:", "  files: {folder: m}\n  prometheus:"),
            [":3:3: source: expected one source: prometheus: {url: ...} or files: {folder: ...}"],
        ),
        (
            GOOD.replace('"http://127.0.0.1:9090"', "127.0.0.1:9090"),
            [":3:21: source.prometheus.url: expected an http(s) URL"],
        ),
        (
            GOOD.replace("timeout: 5s", "timeout: 5"),
            [":3:55: source.prometheus.timeout: expected a duration"],
        ),
        (
            GOOD.replace("name: throughput", "name: latency_p99"),
            [":10:11: metrics[1].name: 'latency_p99' is the name of metrics[0] too"],
        ),
        (
            GOOD.replace('env="{env}"', 'env="{enviroment}"'),
            [":11:12: metrics[1].query: unknown placeholder {enviroment}"],
        ),
        (
            "version: 1\nsource: {files: {folder: m}}\nmetrics: []\n",
            [":3:10: metrics: [] should be non-empty"],
        ),
        (
            "",
            [
                ":1:1: (root): missing required key 'metrics'",
                ":1:1: error: (root): missing required key 'version'",
            ],
        ),
        (GOOD + "extra: 1\n", [":13:1: (root): unknown key 'extra'"]),
        (
            GOOD.replace("weight: 2", "tolerance: ten percent"),
            [":8:16: metrics[0].tolerance: expected a share of the baseline such as 5%"],
        ),
        (
            GOOD.replace("timeout: 5s}", "timeout: 5s, step: 0s}"),
            [":3:65: source.prometheus.step: must be more than 0"],
        ),
    ],
)
def test_a_bad_file_names_each_problem_at_its_line(
    tmp_path: Path, text: str, messages: list[str]
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_analytics(path)
    full = str(caught.value)
    assert caught.value.exit_code == 2 and full.startswith(str(path))
    for message in messages:
        assert f"{path}{message}" in full, full


def test_an_unreadable_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the analytics configuration"):
        load_analytics(tmp_path / "analytics.yaml")
    with pytest.raises(InputError, match=r"analytics.yaml:3:1: invalid YAML"):
        load_analytics(_write(tmp_path, "version: 1\nsource: [\n"))


def test_analytics_of_a_snapshot(example_repo: ConfigRepo) -> None:
    assert analytics_of(Snapshot.from_worktree(example_repo.workdir)) is None
    example_repo.commit({"analytics.yaml": GOOD}, "analytics")
    config = analytics_of(Snapshot.at(example_repo.workdir, "HEAD"))
    assert config is not None and [m.name for m in config.metrics] == ["latency_p99", "throughput"]
    assert config.path == "analytics.yaml"
    example_repo.write({"analytics.yaml": GOOD.replace("weight: 2", "weight: heavy")})
    with pytest.raises(InputError, match=r"^analytics.yaml:8:13: metrics\[0\].weight"):
        analytics_of(Snapshot.from_worktree(example_repo.workdir))


def test_a_prometheus_url_that_is_no_url_is_refused_with_a_message() -> None:
    from cfgctl.analyze.prometheus import PrometheusSource

    for url in ("http://[::1", "http://host:99999"):
        with pytest.raises(InputError, match="is not a URL"):
            PrometheusSource(url)
