"""/api/v1/assignments/{assignment_id}/... — an assignment addressed by its own id.

The same steps as ``/api/v1/incidents/{incident_id}/assignments/{department}/...`` (one assignment per
department per case): the id is read to its case and department, and the step goes through the same route
function, so the rules, errors and answers are the same. The township's rating of an attendance (评价权) lives
here only: it is about one department's attendance, not about the case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from gis_enforcement.api.auth import (
    ActsOnAssignments,
    DeclinesAssignments,
    RatesAssignments,
    ReadsAssignments,
    check_case_access,
)
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.filter_codes import check_department, township_code
from gis_enforcement.api.routers import dispatch as case_routes
from gis_enforcement.api.routers.dispatch import ERRORS, ActorDep, ClockDep
from gis_enforcement.api.schemas import BIGINT_MAX
from gis_enforcement.api.schemas_dispatch import (
    ActionCreate,
    ActionPublic,
    AssignmentPublic,
    DeclineCreate,
    ReportInCreate,
    ReportInPublic,
)
from gis_enforcement.dispatch.listing import list_assignments
from gis_enforcement.dispatch.rating import find_assignment, rate_attendance
from gis_enforcement.domain.zone import in_zone

router = APIRouter(prefix="/api/v1/assignments", tags=["dispatch"])
AssignmentId = Annotated[int, Path(ge=1, description="the assignment id (``id`` of an assignment)")]


class RatingCreate(BaseModel):
    """The township's rating of one department's attendance on its whistle, 1 (poor) to 5 (excellent)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"township": "110117104", "timeliness": 5, "adequacy": 4, "comment": "到场及时，现场处置到位"}]})
    township: str = Field(min_length=1, max_length=64, description="the rating township (the case's own)")
    timeliness: int = Field(ge=1, le=5, description="报到是否及时")
    adequacy: int = Field(ge=1, le=5, description="执法是否到位")
    comment: str | None = Field(default=None, max_length=2000)


class RatingPublic(BaseModel):
    assignment_id: int
    department: str
    timeliness: int
    adequacy: int
    comment: str | None
    rated_at: datetime
    rated_by: str
    new: bool = Field(description="false when the same rating had been recorded before (nothing changed)")


class AssignmentCasePublic(AssignmentPublic):
    """An assignment with a summary of its case, for the consoles."""

    category: str
    category_zh: str | None
    township_code: str | None = Field(None, description="the case's township (None: outside the district)")
    township_name: str | None
    village_name: str | None = Field(None, description="the village or community the case is in or nearest to")
    lon: float
    lat: float
    case_status: str = Field(description="the case's status (``status`` is the assignment's)")
    observed_at: datetime


class AssignmentCasesPublic(BaseModel):
    data: list[AssignmentCasePublic]
    count: int = Field(description="how many match, over all pages")


@router.get("", operation_id="list_all_assignments", response_model=AssignmentCasesPublic, responses=ERRORS,
            summary="Assignments across cases (department console), soonest report-in due first")
