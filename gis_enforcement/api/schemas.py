"""Response and request models, named by role (``IncidentPublic``, ``IncidentsPublic``...)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from gis_enforcement.domain.catalog import Department
from gis_enforcement.domain.records import Incident, PlanItem, ZoneRef

#: the largest integer the database takes (PostgreSQL bigint): the bound of a page's offset
BIGINT_MAX = 2**63 - 1


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class ZonePublic(BaseModel):
    kind: str
    code: str
    name: str


class PlanItemPublic(BaseModel):
    department: str
    department_name: str | None = Field(default=None, description="the department's name in the lists (zh)")
    role: Literal["lead", "assist"]
    report_in_minutes: int
    resolution_hours: float | None


class AttachedPhotoPublic(BaseModel):
    sha256: str
    url: str = Field(description="where the photo is served")


class IncidentProperties(BaseModel):
    category: str
    reported_category: str | None = Field(
        default=None, description="the category the report was filed under, when its township named another (改类)")
    status: str
    observed_at: datetime
    received_at: datetime
    accuracy_m: float | None
    reporter: str | None
    description: str | None
    raw: dict[str, Any] = Field(description="the coordinate as submitted and its datum")
    township_code: str | None
    township_name: str | None
    village_code: str | None
    village_name: str | None
    village_distance_m: float | None
    grid_code: str | None
    zones: list[ZonePublic]
    flags: list[str]
    border_townships: list[str]
    rule_code: str | None
    lead_department: str | None
    plan: list[PlanItemPublic] = Field(description="proposed whistle plan: lead then assisting departments")
    likely_duplicate_of: UUID | None
    duplicate_distance_m: float | None
    recurrence_of: UUID | None = Field(default=None, description="the closed case this problem came back at")
    recurrence_distance_m: float | None = None
    photos: list[str] = Field(description="the photo references named in the submission (as sent); the photos "
                                          "attached to the case are ``attached_photos``")
    attached_photos: list[AttachedPhotoPublic] | None = Field(
        default=None, description="the photos attached to the case (POST …/photos), oldest first: given when "
                                  "one incident is read, not in lists (GET …/photos for those)")
    track_id: str | None


class IncidentPublic(BaseModel):
    """An incident as a GeoJSON Feature (WGS84)."""

    type: Literal["Feature"] = "Feature"
    id: UUID
    geometry: PointGeometry
    properties: IncidentProperties

    @classmethod
    def from_record(cls, inc: Incident, *, tz: str = "Asia/Shanghai",
                    departments: Mapping[str, Department] | None = None) -> IncidentPublic:
        """The public shape of a stored incident; times shown in the district's time zone."""
        zone = ZoneInfo(tz)
        departments = departments or {}
        return cls(
            id=inc.id,
            geometry=PointGeometry(coordinates=(inc.lon, inc.lat)),
            properties=IncidentProperties(
                category=inc.category, reported_category=inc.reported_category, status=inc.status.value,
                observed_at=inc.observed_at.astimezone(zone),
                received_at=inc.received_at.astimezone(zone), accuracy_m=inc.accuracy_m, reporter=inc.reporter,
                description=inc.description,
                raw={"lon": inc.raw_lon, "lat": inc.raw_lat, "crs": inc.raw_crs},
                township_code=inc.township_code, township_name=inc.township_name,
                village_code=inc.village_code, village_name=inc.village_name,
                village_distance_m=inc.village_distance_m, grid_code=inc.grid_code,
                zones=[_zone_public(z) for z in inc.zones], flags=list(inc.flags),
                border_townships=list(inc.border_townships), rule_code=inc.rule_code,
                lead_department=inc.lead_department,
                plan=[_plan_item_public(p, d.zh if (d := departments.get(p.department)) else None)
                      for p in inc.plan],
                likely_duplicate_of=inc.duplicate_of, duplicate_distance_m=inc.duplicate_distance_m,
                recurrence_of=inc.recurrence_of, recurrence_distance_m=inc.recurrence_distance_m,
                photos=list(inc.photos), track_id=inc.track_id,
            ),
        )


# A page of cases repeats a few zones and plan items many times: each public item is built once and shared
# (nothing changes a public model after it is built; they are only encoded).
@lru_cache(maxsize=4096)
def _zone_public(zone: ZoneRef) -> ZonePublic:
    return ZonePublic(**zone.to_dict())


@lru_cache(maxsize=4096)
def _plan_item_public(item: PlanItem, department_name: str | None) -> PlanItemPublic:
    return PlanItemPublic(**item.to_dict(), department_name=department_name)


class AssignmentCoursePublic(BaseModel):
    """One department summoned to a case, as its reporter follows it."""

    department: str
    department_name: str | None = Field(default=None, description="the department's name in the lists (zh)")
    role: Literal["lead", "assist"]
    status: str = Field(description="the assignment's state: summoned, reported_in, in_action, done, declined, "
                                    "released …")
    summoned_at: datetime
    reported_in_at: datetime | None
    done_at: datetime | None


