"""/api/v1/incidents — intake of one incident or a batch, read one, list with filters."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api.auth import allow, check_case_access, limiter
from gis_enforcement.api.deps import PlatformDep, SessionDep, TransactionsDep
from gis_enforcement.api.filter_codes import check_category, check_department, check_statuses, township_code
from gis_enforcement.api.limits import InFlightLimit, kept_limit
from gis_enforcement.api.ogc_params import parse_datetime, refuse_unknown
from gis_enforcement.api.schemas import (
    BIGINT_MAX,
    INCIDENT_FEATURE_EXAMPLE,
    AttachedPhotoPublic,
    ErrorResponse,
    IncidentPublic,
    IncidentsPublic,
    IngestReportPublic,
    ReportCoursePublic,
    ReportsCoursePublic,
)
from gis_enforcement.domain.access import Caller, Role, incident_scope
from gis_enforcement.domain.enums import CaseStatus, LocationFlag
from gis_enforcement.domain.records import Incident
from gis_enforcement.errors import InvalidInput, NotFound, PayloadTooLarge
from gis_enforcement.operations.exports import EXPORT_TYPES, export_bytes, export_file, export_state, start_export
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.patrol.submit import own_reporter, submit_one
from gis_enforcement.storage import Session, incident_repo, photo_repo, user_repo
from gis_enforcement.storage.incident_repo import IncidentFilter

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
exports_router = APIRouter(prefix="/api/v1/exports", tags=["incidents"])
#: at most this many incidents are exported in the answer itself; more are written in the background
EXPORT_INLINE = 20_000

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorResponse} for s in (401, 403, 404, 409, 413, 422, 429, 503)
}


def intake_limit(app: Any) -> InFlightLimit:
    """The app's cap on intake requests in progress (``Settings.intake_max_in_flight``), shared by the route
    and the intake lane."""
    return kept_limit(app.state, "intake_limit", app.state.platform.settings.intake_max_in_flight)


async def intake_slot(request: Request) -> AsyncIterator[None]:
    """One of the intake requests the server works on at once (``Settings.intake_max_in_flight``), held until
    the request is answered; when none is free, 503 with Retry-After. Async, so it is decided on the event
    loop before the request takes a thread, a session or a database connection."""
    with intake_limit(request.app).slot("submissions"):
        yield


@router.post(
    "",
    operation_id="create_incidents",
    status_code=201,
    response_model=IncidentPublic | IngestReportPublic,
    responses={200: {"description": "already stored with the same content (idempotent replay)"}, **ERRORS},
    summary="Submit one incident (GeoJSON Feature) or a batch (FeatureCollection)",
    dependencies=[Depends(intake_slot, scope="function")],  # the slot is free again before the answer is sent
)
def create_incidents(
    platform: PlatformDep,
    session: SessionDep,
    body: Annotated[dict[str, Any], Body(examples=[INCIDENT_FEATURE_EXAMPLE])],
    caller: Annotated[Caller, Depends(allow("incident.create"))],
) -> Response:
    """A Feature is one incident: 201 with the stored case when new, 200 when the same id and content were
    already stored, 409 when the id was stored with different content. A FeatureCollection is a batch:
    good features are stored, bad ones reported with their index (``row``), field and reason.

    A plain function: intake is synchronous work, so FastAPI runs it in the server's thread pool and the event
    loop stays free to read and answer other requests. When the server already works on as many submissions
    as it takes at once, the answer is 503 with Retry-After (nothing was stored; send again later). The answer
    is encoded here from its model (``response_model`` documents it) rather than validated again by FastAPI."""
    limiter("intake", platform.settings.intake_requests_per_minute).hit(caller.username, field="body")
    if body.get("type") == "Feature":
        return take_feature(platform, session, body, caller)
    limit = platform.settings.max_batch_features
    features = body.get("features")
    if body.get("type") == "FeatureCollection" and isinstance(features, list) and len(features) > limit:
        raise PayloadTooLarge(f"at most {limit} features per request", field="features")
    settings = platform.settings
    _own_reporters(body, _reporter_names(session, caller))
    raw = parse_geojson(body, source="api")
    report = ingest(session, raw, locator=platform.locators.get(session), catalog=platform.catalog,
                    tz=settings.timezone, created_by=caller.username)
    if report.accepted == 0 and report.already_stored == 0 and report.errors:
        first = report.errors[0]
        raise InvalidInput(f"no feature accepted; {first}", field=f"features[{first.row - 1}].{first.field}",
                           errors=[e.to_dict() for e in report.errors])
    session.commit()
    return _json(IngestReportPublic(**report.to_dict(with_ids=True)), 200)


def take_feature(platform: Platform, session: Session, feature: dict[str, Any], caller: Caller) -> Response:
    """One incident (a decoded GeoJSON Feature) through intake and committed: the answer, 201 with the stored
    case or 200 when the same id and content were stored before. The caller was allowed and counted by the
    rate limit before."""
    answer = answer_feature(platform, session, feature, caller)
    session.commit()
    return answer


def answer_feature(platform: Platform, session: Session, feature: dict[str, Any], caller: Caller) -> Response:
    """``take_feature`` without the commit: the intake lane's queue (``api.intake_queue``) commits a group of
    submissions at once. Nothing of the incident is written unless this returns (``submit_one``'s write is its
    last statement)."""
    incident, created = submit_one(session, feature, locator=platform.locators, catalog=platform.catalog,
                                   tz=platform.settings.timezone, created_by=caller.username, source="api",
                                   reporter_names=_reporter_names(session, caller))
    return _json(_public(incident, platform), 201 if created else 200)


def _own_reporters(body: dict[str, Any], names: tuple[str, ...] | None) -> None:
    """A patrol's batch in its own name, as its single reports (``submit.own_reporter``): an absent reporter
    filled in, another's refused naming the feature. Features too broken to read are left to intake."""
    if not names or not isinstance(body.get("features"), list):
        return
    for i, feature in enumerate(body["features"]):
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict) or not (props.get("reporter") is None or isinstance(props["reporter"], str)):
            continue
        try:
            props["reporter"] = own_reporter(props.get("reporter"), names)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, field=f"features[{i}].properties.reporter", **exc.detail) from exc


