"""Incidents in PostGIS: bulk COPY in, idempotency keys, duplicate candidates, reads and filtered lists."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg2.errors
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from gis_enforcement.domain.access import IncidentScope
from gis_enforcement.domain.enums import CaseStatus, Role
from gis_enforcement.domain.records import Incident, PlanItem, ZoneRef
from gis_enforcement.errors import ConcurrentIntake
from gis_enforcement.storage import binary_copy
from gis_enforcement.storage.copying import copy_binary, copy_out, raw_cursor
from gis_enforcement.storage.dispatch_repo import paused_s, resolved_at
from gis_enforcement.storage.tables import INCIDENT_COPY_COLUMNS
from gis_enforcement.storage.tables import incident as incident_table


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """Filters for listing and exporting incidents; every field optional."""

    bbox: tuple[float, float, float, float] | None = None
    category: str | None = None
    township: str | None = None
    status: str | None = None
    statuses: tuple[str, ...] | None = None  # any of these statuses (with ``status`` too: both must hold)
    scope: IncidentScope | None = None  # the caller's cases only (see gis_enforcement.domain.access)
    department: str | None = None  # cases this department was summoned to
    observed_from: datetime | None = None
    observed_to: datetime | None = None
    flag: str | None = None  # one location flag the case carries (outside_district, near_border …)


#: The fields a client sends: two submissions with the same id are "the same" when all of these are equal.
CONTENT_COLUMNS = ("category", "raw_lon", "raw_lat", "raw_crs", "accuracy_m", "observed_at", "reporter",
                   "description", "track_id")
#: the category a stored incident was *sent* with (SQL over the incident's columns): the one it was filed under
#: when its township named another since (改类), so a phone re-sending it is the same submission
SENT_CATEGORY = "COALESCE(reported_category, category)"


#: From this many ids, the key table of ``stored_content`` is analysed before the join: without statistics the
#: planner takes it for small and hashes the incidents instead (3.1 s against 1.4 s for a million). A few ids
#: (a phone's FeatureCollection) are looked up by the primary key either way, without the ANALYZE's cost.
ANALYZE_KEYS_MIN = 10_000


def stored_content(session: Session, *, ids: Sequence[str] | pd.Series) -> pd.DataFrame:
    """The submitted content of those ``ids`` (canonical uuid strings) that are already stored: one row each,
    ``pos`` — the id's position in ``ids`` — then ``CONTENT_COLUMNS``, in no particular order.

    The ids travel by binary COPY, with their positions, into a temporary table, which a large batch analyses
    (``ANALYZE_KEYS_MIN``) so that the planner hashes the smaller side; they meet the incidents in one join, and
    the matches come back by COPY as well — re-sending a file of a million rows is a bulk operation both ways.
    Into an empty table (a first load) nothing travels.
    """
    columns = ["pos", *CONTENT_COLUMNS]
    if len(ids) == 0 or not session.execute(text("SELECT EXISTS (SELECT 1 FROM incident)")).scalar_one():
        return pd.DataFrame(columns=columns)
    session.execute(text("CREATE TEMP TABLE IF NOT EXISTS _intake_ids (id uuid, pos bigint) ON COMMIT DROP"))
    session.execute(text("TRUNCATE _intake_ids"))
    keys = pd.DataFrame({"id": pd.Series(ids).reset_index(drop=True), "pos": np.arange(len(ids), dtype=np.int64)})
    names, data = binary_copy.frame_bytes(keys, {"id": "uuid", "pos": "int8"})
    copy_binary(session, table="_intake_ids", columns=names, data=data)
    if len(ids) >= ANALYZE_KEYS_MIN:
        session.execute(text("ANALYZE _intake_ids"))
    select = (
        f"SELECT k.pos, {SENT_CATEGORY} AS category, i.raw_lon, i.raw_lat, i.raw_crs, "  # no column of k is named so
        "i.accuracy_m, (extract(epoch FROM i.observed_at) * 1000000)::bigint AS observed_us, i.reporter, "
        "i.description, i.track_id FROM _intake_ids k JOIN incident i ON i.id = k.id"
    )
    buf = io.BytesIO()
    with raw_cursor(session) as cur:
        cur.copy_expert(f"COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf, size=1 << 20)
    buf.seek(0)
    text_cols = ("category", "raw_crs", "reporter", "description", "track_id")
    table = pacsv.read_csv(
        buf,
        convert_options=pacsv.ConvertOptions(
            column_types={**{c: pa.string() for c in text_cols}, "pos": pa.int64(), "raw_lon": pa.float64(),
                          "raw_lat": pa.float64(), "accuracy_m": pa.float64(), "observed_us": pa.int64()},
            strings_can_be_null=True, quoted_strings_can_be_null=False,
        ),
    )
    frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
    frame["observed_at"] = pd.to_datetime(frame.pop("observed_us"), unit="us", utc=True)
    return frame[columns]


def nearby_incidents(
    session: Session,
    *,
    categories: Sequence[str],
    bbox: tuple[float, float, float, float],
    start: datetime,
    end: datetime,
) -> pd.DataFrame:
    """Stored incidents of ``categories`` inside ``bbox`` observed in [start, end] — duplicate candidates,
    earliest first (two candidates at the same distance: the earlier one is the original). ``observed_at`` is
    UTC to the microsecond. The rows come back by COPY: a large batch may have every stored incident of its
    season for a candidate."""
    return _candidates(
        session, time_column="observed_at", condition="TRUE", categories=categories, bbox=bbox, start=start, end=end)


def closed_cases_near(
    session: Session,
    *,
    categories: Sequence[str],
    bbox: tuple[float, float, float, float],
    closed_from: datetime,
    closed_to: datetime,
) -> pd.DataFrame:
    """Closed cases of ``categories`` inside ``bbox`` that closed in [closed_from, closed_to] — the cases a new
    incident may be a recurrence of (earliest closure first, so that ties resolve the same way every time)."""
    return _candidates(session, time_column="closed_at", condition="status = 'closed'", categories=categories,
                       bbox=bbox, start=closed_from, end=closed_to)


def _candidates(session: Session, *, time_column: str, condition: str, categories: Sequence[str],
                bbox: tuple[float, float, float, float], start: datetime, end: datetime) -> pd.DataFrame:
    """``id, category, lon, lat, <time_column>`` of the incidents meeting ``condition`` with ``time_column`` in
    [start, end] inside ``bbox``, ordered by that time, then id."""
    select = (
        f"SELECT id::text AS id, category, lon, lat, "
        f"(extract(epoch FROM {time_column}) * 1000000)::bigint AS time_us FROM incident "
        f"WHERE {condition} AND category = ANY(%(cats)s::text[]) AND {time_column} BETWEEN %(start)s AND %(end)s "
        f"AND geom && ST_MakeEnvelope(%(x0)s, %(y0)s, %(x1)s, %(y1)s, 4326) ORDER BY {time_column}, id"
    )
    frame = copy_out(session, select=select, params={
        "cats": list(categories), "start": start, "end": end,
        "x0": bbox[0], "y0": bbox[1], "x1": bbox[2], "y1": bbox[3],
    }, types={"lon": pa.float64(), "lat": pa.float64(), "time_us": pa.int64()})
    frame[time_column] = pd.to_datetime(frame.pop("time_us"), unit="us", utc=True)
    return frame[["id", "category", "lon", "lat", time_column]]


def ensure_rule_snapshots(session: Session, *, snapshots: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Store each rule snapshot once (keyed by its digest) and return digest → id for all of them."""
    if not snapshots:
        return {}
    session.execute(
        text(
            "INSERT INTO rule_snapshot (digest, catalog_version, rule_code, category, zone_kind, "
            "lead_department, plan, legal_basis, measures) VALUES (:digest, :catalog_version, :rule_code, "
            ":category, :zone_kind, :lead_department, CAST(:plan AS jsonb), CAST(:legal_basis AS jsonb), "
            ":measures) ON CONFLICT (digest) DO NOTHING"
        ),
        [
            {**s, "plan": json.dumps(s["plan"], ensure_ascii=False),
             "legal_basis": json.dumps(s["legal_basis"], ensure_ascii=False)}
            for s in snapshots
        ],
    )
    rows = session.execute(
        text("SELECT digest, id FROM rule_snapshot WHERE digest = ANY(:d)"),
        {"d": [s["digest"] for s in snapshots]},
    ).all()
    return {r[0]: int(r[1]) for r in rows}


