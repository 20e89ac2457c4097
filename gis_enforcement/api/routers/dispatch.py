"""/api/v1/incidents/{incident_id}/... — the whistle chain over HTTP: whistle, report in, act, resolve, verify.

Routes are thin: they convert what the client sent (datum, server clock), call the dispatch services, commit,
and shape the answer; every rule and every error lives in the services and the one error table.

**Assignments are addressed as** ``/api/v1/incidents/{incident_id}/assignments/{department}/...``: the
services identify an assignment by (case, department) — one assignment per department per case — so the path
reads as the domain does ("WATER on this case reports in"). The flat ``/api/v1/assignments/{id}/...`` of
:mod:`gis_enforcement.api.routers.assignments` reads the id to the same pair and calls these routes.

Server time is authoritative for every step (report-in timing above all); it comes from :data:`ClockDep`, which
tests override. :data:`ActorDep` is the signed-in user, recorded as the actor of every event.

Each route names the action it needs (:func:`~gis_enforcement.api.auth.allow`) and checks the case, the
department or the township it acts for against the caller's unit: a township whistles, overrules, verifies and
closes only its own cases; a department reports in, acts, declines and resolves only its own assignments.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api.auth import (
    ActsOnAssignments,
    CallerDep,
    DeclinesAssignments,
    OverrulesAssignments,
    ReadsAssignments,
    ReadsIncidents,
    ResumesCases,
    VerifiesCases,
    Whistles,
    allow,
    check_case_access,
)
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.schemas import ErrorResponse, PlanItemPublic
from gis_enforcement.api.schemas_dispatch import (
    ActionCreate,
    ActionPublic,
    AssignmentPublic,
    AssignmentsPublic,
    CaseStatusPublic,
    CloseCreate,
    DeclineCreate,
    MarkDuplicateCreate,
    PendingPublic,
    PositionPublic,
    ReasonCreate,
    ReclassifiedPublic,
    ReclassifyCreate,
    ReinstateCreate,
    RejectCreate,
    ReopenCreate,
    ReportInCreate,
    ReportInPublic,
    ResolveCreate,
    ResumeCreate,
    SummonedPublic,
    TimelinePublic,
    VerifyCreate,
    WhistleCreate,
    WhistlePublic,
)
from gis_enforcement.dispatch import on_site, resolution, triage
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.access import Caller, check_department, check_unit
from gis_enforcement.domain.datum import to_wgs84
from gis_enforcement.domain.records import Assignment, Incident
from gis_enforcement.errors import AlreadyRecorded, EnforcementError, Forbidden, NotFound
from gis_enforcement.storage import Session, dispatch_repo, incident_repo

router = APIRouter(prefix="/api/v1/incidents", tags=["dispatch"])

ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorResponse} for s in (401, 403, 404, 409, 422, 503)}


def utc_now() -> datetime:
    """The server's clock (UTC, aware)."""
    return datetime.now(UTC)


def get_clock() -> Callable[[], datetime]:
    """The clock routes read server time from; override it in tests to pin time."""
    return utc_now


def get_actor(caller: CallerDep) -> str | None:
    """Who acts: the signed-in user's name, recorded in the case's events."""
    return caller.username


ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
ActorDep = Annotated[str | None, Depends(get_actor)]
TriagesCases = Annotated[Caller, Depends(allow("incident.triage"))]


def _own_township(session: Session, caller: Caller, incident_id: UUID, township: str,
                  action: str = "incident.verify") -> None:
    """The township acts for itself, on its own case."""
    check_unit(caller, township, field="township")
    check_case_access(session, caller, action, incident_id)


def _department_case(session: Session, caller: Caller, action: str, incident_id: UUID, department: str, *,
                     assigned: bool = True) -> None:
    """The department acts for itself, on a case it was summoned to. With ``assigned`` (the department named
    in the path) an assignment the case does not have is 404 on ``department``, before asking whether the
    caller may act on it (403): there is nothing to act on."""
    check_case_access(session, caller, action, incident_id)
    if assigned:
        on_site.assignment_of(session, incident_id=incident_id, department=department)
    check_department(caller, action, department)


IncidentId = Annotated[UUID, Path(description="the case (incident) id")]
DepartmentCode = Annotated[str, Path(min_length=1, max_length=64, description="department code, e.g. WATER",
                                     examples=["WATER"])]


