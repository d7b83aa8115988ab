"""The labelled series of benchmarks/changepoint_bench.py and its scoring: the same series every
time, the shifts where the labels say, and the margin-5 matching counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.changepoint_data import (
    CONDITIONS,
    MIN_GAP,
    SHIFTS,
    Match,
    make_series,
    match,
    quality_set,
    score,
    speed_set,
)


def test_the_same_arguments_give_the_same_series() -> None:
    a, b = quality_set(per_scenario=2), quality_set(per_scenario=2)
    assert len(a) == 2 * 5 * len(CONDITIONS)
    for x, y in zip(a, b, strict=True):
        assert x.name == y.name and x.changes == y.changes
        assert np.array_equal(x.values, y.values)
    other = quality_set(per_scenario=2, seed=1)
    assert any(not np.array_equal(x.values, y.values) for x, y in zip(a, other, strict=True))
    s = speed_set(count=3, length=500)
    assert [x.values.size for x in s] == [500] * 3
    assert np.array_equal(s[2].values, speed_set(count=3, length=500)[2].values)


def test_labels_lie_where_the_level_shifts() -> None:
    for number in range(10):
        s = make_series(4.0, "gaussian", number)
        assert 1 <= len(s.changes) <= 4 and 200 <= s.values.size <= 2000
        bounds = [0, *s.changes, s.values.size]
        assert min(np.diff(bounds)) >= MIN_GAP
        for point in s.changes:
            before = s.values[point - MIN_GAP : point].mean()
            after = s.values[point : point + MIN_GAP].mean()
            # a 4-sigma step; the mean of 40 points is off by 1.3 sigma at the very most
            assert abs(abs(after - before) - 4 * s.sigma) < 1.3 * s.sigma, (s.name, point)
        steps = np.abs(np.diff(s.values))
        # between the labels the series only wanders by its noise
        inside = np.delete(steps, np.array(s.changes) - 1)
        assert np.median(inside) < 1.5 * s.sigma


@pytest.mark.parametrize("condition", CONDITIONS)
def test_series_without_change_have_no_label_and_the_noise_asked_for(condition: str) -> None:
    s = make_series(None, condition, 3, length=5000)
    assert s.changes == () and s.scenario == f"none/{condition}"
    residual = s.values - 100.0
    if condition == "outliers":
        assert np.sum(residual > 6 * s.sigma) == pytest.approx(50, abs=3)  # 1% of 5,000
    elif condition in ("gaussian", "t3"):
        assert np.std(residual) == pytest.approx(s.sigma, rel=0.2)
    elif condition == "seasonal":
        assert np.std(residual) == pytest.approx(s.sigma * np.sqrt(1.5), rel=0.1)  # noise + sine
    else:  # a drift of one sigma from start to end
        ends = residual[-500:].mean() - residual[:500].mean()
        assert abs(ends) == pytest.approx(0.9 * s.sigma, abs=0.2 * s.sigma)


def test_every_shift_size_has_its_scenarios() -> None:
    names = {s.scenario for s in quality_set(per_scenario=1)}
    assert names == {f"none/{c}" for c in CONDITIONS} | {
        f"shift{x:g}/{c}" for x in SHIFTS for c in CONDITIONS
    }


def test_match_within_five_points_each_point_once() -> None:
    assert match([100, 300], [103, 200]) == Match(tp=1, fp=1, fn=1)
    assert match([100], [105]) == Match(1, 0, 0)  # 5 away: in
    assert match([100], [94]) == Match(0, 1, 1)  # 6 away: out
    assert match([100, 108], [104]) == Match(1, 0, 1)  # one report counts for one true point
    assert match([100], [98, 101]) == Match(1, 1, 0)  # two reports near one true point
    assert match([10, 20], [15, 25]) == Match(2, 0, 0)  # 15 could take either; 25 only 20
    assert match([], [7, 7]) == Match(0, 1, 0)  # a point reported twice is one point
    assert match([50], []) == Match(0, 0, 1)


def test_score_sums_over_series_before_the_ratios() -> None:
    s = score([Match(2, 1, 0), Match(0, 0, 2)])
    assert (s.series, s.tp, s.fp, s.fn) == (2, 2, 1, 2)
    assert s.precision == pytest.approx(2 / 3) and s.recall == 0.5
    assert s.f1 == pytest.approx(4 / 7)  # 2 TP / (2 TP + FP + FN)
    nothing_to_find = score([Match(0, 2, 0)])
    assert (nothing_to_find.precision, nothing_to_find.recall, nothing_to_find.f1) == (
        0.0,
        None,
        None,
    )
    missed_all = score([Match(0, 0, 3)])
    assert (missed_all.precision, missed_all.recall, missed_all.f1) == (None, 0.0, 0.0)
