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