def _existing(session: Session, incident_id: UUID) -> Incident:
    incident = incident_repo.get_incident(session, incident_id=incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}", field="incident_id")
    return incident


def _assignment(a: Assignment, platform: Platform) -> AssignmentPublic:
    return AssignmentPublic.from_record(a, tz=platform.settings.timezone, departments=platform.catalog.departments)


def _wgs84(lon: float, lat: float, crs: str) -> tuple[float, float]:
    x, y = to_wgs84(lon, lat, crs)
    return float(x), float(y)


def _whistle_field(exc: EnforcementError, body: WhistleCreate, *, joint: bool) -> str | None:
    """The request field a whistle error is about: the service names its own parameters (``incident_ids``,
    ``departments``); the client should see what it sent and can change."""
    if exc.field == "incident_ids" and not joint:  # one case, named in the path
        return "incident_id" if isinstance(exc, NotFound | AlreadyRecorded) else "whistler"
    if exc.field == "departments":
        return "only_departments" if body.only_departments and not body.add_departments else "add_departments"
    return exc.field


# --- whistle --------------------------------------------------------------------------------------------------


@router.post("/{incident_id}/whistle", operation_id="whistle_incident", status_code=201,
             response_model=WhistlePublic, responses=ERRORS,
             summary="Whistle (吹哨) departments to a case, or to several cases at once (joint whistle)")
def whistle_incident(incident_id: IncidentId, body: WhistleCreate, session: SessionDep, platform: PlatformDep,
                     clock: ClockDep, actor: ActorDep, caller: Whistles) -> WhistlePublic:
    """Summon departments at server time. ``township`` mode: the township whistles for a case in its own
    jurisdiction; the plan from the lists is the default, ``add_departments`` adds assists the lists allow,
    ``only_departments`` narrows the plan. ``lead_department`` mode: the case's lead summons assists. With
    ``incident_ids`` the whistle is joint (this case and those). Refused with the reason, writing nothing, when
    a case is outside the whistler's reach or a department is not allowed by the lists; 409 when every
    department is already summoned (``detail.already_summoned`` lists them). A case of a joint whistle with
    nobody new to summon is left out of it (``already_summoned`` names its departments)."""
    ids = list(dict.fromkeys([incident_id, *(body.incident_ids or [])]))
    if not caller.district_wide:
        # a township whistles as itself for its own cases; a department only as a case's lead
        if (body.mode == TOWNSHIP) != (caller.unit_kind == "township"):
            raise Forbidden(f"a {caller.unit_kind} does not whistle in {body.mode} mode", field="mode")
        check_unit(caller, body.whistler, field="whistler")
        for i in ids:
            check_case_access(session, caller, "incident.whistle", i)
    try:
        result = whistle(session, catalog=platform.catalog, incident_ids=ids, mode=body.mode,
                         whistler=body.whistler, at=clock(), actor=actor, add_departments=body.add_departments,
                         only_departments=body.only_departments, note=body.note)
    except EnforcementError as exc:
        exc.field = _whistle_field(exc, body, joint=len(ids) > 1)
        raise
    session.commit()
    return WhistlePublic(
        whistle_id=result.whistle_id, mode=body.mode, whistler=body.whistler,
        whistled_at=result.whistled_at.astimezone(ZoneInfo(platform.settings.timezone)),
        incident_ids=result.incident_ids, joint=len(result.incident_ids) > 1, note=body.note,
        assignments=[_assignment(a, platform) for a in result.assignments],
        already_summoned=[SummonedPublic(incident_id=i, department=d) for i, d in result.already_summoned],
    )


@router.get("/{incident_id}/assignments", operation_id="list_assignments", response_model=AssignmentsPublic,
            responses=ERRORS, summary="The departments summoned to a case and how each is doing")
def list_assignments(incident_id: IncidentId, session: SessionDep, platform: PlatformDep,
                     caller: ReadsAssignments) -> AssignmentsPublic:
    """A case's assignments: the lead first, then the assists in the order they were summoned."""
    check_case_access(session, caller, "assignment.read", incident_id)
    items = dispatch_repo.assignments_of(session, incident_id=incident_id)
    return AssignmentsPublic(data=[_assignment(a, platform) for a in items], count=len(items))


