"""部门要求、街乡落实: after enforcement a department hands follow-up to the township (daily management,
village or community work) with a deadline in working days; the township reports it done."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gis_enforcement.dispatch.record import CaseRecorder
from gis_enforcement.domain.calendar import WorkCalendar
from gis_enforcement.domain.deadlines import require_aware
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.storage import Session, dispatch_repo


def request_follow_up(session: Session, *, calendar: WorkCalendar, incident_id: UUID, department: str, task: str,
                      working_days: int, at: datetime, actor: str | None = None) -> int:
    """A department that acted on the case asks its township to carry ``task`` out within ``working_days``
    working days (24:00 of the N-th working day, 调休 included). Returns the task id."""
    at = require_aware(at, "at")
    if not task.strip():
        raise InvalidInput("say what the township is to do", field="task")
    if working_days < 1:
        raise InvalidInput("give at least one working day", field="working_days")
    cases = dispatch_repo.lock_cases(session, incident_ids=[incident_id])
    if incident_id not in cases:
        raise NotFound(f"no case {incident_id}", field="incident_id")
    case = cases[incident_id]
    assignment = dispatch_repo.lock_assignment(session, incident_id=incident_id, department=department)
    if assignment is None or assignment.status not in ("acting", "done"):
        raise InvalidInput(f"{department} has not acted on case {incident_id}; only a department that enforced "
                           "may hand follow-up to the township", field="department")
    if case.township_code is None:
        raise InvalidInput(f"case {incident_id} is outside every township: no township to hand it to",
                           field="incident_id")
    due = calendar.add_working_days(at, working_days)
    task_id = dispatch_repo.insert_follow_up(session, incident_id=incident_id, requested_by=department,
                                             township_code=case.township_code, task=task, requested_at=at,
                                             due_at=due)
    CaseRecorder(session, cases).add(incident_id, at=at, actor=actor, kind="follow_up_request", payload={
        "task_id": task_id, "by": department, "township": case.township_code, "task": task, "due_at": due})
    return task_id


def complete_follow_up(session: Session, *, task_id: int, township: str, at: datetime, note: str | None = None,
                       actor: str | None = None) -> None:
    """The township reports a follow-up task done."""
    at = require_aware(at, "at")
    row = dispatch_repo.lock_follow_up(session, task_id=task_id)
    if row is None:
        raise NotFound(f"no follow-up task {task_id}", field="task_id")
    if row["township_code"] != township:
        raise InvalidInput(f"task {task_id} belongs to township {row['township_code']}", field="township")
    if row["status"] != "open":
        raise InvalidInput(f"task {task_id} is already {row['status']}", field="status")
    cases = dispatch_repo.lock_cases(session, incident_ids=[row["incident_id"]])
    dispatch_repo.finish_follow_up(session, task_id=task_id, done_at=at, note=note)
    CaseRecorder(session, cases).add(row["incident_id"], at=at, actor=actor, kind="follow_up_done", payload={
        "task_id": task_id, "township": township, "note": note, "late": at > row["due_at"]})
