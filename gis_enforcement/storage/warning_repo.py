"""Warnings raised by the escalation pass, and the assignments it looks at. Never commits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.escalation import ESCALATION_COLUMNS, WarningDraft
from gis_enforcement.settings import DEFAULT_TIMEZONE
from gis_enforcement.storage.dispatch_repo import case_resolved_at, lead_paused_s


def escalation_frame(session: Session) -> pd.DataFrame:
    """Assignments that may still trigger a warning: on cases that are not closed, rejected or duplicate,
    and late check-ins on other cases that were not warned yet (a warned one cannot trigger again). A case
    that is resolved or verified (not reopened since) carries the time of its last resolution; a lead on an
    open case, the seconds its case spent resolved before being reopened (``lead_paused_s``)."""
    rows = session.execute(
        text(
            "SELECT a.id AS assignment_id, a.incident_id, a.department, a.role, a.status, a.summoned_at, "
            "a.report_in_due, a.resolution_due, a.reported_in_at, i.status AS case_status, i.township_code, "
            f"{case_resolved_at('a', 'i')} AS case_resolved_at, "
            "CASE WHEN a.role = 'lead' AND i.status IN ('whistled', 'in_action', 'reopened') THEN "
            f"{lead_paused_s('a')} END AS lead_paused_s, a.declined_s "
            "FROM assignment a JOIN incident i ON i.id = a.incident_id "
            "WHERE i.status NOT IN ('closed', 'rejected', 'duplicate') OR (a.minutes_late > 0 AND NOT EXISTS "
            "(SELECT 1 FROM warning w WHERE w.assignment_id = a.id AND w.rule_code IN ('W01', 'W02')))"
        )
    ).all()
    return pd.DataFrame(rows, columns=list(ESCALATION_COLUMNS))


def insert_warnings(session: Session, *, drafts: Sequence[WarningDraft], raised_at: datetime,
                    consequences: Mapping[str, str], notify: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """Insert the drafts whose dedupe key is new; returns the rows actually inserted (running twice adds nothing)."""
    if not drafts:
        return []
    result = session.execute(
        text(
            "INSERT INTO warning (dedupe_key, rule_code, level, subject_kind, subject_code, incident_id, "
            "assignment_id, raised_at, consequence, notify, detail) SELECT * FROM jsonb_to_recordset(CAST(:rows AS "
            "jsonb)) AS r(dedupe_key text, rule_code text, level text, subject_kind text, subject_code text, "
            "incident_id uuid, assignment_id bigint, raised_at timestamptz, consequence text, notify text[], "
            "detail jsonb) ON CONFLICT (dedupe_key) DO NOTHING "
            "RETURNING id, dedupe_key, rule_code, level, subject_kind, subject_code, incident_id, assignment_id, "
            "raised_at, consequence, notify, detail"
        ),
        {"rows": json.dumps([
            {"dedupe_key": d.dedupe_key, "rule_code": d.rule_code, "level": d.level, "subject_kind": d.subject_kind,
             "subject_code": d.subject_code, "incident_id": None if d.incident_id is None else str(d.incident_id),
             "assignment_id": d.assignment_id, "raised_at": raised_at.isoformat(),
             "consequence": consequences.get(d.rule_code, ""), "notify": list(notify.get(d.rule_code, ())),
             "detail": dict(d.detail)}
            for d in drafts
        ], ensure_ascii=False, default=str)},
    )
    return [dict(r._mapping) for r in result.all()]


def withdraw_warnings(session: Session, *, dedupe_keys: Sequence[str], at: datetime, reason: str) -> list[str]:
    """Withdraw (撤销) the standing warnings with these keys: they stay, with when and why, and count nowhere
    after. Returns the rule codes of those withdrawn now (none when already withdrawn or never raised)."""
    rows = session.execute(text(
        "UPDATE warning SET withdrawn_at = :at, withdrawn_reason = :why "
        "WHERE dedupe_key = ANY(:keys) AND withdrawn_at IS NULL RETURNING rule_code"),
        {"at": at, "why": reason, "keys": list(dedupe_keys)}).all()
    return sorted(str(r[0]) for r in rows)


def late_or_absent_counts(session: Session, *, tz: str | None = None,
                          teams: Sequence[str] = ()) -> pd.DataFrame:
    """W01 and W02 that stand, per department per calendar year of the district's zone ``tz`` (default
    Asia/Shanghai), for the repeat rule W07; a township team (``teams``: TOWN) per township it was summoned for
    (``township``; None for everyone else): each township's team is its own."""
    rows = session.execute(
        text("SELECT w.subject_code AS department, "
             "CASE WHEN w.subject_code = ANY(CAST(:teams AS text[])) THEN a.township_code END AS township, "
             "extract(year FROM w.raised_at AT TIME ZONE :tz)::int AS year, count(*) AS n "
             "FROM warning w LEFT JOIN assignment a ON a.id = w.assignment_id "
             "WHERE w.rule_code IN ('W01', 'W02') AND w.withdrawn_at IS NULL GROUP BY 1, 2, 3"),
        {"tz": tz or DEFAULT_TIMEZONE, "teams": list(teams)},
    ).all()
    return pd.DataFrame(rows, columns=["department", "township", "year", "n"])


