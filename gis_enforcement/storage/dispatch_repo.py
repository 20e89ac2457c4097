"""Whistles, assignments, enforcement records and the case event chain in PostGIS. Never commits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from gis_enforcement.domain.audit import CaseEvent
from gis_enforcement.domain.enums import CaseStatus, Role
from gis_enforcement.domain.records import Assignment, CaseState, PlanItem
from gis_enforcement.storage import tables

_ASSIGNMENT_COLUMNS = (
    "id, incident_id, whistle_id, department, role, status, summoned_at, report_in_due, resolution_due, "
    "reported_in_at, report_in_distance_m, minutes_late, done_at, reason, declined_s, township_code"
)


def paused_s(incident_id: str) -> str:
    """SQL for the seconds the case ``incident_id`` (an SQL expression: ``a.incident_id``, ``i.id``) spent
    resolved before the township reopened it (each resolve followed by a reopen, summed): the time its lead's
    resolution clock stands still (W05, ``lead_paused_s``)."""
    return ("(SELECT COALESCE(sum(extract(epoch FROM x.at - x.prev_at)), 0) FROM (SELECT e.kind, e.at, "
            "lag(e.kind) OVER (ORDER BY e.seq) AS prev_kind, lag(e.at) OVER (ORDER BY e.seq) AS prev_at "
            f"FROM case_event e WHERE e.incident_id = {incident_id} AND e.kind IN ('resolve', 'reopen')) x "
            "WHERE x.kind = 'reopen' AND x.prev_kind = 'resolve')")


def lead_paused_s(alias: str) -> str:
    """:func:`paused_s` of the case of the assignment aliased ``alias``."""
    return paused_s(f"{alias}.incident_id")


def resolved_at(incident: str, incident_id: str | None = None) -> str:
    """SQL for the last resolution of the case aliased ``incident`` (its id the expression ``incident_id``,
    default ``<incident>.id``) while it stands resolved, verified or closed (null once reopened): where the
    no-show rule's wait (W02) ends, and when the case was resolved."""
    key = incident_id or f"{incident}.id"
    return (f"CASE WHEN {incident}.status IN ('resolved', 'verified', 'closed') THEN (SELECT max(e.at) FROM "
            f"case_event e WHERE e.incident_id = {key} AND e.kind = 'resolve') END")


def case_resolved_at(assignment: str, incident: str) -> str:
    """:func:`resolved_at` of the case of the assignment aliased ``assignment`` (its incident aliased
    ``incident``)."""
    return resolved_at(incident, f"{assignment}.incident_id")


def _read_columns(alias: str) -> str:
    """The assignment columns as the listings read them: a lead's ``resolution_due`` is its effective due, the
    whistle's due moved on by the time the case waited resolved before a reopening (as W05 counts it)."""
    moved = (f"CASE WHEN {alias}.role = 'lead' AND {alias}.resolution_due IS NOT NULL THEN {alias}.resolution_due + "
             f"make_interval(secs => {lead_paused_s(alias)}) ELSE {alias}.resolution_due END AS resolution_due")
    return ", ".join(moved if c.strip() == "resolution_due" else f"{alias}.{c.strip()}"
                     for c in _ASSIGNMENT_COLUMNS.split(","))


def _assignment(row: Any) -> Assignment:
    m = dict(row._mapping)
    m["role"] = Role(m["role"])
    return Assignment(**m)


def lock_cases(session: Session, *, incident_ids: Sequence[UUID]) -> dict[UUID, CaseState]:
    """The cases with these ids, locked FOR UPDATE until the caller's transaction ends (in id order)."""
    rows = session.execute(
        text(
            "SELECT i.id, i.status, i.category, i.township_code, i.border_townships, i.lon, i.lat, r.plan, "
            "i.whistled_at, i.event_count, i.event_head FROM incident i "
            "LEFT JOIN rule_snapshot r ON r.id = i.rule_snapshot_id WHERE i.id = ANY(:ids) ORDER BY i.id "
            "FOR UPDATE OF i"
        ),
        {"ids": list(incident_ids)},
    ).all()
    out = {}
    for r in rows:
        m = r._mapping
        out[m["id"]] = CaseState(
            id=m["id"], status=CaseStatus(m["status"]), category=m["category"], township_code=m["township_code"],
            border_townships=tuple(m["border_townships"]), lon=m["lon"], lat=m["lat"],
            plan=tuple(PlanItem(p["department"], Role(p["role"]), p["report_in_minutes"], p.get("resolution_hours"))
                       for p in (m["plan"] or [])),
            whistled_at=m["whistled_at"], event_count=m["event_count"], event_head=m["event_head"],
        )
    return out


