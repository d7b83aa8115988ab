"""Models of a metric against one setting's value, from a few dozen points at most: a monotone
(isotonic) fit and a Gaussian process, each with the uncertainty of what it predicts.

    fit = monotone(x, y, increasing=False)
    fit.predict(np.array([4.0, 24.0]))          # the step function, flat beyond the data
    low, high = monotone_interval(x, y, False, at=24.0, current=4.0)   # bootstrap, seeded

    gp = GaussianProcess.fit(x, y)              # RBF kernel, hyper-parameters by evidence
    mean, sd = gp.predict(grid)                 # of the mean metric (not of one point)
    gp.evidence                                 # log Bayes factor against a constant

The isotonic fit is pool-adjacent-violators (weights = points per value). The process is fitted
on x scaled to [0, 1] and y standardised; its length scale and noise are chosen on a grid by the
log marginal likelihood, and `evidence` is how much better that explains the points than a
constant with noise (nats; 3 is ~20 to 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["GaussianProcess", "Monotone", "monotone", "monotone_interval"]

Floats = NDArray[np.float64]
BOOTSTRAP = 400
LENGTH_SCALES = (0.1, 0.2, 0.35, 0.6, 1.0)
NOISE_RATIOS = (0.02, 0.05, 0.1, 0.2, 0.4, 0.8)


@dataclass(frozen=True)
class Monotone:
    x: Floats  # distinct values, ascending
    y: Floats  # the fitted metric at each

    def predict(self, at: Floats) -> Floats:
        return np.interp(at, self.x, self.y)


def monotone(x: Floats, y: Floats, increasing: bool) -> Monotone:
    """The least-squares monotone fit of y on x (ties pooled first)."""
    values, inverse = np.unique(x, return_inverse=True)
    weight = np.bincount(inverse).astype(np.float64)
    mean = np.bincount(inverse, weights=y) / weight
    sign = 1.0 if increasing else -1.0
    blocks: list[list[float]] = []  # [sum of weight * value, weight, count of distinct values]
    for m, w in zip(sign * mean, weight, strict=True):
        blocks.append([m * w, w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, w2, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w2
            blocks[-1][2] += c
    fitted = np.concatenate([np.full(int(c), s / w) for s, w, c in blocks])
    return Monotone(values.astype(np.float64), sign * fitted)


def monotone_interval(
    x: Floats, y: Floats, increasing: bool, at: float, current: float, level: float = 0.95
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Bootstrap intervals (seeded: the same data gives the same answer) of the fitted metric
    at `at`, and of its difference from the fitted metric at `current`."""
    rng = np.random.default_rng(0)
    n = x.size
    values, effects = [], []
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, n, n)
        if np.unique(x[pick]).size < 2:
            continue
        fit = monotone(x[pick], y[pick], increasing)
        there, here = fit.predict(np.array([at, current]))
        values.append(there)
        effects.append(there - here)
    tail = (1 - level) / 2 * 100
    v = np.percentile(values, [tail, 100 - tail])
    e = np.percentile(effects, [tail, 100 - tail])
    return (float(v[0]), float(v[1])), (float(e[0]), float(e[1]))


def _rbf(a: Floats, b: Floats, length: float) -> Floats:
    return np.exp(-0.5 * ((a[:, None] - b[None, :]) / length) ** 2)


@dataclass(frozen=True)
class GaussianProcess:
    lo: float
    span: float
    y_mean: float
    y_sd: float
    x: Floats  # scaled
    length: float
    noise: float  # variance ratio to the signal's
    chol: Floats
    alpha: Floats
    evidence: float  # log marginal likelihood gain over a constant with noise

    @classmethod
    def fit(cls, x: Floats, y: Floats) -> GaussianProcess:
        lo, span = float(x.min()), float(np.ptp(x)) or 1.0
        y_mean, y_sd = float(y.mean()), float(y.std()) or 1.0
        xs, z = (x - lo) / span, (y - y_mean) / y_sd
        best: tuple[float, float, float, Floats, Floats] | None = None
        for length in LENGTH_SCALES:
            for noise in NOISE_RATIOS:
                k = _rbf(xs, xs, length) + noise * np.eye(xs.size)
                try:
                    chol = np.asarray(np.linalg.cholesky(k), dtype=np.float64)
                except np.linalg.LinAlgError:
                    continue
                alpha: Floats = np.linalg.solve(chol.T, np.linalg.solve(chol, z))
                lml = -0.5 * float(z @ alpha) - float(np.log(np.diag(chol)).sum())
                if best is None or lml > best[0]:
                    best = (lml, length, noise, chol, alpha)
        assert best is not None
        constant = -0.5 * float(z @ z)  # z standardised: N(0, 1) each, the same 2 pi terms
        lml, length, noise, chol, alpha = best
        return cls(lo, span, y_mean, y_sd, xs, length, noise, chol, alpha, lml - constant)

    def predict(self, at: Floats) -> tuple[Floats, Floats]:
        """The posterior mean of the metric at `at`, and its standard deviation."""
        mean, cov = self.joint(at)
        return mean, np.sqrt(np.clip(np.diag(cov), 0, None))

    def joint(self, at: Floats) -> tuple[Floats, Floats]:
        """Mean and covariance of the metric's mean at the points `at` (in its unit)."""
        xs = (np.asarray(at, dtype=np.float64) - self.lo) / self.span
        ks = _rbf(xs, self.x, self.length)
        mean = ks @ self.alpha
        v = np.linalg.solve(self.chol, ks.T)
        cov = _rbf(xs, xs, self.length) - v.T @ v
        return self.y_mean + self.y_sd * mean, cov * self.y_sd**2

    def effect(self, at: float, current: float) -> tuple[float, float]:
        """The expected difference of the metric at `at` from `current`, and its sd."""
        mean, cov = self.joint(np.array([at, current]))
        var = cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]
        return float(mean[0] - mean[1]), math.sqrt(max(var, 0.0))
