"""`recommend`: a better value of a numeric key of one service in one environment, from what past
changes of it did to a metric, or a plain reason why the data cannot say.

    rec = recommend(snap, changes, deliveries, metric, source, "payments", "prod",
                    key=("workers",), window=1800.0, now=time.time())
    rec.chosen.proposal, rec.chosen.expected, rec.chosen.interval    # 24, 104.1, (101.9, 106.3)
    rec.chosen.reason                                                # when there is no proposal

Points: every delivery to SERVICE@ENV that changed the key's effective value gives two, the value
after against the metric's median over the `window` after the delivery, and the value before
against its median over the `window` before (a commit delivered to many targets reading one
series counts once). Then, per key:

1. fewer than `MIN_POINTS` points, or fewer than `MIN_DISTINCT` distinct values: no model;
2. Spearman's rank correlation; significant (p < `ALPHA`): a monotone (isotonic) fit, and the
   proposal is the best value seen (the metric's direction says which is best; of equally good
   ones, the nearest to the current value): never beyond the data, where nothing is known;
3. not monotone: a Gaussian process (RBF kernel), kept when it explains the points better than a
   constant by at least `EVIDENCE` nats (about 20 to 1); the proposal is the value of the best
   predicted mean between the smallest and the largest value seen;
4. otherwise: no recommendation, and why.

The proposal is brought inside the schema's bounds (minimum, maximum, exclusive bounds,
multipleOf; an integer for an integer key). With it: the expected metric and its 95% interval,
and the expected change from the current value with its interval (bootstrap for the monotone
fit, the posterior for the process). Without --key, every numeric key with history is modelled
and the strongest evidence wins (the smallest p-value; a process's counts as e^-evidence);
choosing among k keys, each must pass at `ALPHA` / k (and the process at `EVIDENCE` + ln k), so
that noise in one of many keys is not taken for an effect (Bonferroni).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cfgctl.analyze.bounds import Bounds, key_bounds
from cfgctl.analyze.config import Metric
from cfgctl.analyze.correlate import prometheus_step
from cfgctl.analyze.deliveries import Delivery
from cfgctl.analyze.fit import GaussianProcess, monotone, monotone_interval
from cfgctl.analyze.keychanges import KeyChanges
from cfgctl.analyze.sources import MetricSource
from cfgctl.errors import InputError
from cfgctl.repo.keypath import dotted_path
from cfgctl.repo.render import lookup
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.yamlio import JsonPath

__all__ = ["KeyModel", "Point", "Recommendation", "model_key", "recommend"]

ALPHA = 0.05
MIN_POINTS = 6
MIN_DISTINCT = 5
MIN_WINDOW_POINTS = 3  # a window's median of fewer points is not a point
EVIDENCE = 3.0
Z95 = 1.959964


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class Point:
    value: float  # the key's value
    metric: float  # the metric's median over the window
    commit: str
    side: Literal["before", "after"]
    time: float  # the delivery's

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "metric": self.metric, "commit": self.commit,
                "side": self.side, "delivered": self.time}  # fmt: skip


@dataclass
class KeyModel:
    key: str
    bounds: Bounds
    current: float | None
    points: list[Point] = field(default_factory=list)
    rho: float | None = None
    p_value: float | None = None
    model: Literal["monotone", "gaussian process"] | None = None
    evidence: float | None = None  # the process's, in nats
    proposal: int | float | None = None
    expected: float | None = None
    interval: tuple[float, float] | None = None
    effect: float | None = None  # expected metric at the proposal minus at the current value
    effect_interval: tuple[float, float] | None = None
    reason: str = ""

    @property
    def distinct(self) -> int:
        return len({p.value for p in self.points})

    @property
    def strength(self) -> float:
        """The smaller, the stronger the evidence (for choosing among keys)."""
        if self.model == "gaussian process" and self.evidence is not None:
            return math.exp(-self.evidence)
        return self.p_value if self.p_value is not None else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "current": self.current,
            "bounds": self.bounds.to_dict(),
            "n": len(self.points),
            "distinct": self.distinct,
            "rho": self.rho,
            "p_value": self.p_value,
            "model": self.model,
            "evidence": self.evidence,
            "proposal": self.proposal,
            "expected": self.expected,
            "interval": list(self.interval) if self.interval else None,
            "effect": self.effect,
            "effect_interval": list(self.effect_interval) if self.effect_interval else None,
            "reason": self.reason,
            "points": [p.to_dict() for p in self.points],
        }


@dataclass
class Recommendation:
    service: str
    env: str
    metric: str
    direction: str
    window: float
    keys: list[KeyModel] = field(default_factory=list)
    chosen: KeyModel | None = None
    reason: str = ""
    branch: str | None = None
    commit: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "env": self.env,
            "metric": self.metric,
            "direction": self.direction,
            "window_seconds": self.window,
            "recommended": self.chosen is not None and self.chosen.proposal is not None,
            "key": self.chosen.key if self.chosen else None,
            "proposal": self.chosen.proposal if self.chosen else None,
            "reason": self.reason,
            "chosen": self.chosen.to_dict() if self.chosen else None,
            "keys": [k.to_dict() for k in self.keys],
            "branch": self.branch,
            "commit": self.commit,
        }


def _window_median(times: np.ndarray, values: np.ndarray, lo: float, hi: float) -> float | None:
    inside = values[(times >= lo) & (times <= hi)]
    return float(np.median(inside)) if inside.size >= MIN_WINDOW_POINTS else None


def _series(
    source: MetricSource, query: str, lo: float, hi: float, step: float
) -> tuple[np.ndarray, np.ndarray]:
    every = prometheus_step(lo, hi, step)
    found = [s for s in source.series(query, lo, hi, every) if s.times is not None]
    if not found:
        return np.array([]), np.array([])
    return (
        np.concatenate([s.times for s in found if s.times is not None]),
        np.concatenate([s.values for s in found]),
    )


def _points(
    changes: KeyChanges,
    deliveries: list[Delivery],
    metric: Metric,
    source: MetricSource,
    window: float,
    now: float,
    step: float,
) -> dict[JsonPath, list[Point]]:
    """Every numeric key's points (see the module docstring)."""
    by_query: dict[str, dict[str, Delivery]] = {}
    for d in deliveries:
        query = source.render(
            metric.query, {"service": d.service, "env": d.env, "target": d.target}
        )
        by_query.setdefault(query, {}).setdefault(d.commit, d)  # a commit once a series
    out: dict[JsonPath, list[Point]] = {}
    for query, first in by_query.items():
        ds = list(first.values())
        lo, hi = min(d.time for d in ds) - window, max(d.time for d in ds) + window
        times, values = _series(source, query, lo, hi, step)
        for d in ds:
            found = changes.of(d) or []
            numeric = [
                (c.path, old, new)
                for c in found
                if c.kind == "changed" and not c.secret
                and (old := _number(c.old)) is not None and (new := _number(c.new)) is not None
            ]  # fmt: skip
            if not numeric:
                continue
            before = _window_median(times, values, d.time - window, d.time)
            after = (
                _window_median(times, values, d.time, d.time + window)
                if d.time + window <= now
                else None
            )
            for path, old, new in numeric:
                if before is not None:
                    out.setdefault(path, []).append(Point(old, before, d.commit, "before", d.time))
                if after is not None:
                    out.setdefault(path, []).append(Point(new, after, d.commit, "after", d.time))
    return out


