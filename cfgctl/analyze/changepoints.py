"""Change points of one series: where its level shifts and stays shifted, found the same way every
time, robust to outliers, heavy tails and autocorrelated noise.

    points = detect(values)                 # [ChangePoint(index=212, before=1.0, after=1.3, ...)]

How: binary segmentation on ranks. In a segment, the cumulative sum of the centred ranks peaks
where the level shifts; scaled by the segment's long-run variance (Bartlett weights, so that
autocorrelated or seasonal noise does not pass for a shift), its peak behaves without a change like
the largest excursion of a Brownian bridge, whose tail is Kolmogorov's distribution: that gives
the p-value. A segment is split where p < `SEARCH_ALPHA` (liberally), and each part is searched
again. A seeded scan proposes more splits: the same statistic on every interval of a fixed grid
(128, 512, 2,048... points, each starting half its length after the last), where p <
`SEED_ALPHA`; with many shifts in one segment, the ones not cut yet inflate its long-run
variance (they look like autocorrelated noise) and its own test finds none of them, while in a
short interval each is (nearly) alone. Then each point is tested again between its neighbours
and the weakest is dropped until every one holds at `alpha` (as Hunter and Otava merge weak
points away). Ranks make one wild value count as one value.

Cost: the series is sorted once and each segment's ranks are read off that order; a segment's
autocovariances take one FFT of its length; a test the pruning repeats is not computed again.
The scan reads the grid's intervals off cumulative sums of the whole series' ranks, and takes an
FFT only for the few whose plain variance lets them pass. 1,000 series of 10,000 points take
about 5 s on one core (benchmarks/changepoint_bench.py).

`before` and `after` are the medians of the segments on either side, `change` the relative
change of the median (None when `before` is 0), `p_value` the final test's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.fft  # type: ignore[import-untyped]
from numpy.typing import NDArray
from scipy.special import kolmogi, kolmogorov  # type: ignore[import-untyped]

__all__ = ["ALPHA", "MIN_SIZE", "ChangePoint", "detect", "long_run_variance"]

ALPHA = 0.001
"""The significance of each split: without a change, a series shows one this often."""
MIN_SIZE = 5
"""The fewest points of a segment on either side of a change."""
SEARCH_ALPHA = 0.2
"""The search splits more freely than `ALPHA`: a shift up and one back down cancel in a long
segment's sum and show only once it is cut near them; the pruning at `ALPHA`, between
neighbours, then keeps what holds (alternating shifts of 2 sigma: 350 of 450 found against 124,
with no false alarm in 200 noise series either way)."""

SEED_ALPHA = 1e-6
"""The significance at which an interval of the seeded scan proposes its split. Strict: the
scan tests hundreds of short intervals, where a few lags of autocovariance underrate slow noise,
and a shift it is meant for stands out in an interval where it is alone. Measured (4x scales
from 128): at 0.01, F1 0.700 on the benchmark's series with changes, and 44 of 200 series of
800 points of AR(1) noise with phi 0.95 alarmed (25 without the scan); at 1e-6, 0.710 and 29;
at 1e-9, 0.697 and 27, and 1,090 of 1,124 shifts 150 points apart found against 1,107."""
SEED_SHORTEST = 128
"""The seeded scan's shortest intervals; each next scale is `SEED_RATIO` times as long, up to
half the series (256 first: 1,010 of those 1,124 shifts found; scales 2x apart: as 4x, slower)."""
SEED_RATIO = 4
_SEED_STAT = float(kolmogi(SEED_ALPHA))

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class ChangePoint:
    index: int  # 0-based: the first point of the new segment
    before: float  # the median of the segment before
    after: float  # the median of the segment after
    change: float | None  # (after - before) / |before|; None when before is 0
    p_value: float

    def to_dict(self) -> dict[str, float | int | None]:
        return {
            "index": self.index,
            "before": self.before,
            "after": self.after,
            "change": self.change,
            "p_value": self.p_value,
        }


def long_run_variance(resid: Floats) -> float:
    """The variance of the mean of `resid` times n, with Bartlett weights up to ~sqrt(n) lags
    (Newey-West): positively autocorrelated noise (a season, a slow drift) counts as less
    information than independent noise."""
    return float(_long_run_variances(resid[np.newaxis, :])[0])


def _long_run_variances(resid: Floats) -> Floats:
    """`long_run_variance` of each row of `resid`."""
    n = resid.shape[1]
    lags = min(n - 1, max(1, math.ceil(math.sqrt(n))))
    # Zero-padded to at least n + lags points, the circular autocovariance is the plain one up
    # to `lags` (2n is not needed); a length of small prime factors keeps the FFT fast.
    size = scipy.fft.next_fast_len(n + lags + 1, real=True)
    spectrum = np.fft.rfft(resid, size, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    acov = np.fft.irfft(power, size, axis=1)[:, : lags + 1] / n
    weights = 1.0 - np.arange(1, lags + 1) / (lags + 1)
    # Never below the plain variance: the estimate of the autocovariances is noisy, and read
    # low it would call noise a shift (6 false alarms in 1,000 series of white noise, against
    # none with the floor).
    variance: Floats = np.maximum(acov[:, 0], acov[:, 0] + 2.0 * (acov[:, 1:] @ weights))
    return variance


def _statistic(ranks: Floats, k: int, cusum: Floats) -> float:
    """The scaled excursion of the rank CUSUM at split k (k points before it)."""
    # The sums of ranks are exact (halves, far below 2**53), so these are the sides' means as
    # ranks[:k].mean() gives them, to the last bit, without a pass over the ranks.
    n = ranks.size
    before = float(cusum[k - 1]) + k * _mid_rank(n)
    resid = ranks.copy()
    resid[:k] -= before / k
    resid[k:] -= (n * _mid_rank(n) - before) / (n - k)
    variance = long_run_variance(resid)
    if variance <= 0:  # no noise at all: any step is certain, no step is none
        return math.inf if abs(cusum[k - 1]) > 1e-9 else 0.0
    return float(abs(cusum[k - 1]) / math.sqrt(n * variance))


def _mid_rank(n: int) -> float:
    """The mean of n ranks, ties or not: (n + 1) / 2."""
    return (n + 1) / 2


def _cusum(ranks: Floats) -> Floats:
    """The cumulative sum of the ranks' deviations from their mean."""
    return np.cumsum(ranks - _mid_rank(ranks.size))


