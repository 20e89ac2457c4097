"""Counting incidents per cell for hot-spot analysis: H3 hexagons, a square grid in metres, or townships/villages.

Input is a pandas DataFrame with ``lon``/``lat`` (WGS84) or a GeoDataFrame of points, plus the columns the
filters read (``category``, ``observed_at`` — or ``reported_at`` —, ``township_code``, ``status``). Output is one
row per cell: ``cell_id``, ``count`` and the cell's centroid ``x``/``y`` in EPSG:4548 (metres), which is what the
distance-band weights need; :func:`cells_geodataframe` adds the cell polygons.

- **H3**: cells of ``h3.latlng_to_cell`` at the run's resolution, ids as h3 strings, counted by the numpy
  point → (face, i, j) engine of :mod:`.h3_cells` (one h3 call per distinct cell, ids exactly h3's;
  :func:`h3_cells` is re-exported here).
- **Grid**: lattice squares of ``size_m`` anchored at the origin of EPSG:4548, cell ``(col, row) =
  (floor(x / size), floor(y / size))``, id ``"{col}_{row}"`` — the same lattice as the management grid of
  :mod:`gis_enforcement.layers.grid`. Counted with one ``np.bincount``.
- **Areas**: by an existing code column (``township_code``, ``village_code``); centroids from the area polygons
  when given, else the mean position of the area's incidents.

Empty cells: Esri's Optimized Hot Spot Analysis counts zeros in the fishnet or hexagon cells inside the
bounding polygon of where incidents could occur. Passing ``boundary`` does the same here: every grid square whose
centre lies inside it, every H3 cell whose centre lies inside it (``h3.geo_to_cells``), and with ``areas`` every
area, is kept with count 0. Cells with incidents are always kept, even outside the boundary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

import geopandas as gpd
import h3
import h3.api.basic_int as h3_int
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from gis_enforcement.analysis.h3_cells import h3_cell_counts as _h3_cell_counts
from gis_enforcement.analysis.h3_cells import h3_cells as h3_cells
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.projection import METRIC_CRS, WGS84, LocalProjection, reproject, transformer

TIMEZONE = "Asia/Shanghai"
CellKind = Literal["h3", "grid", "area"]
#: a dense (col, row) counting table larger than this falls back to sorting
_DENSE_GRID_LIMIT = 20_000_000
#: the most cells a boundary is filled with: the district in H3 at resolution 9 is ~9 000, at 10 ~63 000, at 15
#: ~10^9 (hours and gigabytes for one request)
MAX_BOUNDARY_CELLS = 50_000


@dataclass(frozen=True)
class CellSpec:
    """How incidents are gathered into cells: ``kind`` ``"h3"`` (with ``resolution`` 0–15), ``"grid"`` (with
    ``size_m``), or ``"area"`` (with ``code_column``, e.g. ``township_code``)."""

    kind: CellKind
    resolution: int | None = None
    size_m: float | None = None
    code_column: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "h3":
            if not isinstance(self.resolution, int | np.integer) or not 0 <= self.resolution <= 15:
                raise InvalidInput("an H3 resolution is a whole number from 0 to 15", field="resolution")
        elif self.kind == "grid":
            if self.size_m is None or not np.isfinite(self.size_m) or self.size_m <= 0:
                raise InvalidInput("a grid cell size must be a positive number of metres", field="size_m")
        elif self.kind == "area":
            if not self.code_column:
                raise InvalidInput("areas need the name of their code column", field="code_column")
        else:
            raise InvalidInput(f"unknown cell kind {self.kind!r}; use h3, grid or area", field="cell")


# ---------------------------------------------------------------------------------------------- filters


def _as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def _timestamp(value: datetime | str | pd.Timestamp, column: pd.Series, field: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"not a date or time: {value!r}", field=field) from exc
    column_tz = getattr(column.dt, "tz", None)
    if column_tz is not None and ts.tzinfo is None:
        return ts.tz_localize(TIMEZONE)  # a time without offset is Beijing time, as at intake
    if column_tz is None and ts.tzinfo is not None:
        return ts.tz_convert(TIMEZONE).tz_localize(None)
    return ts


def time_column_of(incidents: pd.DataFrame) -> str | None:
    """The column holding when an incident happened: ``observed_at`` (as stored), else ``reported_at``."""
    for name in ("observed_at", "reported_at"):
        if name in incidents.columns:
            return name
    return None


def filter_incidents(
    incidents: pd.DataFrame,
    *,
    categories: str | Iterable[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    townships: str | Iterable[str] | None = None,
    statuses: str | Iterable[str] | None = None,
    time_column: str | None = None,
) -> pd.DataFrame:
    """Rows of ``incidents`` matching every filter given: category in ``categories``, time in ``[start, end)``
    (``time_column``, default ``observed_at`` or ``reported_at``; a time without offset is Asia/Shanghai),
    ``township_code`` in ``townships``, ``status`` in ``statuses``. One boolean mask; a filter on a missing
    column raises :class:`InvalidInput` naming it, as does ``start`` not before ``end``."""
    mask = np.ones(len(incidents), dtype=bool)
    for column, wanted, field in (("category", categories, "categories"), ("township_code", townships, "townships"),
                                  ("status", statuses, "statuses")):
        values = _as_tuple(wanted)
        if values is None:
            continue
        if column not in incidents.columns:
            raise InvalidInput(f"incidents have no {column} column to filter on", field=field)
        mask &= incidents[column].isin(values).to_numpy()
    if start is not None or end is not None:
        when = time_column or time_column_of(incidents)
        if when is None or when not in incidents.columns:
            raise InvalidInput("incidents have no time column (observed_at or reported_at)", field="start")
        times = pd.to_datetime(incidents[when])
        lo = _timestamp(start, times, "start") if start is not None else None
        hi = _timestamp(end, times, "end") if end is not None else None
        if lo is not None and hi is not None and not lo < hi:
            raise InvalidInput("the period must start before it ends", field="end")
        if lo is not None:
            mask &= (times >= lo).to_numpy()
        if hi is not None:
            mask &= (times < hi).to_numpy()
    return incidents if mask.all() else incidents.loc[mask]


# ---------------------------------------------------------------------------------------------- coordinates


def incident_lonlat(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude and latitude arrays of the incidents: the ``lon``/``lat`` columns when present, else the
    point geometry of a GeoDataFrame (reprojected to EPSG:4326 if it is in another CRS). Raises
    :class:`InvalidInput` for missing or non-finite coordinates."""
    if "lon" in incidents.columns and "lat" in incidents.columns:
        lon = incidents["lon"].to_numpy(dtype=float)
        lat = incidents["lat"].to_numpy(dtype=float)
    elif isinstance(incidents, gpd.GeoDataFrame) and incidents.geometry.name in incidents.columns:
        geoms = incidents.geometry
        if geoms.crs is not None and not geoms.crs.equals(WGS84):
            geoms = geoms.to_crs(WGS84)
        if len(geoms) and not (shapely.get_type_id(geoms.values) == 0).all():
            raise InvalidInput("incident geometries must be points", field="geometry")
        lon, lat = shapely.get_x(geoms.values), shapely.get_y(geoms.values)
    else:
        raise InvalidInput("incidents need lon/lat columns or point geometry", field="lon")
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise InvalidInput("incident coordinates must be finite numbers", field="lon")
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


