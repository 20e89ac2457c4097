"""/api/v1/hotspots and /api/v1/plans — hot spots as GeoJSON, joint-operation plans made and executed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from gis_enforcement.analysis.evaluation import parse_period
from gis_enforcement.analysis.hotspot_service import hotspots_for_request, stored_run
from gis_enforcement.api.auth import CreatesPlans, ExecutesPlans, ReadsAnalysis, ReadsTownshipAnalysis
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.filter_codes import check_categories, check_statuses, township_code, township_codes
from gis_enforcement.api.routers.dispatch import ERRORS, ActorDep, ClockDep
from gis_enforcement.api.schemas import BIGINT_MAX, json_plain
from gis_enforcement.api.schemas_dispatch import local_payload
from gis_enforcement.domain.access import Caller, may, township_read_scope
from gis_enforcement.errors import Forbidden, InvalidInput, NotFound
from gis_enforcement.layers.seats import load_seats
from gis_enforcement.operations.plans import PlanRequest, create_plan, execute_plan
from gis_enforcement.operations.plans import list_plans as plan_summaries
from gis_enforcement.storage import analysis_repo

router = APIRouter(prefix="/api/v1", tags=["analysis"])
GEOJSON: dict[str, Any] = {"content": {"application/geo+json": {}}}


def _local(body: Any, tz: str) -> Any:
    """``body`` as plain JSON with every time (a datetime, or ISO text with an offset, as stored JSON keeps it)
    in the district's zone ``tz``, as the rest of the API answers."""
    return local_payload(json_plain(body), tz)


def _geojson(body: dict[str, Any], tz: str, status: int = 200) -> JSONResponse:
    return JSONResponse(_local(body, tz), status_code=status, media_type="application/geo+json")


def _townships(session: SessionDep, caller: Caller, township: list[str] | None) -> list[str] | None:
    """The township codes an analysis read covers: those asked for (codes or names; None: the district) for the
    district, the caller's own township for a township dispatcher (``analysis.read_own``: by default, another
    township is 403 on ``township``)."""
    return township_read_scope(caller, township_codes(session, township), whole="analysis.read",
                               own="analysis.read_own")


def _check_run_scope(caller: Caller, run: dict[str, Any]) -> None:
    """A township dispatcher reads a stored run by id only when it was run for its own township alone."""
    if may(caller, "analysis.read"):
        return
    parameters = run.get("parameters") or {}
    towns = ((parameters.get("request") or {}).get("townships") or (parameters.get("filters") or {}).get("townships")
             or parameters.get("townships"))
    if list(towns or ()) != [caller.unit_code]:
        raise Forbidden(f"run {run.get('id')} is not an analysis of {caller.unit_code} alone; you read those of "
                        f"{caller.unit_code} only", field="run_id")


def _cells_collection(run: dict[str, Any], cells: Any, reused: bool | None = None) -> dict[str, Any]:
    frame = cells.drop(columns=[c for c in ("detail", "x", "y") if c in cells.columns])
    collection = json.loads(frame.to_json(drop_id=True))
    collection["run"] = {k: run[k] for k in ("id", "created_at", "kind", "parameters", "scale", "summary",
                                             "n_incidents", "n_cells") if k in run}
    if reused is not None:
        collection["run"]["reused"] = reused
    return collection


@router.get("/hotspots", operation_id="hotspots", responses={200: GEOJSON, **ERRORS},
            summary="Getis-Ord Gi* hot and cold spots as GeoJSON (a stored run, computed and recorded when new)")