def set_case_status(session: Session, *, incident_id: UUID, status: CaseStatus, whistled_at: datetime | None = None,
                    closed_at: datetime | None = None) -> None:
    """Move a case to ``status``; whistle and close times are kept once set (COALESCE keeps the first)."""
    session.execute(
        text("UPDATE incident SET status = :status, whistled_at = COALESCE(whistled_at, :w), "
             "closed_at = CASE WHEN :status = 'closed' THEN CAST(:c AS timestamptz) ELSE NULL END WHERE id = :id"),
        {"status": status.value, "w": whistled_at, "c": closed_at, "id": incident_id},
    )


def set_case_category(session: Session, *, incident_id: UUID, category: str, rule_snapshot_id: int,
                      lead_department: str | None) -> None:
    """File a case under another category and its rule (改类); the category it was reported under is kept in
    ``reported_category`` the first time it changes (NULL again should the case return to it)."""
    session.execute(
        text("UPDATE incident SET reported_category = NULLIF(COALESCE(reported_category, category), :category), "
             "category = :category, rule_snapshot_id = :rule, lead_department = :lead WHERE id = :id"),
        {"category": category, "rule": rule_snapshot_id, "lead": lead_department, "id": incident_id},
    )


def insert_whistle(session: Session, *, mode: str, whistled_at: datetime, whistler_unit: str, actor: str | None,
                   note: str | None, incident_ids: Sequence[UUID]) -> int:
    return int(session.execute(
        text("INSERT INTO whistle (mode, whistled_at, whistler_unit, actor, note, incident_ids) "
             "VALUES (:mode, :at, :unit, :actor, :note, :ids) RETURNING id"),
        {"mode": mode, "at": whistled_at, "unit": whistler_unit, "actor": actor, "note": note,
         "ids": list(incident_ids)},
    ).scalar_one())


def insert_assignments(session: Session, *, rows: Sequence[dict[str, Any]]) -> list[Assignment]:
    """Create assignments (one statement); returns them as stored."""
    if not rows:
        return []
    cols = [tables.assignment.c[name.strip()] for name in _ASSIGNMENT_COLUMNS.split(",")]
    result = session.execute(insert(tables.assignment).returning(*cols, sort_by_parameter_order=True), list(rows))
    return [_assignment(r) for r in result.all()]


def assignments_of(session: Session, *, incident_id: UUID) -> list[Assignment]:
    """A case's assignments, the lead first; the lead's ``resolution_due`` is its effective due
    (:func:`_read_columns`)."""
    rows = session.execute(
        text(f"SELECT {_read_columns('a')} FROM assignment a WHERE a.incident_id = :id ORDER BY a.role DESC, a.id"),
        {"id": incident_id},
    ).all()
    return [_assignment(r) for r in rows]


def assignment_list(session: Session, *, statuses: Sequence[str] | None, department: str | None,
                    township: str | None, limit: int, offset: int, team_township: str | None = None,
                    ) -> tuple[list[tuple[Assignment, dict[str, Any]]], int]:
    """Assignments with a summary of their case (category, township_code and township_name, village_name, lon,
    lat, case_status, observed_at), soonest report-in due first, and how many match. None filters do not restrict;
    ``township`` is the case's, ``team_township`` the one the department was summoned for (a township team's).
    A lead's ``resolution_due`` is its effective due (:func:`_read_columns`)."""
    columns = _read_columns("a")
    where = ("WHERE (CAST(:statuses AS text[]) IS NULL OR a.status = ANY(:statuses)) "
             "AND (CAST(:dept AS text) IS NULL OR a.department = :dept) "
             "AND (CAST(:town AS text) IS NULL OR i.township_code = :town) "
             "AND (CAST(:team AS text) IS NULL OR a.township_code = :team)")
    params = {"statuses": None if statuses is None else list(statuses), "dept": department, "town": township,
              "team": team_township}
    rows = session.execute(text(
        f"SELECT {columns}, i.category, i.township_code AS case_township, t.name AS township_name, "
        "v.name AS village_name, i.lon, "
        "i.lat, i.status AS case_status, i.observed_at, count(*) OVER () AS total FROM assignment a "
        "JOIN incident i ON i.id = a.incident_id LEFT JOIN township t ON t.code = i.township_code "
        f"LEFT JOIN village v ON v.code = i.village_code {where} "
        "ORDER BY a.report_in_due, a.id LIMIT :limit OFFSET :offset"), {**params, "limit": limit, "offset": offset},
    ).mappings().all()
    names = [c.strip() for c in _ASSIGNMENT_COLUMNS.split(",")]
    out = [(Assignment(**{**{n: r[n] for n in names}, "role": Role(r["role"])}),
            {"township_code": r["case_township"],
             **{k: r[k] for k in ("category", "township_name", "village_name", "lon", "lat", "case_status",
                                  "observed_at")}}) for r in rows]
    if rows:
        total = rows[0]["total"]
    else:  # past the last page: the window count has no row to ride on
        total = session.execute(text(f"SELECT count(*) FROM assignment a JOIN incident i ON i.id = a.incident_id "
                                     f"{where}"), params).scalar_one()
    return out, int(total)