# --- on site --------------------------------------------------------------------------------------------------


@router.post("/{incident_id}/assignments/{department}/report-in", operation_id="report_in",
             response_model=ReportInPublic, responses=ERRORS,
             summary="Report in (报到): a GPS check-in on site, inside the category's geofence")
def report_in(incident_id: IncidentId, department: DepartmentCode, body: ReportInCreate, session: SessionDep,
              platform: PlatformDep, clock: ClockDep, actor: ActorDep, caller: ActsOnAssignments) -> ReportInPublic:
    """Check the department in at the server's time. The position is converted from ``crs`` to WGS84 and
    must lie within the category's geofence of the case (allowing for the stated accuracy); from outside it
    the check-in is refused on ``position`` with the distance. On time or late is measured by the server's
    clock against the report-in deadline; the device time is kept only as skew.

    A report-in queued on the phone without signal gives ``fixed_at`` (the phone's clock at the fix) and
    ``device_time`` (its clock when sending): it is timed at the server's time less that wait, so an officer
    who was there on time is not counted late for having had no signal; ``queued_s`` says how long it waited.
    Refused (422): ``fixed_at`` without ``device_time`` (on ``device_time``), ``fixed_at`` after ``device_time``,
    a wait over 12 h, or a fix before the whistle (on ``fixed_at``)."""
    _department_case(session, caller, "assignment.act", incident_id, department)
    lon, lat = _wgs84(body.lon, body.lat, body.crs)
    done = on_site.report_in(session, catalog=platform.catalog, incident_id=incident_id, department=department,
                             lon=lon, lat=lat, accuracy_m=body.accuracy_m, server_time=clock(),
                             device_time=body.device_time, fixed_at=body.fixed_at, actor=actor,
                             tz=platform.settings.timezone)
    session.commit()
    return ReportInPublic(
        assignment=_assignment(done.assignment, platform), position=PositionPublic(lon=lon, lat=lat),
        submitted={"lon": body.lon, "lat": body.lat, "crs": body.crs}, distance_m=round(done.distance_m, 1),
        minutes_late=round(done.minutes_late, 2), on_time=done.on_time,
        queued_s=None if done.queued_s is None else round(done.queued_s, 1),
    )


@router.post("/{incident_id}/assignments/{department}/start", operation_id="start_action",
             response_model=AssignmentPublic, responses=ERRORS,
             summary="A department that reported in starts enforcing (the case goes in_action)")
def start_action(incident_id: IncidentId, department: DepartmentCode, session: SessionDep, platform: PlatformDep,
                 clock: ClockDep, actor: ActorDep, caller: ActsOnAssignments) -> AssignmentPublic:
    """reported_in → acting; the first department to act moves the case from whistled to in_action."""
    _department_case(session, caller, "assignment.act", incident_id, department)
    a = on_site.start_action(session, incident_id=incident_id, department=department, at=clock(), actor=actor)
    session.commit()
    return _assignment(a, platform)


@router.post("/{incident_id}/assignments/{department}/complete", operation_id="complete_assignment",
             response_model=AssignmentPublic, responses=ERRORS, summary="A department's part is done")
def complete_assignment(incident_id: IncidentId, department: DepartmentCode, session: SessionDep,
                        platform: PlatformDep, clock: ClockDep, actor: ActorDep,
                        caller: ActsOnAssignments) -> AssignmentPublic:
    """acting → done, at server time."""
    _department_case(session, caller, "assignment.act", incident_id, department)
    a = on_site.complete(session, incident_id=incident_id, department=department, at=clock(), actor=actor)
    session.commit()
    return _assignment(a, platform)


@router.post("/{incident_id}/assignments/{department}/decline", operation_id="decline_assignment",
             response_model=AssignmentPublic, responses=ERRORS,
             summary="A summoned department declines the whistle, with a reason (and a ground, if it is the lead)")
def decline_assignment(incident_id: IncidentId, department: DepartmentCode, body: DeclineCreate,
                       session: SessionDep, platform: PlatformDep, clock: ClockDep,
                       actor: ActorDep, caller: DeclinesAssignments) -> AssignmentPublic:
    """summoned → declined, for the township to overrule or release (a department chief's decision). A
    department the lists name as lead for the category may decline only on a ``ground``; without one the
    decline is void (422 on ``ground``, warning rule W06 推诿/无依据退单) and the lead role stands."""
    _department_case(session, caller, "assignment.decline", incident_id, department)
    a = on_site.decline(session, catalog=platform.catalog, incident_id=incident_id, department=department,
                        reason=body.reason, ground=body.ground, at=clock(), actor=actor)
    session.commit()
    return _assignment(a, platform)


