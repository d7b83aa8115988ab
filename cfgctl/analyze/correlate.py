"""`correlate`: which configuration keys' changes precede the shifts of a metric.

    result = correlate(changes, deliveries, metric, source, start=t0, end=t1, window=1800.0)
    result.shifts[0].preceding          # the deliveries within `window` before the shift
    result.ranking[0].key, .p_value     # the key whose changes most consistently precede shifts
    result.stop_tuning                  # keys changed, never followed by a shift

How: the metric's query is rendered for each delivery ({service}, {env}, {target}); deliveries
that render the same query read the same series, once, over [start, end] (one point a
max(step, span / 10,000) seconds from Prometheus, `step` analytics.yaml's). Every change point
of each series is found by `changepoints.detect` (its seeded scan finds the many shifts of a
long history, which a test of the whole series alone would miss). A delivery *precedes* a
change point when it lands in the `window` before the change point's time (or up to two
sampling intervals after it: a detector may place a shift a point early). The keys a delivery
changed come from the repository: the effective configuration of its service and environment at
the commit it replaced against the one it delivered (`KeyChanges`).

A key's *changes* are the (commit, query) pairs in which it changed and the query's series
have points around the delivery (a query giving a series per instance counts once); its *hits*
those followed by a change point in one of them. Against chance: if deliveries fell at random
times, a change would land in some change point's window with probability p0, the fraction of
the time those windows cover; the p-value is the one-sided binomial test of `hits` out of
`changes` at p0 (the mean p0 of the queries its changes were read on). Ranking: p-value, then
hits (more first). A key changed with no shift after any of its changes is a candidate to stop
tuning.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cfgctl.analyze.changepoints import ChangePoint, detect
from cfgctl.analyze.config import Metric
from cfgctl.analyze.deliveries import Delivery
from cfgctl.analyze.keychanges import KeyChanges
from cfgctl.analyze.series import Series
from cfgctl.analyze.sources import MetricSource
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.yamlio import JsonPath

__all__ = [
    "Correlation",
    "KeyRank",
    "Preceding",
    "Shift",
    "correlate",
    "prometheus_step",
]

MAX_POINTS = 10_000  # per series asked of the source
SLACK_POINTS = 2  # a change point this many sampling intervals before a delivery still follows it


def prometheus_step(start: float, end: float, step: float = 1.0) -> float:
    """Seconds between points: `step` (analytics.yaml's, the scrape interval), or more, so that
    [start, end] stays under `MAX_POINTS` points."""
    return max(step, (end - start) / MAX_POINTS)


def key_of(path: JsonPath) -> str:
    """The key a change is counted under: a list counts as one value (`tags`, not `tags.0`)."""
    cut = next((i for i, part in enumerate(path) if isinstance(part, int)), len(path))
    return dotted_path(path[:cut]) if cut else dotted_path(path)


@dataclass(frozen=True)
class Preceding:
    """A delivery that landed in the window before a shift, and the keys it changed."""

    delivery: Delivery
    keys: tuple[str, ...] | None  # None: unknown (first delivery, commit not in the repository)

    def to_dict(self) -> dict[str, Any]:
        d = self.delivery
        return {
            "commit": d.commit,
            "previous": d.previous,
            "target": d.target,
            "service": d.service,
            "env": d.env,
            "delivered": d.time,
            "keys": list(self.keys) if self.keys is not None else None,
        }


@dataclass(frozen=True)
class Shift:
    """One change point of one series, with what was delivered shortly before it."""

    series: str
    query: str
    time: float
    point: ChangePoint
    worse: bool  # in the metric's bad direction
    preceding: tuple[Preceding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "series": self.series,
            "query": self.query,
            "time": self.time,
            **self.point.to_dict(),
            "worse": self.worse,
            "preceding": [p.to_dict() for p in self.preceding],
        }


@dataclass(frozen=True)
class KeyRank:
    """How consistently changes of one key of one service preceded shifts."""

    service: str
    key: str
    changes: int  # (commit, query) pairs in which the key changed, with data around them
    hits: int  # of those, followed by a change point within the window
    p0: float  # the chance of a hit for a change at a random time
    p_value: float  # one-sided binomial test of hits / changes against p0
    commits: tuple[str, ...]

    @property
    def rate(self) -> float:
        return self.hits / self.changes if self.changes else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "key": self.key,
            "changes": self.changes,
            "hits": self.hits,
            "rate": self.rate,
            "p0": self.p0,
            "p_value": self.p_value,
            "commits": list(self.commits),
        }


@dataclass
class Correlation:
    metric: str
    direction: str
    start: float
    end: float
    window: float
    deliveries: int = 0  # deliveries in the range (after the filters)
    series: int = 0  # series read
    shifts: list[Shift] = field(default_factory=list)
    ranking: list[KeyRank] = field(default_factory=list)  # keys with at least one hit
    stop_tuning: list[KeyRank] = field(default_factory=list)  # keys changed, never a hit
    notes: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str | None:
        """Why there is nothing to rank, in words; None when there is a ranking."""
        if not self.deliveries:
            return "no deliveries in the range (the agent's audit log has none there)"
        if not self.series:
            return "the metric's query gave no points in the range"
        if not self.shifts:
            return "the metric has no change point in the range: nothing to explain"
        if not self.ranking and not self.stop_tuning:
            return "no delivery with known key changes in the range"
        if not self.ranking:
            return "no key change preceded any shift"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "direction": self.direction,
            "start": self.start,
            "end": self.end,
            "window_seconds": self.window,
            "deliveries": self.deliveries,
            "series": self.series,
            "reason": self.reason,
            "shifts": [s.to_dict() for s in self.shifts],
            "ranking": [r.to_dict() for r in self.ranking],
            "stop_tuning": [r.to_dict() for r in self.stop_tuning],
            "notes": self.notes,
        }


@dataclass
class _Scope:
    """One series and the deliveries that read it: windows and the changes it saw."""

    series: Series
    query: str
    deliveries: list[Delivery]
    times: list[float] = field(default_factory=list)  # of its change points
    slack: float = 0.0

    def covers(self, when: float) -> bool:
        assert self.series.times is not None
        return bool(self.series.times[0] <= when <= self.series.times[-1])

    def hit(self, when: float, window: float) -> bool:
        return any(t - window <= when <= t + self.slack for t in self.times)


def _coverage(times: list[float], window: float, slack: float, lo: float, hi: float) -> float:
    """The fraction of [lo, hi] inside some [t - window, t + slack]."""
    if hi <= lo or not times:
        return 0.0
    covered, reach = 0.0, lo
    for t in sorted(times):
        a, b = max(t - window, reach), min(t + slack, hi)
        if b > a:
            covered += b - a
            reach = b
    return min(1.0, covered / (hi - lo))


def _scopes(
    deliveries: list[Delivery],
    metric: Metric,
    source: MetricSource,
    start: float,
    end: float,
    step: float,
    result: Correlation,
) -> list[_Scope]:
    by_query: dict[str, list[Delivery]] = {}
    for d in deliveries:
        query = source.render(
            metric.query, {"service": d.service, "env": d.env, "target": d.target}
        )
        by_query.setdefault(query, []).append(d)
    out = []
    for query, ds in by_query.items():
        for series in source.series(query, start, end, prometheus_step(start, end, step)):
            if series.times is None:
                result.notes.append(f"{query!r}: its points have no times; left out")
                continue
            out.append(_Scope(series, query, ds))
    return out


def _find_shifts(scope: _Scope) -> list[tuple[float, ChangePoint]]:
    times = scope.series.times
    assert times is not None
    found = [(float(times[p.index]), p) for p in detect(scope.series.values)]
    scope.times = [t for t, _ in found]
    scope.slack = SLACK_POINTS * float(np.median(np.diff(times))) if times.size > 1 else 0.0
    return found


def _keys(changes: KeyChanges, d: Delivery) -> tuple[str, ...] | None:
    found = changes.of(d)
    if found is None:
        return None
    return tuple(dict.fromkeys(key_of(c.path) for c in found))


def _rank(tally: dict[tuple[str, str], list[tuple[str, bool, float]]]) -> list[KeyRank]:
    from scipy.stats import binomtest  # type: ignore[import-untyped]

    out = []
    for (service, key), seen in tally.items():
        n, hits = len(seen), sum(1 for _, hit, _ in seen if hit)
        p0 = float(np.mean([p for _, _, p in seen]))
        if hits == 0:
            p_value = 1.0
        elif p0 <= 0.0:
            p_value = 0.0
        else:
            p_value = float(binomtest(hits, n, min(p0, 1.0), alternative="greater").pvalue)
        commits = tuple(dict.fromkeys(c for c, _, _ in seen))
        out.append(KeyRank(service, key, n, hits, p0, p_value, commits))
    return sorted(out, key=lambda r: (r.p_value, -r.hits, r.service, r.key))


def correlate(
    changes: KeyChanges,
    deliveries: Iterable[Delivery],
    metric: Metric,
    source: MetricSource,
    *,
    start: float,
    end: float,
    window: float,
    step: float = 1.0,
) -> Correlation:
    """The shifts of `metric` between `start` and `end` (Unix seconds), what was delivered in
    the `window` seconds before each, and the keys ranked (see the module docstring). `step`:
    the fewest seconds between points asked of Prometheus (analytics.yaml's)."""
    chosen = [d for d in deliveries if start <= d.time <= end]
    result = Correlation(metric.name, metric.direction, start, end, window, len(chosen))
    if not chosen:
        return result
    scopes = _scopes(chosen, metric, source, start, end, step, result)
    result.series = len(scopes)
    tally: dict[tuple[str, str], list[tuple[str, bool, float]]] = {}
    for scope in scopes:
        for when, point in _find_shifts(scope):
            before = [d for d in scope.deliveries if when - window <= d.time <= when + scope.slack]
            rose = point.after > point.before
            result.shifts.append(
                Shift(
                    scope.series.name,
                    scope.query,
                    when,
                    point,
                    rose == metric.higher_is_worse,
                    tuple(Preceding(d, _keys(changes, d)) for d in before),
                )
            )
    groups: dict[str, list[_Scope]] = {}
    for scope in scopes:
        groups.setdefault(scope.query, []).append(scope)
    for group in groups.values():
        _tally(group, changes, window, tally)
    ranked = _rank(tally)
    result.ranking = [r for r in ranked if r.hits]
    result.stop_tuning = sorted(
        (r for r in ranked if not r.hits), key=lambda r: (-r.changes, r.service, r.key)
    )
    result.shifts.sort(key=lambda s: (s.time, s.series))
    result.notes.extend(dict.fromkeys(changes.notes))
    return result


def _tally(
    group: list[_Scope],
    changes: KeyChanges,
    window: float,
    tally: dict[tuple[str, str], list[tuple[str, bool, float]]],
) -> None:
    """Each key change of the deliveries that read one query, once per commit, whatever the
    number of series the query gives (one per instance, say): a hit when a series that has
    points at the delivery shifted after it; p0 the share of time inside any of their windows."""
    times = sorted(t for scope in group for t in scope.times)
    slack = max(scope.slack for scope in group)
    spans = [s.series.times for s in group if s.series.times is not None]
    p0 = _coverage(
        times, window, slack, min(float(t[0]) for t in spans), max(float(t[-1]) for t in spans)
    )
    hits: dict[tuple[str, str, str], bool] = {}
    for d in group[0].deliveries:
        keys = _keys(changes, d)
        covering = [scope for scope in group if scope.covers(d.time)]
        if not keys or not covering:
            continue
        hit = any(scope.hit(d.time, window) for scope in covering)
        for key in keys:
            hits[(d.service, key, d.commit)] = hits.get((d.service, key, d.commit), False) or hit
    for (service, key, commit), hit in hits.items():
        tally.setdefault((service, key), []).append((commit, hit, p0))