def lock_assignment(session: Session, *, incident_id: UUID, department: str) -> Assignment | None:
    row = session.execute(
        text(f"SELECT {_ASSIGNMENT_COLUMNS} FROM assignment WHERE incident_id = :id AND department = :dep "
             "FOR UPDATE"),
        {"id": incident_id, "dep": department},
    ).first()
    return _assignment(row) if row is not None else None


def assignment_by_id(session: Session, *, assignment_id: int) -> Assignment | None:
    """One assignment; a lead's ``resolution_due`` is its effective due (:func:`_read_columns`)."""
    row = session.execute(text(f"SELECT {_read_columns('a')} FROM assignment a WHERE a.id = :id"),
                          {"id": assignment_id}).first()
    return _assignment(row) if row is not None else None


def rating_of(session: Session, *, assignment_id: int) -> dict[str, Any] | None:
    """The township's rating of an assignment (timeliness, adequacy, comment, rated_at, rated_by), or None."""
    row = session.execute(
        text("SELECT rating_timeliness AS timeliness, rating_adequacy AS adequacy, rating_comment AS comment, "
             "rated_at, rated_by FROM assignment WHERE id = :id AND rated_at IS NOT NULL"), {"id": assignment_id},
    ).first()
    return dict(row._mapping) if row is not None else None


def set_rating(session: Session, *, assignment_id: int, timeliness: int, adequacy: int, comment: str | None,
               rated_at: datetime, rated_by: str) -> None:
    session.execute(
        text("UPDATE assignment SET rating_timeliness = :t, rating_adequacy = :a, rating_comment = :c, "
             "rated_at = :at, rated_by = :by WHERE id = :id"),
        {"t": timeliness, "a": adequacy, "c": comment, "at": rated_at, "by": rated_by, "id": assignment_id},
    )


def update_assignment(session: Session, *, assignment_id: int, **fields: Any) -> Assignment:
    """Set the given columns of one assignment and return it."""
    allowed = {"status", "reported_in_at", "report_in_lon", "report_in_lat", "report_in_accuracy_m",
               "report_in_distance_m", "report_in_device_time", "minutes_late", "done_at", "reason"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"update_assignment: unknown columns {sorted(unknown)}")
    sets = ", ".join(f"{k} = :{k}" for k in fields)
    row = session.execute(
        text(f"UPDATE assignment SET {sets} WHERE id = :aid RETURNING {_ASSIGNMENT_COLUMNS}"),
        {**fields, "aid": assignment_id},
    ).one()
    return _assignment(row)


def resume_after_decline(session: Session, *, assignment_id: int, incident_id: UUID, department: str,
                         at: datetime) -> float:
    """Move the deadlines of an assignment whose decline the township overrules at ``at`` on by the time the
    decline stood (from the department's last ``decline`` event of the case to ``at``), and add that time to its
    ``declined_s``; returns the seconds. Call before the overrule's own event is recorded."""
    return float(session.execute(
        text("WITH d AS (SELECT GREATEST(extract(epoch FROM CAST(:at AS timestamptz) - max(e.at)), 0) AS s "
             "FROM case_event e WHERE e.incident_id = :iid AND e.kind = 'decline' "
             "AND e.payload->>'department' = :dep) "
             "UPDATE assignment a SET report_in_due = a.report_in_due + make_interval(secs => d.s), "
             "resolution_due = a.resolution_due + make_interval(secs => d.s), declined_s = a.declined_s + d.s "
             "FROM d WHERE a.id = :aid RETURNING d.s"),
        {"at": at, "iid": incident_id, "dep": department, "aid": assignment_id},
    ).scalar_one() or 0.0)


