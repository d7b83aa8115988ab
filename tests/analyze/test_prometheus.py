"""PrometheusSource against a real Prometheus (Debian's package) scraping a sample exporter on
loopback; and the ways a server can fail.

The tests that use the server share one per test process, started in the background when
collection ends (tests/analyze/conftest.py): Prometheus needs ~7 s before its first scrape.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from cfgctl.analyze.prometheus import PrometheusSource
from cfgctl.analyze.series import Series
from cfgctl.analyze.sources import MetricSource
from cfgctl.errors import EnvError, InputError
from tests.support.prometheus import LATENCIES, Prometheus, free_port

STEP = 0.25  # finer than the scrape interval: every sample is seen


def _recent(source: MetricSource, query: str, step: float = STEP) -> list[Series]:
    now = time.time()
    return source.series(query, now - 120, now, step)


@pytest.mark.slow
def test_one_series_per_label_set_named_by_its_labels(prometheus: Prometheus) -> None:
    source = PrometheusSource(prometheus.url)
    assert isinstance(source, MetricSource)
    found = {s.name: s for s in _recent(source, "sample_latency_seconds")}
    assert len(found) == 3
    for service, value in LATENCIES.items():
        (name,) = [n for n in found if f"service={_quoted(service)}" in n]
        assert name.startswith('sample_latency_seconds{instance="127.0.0.1:')
        assert 'job="sample"' in name
        series = found[name]
        assert len(series) >= 3 and series.dropped == 0
        assert set(series.values.tolist()) == {value}
        assert series.times is not None and (series.times[1:] > series.times[:-1]).all()


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.slow
def test_counter_values_and_an_unlabelled_aggregate(prometheus: Prometheus) -> None:
    source = PrometheusSource(prometheus.url + "/")  # a trailing slash is fine
    (counter,) = _recent(source, 'sample_requests_total{service="payments"}')
    values = counter.values.tolist()
    assert values == sorted(values) and all(v % 10 == 0 for v in values) and values[-1] >= 30
    (total,) = _recent(source, "sum(sample_requests_total)")
    assert total.name == "sum(sample_requests_total)"  # no labels: the query names it


@pytest.mark.slow
def test_nan_samples_are_dropped_and_counted(prometheus: Prometheus) -> None:
    (flaky,) = _recent(PrometheusSource(prometheus.url), "sample_flaky_ratio")
    assert set(flaky.values.tolist()) == {1.0} and flaky.dropped >= 1
    # A series with no number at all is left out.
    assert _recent(PrometheusSource(prometheus.url), "sample_flaky_ratio / 0 * 0") == []


@pytest.mark.slow
def test_placeholders_cannot_inject_promql(prometheus: Prometheus) -> None:
    source = PrometheusSource(prometheus.url)
    weird = 'we"ird\\name'
    (series,) = _recent(
        source, source.render('sample_latency_seconds{service="{service}"}', {"service": weird})
    )
    assert series.values.tolist()[0] == 0.75
    (bare,) = _recent(
        source, source.render("sample_latency_seconds{service={service}}", {"service": weird})
    )
    assert bare.name == series.name
    hostile = {
        "service": 'payments"} or vector(1) or sample_latency_seconds{service="x',
        "env": ".*",
    }
    for template in (
        'sample_latency_seconds{service="{service}"}',
        "sample_latency_seconds{service='{service}'}",
        "sample_latency_seconds{service={service}}",
        'sample_latency_seconds{service=~"{env}"}',  # a regex value is matched literally
    ):
        query = source.render(template, hostile)
        assert _recent(source, query) == [], query
    # Unescaped, the same values would have matched everything.
    assert len(_recent(source, 'sample_latency_seconds{service=~".*"}')) == 3


@pytest.mark.slow
def test_a_query_matching_nothing_is_an_empty_list(prometheus: Prometheus) -> None:
    assert _recent(PrometheusSource(prometheus.url), 'sample_latency_seconds{service="nope"}') == []
    # A window before any sample too.
    source = PrometheusSource(prometheus.url)
    assert source.series("sample_latency_seconds", 1_000_000, 1_000_060, 15) == []


@pytest.mark.slow
def test_bad_promql_is_an_input_error_with_prometheus_message(prometheus: Prometheus) -> None:
    source = PrometheusSource(prometheus.url)
    with pytest.raises(InputError) as caught:
        _recent(source, "sum(rate(sample_requests_total[1m])")
    assert caught.value.exit_code == 2
    assert (
        "Prometheus refused the query 'sum(rate(sample_requests_total[1m])'" in caught.value.message
    )
    assert "parse error" in caught.value.message and "(bad_data)" in caught.value.message
    assert "metrics[].query" in (caught.value.hint or "")
    with pytest.raises(InputError, match="exceeded maximum resolution"):
        _recent(source, "sample_latency_seconds", step=0.001)  # 120,000 points a series


@pytest.mark.slow
def test_an_http_server_that_is_not_prometheus(prometheus: Prometheus) -> None:
    # Prometheus' own UI path answers HTML, not the API.
    source = PrometheusSource(prometheus.url + "/graph")
    with pytest.raises(EnvError, match=r"answered HTTP \d+ with no Prometheus API answer"):
        _recent(source, "up")


def test_a_server_that_is_down_is_an_environment_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there any more
    with pytest.raises(EnvError) as caught:
        PrometheusSource(url).series("up", 0, 60, 15)
    assert caught.value.exit_code == 3
    assert caught.value.message == f"cannot reach Prometheus at {url}: Connection refused"
    assert "source.prometheus.url in analytics.yaml" in (caught.value.hint or "")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def test_a_server_that_never_answers_times_out(silent_port: int) -> None:
    started = time.monotonic()
    with pytest.raises(EnvError, match="timed out") as caught:
        PrometheusSource(f"http://127.0.0.1:{silent_port}", timeout=0.3).series("up", 0, 60, 15)
    assert caught.value.exit_code == 3 and time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("127.0.0.1:9090", "is not an http"),
        ("ftp://h/", "is not an http"),
        ("http:///x", "is not an http"),
        ("http://u:s3cret@h:9090/", r"holds credentials \(http://\*\*\*@h:9090\.\.\.\)$"),
    ],
)
def test_a_bad_url_is_an_input_error(url: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        PrometheusSource(url)


def test_a_bad_range_is_refused() -> None:
    source = PrometheusSource("http://127.0.0.1:9")
    with pytest.raises(InputError, match="bad time range"):
        source.series("up", 10, 0, 1)
    with pytest.raises(InputError, match="step 0 is not positive"):
        source.series("up", 0, 10, 0)
