"""Likely duplicates: nearest earlier same-category incident within radius and window."""

from __future__ import annotations

import numpy as np
import pytest

from gis_enforcement.patrol import dedupe
from gis_enforcement.patrol.dedupe import candidate_bbox, haversine_m, likely_duplicates, recurrences


def test_nearest_earlier_same_category_within_radius_and_window() -> None:
    # 0: stored; 1: new 50 m away 1 h later (dup of 0); 2: new 30 m from 1, same time as 1 but later row
    # 3: other category at the same place; 4: far away; 5: same place 5 days later (outside window)
    d = 1 / 111_320  # ~1 m in latitude degrees
    lat = np.array([40.0, 40.0 + 50 * d, 40.0 + 80 * d, 40.0, 40.1, 40.0])
    lon = np.full(6, 117.0)
    t = np.array([0, 3600, 3600, 0, 0, 5 * 86400], dtype=float)
    cat = np.array(["A", "A", "A", "B", "A", "A"], dtype=object)
    is_new = np.array([False, True, True, True, True, True])
    match, dist = likely_duplicates(category=cat, lon=lon, lat=lat, t_s=t, is_new=is_new,
                                    radius_m=np.full(6, 200.0), window_s=np.full(6, 48 * 3600.0))
    assert list(match) == [-1, 0, 1, -1, -1, -1]
    assert abs(dist[1] - 50) < 0.5 and abs(dist[2] - 30) < 0.5


def test_radius_is_exact_not_the_search_box() -> None:
    # a point at 210 m diagonal lies inside the square search box of 200 m but outside the radius
    dx = 150 / (111_320 * np.cos(np.radians(40)))
    dy = 150 / 111_320
    lon, lat = np.array([117.0, 117.0 + dx]), np.array([40.0, 40.0 + dy])
    assert haversine_m(lon[0], lat[0], lon[1], lat[1]) > 200
    match, _ = likely_duplicates(category=np.array(["A", "A"], dtype=object), lon=lon, lat=lat,
                                 t_s=np.zeros(2), is_new=np.array([False, True]),
                                 radius_m=np.full(2, 200.0), window_s=np.full(2, 3600.0))
    assert list(match) == [-1, -1]


