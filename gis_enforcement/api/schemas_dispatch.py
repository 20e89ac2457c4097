"""Request and response models of the whistle chain (吹哨报到): whistle, report-in, actions, resolution, timeline.

Requests are strict (unknown fields are refused, so a misspelt ``only_departments`` cannot silently summon the
whole plan); responses show times in the district's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from gis_enforcement.api.schemas import PlanItemPublic
from gis_enforcement.dispatch.on_site import PENALTY_MAX
from gis_enforcement.domain.audit import CaseEvent
from gis_enforcement.domain.catalog import Department
from gis_enforcement.domain.escalation import ABSENT_AFTER_MIN
from gis_enforcement.domain.records import Assignment

Datum = Literal["wgs84", "gcj02", "bd09", "cgcs2000"]
DeclineGround = Literal["wrong_category", "outside_jurisdiction"]

_CASE_ID = "5b7e0c3a-2f4e-4d7a-9a51-0c6f1f0e9b11"


def _local(value: datetime, tz: str) -> datetime:
    return value.astimezone(ZoneInfo(tz))


def _local_or_none(value: datetime | None, tz: str) -> datetime | None:
    return None if value is None else _local(value, tz)


#: a time as the record stores it inside a payload: ISO 8601 with a UTC offset (the canonical form is UTC)
_STORED_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([+-]\d{2}:\d{2}|Z)")


def local_payload(value: Any, tz: str) -> Any:
    """An event's payload with every time in it (ISO text with an offset, e.g. ``report_in_due``,
    ``resolution_due``, as the hash-chained record keeps them, in UTC) given in the district's zone, as every
    other time the API answers. The stored record is not touched: events recorded at any time read the same."""
    if isinstance(value, str):
        if _STORED_TIME.fullmatch(value):
            try:
                return datetime.fromisoformat(value).astimezone(ZoneInfo(tz)).isoformat()
            except ValueError:
                return value
        return value
    if isinstance(value, Mapping):
        return {k: local_payload(v, tz) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [local_payload(v, tz) for v in value]
    return value


def _command(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": list(examples)})


# --- requests -------------------------------------------------------------------------------------------------


class WhistleCreate(BaseModel):
    """A whistle for the case in the path, or a joint whistle for it and ``incident_ids``."""

    model_config = _command(
        {"mode": "township", "whistler": "110117006", "add_departments": ["EMERG"],
         "note": "金海湖镇吹哨：泃河河道夜间采砂，请水务、公安、规自到场"},
        {"mode": "lead_department", "whistler": "WATER", "add_departments": ["PSB"], "note": "主责部门吹哨公安配合"},
    )

    mode: Literal["township", "lead_department"] = Field(
        description="township: 街乡吹哨、部门报到 (whistler is a township code); "
        "lead_department: 一门主责、其他配合 (whistler is the case's lead department)")
    whistler: str = Field(min_length=1, max_length=64, description="township code or department code")
    add_departments: list[str] = Field(default_factory=list, max_length=50,
                                       description="departments to add as assists (the lists must allow them)")
    only_departments: list[str] | None = Field(default=None, max_length=50,
                                               description="narrow the proposed plan to these departments")
    note: str | None = Field(default=None, max_length=2000)
    incident_ids: list[UUID] | None = Field(
        default=None, max_length=500,
        description="joint whistle (联合执法): further cases whistled together with the one in the path")


class ReportInCreate(BaseModel):
    """A GPS check-in on site; the server's clock decides on time or late, the device time is kept as skew.

    A report-in taken without signal and sent later gives ``fixed_at``, the phone's clock when it took the
    position, and ``device_time``, its clock when sending: it is timed at the server's time less that wait
    (at most 12 h; never before the whistle)."""

    model_config = _command(
        {"lon": 117.2201, "lat": 40.1893, "accuracy_m": 8, "device_time": "2026-05-12T23:58:00+08:00",
         "crs": "wgs84"},
        {"lon": 117.2262, "lat": 40.1907, "accuracy_m": 15, "crs": "gcj02"},
        {"lon": 117.2201, "lat": 40.1893, "accuracy_m": 12, "fixed_at": "2026-05-12T23:58:00+08:00",
         "device_time": "2026-05-13T00:18:00+08:00", "crs": "wgs84"},
    )

    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="longitude in the datum of ``crs``")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="latitude in the datum of ``crs``")
    accuracy_m: float | None = Field(default=None, ge=0, le=10_000, allow_inf_nan=False)
    device_time: AwareDatetime | None = Field(default=None, description="the phone's clock (kept as skew only)")
    fixed_at: AwareDatetime | None = Field(
        default=None, description="a queued report-in: the phone's clock when it took the position; needs "
                                  "``device_time`` (the phone's clock when sending). Only the wait between the two "
                                  "is used: the report-in is timed at the server's time less that wait")
    crs: Datum = Field(default="wgs84", description="datum of lon/lat; converted to WGS84 before the check")


class DeclineCreate(BaseModel):
    """A summoned department refuses the whistle; a listed lead needs a ground (else W06 推诿/无依据退单)."""

    model_config = _command({"reason": "该点位位于河道管理范围外，不属我局职责", "ground": "outside_jurisdiction"})

    reason: str = Field(max_length=2000)
    ground: DeclineGround | None = None


class ReasonCreate(BaseModel):
    """A township's reason: overruling a decline (退单无效、维持主责) or releasing a department."""

    model_config = _command({"reason": "主责部门已处置完毕，配合部门可撤离"})

    reason: str = Field(max_length=2000)


class PhotoCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slot: Literal["before", "after", "evidence"]
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="content hash of the photo")


#: the kinds of enforcement action of the shipped lists (data/catalog/pinggu.yaml ``action_kinds``), as the
#: description of ``action_type`` names them; the district's own lists decide what a record accepts
ACTION_KINDS_SHIPPED = ("INSPECT 现场检查, ORDER 责令改正, PENALTY 行政处罚, SEIZE 查封扣押, DEMOLISH 拆除, "
                        "TRANSFER 移送, ASSIST 协助执法")


class ActionCreate(BaseModel):
    """An enforcement record (执法记录) of an acting department: its kind of action from the lists, and measures
    listed for the case's rule."""

    model_config = _command({
        "action_type": "现场检查", "officer": "区水务局执法队-李强", "acted_at": "2026-05-13T00:20:00+08:00",
        "measures": ["责令停止违法行为", "扣押采砂机具"], "penalty_amount": 20000,
        "seized_items": "挖掘机1台、自卸车2辆",
        "lon": 117.2201, "lat": 40.1893, "crs": "wgs84",
        "photos": [{"slot": "before", "sha256": "9f" * 32}, {"slot": "after", "sha256": "3c" * 32}],
    })

    action_type: str = Field(
        min_length=1, max_length=200, examples=["INSPECT", "现场检查"],
        description="the kind of enforcement action, one of the lists' `action_kinds` (GET "
        "/api/v1/catalog/action-kinds), by code or exact Chinese name; the code is stored. The shipped lists' "
        f"kinds: {ACTION_KINDS_SHIPPED}. Anything else is 422 on `action_type`, naming the accepted kinds")
    officer: str = Field(min_length=1, max_length=200)
    acted_at: AwareDatetime | None = Field(
        default=None, description="when it was done; server time when absent; not in the future (10 minutes "
        "of clock skew allowed)")
    measures: list[str] = Field(default_factory=list, max_length=50)
    penalty_amount: float | None = Field(default=None, ge=0, le=PENALTY_MAX, allow_inf_nan=False,
                                         description="yuan, at most 999 999 999 999.99")
    seized_items: str | None = Field(default=None, max_length=2000)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    crs: Datum = "wgs84"
    photos: list[PhotoCreate] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _both_or_neither(self) -> ActionCreate:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        return self


class ResolveCreate(BaseModel):
    model_config = _command({"department": "WATER", "summary": "已责令停止采砂，扣押机具，河道已平整恢复"})

    department: str = Field(min_length=1, max_length=64, description="the lead department")
    summary: str = Field(min_length=1, max_length=4000)


class ResumeCreate(BaseModel):
    model_config = _command({"department": "WATER"})

    department: str = Field(min_length=1, max_length=64, description="the lead department")


class VerifyCreate(BaseModel):
    model_config = _command({"township": "110117006", "note": "镇综合执法队现场核查：已停采，河道恢复"})

    township: str = Field(min_length=1, max_length=64)
    note: str | None = Field(default=None, max_length=4000)


class CloseCreate(BaseModel):
    model_config = _command({"township": "110117006"})

    township: str = Field(min_length=1, max_length=64)


class ReopenCreate(BaseModel):
    model_config = _command({"township": "110117006", "reason": "复查发现夜间仍有采砂，重新立案"})

    township: str = Field(min_length=1, max_length=64)
    reason: str = Field(max_length=4000)


