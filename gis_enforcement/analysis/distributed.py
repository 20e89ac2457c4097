"""Hot spots and emerging hot spots of incident datasets larger than memory, on dask (a ``dask.distributed`` cluster).

The analyses split into a part that grows with the incidents and a part that grows only with the cells:

- **map**, per partition of the incidents, with the same pure functions as the in-memory path
  (:func:`~.aggregate.filter_incidents`, :func:`~.aggregate.incident_lonlat`, :func:`~.aggregate.project_lonlat`,
  :func:`~.h3_cells.h3_cell_counts`, :func:`~.aggregate.grid_index`): incidents → (cell → count) and, for the
  space-time cube, ((cell, time bin) → count);
- **reduce**: those small tables are summed by a dask group-by (a tree reduction on the workers), so only the
  summed table reaches the driver;
- **in memory**, on the driver: the cell table and the cube go through the in-memory functions themselves —
  cell ids, centres and empty cells from :func:`~.aggregate.aggregate_h3` / ``aggregate_grid`` /
  ``aggregate_areas`` (called on one point per cell), then :func:`~.hotspot_scale.choose_distance_band`,
  :func:`~.gi_star.distance_band_weights`, :func:`~.gi_star.gi_star_z`, :func:`~.fdr.classify_confidence` and
  :func:`~.emerging.emerging_hot_spots`. This part stays in memory because it is small whatever the number of
  incidents: Beijing's 16,410 km² hold about 22,000 H3 cells at resolution 8, 66,000 squares of 500 m, 156,000
  H3 cells at resolution 9; a 12-month cube of the 500 m grid is 0.8 M numbers. Gi* needs every cell's
  neighbours, which a partition by month does not hold, and the distance band is chosen from all cells.

The results equal the in-memory path (:func:`~.hotspots.run_hotspots`; :func:`~.space_time.build_cube` +
:func:`~.emerging.emerging_hot_spots`): the same cell ids, counts, centres, z-scores, bins and categories. One
detail makes that exact: :func:`~.aggregate.project_lonlat` fits its polynomial over the data's extent, so a
first pass over the partitions (only the columns the filters and coordinates need) finds the extent of the
filtered incidents, and every partition is projected over that same box. The same pass gives the time extent
for the default window of the cube. Area cells (townships, villages) without polygons sit at the mean position
of their incidents, which summing by partitions reproduces to floating-point rounding only (~1e-10 m).

Inputs are a dask DataFrame (dask-geopandas included: points from ``lon``/``lat`` columns, else the geometry) or
the path of a (Geo)Parquet dataset, such as the monthly one :mod:`gis_enforcement.storage.parquet_export`
writes: then only the columns needed are read and the filters on time, category, township and status are also
given to the Parquet reader, so files and row groups whose statistics exclude them are skipped. Everything runs
on the current dask scheduler: the active ``distributed.Client`` if there is one, else dask's threads.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, cast

import dask.dataframe as dd
import geopandas as gpd
import h3.api.basic_int as h3_int
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
from shapely.geometry.base import BaseGeometry

from gis_enforcement.analysis.aggregate import (
    TIMEZONE,
    CellSpec,
    aggregate_areas,
    aggregate_grid,
    aggregate_h3,
    boundary_geometry,
    filter_incidents,
    grid_cell_ids,
    time_column_of,
)
from gis_enforcement.analysis.emerging import EmergingHotSpots, emerging_hot_spots
from gis_enforcement.analysis.hotspot_scale import ScaleChoice, choose_distance_band
from gis_enforcement.analysis.hotspots import (
    CellName,
    HotspotResult,
    cell_spec,
    hotspots_from_counts,
    json_ready,
    with_outside_district,
)
from gis_enforcement.analysis.partition_counts import (
    EXTENT_META,
    NO_TIME,
    Box,
    cell_counts_meta,
    cube_counts_meta,
    key_columns,
    partition_cell_counts,
    partition_cube_counts,
    partition_extent,
)
from gis_enforcement.analysis.space_time import BinUnit, SpaceTimeCube, build_cube
from gis_enforcement.errors import InvalidInput

IncidentSource = dd.DataFrame | str | os.PathLike[str]
#: filter argument → the column it reads
FILTER_COLUMNS = MappingProxyType({"categories": "category", "townships": "township_code", "statuses": "status"})
#: partial tables summed per group of this many partitions at each level of the reduction tree
SPLIT_EVERY = 8


# ---------------------------------------------------------------------------------------------- sources


def _beijing(value: Any, *, aware: bool, field: str) -> pd.Timestamp:
    """A filter time as :func:`~.aggregate.filter_incidents` reads it against a column with (``aware``) or
    without a time zone: a time without offset is Beijing time."""
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"not a date or time: {value!r}", field=field) from exc
    if aware:
        return ts.tz_localize(TIMEZONE) if ts.tzinfo is None else ts
    return ts.tz_convert(TIMEZONE).tz_localize(None) if ts.tzinfo is not None else ts


def _pushdown(schema: pa.Schema, filters: dict[str, Any]) -> list[tuple[str, str, Any]] | None:
    """The filters as pyarrow predicates, for the columns the dataset has (the others are checked later)."""
    out: list[tuple[str, str, Any]] = []
    for key, column in FILTER_COLUMNS.items():
        values = filters.get(key)
        if values is not None and column in schema.names:
            out.append((column, "in", [values] if isinstance(values, str) else list(values)))
    when = next((c for c in ("observed_at", "reported_at") if c in schema.names), None)
    kind = schema.field(when).type if when else None
    if when and isinstance(kind, pa.TimestampType):
        for key, op in (("start", ">="), ("end", "<")):
            if filters.get(key) is not None:
                out.append((when, op, _beijing(filters[key], aware=kind.tz is not None, field=key)))
    return out or None


def _dataset_schema(path: str | os.PathLike[str]) -> pa.Schema:
    if not os.path.exists(path):
        raise InvalidInput(f"no incident dataset at {os.fspath(path)}", field="incidents")
    try:
        return pads.dataset(path, format="parquet", partitioning="hive").schema
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"not a Parquet dataset: {os.fspath(path)} ({exc})", field="incidents") from exc


def read_incident_dataset(
    path: str | os.PathLike[str],
    *,
    columns: Iterable[str] | None = None,
    categories: str | Iterable[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    townships: str | Iterable[str] | None = None,
    statuses: str | Iterable[str] | None = None,
) -> dd.DataFrame:
    """A lazy dask DataFrame over a Parquet dataset of incidents (a file, or a directory such as the monthly
    ``month=YYYY-MM/`` partitions of :mod:`gis_enforcement.storage.parquet_export`): only ``columns`` are read
    (default: all), a dask-geopandas GeoDataFrame when they include ``geometry``; the filters (as in
    :func:`~.aggregate.filter_incidents`) are handed to the Parquet reader, which skips files and row groups
    whose statistics exclude them and drops the rows they exclude. Raises :class:`InvalidInput` for a path that
    does not exist or holds no Parquet data, and for columns the dataset does not have."""
    schema = _dataset_schema(path)
    wanted = list(schema.names) if columns is None else list(dict.fromkeys(columns))
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        raise InvalidInput(f"the incident dataset has no {missing[0]} column", field=missing[0])
    filters = {"categories": categories, "start": start, "end": end, "townships": townships, "statuses": statuses}
    predicates = _pushdown(schema, filters)
    if "geometry" in wanted:
        import dask_geopandas  # imported here: only a dataset without lon/lat needs it

        return dask_geopandas.read_parquet(path, columns=wanted, filters=predicates)
    return dd.read_parquet(path, columns=wanted, filters=predicates)


def _columns_needed(available: Iterable[str], spec: CellSpec, filters: dict[str, Any], times: bool) -> list[str]:
    names = list(available)
    needed = ["lon", "lat"] if "lon" in names and "lat" in names else ["geometry"]
    if needed == ["geometry"] and "geometry" not in names:
        raise InvalidInput("incidents need lon/lat columns or point geometry", field="lon")
    needed += [FILTER_COLUMNS[k] for k in FILTER_COLUMNS if filters.get(k) is not None]
    if times or filters.get("start") is not None or filters.get("end") is not None:
        needed += [c for c in ("observed_at", "reported_at") if c in names][:1]
    if spec.kind == "area" and spec.code_column:
        needed.append(spec.code_column)
    return [c for c in dict.fromkeys(needed) if c in names]


def _incident_frame(source: IncidentSource, spec: CellSpec, filters: dict[str, Any], *,
                    times: bool = False, extra: tuple[str, ...] = ()) -> dd.DataFrame:
    """The incidents as a dask DataFrame of the columns the run reads (and those of ``extra`` the source has),
    the filters checked on its (empty) ``_meta`` so a bad filter fails here, naming its field, and not inside a
    worker."""
    if isinstance(source, str | os.PathLike):
        names = _dataset_schema(source).names
        columns = _columns_needed(names, spec, filters, times) + [c for c in extra if c in names]
        frame = read_incident_dataset(source, columns=list(dict.fromkeys(columns)), **filters)
    elif isinstance(source, dd.DataFrame):
        columns = _columns_needed(source.columns, spec, filters, times) + [c for c in extra if c in source.columns]
        frame = source[list(dict.fromkeys(columns))]
    else:
        raise InvalidInput("incidents must be a dask DataFrame or the path of a Parquet dataset", field="incidents")
    meta = frame._meta
    filter_incidents(meta, **filters)
    if spec.kind == "area" and spec.code_column not in meta.columns:
        raise InvalidInput(f"incidents have no {spec.code_column} column", field="cell")
    if times and time_column_of(meta) is None:
        raise InvalidInput("incidents have no time column (observed_at or reported_at)", field="times")
    return frame


# ---------------------------------------------------------------------------------------------- reduce


@dataclass(frozen=True)
class _Extent:
    n: int
    box: Box | None
    t_min: pd.Timestamp | None
    t_max: pd.Timestamp | None


def _extent(frame: dd.DataFrame, filters: dict[str, Any], *, times: bool) -> _Extent:
    """First pass: how many incidents pass the filters, their lon/lat box and time extent (Beijing time)."""
    rows = frame.map_partitions(partition_extent, filters, times, meta=EXTENT_META).compute()
    n = int(rows["n"].sum())
    if n == 0:
        raise InvalidInput("no incident matches the filters", field="incidents")
    if times and int(rows["no_time"].sum()):
        raise InvalidInput(f"{int(rows['no_time'].sum())} incident(s) have no time", field="times")
    box = (float(rows["lon_min"].min()), float(rows["lat_min"].min()), float(rows["lon_max"].max()),
           float(rows["lat_max"].max()))
    if not times:
        return _Extent(n=n, box=box, t_min=None, t_max=None)
    t_min = pd.Timestamp(int(rows.loc[rows["t_min"] != NO_TIME, "t_min"].min()), tz="UTC").tz_convert(TIMEZONE)
    t_max = pd.Timestamp(int(rows.loc[rows["t_max"] != NO_TIME, "t_max"].max()), tz="UTC").tz_convert(TIMEZONE)
    return _Extent(n=n, box=box, t_min=t_min, t_max=t_max)


def _summed(partials: dd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Reduce: the partial count tables summed per key by a dask group-by (a tree of ``SPLIT_EVERY`` partitions
    per step), computed; one row per key."""
    totals = partials.groupby(keys, sort=False).sum(split_every=SPLIT_EVERY).compute()
    return cast(pd.DataFrame, totals).reset_index()


