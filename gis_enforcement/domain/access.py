"""Who may do what, on which cases: roles scoped to a unit, the actions each role has, and the scope rules.

Deny by default: a role has exactly the actions listed in :data:`ROLE_ACTIONS`, and every case-level action is
checked against the caller's unit as well:

- a **township** (街乡) dispatcher sees its own cases and its neighbours' cases flagged near its border, and
  whistles, triages (marks duplicates, declines, takes back), verifies, closes, reopens and rates only its own;
  it reads the analyses (hot spots, recurring sites, trends) of its own township only (``analysis.read_own``)
  and the departments' record on its own cases (``evaluation.read_own``), never the district's
  (:func:`township_read_scope`);
- a **department** officer or chief sees the cases it was summoned to and acts only on its own assignments
  (a chief may also decline or hand back an assignment and read the department's warnings). The lists' township
  team (``TOWN``, 综合行政执法队) is one team per township: its officers name their township
  (``team_township``) and see and act on the summons of that township's team only;
- a **patrol** officer files incidents and sees the ones they filed, and records its patrol tracks (a township
  dispatcher reads the tracks recorded for its township);
- a **supervisor** (district) reads everything, runs the evaluation and the analyses, plans and executes joint
  operations and rules on declined assignments; it alone (with the admin) reads the written map pages
  (``map.read``): they are drawn district-wide and hold every township's cases;
- an **admin** does all of that and alone manages users, the four lists, the layers and the webhooks.

Pure: no I/O. The API turns a refusal into 403 (:class:`~gis_enforcement.errors.Forbidden`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gis_enforcement.domain.wording import with_article
from gis_enforcement.errors import Forbidden

__all__ = [
    "ACTIONS",
    "AssignmentScope",
    "ROLE_ACTIONS",
    "ROLE_UNIT",
    "CaseFacts",
    "Caller",
    "IncidentScope",
    "TrackScope",
    "Role",
    "UserRecord",
    "assignment_scope",
    "check",
    "check_any",
    "check_case",
    "check_department",
    "check_unit",
    "incident_scope",
    "may",
    "may_see_case",
    "may_read_track",
    "track_scope",
    "township_read_scope",
    "unit_filters",
]


class Role(StrEnum):
    PATROL = "patrol"
    TOWNSHIP_DISPATCHER = "township_dispatcher"
    DEPARTMENT_OFFICER = "department_officer"
    DEPARTMENT_CHIEF = "department_chief"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


#: The unit kinds a role may be scoped to.
ROLE_UNIT: dict[Role, tuple[str, ...]] = {
    Role.PATROL: ("township", "department"),
    Role.TOWNSHIP_DISPATCHER: ("township",),
    Role.DEPARTMENT_OFFICER: ("department",),
    Role.DEPARTMENT_CHIEF: ("department",),
    Role.SUPERVISOR: ("district",),
    Role.ADMIN: ("district",),
}

#: Every action the platform knows (the API names one per route).
ACTIONS: tuple[str, ...] = (
    "incident.create", "incident.read", "incident.whistle", "incident.triage", "incident.verify", "incident.resume",
    "assignment.read", "assignment.act", "assignment.decline", "assignment.rate", "assignment.overrule",
    "follow_up.request", "follow_up.done", "warning.read", "evaluation.read", "event.read",
    "analysis.read", "analysis.read_own", "evaluation.read_own", "plan.create", "plan.execute", "map.read",
    "webhook.read", "webhook.manage",
    "user.manage", "lists.manage", "layers.manage", "photo.add", "lists.read", "track.record", "track.read",
)

# ``incident.triage``: marking a report a duplicate, declining it (不予受理) or taking it back — the township's
# call on what it whistles for, apart from verifying the departments' work on site
_TOWNSHIP = {"incident.create", "incident.read", "incident.whistle", "incident.triage", "photo.add", "incident.verify",
             "assignment.read", "assignment.rate", "assignment.overrule", "follow_up.done", "warning.read",
             "event.read", "analysis.read_own", "evaluation.read_own"}
# a department whistles only as a case's lead, summoning assists (the route checks the mode and the unit)
_OFFICER = {"incident.read", "incident.whistle", "incident.resume", "photo.add", "assignment.read", "assignment.act",
            "follow_up.request", "event.read"}
_SUPERVISOR = {"incident.read", "assignment.read", "assignment.overrule", "warning.read", "evaluation.read",
               "event.read", "analysis.read", "plan.create", "plan.execute", "map.read", "webhook.read",
               "track.read"}

# every signed-in role reads the lists (categories, departments) the pages offer as choices
_EVERYONE = {"lists.read"}

ROLE_ACTIONS: dict[Role, frozenset[str]] = {
    Role.PATROL: frozenset({"incident.create", "incident.read", "photo.add", "track.record", "track.read"}
                           | _EVERYONE),
    Role.TOWNSHIP_DISPATCHER: frozenset(_TOWNSHIP | _EVERYONE | {"track.read"}),
    Role.DEPARTMENT_OFFICER: frozenset(_OFFICER | _EVERYONE),
    Role.DEPARTMENT_CHIEF: frozenset(_OFFICER | _EVERYONE | {"assignment.decline", "warning.read"}),
    Role.SUPERVISOR: frozenset(_SUPERVISOR | _EVERYONE),
    Role.ADMIN: frozenset(ACTIONS),
}
assert all(a in ACTIONS for actions in ROLE_ACTIONS.values() for a in actions)
# the written map pages (status, incidents, hot spots, townships, plans …) are drawn for the whole district
assert all(r in (Role.SUPERVISOR, Role.ADMIN) for r, actions in ROLE_ACTIONS.items() if "map.read" in actions)

#: why a role lacks an action, where the action's name alone does not say it
_REFUSAL_REASONS: dict[str, str] = {
    "map.read": "the map pages are drawn for the whole district (every township's cases); only the district "
                "(supervisor, admin) reads them",
}


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated user: who, in which role, for which unit (a township code, a department code, or the
    district), and how they proved it (``password`` token or ``api_key``)."""

    username: str
    role: Role
    unit_kind: str
    unit_code: str
    via: str = "password"
    team_township: str | None = None  # a township team's officer: the township whose team it serves

    @property
    def district_wide(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the scope rules need to know about a case; ``summoned`` pairs each department summoned with the
    township it was summoned for (a township team: which township's team)."""

    township_code: str | None
    border_townships: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    created_by: str | None = None
    summoned: tuple[tuple[str, str | None], ...] = ()


@dataclass(frozen=True, slots=True)
class IncidentScope:
    """The cases a caller may list: None fields do not restrict. A case is in scope when it is in one of
    ``townships``, or flagged near the border of one of ``border_of``, or has an assignment of one of
    ``departments`` (with ``team_township``: summoned for that township), or was filed by ``created_by`` (the
    restrictions that are set are alternatives)."""

    townships: tuple[str, ...] | None = None
    border_of: tuple[str, ...] | None = None
    departments: tuple[str, ...] | None = None
    created_by: str | None = None
    team_township: str | None = None

    @property
    def everything(self) -> bool:
        return self.townships is None and self.border_of is None and self.departments is None and \
            self.created_by is None


def may(caller: Caller, action: str) -> bool:
    """Whether ``caller``'s role has ``action`` at all (unknown actions: never)."""
    return action in ROLE_ACTIONS.get(caller.role, frozenset())


def check(caller: Caller, action: str) -> None:
    """Raise :class:`Forbidden` unless the role has ``action``."""
    if not may(caller, action):
        reason = _REFUSAL_REASONS.get(action)
        raise Forbidden(f"{with_article(caller.role.value)} may not do {action}" + (f": {reason}" if reason else ""),
                        field="role")


def check_any(caller: Caller, actions: Sequence[str]) -> None:
    """Raise :class:`Forbidden` unless the role has one of ``actions`` (the refusal names the first)."""
    if not any(may(caller, a) for a in actions):
        check(caller, actions[0])


def township_read_scope(caller: Caller, townships: Sequence[str] | None, *, whole: str, own: str,
                        field: str = "township") -> list[str] | None:
    """The townships a read by ``caller`` covers, given the township codes it asked for (None or empty: no
    filter). A role with ``whole`` (the district's read, e.g. ``analysis.read``) reads what it asked for (None:
    the whole district); a role with only ``own`` (``analysis.read_own``) reads its own township — by default,
    and a request naming any other township is refused (403 on ``field``), so it never reads district-wide.
    Neither: 403 on ``role`` naming ``whole``."""
    if may(caller, whole):
        return list(townships) if townships else None
    if not may(caller, own) or caller.unit_kind != "township":
        check(caller, whole)
        raise Forbidden(f"{with_article(caller.role.value)} may not do {own}", field="role")
    others = [t for t in townships or () if t != caller.unit_code]
    if others:
        raise Forbidden(f"you read {caller.unit_code} only, not {others[0]}", field=field)
    return [caller.unit_code]


def unit_filters(caller: Caller, township: str | None, department: str | None, *,
                 what: str) -> tuple[str | None, str | None]:
    """The township and department filters of a list of ``what`` (events, follow-up tasks …) narrowed to the
    caller's unit: the district reads what it asked for; a township its own township; a department its own
    department, and a township team's officer its own team's township too. A filter naming another unit is
    refused (403 on the filter), never widened nor silently emptied."""
    if caller.district_wide:
        return township, department
    if caller.unit_kind == "township":
        if township not in (None, caller.unit_code):
            raise Forbidden(f"you see the {what} of {caller.unit_code} only", field="township")
        return caller.unit_code, department
    if department not in (None, caller.unit_code):
        raise Forbidden(f"you see the {what} of {caller.unit_code} only", field="department")
    if caller.team_township is not None:
        if township not in (None, caller.team_township):
            raise Forbidden(f"you see the {what} of the team of {caller.team_township} only", field="township")
        return caller.team_township, caller.unit_code
    return township, caller.unit_code


def may_see_case(caller: Caller, case: CaseFacts) -> bool:
    """Whether the case is within what ``caller`` may read."""
    if caller.district_wide:
        return True
    if caller.role == Role.TOWNSHIP_DISPATCHER:
        return case.township_code == caller.unit_code or caller.unit_code in case.border_townships
    if caller.role in (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_CHIEF):
        if caller.team_township is not None:
            return (caller.unit_code, caller.team_township) in case.summoned
        return caller.unit_code in case.departments
    if caller.role == Role.PATROL:
        return case.created_by is not None and case.created_by == caller.username
    return False


def check_case(caller: Caller, action: str, case: CaseFacts) -> None:
    """Raise :class:`Forbidden` unless ``caller`` may do ``action`` on this case. Reading needs the case in
    scope; acting as a township needs the case to be the township's own (a neighbour only reads)."""
    check(caller, action)
    if caller.district_wide:
        return
    if not may_see_case(caller, case):
        raise Forbidden("this case is outside your unit", field="incident_id")
    if action.endswith(".read") or caller.role not in (Role.TOWNSHIP_DISPATCHER,):
        return
    if case.township_code != caller.unit_code:
        raise Forbidden("only the case's own township may do this (neighbours may read it)", field="incident_id")


def check_department(caller: Caller, action: str, department: str) -> None:
    """Raise :class:`Forbidden` unless ``caller`` may do ``action`` for ``department``'s assignment: a
    department acts only on its own; the district on any."""
    check(caller, action)
    if caller.district_wide:
        return
    if caller.unit_kind != "department" or caller.unit_code != department:
        raise Forbidden(f"only {department} may act on its assignment", field="department")


def check_unit(caller: Caller, unit: str | None, *, field: str) -> None:
    """Raise :class:`Forbidden` unless ``caller`` acts for ``unit`` (the township or department a request
    names as the one acting); the district may act for any."""
    if caller.district_wide:
        return
    if unit != caller.unit_code:
        raise Forbidden(f"you act for {caller.unit_code}, not {unit}", field=field)


def incident_scope(caller: Caller) -> IncidentScope:
    """The cases ``caller`` may list (everything for the district)."""
    if caller.district_wide:
        return IncidentScope()
    if caller.role == Role.TOWNSHIP_DISPATCHER:
        return IncidentScope(townships=(caller.unit_code,), border_of=(caller.unit_code,))
    if caller.role in (Role.DEPARTMENT_OFFICER, Role.DEPARTMENT_CHIEF):
        return IncidentScope(departments=(caller.unit_code,), team_township=caller.team_township)
    return IncidentScope(created_by=caller.username)


@dataclass(frozen=True, slots=True)
class AssignmentScope:
    """The assignments a caller may list: None fields do not restrict (all None: every assignment).
    ``township`` is the case's; ``team_township`` the township the department was summoned for (a township
    team's own summons)."""

    department: str | None = None
    township: str | None = None
    team_township: str | None = None


def assignment_scope(caller: Caller) -> AssignmentScope:
    """A department lists its own assignments, a township those on its own cases, the district all of them.
    Raises :class:`Forbidden` for a role without ``assignment.read``."""
    check(caller, "assignment.read")
    if caller.district_wide:
        return AssignmentScope()
    if caller.role == Role.TOWNSHIP_DISPATCHER:
        return AssignmentScope(township=caller.unit_code)
    return AssignmentScope(department=caller.unit_code, team_township=caller.team_township)


@dataclass(frozen=True, slots=True)
class TrackScope:
    """The patrol tracks a caller may list: None fields do not restrict (both None: every track)."""

    officer: str | None = None
    township: str | None = None


def track_scope(caller: Caller) -> TrackScope:
    """A patrol reads the tracks it recorded, a township dispatcher those recorded for its township, the
    district every track (departments read none: they have no ``track.read``)."""
    if caller.district_wide:
        return TrackScope()
    if caller.role == Role.TOWNSHIP_DISPATCHER:
        return TrackScope(township=caller.unit_code)
    return TrackScope(officer=caller.username)


def may_read_track(caller: Caller, *, officer: str, township_code: str | None) -> bool:
    """Whether ``caller`` may read a track ``officer`` recorded for ``township_code`` (see :func:`track_scope`)."""
    if not may(caller, "track.read"):
        return False
    scope = track_scope(caller)
    if scope.officer is not None and scope.officer != officer:
        return False
    return scope.township is None or scope.township == township_code


def roles_with(action: str) -> list[Role]:
    """The roles that have ``action`` (for documentation and tests)."""
    return [r for r, actions in ROLE_ACTIONS.items() if action in actions]


def parse_role(value: str, allowed: Iterable[Role] | None = None) -> Role:
    """A role from its name, or Forbidden/ValueError naming the choices."""
    try:
        role = Role(value)
    except ValueError:
        raise ValueError(f"unknown role {value!r}: one of {', '.join(r.value for r in Role)}") from None
    if allowed is not None and role not in set(allowed):
        raise ValueError(f"role {value!r} is not allowed here")
    return role


def unit_kinds(role: Role) -> Sequence[str]:
    return ROLE_UNIT[role]


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A stored user (the password hash stays in storage and the credentials service)."""

    id: int
    username: str
    display_name: str | None
    role: Role
    unit_kind: str
    unit_code: str
    disabled: bool
    team_township: str | None = None

    def caller(self, via: str = "password") -> Caller:
        return Caller(self.username, self.role, self.unit_kind, self.unit_code, via, self.team_township)