def hotspots(
    session: SessionDep,
    platform: PlatformDep,
    caller: ReadsTownshipAnalysis,
    run_id: Annotated[int | None, Query(description="a stored run; the other parameters are then ignored")] = None,
    cell: Annotated[Literal["h3", "grid", "township", "village"], Query()] = "h3",
    resolution: Annotated[int, Query(ge=0, le=15)] = 8,
    size_m: Annotated[float, Query(gt=0, le=50_000)] = 500.0,
    distance_m: Annotated[float | None, Query(gt=0, le=100_000, description="default: chosen (Moran's I)")] = None,
    fdr: bool = True,
    permutations: Annotated[int, Query(ge=0, le=9999)] = 0,
    seed: int = 0,
    category: Annotated[list[str] | None, Query(description="problem category (repeatable)")] = None,
    period: Annotated[str | None, Query(description="2026, 2026-05 or START..END (default: the 12 months up to "
                                                      "the latest report)")] = None,
    township: Annotated[list[str] | None, Query(description="township code or name (repeatable)")] = None,
    status: Annotated[list[str] | None, Query(description="case status (repeatable)")] = None,
) -> JSONResponse:
    """Cells with ``count``, ``z``, ``p`` (``pseudo_p`` with permutations) and ``gi_bin`` (−3…3: cold/hot at
    99/95/90 % confidence); ``run`` holds the parameters, the chosen scale and the summary. Without ``period``
    the run reads the 12 months up to the latest report under the filters (``run.summary.window`` says what
    it read and how many older reports it left out). Without ``run_id``
    the answer is the run already stored for the same parameters when no report under its filters has
    arrived or changed since (``run.reused`` true); otherwise the analysis runs on the stored incidents now and
    is recorded (``run.reused`` false), so its id can be asked for again and reading twice stores one run. A
    township is named by its code or name; an unknown category, township or status is refused (422), naming
    the parameter. A township dispatcher reads its own township only (``township`` defaults to it; another is
    403), and by ``run_id`` only a run made for its township alone."""
    if run_id is not None:
        run, cells = stored_run(session, run_id=run_id)
        _check_run_scope(caller, run)
        return _geojson(_cells_collection(run, cells), platform.settings.timezone)
    check_categories(platform.catalog, category)
    towns = _townships(session, caller, township)
    check_statuses(status)
    start = end = None
    if period:
        span = parse_period(period, tz=platform.settings.timezone)
        start, end = span.start, span.end
    new_id, reused = hotspots_for_request(session, cell=cell, resolution=resolution, size_m=size_m,
                                          distance_m=distance_m, fdr=fdr, permutations=permutations, seed=seed,
                                          categories=category or None, start=start, end=end, townships=towns,
                                          statuses=status or None)
    if not reused:
        session.commit()
    run, cells = stored_run(session, run_id=new_id)
    return _geojson(_cells_collection(run, cells, reused), platform.settings.timezone)


@router.get("/hotspots/emerging", operation_id="emerging_hotspots", responses={200: GEOJSON, **ERRORS},
            summary="Emerging hot spots (new, intensifying, persistent, sporadic …) as GeoJSON, recorded when new")
def emerging(
    session: SessionDep,
    platform: PlatformDep,
    caller: ReadsTownshipAnalysis,
    cell: Annotated[Literal["h3", "grid"], Query()] = "h3",
    resolution: Annotated[int, Query(ge=0, le=15)] = 8,
    size_m: Annotated[float, Query(gt=0, le=50_000)] = 500.0,
    distance_m: Annotated[float | None, Query(gt=0, le=100_000)] = None,
    unit: Annotated[Literal["month", "week", "day"], Query(description="time bins: month, week (Monday to "
                                                                      "Sunday, district time) or day")] = "month",
    width: Annotated[int, Query(ge=1, le=366)] = 1,
    time_step: Annotated[int, Query(ge=0, le=24)] = 0,
    fdr: bool = False,
    category: Annotated[list[str] | None, Query()] = None,
    period: Annotated[str | None, Query(description="2026, 2026-03..2026-08 … (default: the 12 months up to the "
                                                      "latest report)")] = None,
    township: Annotated[list[str] | None, Query(description="township code or name (repeatable)")] = None,
) -> JSONResponse:
    """Every cell, most urgent first: the hot spots by ``pattern`` (Esri's emerging hot-spot categories) — new
    and intensifying before consecutive, persistent, sporadic, oscillating, diminishing and historical — each
    pattern's cells by their final-bin ``z``, numbered by ``urgency`` (1, 2 …); then the cold spots, then the
    cells without a pattern (``urgency`` null). Each says what it is (``pattern``, ``pattern_zh``, final-bin
    ``z`` and ``gi_bin`` (+1 hot, −1 cold, 0), the Mann-Kendall trend of its z: ``trend_z``, ``trend_p``,
    ``hot_bins``, ``cold_bins``), how much (``count``: its incidents over the period; ``last_bin_count``: in the
    last bin) and where (``township_code``, ``township_name``, ``village_name`` — the village its centre lies in
    or the nearest of its township — and ``lon``/``lat`` of its centre). Without ``period`` the run reads the 12
    months up to the latest report (``run.summary.window``). As for ``/hotspots``, an identical request on
    unchanged data answers the run already stored (``run.reused``). A township is named by its code or name; an
    unknown category or township is refused (422), naming the parameter. A township dispatcher reads its own
    township only (``township`` defaults to it; another is 403)."""
    from gis_enforcement.analysis.trend_service import emerging_for_request, emerging_list

    check_categories(platform.catalog, category)
    towns = _townships(session, caller, township)
    start = end = None
    if period:
        span = parse_period(period, tz=platform.settings.timezone)
        start, end = span.start, span.end
    run_id, reused = emerging_for_request(session, cell=cell, resolution=resolution, size_m=size_m,
                                          distance_m=distance_m, unit=unit, width=width, time_step=time_step,
                                          fdr=fdr, categories=category or None, start=start, end=end,
                                          townships=towns)
    if not reused:
        session.commit()
    run, cells = stored_run(session, run_id=run_id)
    listed = emerging_list(session, cells, locator=platform.locators.get(session))
    return _geojson(_cells_collection(run, listed.drop(columns=["township_short"]), reused),
                    platform.settings.timezone)


