"""/api/v1/warnings and /api/v1/follow-ups — what the escalation pass raised, and 部门要求、街乡落实 tasks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.routers.dispatch import ActorDep, ClockDep
from gis_enforcement.api.schemas import ErrorResponse
from gis_enforcement.dispatch.follow_up import complete_follow_up, request_follow_up
from gis_enforcement.storage import warning_repo

router = APIRouter(prefix="/api/v1", tags=["oversight"])
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorResponse} for s in (404, 422, 503)}


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
    rule: Annotated[str | None, Query(description="warning-list code, e.g. W02")] = None,
    subject: Annotated[str | None, Query(description="department, township or case the warning is about")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> WarningsPublic:
    """Warnings raised by the escalation pass, newest first."""
    rows, total = warning_repo.list_warnings(session, rule_code=rule, subject_code=subject, limit=limit,
                                             offset=offset)
    zone = ZoneInfo(platform.settings.timezone)
    return WarningsPublic(data=[WarningPublic(**{**r, "raised_at": r["raised_at"].astimezone(zone)}) for r in rows],
                          count=total)


@router.post("/incidents/{incident_id}/follow-ups", operation_id="request_follow_up", status_code=201,
             response_model=FollowUpPublic, responses=ERRORS)
def create_follow_up(incident_id: UUID, body: FollowUpCreate, session: SessionDep, platform: PlatformDep,
                     clock: ClockDep, actor: ActorDep) -> FollowUpPublic:
    """A department that acted on the case hands a task to the township, due in working days (调休 counted)."""
    task_id = request_follow_up(session, calendar=platform.calendar, incident_id=incident_id,
                                department=body.department, task=body.task, working_days=body.working_days,
                                at=clock(), actor=actor)
    session.commit()
    return FollowUpPublic(task_id=task_id)


@router.post("/follow-ups/{task_id}/done", operation_id="complete_follow_up", response_model=FollowUpPublic,
             responses=ERRORS)
def finish_follow_up(task_id: int, body: FollowUpDone, session: SessionDep, clock: ClockDep,
                     actor: ActorDep) -> FollowUpPublic:
    """The township reports a follow-up task done."""
    complete_follow_up(session, task_id=task_id, township=body.township, at=clock(), note=body.note, actor=actor)
    session.commit()
    return FollowUpPublic(task_id=task_id)
