"""Joint-operation planning (联合执法): from candidate sites to a plan — which targets, which departments and
how many officers, what time window, in which order. Pure: tables and catalog records in, a plan out.

:func:`plan_operation` chains the steps of :mod:`plan_targets` (validate, select the scope, score and rank),
:mod:`plan_roster` (departments from the lists, officers against the roster) and :mod:`plan_route` (the
visit order with OR-Tools), with a time window per target from its categories' ``inspection_window``:

- a category's window comes from ``windows`` (the caller's override, per category), else from the lists,
  else the whole day;
- a target with several categories gets the hours common to all of them; when they have none in common, the
  window of its most severe category (the first in the lists among equals);
- the daily window is laid over every day of the period ``[period_start, period_end)`` in the district's time (``tz``)
  (a window crossing midnight runs into the next day), so an arrival must fall in one of its occurrences.

Targets dropped by the route give their officers back and the roster is allocated again, so a target that
waited for them may come in; this repeats until the route keeps every staffed target or the freed officers
let nobody new in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from pyproj.exceptions import CRSError

from gis_enforcement.analysis.plan_roster import Roster, Staffing, allocate_officers, target_departments
from gis_enforcement.analysis.plan_route import (
    Drop,
    RouteSettings,
    clip_windows,
    earliest_in,
    solve_route,
    travel_seconds,
)
from gis_enforcement.analysis.plan_targets import (
    METRIC_CRS,
    ScoreWeights,
    normalise_candidates,
    rank_targets,
    select_candidates,
)
from gis_enforcement.domain.catalog import MINUTES_PER_DAY, Catalog, InspectionWindow
from gis_enforcement.domain.zone import district_zone
from gis_enforcement.errors import InvalidInput

__all__ = ["MAX_PLAN_AHEAD", "OperationPlan", "category_windows", "check_period", "check_plannable",
           "plan_operation", "staff_label", "target_window", "window_occurrences"]

TZ = district_zone()  # the default district zone; callers with settings pass theirs (``tz``)
WHOLE_DAY = InspectionWindow(0, MINUTES_PER_DAY, "whole_day")
MAX_PERIOD = timedelta(days=31)
#: how far ahead of the time of planning an operation may start: a plan is made from the cases, sites and hot spots
#: open now, and the roster and lists of today; a season further ahead would be planned on what will have changed
#: by then (and a year typed wrongly, 2099 for 2026, is caught)
MAX_PLAN_AHEAD = timedelta(days=90)
_REASONS = {
    "no_window": "no occurrence of its window ({window}) in the period leaves {service:g} min on site",
    "too_far": "the team cannot arrive in its window ({window}): earliest arrival {earliest}",
    "window_conflict": "does not fit the route: its window ({window}) clashes with better-ranked visits",
    "no_solution": "the route solver found no route within its time limit",
}
#: the same reasons in Chinese (``reason_zh``), for the Chinese map, pages and CLI
_REASONS_ZH = {
    "no_window": "行动期间内的检查时段（{window}）不足现场处置 {service:g} 分钟",
    "too_far": "无法在检查时段（{window}）内到达：最早 {earliest} 到达",
    "window_conflict": "路线排不下：检查时段（{window}）与排名更靠前的目标冲突",
    "no_solution": "路线求解未能在时限内找到方案",
}
_TO_WGS84 = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)


def staff_label(officers: Mapping[str, Any] | None, departments: Collection[str] | None,
                name: Callable[[str], str] = str) -> str:
    """A target's departments with their officers as a crew reads them, ``区水务局×4、区公安分局×2``: those of
    ``departments`` first in its order (the lead first, as planned), then any other alphabetically, each by
    ``name`` (code → name)."""
    staff = dict(officers or {})
    given = [d for d in departments or () if d in staff]
    order = given + sorted(set(staff) - set(given))
    return "、".join(f"{name(d)}×{staff[d]}" for d in order)


def category_windows(
    catalog: Catalog, overrides: Mapping[str, InspectionWindow | str] | None = None
) -> dict[str, InspectionWindow]:
    """The inspection window of every category: the override, else the lists' window, else the whole day.

    Override values are :class:`InspectionWindow` records or text ``"HH:MM-HH:MM"``; an unknown category or
    a bad window raises :class:`InvalidInput` with ``field="windows"``.
    """
    out = {code: cat.inspection_window or WHOLE_DAY for code, cat in catalog.categories.items()}
    for code, given in (overrides or {}).items():
        if code not in catalog.categories:
            raise InvalidInput(f"unknown category {code!r}", field="windows")
        if isinstance(given, InspectionWindow):
            out[code] = given
            continue
        try:
            out[code] = InspectionWindow.parse(str(given), label="override")
        except ValueError as exc:
            raise InvalidInput(f"{code}: {exc}", field="windows") from None
    return out


def _mask(window: InspectionWindow) -> np.ndarray:
    minutes = np.arange(MINUTES_PER_DAY)
    if window.crosses_midnight:
        return (minutes >= window.start_minute) | (minutes < window.end_minute)
    return (minutes >= window.start_minute) & (minutes < window.end_minute)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Daily runs (start, end) in minutes of a circular minute mask; a run over midnight ends after 1440."""
    if mask.all():
        return [(0, MINUTES_PER_DAY)]
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    runs = list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == MINUTES_PER_DAY:
        runs = [*runs[1:-1], (runs[-1][0], runs[0][1] + MINUTES_PER_DAY)]
    return runs


