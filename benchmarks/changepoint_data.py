"""Labelled series for change-point detectors, and the score of a detector on them.

    series = quality_set(per_scenario=20)        # list[Labelled]: values, true change points
    series = speed_set(count=1000, length=10_000)
    m = match(truth=[100, 300], found=[103, 200])  # Match(tp=1, fp=1, fn=1)
    s = score([m, ...])                           # precision, recall, F1 over the series

Every series is piecewise stationary: a level (100) plus a shift at each true change point,
plus noise of standard deviation `sigma` (drawn per series in [1, 10]), plus what its condition
adds. A change point is the 0-based index of the first point of the new segment (as
`cfgctl.analyze.changepoints.ChangePoint.index` and ruptures' breakpoints, less the last).

Conditions (each with 0 change points, and with 1-4 of each shift size):

    gaussian   normal noise
    t3         Student's t with 3 degrees of freedom, scaled to standard deviation sigma
    outliers   normal noise, and 1% of the points spiked by +10 sigma (latency-like)
    seasonal   normal noise and a sine of amplitude 1 sigma, period 24 or 60 points
    trend      normal noise and a linear drift of 1 sigma over the whole series, either sign

Shift sizes are in units of sigma (0.5, 1, 2, 4), each change up or down at random; change
points are at least MIN_GAP points apart and from both ends. Lengths are drawn in 200-2000.
Everything comes from numpy's PCG64 seeded by (seed, CRC-32 of the scenario's name, the
series' number): the same arguments give the same series on every machine and run.

Scoring: a reported point within MARGIN (5) points of a true one is a true positive; each true
point and each reported point is matched at most once (a maximum matching, greedy in order,
which is optimal on a line with one margin). Precision, recall and F1 are summed over series
(micro): TP, FP, FN first, ratios last.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CONDITIONS",
    "MARGIN",
    "SHIFTS",
    "Labelled",
    "Match",
    "Score",
    "make_series",
    "match",
    "quality_set",
    "scenario_name",
    "score",
    "speed_set",
]

CONDITIONS = ("gaussian", "t3", "outliers", "seasonal", "trend")
SHIFTS = (0.5, 1.0, 2.0, 4.0)
MARGIN = 5
MIN_GAP = 40
LEVEL = 100.0
SEED = 20261202


@dataclass(frozen=True)
class Labelled:
    name: str  # scenario/number, e.g. "shift1/t3/007"
    scenario: str  # "none/gaussian", "shift0.5/outliers", ...
    values: NDArray[np.float64]
    changes: tuple[int, ...]  # true change points, ascending
    sigma: float


@dataclass(frozen=True)
class Match:
    tp: int
    fp: int
    fn: int


@dataclass(frozen=True)
class Score:
    series: int
    tp: int
    fp: int
    fn: int
    precision: float | None  # None when nothing was reported
    recall: float | None  # None when there was nothing to find
    f1: float | None  # None when both are undefined or zero


def scenario_name(shift: float | None, condition: str) -> str:
    return f"none/{condition}" if shift is None else f"shift{shift:g}/{condition}"


def _rng(seed: int, scenario: str, number: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(scenario.encode()), number])


def _positions(rng: np.random.Generator, length: int, count: int) -> tuple[int, ...]:
    """`count` change points at least MIN_GAP apart and from both ends (rejection sampling)."""
    if count == 0:
        return ()
    if length < MIN_GAP * (count + 1):
        raise ValueError(f"{count} change points need at least {MIN_GAP * (count + 1)} points")
    while True:
        points = np.sort(rng.integers(MIN_GAP, length - MIN_GAP + 1, size=count))
        gaps = np.diff(np.concatenate(([0], points, [length])))
        if gaps.min() >= MIN_GAP:
            return tuple(int(p) for p in points)


def _noise(
    rng: np.random.Generator, condition: str, length: int, sigma: float
) -> NDArray[np.float64]:
    if condition == "t3":
        t3: NDArray[np.float64] = rng.standard_t(3, size=length) * (sigma / np.sqrt(3.0))
        return t3  # scaled: the variance of t(3) is 3
    noise: NDArray[np.float64] = rng.normal(0.0, sigma, size=length)
    t = np.arange(length, dtype=np.float64)
    if condition == "outliers":
        spikes = rng.choice(length, size=max(1, length // 100), replace=False)
        noise[spikes] += 10.0 * sigma
    elif condition == "seasonal":
        period = float(rng.choice([24, 60]))
        noise += sigma * np.sin(2 * np.pi * (t / period + rng.uniform()))
    elif condition == "trend":
        noise += rng.choice([-1.0, 1.0]) * sigma * t / length
    elif condition != "gaussian":
        raise ValueError(f"unknown condition {condition!r}; one of {', '.join(CONDITIONS)}")
    return noise


def make_series(
    shift: float | None, condition: str, number: int, *, length: int | None = None, seed: int = SEED
) -> Labelled:
    """Series `number` of a scenario: no change when `shift` is None, else 1-4 changes of
    `shift` sigma each, up or down; `length` drawn in 200-2000 unless given."""
    scenario = scenario_name(shift, condition)
    rng = _rng(seed, scenario, number)
    n = int(rng.integers(200, 2001)) if length is None else length
    sigma = float(rng.uniform(1.0, 10.0))
    changes = _positions(rng, n, 0 if shift is None else int(rng.integers(1, 5)))
    level = np.full(n, LEVEL, dtype=np.float64)
    for point in changes:
        level[point:] += rng.choice([-1.0, 1.0]) * (shift or 0.0) * sigma
    values = (level + _noise(rng, condition, n, sigma)).astype(np.float64)
    return Labelled(f"{scenario}/{number:03d}", scenario, values, changes, sigma)


def quality_set(per_scenario: int = 20, seed: int = SEED) -> list[Labelled]:
    """`per_scenario` series of each scenario: every condition with no change, and with each
    shift size (5 x 5 scenarios)."""
    shifts: list[float | None] = [None, *SHIFTS]
    return [
        make_series(shift, condition, i, seed=seed)
        for shift in shifts
        for condition in CONDITIONS
        for i in range(per_scenario)
    ]


def speed_set(count: int = 1000, length: int = 10_000, seed: int = SEED) -> list[Labelled]:
    """`count` series of `length` points, the scenarios in turn (a fifth without change)."""
    shifts: list[float | None] = [None, *SHIFTS]
    cells = [(s, c) for s in shifts for c in CONDITIONS]
    return [
        make_series(*cells[i % len(cells)], 1000 + i, length=length, seed=seed)
        for i in range(count)
    ]


def match(truth: Sequence[int], found: Iterable[int], margin: int = MARGIN) -> Match:
    """True positives: reported points within `margin` of a true one, each matched once."""
    t, f = sorted(truth), sorted(set(found))
    i = j = tp = 0
    while i < len(t) and j < len(f):
        if abs(t[i] - f[j]) <= margin:
            tp, i, j = tp + 1, i + 1, j + 1
        elif f[j] < t[i]:
            j += 1
        else:
            i += 1
    return Match(tp, len(f) - tp, len(t) - tp)


def score(matches: Sequence[Match]) -> Score:
    """Precision, recall and F1 summed over series (micro)."""
    tp, fp, fn = (sum(getattr(m, k) for m in matches) for k in ("tp", "fp", "fn"))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else (0.0 if fn else None)
    return Score(len(matches), tp, fp, fn, precision, recall, f1)
