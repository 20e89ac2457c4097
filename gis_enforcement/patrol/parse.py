"""Read incident submissions — GeoJSON, CSV (UTF-8 or GBK, English or Chinese headers), GPX waypoints —
into one raw table of strings and numbers, one row per submission, with its source row number.

Nothing here judges the values (``validate`` does); a structural problem that makes a row unreadable (a
Feature without Point geometry, say) is reported against that row and the rest are read.
"""

from __future__ import annotations

import io
import json
import math
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from gis_enforcement.errors import InvalidInput
from gis_enforcement.patrol.report import RowError

#: Columns of the raw table every reader produces, in this order.
RAW_COLUMNS = (
    "row", "id", "category", "lon", "lat", "accuracy_m", "observed_at", "reporter", "description", "crs",
    "photos", "track_id",
)

# Header aliases accepted in CSV files (lower-cased, stripped). The canonical English names come first.
CSV_HEADER_ALIASES: dict[str, str] = {
    "id": "id", "uuid": "id", "编号": "id", "事件编号": "id", "唯一标识": "id",
    "category": "category", "类别": "category", "问题类别": "category", "类别编码": "category", "问题类型": "category",
    "lon": "lon", "lng": "lon", "longitude": "lon", "x": "lon", "经度": "lon",
    "lat": "lat", "latitude": "lat", "y": "lat", "纬度": "lat",
    "accuracy_m": "accuracy_m", "accuracy": "accuracy_m", "精度": "accuracy_m", "定位精度": "accuracy_m",
    "定位精度(米)": "accuracy_m", "定位精度（米）": "accuracy_m",
    "observed_at": "observed_at", "time": "observed_at", "时间": "observed_at", "发现时间": "observed_at",
    "上报时间": "observed_at", "观测时间": "observed_at",
    "reporter": "reporter", "上报人": "reporter", "巡查员": "reporter", "报告人": "reporter",
    "description": "description", "描述": "description", "问题描述": "description", "说明": "description",
    "crs": "crs", "坐标系": "crs", "track_id": "track_id", "轨迹": "track_id", "轨迹编号": "track_id",
}

# Namespace for ids derived from GPX waypoints, which carry no client id of their own.
GPX_NAMESPACE = uuid.UUID("6f1c8f43-3c1e-4f57-9a55-1d1b8e0f7a20")


class RawBatch:
    """The raw table of a submission and the row errors found while reading it."""

    def __init__(self, frame: pd.DataFrame, errors: list[RowError] | None = None, source: str | None = None):
        for col in RAW_COLUMNS:
            if col not in frame.columns:
                frame[col] = None
        self.frame = frame[list(RAW_COLUMNS)].reset_index(drop=True)
        self.errors = errors or []
        self.source = source

    def __len__(self) -> int:
        return len(self.frame) + len({e.row for e in self.errors if e.row not in set(self.frame["row"])})


# -- GeoJSON ------------------------------------------------------------------------------------------------
def feature_row(row: int, feature: Any, errors: list[RowError]) -> dict[str, Any] | None:
    """One GeoJSON Feature as a raw row (a dict of ``RAW_COLUMNS``), or None with its problem added to
    ``errors`` when it is not a Feature with Point geometry; ``row`` is its number in the submission."""
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        errors.append(RowError(row, "type", "not a GeoJSON Feature", code="type:feature"))
        return None
    geom = feature.get("geometry")
    props = feature.get("properties") or {}
    fid = feature.get("id", props.get("id") if isinstance(props, Mapping) else None)
    if not isinstance(props, Mapping):
        errors.append(RowError(row, "properties", "must be an object", _s(fid), code="properties:object"))
        return None
    if not isinstance(geom, Mapping) or geom.get("type") != "Point":
        errors.append(RowError(row, "geometry", "must be a GeoJSON Point", _s(fid), code="geometry:point"))
        return None
    coords = geom.get("coordinates")
    if not isinstance(coords, list | tuple) or len(coords) < 2:
        errors.append(RowError(row, "geometry.coordinates", "must be [lon, lat]", _s(fid),
                               code="geometry.coordinates:pair"))
        return None
    photos = props.get("photos")
    if photos is not None and not isinstance(photos, list):
        errors.append(RowError(row, "photos", "must be a list of photo references", _s(fid),
                               code="photos:list"))
        return None
    return {
        "row": row, "id": _s(fid), "category": _s(props.get("category")), "lon": _given(coords[0]),
        "lat": _given(coords[1]), "accuracy_m": _given(props.get("accuracy_m")),
        "observed_at": _s(props.get("observed_at")), "reporter": _s(props.get("reporter")),
        "description": _s(props.get("description")), "crs": _s(props.get("crs")),
        "photos": tuple(map(str, photos)) if photos is not None else None, "track_id": _s(props.get("track_id")),
    }


def _given(value: Any) -> Any:
    """A number as the client sent it; NaN (which JSON readers accept) as its text, so that validation refuses
    it as not finite instead of taking it for a value left out."""
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_geojson(obj: Any, *, source: str | None = None) -> RawBatch:
    """A GeoJSON Feature or FeatureCollection (already decoded) as a raw batch; rows numbered from 1."""
    errors: list[RowError] = []
    if isinstance(obj, Mapping) and obj.get("type") == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list):
            raise InvalidInput("a FeatureCollection needs a list of features", field="features")
    elif isinstance(obj, Mapping) and obj.get("type") == "Feature":
        features = [obj]
    else:
        raise InvalidInput("expected a GeoJSON Feature or FeatureCollection", field="type")
    rows = [r for i, f in enumerate(features, start=1) if (r := feature_row(i, f, errors)) is not None]
    return RawBatch(pd.DataFrame(rows, columns=list(RAW_COLUMNS)), errors, source)


