"""analytics.yaml at the repository root: where metrics come from and which metrics count.

    config = load_analytics(Path("analytics.yaml"))     # InputError with file:line when wrong
    config = analytics_of(snap)                        # the same from a Snapshot; None if absent
    source = config.open_source()                      # a MetricSource
    metric = config.metric("latency_p99")              # its query, direction, weight, critical

    version: 1
    source: {prometheus: {url: http://127.0.0.1:9090, timeout: 10s, step: 15s}}  # or {files: ...}
    metrics:
      - name: latency_p99
        query: histogram_quantile(0.99, sum by (le) (rate(req_seconds_bucket{svc={service}}[1m])))
        direction: higher_is_worse
        weight: 2
        critical: true

Checked against schemas/analytics.schema.json, then: metric names are unique, and every
`{name}` token of a query is one of the placeholders. A files folder is relative to the
repository root (for a snapshot of a past revision too: metrics are read where they are now).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from cfgctl.analyze.placeholders import PLACEHOLDERS, unknown_placeholders
from cfgctl.analyze.prometheus import PrometheusSource
from cfgctl.analyze.sources import FileSource, MetricSource
from cfgctl.diagnostics import Diagnostic
from cfgctl.errors import InputError, Location
from cfgctl.repo.builtin import check_own_file
from cfgctl.repo.manifest import suggest
from cfgctl.repo.snapshot import Snapshot
from cfgctl.repo.timespec import parse_duration
from cfgctl.repo.yamlio import Document, parse

__all__ = [
    "ANALYTICS",
    "AnalyticsConfig",
    "FilesSpec",
    "Metric",
    "PrometheusSpec",
    "analytics_of",
    "load_analytics",
    "read_analytics",
]

ANALYTICS = "analytics.yaml"

Direction = Literal["higher_is_worse", "higher_is_better"]


@dataclass(frozen=True)
class Metric:
    name: str
    query: str  # a template: {service}, {env}, {target} are filled in by the source
    direction: Direction
    weight: float = 1.0
    critical: bool = False
    origin: str = ANALYTICS  # where it is declared (file:line), for messages
    # The smallest shift that matters: a share of the baseline's median (relative) or an amount
    # in the metric's unit; None: 5%, for telling no change from inconclusive only.
    tolerance: float | None = None
    relative_tolerance: bool = True

    @property
    def higher_is_worse(self) -> bool:
        return self.direction == "higher_is_worse"


@dataclass(frozen=True)
class PrometheusSpec:
    url: str
    timeout: float = 10.0  # seconds
    step: float = 1.0  # seconds between the points asked of query_range


@dataclass(frozen=True)
class FilesSpec:
    folder: Path  # absolute: the repository root joined with analytics.yaml's folder


@dataclass(frozen=True)
class AnalyticsConfig:
    path: str  # where it was read from, for messages
    source: PrometheusSpec | FilesSpec
    metrics: tuple[Metric, ...]

    def metric(self, name: str) -> Metric:
        """The metric called `name`; an `InputError` naming the closest ones otherwise."""
        for metric in self.metrics:
            if metric.name == name:
                return metric
        names = [m.name for m in self.metrics]
        return _unknown(name, names, self.path)

    @property
    def step(self) -> float:
        """Seconds between the points asked of the source (files give every row they hold)."""
        return self.source.step if isinstance(self.source, PrometheusSpec) else 1.0

    def only(self, names: tuple[str, ...] | list[str]) -> AnalyticsConfig:
        """The same configuration with the metrics called `names` (all of them when empty);
        an `InputError` for a name it does not have."""
        if not names:
            return self
        return replace(self, metrics=tuple(self.metric(name) for name in names))

    def open_source(self) -> MetricSource:
        if isinstance(self.source, PrometheusSpec):
            return PrometheusSource(self.source.url, self.source.timeout)
        return FileSource(self.source.folder)


def _unknown(name: str, names: list[str], path: str) -> Metric:
    raise InputError(f"no metric {name!r} in {path}", hint=suggest(name, names, "metric"))


def _problems(doc: Document) -> list[Diagnostic]:
    """What the schema does not say: unique names, known placeholders."""
    out: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(doc.data["metrics"]):
        name = spec["name"]
        if name in seen:
            out.append(
                Diagnostic(
                    "error",
                    "analytics",
                    f"metrics[{i}].name: {name!r} is the name of metrics[{seen[name]}] too",
                    doc.location(("metrics", i, "name")),
                    path=f"metrics[{i}].name",
                    hint="give each metric its own name: commands and reports name them",
                )
            )
        seen.setdefault(name, i)
        for unknown in unknown_placeholders(spec["query"]):
            out.append(
                Diagnostic(
                    "error",
                    "analytics",
                    f"metrics[{i}].query: unknown placeholder {{{unknown}}}",
                    doc.location(("metrics", i, "query")),
                    path=f"metrics[{i}].query",
                    hint="the placeholders are " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS),
                )
            )
    return out


def _tolerance(value: float | str | None) -> tuple[float | None, bool]:
    """`5%` -> (0.05, relative); 0.02 -> (0.02, in the metric's unit)."""
    if value is None:
        return None, True
    if isinstance(value, str):
        return float(value.rstrip("%")) / 100, True
    return float(value), False


def read_analytics(doc: Document, root: Path) -> AnalyticsConfig:
    """The configuration in `doc` (analytics.yaml of the repository at `root`); every problem
    an `InputError` at its file:line, all of them in its message."""
    problems = check_own_file(doc, "analytics")
    if not problems:
        problems = _problems(doc)
    if problems:
        problems.sort(key=lambda d: d.sort_key())
        first, rest = problems[0], problems[1:]
        more = "".join(f"\n{d.location}: error: {d.message}" for d in rest)
        raise InputError(f"{first.message}{more}", location=first.location, hint=first.hint)
    data: dict[str, Any] = doc.data
    spec = data["source"]
    source: PrometheusSpec | FilesSpec
    if "prometheus" in spec:
        prom = spec["prometheus"]
        timeout = parse_duration(prom.get("timeout", "10s")).total_seconds()
        if timeout <= 0:
            raise InputError(
                "source.prometheus.timeout: must be more than 0",
                location=doc.location(("source", "prometheus", "timeout")),
                hint="write a duration such as 10s",
            )
        step = parse_duration(prom.get("step", "1s")).total_seconds()
        if step <= 0:
            raise InputError(
                "source.prometheus.step: must be more than 0",
                location=doc.location(("source", "prometheus", "step")),
                hint="write the scrape interval, such as 15s",
            )
        source = PrometheusSpec(prom["url"], timeout, step)
    else:
        source = FilesSpec(root / spec["files"]["folder"])
    metrics = tuple(
        Metric(
            m["name"],
            m["query"],
            m["direction"],
            float(m.get("weight", 1)),
            bool(m.get("critical", False)),
            str(doc.location(("metrics", i))),
            *_tolerance(m.get("tolerance")),
        )
        for i, m in enumerate(data["metrics"])
    )
    return AnalyticsConfig(doc.source, source, metrics)


def load_analytics(path: Path) -> AnalyticsConfig:
    """analytics.yaml read from `path`; its folder is the repository root."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InputError(
            f"cannot read the analytics configuration: {exc.strerror}",
            location=Location(str(path)),
            hint=f"write {ANALYTICS} at the repository root (see docs/analytics.md)",
        ) from None
    return read_analytics(parse(text, str(path)), path.resolve().parent)


def analytics_of(snap: Snapshot) -> AnalyticsConfig | None:
    """analytics.yaml of `snap`; None when it has none."""
    if ANALYTICS not in snap.files:
        return None
    return read_analytics(snap.document(ANALYTICS), snap.root)