@lru_cache(maxsize=8)
def _projection(box: tuple[float, float, float, float]) -> LocalProjection:
    return LocalProjection(box)


def project_lonlat(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 lon/lat to EPSG:4548 metres, through the locator's checked polynomial (sub-millimetre, about five
    times faster than pyproj) over the data's extent rounded out to 0.1°, pyproj outside it."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if lon.size == 0:
        return np.empty(0), np.empty(0)
    box = (float(np.floor(lon.min() * 10) / 10), float(np.floor(lat.min() * 10) / 10),
           float(np.ceil(lon.max() * 10) / 10), float(np.ceil(lat.max() * 10) / 10))
    if box[2] - box[0] > 3 or box[3] - box[1] > 3:  # far beyond a district: plain pyproj
        x, y = transformer(WGS84, METRIC_CRS).transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return _projection(box).forward(lon, lat)


def boundary_geometry(boundary: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame) -> BaseGeometry:
    """One shapely (multi)polygon in EPSG:4326 from a geometry (taken to be WGS84) or a GeoSeries/GeoDataFrame
    (reprojected to WGS84 and unioned)."""
    if isinstance(boundary, gpd.GeoDataFrame | gpd.GeoSeries):
        series = boundary.geometry if isinstance(boundary, gpd.GeoDataFrame) else boundary
        if series.crs is not None and not series.crs.equals(WGS84):
            series = series.to_crs(WGS84)
        geom = shapely.union_all(series.values)
    elif isinstance(boundary, BaseGeometry):
        geom = boundary
    else:
        raise InvalidInput("the boundary must be a polygon or a GeoSeries/GeoDataFrame of polygons", field="boundary")
    if geom.is_empty or shapely.get_type_id(geom) not in (3, 6):
        raise InvalidInput("the boundary must be a non-empty polygon or multipolygon", field="boundary")
    return geom