def _clock(minute: int) -> str:
    minute %= MINUTES_PER_DAY
    return f"{minute // 60:02d}:{minute % 60:02d}"


def target_window(
    categories: tuple[str, ...], windows: Mapping[str, InspectionWindow], catalog: Catalog
) -> tuple[list[tuple[int, int]], str, str | None]:
    """The daily window of a target: runs (start, end minutes; end > 1440 crosses midnight), text, label.

    The hours common to all its categories' windows; when there are none, the window of its most severe
    category (the first in the lists among equals). The label is the contributing window's label when the
    result is exactly one category's window, else None. Text is e.g. ``21:00-04:00`` (runs joined by ``,``).
    """
    masks = [_mask(windows[c]) for c in categories]
    common = np.logical_and.reduce(masks)
    if not common.any():
        levels = {code: i for i, code in enumerate(catalog.severity_levels)}
        worst = min(categories, key=lambda c: levels.get(catalog.categories[c].severity, len(levels)))
        common = _mask(windows[worst])
    runs = _runs(common)
    label = next((windows[c].label for c, m in zip(categories, masks, strict=True) if (m == common).all()), None)
    text = ",".join(f"{_clock(a)}-{'24:00' if b == MINUTES_PER_DAY else _clock(b)}" for a, b in runs)
    return runs, text, label


def window_occurrences(runs: list[tuple[int, int]], start: datetime, end: datetime, *,
                       tz: str | ZoneInfo | None = None) -> list[tuple[int, int]]:
    """Daily runs (from :func:`target_window`) laid over every day of ``[start, end)``: the (open, close)
    seconds from ``start`` in which an arrival may fall, clipped to the period and merged. A run crossing
    midnight that began the day before ``start`` gives its tail; days are those of the district's zone ``tz``
    (default Asia/Shanghai), in which a naive ``start``/``end`` is read."""
    zone = district_zone(tz)
    start, end = _local(start, "period_start", zone), _local(end, "period_end", zone)
    horizon = int((end - start).total_seconds())
    out: list[tuple[int, int]] = []
    day = start.date() - timedelta(days=1)
    while day <= end.date():
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        for a, b in runs:
            lo = int((midnight + timedelta(minutes=a) - start).total_seconds())
            hi = int((midnight + timedelta(minutes=b) - start).total_seconds())
            lo, hi = max(lo, 0), min(hi, horizon)
            if lo <= hi and hi > 0:
                out.append((lo, hi))
        day += timedelta(days=1)
    return clip_windows(out, 0, horizon)


