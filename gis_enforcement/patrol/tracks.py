"""Patrol tracks: record (an idempotent upsert by the page's id, the whole track each time), read and list,
each within the caller's scope. Services take a session and never commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gis_enforcement.domain.access import Caller, may_read_track, track_scope
from gis_enforcement.domain.tracks import PatrolTrack, TrackVertices
from gis_enforcement.errors import Forbidden, NotFound
from gis_enforcement.storage import Session, track_repo

__all__ = ["list_tracks", "read_track", "record_track"]


def _units(caller: Caller) -> tuple[str | None, str | None]:
    """The township and department a track is recorded for: the recorder's unit (the district: neither)."""
    if caller.unit_kind == "township":
        return caller.unit_code, None
    if caller.unit_kind == "department":
        return None, caller.unit_code
    return None, None


def record_track(session: Session, *, track_id: str, caller: Caller, vertices: TrackVertices, at: datetime) -> bool:
    """Store the track ``caller`` uploads under the page's ``track_id``, replacing the vertices stored before:
    True when it is new. A track belongs to who recorded it first: another user's upload is
    :class:`Forbidden` and changes nothing."""
    township, department = _units(caller)
    created = track_repo.upsert_track(session, track_id=track_id, officer=caller.username, township_code=township,
                                      department=department, vertices=vertices, at=at)
    if created is None:
        raise Forbidden("this track was recorded by another officer", field="track_id")
    return created


def read_track(session: Session, *, track_id: str, caller: Caller) -> PatrolTrack:
    """The track, when ``caller`` may read it: :class:`NotFound` when there is none, :class:`Forbidden` when it
    is outside the caller's scope (another patrol's, another township's)."""
    track = track_repo.get_track(session, track_id=track_id)
    if track is None:
        raise NotFound(f"no track {track_id}", field="track_id")
    if not may_read_track(caller, officer=track.officer, township_code=track.township_code):
        raise Forbidden("this track is outside your unit", field="track_id")
    return track


def list_tracks(session: Session, *, caller: Caller, officer: str | None, since: datetime | None, limit: int,
                offset: int) -> tuple[list[dict[str, Any]], int]:
    """Track summaries within the caller's scope (filtered, never refused), newest first, and how many match:
    ``officer`` narrows it to one recorder, ``since`` to the tracks that ended then or later."""
    scope = track_scope(caller)
    if scope.officer is not None and officer is not None and officer != scope.officer:
        return [], 0
    return track_repo.list_tracks(session, officer=officer or scope.officer, township_code=scope.township,
                                  since=since, limit=limit, offset=offset)
