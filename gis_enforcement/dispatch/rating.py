"""The township rates each department's attendance on its whistle (评价权): timeliness and adequacy, 1–5.

Only the township the case lies in rates, once per assignment, and only once there is something to rate —
the department reported in, stood down, or let its report-in deadline pass. Sending the same rating again is
harmless; a different one is refused (a rating is a record, not a draft). Ratings feed the evaluation
(:mod:`gis_enforcement.analysis.evaluation`) and are written into the case's record; adequacy 1–2 (不满意) is
the warning list's W04 (执法不到位).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gis_enforcement.dispatch.record import CaseRecorder
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.deadlines import require_aware
from gis_enforcement.domain.escalation import poor_rating
from gis_enforcement.domain.records import Assignment
from gis_enforcement.domain.zone import in_zone
from gis_enforcement.errors import AlreadyRecorded, InvalidInput, NotFound
from gis_enforcement.storage import Session, dispatch_repo, warning_repo

SCALE = range(1, 6)


@dataclass(frozen=True, slots=True)
class Rating:
    assignment_id: int
    department: str
    timeliness: int
    adequacy: int
    comment: str | None
    rated_at: datetime
    rated_by: str
    new: bool


def find_assignment(session: Session, *, assignment_id: int) -> Assignment:
    """The assignment with this id (``NotFound`` naming ``assignment_id`` otherwise)."""
    assignment = dispatch_repo.assignment_by_id(session, assignment_id=assignment_id)
    if assignment is None:
        raise NotFound(f"no assignment {assignment_id}", field="assignment_id")
    return assignment


def rate_attendance(session: Session, *, catalog: Catalog, assignment_id: int, township: str, timeliness: int,
                    adequacy: int, at: datetime, comment: str | None = None, actor: str | None = None,
                    tz: str | None = None) -> Rating:
    """Record ``township``'s rating of one department's attendance; returns it (``new`` False when the same
    rating was already recorded). A rating of 不满意 (adequacy ≤ 2) raises W04 (执法不到位) on the department,
    in the same transaction and the same record. Refusals give their times in the district's zone ``tz``."""
    at = require_aware(at, "at")
    for name, value in (("timeliness", timeliness), ("adequacy", adequacy)):
        if isinstance(value, bool) or not isinstance(value, int) or value not in SCALE:
            raise InvalidInput(f"a rating is a whole number from 1 to 5, not {value!r}", field=name)
    found = find_assignment(session, assignment_id=assignment_id)
    cases = dispatch_repo.lock_cases(session, incident_ids=[found.incident_id])
    case = cases[found.incident_id]
    if case.township_code != township:
        raise InvalidInput(f"case {case.id} lies in {case.township_code or 'no township'}; only that township "
                           "rates its departments", field="township")
    assignment = dispatch_repo.lock_assignment(session, incident_id=found.incident_id, department=found.department)
    assert assignment is not None  # it was just found, and assignments are never deleted
    if assignment.status == "summoned" and at < assignment.report_in_due:
        raise InvalidInput(f"{assignment.department} has not reported in and its deadline "
                           f"({in_zone(assignment.report_in_due, tz).isoformat(timespec='minutes')}) has not passed: "
                           "nothing to rate yet",
                           field="status")
    before = dispatch_repo.rating_of(session, assignment_id=assignment_id)
    if before is not None:
        same = (before["timeliness"], before["adequacy"], before["comment"]) == (timeliness, adequacy, comment)
        if not same:
            raise AlreadyRecorded(f"{before['rated_by']} rated this attendance on "
                                  f"{in_zone(before['rated_at'], tz).isoformat(timespec='minutes')} "
                                  f"({before['timeliness']}/{before['adequacy']}); a rating is not changed",
                                  field="assignment_id")
        return Rating(assignment_id, assignment.department, timeliness, adequacy, comment, before["rated_at"],
                      before["rated_by"], new=False)
    dispatch_repo.set_rating(session, assignment_id=assignment_id, timeliness=timeliness, adequacy=adequacy,
                             comment=comment, rated_at=at, rated_by=township)
    payload: dict[str, Any] = {"by": township, "department": assignment.department, "assignment_id": assignment_id,
                               "timeliness": timeliness, "adequacy": adequacy, "comment": comment}
    recorder = CaseRecorder(session, cases)
    recorder.add(case.id, at=at, actor=actor, kind="rating", payload=payload)
    draft = poor_rating(assignment_id=assignment_id, incident_id=case.id, department=assignment.department,
                        township=township, adequacy=adequacy, timeliness=timeliness)
    if draft is not None:
        rule = catalog.warning_rules.get(draft.rule_code)
        for w in warning_repo.insert_warnings(
                session, drafts=[draft], raised_at=at,
                consequences={draft.rule_code: rule.consequence} if rule else {},
                notify={draft.rule_code: rule.notify} if rule else {}):
            recorder.add(case.id, at=at, actor=actor, kind="warning", payload={
                "rule": w["rule_code"], "level": w["level"], "department": w["subject_code"], "detail": w["detail"]})
    return Rating(assignment_id, assignment.department, timeliness, adequacy, comment, at, township, new=True)
