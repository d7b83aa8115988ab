"""One metric's points: `Series` (values in order, with their times when known), read from a CSV
file (a header; the first column a time or an index) or a JSON array, with every bad cell named.

    series = read_series(Path("latency.csv"), column="p99")
    series.values, series.times, series.name         # numpy arrays; times None for an index

Missing and NaN values are dropped (counted in `dropped`); times are sorted, a duplicate time is
an error (which of the two?), so is a non-numeric cell (file:line, the column, the value). An
empty series, or one column too few, is an `InputError` too: never a number made up.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cfgctl.errors import InputError, Location

__all__ = ["Series", "parse_time", "read_series", "series_from_points"]

MAX_BYTES = 256 << 20


@dataclass(frozen=True)
class Series:
    name: str
    values: NDArray[np.float64]
    times: NDArray[np.float64] | None  # Unix seconds, ascending; None when the rows are indices
    dropped: int = 0  # missing or NaN values left out

    def __len__(self) -> int:
        return int(self.values.size)

    def time_text(self, index: int) -> str | None:
        """The time of point `index` in RFC 3339 (UTC), or None for an index series."""
        if self.times is None:
            return None
        stamp = datetime.fromtimestamp(float(self.times[index]), tz=UTC)
        return stamp.isoformat().replace("+00:00", "Z")


_LAST_SECOND = 253_402_300_799.0  # 9999-12-31T23:59:59Z


def parse_time(text: str) -> float | None:
    """Unix seconds from RFC 3339 / ISO 8601 text (`2026-12-01T10:00:00Z`) or a number of
    seconds; None when it is neither."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:  # NaN, infinities and times past the year 9999 are no times
        return seconds if math.isfinite(seconds) and abs(seconds) <= _LAST_SECOND else None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _number(cell: Any, where: Location, column: str) -> float | None:
    """The cell's value; None when missing (empty, NaN, null)."""
    if cell is None or (
        isinstance(cell, str) and cell.strip().lower() in ("", "nan", "null", "na")
    ):
        return None
    if isinstance(cell, bool):
        raise InputError(
            f"{column}: {cell!r} is not a number", location=where, hint="write numbers"
        )
    try:
        value = float(cell)
    except (TypeError, ValueError):
        raise InputError(
            f"{column}: {str(cell)[:40]!r} is not a number",
            location=where,
            hint="every value of the column must be a number (or empty for a missing one)",
        ) from None
    if math.isinf(value):
        raise InputError(
            f"{column}: {cell!r} is infinite", location=where, hint="write a finite number"
        )
    return None if math.isnan(value) else value


def series_from_points(
    name: str, points: list[tuple[float | None, float | None]], source: str
) -> Series:
    """A series from (time or None, value or None) pairs: missing values dropped, sorted by
    time, duplicate times refused."""
    kept = [(t, v) for t, v in points if v is not None]
    dropped = len(points) - len(kept)
    if not kept:
        raise InputError(
            f"{source}: {name} has no values" + (f" ({dropped} missing)" if dropped else ""),
            hint="give at least a few numbers",
        )
    timed = [t for t, _ in kept if t is not None]
    if timed and len(timed) != len(kept):
        raise InputError(
            f"{source}: some rows of {name} have a time and some do not",
            hint="give every row a time",
        )
    if not timed:
        values = np.array([v for _, v in kept], dtype=np.float64)
        return Series(name, values, None, dropped)
    kept.sort(key=lambda p: p[0])  # type: ignore[arg-type, return-value]
    times = np.array([t for t, _ in kept], dtype=np.float64)
    same = np.flatnonzero(np.diff(times) == 0)
    if same.size:
        when = datetime.fromtimestamp(float(times[same[0]]), tz=UTC).isoformat()
        raise InputError(
            f"{source}: {name} has two values at {when}",
            hint="keep one value a time (aggregate them first)",
        )
    return Series(name, np.array([v for _, v in kept], dtype=np.float64), times, dropped)


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}", hint="name a readable file") from exc
    if len(data) > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES >> 20} MiB", hint="split it")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason})", hint="save it as UTF-8") from exc


def _csv(path: Path, text: str, column: str | None) -> Series:
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) < 2 or len(rows[0]) < 2:
        raise InputError(
            f"{path}: a CSV series needs a header and at least one row of two columns",
            hint="first column a time or an index, then one column per metric",
        )
    header = [h.strip() for h in rows[0]]
    name = column if column is not None else header[1]
    if name not in header[1:]:
        raise InputError(
            f"{path}: no column {name!r}", hint=f"its columns: {', '.join(header[1:])}"
        )
    at = header.index(name)
    timed = [parse_time(r[0]) if r else None for r in rows[1:3]]
    is_time = all(t is not None for t in timed) and not all(_is_index(r[0]) for r in rows[1:3] if r)
    points: list[tuple[float | None, float | None]] = []
    previous: int | None = None
    for line, row in enumerate(rows[1:], start=2):
        where = Location(str(path), line)
        if len(row) != len(header):
            raise InputError(
                f"row has {len(row)} cells, the header {len(header)}",
                location=where,
                hint="one cell a column",
            )
        when = parse_time(row[0]) if is_time else None
        if not is_time:
            previous = _check_index(row[0], previous, where, header[0])
        if is_time and when is None:
            raise InputError(
                f"{header[0]}: {row[0][:40]!r} is not a time",
                location=where,
                hint="RFC 3339 or Unix seconds",
            )
        points.append((when, _number(row[at], where, name)))
    return series_from_points(name, points, str(path))


def _check_index(cell: str, previous: int | None, where: Location, column: str) -> int | None:
    """An index column counts up: a repeated or smaller number is a duplicate or unsorted row."""
    text = cell.strip()
    if not text.isdigit():
        return previous
    number = int(text)
    if previous is not None and number <= previous:
        raise InputError(
            f"{column}: {number} after {previous}: an index counts up (a repeated or unsorted row)",
            location=where,
            hint="sort the rows and keep one a point, or give times (RFC 3339) instead",
        )
    return number


def _is_index(cell: str) -> bool:
    return cell.strip().isdigit() and len(cell.strip()) < 9


def _json(path: Path, text: str, column: str | None) -> Series:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"not JSON: {exc.msg}",
            location=Location(str(path), exc.lineno, exc.colno),
            hint="fix the JSON",
        ) from exc
    if not isinstance(data, list):
        raise InputError(
            f"{path}: a JSON series is an array", hint='[1.0, 2.0] or [{"time": ..., "value": ...}]'
        )
    name = column or "value"
    points: list[tuple[float | None, float | None]] = []
    for i, item in enumerate(data):
        where = Location(f"{path}[{i}]")
        if isinstance(item, dict):
            if name not in item:
                raise InputError(f"no {name!r} in this item", location=where, hint="--column NAME")
            raw_time = item.get("time", item.get("timestamp"))
            when = parse_time(str(raw_time)) if raw_time is not None else None
            if raw_time is not None and when is None:
                raise InputError(
                    f"time {str(raw_time)[:40]!r} is not a time",
                    location=where,
                    hint="RFC 3339 or Unix seconds",
                )
            points.append((when, _number(item[name], where, name)))
        else:
            points.append((None, _number(item, where, name)))
    return series_from_points(name, points, str(path))


def read_series(path: Path, column: str | None = None) -> Series:
    """The series of `column` (default: the first metric) in a CSV or JSON file."""
    text = _read_text(path)
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        return _json(path, text, column)
    return _csv(path, text, column)