def _local(value: datetime, name: str, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput("must be a datetime", field=name)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def check_period(period_start: datetime, period_end: datetime | None,
                 service_minutes: float = 60.0, *, tz: str | ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The period of an operation as times of the district's zone ``tz`` (``settings.timezone``, default
    Asia/Shanghai; naive times are read in it; no end: 24 h),
    checked: the end after the start, at most :data:`MAX_PERIOD` later, and long enough to hold one visit of
    ``service_minutes`` on site — a shorter period could plan no target at all. Else ``InvalidInput`` on
    ``period_end`` (or ``service_minutes`` when that is not a number > 0)."""
    zone = district_zone(tz)
    begin = _local(period_start, "period_start", zone)
    end = begin + timedelta(days=1) if period_end is None else _local(period_end, "period_end", zone)
    if not begin < end <= begin + MAX_PERIOD:
        raise InvalidInput("must be after period_start and at most 31 days later", field="period_end")
    if isinstance(service_minutes, bool) or not isinstance(service_minutes, int | float) \
            or not (math.isfinite(service_minutes) and service_minutes > 0):
        raise InvalidInput("must be > 0", field="service_minutes")
    if end - begin < timedelta(minutes=service_minutes):
        raise InvalidInput(f"the period ({(end - begin).total_seconds() / 60:g} min) is shorter than one visit "
                           f"({service_minutes:g} min on site): no target could be planned", field="period_end")
    return begin, end


def check_plannable(begin: datetime, end: datetime, *, now: datetime, tz: str | ZoneInfo | None = None) -> None:
    """Refuse a period (as :func:`check_period` gives it) that no plan made at ``now`` could be executed in: one
    that has ended by ``now`` (``InvalidInput`` on ``period_end``), or one starting more than
    :data:`MAX_PLAN_AHEAD` after ``now`` (on ``period_start``). A period under way may be planned: the rest of
    it is still ahead. Times are said in the district's zone ``tz``."""
    zone = district_zone(tz)

    def said(value: datetime) -> str:
        return value.astimezone(zone).isoformat(timespec="minutes")

    if end <= now:
        raise InvalidInput(f"the period ended at {said(end)} (it is now {said(now)}); plan a period that has "
                           "not ended", field="period_end")
    if begin > now + MAX_PLAN_AHEAD:
        raise InvalidInput(f"the period starts at {said(begin)}, more than {MAX_PLAN_AHEAD.days} days after now "
                           f"({said(now)}); plan at most {MAX_PLAN_AHEAD.days} days ahead", field="period_start")


def _start_point(start: Any, crs: str) -> tuple[float, float]:
    try:
        if isinstance(start, shapely.Point):
            xy = (float(start.x), float(start.y))
        else:
            x, y = start
            xy = (float(x), float(y))
    except (TypeError, ValueError, shapely.errors.GEOSException):
        raise InvalidInput("must be a point (x, y) or a shapely Point", field="start") from None
    if not all(math.isfinite(v) for v in xy):
        raise InvalidInput("must have finite coordinates", field="start")
    if crs != METRIC_CRS:
        try:
            transformer = Transformer.from_crs(crs, METRIC_CRS, always_xy=True)
        except CRSError:
            raise InvalidInput(f"unknown CRS {crs!r}", field="start_crs") from None
        x, y = transformer.transform(*xy)
        xy = (float(x), float(y))
        if not all(math.isfinite(v) for v in xy):  # e.g. a longitude beyond ±180° in EPSG:4326
            raise InvalidInput(f"is not a place in {crs}", field="start")
    return xy


@dataclass(frozen=True, eq=False)
class OperationPlan:
    """A joint-operation plan.

    ``targets``: the planned targets in visit ``order`` (1 = first), with ``rank``, ``score`` and its
    components, ``categories``, ``rules``, ``departments``, ``lead_departments``, ``officers`` (dict
    department → officers), ``officers_total``, ``window`` (e.g. ``21:00-04:00``), ``window_label``,
    ``reach_at`` / ``arrive_at`` / ``depart_at`` (the district's zone), ``wait_minutes``, ``leg_m``,
    ``leg_minutes``, ``service_minutes``, ``x``/``y`` (EPSG:4548) and ``lon``/``lat``. ``waiting``: the
    targets not planned, in rank order, with ``reason_kind`` (``staff``, ``no_window``, ``too_far``,
    ``window_conflict``, ``no_solution``), ``reason`` in words (``reason_zh`` in Chinese) and
    ``short_departments``. ``staffing``: one
    row per officer pool (see :class:`~gis_enforcement.analysis.plan_roster.Allocation`).
    """

    targets: pd.DataFrame
    waiting: pd.DataFrame
    staffing: pd.DataFrame
    start: tuple[float, float]
    period_start: datetime
    period_end: datetime
    travel_m: float
    travel_minutes: float
    end_at: datetime
    catalog_version: str
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Every target in one flat table for CSV: planned (visit order) then waiting (rank order).

        Adds ``status`` (``planned``/``waiting``); tuples become ``;``-joined text, officers ``WATER 4; PSB 2``,
        times ISO 8601 with offset; ``reason_kind``/``reason``/``reason_zh`` are empty for planned targets.
        """
        planned = self.targets.assign(status="planned", reason_kind=None, reason=None, reason_zh=None,
                                      short_departments=[()] * len(self.targets))
        waiting = self.waiting.assign(status="waiting")
        frames = [f for f in (planned, waiting) if len(f)]
        columns = [*planned.columns, *(c for c in waiting.columns if c not in planned.columns)]
        out = (pd.concat(frames, ignore_index=True) if frames else planned.iloc[0:0]).reindex(columns=columns)
        out["order"] = out["order"].astype("Int64")
        for col in [c for c in out.columns if pd.api.types.is_object_dtype(out[c])]:
            out[col] = [None if isinstance(v, float) and math.isnan(v) else v for v in out[col]]
        for col in ("categories", "rules", "departments", "lead_departments", "zone_kinds", "short_departments"):
            if col in out:
                out[col] = [";".join(v) if isinstance(v, tuple) else "" for v in out[col]]
        out["officers"] = ["; ".join(f"{d} {n}" for d, n in o.items()) if isinstance(o, Mapping) else ""
                           for o in out["officers"]]
        for col in ("reach_at", "arrive_at", "depart_at"):
            out[col] = [v.isoformat() if isinstance(v, datetime) else None for v in out[col]]
        first = ["status", "order", "rank", "target_id", "name", "score", "severity", "categories", "departments",
                 "officers", "officers_total", "township_code", "window", "window_label", "arrive_at",
                 "reason_kind", "reason", "reason_zh"]
        cols = [c for c in first if c in out] + [c for c in out.columns if c not in first]
        return out[cols].reset_index(drop=True)

    def to_geojson(self) -> dict[str, Any]:
        """A GeoJSON FeatureCollection (WGS84, RFC 7946): the start, every target (properties as in
        :meth:`to_frame`) and the route as a LineString through the planned targets in order."""
        def clean(value: Any) -> Any:
            if value is None or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
                return None
            return value.item() if isinstance(value, np.generic) else value

        lon0, lat0 = _TO_WGS84.transform(*self.start)
        start = [round(float(lon0), 7), round(float(lat0), 7)]
        features: list[dict[str, Any]] = [
            {"type": "Feature", "id": "start", "geometry": {"type": "Point", "coordinates": start},
             "properties": {"role": "start", "depart_at": self.period_start.isoformat()}},
        ]
        flat = self.to_frame()
        for row in flat.to_dict(orient="records"):
            point = [round(float(row["lon"]), 7), round(float(row["lat"]), 7)]
            props = {"role": "target", **{k: clean(v) for k, v in row.items() if k not in ("lon", "lat")}}
            features.append({"type": "Feature", "id": str(row["target_id"]),
                             "geometry": {"type": "Point", "coordinates": point}, "properties": props})
        line = [start, *([round(float(a), 7), round(float(b), 7)]
                         for a, b in zip(self.targets["lon"], self.targets["lat"], strict=True))]
        if self.settings.get("return_to_start") and len(self.targets):
            line.append(start)
        if len(line) > 1:
            features.append({"type": "Feature", "id": "route", "geometry": {"type": "LineString", "coordinates": line},
                             "properties": {"role": "route", "travel_m": round(self.travel_m, 1),
                                            "travel_minutes": round(self.travel_minutes, 1),
                                            "end_at": self.end_at.isoformat()}})
        return {"type": "FeatureCollection", "features": features,
                "plan": {"period_start": self.period_start.isoformat(), "period_end": self.period_end.isoformat(),
                         "catalog_version": self.catalog_version, "planned": len(self.targets),
                         "waiting": len(self.waiting), **{k: clean(v) for k, v in self.settings.items()}}}


def plan_operation(
    candidates: pd.DataFrame,
    catalog: Catalog,
    *,
    start: tuple[float, float] | shapely.Point,
    period_start: datetime,
    period_end: datetime | None = None,
    windows: Mapping[str, InspectionWindow | str] | None = None,
    townships: Collection[str] | None = None,
    area: shapely.Geometry | None = None,
    categories: Collection[str] | None = None,
    weights: ScoreWeights | None = None,
    staffing: Staffing | None = None,
    roster: Roster | None = None,
    route: RouteSettings | None = None,
    service_minutes: float = 60.0,
    start_crs: str = METRIC_CRS,
    road_distances: Callable[[np.ndarray], np.ndarray] | None = None,
    tz: str | ZoneInfo | None = None,
) -> OperationPlan:
    """Plan one joint operation: rank the candidates, staff them, give them windows and a visit order.

    ``candidates``: one row per site (columns in :mod:`~gis_enforcement.analysis.plan_targets`). ``start``:
    where the team leaves from (a township office, a given point), in ``start_crs`` (default EPSG:4548).
    ``period_start`` / ``period_end`` (default +24 h, at most 31 days, at least one visit of ``service_minutes``;
    naive times are read in the district's zone ``tz``, default Asia/Shanghai; see :func:`check_period`): the
    team leaves at ``period_start`` and every visit ends by ``period_end``. ``windows`` overrides category
    windows; ``townships`` / ``area`` (EPSG:4548 polygon) / ``categories`` restrict the scope; ``weights``,
    ``staffing``, ``roster`` and ``route`` tune the score, officers per target, available officers and the
    travel model; ``service_minutes`` is the time on site where a candidate gives none. ``road_distances``
    (optional) maps an (n, 2) array of EPSG:4548 points, start first, to an (n, n) matrix of road distances
    in metres, replacing straight lines × detour factor. Bad input raises :class:`InvalidInput` naming the
    field. Same input, same plan.
    """
    zone = district_zone(tz)
    begin, end = check_period(period_start, period_end, service_minutes, tz=zone)
    unknown = sorted(set(categories or ()) - set(catalog.categories))
    if unknown:
        raise InvalidInput(f"unknown category {unknown[0]!r}", field="categories")
    route = route or RouteSettings()
    xy0 = _start_point(start, start_crs)
    horizon = int((end - begin).total_seconds())
    cat_windows = category_windows(catalog, windows)

    t = normalise_candidates(candidates, catalog)
    t = select_candidates(t, townships=townships, area=area, categories=categories)
    t = rank_targets(t, catalog, weights)
    t = target_departments(t, catalog, staffing)
    t["service_minutes"] = t["service_minutes"].fillna(float(service_minutes))
    service = [int(round(m * 60)) for m in t["service_minutes"]]
    daily = [target_window(cats, cat_windows, catalog) for cats in t["categories"]]
    t["window"], t["window_label"] = [d[1] for d in daily], [d[2] for d in daily]
    occurrences = [window_occurrences(d[0], begin, end, tz=zone) for d in daily]
    xy = t[["x", "y"]].to_numpy(float).reshape(-1, 2)
    roads = None
    if road_distances is not None:
        roads = np.asarray(road_distances(np.vstack([np.asarray(xy0).reshape(1, 2), xy])), dtype=float)
        if roads.shape != (len(xy) + 1,) * 2 or not np.isfinite(roads).all() or (roads < 0).any():
            raise InvalidInput("must return a finite (n, n) matrix >= 0 for n points", field="road_distances")
        first_leg = travel_seconds(roads[0, 1:], route, road=True)
    else:
        first_leg = travel_seconds(np.hypot(xy[:, 0] - xy0[0], xy[:, 1] - xy0[1]), route)

    ids = list(t["target_id"])
    position = {tid: i for i, tid in enumerate(ids)}
    drops: dict[str, Drop] = {}
    for i, tid in enumerate(ids):  # targets no route could ever take: they hold no officers
        usable = clip_windows(occurrences[i], service[i], horizon)
        if not usable:
            drops[tid] = Drop("no_window")
        elif earliest_in(usable, int(first_leg[i])) is None:
            drops[tid] = Drop("too_far", int(first_leg[i]))
    alloc = allocate_officers(t, catalog, roster=roster, exclude=drops)
    while True:
        idx = [position[tid] for tid in alloc.staffed]
        nodes = [0, *(i + 1 for i in idx)]
        result = solve_route(xy0, xy[idx], [occurrences[i] for i in idx], [service[i] for i in idx],
                             horizon_s=horizon, priority=list(range(len(idx))), settings=route,
                             distance_m=None if roads is None else roads[np.ix_(nodes, nodes)])
        visited = [idx[k] for k in result.order]
        if not result.dropped:
            break
        drops.update({ids[idx[k]]: drop for k, drop in result.dropped.items()})
        alloc = allocate_officers(t, catalog, roster=roster, exclude=drops)
        if set(alloc.staffed) == {ids[i] for i in visited}:
            break  # the freed officers let nobody in: the route stands as solved

    planned = t.iloc[visited].copy()
    planned.insert(0, "order", np.arange(1, len(planned) + 1))

    def at(seconds: tuple[int, ...]) -> list[datetime]:
        return [begin + timedelta(seconds=s) for s in seconds]

    planned["reach_at"], planned["arrive_at"], planned["depart_at"] = (
        at(result.reach_s), at(result.arrive_s), at(result.depart_s))
    planned["wait_minutes"] = [(a - r) / 60 for a, r in zip(result.arrive_s, result.reach_s, strict=True)]
    planned["leg_m"] = np.round(result.leg_m, 1)
    planned["leg_minutes"] = [s / 60 for s in result.leg_s]

    waiting = t.loc[~t["target_id"].isin(list(alloc.staffed))].copy()
    kinds: list[str] = []
    reasons: list[str] = []
    reasons_zh: list[str] = []
    shorts: list[tuple[str, ...]] = []
    for tid, window, minutes in zip(waiting["target_id"], waiting["window"], waiting["service_minutes"],
                                    strict=True):
        if tid in drops:
            drop = drops[tid]
            earliest = begin + timedelta(seconds=drop.earliest_s or 0)
            kinds.append(drop.kind)
            values = {"window": window, "service": minutes, "earliest": earliest.isoformat(timespec="minutes")}
            reasons.append(_REASONS[drop.kind].format(**values))
            reasons_zh.append(_REASONS_ZH[drop.kind].format(**values))
            shorts.append(())
        else:
            kinds.append("staff")
            reasons.append(alloc.reason(tid))
            reasons_zh.append(alloc.reason_zh(tid))
            shorts.append(tuple(d for d, _, _ in alloc.waiting[tid]))
    waiting["reason_kind"], waiting["reason"], waiting["reason_zh"] = kinds, reasons, reasons_zh
    waiting["short_departments"] = shorts
    waiting = waiting.sort_values("rank", kind="stable").reset_index(drop=True)

    return OperationPlan(
        targets=planned.reset_index(drop=True),
        waiting=waiting,
        staffing=alloc.pools,
        start=xy0,
        period_start=begin,
        period_end=end,
        travel_m=round(result.travel_m, 1),
        travel_minutes=result.travel_s / 60,
        end_at=begin + timedelta(seconds=result.end_s),
        catalog_version=catalog.version,
        settings={"detour_factor": route.detour_factor, "speed_kmh": route.speed_kmh,
                  "return_to_start": route.return_to_start, "service_minutes_default": float(service_minutes)},
    )