# ---------------------------------------------------------------------------------------------- aggregation


def _cells_frame(cell_id: list[str] | np.ndarray, count: np.ndarray, x: np.ndarray, y: np.ndarray,
                 **extra: Any) -> pd.DataFrame:
    frame = pd.DataFrame({"cell_id": np.asarray(cell_id, dtype=object), "count": np.asarray(count, dtype=np.int64),
                          "x": np.asarray(x, dtype=float), "y": np.asarray(y, dtype=float), **extra})
    return frame.sort_values("cell_id", kind="stable", ignore_index=True)


def _fillable(cells: float, field: str) -> None:
    """Refuse a fill of the boundary with more than :data:`MAX_BOUNDARY_CELLS` cells, before it is made."""
    if cells > MAX_BOUNDARY_CELLS:
        raise InvalidInput(f"the area holds about {cells:,.0f} cells of this size, more than {MAX_BOUNDARY_CELLS:,}: "
                           "choose larger cells or fewer townships", field=field)


def aggregate_h3(lon: np.ndarray, lat: np.ndarray, resolution: int, *,
                 boundary: BaseGeometry | None = None) -> pd.DataFrame:
    """Incident counts per H3 cell at ``resolution``: columns ``cell_id`` (h3 string), ``count``, ``x``/``y``
    (cell centre in EPSG:4548). With ``boundary`` (EPSG:4326), cells whose centre lies inside it are kept
    with count 0 too."""
    CellSpec("h3", resolution=resolution)
    ids, counts = _h3_cell_counts(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), resolution)
    if boundary is not None:
        area = boundary_geometry(boundary)
        metric = reproject(np.array([area], dtype=object))[0]
        _fillable(metric.area / h3.average_hexagon_area(resolution, unit="m^2"), "resolution")
        inside = np.array([h3.str_to_int(c) for c in h3.geo_to_cells(area, resolution)], dtype=np.uint64)
        empty = np.setdiff1d(inside, ids)
        ids = np.concatenate([ids, empty])
        counts = np.concatenate([counts, np.zeros(len(empty), dtype=counts.dtype)])
    names = [h3_int.int_to_str(int(c)) for c in ids]
    centres = np.array([h3_int.cell_to_latlng(int(c)) for c in ids], dtype=float).reshape(-1, 2)
    x, y = project_lonlat(centres[:, 1], centres[:, 0])
    return _cells_frame(names, counts, x, y)


