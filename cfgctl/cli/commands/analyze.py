"""`cfgctl analyze ...`: what configuration changes did to performance (`cfgctl.analyze`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.analyzeinputs import analytics_and_repository, check_out, positive, read_analytics
from cfgctl.cli.options import FormatOpt, TextOrJson
from cfgctl.cli.output import out
from cfgctl.cli.reporters import emit

if TYPE_CHECKING:
    from cfgctl.analyze.changepoints import ChangePoint
    from cfgctl.analyze.series import Series

__all__ = ["app"]

app = typer.Typer(rich_markup_mode=None)
analyze = typer.Typer(
    help="Analytics: change points of metrics, the impact of configuration changes, the keys "
    "whose changes move a metric, better values, and an HTML report.",
    no_args_is_help=True,
)
app.add_typer(analyze, name="analyze")

# The options the commands over the agent's deliveries share.
AuditOpt = Annotated[
    Path, typer.Option("--audit", metavar="PATH", help="The agent's state_dir, or its audit.jsonl.")
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", metavar="FILE", help="analytics.yaml (default: the repository's)."),
]
ServiceOpt = Annotated[
    str | None, typer.Option("--service", "-s", metavar="SERVICE", help="Only this service.")
]
EnvOpt = Annotated[
    str | None, typer.Option("--env", "-e", metavar="ENV", help="Only this environment.")
]
MetricOpt = Annotated[
    str, typer.Option("--metric", "-m", metavar="NAME", help="A metric of analytics.yaml.")
]


@analyze.command("changepoints")
def changepoints(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="A CSV (header; first column a time or an index) or JSON array."
        ),
    ],
    column: Annotated[
        str | None,
        typer.Option(
            "--column", "-c", metavar="NAME", help="The metric's column (default: the first)."
        ),
    ] = None,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """List the change points of one series: where its level shifts and stays shifted.

    For each: the index (0-based row of the first point of the new segment) and its time, the
    median before and after, the relative change, and the p-value. Deterministic (the same
    input gives the same answer), robust to outliers, heavy tails, seasons and autocorrelated
    noise (rank statistics scaled by the long-run variance; docs/analytics.md says how).
    Missing and NaN values are left out (counted); a non-numeric cell, a duplicate time or an
    empty series is an error with its file:line (exit 2).

    Example: cfgctl analyze changepoints latency.csv --column p99 --format json
    """
    from cfgctl.analyze.changepoints import detect
    from cfgctl.analyze.series import read_series

    series = read_series(file, column)
    points = detect(series.values)
    data = {
        "series": series.name,
        "n": len(series),
        "dropped": series.dropped,
        "changepoints": [{**p.to_dict(), "time": series.time_text(p.index)} for p in points],
    }
    emit(fmt.value, data, lambda: _print(series, points))


def _print(series: Series, points: list[ChangePoint]) -> None:
    dropped = f" ({series.dropped} missing left out)" if series.dropped else ""
    out.print(f"{series.name}: {len(series)} points{dropped}, {len(points)} change point(s)")
    for p in points:
        when = series.time_text(p.index)
        change = f"{p.change:+.1%}" if p.change is not None else "from 0"
        at = f"{p.index} ({when})" if when else str(p.index)
        out.print(f"  at {at}: {p.before:g} -> {p.after:g} ({change}), p = {p.p_value:.2g}")


@analyze.command("impact")
def impact_(
    commit: Annotated[str, typer.Argument(metavar="COMMIT", help="The commit (7+ hex digits).")],
    audit: AuditOpt,
    service: ServiceOpt = None,
    env: EnvOpt = None,
    window: Annotated[
        str, typer.Option("--window", "-w", metavar="DURATION", help="Before and after.")
    ] = "30m",
    config: ConfigOpt = None,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when a target regressed.")
    ] = False,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Judge what COMMIT did to every target it reached: each metric of analytics.yaml in the
    --window before the delivery against the --window after it.

    Per metric: outliers removed, Mann-Whitney U at 98%, the Hodges-Lehmann effect with its
    interval, and the minimum detectable effect; the verdict is regression, improvement, no
    change, or inconclusive (too little data, too much noise, a window not over yet: never a
    pass in disguise). Targets of later waves, still on the old configuration during the window,
    are a control group (difference in differences) when the query names {target}. A target
    regresses when a critical metric does, or metrics weighing a quarter of all. The deliveries
    come from the agent's audit log (--audit). --format json gives every number. Exit 0 (1 with
    --exit-code on a regression), 2 on bad input (a commit never delivered), 3 when the metrics
    source cannot be reached. docs/analytics.md says how to read each verdict.

    Example: cfgctl analyze impact 3f2a9c4 --audit /var/lib/cfgctl-agent --window 15m
    """
    import time

    from cfgctl.analyze.deliveries import deliveries_of, read_deliveries
    from cfgctl.analyze.impact import impact
    from cfgctl.cli.analyzetext import print_impact
    from cfgctl.errors import CheckFailed

    seconds = positive(window, "--window")
    analytics = read_analytics(config)
    every = read_deliveries(audit)
    chosen = deliveries_of(every, commit, service, env)
    report = impact(
        chosen, every, analytics, analytics.open_source(), window=seconds, now=time.time()
    )
    emit(fmt.value, report.to_dict(), lambda: print_impact(report))
    regressed = [t.delivery.target for t in report.targets if t.verdict == "regression"]
    if exit_code and regressed:
        raise CheckFailed(f"{len(regressed)} target(s) regressed: {', '.join(regressed)}")


