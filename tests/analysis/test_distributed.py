"""The dask path on a local two-worker cluster equals the in-memory path: hot spots (H3, grid, townships) and
emerging hot spots over a monthly GeoParquet dataset, with the same filters, cells, counts, z-scores and bins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask_geopandas
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from distributed import Client, LocalCluster

from gis_enforcement.analysis.aggregate import (
    CellSpec,
    aggregate_incidents,
    filter_incidents,
    grid_cell_ids,
    grid_index,
    project_lonlat,
)
from gis_enforcement.analysis.distributed import (
    cell_counts_distributed,
    read_incident_dataset,
    run_emerging_distributed,
    run_hotspots_distributed,
    space_time_cube_distributed,
)
from gis_enforcement.analysis.emerging import emerging_hot_spots
from gis_enforcement.analysis.hotspot_scale import choose_distance_band
from gis_enforcement.analysis.hotspots import HotspotResult, run_hotspots
from gis_enforcement.analysis.space_time import build_cube
from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage.parquet_export import write_incident_months

TZ = "Asia/Shanghai"
DISTRICT = shapely.box(116.9, 40.0, 117.4, 40.35)
TOWNS = gpd.GeoDataFrame({"code": ["T1", "T2", "T3", "T4"]}, crs=4326, geometry=[
    shapely.box(116.9, 40.0, 117.15, 40.175), shapely.box(117.15, 40.0, 117.4, 40.175),
    shapely.box(116.9, 40.175, 117.15, 40.35), shapely.box(117.15, 40.175, 117.4, 40.35)])


def _simulate(n: int = 4000, seed: int = 7) -> pd.DataFrame:
    """Background over the district, a hot spot that grows through the half year, one that fades."""
    rng = np.random.default_rng(seed)
    n_bg, n_hot = int(n * 0.7), n - int(n * 0.7)
    days = np.r_[rng.uniform(0, 181, n_bg), 181 * np.sqrt(rng.uniform(0, 1, n_hot // 2)),
                 181 * (1 - np.sqrt(rng.uniform(0, 1, n_hot - n_hot // 2)))]
    lon = np.r_[rng.uniform(116.95, 117.35, n_bg), rng.normal(117.12, 0.008, n_hot // 2),
                rng.normal(117.25, 0.008, n_hot - n_hot // 2)]
    lat = np.r_[rng.uniform(40.05, 40.30, n_bg), rng.normal(40.14, 0.006, n_hot // 2),
                rng.normal(40.22, 0.006, n_hot - n_hot // 2)]
    town = np.where(lat < 40.175, np.where(lon < 117.15, "T1", "T2"), np.where(lon < 117.15, "T3", "T4"))
    town = np.where(rng.uniform(size=n) < 0.02, None, town)  # a few incidents outside every township
    observed = pd.Timestamp("2026-01-01", tz=TZ) + pd.to_timedelta(np.round(days * 86400), unit="s")
    return pd.DataFrame({"lon": lon, "lat": lat, "category": rng.choice(["ENV-01", "ENV-02", "CON-01"], n),
                         "observed_at": observed.tz_convert("UTC"), "township_code": town,
                         "status": rng.choice(["reported", "closed"], n)})


@pytest.fixture(scope="module")
def incidents() -> pd.DataFrame:
    return _simulate()


@pytest.fixture(scope="module")
def dataset(incidents: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("incidents")
    report = write_incident_months(incidents, directory=directory)
    assert report.months == ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")
    return directory


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as c:
        yield c


def _assert_same_run(ours: HotspotResult, theirs: HotspotResult) -> None:
    a, b = ours.cells, theirs.cells
    assert a["cell_id"].tolist() == b["cell_id"].tolist()
    np.testing.assert_array_equal(a["count"].to_numpy(), b["count"].to_numpy())
    np.testing.assert_array_equal(a["neighbours"].to_numpy(), b["neighbours"].to_numpy())
    for column in ("x", "y", "z", "p", *(["pseudo_p"] if "pseudo_p" in b else [])):
        np.testing.assert_allclose(a[column].to_numpy(), b[column].to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_array_equal(a["gi_bin"].to_numpy(), b["gi_bin"].to_numpy())
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-9).all() and a.crs == b.crs
    assert ours.scale.distance_m == pytest.approx(theirs.scale.distance_m, abs=1e-9)
    assert ours.scale.method == theirs.scale.method
    assert dict(ours.summary) == dict(theirs.summary)
    assert {k: v for k, v in ours.parameters.items() if k != "distance_m"} == {
        k: v for k, v in theirs.parameters.items() if k != "distance_m"}


RUNS: list[dict[str, Any]] = [
    {"cell": "h3", "resolution": 9},
    {"cell": "h3", "resolution": 8, "boundary": DISTRICT, "permutations": 99, "seed": 3},
    {"cell": "grid", "size_m": 500.0, "boundary": DISTRICT},
    {"cell": "grid", "size_m": 1000.0, "fdr": False, "distance_m": 2500.0},
    {"cell": "township", "areas": TOWNS},
]


@pytest.mark.parametrize("kwargs", RUNS, ids=["h3-9", "h3-8-boundary-permutations", "grid-500-boundary",
                                                "grid-1000-given-band", "townships"])
def test_hotspots_equal_the_in_memory_run(client: Client, dataset: Path, incidents: pd.DataFrame,
                                          kwargs: dict[str, Any]) -> None:
    ours = run_hotspots_distributed(dataset, **kwargs)
    theirs = run_hotspots(incidents, **kwargs)
    _assert_same_run(ours, theirs)
    assert ours.summary["incidents"] == len(incidents)
    assert ours.summary["hot"] > 0 or kwargs["cell"] == "township"  # four townships are too few to stand out


def test_filters_are_respected_and_pushed_down(client: Client, dataset: Path, incidents: pd.DataFrame) -> None:
    filters: dict[str, Any] = {"categories": ["ENV-01", "CON-01"], "start": "2026-02-10", "end": "2026-05-01",
                               "townships": ["T1", "T2", "T4"], "statuses": "reported"}
    chosen = filter_incidents(incidents, **filters)
    assert 0 < len(chosen) < len(incidents) / 3
    read = read_incident_dataset(dataset, columns=["lon", "lat", "observed_at"], **filters).compute()
    assert len(read) == len(chosen)  # the reader drops exactly the rows the filters exclude
    for cell in ("grid", "h3"):
        ours = run_hotspots_distributed(dataset, cell=cell, **filters)  # type: ignore[arg-type]
        _assert_same_run(ours, run_hotspots(incidents, cell=cell, **filters))  # type: ignore[arg-type]
        assert ours.summary["incidents"] == len(chosen) == ours.cells["count"].sum()


def test_a_dask_geodataframe_without_lon_lat_gives_the_same_counts(client: Client, incidents: pd.DataFrame) -> None:
    points = gpd.GeoDataFrame(incidents.drop(columns=["lon", "lat"]),
                              geometry=gpd.points_from_xy(incidents["lon"], incidents["lat"], crs=4326))
    lazy = dask_geopandas.from_geopandas(points.to_crs(4548), npartitions=5)  # points reprojected back to WGS84
    spec = CellSpec("grid", size_m=500.0)
    ours = cell_counts_distributed(lazy, spec, categories="ENV-02")
    theirs = aggregate_incidents(incidents, spec, categories="ENV-02")
    assert ours["cell_id"].tolist() == theirs["cell_id"].tolist()
    np.testing.assert_array_equal(ours["count"].to_numpy(), theirs["count"].to_numpy())


def _emerging_in_memory(incidents: pd.DataFrame, spec: CellSpec, *, unit: str, width: int,
                        **filters: Any) -> tuple[Any, Any, pd.DataFrame]:
    """The in-memory path, with cell ids named independently: h3 called point by point, grid squares from the
    projected points."""
    chosen = filter_incidents(incidents, **filters)
    lon, lat = chosen["lon"].to_numpy(), chosen["lat"].to_numpy()
    if spec.kind == "h3":
        labels = [h3.latlng_to_cell(la, lo, spec.resolution) for lo, la in zip(lon, lat, strict=True)]
    else:
        labels = grid_cell_ids(*grid_index(*project_lonlat(lon, lat), float(spec.size_m or 0)))
    bound = {k: pd.Timestamp(filters[k], tz=TZ) for k in ("start", "end") if filters.get(k) is not None}
    cube = build_cube(labels, pd.to_datetime(chosen["observed_at"]).dt.tz_convert(TZ), unit=unit,  # type: ignore[arg-type]
                      width=width, **bound)
    cells = aggregate_incidents(chosen, spec)
    scale = choose_distance_band(cells["x"].to_numpy(), cells["y"].to_numpy(), cells["count"].to_numpy(float))
    return cube, emerging_hot_spots(cube, cells["x"].to_numpy(), cells["y"].to_numpy(),
                                    distance_m=scale.distance_m), cells


@pytest.mark.parametrize(("cell", "unit", "width", "filters"), [
    ("h3", "month", 1, {}),
    ("grid", "day", 14, {"categories": ["ENV-01", "ENV-02"], "start": "2026-01-15", "end": "2026-06-01"}),
    ("h3", "week", 2, {"start": "2026-01-05", "end": "2026-03-30"}),
])
def test_emerging_hot_spots_equal_the_in_memory_path(client: Client, dataset: Path, incidents: pd.DataFrame,
                                                     cell: str, unit: str, width: int, filters: dict[str, Any]) -> None:
    spec = CellSpec("h3", resolution=8) if cell == "h3" else CellSpec("grid", size_m=500.0)
    cube, theirs, cells = _emerging_in_memory(incidents, spec, unit=unit, width=width, **filters)
    run = run_emerging_distributed(dataset, cell=cell, unit=unit, width=width, **filters)  # type: ignore[arg-type]
    assert run.cube.cell_ids.tolist() == cube.cell_ids.tolist() == cells["cell_id"].tolist()
    assert run.cube.bin_edges.equals(cube.bin_edges) and run.cube.n_outside == cube.n_outside == 0
    np.testing.assert_array_equal(run.cube.counts, cube.counts)
    assert run.cube.counts.sum() == len(filter_incidents(incidents, **filters))
    np.testing.assert_allclose(run.cells[["x", "y"]].to_numpy(), cells[["x", "y"]].to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(run.emerging.z, theirs.z, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(run.emerging.status, theirs.status)
    pd.testing.assert_frame_equal(run.emerging.table, theirs.table, check_exact=False, rtol=0, atol=1e-9)
    assert run.emerging.bin_starts is not None and run.emerging.bin_starts.equals(cube.bin_starts)
    if cell == "h3":
        assert run.cube.n_bins == 6 and (run.emerging.table["category"] != "no pattern").sum() > 0


def test_cube_with_a_boundary_keeps_empty_cells(client: Client, dataset: Path, incidents: pd.DataFrame) -> None:
    cube, cells = space_time_cube_distributed(dataset, cell="grid", size_m=1000.0, boundary=DISTRICT)
    inside = aggregate_incidents(incidents, CellSpec("grid", size_m=1000.0), boundary=DISTRICT)
    assert cube.cell_ids.tolist() == inside["cell_id"].tolist() == cells["cell_id"].tolist()
    np.testing.assert_array_equal(cube.counts.sum(axis=1), inside["count"].to_numpy())
    assert (cube.counts.sum(axis=1) == 0).any()


def test_bad_input_names_the_field(client: Client, dataset: Path, tmp_path: Path) -> None:
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (tmp_path / "nothing-here", {}, "incidents"),
        (dataset, {"start": "2026-05-01", "end": "2026-04-01"}, "end"),
        (dataset, {"start": "not a date"}, "start"),
        (dataset, {"categories": ["NO-SUCH"]}, "incidents"),
        (dataset, {"cell": "hexagons"}, "cell"),
        (dataset, {"permutations": -1}, "permutations"),
        (dataset, {"distance_m": -5.0}, "distance_m"),
        (pd.DataFrame({"lon": [117.0], "lat": [40.1]}), {}, "incidents"),
    ]
    for source, kwargs, field in cases:
        with pytest.raises(InvalidInput) as error:
            run_hotspots_distributed(source, **kwargs)
        assert error.value.field == field, (kwargs, error.value)
    no_status = tmp_path / "no-status"
    write_incident_months(_simulate(50).drop(columns=["status"]), directory=no_status)
    with pytest.raises(InvalidInput) as missing:
        run_hotspots_distributed(no_status, statuses=["reported"])
    assert missing.value.field == "statuses"
    with pytest.raises(InvalidInput) as areas:
        run_emerging_distributed(dataset, cell="township")
    assert areas.value.field == "cell"


def test_incidents_outside_the_district_can_be_left_out(client: Client, dataset: Path,
                                                        incidents: pd.DataFrame) -> None:
    # a dataset carries no flags: outside every township an incident has no township_code
    outside = int(incidents["township_code"].isna().sum())
    assert outside > 0
    ours = run_hotspots_distributed(dataset, cell="grid", size_m=1000.0, boundary=DISTRICT, inside_district=True)
    theirs = run_hotspots(incidents[incidents["township_code"].notna()], cell="grid", size_m=1000.0,
                          boundary=DISTRICT)
    assert ours.summary["outside_district"] == outside and ours.summary["incidents"] == len(incidents) - outside
    assert any(f"{outside} incident(s) outside the district left out" in w for w in ours.summary["warnings"])
    np.testing.assert_array_equal(ours.cells["count"].to_numpy(), theirs.cells["count"].to_numpy())
    np.testing.assert_allclose(ours.cells["z"].to_numpy(), theirs.cells["z"].to_numpy(), rtol=0, atol=1e-9)
    with pytest.raises(InvalidInput) as no_codes:
        run_hotspots_distributed(dask_geopandas.from_geopandas(gpd.GeoDataFrame(
            incidents[["lon", "lat"]], geometry=gpd.points_from_xy(incidents["lon"], incidents["lat"], crs=4326)),
            npartitions=2), cell="grid", inside_district=True)
    assert no_codes.value.field == "township_code"
