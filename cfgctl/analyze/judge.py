"""The impact judge: one metric before and after a delivery, judged the way Netflix's Kayenta does,
with the numbers behind the verdict and an honest `inconclusive` when the data cannot tell.

    j = judge(before, after, direction="higher_is_worse")
    j.verdict, j.p_value, j.effect     # "regression", 3e-05, 12.0
    j.interval, j.mde                  # (8.1, 15.9), 4.2

1. Outliers are removed from each side with Tukey's far fences (3 x IQR beyond the quartiles).
2. Mann-Whitney U tests whether after differs from before (two-sided, at `confidence`, 98% by
   default as Kayenta).
3. The effect is the Hodges-Lehmann estimate (the median of every after - before difference),
   with its distribution-free confidence interval from the same differences.
4. The minimum detectable effect (MDE) is the smallest shift the test finds with 80% power at
   these sample sizes and this noise (robust sigma from the MAD).

Verdict: `regression` or `improvement` when the test is significant (the direction says which)
and the effect is beyond a tolerance given for the metric; `no change` when it is within that
tolerance, or not significant with an MDE of at most the tolerance (5% of the baseline unless
given: a shift that matters would have been seen); else `inconclusive` (too little data, or too
much noise, to rule one out); also `inconclusive` with fewer than `MIN_POINTS` points on a side.
With a control group (targets the change did not reach, in the same window), the control's own
before-to-after shift is taken off the treated side first (difference in differences): a spike
of traffic that hits both is not the change's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.stats import mannwhitneyu, norm, rankdata  # type: ignore[import-untyped]

from cfgctl.analyze.changepoints import long_run_variance

__all__ = ["CONFIDENCE", "MIN_POINTS", "Judgement", "judge"]

CONFIDENCE = 0.98
MIN_POINTS = 10
TOLERANCE = 0.05  # of the baseline's median: a smaller shift does not matter
POWER = 0.8
_MAX_PAIRS = 250_000  # pairwise differences for the Hodges-Lehmann estimate

Direction = Literal["higher_is_worse", "higher_is_better"]
Verdict = Literal["regression", "improvement", "no change", "inconclusive"]
Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str
    p_value: float | None
    effect: float | None  # Hodges-Lehmann: after - before (in the metric's unit)
    interval: tuple[float, float] | None  # of the effect, at the confidence
    relative: float | None  # effect / |median before|
    mde: float | None  # the smallest shift detectable with 80% power
    n_before: int
    n_after: int
    outliers: int  # removed, both sides
    confidence: float
    # How much autocorrelation inflates the variance (long-run over plain, at least 1): the
    # test, the interval and the MDE are scaled by its square root.
    inflation: float = 1.0

    def to_dict(self) -> dict[str, object]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "p_value": self.p_value,
            "effect": self.effect,
            "interval": list(self.interval) if self.interval else None,
            "relative": self.relative,
            "mde": self.mde,
            "n_before": self.n_before,
            "n_after": self.n_after,
            "outliers": self.outliers,
            "confidence": self.confidence,
            "inflation": self.inflation,
        }


def _clean(values: Sequence[float] | Floats) -> tuple[Floats, int]:
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size < 4:
        return data, 0
    q1, q3 = np.percentile(data, [25, 75])
    spread = 3.0 * (q3 - q1)
    kept = data[(data >= q1 - spread) & (data <= q3 + spread)]
    return kept, int(data.size - kept.size)


def _differences(before: Floats, after: Floats) -> Floats:
    """Every after - before difference (a deterministic even subsample past _MAX_PAIRS)."""
    if before.size * after.size > _MAX_PAIRS:
        step = math.ceil(math.sqrt(before.size * after.size / _MAX_PAIRS))
        before, after = np.sort(before)[::step], np.sort(after)[::step]
    return np.subtract.outer(after, before).ravel()


def _interval(
    diffs: Floats, n: int, m: int, confidence: float, inflation: float = 1.0
) -> tuple[float, float]:
    """The distribution-free interval of the Hodges-Lehmann estimate (Moses): order statistics
    of the differences at the normal approximation of U's critical value (at the same quantiles
    of a subsample), widened by the autocorrelation's `inflation`."""
    z = float(norm.ppf(0.5 + confidence / 2)) * math.sqrt(inflation)
    k = max(0.0, n * m / 2 - z * math.sqrt(n * m * (n + m + 1) / 12))
    ordered = np.sort(diffs)
    lo = min(ordered.size - 1, math.floor(k / (n * m) * ordered.size))
    return float(ordered[lo]), float(ordered[ordered.size - 1 - lo])


def _mde(before: Floats, after: Floats, confidence: float) -> float:
    """Smallest shift found with 80% power: a t-like formula on a robust sigma, widened by the
    rank test's efficiency against normal data (3/pi)."""
    pooled = np.r_[before - np.median(before), after - np.median(after)]
    sigma = 1.4826 * float(np.median(np.abs(pooled)))
    if sigma == 0:
        sigma = float(np.std(pooled))
    z = float(norm.ppf(0.5 + confidence / 2) + norm.ppf(POWER))
    return z * sigma * math.sqrt(1 / before.size + 1 / after.size) / math.sqrt(3 / math.pi)


