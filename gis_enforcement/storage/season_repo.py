"""Reading a played season back: the records of a set of cases as plain frames (the demo's tables and its
first-whistle story). Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session


def _frame(session: Session, sql: str, params: dict[str, Any], columns: Sequence[str]) -> pd.DataFrame:
    rows = session.execute(text(sql), params).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(columns))


def season_frames(session: Session, *, incident_ids: list[UUID]) -> dict[str, pd.DataFrame]:
    """The cases' assignments, decisive events, statuses, whistles, fines per department, follow-up tasks and
    warnings (on the cases, or on no case), keyed ``assignments``, ``events``, ``cases``, ``whistles``, ``fines``,
    ``tasks``, ``warnings``."""
    p = {"ids": incident_ids}
    return {
        "assignments": _frame(
            session, "SELECT a.id, a.incident_id, a.department, a.role, a.status, a.summoned_at, a.report_in_due, "
            "a.reported_in_at, i.township_code FROM assignment a JOIN incident i ON i.id = a.incident_id "
            "WHERE a.incident_id = ANY(:ids)", p,
            ("id", "incident_id", "department", "role", "status", "summoned_at", "report_in_due", "reported_in_at",
             "township_code")),
        "events": _frame(
            session, "SELECT incident_id, kind, payload->>'department' FROM case_event WHERE incident_id = ANY(:ids) "
            "AND kind IN ('decline', 'overrule', 'resolve', 'release', 'reopen')", p,
            ("incident_id", "kind", "department")),
        "cases": _frame(
            session, "SELECT id, status, township_code, whistled_at, closed_at FROM incident "
            "WHERE id = ANY(:ids) AND status <> 'reported'", p,
            ("id", "status", "township_code", "whistled_at", "closed_at")),
        "whistles": _frame(
            # a township's whistles: a lead department's or the district's joint operation have no township
            session, "SELECT id, CASE WHEN mode = 'township' THEN whistler_unit END, cardinality(incident_ids) "
            "FROM whistle "
            "WHERE incident_ids && CAST(:ids AS uuid[])", p, ("id", "township_code", "n")),
        "fines": _frame(
            session, "SELECT a.department, count(*) FILTER (WHERE e.penalty_amount > 0), "
            "COALESCE(sum(e.penalty_amount), 0) FROM enforcement_record e "
            "JOIN assignment a ON a.id = e.assignment_id WHERE e.incident_id = ANY(:ids) GROUP BY 1", p,
            ("department", "n", "yuan")),
        "tasks": _frame(
            session, "SELECT township_code, status, due_at, done_at FROM follow_up_task WHERE incident_id = ANY(:ids)",
            p, ("township_code", "status", "due_at", "done_at")),
        "warnings": _frame(
            session, "SELECT w.rule_code, w.level, w.subject_kind, w.subject_code, i.township_code FROM warning w "
            "LEFT JOIN incident i ON i.id = w.incident_id "
            "WHERE (w.incident_id = ANY(:ids) OR w.incident_id IS NULL) AND w.withdrawn_at IS NULL",
            p, ("rule", "level", "subject_kind", "subject", "township_code")),
    }


def township_names(session: Session) -> dict[str, str]:
    return {str(c): str(n) for c, n in session.execute(text("SELECT code, name FROM township")).all()}


def first_whistle(session: Session, *, incident_id: UUID) -> tuple[datetime, str] | None:
    """When a case was first whistled, and by whom."""
    row = session.execute(text("SELECT whistled_at, whistler_unit FROM whistle WHERE :id = ANY(incident_ids) "
                               "ORDER BY whistled_at, id LIMIT 1"), {"id": incident_id}).first()
    return (row[0], row[1]) if row is not None else None


def records_of(session: Session, *, incident_id: UUID) -> list[tuple[str, datetime, list[str], Any, str | None]]:
    """A case's enforcement records in time order: department, acted at, measures, penalty, seized items."""
    return [tuple(r) for r in session.execute(text(  # type: ignore[misc]
        "SELECT a.department, e.acted_at, e.measures, e.penalty_amount, e.seized_items FROM enforcement_record e "
        "JOIN assignment a ON a.id = e.assignment_id WHERE e.incident_id = :id ORDER BY e.acted_at, e.id"),
        {"id": incident_id}).all()]


def closed_at(session: Session, *, incident_id: UUID) -> datetime | None:
    row = session.execute(text("SELECT closed_at FROM incident WHERE id = :id"), {"id": incident_id}).first()
    return row[0] if row is not None else None
