"""The case and assignment state machines as explicit tables, and the rules for closing and declining.

**Cases.** ``reported → triaged → whistled → in_action → resolved → verified → closed``. Side exits: ``reject``
(not a violation) from reported, triaged or whistled (the departments on site may find nothing to enforce),
and ``mark_duplicate`` (linked to another case) from reported or triaged. A rejected or duplicate case can be
``reinstate``-d to triaged when that call was wrong. **Reopening** always passes through the ``reopened``
state so the timeline shows it: the township reopens a resolved case (verification failed on site), a
verified case, or a closed one (the problem turned out not to be fixed); from ``reopened`` the case either
``resume``-s (→ in_action: the same departments go back to work, their done assignments ``reopen`` to
acting) or is ``whistle``-d again (→ whistled: a fresh summons, when other or more departments are needed).
A new problem at the same place after closure is a *recurrence* (a new case linked to the old one), not a
reopen.

**Assignments** (one per department on a case). ``summoned → reported_in → acting → done``. A summoned
department may ``decline`` (with a reason); the township then either ``overrule``-s the decline (→ summoned:
退单无效、维持主责) or ``release``-s the department. The township may release a department at any point
before it is done; a done assignment ``reopen``-s to acting when its case resumes.

Actions that change a record's meaning require a reason (see :data:`CASE_REASON_REQUIRED` and
:data:`ASSIGNMENT_REASON_REQUIRED`). Every refusal is an :class:`~gis_enforcement.errors.InvalidInput` on
``status`` (or ``action`` / ``reason``) whose message names the current state, the action and the allowed
actions. Pure: no I/O; dispatch persists the result and writes the event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

from gis_enforcement.domain.enums import CaseStatus, Role
from gis_enforcement.domain.wording import with_article
from gis_enforcement.errors import InvalidInput

__all__ = [
    "ASSIGNMENT_ACTORS",
    "ASSIGNMENT_REASON_REQUIRED",
    "ASSIGNMENT_TRANSITIONS",
    "CASE_REASON_REQUIRED",
    "CASE_TRANSITIONS",
    "LEAD_DECLINE_WARNING",
    "AssignmentAction",
    "AssignmentStatus",
    "CaseAction",
    "DeclineAssessment",
    "DeclineGround",
    "allowed_assignment_actions",
    "allowed_case_actions",
    "case_accepts_whistle",
    "OPEN_ASSIGNMENT",
    "case_can_close",
    "lead_may_decline",
    "next_assignment_status",
    "next_case_status",
]


class AssignmentStatus(StrEnum):
    """States of one department's assignment on a case."""

    SUMMONED = "summoned"        # whistled, not yet on site
    REPORTED_IN = "reported_in"  # checked in on site (报到)
    ACTING = "acting"            # enforcing
    DONE = "done"                # its part finished
    DECLINED = "declined"        # refused the summons, with a reason (pending the township's decision)
    RELEASED = "released"        # let go by the township


#: the assignments a department still owes work on (not done, declined or released)
OPEN_ASSIGNMENT = frozenset({AssignmentStatus.SUMMONED, AssignmentStatus.REPORTED_IN, AssignmentStatus.ACTING})


class CaseAction(StrEnum):
    """What can happen to a case; the names appear in events and error messages."""

    TRIAGE = "triage"
    REJECT = "reject"
    MARK_DUPLICATE = "mark_duplicate"
    REINSTATE = "reinstate"
    RECLASSIFY = "reclassify"
    WHISTLE = "whistle"
    START_ACTION = "start_action"
    RESOLVE = "resolve"
    VERIFY = "verify"
    CLOSE = "close"
    REOPEN = "reopen"
    RESUME = "resume"


class AssignmentAction(StrEnum):
    """What can happen to an assignment."""

    REPORT_IN = "report_in"
    START_ACTION = "start_action"
    COMPLETE = "complete"
    DECLINE = "decline"
    OVERRULE = "overrule"
    RELEASE = "release"
    REOPEN = "reopen"


_K = TypeVar("_K")
_V = TypeVar("_V")


def _frozen(table: dict[_K, dict[_V, _K]]) -> Mapping[_K, Mapping[_V, _K]]:
    return MappingProxyType({state: MappingProxyType(moves) for state, moves in table.items()})


