"""The report as one self-contained HTML page: inline CSS, plots as inline SVG, no script, no
external reference (it opens the same offline, in a mail, in an archive years later).

    text = render_page(data, subjects={"3f2a9c4...": "Raise the pool"}, ranking=[...])

Everything that comes from data (metric names, queries, targets, commits, their messages, the
series' labels, the keys of the ranking) is HTML-escaped; the page shows metrics, commits and
key names, never a configuration value. The same data gives the same page, byte for byte.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cfgctl._version import __version__
from cfgctl.analyze.judge import CONFIDENCE, Judgement
from cfgctl.analyze.plots import Line, Mark, svg
from cfgctl.analyze.plots import Panel as Plot
from cfgctl.analyze.report import CommitImpact, Panel, ReportData
from cfgctl.repo.timespec import format_duration

__all__ = ["render_page"]

SHORT = 7  # digits of a commit shown
MAX_SUBJECT = 100
NONE = "\u2013"  # an en dash: no number
TINY = 1e-16  # p-values below are shown as "< 1e-16"

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
 margin:24px auto;max-width:1200px;padding:0 16px;color:#1b1b1b;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
h3{font-size:15px;margin:20px 0 4px}code{font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;
 background:#f4f4f4;padding:1px 3px;word-break:break-all}
.meta,.note{color:#555}.problem{color:#8a1c1c}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.target td{background:#fafafa;font-weight:600}
figure{margin:8px 0 18px}figcaption{font-size:13px;color:#333}
svg{width:100%;max-width:1100px;height:auto;display:block}
.v{font-weight:600;white-space:nowrap}.v-regression{color:#b00020}.v-improvement{color:#1b7a1b}
.v-no-change,.v-pass{color:#2b4f7a}.v-inconclusive{color:#8a6100}
ul.cp{margin:2px 0 0;padding-left:20px;font-size:13px}
"""

_READING = (
    "<p><b>regression</b> / <b>improvement</b>: the metric moved, significantly (p below "
    "{alpha}), the worse / better way. <b>no change</b>: not significant, and a shift that "
    "matters (the minimum detectable effect, MDE, at most 5% of the baseline) would have been "
    "seen. <b>inconclusive</b>: these windows could not show a shift that matters (too few "
    "points, too much noise, a window not over yet): never read it as a pass. The effect is the "
    "Hodges-Lehmann estimate (after &minus; before, in the metric's unit) with its {conf:.0%} "
    "interval; n is the points before / after. A target's verdict: regression when a critical "
    "metric regressed or regressed metrics weigh a quarter of all. docs/analytics.md says "
    "more.</p>"
)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _num(value: float | None, spec: str) -> str:
    return NONE if value is None else format(value, spec)


def _p(value: float | None) -> str:
    """A p-value; one below what a double tells apart from 0 is shown as such, not as 0."""
    if value is None:
        return NONE
    return f"< {TINY:.0e}" if value < TINY else f"{value:.2g}"


def _verdict(word: str) -> str:
    return f'<span class="v v-{_e(word.replace(" ", "-"))}">{_e(word)}</span>'


def _commit(commit: str, subjects: Mapping[str, str]) -> str:
    subject = subjects.get(commit, "")
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 3] + "..."
    text = f"<code>{_e(commit[:SHORT])}</code>"
    return text + (f" {_e(subject)}" if subject else "")


def _header(data: ReportData) -> str:
    scope = ", ".join(
        f"{name} {_e(value)}" for name, value in (("service", data.service), ("env", data.env))
        if value
    ) or "every service and environment"  # fmt: skip
    window = format_duration(timedelta(seconds=data.window))
    return (
        f"<h1>What configuration changes did: {_e(_when(data.start))} to "
        f'{_e(_when(data.end))}</h1>\n<p class="meta">Scope: {scope}. Metrics from '
        f"{_e(data.source)}; each delivery judged on the {_e(window)} before it against the "
        f"{_e(window)} after it. Made at {_e(_when(data.now))} by cfgctl {_e(__version__)}.</p>\n"
        '<p class="meta"><a href="#deliveries">Deliveries</a> · <a href="#metrics">Metrics</a>'
        ' · <a href="#verdicts">Verdicts</a> · <a href="#correlation">Correlation</a></p>\n'
    )


def _summary(data: ReportData) -> str:
    commits = {d.commit for d in data.deliveries}
    targets = {d.target for d in data.deliveries}
    verdicts = Counter(
        t.verdict for i in data.impacts if i.report is not None for t in i.report.targets
    )
    judged = ", ".join(f"{n} {_verdict(v)}" for v, n in sorted(verdicts.items()))
    text = (
        f"<p>{len(data.deliveries)} deliveries of {len(commits)} commit(s) to {len(targets)} "
        f"target(s) in the period" + (f"; targets judged: {judged}" if judged else "") + ".</p>\n"
    )
    if data.problems:
        items = "".join(f"<li>{_e(p)}</li>" for p in data.problems)
        text += f'<p class="problem">Could not be read:</p>\n<ul class="problem">{items}</ul>\n'
    return text


