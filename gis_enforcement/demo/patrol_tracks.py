"""The demo's patrol tracks, recorded through the real path (:func:`~gis_enforcement.domain.tracks.parse_track`
then :func:`~gis_enforcement.patrol.tracks.record_track`), as the patrol page would have uploaded them.

For the last :data:`DAYS` days of the season, each township's patrol shifts: a **night** shift (20:00–06:00) and
a **day** shift (06:00–20:00) on each day the township reported incidents in that shift, and on some quiet days a
shift that found nothing. A shift leaves the township's seat (the representative point of its polygon), passes
each incident of the shift at the time it was reported (one too far to reach at :data:`MAX_SPEED_M_S` from the
one before is left to another crew), wanders through the township's zones while it has time (night shifts make
for the river corridors and mining areas, where 盗采 happens), and comes back. Positions every 10–30 s at driving
speed along a gently winding path, accuracies 5–30 m with matching GPS noise. The same seed gives the same
tracks (ids included): a second run replaces them, nothing is recorded twice.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.tracks import parse_track
from gis_enforcement.domain.zone import district_zone
from gis_enforcement.patrol.tracks import record_track
from gis_enforcement.storage import Session

__all__ = ["DAYS", "TrackSeason", "record_season_tracks"]

#: the last days of the season whose shifts are recorded
DAYS = 14
#: the most shifts recorded (keeps ``make demo`` within seconds)
MAX_TRACKS = 300
#: a crew does not drive faster than this between two reports (m/s, 72 km/h)
MAX_SPEED_M_S = 20.0
#: share of the quiet shifts (no report) that still patrolled
P_QUIET_SHIFT = 0.25
_NS = uuid.UUID("0b3c8a52-7d7e-4c1a-9f55-2a7e6c1d2017")
_TO_METRIC = Transformer.from_crs(4326, 4548, always_xy=True)
_TO_WGS84 = Transformer.from_crs(4548, 4326, always_xy=True)


@dataclass(frozen=True, slots=True)
class TrackSeason:
    """What was recorded: tracks (new and replaced), positions, and the incidents the tracks passed by."""

    tracks: int
    new: int
    positions: int
    incidents_passed: int


def _shift_of(local: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each local time's shift: night (20:00–06:00) or day, and the date the shift began."""
    hour = local.dt.hour
    night = (hour >= 20) | (hour < 6)
    began = (local - pd.to_timedelta(np.where(hour < 6, 1, 0), unit="D")).dt.date
    return night, began


def _wander(rng: np.random.Generator, town: shapely.Geometry, zones: list[shapely.Geometry]) -> tuple[float, float]:
    """A point to patrol towards (EPSG:4548): in one of the township's zones when it has any, else anywhere in
    the township."""
    area = zones[int(rng.integers(len(zones)))] if zones else town
    x0, y0, x1, y1 = area.bounds
    for _ in range(50):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if area.contains(shapely.Point(x, y)):
            return float(x), float(y)
    p = area.representative_point()
    return float(p.x), float(p.y)


def _knots(rng: np.random.Generator, stops: list[tuple[float, float, float]], town: shapely.Geometry,
           zones: list[shapely.Geometry]) -> list[tuple[float, float, float]]:
    """The path as (t, x, y) knots: from stop to stop at driving speed, with detours through the zones while the
    crew has time and gently winding legs (roads are not straight)."""
    knots = [stops[0]]
    for t1, x1, y1 in stops[1:]:
        t0, x0, y0 = knots[-1]
        while t1 - t0 > 1800:  # time for a detour before the next stop
            wx, wy = _wander(rng, town, zones)
            speed = rng.uniform(7.0, 13.0)
            leg = math.hypot(wx - x0, wy - y0) + math.hypot(x1 - wx, y1 - wy)
            if leg / speed > t1 - t0 - 600:
                break
            t_w = t0 + math.hypot(wx - x0, wy - y0) / speed
            knots += _leg(rng, (t0, x0, y0), (t_w, wx, wy))
            t_stay = t_w + rng.uniform(120, 600)  # a look round
            knots.append((t_stay, wx, wy))
            t0, x0, y0 = t_stay, wx, wy
        distance = math.hypot(x1 - x0, y1 - y0)
        arrive = t0 + distance / rng.uniform(8.0, 14.0)
        arrive = min(max(arrive, t0 + 1.0), t1)
        knots += _leg(rng, (t0, x0, y0), (arrive, x1, y1))
        if t1 > arrive:
            knots.append((t1, x1, y1))
    return knots


