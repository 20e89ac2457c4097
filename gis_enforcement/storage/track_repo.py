"""Patrol tracks in PostGIS: one row per patrol, replaced as the page re-sends it. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.tracks import PatrolTrack, TrackVertices

_SUMMARY = ("id, officer, township_code, department, started_at, ended_at, point_count, received_at, updated_at, "
            "ST_XMin(geom) AS xmin, ST_YMin(geom) AS ymin, ST_XMax(geom) AS xmax, ST_YMax(geom) AS ymax")
_WHERE = ("WHERE (CAST(:officer AS text) IS NULL OR officer = :officer) "
          "AND (CAST(:town AS text) IS NULL OR township_code = :town) "
          "AND (CAST(:since AS timestamptz) IS NULL OR ended_at >= :since)")


def _line_wkb(vertices: TrackVertices) -> bytes:
    xy = np.column_stack([vertices.lon, vertices.lat])
    if len(xy) == 1:  # one position: a line of two equal vertices (point_count says 1)
        xy = np.vstack([xy, xy])
    return shapely.to_wkb(shapely.linestrings(xy))  # type: ignore[no-any-return]


def upsert_track(session: Session, *, track_id: str, officer: str, township_code: str | None,
                 department: str | None, vertices: TrackVertices, at: datetime) -> bool | None:
    """Store the track, or replace its vertices when ``officer`` stored it before: True when new, False when
    replaced, None when another officer holds this id (nothing is changed). The unit and ``received_at`` stay
    those of the first upload."""
    row = session.execute(text(
        "INSERT INTO patrol_track AS t (id, officer, township_code, department, started_at, ended_at, point_count, "
        "times, accuracies, received_at, updated_at, geom) "
        "VALUES (:id, :officer, :town, :dept, :start, :end, :n, CAST(:times AS timestamptz[]), "
        "CAST(:acc AS double precision[]), :at, :at, ST_SetSRID(ST_GeomFromWKB(:wkb), 4326)) "
        "ON CONFLICT (id) DO UPDATE SET started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, "
        "point_count = EXCLUDED.point_count, times = EXCLUDED.times, accuracies = EXCLUDED.accuracies, "
        "updated_at = EXCLUDED.updated_at, geom = EXCLUDED.geom WHERE t.officer = EXCLUDED.officer "
        "RETURNING (xmax = 0) AS created"),
        {"id": track_id, "officer": officer, "town": township_code, "dept": department,
         "start": vertices.times[0], "end": vertices.times[-1], "n": vertices.point_count,
         "times": list(vertices.times), "acc": None if vertices.accuracy_m is None else list(vertices.accuracy_m),
         "at": at, "wkb": _line_wkb(vertices)}).first()
    return None if row is None else bool(row[0])


def track_owner(session: Session, *, track_id: str) -> str | None:
    """Who recorded the track, or None when there is no such track."""
    return session.execute(text("SELECT officer FROM patrol_track WHERE id = :id"),  # type: ignore[no-any-return]
                           {"id": track_id}).scalar()


def get_track(session: Session, *, track_id: str) -> PatrolTrack | None:
    """The stored track with its vertices, or None."""
    row = session.execute(text(
        "SELECT id, officer, township_code, department, started_at, ended_at, point_count, times, accuracies, "
        "received_at, updated_at, ST_AsBinary(geom) AS wkb FROM patrol_track WHERE id = :id"),
        {"id": track_id}).mappings().first()
    if row is None:
        return None
    n = row["point_count"]
    xy = shapely.get_coordinates(shapely.from_wkb(bytes(row["wkb"])))[:n]
    return PatrolTrack(
        id=row["id"], officer=row["officer"], township_code=row["township_code"], department=row["department"],
        started_at=row["started_at"], ended_at=row["ended_at"],
        coordinates=tuple((float(x), float(y)) for x, y in xy), times=tuple(row["times"]),
        accuracy_m=None if row["accuracies"] is None else tuple(row["accuracies"]),
        received_at=row["received_at"], updated_at=row["updated_at"])


def list_tracks(session: Session, *, officer: str | None = None, township_code: str | None = None,
                since: datetime | None = None, limit: int = 100, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Track summaries (no vertices; ``xmin``…``ymax`` their extent), newest start first, and how many match.
    ``since`` keeps the tracks that ended at or after it; None filters do not restrict."""
    params = {"officer": officer, "town": township_code, "since": since}
    rows = session.execute(text(
        f"SELECT {_SUMMARY}, count(*) OVER () AS total FROM patrol_track {_WHERE} "
        "ORDER BY started_at DESC, id LIMIT :limit OFFSET :offset"), {**params, "limit": limit, "offset": offset},
    ).mappings().all()
    if rows:
        total = rows[0]["total"]
    else:  # past the last page: the window count has no row to ride on
        total = session.execute(text(f"SELECT count(*) FROM patrol_track {_WHERE}"), params).scalar_one()
    return [{k: v for k, v in r.items() if k != "total"} for r in rows], int(total)


#: the columns of :func:`tracks_frame`, before its geometry
TRACK_FRAME_COLUMNS = ("id", "officer", "township_code", "department", "started_at", "ended_at", "point_count",
                       "t")


def tracks_frame(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                 township_code: str | None = None, officer: str | None = None) -> gpd.GeoDataFrame:
    """The tracks of a period as WGS84 lines (EPSG:4326), oldest first: those that were on at some time in
    ``[start, end)`` (started before ``end``, ended at or after ``start``; None bounds do not restrict), of one
    recorder's ``township_code`` and of one ``officer`` when given. Columns :data:`TRACK_FRAME_COLUMNS` and the
    geometry: ``t`` holds each vertex's time as UTC epoch seconds (a float array, one per vertex); a track of one
    position is a line of two equal vertices with one time repeated."""
    rows = session.execute(text(
        "SELECT id, officer, township_code, department, started_at, ended_at, point_count, "
        "ARRAY(SELECT extract(epoch FROM u.t)::float8 FROM unnest(times) WITH ORDINALITY AS u(t, k) ORDER BY k) "
        "AS t, ST_AsBinary(geom) AS wkb FROM patrol_track "
        "WHERE (CAST(:start AS timestamptz) IS NULL OR ended_at >= :start) "
        "AND (CAST(:end AS timestamptz) IS NULL OR started_at < :end) "
        "AND (CAST(:town AS text) IS NULL OR township_code = :town) "
        "AND (CAST(:officer AS text) IS NULL OR officer = :officer) ORDER BY started_at, id"),
        {"start": start, "end": end, "town": township_code, "officer": officer}).mappings().all()
    frame = pd.DataFrame([{k: r[k] for k in TRACK_FRAME_COLUMNS} for r in rows], columns=list(TRACK_FRAME_COLUMNS))
    times = [np.asarray(t, dtype=np.float64) for t in frame["t"]]
    # a one-position track is stored as two equal vertices: its one time stands for both
    frame["t"] = [np.repeat(t, 2) if len(t) == 1 else t for t in times]
    geometry = shapely.from_wkb([bytes(r["wkb"]) for r in rows]) if rows else np.array([], dtype=object)
    for column in ("started_at", "ended_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=4326), crs=4326)