@analyze.command("report")
def report_(
    audit: AuditOpt,
    out_file: Annotated[
        Path, typer.Option("--out", "-o", metavar="FILE", help="The HTML page to write.")
    ],
    since: Annotated[
        str, typer.Option("--since", metavar="DURATION", help="The period: up to now.")
    ] = "7d",
    service: ServiceOpt = None,
    env: EnvOpt = None,
    window: Annotated[
        str,
        typer.Option("--window", "-w", metavar="DURATION", help="Before and after a delivery."),
    ] = "30m",
    config: ConfigOpt = None,
) -> None:
    """Write one self-contained HTML page of what was delivered in the last --since and what it
    did: a report to read, share or archive.

    The page holds: each metric of analytics.yaml over the period, per target (or per service
    and environment, as its query names them), with the deliveries marked by their commits and
    the change points found (as `analyze changepoints`); the deliveries of the period, with
    their commit messages when run inside the config repository; every delivery judged as
    `analyze impact` judges it (regression, improvement, no change or inconclusive, with the
    effect, its interval, the p-value, the MDE and n); and the ranking of keys whose changes
    preceded shifts, when correlation is available. No script and no external link: plots are
    inline SVG, and the page opens offline. It shows metrics, commits and key names, never a
    configuration value. A metrics file or query that fails spoils only its own plot (the page
    says why); a period without deliveries still gives a page that says so. The file is written
    whole or not at all. Exit 0, 2 on bad input (--out in a folder that does not exist, a bad
    analytics.yaml or audit log), 3 when the metrics source cannot be reached (nothing
    written).

    Example: cfgctl analyze report --audit /var/lib/cfgctl-agent --since 7d --out report.html
    """
    import time

    from cfgctl.analyze.deliveries import read_deliveries
    from cfgctl.analyze.report import commit_subjects, correlation_ranking, gather, in_scope
    from cfgctl.analyze.reportpage import render_page
    from cfgctl.repo.fsutil import atomic_write

    period, seconds = positive(since, "--since"), positive(window, "--window")
    check_out(out_file)
    analytics, snap = analytics_and_repository(config)
    every = read_deliveries(audit)
    source = analytics.open_source()
    now = time.time()
    start = now - period
    data = gather(
        every, analytics, source, start=start, end=now, window=seconds, now=now,
        service=service, env=env,
    )  # fmt: skip
    chosen = in_scope(every, service, env)
    ranking = correlation_ranking(
        snap, chosen, analytics, source, start=start, end=now, window=seconds
    )
    subjects = commit_subjects(snap.store if snap else None, {d.commit for d in every})
    page = render_page(data, subjects=subjects, ranking=ranking)
    atomic_write(out_file, page.encode("utf-8"))
    plots = sum(1 for p in data.panels if p.problem is None)
    problems = f"; {len(data.problems)} problem(s), shown in it" if data.problems else ""
    out.print(
        f"{out_file}: {len(data.deliveries)} deliveries, {len(data.metrics)} metric(s) in "
        f"{plots} plot(s){problems}"
    )