class MarkDuplicateCreate(BaseModel):
    """The township marks its case a duplicate of a case already in hand (标记重复)."""

    model_config = _command({"township": "110117006", "duplicate_of": _CASE_ID})

    township: str = Field(min_length=1, max_length=64)
    duplicate_of: UUID | None = Field(default=None, description="the first case; default: the case's "
                                                                "likely_duplicate_of")
    reason: str | None = Field(default=None, max_length=4000)


class RejectCreate(BaseModel):
    """The township declines its case (不予受理), with a reason."""

    model_config = _command({"township": "110117006", "reason": "现场核实为合法施工，已办理许可"})

    township: str = Field(min_length=1, max_length=64)
    reason: str = Field(max_length=4000)


class ReinstateCreate(BaseModel):
    """The township takes a duplicate or declined case back (恢复受理), with a reason."""

    model_config = _command({"township": "110117006", "reason": "与原案件不是同一处采砂点"})

    township: str = Field(min_length=1, max_length=64)
    reason: str = Field(max_length=4000)


class ReclassifyCreate(BaseModel):
    """The township files its case under the right category (改类): a report of unknown category (the lists'
    placeholder) or one the patrol got wrong."""

    model_config = _command({"township": "110117006", "category": "MIN-02", "reason": "现场为河道采砂"})

    township: str = Field(min_length=1, max_length=64)
    category: str = Field(min_length=1, max_length=64, description="a category code of the lists, or its Chinese "
                                                                   "name")
    reason: str | None = Field(default=None, max_length=4000)


# --- responses ------------------------------------------------------------------------------------------------


class AssignmentPublic(BaseModel):
    """One department summoned to one case (identified by incident id and department code)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 41, "incident_id": _CASE_ID, "whistle_id": 7, "department": "WATER", "department_name": "区水务局",
        "role": "lead", "status": "reported_in", "summoned_at": "2026-05-12T23:40:00+08:00",
        "report_in_due": "2026-05-13T00:10:00+08:00", "resolution_due": "2026-05-14T23:40:00+08:00",
        "reported_in_at": "2026-05-13T00:00:00+08:00", "report_in_distance_m": 35.2, "minutes_late": -10.0,
        "on_time": True, "done_at": None, "reason": None, "absent_at": "2026-05-13T00:40:00+08:00",
        "township_code": "110117003"}]})

    id: int
    incident_id: UUID
    whistle_id: int
    department: str
    department_name: str | None
    role: Literal["lead", "assist"]
    status: str
    summoned_at: datetime
    report_in_due: datetime
    resolution_due: datetime | None
    reported_in_at: datetime | None
    report_in_distance_m: float | None
    minutes_late: float | None = Field(description="negative: early")
    on_time: bool | None
    done_at: datetime | None
    reason: str | None
    absent_at: datetime | None = Field(
        default=None, description="the warning list's line for a report-in: one after ``report_in_due`` but before "
                                  "this counts late (W01 报到迟到); none by then counts absent (W02 未报到). An "
                                  "overruled decline moves it on by the time the decline stood, as it moves the "
                                  "deadlines")
    township_code: str | None = Field(
        default=None, description="the township the department was summoned for: the case's, or the township "
                                  "that took up a report on its border. A township team (TOWN) summoned here is "
                                  "that township's team")

    @classmethod
    def from_record(cls, a: Assignment, *, tz: str, departments: Mapping[str, Department]) -> AssignmentPublic:
        dep = departments.get(a.department)
        return cls(
            id=a.id, incident_id=a.incident_id, whistle_id=a.whistle_id, department=a.department,
            department_name=dep.zh if dep else None, role=a.role.value,  # type: ignore[arg-type]
            status=a.status, summoned_at=_local(a.summoned_at, tz), report_in_due=_local(a.report_in_due, tz),
            resolution_due=_local_or_none(a.resolution_due, tz), reported_in_at=_local_or_none(a.reported_in_at, tz),
            report_in_distance_m=a.report_in_distance_m, minutes_late=a.minutes_late, on_time=a.on_time,
            done_at=_local_or_none(a.done_at, tz), reason=a.reason,
            absent_at=_local(a.summoned_at + timedelta(minutes=ABSENT_AFTER_MIN, seconds=a.declined_s), tz),
            township_code=a.township_code,
        )


class AssignmentsPublic(BaseModel):
    """A case's assignments: the lead first, then assists in the order they were summoned."""

    data: list[AssignmentPublic]
    count: int


class SummonedPublic(BaseModel):
    incident_id: UUID
    department: str