#: the township a listed warning is about: a township's own; a department's, the township of the summons it
#: names (a township team: which township's team), else the one its detail names, else its case's
_WARNING_TOWNSHIP = (
    "CASE WHEN warning.subject_kind = 'township' THEN warning.subject_code ELSE COALESCE("
    "(SELECT wa.township_code FROM assignment wa WHERE wa.id = warning.assignment_id), "
    "warning.detail->>'township', "
    "(SELECT wi.township_code FROM incident wi WHERE wi.id = warning.incident_id)) END")


def list_warnings(session: Session, *, rule_code: str | None = None, subject_code: str | None = None,
                  limit: int = 100, offset: int = 0, unit: str | None = None,
                  team_township: str | None = None, incident_id: UUID | None = None,
                  ) -> tuple[list[dict[str, Any]], int]:
    """Warnings, newest first, with the total that matched; with ``unit`` only those about that township or
    department, or about a case of that township; with ``team_township`` too (a township team), only those
    about the team of that township: on its summons, or naming the township in their detail."""
    where: list[str] = []
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if unit is not None and team_township is not None:
        where.append("subject_code = :unit AND (EXISTS (SELECT 1 FROM assignment wa WHERE wa.id = "
                     "warning.assignment_id AND wa.township_code = :team) OR detail->>'township' = :team)")
        params.update(unit=unit, team=team_township)
    elif unit is not None:
        where.append("(subject_code = :unit OR EXISTS (SELECT 1 FROM incident wi WHERE wi.id = warning.incident_id "
                     "AND wi.township_code = :unit))")
        params["unit"] = unit
    if rule_code:
        where.append("rule_code = :rule")
        params["rule"] = rule_code
    if subject_code:
        where.append("subject_code = :subject")
        params["subject"] = subject_code
    if incident_id is not None:
        where.append("incident_id = :incident")
        params["incident"] = incident_id
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total = session.execute(text("SELECT count(*) FROM warning" + clause), params).scalar_one()
    rows = session.execute(
        text("SELECT id, rule_code, level, subject_kind, subject_code, incident_id, assignment_id, raised_at, "
             "consequence, notify, detail, withdrawn_at, withdrawn_reason, "
             f"{_WARNING_TOWNSHIP} AS township_code FROM warning" + clause
             + " ORDER BY raised_at DESC, id DESC "
             "LIMIT :limit OFFSET :offset"), params,
    ).all()
    return [dict(r._mapping) for r in rows], int(total)


