"""Aggregation of incidents to H3 cells, a metric grid and areas: counts, ids, empty cells, filters, geometry."""

from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from gis_enforcement.analysis.aggregate import (
    CellSpec,
    aggregate_grid,
    aggregate_h3,
    aggregate_incidents,
    cells_geodataframe,
    filter_incidents,
    h3_cells,
    incident_lonlat,
    project_lonlat,
)
from gis_enforcement.errors import InvalidInput

TO_4548 = Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)
PINGGU = shapely.box(116.9, 40.0, 117.4, 40.35)


def _incidents(n: int = 5000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "lon": rng.uniform(116.95, 117.35, n),
        "lat": rng.uniform(40.05, 40.3, n),
        "category": rng.choice(["A01", "B02", "C03"], n),
        "observed_at": pd.Timestamp("2026-01-01", tz="Asia/Shanghai")
        + pd.to_timedelta(rng.integers(0, 180 * 86400, n), unit="s"),
        "township_code": rng.choice(["110117001", "110117002", "110117003"], n),
        "status": rng.choice(["reported", "closed"], n),
    })


# ------------------------------------------------------------------------------------------------ H3


@pytest.mark.parametrize("resolution", [5, 7, 8, 9, 10, 13])
def test_h3_ids_equal_h3_point_by_point_in_the_district(resolution: int) -> None:
    frame = _incidents(20_000, seed=resolution)
    ours = h3_cells(frame["lon"].to_numpy(), frame["lat"].to_numpy(), resolution)
    expected = [h3.str_to_int(h3.latlng_to_cell(la, lo, resolution)) for lo, la in zip(frame["lon"], frame["lat"],
                                                                                        strict=True)]
    np.testing.assert_array_equal(ours, np.array(expected, dtype=np.uint64))


@pytest.mark.parametrize("resolution", [0, 3, 8, 11, 15])
def test_h3_ids_equal_h3_over_the_globe(resolution: int) -> None:
    rng = np.random.default_rng(40 + resolution)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 30_000)))  # uniform on the sphere: every face, pentagons too
    lon = rng.uniform(-180, 180, 30_000)
    expected = [h3.str_to_int(h3.latlng_to_cell(a, b, resolution)) for a, b in zip(lat, lon, strict=True)]
    np.testing.assert_array_equal(h3_cells(lon, lat, resolution), np.array(expected, dtype=np.uint64))


def test_h3_ids_equal_h3_on_cell_edges_and_vertices() -> None:
    # points exactly on hexagon vertices and edge midpoints are where a rounding slip would show
    centre = h3.latlng_to_cell(40.14, 117.1, 8)
    lat, lon = [], []
    for cell in h3.grid_disk(centre, 3):
        ring = h3.cell_to_boundary(cell)
        for (a_lat, a_lon), (b_lat, b_lon) in zip(ring, ring[1:] + ring[:1], strict=True):
            lat += [a_lat, (a_lat + b_lat) / 2]
            lon += [a_lon, (a_lon + b_lon) / 2]
    lat_a, lon_a = np.array(lat), np.array(lon)
    expected = [h3.str_to_int(h3.latlng_to_cell(a, b, 8)) for a, b in zip(lat_a, lon_a, strict=True)]
    np.testing.assert_array_equal(h3_cells(lon_a, lat_a, 8), np.array(expected, dtype=np.uint64))


def test_h3_aggregation_counts_and_centres() -> None:
    frame = _incidents(3000)
    cells = aggregate_h3(frame["lon"].to_numpy(), frame["lat"].to_numpy(), 8)
    assert cells["count"].sum() == 3000
    some = frame.iloc[:5]
    for lo, la in zip(some["lon"], some["lat"], strict=True):
        assert h3.latlng_to_cell(la, lo, 8) in set(cells["cell_id"])
    by_hand = pd.Series([h3.latlng_to_cell(la, lo, 8) for lo, la in zip(frame["lon"], frame["lat"], strict=True)])
    assert cells.set_index("cell_id")["count"].to_dict() == by_hand.value_counts().to_dict()
    first = cells.iloc[0]
    c_lat, c_lon = h3.cell_to_latlng(first["cell_id"])
    ex, ey = TO_4548.transform(c_lon, c_lat)
    assert abs(first["x"] - ex) < 0.01 and abs(first["y"] - ey) < 0.01