@analyze.command("correlate")
def correlate_(
    metric: MetricOpt,
    audit: AuditOpt,
    since: Annotated[
        str, typer.Option("--since", metavar="DURATION", help="How far back.")
    ] = "30d",
    service: ServiceOpt = None,
    env: EnvOpt = None,
    window: Annotated[
        str,
        typer.Option(
            "--window", "-w", metavar="DURATION", help="How long before a shift a change counts."
        ),
    ] = "30m",
    config: ConfigOpt = None,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Rank configuration keys by how consistently their changes precede shifts of a metric.

    Over the last --since: the metric's series of every target the agent delivered to (its
    query filled in with the delivery's {service}, {env}, {target}), every change point of
    each, and the deliveries that landed in the --window before it, with the commits, the
    targets and the keys they changed (the effective configuration at the commit replaced
    against the commit delivered, from this repository's Git history). Then, per key of a
    service: changes (commits that changed it), hits (those followed by a shift), the rate,
    and the p-value of a one-sided binomial test against p0, the share of time that lies in
    some shift's window (the chance a change at a random moment has to be a hit). Keys whose
    changes never preceded a shift are listed apart: candidates to stop tuning. No
    deliveries, no change points: said plainly (exit 0). Correlation is not cause: keys
    changed together share their hits. --format json gives every number. Exit 2 on bad input
    (an unknown metric, service or environment, no analytics.yaml, a --since or --window that
    is not a duration), 3 when the metrics source cannot be reached. docs/analytics.md says
    when to trust it.

    Example: cfgctl analyze correlate --metric latency_p99 --audit /var/lib/cfgctl-agent --since 14d
    """
    import time

    from cfgctl.analyze.correlate import correlate
    from cfgctl.analyze.deliveries import read_deliveries
    from cfgctl.analyze.keychanges import KeyChanges
    from cfgctl.cli.analyzetext import print_correlation
    from cfgctl.cli.state import STATE

    span, seconds = positive(since, "--since"), positive(window, "--window")
    analytics = read_analytics(config)
    chosen = analytics.metric(metric)
    snap = STATE.snapshot()
    if service is not None:
        snap.manifest.service(service)
    if env is not None:
        snap.manifest.env(env)
    deliveries = [
        d
        for d in read_deliveries(audit)
        if (service is None or d.service == service) and (env is None or d.env == env)
    ]
    now = time.time()
    result = correlate(
        KeyChanges(snap),
        deliveries,
        chosen,
        analytics.open_source(),
        start=now - span,
        end=now,
        window=seconds,
        step=analytics.step,
    )
    emit(fmt.value, result.to_dict(), lambda: print_correlation(result))


@analyze.command("recommend")
def recommend_(
    service: Annotated[str, typer.Argument(metavar="SERVICE", help="The service.")],
    env: Annotated[str, typer.Option("--env", "-e", metavar="ENV", help="Its environment.")],
    metric: MetricOpt,
    audit: AuditOpt,
    key: Annotated[
        str | None,
        typer.Option("--key", "-k", metavar="KEY", help="The key (default: the best evidence)."),
    ] = None,
    window: Annotated[
        str, typer.Option("--window", "-w", metavar="DURATION", help="Before and after.")
    ] = "30m",
    branch: Annotated[
        str | None,
        typer.Option("--branch", metavar="NAME", help="Commit the proposal on this new branch."),
    ] = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = TextOrJson.text,
) -> None:
    """Propose a better value of a numeric key of SERVICE in ENV, from what its past changes did
    to a metric; or say plainly why the data cannot support one.

    Each delivery (the agent's audit log, --audit) that changed the key's effective value gives
    two points: the new value against the metric's median over the --window after it, the old
    value against the --window before. With 6 points of 5 distinct values or more: Spearman's
    rank correlation; significant (p < 0.05), a monotone fit proposes the best value seen
    (lowest metric for higher_is_worse, highest for higher_is_better), never beyond the data;
    not monotone, a Gaussian process proposes the best of its curve when it explains the
    points far better than a constant. The proposal is kept inside the schema's bounds
    (minimum, maximum, exclusive bounds, multipleOf, integer), with the expected metric, its
    95% interval, and the expected change from the current value. Without --key every numeric
    key with history is modelled and the strongest evidence wins (the others listed).

    Nothing is written without --branch; with it, the value is set in config/ENV/SERVICE.yaml
    of HEAD (comments kept, validated) as one commit on the new branch NAME, its message naming
    the evidence, for a pull request: the work tree and the current branch are not touched, and
    an existing branch is refused. No recommendation is a normal answer (exit 0, with the
    reason). Exit 2 on bad input (an unknown service, environment or metric, a key that is not
    numeric, no analytics.yaml), 3 when the metrics source cannot be reached.

    Example: cfgctl analyze recommend payments -e prod -m latency_p99 --audit /var/lib/cfgctl-agent
    """
    import time

    from cfgctl.analyze.deliveries import read_deliveries
    from cfgctl.analyze.keychanges import KeyChanges
    from cfgctl.analyze.proposal import propose_on_branch
    from cfgctl.analyze.recommend import recommend
    from cfgctl.cli.analyzetext import print_recommendation
    from cfgctl.cli.state import STATE
    from cfgctl.repo.keypath import parse_key

    seconds = positive(window, "--window")
    snap = STATE.snapshot()
    snap.manifest.service(service)
    snap.manifest.env(env)
    path = parse_key(key) if key is not None else None
    analytics = read_analytics(config)
    chosen = analytics.metric(metric)
    result = recommend(
        snap,
        KeyChanges(snap),
        read_deliveries(audit),
        chosen,
        analytics.open_source(),
        service,
        env,
        key=path,
        window=seconds,
        now=time.time(),
        step=analytics.step,
    )
    if branch is not None:
        propose_on_branch(snap, result, branch)
    emit(fmt.value, result.to_dict(), lambda: print_recommendation(result))
