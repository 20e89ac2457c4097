"""Set-based reads and writes for the bulk whistle chain (:mod:`gis_enforcement.dispatch.bulk`). Never commits.

One statement per step whatever the number of cases: keys travel to the server by COPY into a temporary table
(dropped at commit), rows come back by COPY as CSV through pyarrow, and new rows go in by COPY. Identifiers of
new whistles and assignments are reserved from their sequences first, so the rows can be written by COPY and
still be known to the caller.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.storage.copying import copy_in, copy_out


def _keys(session: Session, name: str, column: str, sqltype: str, values: Sequence[Any]) -> None:
    session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} ({column} {sqltype} PRIMARY KEY) "
                         "ON COMMIT DROP"))
    session.execute(text(f"TRUNCATE {name}"))
    copy_in(session, table=name, frame=pd.DataFrame({column: pd.Series(values).astype(str).unique()}))


_TIMES = {"whistled_at": pa.timestamp("us", tz="UTC"), "summoned_at": pa.timestamp("us", tz="UTC"),
          "report_in_due": pa.timestamp("us", tz="UTC"), "resolution_due": pa.timestamp("us", tz="UTC"),
          "reported_in_at": pa.timestamp("us", tz="UTC")}


def lock_cases_frame(session: Session, *, incident_ids: Sequence[Any]) -> pd.DataFrame:
    """The cases with these ids, locked FOR UPDATE until the transaction ends: ``id`` (text), ``status``,
    ``category``, ``township_code``, ``plan`` (JSON text), ``event_count``, ``event_head``, ``whistled_at``,
    and ``departments``: those already summoned, joined by ``|``."""
    _keys(session, "bulk_case_keys", "id", "uuid", incident_ids)
    session.execute(text("SELECT 1 FROM incident i JOIN bulk_case_keys k ON k.id = i.id ORDER BY i.id "
                         "FOR UPDATE OF i")).all()
    return copy_out(session, select=(
        "SELECT i.id::text AS id, i.status, i.category, i.township_code, r.plan::text AS plan, i.event_count, "
        "i.event_head, i.whistled_at, (SELECT string_agg(a.department, '|') FROM assignment a "
        "WHERE a.incident_id = i.id) AS departments FROM incident i JOIN bulk_case_keys k ON k.id = i.id "
        "LEFT JOIN rule_snapshot r ON r.id = i.rule_snapshot_id"),
        types={"event_count": pa.int64(), "whistled_at": _TIMES["whistled_at"]})


def reserve_ids(session: Session, *, sequence: str, n: int) -> list[int]:
    """``n`` fresh values of ``sequence`` (for rows written by COPY with their id)."""
    if n == 0:
        return []
    return [int(r[0]) for r in session.execute(
        text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"), {"seq": sequence, "n": n}).all()]


def lock_assignments_frame(session: Session, *, positions: pd.DataFrame) -> pd.DataFrame:
    """Assignments named in ``positions`` (``assignment_id``, ``lon``, ``lat``), locked with their cases:
    ``assignment_id``, ``incident_id`` (text), ``department``, ``role``, ``status``, ``summoned_at``,
    ``report_in_due``, ``reported_in_at`` and ``minutes_late`` (of a report-in already recorded), ``category``, and
    ``distance_m`` from the case to the given position (PostGIS
    geography, the same measure as a single report-in)."""
    session.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS bulk_positions (assignment_id bigint PRIMARY KEY, "
                         "lon float8, lat float8) ON COMMIT DROP"))
    session.execute(text("TRUNCATE bulk_positions"))
    copy_in(session, table="bulk_positions", frame=positions[["assignment_id", "lon", "lat"]])
    session.execute(text("SELECT 1 FROM incident i JOIN assignment a ON a.incident_id = i.id "
                         "JOIN bulk_positions p ON p.assignment_id = a.id ORDER BY i.id FOR UPDATE OF i, a")).all()
    return copy_out(session, select=(
        "SELECT a.id AS assignment_id, a.incident_id::text AS incident_id, a.department, a.role, a.status, "
        "a.summoned_at, a.report_in_due, a.reported_in_at, a.minutes_late, i.category, ST_Distance(i.geom::geography, "
        "ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)::geography) AS distance_m "
        "FROM bulk_positions p JOIN assignment a ON a.id = p.assignment_id JOIN incident i ON i.id = a.incident_id"),
        types={"assignment_id": pa.int64(), "distance_m": pa.float64(), "minutes_late": pa.float64(), **_TIMES})


def lead_assignments_frame(session: Session, *, incident_ids: Sequence[Any]) -> pd.DataFrame:
    """The lead assignment of each of these cases (locked with the case): ``assignment_id``, ``incident_id``,
    ``department``, ``status``."""
    _keys(session, "bulk_lead_keys", "id", "uuid", incident_ids)
    session.execute(text("SELECT 1 FROM incident i JOIN bulk_lead_keys k ON k.id = i.id "
                         "JOIN assignment a ON a.incident_id = i.id AND a.role = 'lead' ORDER BY i.id "
                         "FOR UPDATE OF i, a")).all()
    return copy_out(session, select=(
        "SELECT a.id AS assignment_id, a.incident_id::text AS incident_id, a.department, a.status "
        "FROM assignment a JOIN bulk_lead_keys k ON k.id = a.incident_id WHERE a.role = 'lead'"),
        types={"assignment_id": pa.int64()})


def update_from(session: Session, *, table: str, key: str, frame: pd.DataFrame, casts: dict[str, str]) -> int:
    """``UPDATE table SET col = v.col … FROM`` the rows of ``frame`` (matched on ``key``); ``casts`` gives each
    column's SQL type. One COPY and one statement."""
    if frame.empty:
        return 0
    tmp = f"bulk_update_{table}"
    cols = ", ".join(f"{c} {t}" for c, t in casts.items())
    session.execute(text(f"DROP TABLE IF EXISTS {tmp}"))  # the columns differ from one update to the next
    session.execute(text(f"CREATE TEMPORARY TABLE {tmp} ({cols}) ON COMMIT DROP"))
    copy_in(session, table=tmp, frame=frame[list(casts)])
    sets = ", ".join(f"{c} = v.{c}" for c in casts if c != key)
    result = session.execute(text(f"UPDATE {table} t SET {sets} FROM {tmp} v WHERE t.{key} = v.{key}"))
    return int(result.rowcount)  # type: ignore[attr-defined]


def append_events(session: Session, *, events: pd.DataFrame) -> int:
    """COPY events (``incident_id``, ``seq``, ``at``, ``actor``, ``kind``, ``payload`` as JSON text,
    ``prev_hash``, ``hash``) into the case record; the caller moves the heads with :func:`update_from`."""
    return copy_in(session, table="case_event", frame=events[
        ["incident_id", "seq", "at", "actor", "kind", "payload", "prev_hash", "hash"]])


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