def _stored_around(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """``n`` stored reports of three categories within ~600 m and two days of (117.1, 40.1, t=0): a tenth
    stacked on one spot within the hour (equal distances), a tenth exactly one hour away (the window's edge)."""
    lon = 117.1 + rng.normal(0, 0.003, n)
    lat = 40.1 + rng.normal(0, 0.003, n)
    lon[: n // 10], lat[: n // 10] = 117.1005, 40.1005
    t = np.round(rng.uniform(-2 * 86400, 2 * 86400, n))
    t[: n // 10] = rng.choice([-3600.0, -1800.0, 0.0, 1800.0, 3600.0], n // 10)
    t[n // 10: n // 5] = rng.choice([-3600.0, 3600.0], n // 5 - n // 10)
    return {"category": rng.choice(np.array(["A", "B", "C"], dtype=object), n), "lon": lon, "lat": lat, "t": t}


def test_one_submission_is_matched_as_in_a_batch() -> None:
    """A single new point takes a direct path over its candidates; the batch path (k-d tree) must give the
    same match and distance. The batch here is the same new point plus a far-away one of its own category."""
    rng = np.random.default_rng(5)
    for trial in range(300):
        s = _stored_around(rng, int(rng.integers(0, 60)))
        lon0, lat0 = 117.1 + rng.normal(0, 0.002), 40.1 + rng.normal(0, 0.002)
        if trial % 3 == 0:
            lon0, lat0 = 117.1005, 40.1005  # on the stacked stored reports: ties by distance
        cat0 = rng.choice(["A", "B"])

        def run(extra: bool, s: dict[str, np.ndarray] = s, lon0: float = lon0, lat0: float = lat0,
                cat0: str = cat0) -> tuple[int, float]:
            tail = 2 if extra else 1
            n = len(s["lon"]) + tail
            match, dist = likely_duplicates(
                category=np.r_[s["category"], [cat0, "Z"][:tail]].astype(object),
                lon=np.r_[s["lon"], [lon0, 117.2][:tail]], lat=np.r_[s["lat"], [lat0, 40.2][:tail]],
                t_s=np.r_[s["t"], [0.0, 0.0][:tail]], is_new=np.arange(n) >= len(s["lon"]),
                radius_m=np.full(n, 500.0), window_s=np.full(n, 3600.0))
            k = len(s["lon"])
            return int(match[k]), float(dist[k])

        one, batch = run(False), run(True)
        assert one[0] == batch[0], trial
        assert (np.isnan(one[1]) and np.isnan(batch[1])) or one[1] == batch[1], trial


def test_one_submission_finds_its_recurrence_as_in_a_batch() -> None:
    rng = np.random.default_rng(6)
    for trial in range(300):
        s = _stored_around(rng, int(rng.integers(0, 60)))
        s["t"] = -np.abs(s["t"])  # closures before the new report
        lon0, lat0 = (117.1005, 40.1005) if trial % 3 == 0 else (117.1 + rng.normal(0, 0.002),
                                                                  40.1 + rng.normal(0, 0.002))
        cat0 = rng.choice(["A", "B"])

        def run(extra: bool, s: dict[str, np.ndarray] = s, lon0: float = lon0, lat0: float = lat0,
                cat0: str = cat0) -> tuple[int, float]:
            m = 2 if extra else 1
            match, dist = recurrences(
                category=np.array([cat0, "Z"][:m], dtype=object), lon=np.array([lon0, 117.2][:m]),
                lat=np.array([lat0, 40.2][:m]), t_s=np.zeros(m), closed_category=s["category"],
                closed_lon=s["lon"], closed_lat=s["lat"], closed_t_s=s["t"], radius_m=np.full(m, 500.0),
                window_s=np.full(m, 3600.0))
            return int(match[0]), float(dist[0])

        one, batch = run(False), run(True)
        assert one[0] == batch[0], trial
        assert (np.isnan(one[1]) and np.isnan(batch[1])) or one[1] == batch[1], trial


def test_the_candidate_box_holds_every_point_within_the_radius_and_little_more() -> None:
    """Points within the radius (by ``haversine_m``) of one point or of a batch all fall in the box the candidate
    searches read, and the box is no more than ~2 % wider than the radius needs."""
    rng = np.random.default_rng(7)
    for radius in (50.0, 300.0, 1000.0, 20_000.0):
        for _ in range(20):
            k = int(rng.integers(1, 4))
            lon, lat = rng.uniform(115.0, 119.0, k), rng.uniform(-60.0, 75.0, 1).repeat(k) + rng.uniform(0, 0.1, k)
            x0, y0, x1, y1 = candidate_bbox(lon, lat, radius)
            # points around each centre, out to 1.5 times the radius in every direction
            n = 4000
            span = 1.5 * radius / 111_000.0
            qx = np.repeat(lon, n) + rng.uniform(-1, 1, n * k) * span / np.cos(np.radians(np.repeat(lat, n) + span))
            qy = np.repeat(lat, n) + rng.uniform(-1, 1, n * k) * span
            inside = haversine_m(np.repeat(lon, n), np.repeat(lat, n), qx, qy) <= radius
            assert inside.sum() > 100
            assert ((qx[inside] >= x0) & (qx[inside] <= x1) & (qy[inside] >= y0) & (qy[inside] <= y1)).all()
        # tight: a single point's box spans 2 radii within ~2 % along each axis
        x0, y0, x1, y1 = candidate_bbox(np.array([117.1]), np.array([40.2]), radius)
        assert 2 * radius <= haversine_m(x0, 40.2, x1, 40.2) <= 2 * radius * 1.02 + 1
        assert 2 * radius <= haversine_m(117.1, y0, 117.1, y1) <= 2 * radius * 1.02 + 1


def _nearest_by_definition(ok: np.ndarray, d: np.ndarray) -> tuple[int, float]:
    """The nearest of the candidates ``ok`` (a mask), the lowest index among equally near ones."""
    cand = np.flatnonzero(ok)
    if cand.size == 0:
        return -1, float("nan")
    best = cand[d[cand] == d[cand].min()].min()
    return int(best), float(d[best])


@pytest.mark.parametrize("new_share", [0.6, 0.15])
@pytest.mark.parametrize("two_threads", [False, True])
def test_a_batch_is_matched_as_the_definition_says(two_threads: bool, new_share: float,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Stored and new reports, stacked spots (equal distances) and times at the window's edge: every match and
    distance is the one the plain definition gives, pair by pair — searched whole, or as two halves of the
    categories on two threads (as a large batch is); mostly new (all pairs searched) or mostly stored (only the
    pairs with a new point)."""
    if two_threads:
        monkeypatch.setattr(dedupe, "PARALLEL_MIN_ROWS", 2)
    rng = np.random.default_rng(11)
    for _ in range(5):
        s = _stored_around(rng, 300)
        n = len(s["lon"])
        is_new = rng.random(n) < new_share
        radius = np.where(s["category"] == "A", 150.0, 300.0)
        window = np.where(s["category"] == "C", 1800.0, 3600.0)
        match, dist = likely_duplicates(category=s["category"], lon=s["lon"], lat=s["lat"], t_s=s["t"],
                                        is_new=is_new, radius_m=radius, window_s=window)
        assert (match >= 0).sum() > (30 if new_share > 0.5 else 8)
        for k in range(n):
            if not is_new[k]:
                assert match[k] == -1
                continue
            d = haversine_m(s["lon"], s["lat"], s["lon"][k], s["lat"][k])
            earlier = ~is_new | (s["t"] < s["t"][k]) | ((s["t"] == s["t"][k]) & (np.arange(n) < k))
            ok = earlier & (np.arange(n) != k) & (s["category"] == s["category"][k]) & (d <= radius[k]) & (
                np.abs(s["t"] - s["t"][k]) <= window[k])
            best, best_m = _nearest_by_definition(ok, d)
            assert match[k] == best
            assert (np.isnan(dist[k]) and best < 0) or dist[k] == best_m


def test_recurrences_in_a_batch_are_those_of_the_definition() -> None:
    rng = np.random.default_rng(12)
    for _ in range(5):
        closed, new = _stored_around(rng, 200), _stored_around(rng, 150)
        radius = np.where(new["category"] == "A", 150.0, 300.0)
        window = np.full(len(new["lon"]), 86400.0)
        match, dist = recurrences(category=new["category"], lon=new["lon"], lat=new["lat"], t_s=new["t"],
                                  closed_category=closed["category"], closed_lon=closed["lon"],
                                  closed_lat=closed["lat"], closed_t_s=closed["t"], radius_m=radius, window_s=window)
        assert (match >= 0).sum() > 20
        for i in range(len(new["lon"])):
            d = haversine_m(closed["lon"], closed["lat"], new["lon"][i], new["lat"][i])
            dt = new["t"][i] - closed["t"]
            ok = (closed["category"] == new["category"][i]) & (d <= radius[i]) & (dt >= 0) & (dt <= window[i])
            best, best_m = _nearest_by_definition(ok, d)
            assert match[i] == best
            assert (np.isnan(dist[i]) and best < 0) or dist[i] == best_m