def _deliveries(data: ReportData, subjects: Mapping[str, str]) -> str:
    head = '<h2 id="deliveries">Deliveries</h2>\n'
    if not data.deliveries:
        return head + "<p>No deliveries in this period" + (
            " for this scope" if data.service or data.env else ""
        ) + ": the agent's audit log has none there.</p>\n"  # fmt: skip
    rows = "".join(
        f"<tr><td>{_e(_when(d.time))}</td><td>{_commit(d.commit, subjects)}</td>"
        f'<td>{_e(d.target)}</td><td class="num">{d.wave}</td>'
        f"<td><code>{_e((d.previous or NONE)[:SHORT])}</code></td></tr>\n"
        for d in data.deliveries
    )
    return (
        head + "<table><tr><th>Delivered</th><th>Commit</th><th>Target</th><th>Wave</th>"
        f"<th>Replaced</th></tr>\n{rows}</table>\n"
    )


def _plot(panel: Panel, data: ReportData, salt: str) -> str:
    lines = tuple(Line(s.name, s.times, s.values) for s in panel.series)
    timed = all(s.times is not None for s in panel.series)
    marks: list[Mark] = []
    close = (data.end - data.start) / 200
    for d in panel.deliveries if timed else ():
        # a commit reaching several targets of one scope at once: one line
        if not any(m.label == d.commit[:SHORT] and d.time - m.at < close for m in marks):
            marks.append(Mark(d.time, d.commit[:SHORT]))
    points = tuple(
        Mark(float(s.times[p.index]) if s.times is not None else float(p.index), "")
        for s, found in zip(panel.series, panel.changepoints, strict=True)
        for p in found
    )
    start, end = (data.start, data.end) if timed else (None, None)
    return svg(Plot(lines, tuple(marks), points, start, end, panel.metric.name), salt)


def _changepoints(panel: Panel) -> str:
    items = []
    for s, found in zip(panel.series, panel.changepoints, strict=True):
        for p in found:
            at = _when(float(s.times[p.index])) if s.times is not None else f"row {p.index}"
            change = f"{p.change:+.1%}" if p.change is not None else "from 0"
            name = f"{_e(s.name)}: " if len(panel.series) > 1 else ""
            items.append(
                f"<li>{name}{_e(at)}: {p.before:.4g} → {p.after:.4g} ({change}, "
                f"p {_p(p.p_value) if p.p_value < TINY else '= ' + _p(p.p_value)})</li>"
            )
    if not items:
        return '<p class="note">No change point.</p>'
    return f'<ul class="cp">{"".join(items)}</ul>'


def _figure(panel: Panel, data: ReportData, salt: str) -> str:
    title = f"<b>{_e(panel.scope)}</b>: <code>{_e(panel.query)}</code>"
    if panel.problem is not None:
        problem = f'<p class="problem">{_e(panel.problem)}</p>'
        return f"<figure><figcaption>{title}</figcaption>{problem}</figure>\n"
    n = sum(len(s) for s in panel.series)
    names = ", ".join(_e(s.name) for s in panel.series)
    more = f" ({panel.more} more series not drawn)" if panel.more else ""
    untimed = (
        " Its rows have no times: the deliveries cannot be placed on it."
        if any(s.times is None for s in panel.series)
        else ""
    )
    caption = f"{title}<br>{n} points of {names}{more}.{untimed}"
    return (
        f"<figure><figcaption>{caption}</figcaption>\n{_plot(panel, data, salt)}\n"
        f"{_changepoints(panel)}</figure>\n"
    )


def _metrics(data: ReportData) -> str:
    parts = ['<h2 id="metrics">Metrics</h2>\n']
    if not data.panels:
        parts.append("<p>No metric to plot: no target of this scope in the audit log.</p>\n")
    for i, metric in enumerate(data.metrics):
        flags = f"{metric.direction.replace('_', ' ')}, weight {metric.weight:g}"
        flags += ", critical" if metric.critical else ""
        parts.append(
            f'<h3 id="metric-{i}">{_e(metric.name)}</h3>\n<p class="note">{_e(flags)}; query '
            f"<code>{_e(metric.query)}</code></p>\n"
        )
        for j, panel in enumerate(p for p in data.panels if p.metric is metric):
            parts.append(_figure(panel, data, f"cfgctl-report-{i}-{j}"))
    return "".join(parts)


