from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import shapely

from gis_enforcement.domain.records import Placement, ZoneRef
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import COLUMNS
from gis_enforcement.layers.projection import reproject, transformer


def brute_township(geoms: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    out = np.full(len(lon), -1)
    for k in range(len(geoms) - 1, -1, -1):  # lowest row wins, as in the locator
        out[shapely.contains_xy(geoms[k], lon, lat)] = k
    return out


@pytest.fixture(scope="module")
def hard_points(jurisdiction):
    """200k random points over (and around) the district, plus every township vertex, edge midpoints,
    raster-cell corners and a few non-finite values: the cases a lookup raster could get wrong."""
    rng = np.random.default_rng(11)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon = rng.uniform(x0 - 0.01, x1 + 0.01, 200_000)
    lat = rng.uniform(y0 - 0.01, y1 + 0.01, 200_000)
    coords = shapely.get_coordinates(jurisdiction.townships.geometry.to_numpy())
    mids = (coords[:-1] + coords[1:]) / 2
    step = 0.0005
    grid_x, grid_y = np.arange(116.95, 117.38, step * 7), np.arange(40.05, 40.36, step * 5)
    corners = np.stack(np.meshgrid(grid_x, grid_y), -1).reshape(-1, 2)
    lon = np.concatenate([lon, coords[:, 0], mids[:, 0], corners[:, 0], [np.nan, 117.1, np.inf]])
    lat = np.concatenate([lat, coords[:, 1], mids[:, 1], corners[:, 1], [40.1, np.nan, 40.2]])
    return lon, lat


def test_township_index_is_exact_point_in_polygon(jurisdiction, locator, hard_points):
    lon, lat = hard_points
    got = locator.township_index(lon, lat)
    expected = brute_township(jurisdiction.townships.geometry.to_numpy(), lon, lat)
    bad = np.flatnonzero(got != expected)
    assert bad.size == 0, f"{bad.size} differ, e.g. {list(zip(lon[bad][:3], lat[bad][:3], strict=True))}"
    assert got.dtype == np.int32
    assert (got >= 0).sum() > 100_000 and (got == -1).sum() > 50_000


def test_township_index_is_fast(locator, jurisdiction):
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon, lat = rng.uniform(x0, x1, 1_000_000), rng.uniform(y0, y1, 1_000_000)
    locator.township_index(lon, lat)
    best = min(_timed(lambda: locator.township_index(lon, lat)) for _ in range(5))
    # measured ~60 M points/s on the 2-core dev box; the bound only catches a fall back to per-point work
    assert 1_000_000 / best > 10e6


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def test_locate_frame_shape(locator):
    frame = locator.locate(np.array([117.1, 118.0, 117.2]), np.array([40.15, 40.0, 40.2]))
    assert tuple(frame.columns) == COLUMNS
    assert isinstance(frame.index, pd.RangeIndex) and list(frame.index) == [0, 1, 2]
    for col in ("township_code", "village_code", "grid_code", "zones", "flags", "border_townships"):
        assert frame[col].dtype == object
    assert frame["lon"].tolist() == [117.1, 118.0, 117.2]


def test_village_points_locate_in_their_township(jurisdiction, locator):
    v = jurisdiction.villages
    lon, lat = shapely.get_x(v.geometry.to_numpy()), shapely.get_y(v.geometry.to_numpy())
    frame = locator.locate(lon, lat)
    inside_own = shapely.contains_xy(
        jurisdiction.townships.set_index("code").geometry.loc[v["township_code"]].to_numpy(), lon, lat)
    assert inside_own.sum() >= 110  # 115 of 119 shipped points lie inside their synthetic township
    own = frame[inside_own]
    assert (own["township_code"] == v["code"][inside_own].str[:9]).all()
    assert (own["village_distance_m"] < 1e-6).all()  # the village itself (or a twin at the same spot)
    same_spot = own["village_code"] != v["code"][inside_own]
    for i in np.flatnonzero(same_spot.to_numpy()):  # twins: the smaller code, at exactly the same place
        row = own.iloc[i]
        twin = v.set_index("code").geometry.loc[row["village_code"]]
        assert twin.equals(v.geometry[inside_own].iloc[i])
        assert row["village_code"] < v["code"][inside_own].iloc[i]
    assert all(f == () for f in own["flags"]) or own["flags"].map(lambda f: "no_village" not in f).all()


def test_nearest_village_and_grid_match_brute_force(jurisdiction, locator):
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon, lat = rng.uniform(x0, x1, 30_000), rng.uniform(y0, y1, 30_000)
    # add points exactly on grid-cell corners and edges (lattice lines)
    g = shapely.get_coordinates(jurisdiction.grid.geometry.to_numpy()[:400])
    mids = (g[:-1] + g[1:]) / 2
    lon, lat = np.r_[lon, g[:, 0], mids[:, 0]], np.r_[lat, g[:, 1], mids[:, 1]]
    frame = locator.locate(lon, lat)
    inside = frame["township_code"].notna().to_numpy()
    # grid: exact point-in-polygon over all cells, except round-off at township lines (below)
    cells = jurisdiction.grid.geometry.to_numpy()
    expected = brute_township(cells, lon[inside], lat[inside])
    codes = jurisdiction.grid["code"].to_numpy(dtype=object)
    want = np.where(expected >= 0, codes[np.maximum(expected, 0)], None)
    got = frame["grid_code"][inside].to_numpy(dtype=object)
    town = frame["township_code"][inside].to_numpy(dtype=object)
    agree = np.array([w is not None and w[:9] == t for w, t in zip(want, town, strict=True)])
    assert (got[agree] == want[agree]).all()
    # the rest lie on cell edges (grid vertices, edge midpoints) or within round-off of a township line: a
    # cell of their own township touching them; random points essentially never
    assert (~agree[: (inside[:30_000]).sum()]).sum() == 0
    cell_of = dict(zip(codes, cells, strict=True))
    for k in np.flatnonzero(~agree):
        assert got[k][:9] == town[k]
        assert cell_of[got[k]].distance(shapely.Point(lon[inside][k], lat[inside][k])) < 1e-12
    assert frame["grid_code"][~inside].isna().all()
    # village: nearest member village in metres
    v = jurisdiction.villages
    vx, vy = transformer("EPSG:4326", "EPSG:4548").transform(shapely.get_x(v.geometry.to_numpy()),
                                                             shapely.get_y(v.geometry.to_numpy()))
    px, py = transformer("EPSG:4326", "EPSG:4548").transform(lon[inside], lat[inside])
    vt = v["township_code"].to_numpy()
    for k, (town, code, dist) in enumerate(zip(frame["township_code"][inside], frame["village_code"][inside],
                                               frame["village_distance_m"][inside], strict=True)):
        members = np.flatnonzero(vt == town)
        d = np.hypot(vx[members] - px[k], vy[members] - py[k])
        assert code == v["code"].iloc[members[np.argmin(d)]]
        assert dist == pytest.approx(d.min(), rel=1e-7, abs=1e-4)


def _other_township_distances(jurisdiction, lon, lat, town_codes):
    metric = reproject(jurisdiction.townships.geometry.to_numpy())
    px, py = transformer("EPSG:4326", "EPSG:4548").transform(lon, lat)
    pts = shapely.points(px, py)
    dist = shapely.distance(pts[:, None], metric[None, :])
    own = jurisdiction.townships["code"].to_numpy()[None, :] == np.asarray(town_codes, dtype=object)[:, None]
    return np.where(own, np.inf, dist)


def test_near_border_matches_brute_force(jurisdiction, locator):
    rng = np.random.default_rng(9)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon, lat = rng.uniform(x0, x1, 6_000), rng.uniform(y0, y1, 6_000)
    acc = np.where(rng.random(6_000) < 0.5, np.nan, rng.uniform(5, 400, 6_000))
    frame = locator.locate(lon, lat, acc)
    inside = frame["township_code"].notna().to_numpy()
    dist = _other_township_distances(jurisdiction, lon[inside], lat[inside], frame["township_code"][inside])
    radius = np.fmax(acc[inside], 50.0)
    codes = jurisdiction.townships["code"].to_numpy()
    near_flag = frame["flags"][inside].map(lambda f: "near_border" in f).to_numpy()
    assert (near_flag == (dist.min(axis=1) <= radius)).all()
    assert near_flag.sum() > 100
    for k, border in enumerate(frame["border_townships"][inside]):
        within = np.flatnonzero(dist[k] <= radius[k])
        assert list(border) == list(codes[within[np.argsort(dist[k][within], kind="stable")]])


def test_point_near_a_border(jurisdiction, locator):
    towns = jurisdiction.townships.set_index("code")
    binhe, pinggu = towns.geometry["110117001"], towns.geometry["110117003"]  # 滨河街道 and 平谷镇
    shared = shapely.get_coordinates(shapely.intersection(binhe.boundary, pinggu.boundary))
    vx, vy = shared[len(shared) // 2]
    # a point about 20 m from the shared line, on the 滨河街道 side
    offsets = [(dx, dy) for dx in (-0.00024, 0, 0.00024) for dy in (-0.00018, 0, 0.00018)]
    p = next(q for q in (shapely.Point(vx + dx, vy + dy) for dx, dy in offsets) if binhe.contains(q))
    placed = locator.locate_one(p.x, p.y)
    assert placed.township_code == "110117001"
    assert "near_border" in placed.flags
    assert "110117003" in placed.border_townships
    assert "near_border" not in locator.locate_one(117.1030, 40.1350).flags  # well inside


def test_accuracy_widens_the_border_test(locator, jurisdiction):
    towns = jurisdiction.townships.set_index("code")
    inner = towns.geometry["110117001"].buffer(-0.0012)  # ~100 m inside 滨河街道
    p = shapely.get_coordinates(inner.exterior)[0]
    assert "near_border" not in locator.locate_one(p[0], p[1]).flags
    assert "near_border" in locator.locate_one(p[0], p[1], accuracy_m=300).flags


def test_point_outside_the_district(jurisdiction, locator):
    placed = locator.locate_one(117.45, 40.05)
    assert placed.township_code is None and placed.grid_code is None and placed.village_code is None
    assert placed.flags == ("outside_district",)
    d = _other_township_distances(jurisdiction, np.array([117.45]), np.array([40.05]), [None])[0]
    assert placed.nearest_township_code == jurisdiction.townships["code"].iloc[int(np.argmin(d))]
    assert placed.nearest_township_distance_m == pytest.approx(d.min(), rel=0.02)


def test_nearest_township_outside(jurisdiction, locator):
    """Exact within 250 m of the district (GPS noise); farther, never more than two raster cells off."""
    rng = np.random.default_rng(4)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon, lat = rng.uniform(x0 - 0.005, x1 + 0.005, 20_000), rng.uniform(y0 - 0.005, y1 + 0.005, 20_000)
    # points just outside: the outline pushed out by 5-200 m
    ring = shapely.get_coordinates(jurisdiction.district.geometry.iloc[0].buffer(0.0012).exterior)
    lon, lat = np.r_[lon, ring[:, 0]], np.r_[lat, ring[:, 1]]
    frame = locator.locate(lon, lat)
    out = frame["township_code"].isna().to_numpy()
    assert out.sum() > 5_000
    dist = _other_township_distances(jurisdiction, lon[out], lat[out], [None] * int(out.sum()))
    exact = dist.min(axis=1)
    got = frame["nearest_township_distance_m"][out].to_numpy()
    codes = jurisdiction.townships["code"].to_numpy()
    near = exact <= 240
    assert near.sum() > 500
    assert np.allclose(got[near], exact[near], rtol=1e-9, atol=1e-6)
    nearest = frame["nearest_township_code"][out][near].to_numpy()
    assert (nearest == codes[np.argmin(dist[near], axis=1)]).all()
    assert (got >= exact - 1e-6).all() and (got - exact <= 150).all()
    assert np.mean(np.abs(got - exact) < 1e-6) > 0.9
    assert frame["flags"][out].map(lambda f: f == ("outside_district",)).all()


def test_point_inside_a_demo_zone(jurisdiction, locator):
    zone = jurisdiction.zones.set_index("code").loc["110117-MA-01"]
    p = zone.geometry.representative_point()
    placed = locator.locate_one(p.x, p.y)
    assert ZoneRef("mining_area", "110117-MA-01", "金海湖镇北山矿区（示意）") in placed.zones
    assert placed.township_code == "110117006"


def test_zones_match_brute_force(jurisdiction, locator):
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon, lat = rng.uniform(x0, x1, 50_000), rng.uniform(y0, y1, 50_000)
    z = jurisdiction.zones
    # the two river corridors overlap where the Ru joins the Ju: add points there
    both = shapely.intersection(z.geometry.iloc[np.flatnonzero(z["code"] == "110117-RC-01")[0]],
                                z.geometry.iloc[np.flatnonzero(z["code"] == "110117-RC-02")[0]])
    c = shapely.get_coordinates(both)
    rep = both.representative_point()
    lon, lat = np.r_[lon, c[:, 0], rep.x], np.r_[lat, c[:, 1], rep.y]
    frame = locator.locate(lon, lat)
    member = np.stack([shapely.contains_xy(g, lon, lat) for g in z.geometry], axis=1)
    for k in range(len(lon)):
        want = tuple(z["code"].to_numpy()[member[k]])
        assert tuple(r.code for r in frame["zones"].iloc[k]) == want
        assert frame["zone_kinds"].iloc[k] == tuple(sorted(set(z["kind"].to_numpy()[member[k]])))
    assert (member.sum(axis=1) >= 2).any()


def _spread_points(jurisdiction, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points of every kind: anywhere around the district (inside, outside, in zones), and on or a few metres
    off the township boundaries' vertices (border candidates, overlaps), with mixed accuracies."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    lon = rng.uniform(x0 - 0.05, x1 + 0.05, n // 2)
    lat = rng.uniform(y0 - 0.05, y1 + 0.05, n // 2)
    verts = shapely.get_coordinates(shapely.boundary(jurisdiction.townships.geometry.to_numpy()))
    pick = verts[rng.integers(0, len(verts), n - n // 2)]
    offset = rng.normal(0.0, 3e-4, pick.shape) * (rng.random((len(pick), 1)) < 0.8)
    lon, lat = np.r_[lon, pick[:, 0] + offset[:, 0]], np.r_[lat, pick[:, 1] + offset[:, 1]]
    acc = rng.choice([np.nan, 5.0, 30.0, 80.0, 400.0], n)
    return lon, lat, acc


def test_locate_one_equals_the_batch_row(locator, jurisdiction):
    """The one-point call takes shortcuts for one point (a scalar path for points well inside a township, no
    border search where the raster rules it out); on ~3,000 points of every kind it must answer exactly as the
    batch."""
    lon, lat, acc = _spread_points(jurisdiction, 2000, seed=11)
    # and where patrols report: around every village, within ~300 m
    rng = np.random.default_rng(12)
    vx, vy = (np.tile(a, 8) for a in (jurisdiction.villages.geometry.x, jurisdiction.villages.geometry.y))
    lon = np.r_[[117.1030, 117.45, 117.0105, 117.33], lon, vx + rng.uniform(-3e-3, 3e-3, len(vx))]
    lat = np.r_[[40.1350, 40.05, 40.1830, 40.215], lat, vy + rng.uniform(-3e-3, 3e-3, len(vy))]
    acc = np.r_[[10.0, np.nan, 80.0, 5.0], acc, rng.choice([np.nan, 5.0, 15.0], len(vx))]
    # and on the grid's lattice lines, where the cell must be decided by the polygons (within 0.1 mm)
    corners = shapely.get_coordinates(shapely.boundary(jurisdiction.grid.geometry.to_numpy()[::10]))[::3]
    lon = np.r_[lon, corners[:, 0] + rng.uniform(-1e-9, 1e-9, len(corners))]
    lat = np.r_[lat, corners[:, 1] + rng.uniform(-1e-9, 1e-9, len(corners))]
    acc = np.r_[acc, np.full(len(corners), np.nan)]
    frame = locator.locate(lon, lat, acc)
    assert frame["flags"].map(lambda f: "near_border" in f).sum() > 100  # the sample reaches the borders
    assert frame["flags"].map(lambda f: "outside_district" in f).sum() > 100
    assert (frame["zones"].map(len) > 0).sum() > 20
    # ... and the scalar shortcut of points well inside a township answers hundreds of them
    shortcut = [locator._place_one(float(x), float(y), None if np.isnan(a) else float(a)) for x, y, a in
                zip(lon, lat, acc, strict=True)]
    assert sum(r is not None for r in shortcut) > 800
    assert sum(bool(r and r["zones"]) for r in shortcut) > 50
    assert sum(bool(r and r["village_distance_m"] > 0) for r in shortcut) > 800
    for k in range(len(lon)):
        one = locator.locate_one(float(lon[k]), float(lat[k]), None if np.isnan(acc[k]) else float(acc[k]))
        row = frame.iloc[k]
        assert isinstance(one, Placement)
        for name in COLUMNS:
            if name == "zone_kinds":  # derived from zones; not a Placement field
                continue
            got, want = getattr(one, name), row[name]
            if isinstance(want, float) and np.isnan(want):
                assert got is None, name
            else:
                assert got == want, name


def test_non_finite_points(locator):
    with pytest.raises(InvalidInput) as exc:
        locator.locate_one(float("nan"), 40.1)
    assert exc.value.field == "lon"
    with pytest.raises(InvalidInput):
        locator.locate_one(117.1, 40.1, accuracy_m=-3)
    frame = locator.locate(np.array([np.nan, 117.1030]), np.array([40.1, 40.1350]))
    first = frame.iloc[0]
    assert first["township_code"] is None and first["flags"] == () and first["zones"] == ()
    assert frame.iloc[1]["township_code"] == "110117001"


def test_a_point_outside_lists_the_townships_within_its_accuracy(jurisdiction, locator):
    """Outside the district, the townships within max(accuracy, 50 m) are the point's candidates, nearest
    first — the brute-force distances decide; the point stays flagged outside, not near a border."""
    rng = np.random.default_rng(27)
    outline = jurisdiction.district.geometry.union_all()
    ring = shapely.get_coordinates(outline.boundary)
    picks = ring[rng.integers(0, len(ring), 3_000)]
    lon = picks[:, 0] + rng.uniform(-0.01, 0.01, len(picks))
    lat = picks[:, 1] + rng.uniform(-0.01, 0.01, len(picks))
    acc = np.where(rng.random(len(picks)) < 0.3, np.nan, rng.uniform(5, 900, len(picks)))
    frame = locator.locate(lon, lat, acc)
    out = frame["township_code"].isna().to_numpy()
    assert out.sum() > 500
    dist = _other_township_distances(jurisdiction, lon[out], lat[out], [None] * int(out.sum()))
    radius = np.fmax(acc[out], 50.0)
    codes = jurisdiction.townships["code"].to_numpy()
    listed = 0
    for k, (border, flags) in enumerate(zip(frame["border_townships"][out], frame["flags"][out], strict=True)):
        within = np.flatnonzero(dist[k] <= radius[k])
        assert list(border) == list(codes[within[np.argsort(dist[k][within], kind="stable")]])
        assert "outside_district" in flags and "near_border" not in flags
        listed += bool(border)
    assert listed > 100


def test_a_poor_fix_just_outside_reaches_the_township_it_may_be_in(jurisdiction, locator):
    """The walk-through's case: 340 m east of the district with ±500 m, its nearest township is a candidate;
    with a good fix it is none's."""
    far = locator.locate_one(117.45, 40.05, accuracy_m=10)
    assert far.border_townships == ()
    edge = shapely.get_coordinates(jurisdiction.townships.geometry.union_all().exterior)
    east = edge[np.argmax(edge[:, 0])]
    lon, lat = east[0] + 340 / 85_000, east[1]   # ~340 m east of the easternmost vertex
    placed = locator.locate_one(lon, lat, accuracy_m=500)
    assert placed.township_code is None and placed.flags == ("outside_district",)
    assert placed.border_townships[:1] == (placed.nearest_township_code,)
    assert locator.locate_one(lon, lat, accuracy_m=10).border_townships == ()
