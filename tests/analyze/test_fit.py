"""The models behind `recommend`: the monotone fit against brute force, the bootstrap seeded, the
Gaussian process finding a bowl's bottom and not a trend in noise; a schema's bounds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import isotonic_regression  # type: ignore[import-untyped]
from scipy.stats import spearmanr  # type: ignore[import-untyped]

from cfgctl.analyze.bounds import Bounds, key_bounds
from cfgctl.analyze.fit import GaussianProcess, monotone, monotone_interval
from cfgctl.analyze.recommend import KeyModel, Point, model_key
from cfgctl.repo.snapshot import Snapshot
from tests.support.gitrepo import ConfigRepo


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(-20, 20)), min_size=2, max_size=12))
def test_the_monotone_fit_is_scipys_isotonic_regression(pairs: list[tuple[int, int]]) -> None:
    x = np.array([float(a) for a, _ in pairs])
    y = np.array([float(b) for _, b in pairs])
    values, inverse = np.unique(x, return_inverse=True)
    weights = np.bincount(inverse).astype(float)
    means = np.bincount(inverse, weights=y) / weights
    for increasing in (True, False):
        fit = monotone(x, y, increasing=increasing)
        oracle = isotonic_regression(means, weights=weights, increasing=increasing).x
        assert fit.x.tolist() == values.tolist()
        assert np.allclose(fit.y, oracle)


def test_monotone_values_and_a_seeded_bootstrap() -> None:
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8.0])
    y = np.array([5, 4, 4.5, 3, 2, 2.5, 1, 0.0])
    fit = monotone(x, y, increasing=False)
    assert fit.y.tolist() == [5, 4.25, 4.25, 3, 2.25, 2.25, 1, 0]
    first = monotone_interval(x, y, False, at=8.0, current=1.0)
    assert first == monotone_interval(x, y, False, at=8.0, current=1.0)
    (low, high), (_, e_high) = first
    assert low <= 0.0 <= high and e_high < 0


def test_a_process_finds_a_bowl_and_not_a_trend_in_noise() -> None:
    rng = np.random.default_rng(1)
    x = np.repeat(np.arange(1, 11.0), 2)
    bowl = GaussianProcess.fit(x, (x - 6) ** 2 + rng.normal(0, 1, x.size))
    assert bowl.evidence > 10
    mean, sd = bowl.predict(np.array([1.0, 6.0, 10.0]))
    assert mean[1] < 2 < mean[2] < mean[0] and np.all(sd > 0)
    effect, effect_sd = bowl.effect(6.0, 1.0)
    assert effect < -15 and effect_sd > 0
    noise = GaussianProcess.fit(x, rng.normal(0, 1, x.size))
    assert noise.evidence < 3


@pytest.mark.parametrize(
    ("bounds", "value", "expected"),
    [
        (Bounds(("integer",), 1, 32), 40.0, 32),
        (Bounds(("integer",), 1, 32), 0.2, 1),
        (Bounds(("integer",), exclusive_maximum=10), 12.0, 9),
        (Bounds(("integer",), exclusive_minimum=0.5), -3.0, 1),
        (Bounds(("integer",), 100, 5000, multiple_of=100), 1234.0, 1200),
        (Bounds(("integer",), 150, 5000, multiple_of=100), 120.0, 200),
        (Bounds(("number",), 0, exclusive_maximum=1), 1.5, math.nextafter(1, 0)),
        (Bounds(("number",), 0.5, 0.6, multiple_of=1), 0.55, None),
        (Bounds(()), 7.5, 7.5),
    ],
)
def test_clamp(bounds: Bounds, value: float, expected: float | None) -> None:
    assert bounds.clamp(value) == expected


def test_key_bounds_through_refs_and_all_of(tmp_path: Path) -> None:
    schema = {
        "$defs": {"pool": {"type": "integer", "minimum": 2, "exclusiveMaximum": 64}},
        "type": "object",
        "properties": {
            "db": {"allOf": [{"properties": {"pool": {"$ref": "#/$defs/pool"}}}]},
            "name": {"type": "string"},
            "old": {"type": "number", "maximum": 5, "exclusiveMaximum": True},
        },
    }
    repo = ConfigRepo.init(tmp_path / "cfg")
    repo.commit(
        {
            "cfgctl.yaml": "version: 1\nenvironments: {prod: {}}\nservices: {web: {schema: s}}\n",
            "schemas/s.schema.json": json.dumps(schema),
        },
        "init",
    )
    snap = Snapshot.from_worktree(repo.workdir)
    pool = key_bounds(snap, "web", ("db", "pool"))
    assert pool.integer and pool.minimum == 2 and pool.exclusive_maximum == 64
    assert pool.clamp(100) == 63
    assert not key_bounds(snap, "web", ("name",)).numeric
    old = key_bounds(snap, "web", ("old",))
    assert old.exclusive_maximum == 5 and old.maximum is None
    assert key_bounds(snap, "web", ("nowhere",)) == Bounds(())


def test_choosing_among_many_keys_asks_for_more_evidence() -> None:
    """A correlation at p ~ 0.02 is a recommendation for one key, not when it is the best of
    ten keys (Bonferroni: 0.05 / 10)."""
    rng = np.random.default_rng(5)
    values = np.repeat(np.arange(1.0, 8.0), 2)
    while True:
        metric = 0.4 * values + rng.normal(0, 1.5, values.size)
        if 0.006 < spearmanr(values, metric).pvalue < 0.04:
            break

    def model(tests: int) -> KeyModel:
        m = KeyModel("k", Bounds(("number",)), 1.0)
        m.points = [Point(v, y, "c", "after", 0.0) for v, y in zip(values, metric, strict=True)]
        model_key(m, lower=True, tests=tests)
        return m

    alone = model(1)
    assert alone.model == "monotone" and alone.proposal == 1.0  # lower metric at lower values
    among = model(10)
    assert among.proposal is None and "needs < 0.005 among 10 keys" in among.reason