def recurrence_counts(session: Session, *, within_days: int) -> pd.DataFrame:
    """Per closed case: how many incidents came back at it within ``within_days`` of its closure (for W08)."""
    rows = session.execute(
        text("SELECT c.id AS incident_id, c.category, c.township_code, c.lead_department, count(*) AS n "
             "FROM incident r JOIN incident c ON c.id = r.recurrence_of "
             "WHERE r.observed_at <= c.closed_at + make_interval(days => :days) "
             "GROUP BY c.id, c.category, c.township_code, c.lead_department"),
        {"days": within_days},
    ).all()
    return pd.DataFrame(rows, columns=["incident_id", "category", "township_code", "lead_department", "n"])


def overdue_follow_ups(session: Session, *, now: datetime) -> pd.DataFrame:
    """Open follow-up tasks past their due time (for W09)."""
    rows = session.execute(
        text("SELECT id, incident_id, requested_by, township_code, due_at FROM follow_up_task "
             "WHERE status = 'open' AND due_at < :now"), {"now": now},
    ).all()
    return pd.DataFrame(rows, columns=["id", "incident_id", "requested_by", "township_code", "due_at"])


def unrecorded_closures(session: Session, *, closed_since: datetime | None = None) -> pd.DataFrame:
    """Closed cases whose lead left no record (for W10 执法无记载): no check-in position, or no photograph —
    neither an enforcement record with a photo nor a photo an officer of the lead department added to the case
    once summoned (the desk's 上传照片). Cases already warned are left out, and with ``closed_since`` those
    closed before it: the pass looks at recent closures only, so its cost does not grow with every case ever
    closed."""
    photographed = (
        "(EXISTS (SELECT 1 FROM enforcement_record r WHERE r.assignment_id = a.id "
        "  AND jsonb_array_length(r.photos) > 0) "
        " OR EXISTS (SELECT 1 FROM incident_photo l JOIN app_user u ON u.username = l.added_by "
        "  WHERE l.incident_id = i.id AND u.unit_code = a.department AND l.added_at >= a.summoned_at))")
    rows = session.execute(text(
        "SELECT i.id AS incident_id, a.id AS assignment_id, a.department, i.township_code, "
        f"a.report_in_lon IS NOT NULL AS checked_in, {photographed} AS photographed "
        "FROM incident i JOIN assignment a ON a.incident_id = i.id AND a.role = 'lead' "
        "WHERE i.status = 'closed' AND a.status <> 'released' "
        "AND (CAST(:since AS timestamptz) IS NULL OR i.closed_at >= :since) "
        "AND NOT EXISTS (SELECT 1 FROM warning w WHERE w.dedupe_key = 'W10:' || a.id) "
        f"AND (a.report_in_lon IS NULL OR NOT {photographed})"
    ), {"since": closed_since}).all()
    return pd.DataFrame(rows, columns=["incident_id", "assignment_id", "department", "township_code", "checked_in",
                                       "photographed"])


def untriaged_reports(session: Session, *, now: datetime, within_hours: float) -> pd.DataFrame:
    """Reports their township has not triaged (status ``reported``, which a report filed as 类别待定 keeps until it
    is named) ``within_hours`` after they came in, and not warned for yet (for W13 分拣超时). Reports without a
    township are left out. Read once a minute by ``serve``: the townships' codes lead the (township, status)
    index, so each township's untriaged reports are one index range — no scan of the incidents — and those
    already warned are skipped by the warnings' unique key."""
    rows = session.execute(text(
        "SELECT i.id AS incident_id, i.township_code, i.category, i.received_at FROM incident i "
        "WHERE i.township_code = ANY(ARRAY(SELECT code FROM township)) AND i.status = 'reported' "
        "AND i.received_at <= :cutoff "
        "AND NOT EXISTS (SELECT 1 FROM warning w WHERE w.dedupe_key = 'W13:' || i.id)"),
        {"cutoff": (pd.Timestamp(now) - pd.Timedelta(hours=float(within_hours))).to_pydatetime()},
    ).all()
    return pd.DataFrame(rows, columns=["incident_id", "township_code", "category", "received_at"])
