"""The impact judge (`cfgctl.analyze.judge`, what `analyze impact` and the agent's canary gate
run) beside the textbook peer, Welch's t-test at the same 98% confidence: how often each claims
an effect on A/A data (no change at all), and the smallest shift each detects with 80% power.

    python -m benchmarks.judge_bench [--trials 1000] [--points 1800] [--seed 1]

The data: 30 minutes of per-second points on each side (`--points` 1800), as issue 14 asks.
A/A: both sides from the same process, under five conditions: normal noise; heavy tails
(Student t with 3 degrees of freedom); 1% wild spikes (x 20); autocorrelated noise (AR(1),
phi 0.5, as per-second metrics are); and normal noise with a control group (the judge's
difference in differences over a second pair of the same process). Power: after = before +
shift (in units of the noise's sigma) for shifts from 0.02 to 0.5 sigma, the share of trials
called a regression (the judge) or significant in the worse direction (t), and the smallest
shift reaching 80%, by linear interpolation between the two shifts around it.

Goals (issue 14): the judge's A/A rate at most its nominal 2% (reported with its 95% binomial
interval: 1,000 trials cannot tell 2.0% from 2.2%); the 80%-power shift reported. Nothing here
is asserted: the figures are printed and written to benchmarks/out/judge.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binomtest, ttest_ind  # type: ignore[import-untyped]

from cfgctl.analyze.judge import CONFIDENCE, judge

Floats = NDArray[np.float64]
ALPHA = 1 - CONFIDENCE
SHIFTS = (0.02, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5)

Noise = Callable[[np.random.Generator, int], Floats]


def _normal(rng: np.random.Generator, n: int) -> Floats:
    return rng.normal(0.0, 1.0, n)


def _heavy(rng: np.random.Generator, n: int) -> Floats:
    return rng.standard_t(3, n) / math.sqrt(3.0)  # unit variance


def _spiky(rng: np.random.Generator, n: int) -> Floats:
    x = rng.normal(0.0, 1.0, n)
    spikes = rng.random(n) < 0.01
    x[spikes] *= 20
    return x


def _ar1(rng: np.random.Generator, n: int) -> Floats:
    """Autocorrelated noise, as per-second metrics are: AR(1) with phi 0.5, unit variance."""
    phi = 0.5
    e = rng.normal(0.0, math.sqrt(1 - phi * phi), n)
    x = np.empty(n)
    x[0] = rng.normal()
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


CONDITIONS: dict[str, Noise] = {
    "normal": _normal,
    "t(3)": _heavy,
    "1% spikes": _spiky,
    "AR(1) 0.5": _ar1,
}


def _judge_claims(before: Floats, after: Floats, control: tuple[Floats, Floats] | None) -> bool:
    j = judge(100 + before, 100 + after, control=None if control is None else
              (100 + control[0], 100 + control[1]))  # fmt: skip
    return j.verdict in ("regression", "improvement")


def _t_claims(before: Floats, after: Floats) -> bool:
    return bool(ttest_ind(after, before, equal_var=False).pvalue < ALPHA)


def _interval(hits: int, trials: int) -> tuple[float, float]:
    ci = binomtest(hits, trials).proportion_ci(0.95)
    return float(ci.low), float(ci.high)


def a_a(trials: int, points: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for name, noise in [*CONDITIONS.items(), ("normal + control", _normal)]:
        rng = np.random.default_rng(seed)
        judged = t_test = 0
        started = time.process_time()
        for _ in range(trials):
            before, after = noise(rng, points), noise(rng, points)
            control = (noise(rng, points), noise(rng, points)) if "control" in name else None
            judged += _judge_claims(before, after, control)
            t_test += control is None and _t_claims(before, after)
        seconds = time.process_time() - started
        rows.append(
            {
                "condition": name,
                "trials": trials,
                "judge_rate": judged / trials,
                "judge_ci95": _interval(judged, trials),
                "t_rate": None if "control" in name else t_test / trials,
                "judge_ms_per_trial": 1000 * seconds / trials,
            }
        )
    return rows


def _power_at(
    shift: float, trials: int, points: int, rng: np.random.Generator
) -> tuple[float, float]:
    judged = t_test = 0
    for _ in range(trials):
        before, after = rng.normal(0, 1, points), rng.normal(shift, 1, points)
        judged += judge(100 + before, 100 + after).verdict == "regression"
        t_test += _t_claims(before, after) and after.mean() > before.mean()
    return judged / trials, t_test / trials


def _smallest(shifts: tuple[float, ...], power: list[float]) -> float | None:
    for i, p in enumerate(power):
        if p >= 0.8:
            if i == 0:
                return shifts[0]
            lo, hi = power[i - 1], p
            return shifts[i - 1] + (0.8 - lo) / (hi - lo) * (shifts[i] - shifts[i - 1])
    return None


def power(trials: int, points: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed + 1)
    curve = [_power_at(shift, trials, points, rng) for shift in SHIFTS]
    judge_power, t_power = [c[0] for c in curve], [c[1] for c in curve]
    return {
        "shifts_sigma": list(SHIFTS),
        "judge_power": judge_power,
        "t_power": t_power,
        "judge_80": _smallest(SHIFTS, judge_power),
        "t_80": _smallest(SHIFTS, t_power),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000, help="A/A comparisons per condition")
    parser.add_argument("--power-trials", type=int, default=200, help="trials per shift")
    parser.add_argument("--points", type=int, default=1800, help="points on each side")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rows = a_a(args.trials, args.points, args.seed)
    print(f"The impact judge beside Welch's t-test, {args.points} points a side, 98% confidence")
    print(f"\nA/A (no change), {args.trials} trials each: share claiming an effect (nominal 2%)")
    print(f"{'condition':<18}{'judge':>8}  {'95% interval':<16}{'t-test':>8}{'ms/trial':>10}")
    for r in rows:
        lo, hi = r["judge_ci95"]
        t = "-" if r["t_rate"] is None else f"{r['t_rate']:.1%}"
        print(
            f"{r['condition']:<18}{r['judge_rate']:>8.1%}  [{lo:.1%}, {hi:.1%}]"
            f"{'':<3}{t:>8}{r['judge_ms_per_trial']:>10.1f}"
        )
    found = power(args.power_trials, args.points, args.seed)
    print(f"\nPower (normal noise, {args.power_trials} trials a shift): share found a regression")
    print(f"{'shift (sigma)':<14}" + "".join(f"{s:>7g}" for s in found["shifts_sigma"]))
    print(f"{'judge':<14}" + "".join(f"{p:>7.0%}" for p in found["judge_power"]))
    print(f"{'t-test':<14}" + "".join(f"{p:>7.0%}" for p in found["t_power"]))

    def _fmt(x: float | None) -> str:
        return "beyond the shifts tried" if x is None else f"{x:.3f} sigma"

    print(f"80% power at: judge {_fmt(found['judge_80'])}, t-test {_fmt(found['t_80'])}")
    if found["judge_80"] and found["t_80"]:
        print(f"  (judge / t-test: {found['judge_80'] / found['t_80']:.2f}x)")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "judge.json").write_text(json.dumps({"a_a": rows, "power": found}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