def _reporter_names(session: Session, caller: Caller) -> tuple[str, ...] | None:
    """The names a signed-in patrol files under (display name first when it has one, then its user name);
    None for other roles, whose ``reporter`` stays as sent."""
    if caller.role != Role.PATROL:
        return None
    user = user_repo.get_user(session, username=caller.username)
    display = user.display_name.strip() if user is not None and user.display_name else ""
    return (display, caller.username) if display and display != caller.username else (caller.username,)


def _json(model: BaseModel, status: int) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


def _public(incident: Incident, platform: Platform) -> IncidentPublic:
    return IncidentPublic.from_record(incident, tz=platform.settings.timezone,
                                      departments=platform.catalog.departments)


# before "/{incident_id}", which would take "mine" for an id
@router.get("/mine", operation_id="list_my_reports", response_model=ReportsCoursePublic, responses=ERRORS,
            summary="The caller's own reports with what became of them")
def list_my_reports(
    session: SessionDep, platform: PlatformDep,
    caller: Annotated[Caller, Depends(allow("incident.read"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> ReportsCoursePublic:
    """The newest ``limit`` incidents the caller filed (``created_by``), newest received first: each case's
    status, when it was whistled and closed, the departments summoned (lead first) with when each reported in
    and finished, and the likely duplicate or recurrence the intake found. A patrol follows its reports here."""
    rows = incident_repo.reports_course(session, created_by=caller.username, limit=limit)
    return ReportsCoursePublic(data=[ReportCoursePublic.from_row(r, tz=platform.settings.timezone,
                                                                 departments=platform.catalog.departments)
                                     for r in rows])


@router.get("/{incident_id}", operation_id="get_incident", response_model=IncidentPublic, responses=ERRORS)
def get_incident(incident_id: UUID, session: SessionDep, platform: PlatformDep,
                 caller: Annotated[Caller, Depends(allow("incident.read"))]) -> IncidentPublic:
    """One incident by its id, as a GeoJSON Feature (within the caller's scope)."""
    check_case_access(session, caller, "incident.read", incident_id)
    incident = incident_repo.get_incident(session, incident_id=incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}", field="incident_id")
    public = _public(incident, platform)
    public.properties.attached_photos = [AttachedPhotoPublic(sha256=p["sha256"], url=f"/api/v1/photos/{p['sha256']}")
                                         for p in photo_repo.photos_of(session, incident_id=incident_id)]
    return public


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        parts = tuple(float(p) for p in value.split(","))
    except ValueError as exc:
        raise InvalidInput("bbox must be four numbers: minlon,minlat,maxlon,maxlat", field="bbox") from exc
    if len(parts) != 4:
        raise InvalidInput(f"bbox must be four numbers: minlon,minlat,maxlon,maxlat (got {len(parts)})",
                           field="bbox")
    if not all(math.isfinite(p) for p in parts):
        raise InvalidInput("bbox numbers must be finite", field="bbox")
    if not (all(abs(x) <= 180 for x in parts[::2]) and all(abs(y) <= 90 for y in parts[1::2])):
        raise InvalidInput("bbox longitudes must lie in [-180, 180] and latitudes in [-90, 90]", field="bbox")
    if parts[0] > parts[2] or parts[1] > parts[3]:
        raise InvalidInput("bbox must be minlon,minlat,maxlon,maxlat with min <= max", field="bbox")
    return parts  # type: ignore[return-value]


#: the filters of the list and the export (the list also pages with ``limit`` and ``offset``)
FILTER_PARAMETERS = ("bbox", "category", "township", "status", "open", "department", "datetime", "flag")

#: the statuses a case rests in: closed, and the two side exits of triage (rejected, duplicate). Each of them
#: only leaves by a deliberate reopen or reinstate; every other status (verified too: it still awaits the
#: township's close) is open — the same split as the escalation pass makes.
SETTLED_STATUSES = (CaseStatus.CLOSED.value, CaseStatus.REJECTED.value, CaseStatus.DUPLICATE.value)
OPEN_STATUSES = tuple(s.value for s in CaseStatus if s.value not in SETTLED_STATUSES)


def _check_query(request: Request, allowed: tuple[str, ...]) -> None:
    """Every parameter is one this resource defines, each sent once (a filter takes one value)."""
    refuse_unknown(request.query_params, allowed)
    for name in allowed:
        if len(request.query_params.getlist(name)) > 1:
            raise InvalidInput("sent more than once; a filter takes one value", field=name)


def _one(value: str | None, field: str, what: str) -> str | None:
    if value is not None and "," in value:
        raise InvalidInput(f"one {what} per request: {value!r} is a list, which this filter does not take",
                           field=field)
    return value


def _statuses(status: str | None, open_: bool | None) -> tuple[str | None, tuple[str, ...] | None]:
    """The status filter: one status (``status``) or any of several (comma-separated), each a case status —
    a bad one is refused, naming it; ``open`` true keeps the open statuses, false the settled ones (with a
    status list, the statuses in both). Returns (one status, several statuses): one of them None."""
    given: tuple[str, ...] | None = None
    if status is not None:
        given = tuple(dict.fromkeys(s.strip() for s in status.split(",")))
        if "" in given:
            raise InvalidInput(f"an empty status in {status!r}; a comma-separated list of statuses, e.g. "
                               "reported,triaged", field="status")
        check_statuses(given)
    if open_ is not None:
        kept = OPEN_STATUSES if open_ else SETTLED_STATUSES
        given = kept if given is None else tuple(s for s in given if s in kept)
    if given is not None and len(given) == 1:
        return given[0], None  # one status is an equality (the township, status, time index)
    return None, given


def _filters(session: Session, caller: Caller, platform: Platform, bbox: str | None, category: str | None,
             township: str | None, status: str | None, department: str | None,
             when: str | None, flag: str | None = None, open_: bool | None = None) -> IncidentFilter:
    """The filters of a list or export query, each value checked: an unknown code is refused, naming the
    parameter, rather than matching nothing."""
    catalog = platform.catalog
    check_category(catalog, _one(category, "category", "problem-list code"))
    status, statuses = _statuses(status, open_)
    check_department(catalog, _one(department, "department", "department code"))
    township = township_code(session, _one(township, "township", "township"))
    start, end = parse_datetime(when, tz=platform.settings.timezone)
    if _one(flag, "flag", "flag") is not None and flag not in {f.value for f in LocationFlag}:
        raise InvalidInput(f"unknown flag {flag!r}; one of {', '.join(f.value for f in LocationFlag)}", field="flag")
    return IncidentFilter(bbox=_bbox(bbox), category=category, township=township, status=status,
                          statuses=statuses, department=department, observed_from=start, observed_to=end,
                          scope=incident_scope(caller), flag=flag)


BBox = Annotated[str | None, Query(description="minlon,minlat,maxlon,maxlat (WGS84)",
                                   examples=["117.0,40.1,117.3,40.3"])]
Category = Annotated[str | None, Query(description="one problem-list code, e.g. MIN-02")]
TownshipQ = Annotated[str | None, Query(description="one township, by code or name (of the loaded layers; the "
                                                    "short name without its parenthesis, 平谷镇, too)")]
StatusQ = Annotated[str | None, Query(description="a case status, or several comma-separated (any of them): "
                                     + ", ".join(s.value for s in CaseStatus), examples=["reported,triaged"])]
OpenQ = Annotated[bool | None, Query(alias="open", description="true: the open cases (every status but "
                                     + ", ".join(SETTLED_STATUSES) + "); false: those settled")]
DepartmentQ = Annotated[str | None, Query(description="cases this department was summoned to: one department "
                                          "code, e.g. WATER")]
FlagQ = Annotated[str | None, Query(description="cases carrying one location flag: " + ", ".join(
    f.value for f in LocationFlag) + " (outside_district: the reports no township holds, for the district to "
    "decide)")]
When = Annotated[str | None, Query(alias="datetime", description="observed at: an RFC 3339 instant or interval "
                                   "start/end, '..' open (a date alone is its whole day, Beijing time)",
                                   examples=["2026-05-01/2026-05-31", "2026-05-12T20:00:00+08:00/.."])]


@router.get("", operation_id="list_incidents", response_model=IncidentsPublic, responses=ERRORS)
def list_incidents(
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    caller: Annotated[Caller, Depends(allow("incident.read"))],
    bbox: BBox = None,
    category: Category = None,
    township: TownshipQ = None,
    status: StatusQ = None,
    open_: OpenQ = None,
    department: DepartmentQ = None,
    when: When = None,
    flag: FlagQ = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> Response:
    """Incidents matching the filters within the caller's scope, newest observation first, as a GeoJSON
    FeatureCollection with the total that matched (``numberMatched``). A parameter not among these, a filter
    sent twice or an unknown code is refused (422), naming the parameter."""
    _check_query(request, (*FILTER_PARAMETERS, "limit", "offset"))
    items, total = incident_repo.list_incidents(
        session, filters=_filters(session, caller, platform, bbox, category, township, status, department, when,
                                  flag, open_),
        limit=limit, offset=offset,
    )
    return _json(IncidentsPublic(  # encoded here: FastAPI would validate the whole page again first
        features=[_public(i, platform) for i in items], numberMatched=total,
        numberReturned=len(items), limit=limit, offset=offset,
    ), 200)


@exports_router.get("/incidents.{fmt}", operation_id="export_incidents", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/geopackage+sqlite3": {},
                                         "application/geo+json": {}}},
                       202: {"description": "large: being written; fetch the file from the Location given",
                             "content": {"application/json": {}}},
                       **ERRORS},
            summary="The filtered incidents as CSV, GeoPackage or GeoJSON (large sets are written in the "
                    "background)")
def export_incidents(
    fmt: Annotated[str, Path(pattern="^(csv|gpkg|geojson)$", description="csv, gpkg or geojson")],
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    transactions: TransactionsDep,
    caller: Annotated[Caller, Depends(allow("incident.read"))],
    bbox: BBox = None,
    category: Category = None,
    township: TownshipQ = None,
    status: StatusQ = None,
    open_: OpenQ = None,
    department: DepartmentQ = None,
    when: When = None,
    flag: FlagQ = None,
) -> Response:
    """The incidents the filters (those of ``GET /api/v1/incidents``) and the caller's scope select. Up to
    ``EXPORT_INLINE`` incidents come back in the answer; more are written in the background and the
    answer is 202 with ``Location: /api/v1/exports/{id}`` (poll it: 202 while writing, then the file)."""
    _check_query(request, FILTER_PARAMETERS)
    filters = _filters(session, caller, platform, bbox, category, township, status, department, when, flag, open_)
    _, total = incident_repo.list_incidents(session, filters=filters, limit=1, offset=0)
    exports = platform.settings.data_dir / "exports"
    if total <= EXPORT_INLINE:
        data = export_bytes(incident_repo.incidents_frame(session, filters=filters, outcome=True), fmt,
                            zone=platform.settings.timezone, catalog=platform.catalog)
        return Response(data, media_type=EXPORT_TYPES[fmt],
                        headers={"Content-Disposition": f'attachment; filename="incidents.{fmt}"'})
    job = start_export(exports, fmt=fmt, owner=caller.username, zone=platform.settings.timezone,
                       catalog=platform.catalog, read=lambda: _read_all(transactions, filters))
    return Response(status_code=202, headers={"Location": f"/api/v1/exports/{job}"},
                    content=f'{{"id": "{job}", "matched": {total}}}', media_type="application/json")


def _read_all(transactions: Any, filters: IncidentFilter) -> Any:
    with transactions() as session:
        return incident_repo.incidents_frame(session, filters=filters, outcome=True)


@exports_router.get("/{job}", operation_id="get_export", response_class=Response,
                    responses={200: {"content": {"text/csv": {}, "application/geopackage+sqlite3": {},
                                                 "application/geo+json": {}}},
                               202: {"description": "still being written", "content": {"application/json": {}}},
                               **ERRORS},
                    summary="A background export: 202 while it is written, then the file")
def get_export(job: Annotated[str, Path(pattern="^[0-9a-f]{32}$")], platform: PlatformDep,
               caller: Annotated[Caller, Depends(allow("incident.read"))]) -> Response:
    state = export_state(platform.settings.data_dir / "exports", job)
    if state is None or state["owner"] != caller.username:
        raise NotFound(f"no export {job}", field="job")
    if state["status"] == "failed":
        raise NotFound(f"export {job} failed: {state.get('error', '')}", field="job")
    if state["status"] != "done":
        return Response(status_code=202, content='{"status": "writing"}', media_type="application/json",
                        headers={"Retry-After": "2"})
    path = export_file(platform.settings.data_dir / "exports", job, state["format"])
    return Response(path.read_bytes(), media_type=EXPORT_TYPES[state["format"]],
                    headers={"Content-Disposition": f'attachment; filename="incidents.{state["format"]}"'})
