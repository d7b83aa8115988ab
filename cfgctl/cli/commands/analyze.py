"""`cfgctl analyze ...`: what configuration changes did to performance (`cfgctl.analyze`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cfgctl.cli.options import FormatOpt, TextOrJson
from cfgctl.cli.output import out
from cfgctl.cli.reporters import emit

if TYPE_CHECKING:
    from cfgctl.analyze.changepoints import ChangePoint
    from cfgctl.analyze.series import Series

__all__ = ["app"]

app = typer.Typer(rich_markup_mode=None)
analyze = typer.Typer(
    help="Analytics: change points of metrics, the impact of configuration changes.",
    no_args_is_help=True,
)
app.add_typer(analyze, name="analyze")


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
