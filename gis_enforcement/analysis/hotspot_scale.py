"""Choosing the distance band of a hot-spot run, the way Esri's Optimized Hot Spot Analysis does.

1. **Incremental spatial autocorrelation.** Global Moran's I (binary distance-band weights, z under the
   randomisation assumption, as Esri and esda's ``z_rand`` report it) is computed for a series of increasing
   distances. The first distance whose z-score is a local peak (higher than the band before and not lower than the
   band after) and statistically significant (z ≥ 1.96) is the scale at which clustering is most pronounced.
   The series starts at the distance that gives every feature at least one neighbour — ignoring locational
   outliers, features whose nearest-neighbour distance exceeds the mean by more than three standard
   deviations — and grows by the mean nearest-neighbour distance (``n_bands`` steps, 10 by default).
2. **No peak.** The band is the average distance to the K-th nearest neighbour, ``K = 5 % of the features``
   clamped to [3, 30]; if that exceeds one standard distance of the features, one standard distance.
3. **Every feature a neighbour, isolated features aside.** The chosen band is widened, if needed, to the
   largest nearest-neighbour distance of the features that are not isolated, so no ordinary feature is left
   alone (Gi* of a cell without neighbour is only its own value). A feature is *isolated* when it is a
   locational outlier and its nearest neighbour is also more than :data:`ISOLATED_FACTOR` times the median
   nearest-neighbour distance away (the second test keeps a lattice of cells whose spacings hardly vary from
   calling a slightly wider spacing an outlier). An isolated feature never widens the band: one stray cell
   far away would otherwise stretch it over the whole study area and wash every local pattern out. It stays
   without a neighbour; the detail says how many, and :func:`~.hotspots.hotspots_from_counts` leaves every
   cell without a neighbour out of the confidence bins.

All bands come from one k-d tree query: each pair is labelled with the first band that holds it, so Moran's I
of every band is read off running sums (``bincount`` + ``cumsum``) rather than recomputed band by band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.spatial import cKDTree

from gis_enforcement.errors import InvalidInput

#: z-score a Moran's I peak must reach to count (two-sided 95 %)
PEAK_MIN_Z = 1.96
#: refuse to enumerate more pairs than this (the largest band would be far beyond a district's scale)
MAX_PAIRS = 60_000_000
#: a locational outlier is isolated (never widens the band) when its nearest neighbour is farther than this
#: many times the median nearest-neighbour distance
ISOLATED_FACTOR = 3.0


@dataclass(frozen=True)
class ScaleChoice:
    """The distance band of a run in metres, how it was chosen (``"given"``, ``"moran_peak"``,
    ``"k_nearest"``, ``"standard_distance"``), a sentence explaining the choice for the run's report, and the
    Moran's I profile that was examined as ``(distance_m, z)`` pairs (empty when the band was given)."""

    distance_m: float
    method: str
    detail: str
    profile: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class MoranProfile:
    """Global Moran's I for a series of distance bands: ``distances`` (m), ``moran_i``, ``expected`` (−1/(n−1)),
    ``variance`` (randomisation assumption), ``z`` and two-sided ``p``, one entry per band."""

    distances: np.ndarray
    moran_i: np.ndarray
    expected: float
    variance: np.ndarray
    z: np.ndarray
    p: np.ndarray


