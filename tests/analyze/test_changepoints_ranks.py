"""The ranks of a segment, read from the series' one sort, are scipy's ranks of that segment."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata  # type: ignore[import-untyped]

from cfgctl.analyze.changepoints import _Series


@pytest.mark.parametrize(
    "kind",
    ["distinct", "counts", "two values", "constant"],
)
def test_segment_ranks_are_rankdata_of_the_segment_ties_averaged(kind: str) -> None:
    rng = np.random.default_rng(11)
    n = 2_000
    values = {
        "distinct": rng.normal(0, 1, n),
        "counts": rng.poisson(3, n).astype(np.float64),
        "two values": rng.integers(0, 2, n).astype(np.float64),
        "constant": np.full(n, 7.0),
    }[kind]
    series = _Series(values)
    # Long segments (read from the whole order) and short ones (sorted on their own).
    for lo, hi in [(0, n), (0, 1_999), (1, n), (300, 1_700), (5, 17), (1_990, n), (400, 401)]:
        assert np.array_equal(series.ranks(lo, hi), rankdata(values[lo:hi])), (lo, hi)