@router.get("/sites", operation_id="recurring_sites", responses={200: GEOJSON, **ERRORS},
            summary="The register of recurring sites (回头看), as GeoJSON points")
def sites(session: SessionDep, platform: PlatformDep, caller: ReadsTownshipAnalysis,
          township: Annotated[list[str] | None, Query(description="township code or name (repeatable)")] = None,
          category: Annotated[list[str] | None, Query()] = None, all_sites: bool = False) -> JSONResponse:
    """Sites where a problem came back after a closure (``all_sites`` for every clustered site), most returns
    first, with their history and the date to inspect again (``follow_up_due``). Refreshed by
    ``gis-enforcement hotspots sites``. An unknown township or category code is refused (422), naming the
    parameter. A township dispatcher reads its own township's sites only (``township`` defaults to it; another
    is 403)."""
    towns = _townships(session, caller, township)
    check_categories(platform.catalog, category)
    frame = analysis_repo.recurring_sites(session, townships=towns, categories=category or None,
                                          recurring_only=not all_sites)
    features = [{"type": "Feature", "id": r["site_id"], "geometry": {"type": "Point", "coordinates": [r["lon"],
                 r["lat"]]}, "properties": {k: (list(v) if isinstance(v, tuple) else v) for k, v in r.items()
                                             if k not in ("lon", "lat")}} for r in frame.to_dict(orient="records")]
    return _geojson({"type": "FeatureCollection", "features": features}, platform.settings.timezone)


@router.get("/trends", operation_id="category_trends", responses=ERRORS,
            summary="Which problem categories are rising: counts per week and their trend")
def trends(session: SessionDep, platform: PlatformDep, caller: ReadsTownshipAnalysis,
           period: Annotated[str | None, Query(description="2026, 2026-03..2026-08 … (default: the 12 months up "
                                                             "to the latest report)")] = None,
           township: Annotated[list[str] | None, Query(description="township code or name (repeatable)")] = None,
           days: Annotated[int, Query(ge=1, le=92, description="bin width in days (7: weeks)")] = 7) -> dict[str, Any]:
    """One row per problem category with 10 or more incidents in the bins, the most clearly rising first:
    ``trend`` (+1 rising, −1 falling, 0 none at 10 %), Mann-Kendall ``z``, ``p`` and ``tau``, Sen's ``slope``
    (incidents per bin), ``first`` and ``last`` (incidents in the first and last quarter of the bins),
    ``change`` (``last / first − 1``; null when ``first`` is 0) and ``series`` (counts per bin, oldest first).
    The bins analysed are given beside: ``bin_start``, ``bin_end`` (exclusive, district time), ``bin_days``,
    ``n_bins`` and ``last_bin_days``. The bins start at the period's start (or the first incident's day) and
    cover the period whole: the days left at its end make a short last bin (half a bin or more; its trend is
    tested on its count per ``days`` days) or lengthen the last one. ``incidents`` counts every incident binned
    (the rows' ``n`` and those of the categories left out); ``left_out_categories`` and ``left_out_incidents``
    say how many categories had fewer than 10 and were not analysed. Without ``period`` the incidents are those
    of the 12 months up to the latest report; ``window`` says what was read: ``default`` (no period asked),
    ``months``, ``start`` (null: from the first report, all within the 12 months), ``first``, ``latest`` and
    ``older_left_out`` (reports before the window, not binned). Fewer than four whole bins in the period:
    422 on ``days``. A township dispatcher reads its own township only (``township`` defaults to it; another
    is 403)."""
    from gis_enforcement.analysis.category_trend_service import category_trend_table

    towns = _townships(session, caller, township)
    start = end = None
    if period:
        span = parse_period(period, tz=platform.settings.timezone)
        start, end = span.start, span.end
    table = category_trend_table(session, start=start, end=end, townships=towns, days=days,
                                 tz=platform.settings.timezone)
    names = {code: c.zh for code, c in platform.catalog.categories.items()}
    rows = [{"category": r["category"], "name": names.get(r["category"], r["category"]), "n": int(r["n"]),
             "trend": int(r["trend"]), **{k: json_plain(float(r[k])) for k in ("z", "p", "tau", "slope")},
             "first": int(r["first"]), "last": int(r["last"]),
             "change": json_plain(r["change"]), "series": [int(v) for v in r["series"]]}
            for r in table.to_dict(orient="records")]
    a = table.attrs
    return {"data": rows, "count": len(rows), "bin_start": a["bin_start"], "bin_end": a["bin_end"],
            "bin_days": a["bin_days"], "n_bins": a["n_bins"], "last_bin_days": a["last_bin_days"],
            "incidents": a["incidents"], "left_out_categories": a["left_out_categories"],
            "left_out_incidents": a["left_out_incidents"], "window": _local(a["window"], platform.settings.timezone)}


