"""Incidents read as Open311 GeoReport v2 service requests: one statement per page, deadlines included. Never
commits.

A service request is an incident seen from outside: its lead department (the lead assignment once whistled,
the rule's lead before), when it last changed (the newest case event), its current deadline — the step the lead
is at: its report-in due while summoned, its resolution due (moved on by the time the case stood resolved before
a reopening, ``dispatch_repo.lead_paused_s``) once on site or acting — its first uploaded photo, and for a
declined case (不予受理) or a duplicate, what the township recorded when it triaged it: the reason of its latest
``reject`` event, or the first case (``duplicate_of``) and the reason of its latest ``mark_duplicate`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.access import IncidentScope
from gis_enforcement.domain.enums import CaseStatus
from gis_enforcement.storage.dispatch_repo import lead_paused_s
from gis_enforcement.storage.incident_repo import scope_clause


@dataclass(frozen=True, slots=True)
class RequestFilter:
    """Filters of a service-request listing; ``None`` leaves a dimension unfiltered.

    ``ids``, ``categories`` and ``statuses`` (case statuses) match any of their values; the observation time
    must lie in [``requested_from``, ``requested_to``]. ``scope`` is the caller's
    (:class:`gis_enforcement.domain.access.IncidentScope`): only the cases they may read.
    """

    ids: Sequence[UUID] | None = None
    categories: Sequence[str] | None = None
    statuses: Sequence[str] | None = None
    requested_from: datetime | None = None
    requested_to: datetime | None = None
    scope: IncidentScope | None = None


@dataclass(frozen=True, slots=True)
class ServiceRequestRecord:
    """One incident with what an Open311 service request shows of it."""

    id: UUID
    category: str
    status: CaseStatus
    description: str | None
    lead_department: str | None
    observed_at: datetime
    updated_at: datetime
    expected_at: datetime | None
    township_code: str | None
    township_name: str | None
    village_code: str | None
    village_name: str | None
    lon: float
    lat: float
    photos: tuple[str, ...]
    flags: tuple[str, ...]
    duplicate_of: UUID | None
    recurrence_of: UUID | None
    first_photo: str | None = None  # sha256 of the first photo uploaded to the case
    #: rejected or duplicate: the reason the township gave (None when it gave none, and in any other status)
    triage_reason: str | None = None
    #: duplicate: the first case it was marked a duplicate of (its ``mark_duplicate`` event's ``duplicate_of``)
    merged_into: UUID | None = None


_SELECT = """
SELECT i.id, i.category, i.status, i.description,
       COALESCE((SELECT a.department FROM assignment a WHERE a.incident_id = i.id AND a.role = 'lead'
                 ORDER BY a.id DESC LIMIT 1), i.lead_department) AS lead_department,
       i.observed_at,
       GREATEST(i.received_at, i.whistled_at, i.closed_at,
                (SELECT max(e.at) FROM case_event e WHERE e.incident_id = i.id)) AS updated_at,
       (SELECT CASE WHEN a.status = 'summoned' THEN a.report_in_due
                    WHEN a.status IN ('reported_in', 'acting')
                    THEN a.resolution_due + make_interval(secs => {paused}) END
          FROM assignment a WHERE a.incident_id = i.id AND a.role = 'lead'
          ORDER BY a.id DESC LIMIT 1) AS expected_at,
       i.township_code, t.name AS township_name, i.village_code, v.name AS village_name, i.lon, i.lat,
       i.photos, i.flags, i.likely_duplicate_of, i.recurrence_of,
       (SELECT l.sha256 FROM incident_photo l WHERE l.incident_id = i.id
         ORDER BY l.added_at, l.sha256 LIMIT 1) AS first_photo,
       CASE WHEN i.status IN ('rejected', 'duplicate') THEN
         (SELECT e.payload FROM case_event e
           WHERE e.incident_id = i.id
             AND e.kind = CASE i.status WHEN 'rejected' THEN 'reject' ELSE 'mark_duplicate' END
           ORDER BY e.seq DESC LIMIT 1) END AS triage
FROM page i
LEFT JOIN township t ON t.code = i.township_code
LEFT JOIN village v ON v.code = i.village_code
""".format(paused=lead_paused_s("a"))


def _where(f: RequestFilter) -> tuple[str, dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if f.ids is not None:
        clauses.append("i.id = ANY(:ids)")
        params["ids"] = list(f.ids)
    if f.categories is not None:
        clauses.append("i.category = ANY(:categories)")
        params["categories"] = list(f.categories)
    if f.statuses is not None:
        clauses.append("i.status = ANY(:statuses)")
        params["statuses"] = list(f.statuses)
    if f.requested_from is not None:
        clauses.append("i.observed_at >= :t0")
        params["t0"] = f.requested_from
    if f.requested_to is not None:
        clauses.append("i.observed_at <= :t1")
        params["t1"] = f.requested_to
    if f.scope is not None and not f.scope.everything:
        clause, scope_params = scope_clause(f.scope)
        clauses.append(clause)
        params.update(scope_params)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _uuid_or_none(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value is not None else None
    except ValueError:
        return None


def _record(row: Any) -> ServiceRequestRecord:
    m = row._mapping
    triage = m["triage"] if isinstance(m["triage"], dict) else {}
    reason = triage.get("reason")
    return ServiceRequestRecord(
        id=m["id"], category=m["category"], status=CaseStatus(m["status"]), description=m["description"],
        lead_department=m["lead_department"], observed_at=m["observed_at"], updated_at=m["updated_at"],
        expected_at=m["expected_at"], township_code=m["township_code"], township_name=m["township_name"],
        village_code=m["village_code"], village_name=m["village_name"], lon=m["lon"], lat=m["lat"],
        photos=tuple(m["photos"]), flags=tuple(m["flags"]), duplicate_of=m["likely_duplicate_of"],
        recurrence_of=m["recurrence_of"], first_photo=m["first_photo"],
        triage_reason=(reason.strip() or None) if isinstance(reason, str) else None,
        merged_into=_uuid_or_none(triage.get("duplicate_of")),
    )


def list_requests(
    session: Session, *, filters: RequestFilter, limit: int = 1000, offset: int = 0
) -> list[ServiceRequestRecord]:
    """A page of incidents matching ``filters`` as service-request records, newest observation first."""
    where, params = _where(filters)
    # the page is cut on the incident rows alone (as ``incident_repo.list_incidents`` does); only its rows are
    # joined to the names and have their assignments and events read
    rows = session.execute(
        text("WITH page AS (SELECT i.* FROM incident i" + where
             + " ORDER BY i.observed_at DESC, i.id LIMIT :limit OFFSET :offset) "
             + _SELECT + " ORDER BY i.observed_at DESC, i.id"),
        {**params, "limit": limit, "offset": offset},
    ).all()
    return [_record(r) for r in rows]


def district_code(session: Session) -> str | None:
    """The code of the loaded district (its administrative division code, e.g. 110117), None when no
    layers are loaded."""
    code = session.execute(text("SELECT code FROM district ORDER BY code LIMIT 1")).scalar_one_or_none()
    return None if code is None else str(code)