def distance_m(session: Session, *, incident_id: UUID, lon: float, lat: float) -> float:
    """Geodesic distance in metres from a case's point to a position (PostGIS geography)."""
    return float(session.execute(
        text("SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4326)::geography) "
             "FROM incident WHERE id = :id"),
        {"x": lon, "y": lat, "id": incident_id},
    ).scalar_one())


def insert_enforcement_record(session: Session, *, record: dict[str, Any]) -> int:
    return int(session.execute(
        text("INSERT INTO enforcement_record (assignment_id, incident_id, action_type, measures, legal_basis, "
             "penalty_amount, seized_items, officer, acted_at, lon, lat, photos) VALUES (:assignment_id, "
             ":incident_id, :action_type, :measures, CAST(:legal_basis AS jsonb), :penalty_amount, :seized_items, "
             ":officer, :acted_at, :lon, :lat, CAST(:photos AS jsonb)) RETURNING id"),
        {**record, "legal_basis": json.dumps(record.get("legal_basis", []), ensure_ascii=False),
         "photos": json.dumps(record.get("photos", []), ensure_ascii=False)},
    ).scalar_one())


def append_event(session: Session, *, event: CaseEvent) -> None:
    """Store an event and move the case's head to it (the caller holds the case's row lock)."""
    session.execute(
        text("INSERT INTO case_event (incident_id, seq, at, actor, kind, payload, prev_hash, hash) VALUES "
             "(:incident_id, :seq, :at, :actor, :kind, CAST(:payload AS jsonb), :prev_hash, :hash)"),
        {"incident_id": event.incident_id, "seq": event.seq, "at": event.at, "actor": event.actor,
         "kind": event.kind, "payload": json.dumps(event.payload, ensure_ascii=False, default=str),
         "prev_hash": event.prev_hash, "hash": event.hash},
    )
    session.execute(
        text("UPDATE incident SET event_count = :seq, event_head = :hash WHERE id = :id"),
        {"seq": event.seq, "hash": event.hash, "id": event.incident_id},
    )


def events_of(session: Session, *, incident_id: UUID) -> tuple[list[CaseEvent], str | None]:
    """A case's events in order and its recorded head."""
    rows = session.execute(
        text("SELECT incident_id::text, seq, at, actor, kind, payload, prev_hash, hash FROM case_event "
             "WHERE incident_id = :id ORDER BY seq"),
        {"id": incident_id},
    ).all()
    head = session.execute(text("SELECT event_head FROM incident WHERE id = :id"), {"id": incident_id}).scalar()
    return [CaseEvent(*r) for r in rows], head


def cases_with_events(session: Session) -> list[UUID]:
    """Ids of the cases that have a record, in id order."""
    return [r[0] for r in session.execute(text("SELECT id FROM incident WHERE event_count > 0 ORDER BY id")).all()]


def insert_follow_up(session: Session, *, incident_id: UUID, requested_by: str, township_code: str, task: str,
                     requested_at: datetime, due_at: datetime) -> int:
    return int(session.execute(
        text("INSERT INTO follow_up_task (incident_id, requested_by, township_code, task, requested_at, due_at) "
             "VALUES (:i, :by, :t, :task, :at, :due) RETURNING id"),
        {"i": incident_id, "by": requested_by, "t": township_code, "task": task, "at": requested_at, "due": due_at},
    ).scalar_one())


def lock_follow_up(session: Session, *, task_id: int) -> dict[str, Any] | None:
    row = session.execute(
        text("SELECT id, incident_id, requested_by, township_code, task, due_at, status FROM follow_up_task "
             "WHERE id = :id FOR UPDATE"), {"id": task_id},
    ).first()
    return dict(row._mapping) if row is not None else None


def finish_follow_up(session: Session, *, task_id: int, done_at: datetime, note: str | None) -> None:
    session.execute(
        text("UPDATE follow_up_task SET status = 'done', done_at = :at, done_note = :note WHERE id = :id"),
        {"at": done_at, "note": note, "id": task_id},
    )


def check_ins_frame(session: Session, *, incident_id: UUID) -> Any:
    """A case's assignments with their check-in positions, as a DataFrame (for the dispatch map)."""
    import pandas as pd

    rows = session.execute(text(
        "SELECT department, role, status, summoned_at, report_in_due, reported_in_at, report_in_lon, report_in_lat, "
        "minutes_late FROM assignment WHERE incident_id = :id ORDER BY role DESC, id"), {"id": incident_id}).all()
    columns = ["department", "role", "status", "summoned_at", "report_in_due", "reported_in_at", "report_in_lon",
               "report_in_lat", "minutes_late"]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    for c in ("summoned_at", "report_in_due", "reported_in_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    return frame
