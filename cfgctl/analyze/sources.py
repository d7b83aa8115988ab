"""Where metrics come from: the `MetricSource` interface and its file implementation.

    source: MetricSource = FileSource(Path("metrics"))        # or PrometheusSource(url)
    query = source.render(metric.query, {"service": "payments", "env": "prod"})
    for series in source.series(query, start, end, step=15): ...

`render` fills a query template's `{service}`/`{env}`/`{target}` placeholders the way the
source needs (escaped PromQL strings, plain file names); `series` gives every series the query
names between `start` and `end` (Unix seconds), [] when it names none in that window: the
caller decides whether no data is an error or an `inconclusive`.

`FileSource(path)` reads CSV or JSON files with `read_series`. Over one file the query is a
column name ("" for the first metric column); over a folder it is `FILE` or `FILE#COLUMN`,
relative to the folder and never outside it. A file's rows with times are cut to the window
(`step` is not used: the file's own points are given); rows numbered by an index have no time
to cut by and are given whole. A named file or column that does not exist is an `InputError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

from cfgctl.analyze.placeholders import fill_path
from cfgctl.analyze.series import Series, read_series
from cfgctl.errors import InputError

__all__ = ["FileSource", "MetricSource"]


@runtime_checkable
class MetricSource(Protocol):
    """A place metric series are read from (Prometheus, files)."""

    def render(self, template: str, values: Mapping[str, str]) -> str:
        """The query of `template` with its placeholders filled in for this source."""
        ...

    def series(self, query: str, start: float, end: float, step: float) -> list[Series]:
        """Every series of `query` from `start` to `end` (Unix seconds); [] for none."""
        ...


class FileSource:
    """Series read from a CSV or JSON file, or from the files of a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"FileSource({str(self.path)!r})"

    def render(self, template: str, values: Mapping[str, str]) -> str:
        return fill_path(template, values)

    def series(self, query: str, start: float, end: float, step: float) -> list[Series]:
        if end < start:
            raise InputError(f"bad time range {start}..{end}", hint="start <= end, Unix seconds")
        file, column = self._locate(query)
        return _window(read_series(file, column or None), start, end)

    def _locate(self, query: str) -> tuple[Path, str]:
        if not self.path.is_dir():
            if not self.path.is_file():
                raise InputError(
                    f"{self.path}: no such file or folder of metrics",
                    hint="source.files.folder in analytics.yaml names it, relative to the "
                    "repository root",
                )
            return self.path, query
        name, _, column = query.partition("#")
        root = self.path.resolve()
        file = (root / name).resolve()
        if not name or not file.is_relative_to(root) or file == root:
            raise InputError(
                f"{query!r} is not a file inside {self.path}",
                hint="a file query is FILE or FILE#COLUMN, relative to the metrics folder",
            )
        if not file.is_file():
            found = sorted(p.name for p in self.path.iterdir() if p.is_file())[:10]
            raise InputError(
                f"{self.path / name}: no such metrics file",
                hint=f"files there: {', '.join(found)}" if found else "the folder is empty",
            )
        return file, column


def _window(series: Series, start: float, end: float) -> list[Series]:
    if series.times is None:
        return [series]
    keep = (series.times >= start) & (series.times <= end)
    if not keep.any():
        return []
    return [Series(series.name, series.values[keep], series.times[keep], series.dropped)]