def test_h3_boundary_adds_empty_cells_inside() -> None:
    frame = _incidents(200)
    area = shapely.box(117.0, 40.1, 117.1, 40.2)
    cells = aggregate_h3(frame["lon"].to_numpy(), frame["lat"].to_numpy(), 8, boundary=area)
    inside = set(h3.geo_to_cells(area, 8))
    assert inside <= set(cells["cell_id"])
    assert cells["count"].sum() == 200
    assert (cells["count"] == 0).sum() > 0


# ------------------------------------------------------------------------------------------------ grid


def test_grid_ids_match_a_hand_computation() -> None:
    lon, lat = np.array([117.1, 117.1001, 117.2]), np.array([40.15, 40.1501, 40.25])
    x, y = project_lonlat(lon, lat)
    ex, ey = TO_4548.transform(lon, lat)
    np.testing.assert_allclose(x, ex, atol=1e-3)
    np.testing.assert_allclose(y, ey, atol=1e-3)
    cells = aggregate_grid(x, y, 500.0)
    col, row = int(ex[0] // 500), int(ey[0] // 500)
    first = cells.set_index("cell_id").loc[f"{col}_{row}"]
    assert first["count"] == 2  # the two points 10 m apart share a square
    assert first["x"] == (col + 0.5) * 500 and first["y"] == (row + 0.5) * 500
    assert f"{int(ex[2] // 500)}_{int(ey[2] // 500)}" in set(cells["cell_id"])
    assert cells["count"].sum() == 3


def test_grid_boundary_keeps_every_square_whose_centre_is_inside() -> None:
    frame = _incidents(1000)
    x, y = project_lonlat(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    cells = aggregate_grid(x, y, 1000.0, boundary=PINGGU)
    assert cells["count"].sum() == 1000
    ring = np.array(PINGGU.exterior.coords)
    bx, by = TO_4548.transform(ring[:, 0], ring[:, 1])
    area = shapely.Polygon(np.column_stack([bx, by]))
    centres_inside = shapely.contains_xy(area, cells["x"], cells["y"])
    assert centres_inside[cells["count"] == 0].all()
    assert cells["cell_id"].is_unique
    # about the box's area in km², one square per km²
    assert abs(len(cells) - area.area / 1e6) < 0.02 * area.area / 1e6


# ------------------------------------------------------------------------------------------------ areas


def test_areas_counts_with_and_without_layer() -> None:
    frame = _incidents(900)
    spec = CellSpec("area", code_column="township_code")
    cells = aggregate_incidents(frame, spec)
    assert cells.set_index("cell_id")["count"].to_dict() == frame["township_code"].value_counts().to_dict()
    layer = gpd.GeoDataFrame({"code": ["110117001", "110117002", "110117003", "110117004"]},
                             geometry=[shapely.box(117.0 + 0.1 * k, 40.1, 117.1 + 0.1 * k, 40.2) for k in range(4)],
                             crs="EPSG:4326")
    with_layer = aggregate_incidents(frame, spec, areas=layer)
    assert with_layer.set_index("cell_id").loc["110117004", "count"] == 0
    assert with_layer["count"].sum() == 900
    cx, cy = TO_4548.transform(117.35, 40.15)
    fourth = with_layer.set_index("cell_id").loc["110117004"]
    assert abs(fourth["x"] - cx) < 50 and abs(fourth["y"] - cy) < 50
    gdf = cells_geodataframe(with_layer, spec, areas=layer)
    assert gdf.crs.equals("EPSG:4326") and gdf.geometry.notna().all()
    with pytest.raises(InvalidInput):
        aggregate_incidents(frame, spec, areas=layer.iloc[:2])


# ------------------------------------------------------------------------------------------------ filters


def test_filtered_counts_sum_to_the_filtered_incidents() -> None:
    frame = _incidents(4000)
    filters = {"categories": ["A01", "B02"], "start": "2026-02-01", "end": "2026-04-01", "statuses": "reported",
               "townships": ["110117001", "110117003"]}
    kept = filter_incidents(frame, **filters)
    times = frame["observed_at"]
    by_hand = frame[frame["category"].isin(["A01", "B02"]) & (times >= pd.Timestamp("2026-02-01", tz="Asia/Shanghai"))
                    & (times < pd.Timestamp("2026-04-01", tz="Asia/Shanghai")) & (frame["status"] == "reported")
                    & frame["township_code"].isin(["110117001", "110117003"])]
    assert len(kept) == len(by_hand) > 0
    for spec in (CellSpec("h3", resolution=8), CellSpec("grid", size_m=500.0),
                 CellSpec("area", code_column="township_code")):
        assert aggregate_incidents(frame, spec, **filters)["count"].sum() == len(by_hand)


def test_period_is_half_open_and_naive_times_are_beijing() -> None:
    at = pd.Timestamp("2026-03-01 08:00", tz="Asia/Shanghai")
    frame = pd.DataFrame({"lon": [117.1] * 3, "lat": [40.1] * 3,
                          "observed_at": [at - pd.Timedelta(seconds=1), at, at + pd.Timedelta(hours=1)]})
    assert len(filter_incidents(frame, start="2026-03-01 08:00", end="2026-03-01 09:00")) == 1
    assert len(filter_incidents(frame, start="2026-03-01T00:00:00Z")) == 2  # 00:00 UTC is 08:00 in Beijing
    with pytest.raises(InvalidInput) as err:
        filter_incidents(frame, start="2026-03-02", end="2026-03-01")
    assert err.value.field == "end"
    with pytest.raises(InvalidInput) as err:
        filter_incidents(frame, categories="A01")
    assert err.value.field == "categories"


def test_point_geometry_input_in_any_crs() -> None:
    frame = _incidents(50)
    gdf = gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]),
                           geometry=gpd.points_from_xy(frame["lon"], frame["lat"], crs="EPSG:4326")).to_crs(4548)
    lon, lat = incident_lonlat(gdf)
    np.testing.assert_allclose(lon, frame["lon"], atol=1e-9)
    np.testing.assert_allclose(lat, frame["lat"], atol=1e-9)
    with pytest.raises(InvalidInput):
        incident_lonlat(frame.drop(columns=["lon"]))


def test_cells_geodataframe_shapes() -> None:
    frame = _incidents(500)
    grid = CellSpec("grid", size_m=500.0)
    squares = cells_geodataframe(aggregate_incidents(frame, grid), grid, crs="EPSG:4548")
    np.testing.assert_allclose(squares.area, 250_000.0)
    assert shapely.contains_xy(squares.geometry.values, squares["x"], squares["y"]).all()
    hexes_spec = CellSpec("h3", resolution=8)
    hexes = cells_geodataframe(aggregate_incidents(frame, hexes_spec), hexes_spec)
    assert hexes.crs.equals("EPSG:4326")
    centres = [h3.cell_to_latlng(c) for c in hexes["cell_id"]]
    assert shapely.contains_xy(hexes.geometry.values, [c[1] for c in centres], [c[0] for c in centres]).all()


def test_spec_validation() -> None:
    with pytest.raises(InvalidInput):
        CellSpec("h3", resolution=16)
    with pytest.raises(InvalidInput):
        CellSpec("grid", size_m=0)
    with pytest.raises(InvalidInput):
        CellSpec("area")