_C, _CA = CaseStatus, CaseAction
CASE_TRANSITIONS: Mapping[CaseStatus, Mapping[CaseAction, CaseStatus]] = _frozen({
    _C.REPORTED: {_CA.TRIAGE: _C.TRIAGED, _CA.REJECT: _C.REJECTED, _CA.MARK_DUPLICATE: _C.DUPLICATE,
                  _CA.RECLASSIFY: _C.TRIAGED},
    _C.TRIAGED: {_CA.WHISTLE: _C.WHISTLED, _CA.REJECT: _C.REJECTED, _CA.MARK_DUPLICATE: _C.DUPLICATE,
                 _CA.RECLASSIFY: _C.TRIAGED},
    _C.WHISTLED: {_CA.START_ACTION: _C.IN_ACTION, _CA.REJECT: _C.REJECTED, _CA.RECLASSIFY: _C.WHISTLED},
    _C.IN_ACTION: {_CA.RESOLVE: _C.RESOLVED},
    _C.RESOLVED: {_CA.VERIFY: _C.VERIFIED, _CA.REOPEN: _C.REOPENED},
    _C.VERIFIED: {_CA.CLOSE: _C.CLOSED, _CA.REOPEN: _C.REOPENED},
    _C.CLOSED: {_CA.REOPEN: _C.REOPENED},
    _C.REOPENED: {_CA.RESUME: _C.IN_ACTION, _CA.WHISTLE: _C.WHISTLED},
    _C.REJECTED: {_CA.REINSTATE: _C.TRIAGED},
    _C.DUPLICATE: {_CA.REINSTATE: _C.TRIAGED},
})
"""state → {action → next state}; a (state, action) pair not in the table is refused."""

_AS, _AA = AssignmentStatus, AssignmentAction
ASSIGNMENT_TRANSITIONS: Mapping[AssignmentStatus, Mapping[AssignmentAction, AssignmentStatus]] = _frozen({
    _AS.SUMMONED: {_AA.REPORT_IN: _AS.REPORTED_IN, _AA.DECLINE: _AS.DECLINED, _AA.RELEASE: _AS.RELEASED},
    _AS.REPORTED_IN: {_AA.START_ACTION: _AS.ACTING, _AA.RELEASE: _AS.RELEASED},
    _AS.ACTING: {_AA.COMPLETE: _AS.DONE, _AA.RELEASE: _AS.RELEASED},
    _AS.DONE: {_AA.REOPEN: _AS.ACTING},
    _AS.DECLINED: {_AA.OVERRULE: _AS.SUMMONED, _AA.RELEASE: _AS.RELEASED},
    _AS.RELEASED: {},
})
"""state → {action → next state} for assignments; ``released`` is terminal."""

#: who takes each assignment action: the summoned department, the township that whistled (its review of a
#: decline, a release), or the case (a done assignment reopens when its case resumes)
ASSIGNMENT_ACTORS: Mapping[AssignmentAction, str] = MappingProxyType({
    _AA.REPORT_IN: "department", _AA.START_ACTION: "department", _AA.COMPLETE: "department",
    _AA.DECLINE: "department", _AA.OVERRULE: "township", _AA.RELEASE: "township", _AA.REOPEN: "case",
})
_ACTOR_WORDS = {"department": "the department may", "township": "the township may",
                "case": "the case's resumption may"}

CASE_REASON_REQUIRED: frozenset[CaseAction] = frozenset(
    {CaseAction.REJECT, CaseAction.REOPEN, CaseAction.REINSTATE}
)
ASSIGNMENT_REASON_REQUIRED: frozenset[AssignmentAction] = frozenset(
    {AssignmentAction.DECLINE, AssignmentAction.OVERRULE, AssignmentAction.RELEASE}
)

# States in which more departments may be whistled onto a case (joint whistle, lead whistling assists).
_WHISTLE_OPEN = frozenset({CaseStatus.TRIAGED, CaseStatus.WHISTLED, CaseStatus.IN_ACTION, CaseStatus.REOPENED})

LEAD_DECLINE_WARNING = "W06"
"""Warning-list rule for a lead declining without grounds (推诿/无依据退单)."""

_E = TypeVar("_E", bound=StrEnum)
_St = TypeVar("_St", bound=StrEnum)
_Ac = TypeVar("_Ac", bound=StrEnum)