def _p_value(ranks: Floats, k: int, cusum: Floats) -> float:
    stat = _statistic(ranks, k, cusum)
    return float(kolmogorov(stat)) if stat > 0 else 1.0


class _Series:
    """One series, sorted once: the ranks of any of its segments come from that one order
    (a pass over it, not a sort), and every test is computed once."""

    def __init__(self, values: Floats) -> None:
        self.values = values
        self.order = np.argsort(values)
        ordered = values[self.order]
        self.ties = bool(np.any(ordered[1:] == ordered[:-1]))
        self.place = np.empty(values.size, dtype=np.intp)  # where each point is in the order
        self.place[self.order] = np.arange(values.size)
        self.counting = np.arange(1, values.size + 1, dtype=np.float64)
        self.tests: dict[tuple[int, int, int], float] = {}

    def ranks(self, lo: int, hi: int) -> Floats:
        """The ranks of values[lo:hi] among themselves (ties: the mean of their ranks), the
        same numbers as scipy.stats.rankdata gives."""
        m, n = hi - lo, self.values.size
        if 8 * m < n:  # a short segment: sorting it is cheaper than a pass over the whole order
            order = np.argsort(self.values[lo:hi])
        else:
            inside = np.zeros(n, dtype=bool)
            inside[self.place[lo:hi]] = True
            order = self.order[inside] - lo
        ranks = np.empty(m, dtype=np.float64)
        if not self.ties:
            ranks[order] = self.counting[:m]
            return ranks
        ordered = self.values[lo:hi][order]
        first = np.r_[True, ordered[1:] != ordered[:-1]]
        group = np.cumsum(first)
        bounds = np.r_[np.nonzero(first)[0], m]
        ranks[order] = 0.5 * (bounds[group] + bounds[group - 1] + 1)
        return ranks

    def split(self, lo: int, hi: int, min_size: int) -> tuple[int, float] | None:
        """(k, p-value) of the best split of values[lo:hi] (k points before it), or None when
        the segment is too short to split."""
        n = hi - lo
        if n < 2 * min_size:
            return None
        ranks = self.ranks(lo, hi)
        cusum = _cusum(ranks)
        k = int(np.argmax(np.abs(cusum[min_size - 1 : n - min_size]))) + min_size
        p = self.tests[lo, lo + k, hi] = _p_value(ranks, k, cusum)
        return k, p

    def test(self, lo: int, at: int, hi: int) -> float:
        """The p-value of a split of values[lo:hi] fixed at index `at` (its excursion read
        against the same tail)."""
        if (lo, at, hi) not in self.tests:
            ranks = self.ranks(lo, hi)
            self.tests[lo, at, hi] = _p_value(ranks, at - lo, _cusum(ranks))
        return self.tests[lo, at, hi]


def _segment(series: _Series, alpha: float, min_size: int) -> list[int]:
    found: list[int] = []
    stack = [(0, series.values.size)]
    while stack:
        lo, hi = stack.pop()
        best = series.split(lo, hi, min_size)
        if best is None or best[1] >= alpha:
            continue
        found.append(lo + best[0])
        stack += [(lo, lo + best[0]), (lo + best[0], hi)]
    return sorted(found)


