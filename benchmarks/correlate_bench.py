"""`detect` (what `cfgctl analyze correlate` runs on each series) on long series with many
shifts, and on noise; and how often `recommend` is fooled by noise; see benchmarks/README.md.

    python -m benchmarks.correlate_bench          # ~10 s

Series: N segments of L points, levels 200 - 4 * U{2..29}, Gaussian noise of sigma 3 (a shift of
4 or more is 1.3 sigma or more), 20 series per row, seeded. A true shift is found when a reported
point lies within 5 points of it; a reported point farther than 5 from every true shift is false.

`recommend` on noise: 1,000 keys of 14 points (values from 8, a metric N(150, 3) that does not
depend on them), each modelled alone: how many get a recommendation (nominal 5%).
"""

from __future__ import annotations

import time

import numpy as np

from cfgctl.analyze.bounds import Bounds
from cfgctl.analyze.changepoints import ChangePoint, detect
from cfgctl.analyze.recommend import KeyModel, Point, model_key

ROWS = ((20, 270), (40, 250), (60, 150))
MARGIN = 5


def _score(found: list[ChangePoint], true: list[int]) -> tuple[int, int]:
    got = [p.index for p in found]
    hits = sum(any(abs(g - t) <= MARGIN for g in got) for t in true)
    false = sum(not any(abs(g - t) <= MARGIN for t in true) for g in got)
    return hits, false


def main() -> None:
    rng = np.random.default_rng(3)
    print("shifts x points | found | false")
    for segments, length in ROWS:
        totals = np.zeros(3, dtype=int)  # true, found, false
        for _ in range(20):
            levels = 200 - 4 * rng.integers(2, 30, segments)
            true = [i * length for i in range(1, segments) if levels[i] != levels[i - 1]]
            x = np.repeat(levels, length) + rng.normal(0, 3, segments * length)
            totals += [len(true), *_score(detect(x), true)]
        print(f"{segments} x {length} | {totals[1]}/{totals[0]} | {totals[2]}")
    start = time.perf_counter()
    noise = [rng.normal(0, 1, 10_000) for _ in range(100)]
    false = sum(len(detect(x)) for x in noise)
    seconds = time.perf_counter() - start
    print(f"noise, 100 series of 10,000: {false} false; {seconds:.2f} s")
    fooled: dict[str | None, int] = {}
    for _ in range(1000):
        values = rng.choice([4, 6, 8, 10, 12, 16, 20, 24], size=14)
        m = KeyModel("k", Bounds(("integer",), 1, 32), 8.0)
        m.points = [Point(float(v), float(rng.normal(150, 3)), "c", "after", 0.0) for v in values]
        model_key(m, lower=True)
        fooled[m.model] = fooled.get(m.model, 0) + 1
    print(f"recommend on noise, 1,000 keys: {fooled}")


if __name__ == "__main__":
    main()