@router.post("/{incident_id}/assignments/{department}/overrule", operation_id="overrule_decline",
             response_model=AssignmentPublic, responses=ERRORS,
             summary="The township rejects a decline (退单无效、维持主责)")
def overrule_decline(incident_id: IncidentId, department: DepartmentCode, body: ReasonCreate,
                     session: SessionDep, platform: PlatformDep, clock: ClockDep,
                     actor: ActorDep, caller: OverrulesAssignments) -> AssignmentPublic:
    """declined → summoned, with the township's reason."""
    check_case_access(session, caller, "assignment.overrule", incident_id)
    a = on_site.overrule(session, incident_id=incident_id, department=department, reason=body.reason, at=clock(),
                         actor=actor)
    session.commit()
    return _assignment(a, platform)


@router.post("/{incident_id}/assignments/{department}/release", operation_id="release_assignment",
             response_model=AssignmentPublic, responses=ERRORS,
             summary="The township lets a department go before it is done")
def release_assignment(incident_id: IncidentId, department: DepartmentCode, body: ReasonCreate,
                       session: SessionDep, platform: PlatformDep, clock: ClockDep,
                       actor: ActorDep, caller: OverrulesAssignments) -> AssignmentPublic:
    """Release the department from the case (a reason is required); a released assist no longer blocks
    closure."""
    check_case_access(session, caller, "assignment.overrule", incident_id)
    a = on_site.release(session, incident_id=incident_id, department=department, reason=body.reason, at=clock(),
                        actor=actor)
    session.commit()
    return _assignment(a, platform)


@router.post("/{incident_id}/assignments/{department}/actions", operation_id="record_action", status_code=201,
             response_model=ActionPublic, responses=ERRORS,
             summary="Record an enforcement action (执法记录) of an acting department")
def record_action(incident_id: IncidentId, department: DepartmentCode, body: ActionCreate, session: SessionDep,
                  platform: PlatformDep, clock: ClockDep, actor: ActorDep, caller: ActsOnAssignments) -> ActionPublic:
    """Action type, measures from the lists for the case's rule, penalty, seized items, officer, time
    (server time when not given; refused on ``acted_at`` when later than the server's time by more than ten
    minutes), place (converted from ``crs``) and photos by content hash. The legal basis is taken from the
    lists. A department the case has no assignment of is 404 on ``department``."""
    _department_case(session, caller, "assignment.act", incident_id, department)
    lon, lat = (None, None) if body.lon is None or body.lat is None else _wgs84(body.lon, body.lat, body.crs)
    now = clock()
    record_id = on_site.record_action(
        session, catalog=platform.catalog, incident_id=incident_id, department=department,
        action_type=body.action_type, officer=body.officer, acted_at=body.acted_at or now,
        measures=body.measures, penalty_amount=body.penalty_amount, seized_items=body.seized_items, lon=lon,
        lat=lat, photos=[p.model_dump() for p in body.photos], actor=actor, now=now,
    )
    session.commit()
    return ActionPublic(record_id=record_id, incident_id=incident_id, department=department)


# --- resolution -----------------------------------------------------------------------------------------------


@router.post("/{incident_id}/resolve", operation_id="resolve_incident", response_model=CaseStatusPublic,
             responses=ERRORS, summary="The lead department reports the case resolved")
def resolve_incident(incident_id: IncidentId, body: ResolveCreate, session: SessionDep, clock: ClockDep,
                     actor: ActorDep, caller: ActsOnAssignments) -> CaseStatusPublic:
    """in_action → resolved; only the lead resolves, and only once its own part is done."""
    _department_case(session, caller, "assignment.act", incident_id, body.department, assigned=False)
    status = resolution.resolve(session, incident_id=incident_id, department=body.department, at=clock(),
                                summary=body.summary, actor=actor)
    session.commit()
    return CaseStatusPublic(incident_id=incident_id, status=status.value)


