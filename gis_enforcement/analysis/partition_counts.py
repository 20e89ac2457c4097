"""Map steps of the distributed path (:mod:`.distributed`): one partition of incidents → small count tables.

Pure pandas functions, called by dask on each partition (and testable without it). Each filters the partition
with :func:`~.aggregate.filter_incidents` and counts with the in-memory path's own functions, so summing their
tables over the partitions gives the in-memory counts:

- :func:`partition_extent`: how many incidents pass the filters, their lon/lat extent and time extent (one row);
- :func:`partition_cell_counts`: incidents per cell — ``h3`` (uint64 id), ``col``/``row`` (grid), or ``code``
  (area) with the sums of ``x``/``y`` for the mean position — as ``count``;
- :func:`partition_cube_counts`: incidents per (cell, time bin) inside the cube's window.

Grid squares and area positions need EPSG:4548 metres; :func:`~.aggregate.project_lonlat` fits its polynomial
over the extent of the points it is given, so each partition is projected together with the corners of the
extent of *all* filtered incidents (``box``), which makes its polynomial — and so every square — the one of the
in-memory path.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

from gis_enforcement.analysis.aggregate import (
    TIMEZONE,
    CellSpec,
    filter_incidents,
    grid_index,
    incident_lonlat,
    project_lonlat,
    time_column_of,
)
from gis_enforcement.analysis.h3_cells import h3_cell_counts
from gis_enforcement.analysis.space_time import BinUnit, bin_step
from gis_enforcement.errors import InvalidInput

Box = tuple[float, float, float, float]
#: ``t_min``/``t_max`` of a partition without incidents (times travel as int64 nanoseconds since the epoch, UTC)
NO_TIME = int(np.iinfo(np.int64).min)


def beijing_times(incidents: pd.DataFrame) -> pd.Series:
    """The incidents' times (``observed_at``, else ``reported_at``) on Beijing wall-clock time: converted when
    they carry a zone, taken as Beijing time when they do not (as at intake)."""
    column = time_column_of(incidents)
    if column is None:
        raise InvalidInput("incidents have no time column (observed_at or reported_at)", field="times")
    times = pd.to_datetime(incidents[column])
    return times.dt.tz_localize(TIMEZONE) if times.dt.tz is None else times.dt.tz_convert(TIMEZONE)


def _projected(lon: np.ndarray, lat: np.ndarray, box: Box) -> tuple[np.ndarray, np.ndarray]:
    x, y = project_lonlat(np.r_[lon, box[0], box[2]], np.r_[lat, box[1], box[3]])
    return x[: len(lon)], y[: len(lon)]


def _typed(meta: pd.DataFrame, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts as one frame with exactly the columns and dtypes of ``meta`` (also when there is no row)."""
    return pd.concat([meta, *parts], ignore_index=True)[list(meta.columns)].astype(meta.dtypes.to_dict())


EXTENT_META = pd.DataFrame({"n": pd.Series(dtype=np.int64), "no_time": pd.Series(dtype=np.int64),
                            **{k: pd.Series(dtype=float) for k in ("lon_min", "lat_min", "lon_max", "lat_max")},
                            "t_min": pd.Series(dtype=np.int64), "t_max": pd.Series(dtype=np.int64)})


def partition_extent(part: pd.DataFrame, filters: dict[str, Any], times: bool) -> pd.DataFrame:
    """One row for the partition: ``n`` incidents pass ``filters``, their lon/lat extent (NaN when none) and, with
    ``times``, how many have no time (``no_time``) and the first and last time (``t_min``/``t_max``, int64
    nanoseconds since the epoch; :data:`NO_TIME` when none)."""
    chosen = filter_incidents(part, **filters)
    lon, lat = incident_lonlat(chosen)
    row: dict[str, Any] = {"n": len(chosen), "no_time": 0, "lon_min": np.nan, "lat_min": np.nan,
                           "lon_max": np.nan, "lat_max": np.nan, "t_min": NO_TIME, "t_max": NO_TIME}
    if len(chosen):
        row.update(lon_min=lon.min(), lat_min=lat.min(), lon_max=lon.max(), lat_max=lat.max())
        if times:
            when = beijing_times(chosen)
            row["no_time"] = int(when.isna().sum())
            if when.notna().any():
                row.update(t_min=when.min().value, t_max=when.max().value)
    return _typed(EXTENT_META, [pd.DataFrame({k: [v] for k, v in row.items()})])


def key_columns(spec: CellSpec) -> dict[str, Any]:
    """The key columns of a cell in the count tables and their (empty) dtypes: ``h3`` (uint64 id), ``col`` and
    ``row`` (int64, grid), or ``code`` (object, areas)."""
    if spec.kind == "h3":
        return {"h3": pd.Series(dtype=np.uint64)}
    if spec.kind == "grid":
        return {"col": pd.Series(dtype=np.int64), "row": pd.Series(dtype=np.int64)}
    return {"code": pd.Series(dtype=object)}


