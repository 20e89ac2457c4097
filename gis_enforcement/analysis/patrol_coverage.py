"""Patrol coverage: where the patrols went in a period, by day and by night, and which zones they came near.

Pure: GeoDataFrames in, tables out (no I/O). Tracks come as :func:`~gis_enforcement.storage.track_repo.tracks_frame`
gives them (WGS84 lines with a ``t`` array of epoch seconds per vertex); the work is done in EPSG:4548
(CGCS2000 / Gauss-Kruger CM 117E), vectorised over every segment at once.

A track is cut into its segments (vertex to the next); a segment counts for the period when it starts in
``[start, end)``, and at **night** when its midpoint falls between :data:`NIGHT_FROM_HOUR` (20:00) and
:data:`NIGHT_UNTIL_HOUR` (06:00) district time — 盗采 (illegal mining and sand digging) happens at night. Per
township (the township the track was recorded for; tracks of department patrols under ``None``): tracks, patrol
hours (time between the period's vertices), km and night km. Per township × zone kind: the share of the zones'
area in the township within ``distance_m`` of any track of the period (all day, and at night only). Per zone:
the same shares for the zone as a whole, so zones that no patrol came near stand out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_enforcement.domain.zone import district_zone

__all__ = ["COVER_DISTANCE_M", "METRIC_CRS", "NIGHT_FROM_HOUR", "NIGHT_UNTIL_HOUR", "ZONE_KIND_NAMES",
           "PatrolCoverage", "patrol_coverage", "track_segments"]

METRIC_CRS = 4548
#: a zone's area within this distance of a track counts as patrolled (a patrol sees about this far)
COVER_DISTANCE_M = 100.0
#: tracks are simplified to this tolerance (m) before their reach is drawn
SIMPLIFY_M = 10.0
NIGHT_FROM_HOUR = 20
NIGHT_UNTIL_HOUR = 6
#: the special zones, as the maps and tables name them
ZONE_KIND_NAMES = {"river_corridor": "河道", "mining_area": "矿区", "truck_route": "货车通道",
                   "ecological_redline": "生态红线"}


@dataclass(frozen=True, slots=True)
class PatrolCoverage:
    """The coverage of a period.

    ``townships``: one row per township (``township_code``, ``township_name``; a row ``None`` for tracks no
    township recorded) with ``tracks``, ``hours``, ``km``, ``night_km``. ``zone_kinds``: per township × ``kind``
    with zones, ``zone_km2``, ``covered_share`` and ``night_share`` (0–1). ``zones``: per zone (``code``,
    ``name``, ``kind``, ``zone_km2``, ``covered_share``, ``night_share``, ``patrolled``). ``tracks``: per track of
    the period (``id``, ``officer``, ``township_code``, ``start``, ``end`` — its first and last time in the
    period — ``km``, ``night_km``). ``distance_m`` the distance a patrol covers either side of its track."""

    townships: pd.DataFrame
    zone_kinds: pd.DataFrame
    zones: pd.DataFrame
    tracks: pd.DataFrame
    distance_m: float

    @property
    def unpatrolled(self) -> pd.DataFrame:
        """The zones no track of the period came within ``distance_m`` of."""
        return self.zones.loc[~self.zones["patrolled"]]


def track_segments(tracks: gpd.GeoDataFrame, *, start: datetime | None, end: datetime | None,
                   tz: str | None) -> pd.DataFrame:
    """Every segment of the tracks that starts in ``[start, end)`` (None: unbounded): ``track`` (the row's
    position in ``tracks``), ``x0 y0 x1 y1`` (EPSG:4548 metres), ``t0 t1`` (epoch seconds), ``length_m`` and
    ``night`` (its midpoint between 20:00 and 06:00 in the zone ``tz``), in track and vertex order."""
    columns = ["track", "x0", "y0", "x1", "y1", "t0", "t1", "length_m", "night"]
    if not len(tracks):
        return pd.DataFrame(columns=columns)
    lines = tracks.geometry.to_crs(METRIC_CRS).to_numpy()
    xy, index = shapely.get_coordinates(lines, return_index=True)
    t = np.concatenate([np.asarray(v, dtype=np.float64) for v in tracks["t"]])
    if len(t) != len(xy):
        raise ValueError("a track has not one time per vertex")
    same = index[1:] == index[:-1]
    keep = np.flatnonzero(same)
    t0, t1 = t[keep], t[keep + 1]
    in_period = np.ones(len(keep), dtype=bool)
    if start is not None:
        in_period &= t0 >= start.timestamp()
    if end is not None:
        in_period &= t0 < end.timestamp()
    keep, t0, t1 = keep[in_period], t0[in_period], t1[in_period]
    mid = pd.to_datetime((t0 + t1) / 2, unit="s", utc=True)
    hour = np.asarray(mid.tz_convert(district_zone(tz)).hour)
    return pd.DataFrame({
        "track": index[keep], "x0": xy[keep, 0], "y0": xy[keep, 1], "x1": xy[keep + 1, 0], "y1": xy[keep + 1, 1],
        "t0": t0, "t1": t1,
        "length_m": np.hypot(xy[keep + 1, 0] - xy[keep, 0], xy[keep + 1, 1] - xy[keep, 1]),
        "night": (hour >= NIGHT_FROM_HOUR) | (hour < NIGHT_UNTIL_HOUR)})


def _runs(segments: pd.DataFrame) -> np.ndarray:
    """The segments as lines: consecutive segments of one track joined into one line (EPSG:4548)."""
    if segments.empty:
        return np.array([], dtype=object)
    s = segments
    track = s["track"].to_numpy()
    x0, y0, x1, y1 = (s[c].to_numpy() for c in ("x0", "y0", "x1", "y1"))
    joined = (track[1:] == track[:-1]) & (x1[:-1] == x0[1:]) & (y1[:-1] == y0[1:])
    run = np.cumsum(np.r_[True, ~joined]) - 1
    last = np.r_[run[1:] != run[:-1], True]
    # every segment's start vertex, and the end vertex of each run's last segment
    n = len(s)
    order = np.r_[2 * np.arange(n), 2 * np.flatnonzero(last) + 1]
    xs = np.r_[x0, x1[last]][np.argsort(order, kind="stable")]
    ys = np.r_[y0, y1[last]][np.argsort(order, kind="stable")]
    ids = np.r_[run, run[last]][np.argsort(order, kind="stable")]
    return shapely.linestrings(np.column_stack([xs, ys]), indices=ids)  # type: ignore[no-any-return]


def _reach(segments: pd.DataFrame, distance_m: float) -> shapely.Geometry:
    """The area within ``distance_m`` of the segments (an empty polygon when there are none)."""
    lines = _runs(segments)
    if not len(lines):
        return shapely.Polygon()
    # GPS noise makes a track zigzag: buffering every wiggle of it costs minutes and changes the reach by far
    # less than the wiggles themselves; each line alone, then one union, is much cheaper than one multi-line
    simple = shapely.simplify(lines, min(SIMPLIFY_M, distance_m / 4))
    return shapely.union_all(shapely.buffer(simple, distance_m, quad_segs=4))


def _shares(parts: np.ndarray, reach: shapely.Geometry, area: np.ndarray) -> np.ndarray:
    covered = shapely.area(shapely.intersection(parts, reach)) if not reach.is_empty else np.zeros(len(parts))
    return np.divide(covered, area, out=np.zeros(len(parts)), where=area > 0)


def patrol_coverage(tracks: gpd.GeoDataFrame, *, townships: gpd.GeoDataFrame, zones: gpd.GeoDataFrame,
                    start: datetime | None, end: datetime | None, tz: str | None,
                    distance_m: float = COVER_DISTANCE_M) -> PatrolCoverage:
    """The coverage of ``[start, end)`` by ``tracks`` (see the module): ``townships`` (``code``, ``name``,
    geometry) are the rows of the township table and cut the zones (``kind``, ``code``, ``name``, geometry) for
    the township × kind table; ``tz`` the district's zone that says what is night."""
    if distance_m <= 0:
        raise ValueError("distance_m must be positive")
    segments = track_segments(tracks, start=start, end=end, tz=tz)
    seg_track = segments["track"].to_numpy(dtype=np.int64)
    km = np.bincount(seg_track, weights=segments["length_m"].to_numpy(dtype=np.float64), minlength=len(tracks))
    night_len = np.where(segments["night"].to_numpy(dtype=bool), segments["length_m"].to_numpy(dtype=np.float64), 0)
    night_km = np.bincount(seg_track, weights=night_len, minlength=len(tracks))
    seconds = np.bincount(seg_track, weights=(segments["t1"] - segments["t0"]).to_numpy(dtype=np.float64),
                          minlength=len(tracks))
    first = pd.Series(segments["t0"].to_numpy()).groupby(seg_track).min()
    last = pd.Series(segments["t1"].to_numpy()).groupby(seg_track).max()
    on = np.zeros(len(tracks), dtype=bool)
    on[first.index.to_numpy()] = True
    per_track = pd.DataFrame({
        "id": tracks["id"].to_numpy() if len(tracks) else [], "officer": tracks["officer"].to_numpy()
        if len(tracks) else [], "township_code": tracks["township_code"].to_numpy() if len(tracks) else [],
        "km": km / 1000, "night_km": night_km / 1000, "hours": seconds / 3600})
    per_track["start"] = pd.to_datetime(first.reindex(range(len(tracks))).to_numpy(), unit="s", utc=True)
    per_track["end"] = pd.to_datetime(last.reindex(range(len(tracks))).to_numpy(), unit="s", utc=True)
    per_track = per_track.loc[on].reset_index(drop=True)

    town = per_track.assign(township_code=per_track["township_code"].astype(object)).groupby(
        "township_code", dropna=False).agg(tracks=("id", "size"), hours=("hours", "sum"), km=("km", "sum"),
                                            night_km=("night_km", "sum"))
    names = dict(zip(townships["code"], townships["name"], strict=True))
    codes: list[str | None] = list(townships["code"])
    if town.index.isna().any():
        codes.append(None)
    table = pd.DataFrame({"township_code": codes, "township_name": [names.get(c, "部门巡查") if c is not None else
                                                                    "部门巡查" for c in codes]})
    stats = town.reset_index()
    # object keys on both sides: with no track at all the grouped codes come back as an empty float column
    stats["township_code"] = stats["township_code"].astype(object).where(stats["township_code"].notna(), None)
    table["township_code"] = table["township_code"].astype(object)
    table = table.merge(stats, on="township_code", how="left")
    table[["tracks", "hours", "km", "night_km"]] = table[["tracks", "hours", "km", "night_km"]].fillna(0)
    table["tracks"] = table["tracks"].astype(int)
    table["township_code"] = table["township_code"].astype(object).where(table["township_code"].notna(), None)

    reach_all = _reach(segments, distance_m)
    reach_night = _reach(segments.loc[segments["night"].astype(bool)], distance_m)

    zones_m = zones[["kind", "code", "name", "geometry"]].to_crs(METRIC_CRS)
    zone_geoms = zones_m.geometry.to_numpy()
    zone_area = shapely.area(zone_geoms)
    per_zone = pd.DataFrame({"code": zones_m["code"].to_numpy(), "name": zones_m["name"].to_numpy(),
                             "kind": zones_m["kind"].to_numpy(), "zone_km2": zone_area / 1e6,
                             "covered_share": _shares(zone_geoms, reach_all, zone_area),
                             "night_share": _shares(zone_geoms, reach_night, zone_area)})
    per_zone["patrolled"] = per_zone["covered_share"] > 0

    towns_m = townships[["code", "geometry"]].to_crs(METRIC_CRS).rename(columns={"code": "township_code"})
    if len(zones_m) and len(towns_m):
        pieces = gpd.overlay(zones_m[["kind", "code", "geometry"]], towns_m, how="intersection", keep_geom_type=True)
        # overlapping zones of one kind are counted once
        parts = pieces.dissolve(by=["township_code", "kind"], aggfunc={"code": "nunique"}).reset_index()
    else:
        parts = gpd.GeoDataFrame({"township_code": [], "kind": [], "code": []}, geometry=[], crs=METRIC_CRS)
    part_geoms = parts.geometry.to_numpy()
    part_area = shapely.area(part_geoms) if len(parts) else np.zeros(0)
    kinds = pd.DataFrame({"township_code": parts["township_code"].to_numpy(), "kind": parts["kind"].to_numpy(),
                          "zones": parts["code"].to_numpy(dtype=np.int64), "zone_km2": part_area / 1e6,
                          "covered_share": _shares(part_geoms, reach_all, part_area),
                          "night_share": _shares(part_geoms, reach_night, part_area)})
    kinds = kinds.loc[kinds["zone_km2"] > 0].reset_index(drop=True)
    return PatrolCoverage(townships=table, zone_kinds=kinds, zones=per_zone, tracks=per_track, distance_m=distance_m)