def grid_index(x: np.ndarray, y: np.ndarray, size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Lattice column and row (int64) of points in EPSG:4548 metres: ``floor(x / size_m)``, ``floor(y / size_m)``."""
    return (np.floor(np.asarray(x, dtype=float) / size_m).astype(np.int64),
            np.floor(np.asarray(y, dtype=float) / size_m).astype(np.int64))


def grid_cell_ids(col: np.ndarray, row: np.ndarray) -> list[str]:
    """Ids ``"{col}_{row}"`` of lattice squares."""
    return [f"{c}_{r}" for c, r in zip(np.asarray(col).tolist(), np.asarray(row).tolist(), strict=True)]


def aggregate_grid(x: np.ndarray, y: np.ndarray, size_m: float, *,
                   boundary: BaseGeometry | None = None) -> pd.DataFrame:
    """Incident counts per lattice square of ``size_m`` metres for points ``(x, y)`` in EPSG:4548: columns
    ``cell_id`` (``"{col}_{row}"``), ``count``, ``x``/``y`` (square centre), ``col``, ``row``. With ``boundary``
    (EPSG:4326), every square whose centre lies inside it is kept, with count 0 when empty."""
    CellSpec("grid", size_m=size_m)
    col, row = grid_index(x, y, size_m)
    cells_col: np.ndarray
    cells_row: np.ndarray
    counts: np.ndarray
    if col.size:
        c0, r0 = int(col.min()), int(row.min())
        width, height = int(col.max()) - c0 + 1, int(row.max()) - r0 + 1
        if width * height <= _DENSE_GRID_LIMIT:
            dense = np.bincount((col - c0) * height + (row - r0), minlength=width * height)
            occupied = np.flatnonzero(dense)
            cells_col, cells_row, counts = occupied // height + c0, occupied % height + r0, dense[occupied]
        else:
            keys, counts = np.unique(np.column_stack([col, row]), axis=0, return_counts=True)
            cells_col, cells_row = keys[:, 0], keys[:, 1]
    else:
        cells_col = cells_row = counts = np.empty(0, dtype=np.int64)
    if boundary is not None:
        area = reproject(np.array([boundary_geometry(boundary)], dtype=object))[0]
        minx, miny, maxx, maxy = area.bounds
        _fillable((np.floor(maxx / size_m) - np.floor(minx / size_m) + 1)
                  * (np.floor(maxy / size_m) - np.floor(miny / size_m) + 1), "size_m")
        lattice = np.meshgrid(np.arange(np.floor(minx / size_m), np.floor(maxx / size_m) + 1, dtype=np.int64),
                              np.arange(np.floor(miny / size_m), np.floor(maxy / size_m) + 1, dtype=np.int64))
        bc, br = lattice[0].ravel(), lattice[1].ravel()
        shapely.prepare(area)
        inside = shapely.contains_xy(area, (bc + 0.5) * size_m, (br + 0.5) * size_m)
        bc, br = bc[inside], br[inside]
        known = pd.MultiIndex.from_arrays([cells_col, cells_row])
        new = ~pd.MultiIndex.from_arrays([bc, br]).isin(known)
        cells_col = np.concatenate([cells_col, bc[new]])
        cells_row = np.concatenate([cells_row, br[new]])
        counts = np.concatenate([counts, np.zeros(int(new.sum()), dtype=np.int64)])
    return _cells_frame(grid_cell_ids(cells_col, cells_row), counts, (cells_col + 0.5) * size_m,
                        (cells_row + 0.5) * size_m, col=cells_col.astype(np.int64), row=cells_row.astype(np.int64))


def aggregate_areas(codes: np.ndarray, x: np.ndarray, y: np.ndarray, *, areas: gpd.GeoDataFrame | None = None,
                    code_column: str = "code") -> pd.DataFrame:
    """Incident counts per area code (township, village): columns ``cell_id`` (the code), ``count``, ``x``/``y``.
    With ``areas`` (polygons with a ``code_column``), every area is listed — zero when it has no incident — and
    ``x``/``y`` are its polygon centroid in EPSG:4548; incidents whose code is not among the areas are refused.
    Without it, only codes that occur, located at the mean position of their incidents. Missing codes (NaN) are
    dropped: an incident outside every township has no area to count in."""
    codes_s = pd.Series(np.asarray(codes, dtype=object))
    keep = codes_s.notna().to_numpy()
    frame = pd.DataFrame({"code": codes_s[keep].astype(str).to_numpy(), "x": np.asarray(x)[keep],
                          "y": np.asarray(y)[keep]})
    grouped = frame.groupby("code", sort=True).agg(count=("x", "size"), x=("x", "mean"), y=("y", "mean"))
    if areas is None:
        return _cells_frame(grouped.index.to_numpy(), grouped["count"].to_numpy(), grouped["x"].to_numpy(),
                            grouped["y"].to_numpy())
    if code_column not in areas.columns:
        raise InvalidInput(f"the areas have no {code_column} column", field="code_column")
    area_codes = areas[code_column].astype(str).to_numpy()
    if pd.Index(area_codes).has_duplicates:
        raise InvalidInput(f"area codes in {code_column} must be unique", field="areas")
    unknown = grouped.index.difference(pd.Index(area_codes))
    if len(unknown):
        raise InvalidInput(f"incidents name areas that are not in the layer: {', '.join(unknown[:5])}",
                           field=code_column)
    geoms = areas.geometry.to_crs(METRIC_CRS) if areas.crs is not None else areas.geometry.set_crs(WGS84).to_crs(
        METRIC_CRS)
    centroids = shapely.centroid(geoms.values)
    counts = grouped["count"].reindex(area_codes, fill_value=0).to_numpy()
    return _cells_frame(area_codes, counts, shapely.get_x(centroids), shapely.get_y(centroids))


def aggregate_incidents(
    incidents: pd.DataFrame,
    spec: CellSpec,
    *,
    areas: gpd.GeoDataFrame | None = None,
    boundary: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    **filters: Any,
) -> pd.DataFrame:
    """Filter the incidents (keyword arguments of :func:`filter_incidents`) and count them per cell of ``spec``:
    one row per cell with ``cell_id``, ``count``, ``x``, ``y`` (EPSG:4548), sorted by ``cell_id``. ``boundary``
    adds the empty cells inside the study area (H3 and grid); ``areas`` gives townships or villages their
    polygons, centroids and zero rows. The counts sum to the number of filtered incidents (for areas: those with
    a code)."""
    chosen = filter_incidents(incidents, **filters)
    lon, lat = incident_lonlat(chosen)
    if spec.kind == "h3":
        assert spec.resolution is not None
        return aggregate_h3(lon, lat, int(spec.resolution),
                            boundary=boundary_geometry(boundary) if boundary is not None else None)
    x, y = project_lonlat(lon, lat)
    if spec.kind == "grid":
        assert spec.size_m is not None
        return aggregate_grid(x, y, float(spec.size_m),
                              boundary=boundary_geometry(boundary) if boundary is not None else None)
    assert spec.code_column is not None
    if spec.code_column not in chosen.columns:
        raise InvalidInput(f"incidents have no {spec.code_column} column", field="cell")
    return aggregate_areas(chosen[spec.code_column].to_numpy(), x, y, areas=areas,
                           code_column=_area_code_column(areas, spec.code_column))


def _area_code_column(areas: gpd.GeoDataFrame | None, incident_column: str) -> str:
    """The layer's code column: ``code`` as in the layer tables, else the incidents' own column name."""
    if areas is None or "code" in areas.columns:
        return "code"
    return incident_column


def cells_geodataframe(cells: pd.DataFrame, spec: CellSpec, *, areas: gpd.GeoDataFrame | None = None,
                       crs: str = WGS84) -> gpd.GeoDataFrame:
    """The cells of an aggregation as a GeoDataFrame with their polygons in ``crs`` (WGS84 by default, as stored
    and mapped): H3 hexagons from ``h3.cell_to_boundary`` (one call per cell), grid squares built in EPSG:4548
    and reprojected, area polygons looked up by code in ``areas`` (points at ``x``/``y`` when no layer is
    given)."""
    frame = cells.reset_index(drop=True)
    if spec.kind == "h3":
        rings = [h3.cell_to_boundary(c) for c in frame["cell_id"]]
        # h3 gives (lat, lng) vertices; shapely wants (lng, lat)
        polys = [shapely.Polygon([(lng, lat) for lat, lng in ring]) for ring in rings]
        out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(polys, crs=WGS84))
    elif spec.kind == "grid":
        assert spec.size_m is not None
        size = float(spec.size_m)
        col, row = frame["col"].to_numpy(), frame["row"].to_numpy()
        boxes = shapely.box(col * size, row * size, (col + 1) * size, (row + 1) * size)
        out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(boxes, crs=METRIC_CRS))
    elif areas is not None:
        code_column = _area_code_column(areas, spec.code_column or "code")
        layer = areas.set_crs(WGS84) if areas.crs is None else areas
        lookup = layer.set_index(layer[code_column].astype(str)).geometry
        out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(lookup.reindex(frame["cell_id"]).values,
                                                             crs=layer.crs))
    else:
        out = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["x"], frame["y"], crs=METRIC_CRS))
    return out.to_crs(crs) if out.crs is not None and not out.crs.equals(crs) else out