def cell_counts_meta(spec: CellSpec) -> pd.DataFrame:
    """Empty table with the columns of :func:`partition_cell_counts` for ``spec``."""
    sums = {"x": pd.Series(dtype=float), "y": pd.Series(dtype=float)} if spec.kind == "area" else {}
    return pd.DataFrame({**key_columns(spec), "count": pd.Series(dtype=np.int64), **sums})


def cube_counts_meta(spec: CellSpec) -> pd.DataFrame:
    """Empty table with the columns of :func:`partition_cube_counts` for ``spec``."""
    return pd.DataFrame({**key_columns(spec), "bin": pd.Series(dtype=np.int64), "count": pd.Series(dtype=np.int64)})


def _grid_keys(chosen: pd.DataFrame, size_m: float, box: Box) -> pd.DataFrame:
    lon, lat = incident_lonlat(chosen)
    col, row = grid_index(*_projected(lon, lat, box), size_m)
    return pd.DataFrame({"col": col, "row": row})


def partition_cell_counts(part: pd.DataFrame, spec: CellSpec, filters: dict[str, Any],
                          box: Box | None = None) -> pd.DataFrame:
    """Map step of the aggregation: the partition's incidents that pass ``filters`` counted per cell of ``spec``
    (H3 by :func:`~.h3_cells.h3_cell_counts`; grid squares and areas in metres projected over ``box``, the
    extent of all filtered incidents, which they need); for areas also the sums of ``x`` and ``y`` (the mean
    position of an area without polygon), incidents without a code left out as in
    :func:`~.aggregate.aggregate_areas`."""
    chosen = filter_incidents(part, **filters)
    meta = cell_counts_meta(spec)
    if spec.kind == "h3":
        ids, counts = h3_cell_counts(*incident_lonlat(chosen), int(cast(int, spec.resolution)))
        return _typed(meta, [pd.DataFrame({"h3": ids, "count": counts})])
    if box is None:
        raise InvalidInput("grid squares and areas need the extent of the filtered incidents", field="box")
    if spec.kind == "grid":
        keys = _grid_keys(chosen, float(cast(float, spec.size_m)), box)
        return _typed(meta, [keys.groupby(["col", "row"], sort=False).size().rename("count").reset_index()])
    lon, lat = incident_lonlat(chosen)
    x, y = _projected(lon, lat, box)
    codes = pd.Series(chosen[cast(str, spec.code_column)].to_numpy(dtype=object))
    keep = codes.notna().to_numpy()
    frame = pd.DataFrame({"code": codes[keep].astype(str).to_numpy(dtype=object), "x": x[keep], "y": y[keep]})
    sums = frame.groupby("code", sort=False).agg(count=("x", "size"), x=("x", "sum"), y=("y", "sum"))
    return _typed(meta, [sums.reset_index()])


def partition_cube_counts(part: pd.DataFrame, spec: CellSpec, filters: dict[str, Any], *, unit: BinUnit,
                          width: int, first_ns: int, end_ns: int, box: Box | None = None) -> pd.DataFrame:
    """Map step of the space-time cube: the partition's incidents that pass ``filters`` and fall in the window
    ``[first, end)`` (int64 nanoseconds since the epoch) counted per (cell, ``bin``), with the bin arithmetic of
    :func:`~.space_time.build_cube` (bins of ``width`` months, weeks or days from ``first``) on Beijing wall-clock
    time. H3 cells and grid squares only (``box`` as in :func:`partition_cell_counts`)."""
    chosen = filter_incidents(part, **filters)
    when = beijing_times(chosen)
    first = pd.Timestamp(first_ns, tz="UTC").tz_convert(TIMEZONE)
    window_end = pd.Timestamp(end_ns, tz="UTC").tz_convert(TIMEZONE)
    if unit == "month":
        months = when.dt.year.to_numpy(np.int64) * 12 + when.dt.month.to_numpy(np.int64) - 1
        bins = (months - (first.year * 12 + first.month - 1)) // width
    else:
        bins = ((when - first) // bin_step(unit, width)).to_numpy(np.int64)
    inside = ((when >= first) & (when < window_end)).to_numpy()
    chosen, bins = chosen.loc[inside], np.asarray(bins)[inside]
    meta = cube_counts_meta(spec)
    if spec.kind == "h3":
        lon, lat = incident_lonlat(chosen)
        parts = []
        for b in np.unique(bins):  # a month's partition cut in monthly bins: one pass of the H3 engine
            ids, counts = h3_cell_counts(lon[bins == b], lat[bins == b], int(cast(int, spec.resolution)))
            parts.append(pd.DataFrame({"h3": ids, "bin": b, "count": counts}))
        return _typed(meta, parts)
    if spec.kind != "grid" or box is None:
        raise InvalidInput("the space-time cube counts H3 cells or grid squares (with their extent)", field="cell")
    keys = _grid_keys(chosen, float(cast(float, spec.size_m)), box).assign(bin=bins)
    return _typed(meta, [keys.groupby(["col", "row", "bin"], sort=False).size().rename("count").reset_index()])
