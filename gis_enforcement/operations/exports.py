"""Exports of a filtered set of incidents as CSV or GeoPackage: in the answer when small, written in the
background when large (a job id; its state and file kept under DATA_DIR/exports, so any server process can
answer for it).

A job is ``<id>.json`` (owner, format, status: writing → done | failed) beside ``<id>.<format>``; files are
written to a temporary name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd

__all__ = ["EXPORT_TYPES", "export_bytes", "export_file", "export_state", "start_export", "write_export"]

EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "gpkg": "application/geopackage+sqlite3"}


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    for column in ("observed_at", "received_at"):
        if column in out.columns:
            out[column] = out[column].astype(str)
    return out


def write_export(frame: gpd.GeoDataFrame, fmt: str, path: Path) -> Path:
    """Write ``frame`` (the store's incidents frame) as ``fmt`` to ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".writing-", suffix=f".{fmt}")
    os.close(fd)
    try:
        plain = _plain(frame)
        if fmt == "csv":
            plain.drop(columns="geometry").to_csv(tmp, index=False, encoding="utf-8-sig")  # Excel reads the BOM
        elif fmt == "gpkg":
            Path(tmp).unlink()
            plain.to_file(tmp, driver="GPKG", layer="incidents")
        else:
            raise ValueError(f"unknown export format {fmt}")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def export_bytes(frame: gpd.GeoDataFrame, fmt: str) -> bytes:
    """The export as bytes (small sets, answered inline)."""
    with tempfile.TemporaryDirectory() as folder:
        return write_export(frame, fmt, Path(folder) / f"incidents.{fmt}").read_bytes()


def _state_path(folder: Path, job: str) -> Path:
    return folder / f"{job}.json"


def _save_state(folder: Path, job: str, state: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{job}.json.tmp"
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, _state_path(folder, job))


def export_state(folder: Path, job: str) -> dict[str, Any] | None:
    path = _state_path(folder, job)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None  # type: ignore[no-any-return]


def export_file(folder: Path, job: str, fmt: str) -> Path:
    return folder / f"{job}.{fmt}"


def start_export(folder: Path, *, fmt: str, owner: str, read: Callable[[], gpd.GeoDataFrame]) -> str:
    """Begin writing an export in a background thread; returns the job id at once."""
    job = uuid.uuid4().hex
    state: dict[str, Any] = {"owner": owner, "format": fmt, "status": "writing"}
    _save_state(folder, job, state)

    def run() -> None:
        try:
            write_export(read(), fmt, export_file(folder, job, fmt))
            _save_state(folder, job, {**state, "status": "done"})
        except Exception as exc:  # the job says it failed; the client is told when it asks
            _save_state(folder, job, {**state, "status": "failed", "error": type(exc).__name__})

    threading.Thread(target=run, name=f"export-{job[:8]}", daemon=True).start()
    return job
