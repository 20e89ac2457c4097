"""The facts the evaluation (效果可评价) is computed from, one set-based query per fact table, as DataFrames.

Every function reads one period ``[start, end)`` (timezone-aware bounds) and returns one row per fact; the
columns are the contract of :mod:`gis_enforcement.analysis.evaluation`. Nothing here aggregates: the metrics
are pure functions over these frames. A year of the district is some 10⁵ cases and several 10⁵ assignments
and records, so rows come back by ``COPY … TO STDOUT`` and pyarrow's CSV reader rather than as Python objects:
times travel as epoch microseconds, case ids as text, measures joined by a unit separator. Never commits.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.storage.copying import raw_cursor
from gis_enforcement.storage.dispatch_repo import case_resolved_at

_SEP = "\x1f"  # ASCII unit separator: never part of a measure's name


def _us(expr: str, name: str) -> str:
    # date_part's float8 seconds: cheaper for the server than extract's numeric, and exact to the µs once
    # rounded (epoch µs stay far below 2**53)
    return f"CAST(date_part('epoch', {expr}) * 1000000 AS bigint) AS {name}"


def _frame(session: Session, select: str, params: dict[str, Any], *, times: Sequence[str] = (),
           floats: Sequence[str] = (), ints: Sequence[str] = (), lists: Sequence[str] = ()) -> pd.DataFrame:
    """Run ``select`` (pyformat parameters) through COPY; ``times`` come as epoch µs and leave as UTC times,
    ``lists`` come joined by the unit separator and leave as a list per row."""
    buf = io.BytesIO()
    with raw_cursor(session) as cur:  # mogrify renders the parameters as literals (COPY takes no bind parameters)
        query = cur.mogrify(select, params).decode()
        cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)", buf, size=1 << 20)
    buf.seek(0)
    types = {**{c: pa.int64() for c in (*times, *ints)}, **{c: pa.float64() for c in floats}}
    header = buf.readline().decode().strip().split(",")
    buf.seek(0)
    types.update({c: pa.string() for c in header if c not in types})
    table = pacsv.read_csv(buf, convert_options=pacsv.ConvertOptions(
        column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False))
    for c in lists:
        table = table.set_column(table.schema.get_field_index(c), c, pc.split_pattern(table[c], _SEP))
    frame = table.to_pandas()
    for c in times:
        frame[c] = pd.to_datetime(frame[c], unit="us", utc=True)
    return frame


# When a department that never reported in was stood down (a decline the township accepted, or a release):
# the first decline/release event for it after its last overrule. Only the few assignments that end declined
# or released without a check-in meet the case record, by index, so the planner's estimate stays small.
_STOOD_DOWN = """
    SELECT s.id, min(s.at) FILTER (WHERE s.kind <> 'overrule' AND s.seq > s.last_overrule) AS at
    FROM (SELECT a.id, e.kind, e.seq, e.at,
                 COALESCE(max(e.seq) FILTER (WHERE e.kind = 'overrule') OVER (PARTITION BY a.id), 0) AS last_overrule
          FROM assignment a JOIN case_event e ON e.incident_id = a.incident_id
          WHERE a.summoned_at >= %(start)s AND a.summoned_at < %(end)s AND a.reported_in_at IS NULL
            AND a.status IN ('declined', 'released') AND e.kind IN ('decline', 'release', 'overrule')
            AND e.payload->>'department' = a.department) s
    GROUP BY s.id
