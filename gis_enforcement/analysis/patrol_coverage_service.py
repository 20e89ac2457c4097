"""Patrol coverage from the store, within what the caller may read: the district every township's tracks, a
township dispatcher its own township's, a patrol officer its own. Takes a session and never commits."""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd

from gis_enforcement.analysis.patrol_coverage import COVER_DISTANCE_M, PatrolCoverage, patrol_coverage
from gis_enforcement.domain.access import Caller, check, track_scope
from gis_enforcement.errors import Forbidden, InvalidInput, NotFound
from gis_enforcement.storage import Session, layer_repo, track_repo

__all__ = ["coverage_for", "period_tracks"]

#: the farthest a patrol can be said to cover either side of its track
MAX_DISTANCE_M = 5_000.0


def period_tracks(session: Session, *, caller: Caller, start: datetime | None, end: datetime | None,
                  township: str | None = None) -> tuple[gpd.GeoDataFrame, str | None]:
    """The tracks of ``[start, end)`` the caller may read (of ``township`` when given) and the township they are
    narrowed to. A township outside the caller's scope is :class:`Forbidden` (field ``township``)."""
    check(caller, "track.read")
    scope = track_scope(caller)
    if township is not None and scope.township is not None and township != scope.township:
        raise Forbidden(f"you read the tracks of {scope.township}, not {township}", field="township")
    town = township or scope.township
    tracks = track_repo.tracks_frame(session, start=start, end=end, township_code=town, officer=scope.officer)
    return tracks, town


def coverage_for(session: Session, *, caller: Caller, start: datetime | None, end: datetime | None, tz: str,
                 township: str | None = None, distance_m: float = COVER_DISTANCE_M
                 ) -> tuple[PatrolCoverage, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The coverage of ``[start, end)`` (None bounds: every stored track) for the caller (see the module), and
    the tracks, townships and zones it was computed from (a township's own when narrowed to one): per township
    tracks, hours, km and night km; per township × zone kind and per zone the share of the zones' area within
    ``distance_m`` of a track, all day and at night. An unknown ``township`` is :class:`NotFound`."""
    if not 0 < distance_m <= MAX_DISTANCE_M:
        raise InvalidInput(f"the distance is more than 0 and at most {MAX_DISTANCE_M:g} m", field="distance_m")
    tracks, town = period_tracks(session, caller=caller, start=start, end=end, township=township)
    layers = layer_repo.read_layers(session)
    townships, zones = layers["township"], layers["zone"]
    if town is not None:
        townships = townships.loc[townships["code"] == town]
        if townships.empty:
            raise NotFound(f"no township {town}", field="township")
        zones = zones.loc[zones.intersects(townships.union_all())]
    result = patrol_coverage(tracks, townships=townships, zones=zones, start=start, end=end, tz=tz,
                             distance_m=distance_m)
    return result, tracks, townships, zones
