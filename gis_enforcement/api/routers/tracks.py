"""/api/v1/tracks — patrol tracks: the positions the offline-first patrol page records while a patrol is on.

The page keeps the track under its own UUID and re-sends the whole of it as it grows (``PUT``, idempotent: each
upload replaces the stored vertices). A track belongs to its recorder; its township's dispatcher and the district
read it too. A track of one position is a GeoJSON ``Point`` (stored as a line of two equal vertices).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from gis_enforcement.api.auth import ReadsTracks, RecordsTracks
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.routers.dispatch import ERRORS, ClockDep
from gis_enforcement.api.schemas import BIGINT_MAX
from gis_enforcement.domain.tracks import MAX_VERTICES, PatrolTrack, parse_track
from gis_enforcement.errors import InvalidInput
from gis_enforcement.patrol.tracks import list_tracks, read_track, record_track

router = APIRouter(prefix="/api/v1/tracks", tags=["patrol"])
TrackId = Annotated[UUID, Path(description="the page's own UUID of the track")]
_EXAMPLE: dict[str, Any] = {"type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[117.1236, 40.1418], [117.1241, 40.1422]]},
            "properties": {"times": ["2026-05-12T22:00:00+08:00", "2026-05-12T22:00:10+08:00"],
                           "accuracy_m": [8, 6], "crs": "gcj02"}}


class TrackGeometryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["LineString", "Point"]
    coordinates: list[Any] = Field(max_length=MAX_VERTICES, description="[[lon, lat], …] (a Point: [lon, lat])")


class TrackPropertiesIn(BaseModel):
    """One time (ISO 8601 with offset, never earlier than the one before) and optionally one accuracy per
    position; ``crs`` the datum of the coordinates. Other properties are ignored."""

    model_config = ConfigDict(extra="ignore")
    times: list[Any] = Field(max_length=MAX_VERTICES, description="ISO 8601 times, one per position")
    accuracy_m: list[Any] | None = Field(default=None, max_length=MAX_VERTICES,
                                         description="fix accuracy in metres (or null) per position")
    crs: str = Field(default="wgs84", max_length=32, description="wgs84 | gcj02 | bd09 | cgcs2000")


class TrackFeatureIn(BaseModel):
    """The whole track as a GeoJSON Feature."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})
    type: Literal["Feature"]
    id: str | None = Field(default=None, max_length=64, description="when given, the track id of the path")
    bbox: list[float] | None = Field(default=None, max_length=6, description="ignored")
    geometry: TrackGeometryIn
    properties: TrackPropertiesIn


class TrackGeometry(BaseModel):
    type: Literal["LineString", "Point"]
    coordinates: list[list[float]] | list[float]


class TrackFacts(BaseModel):
    """Who recorded a track for which unit, its span, and when it was first and last received."""

    officer: str
    township_code: str | None
    department: str | None
    started_at: datetime
    ended_at: datetime
    point_count: int
    received_at: datetime
    updated_at: datetime


class TrackProperties(TrackFacts):
    times: list[datetime]
    accuracy_m: list[float | None] | None
    crs: Literal["wgs84"] = "wgs84"


