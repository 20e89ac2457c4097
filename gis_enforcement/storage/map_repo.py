"""What the status map reads: every case with its place, status and the milestones of its whistle chain.

One row per incident (likely duplicates included — the map shows them greyed), read by ``COPY … TO STDOUT``
so a season of 10⁵ cases comes back in a second. Never commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.storage.copying import copy_out

__all__ = ["case_status_frame", "showcase_dispatch_case"]

_UTC = pa.timestamp("us", tz="UTC")


def case_status_frame(session: Session, *, start: datetime | None = None, end: datetime | None = None,
                      township_code: str | None = None) -> pd.DataFrame:
    """Cases observed in [start, end) (optionally of one township): ``id``, ``lon``, ``lat``, ``category``,
    ``observed_at``, ``status``, ``township_name``, ``village_name``, ``village_distance_m``, ``lead_department``,
    ``flags`` (``;``-joined), ``likely_duplicate_of``, ``accuracy_m``, ``description`` (first 200 characters),
    ``whistled_at``, ``closed_at``, and from the assignments: ``n_summoned``, ``n_reported_in``, ``n_late``
    (reported in after the deadline), ``first_report_in_at`` and ``lead_done_at`` (the lead's result)."""
    clauses = ["TRUE"]
    params: dict[str, Any] = {}
    if start is not None:
        clauses.append("i.observed_at >= %(start)s")
        params["start"] = start
    if end is not None:
        clauses.append("i.observed_at < %(end)s")
        params["end"] = end
    if township_code is not None:
        clauses.append("i.township_code = %(township)s")
        params["township"] = township_code
    select = (
        "SELECT i.id::text AS id, i.lon, i.lat, i.category, i.observed_at, i.status, t.name AS township_name, "
        "v.name AS village_name, i.village_distance_m, i.lead_department, array_to_string(i.flags, ';') AS flags, "
        "i.likely_duplicate_of::text AS likely_duplicate_of, i.accuracy_m, left(i.description, 200) AS description, "
        "i.whistled_at, i.closed_at, COALESCE(a.n_summoned, 0) AS n_summoned, "
        "COALESCE(a.n_reported_in, 0) AS n_reported_in, COALESCE(a.n_late, 0) AS n_late, a.first_report_in_at, "
        "a.lead_done_at "
        "FROM incident i "
        "LEFT JOIN township t ON t.code = i.township_code "
        "LEFT JOIN village v ON v.code = i.village_code "
        "LEFT JOIN (SELECT incident_id, count(*) AS n_summoned, count(reported_in_at) AS n_reported_in, "
        "           count(*) FILTER (WHERE minutes_late > 0) AS n_late, min(reported_in_at) AS first_report_in_at, "
        "           max(done_at) FILTER (WHERE role = 'lead') AS lead_done_at "
        "           FROM assignment GROUP BY incident_id) a ON a.incident_id = i.id "
        f"WHERE {' AND '.join(clauses)} ORDER BY i.observed_at, i.id"
    )
    types = {"lon": pa.float64(), "lat": pa.float64(), "accuracy_m": pa.float64(), "village_distance_m": pa.float64(),
             "observed_at": _UTC,
             "whistled_at": _UTC, "closed_at": _UTC, "first_report_in_at": _UTC, "lead_done_at": _UTC,
             "n_summoned": pa.int64(), "n_reported_in": pa.int64(), "n_late": pa.int64()}
    return copy_out(session, select=select, params=params, types=types)


def showcase_dispatch_case(session: Session) -> UUID | None:
    """The whistled case with the most departments reported in, late ones first (None when nothing was
    whistled): the demo's dispatch map."""
    row = session.execute(text(
        "SELECT incident_id FROM assignment GROUP BY incident_id "
        "ORDER BY count(reported_in_at) DESC, count(*) FILTER (WHERE minutes_late > 0) > 0 DESC, "
        "count(*) DESC, incident_id LIMIT 1")).first()
    return None if row is None else UUID(str(row[0]))