def list_all(
    session: SessionDep,
    platform: PlatformDep,
    caller: ReadsAssignments,
    open_only: Annotated[bool | None, Query(alias="open", description="true: summoned, reported in or acting; "
                                                       "false: done, declined or released; absent: all")] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    township: Annotated[str | None, Query(max_length=64, description="the case's township (code or name)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> AssignmentCasesPublic:
    """A department's own assignments, a township's cases' assignments, or (the district) all of them; filters
    outside the caller's scope match nothing; a code that names no department or township is refused (422),
    naming the parameter."""
    check_department(platform.catalog, department)
    township = township_code(session, township)
    rows, total = list_assignments(session, caller=caller, open_only=open_only, department=department,
                                   township=township, limit=limit, offset=offset)
    tz, categories = platform.settings.timezone, platform.catalog.categories
    data = []
    for a, case in rows:
        cat = categories.get(case["category"])
        # the case's township, where a report on a border was taken up by a township, is still the case's own
        data.append(AssignmentCasePublic(**{
            **case_routes._assignment(a, platform).model_dump(), **case, "category_zh": cat.zh if cat else None,
            "observed_at": case["observed_at"].astimezone(ZoneInfo(tz))}))
    return AssignmentCasesPublic(data=data, count=total)


@router.get("/{assignment_id}", operation_id="get_assignment", response_model=AssignmentPublic, responses=ERRORS,
            summary="One assignment")
def get_assignment(assignment_id: AssignmentId, session: SessionDep, platform: PlatformDep,
                   caller: ReadsAssignments) -> AssignmentPublic:
    a = find_assignment(session, assignment_id=assignment_id)
    check_case_access(session, caller, "assignment.read", a.incident_id)
    return case_routes._assignment(a, platform)


@router.post("/{assignment_id}/report-in", operation_id="report_in_by_id", response_model=ReportInPublic,
             responses=ERRORS, summary="Report in (报到) on an assignment: a GPS check-in inside the geofence")
def report_in(assignment_id: AssignmentId, body: ReportInCreate, session: SessionDep, platform: PlatformDep,
              clock: ClockDep, actor: ActorDep, caller: ActsOnAssignments) -> ReportInPublic:
    """As ``POST /api/v1/incidents/{incident_id}/assignments/{department}/report-in``, a queued report-in
    (``fixed_at``, timed at its fix) included."""
    a = find_assignment(session, assignment_id=assignment_id)
    return case_routes.report_in(a.incident_id, a.department, body, session, platform, clock, actor, caller)


@router.post("/{assignment_id}/decline", operation_id="decline_by_id", response_model=AssignmentPublic,
             responses=ERRORS, summary="Decline a whistle, with a reason (a listed lead needs a ground)")
def decline(assignment_id: AssignmentId, body: DeclineCreate, session: SessionDep, platform: PlatformDep,
            clock: ClockDep, actor: ActorDep, caller: DeclinesAssignments) -> AssignmentPublic:
    """As ``POST /api/v1/incidents/{incident_id}/assignments/{department}/decline``."""
    a = find_assignment(session, assignment_id=assignment_id)
    return case_routes.decline_assignment(a.incident_id, a.department, body, session, platform, clock, actor,
                                          caller)


@router.post("/{assignment_id}/actions", operation_id="record_action_by_id", status_code=201,
             response_model=ActionPublic, responses=ERRORS, summary="Record an enforcement action (执法记录)")
def record_action(assignment_id: AssignmentId, body: ActionCreate, session: SessionDep, platform: PlatformDep,
                  clock: ClockDep, actor: ActorDep, caller: ActsOnAssignments) -> ActionPublic:
    """As ``POST /api/v1/incidents/{incident_id}/assignments/{department}/actions``."""
    a = find_assignment(session, assignment_id=assignment_id)
    return case_routes.record_action(a.incident_id, a.department, body, session, platform, clock, actor, caller)


@router.post("/{assignment_id}/rating", operation_id="rate_attendance", response_model=RatingPublic,
             responses=ERRORS, summary="The township rates a department's attendance (评价权), 1–5")
def rate(assignment_id: AssignmentId, body: RatingCreate, session: SessionDep, platform: PlatformDep,
         clock: ClockDep, actor: ActorDep, caller: RatesAssignments) -> RatingPublic:
    """Only the case's township rates, once the department reported in, stood down, or let its report-in
    deadline pass; once per assignment (the same rating again: 200 with ``new`` false; a different one: 409).
    Adequacy 1–2 (不满意) raises warning W04 on the department."""
    a = find_assignment(session, assignment_id=assignment_id)
    case_routes._own_township(session, caller, a.incident_id, body.township, action="assignment.rate")
    r = rate_attendance(session, catalog=platform.catalog, assignment_id=assignment_id, township=body.township,
                        timeliness=body.timeliness, adequacy=body.adequacy, comment=body.comment, at=clock(),
                        actor=actor, tz=platform.settings.timezone)
    session.commit()
    return RatingPublic(assignment_id=r.assignment_id, department=r.department, timeliness=r.timeliness,
                        adequacy=r.adequacy, comment=r.comment, rated_by=r.rated_by, new=r.new,
                        rated_at=in_zone(r.rated_at, platform.settings.timezone))
