"""The impact judge: the verdicts, the numbers behind them, and honesty about too little data."""

from __future__ import annotations

import numpy as np
import pytest

from cfgctl.analyze.judge import judge


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_a_slowdown_is_a_regression_with_its_effect_and_interval() -> None:
    rng = _rng(1)
    j = judge(rng.normal(100, 10, 1800), rng.normal(104, 10, 1800))
    assert j.verdict == "regression" and j.p_value is not None and j.p_value < 1e-6
    assert j.effect == pytest.approx(4, abs=1) and j.interval is not None
    assert j.interval[0] < 4 < j.interval[1] and j.relative == pytest.approx(0.04, abs=0.01)
    assert j.mde is not None and j.mde < 2
    better = judge(rng.normal(100, 10, 600), rng.normal(104, 10, 600), direction="higher_is_better")
    assert better.verdict == "improvement"


@pytest.mark.slow  # thousands of simulated trials
def test_a_and_a_is_rarely_a_verdict_and_mostly_no_change() -> None:
    """At 98% confidence, at most ~2% of A/A comparisons may claim an effect."""
    rng = _rng(2)
    verdicts = [judge(rng.normal(50, 5, 600), rng.normal(50, 5, 600)).verdict for _ in range(300)]
    wrong = sum(v in ("regression", "improvement") for v in verdicts)
    assert wrong <= 12  # 4%: the nominal 2% and room for sampling noise
    assert verdicts.count("no change") >= 280


def test_too_little_or_too_noisy_data_is_inconclusive_not_a_pass() -> None:
    rng = _rng(3)
    few = judge(rng.normal(100, 10, 5), rng.normal(100, 10, 50))
    assert few.verdict == "inconclusive" and "too little data: 5 points before" in few.reason
    noisy = judge(rng.normal(100, 30, 20), rng.normal(100, 30, 20))
    assert noisy.verdict == "inconclusive" and "only shifts above" in noisy.reason


def test_outliers_zero_baselines_and_missing_points() -> None:
    rng = _rng(4)
    before, after = rng.normal(10, 1, 300), rng.normal(10, 1, 300)
    after[:5] = 1e6  # five wild values: removed, not a regression
    j = judge(before, np.r_[after, np.nan, np.inf])
    assert j.outliers >= 5 and j.verdict == "no change"
    zero = judge(np.zeros(100), np.r_[np.zeros(50), np.ones(50)])
    assert zero.verdict == "regression" and zero.relative is None


def test_a_control_group_takes_a_shared_spike_off_the_change() -> None:
    rng = _rng(5)
    before, after = rng.normal(100, 5, 600), rng.normal(120, 5, 600)
    control = (rng.normal(100, 5, 600), rng.normal(120, 5, 600))
    assert judge(before, after).verdict == "regression"
    assert judge(before, after, control=control).verdict == "no change"


def test_a_significant_shift_within_a_given_tolerance_is_no_change() -> None:
    rng = _rng(11)
    before, after = rng.normal(100, 10, 1800), rng.normal(104, 10, 1800)
    assert judge(before, after).verdict == "regression"  # no tolerance given: every shift counts
    within = judge(before, after, relative_tolerance=0.1)
    assert within.verdict == "no change" and "within the tolerance of 10" in within.reason
    assert within.p_value is not None and within.p_value < 1e-6  # the numbers stay
    assert judge(before, after, tolerance=2.0).verdict == "regression"  # 4 is beyond 2


def _ar1(rng: np.random.Generator, n: int, phi: float = 0.5) -> np.ndarray:
    e = rng.normal(0, 1, n)
    x = np.empty(n)
    x[0] = e[0]
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return 50 + x


@pytest.mark.slow  # thousands of simulated trials
def test_autocorrelated_noise_is_not_mistaken_for_an_effect() -> None:
    """Points close in time are alike: counted as independent, AR(1) noise with phi 0.5 made
    about one A/A comparison in five claim an effect at a nominal 2%."""
    rng = _rng(12)
    judged = [judge(_ar1(rng, 600), _ar1(rng, 600)) for _ in range(200)]
    wrong = sum(j.verdict in ("regression", "improvement") for j in judged)
    assert wrong <= 8  # 4%: the nominal 2% and room for sampling noise (19% without the scaling)
    assert all(j.inflation > 1.5 for j in judged)  # (1 + phi) / (1 - phi) = 3, estimated
    independent = judge(rng.normal(50, 1, 600), rng.normal(50, 1, 600))
    assert independent.inflation < 1.3
    shifted = judge(_ar1(rng, 600), _ar1(rng, 600) + 1.0)  # a shift of 0.58 sigma still found
    assert shifted.verdict == "regression" and shifted.mde is not None