@router.post("/{incident_id}/resume", operation_id="resume_incident", response_model=CaseStatusPublic,
             responses=ERRORS, summary="The lead department takes a reopened case back (事不完、人不撤)")
def resume_incident(incident_id: IncidentId, body: ResumeCreate, session: SessionDep, clock: ClockDep,
                    actor: ActorDep, caller: ResumesCases) -> CaseStatusPublic:
    """reopened → in_action; the lead's part opens again (done → acting) until it resolves anew."""
    _department_case(session, caller, "incident.resume", incident_id, body.department, assigned=False)
    status = resolution.resume(session, incident_id=incident_id, department=body.department, at=clock(),
                               actor=actor)
    session.commit()
    return CaseStatusPublic(incident_id=incident_id, status=status.value)


@router.post("/{incident_id}/verify", operation_id="verify_incident", response_model=CaseStatusPublic,
             responses=ERRORS, summary="The township verifies the resolution on site (and closes when it may)")
def verify_incident(incident_id: IncidentId, body: VerifyCreate, session: SessionDep, clock: ClockDep,
                    actor: ActorDep, caller: VerifiesCases) -> CaseStatusPublic:
    """resolved → verified, and closed at once when the lead is done and every assist is done or released;
    otherwise ``pending`` says who is still out."""
    _own_township(session, caller, incident_id, body.township)
    status, why = resolution.verify(session, incident_id=incident_id, township=body.township, at=clock(),
                                    note=body.note, actor=actor)
    pending = [PendingPublic(**p) for p in resolution.pending_of(session, incident_id=incident_id)] if why else None
    session.commit()
    return CaseStatusPublic(incident_id=incident_id, status=status.value, pending=why or None,
                            pending_departments=pending)


@router.post("/{incident_id}/close", operation_id="close_incident", response_model=CaseStatusPublic,
             responses=ERRORS, summary="Close a verified case")
def close_incident(incident_id: IncidentId, body: CloseCreate, session: SessionDep, clock: ClockDep,
                   actor: ActorDep, caller: VerifiesCases) -> CaseStatusPublic:
    """verified → closed, once the lead's closure is in and every assist is done or released; until then
    refused on ``status`` with ``detail.pending`` listing who is still out (``department``, ``role``,
    ``status``)."""
    _own_township(session, caller, incident_id, body.township)
    status = resolution.close(session, incident_id=incident_id, township=body.township, at=clock(), actor=actor)
    session.commit()
    return CaseStatusPublic(incident_id=incident_id, status=status.value)


@router.post("/{incident_id}/reopen", operation_id="reopen_incident", response_model=CaseStatusPublic,
             responses=ERRORS, summary="The township reopens a case, with a reason")
def reopen_incident(incident_id: IncidentId, body: ReopenCreate, session: SessionDep, clock: ClockDep,
                    actor: ActorDep, caller: VerifiesCases) -> CaseStatusPublic:
    """A resolved, verified or closed case that is not fixed on site goes back (reopened); a reason is
    required."""
    _own_township(session, caller, incident_id, body.township)
    status = resolution.reopen(session, incident_id=incident_id, township=body.township, reason=body.reason,
                               at=clock(), actor=actor)
    session.commit()
    return CaseStatusPublic(incident_id=incident_id, status=status.value)


# --- triage ---------------------------------------------------------------------------------------------------


@router.post("/{incident_id}/mark-duplicate", operation_id="mark_duplicate", response_model=CaseStatusPublic,
             responses=ERRORS, summary="The township marks its case a duplicate of a case in hand (标记重复)")
def mark_duplicate(incident_id: IncidentId, body: MarkDuplicateCreate, session: SessionDep, clock: ClockDep,
                   actor: ActorDep, caller: TriagesCases) -> CaseStatusPublic:
    """reported or triaged → duplicate. ``duplicate_of`` defaults to the case's ``likely_duplicate_of``; the
    first case must be another case in hand, in the same township or a neighbouring one (422 on
    ``duplicate_of`` otherwise). Undone by ``reinstate``."""
    _own_township(session, caller, incident_id, body.township, "incident.triage")
    status, first = triage.mark_duplicate(session, incident_id=incident_id, township=body.township, at=clock(),
                                          duplicate_of=body.duplicate_of, reason=body.reason, actor=actor)
    session.commit()
    return CaseStatusPublic(incident_id=incident_id, status=status.value, duplicate_of=first)