def _coerce(enum: type[_E], value: Any, field: str) -> _E:
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(m.value for m in enum)
        raise InvalidInput(f"unknown {field} {value!r}; known: {known}", field=field) from None


def _open_moves(allowed: Iterable[_Ac], actors: Mapping[Any, str] | None, by: str | None) -> tuple[str, list[str]]:
    """The allowed actions as the refusal says them, and as its ``detail.allowed`` lists them: only those
    open to ``by`` when the one who tried is known; else each with who takes it, when that is known."""
    moves = list(allowed)
    if not moves:
        return "allowed actions: none (terminal state)", []
    if actors is not None and by is not None:
        mine = [a.value for a in moves if actors.get(a) == by]
        if mine:
            return f"{_ACTOR_WORDS.get(by, by)}: {', '.join(mine)}", mine
        others = "; ".join(f"{_ACTOR_WORDS.get(actors.get(a, ''), 'another')} {a.value}" for a in moves)
        return f"nothing is open to the {by} in this state ({others})", mine
    if actors is None:
        return f"allowed actions: {', '.join(a.value for a in moves)}", [a.value for a in moves]
    groups: dict[str, list[str]] = {}
    for a in moves:
        groups.setdefault(actors.get(a, "anyone"), []).append(a.value)
    said = "; ".join(f"{_ACTOR_WORDS.get(who, who)}: {', '.join(names)}" for who, names in groups.items())
    return f"allowed actions — {said}", [a.value for a in moves]


def _transition(
    kind: str,
    table: Mapping[_St, Mapping[_Ac, _St]],
    current: _St,
    action: _Ac,
    reason: str | None,
    reason_required: frozenset[_Ac],
    actors: Mapping[Any, str] | None = None,
    by: str | None = None,
) -> _St:
    allowed = table[current]
    if action not in allowed:
        said, names = _open_moves(allowed, actors, by)
        raise InvalidInput(
            f"cannot {action.value} {with_article(kind)} in state {current.value}; {said}",
            field="status",
            current=current.value,
            action=action.value,
            allowed=names,
            **({"by": by} if by is not None and actors is not None else {}),
        )
    if action in reason_required and (reason is None or not reason.strip()):
        raise InvalidInput(f"{action.value} on {with_article(kind)} requires a reason", field="reason",
                           action=action.value)
    return allowed[action]


def allowed_case_actions(current: CaseStatus | str) -> tuple[CaseAction, ...]:
    """The actions a case in ``current`` accepts, in table order (empty for none)."""
    return tuple(CASE_TRANSITIONS[_coerce(CaseStatus, current, "status")])


def allowed_assignment_actions(current: AssignmentStatus | str) -> tuple[AssignmentAction, ...]:
    """The actions an assignment in ``current`` accepts, in table order (empty for a terminal state)."""
    return tuple(ASSIGNMENT_TRANSITIONS[_coerce(AssignmentStatus, current, "status")])


def next_case_status(current: CaseStatus | str, action: CaseAction | str, *, reason: str | None = None) -> CaseStatus:
    """The case state after ``action``, or ``InvalidInput`` naming the state, the action and the allowed ones.

    ``reject``, ``reopen`` and ``reinstate`` need a non-blank ``reason`` (``InvalidInput`` on ``reason``).
    Closing also needs :func:`case_can_close` to agree; dispatch checks both before writing anything.
    """
    state, act = _coerce(CaseStatus, current, "status"), _coerce(CaseAction, action, "action")
    return _transition("case", CASE_TRANSITIONS, state, act, reason, CASE_REASON_REQUIRED)


def next_assignment_status(
    current: AssignmentStatus | str, action: AssignmentAction | str, *, reason: str | None = None,
    by: str | None = None,
) -> AssignmentStatus:
    """The assignment state after ``action``, or ``InvalidInput`` naming the state, action and allowed ones.

    The refusal lists only the actions open to ``by`` (``department`` or ``township``: who tried, see
    :data:`ASSIGNMENT_ACTORS`) when given, else every allowed action with who takes it; ``detail.allowed``
    holds the same actions. ``decline``, ``overrule`` and ``release`` need a non-blank ``reason``. Whether a
    *lead* may decline at all is :func:`lead_may_decline`'s question, asked before this one.
    """
    state, act = _coerce(AssignmentStatus, current, "status"), _coerce(AssignmentAction, action, "action")
    return _transition("assignment", ASSIGNMENT_TRANSITIONS, state, act, reason, ASSIGNMENT_REASON_REQUIRED,
                       ASSIGNMENT_ACTORS, by)