def _scan(
    u: Floats, sums: Floats, squares: Floats, length: int, min_size: int
) -> list[tuple[float, int]]:
    """(statistic, split) of the intervals of `length` points of `u` (starting every length / 2,
    and one ending at the end) whose statistic passes SEED_ALPHA. `u` is the ranks of the whole
    series (in an interval, a monotone transform of its values: as robust as its own ranks, and
    no sort per interval); `sums` and `squares` the cumulative sums of u and u², from 0."""
    n = u.size
    starts = np.arange(0, n - length + 1, length // 2)
    if starts[-1] != n - length:
        starts = np.r_[starts, n - length]
    windows = np.lib.stride_tricks.sliding_window_view(sums[1:], length)[starts]
    partial = windows - sums[starts][:, np.newaxis]  # the sums of each interval's first j
    total = partial[:, -1]
    cusum = partial - np.arange(1, length + 1) * (total / length)[:, np.newaxis]
    inner = np.abs(cusum[:, min_size - 1 : length - min_size])
    k = np.argmax(inner, axis=1) + min_size
    rows = np.arange(starts.size)
    peak = inner[rows, k - min_size]
    left = partial[rows, k - 1]
    inside = squares[starts + length] - squares[starts]
    rss = inside - left**2 / k - (total - left) ** 2 / (length - k)  # around the two means
    # The long-run variance is never below rss / length: this bound leaves out, cheaply, every
    # interval that cannot pass (all but a few of them in most series).
    maybe = (peak > 1e-9) & (peak**2 > _SEED_STAT**2 * np.maximum(rss, 0.0))
    if not np.any(maybe):
        return []
    starts, k, peak, left, total = starts[maybe], k[maybe], peak[maybe], left[maybe], total[maybe]
    seg = u[starts[:, np.newaxis] + np.arange(length)]
    step = np.where(
        np.arange(length) < k[:, np.newaxis],
        (left / k)[:, np.newaxis],
        ((total - left) / (length - k))[:, np.newaxis],
    )
    variance = _long_run_variances(seg - step)
    with np.errstate(divide="ignore"):
        stat = peak / np.sqrt(length * np.maximum(variance, 0.0))
    passed = stat > _SEED_STAT
    return list(zip(stat[passed].tolist(), (starts + k)[passed].tolist(), strict=True))


def _seeded(series: _Series, min_size: int) -> list[int]:
    """Splits proposed by the intervals of a fixed grid, strongest first (seeded binary
    segmentation, Kovacs et al., Biometrika 2023): where many shifts share a long segment, the
    ones not cut yet inflate its long-run variance like autocorrelated noise, and the segment's
    own test misses them all; in a short interval a shift is alone (or nearly) with the noise.
    Measured instead: the long-run variance of the ranks around a running median (which a shift
    hardly moves) finds them too, but takes slow noise for shifts: with a window of 2 sqrt(n)
    points, 28 of 200 series of AR(1) noise (0.8, 800 points) alarm (5 with this scan), F1 0.655
    on the benchmark; with 6 sqrt(n), 492 of 1,124 shifts 150 points apart found."""
    n = series.values.size
    u = series.ranks(0, n)
    sums = np.r_[0.0, np.cumsum(u)]
    squares = np.r_[0.0, np.cumsum(u * u)]
    found: list[tuple[float, int]] = []
    length = max(SEED_SHORTEST, 2 * min_size)
    while length <= n // 2:
        found += _scan(u, sums, squares, length, min_size)
        length *= SEED_RATIO
    return [k for _, k in sorted(found, key=lambda f: (-f[0], f[1]))]  # strongest first


def _search(series: _Series, alpha: float, min_size: int) -> list[int]:
    """The binary segmentation's splits, and those of the seeded scan that are not within
    `min_size` points of one already found."""
    found = _segment(series, alpha, min_size)
    taken = np.zeros(series.values.size + 1, dtype=bool)
    for k in found:
        taken[max(0, k - min_size) : k + min_size + 1] = True
    for k in _seeded(series, min_size):
        if not taken[k]:
            found.append(k)
            taken[max(0, k - min_size) : k + min_size + 1] = True
    return sorted(found)


def _prune(series: _Series, points: list[int], alpha: float) -> list[tuple[int, float]]:
    """Each point tested between its neighbours; the weakest above `alpha` dropped (and only its
    two neighbours tested again), until every one holds."""
    bounds = [0, *points, series.values.size]
    tests = [series.test(bounds[i], bounds[i + 1], bounds[i + 2]) for i in range(len(points))]
    while tests:
        worst = max(range(len(tests)), key=tests.__getitem__)
        if tests[worst] < alpha:
            break
        del points[worst], tests[worst]
        bounds = [0, *points, series.values.size]
        for i in (worst - 1, worst):
            if 0 <= i < len(points):
                tests[i] = series.test(bounds[i], bounds[i + 1], bounds[i + 2])
    return list(zip(points, tests, strict=True))


def detect(
    values: Sequence[float] | Floats, *, alpha: float = ALPHA, min_size: int = MIN_SIZE
) -> list[ChangePoint]:
    """The change points of `values` (finite numbers, in order), weakest merged away."""
    data = np.asarray(values, dtype=np.float64)
    if data.ndim != 1 or not np.all(np.isfinite(data)):
        raise ValueError("detect() takes one finite series")
    series = _Series(data)
    kept = _prune(series, _search(series, max(alpha, SEARCH_ALPHA), min_size), alpha)
    bounds = [0, *(k for k, _ in kept), data.size]
    out = []
    for i, (k, p) in enumerate(kept):
        before = float(np.median(data[bounds[i] : k]))
        after = float(np.median(data[k : bounds[i + 2]]))
        change = (after - before) / abs(before) if before != 0 else None
        out.append(ChangePoint(k, before, after, change, p))
    return out