# -- CSV ----------------------------------------------------------------------------------------------------
def decode_csv(data: bytes) -> tuple[bytes, str]:
    """The bytes as UTF-8 and the encoding they came in: UTF-8 (with or without BOM), else GB18030 (⊇ GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:], "utf-8-sig"
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030").encode("utf-8"), "gbk"
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"file is neither UTF-8 nor GBK text (byte {exc.start})", field="file") from exc


def parse_csv(data: bytes, *, source: str | None = None) -> RawBatch:
    """CSV bytes (UTF-8 or GBK; English or Chinese headers) as a raw batch; data rows numbered from 2
    (the header is row 1), as a spreadsheet shows them: an empty row or blank line keeps its number and is
    left out. A header naming one column twice (``lon`` and ``经度``) is refused."""
    text, _encoding = decode_csv(data)
    try:
        header_line = text.split(b"\n", 1)[0].decode("utf-8").strip("\r")
        names = next(iter(pd.read_csv(io.StringIO(header_line), header=None, dtype=str).itertuples(index=False)))
    except (StopIteration, pd.errors.EmptyDataError) as exc:
        raise InvalidInput("the CSV file is empty", field="file") from exc
    mapped = [CSV_HEADER_ALIASES.get(str(n).strip().lower(), CSV_HEADER_ALIASES.get(str(n).strip())) for n in names]
    missing = [c for c in ("id", "category", "lon", "lat", "observed_at") if c not in mapped]
    if missing:
        raise InvalidInput(
            f"CSV header lacks required column(s) {', '.join(missing)} (got: {', '.join(map(str, names))})",
            field="header",
        )
    given: dict[str, list[str]] = {}
    for name, field in zip(names, mapped, strict=True):
        if field is not None:
            given.setdefault(field, []).append(str(name).strip())
    twice = {field: headers for field, headers in given.items() if len(headers) > 1}
    if twice:
        raise InvalidInput("CSV header gives the same column more than once: " + "; ".join(
            f"{field} as {' and '.join(headers)}" for field, headers in twice.items()) + " (keep one of each)",
            field="header")
    column_names = [m or f"_extra{i}" for i, m in enumerate(mapped)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text),
            read_options=pacsv.ReadOptions(column_names=column_names, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in column_names}, strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
            # an empty line is read as a row of empty cells, so that the rows after it keep their numbers
            parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        )
    except pa.ArrowInvalid as exc:
        raise InvalidInput(f"cannot read the CSV file: {exc}", field="file") from exc
    table = table.add_column(0, "row", pa.array(np.arange(2, table.num_rows + 2, dtype=np.int64)))
    empty = None
    for column in table.columns[1:]:
        empty = pc.is_null(column) if empty is None else pc.and_(empty, pc.is_null(column))
    if empty is not None and pc.any(empty).as_py():  # an empty row of a spreadsheet, or a blank line, is no
        table = table.filter(pc.invert(empty))       # submission
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    frame = frame[["row", *(c for c in column_names if not c.startswith("_extra"))]]
    return RawBatch(frame, [], source)


# -- GPX ----------------------------------------------------------------------------------------------------
def parse_gpx(data: bytes, *, source: str | None = None, reporter: str | None = None) -> RawBatch:
    """GPX waypoints as a raw batch. The category comes from ``<type>`` (or ``<name>`` when it is a list
    code), the description from ``<desc>``/``<cmt>``, the time from ``<time>``. GPX has no client id, so the
    id is derived from the waypoint's own content — re-reading the same file gives the same ids."""
    import gpxpy
    import gpxpy.gpx

    try:
        gpx = gpxpy.parse(data.decode("utf-8", errors="strict"))
    except (UnicodeDecodeError, gpxpy.gpx.GPXException) as exc:
        raise InvalidInput(f"cannot read the GPX file: {exc}", field="file") from exc
    author = reporter or gpx.author_name
    rows = []
    for i, w in enumerate(gpx.waypoints, start=1):
        observed = w.time.isoformat() if w.time is not None else None
        category = w.type or w.name
        key = f"{w.longitude!r}|{w.latitude!r}|{observed}|{w.name}|{w.type}|{w.description}"
        rows.append({
            "row": i, "id": str(uuid.uuid5(GPX_NAMESPACE, key)), "category": category,
            "lon": w.longitude, "lat": w.latitude,
            # GPX carries dilution of precision, not metres: take horizontal DOP × 5 m as a conservative estimate
            "accuracy_m": (w.horizontal_dilution * 5.0) if w.horizontal_dilution else None,
            "observed_at": observed, "reporter": author, "description": w.description or w.comment,
            "crs": None, "photos": None, "track_id": None,
        })
    return RawBatch(pd.DataFrame(rows, columns=list(RAW_COLUMNS)), [], source)


def read_intake_file(path: str | Path, *, reporter: str | None = None) -> RawBatch:
    """Read a submission file, choosing the reader by its suffix (.geojson/.json, .csv, .gpx)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", field="file") from exc
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        try:
            obj = json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path.name} is not valid JSON: {exc}", field="file") from exc
        return parse_geojson(obj, source=str(path))
    if suffix in (".csv", ".txt"):
        return parse_csv(data, source=str(path))
    if suffix == ".gpx":
        return parse_gpx(data, source=str(path), reporter=reporter)
    raise InvalidInput(f"unsupported file type {suffix!r}: use .geojson, .csv or .gpx", field="file")
