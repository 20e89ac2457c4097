"""Exports of stored incidents as CSV, GeoPackage or GeoJSON — the one writer behind ``gis-enforcement export
incidents`` and ``GET /api/v1/exports/incidents.{format}``. Over HTTP a small set comes back in the answer and a
large one is written in the background (a job id; its state and file kept under DATA_DIR/exports, so any server
process can answer for it).

A job is ``<id>.json`` (owner, format, status: writing → done | failed) beside ``<id>.<format>``. Every file is
written whole or not at all (``files.replacing``), so a reader never sees half a file.

The file has the store's columns (:func:`~gis_enforcement.storage.incident_repo.incidents_frame`, their names
unchanged) and after them, when the frame carries the case's course (``outcome=True``), that course, the names
of the lists beside the codes and the hours from whistle to close (``NAME_COLUMNS``, :func:`with_names`).
"""

from __future__ import annotations

import json
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput
from gis_enforcement.files import replacing

__all__ = ["EXPORT_SUFFIXES", "EXPORT_TYPES", "export_bytes", "export_file", "export_state", "export_target",
           "iso_local", "start_export", "with_names", "write_export"]

#: The formats, with the media type each is served as.
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "gpkg": "application/geopackage+sqlite3",
                "geojson": "application/geo+json"}

#: The file suffixes that name a format (compared in lower case).
EXPORT_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".csv": "csv", ".gpkg": "gpkg"}


def export_target(fmt: str | None, path: Path | None) -> tuple[str, Path]:
    """The format and the file of an export asked for with a format, a file, both or neither: without a format,
    the one the file's suffix names; without a file, ``incidents.<format>``; neither, GeoJSON. A file whose
    suffix names another format than the one given is refused on ``format`` (a GeoPackage named ``.csv`` would
    open as garbage), one whose suffix names no format, when none is given, on ``output``."""
    if fmt is not None and fmt not in EXPORT_TYPES:
        raise InvalidInput(f"unknown export format {fmt!r}; use one of {', '.join(EXPORT_TYPES)}", field="format")
    if path is None:
        chosen = fmt or "geojson"
        return chosen, Path(f"incidents.{chosen}")
    named = EXPORT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        if named is None:
            raise InvalidInput(f"cannot tell the format of {path.name!r} from its suffix: end it in "
                               f"{', '.join(EXPORT_SUFFIXES)}, or give --format", field="output")
        return named, path
    if named is not None and named != fmt:
        raise InvalidInput(f"--format {fmt} does not match {path.name!r}, which names a {named} file: give "
                           f"--format {named}, name the file {path.stem}.{fmt}, or leave --format out",
                           field="format")
    return fmt, path


#: The columns :func:`with_names` adds: the lists' Chinese names of the category, the lead department and the
#: departments summoned (``;``-joined like the codes), and the hours from the whistle to the close.
NAME_COLUMNS = ("category_zh", "lead_department_zh", "summoned_departments_zh", "hours_to_close")


def with_names(frame: gpd.GeoDataFrame, catalog: Catalog) -> gpd.GeoDataFrame:
    """``frame`` with :data:`NAME_COLUMNS` after the store's columns (before ``lon``, ``lat`` and the geometry,
    which stay last): a category or lead the lists do not have gets no name (empty, not a guess), one of the
    departments summoned keeps its code, so that the names stand where the codes do. The departments summoned
    and the hours to close only when the frame has the case's course (``summoned_departments``,
    ``whistled_at``, ``closed_at``); the on-time columns are made nullable booleans, which every format
    writes as true, false or empty."""
    categories = {code: c.zh for code, c in catalog.categories.items()}
    departments = {code: d.zh for code, d in catalog.departments.items()}
    added: dict[str, pd.Series] = {
        "category_zh": _names(frame["category"], categories),
        "lead_department_zh": _names(frame["lead_department"], departments),
    }
    if "summoned_departments" in frame:
        codes = frame["summoned_departments"]
        # few distinct lists however many cases: each is named once
        lists = {str(v): ";".join(departments.get(c, c) for c in str(v).split(";")) for v in codes.dropna().unique()}
        added["summoned_departments_zh"] = _names(codes, lists)
    if {"whistled_at", "closed_at"} <= set(frame.columns):
        hours = (_times(frame["closed_at"]) - _times(frame["whistled_at"])).dt.total_seconds() / 3600.0
        added["hours_to_close"] = hours.round(2)
    out = frame.copy()
    for column in ("lead_reported_in_on_time", "resolved_on_time"):
        if column in out:
            values = out[column].astype(object)
            out[column] = pd.arrays.BooleanArray(values.eq(True).to_numpy(bool), values.isna().to_numpy(bool))
    tail = [c for c in ("lon", "lat", out.geometry.name) if c in out]
    head = out.drop(columns=tail)
    return gpd.GeoDataFrame(pd.concat([head, pd.DataFrame(added, index=out.index), out[tail]], axis=1),
                            geometry=out.geometry.name, crs=out.crs)


