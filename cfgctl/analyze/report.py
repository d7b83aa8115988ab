"""`cfgctl analyze report`: what was delivered in a period and what it did, gathered for one
self-contained HTML page (`cfgctl.analyze.reportpage` writes it).

    data = gather(deliveries, config, source, start=t0, end=t1, window=1800.0, now=time.time())
    data.panels[0].series, data.panels[0].changepoints     # each metric over time, per scope
    data.impacts[0].report.targets[0].verdict               # the verdicts of each commit

Scopes: a metric is read once per distinct query its placeholders give for the targets the
agent delivered to (the audit log, after the --service/--env filters): per target when the
query names `{target}`, per service and environment when it names those, once when it names
none. Each scope's series between `start` and `end` is searched for change points; the
deliveries in the period that read it are marked. Each commit delivered in the period is
judged by `impact` (its control groups from the whole log).

A source that cannot be reached (`EnvError`) stops everything: the page is not written. A
query or file that fails (`InputError`: a missing metrics file, a query Prometheus refuses)
spoils only its own plot or commit, which the page shows with the message.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cfgctl.analyze.changepoints import MIN_SIZE, ChangePoint, detect
from cfgctl.analyze.config import AnalyticsConfig, Metric, PrometheusSpec
from cfgctl.analyze.deliveries import Delivery
from cfgctl.analyze.impact import ImpactReport, impact
from cfgctl.analyze.placeholders import PLACEHOLDERS
from cfgctl.analyze.series import Series
from cfgctl.analyze.sources import FileSource, MetricSource
from cfgctl.errors import InputError

if TYPE_CHECKING:
    from cfgctl.repo.gitstore import GitStore
    from cfgctl.repo.snapshot import Snapshot

__all__ = [
    "CommitImpact",
    "Panel",
    "ReportData",
    "WholeFiles",
    "commit_subjects",
    "correlation_ranking",
    "gather",
    "in_scope",
]

MAX_PLOT_POINTS = 1500  # asked of Prometheus per series over the period
MAX_SERIES = 8  # drawn per plot; the page says how many more there were


@dataclass
class Panel:
    """One metric over the period for one scope (a target, a service@env, or all)."""

    metric: Metric
    scope: str
    query: str
    deliveries: list[Delivery]  # in the period, of this scope
    series: list[Series] = field(default_factory=list)
    changepoints: list[list[ChangePoint]] = field(default_factory=list)  # per series
    more: int = 0  # series past MAX_SERIES, not drawn
    problem: str | None = None  # why there is no plot


@dataclass
class CommitImpact:
    commit: str
    deliveries: list[Delivery]
    report: ImpactReport | None
    problem: str | None = None


@dataclass
class ReportData:
    start: float
    end: float
    now: float
    window: float
    service: str | None
    env: str | None
    metrics: tuple[Metric, ...]
    source: str  # "Prometheus" or "files": the kind only (a URL is no business of the page)
    deliveries: list[Delivery]  # in the period, after the filters
    panels: list[Panel] = field(default_factory=list)
    impacts: list[CommitImpact] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [p.problem for p in self.panels if p.problem] + [
            i.problem for i in self.impacts if i.problem
        ]


def _placeholders(metric: Metric) -> list[str]:
    return [name for name in PLACEHOLDERS if "{" + name + "}" in metric.query]


def _scope_of(d: Delivery, names: list[str]) -> str:
    if "target" in names:
        return d.target
    if "service" in names and "env" in names:
        return f"{d.service}@{d.env}"
    if "service" in names:
        return d.service
    return d.env if "env" in names else "all"


def _scopes(
    metric: Metric, source: MetricSource, known: list[Delivery], chosen: list[Delivery]
) -> list[Panel]:
    """One panel per distinct query of the metric over the known targets (see the module)."""
    names = _placeholders(metric)
    panels: dict[str, Panel] = {}
    if not names:
        query = source.render(metric.query, {})
        return [Panel(metric, "all", query, list(chosen))]
    for d in known:
        scope = _scope_of(d, names)
        if scope in panels:
            continue
        values = {"service": d.service, "env": d.env, "target": d.target}
        try:
            query = source.render(metric.query, values)
        except InputError as exc:  # a name that cannot be part of a file name, say
            panels[scope] = Panel(metric, scope, metric.query, [], problem=exc.message)
            continue
        panels[scope] = Panel(metric, scope, query, [])
    for d in chosen:
        panels[_scope_of(d, names)].deliveries.append(d)
    return [panels[scope] for scope in sorted(panels)]


def _read(panel: Panel, source: MetricSource, start: float, end: float) -> None:
    step = max(1.0, (end - start) / MAX_PLOT_POINTS)
    try:
        found = source.series(panel.query, start, end, step)
    except InputError as exc:
        panel.problem = str(exc) + (f" ({exc.hint})" if exc.hint else "")
        return
    if not found:
        panel.problem = "the query gave no points in the period"
        return
    found.sort(key=lambda s: s.name)
    panel.series, panel.more = found[:MAX_SERIES], max(0, len(found) - MAX_SERIES)
    panel.changepoints = [detect(s.values) if len(s) >= 2 * MIN_SIZE else [] for s in panel.series]


def _impacts(
    chosen: list[Delivery],
    every: list[Delivery],
    config: AnalyticsConfig,
    source: MetricSource,
    window: float,
    now: float,
) -> list[CommitImpact]:
    by_commit: dict[str, list[Delivery]] = {}
    for d in chosen:  # oldest first: commits in the order they went out
        by_commit.setdefault(d.commit, []).append(d)
    out = []
    for commit, group in by_commit.items():
        try:
            judged = impact(group, every, config, source, window=window, now=now)
        except InputError as exc:
            out.append(CommitImpact(commit, group, None, str(exc)))
            continue
        out.append(CommitImpact(commit, group, judged))
    return out


def in_scope(deliveries: list[Delivery], service: str | None, env: str | None) -> list[Delivery]:
    """The deliveries to `service` (None: any) in `env` (None: any)."""
    return [
        d
        for d in deliveries
        if (service is None or d.service == service) and (env is None or d.env == env)
    ]


class WholeFiles:
    """A `FileSource` that reads each file once: the page asks for many windows of the same
    files (a plot each, and two windows a delivery for its verdicts)."""

    def __init__(self, inner: FileSource) -> None:
        self.inner = inner
        self._read: dict[str, list[Series]] = {}

    def render(self, template: str, values: Mapping[str, str]) -> str:
        return self.inner.render(template, values)

    def series(self, query: str, start: float, end: float, step: float) -> list[Series]:
        if query not in self._read:
            self._read[query] = self.inner.series(query, -math.inf, math.inf, step)
        out = []
        for s in self._read[query]:
            if s.times is None:  # rows without times: given whole, as FileSource does
                out.append(s)
                continue
            keep = (s.times >= start) & (s.times <= end)
            if keep.any():
                out.append(Series(s.name, s.values[keep], s.times[keep], s.dropped))
        return out


def gather(
    deliveries: list[Delivery],
    config: AnalyticsConfig,
    source: MetricSource,
    *,
    start: float,
    end: float,
    window: float,
    now: float,
    service: str | None = None,
    env: str | None = None,
) -> ReportData:
    """Everything the page shows (see the module's docstring). `deliveries`: the whole audit
    log, oldest first; `start`, `end`, `now` in Unix seconds, `window` in seconds."""
    if end <= start:
        raise InputError(f"the period {start}..{end} is empty", hint="start before end")
    known = [d for d in in_scope(deliveries, service, env) if d.time <= end]
    if isinstance(source, FileSource):
        source = WholeFiles(source)
    chosen = [d for d in known if d.time >= start]
    kind = "Prometheus" if isinstance(config.source, PrometheusSpec) else "files"
    data = ReportData(start, end, now, window, service, env, config.metrics, kind, chosen)
    for metric in config.metrics:
        for panel in _scopes(metric, source, known, chosen):
            if panel.problem is None:
                _read(panel, source, start, end)
            data.panels.append(panel)
    data.impacts = _impacts(chosen, deliveries, config, source, window, now)
    return data


def commit_subjects(store: GitStore | None, commits: Iterable[str]) -> dict[str, str]:
    """The first line of each commit's message, for the commits the repository has."""
    if store is None:
        return {}
    out = {}
    for commit in commits:
        try:
            found = store.commit_of(commit)
        except InputError:
            continue
        lines = found.message.strip().splitlines()
        out[commit] = lines[0] if lines else ""
    return out


def correlation_ranking(
    snap: Snapshot | None,
    deliveries: list[Delivery],
    config: AnalyticsConfig,
    source: MetricSource,
    *,
    start: float,
    end: float,
    window: float,
) -> list[dict[str, Any]] | str:
    """The ranking of keys by how consistently their changes precede shifts, each metric's
    entries with a `metric` field; or why there is none (a sentence for the page).

    The one place the report meets `cfgctl.analyze.correlate`, which is built beside it: looked
    up when the report runs, so that the report works without it."""
    try:
        correlate = importlib.import_module("cfgctl.analyze.correlate")
        keychanges = importlib.import_module("cfgctl.analyze.keychanges")
    except ImportError:
        return "correlation is not available in this version of cfgctl"
    if snap is None or snap.store is None:
        return "correlation needs the config repository (run the report inside it, or -C DIR)"
    changes = keychanges.KeyChanges(snap)
    ranking: list[dict[str, Any]] = []
    reasons: list[str] = []
    for metric in config.metrics:
        try:
            found = correlate.correlate(
                changes, deliveries, metric, source, start=start, end=end, window=window
            ).to_dict()
        except InputError as exc:  # a missing file, a refused query: as a plot, not the page
            reasons.append(f"{metric.name}: {exc}")
            continue
        ranking.extend({"metric": metric.name, **r} for r in found["ranking"])
        if found.get("reason"):
            reasons.append(f"{metric.name}: {found['reason']}")
    return ranking if ranking or not reasons else "no ranking: " + "; ".join(reasons)
