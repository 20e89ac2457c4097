"""Patrol tracks: the positions a patrol officer's page records every few seconds while a patrol is on.

A track is one patrol: its vertices (WGS84), one time per vertex (never going back), and optionally the fix
accuracy of each. :func:`parse_track` checks what a page sends and names the first bad value the way the page
sent it (``properties.times[3]``), converting the coordinates from the page's datum. Pure: no I/O (the current
time is an argument).

A track has to be one that could have been driven: no time later than the server's clock allows for (a phone's
clock may run :data:`~gis_enforcement.domain.deadlines.CLOCK_SKEW` fast) or before :data:`EARLIEST`, as for a
report's ``observed_at``; and no step between two consecutive positions faster than :data:`MAX_SPEED_M_S` once
both fixes' accuracy is allowed for — the distance less the two accuracies (when given) may be at most
:data:`MAX_SPEED_M_S` × the seconds between them + :data:`JUMP_SLACK_M`. A position the page repeated (no
new fix came: standing still, a tunnel) counts from its first time, so the first fresh fix after a gap is
judged over the whole gap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from gis_enforcement.domain.datum import parse_datum, to_wgs84
from gis_enforcement.domain.deadlines import CLOCK_SKEW, require_aware
from gis_enforcement.errors import InvalidInput

__all__ = ["EARLIEST", "FUTURE_REASON", "JUMP_SLACK_M", "MAX_SPEED_M_S", "MAX_VERTICES", "PAST_REASON",
           "PatrolTrack", "TrackVertices", "parse_track"]

#: twelve hours at one position every two seconds, and some
MAX_VERTICES = 25_000
#: the earliest time a device may report — a report's ``observed_at``, a track's positions: a phone whose clock
#: says earlier has lost it (most fall back to 1970 or to their build date)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: why a device's time is refused: later than the server's clock + ``CLOCK_SKEW``, or before ``EARLIEST``
FUTURE_REASON = "is in the future"
PAST_REASON = f"is before {EARLIEST.year}"
#: the fastest a patrol moves between two positions, in m/s (360 km/h): road patrols stay far below it (an
#: expressway allows 120 km/h), so a stale position followed by a fresh one, and the odd poor fix beyond what its
#: accuracy says, still pass; a jump of tens of kilometres in seconds does not
MAX_SPEED_M_S = 100.0
#: the page sends whole seconds: two positions a second apart may carry the same time, so one second at
#: ``MAX_SPEED_M_S`` is allowed on top of the elapsed time
JUMP_SLACK_M = MAX_SPEED_M_S * 1.0
#: mean Earth radius (IUGG), for great-circle distances between consecutive positions
_EARTH_RADIUS_M = 6_371_008.8


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


def _time(value: Any, where: str, now: datetime) -> datetime:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise InvalidInput("an ISO 8601 time is required, e.g. 2026-05-12T22:00:05+08:00", field=where)
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput("the time needs its UTC offset (e.g. +08:00 or Z)", field=where)
    if moment > now + CLOCK_SKEW:
        raise InvalidInput(f"{FUTURE_REASON} (later than the server's clock by more than "
                           f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes)", field=where,
                           skew_s=int(CLOCK_SKEW.total_seconds()))
    if moment < EARLIEST:
        raise InvalidInput(PAST_REASON, field=where, earliest=EARLIEST.date().isoformat())
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


def _distances_m(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle (haversine) distance in metres from each position to the next: one fewer than positions."""
    p = np.radians(lat)
    dp, dl = np.diff(p), np.radians(np.diff(lon))
    a = np.sin(dp / 2) ** 2 + np.cos(p[:-1]) * np.cos(p[1:]) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _first_jump(lon: np.ndarray, lat: np.ndarray, times: Sequence[datetime],
                accuracy_m: tuple[float | None, ...] | None) -> tuple[int, float, float] | None:
    """The first position reached faster than :data:`MAX_SPEED_M_S` allows from the one before, with the distance
    (m) and the seconds between them, or None. A fix's accuracy (when given) is taken off the distance."""
    if len(times) < 2:
        return None
    distance = _distances_m(lon, lat)
    t0 = times[0]
    seconds = np.array([(t - t0).total_seconds() for t in times], dtype=np.float64)
    # the page repeats its last position while the phone gets no new fix (standing still, a tunnel): a step
    # counts from the first time the position before it was recorded, not from its last repeat
    starts_run = np.r_[True, (np.diff(lon) != 0) | (np.diff(lat) != 0)]
    run_start = seconds[np.flatnonzero(starts_run)][np.cumsum(starts_run) - 1]
    elapsed = seconds[1:] - run_start[:-1]
    allowance = np.zeros(len(times))
    if accuracy_m is not None:
        # no further than half the Earth round: a larger accuracy says no more, and the sums stay finite
        allowance = np.minimum(np.array([0.0 if a is None else a for a in accuracy_m], dtype=np.float64),
                               math.pi * _EARTH_RADIUS_M)
    too_fast = distance - allowance[:-1] - allowance[1:] > MAX_SPEED_M_S * elapsed + JUMP_SLACK_M
    if not too_fast.any():
        return None
    k = int(np.argmax(too_fast))
    return k + 1, float(distance[k]), float(elapsed[k])


def parse_track(*, geometry_type: str, coordinates: Sequence[Any], times: Sequence[Any], now: datetime,
                accuracy_m: Sequence[Any] | None = None, crs: str = "wgs84") -> TrackVertices:
    """Check an uploaded track and convert it to WGS84.

    ``geometry_type`` is ``LineString`` (one or more positions) or ``Point`` (a track of one position, its
    ``coordinates`` the position itself); ``times`` holds one ISO 8601 time with offset per position, never
    earlier than the one before, none later than ``now`` (aware: the server's clock) + ``CLOCK_SKEW`` nor before
    :data:`EARLIEST`; ``accuracy_m`` (optional) one accuracy or null per position; ``crs`` the datum of the
    coordinates (``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``). No position may be further from the one before
    than a patrol could have gone (see the module). Raises :class:`InvalidInput` naming the first bad value as
    the page sent it (``geometry.coordinates[2][1]``, ``properties.times[3]``; a jump names the later position,
    ``geometry.coordinates[5]``).
    """
    require_aware(now, "now")
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
    moments = [_time(t, f"properties.times[{i}]", now) for i, t in enumerate(times)]
    for i in range(1, len(moments)):
        if moments[i] < moments[i - 1]:
            raise InvalidInput(f"earlier than the time before it ({moments[i - 1].isoformat()})",
                               field=f"properties.times[{i}]")
    accuracies = _accuracies(accuracy_m, len(points))
    xy = np.asarray(points, dtype=np.float64)
    lon, lat = (np.asarray(v, dtype=np.float64) for v in to_wgs84(xy[:, 0], xy[:, 1], datum))
    jump = _first_jump(lon, lat, moments, accuracies)
    if jump is not None:
        i, metres, seconds = jump
        raise InvalidInput(f"{metres / 1000:.1f} km from the position before it in {seconds:g} s: faster than "
                           f"{MAX_SPEED_M_S:g} m/s once the fixes' accuracy is allowed for",
                           field=f"geometry.coordinates[{i}]", distance_m=round(metres), seconds=seconds,
                           max_speed_m_s=MAX_SPEED_M_S)
    return TrackVertices(lon, lat, tuple(moments), accuracies)
