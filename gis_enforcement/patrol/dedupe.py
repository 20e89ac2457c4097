"""Likely duplicates: the same kind of problem reported again nearby within a short time.

For each new incident, the nearest earlier incident of the same category within the category's radius and
time window — stored incidents count as earlier than anything in the batch; inside the batch, earlier means
observed earlier (then earlier in the file). Vectorised: one k-d tree over (x / radius, y / radius,
t / window) per run (per half of the categories, on two threads, for a large batch), all candidate pairs at
once — or, when the stored points outnumber the new, only the pairs with a new point, from a second tree of
the new points — exact distances only for those pairs. One new incident
(a single submission) is matched directly against its few stored candidates, by the same test.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

EARTH_RADIUS_M = 6_371_008.8
_DEGREE_M = EARTH_RADIUS_M * math.pi / 180.0  # a degree of latitude on that sphere
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: A batch of at least this many points (stored and new) is searched for duplicates on two threads.
PARALLEL_MIN_ROWS = 50_000


def candidate_bbox(lon: np.ndarray, lat: np.ndarray, radius_m: float) -> tuple[float, float, float, float]:
    """A lon/lat box holding every point within ``radius_m`` (great-circle metres, as ``haversine_m`` measures
    them) of any of the points — what the candidate searches read, so the tighter the fewer rows they visit. The
    radius in degrees of latitude, and in degrees of longitude at the box's most poleward latitude (where a
    degree is shortest), each with 1 % and 1e-7° to spare."""
    if lon.size == 1:  # one submission
        x0 = x1 = float(lon[0])
        y0 = y1 = float(lat[0])
    else:
        x0, x1, y0, y1 = float(lon.min()), float(lon.max()), float(lat.min()), float(lat.max())
    pad_lat = radius_m / _DEGREE_M * 1.01 + 1e-7
    poleward = min(max(abs(y0), abs(y1)) + pad_lat, 89.0)
    pad_lon = min(pad_lat / math.cos(math.radians(poleward)), 180.0)
    return x0 - pad_lon, y0 - pad_lat, x1 + pad_lon, y1 + pad_lat


def utc_time(t_s: float) -> datetime:
    """Seconds since 1970 as an aware UTC datetime, to the nearest microsecond (the bounds of the candidate
    searches: times are stored in µs, and a float of seconds near 2026 is within 0.2 µs of the µs it came
    from, so rounding recovers it exactly)."""
    return _EPOCH + timedelta(microseconds=round(t_s * 1e6))


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres (mean Earth radius); exact enough for radii of metres to km."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def likely_duplicates(
    *,
    category: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    t_s: np.ndarray,
    is_new: np.ndarray,
    radius_m: np.ndarray,
    window_s: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For every point, the index of the point it likely duplicates (-1 when none) and the distance in m.

    Inputs are parallel arrays over stored (``is_new`` False) and new points; ``radius_m`` and
    ``window_s`` are per point (from its category). Only new points get a match; stored points never do.
    A match is within the radius (great-circle metres) and the window (seconds, either side).
    """
    n = len(lon)
    match = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    new = np.flatnonzero(is_new)
    if n < 2 or new.size == 0:
        return match, dist
    if new.size == 1:  # one submission: every other point is stored, hence earlier
        k = int(new[0])
        cand = np.flatnonzero((category == category[k]) & ~is_new)
        best, best_m = _nearest(cand, haversine_m(lon[cand], lat[cand], lon[k], lat[k]),
                                np.abs(t_s[k] - t_s[cand]) <= window_s[k], radius_m[k])
        if best >= 0:
            match[k], dist[k] = best, best_m
        return match, dist
    cat_idx = pd.factorize(pd.Series(category, dtype=object), use_na_sentinel=False)[0]  # codes from 0
    lat0 = np.radians(np.nanmean(lat))
    # local metric plane; the box search is widened by 1 % so the approximation never loses a true pair
    x = np.radians(lon) * np.cos(lat0) * EARTH_RADIUS_M / (radius_m * 1.01)
    y = np.radians(lat) * EARTH_RADIUS_M / (radius_m * 1.01)
    t = t_s / (window_s * 1.01)  # widened too: a pair exactly one window apart is then tested, not rounded away
    # categories are kept apart by a coordinate offset larger than any box
    span = max(np.ptp(t) if n else 0.0, 1.0) + 10.0

    def matches_among(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(duplicate, original, metres) for the new points among ``rows`` (ascending), whose categories no
        other row has."""
        pts = np.column_stack([x[rows], y[rows], t[rows] + cat_idx[rows] * span])
        new_here = np.flatnonzero(is_new[rows])
        if 2 * new_here.size < rows.size:
            # mostly stored (a batch into a full table): only the pairs with a new point, from a tree of the new
            # points against a tree of all; a pair of two new points comes twice and a point meets itself
            found = cKDTree(pts[new_here]).sparse_distance_matrix(cKDTree(pts), 1.0, p=np.inf,
                                                                 output_type="ndarray")
            a, b = rows[new_here[found["i"]]], rows[found["j"]]
            a, b = a[a != b], b[a != b]
        else:
            pairs = cKDTree(pts).query_pairs(r=1.0, p=np.inf, output_type="ndarray")
            a, b = rows[pairs[:, 0]], rows[pairs[:, 1]]
        # the box's corners go first: within the widened radius on the same plane (as safe as the box itself)
        dx, dy = x[a] - x[b], y[a] - y[b]
        keep = (dx * dx + dy * dy <= 1.0) & (cat_idx[a] == cat_idx[b]) & (is_new[a] | is_new[b])
        a, b = a[keep], b[keep]
        # order each pair as (original, duplicate)
        a_first = (~is_new[a] & is_new[b]) | (
            (is_new[a] == is_new[b]) & ((t_s[a] < t_s[b]) | ((t_s[a] == t_s[b]) & (a < b)))
        )
        orig = np.where(a_first, a, b)
        dup = np.where(a_first, b, a)
        d = haversine_m(lon[orig], lat[orig], lon[dup], lat[dup])
        ok = (d <= radius_m[dup]) & (np.abs(t_s[dup] - t_s[orig]) <= window_s[dup]) & is_new[dup]
        return _nearest_of_each(dup[ok], orig[ok], d[ok])

    # categories never pair with each other: a large batch is searched as two halves of its categories, one per
    # core (the k-d tree and numpy let go of the GIL)
    groups = [np.arange(n)]
    if n >= PARALLEL_MIN_ROWS and cat_idx.max() > 0:
        counts = np.bincount(cat_idx)
        half = np.zeros(len(counts), dtype=bool)
        load = [0, 0]
        for c in np.argsort(-counts, kind="stable"):
            side = int(load[1] < load[0])
            half[c], load[side] = bool(side), load[side] + int(counts[c])
        groups = [np.flatnonzero(~half[cat_idx]), np.flatnonzero(half[cat_idx])]
    if len(groups) == 1:
        found = [matches_among(groups[0])]
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            found = list(pool.map(matches_among, groups))
    for who, nearest_of, nearest_m in found:
        match[who], dist[who] = nearest_of, nearest_m
    return match, dist


def _nearest_of_each(who: np.ndarray, cand: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over pairs (``who``, ``cand``) at distance ``d``: each distinct ``who`` with its nearest ``cand``, the lowest
    index among equally near ones, and that distance. One sort by ``who``, then two reductions over each run —
    what a three-key lexsort of every pair gives, at a fraction of its cost."""
    if len(who) == 0:
        return who, cand, d
    order = np.argsort(who)
    who, cand, d = who[order], cand[order], d[order]
    starts = np.flatnonzero(np.r_[True, who[1:] != who[:-1]])
    nearest = np.minimum.reduceat(d, starts)
    run = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(who)]))
    lowest = np.minimum.reduceat(np.where(d == nearest[run], cand, np.iinfo(np.int64).max), starts)
    return who[starts], lowest, nearest