def _points(x: np.ndarray, y: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.ndim != 1 or xs.shape != ys.shape:
        raise InvalidInput("x and y must be 1-D arrays of the same length", field="x")
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise InvalidInput("coordinates must be finite numbers", field="x")
    if values is not None and np.asarray(values).shape != xs.shape:
        raise InvalidInput("values must have one entry per feature", field="values")
    return np.column_stack([xs, ys])


def incremental_morans_i(x: np.ndarray, y: np.ndarray, values: np.ndarray, distances: np.ndarray) -> MoranProfile:
    """Global Moran's I of ``values`` at points ``(x, y)`` (metres) for each distance of ``distances`` with binary
    weights ``w_ij = 1`` when ``0 < d_ij ≤ distance`` (no self-weight), its expectation, its variance under the
    randomisation assumption (Cliff & Ord), z-score and two-sided p-value — the numbers of esda
    ``Moran(values, w, transformation='B')`` (``I``, ``EI``, ``VI_rand``, ``z_rand``). Pairs are found once, up to
    the largest distance, each pair is labelled with the first band holding it, and running sums over the bands
    give every band's I at once. ``distances`` must increase. A band with no pair, or values without variance,
    gets NaN."""
    pts = _points(x, y, values)
    v = np.asarray(values, dtype=float)
    d = np.asarray(distances, dtype=float)
    n = len(v)
    if n < 4:
        raise InvalidInput("Moran's I needs at least 4 features", field="values")
    if d.ndim != 1 or d.size == 0 or not np.isfinite(d).all() or (d <= 0).any():
        raise InvalidInput("distances must be positive numbers", field="distances")
    if (np.diff(d) <= 0).any():
        raise InvalidInput("distances must increase", field="distances")
    tree = cKDTree(pts)
    sample = pts[:: max(1, n // 256)]
    expected_pairs = n * float(np.mean(tree.query_ball_point(sample, float(d[-1]), return_length=True))) / 2
    if expected_pairs > MAX_PAIRS:
        raise InvalidInput(f"the largest band, {d[-1]:.0f} m, links too many pairs of features", field="distances")
    pairs = tree.query_pairs(float(d[-1]), output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    dx, dy = pts[:, 0][i] - pts[:, 0][j], pts[:, 1][i] - pts[:, 1][j]
    # the first band that holds each pair (squared distances, as the k-d tree compares them); a band holds
    # every pair of the bands before it
    band = np.searchsorted(d * d, dx * dx + dy * dy, side="left")
    nb = len(d)
    dev = v - v.mean()
    m2 = float((dev * dev).sum())
    b2 = n * float((dev**4).sum()) / (m2 * m2) if m2 > 0 else np.nan
    cross = np.cumsum(np.bincount(band, weights=dev[i] * dev[j], minlength=nb)[:nb])
    s0 = 2.0 * np.cumsum(np.bincount(band, minlength=nb)[:nb])  # each unordered pair is two unit weights
    s1 = 2.0 * s0  # ½ Σ (w_ij + w_ji)² with w_ij = w_ji = 1
    degree = np.bincount(i * nb + band, minlength=n * nb) + np.bincount(j * nb + band, minlength=n * nb)
    degree = np.cumsum(degree[: n * nb].reshape(n, nb), axis=1).astype(float)
    s2 = (4.0 * degree * degree).sum(axis=0)
    expected = -1.0 / (n - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        moran = np.where(s0 > 0, n / s0 * (2.0 * cross) / m2, np.nan) if m2 > 0 else np.full(nb, np.nan)
        num = n * ((n * n - 3 * n + 3) * s1 - n * s2 + 3 * s0 * s0) - b2 * ((n * n - n) * s1 - 2 * n * s2 + 6 * s0 * s0)
        variance = np.where(s0 > 0, num / ((n - 1) * (n - 2) * (n - 3) * s0 * s0) - expected * expected, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (moran - expected) / np.sqrt(variance)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return MoranProfile(distances=d, moran_i=moran, expected=expected, variance=variance, z=z, p=p)


def nearest_neighbour_distances(x: np.ndarray, y: np.ndarray, k: int = 1) -> np.ndarray:
    """Distance from each point to its k-th nearest other point (metres), shape ``(n,)``; one k-d tree query."""
    pts = _points(x, y)
    if len(pts) <= k:
        raise InvalidInput(f"need more than {k} features to find their {k}-th nearest neighbour", field="x")
    dist, _ = cKDTree(pts).query(pts, k=k + 1)
    return np.asarray(dist[:, k], dtype=float)


def standard_distance(x: np.ndarray, y: np.ndarray) -> float:
    """Standard distance of the points (metres): ``sqrt(Σ(x−x̄)²/n + Σ(y−ȳ)²/n)``, the spatial counterpart of a
    standard deviation (Esri's Standard Distance, unweighted)."""
    pts = _points(x, y)
    return float(np.sqrt(((pts - pts.mean(axis=0)) ** 2).sum(axis=1).mean()))


def locational_outliers(nn: np.ndarray) -> np.ndarray:
    """Which features are locational outliers (Esri): nearest-neighbour distance ``nn`` above the mean by more
    than three standard deviations."""
    d = np.asarray(nn, dtype=float)
    return np.asarray(d > d.mean() + 3.0 * d.std())


def isolated_features(nn: np.ndarray) -> np.ndarray:
    """Which features are isolated — never worth widening the distance band for: locational outliers whose
    nearest neighbour is also more than :data:`ISOLATED_FACTOR` times the median nearest-neighbour distance
    away (``nn``, one entry per feature)."""
    d = np.asarray(nn, dtype=float)
    return locational_outliers(d) & (d > ISOLATED_FACTOR * float(np.median(d)))


def first_significant_peak(z: np.ndarray, min_z: float = PEAK_MIN_Z) -> int | None:
    """Index of the first local peak of a z-score profile — higher than the previous band (or first) and not
    lower than the next, and at least ``min_z`` — or None. The last band is never a peak: nothing says the
    profile would not go on rising."""
    zs = np.asarray(z, dtype=float)
    for i in range(len(zs) - 1):
        if not np.isfinite(zs[i]) or zs[i] < min_z:
            continue
        rising = i == 0 or not np.isfinite(zs[i - 1]) or zs[i] > zs[i - 1]
        if rising and zs[i] >= zs[i + 1]:
            return i
    return None


def choose_distance_band(
    x: np.ndarray,
    y: np.ndarray,
    values: np.ndarray,
    *,
    n_bands: int = 10,
    start_m: float | None = None,
    increment_m: float | None = None,
) -> ScaleChoice:
    """Distance band for Gi* over features at ``(x, y)`` (metres, e.g. cell centroids in EPSG:4548) weighted by
    ``values`` (e.g. incident counts), following Esri's Optimized Hot Spot Analysis as described in this module:
    first significant peak of Moran's I z over ``n_bands`` increasing distances from ``start_m`` (default: every
    non-outlier feature has a neighbour) by ``increment_m`` (default: mean nearest-neighbour distance); else the
    average distance to the K-th nearest neighbour capped at one standard distance; then widened so every feature
    that is not isolated (a locational outlier more than :data:`ISOLATED_FACTOR` median nearest-neighbour
    distances from its nearest neighbour) has at least one neighbour — isolated features never widen the band
    and are counted in the ``detail``. Returns a :class:`ScaleChoice` whose ``detail`` says which rule
    decided."""
    pts = _points(x, y, values)
    n = len(pts)
    if n < 4:
        raise InvalidInput("choosing a distance band needs at least 4 features", field="values")
    if n_bands < 2:
        raise InvalidInput("at least 2 distance bands are needed to find a peak", field="n_bands")
    nn = nearest_neighbour_distances(pts[:, 0], pts[:, 1], 1)
    if float(nn.max()) <= 0:
        raise InvalidInput("all features are at one location", field="x")
    outlier = locational_outliers(nn)
    isolated = isolated_features(nn)
    all_have_neighbour = float(nn[~isolated].max())
    start = float(start_m) if start_m is not None else float(nn[~outlier].max())
    step = float(increment_m) if increment_m is not None else float(nn.mean())
    if not (start > 0 and step > 0):
        raise InvalidInput("start and increment must be positive distances", field="start_m")
    distances = start + step * np.arange(n_bands)
    profile = incremental_morans_i(pts[:, 0], pts[:, 1], values, distances)
    pairs = tuple((float(dd), float(zz)) for dd, zz in zip(distances, profile.z, strict=True))
    span = f"{n_bands} bands {distances[0]:.0f}–{distances[-1]:.0f} m"
    peak = first_significant_peak(profile.z)
    if peak is not None:
        distance, method = float(distances[peak]), "moran_peak"
        detail = f"first significant peak of Moran's I (z = {profile.z[peak]:.2f}) at {distance:.0f} m among {span}"
    else:
        k = int(np.clip(round(0.05 * n), 3, min(30, n - 1)))
        k_avg = float(nearest_neighbour_distances(pts[:, 0], pts[:, 1], k).mean())
        sd = standard_distance(pts[:, 0], pts[:, 1])
        if k_avg > sd:
            distance, method = sd, "standard_distance"
            detail = (f"no significant Moran's I peak among {span}; the average distance to {k} nearest neighbours "
                      f"({k_avg:.0f} m) exceeds one standard distance, so {sd:.0f} m")
        else:
            distance, method = k_avg, "k_nearest"
            detail = f"no significant Moran's I peak among {span}; average distance to {k} nearest neighbours"
    if distance < all_have_neighbour:
        detail += f"; widened from {distance:.0f} m to {all_have_neighbour:.0f} m so every feature has a neighbour"
        if isolated.any():
            detail += " but the isolated ones"
        distance = all_have_neighbour
    alone = int((nn > distance).sum())
    if alone:
        detail += f"; {alone} isolated feature(s) have no neighbour within {distance:.0f} m"
    return ScaleChoice(distance_m=distance, method=method, detail=detail, profile=pairs)