"""

# only for the few assignments never checked in: one index look-up each
_CASE_RESOLVED_AT = f"CASE WHEN a.reported_in_at IS NULL THEN {case_resolved_at('a', 'i')} END"

_ASSIGNMENT_TIMES = ("summoned_at", "report_in_due", "resolution_due", "reported_in_at", "stood_down_at",
                     "whistled_at", "closed_at", "case_resolved_at")


def _in_township(township: str | None, alias: str = "i") -> str:
    """The clause keeping the rows of cases in ``township`` (the case ``alias``); none when it is None."""
    return "" if township is None else f" AND {alias}.township_code = %(township)s"


def assignments_frame(session: Session, *, start: datetime, end: datetime,
                      township: str | None = None) -> pd.DataFrame:
    """Assignments summoned in ``[start, end)`` (on the cases of ``township`` only, when given) with their
    whistle and their case (category, township, status, whistle and close times), ``stood_down_at`` for those
    declined or released before any check-in, and for those never checked in on a case that is resolved,
    verified or closed (not reopened since), ``case_resolved_at``: its last resolution, where the no-show rule's
    wait ends (as the escalation pass reads it), and ``declined_s``: the time its overruled declines stood,
    added to its wait."""
    return _frame(
        session,
        "SELECT a.id AS assignment_id, a.incident_id::text AS incident_id, a.whistle_id, w.mode AS whistle_mode, "
        "w.whistler_unit, a.department, a.role, a.status, "
        f"{_us('a.summoned_at', 'summoned_at')}, {_us('a.report_in_due', 'report_in_due')}, "
        f"{_us('a.resolution_due', 'resolution_due')}, {_us('a.reported_in_at', 'reported_in_at')}, "
        f"{_us('sd.at', 'stood_down_at')}, i.category, i.township_code, i.status AS case_status, "
        f"{_us('i.whistled_at', 'whistled_at')}, {_us('i.closed_at', 'closed_at')}, "
        "a.rating_timeliness, a.rating_adequacy, "
        f"{_us(_CASE_RESOLVED_AT, 'case_resolved_at')}, a.declined_s, a.township_code AS team_township "
        "FROM assignment a JOIN incident i ON i.id = a.incident_id JOIN whistle w ON w.id = a.whistle_id "
        f"LEFT JOIN ({_STOOD_DOWN}) sd ON sd.id = a.id "
        "WHERE a.summoned_at >= %(start)s AND a.summoned_at < %(end)s" + _in_township(township),
        {"start": start, "end": end, "township": township}, times=_ASSIGNMENT_TIMES,
        ints=("assignment_id", "whistle_id"),
        floats=("rating_timeliness", "rating_adequacy", "declined_s"),
    )


def records_frame(session: Session, *, start: datetime, end: datetime, township: str | None = None) -> pd.DataFrame:
    """Enforcement records (执法记录) acted in ``[start, end)`` (on the cases of ``township`` only, when given),
    with the department that made each one and the township its assignment was for (``team_township``: a
    township team's record is its township's team's); ``measures`` is a list (array) of strings per record."""
    return _frame(
        session,
        "SELECT r.id AS record_id, r.assignment_id, r.incident_id::text AS incident_id, a.department, "
        "a.township_code AS team_township, "
        f"r.action_type, NULLIF(array_to_string(r.measures, E'\\x1f'), '') AS measures, "
        f"CAST(r.penalty_amount AS double precision) AS penalty_amount, r.officer, {_us('r.acted_at', 'acted_at')} "
        "FROM enforcement_record r JOIN assignment a ON a.id = r.assignment_id "
        + ("" if township is None else "JOIN incident i ON i.id = r.incident_id ")
        + "WHERE r.acted_at >= %(start)s AND r.acted_at < %(end)s" + _in_township(township),
        {"start": start, "end": end, "township": township}, times=("acted_at",), floats=("penalty_amount",),
        ints=("record_id", "assignment_id"), lists=("measures",),
    )


def warnings_frame(session: Session, *, start: datetime, end: datetime,
                   later_rules: Sequence[str], township: str | None = None) -> pd.DataFrame:
    """Warnings raised in ``[start, end)`` — and those of ``later_rules`` raised at any time from ``start`` on
    (a recurrence: a case of the period may come back after it; a no-show: a department whistled at the end of
    the period is found absent after it) — that stand (not withdrawn), with the township and the lead
    department of the case each one names, and ``team_township``: the township of the summons it is about
    (else the township its detail names), which tells a township team's warnings apart. With ``township``,
    only the warnings on its cases."""
    return _frame(
        session,
        "SELECT w.id AS warning_id, w.rule_code, w.level, w.subject_kind, w.subject_code, "
        f"w.incident_id::text AS incident_id, w.assignment_id, {_us('w.raised_at', 'raised_at')}, i.township_code, "
        "i.lead_department, COALESCE(wa.township_code, w.detail->>'township') AS team_township "
        "FROM warning w LEFT JOIN incident i ON i.id = w.incident_id "
        "LEFT JOIN assignment wa ON wa.id = w.assignment_id "
        "WHERE w.withdrawn_at IS NULL AND ((w.raised_at >= %(start)s AND w.raised_at < %(end)s) "
        "OR (w.rule_code = ANY(%(later)s) AND w.raised_at >= %(start)s))" + _in_township(township),
        {"start": start, "end": end, "later": list(later_rules), "township": township}, times=("raised_at",),
        floats=("assignment_id",), ints=("warning_id",),
    )


#: the case events that triage a report: the township whistled it (``triage`` is recorded with the whistle),
#: declined it, marked it a duplicate or reclassified it
_TRIAGE_KINDS = "'triage', 'whistle', 'reject', 'mark_duplicate', 'reclassify'"


def cases_frame(session: Session, *, start: datetime, end: datetime) -> pd.DataFrame:
    """Cases observed in ``[start, end)``: category, township, status, whistle and close times, duplicate link,
    the lead's resolution deadline (null when the case was never whistled), the last resolution
    (``resolved_at``, null when never resolved), the township's first verification or reopening after it
    (``reviewed_at``, null while it has not looked), when the report came in (``received_at``) and when it
    was first triaged (``triaged_at``: the first whistle, triage, decline, duplicate mark or reclassification
    recorded, or the whistle time; null while untouched)."""
    # a case is whistled after it is observed, so its lead was summoned from ``start`` on: one hash join
    # instead of a look-up per case; the events of the period's cases likewise in one pass
    return _frame(
        session,
        "SELECT i.id::text AS incident_id, i.category, i.township_code, i.status, "
        f"{_us('i.observed_at', 'observed_at')}, {_us('i.whistled_at', 'whistled_at')}, "
        f"{_us('i.closed_at', 'closed_at')}, i.likely_duplicate_of::text AS likely_duplicate_of, "
        f"{_us('l.resolution_due', 'resolution_due')}, {_us('r.resolved_at', 'resolved_at')}, "
        f"{_us('r.reviewed_at', 'reviewed_at')}, {_us('i.received_at', 'received_at')}, "
        f"{_us('LEAST(t.at, i.whistled_at)', 'triaged_at')} FROM incident i LEFT JOIN ("
        " SELECT DISTINCT ON (incident_id) incident_id, resolution_due FROM assignment"
        " WHERE role = 'lead' AND summoned_at >= %(start)s ORDER BY incident_id, id"
        ") l ON l.incident_id = i.id LEFT JOIN ("
        " SELECT x.incident_id, max(x.at) FILTER (WHERE x.kind = 'resolve' AND x.seq = x.last_resolve) AS resolved_at,"
        "  min(x.at) FILTER (WHERE x.kind <> 'resolve' AND x.seq > x.last_resolve) AS reviewed_at"
        " FROM (SELECT e.incident_id, e.kind, e.seq, e.at,"
        "  max(e.seq) FILTER (WHERE e.kind = 'resolve') OVER (PARTITION BY e.incident_id) AS last_resolve"
        "  FROM case_event e JOIN incident c ON c.id = e.incident_id"
        "  WHERE e.kind IN ('resolve', 'verify', 'reopen')"
        "  AND c.observed_at >= %(start)s AND c.observed_at < %(end)s) x"
        " WHERE x.last_resolve IS NOT NULL GROUP BY x.incident_id"
        ") r ON r.incident_id = i.id LEFT JOIN ("
        " SELECT e.incident_id, min(e.at) AS at FROM case_event e JOIN incident c ON c.id = e.incident_id"
        f" WHERE e.kind IN ({_TRIAGE_KINDS}) AND c.observed_at >= %(start)s AND c.observed_at < %(end)s"
        " GROUP BY e.incident_id"
        ") t ON t.incident_id = i.id WHERE i.observed_at >= %(start)s AND i.observed_at < %(end)s",
        {"start": start, "end": end},
        times=("observed_at", "whistled_at", "closed_at", "resolution_due", "resolved_at", "reviewed_at",
               "received_at", "triaged_at"),
    )


def follow_ups_frame(session: Session, *, start: datetime, end: datetime) -> pd.DataFrame:
    """Follow-up tasks (部门要求、街乡落实) departments handed to townships in ``[start, end)``: the township,
    when each was asked for, due and done (null while open)."""
    return _frame(
        session,
        f"SELECT t.id AS task_id, t.township_code, {_us('t.requested_at', 'requested_at')}, "
        f"{_us('t.due_at', 'due_at')}, {_us('t.done_at', 'done_at')} FROM follow_up_task t "
        "WHERE t.requested_at >= %(start)s AND t.requested_at < %(end)s",
        {"start": start, "end": end}, times=("requested_at", "due_at", "done_at"), ints=("task_id",),
    )


def townships_frame(session: Session) -> pd.DataFrame:
    """Every loaded township (code, name), so townships without cases still appear in the evaluation."""
    return _frame(session, "SELECT code AS township_code, name FROM township ORDER BY code", {})


def data_range(session: Session) -> tuple[datetime, datetime] | None:
    """The first and the last time anything was evaluated could happen — an incident observed, a department
    whistled, an enforcement record acted — or None when the store holds none of them. Told to a reader
    whose period holds nothing."""
    row = session.execute(text(
        "SELECT min(t0), max(t1) FROM ("
        " SELECT min(observed_at) AS t0, max(observed_at) AS t1 FROM incident"
        " UNION ALL SELECT min(summoned_at), max(summoned_at) FROM assignment"
        " UNION ALL SELECT min(acted_at), max(acted_at) FROM enforcement_record) s")).one()
    return None if row[0] is None else (row[0], row[1])
