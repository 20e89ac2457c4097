"""The escalation pass (`gis-enforcement tick`, and the scheduler inside `serve`): overdue steps become
warnings according to the warning list, each once, each written into its case's record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gis_enforcement.dispatch.record import CaseRecorder
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.deadlines import require_aware
from gis_enforcement.domain.escalation import (
    REBOUND_DAYS,
    UNRECORDED_LOOKBACK,
    UNTRIAGED_RULE,
    escalate,
    overdue_follow_ups,
    rebounds,
    repeat_offenders,
    unrecorded,
    untriaged_reports,
)
from gis_enforcement.storage import Session, dispatch_repo, warning_repo


def tick(session: Session, *, catalog: Catalog, now: datetime, actor: str = "escalation",
         tz: str | None = None) -> list[dict[str, Any]]:
    """Raise every warning due at ``now`` that was not raised before; returns the new ones.

    Late report-ins (W01), no-shows (W02), lead resolution time 80 %/100 % used (W05), a department's third
    late or absent check-in in a year (W07), and a closed case the problem came back at twice within 30 days
    (W08), follow-up tasks a township let run past their due time (W09), closed cases whose lead left no
    check-in position or photographed record (W10; closures of the last :data:`UNRECORDED_LOOKBACK` only, so
    the pass does not read every case ever closed each minute), and reports a township left untriaged past the lists'
    ``triage_within_hours`` (W13 — raised only when the lists have that rule: a consequence nobody announced is
    not imposed). Running it twice at the same moment creates nothing the second time (each warning has a
    unique key). W07's year is the calendar year of the district's zone ``tz`` (default Asia/Shanghai).
    """
    now = require_aware(now, "now")
    consequences = {code: rule.consequence for code, rule in catalog.warning_rules.items()}
    notify = {code: rule.notify for code, rule in catalog.warning_rules.items()}
    drafts = escalate(warning_repo.escalation_frame(session), now=now)
    new = warning_repo.insert_warnings(session, drafts=drafts, raised_at=now, consequences=consequences,
                                       notify=notify)
    repeat = repeat_offenders(warning_repo.late_or_absent_counts(session, tz=tz,
                                                                 teams=sorted(catalog.township_teams)))
    repeat += rebounds(warning_repo.recurrence_counts(session, within_days=REBOUND_DAYS))
    repeat += overdue_follow_ups(warning_repo.overdue_follow_ups(session, now=now))
    repeat += unrecorded(warning_repo.unrecorded_closures(session, closed_since=now - UNRECORDED_LOOKBACK))
    if UNTRIAGED_RULE in catalog.warning_rules:
        hours = catalog.triage_within_hours
        repeat += untriaged_reports(warning_repo.untriaged_reports(session, now=now, within_hours=hours), now=now,
                                    within_hours=hours)
    new += warning_repo.insert_warnings(session, drafts=repeat, raised_at=now, consequences=consequences,
                                        notify=notify)
    case_ids = sorted({w["incident_id"] for w in new if w["incident_id"] is not None})
    if case_ids:
        recorder = CaseRecorder(session, dispatch_repo.lock_cases(session, incident_ids=case_ids))
        for w in new:
            if w["incident_id"] is not None:
                recorder.add(w["incident_id"], at=now, actor=actor, kind="warning",
                             payload={"rule": w["rule_code"], "level": w["level"], "department": w["subject_code"],
                                      "detail": w["detail"]})
    return new