def _leg(rng: np.random.Generator, a: tuple[float, float, float], b: tuple[float, float, float]
         ) -> list[tuple[float, float, float]]:
    """Knots from ``a`` (excluded) to ``b``: a few bends off the straight line, at most a tenth of its length."""
    (t0, x0, y0), (t1, x1, y1) = a, b
    length = math.hypot(x1 - x0, y1 - y0)
    bends = int(min(6, length // 700))
    out = []
    if bends and length > 0:
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        phase = rng.uniform(0, math.pi)
        for k in range(1, bends + 1):
            f = k / (bends + 1)
            off = math.sin(phase + f * math.pi * 2) * length * 0.08
            out.append((t0 + f * (t1 - t0), x0 + f * (x1 - x0) + nx * off, y0 + f * (y1 - y0) + ny * off))
    out.append((t1, x1, y1))
    return out


def _sample(rng: np.random.Generator, knots: list[tuple[float, float, float]]
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions every 10–30 s along the knots (whole seconds, as the page sends them), with GPS noise of their
    accuracy (5–30 m): times, x, y (EPSG:4548) and accuracies."""
    k = np.asarray(knots, dtype=np.float64)
    t_first, t_last = k[0, 0], k[-1, 0]
    steps = rng.uniform(10.0, 30.0, size=int((t_last - t_first) / 10) + 2)
    t = np.floor(t_first + np.r_[0.0, np.cumsum(steps)])
    t = t[t <= t_last]
    t = np.r_[t, math.floor(t_last)] if t[-1] < math.floor(t_last) else t
    x, y = np.interp(t, k[:, 0], k[:, 1]), np.interp(t, k[:, 0], k[:, 2])
    accuracy = np.round(np.clip(rng.gamma(3.0, 3.5, size=len(t)) + 4.0, 5.0, 30.0))
    angle = rng.uniform(0, 2 * math.pi, size=len(t))
    r = accuracy * np.sqrt(rng.uniform(0, 1, size=len(t))) * 0.6
    return t, x + r * np.cos(angle), y + r * np.sin(angle), accuracy


def _stops(rng: np.random.Generator, seat: tuple[float, float], shift: pd.DataFrame, night: bool,
           began: Any, zone: Any) -> tuple[list[tuple[float, float, float]], int]:
    """The shift's stops (t, x, y): the seat, the incidents it can reach in time order, the seat again; and how
    many incidents it passes."""
    if len(shift):
        first = float(shift["t"].min()) - rng.uniform(900, 3600)
        last = float(shift["t"].max()) + rng.uniform(900, 2700)
    else:  # a quiet shift
        hour = rng.uniform(20.5, 22.5) if night else rng.uniform(8.0, 10.0)
        first = datetime(began.year, began.month, began.day, tzinfo=zone).timestamp() + hour * 3600
        last = first + rng.uniform(2.5, 4.5) * 3600
    stops = [(first, *seat)]
    passed = 0
    for t, x, y in shift[["t", "x", "y"]].itertuples(index=False):
        t0, x0, y0 = stops[-1]
        if t > t0 and math.hypot(x - x0, y - y0) <= MAX_SPEED_M_S * (t - t0):
            stops.append((float(t), float(x), float(y)))
            passed += 1
    t0, x0, y0 = stops[-1]
    back = max(last, t0 + math.hypot(seat[0] - x0, seat[1] - y0) / 12.0 + 60)
    stops.append((back, *seat))
    return stops, passed


def record_season_tracks(session: Session, *, townships: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
                         incidents: pd.DataFrame, seed: int, tz: str, end: datetime, days: int = DAYS,
                         max_tracks: int = MAX_TRACKS) -> TrackSeason:
    """Record the patrol shifts of the ``days`` before ``end`` (the season's end) through the real path, each by
    a patrol officer of its township (see the module): ``incidents`` as
    :func:`~gis_enforcement.storage.incident_repo.incidents_frame` gives them (``township_code``, ``observed_at``,
    ``lon``, ``lat``), ``townships`` and ``zones`` the layers (EPSG:4326), ``tz`` the district's zone. Each
    track is uploaded once, at its last position's time plus a minute (the demo's clock is the season's), so
    :func:`parse_track`'s checks hold as on the server. At most ``max_tracks`` shifts, the busiest kept."""
    zone = district_zone(tz)
    rng = np.random.default_rng([seed, 23])
    start = end - timedelta(days=days)
    towns = townships.to_crs(4548)
    zones_m = zones.to_crs(4548)
    frame = pd.DataFrame(incidents[["township_code", "observed_at", "lon", "lat"]]).dropna()
    observed = pd.to_datetime(frame["observed_at"], utc=True)
    frame = frame.loc[(observed >= start) & (observed < end)].assign(observed_at=observed)
    local = frame["observed_at"].dt.tz_convert(zone)
    frame["night"], frame["began"] = _shift_of(local)
    frame["t"] = frame["observed_at"].map(lambda v: v.timestamp())
    frame["x"], frame["y"] = _TO_METRIC.transform(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    frame = frame.sort_values("t", kind="stable")
    groups = dict(iter(frame.groupby(["township_code", "night", "began"], sort=True)))

    shifts: list[tuple[str, bool, Any]] = list(groups)
    first_day = start.astimezone(zone).date()
    for code in towns["code"]:
        for d in range(days - 1):
            day = first_day + timedelta(days=d)
            for night in (True, False):
                if (code, night, day) not in groups and rng.random() < P_QUIET_SHIFT:
                    shifts.append((code, night, day))
    if len(shifts) > max_tracks:  # the busiest first, then in the order drawn
        shifts.sort(key=lambda s: -len(groups.get(s, ())))
        shifts = shifts[:max_tracks]
    shifts.sort(key=lambda s: (str(s[2]), s[0], s[1]))

    town_geom = dict(zip(towns["code"], towns.geometry, strict=True))
    kinds_by_night = {True: ("river_corridor", "mining_area"), False: ("truck_route", "river_corridor",
                                                                      "mining_area", "ecological_redline")}
    recorded = new = positions = passed_total = 0
    empty = pd.DataFrame(columns=["t", "x", "y"])
    for code, night, began in shifts:
        town = town_geom.get(code)
        if town is None:
            continue
        inside = zones_m.loc[zones_m.intersects(town) & zones_m["kind"].isin(kinds_by_night[night])]
        parts = [g for g in inside.geometry.intersection(town) if not g.is_empty and g.area > 0]
        seat_point = town.representative_point()
        shift_rng = np.random.default_rng([seed, 23, int(code), int(night), began.toordinal()])
        stops, passed = _stops(shift_rng, (seat_point.x, seat_point.y), groups.get((code, night, began), empty),
                               night, began, zone)
        t, x, y, accuracy = _sample(shift_rng, _knots(shift_rng, stops, town, parts))
        lon, lat = _TO_WGS84.transform(x, y)
        times = [datetime.fromtimestamp(v, zone).isoformat() for v in t]
        shift = "night" if night else "day"
        officer = Caller(f"patrol_{code}_{shift}", Role.PATROL, "township", code)
        now = datetime.fromtimestamp(float(t[-1]) + 60, zone)
        vertices = parse_track(geometry_type="LineString",
                               coordinates=np.column_stack([np.round(lon, 6), np.round(lat, 6)]).tolist(),
                               times=times, accuracy_m=accuracy.tolist(), now=now)
        track_id = str(uuid.uuid5(_NS, f"{seed}/{code}/{began.isoformat()}/{shift}"))
        new += record_track(session, track_id=track_id, caller=officer, vertices=vertices, at=now)
        recorded += 1
        positions += vertices.point_count
        passed_total += passed
    return TrackSeason(tracks=recorded, new=new, positions=positions, incidents_passed=passed_total)