def create_batch(
    session: Session, *, source: str | None, submitted: int, accepted: int, already_stored: int,
    rejected: int, report: dict[str, Any],
) -> int:
    """Record one intake batch (what came in, what was accepted, what was refused and why)."""
    return int(
        session.execute(
            text(
                "INSERT INTO ingest_batch (source, submitted, accepted, already_stored, rejected, report) "
                "VALUES (:source, :submitted, :accepted, :already_stored, :rejected, CAST(:report AS jsonb)) "
                "RETURNING id"
            ),
            {"source": source, "submitted": submitted, "accepted": accepted, "already_stored": already_stored,
             "rejected": rejected, "report": json.dumps(report, ensure_ascii=False, default=str)},
        ).scalar_one()
    )


COPY_CHUNK_ROWS = 50_000


def copy_incidents(
    session: Session, *, frame: pd.DataFrame, on_rows: Callable[[int], None] | None = None, by_id: bool = False,
) -> int:
    """Bulk-insert incidents with binary COPY. ``frame`` holds ``INCIDENT_COPY_COLUMNS``: times tz-aware, ids
    as uuid strings, and in the array columns a tuple of strings (or None, the empty array) per row. Returns
    the number of rows written. ``on_rows`` is told the rows written so far: 0 before the first chunk, then
    after each chunk.

    Columns of a chunk that hold only their default (NULL, or the empty array) are left to the server. The rows
    go in chunks, and the next chunk is encoded on a worker thread while the server ingests the current one (Arrow,
    numpy and libpq release the GIL), so client and server work overlap on two cores. With ``by_id`` the rows
    go in the order of their ids, which the primary key then takes as appends at its right edge instead of
    inserts all over it.
    """
    missing = [c for c in INCIDENT_COPY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"copy_incidents: missing columns {missing}")
    if len(frame) == 0:
        return 0
    frame = frame[list(INCIDENT_COPY_COLUMNS)]
    kinds = dict(zip(INCIDENT_COPY_COLUMNS, binary_copy.kinds_of(incident_table, INCIDENT_COPY_COLUMNS), strict=True))
    order = None
    if by_id:
        order = binary_copy.uuid_order(pa.array(frame["id"], type=pa.string(), from_pandas=True))
    starts = range(0, len(frame), COPY_CHUNK_ROWS)

    def chunk_rows(start: int) -> tuple[list[str], bytes]:  # on the worker: gathering the rows is work too
        part = frame.iloc[start:start + COPY_CHUNK_ROWS] if order is None \
            else frame.iloc[order[start:start + COPY_CHUNK_ROWS]]
        return binary_copy.frame_bytes(part, kinds)

    written = 0
    if on_rows is not None:
        on_rows(written)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(chunk_rows, starts[0])
        for start, nxt in zip(starts, [*starts[1:], None], strict=True):
            columns, data = pending.result()
            if nxt is not None:
                pending = pool.submit(chunk_rows, nxt)
            copy_binary(session, table="incident", columns=columns, data=data)
            written = min(start + COPY_CHUNK_ROWS, len(frame))
            if on_rows is not None:
                on_rows(written)
    return len(frame)


