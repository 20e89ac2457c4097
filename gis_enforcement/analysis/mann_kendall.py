"""The original Mann-Kendall trend test, vectorised over many series at once.

Emerging hot spot analysis runs one trend test per cell on its series of Gi* z-scores; with tens of thousands of
cells a Python loop over ``pymannkendall.original_test`` costs seconds, while the test itself is a handful of
array operations. For a series ``x_1..x_n``::

    S      = Σ_{i<j} sign(x_j − x_i)
    var(S) = [n(n−1)(2n+5) − Σ_p t_p(t_p−1)(2t_p+5)] / 18      (t_p: size of the p-th group of tied values)
    Z      = (S − 1)/√var(S) if S > 0,  (S + 1)/√var(S) if S < 0,  0 if S = 0
    p      = 2 · (1 − Φ(|Z|))                                   (two-sided)
    τ      = S / (n(n−1)/2)

exactly as ``pymannkendall.original_test`` (Mann 1945, Kendall 1975, Gilbert 1987) computes them. ``S`` is summed
lag by lag (n − 1 array operations over all series, memory O(series × n)); the tie term counts, for each value,
the size of its group in the sorted row, because Σ over a group's members of (t−1)(2t+5) is t(t−1)(2t+5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from gis_enforcement.errors import InvalidInput


@dataclass(frozen=True)
class MannKendall:
    """Per-series results of the original Mann-Kendall test, each an array of shape ``(n_series,)``: the score
    ``s``, its tie-corrected variance ``var_s``, the normal score ``z``, the two-sided p-value ``p``, Kendall's
    ``tau``, and ``trend`` (+1 increasing, −1 decreasing, 0 none at the test's ``alpha``)."""

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p: np.ndarray
    tau: np.ndarray
    trend: np.ndarray
    alpha: float


def _series(values: np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise InvalidInput("series must be an array of shape (n_series, n_bins)", field="values")
    if x.shape[1] < 2:
        raise InvalidInput("a trend test needs at least 2 time bins", field="values")
    if not np.isfinite(x).all():
        raise InvalidInput("series must hold finite numbers (no NaN or infinity)", field="values")
    return x


def mk_score(values: np.ndarray) -> np.ndarray:
    """Mann-Kendall score ``S = Σ_{i<j} sign(x_j − x_i)`` of every row of ``values`` (shape
    ``(n_series, n_bins)``), summed one lag at a time so memory stays O(series × bins); integer-valued floats."""
    return _score(_series(values))


def mk_variance(values: np.ndarray) -> np.ndarray:
    """Variance of the Mann-Kendall score of every row with the correction for ties,
    ``[n(n−1)(2n+5) − Σ_p t_p(t_p−1)(2t_p+5)] / 18``. A row whose values are all equal has variance 0."""
    return _variance(_series(values))


def _score(x: np.ndarray) -> np.ndarray:
    n = x.shape[1]
    s = np.zeros(x.shape[0])
    for lag in range(1, n):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    return s


def _variance(x: np.ndarray) -> np.ndarray:
    m, n = x.shape
    ordered = np.sort(x, axis=1)
    positions = np.broadcast_to(np.arange(n), (m, n))
    starts_group = np.ones((m, n), dtype=bool)
    starts_group[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends_group = np.ones((m, n), dtype=bool)
    ends_group[:, :-1] = starts_group[:, 1:]
    # Each value's group spans [first, last] in the sorted row: running max of group starts from the left, running
    # min of group ends from the right.
    first = np.maximum.accumulate(np.where(starts_group, positions, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends_group, positions, n - 1)[:, ::-1], axis=1)[:, ::-1]
    t = (last - first + 1).astype(float)
    ties = ((t - 1.0) * (2.0 * t + 5.0)).sum(axis=1)
    return np.asarray((n * (n - 1) * (2 * n + 5) - ties) / 18.0, dtype=float)


def mann_kendall(values: np.ndarray, alpha: float = 0.05) -> MannKendall:
    """Original Mann-Kendall trend test of every row of ``values`` (shape ``(n_series, n_bins)``, or one series of
    shape ``(n_bins,)``) at two-sided significance ``alpha``: score, tie-corrected variance, Z with the continuity
    correction, two-sided p-value, Kendall's tau and the trend sign (+1/−1 when ``|Z| > Φ⁻¹(1 − α/2)``, else 0).
    Matches ``pymannkendall.original_test`` series by series (s, var_s, z, p, Tau, trend); a constant series gets
    S = 0, var 0, Z = 0, p = 1 and no trend. Raises :class:`InvalidInput` for NaN/inf, fewer than 2 bins, or an
    ``alpha`` outside (0, 1)."""
    if not 0.0 < alpha < 1.0:
        raise InvalidInput("the significance level must lie strictly between 0 and 1", field="alpha")
    x = _series(values)
    n = x.shape[1]
    s = _score(x)
    var_s = _variance(x)
    root = np.sqrt(var_s)
    z = np.zeros_like(s)
    # S ≠ 0 implies two distinct values, hence var(S) > 0: the division is safe wherever it is taken.
    np.divide(s - np.sign(s), root, out=z, where=s != 0)
    p = np.asarray(2.0 * special.ndtr(-np.abs(z)), dtype=float)
    critical = float(stats.norm.ppf(1.0 - alpha / 2.0))
    trend = np.where(np.abs(z) > critical, np.sign(z), 0.0).astype(np.int8)
    tau = s / (0.5 * n * (n - 1))
    return MannKendall(s=s, var_s=var_s, z=z, p=p, tau=tau, trend=trend, alpha=float(alpha))
