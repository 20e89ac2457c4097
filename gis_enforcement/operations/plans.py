"""Joint-operation plans (联合执法): made from open cases, recurring sites and hot spots; stored; executed by
whistling every target at once.

:func:`create_plan` gathers the candidates (:mod:`gis_enforcement.analysis.plan_candidates`), plans them
(:func:`gis_enforcement.analysis.planning.plan_operation`) and stores the plan. :func:`execute_plan` carries a
stored plan out in one transaction: a target with no open case gets one, filed through the normal intake at the
target's place (so it is located, matched to the lists and recorded like any patrol report), and each target's
cases are whistled with the departments the plan gives them (those the lists allow for each case's category).
The whistle is the district's, not the township's: mode ``joint_plan``, whistler ``district``
(:data:`~gis_enforcement.dispatch.whistle.DISTRICT`), recording the person who executed the plan as its actor.
It summons like a township whistle, but the township evaluation, which counts a township's own whistles and
summons, leaves it out. Nothing is whistled twice: a plan executes once.

A plan is executed for its period: from :data:`EXECUTE_LEAD` before its start until its end; a plan executed
days early would summon the departments days before the operation, and :func:`execute_plan` refuses that, and a
plan with no planned target (every candidate waiting), which would whistle nothing. Every department is
summoned at the moment of execution, but its report-in deadline at a place counts from the route's planned
arrival there (``arrive_at``), so keeping to the plan is on time: the team due at the seventh site at 03:28 owes
its report-in from 03:28, not 30 minutes after the whistle.

A plan is made only for a period it could be executed in: :func:`create_plan` refuses a period that has already
ended, and one starting more than :data:`~gis_enforcement.analysis.planning.MAX_PLAN_AHEAD` (90 days) ahead.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gis_enforcement.analysis.plan_candidates import build_candidates
from gis_enforcement.analysis.plan_targets import dated_names, report_dates
from gis_enforcement.analysis.planning import OperationPlan, check_period, check_plannable, plan_operation
from gis_enforcement.dispatch.whistle import DISTRICT, JOINT_PLAN, departments_allowed, whistle
from gis_enforcement.domain.case_flow import case_accepts_whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.deadlines import require_aware
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE, district_zone, in_zone
from gis_enforcement.errors import AlreadyRecorded, AlreadySummoned, InvalidInput, NotFound
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.submit import submit_one
from gis_enforcement.storage import Session, analysis_repo, dispatch_repo, user_repo

_PLAN_NAMESPACE = uuid.UUID("6f1c9a52-2f0e-4a55-9c3e-6b0d7a3c2e11")
_TO_4548 = Transformer.from_crs(4326, 4548, always_xy=True)

#: how long before its period starts a plan may be executed: time for the summoned departments to report in
#: (their report-in deadlines count from the whistle) and to muster before the team leaves
EXECUTE_LEAD = timedelta(hours=2)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    def clean(v: Any) -> Any:
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, tuple):
            return list(v)
        if isinstance(v, float) and not np.isfinite(v):
            return None
        if v is pd.NA or v is pd.NaT:
            return None
        if isinstance(v, pd.Timestamp | datetime):
            return v.isoformat()
        return v
    return [{k: clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


@dataclass(frozen=True)
class PlanRequest:
    """What an analyst asks for: a period, an area (townships and/or a WGS84 polygon), categories, a start
    (a township's seat or a point), a hot-spot run to draw on, and optional window overrides."""

    period_start: datetime
    period_end: datetime | None = None
    townships: Sequence[str] = ()
    categories: Sequence[str] = ()
    area: shapely.Geometry | None = None
    start_township: str | None = None
    start_point: tuple[float, float] | None = None
    hotspot_run_id: int | None = None
    windows: Mapping[str, str] = field(default_factory=dict)
    service_minutes: float = 60.0

    def parameters(self) -> dict[str, Any]:
        return {"period_start": self.period_start.isoformat(),
                "period_end": self.period_end.isoformat() if self.period_end else None,
                "townships": list(self.townships), "categories": list(self.categories),
                "area": shapely.to_geojson(self.area) if self.area is not None else None,
                "start_township": self.start_township, "start_point": self.start_point,
                "hotspot_run_id": self.hotspot_run_id, "windows": dict(self.windows),
                "service_minutes": self.service_minutes}


#: how far outside the district a start point may lie (metres from the nearest township): a team of the district
#: leaves from inside it or from just over its border; a point farther out is almost always a typo or swapped
#: coordinates, and would only plan a route of the length of the drive in
MAX_START_OUTSIDE_M = 30_000.0


def _start_point(point: Any, locator: Locator) -> tuple[float, float]:
    """A start point (lon, lat) checked: two finite numbers, longitude within ±180°, latitude within ±90°, and
    inside the district or at most :data:`MAX_START_OUTSIDE_M` outside it; else ``InvalidInput`` on
    ``start_point``."""
    try:
        lon, lat = (float(v) for v in point)
    except (TypeError, ValueError):
        raise InvalidInput("must be two numbers: longitude, latitude (WGS84 degrees)", field="start_point") from None
    for name, value, limit in (("longitude", lon, 180.0), ("latitude", lat, 90.0)):
        if not np.isfinite(value) or abs(value) > limit:
            raise InvalidInput(f"the {name} must be a number within [-{limit:g}, {limit:g}], got {value!r}",
                               field="start_point")
    placed = locator.locate_one(lon, lat)
    away = placed.nearest_township_distance_m
    if placed.township_code is None and (away is None or away > MAX_START_OUTSIDE_M):
        far = f"{away / 1000:,.0f} km" if away is not None else "far"
        raise InvalidInput(f"({lon:g}, {lat:g}) is {far} outside the district; a plan starts inside it or at most "
                           f"{MAX_START_OUTSIDE_M / 1000:.0f} km outside", field="start_point")
    return lon, lat


def _check_townships(request: PlanRequest, locator: Locator) -> None:
    known = {str(c) for c in locator.township_codes}
    unknown = [str(c) for c in request.townships if str(c) not in known]
    if unknown:
        raise InvalidInput(f"no such township: {', '.join(repr(c) for c in unknown[:5])}", field="townships")


def _start(request: PlanRequest, seats: Mapping[str, tuple[float, float]], locator: Locator) -> tuple[float, float]:
    """Where the team leaves from: the given point (checked by :func:`_start_point`), the seat of the given
    township, or the seat of the only township asked for. Errors name the field at fault: ``start_point``,
    ``start_township`` or ``townships``."""
    _check_townships(request, locator)
    if request.start_point is not None:
        return _start_point(request.start_point, locator)
    field_ = "start_township" if request.start_township else "townships"
    code = request.start_township or (request.townships[0] if len(request.townships) == 1 else None)
    if code is None:
        raise InvalidInput("say where the team leaves from: a township (its seat) or a point",
                           field="start_township")
    if code not in seats:
        raise InvalidInput(f"no seat is known for township {code!r}", field=field_)
    return seats[code]


def gather_candidates(session: Session, *, request: PlanRequest, locator: Locator,
                      tz: str = DEFAULT_TIMEZONE) -> pd.DataFrame:
    """The candidates of a request: open cases (inside the district) and recurring sites in its townships and
    categories, and the hot cells of its hot-spot run. Each is named by its village and kind, and by the days
    its cases were reported (in the zone ``tz``: ``苏子峪村·案件点·11-20``)."""
    towns, cats = list(request.townships) or None, list(request.categories) or None
    cases = analysis_repo.incidents_frame(session, townships=towns, categories=cats,
                                          statuses=analysis_repo.OPEN_STATUSES, inside_district=True)
    sites = analysis_repo.recurring_sites(session, townships=towns, categories=cats)
    hot, hot_categories, cell_towns = None, (), {}
    if request.hotspot_run_id is not None:
        run, hot = analysis_repo.hotspot_run(session, run_id=request.hotspot_run_id)
        if run is None:
            raise NotFound(f"no hot-spot run {request.hotspot_run_id}", field="hotspot_run_id")
        hot_categories = tuple(run["parameters"].get("categories") or ())
        if not hot.empty:
            rep = shapely.point_on_surface(hot.geometry.to_numpy())
            placed = locator.locate(shapely.get_x(rep), shapely.get_y(rep))
            cell_towns = {c: t for c, t in zip(hot["cell_id"].astype(str), placed["township_code"], strict=True)
                          if isinstance(t, str)}
    candidates = build_candidates(open_cases=cases, sites=sites, zone_kinds=analysis_repo.zone_kinds(session),
                                  hot_cells=hot, hot_categories=hot_categories, cell_townships=cell_towns)
    if not candidates.empty:  # names people use: the nearest village, and what kind of place it is
        placed = locator.locate(candidates["lon"].to_numpy(dtype=float), candidates["lat"].to_numpy(dtype=float))
        kind = candidates["kind"].map({"open_cases": "案件点", "recurring_site": "反复点位", "hotspot": "热点"})
        village = placed["village_name"].fillna(placed["township_name"]).fillna("")
        names = pd.Series([f"{v}·{k}" for v, k in zip(village, kind.fillna(""), strict=True)], index=candidates.index)
        names = dated_names(names, report_dates(candidates["case_ids"], cases.set_index("id")["observed_at"], tz=tz))
        candidates["name"] = distinct_names(names, pd.Series(placed["grid_code"].to_numpy(), index=candidates.index))
    return candidates


def distinct_names(names: pd.Series, grid_codes: pd.Series) -> pd.Series:
    """Target names a crew can tell apart: a name two targets share gets its grid cell (网格, the last three
    digits of the cell code), and where even that repeats, its order (#2, #3 …)."""
    shared = names.duplicated(keep=False)
    cell = grid_codes.astype("string").str[-3:].fillna("—")
    out = names.where(~shared, names + "（网格" + cell + "）")
    again = out.duplicated(keep=False)
    order = out.groupby(out).cumcount() + 1
    return out.where(~again, out + " #" + order.astype(str))


def create_plan(session: Session, *, catalog: Catalog, locator: Locator, seats: Mapping[str, tuple[float, float]],
                request: PlanRequest, tz: str = DEFAULT_TIMEZONE,
                now: datetime | None = None) -> tuple[int, OperationPlan]:
    """Plan a joint operation for ``request`` and store it; returns the plan id and the plan. Bad input raises
    ``InvalidInput`` naming the request's field: ``period_end`` (not after the start, more than 31 days, too
    short for one visit of ``service_minutes``, or already ended at ``now``), ``period_start`` (more than
    :data:`~gis_enforcement.analysis.planning.MAX_PLAN_AHEAD` after ``now``: see
    :func:`~gis_enforcement.analysis.planning.check_plannable`), ``categories`` (not in the lists),
    ``start_point`` (not a WGS84 lon/lat, or more than :data:`MAX_START_OUTSIDE_M` outside the district),
    ``start_township``, ``townships``; ``area`` when nothing is there to plan, and ``period_start`` (every
    candidate's inspection window falls outside the period) or ``area`` (no officers for any) when nothing of it
    could be planned: a plan with no target would have nothing to execute, and is not stored. ``now`` is the
    time of planning (timezone-aware; None: the current time); the period is judged against it after the
    request's other fields, so a fault in those is named the same whenever the request is made. A naive period
    is taken as district time (the zone ``tz``, ``settings.timezone``) and stored with its offset."""
    now = datetime.now(UTC) if now is None else require_aware(now, "now")
    begin, end = check_period(request.period_start, request.period_end, request.service_minutes, tz=tz)
    unknown = [str(c) for c in request.categories if str(c) not in catalog.categories]
    if unknown:
        raise InvalidInput(f"unknown category: {', '.join(repr(c) for c in unknown[:5])}", field="categories")
    request = dataclasses.replace(request, period_start=begin, period_end=end)  # stored as district times
    start = _start(request, seats, locator)
    check_plannable(begin, end, now=now, tz=tz)
    candidates = gather_candidates(session, request=request, locator=locator, tz=tz)
    if candidates.empty:
        raise InvalidInput("nothing to plan: no open case, recurring site or hot spot in that area and those "
                           "categories", field="area")
    area = None
    if request.area is not None:
        area = shapely.transform(request.area, lambda xy: np.column_stack(_TO_4548.transform(xy[:, 0], xy[:, 1])))
    plan = plan_operation(
        candidates, catalog, start=start, start_crs="EPSG:4326", period_start=request.period_start,
        period_end=request.period_end, windows=dict(request.windows) or None,
        townships=request.townships or None, area=area, categories=request.categories or None,
        service_minutes=request.service_minutes, tz=tz)
    if plan.targets.empty:
        raise _nothing_to_execute(plan.waiting)
    case_ids = dict(zip(candidates["target_id"], candidates["case_ids"], strict=True))
    targets = plan.targets.assign(case_ids=[case_ids.get(t, []) for t in plan.targets["target_id"]])
    plan_id = analysis_repo.insert_plan(
        session, catalog_version=plan.catalog_version, parameters=request.parameters(),
        targets=_records(targets.drop(columns=[c for c in ("geometry",) if c in targets])),
        waiting=_records(plan.waiting.drop(columns=[c for c in ("geometry",) if c in plan.waiting])),
        staffing=_records(plan.staffing), route=plan.to_geojson())
    return plan_id, plan


#: reasons a candidate waits that lie in the period asked for (its windows, the time to reach them)
_PERIOD_REASONS = frozenset({"no_window", "too_far", "window_conflict"})


def _nothing_to_execute(waiting: pd.DataFrame) -> InvalidInput:
    """The refusal of a plan whose every candidate waits: it would be stored, listed and offered for execution
    with nothing to whistle. Named ``period_start`` when every candidate waits for its inspection window (or the
    time to reach it) in the period, else ``area``; the message gives the first reason."""
    kinds = waiting["reason_kind"].astype(str) if "reason_kind" in waiting else pd.Series([], dtype=str)
    n = len(waiting)
    first = f": {waiting['name'].iloc[0]} — {waiting['reason'].iloc[0]}" if n and "reason" in waiting else ""
    if n and kinds.isin(_PERIOD_REASONS).all():
        return InvalidInput(f"nothing to execute: none of the {n} candidate(s) can be visited in that period{first}; "
                            "choose a period that covers their inspection windows", field="period_start")
    return InvalidInput(f"nothing to execute: none of the {n} candidate(s) in that area and those categories can "
                        f"be planned{first}", field="area")


def planned_before(session: Session, *, request: PlanRequest, tz: str = DEFAULT_TIMEZONE) -> int | None:
    """The id of a plan already stored for this very request (its period read as :func:`create_plan` stores it)
    and not yet executed, or None: what a caller that must not store the same plan twice (the demo, run again)
    asks before :func:`create_plan`."""
    begin, end = check_period(request.period_start, request.period_end, request.service_minutes, tz=tz)
    same = dataclasses.replace(request, period_start=begin, period_end=end)
    return analysis_repo.find_plan(session, parameters=same.parameters(), status="planned")


@dataclass
class Execution:
    """What executing a plan did: whistles blown, cases whistled (filed ones among them), cases skipped."""

    plan_id: int
    whistle_ids: list[int] = field(default_factory=list)
    incident_ids: list[UUID] = field(default_factory=list)
    filed: list[UUID] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _file_case(session: Session, *, catalog: Catalog, locator: Locator, plan_id: int, target: Mapping[str, Any],
               at: datetime) -> UUID:
    fid = str(uuid.uuid5(_PLAN_NAMESPACE, f"{plan_id}/{target['target_id']}"))
    category = str(target["categories"][0])
    feature = {"type": "Feature", "id": fid,
               "geometry": {"type": "Point", "coordinates": [float(target["lon"]), float(target["lat"])]},
               "properties": {"category": category, "observed_at": at.isoformat(),
                              "reporter": f"联合执法计划#{plan_id}",
                              "description": f"联合执法计划#{plan_id} 目标{target.get('order')}："
                                             f"{target['target_id']}"}}
    incident, _ = submit_one(session, feature, locator=locator, catalog=catalog, now=at)
    return incident.id


def _when(value: datetime, tz: str) -> str:
    return value.astimezone(district_zone(tz)).isoformat(timespec="minutes")


def _stored_time(value: Any, tz: str) -> datetime | None:
    """A stored plan's time (ISO text, or a time the store read back) as a district time; a naive one is
    district time (plans stored before naive times were read so kept them naive)."""
    if not value:
        return None
    if isinstance(value, datetime):
        return in_zone(value, tz)
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return in_zone(moment, tz)


def plan_period(plan: Mapping[str, Any], tz: str = DEFAULT_TIMEZONE) -> tuple[datetime, datetime] | None:
    """The period of a stored plan in district time (the zone ``tz``): as planned (the route's ``plan``), else
    as asked for (its parameters; no end: 24 h); None when the plan records none."""
    route = (plan.get("route") or {}).get("plan") or {}
    params = plan.get("parameters") or {}
    begin = _stored_time(route.get("period_start"), tz) or _stored_time(params.get("period_start"), tz)
    if begin is None:
        return None
    end = _stored_time(route.get("period_end"), tz) or _stored_time(params.get("period_end"), tz)
    return begin, end or begin + timedelta(days=1)


def stored_plan(session: Session, *, plan_id: int, tz: str = DEFAULT_TIMEZONE) -> dict[str, Any]:
    """A stored plan as its reader wants it again: ``id``, ``status``, ``period`` (:func:`plan_period`),
    ``created_at`` and ``executed_at`` in district time (the zone ``tz``), the request's ``townships`` (and their
    ``township_names``) and ``categories``, ``targets`` in route order and ``waiting``, each as stored;
    ``NotFound`` on ``plan_id``."""
    plan = analysis_repo.get_plan(session, plan_id=plan_id)
    if plan is None:
        raise NotFound(f"no plan {plan_id}", field="plan_id")
    zone = district_zone(tz)
    params = plan.get("parameters") or {}
    names = user_repo.township_names(session)
    return {"id": plan["id"], "status": plan["status"], "period": plan_period(plan, tz),
            "created_at": plan["created_at"].astimezone(zone) if plan.get("created_at") else None,
            "executed_at": plan["executed_at"].astimezone(zone) if plan.get("executed_at") else None,
            "townships": list(params.get("townships") or []), "categories": list(params.get("categories") or []),
            "township_names": [names.get(c, c) for c in params.get("townships") or []],
            "targets": sorted(plan.get("targets") or [], key=lambda t: t.get("order") or 0),
            "waiting": list(plan.get("waiting") or []), "whistle_ids": list(plan.get("whistle_ids") or [])}


def list_plans(session: Session, *, limit: int, offset: int,
               tz: str = DEFAULT_TIMEZONE) -> tuple[list[dict[str, Any]], int]:
    """Plan summaries, newest first (:func:`~gis_enforcement.storage.analysis_repo.plan_list`), and how many
    there are, every time in district time (the zone ``tz``). The period is the plan's as :func:`plan_period`
    reads it: a period stored without offset (plans made before naive times were read as district time) is
    district time, not UTC."""
    rows, total = analysis_repo.plan_list(session, limit=limit, offset=offset)
    out = []
    for row in rows:
        r = {k: v for k, v in row.items() if k not in ("route_period_start", "route_period_end")}
        period = plan_period({"route": {"plan": {"period_start": row.get("route_period_start"),
                                                 "period_end": row.get("route_period_end")}},
                              "parameters": {"period_start": row.get("period_start"),
                                             "period_end": row.get("period_end")}}, tz)
        r["period_start"], r["period_end"] = period if period is not None else (None, None)
        for key in ("created_at", "executed_at"):
            r[key] = None if r.get(key) is None else in_zone(r[key], tz)
        out.append(r)
    return out, total


def _check_execution(plan: Mapping[str, Any], plan_id: int, at: datetime, tz: str) -> None:
    """Refuse executing ``plan`` at ``at`` outside its period (see :data:`EXECUTE_LEAD`) or with no target."""
    period = plan_period(plan, tz)
    if period is not None:
        begin, end = period
        if not begin - EXECUTE_LEAD <= at < end:
            state = "is over" if at >= end else "has not started"
            raise InvalidInput(
                f"plan {plan_id} runs from {_when(begin, tz)} to {_when(end, tz)} and {state}: it can be executed "
                f"from {_when(begin - EXECUTE_LEAD, tz)} until {_when(end, tz)}, not at {_when(at, tz)}", field="at")
    if not plan.get("targets"):
        waiting = len(plan.get("waiting") or [])
        raise InvalidInput(f"plan {plan_id} has no planned target ({waiting} waiting): executing it would whistle "
                           "nothing; plan again with a longer period, other windows or more officers",
                           field="plan_id")


def _planned_arrival(target: Mapping[str, Any]) -> datetime | None:
    """When the plan's route reaches a target (its stored ``arrive_at``), or None when it records none."""
    value = target.get("arrive_at")
    if not value:
        return None
    arrive = datetime.fromisoformat(str(value))
    return arrive if arrive.tzinfo is not None else None


def execute_plan(session: Session, *, catalog: Catalog, locator: Locator, plan_id: int, at: datetime,
                 actor: str | None = None, tz: str = DEFAULT_TIMEZONE) -> Execution:
    """Carry out a stored plan now: every planned target whistled at ``at``, in one transaction (see the
    module docstring). A plan executes once (``AlreadyRecorded`` the second time). ``InvalidInput`` on ``at``
    when ``at`` is more than :data:`EXECUTE_LEAD` before the plan's period or not before its end, and on
    ``plan_id`` when the plan has no planned target; nothing is written then. Times are read and said in the
    district's zone ``tz``. The whistles are the district's (mode ``joint_plan``, whistler ``district``) and
    ``actor``, the person executing the plan, is recorded on them and on the cases' events."""
    at = require_aware(at, "at")
    plan = analysis_repo.get_plan(session, plan_id=plan_id, lock=True)
    if plan is None:
        raise NotFound(f"no plan {plan_id}", field="plan_id")
    if plan["status"] == "executed":
        raise AlreadyRecorded(f"plan {plan_id} was executed at {_when(plan['executed_at'], tz)}", field="plan_id")
    _check_execution(plan, plan_id, at, tz)
    done = Execution(plan_id)
    for target in plan["targets"]:
        ids = [UUID(i) for i in target.get("case_ids") or []]
        cases = dispatch_repo.lock_cases(session, incident_ids=ids) if ids else {}
        open_ids = [i for i in ids if i in cases and case_accepts_whistle(
            "triaged" if cases[i].status.value == "reported" else cases[i].status)]
        done.skipped += [(str(i), "no longer open") for i in ids if i not in open_ids]
        if not open_ids:
            filed = _file_case(session, catalog=catalog, locator=locator, plan_id=plan_id, target=target, at=at)
            done.filed.append(filed)
            open_ids = [filed]
            cases = dispatch_repo.lock_cases(session, incident_ids=open_ids)
        wanted = list(target.get("departments") or [])
        groups: dict[tuple[str, str], list[UUID]] = {}
        for i in open_ids:
            case = cases[i]
            if case.township_code is None:
                done.skipped.append((str(i), "outside the district: a joint operation whistles only the "
                                             "district's townships' cases"))
                continue
            groups.setdefault((case.township_code, case.category), []).append(i)
        for (_township, category), members in groups.items():  # one whistle per township and category
            allowed = departments_allowed(catalog, category)
            try:
                result = whistle(session, catalog=catalog, incident_ids=members, mode=JOINT_PLAN, whistler=DISTRICT,
                                 at=at, actor=actor, add_departments=[d for d in wanted if d in allowed],
                                 note=f"联合执法计划#{plan_id} 目标{target.get('order')}（{target['target_id']}）",
                                 report_in_from=_planned_arrival(target))
            except AlreadySummoned:  # nothing written: every department is on these cases already
                done.skipped += [(str(i), "every department is already summoned") for i in members]
                continue
            done.whistle_ids.append(result.whistle_id)
            done.incident_ids += result.incident_ids
            done.skipped += [(str(i), "every department is already summoned") for i in members
                             if i not in set(result.incident_ids)]
    analysis_repo.mark_plan_executed(session, plan_id=plan_id, at=at, whistle_ids=done.whistle_ids,
                                     incident_ids=done.incident_ids)
    return done