class WhistlePublic(BaseModel):
    """What a whistle did: the cases it whistled, the assignments it created (in plan order) and departments
    already on a case."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "whistle_id": 7, "mode": "township", "whistler": "110117006", "whistled_at": "2026-05-12T23:40:00+08:00",
        "incident_ids": [_CASE_ID], "joint": False, "note": "金海湖镇吹哨：泃河河道夜间采砂",
        "assignments": [], "already_summoned": []}]})

    whistle_id: int
    mode: Literal["township", "lead_department"]
    whistler: str
    whistled_at: datetime
    incident_ids: list[UUID]
    joint: bool
    note: str | None
    assignments: list[AssignmentPublic]
    already_summoned: list[SummonedPublic]


class PositionPublic(BaseModel):
    lon: float
    lat: float
    crs: Literal["wgs84"] = "wgs84"


class ReportInPublic(BaseModel):
    """A check-in that was accepted: how far from the case, how late (negative: early), on time or not."""

    assignment: AssignmentPublic
    position: PositionPublic = Field(description="the position checked, converted to WGS84")
    submitted: dict[str, Any] = Field(description="lon, lat and crs as sent")
    distance_m: float
    minutes_late: float
    on_time: bool
    queued_s: float | None = Field(
        default=None, description="a queued report-in: seconds it waited in the phone (it was timed that long "
                                  "before it arrived); none when sent at once")


class ActionPublic(BaseModel):
    record_id: int
    incident_id: UUID
    department: str


class PendingPublic(BaseModel):
    """A department a case still waits for before it may close."""

    department: str
    role: Literal["lead", "assist"]
    status: str = Field(description="its assignment's state, e.g. summoned, acting, declined")


class ReclassifiedPublic(BaseModel):
    """A case filed under another category: the category before, the rule now applying and its plan (who the
    next whistle summons)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "incident_id": _CASE_ID, "status": "triaged", "category": "MIN-02", "category_name": "河道非法采砂",
        "previous_category": "OTH-00", "rule_code": "R-MIN-02-RIVER", "lead_department": "WATER",
        "plan": [{"department": "WATER", "department_name": "区水务局", "role": "lead", "report_in_minutes": 30,
                  "resolution_hours": 48}]}]})

    incident_id: UUID
    status: str
    category: str
    category_name: str
    previous_category: str
    rule_code: str
    lead_department: str
    plan: list[PlanItemPublic]


class CaseStatusPublic(BaseModel):
    """A case's state after a step; when a verified case is not closed yet, ``pending`` says why in words and
    ``pending_departments`` lists who it waits for; ``duplicate_of`` is the first case of a duplicate."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "incident_id": _CASE_ID, "status": "verified",
        "pending": "assists not done or released: PSB (acting)",
        "pending_departments": [{"department": "PSB", "role": "assist", "status": "acting"}]}]})

    incident_id: UUID
    status: str
    pending: str | None = None
    pending_departments: list[PendingPublic] | None = None
    duplicate_of: UUID | None = None


class EventPublic(BaseModel):
    """One entry of the case's hash-chained record (执法有记载). ``at`` and the times inside ``payload`` are in
    the district's zone; the hashes cover the canonical form, which writes every time in UTC."""

    seq: int
    at: datetime
    actor: str | None
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    @classmethod
    def from_record(cls, e: CaseEvent, *, tz: str) -> EventPublic:
        return cls(seq=e.seq, at=_local(e.at, tz), actor=e.actor, kind=e.kind,
                   payload=local_payload(dict(e.payload), tz), prev_hash=e.prev_hash, hash=e.hash)


class TimelinePublic(BaseModel):
    """The case's events in order, and whether its record chain is intact (``problem`` names the first break)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "incident_id": _CASE_ID, "status": "closed", "count": 1, "intact": True, "problem": None,
        "events": [{"seq": 1, "at": "2026-05-12T23:40:00+08:00", "actor": None, "kind": "triage",
                    "payload": {"by": "110117006"}, "prev_hash": "0" * 64, "hash": "ab" * 32}]}]})

    incident_id: UUID
    status: str
    events: list[EventPublic]
    count: int
    intact: bool
    problem: str | None

    @classmethod
    def from_records(cls, incident_id: UUID, status: str, events: Sequence[CaseEvent], problem: str | None, *,
                     tz: str) -> TimelinePublic:
        return cls(incident_id=incident_id, status=status, events=[EventPublic.from_record(e, tz=tz) for e in events],
                   count=len(events), intact=problem is None, problem=problem)
