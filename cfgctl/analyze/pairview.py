"""The analytics of one service in one environment, as data for a page (the dashboard's
Analytics page, `GET /api/v1/analytics/{service}/{env}`): each metric of analytics.yaml over a
period with its change points, the deliveries to the pair in the period, and each delivered
commit's impact as `cfgctl analyze impact` judges it.

    doc = pair_analytics(config, source, deliveries, "payments", "prod",
                         start=t0, end=t1, window=1800.0, now=time.time())
    doc["metrics"][0]["series"][0]["changepoints"], doc["impacts"][0]["targets"][0]["verdict"]

A metric's query is filled in with the pair (`{service}`, `{env}`); one that names `{target}`
is read once per target the agent delivered the pair to (the audit log), and says so when
there is none. Change points are found on every point (`analyze.changepoints.detect`); a series
is then given as at most `MAX_POINTS` bucket means (with each bucket's minimum and maximum),
its change points by time (or by row, for a series without times). A query or file that fails
(`InputError`) spoils only its own metric, or commit; a source that cannot be reached
(`EnvError`) stops everything. Numbers that are not finite are given as null (JSON has none).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from cfgctl.analyze.changepoints import MIN_SIZE, detect
from cfgctl.analyze.config import AnalyticsConfig, Metric, PrometheusSpec
from cfgctl.analyze.deliveries import Delivery
from cfgctl.analyze.impact import impact
from cfgctl.analyze.report import WholeFiles, in_scope
from cfgctl.analyze.series import Series
from cfgctl.analyze.sources import FileSource, MetricSource
from cfgctl.errors import InputError

__all__ = ["MAX_POINTS", "pair_analytics"]

MAX_POINTS = 1000  # per series given; the change points are found on every point
MAX_SERIES = 8  # per metric; the answer counts the others in `more`


def _finite(value: Any) -> Any:
    """`value` with every float that is not finite as None, through lists and dicts."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _thinned(series: Series) -> dict[str, list[Any] | None]:
    """The series' points, as at most MAX_POINTS bucket means with their minimum and maximum."""
    n = len(series)
    times = series.times if series.times is not None else None
    if n <= MAX_POINTS:
        values = series.values.tolist()
        return {"times": None if times is None else times.tolist(), "values": values,
                "low": None, "high": None}  # fmt: skip
    edges = np.linspace(0, n, MAX_POINTS + 1).astype(int)
    parts = [slice(a, b) for a, b in itertools.pairwise(edges) if b > a]
    return {
        "times": None if times is None else [float(times[p].mean()) for p in parts],
        "values": [float(series.values[p].mean()) for p in parts],
        "low": [float(series.values[p].min()) for p in parts],
        "high": [float(series.values[p].max()) for p in parts],
    }


def _series_doc(series: Series) -> dict[str, Any]:
    found = detect(series.values) if len(series) >= 2 * MIN_SIZE else []
    points = []
    for cp in found:
        row: dict[str, Any] = cp.to_dict()
        row["time"] = None if series.times is None else float(series.times[cp.index])
        points.append(row)
    return {"name": series.name, "points": len(series), "dropped": series.dropped,
            **_thinned(series), "changepoints": points}  # fmt: skip


def _queries(metric: Metric, source: MetricSource, service: str, env: str,
             known: list[Delivery]) -> list[tuple[str, str]]:  # fmt: skip
    """(scope, query) to read for the metric: the pair, or each target the pair was delivered
    to when the query names `{target}`."""
    if "{target}" not in metric.query:
        return [(f"{service}@{env}", source.render(metric.query, {"service": service, "env": env}))]
    targets = sorted({d.target for d in known})
    if not targets:
        raise InputError(
            f"the query of {metric.name} names {{target}}, and no delivery to {service}@{env} "
            "in the agent's audit log names one",
            hint="the server needs the agent's audit log (cfgctl serve --agent-audit PATH)",
        )
    values = {"service": service, "env": env}
    return [(t, source.render(metric.query, {**values, "target": t})) for t in targets]


def _metric_doc(
    metric: Metric,
    source: MetricSource,
    pair: tuple[str, str],
    known: list[Delivery],
    period: tuple[float, float, float],
) -> dict[str, Any]:
    start, end, step = period
    doc: dict[str, Any] = {
        "name": metric.name,
        "direction": metric.direction,
        "weight": metric.weight,
        "critical": metric.critical,
        "series": [],
        "more": 0,
        "problem": None,
    }
    found: list[tuple[str, Series]] = []
    try:
        for scope, query in _queries(metric, source, *pair, known):
            found.extend((scope, s) for s in source.series(query, start, end, step))
    except InputError as exc:
        doc["problem"] = str(exc) + (f" ({exc.hint})" if exc.hint else "")
        return doc
    if not found:
        doc["problem"] = "the query gave no points in the period"
        return doc
    found.sort(key=lambda item: (item[0], item[1].name))
    doc["more"] = max(0, len(found) - MAX_SERIES)
    doc["series"] = [{"scope": scope, **_series_doc(s)} for scope, s in found[:MAX_SERIES]]
    return doc


def _impacts(
    chosen: list[Delivery],
    every: list[Delivery],
    config: AnalyticsConfig,
    source: MetricSource,
    window: float,
    now: float,
) -> list[dict[str, Any]]:
    by_commit: dict[str, list[Delivery]] = {}
    for d in chosen:
        by_commit.setdefault(d.commit, []).append(d)
    out: list[dict[str, Any]] = []
    for commit, group in by_commit.items():
        try:
            judged = impact(group, every, config, source, window=window, now=now)
        except InputError as exc:
            out.append({"commit": commit, "problem": str(exc), "targets": []})
            continue
        out.append({"commit": commit, "problem": None, "targets": judged.to_dict()["targets"]})
    return out


def pair_analytics(
    config: AnalyticsConfig,
    source: MetricSource,
    deliveries: list[Delivery],
    service: str,
    env: str,
    *,
    start: float,
    end: float,
    window: float,
    now: float,
) -> dict[str, Any]:
    """The page's data (see the module's docstring). `deliveries`: the agent's whole audit log,
    oldest first (the control groups come from it); times in Unix seconds."""
    if end <= start:
        raise InputError(f"the period {start}..{end} is empty", hint="start before end")
    known = [d for d in in_scope(deliveries, service, env) if d.time <= end]
    chosen = [d for d in known if d.time >= start]
    if isinstance(source, FileSource):
        source = WholeFiles(source)
    step = max(config.step, (end - start) / (MAX_POINTS * 2))
    period = (start, end, step)
    doc = {
        "service": service,
        "env": env,
        "start": start,
        "end": end,
        "window_seconds": window,
        "source": "Prometheus" if isinstance(config.source, PrometheusSpec) else "files",
        "metrics": [_metric_doc(m, source, (service, env), known, period) for m in config.metrics],
        "deliveries": [
            {
                "time": d.time,
                "commit": d.commit,
                "previous": d.previous,
                "target": d.target,
                "wave": d.wave,
            }
            for d in chosen
        ],
        "impacts": _impacts(chosen, deliveries, config, source, window, now),
    }
    return dict(_finite(doc))