def _cell_names(spec: CellSpec, totals: pd.DataFrame) -> np.ndarray:
    if spec.kind == "h3":
        return np.array([h3_int.int_to_str(int(c)) for c in totals["h3"]], dtype=object)
    if spec.kind == "grid":
        return np.asarray(grid_cell_ids(totals["col"].to_numpy(), totals["row"].to_numpy()), dtype=object)
    return totals["code"].to_numpy(dtype=object)


def _cells_table(spec: CellSpec, totals: pd.DataFrame, *, boundary: BaseGeometry | None,
                 areas: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """The summed counts as :func:`~.aggregate.aggregate_incidents` returns them: that module's own function is
    run on one point per cell — the H3 cell's centre, the square's centre, the area's mean position — which gives
    the same ids, centres and empty cells (``boundary``, ``areas``); then the counts are put in."""
    if spec.kind == "h3":
        centres = np.array([h3_int.cell_to_latlng(int(c)) for c in totals["h3"]], dtype=float).reshape(-1, 2)
        table = aggregate_h3(centres[:, 1], centres[:, 0], int(cast(int, spec.resolution)), boundary=boundary)
    elif spec.kind == "grid":
        size = float(cast(float, spec.size_m))
        table = aggregate_grid((totals["col"].to_numpy() + 0.5) * size, (totals["row"].to_numpy() + 0.5) * size,
                               size, boundary=boundary)
    else:
        n = totals["count"].to_numpy(dtype=float)
        code_column = "code" if areas is None or "code" in areas.columns else cast(str, spec.code_column)
        table = aggregate_areas(totals["code"].to_numpy(dtype=object), totals["x"].to_numpy() / n,
                                totals["y"].to_numpy() / n, areas=areas, code_column=code_column)
    counts = pd.Series(totals["count"].to_numpy(dtype=np.int64), index=_cell_names(spec, totals))
    table["count"] = counts.reindex(table["cell_id"].to_numpy(), fill_value=0).to_numpy(dtype=np.int64)
    return table


def _outside_in(partition: pd.DataFrame, filters: dict[str, Any]) -> pd.Series:
    """Map: how many incidents of a partition pass the filters but have no township (outside the district)."""
    return pd.Series([int(filter_incidents(partition, **filters)["township_code"].isna().sum())], dtype="int64")


def _inside_district(frame: dd.DataFrame, filters: dict[str, Any]) -> tuple[dd.DataFrame, int]:
    """The incidents inside the district — those with a ``township_code`` (a dataset carries no flags; outside
    every township an incident has none) — and how many that pass the filters are left out."""
    if "township_code" not in frame.columns:
        raise InvalidInput("incidents have no township_code column to tell those outside the district",
                           field="township_code")
    outside = int(frame.map_partitions(_outside_in, filters, meta=pd.Series(dtype="int64")).sum().compute())
    return frame[frame["township_code"].notnull()], outside


def _aggregate(source: IncidentSource, spec: CellSpec, filters: dict[str, Any], *, boundary: Any,
               areas: gpd.GeoDataFrame | None, inside_district: bool = False) -> tuple[pd.DataFrame, int, int]:
    frame = _incident_frame(source, spec, filters, extra=("township_code",) if inside_district else ())
    outside = 0
    if inside_district:
        frame, outside = _inside_district(frame, filters)
    extent = _extent(frame, filters, times=False) if spec.kind != "h3" else None
    partials = frame.map_partitions(partition_cell_counts, spec, filters, extent.box if extent else None,
                                    meta=cell_counts_meta(spec))
    totals = _summed(partials, list(key_columns(spec)))
    n = extent.n if extent else int(totals["count"].sum())
    if n == 0:
        raise InvalidInput("no incident matches the filters", field="incidents")
    area = boundary_geometry(boundary) if boundary is not None else None
    return _cells_table(spec, totals, boundary=area, areas=areas), n, outside


def cell_counts_distributed(
    source: IncidentSource,
    spec: CellSpec,
    *,
    boundary: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    categories: str | Iterable[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    townships: str | Iterable[str] | None = None,
    statuses: str | Iterable[str] | None = None,
) -> pd.DataFrame:
    """The map-reduce twin of :func:`~.aggregate.aggregate_incidents`: incidents of ``source`` (dask DataFrame or
    Parquet dataset) that pass the filters, counted per cell of ``spec`` partition by partition, summed on the
    cluster, and returned as the same table (``cell_id``, ``count``, ``x``, ``y`` in EPSG:4548, sorted by
    ``cell_id``; empty cells inside ``boundary`` or among ``areas``). Raises :class:`InvalidInput` when no incident
    passes the filters, and for the in-memory path's reasons."""
    filters = {"categories": categories, "start": start, "end": end, "townships": townships, "statuses": statuses}
    return _aggregate(source, spec, filters, boundary=boundary, areas=areas)[0]


# ---------------------------------------------------------------------------------------------- hot spots


def run_hotspots_distributed(
    source: IncidentSource,
    *,
    cell: CellName = "h3",
    resolution: int = 8,
    size_m: float = 500.0,
    distance_m: float | None = None,
    fdr: bool = True,
    permutations: int = 0,
    seed: int = 0,
    boundary: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    categories: str | Iterable[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    townships: str | Iterable[str] | None = None,
    statuses: str | Iterable[str] | None = None,
    inside_district: bool = False,
) -> HotspotResult:
    """:func:`~.hotspots.run_hotspots` for incidents that do not fit in memory: the same parameters and the same
    :class:`~.hotspots.HotspotResult`, with ``source`` a dask DataFrame or the path of a Parquet dataset. The
    counts per cell are map-reduced on the dask cluster (:func:`cell_counts_distributed`); the distance band,
    Gi*, the permutation test and the FDR bins then run on the cell table in memory. With ``inside_district``,
    incidents without a ``township_code`` (outside the district) are left out and the summary's
    ``outside_district`` says how many, as in a run on the database."""
    if permutations < 0:
        raise InvalidInput("permutations cannot be negative", field="permutations")
    spec = cell_spec(cell, resolution=resolution, size_m=size_m)
    filters = {"categories": categories, "start": start, "end": end, "townships": townships, "statuses": statuses}
    counts, n_incidents, outside = _aggregate(source, spec, filters, boundary=boundary, areas=areas,
                                              inside_district=inside_district)
    parameters = {
        "cell": cell, "resolution": resolution if cell == "h3" else None, "size_m": size_m if cell == "grid" else None,
        "distance_m": distance_m, "distance_given": distance_m is not None, "fdr": fdr,
        "permutations": permutations, "seed": seed, "boundary": boundary is not None,
        "filters": {k: json_ready(v) for k, v in filters.items() if v is not None},
    }
    result = hotspots_from_counts(counts, spec, n_incidents, parameters=parameters, distance_m=distance_m, fdr=fdr,
                                  permutations=permutations, seed=seed, areas=areas)
    return with_outside_district(result, outside) if inside_district else result


# ---------------------------------------------------------------------------------------------- emerging


@dataclass(frozen=True)
class EmergingRun:
    """Outcome of :func:`run_emerging_distributed`: the ``emerging`` hot spots (table, per-bin z, p, status), the
    space-time ``cube`` they were computed from, the ``cells`` (``cell_id``, total ``count``, centre ``x``/``y``
    in EPSG:4548, in the cube's row order) and the distance band (``scale``)."""

    emerging: EmergingHotSpots
    cube: SpaceTimeCube
    cells: pd.DataFrame
    scale: ScaleChoice


def space_time_cube_distributed(
    source: IncidentSource,
    *,
    cell: CellName = "h3",
    resolution: int = 8,
    size_m: float = 500.0,
    unit: BinUnit = "month",
    width: int = 1,
    boundary: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    categories: str | Iterable[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    townships: str | Iterable[str] | None = None,
    statuses: str | Iterable[str] | None = None,
) -> tuple[SpaceTimeCube, pd.DataFrame]:
    """The space-time cube of the incidents that pass the filters, map-reduced: equal to
    :func:`~.space_time.build_cube` over their cell ids (H3 at ``resolution`` or grid squares of ``size_m``) and
    Beijing wall-clock times, in bins of ``width`` months, weeks or days from ``start`` (default: the first
    incident's month, week or day) up to ``end`` (default: past the last incident) — ``start``/``end`` are both
    the filter and the window, as in the in-memory path; with ``boundary`` the cube also has zero rows for the
    empty cells inside it. Returns the cube and its cells (``cell_id``, total ``count``, ``x``, ``y``) in the
    cube's row order. Raises :class:`InvalidInput` as the in-memory functions do, and for area cells
    (townships, villages)."""
    spec = cell_spec(cell, resolution=resolution, size_m=size_m)
    if spec.kind not in ("h3", "grid"):
        raise InvalidInput("the space-time cube counts H3 cells or grid squares", field="cell")
    filters = {"categories": categories, "start": start, "end": end, "townships": townships, "statuses": statuses}
    frame = _incident_frame(source, spec, filters, times=True)
    extent = _extent(frame, filters, times=True)
    # the window as build_cube sets it for these incidents: only their first and last times matter
    window = build_cube(np.array(["", ""], dtype=object), pd.DatetimeIndex([extent.t_min, extent.t_max]),
                        unit=unit, width=width,
                        start=_beijing(start, aware=True, field="start") if start is not None else None,
                        end=_beijing(end, aware=True, field="end") if end is not None else None)
    edges = window.bin_edges
    partials = frame.map_partitions(partition_cube_counts, spec, filters, unit=unit, width=width,
                                    first_ns=edges[0].value, end_ns=edges[-1].value, box=extent.box,
                                    meta=cube_counts_meta(spec))
    keys = list(key_columns(spec))
    sums = _summed(partials, [*keys, "bin"])
    totals = sums.groupby(keys, sort=False)["count"].sum().reset_index()
    area = boundary_geometry(boundary) if boundary is not None else None
    cells = _cells_table(spec, totals, boundary=area, areas=None)[["cell_id", "count", "x", "y"]]
    rows = pd.Index(cells["cell_id"]).get_indexer(_cell_names(spec, sums))
    counts = np.zeros((len(cells), window.n_bins), dtype=np.int64)
    counts[rows, sums["bin"].to_numpy()] = sums["count"].to_numpy(dtype=np.int64)
    cube = SpaceTimeCube(counts=counts, cell_ids=cells["cell_id"].to_numpy(dtype=object), bin_edges=edges,
                         n_outside=extent.n - int(counts.sum()))
    return cube, cells


def run_emerging_distributed(
    source: IncidentSource,
    *,
    cell: CellName = "h3",
    resolution: int = 8,
    size_m: float = 500.0,
    unit: BinUnit = "month",
    width: int = 1,
    distance_m: float | None = None,
    time_step: int = 0,
    alpha: float = 0.10,
    trend_alpha: float | None = None,
    fdr: bool = False,
    boundary: BaseGeometry | gpd.GeoSeries | gpd.GeoDataFrame | None = None,
    categories: str | Iterable[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    townships: str | Iterable[str] | None = None,
    statuses: str | Iterable[str] | None = None,
) -> EmergingRun:
    """Emerging hot spots of incidents that do not fit in memory: the cube of
    :func:`space_time_cube_distributed`, then, in memory, :func:`~.emerging.emerging_hot_spots` with
    ``distance_m`` — or, when not given, the band :func:`~.hotspot_scale.choose_distance_band` picks from the
    cells' total counts, as a hot-spot run would — and ``time_step``, ``alpha``, ``trend_alpha``, ``fdr``."""
    cube, cells = space_time_cube_distributed(
        source, cell=cell, resolution=resolution, size_m=size_m, unit=unit, width=width, boundary=boundary,
        categories=categories, start=start, end=end, townships=townships, statuses=statuses)
    x, y = cells["x"].to_numpy(), cells["y"].to_numpy()
    if distance_m is None:
        scale = choose_distance_band(x, y, cells["count"].to_numpy(dtype=float))
    else:
        if not np.isfinite(distance_m) or distance_m <= 0:
            raise InvalidInput("the distance band must be a positive number of metres", field="distance_m")
        scale = ScaleChoice(distance_m=float(distance_m), method="given", detail=f"{distance_m:.0f} m as given")
    result = emerging_hot_spots(cube, x, y, distance_m=scale.distance_m, time_step=time_step, alpha=alpha,
                                trend_alpha=trend_alpha, fdr=fdr)
    return EmergingRun(emerging=result, cube=cube, cells=cells, scale=scale)
