"""/api/v1/warnings and /api/v1/follow-ups — what the escalation pass raised, and 部门要求、街乡落实 tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from gis_enforcement.api.auth import (
    CompletesFollowUps,
    ReadsAssignments,
    ReadsEvaluation,
    ReadsTownshipEvaluation,
    ReadsWarnings,
    RequestsFollowUps,
    check_case_access,
)
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.filter_codes import check_department as check_department_code
from gis_enforcement.api.filter_codes import check_warning_rule, check_warning_subject, township_code
from gis_enforcement.api.routers.dispatch import ActorDep, ClockDep
from gis_enforcement.api.schemas import (
    BIGINT_MAX,
    ErrorResponse,
    FollowUpTaskPublic,
    FollowUpTasksPublic,
    json_plain,
)
from gis_enforcement.dispatch.follow_up import complete_follow_up, request_follow_up
from gis_enforcement.domain.access import Caller, check_department, check_unit, may, township_read_scope, unit_filters
from gis_enforcement.errors import Forbidden, InvalidInput
from gis_enforcement.storage import follow_up_repo, user_repo, warning_repo

router = APIRouter(prefix="/api/v1", tags=["oversight"])
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorResponse} for s in (401, 403, 404, 422, 503)}


class WarningPublic(BaseModel):
    id: int
    rule_code: str = Field(examples=["W02"])
    level: str = Field(examples=["red"])
    subject_kind: str = Field(examples=["department"])
    subject_code: str = Field(examples=["WATER"])
    incident_id: UUID | None
    assignment_id: int | None
    raised_at: datetime
    consequence: str
    notify: list[str]
    detail: dict[str, Any]
    withdrawn_at: datetime | None = Field(default=None, description="when the warning was withdrawn (撤销): its "
                                          "facts turned out otherwise; it stays listed and counts nowhere")
    withdrawn_reason: str | None = None
    township_code: str | None = Field(default=None, description="the township it is about: a township's own "
                                      "warning's; a department's, the township its summons was for (a township "
                                      "team's warning: which township's team); None for a district department's "
                                      "yearly W07")


class WarningsPublic(BaseModel):
    data: list[WarningPublic]
    count: int


class FollowUpCreate(BaseModel):
    """A department hands follow-up work to the township (部门要求、街乡落实)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"department": "WATER", "task": "河道恢复原状后纳入河长日常巡查", "working_days": 5}]})
    department: str = Field(min_length=1, max_length=64)
    task: str = Field(min_length=1, max_length=2000)
    working_days: int = Field(ge=1, le=365)


class FollowUpDone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    township: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class FollowUpPublic(BaseModel):
    task_id: int


