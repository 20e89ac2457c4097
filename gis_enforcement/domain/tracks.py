"""Patrol tracks: the positions a patrol officer's page records every few seconds while a patrol is on.

A track is one patrol: its vertices (WGS84), one time per vertex (never going back), and optionally the fix
accuracy of each. :func:`parse_track` checks what a page sends and names the first bad value the way the page
sent it (``properties.times[3]``), converting the coordinates from the page's datum. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from gis_enforcement.domain.datum import parse_datum, to_wgs84
from gis_enforcement.errors import InvalidInput

__all__ = ["MAX_VERTICES", "PatrolTrack", "TrackVertices", "parse_track"]

#: twelve hours at one position every two seconds, and some
MAX_VERTICES = 25_000


@dataclass(frozen=True, slots=True)
class TrackVertices:
    """A track's positions as uploaded, checked and in WGS84: ``lon``/``lat`` float arrays, one aware time per
    vertex (non-decreasing) and the fix accuracies (None where a fix had none; the tuple None when none sent)."""

    lon: np.ndarray
    lat: np.ndarray
    times: tuple[datetime, ...]
    accuracy_m: tuple[float | None, ...] | None

    @property
    def point_count(self) -> int:
        return len(self.times)


@dataclass(frozen=True, slots=True)
class PatrolTrack:
    """A stored track: who recorded it and for which unit, its span and vertices (WGS84)."""

    id: str
    officer: str
    township_code: str | None
    department: str | None
    started_at: datetime
    ended_at: datetime
    coordinates: tuple[tuple[float, float], ...]
    times: tuple[datetime, ...]
    accuracy_m: tuple[float | None, ...] | None
    received_at: datetime
    updated_at: datetime

    @property
    def point_count(self) -> int:
        return len(self.times)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _position(value: Any, where: str) -> tuple[float, float]:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) not in (2, 3):
        raise InvalidInput("a position is [lon, lat] (or [lon, lat, altitude])", field=where)
    lon, lat = _number(value[0]), _number(value[1])
    if lon is None or not -180 <= lon <= 180:
        raise InvalidInput("the longitude must be a number from -180 to 180", field=f"{where}[0]")
    if lat is None or not -90 <= lat <= 90:
        raise InvalidInput("the latitude must be a number from -90 to 90", field=f"{where}[1]")
    return lon, lat


def _time(value: Any, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidInput("an ISO 8601 time is required, e.g. 2026-05-12T22:00:05+08:00", field=where)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("the time needs its UTC offset (e.g. +08:00 or Z)", field=where)
    if not 1970 <= moment.year <= 2999:
        raise InvalidInput("the time must be between the years 1970 and 2999", field=where)
    return moment


def _accuracies(values: Sequence[Any] | None, n: int) -> tuple[float | None, ...] | None:
    if values is None:
        return None
    if len(values) != n:
        raise InvalidInput(f"one accuracy per position is required: {n} positions, {len(values)} accuracies",
                           field="properties.accuracy_m")
    out: list[float | None] = []
    for i, value in enumerate(values):
        number = _number(value)
        if value is not None and (number is None or number < 0):
            raise InvalidInput("an accuracy is a number of metres, 0 or more, or null",
                               field=f"properties.accuracy_m[{i}]")
        out.append(number)
    return tuple(out)


def parse_track(*, geometry_type: str, coordinates: Sequence[Any], times: Sequence[Any],
                accuracy_m: Sequence[Any] | None = None, crs: str = "wgs84") -> TrackVertices:
    """Check an uploaded track and convert it to WGS84.

    ``geometry_type`` is ``LineString`` (one or more positions) or ``Point`` (a track of one position, its
    ``coordinates`` the position itself); ``times`` holds one ISO 8601 time with offset per position, never
    earlier than the one before; ``accuracy_m`` (optional) one accuracy or null per position; ``crs`` the datum
    of the coordinates (``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``). Raises :class:`InvalidInput` naming the
    first bad value as the page sent it (``geometry.coordinates[2][1]``, ``properties.times[3]``).
    """
    try:
        datum = parse_datum(crs)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, field="properties.crs") from None
    if geometry_type == "Point":
        points = [_position(coordinates, "geometry.coordinates")]
    elif geometry_type == "LineString":
        if not coordinates:
            raise InvalidInput("a track needs at least one position", field="geometry.coordinates")
        if len(coordinates) > MAX_VERTICES:
            raise InvalidInput(f"at most {MAX_VERTICES} positions per track", field="geometry.coordinates")
        points = [_position(c, f"geometry.coordinates[{i}]") for i, c in enumerate(coordinates)]
    else:
        raise InvalidInput("a track is a LineString (or a Point for one position)", field="geometry.type")
    if len(times) != len(points):
        raise InvalidInput(f"one time per position is required: {len(points)} positions, {len(times)} times",
                           field="properties.times")
    moments = [_time(t, f"properties.times[{i}]") for i, t in enumerate(times)]
    for i in range(1, len(moments)):
        if moments[i] < moments[i - 1]:
            raise InvalidInput(f"earlier than the time before it ({moments[i - 1].isoformat()})",
                               field=f"properties.times[{i}]")
    xy = np.asarray(points, dtype=np.float64)
    lon, lat = to_wgs84(xy[:, 0], xy[:, 1], datum)
    return TrackVertices(np.asarray(lon), np.asarray(lat), tuple(moments), _accuracies(accuracy_m, len(points)))