def _metric_row(name: str, j: Judgement) -> str:
    interval = f"[{j.interval[0]:.4g}, {j.interval[1]:.4g}]" if j.interval else NONE
    cells = (
        _num(j.effect, "+.4g"), interval, _num(j.relative, "+.1%"), _p(j.p_value),
        _num(j.mde, ".3g"), f"{j.n_before}/{j.n_after}",
    )  # fmt: skip
    numbers = "".join(f'<td class="num">{_e(c)}</td>' for c in cells)
    return (
        f"<tr><td></td><td>{_e(name)}</td><td>{_verdict(j.verdict)}</td>{numbers}"
        f"<td>{_e(j.reason)}</td></tr>\n"
    )


def _commit_rows(item: CommitImpact, subjects: Mapping[str, str]) -> str:
    if item.report is None:
        return (
            f'<tr class="target"><td>{_commit(item.commit, subjects)}</td>'
            f'<td colspan="9" class="problem">{_e(item.problem or "")}</td></tr>\n'
        )
    rows = []
    for t in item.report.targets:
        d = t.delivery
        rows.append(
            f'<tr class="target"><td>{_commit(d.commit, subjects)}<br>{_e(d.target)} (wave '
            f"{d.wave}, {_e(_when(d.time))})</td><td>every metric</td><td>{_verdict(t.verdict)}"
            f'</td><td colspan="7">{_e(t.reason)}</td></tr>\n'
        )
        rows.extend(_metric_row(m.metric, m.judgement) for m in t.metrics)
    return "".join(rows)


def _verdicts(data: ReportData, subjects: Mapping[str, str]) -> str:
    head = '<h2 id="verdicts">Impact of each delivery</h2>\n'
    if not data.impacts:
        return head + "<p>No deliveries in this period: nothing to judge.</p>\n"
    rows = "".join(_commit_rows(i, subjects) for i in data.impacts)
    return (
        f"{head}<table><tr><th>Delivery</th><th>Metric</th><th>Verdict</th><th>Effect</th>"
        f"<th>Interval ({CONFIDENCE:.0%})</th><th>Change</th><th>p-value</th><th>MDE</th>"
        f"<th>n</th><th>Why</th></tr>\n{rows}</table>\n"
        + _READING.format(alpha=f"{1 - CONFIDENCE:.2g}", conf=CONFIDENCE)
    )


def correlation_section(ranking: Sequence[Mapping[str, Any]] | str | None) -> str:
    """The ranking of keys (entries: key, changes, hits, rate, p_value; metric and service when
    known), or why there is none (`ranking` a sentence, or None: not available)."""
    head = '<h2 id="correlation">Correlation: which keys preceded shifts</h2>\n'
    if ranking is None or isinstance(ranking, str):
        why = ranking or "correlation is not available"
        return f'{head}<p class="note">{_e(why[:1].upper() + why[1:])}.</p>\n'
    if not ranking:
        return f"{head}<p>No key's changes preceded a shift of a metric in this period.</p>\n"
    columns = [c for c in ("metric", "service") if any(c in r for r in ranking)]
    columns += ["key", "changes", "hits", "rate", "p_value"]
    formats = {"rate": ".0%", "p_value": "p"}
    rows = []
    for entry in ranking:
        cells = []
        for c in columns:
            value = entry.get(c)
            shown = NONE if value is None else _format(value, formats.get(c, ""))
            numeric = ' class="num"' if c in ("changes", "hits", "rate", "p_value") else ""
            cells.append(f"<td{numeric}>{_e(shown)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>\n")
    header = "".join(f"<th>{_e(c.replace('_', '-'))}</th>" for c in columns)
    return f"{head}<table><tr>{header}</tr>\n{''.join(rows)}</table>\n"


def _format(value: object, spec: str) -> str:
    if spec == "p" and isinstance(value, float):
        return _p(value)
    if spec and isinstance(value, int | float) and not isinstance(value, bool):
        return format(value, spec)
    return str(value)


def render_page(
    data: ReportData,
    *,
    subjects: Mapping[str, str] | None = None,
    ranking: Sequence[Mapping[str, Any]] | str | None = None,
) -> str:
    """The page (see the module's docstring). `subjects`: commit -> the first line of its
    message; `ranking`: `correlation_section`'s."""
    subjects = subjects or {}
    title = f"cfgctl report {_when(data.start)} to {_when(data.end)}"
    body = (
        _header(data)
        + _summary(data)
        + _deliveries(data, subjects)
        + _metrics(data)
        + _verdicts(data, subjects)
        + correlation_section(ranking)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}</body>\n"
        "</html>\n"
    )
