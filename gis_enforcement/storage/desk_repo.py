"""What waits for a township's desk: the counts it acts on, each with the cases behind it. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.orm import Session

#: the items, in the order they are answered (each always present, with a count of 0 when nothing waits)
DESK_ITEMS = ("triage", "classify", "declined", "report_in_overdue", "verify", "follow_ups_open",
              "follow_ups_overdue", "border_reported")

# One row per (item, case[, task]) with the time it is ordered by — the longest waiting first. A case a
# department declined, or several departments left absent past their report-in deadline, is one row.
_ITEMS = """
SELECT 'triage' AS item, i.id AS incident_id, NULL::bigint AS task_id, i.received_at AS at
  FROM incident i WHERE i.township_code = :t AND i.status = 'reported'
UNION ALL
SELECT 'classify', i.id, NULL, i.received_at
  FROM incident i WHERE i.township_code = :t AND i.status = 'reported'
   AND i.category = ANY(CAST(:classify AS text[]))
UNION ALL
SELECT 'declined', a.incident_id, NULL, min(a.summoned_at)
  FROM assignment a JOIN incident i ON i.id = a.incident_id
 WHERE i.township_code = :t AND a.status = 'declined' AND i.status NOT IN ('closed', 'rejected', 'duplicate')
 GROUP BY a.incident_id
UNION ALL
SELECT 'report_in_overdue', a.incident_id, NULL, min(a.report_in_due)
  FROM assignment a JOIN incident i ON i.id = a.incident_id
 WHERE i.township_code = :t AND a.status = 'summoned' AND a.report_in_due < :now
   AND i.status NOT IN ('closed', 'rejected', 'duplicate')
 GROUP BY a.incident_id
UNION ALL
SELECT 'verify', i.id, NULL, i.received_at
  FROM incident i WHERE i.township_code = :t AND i.status = 'resolved'
UNION ALL
SELECT 'follow_ups_open', f.incident_id, f.id, f.due_at
  FROM follow_up_task f WHERE f.township_code = :t AND f.status = 'open'
UNION ALL
SELECT 'follow_ups_overdue', f.incident_id, f.id, f.due_at
  FROM follow_up_task f WHERE f.township_code = :t AND f.status = 'open' AND f.due_at < :now
UNION ALL
SELECT 'border_reported', i.id, NULL, i.received_at
  FROM incident i WHERE i.border_townships <> '{}' AND i.border_townships @> ARRAY[CAST(:t AS text)]
   AND i.township_code IS DISTINCT FROM :t AND i.status = 'reported'
"""
# (the border clause is written as the partial GIN index on border_townships needs it — migration 0011 — since
# an open desk reads this every few seconds)


def desk(session: Session, *, township: str, now: datetime, classify_first: Sequence[str],
         limit: int = 50) -> dict[str, dict[str, Any]]:
    """Per item of :data:`DESK_ITEMS`: ``count`` and, the longest waiting first, at most ``limit`` of
    ``incident_ids`` (for the follow-up items, the case of each of ``task_ids``, in the same order). One
    statement. ``classify_first``: the category codes whose reports wait for the township to name their
    category (类别待定)."""
    rows = session.execute(text(
        "SELECT item, count(*) AS n, "
        "(array_agg(CAST(incident_id AS text) ORDER BY at, incident_id, task_id))[1:CAST(:limit AS int)] "
        "AS incident_ids, "
        "(array_agg(task_id ORDER BY at, incident_id, task_id) FILTER (WHERE task_id IS NOT NULL))"
        "[1:CAST(:limit AS int)] AS task_ids "
        f"FROM ({_ITEMS}) AS items GROUP BY item"),
        {"t": township, "now": now, "classify": list(classify_first), "limit": limit}).all()
    found = {r.item: r for r in rows}
    out: dict[str, dict[str, Any]] = {}
    for item in DESK_ITEMS:
        r = found.get(item)
        ids = [UUID(i) for i in r.incident_ids] if r is not None else []
        out[item] = {"count": int(r.n) if r is not None else 0, "incident_ids": ids,
                     "task_ids": (list(r.task_ids or []) if r is not None else []) if item.startswith("follow")
                     else None}
    return out