def case_accepts_whistle(current: CaseStatus | str) -> bool:
    """Whether departments may be (further) whistled onto a case in ``current``.

    True for triaged (the first whistle), whistled and in_action (the lead whistling assists, a joint
    whistle adding departments) and reopened (a fresh whistle). Adding departments to a case already
    whistled is not a case transition: the case keeps its state.
    """
    return _coerce(CaseStatus, current, "status") in _WHISTLE_OPEN


def case_can_close(
    lead_status: AssignmentStatus | str,
    assist_statuses: Mapping[str, AssignmentStatus | str] | Iterable[AssignmentStatus | str],
) -> tuple[bool, str]:
    """Whether a case may close: the lead's closure is in (``done``) and every assist is done or released.

    ``assist_statuses`` maps department codes to statuses (so the reason can name who is missing) or is a
    plain iterable of statuses. Returns ``(True, "")`` or ``(False, reason)``; a declined assist blocks
    closure until the township overrules or releases it.
    """
    lead = _coerce(AssignmentStatus, lead_status, "lead_status")
    items = (
        list(assist_statuses.items())
        if isinstance(assist_statuses, Mapping)
        else [(f"assist #{i + 1}", s) for i, s in enumerate(assist_statuses)]
    )
    pending = [
        f"{who} ({status.value})"
        for who, raw in items
        if (status := _coerce(AssignmentStatus, raw, "assist_statuses"))
        not in (AssignmentStatus.DONE, AssignmentStatus.RELEASED)
    ]
    problems = []
    if lead is not AssignmentStatus.DONE:
        problems.append(f"the lead's closure is not in (lead is {lead.value})")
    if pending:
        problems.append("assists not done or released: " + ", ".join(pending))
    return (not problems, "; ".join(problems))


class DeclineGround(StrEnum):
    """Grounds on which a department listed as lead may decline a whistle (to be reviewed by the township)."""

    WRONG_CATEGORY = "wrong_category"              # the problem is of another category than whistled
    OUTSIDE_JURISDICTION = "outside_jurisdiction"  # the site is outside the department's territory/powers


@dataclass(frozen=True, slots=True)
class DeclineAssessment:
    """The verdict on a decline: whether it stands, whether the township must review it, and any warning.

    ``allowed`` False means the decline is void and the assignment keeps its role (退单无效、维持主责).
    ``warning_rule`` is the warning-list rule to raise (``W06``) or None.
    """

    allowed: bool
    needs_review: bool
    warning_rule: str | None
    message: str


def lead_may_decline(
    *,
    role: Role | str,
    listed_as_lead: bool,
    ground: DeclineGround | str | None,
    reason: str | None,
) -> DeclineAssessment:
    """Judge a decline: a department the 权责清单 names as lead may not decline without grounds (W06).

    - an assist may decline with a reason; the township reviews it (overrule or release);
    - a department whistled as lead that the lists do *not* name as lead may decline with a reason: the
      whistle was mis-routed; the township reviews it;
    - a listed lead may decline only on a :class:`DeclineGround` with a reason, reviewed by the township;
      without one the decline is void, the lead role stands and ``W06`` is raised.
    A blank reason never makes a decline valid. Pure: the caller records the event and the warning.
    """
    who = _coerce(Role, role, "role")
    why = (reason or "").strip()
    grounds = None if ground is None else _coerce(DeclineGround, ground, "ground")
    if who is Role.ASSIST or not listed_as_lead:
        if not why:
            return DeclineAssessment(False, False, None, "a decline needs a reason")
        return DeclineAssessment(True, True, None, "decline recorded; the township overrules or releases")
    if grounds is not None and why:
        return DeclineAssessment(
            True, True, None, f"lead decline on ground {grounds.value} recorded; the township overrules or releases"
        )
    return DeclineAssessment(
        False,
        False,
        LEAD_DECLINE_WARNING,
        "the lists name this department as lead and no ground was given: 退单无效、维持主责 (W06)",
    )
