"""False Discovery Rate (Benjamini–Hochberg) correction and the hot/cold confidence bins of Esri's Gi_Bin.

Testing thousands of cells at 95 % confidence declares about 5 % of them "significant" by chance alone, and
neighbouring cells share most of their neighbours, so their tests are dependent. Esri's Hot Spot Analysis
(and Optimized Hot Spot Analysis, where it is always on) answers both with the Benjamini–Hochberg step-up
procedure applied at each confidence level: sort the m p-values, find the largest rank k with
``p_(k) ≤ k/m · α``, and call significant every cell whose p-value is at most ``p_(k)``. The z-score and p-value
themselves are left uncorrected; only the bin reflects the correction.
"""

from __future__ import annotations

import numpy as np

from gis_enforcement.errors import InvalidInput

#: confidence levels of the bins, from the strictest: (bin magnitude, two-sided α)
CONFIDENCE_LEVELS: tuple[tuple[int, float], ...] = ((3, 0.01), (2, 0.05), (1, 0.10))


def _p_array(p: np.ndarray) -> np.ndarray:
    arr = np.asarray(p, dtype=float)
    if arr.ndim != 1:
        raise InvalidInput("p-values must be a 1-D array", field="p")
    finite = arr[np.isfinite(arr)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise InvalidInput("p-values must lie in [0, 1]", field="p")
    return arr


def _check_alpha(alpha: float) -> None:
    if not (0 < alpha < 1):
        raise InvalidInput("the false discovery rate must lie strictly between 0 and 1", field="alpha")


def bh_adjusted(p: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values): ``q_(i) = min_{j ≥ i} min(1, m · p_(j) / j)`` over the
    p-values sorted ascending, returned in the input order. A cell is significant at FDR α exactly when its
    q-value is at most α. NaN p-values (cells without a test) are left out of ``m`` and stay NaN. One sort and
    one reversed running minimum; same numbers as ``scipy.stats.false_discovery_control(p, method='bh')``."""
    arr = _p_array(p)
    out = np.full(arr.shape, np.nan)
    valid = np.flatnonzero(np.isfinite(arr))
    m = valid.size
    if m == 0:
        return out
    order = valid[np.argsort(arr[valid], kind="stable")]
    scaled = arr[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out[order] = np.minimum(q, 1.0)
    return out


def _bh_cutoffs(p: np.ndarray, alphas: tuple[float, ...]) -> list[float]:
    """The Benjamini–Hochberg cut-off ``p_(k)`` at each rate of ``alphas`` (−1.0 when nothing passes), from one
    sort of the finite p-values."""
    ordered = np.sort(p[np.isfinite(p)])
    m = ordered.size
    ranks = np.arange(1, m + 1) / m if m else ordered
    cutoffs = []
    for alpha in alphas:
        passing = np.flatnonzero(ordered <= ranks * alpha)
        cutoffs.append(float(ordered[passing[-1]]) if passing.size else -1.0)
    return cutoffs


def fdr_significant(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Boolean mask of the cells that stay significant after Benjamini–Hochberg correction at false discovery
    rate ``alpha``: with the m finite p-values sorted ascending and k the largest rank with ``p_(k) ≤ k/m · α``,
    every cell with ``p ≤ p_(k)`` (none when there is no such k). NaN p-values are never significant."""
    _check_alpha(alpha)
    arr = _p_array(p)
    return np.asarray(arr <= _bh_cutoffs(arr, (alpha,))[0])


def fdr_threshold(p: np.ndarray, alpha: float = 0.05) -> float:
    """The p-value cut-off ``p_(k)`` of the Benjamini–Hochberg step-up procedure at rate ``alpha`` — the largest
    p-value still significant — or 0.0 when nothing is significant."""
    _check_alpha(alpha)
    return max(0.0, _bh_cutoffs(_p_array(p), (alpha,))[0])


def classify_confidence(z: np.ndarray, p: np.ndarray, fdr: bool = True) -> np.ndarray:
    """Esri's Gi_Bin for each cell, an int8 in {-3, …, 3}: ``+3`` hot spot at 99 % confidence, ``+2`` at 95 %,
    ``+1`` at 90 %, ``0`` not significant, and ``-1/-2/-3`` cold spots at 90/95/99 %. The sign is the sign of
    the z-score; the magnitude is the strictest level whose two-sided α (0.01, 0.05, 0.10) the cell passes —
    judged on the raw p-value when ``fdr`` is false, and by the Benjamini–Hochberg procedure run separately at
    each α when ``fdr`` is true (Esri's "Apply False Discovery Rate (FDR) Correction"). NaN z or p, and z = 0,
    give 0."""
    zs = np.asarray(z, dtype=float)
    ps = _p_array(p)
    if zs.shape != ps.shape:
        raise InvalidInput("z and p must have the same length", field="z")
    magnitude = np.zeros(ps.shape, dtype=np.int8)
    alphas = tuple(alpha for _, alpha in CONFIDENCE_LEVELS)
    cutoffs = _bh_cutoffs(ps, alphas) if fdr else list(alphas)
    # from the loosest level to the strictest, so a cell ends with its strictest passed level
    for (level, _), cutoff in zip(reversed(CONFIDENCE_LEVELS), reversed(cutoffs), strict=True):
        magnitude[ps <= cutoff] = level
    sign = np.sign(np.nan_to_num(zs, nan=0.0)).astype(np.int8)
    return np.asarray(sign * magnitude, dtype=np.int8)