@router.get("/hotspots/runs", operation_id="hotspot_runs", responses=ERRORS, summary="Recorded hot-spot runs")
def hotspot_runs(session: SessionDep, platform: PlatformDep, caller: ReadsAnalysis,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict[str, Any]:
    runs = analysis_repo.hotspot_runs(session, limit=limit)
    return _local({"data": runs, "count": len(runs)}, platform.settings.timezone)  # type: ignore[no-any-return]


class PlanCreate(BaseModel):
    """A joint operation to plan: when, where, which problems, from where the team leaves."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "start": "2026-05-12T20:00:00+08:00", "hours": 12, "townships": ["110117104"],
        "categories": ["MIN-02", "MIN-01"], "from_township": "110117104", "hotspot_run_id": None,
        "windows": {"MIN-02": "22:00-03:00"}}]})
    start: AwareDatetime
    hours: float = Field(default=12.0, gt=0, le=24 * 31)
    townships: list[str] = Field(default_factory=list, max_length=50, description="township codes or names")
    categories: list[str] = Field(default_factory=list, max_length=50)
    from_township: str | None = Field(default=None, description="the team leaves from this township's seat (its "
                                                                "code or name)")
    from_point: tuple[float, float] | None = Field(
        default=None, description="or from this (lon, lat), WGS84: inside the district or at most 30 km outside it")
    hotspot_run_id: int | None = None
    windows: dict[str, str] = Field(default_factory=dict, description="category → HH:MM-HH:MM override")
    service_minutes: float = Field(default=60.0, gt=0, le=24 * 60)

    @field_validator("start")
    @classmethod
    def _start_in_range(cls, value: datetime) -> datetime:
        if not 1970 <= value.year <= 2999:  # and the period's end stays within the calendar
            raise ValueError("the start must be between the years 1970 and 2999")
        return value


#: fields of a plan request (:class:`~gis_enforcement.operations.plans.PlanRequest`) → fields of the body
_PLAN_FIELDS = {"start_point": "from_point", "start_township": "from_township", "period_end": "hours",
                "period_start": "start"}


def _plan_body(plan: dict[str, Any]) -> dict[str, Any]:
    route = dict(plan["route"])
    route["plan"] = {**route.get("plan", {}), "id": plan["id"], "status": plan["status"],
                     "created_at": plan["created_at"], "executed_at": plan["executed_at"],
                     "whistle_ids": plan["whistle_ids"], "parameters": plan["parameters"],
                     "waiting": plan["waiting"], "staffing": plan["staffing"]}
    return route


@router.post("/plans", operation_id="create_plan", status_code=201, responses={201: GEOJSON, **ERRORS},
             summary="Plan a joint operation (联合执法): targets, departments and officers, windows, route")
def create_plan_route(body: PlanCreate, session: SessionDep, platform: PlatformDep, clock: ClockDep,
                      caller: CreatesPlans) -> JSONResponse:
    """Candidates are the open cases, recurring sites and (with ``hotspot_run_id``) hot spots in the townships
    and categories asked for; the plan is stored and returned as GeoJSON (start, targets, route line) with
    the targets that wait and why under ``plan``."""
    request = PlanRequest(period_start=body.start, period_end=body.start + timedelta(hours=body.hours),
                          townships=township_codes(session, body.townships, field="townships") or [],
                          categories=body.categories,
                          start_township=township_code(session, body.from_township, field="from_township"),
                          start_point=body.from_point, hotspot_run_id=body.hotspot_run_id, windows=body.windows,
                          service_minutes=body.service_minutes)
    try:
        plan_id, _ = create_plan(session, catalog=platform.catalog, locator=platform.locators.get(session),
                                 seats=load_seats(platform.settings.boundaries_dir), request=request,
                                 tz=platform.settings.timezone, now=clock())
    except InvalidInput as exc:  # name the field as this body spells it
        if exc.field not in _PLAN_FIELDS:
            raise
        raise InvalidInput(exc.message, field=_PLAN_FIELDS[exc.field], **exc.detail) from exc
    session.commit()
    stored = analysis_repo.get_plan(session, plan_id=plan_id)
    assert stored is not None
    return _geojson(_plan_body(stored), platform.settings.timezone, status=201)


class PlanSummary(BaseModel):
    """A stored joint-operation plan at a glance (``GET /api/v1/plans/{id}`` has the targets and the route)."""

    id: int
    created_at: datetime
    status: Literal["planned", "executed"]
    executed_at: datetime | None
    catalog_version: str
    period_start: datetime | None
    period_end: datetime | None
    townships: list[str] = Field(description="the townships asked for (empty: all)")
    categories: list[str] = Field(description="the categories asked for (empty: all)")
    start_township: str | None
    target_count: int
    waiting_count: int = Field(description="targets left out of the route, with their reasons in the plan")
    departments: list[str] = Field(description="the departments the targets need, sorted")
    whistle_ids: list[int] = Field(description="the whistles of its execution (empty until executed)")


class PlansPublic(BaseModel):
    data: list[PlanSummary]
    count: int = Field(description="how many plans there are, over all pages")


@router.get("/plans", operation_id="list_plans", response_model=PlansPublic, responses=ERRORS,
            summary="Joint-operation plans, newest first")
def list_plans(session: SessionDep, platform: PlatformDep, caller: ReadsAnalysis,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0) -> PlansPublic:
    """Every time in district time with its offset; a period stored without one (plans made before naive times
    were read as district time) is district time."""
    rows, total = plan_summaries(session, limit=limit, offset=offset, tz=platform.settings.timezone)
    return PlansPublic(data=[PlanSummary.model_validate(r) for r in rows], count=total)


@router.get("/plans/{plan_id}", operation_id="get_plan", responses={200: GEOJSON, **ERRORS})
def get_plan(plan_id: int, session: SessionDep, platform: PlatformDep, caller: ReadsAnalysis) -> JSONResponse:
    stored = analysis_repo.get_plan(session, plan_id=plan_id)
    if stored is None:
        raise NotFound(f"no plan {plan_id}", field="plan_id")
    return _geojson(_plan_body(stored), platform.settings.timezone)


class ExecutionPublic(BaseModel):
    plan_id: int
    whistle_ids: list[int]
    incident_ids: list[str]
    filed: list[str] = Field(description="cases filed for targets that had no open case")
    skipped: list[tuple[str, str]]


@router.post("/plans/{plan_id}/execute", operation_id="execute_plan", response_model=ExecutionPublic,
             responses=ERRORS, summary="Execute a plan: every target whistled at once (joint whistle)")
def execute(plan_id: int, session: SessionDep, platform: PlatformDep, clock: ClockDep, caller: ExecutesPlans,
            actor: ActorDep) -> ExecutionPublic:
    """Once per plan (409 the second time), at the server's time: from 2 hours before the plan's period starts
    until it ends (422 on ``at`` otherwise, giving the period in district time); a plan with no planned target
    is refused (422 on ``plan_id``)."""
    done = execute_plan(session, catalog=platform.catalog, locator=platform.locators.get(session), plan_id=plan_id,
                        at=clock(), actor=actor, tz=platform.settings.timezone)
    session.commit()
    return ExecutionPublic(plan_id=plan_id, whistle_ids=done.whistle_ids,
                           incident_ids=[str(i) for i in done.incident_ids], filed=[str(i) for i in done.filed],
                           skipped=done.skipped)
