"""Change points: found where the level shifts, nowhere in noise, the same every time."""

from __future__ import annotations

import numpy as np
import pytest

from cfgctl.analyze.changepoints import detect


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_a_shift_is_found_at_its_first_point_with_its_numbers() -> None:
    rng = _rng(1)
    x = np.r_[rng.normal(1.0, 0.05, 212), rng.normal(1.3, 0.05, 369)]
    points = detect(x)
    assert [p.index for p in points] == [212]
    p = points[0]
    assert p.before == pytest.approx(1.0, abs=0.02) and p.after == pytest.approx(1.3, abs=0.02)
    assert p.change == pytest.approx(0.3, abs=0.03) and p.p_value < 1e-6
    assert detect(x) == points  # deterministic


def test_several_shifts_and_outliers_and_heavy_tails() -> None:
    rng = _rng(2)
    x = np.r_[rng.standard_t(3, 300), rng.standard_t(3, 300) + 3, rng.standard_t(3, 300) - 1]
    x[::37] += 40  # wild values: one each, ranks count them as one value
    found = [p.index for p in detect(x)]
    assert len(found) == 2 and abs(found[0] - 300) <= 5 and abs(found[1] - 600) <= 5


@pytest.mark.parametrize(
    "noise",
    ["white", "season", "outliers"],
)
def test_no_change_gives_no_point(noise: str) -> None:
    rng = _rng(3)
    alarms = 0
    for _ in range(50):
        x = rng.normal(0, 1, 800)
        if noise == "season":
            x += 1.5 * np.sin(np.arange(800) * 2 * np.pi / 24)
        elif noise == "outliers":
            x[rng.random(800) < 0.01] += 25
        alarms += bool(detect(x))
    assert alarms <= 1


def test_short_empty_and_constant_series_have_none_and_bad_input_is_refused() -> None:
    assert detect([]) == [] and detect([1.0] * 9) == [] and detect([5.0] * 1000) == []
    assert detect([0.0] * 50 + [1.0] * 50)[0].change is None  # before is 0: no relative change
    with pytest.raises(ValueError, match="finite"):
        detect([1.0, float("nan"), 2.0])


def _many_shifts(seed: int, segments: int, length: int) -> tuple[np.ndarray, list[int]]:
    """Levels 200 - 4 * U{2..29} (a shift of 4 or more is 1.3 sigma or more), noise sigma 3."""
    rng = _rng(seed)
    levels = 200 - 4 * rng.integers(2, 30, segments)
    true = [i * length for i in range(1, segments) if levels[i] != levels[i - 1]]
    return np.repeat(levels, length) + rng.normal(0, 3, segments * length), true


@pytest.mark.parametrize("seed", [1, 2])
def test_forty_shifts_in_ten_thousand_points_are_all_found(seed: int) -> None:
    """The shifts not cut yet would pass for autocorrelated noise in the whole series' test;
    the seeded scan finds each in a short interval where it is (nearly) alone."""
    x, true = _many_shifts(seed, 40, 250)
    found = [p.index for p in detect(x)]
    assert len(found) == len(true)
    assert all(abs(f - t) <= 5 for f, t in zip(found, true, strict=True))


def test_sixty_shifts_150_points_apart() -> None:
    x, true = _many_shifts(8, 60, 150)
    found = [p.index for p in detect(x)]
    hits = sum(any(abs(f - t) <= 5 for f in found) for t in true)
    assert hits >= 0.95 * len(true) and len(found) <= len(true) + 2


@pytest.mark.parametrize("noise", ["white", "season", "t3", "ar"])
def test_long_noise_gives_no_point(noise: str) -> None:
    rng = _rng(4)
    n, alarms = 10_000, 0
    for _ in range(10):
        x = rng.standard_t(3, n) if noise == "t3" else rng.normal(0, 1, n)
        if noise == "season":
            x += 1.5 * np.sin(np.arange(n) * 2 * np.pi / 60)
        elif noise == "ar":  # AR(1), phi 0.5; scipy.signal here: 1.3 s of every worker's collection
            import scipy.signal  # type: ignore[import-untyped]

            x = scipy.signal.lfilter([1.0], [1.0, -0.5], x)
        alarms += bool(detect(x))
    assert alarms <= 1  # one series of the ten AR(1) has one point at p = 0.00097 (so before)