@router.get("/warnings", operation_id="list_warnings", response_model=WarningsPublic, responses=ERRORS)
def list_warnings(
    session: SessionDep,
    platform: PlatformDep,
    caller: ReadsWarnings,
    rule: Annotated[str | None, Query(description="warning-list code, e.g. W02")] = None,
    subject: Annotated[str | None, Query(description="department, township or case the warning is about")] = None,
    incident_id: Annotated[UUID | None, Query(description="only the warnings on this case")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> WarningsPublic:
    """Warnings raised by the escalation pass, newest first: a township's and a department's own, all of them
    for the district; each with the township it is about (``township_code``: a township team's warning names
    its team's township). An unknown rule or subject is refused (422), naming the parameter."""
    check_warning_rule(platform.catalog, rule)
    check_warning_subject(session, platform.catalog, subject)
    rows, total = warning_repo.list_warnings(session, rule_code=rule, subject_code=subject, limit=limit,
                                             offset=offset, incident_id=incident_id,
                                             unit=None if caller.district_wide else caller.unit_code,
                                             team_township=caller.team_township)
    zone = ZoneInfo(platform.settings.timezone)
    return WarningsPublic(data=[WarningPublic(**{
        **r, "raised_at": r["raised_at"].astimezone(zone),
        "withdrawn_at": r["withdrawn_at"].astimezone(zone) if r["withdrawn_at"] else None}) for r in rows], count=total)


@router.post("/incidents/{incident_id}/follow-ups", operation_id="request_follow_up", status_code=201,
             response_model=FollowUpPublic, responses=ERRORS)
def create_follow_up(incident_id: UUID, body: FollowUpCreate, session: SessionDep, platform: PlatformDep,
                     clock: ClockDep, actor: ActorDep, caller: RequestsFollowUps) -> FollowUpPublic:
    """A department that acted on the case hands a task to the township, due in working days (调休 counted)."""
    check_department(caller, "follow_up.request", body.department)
    check_case_access(session, caller, "follow_up.request", incident_id)
    task_id = request_follow_up(session, calendar=platform.calendar, incident_id=incident_id,
                                department=body.department, task=body.task, working_days=body.working_days,
                                at=clock(), actor=actor)
    session.commit()
    return FollowUpPublic(task_id=task_id)


@router.post("/follow-ups/{task_id}/done", operation_id="complete_follow_up", response_model=FollowUpPublic,
             responses=ERRORS)
def finish_follow_up(task_id: int, body: FollowUpDone, session: SessionDep, clock: ClockDep,
                     actor: ActorDep, caller: CompletesFollowUps) -> FollowUpPublic:
    """The township reports a follow-up task done (the service checks the task is the township's)."""
    check_unit(caller, body.township, field="township")
    complete_follow_up(session, task_id=task_id, township=body.township, at=clock(), note=body.note, actor=actor)
    session.commit()
    return FollowUpPublic(task_id=task_id)


def _follow_up_scope(caller: Caller, township: str | None, department: str | None) -> tuple[str | None, str | None]:
    """The township/department filters narrowed to the caller's unit: a township sees the tasks handed to it,
    a department those it asked for, the district every task. A filter naming another unit is refused (403)."""
    return unit_filters(caller, township, department, what="follow-up tasks")


@router.get("/follow-ups", operation_id="list_follow_ups", response_model=FollowUpTasksPublic, responses=ERRORS)
def list_follow_ups(
    session: SessionDep,
    platform: PlatformDep,
    clock: ClockDep,
    caller: ReadsAssignments,
    township: Annotated[str | None, Query(description="tasks handed to this township (code or name)")] = None,
    department: Annotated[str | None, Query(description="tasks this department asked for (its code)")] = None,
    incident_id: Annotated[UUID | None, Query(description="tasks on this case")] = None,
    status: Annotated[Literal["open", "done"] | None, Query(description="open or done")] = None,
    overdue: Annotated[bool | None, Query(description="true: open and past due; false: all others")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> FollowUpTasksPublic:
    """部门要求、街乡落实 tasks: a township's own, those a department asked for, every one for the district. Open
    tasks first, the soonest due (the most overdue) at the top, then the done ones, the latest due first; each
    with its case's category and place, whether it is overdue and the minutes to (negative: after) its due
    time. An unknown township or department is refused (422), another unit's 403, naming the parameter."""
    township = township_code(session, township)
    check_department_code(platform.catalog, department)
    township, department = _follow_up_scope(caller, township, department)
    rows, total = follow_up_repo.list_follow_ups(session, now=clock(), township=township, department=department,
                                                 incident_id=incident_id, status=status, overdue=overdue,
                                                 limit=limit, offset=offset)
    zone = ZoneInfo(platform.settings.timezone)
    catalog = platform.catalog

    def local(value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(zone)

    return FollowUpTasksPublic(count=total, data=[FollowUpTaskPublic(
        **{**r, "requested_at": local(r["requested_at"]), "due_at": local(r["due_at"]), "done_at": local(r["done_at"]),
           "category_name": c.zh if (c := catalog.categories.get(r["category"])) else None,
           "department_name": d.zh if (d := catalog.departments.get(r["department"])) else None}) for r in rows])


class EvaluationPublic(BaseModel):
    period: str = Field(examples=["2026"])
    start: datetime
    end: datetime
    by: str = Field(examples=["department"])
    township: str | None = Field(default=None, description="the departments' record on this township's cases "
                                                           "only (not ranked), when one was asked for")
    data: list[dict[str, Any]] = Field(description="one row per department or township, ranked (departments "
                                                    "in two rankings, ``ranking`` lead or assist); unknown ratios "
                                                    "are null")
    count: int
    notes: list[str] = Field(default_factory=list, description="what a reader must know: how the score is "
                             "made, or that the period holds nothing (with the stored data's range)")


def _rows(frame: Any) -> list[dict[str, Any]]:
    return [json_plain(row) for row in frame.to_dict(orient="records")]


def _township_note(name: str, lang: str) -> str:
    if lang == "zh":
        return (f"仅统计{name}案件上的召集、报到、执法记录和警示；各部门不在此排名（排名见全区考核）")
    return (f"only the summons, report-ins, enforcement records and warnings on the cases of {name}; the "
            "departments are not ranked here (the district's evaluation ranks them)")


@router.get("/evaluation", operation_id="evaluation", response_model=EvaluationPublic, responses=ERRORS,
            summary="Evaluation (效果可评价) per department or township for a period")
def evaluation(
    session: SessionDep,
    platform: PlatformDep,
    caller: ReadsTownshipEvaluation,
    period: Annotated[str, Query(description="2026, 2026-05, 2026-05-12 or START..END")],
    by: Annotated[str, Query(pattern="^(department|township|month)$",
                             description="department, township, or month (the departments' monthly ranking)")]
    = "department",
    township: Annotated[str | None, Query(description="the departments' record on this township's cases only "
                                                      "(its code or name; by=department)")] = None,
    lang: Annotated[Literal["zh", "en"], Query(description="the language of the notes")] = "zh",
) -> EvaluationPublic:
    """The metrics of :mod:`gis_enforcement.analysis.evaluation` (report-in and on-time rates, minutes,
    resolution, recurrences, warnings, penalties per officer, 职权履行率, ratings, the warnings' deduction,
    score and rank — the warnings' points (``warning_points``) charged per 100 whistles (``deduction``), ranked
    on ``score_net`` (the score before its floor at 0; ``notes`` names those at 0 and why); departments ranked
    apart as leads and assisting-only (``ranking``), no rank on fewer than 5 whistles, ``small_sample``;
    townships scored on whistling, verifying and follow-ups in time and no recurrence, less their own warnings
    (``own_warnings``: W09/W12/W13) and recurrences (W08) per 100 cases, no rank on fewer than 5 cases; their
    backlog: ``reports``, ``untriaged``, ``triage_on_time_rate`` (分拣及时率); every township rate with its n
    (``<rate>_n``); ``resolution_rate`` is over whistled cases only).

    With ``township`` (by=department): the departments' record on that township's cases only — the same
    metrics over their assignments, records and warnings, with ``declined`` and ``unsatisfied`` (ratings of
    不满意), one row per department summoned to them, not ranked. A township dispatcher reads only that, for
    its own township (``township`` defaults to it; another township, or by=township or month, is 403)."""
    from gis_enforcement.analysis.evaluate_service import (
        data_range,
        evaluate,
        evaluate_on_township,
        is_empty,
        ranking_by_month,
    )
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.analysis.evaluation_table import empty_period_note, floor_notes, score_note

    code = township_code(session, township)
    if not may(caller, "evaluation.read") and by != "department":
        raise Forbidden("a township reads the departments' record on its own cases only (by=department)",
                        field="by")
    towns = township_read_scope(caller, None if code is None else [code], whole="evaluation.read",
                                own="evaluation.read_own")
    if towns is not None and by != "department":
        raise InvalidInput("a township's cases are read by department only (by=department)", field="by")
    tz = platform.settings.timezone
    span = parse_period(period, tz=tz)
    if towns is not None:
        table = evaluate_on_township(session, catalog=platform.catalog, start=span.start, end=span.end,
                                     township=towns[0], label=span.label)
        name = user_repo.township_names(session).get(towns[0], towns[0])
        notes = ([empty_period_note(span.label, data_range(session), tz=tz, lang=lang)] if table.empty else
                 [_township_note(name, lang), score_note(lang, by="department",
                                                         per=platform.catalog.deductions_per_exposure)])
        rows = _rows(table)
        return EvaluationPublic(period=span.label, start=span.start, end=span.end, by=by, township=towns[0],
                                data=rows, count=len(rows), notes=notes)
    if by == "month":
        table = ranking_by_month(session, catalog=platform.catalog, start=span.start, end=span.end, tz=tz)
    else:
        table = evaluate(session, catalog=platform.catalog, start=span.start, end=span.end, by=by, label=span.label)
    if is_empty(table):
        notes = [empty_period_note(span.label, data_range(session), tz=tz, lang=lang)]
    else:
        notes = [score_note(lang, by="township" if by == "township" else "department",
                            per=platform.catalog.deductions_per_exposure),
                 *([] if by == "month" else floor_notes(table, lang))]
    rows = _rows(table)
    return EvaluationPublic(period=span.label, start=span.start, end=span.end, by=by, data=rows, count=len(rows),
                            notes=notes)


@router.get("/evaluation/compare", operation_id="evaluation_compare", responses=ERRORS,
            summary="The seed's two metrics district-wide, before and after, as percentage changes")
def evaluation_compare(session: SessionDep, platform: PlatformDep, caller: ReadsEvaluation,
                       before: Annotated[str, Query(examples=["2016"])],
                       after: Annotated[str, Query(examples=["2018"], description="not overlapping before")],
                       ) -> dict[str, Any]:
    """Penalties per officer (人均处罚量) and 职权履行率, with on-time report-in and whistles for context:
    ``change_pct`` relative, ``change_pp`` in percentage points for rates. Overlapping periods are refused
    (422 on ``after``); when their lengths differ the counts are per 30 days (``per_30_days``), and
    ``notes`` says so, as it says which period holds nothing."""
    from gis_enforcement.analysis.evaluate_service import compare
    from gis_enforcement.analysis.evaluation import parse_period
    from gis_enforcement.analysis.evaluation_table import comparison_notes, empty_period_note

    tz = platform.settings.timezone
    b, a = parse_period(before, tz=tz, field="before"), parse_period(after, tz=tz, field="after")
    result = compare(session, catalog=platform.catalog, before=b, after=a)
    notes = comparison_notes(result.per_30_days, result.days_before, result.days_after)
    notes += [empty_period_note(p.label, result.data_range, tz=tz) for side, p in (("before", b), ("after", a))
              if side in result.empty]
    return {"before": b.label, "after": a.label, "days_before": result.days_before, "days_after": result.days_after,
            "per_30_days": result.per_30_days, "notes": notes, "data": _rows(result.table)}
