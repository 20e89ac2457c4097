"""Reading 部门要求、街乡落实 tasks: the township's (or the asking department's) list. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

#: open tasks first, the soonest due (the most overdue) at the top; then the done ones, the latest due first
FOLLOW_UP_ORDER = ("(t.status = 'open') DESC, CASE WHEN t.status = 'open' THEN t.due_at END ASC, "
                   "t.due_at DESC, t.id DESC")


def list_follow_ups(session: Session, *, now: datetime, township: str | None = None,
                    department: str | None = None, incident_id: UUID | None = None, status: str | None = None,
                    overdue: bool | None = None, limit: int = 100,
                    offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Follow-up tasks matching the filters (None: no restriction), in :data:`FOLLOW_UP_ORDER`, with the total
    that matched. Each row: the task, its case's category, village and township (code and name), ``overdue``
    (open and past due at ``now``) and ``minutes_to_due`` — whole minutes from ``now`` (an open task) or from
    its completion (a done one) to the due time, negative once past it."""
    where: list[str] = []
    params: dict[str, Any] = {"now": now, "limit": limit, "offset": offset}
    for column, name, value in (("t.township_code", "township", township), ("t.requested_by", "dept", department),
                                ("t.incident_id", "incident", incident_id), ("t.status", "status", status)):
        if value is not None:
            where.append(f"{column} = :{name}")
            params[name] = value
    if overdue is not None:
        where.append(("" if overdue else "NOT ") + "(t.status = 'open' AND t.due_at < :now)")
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total = session.execute(text("SELECT count(*) FROM follow_up_task t" + clause), params).scalar_one()
    rows = session.execute(text(
        "SELECT t.id, t.incident_id, i.category, i.village_code, v.name AS village_name, t.township_code, "
        "tw.name AS township_name, t.requested_by AS department, t.task, t.requested_at, t.due_at, t.status, "
        "t.done_at, t.done_note, (t.status = 'open' AND t.due_at < :now) AS overdue, "
        "floor(extract(epoch FROM t.due_at - COALESCE(t.done_at, :now)) / 60)::bigint AS minutes_to_due "
        "FROM follow_up_task t JOIN incident i ON i.id = t.incident_id "
        "LEFT JOIN village v ON v.code = i.village_code LEFT JOIN township tw ON tw.code = t.township_code"
        + clause + " ORDER BY " + FOLLOW_UP_ORDER + " LIMIT :limit OFFSET :offset"), params).all()
    return [dict(r._mapping) for r in rows], int(total)
