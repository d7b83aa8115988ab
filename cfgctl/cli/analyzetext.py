"""Text renderings of `cfgctl analyze impact`, `correlate` and `recommend` (their JSON is
`to_dict()`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cfgctl.cli.output import out

if TYPE_CHECKING:
    from cfgctl.analyze.correlate import Correlation
    from cfgctl.analyze.impact import ImpactReport
    from cfgctl.analyze.recommend import Recommendation

__all__ = ["print_correlation", "print_impact", "print_recommendation"]


def print_correlation(result: Correlation) -> None:
    out.print(
        f"{result.metric}: {result.deliveries} deliveries, {result.series} series, "
        f"{len(result.shifts)} shift(s); windows of {result.window:g} s"
    )
    for s in result.shifts:
        p = s.point
        change = f"{p.change:+.1%}" if p.change is not None else "from 0"
        when = _iso(s.time)
        out.print(
            f"  shift at {when} in {s.series}: {p.before:g} -> {p.after:g} ({change}, "
            f"{'worse' if s.worse else 'better'}), p = {p.p_value:.2g}"
        )
        for d in s.preceding:
            keys = ", ".join(d.keys) if d.keys else "keys unknown" if d.keys is None else "none"
            out.print(
                f"    after {d.delivery.commit[:12]} to {d.delivery.target} at "
                f"{_iso(d.delivery.time)}: {keys}"
            )
    if result.reason:
        out.print(result.reason)
    if result.ranking:
        out.print("keys whose changes preceded shifts (hits/changes, chance p0, p-value):")
        for r in result.ranking:
            out.print(
                f"  {r.service} {r.key}: {r.hits}/{r.changes} ({r.rate:.0%}), "
                f"p0 {r.p0:.2g}, p = {r.p_value:.2g}"
            )
    if result.stop_tuning:
        out.print("candidates to stop tuning (changed, never followed by a shift):")
        for r in result.stop_tuning:
            out.print(f"  {r.service} {r.key}: {r.changes} change(s)")
    for note in result.notes:
        out.print(f"note: {note}")


def _iso(when: float) -> str:
    return datetime.fromtimestamp(when, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def print_recommendation(rec: Recommendation) -> None:
    m = rec.chosen
    where = f"{rec.service}@{rec.env}, {rec.metric} ({rec.direction})"
    if m is None or m.proposal is None:
        out.print(f"{where}: no recommendation: {rec.reason}")
    else:
        out.print(f"{where}: set {m.key} to {m.proposal} (now {m.current:g})")
        out.print(f"  why: {rec.reason}")
        if m.expected is not None and m.interval is not None:
            out.print(
                f"  expected {rec.metric}: {m.expected:.4g} "
                f"(95% interval {m.interval[0]:.4g} to {m.interval[1]:.4g})"
            )
        if m.effect is not None and m.effect_interval is not None:
            out.print(
                f"  change from now: {m.effect:+.4g} "
                f"({m.effect_interval[0]:+.4g} to {m.effect_interval[1]:+.4g})"
            )
    others = [k for k in rec.keys if k is not m]
    if others:
        out.print("other keys:")
    for k in others:
        corr = f"rho {k.rho:+.2f}, p = {k.p_value:.2g}; " if k.rho is not None else ""
        out.print(f"  {k.key}: {len(k.points)} points; {corr}{k.reason}")
    if rec.commit:
        out.print(f"committed on branch {rec.branch}: {rec.commit[:12]} (open a pull request)")


def print_impact(report: ImpactReport) -> None:
    out.print(
        f"{report.commit[:12]}: {len(report.targets)} target(s), windows of {report.window:g} s"
    )
    for t in report.targets:
        out.print(f"{t.delivery.target} (wave {t.delivery.wave}): {t.verdict} ({t.reason})")
        for m in t.metrics:
            j = m.judgement
            numbers = []
            if j.effect is not None and j.interval is not None:
                numbers.append(f"effect {j.effect:+.4g} [{j.interval[0]:.4g}, {j.interval[1]:.4g}]")
            if j.relative is not None:
                numbers.append(f"{j.relative:+.1%}")
            if j.p_value is not None:
                numbers.append(f"p = {j.p_value:.2g}")
            if j.mde is not None:
                numbers.append(f"MDE {j.mde:.3g}")
            numbers.append(f"n = {j.n_before}/{j.n_after}")
            control = f", control: {len(m.control)} target(s)" if m.control else ""
            out.print(f"  {m.metric}: {j.verdict}: {j.reason}; {', '.join(numbers)}{control}")
