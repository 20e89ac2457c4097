"""Export of the stored incidents to a GeoParquet dataset partitioned by month, the input of the distributed path.

PostGIS stays the system of record; the dataset is a copy made for analyses too large for one process
(:mod:`gis_enforcement.analysis.distributed`). Layout, one directory per calendar month of ``observed_at`` in
Beijing time (Hive partitioning, which pyarrow, dask and geopandas read as a ``month`` column)::

    directory/month=2026-05/part-0.parquet
    directory/month=2026-06/part-0.parquet

Each file holds the columns of :func:`~gis_enforcement.storage.analysis_repo.incidents_frame` — ``id``, ``lon``,
``lat``, ``category``, ``observed_at`` and ``closed_at`` (UTC), ``township_code``, ``village_code``,
``grid_code``, ``status``, ``zone_codes`` (``;``-joined) — and the same rows (likely duplicates, duplicates and
rejected reports left out), sorted by ``observed_at``, plus ``geometry``: the point as WKB with GeoParquet 1.0
metadata (EPSG:4326, bounding box). Memory stays bounded whatever the volume: each month is one
``COPY … TO STDOUT`` spooled to a temporary file, then read back by pyarrow's streaming CSV reader block by
block and written row group by row group. Files are written under temporary names and renamed only when every
month has been written, so a failed export leaves the dataset as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from pyproj import CRS
from sqlalchemy.orm import Session

from gis_enforcement.errors import InvalidInput
from gis_enforcement.storage.analysis_repo import _where
from gis_enforcement.storage.copying import raw_cursor

BEIJING = ZoneInfo("Asia/Shanghai")
#: rows gathered before a row group is written (about 40 MB of Arrow memory)
ROW_GROUP_ROWS = 250_000
#: bytes of CSV parsed at a time
CSV_BLOCK_BYTES = 8 << 20
_UTC = pa.timestamp("us", tz="UTC")
_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("id", pa.string()), ("lon", pa.float64()), ("lat", pa.float64()), ("category", pa.string()),
    ("observed_at", _UTC), ("township_code", pa.string()), ("village_code", pa.string()),
    ("grid_code", pa.string()), ("status", pa.string()), ("closed_at", _UTC), ("zone_codes", pa.string()))
_SELECT = ("SELECT i.id::text AS id, i.lon, i.lat, i.category, i.observed_at, i.township_code, i.village_code, "
           "i.grid_code, i.status, i.closed_at, array_to_string(i.zone_codes, ';') AS zone_codes FROM incident i")
#: a little-endian 2-D WKB point: byte order, geometry type 1, x, y (21 bytes, packed)
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
SCHEMA = pa.schema([*(pa.field(name, kind) for name, kind in _COLUMNS), pa.field("geometry", pa.binary())])


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: the ``months`` (``"YYYY-MM"``, one file each), the number of ``rows`` and the
    ``bytes`` of the files, under ``directory``."""

    directory: Path
    months: tuple[str, ...]
    rows: int
    bytes: int