def _names(codes: pd.Series, names: dict[str, str]) -> pd.Series:
    """The name of each code (None for a missing or unknown one), looked up once per distinct code."""
    which, distinct = pd.factorize(codes)
    named = np.array([names.get(str(code)) for code in distinct] + [None], dtype=object)
    return pd.Series(named[which], index=codes.index, dtype=object)  # a missing code is -1: the last, None


def _times(values: pd.Series) -> pd.Series:
    """Aware times (a column of nothing but nulls comes from the store as plain objects)."""
    return values if isinstance(values.dtype, pd.DatetimeTZDtype) else pd.to_datetime(values, utc=True)


def _plain(frame: gpd.GeoDataFrame, zone: str) -> gpd.GeoDataFrame:
    """The frame with every time as ISO 8601 text in the district's zone (``2026-05-12T23:40:00+08:00``, as the
    API answers), so that a spreadsheet shows the hour the patrol saw; a missing time stays missing."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = iso_local(out[column], zone)
    return out


def iso_local(times: pd.Series, zone: str) -> pd.Series:
    """Aware times as ISO 8601 text in ``zone``, each exactly as ``datetime.isoformat`` writes it (seconds, the
    microseconds when there are any, the offset of that instant), computed on whole arrays: a million times in
    well under a second, where one ``isoformat`` call per time takes several."""
    missing = times.isna().to_numpy()
    local = times.dt.tz_convert(zone).dt.tz_localize(None).to_numpy("datetime64[us]")
    utc = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[us]")
    text = np.datetime_as_string(local, unit="s")
    fraction = ~missing & (local.astype(np.int64) % 1_000_000 != 0)
    if fraction.any():
        text = text.astype(f"<U{26}")
        text[fraction] = np.datetime_as_string(local[fraction], unit="us")
    minutes = np.where(missing, 0, (local - utc).astype(np.int64) // 60_000_000)
    offsets, which = np.unique(minutes, return_inverse=True)
    labels = np.array([f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in offsets.tolist()])
    joined = np.char.add(text, labels[which]).astype(object)
    joined[missing] = None
    return pd.Series(joined, index=times.index, dtype=object)


def write_export(frame: gpd.GeoDataFrame, fmt: str, path: Path, *, zone: str, catalog: Catalog) -> Path:
    """Write ``frame`` (the store's incidents frame) as ``fmt`` to ``path``, whole or not at all, with the
    names of ``catalog`` beside its codes (:func:`with_names`). Times are written as ISO text in ``zone``. CSV
    starts with a byte-order mark, so that Excel opens the Chinese text as UTF-8; GeoJSON is a
    FeatureCollection in WGS84 with the Chinese text as it is."""
    if fmt not in EXPORT_TYPES:
        raise ValueError(f"unknown export format {fmt}")
    plain = _plain(with_names(frame, catalog), zone)
    with replacing(path) as partial:
        if fmt == "csv":
            plain.drop(columns="geometry").to_csv(partial, index=False, encoding="utf-8-sig")
        elif fmt == "gpkg":
            plain.to_file(partial, driver="GPKG", layer="incidents")
        else:
            partial.write_text(plain.to_json(ensure_ascii=False, drop_id=True), encoding="utf-8")
    return path


def export_bytes(frame: gpd.GeoDataFrame, fmt: str, *, zone: str, catalog: Catalog) -> bytes:
    """The export as bytes (small sets, answered inline)."""
    with tempfile.TemporaryDirectory() as folder:
        return write_export(frame, fmt, Path(folder) / f"incidents.{fmt}", zone=zone, catalog=catalog).read_bytes()


def _state_path(folder: Path, job: str) -> Path:
    return folder / f"{job}.json"


def _save_state(folder: Path, job: str, state: dict[str, Any]) -> None:
    with replacing(_state_path(folder, job)) as partial:
        partial.write_text(json.dumps(state), encoding="utf-8")


def export_state(folder: Path, job: str) -> dict[str, Any] | None:
    path = _state_path(folder, job)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None  # type: ignore[no-any-return]


def export_file(folder: Path, job: str, fmt: str) -> Path:
    return folder / f"{job}.{fmt}"


def start_export(folder: Path, *, fmt: str, owner: str, zone: str, catalog: Catalog,
                 read: Callable[[], gpd.GeoDataFrame]) -> str:
    """Begin writing an export in a background thread; returns the job id at once."""
    job = uuid.uuid4().hex
    state: dict[str, Any] = {"owner": owner, "format": fmt, "status": "writing"}
    _save_state(folder, job, state)

    def run() -> None:
        try:
            write_export(read(), fmt, export_file(folder, job, fmt), zone=zone, catalog=catalog)
            _save_state(folder, job, {**state, "status": "done"})
        except Exception as exc:  # the job says it failed; the client is told when it asks
            _save_state(folder, job, {**state, "status": "failed", "error": type(exc).__name__})

    threading.Thread(target=run, name=f"export-{job[:8]}", daemon=True).start()
    return job
