"""/api/v1/desk — what needs a township's desk now: the counts it acts on, each with the cases behind it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from gis_enforcement.api.auth import ReadsIncidents
from gis_enforcement.api.deps import PlatformDep, SessionDep
from gis_enforcement.api.filter_codes import township_code
from gis_enforcement.api.routers.dispatch import ClockDep
from gis_enforcement.api.schemas import ErrorResponse
from gis_enforcement.domain.access import Caller, Role, check_unit
from gis_enforcement.errors import Forbidden, InvalidInput
from gis_enforcement.storage import Session, desk_repo, user_repo

router = APIRouter(prefix="/api/v1", tags=["oversight"])
ERRORS: dict[int | str, dict[str, Any]] = {s: {"model": ErrorResponse} for s in (401, 403, 422, 503)}

#: at most this many case (and task) ids per item
DESK_IDS = 50

#: what each item is, in the desk's words
DESK_LABELS: dict[str, str] = {
    "triage": "待分拣",               # reports of the township not triaged yet (status reported)
    "classify": "类别待定",           # of them, those filed under a classify_first category: name it first
    "declined": "退单待定",           # a department declined: overrule (驳回退单) or release (解除召集)
    "report_in_overdue": "报到超时",  # a summoned department past its report-in deadline, not on site
    "verify": "待核查",               # resolved by the lead: the township verifies on site
    "follow_ups_open": "待落实",      # 部门要求、街乡落实 tasks open
    "follow_ups_overdue": "落实超期",  # of them, past their due time (W09)
    "border_reported": "邻乡边界待分拣",  # a neighbour's reports flagged near this township's border
}
assert tuple(DESK_LABELS) == desk_repo.DESK_ITEMS


class DeskItemPublic(BaseModel):
    key: str = Field(examples=["triage"])
    label: str = Field(examples=["待分拣"])
    count: int
    incident_ids: list[UUID] = Field(description=f"the cases behind the count, the longest waiting first (at most "
                                                 f"{DESK_IDS}); for the follow-up items, the case of each task")
    task_ids: list[int] | None = Field(description="the follow-up items: the tasks, in the order of incident_ids")


class DeskPublic(BaseModel):
    township: str = Field(examples=["110117006"])
    township_name: str | None
    at: datetime
    items: list[DeskItemPublic]


def _desk_of(session: Session, caller: Caller, township: str | None) -> str:
    """The code of the township whose desk ``caller`` reads: a township dispatcher its own (the default), the
    district (supervisor, admin) any it names; every other role is refused."""
    if not caller.district_wide and caller.role != Role.TOWNSHIP_DISPATCHER:
        raise Forbidden("the desk is a township dispatcher's (and the district's)", field="role")
    if township is None and not caller.district_wide:
        township = caller.unit_code
    code = township_code(session, township)
    if code is None:
        raise InvalidInput("name the township whose desk to read (its code or name)", field="township")
    check_unit(caller, code, field="township")
    return code


@router.get("/desk", operation_id="township_desk", response_model=DeskPublic, responses=ERRORS)
def township_desk(
    session: SessionDep,
    platform: PlatformDep,
    clock: ClockDep,
    caller: ReadsIncidents,
    township: Annotated[str | None, Query(description="the township, by code or name (a township dispatcher: its "
                                                      "own, the default)")] = None,
) -> DeskPublic:
    """What needs the township's desk now, each count with the cases behind it (the longest waiting first):
    待分拣 reports, of them 类别待定; 退单待定 (a department declined, awaiting 驳回退单 or 解除召集); 报到超时 (a
    summoned department past its report-in deadline); 待核查 (resolved); 待落实 follow-up tasks and those 落实超期;
    and the neighbours' reports near its border still untriaged. A township dispatcher reads its own desk, the
    district any township's (naming it); every other role is refused."""
    code = _desk_of(session, caller, township)
    now = clock()
    catalog = platform.catalog
    found = desk_repo.desk(session, township=code, now=now, limit=DESK_IDS,
                           classify_first=[c for c, cat in catalog.categories.items() if cat.classify_first])
    return DeskPublic(township=code, township_name=user_repo.township_names(session).get(code),
                      at=now.astimezone(ZoneInfo(platform.settings.timezone)),
                      items=[DeskItemPublic(key=k, label=DESK_LABELS[k], **v) for k, v in found.items()])

