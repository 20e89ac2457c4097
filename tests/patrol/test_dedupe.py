"""Likely duplicates: nearest earlier same-category incident within radius and window."""

from __future__ import annotations

import numpy as np

from gis_enforcement.patrol.dedupe import haversine_m, likely_duplicates


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
