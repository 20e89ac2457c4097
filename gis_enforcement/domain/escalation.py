"""Which warning-list (警示清单) rules an assignment or case has triggered by ``now``. Pure and vectorised.

Thresholds follow the triggers written in the lists (all marked draft there):

- **W01 报到迟到**: checked in after the report-in deadline but within ``ABSENT_AFTER_MIN`` of the whistle.
- **W02 未报到**: no check-in ``ABSENT_AFTER_MIN`` after the whistle, or a check-in later than that. A department
  still summoned when the lead resolved the case is a no-show only if the case stayed open that long: once the
  problem is dealt with, there is nothing left to come to (the clock stops at ``case_resolved_at``).
- **W05 主责部门超期**: the lead's resolution time is 80 % used (yellow) or used up (red) while the case is open.
  Time the case spent resolved, waiting for the township, before the township reopened it does not count
  (``lead_paused_s``): the lead's clock stops at its resolution and runs again from the reopening. A yellow
  that is overtaken by the red in the same pass is not raised: it would remind nobody.
- **A decline stops both clocks** until the township decides (已退单): no W02 while it stands, no W05 on a lead
  that declined. When the township overrules it (驳回退单), the assignment's deadlines are moved on by the time it
  stood declined (``declined_s``, also taken off the wait before a no-show), so the department has the time it
  had left when it declined — not a deadline already long past.
- **W07 累计违规**: ``REPEAT_LIMIT`` or more W01/W02 for one department in a calendar year.
- **W09 街乡落实超期**: a follow-up task a department handed to the township is still open after its due time.
- **W08 问题反弹**: a closed case the same problem came back at ``REBOUND_COUNT`` times within
  ``REBOUND_DAYS`` of its closure.
- **W13 分拣超时**: a report its township has not triaged — not whistled, declined, marked a duplicate or
  reclassified: still ``reported``, which a report filed as 类别待定 stays until it is named (改类) — the lists'
  ``triage_within_hours`` after it came in (``received_at``), as the township evaluation's 分拣及时率 counts a
  report late. One warning per report: a report that waits on is not warned again, and a report no township
  holds (outside the district) is on no township's desk, so nobody is warned for it.

Each draft carries a dedupe key, so the escalation pass may run any number of times and raise each
warning once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from gis_enforcement.domain.deadlines import RED_AT, YELLOW_AT, require_aware

ABSENT_AFTER_MIN = 60.0
REPEAT_LIMIT = 3
REBOUND_DAYS = 30
REBOUND_COUNT = 2
#: how far back the pass looks for closures left without a record (W10): it runs every minute, so a closure is
#: looked at within a minute of it; a server stopped longer than this leaves the older closures unchecked
UNRECORDED_LOOKBACK = timedelta(days=7)
OPEN_CASE = ("whistled", "in_action", "reopened")

#: Columns ``escalate`` reads, one row per assignment.
ESCALATION_COLUMNS = ("assignment_id", "incident_id", "department", "role", "status", "summoned_at",
                      "report_in_due", "resolution_due", "reported_in_at", "case_status", "township_code",
                      "case_resolved_at", "lead_paused_s", "declined_s")


@dataclass(frozen=True, slots=True)
class WarningDraft:
    """A warning to raise: the rule, its level, who it is about, and the key that makes it unique."""

    rule_code: str
    level: str
    subject_kind: str
    subject_code: str
    dedupe_key: str
    incident_id: Any = None
    assignment_id: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


def no_show_key(assignment_id: object) -> str:
    """The no-show warning's (W02) key for an assignment: one per assignment, and the key it is withdrawn by."""
    return f"W02:{assignment_id}"

def _minutes(a: pd.Series, b: pd.Series) -> np.ndarray:
    return ((a - b).dt.total_seconds() / 60.0).to_numpy(dtype=float)