def _best(xs: np.ndarray, ys: np.ndarray, lower: bool, current: float) -> float:
    """The x of the best y (lowest when `lower`), of equally good ones the nearest `current`."""
    target = ys.min() if lower else ys.max()
    good = xs[np.isclose(ys, target, rtol=1e-9, atol=1e-12)]
    return float(good[np.argmin(np.abs(good - current))])


def _monotone(m: KeyModel, x: np.ndarray, y: np.ndarray, lower: bool, current: float) -> None:
    increasing = (m.rho or 0.0) > 0
    fit = monotone(x, y, increasing)
    seen = _best(fit.x, fit.y, lower, current)
    best = m.bounds.clamp(seen)
    if best is None:
        m.reason = "the schema's bounds allow no value"
        return
    m.model, m.proposal = "monotone", best
    m.expected = float(fit.predict(np.array([float(best)]))[0])
    m.effect = m.expected - float(fit.predict(np.array([current]))[0])
    m.interval, m.effect_interval = monotone_interval(x, y, increasing, float(best), current)
    m.reason = (
        f"higher values go with a {'higher' if increasing else 'lower'} {{metric}} "
        f"(Spearman rho {m.rho:+.2f}, "
        f"p = {m.p_value:.2g}); "
        + (
            f"{best} is the best value seen"
            if best == seen
            else f"the best value seen, {seen:g}, is outside the schema's bounds: {best} is "
            "the nearest allowed"
        )
    )


def _process(
    m: KeyModel, x: np.ndarray, y: np.ndarray, lower: bool, current: float, needed: float
) -> bool:
    gp = GaussianProcess.fit(x, y)
    m.evidence = gp.evidence
    if gp.evidence < needed:
        return False
    grid = {m.bounds.clamp(v) for v in np.linspace(x.min(), x.max(), 201)} - {None}
    if not grid:
        return False
    at = np.array(sorted(float(v) for v in grid if v is not None))
    mean, sd = gp.predict(at)
    i = int(np.argmin(mean) if lower else np.argmax(mean))
    best = m.bounds.clamp(float(at[i]))
    m.model, m.proposal = "gaussian process", best
    m.expected = float(mean[i])
    m.interval = (m.expected - Z95 * float(sd[i]), m.expected + Z95 * float(sd[i]))
    effect, effect_sd = gp.effect(float(at[i]), current)
    m.effect, m.effect_interval = effect, (effect - Z95 * effect_sd, effect + Z95 * effect_sd)
    m.reason = (
        f"not monotone (Spearman p = {m.p_value:.2g}), but a smooth curve explains the points "
        f"better than a constant (evidence {gp.evidence:.1f} nats); {best} is its best value"
    )
    return True