def recurrences(
    *,
    category: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    t_s: np.ndarray,
    closed_category: np.ndarray,
    closed_lon: np.ndarray,
    closed_lat: np.ndarray,
    closed_t_s: np.ndarray,
    radius_m: np.ndarray,
    window_s: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For each new incident, the nearest closed case of its category that closed within ``window_s`` before
    the observation and lies within ``radius_m`` (-1 when none), and the distance in metres.

    ``radius_m`` and ``window_s`` are per new incident (from its category). Exact: every pair within the
    largest radius is found with two k-d trees, then filtered by category, time and the exact distance.
    """
    n = len(lon)
    match = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    if n == 0 or len(closed_lon) == 0:
        return match, dist
    if n == 1:  # one submission: its few candidates directly
        cand = np.flatnonzero(closed_category == category[0])
        dt = t_s[0] - closed_t_s[cand]
        best, best_m = _nearest(cand, haversine_m(lon[0], lat[0], closed_lon[cand], closed_lat[cand]),
                                (dt >= 0) & (dt <= window_s[0]), radius_m[0])
        if best >= 0:
            match[0], dist[0] = best, best_m
        return match, dist
    lat0 = np.radians(np.nanmean(np.r_[lat, closed_lat]))
    scale = EARTH_RADIUS_M

    def plane(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.column_stack([np.radians(x) * np.cos(lat0) * scale, np.radians(y) * scale])

    r = float(radius_m.max()) * 1.01
    pairs = cKDTree(plane(lon, lat)).sparse_distance_matrix(cKDTree(plane(closed_lon, closed_lat)), r,
                                                            output_type="ndarray")
    if len(pairs) == 0:
        return match, dist
    i, j = pairs["i"].astype(np.int64), pairs["j"].astype(np.int64)
    d = haversine_m(lon[i], lat[i], closed_lon[j], closed_lat[j])
    dt = t_s[i] - closed_t_s[j]
    ok = (category[i] == closed_category[j]) & (d <= radius_m[i]) & (dt >= 0) & (dt <= window_s[i])
    i, j, d = i[ok], j[ok], d[ok]
    if len(i) == 0:
        return match, dist
    who, nearest_of, nearest_m = _nearest_of_each(i, j, d)
    match[who], dist[who] = nearest_of, nearest_m
    return match, dist


def _nearest(cand: np.ndarray, d: np.ndarray, in_time: np.ndarray, radius_m: float) -> tuple[int, float]:
    """Of the candidates (ascending indices) within ``radius_m`` and in time, the nearest — the lowest index
    among equals, as the batch search orders them; (-1, nan) for none."""
    ok = np.flatnonzero(in_time & (d <= radius_m))
    if ok.size == 0:
        return -1, float("nan")
    best = ok[int(np.argmin(d[ok]))]  # argmin: the first of equal distances
    return int(cand[best]), float(d[best])
