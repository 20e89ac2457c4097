"""Triage by the township: a report that is another report of a case already in hand is marked a duplicate
(标记重复), one that is no matter for enforcement is declined (不予受理), and either call is undone when it
was wrong (恢复受理). A report filed under the wrong category, or under the lists' placeholder when the patrol
could not tell (类别待定), is filed under the right one (改类): its rule, lead and plan follow.

The state machine is :mod:`gis_enforcement.domain.case_flow`'s: ``mark_duplicate`` from reported or triaged,
``reject`` from reported, triaged or whistled, ``reinstate`` from duplicate or rejected back to triaged,
``reclassify`` from reported (→ triaged), triaged or whistled. Here
the services add what the table cannot know: the first case of a duplicate exists, is another case and lies in
the same township or a neighbouring one (either case flagged near the other's township); a whistled case is
declined or reclassified only once every department on it has been released, so no department stays summoned
to a case nobody handles, or to one that is not theirs. Each step is one event on the case's record
(``mark_duplicate`` with ``duplicate_of``, ``reject`` and ``reinstate`` with the reason, ``reclassify`` with the
category before and after and the rule now applying). Nothing is written when a step is refused.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gis_enforcement.catalog.rules import rule_for, rule_snapshot
from gis_enforcement.dispatch.record import CaseRecorder
from gis_enforcement.domain.case_flow import AssignmentStatus, CaseAction, next_case_status
from gis_enforcement.domain.catalog import Catalog, ResponsibilityRule
from gis_enforcement.domain.deadlines import require_aware
from gis_enforcement.domain.enums import CaseStatus
from gis_enforcement.domain.records import CaseState
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.storage import Session, dispatch_repo, incident_repo

__all__ = ["mark_duplicate", "reclassify", "reinstate", "reject"]

#: states of a first case a report cannot be a duplicate of: it is not a case in hand itself
_NOT_A_FIRST_CASE = frozenset({CaseStatus.DUPLICATE, CaseStatus.REJECTED})


def _own_case(session: Session, incident_id: UUID, township: str) -> CaseState:
    cases = dispatch_repo.lock_cases(session, incident_ids=[incident_id])
    if incident_id not in cases:
        raise NotFound(f"no case {incident_id}", field="incident_id")
    case = cases[incident_id]
    if case.township_code != township:
        raise InvalidInput(f"case {incident_id} is not in township {township}", field="township")
    return case


def _require_released(session: Session, incident_id: UUID, doing: str) -> None:
    held = sorted(a.department for a in dispatch_repo.assignments_of(session, incident_id=incident_id)
                  if a.status != AssignmentStatus.RELEASED.value)
    if held:
        raise InvalidInput(f"case {incident_id} still has departments on it ({', '.join(held)}): release them "
                           f"before {doing}", field="status", departments=held)


def _recorded(session: Session, case: CaseState, *, status: CaseStatus, at: datetime, actor: str | None,
              kind: str, payload: dict[str, object]) -> CaseStatus:
    dispatch_repo.set_case_status(session, incident_id=case.id, status=status)
    CaseRecorder(session, {case.id: case}).add(case.id, at=at, actor=actor, kind=kind, payload=payload)
    return status


def mark_duplicate(session: Session, *, incident_id: UUID, township: str, at: datetime,
                   duplicate_of: UUID | None = None, reason: str | None = None,
                   actor: str | None = None) -> tuple[CaseStatus, UUID]:
    """Mark a reported or triaged case of ``township`` a duplicate of another case (reported → duplicate).

    ``duplicate_of`` defaults to the case the intake found it likely to duplicate (``likely_duplicate_of``);
    without either the call is refused on ``duplicate_of``. The first case must exist, be another case, not be
    a duplicate or declined itself, and lie in ``township`` or a neighbouring one. Returns the new status and
    the first case. A refusal on ``duplicate_of`` says which in ``detail.problem``: ``none`` (no likely
    duplicate to default to), ``self``, ``not_found``, ``not_in_hand`` (a duplicate or declined case) or ``far``
    (another, not neighbouring township).
    """
    at = require_aware(at, "at")
    case = _own_case(session, incident_id, township)
    status = next_case_status(case.status, CaseAction.MARK_DUPLICATE)
    if duplicate_of is None:
        incident = incident_repo.get_incident(session, incident_id=incident_id)
        duplicate_of = incident.duplicate_of if incident is not None else None
        if duplicate_of is None:
            raise InvalidInput(f"case {incident_id} has no likely duplicate: name the first case", field="duplicate_of",
                               problem="none")
    if duplicate_of == incident_id:
        raise InvalidInput("a case is not a duplicate of itself", field="duplicate_of", problem="self")
    first = incident_repo.get_incident(session, incident_id=duplicate_of)
    if first is None:
        raise InvalidInput(f"no case {duplicate_of} to be a duplicate of", field="duplicate_of", problem="not_found")
    if first.status in _NOT_A_FIRST_CASE:
        raise InvalidInput(f"case {duplicate_of} is {first.status.value} itself: name the case in hand",
                           field="duplicate_of", problem="not_in_hand", first_status=first.status.value)
    neighbours = first.township_code == case.township_code or first.township_code in case.border_townships \
        or case.township_code in first.border_townships
    if not neighbours:
        where = first.township_code or "outside the district"
        raise InvalidInput(f"case {duplicate_of} lies in {where}, neither in township {township} nor near its border",
                           field="duplicate_of", problem="far", first_township=first.township_code)
    payload: dict[str, object] = {"by": township, "duplicate_of": str(duplicate_of)}
    if reason is not None and reason.strip():
        payload["reason"] = reason.strip()
    return _recorded(session, case, status=status, at=at, actor=actor, kind="mark_duplicate",
                     payload=payload), duplicate_of


def reject(session: Session, *, incident_id: UUID, township: str, reason: str, at: datetime,
           actor: str | None = None) -> CaseStatus:
    """Decline a case of ``township`` with a reason (不予受理: → rejected). A whistled case is declined only
    once every department summoned to it has been released (refused on ``status`` naming them)."""
    at = require_aware(at, "at")
    case = _own_case(session, incident_id, township)
    status = next_case_status(case.status, CaseAction.REJECT, reason=reason)
    _require_released(session, incident_id, "declining the case")
    return _recorded(session, case, status=status, at=at, actor=actor, kind="reject",
                     payload={"by": township, "reason": reason.strip()})


def reinstate(session: Session, *, incident_id: UUID, township: str, reason: str, at: datetime,
              actor: str | None = None) -> CaseStatus:
    """Take a duplicate or declined case of ``township`` back (→ triaged, to be whistled), with a reason."""
    at = require_aware(at, "at")
    case = _own_case(session, incident_id, township)
    status = next_case_status(case.status, CaseAction.REINSTATE, reason=reason)
    return _recorded(session, case, status=status, at=at, actor=actor, kind="reinstate",
                     payload={"by": township, "reason": reason.strip()})


def reclassify(session: Session, *, catalog: Catalog, incident_id: UUID, township: str, category: str,
               at: datetime, reason: str | None = None,
               actor: str | None = None) -> tuple[CaseStatus, ResponsibilityRule, str]:
    """File a case of ``township`` under ``category`` (改类): a code of the lists or its Chinese name.

    The rule is matched again at the case's place (its stored zones, the lists' precedence), so the lead, the
    assists and their deadlines are the new category's; the category the patrol sent stays on the incident
    (``reported_category``) so that its phone re-sending the report is not a conflict. A reported case is
    triaged by it; a whistled one is reclassified only once every department on it has been released (422 on
    ``status`` naming them), and may then be whistled again with the new plan. Refused on ``category``: an
    unknown category, the lists' placeholder (``classify_first``) and the category the case already has.
    Returns the new status, the rule now applying and the category before.
    """
    at = require_aware(at, "at")
    code = catalog.category_codes_by_name.get(category.strip(), category.strip())
    listed = catalog.categories.get(code)
    if listed is None:
        raise InvalidInput(f"unknown category {category!r}", field="category", kind="unknown")
    if listed.classify_first:
        raise InvalidInput(f"{code} is the placeholder for a category not yet known: name the problem's category",
                           field="category", kind="classify_first")
    case = _own_case(session, incident_id, township)
    if case.category == code:
        raise InvalidInput(f"case {incident_id} is already filed as {code}", field="category", kind="unchanged")
    status = next_case_status(case.status, CaseAction.RECLASSIFY)
    if case.status is CaseStatus.WHISTLED:
        _require_released(session, incident_id, "reclassifying the case")
    incident = incident_repo.get_incident(session, incident_id=incident_id)
    if incident is None:  # locked just now in this transaction
        raise NotFound(f"no case {incident_id}", field="incident_id")
    rule = rule_for(catalog, code, incident.zones)
    snapshot = rule_snapshot(catalog, rule)
    snapshot_id = incident_repo.ensure_rule_snapshots(session, snapshots=[snapshot])[snapshot["digest"]]
    dispatch_repo.set_case_category(session, incident_id=incident_id, category=code, rule_snapshot_id=snapshot_id,
                                    lead_department=rule.lead)
    payload: dict[str, object] = {"by": township, "from": case.category, "to": code, "rule_code": rule.code,
                                  "lead_department": rule.lead}
    if reason is not None and reason.strip():
        payload["reason"] = reason.strip()
    return _recorded(session, case, status=status, at=at, actor=actor, kind="reclassify",
                     payload=payload), rule, case.category
