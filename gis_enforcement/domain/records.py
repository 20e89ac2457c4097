"""Records passed between layers. Plain, frozen dataclasses; no behaviour that needs I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from gis_enforcement.domain.enums import CaseStatus, Role


@dataclass(frozen=True, slots=True)
class ZoneRef:
    """A special zone a point falls in (river corridor, mining area, truck route, red line...)."""

    kind: str
    code: str
    name: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code, "name": self.name}


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one point is: township, village, grid cell, zones and flags (the result of ``locate``)."""

    lon: float
    lat: float
    township_code: str | None
    township_name: str | None
    village_code: str | None = None
    village_name: str | None = None
    village_distance_m: float | None = None  # None when the village polygon contains the point
    grid_code: str | None = None
    zones: tuple[ZoneRef, ...] = ()
    flags: tuple[str, ...] = ()
    border_townships: tuple[str, ...] = ()  # near_border: the neighbours; outside_district: the townships
    #                                         within reach of the fix, the ones that may hold it
    nearest_township_code: str | None = None  # when outside_district
    nearest_township_distance_m: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON shape of ``gis-enforcement locate --json``."""
        out: dict[str, Any] = {
            "lon": self.lon,
            "lat": self.lat,
            "township_code": self.township_code,
            "township_name": self.township_name,
            "village_code": self.village_code,
            "village_name": self.village_name,
            "village_distance_m": self.village_distance_m,
            "grid_code": self.grid_code,
            "zones": [z.to_dict() for z in self.zones],
            "flags": list(self.flags),
        }
        if self.border_townships:
            out["border_townships"] = list(self.border_townships)
        if self.nearest_township_code is not None:
            out["nearest_township_code"] = self.nearest_township_code
            out["nearest_township_distance_m"] = self.nearest_township_distance_m
        return out


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One department in a proposed whistle plan, with its deadlines relative to the whistle."""

    department: str
    role: Role
    report_in_minutes: int
    resolution_hours: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "role": self.role.value,
            "report_in_minutes": self.report_in_minutes,
            "resolution_hours": self.resolution_hours,
        }


@dataclass(frozen=True, slots=True)
class Incident:
    """A stored incident — the case a patrol's GPS point became."""

    id: UUID
    category: str
    observed_at: datetime
    received_at: datetime
    lon: float
    lat: float
    accuracy_m: float | None
    raw_lon: float
    raw_lat: float
    raw_crs: str
    reporter: str | None
    description: str | None
    status: CaseStatus
    township_code: str | None
    township_name: str | None = None
    village_code: str | None = None
    village_name: str | None = None
    village_distance_m: float | None = None
    grid_code: str | None = None
    zones: tuple[ZoneRef, ...] = ()
    flags: tuple[str, ...] = ()
    border_townships: tuple[str, ...] = ()
    rule_code: str | None = None
    plan: tuple[PlanItem, ...] = ()
    duplicate_of: UUID | None = None
    duplicate_distance_m: float | None = None
    photos: tuple[str, ...] = ()
    track_id: str | None = None
    recurrence_of: UUID | None = None
    recurrence_distance_m: float | None = None
    reported_category: str | None = None  # the category as filed, when the township named another (改类)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lead_department(self) -> str | None:
        return next((p.department for p in self.plan if p.role is Role.LEAD), None)


@dataclass(frozen=True, slots=True)
class Assignment:
    """One department summoned to one case: its role, state, deadlines and how its report-in went."""

    id: int
    incident_id: UUID
    whistle_id: int
    department: str
    role: Role
    status: str
    summoned_at: datetime
    report_in_due: datetime
    resolution_due: datetime | None
    reported_in_at: datetime | None = None
    report_in_distance_m: float | None = None
    minutes_late: float | None = None
    done_at: datetime | None = None
    reason: str | None = None
    declined_s: float = 0.0  # time stood declined before the township overruled it (its deadlines moved on)
    township_code: str | None = None  # the township summoned for (a township team: that township's team)

    @property
    def on_time(self) -> bool | None:
        return None if self.minutes_late is None else self.minutes_late <= 0


@dataclass(frozen=True, slots=True)
class CaseState:
    """What dispatch needs to know about a case, read under a row lock."""

    id: UUID
    status: CaseStatus
    category: str
    township_code: str | None
    border_townships: tuple[str, ...]
    lon: float
    lat: float
    plan: tuple[PlanItem, ...]
    whistled_at: datetime | None
    event_count: int
    event_head: str | None
