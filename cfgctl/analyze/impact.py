"""`impact`: every target a commit reached, each metric before and after the delivery, judged
(`cfgctl.analyze.judge`), with a control group where waves left targets on the old configuration,
and a verdict per target that weighs the metrics as analytics.yaml says.

    report = impact(deliveries, config, source, window=1800.0, now=time.time())
    report.targets[0].verdict, report.targets[0].metrics[0].judgement.p_value

Windows: `window` seconds before the delivery against `window` seconds after it. The control
group of a target: the targets of the same service and environment the agent delivered the commit
to only after that window (later waves), read in the same windows; used when the metric's query
names `{target}` (else every target reads the same series, and there is nothing to compare).
A window that has not ended yet, a query that matches nothing, too few points: `inconclusive`,
with the reason. A target's verdict: `regression` when a critical metric regressed, or when the
regressed metrics weigh at least a quarter of all; `inconclusive` when the inconclusive ones weigh
more than half; else `pass`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from cfgctl.analyze.config import AnalyticsConfig, Metric
from cfgctl.analyze.deliveries import Delivery
from cfgctl.analyze.judge import Judgement, judge
from cfgctl.analyze.series import Series
from cfgctl.analyze.sources import MetricSource

__all__ = ["ImpactReport", "MetricImpact", "TargetImpact", "impact", "judge_target"]

REGRESSED_SHARE = 0.25

TargetVerdict = Literal["regression", "inconclusive", "pass"]


@dataclass(frozen=True)
class MetricImpact:
    metric: str
    query: str
    judgement: Judgement
    control: list[str]  # the control targets used


@dataclass
class TargetImpact:
    delivery: Delivery
    metrics: list[MetricImpact] = field(default_factory=list)
    verdict: TargetVerdict = "pass"
    reason: str = ""


@dataclass
class ImpactReport:
    commit: str
    window: float
    targets: list[TargetImpact] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "window_seconds": self.window,
            "targets": [
                {
                    "target": t.delivery.target,
                    "service": t.delivery.service,
                    "env": t.delivery.env,
                    "wave": t.delivery.wave,
                    "delivered": t.delivery.time,
                    "verdict": t.verdict,
                    "reason": t.reason,
                    "metrics": [
                        {
                            "metric": m.metric,
                            "query": m.query,
                            "control": m.control,
                            **m.judgement.to_dict(),
                        }
                        for m in t.metrics
                    ],
                }
                for t in self.targets
            ],
        }


def _values(found: list[Series]) -> np.ndarray:
    return np.concatenate([s.values for s in found]) if found else np.array([], dtype=np.float64)


def _read(
    source: MetricSource, metric: Metric, d: Delivery, start: float, end: float, step: float
) -> tuple[str, np.ndarray]:
    query = source.render(metric.query, {"service": d.service, "env": d.env, "target": d.target})
    return query, _values(source.series(query, start, end, step))


def _judge_metric(
    source: MetricSource,
    metric: Metric,
    d: Delivery,
    controls: list[Delivery],
    window: float,
    now: float,
    step: float,
) -> MetricImpact:
    query, before = _read(source, metric, d, d.time - window, d.time, step)
    _, after = _read(source, metric, d, d.time, d.time + window, step)
    control_pair = None
    used: list[str] = []
    if "{target}" in metric.query and controls:
        cb = np.concatenate(
            [_read(source, metric, c, d.time - window, d.time, step)[1] for c in controls]
        )
        ca = np.concatenate(
            [_read(source, metric, c, d.time, d.time + window, step)[1] for c in controls]
        )
        control_pair, used = (cb, ca), [c.target for c in controls]
    tolerance: dict[str, float] = {}
    if metric.tolerance is not None:
        kind = "relative_tolerance" if metric.relative_tolerance else "tolerance"
        tolerance[kind] = metric.tolerance
    j = judge(before, after, direction=metric.direction, control=control_pair, **tolerance)
    if d.time + window > now and j.verdict != "regression":
        ends = d.time + window - now
        j = replace(
            j, verdict="inconclusive", reason=f"the window after the delivery ends in {ends:.0f} s"
        )
    elif before.size == 0 or after.size == 0:
        side = "before" if before.size == 0 else "after"
        # judge() said too little data already, with no numbers: say which side had none
        j = replace(j, reason=f"{query!r} gave no points {side} the delivery", outliers=0)
    return MetricImpact(metric.name, query, j, used)


def _verdict(t: TargetImpact, config: AnalyticsConfig) -> None:
    weights = {m.name: m.weight for m in config.metrics}
    critical = {m.name for m in config.metrics if m.critical}
    total = sum(weights[m.metric] for m in t.metrics) or 1.0
    regressed = [m.metric for m in t.metrics if m.judgement.verdict == "regression"]
    unsure = sum(weights[m.metric] for m in t.metrics if m.judgement.verdict == "inconclusive")
    if set(regressed) & critical:
        t.verdict, t.reason = (
            "regression",
            f"critical metric {sorted(set(regressed) & critical)[0]} regressed",
        )
    elif sum(weights[m] for m in regressed) / total >= REGRESSED_SHARE:
        t.verdict, t.reason = "regression", f"regressed: {', '.join(regressed)}"
    elif unsure / total > 0.5:
        t.verdict, t.reason = "inconclusive", "most of the metrics' weight could not be judged"
    else:
        t.verdict, t.reason = "pass", "no regression that matters"


def judge_target(
    d: Delivery,
    controls: list[Delivery],
    config: AnalyticsConfig,
    source: MetricSource,
    *,
    window: float,
    now: float,
) -> TargetImpact:
    """Every metric of `config` for one delivery, the `window` seconds before it against the
    `window` seconds after it; `controls` (targets still on the old configuration then) read in
    the same windows. The agent's canary gate judges a wave with it."""
    t = TargetImpact(
        d, [_judge_metric(source, m, d, controls, window, now, config.step) for m in config.metrics]
    )
    _verdict(t, config)
    return t


def impact(
    deliveries: list[Delivery],
    all_deliveries: list[Delivery],
    config: AnalyticsConfig,
    source: MetricSource,
    *,
    window: float,
    now: float,
) -> ImpactReport:
    report = ImpactReport(deliveries[0].commit, window)
    for d in deliveries:
        controls = [
            c
            for c in all_deliveries
            if c.commit == d.commit
            and c.service == d.service
            and c.env == d.env
            and c.target != d.target
            and c.time > d.time + window
        ]
        report.targets.append(judge_target(d, controls, config, source, window=window, now=now))
    return report