class TrackFeature(BaseModel):
    """A stored track in WGS84, times in the platform's time zone."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: TrackGeometry
    properties: TrackProperties


class TrackSummary(TrackFacts):
    id: str
    bbox: list[float] = Field(description="[min lon, min lat, max lon, max lat], WGS84")


class TracksPublic(BaseModel):
    data: list[TrackSummary]
    count: int


def _feature(track: PatrolTrack, tz: str) -> TrackFeature:
    zone = ZoneInfo(tz)
    coords = [list(c) for c in track.coordinates]
    geometry = TrackGeometry(type="Point", coordinates=coords[0]) if len(coords) == 1 else \
        TrackGeometry(type="LineString", coordinates=coords)
    return TrackFeature(id=track.id, geometry=geometry, properties=TrackProperties(
        officer=track.officer, township_code=track.township_code, department=track.department,
        started_at=track.started_at.astimezone(zone), ended_at=track.ended_at.astimezone(zone),
        point_count=track.point_count, times=[t.astimezone(zone) for t in track.times],
        accuracy_m=None if track.accuracy_m is None else list(track.accuracy_m),
        received_at=track.received_at.astimezone(zone), updated_at=track.updated_at.astimezone(zone)))


@router.put("/{track_id}", operation_id="put_track", response_model=TrackFeature,
            responses={201: {"model": TrackFeature, "description": "a new track"}, **ERRORS},
            summary="Record a patrol track (the whole of it, again as it grows): 201 new, 200 replaced")
def put_track(track_id: TrackId, body: TrackFeatureIn, response: Response, session: SessionDep,
              platform: PlatformDep, clock: ClockDep, caller: RecordsTracks) -> TrackFeature:
    """Idempotent by ``track_id``: each upload replaces the vertices stored before. Coordinates in ``crs`` are
    converted to WGS84. Another user's track: 403; a bad value: 422 naming it (``properties.times[3]``) — a time
    in the future or before 2000, or a position too far from the one before to have been reached in the time
    between them (``geometry.coordinates[5]``)."""
    if body.id is not None and body.id.lower() != str(track_id):
        raise InvalidInput(f"the feature's id {body.id!r} is not the track id of the path", field="id")
    now = clock()
    vertices = parse_track(geometry_type=body.geometry.type, coordinates=body.geometry.coordinates,
                           times=body.properties.times, accuracy_m=body.properties.accuracy_m,
                           crs=body.properties.crs, now=now)
    created = record_track(session, track_id=str(track_id), caller=caller, vertices=vertices, at=now)
    session.commit()
    response.status_code = 201 if created else 200
    return _feature(read_track(session, track_id=str(track_id), caller=caller), platform.settings.timezone)


class TownshipCoverage(BaseModel):
    township_code: str | None
    township_name: str
    tracks: int
    hours: float
    km: float
    night_km: float


class ZoneKindCoverage(BaseModel):
    township_code: str
    kind: str
    zones: int
    zone_km2: float
    covered_share: float = Field(description="share of the zones' area within distance_m of a track (0–1)")
    night_share: float = Field(description="the same for the night's tracks (20:00–06:00 district time)")


class ZoneCoverage(BaseModel):
    code: str
    name: str
    kind: str
    zone_km2: float
    covered_share: float
    night_share: float
    patrolled: bool


class CoveragePublic(BaseModel):
    """Patrol coverage of a period within the caller's scope."""

    period: str | None
    distance_m: float
    townships: list[TownshipCoverage]
    zone_kinds: list[ZoneKindCoverage]
    zones: list[ZoneCoverage]


# declared before /{track_id}: "coverage" is not a track id (a UUID) anyway
@router.get("/coverage", operation_id="get_track_coverage", response_model=CoveragePublic, responses=ERRORS,
            summary="Patrol coverage per township and zone kind, all day and at night")
def get_coverage(
    session: SessionDep,
    platform: PlatformDep,
    caller: ReadsTracks,
    period: Annotated[str | None, Query(max_length=64, description="2026-05, 2026-W20, 2026-05-12 or START..END "
                                                                  "(default: every stored track)")] = None,
    township: Annotated[str | None, Query(max_length=32, description="one township's code")] = None,
) -> CoveragePublic:
    """Per township: tracks, hours, km, night km; per township × zone kind and per zone, the share of the zones'
    area within 100 m of a track. A township dispatcher reads its own township (another: 403 on ``township``), a
    patrol its own tracks, the district all."""
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.analysis.patrol_coverage_service import coverage_for

    span = parse_period(period, tz=platform.settings.timezone) if period else None
    cov, _, _, _ = coverage_for(session, caller=caller, start=span.start if span else None,
                                end=span.end if span else None, tz=platform.settings.timezone, township=township)

    def rows(frame: Any) -> list[dict[str, Any]]:
        return [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()}
                for r in frame.to_dict("records")]

    return CoveragePublic.model_validate({"period": span.label if span else None, "distance_m": cov.distance_m,
                                          "townships": rows(cov.townships), "zone_kinds": rows(cov.zone_kinds),
                                          "zones": rows(cov.zones)})


@router.get("/{track_id}", operation_id="get_track", response_model=TrackFeature, responses=ERRORS,
            summary="One patrol track as a GeoJSON Feature (WGS84)")
def get_track(track_id: TrackId, session: SessionDep, platform: PlatformDep, caller: ReadsTracks) -> TrackFeature:
    """Its recorder, its township's dispatcher and the district may read it."""
    return _feature(read_track(session, track_id=str(track_id), caller=caller), platform.settings.timezone)


@router.get("", operation_id="list_tracks", response_model=TracksPublic, responses=ERRORS,
            summary="Patrol tracks within the caller's scope, newest first (no vertices)")
def get_tracks(
    session: SessionDep,
    platform: PlatformDep,
    caller: ReadsTracks,
    officer: Annotated[str | None, Query(max_length=64, description="the recorder's user name")] = None,
    since: Annotated[AwareDatetime | None, Query(description="tracks that ended at or after this time")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> TracksPublic:
    """A patrol's own tracks, a township's tracks, or (the district) every track."""
    rows, total = list_tracks(session, caller=caller, officer=officer, since=since, limit=limit, offset=offset)
    zone = ZoneInfo(platform.settings.timezone)
    data = [TrackSummary.model_validate({**{k: (v.astimezone(zone) if isinstance(v, datetime) else v)
                                            for k, v in r.items()},
                                         "bbox": [r["xmin"], r["ymin"], r["xmax"], r["ymax"]]}) for r in rows]
    return TracksPublic(data=data, count=total)