def _enough(points: list[Point]) -> bool:
    return len(points) >= MIN_POINTS and len({p.value for p in points}) >= MIN_DISTINCT


def model_key(m: KeyModel, lower: bool, tests: int = 1) -> None:
    """Model one key; `tests`: how many keys are modelled to choose among (Bonferroni: the
    significance level divided by it, the evidence needed raised by its log)."""
    from scipy.stats import spearmanr  # type: ignore[import-untyped]

    n, distinct = len(m.points), m.distinct
    if m.current is None:
        m.reason = "its current value is not a number"
        return
    if not _enough(m.points):
        m.reason = (
            f"too little history: {n} points of {distinct} distinct values "
            f"(a model needs {MIN_POINTS} points of {MIN_DISTINCT} values)"
        )
        return
    x = np.array([p.value for p in m.points])
    y = np.array([p.metric for p in m.points])
    if np.ptp(y) == 0:
        m.reason = "the metric never moved"
        return
    rho, p = spearmanr(x, y)
    m.rho, m.p_value = float(rho), float(p)
    alpha, needed = ALPHA / tests, EVIDENCE + math.log(tests)
    if m.p_value < alpha:
        _monotone(m, x, y, lower, m.current)
    elif not _process(m, x, y, lower, m.current, needed):
        among = f" among {tests} keys" if tests > 1 else ""
        m.reason = (
            f"no evidence the metric depends on it: Spearman rho {m.rho:+.2f}, p = "
            f"{m.p_value:.2g} (needs < {alpha:.2g}{among}), and no curve explains the points "
            f"better than a constant (evidence {m.evidence or 0:.1f} nats, needs {needed:.3g})"
        )


def _current(snap: Snapshot, service: str, env: str, path: JsonPath) -> float | None:
    found, value = lookup(snap.render(service, env).data, path)
    return _number(value) if found else None


def recommend(
    snap: Snapshot,
    changes: KeyChanges,
    deliveries: list[Delivery],
    metric: Metric,
    source: MetricSource,
    service: str,
    env: str,
    *,
    key: JsonPath | None,
    window: float,
    now: float,
    step: float = 1.0,
) -> Recommendation:
    """A value for `key` (or the key with the strongest evidence) of SERVICE@ENV, or why not.
    `step`: the fewest seconds between points asked of Prometheus (analytics.yaml's)."""
    rendered = snap.render(service, env)  # an unknown service or environment: exit 2
    rec = Recommendation(service, env, metric.name, metric.direction, window)
    if key is not None:
        value = rendered.get(key)
        bounds = key_bounds(snap, service, key)
        if _number(value) is None or not bounds.numeric:
            raise InputError(
                f"{service}@{env} {dotted_path(key)} is not numeric (its value: {value!r})",
                hint="recommend models numbers; choose an integer or number key",
            )
    mine = [d for d in deliveries if d.service == service and d.env == env]
    points = _points(changes, mine, metric, source, window, now, step)
    paths = [key] if key is not None else sorted(points, key=dotted_path)
    tests = max(1, sum(1 for p in paths if _enough(points.get(p, []))))
    for path in paths:
        bounds = key_bounds(snap, service, path)
        if not bounds.numeric:
            continue
        m = KeyModel(dotted_path(path), bounds, _current(snap, service, env, path))
        m.points = points.get(path, [])
        model_key(m, lower=metric.higher_is_worse, tests=tests)
        m.reason = m.reason.replace("{metric}", metric.name)
        rec.keys.append(m)
    rec.keys.sort(key=lambda m: (m.proposal is None, m.strength, m.key))
    _choose(rec, key, mine)
    return rec


def _choose(rec: Recommendation, key: JsonPath | None, mine: list[Delivery]) -> None:
    if rec.keys and rec.keys[0].proposal is not None:
        rec.chosen = rec.keys[0]
        rec.reason = rec.chosen.reason
        if rec.chosen.proposal == rec.chosen.current:
            rec.reason += "; it is the current value already: keep it"
        return
    if key is not None and rec.keys:
        rec.chosen = rec.keys[0]
        rec.reason = f"no recommendation for {rec.chosen.key}: {rec.chosen.reason}"
    elif not mine:
        rec.reason = f"the agent delivered nothing to {rec.service}@{rec.env}"
    elif not rec.keys:
        rec.reason = "no numeric key of it changed in the deliveries"
    else:
        rec.reason = "no key's history supports a recommendation"