@router.post("/{incident_id}/reject", operation_id="reject_incident", response_model=CaseStatusPublic,
             responses=ERRORS, summary="The township declines its case, with a reason (不予受理)")
def reject_incident(incident_id: IncidentId, body: RejectCreate, session: SessionDep, clock: ClockDep,
                    actor: ActorDep, caller: TriagesCases) -> CaseStatusPublic:
    """reported, triaged or whistled → rejected; a reason is required, and a whistled case is declined only
    once every department on it has been released (422 on ``status`` naming them). Undone by ``reinstate``."""
    _own_township(session, caller, incident_id, body.township, "incident.triage")
    status = triage.reject(session, incident_id=incident_id, township=body.township, reason=body.reason,
                           at=clock(), actor=actor)
    session.commit()
    return CaseStatusPublic(incident_id=incident_id, status=status.value)


@router.post("/{incident_id}/reinstate", operation_id="reinstate_incident", response_model=CaseStatusPublic,
             responses=ERRORS, summary="The township takes a duplicate or declined case back (恢复受理)")
def reinstate_incident(incident_id: IncidentId, body: ReinstateCreate, session: SessionDep, clock: ClockDep,
                       actor: ActorDep, caller: TriagesCases) -> CaseStatusPublic:
    """duplicate or rejected → triaged (to be whistled), with a reason."""
    _own_township(session, caller, incident_id, body.township, "incident.triage")
    status = triage.reinstate(session, incident_id=incident_id, township=body.township, reason=body.reason,
                              at=clock(), actor=actor)
    session.commit()
    return CaseStatusPublic(incident_id=incident_id, status=status.value)


@router.post("/{incident_id}/reclassify", operation_id="reclassify_incident", response_model=ReclassifiedPublic,
             responses=ERRORS, summary="The township files its case under the right category (改类)")
def reclassify_incident(incident_id: IncidentId, body: ReclassifyCreate, session: SessionDep, clock: ClockDep,
                        actor: ActorDep, caller: TriagesCases, platform: PlatformDep) -> ReclassifiedPublic:
    """A report of unknown category (the lists' placeholder, which no whistle takes) or one the patrol got wrong
    is filed under ``category`` (a code or its Chinese name); the rule is matched again at the case's place, so
    the next whistle summons the new category's lead and assists. reported → triaged; triaged and whistled stay,
    a whistled case only once every department on it has been released (422 on ``status`` naming them).
    Refused on ``category`` (``detail.kind``): ``unknown``, ``classify_first`` (the placeholder itself),
    ``unchanged``."""
    _own_township(session, caller, incident_id, body.township, "incident.triage")
    catalog = platform.catalog
    status, rule, before = triage.reclassify(session, catalog=catalog, incident_id=incident_id,
                                             township=body.township, category=body.category, reason=body.reason,
                                             at=clock(), actor=actor)
    session.commit()
    names = catalog.departments
    return ReclassifiedPublic(
        incident_id=incident_id, status=status.value, category=rule.category,
        category_name=catalog.categories[rule.category].zh, previous_category=before, rule_code=rule.code,
        lead_department=rule.lead,
        plan=[PlanItemPublic(**p.to_dict(), department_name=d.zh if (d := names.get(p.department)) else None)
              for p in rule.plan()])


# --- the record -----------------------------------------------------------------------------------------------


@router.get("/{incident_id}/timeline", operation_id="get_timeline", response_model=TimelinePublic,
            responses=ERRORS, summary="The case's record (执法有记载): its events in order, and whether it is intact")
def get_timeline(incident_id: IncidentId, session: SessionDep, platform: PlatformDep,
                 caller: ReadsIncidents) -> TimelinePublic:
    """Every whistle, report-in, action and state change of the case in order, with the hash chain checked:
    ``intact`` is false and ``problem`` names the first broken event when the record was altered."""
    check_case_access(session, caller, "incident.read", incident_id)
    incident = _existing(session, incident_id)
    events, _ = dispatch_repo.events_of(session, incident_id=incident_id)
    problem = verify_case_record(session, incident_id=incident_id)
    return TimelinePublic.from_records(incident_id, incident.status.value, events, problem,
                                       tz=platform.settings.timezone)
