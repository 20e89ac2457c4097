"""Closing the loop: the lead resolves, the township verifies on site (or reopens), the case closes when the
lead's closure is in and every assist is done or released."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from gis_enforcement.dispatch.record import CaseRecorder
from gis_enforcement.domain.case_flow import (
    AssignmentAction,
    CaseAction,
    case_can_close,
    next_assignment_status,
    next_case_status,
)
from gis_enforcement.domain.deadlines import require_aware
from gis_enforcement.domain.enums import CaseStatus, Role
from gis_enforcement.domain.records import Assignment, CaseState
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.storage import Session, dispatch_repo


def _case(session: Session, incident_id: UUID) -> CaseState:
    cases = dispatch_repo.lock_cases(session, incident_ids=[incident_id])
    if incident_id not in cases:
        raise NotFound(f"no case {incident_id}", field="incident_id")
    return cases[incident_id]


def _pending(assignments: Sequence[Assignment]) -> list[dict[str, Any]]:
    """Who keeps a case from closing, as facts a page can word: the lead while its closure is not in, then
    every assist neither done nor released (``department``, ``role``, ``status``), in summons order."""
    lead = next((a for a in assignments if a.role is Role.LEAD), None)
    out = [] if lead is None or lead.status == "done" else [
        {"department": lead.department, "role": Role.LEAD.value, "status": lead.status}]
    return out + [{"department": a.department, "role": Role.ASSIST.value, "status": a.status}
                  for a in assignments if a.role is Role.ASSIST and a.status not in ("done", "released")]


def pending_of(session: Session, *, incident_id: UUID) -> list[dict[str, Any]]:
    """The departments a case still waits for before it may close (see :func:`close`); empty when none."""
    return _pending(dispatch_repo.assignments_of(session, incident_id=incident_id))


def resolve(session: Session, *, incident_id: UUID, department: str, at: datetime, summary: str,
            actor: str | None = None) -> CaseStatus:
    """The lead department reports the problem resolved (in_action → resolved); its own part must be done."""
    case = _case(session, incident_id)
    assignments = dispatch_repo.assignments_of(session, incident_id=incident_id)
    lead = next((a for a in assignments if a.role is Role.LEAD), None)
    if lead is None or lead.department != department:
        raise InvalidInput(f"only the lead department ({lead.department if lead else 'none'}) resolves a case",
                           field="department")
    if lead.status != "done":
        raise InvalidInput(f"the lead's part is {lead.status}; complete it before resolving", field="status")
    status = next_case_status(case.status, CaseAction.RESOLVE)
    dispatch_repo.set_case_status(session, incident_id=incident_id, status=status)
    CaseRecorder(session, {incident_id: case}).add(incident_id, at=require_aware(at, "at"), actor=actor,
                                                   kind="resolve", payload={"by": department, "summary": summary})
    return status


def verify(session: Session, *, incident_id: UUID, township: str, at: datetime, note: str | None = None,
           actor: str | None = None) -> tuple[CaseStatus, str]:
    """The township confirms the resolution on site (resolved → verified) and closes the case when it may.

    Returns the new status and, when the case stays open, why (e.g. an assist not yet done or released).
    """
    case = _case(session, incident_id)
    if case.township_code != township:
        raise InvalidInput(f"case {incident_id} is not in township {township}", field="township")
    at = require_aware(at, "at")
    status = next_case_status(case.status, CaseAction.VERIFY)
    recorder = CaseRecorder(session, {incident_id: case})
    recorder.add(incident_id, at=at, actor=actor, kind="verify", payload={"by": township, "note": note})
    assignments = dispatch_repo.assignments_of(session, incident_id=incident_id)
    lead = next((a for a in assignments if a.role is Role.LEAD), None)
    ok, why = case_can_close(lead.status if lead else "summoned",
                             {a.department: a.status for a in assignments if a.role is Role.ASSIST})
    if ok:
        status = next_case_status(status, CaseAction.CLOSE)
        recorder.add(incident_id, at=at, actor=actor, kind="close", payload={"by": township})
    dispatch_repo.set_case_status(session, incident_id=incident_id, status=status,
                                  closed_at=at if status is CaseStatus.CLOSED else None)
    return status, why


def reopen(session: Session, *, incident_id: UUID, township: str, reason: str, at: datetime,
           actor: str | None = None) -> CaseStatus:
    """The township reopens a resolved, verified or closed case with a reason (not fixed on site)."""
    case = _case(session, incident_id)
    if case.township_code != township:
        raise InvalidInput(f"case {incident_id} is not in township {township}", field="township")
    status = next_case_status(case.status, CaseAction.REOPEN, reason=reason)
    dispatch_repo.set_case_status(session, incident_id=incident_id, status=status)
    CaseRecorder(session, {incident_id: case}).add(incident_id, at=require_aware(at, "at"), actor=actor,
                                                   kind="reopen", payload={"by": township, "reason": reason})
    return status


def close(session: Session, *, incident_id: UUID, township: str, at: datetime, actor: str | None = None) -> CaseStatus:
    """Close a verified case once the lead's closure is in and every assist is done or released; refused on
    ``status`` otherwise, ``detail.pending`` listing who is still out (``department``, ``role``, ``status``)."""
    case = _case(session, incident_id)
    if case.township_code != township:
        raise InvalidInput(f"case {incident_id} is not in township {township}", field="township")
    assignments = dispatch_repo.assignments_of(session, incident_id=incident_id)
    lead = next((a for a in assignments if a.role is Role.LEAD), None)
    ok, why = case_can_close(lead.status if lead else "summoned",
                             {a.department: a.status for a in assignments if a.role is Role.ASSIST})
    if not ok:
        raise InvalidInput(f"case {incident_id} cannot close yet: {why}", field="status",
                           pending=_pending(assignments))
    at = require_aware(at, "at")
    status = next_case_status(case.status, CaseAction.CLOSE)
    dispatch_repo.set_case_status(session, incident_id=incident_id, status=status, closed_at=at)
    CaseRecorder(session, {incident_id: case}).add(incident_id, at=at, actor=actor, kind="close",
                                                   payload={"by": township})
    return status


def resume(session: Session, *, incident_id: UUID, department: str, at: datetime,
           actor: str | None = None) -> CaseStatus:
    """The lead department takes a reopened case back (reopened → in_action); its part, if done, is open again
    (done → acting) — 事不完、人不撤 — so it resolves the case anew."""
    case = _case(session, incident_id)
    assignments = dispatch_repo.assignments_of(session, incident_id=incident_id)
    lead = next((a for a in assignments if a.role is Role.LEAD), None)
    if lead is None or lead.department != department:
        raise InvalidInput(f"only the lead department ({lead.department if lead else 'none'}) resumes a case",
                           field="department")
    at = require_aware(at, "at")
    status = next_case_status(case.status, CaseAction.RESUME)
    if lead.status == "done":
        back = next_assignment_status(lead.status, AssignmentAction.REOPEN)
        dispatch_repo.update_assignment(session, assignment_id=lead.id, status=back.value, done_at=None)
    dispatch_repo.set_case_status(session, incident_id=incident_id, status=status)
    CaseRecorder(session, {incident_id: case}).add(incident_id, at=at, actor=actor, kind="resume",
                                                   payload={"by": department})
    return status