def _verdict(
    p: float,
    effect: float,
    mde: float,
    tolerance: float,
    direction: Direction,
    alpha: float,
    *,
    allowed: bool,
) -> tuple[Verdict, str]:
    if p < alpha and allowed and abs(effect) <= tolerance:
        return "no change", (
            f"significant, but the shift {effect:+.3g} is within the tolerance of {tolerance:.3g}"
        )
    if p < alpha:
        worse = effect > 0 if direction == "higher_is_worse" else effect < 0
        return (
            ("regression", "worse, and significant")
            if worse
            else ("improvement", "better, and significant")
        )
    if mde <= tolerance:
        return "no change", f"not significant, and a shift of {tolerance:.3g} would have been seen"
    return "inconclusive", (
        f"not significant, but only shifts above {mde:.3g} could be seen "
        f"(one of {tolerance:.3g} matters)"
    )


def judge(
    before: Sequence[float] | Floats,
    after: Sequence[float] | Floats,
    *,
    direction: Direction = "higher_is_worse",
    confidence: float = CONFIDENCE,
    tolerance: float | None = None,
    relative_tolerance: float | None = None,
    control: tuple[Sequence[float] | Floats, Sequence[float] | Floats] | None = None,
) -> Judgement:
    """The verdict on one metric (see the module's docstring). `tolerance`: the smallest shift
    that matters, in the metric's unit, or `relative_tolerance`, a share of the baseline's median
    (when that is 0: half the baseline's robust sigma). Either one given: a significant shift
    within it is `no change`. Neither: 5% of the median, and only for telling `no change` from
    `inconclusive` (every significant shift counts). `control`: (before, after) of targets
    the change did not reach."""
    b, out_b = _clean(before)
    a, out_a = _clean(after)
    outliers = out_b + out_a
    if b.size < MIN_POINTS or a.size < MIN_POINTS:
        why = (
            f"too little data: {b.size} points before, {a.size} after (at least {MIN_POINTS} each)"
        )
        return Judgement(
            "inconclusive", why, None, None, None, None, None, int(b.size), int(a.size), outliers,
            confidence,
        )  # fmt: skip
    base = float(np.median(b))
    allowed = tolerance is not None or relative_tolerance is not None
    if tolerance is None:
        share = TOLERANCE if relative_tolerance is None else relative_tolerance
        spread = 0.5 * 1.4826 * float(np.median(np.abs(b - base)))
        tolerance = share * abs(base) if base != 0 else spread
    (p, effect, interval, mde), inflation = _compare(b, a, confidence)
    if control is not None:
        cb, ca = _clean(control[0])[0], _clean(control[1])[0]
        if cb.size >= MIN_POINTS and ca.size >= MIN_POINTS:
            p, effect, interval, mde = _difference_in_differences(
                (effect, interval, mde), _compare(cb, ca, confidence)[0][1:], confidence
            )
    verdict, reason = _verdict(
        p, effect, mde, tolerance, direction, 1 - confidence, allowed=allowed
    )
    relative = effect / abs(base) if base != 0 else None
    return Judgement(
        verdict, reason, p, effect, interval, relative, mde, int(b.size), int(a.size), outliers,
        confidence, inflation,
    )  # fmt: skip


Compared = tuple[float, float, tuple[float, float], float]  # p, effect, interval, mde


def _inflation_of(resid: Floats) -> float:
    """The long-run variance of `resid` (centred; the change-point detector's estimate) over
    its plain variance, at least 1: estimated low, it would make the judge surer than
    independent data allows."""
    variance = float(np.dot(resid, resid)) / resid.size if resid.size else 0.0
    if resid.size < 3 or variance <= 0:
        return 1.0
    return max(1.0, long_run_variance(resid) / variance)


def _inflation(before: Floats, after: Floats) -> float:
    """Autocorrelation's inflation of the variance, from the ranks of each side in time order
    (the rank test's own scale), pooled by size. Per-second metrics are autocorrelated: without
    it, AR(1) noise with phi 0.5 makes 19% of A/A comparisons claim an effect at a nominal 2%."""
    ranks = rankdata(np.r_[before, after])
    b, a = ranks[: before.size], ranks[before.size :]
    f_b, f_a = _inflation_of(b - b.mean()), _inflation_of(a - a.mean())
    return (before.size * f_b + after.size * f_a) / (before.size + after.size)


def _compare(before: Floats, after: Floats, confidence: float) -> tuple[Compared, float]:
    """The test, effect, interval and MDE, and the inflation they were scaled by. `before` and
    `after` are in time order (the inflation is read from it)."""
    inflation = _inflation(before, after)
    p = float(mannwhitneyu(after, before, alternative="two-sided", method="asymptotic").pvalue)
    if inflation > 1.0 and p < 1.0:
        p = float(2 * norm.sf(norm.isf(p / 2) / math.sqrt(inflation)))
    diffs = _differences(before, after)
    return (
        p,
        float(np.median(diffs)),
        _interval(diffs, before.size, after.size, confidence, inflation),
        _mde(before, after, confidence) * math.sqrt(inflation),
    ), inflation


def _difference_in_differences(
    treated: tuple[float, tuple[float, float], float],
    control: tuple[float, tuple[float, float], float],
    confidence: float,
) -> Compared:
    """The treated targets' shift less the control's, with both uncertainties: standard errors
    from the intervals' widths, combined, and a two-sided normal test."""
    z = float(norm.ppf(0.5 + confidence / 2))
    (t_effect, t_int, t_mde), (c_effect, c_int, c_mde) = treated, control
    se = math.hypot((t_int[1] - t_int[0]) / (2 * z), (c_int[1] - c_int[0]) / (2 * z))
    effect = t_effect - c_effect
    p = float(2 * norm.sf(abs(effect) / se)) if se > 0 else (0.0 if effect else 1.0)
    return p, effect, (effect - z * se, effect + z * se), math.hypot(t_mde, c_mde)
