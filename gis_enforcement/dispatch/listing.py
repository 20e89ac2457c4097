"""Assignments across cases for the department console: a department's own, a township's cases', or all."""

from __future__ import annotations

from typing import Any

from gis_enforcement.domain.access import Caller, assignment_scope
from gis_enforcement.domain.case_flow import OPEN_ASSIGNMENT, AssignmentStatus
from gis_enforcement.domain.records import Assignment
from gis_enforcement.storage import Session, dispatch_repo

__all__ = ["list_assignments"]


def list_assignments(session: Session, *, caller: Caller, open_only: bool | None, department: str | None,
                     township: str | None, limit: int, offset: int,
                     ) -> tuple[list[tuple[Assignment, dict[str, Any]]], int]:
    """The assignments within ``caller``'s scope (filtered, never refused), each with a summary of its case,
    soonest report-in due first, and how many match. ``open_only`` True keeps the ones still owed (summoned,
    reported in, acting), False the others (done, declined, released), None all; ``department`` and
    ``township`` (the case's) narrow further — outside the caller's scope they match nothing. A township team's
    officer lists its own team's summons (those for its township).

    A lead's ``resolution_due`` is the due time its W05 counts against: the whistle's, moved on by the time its case
    waited resolved before the township reopened it (:func:`~gis_enforcement.storage.dispatch_repo.lead_paused_s`),
    so a console counts down to the same moment the warning is raised at."""
    scope = assignment_scope(caller)
    if (scope.department and department not in (None, scope.department)) or \
            (scope.township and township not in (None, scope.township)):
        return [], 0
    statuses = None if open_only is None else sorted(
        s.value for s in AssignmentStatus if (s in OPEN_ASSIGNMENT) == open_only)
    return dispatch_repo.assignment_list(session, statuses=statuses, department=scope.department or department,
                                         township=scope.township or township, limit=limit, offset=offset,
                                         team_township=scope.team_township)