def _beijing(value: datetime | None, field: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidInput(f"not a date and time: {value!r}", field=field)
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value  # no offset: Beijing time, as at intake


def _month_bounds(label: str) -> tuple[datetime, datetime]:
    """Start and end (00:00 Beijing time on the 1st) of the month ``"YYYY-MM"``."""
    year, month = int(label[:4]), int(label[5:7])
    return (datetime(year, month, 1, tzinfo=BEIJING),
            datetime(year + month // 12, month % 12 + 1, 1, tzinfo=BEIJING))


def _wkb_points(lon: pa.Array, lat: pa.Array) -> pa.Array:
    """WKB of 2-D points built in numpy (21 bytes each) rather than through shapely objects."""
    packed = np.empty(len(lon), dtype=_WKB_POINT)
    packed["order"], packed["type"] = 1, 1
    packed["x"] = lon.to_numpy(zero_copy_only=False)
    packed["y"] = lat.to_numpy(zero_copy_only=False)
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(21), len(lon), [None, pa.py_buffer(packed.tobytes())])
    return fixed.cast(pa.binary())


def _geo_metadata(bbox: list[float]) -> bytes:
    column = {"encoding": "WKB", "geometry_types": ["Point"], "crs": CRS.from_epsg(4326).to_json_dict(),
              "bbox": bbox}
    return json.dumps({"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": column}}).encode()


def _publish(root: Path, written: list[tuple[str, int, Path]]) -> ExportReport:
    """Rename the partial files of (month, rows, path) into place, all written by now; the report of the export."""
    size = 0
    for _, _, partial in written:
        final = partial.with_name("part-0.parquet")
        os.replace(partial, final)
        size += final.stat().st_size
    return ExportReport(directory=root, months=tuple(m for m, _, _ in written), rows=sum(n for _, n, _ in written),
                        bytes=size)



def _months(session: Session, where: str, params: dict[str, Any]) -> list[str]:
    """The Beijing months (``"YYYY-MM"``) that hold rows."""
    with raw_cursor(session) as cur:
        cur.execute("SELECT DISTINCT to_char(i.observed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month "
                    f"FROM incident i WHERE {where} ORDER BY 1", params)
        return [r[0] for r in cur.fetchall()]


def _copy_month(session: Session, where: str, params: dict[str, Any], sink: IO[bytes]) -> None:
    with raw_cursor(session) as cur:
        query = cur.mogrify(f"{_SELECT} WHERE {where} ORDER BY i.observed_at, i.id", params).decode()
        cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)", sink, size=1 << 20)


def _csv_batches(spool: IO[bytes], columns: list[str] | None = None) -> pacsv.CSVStreamingReader:
    spool.seek(0)
    return pacsv.open_csv(
        spool, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
        convert_options=pacsv.ConvertOptions(column_types=dict(_COLUMNS), include_columns=columns,
                                             strings_can_be_null=True, quoted_strings_can_be_null=False))


def _write_month(spool: IO[bytes], target: Path) -> int:
    """Stream the spooled CSV of one month into ``target`` (GeoParquet); returns the number of rows, 0 without
    writing a file when there are none. GeoParquet wants the bounding box in the schema, which is written
    first, so a first pass over the spool reads only ``lon``/``lat`` for it (the rows the file will hold, even
    if intake stored more since the months were listed)."""
    rows, bbox = 0, [np.inf, np.inf, -np.inf, -np.inf]
    for batch in _csv_batches(spool, ["lon", "lat"]):
        if batch.num_rows:
            lon, lat = pc.min_max(batch.column("lon")), pc.min_max(batch.column("lat"))
            bbox = [min(bbox[0], lon["min"].as_py()), min(bbox[1], lat["min"].as_py()),
                    max(bbox[2], lon["max"].as_py()), max(bbox[3], lat["max"].as_py())]
            rows += batch.num_rows
    if rows == 0:
        return 0
    schema = SCHEMA.with_metadata({"geo": _geo_metadata([float(v) for v in bbox])})
    target.parent.mkdir(parents=True, exist_ok=True)
    pending: list[pa.RecordBatch] = []
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for batch in _csv_batches(spool):
            lon, lat = batch.column("lon"), batch.column("lat")
            pending.append(pa.RecordBatch.from_arrays([*batch.columns, _wkb_points(lon, lat)], schema=schema))
            if sum(b.num_rows for b in pending) >= ROW_GROUP_ROWS:
                writer.write_table(pa.Table.from_batches(pending, schema=schema))
                pending.clear()
        if pending:
            writer.write_table(pa.Table.from_batches(pending, schema=schema))
    return rows


