"""Plots of the report as inline SVG, drawn by matplotlib (imported here, on first use: the rest of
cfgctl does not pay for it).

    panel = Panel(lines=(Line("p99", times, values),), deliveries=(Mark(t, "3f2a9c4"),),
                  changepoints=(Mark(t2, "p = 1e-05"),), start=t0, end=t1, ylabel="latency")
    text = svg(panel, salt="latency-1")       # "<svg ...>...</svg>", no XML prolog

The same panel and salt give the same bytes: no date in the metadata, the ids of clip paths
and markers derived from `salt` (distinct salts keep the ids of two plots of one page apart).
Text stays text (`svg.fonttype: none`), escaped by matplotlib; a `$` in data is never read as
mathematics. A series of more than `MAX_POINTS` points is drawn as bucket means within their
minimum and maximum, so a page of long series stays small. Deliveries are labelled with their
`label` (a short commit) up to `MAX_LABELS` of them; past that, lines only.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CHANGE_COLOUR", "DELIVERY_COLOUR", "LINE_COLOURS", "Line", "Mark", "Panel", "svg"]

LINE_COLOURS = ("#1f77b4", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
DELIVERY_COLOUR = "#2a7a2a"
CHANGE_COLOUR = "#d62728"
MAX_POINTS = 2000
BUCKETS = 1000
MAX_LABEL = 60
MAX_LABELS = 30  # deliveries labelled on one plot; past that, lines only (the tables list them)

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Line:
    label: str
    times: Floats | None  # Unix seconds; None: the x axis is the row index
    values: Floats


@dataclass(frozen=True)
class Mark:
    at: float  # Unix seconds (or a row index on an index panel)
    label: str


@dataclass(frozen=True)
class Panel:
    lines: tuple[Line, ...]
    deliveries: tuple[Mark, ...] = ()
    changepoints: tuple[Mark, ...] = ()
    start: float | None = None  # the x range (Unix seconds) of a time panel
    end: float | None = None
    ylabel: str = ""


def _plain(text: str) -> str:
    """Data as literal text for matplotlib: `$` does not start mathematics, and it is short."""
    if len(text) > MAX_LABEL:
        text = text[: MAX_LABEL - 3] + "..."
    return text.replace("$", r"\$")


def _dates(seconds: Floats) -> NDArray[Any]:
    return np.round(seconds * 1000).astype("int64").astype("datetime64[ms]")


def _thinned(times: Floats, values: Floats) -> tuple[Floats, Floats, Floats, Floats]:
    """(x, mean, low, high) of `BUCKETS` equal runs of points."""
    edges = np.linspace(0, values.size, BUCKETS + 1).astype(np.int64)[:-1]
    counts = np.diff(np.r_[edges, values.size]).astype(np.float64)
    x = np.add.reduceat(times, edges) / counts
    mean = np.add.reduceat(values, edges) / counts
    return x, mean, np.minimum.reduceat(values, edges), np.maximum.reduceat(values, edges)


def _draw_line(ax: Axes, line: Line, colour: str, timed: bool) -> None:
    xs = line.times if line.times is not None else np.arange(line.values.size, dtype=np.float64)
    label = _plain(line.label)
    if line.values.size > MAX_POINTS:
        x, mean, low, high = _thinned(xs, line.values)
        px = _dates(x) if timed else x
        ax.fill_between(px, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.plot(px, mean, color=colour, linewidth=1.2, label=label)
    else:
        ax.plot(_dates(xs) if timed else xs, line.values, color=colour, linewidth=1.2, label=label)


def _marks(ax: Axes, marks: Sequence[Mark], colour: str, style: str, timed: bool) -> None:
    labelled = style == "-" and len(marks) <= MAX_LABELS  # change points: in the legend
    for mark in marks:
        x = _dates(np.array([mark.at]))[0] if timed else mark.at
        ax.axvline(x, color=colour, linewidth=1.2, linestyle=style)
        if labelled:
            ax.text(
                x, 0.98, " " + _plain(mark.label), transform=ax.get_xaxis_transform(),
                rotation=90, va="top", ha="right", fontsize=7, color=colour,
            )  # fmt: skip


def _legend(ax: Axes, panel: Panel) -> None:
    from matplotlib.lines import Line2D

    handles, _ = ax.get_legend_handles_labels()
    if len(panel.lines) == 1:
        handles = []  # one series: the page's caption names it
    if panel.deliveries:
        handles.append(Line2D([], [], color=DELIVERY_COLOUR, label="delivery"))
    if panel.changepoints:
        handles.append(Line2D([], [], color=CHANGE_COLOUR, linestyle="--", label="change point"))
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7)


_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')


def svg(panel: Panel, salt: str) -> str:
    """The panel as an `<svg>` element, for a page's HTML (see the module's docstring)."""
    import matplotlib
    from matplotlib.figure import Figure

    timed = all(line.times is not None for line in panel.lines)
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none", "timezone": "UTC"}):
        fig = Figure(figsize=(10, 3.2), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        for i, line in enumerate(panel.lines):
            _draw_line(ax, line, LINE_COLOURS[i % len(LINE_COLOURS)], timed)
        _marks(ax, panel.deliveries, DELIVERY_COLOUR, "-", timed)
        _marks(ax, panel.changepoints, CHANGE_COLOUR, "--", timed)
        if timed and panel.start is not None and panel.end is not None:
            ax.set_xlim(_dates(np.array([panel.start, panel.end])).tolist())
        if timed:
            import matplotlib.dates as mdates

            locator = mdates.AutoDateLocator()  # type: ignore[no-untyped-call]
            ax.xaxis.set_major_locator(locator)
            formatter = mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
            ax.xaxis.set_major_formatter(formatter)
        else:
            ax.set_xlabel("row")
        ax.set_ylabel(_plain(panel.ylabel))
        ax.grid(True, color="#e5e5e5", linewidth=0.6)
        _legend(ax, panel)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue().decode("utf-8")
    # Inline in HTML: no prolog or DOCTYPE, no RDF metadata, no namespace declarations (the
    # HTML parser puts <svg> in its namespace); nothing left that names a URL.
    return _XMLNS.sub("", _METADATA.sub("", _PROLOG.sub("", text, count=1), count=1))