class ReportCoursePublic(BaseModel):
    """What became of one report: its case's status and course."""

    id: UUID
    status: str
    observed_at: datetime
    whistled_at: datetime | None
    closed_at: datetime | None
    likely_duplicate_of: UUID | None
    duplicate_distance_m: float | None
    duplicate_observed_at: datetime | None = Field(description="when the report it likely repeats was observed")
    recurrence_of: UUID | None = Field(description="the closed case this problem came back at")
    recurrence_distance_m: float | None
    departments: list[AssignmentCoursePublic] = Field(description="the departments summoned, the lead first")

    @classmethod
    def from_row(cls, row: Mapping[str, Any], *, tz: str,
                 departments: Mapping[str, Department]) -> ReportCoursePublic:
        zone = ZoneInfo(tz)

        def local(t: datetime | None) -> datetime | None:
            return None if t is None else t.astimezone(zone)

        return cls(
            id=row["id"], status=row["status"], observed_at=row["observed_at"].astimezone(zone),
            whistled_at=local(row["whistled_at"]), closed_at=local(row["closed_at"]),
            likely_duplicate_of=row["likely_duplicate_of"], duplicate_distance_m=row["duplicate_distance_m"],
            duplicate_observed_at=local(row["duplicate_observed_at"]), recurrence_of=row["recurrence_of"],
            recurrence_distance_m=row["recurrence_distance_m"],
            departments=[AssignmentCoursePublic(
                department=a["department"], department_name=d.zh if (d := departments.get(a["department"])) else None,
                role=a["role"], status=a["status"], summoned_at=a["summoned_at"].astimezone(zone),
                reported_in_at=local(a["reported_in_at"]), done_at=local(a["done_at"]),
            ) for a in row["departments"]],
        )


class ReportsCoursePublic(BaseModel):
    """The caller's own reports, newest first, with what became of them."""

    data: list[ReportCoursePublic]


class IncidentsPublic(BaseModel):
    """A page of incidents as a GeoJSON FeatureCollection, with the total that matched."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[IncidentPublic]
    numberMatched: int
    numberReturned: int
    limit: int
    offset: int


class RowErrorPublic(BaseModel):
    """One refused value of a submission: its row, field and reason (English), and the refusal's stable
    ``code`` (``<field>:<kind>``, one of ``patrol.report.ROW_ERROR_CODES``) with the ``values`` its reason names,
    for a client that says it in its own words."""

    row: int
    field: str
    reason: str
    id: str | None
    code: str = Field(examples=["observed_at:future", "category:unknown"])
    values: dict[str, Any] = Field(default_factory=dict, examples=[{"value": "MIN-99"}])


class IngestReportPublic(BaseModel):
    """Outcome of a batch submission: what was accepted, what was already there, what was refused and why."""

    submitted: int
    accepted: int
    already_stored: int
    rejected: int
    repeated: int = Field(0, description="rows repeating an earlier row of the batch (same id and content), "
                                         "taken once: submitted = accepted + already_stored + rejected + repeated")
    likely_duplicates: int
    recurrences: int = 0
    flags: dict[str, int]
    errors: list[RowErrorPublic]
    batch_id: int | None
    accepted_ids: list[str]
    stored_ids: list[str]


class ErrorPublic(BaseModel):
    code: str
    message: str
    field: str | None = None
    detail: dict[str, Any] | None = None


class ErrorResponse(BaseModel):
    error: ErrorPublic


INCIDENT_FEATURE_EXAMPLE: dict[str, Any] = {
    "type": "Feature",
    "id": "5b7e0c3a-2f4e-4d7a-9a51-0c6f1f0e9b11",
    "geometry": {"type": "Point", "coordinates": [117.2201, 40.1893]},
    "properties": {
        "category": "MIN-02",
        "observed_at": "2026-05-12T23:40:00+08:00",
        "accuracy_m": 8,
        "reporter": "金海湖镇巡查队-张伟",
        "description": "泃河河道内夜间有挖掘机采砂，两辆自卸车",
        "crs": "wgs84",
    },
}


def json_plain(value: Any) -> Any:
    """Values from pandas and numpy as plain JSON: NaN, NaT and NA become null, numpy scalars Python numbers,
    times ISO 8601 — for the routes that return frames and stored JSON."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class FollowUpTaskPublic(BaseModel):
    """A 部门要求、街乡落实 task as the township's desk lists it."""

    id: int
    incident_id: UUID
    category: str = Field(examples=["MIN-02"])
    category_name: str | None = Field(default=None, description="the category's name in the lists (zh)")
    village_code: str | None
    village_name: str | None
    township_code: str = Field(examples=["110117006"])
    township_name: str | None
    department: str = Field(examples=["WATER"], description="the department that asked")
    department_name: str | None = Field(default=None, description="the department's name in the lists (zh)")
    task: str
    requested_at: datetime
    due_at: datetime
    status: Literal["open", "done"]
    done_at: datetime | None
    done_note: str | None
    overdue: bool = Field(description="open and past its due time")
    minutes_to_due: int = Field(description="whole minutes from now (open) or from its completion (done) to the "
                                            "due time; negative once past it")


class FollowUpTasksPublic(BaseModel):
    data: list[FollowUpTaskPublic]
    count: int = Field(description="how many tasks matched (the page holds at most ``limit`` of them)")