def export_incidents_geoparquet(session: Session, *, directory: str | os.PathLike[str], start: datetime | None = None,
                                end: datetime | None = None) -> ExportReport:
    """Write the incidents observed in ``[start, end)`` (a time without offset is Beijing time; default: all) to
    the GeoParquet dataset at ``directory``, one file ``month=YYYY-MM/part-0.parquet`` per Beijing calendar month
    that has incidents, replacing the file a previous export wrote for that month (so a ``start`` or ``end``
    inside a month leaves only that part of the month). Rows are those of
    :func:`~gis_enforcement.storage.analysis_repo.incidents_frame`; see the module for the columns. Streams one
    month at a time through a temporary file, so memory stays bounded; renames the files into place only after
    every month is written. Raises :class:`InvalidInput` when ``start`` is not before ``end``."""
    lo, hi = _beijing(start, "start"), _beijing(end, "end")
    if lo is not None and hi is not None and not lo < hi:
        raise InvalidInput("the period must start before it ends", field="end")
    root = Path(directory)
    where, params = _where(lo, hi, None, None, None)
    months = _months(session, where, params)
    written: list[tuple[str, int, Path]] = []
    partial: Path | None = None
    try:
        for label in months:
            month_lo, month_hi = _month_bounds(label)
            bounds = {"month_lo": max(month_lo, lo) if lo else month_lo,
                      "month_hi": min(month_hi, hi) if hi else month_hi}
            partial = root / f"month={label}" / ".part-0.parquet.partial"
            with tempfile.TemporaryFile() as spool:
                _copy_month(session, f"{where} AND i.observed_at >= %(month_lo)s AND i.observed_at < %(month_hi)s",
                            {**params, **bounds}, spool)
                rows = _write_month(spool, partial)
            if rows:
                written.append((label, rows, partial))
        partial = None
    except BaseException:
        for _, _, done in written:
            done.unlink(missing_ok=True)
        if partial is not None:
            partial.unlink(missing_ok=True)
        raise
    return _publish(root, written)


def write_incident_months(frame: pd.DataFrame, *, directory: str | os.PathLike[str]) -> ExportReport:
    """Write a frame of incidents to ``directory`` in the export's layout — one GeoParquet file per Beijing
    month, WKB points, the same metadata — replacing the files of the months it holds. Columns are those of the
    export: ``lon``, ``lat`` and ``observed_at`` required, the others optional, a ``geometry`` column ignored (the
    points are built from lon/lat). For data that did not come from the database: simulations, benchmarks,
    tests. Raises :class:`InvalidInput` for a missing required column, an unknown one, or an incident without
    time."""
    known = dict(_COLUMNS)
    for name in ("lon", "lat", "observed_at"):
        if name not in frame.columns:
            raise InvalidInput(f"incidents need a {name} column", field=name)
    unknown = [c for c in frame.columns if c not in known and c != "geometry"]  # geometry: rebuilt from lon/lat
    if unknown:
        raise InvalidInput(f"not a column of the incident export: {unknown[0]}", field=unknown[0])
    times = pd.to_datetime(frame["observed_at"])
    if times.isna().any():
        raise InvalidInput(f"{int(times.isna().sum())} incident(s) have no observed_at", field="observed_at")
    if times.dt.tz is None:
        times = times.dt.tz_localize(BEIJING)  # no offset: Beijing time, as at intake
    local = times.dt.tz_convert(BEIJING)
    month_number = local.dt.year.to_numpy() * 12 + local.dt.month.to_numpy() - 1  # cheaper than strftime
    columns = [name for name, _ in _COLUMNS if name in frame.columns]
    fields = [pa.field(name, known[name]) for name in columns]
    root = Path(directory)
    written: list[tuple[str, int, Path]] = []
    try:
        for number, rows in frame.assign(observed_at=times).groupby(month_number, sort=True):
            month = f"{int(number) // 12:04d}-{int(number) % 12 + 1:02d}"
            table = pa.Table.from_pandas(rows[columns], schema=pa.schema(fields), preserve_index=False)
            lon, lat = table.column("lon").combine_chunks(), table.column("lat").combine_chunks()
            bbox = [pc.min(lon).as_py(), pc.min(lat).as_py(), pc.max(lon).as_py(), pc.max(lat).as_py()]
            table = table.append_column(pa.field("geometry", pa.binary()), _wkb_points(lon, lat))
            table = table.replace_schema_metadata({"geo": _geo_metadata([float(v) for v in bbox])})
            partial = root / f"month={month}" / ".part-0.parquet.partial"
            partial.parent.mkdir(parents=True, exist_ok=True)
            written.append((month, len(rows), partial))
            pq.write_table(table, partial, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    except BaseException:
        for _, _, done in written:
            done.unlink(missing_ok=True)
        raise
    return _publish(root, written)
