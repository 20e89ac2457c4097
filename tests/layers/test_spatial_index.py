from __future__ import annotations

import numpy as np
import pytest
import shapely

from gis_enforcement.layers.projection import LocalProjection, transformer
from gis_enforcement.layers.spatial_index import PolygonIndex, SegmentIndex, ring_segments


@pytest.fixture(scope="module")
def tricky() -> np.ndarray:
    """Overlapping polygons, a hole, a multipolygon, a sliver and a polygon nested in a hole."""
    ring = shapely.box(117.00, 40.00, 117.10, 40.08)
    holed = shapely.Polygon(ring.exterior.coords, [shapely.box(117.03, 40.02, 117.06, 40.05).exterior.coords])
    return np.array([
        holed,
        shapely.box(117.05, 40.04, 117.15, 40.10),  # overlaps the first
        shapely.MultiPolygon([shapely.box(117.035, 40.025, 117.055, 40.045),
                              shapely.box(117.2, 40.0, 117.21, 40.01)]),
        shapely.Polygon([(117.0, 40.09), (117.2, 40.0901), (117.2, 40.0902)]),  # a long thin sliver
        shapely.Point(117.12, 40.02).buffer(0.015, quad_segs=64),
    ], dtype=object)


def _probe_points(geoms: np.ndarray, n: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    coords = shapely.get_coordinates(geoms)
    mids = (coords[:-1] + coords[1:]) / 2
    lon = np.r_[rng.uniform(x0 - 0.01, x1 + 0.01, n), coords[:, 0], mids[:, 0]]
    lat = np.r_[rng.uniform(y0 - 0.01, y1 + 0.01, n), coords[:, 1], mids[:, 1]]
    return lon, lat


@pytest.mark.parametrize("cell_deg", [0.002, 0.0005])
def test_pairs_and_first_are_exact(tricky, cell_deg):
    index = PolygonIndex(tricky, cell_deg=cell_deg)
    lon, lat = _probe_points(tricky)
    member = np.stack([shapely.contains_xy(g, lon, lat) for g in tricky], axis=1)
    pt, poly = index.pairs(lon, lat)
    want_pt, want_poly = np.nonzero(member)
    assert np.array_equal(pt, want_pt) and np.array_equal(poly, want_poly)
    first = np.where(member.any(axis=1), member.argmax(axis=1), -1)
    assert np.array_equal(index.first(lon, lat), first)
    assert index.overlapping


def test_empty_index():
    index = PolygonIndex(np.array([], dtype=object))
    assert index.first(np.array([117.0]), np.array([40.0])).tolist() == [-1]
    assert [a.size for a in index.pairs(np.array([117.0]), np.array([40.0]))] == [0, 0]


def test_segment_index_within_is_exact(tricky):
    metric = shapely.transform(tricky, lambda xy: np.column_stack(
        transformer("EPSG:4326", "EPSG:4548").transform(xy[:, 0], xy[:, 1])))
    a, b, owner = ring_segments(metric)
    index = SegmentIndex(a, b, owner, bucket_m=100)
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = shapely.total_bounds(metric)
    px, py = rng.uniform(x0 - 500, x1 + 500, 3_000), rng.uniform(y0 - 500, y1 + 500, 3_000)
    r = rng.choice([10.0, 80.0, 450.0, 2_500.0], 3_000)
    exclude = rng.integers(-1, len(tricky), 3_000)
    pt, own, d = index.within(px, py, r, exclude=exclude)
    dist = shapely.distance(shapely.points(px, py)[:, None], shapely.boundary(metric)[None, :])
    hits = zip(*np.nonzero(dist <= r[:, None]), strict=True)
    want = {(i, j): dist[i, j] for i, j in hits if j != exclude[i]}
    assert set(zip(pt.tolist(), own.tolist(), strict=True)) == set(want)
    expected = [want[k] for k in zip(pt.tolist(), own.tolist(), strict=True)]
    assert np.allclose(d, expected, rtol=1e-9, atol=1e-7)
    assert all(np.all(np.diff(d[pt == i]) >= 0) for i in np.unique(pt))  # nearest first


def test_local_projection_matches_pyproj():
    proj = LocalProjection((116.92, 40.03, 117.40, 40.38))
    assert proj.use_polynomial and proj.max_error_m < 1e-4
    rng = np.random.default_rng(8)
    lon, lat = rng.uniform(116.5, 117.8, 50_000), rng.uniform(39.8, 40.6, 50_000)  # partly outside the fit
    x, y = proj.forward(lon, lat)
    ex, ey = transformer("EPSG:4326", "EPSG:4548").transform(lon, lat)
    assert np.abs(x - ex).max() < 1e-4 and np.abs(y - ey).max() < 1e-4
    nx, ny = proj.forward(np.array([np.nan]), np.array([40.1]))
    assert np.isnan(nx[0]) and np.isnan(ny[0])