def estimated_count(session: Session) -> int:
    """The planner's estimate of the rows in ``incident`` (0 for a table never analysed): free, and close
    enough to choose how to write a batch."""
    return max(0, int(session.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = 'incident'::regclass")).scalar_one()))


def secondary_indexes(session: Session) -> list[tuple[str, str]]:
    """The indexes of ``incident`` that back no constraint, enforce no uniqueness and cover every row, as (name,
    definition), in name order — the indexes a bulk load may drop and build again. The primary key stays, and
    so would any unique index, so that every row is checked as it goes in. Partial indexes stay too: each holds
    the rows of a rare state (closed cases, recurrences, points near a border, cases filed by a signed-in
    user), so building one scans the whole table for a few rows, where filling it costs a new row one test of
    its condition (``docs/benchmarks.md``)."""
    rows = session.execute(text(
        "SELECT c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
        "WHERE x.indrelid = 'incident'::regclass AND NOT x.indisunique AND x.indpred IS NULL "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) ORDER BY c.relname"
    )).all()
    return [(str(r[0]), str(r[1])) for r in rows]


#: How long a bulk load waits for readers to let go of ``incident`` before it writes row by row instead.
REBUILD_LOCK_WAIT_MS = 5_000


def lock_for_rebuild(session: Session, *, wait_ms: int) -> bool:
    """Take ``incident`` for this transaction alone (readers wait until it ends), waiting at most ``wait_ms``
    for transactions that are reading or writing it; False, with nothing locked, when they hold it longer.
    The session's ``lock_timeout`` is as it was afterwards."""
    before = session.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
    try:
        with session.begin_nested():
            session.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": f"{int(wait_ms)}ms"})
            session.execute(text("LOCK TABLE incident IN ACCESS EXCLUSIVE MODE"))
    except OperationalError as exc:
        if getattr(exc.orig, "pgcode", None) != "55P03":  # lock_not_available
            raise
        return False
    finally:
        session.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": before})
    return True


def drop_indexes(session: Session, indexes: Sequence[tuple[str, str]]) -> None:
    """Drop these indexes of ``incident`` (from :func:`secondary_indexes`). This locks the table against
    readers and writers until the transaction ends; a rollback brings the indexes back."""
    for name, _ in indexes:
        session.execute(text(f'DROP INDEX "{name}"'))


def build_indexes(session: Session, indexes: Sequence[tuple[str, str]],
                  on_index: Callable[[int, int], None] | None = None) -> None:
    """Build again the indexes :func:`drop_indexes` dropped, under the same names and definitions, each from
    one sorted pass over the table. ``on_index`` is told (built, total) before each and at the end."""
    for i, (_, definition) in enumerate(indexes):
        if on_index is not None:
            on_index(i, len(indexes))
        session.execute(text(definition))
    if on_index is not None:
        on_index(len(indexes), len(indexes))


def store_batch(
    session: Session, *, source: str | None, submitted: int, already_stored: int, rejected: int,
    report: dict[str, Any], incidents: pd.DataFrame, on_rows: Callable[[int], None] | None = None,
    rebuild_indexes: bool = False, on_index: Callable[[int, int], None] | None = None,
) -> int:
    """Record an intake batch and COPY its incidents, together, inside a savepoint; returns the batch id.
    ``on_rows`` is told the rows written so far (``copy_incidents``).

    With ``rebuild_indexes`` the secondary indexes are dropped before the COPY and built again after it, and
    the rows go in id order: far less work than filling every index row by row when the batch is as large as
    what is stored, but the table is locked against readers until the transaction ends. When other
    transactions keep the table longer than ``REBUILD_LOCK_WAIT_MS`` (a report being read, a dispatcher's
    update), the batch fills the indexes instead of queueing every later reader behind it. ``on_index`` is told
    the progress of the rebuild (``build_indexes``).

    When another transaction stored one of the same ids after our idempotency check (two phones retrying at
    once), the savepoint is rolled back and ``ConcurrentIntake`` raised — the caller's transaction stays usable
    and a second check will find the stored incident.
    """
    try:
        with session.begin_nested():
            batch_id = create_batch(session, source=source, submitted=submitted, accepted=len(incidents),
                                    already_stored=already_stored, rejected=rejected, report=report)
            rebuild = rebuild_indexes and lock_for_rebuild(session, wait_ms=REBUILD_LOCK_WAIT_MS)
            indexes = secondary_indexes(session) if rebuild else []
            drop_indexes(session, indexes)
            copy_incidents(session, frame=incidents.assign(batch_id=np.int64(batch_id)), on_rows=on_rows,
                           by_id=rebuild)
            if rebuild:
                build_indexes(session, indexes, on_index)
    except (IntegrityError, psycopg2.errors.UniqueViolation) as exc:
        if getattr(getattr(exc, "orig", exc), "pgcode", None) != "23505":
            raise
        raise ConcurrentIntake(
            "an incident with one of these ids was stored by another request at the same moment; send again",
            field="id",
        ) from exc
    return batch_id


_SELECT_FROM = """
SELECT i.id, i.category, i.observed_at, i.received_at, i.lon, i.lat, i.accuracy_m, i.raw_lon, i.raw_lat,
       i.raw_crs, i.reporter, i.description, i.status, i.township_code, t.name AS township_name,
       i.village_code, v.name AS village_name, i.village_distance_m, i.grid_code,
       COALESCE((SELECT json_agg(json_build_object('kind', z.kind, 'code', z.code, 'name', z.name)
                                 ORDER BY z.kind, z.code)
                 FROM zone z WHERE z.code = ANY(i.zone_codes)), '[]'::json)::text AS zones,
       i.flags, i.border_townships, i.nearest_township_code, i.nearest_township_distance_m,
       r.rule_code, r.plan::text AS plan, i.likely_duplicate_of, i.duplicate_distance_m, i.photos, i.track_id,
       i.recurrence_of, i.recurrence_distance_m, i.reported_category
FROM {source} i
LEFT JOIN township t ON t.code = i.township_code
LEFT JOIN village v ON v.code = i.village_code
LEFT JOIN rule_snapshot r ON r.id = i.rule_snapshot_id
"""
_SELECT = _SELECT_FROM.format(source="incident")


def select_incidents_from(source: str) -> str:
    """The SELECT whose rows ``to_incident`` reads, over ``source`` (a table or a CTE of incident rows)."""
    return _SELECT_FROM.format(source=source)


@lru_cache(maxsize=4096)
def _zones(text_: str) -> tuple[ZoneRef, ...]:
    return tuple(ZoneRef(**z) for z in json.loads(text_))


@lru_cache(maxsize=4096)
def _plan(text_: str | None) -> tuple[PlanItem, ...]:
    return tuple(PlanItem(p["department"], Role(p["role"]), p["report_in_minutes"], p.get("resolution_hours"))
                 for p in json.loads(text_ or "[]"))


def to_incident(row: Any) -> Incident:
    """A row of ``select_incidents_from`` (a SQLAlchemy row, or a mapping of its columns) as the domain
    record. The zones and the plan come as JSON text: a page of cases holds few distinct zone sets and rule
    plans, each decoded once (``_zones``, ``_plan``; the records are immutable) rather than once a row."""
    m = row._mapping if hasattr(row, "_mapping") else row
    extra: dict[str, Any] = {}
    if m["nearest_township_code"] is not None:
        extra["nearest_township_code"] = m["nearest_township_code"]
        extra["nearest_township_distance_m"] = m["nearest_township_distance_m"]
    return Incident(
        id=m["id"], category=m["category"], observed_at=m["observed_at"], received_at=m["received_at"],
        lon=m["lon"], lat=m["lat"], accuracy_m=m["accuracy_m"], raw_lon=m["raw_lon"], raw_lat=m["raw_lat"],
        raw_crs=m["raw_crs"], reporter=m["reporter"], description=m["description"],
        status=CaseStatus(m["status"]), township_code=m["township_code"], township_name=m["township_name"],
        village_code=m["village_code"], village_name=m["village_name"],
        village_distance_m=m["village_distance_m"], grid_code=m["grid_code"],
        zones=_zones(m["zones"]), flags=tuple(m["flags"]),
        border_townships=tuple(m["border_townships"]), rule_code=m["rule_code"], plan=_plan(m["plan"]),
        duplicate_of=m["likely_duplicate_of"], duplicate_distance_m=m["duplicate_distance_m"],
        photos=tuple(m["photos"]), track_id=m["track_id"], recurrence_of=m["recurrence_of"],
        recurrence_distance_m=m["recurrence_distance_m"], reported_category=m["reported_category"], extra=extra,
    )


def scope_clause(scope: IncidentScope, alias: str = "i") -> tuple[str, dict[str, Any]]:
    """SQL (named parameters) keeping the incidents ``alias`` of a caller's scope; its restrictions are
    alternatives (a township's own cases OR those near its border)."""
    alts: list[str] = []
    params: dict[str, Any] = {}
    if scope.townships is not None:
        alts.append(f"{alias}.township_code = ANY(CAST(:scope_towns AS text[]))")
        params["scope_towns"] = list(scope.townships)
    if scope.border_of is not None:
        # "<> '{}'" (an empty list overlaps nothing) lets the planner use the partial index of the border cases
        alts.append(f"({alias}.border_townships <> '{{}}' "
                    f"AND {alias}.border_townships && CAST(:scope_border AS text[]))")
        params["scope_border"] = list(scope.border_of)
    if scope.departments is not None:
        team = "" if scope.team_township is None else " AND sa.township_code = :scope_team"
        alts.append(f"EXISTS (SELECT 1 FROM assignment sa WHERE sa.incident_id = {alias}.id "
                    f"AND sa.department = ANY(CAST(:scope_depts AS text[])){team})")
        params["scope_depts"] = list(scope.departments)
        if scope.team_township is not None:
            params["scope_team"] = scope.team_township
    if scope.created_by is not None:
        alts.append(f"{alias}.created_by = :scope_by")
        params["scope_by"] = scope.created_by
    return "(" + (" OR ".join(alts) or "FALSE") + ")", params


def township_codes(session: Session, township: str) -> tuple[str, ...]:
    """The township codes a ``township`` filter asks for: the townships of that code or that name, or the text
    itself when it names none (cases keep their code when the layer they were placed on is replaced)."""
    codes = session.execute(text("SELECT code FROM township WHERE code = :t OR name = :t ORDER BY code"),
                            {"t": township}).scalars().all()
    return tuple(codes) or (township,)


def _where(f: IncidentFilter, towns: tuple[str, ...] | None = None) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of ``f``; ``towns`` are the codes its township filter asks for (``township_codes``)."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if f.bbox is not None:
        clauses.append("i.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)")
        params.update(dict(zip(("x0", "y0", "x1", "y1"), f.bbox, strict=True)))
    if f.township is not None:
        if towns is None:
            raise ValueError("_where: a township filter needs its codes (township_codes)")
        # one code is an equality, so that the (township, status, time) index gives the newest cases first
        if len(towns) == 1:
            clauses.append("i.township_code = :township")
            params["township"] = towns[0]
        else:
            clauses.append("i.township_code = ANY(CAST(:townships AS text[]))")
            params["townships"] = list(towns)
    for name in ("status", "category"):
        if getattr(f, name) is not None:
            clauses.append(f"i.{name} = :{name}")
            params[name] = getattr(f, name)
    if f.statuses is not None:
        clauses.append("i.status = ANY(CAST(:statuses AS text[]))")
        params["statuses"] = list(f.statuses)
    if f.department is not None:
        clauses.append("EXISTS (SELECT 1 FROM assignment fa WHERE fa.incident_id = i.id AND fa.department = :dept)")
        params["dept"] = f.department
    if f.flag is not None:
        clauses.append("CAST(:flag AS text) = ANY(i.flags)")
        params["flag"] = f.flag
    if f.scope is not None and not f.scope.everything and not _scope_implied(f.scope, towns):
        clause, scope_params = scope_clause(f.scope)
        clauses.append(clause)
        params.update(scope_params)
    if f.observed_from is not None:
        clauses.append("i.observed_at >= :t0")
        params["t0"] = f.observed_from
    if f.observed_to is not None:
        clauses.append("i.observed_at < :t1")
        params["t1"] = f.observed_to
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _scope_implied(scope: IncidentScope, towns: tuple[str, ...] | None) -> bool:
    """Whether the township filter keeps only cases of the scope: every township it asks for is one of the
    scope's own (its restrictions are alternatives, so a case of one of them is in scope). A dispatcher's list
    of their own township then needs no scope test, which would read every matching row from the table."""
    return towns is not None and scope.townships is not None and set(towns) <= set(scope.townships)


def get_incident(session: Session, *, incident_id: UUID) -> Incident | None:
    row = session.execute(text(_SELECT + " WHERE i.id = :id"), {"id": incident_id}).first()
    return to_incident(row) if row is not None else None


def reports_course(session: Session, *, created_by: str, limit: int) -> list[dict[str, Any]]:
    """What became of the newest ``limit`` incidents ``created_by`` filed, newest received first: each
    incident's id, status, observation, whistle and close times, likely duplicate (with that report's
    observation time) and recurrence, and ``departments``: its assignments (department, role, status,
    summoned, reported in and done times), the lead first."""
    rows = session.execute(text("""
        SELECT i.id, i.status, i.observed_at, i.whistled_at, i.closed_at, i.likely_duplicate_of,
               i.duplicate_distance_m, d.observed_at AS duplicate_observed_at, i.recurrence_of,
               i.recurrence_distance_m
        FROM incident i LEFT JOIN incident d ON d.id = i.likely_duplicate_of
        WHERE i.created_by = :by ORDER BY i.received_at DESC, i.observed_at DESC, i.id LIMIT :limit
    """), {"by": created_by, "limit": limit}).mappings().all()
    cases = [{**r, "departments": []} for r in rows]
    if not cases:
        return cases
    by_id = {c["id"]: c for c in cases}
    for a in session.execute(text("""
        SELECT incident_id, department, role, status, summoned_at, reported_in_at, done_at
        FROM assignment WHERE incident_id = ANY(CAST(:ids AS uuid[]))
        ORDER BY incident_id, role = 'lead' DESC, summoned_at, id
    """), {"ids": [str(i) for i in by_id]}).mappings():
        by_id[a["incident_id"]]["departments"].append({k: v for k, v in a.items() if k != "incident_id"})
    return cases


def list_statements(filters: IncidentFilter, towns: tuple[str, ...] | None = None) -> tuple[str, str, dict[str, Any]]:
    """The two statements of ``list_incidents``: the total, and the page (``:limit`` and ``:offset`` still to
    bind), with their parameters; ``towns`` as ``_where`` takes them.

    The page's ids are chosen first, reading only what the filter needs — with a township and a status, the
    township list index alone, newest first — and only those rows are then read and joined to the names and
    rules. With 10^4 matching cases, reading them all to sort them took most of a list's time."""
    where, params = _where(filters, towns)
    count = "SELECT count(*) FROM incident i" + where
    page = ("WITH ids AS (SELECT i.id FROM incident i" + where
            + " ORDER BY i.observed_at DESC, i.id LIMIT :limit OFFSET :offset), "
            + "page AS (SELECT i.* FROM incident i JOIN ids ON ids.id = i.id) "
            + select_incidents_from("page") + " ORDER BY i.observed_at DESC, i.id")
    return count, page, params


def list_incidents(
    session: Session, *, filters: IncidentFilter, limit: int = 100, offset: int = 0
) -> tuple[list[Incident], int]:
    """A page of incidents matching ``filters`` (newest observation first) and the total count."""
    towns = township_codes(session, filters.township) if filters.township is not None else None
    count, page, params = list_statements(filters, towns)
    total = session.execute(text(count), params).scalar_one()
    rows = session.execute(text(page), {**params, "limit": limit, "offset": offset}).all()
    return [to_incident(r) for r in rows], int(total)


#: What :func:`incidents_frame` adds with ``outcome=True``: the case's course after the report. The lead is the
#: case's earliest lead assignment that was not declined or released (else its earliest); its report-in is
#: on time when made by its due time, late when made after it or not made once it passed; the case is resolved
#: on time when its standing resolution — the clock stopped while a resolution stood before a reopening, as
#: escalation counts it — came by the lead's resolution deadline, late when it came after it or the case is
#: still open past it. Unknown (null) while the time has not come, or without a lead or deadline.
_OUTCOME = """
    , i.whistled_at,
    ev.resolved_at,
    i.closed_at, COALESCE(asg.summoned_count, 0) AS summoned_count, asg.summoned_departments,
    asg.lead_report_in_due, asg.lead_reported_in_at,
    CASE WHEN asg.lead_reported_in_at IS NOT NULL THEN asg.lead_reported_in_at <= asg.lead_report_in_due
         WHEN asg.lead_stood_down OR asg.lead_report_in_due IS NULL THEN NULL
         WHEN asg.lead_report_in_due < now() THEN false END AS lead_reported_in_on_time,
    asg.lead_resolution_due,
    CASE WHEN asg.lead_resolution_due IS NULL THEN NULL
         WHEN ev.resolved_at IS NOT NULL THEN ev.resolved_at - ev.paused <= asg.lead_resolution_due
         WHEN i.status IN ('whistled', 'in_action', 'reopened') AND now() - COALESCE(ev.paused, interval '0')
              > asg.lead_resolution_due THEN false END AS resolved_on_time
"""
# per case, by the (incident_id, department) and (incident_id, seq) keys: the cost follows the rows exported
_OUTCOME_JOINS = """
    LEFT JOIN LATERAL (
        SELECT count(*) AS summoned_count,
               string_agg(a.department, ';' ORDER BY a.role = 'lead' DESC, a.summoned_at, a.id) AS summoned_departments,
               (array_agg(a.report_in_due ORDER BY a.status IN ('declined', 'released'), a.id)
                    FILTER (WHERE a.role = 'lead'))[1] AS lead_report_in_due,
               (array_agg(a.reported_in_at ORDER BY a.status IN ('declined', 'released'), a.id)
                    FILTER (WHERE a.role = 'lead'))[1] AS lead_reported_in_at,
               (array_agg(a.resolution_due ORDER BY a.status IN ('declined', 'released'), a.id)
                    FILTER (WHERE a.role = 'lead'))[1] AS lead_resolution_due,
               (array_agg(a.status IN ('declined', 'released') ORDER BY a.status IN ('declined', 'released'), a.id)
                    FILTER (WHERE a.role = 'lead'))[1] AS lead_stood_down
        FROM assignment a WHERE a.incident_id = i.id
    ) asg ON true
    LEFT JOIN LATERAL (
        SELECT {resolved} AS resolved_at, make_interval(secs => {paused}) AS paused
    ) ev ON true
""".format(resolved=resolved_at("i"), paused=paused_s("i.id"))  # the escalation pass's own reading (W02, W05)

#: The columns ``outcome=True`` adds, in order (times aware; the on-time columns true, false or null).
OUTCOME_COLUMNS = ("whistled_at", "resolved_at", "closed_at", "summoned_count", "summoned_departments",
                   "lead_report_in_due", "lead_reported_in_at", "lead_reported_in_on_time", "lead_resolution_due",
                   "resolved_on_time")


def incidents_frame(session: Session, *, filters: IncidentFilter | None = None,
                    outcome: bool = False) -> gpd.GeoDataFrame:
    """Stored incidents as a flat GeoDataFrame (EPSG:4326) for export and maps. With ``outcome``, each case's
    course as well (:data:`OUTCOME_COLUMNS`, before ``lon``/``lat``): when it was whistled, resolved (its
    standing resolution; none while reopened) and closed, the departments summoned (codes, ``;``-joined, the
    lead first) and how many, and its lead's report-in and resolution against their deadlines (see
    ``_OUTCOME``)."""
    f = filters or IncidentFilter()
    where, params = _where(f, township_codes(session, f.township) if f.township is not None else None)
    sql = f"""
    SELECT i.id::text AS id, i.category, i.reported_category, i.observed_at, i.received_at, i.accuracy_m,
           i.raw_lon, i.raw_lat, i.raw_crs, i.reporter, i.description, i.status, i.township_code,
           t.name AS township_name, i.village_code, v.name AS village_name, i.village_distance_m, i.grid_code,
           array_to_string(i.zone_codes, ';') AS zone_codes, array_to_string(i.flags, ';') AS flags,
           array_to_string(i.border_townships, ';') AS border_townships, r.rule_code, i.lead_department,
           i.likely_duplicate_of::text AS likely_duplicate_of, i.duplicate_distance_m
           {_OUTCOME if outcome else ""}, i.lon, i.lat, i.geom
    FROM incident i
    LEFT JOIN township t ON t.code = i.township_code
    LEFT JOIN village v ON v.code = i.village_code
    LEFT JOIN rule_snapshot r ON r.id = i.rule_snapshot_id
    {_OUTCOME_JOINS if outcome else ""}
    {where} ORDER BY i.observed_at, i.id
    """
    frame = gpd.read_postgis(text(sql), session.connection(), geom_col="geom", params=params)
    return frame.rename_geometry("geometry").set_crs(4326, allow_override=True)


def count_incidents(session: Session) -> int:
    return int(session.execute(text("SELECT count(*) FROM incident")).scalar_one())


def summary_by_township_category(session: Session) -> pd.DataFrame:
    """Counts of incidents per township × category, plus flag and duplicate tallies per township."""
    rows = session.execute(
        text(
            "SELECT COALESCE(t.name, '区外') AS township, i.category, count(*) AS n, "
            "count(*) FILTER (WHERE 'near_border' = ANY(i.flags)) AS near_border, "
            "count(*) FILTER (WHERE 'outside_district' = ANY(i.flags)) AS outside, "
            "count(*) FILTER (WHERE i.likely_duplicate_of IS NOT NULL) AS duplicates "
            "FROM incident i LEFT JOIN township t ON t.code = i.township_code GROUP BY 1, 2 ORDER BY 1, 2"
        )
    ).all()
    return pd.DataFrame(rows, columns=["township", "category", "n", "near_border", "outside", "duplicates"])


def set_receipt_times(session: Session, *, received: Mapping[Any, datetime]) -> int:
    """Set when reports came in (``received_at``), by incident id, for a season replayed from its own history —
    the demo's simulated patrol reports, which the intake stamps with the time the file was loaded — so that
    the triage clock (W13, 分拣及时率) runs from when each came in. Returns the rows changed."""
    if not received:
        return 0
    changed = session.execute(text(
        "UPDATE incident i SET received_at = r.at FROM unnest(CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[])) "
        "AS r(id, at) WHERE i.id = r.id AND i.received_at IS DISTINCT FROM r.at RETURNING i.id"),
        {"ids": [str(k) for k in received], "ats": list(received.values())},
    ).all()
    return len(changed)