def escalate(assignments: pd.DataFrame, *, now: datetime) -> list[WarningDraft]:
    """Warnings W01, W02 and W05 due at ``now`` for the given assignments (``ESCALATION_COLUMNS``)."""
    now_ts = pd.Timestamp(require_aware(now, "now"))
    if assignments.empty:
        return []
    a = assignments.reset_index(drop=True)
    for col in ("summoned_at", "report_in_due", "resolution_due", "reported_in_at", "case_resolved_at"):
        a[col] = pd.to_datetime(a[col], utc=True)
    # the time an overruled decline stood, waiting for the township, does not count (frames without it: none)
    declined_min = (pd.to_numeric(a["declined_s"], errors="coerce").fillna(0.0).to_numpy(dtype=float) / 60.0
                    if "declined_s" in a.columns else np.zeros(len(a)))
    after_whistle = _minutes(a["reported_in_at"], a["summoned_at"]) - declined_min
    late = _minutes(a["reported_in_at"], a["report_in_due"])
    # a no-show's wait ends when the case was resolved (if it is resolved and not reopened since)
    until = a["case_resolved_at"].where(a["case_resolved_at"] < now_ts, now_ts).fillna(now_ts)
    waited = (until - a["summoned_at"]).dt.total_seconds().to_numpy() / 60.0 - declined_min
    summoned = (a["status"] == "summoned").to_numpy()
    with np.errstate(invalid="ignore"):
        w01 = (late > 0) & (after_whistle <= ABSENT_AFTER_MIN)
        w02 = (summoned & (waited > ABSENT_AFTER_MIN)) | (after_whistle > ABSENT_AFTER_MIN)
    out: list[WarningDraft] = []
    for i in np.flatnonzero(w01):
        out.append(WarningDraft("W01", "yellow", "department", a.at[i, "department"], f"W01:{a.at[i, 'assignment_id']}",
                                a.at[i, "incident_id"], int(a.at[i, "assignment_id"]),
                                {"minutes_late": round(float(late[i]), 1)}))
    for i in np.flatnonzero(w02):
        detail = ({"minutes_after_whistle": round(float(after_whistle[i]), 1)} if np.isfinite(after_whistle[i])
                  else {"no_show_after_minutes": round(float(waited[i]), 1)})
        out.append(WarningDraft("W02", "red", "department", a.at[i, "department"],
                                no_show_key(a.at[i, "assignment_id"]), a.at[i, "incident_id"],
                                int(a.at[i, "assignment_id"]), detail))
    # a lead whose decline waits for the township is not warned for the time it runs (its due moves on if overruled)
    lead_open = ((a["role"] == "lead") & (a["status"] != "declined") & a["case_status"].isin(OPEN_CASE)
                 & a["resolution_due"].notna()).to_numpy()
    paused = pd.to_numeric(a["lead_paused_s"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    span = (a["resolution_due"] - a["summoned_at"]).dt.total_seconds().to_numpy()
    used = (now_ts - a["summoned_at"]).dt.total_seconds().to_numpy() - paused
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(span > 0, used / span, np.nan)
    for stage, low, high in (("yellow", YELLOW_AT, RED_AT), ("red", RED_AT, np.inf)):
        for i in np.flatnonzero(lead_open & (fraction >= low) & (fraction < high)):
            due = a.at[i, "resolution_due"] + pd.Timedelta(seconds=float(paused[i]))
            detail = {"time_used": round(float(fraction[i]), 3), "resolution_due": due.isoformat()}
            if paused[i] > 0:
                detail["paused_hours"] = round(float(paused[i]) / 3600.0, 2)
            out.append(WarningDraft("W05", stage, "department", a.at[i, "department"],
                                    f"W05:{stage}:{a.at[i, 'incident_id']}", a.at[i, "incident_id"],
                                    int(a.at[i, "assignment_id"]), detail))
    return out


def repeat_offenders(counts: pd.DataFrame) -> list[WarningDraft]:
    """W07 for departments with ``REPEAT_LIMIT`` or more W01/W02 in a year (``counts``: department, year, n,
    and optionally township: a township team's counts are its township's team's, warned apart — the key and
    the detail name the township)."""
    hit = counts[counts["n"] >= REPEAT_LIMIT]
    out = []
    for r in hit.to_dict("records"):
        town = r.get("township")
        team = isinstance(town, str) and bool(town)
        key = f"W07:{r['department']}@{town}:{r['year']}" if team else f"W07:{r['department']}:{r['year']}"
        detail = {"year": int(r["year"]), "late_or_absent": int(r["n"]), **({"township": town} if team else {})}
        out.append(WarningDraft("W07", "red", "department", str(r["department"]), key, detail=detail))
    return out


def rebounds(counts: pd.DataFrame) -> list[WarningDraft]:
    """W08 for closed cases that came back ``REBOUND_COUNT`` or more times (``counts``: incident_id, category,
    township_code, lead_department, n); the subject is the place, named by the closed case."""
    hit = counts[counts["n"] >= REBOUND_COUNT]
    return [WarningDraft("W08", "yellow", "location", str(r.incident_id), f"W08:{r.incident_id}", r.incident_id,
                         detail={"recurrences": int(r.n), "category": r.category, "township": r.township_code,
                                 "lead": r.lead_department})
            for r in hit.itertuples(index=False)]


def overdue_follow_ups(tasks: pd.DataFrame) -> list[WarningDraft]:
    """W09 for follow-up tasks still open after their due time (``tasks``: id, incident_id, requested_by,
    township_code, due_at); the subject is the township."""
    return [WarningDraft("W09", "yellow", "township", str(r.township_code), f"W09:{r.id}", r.incident_id,
                         detail={"task_id": int(r.id), "requested_by": r.requested_by,
                                 "due_at": pd.Timestamp(r.due_at).isoformat()})
            for r in tasks.itertuples(index=False)]


#: a township rating at or below this adequacy is 不满意 (W04 执法不到位)
UNSATISFIED_AT = 2


def poor_rating(*, assignment_id: int, incident_id: Any, department: str, township: str, adequacy: int,
                timeliness: int) -> WarningDraft | None:
    """W04 when the township rates a department's enforcement 不满意 (adequacy ≤ 2 of 5); None otherwise."""
    if adequacy > UNSATISFIED_AT:
        return None
    return WarningDraft("W04", "yellow", "department", department, f"W04:rating:{assignment_id}", incident_id,
                        assignment_id, detail={"township": township, "adequacy": adequacy, "timeliness": timeliness})


def unrecorded(closures: pd.DataFrame) -> list[WarningDraft]:
    """W10 (执法无记载) for closed cases whose lead left no check-in position or no photographed record
    (``closures``: incident_id, assignment_id, department, township_code, checked_in, photographed)."""
    return [WarningDraft("W10", "yellow", "department", str(r.department), f"W10:{r.assignment_id}", r.incident_id,
                         int(r.assignment_id), detail={"township": r.township_code,
                                                       "missing": [m for m, ok in (("check-in position", r.checked_in),
                                                                                   ("photographed record",
                                                                                    r.photographed)) if not ok]})
            for r in closures.itertuples(index=False)]


#: the warning-list code of a report left untriaged (分拣超时)
UNTRIAGED_RULE = "W13"


def untriaged_reports(reports: pd.DataFrame, *, now: datetime, within_hours: float) -> list[WarningDraft]:
    """W13 (分拣超时) for reports still untriaged ``within_hours`` after they came in (``reports``: incident_id,
    township_code, category, received_at — reports not triaged yet); the subject is the township. A report
    without a township (outside the district) is left out: it is on no township's desk."""
    now_ts = pd.Timestamp(require_aware(now, "now"))
    if reports.empty:
        return []
    received = pd.to_datetime(reports["received_at"], utc=True).reset_index(drop=True)
    due = received + pd.Timedelta(hours=float(within_hours))
    towns = reports["township_code"].reset_index(drop=True)
    out: list[WarningDraft] = []
    for i in np.flatnonzero(((due <= now_ts) & towns.notna()).to_numpy()):
        report = reports.iloc[i]
        waited = (now_ts - received.iat[i]).total_seconds() / 3600.0
        out.append(WarningDraft(UNTRIAGED_RULE, "yellow", "township", str(towns.iat[i]),
                                f"{UNTRIAGED_RULE}:{report['incident_id']}", report["incident_id"],
                                detail={"category": report["category"], "received_at": received.iat[i].isoformat(),
                                        "triage_due": due.iat[i].isoformat(), "hours_waiting": round(waited, 1)}))
    return out
