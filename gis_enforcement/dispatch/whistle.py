"""The whistle (吹哨): summon departments to one case or to many at once.

Three modes here. In a **township whistle** (街乡吹哨、部门报到), the township whistles for cases in its own
jurisdiction. Its default is the proposed plan from the lists (lead plus assists), and it may add
departments the lists allow for the category. In a **lead-department whistle** (一门主责、其他配合), the lead
department of a case whistles assisting departments. Either way each department gets one assignment per
case, with its role and its deadlines counted from the whistle. A **joint-operation whistle** (联合执法, mode
``joint_plan``) is the district's: executing a supervisor's plan summons the plan's departments to the cases of
the district's townships like a township whistle does, but in the district's name (whistler ``district``, the
unit code of district-wide roles), so it is not counted among a township's own whistles. A joint whistle for
many cases is one call.
Anything outside the whistler's reach is refused with the reason; nothing is written then. Nor is a whistle
that would summon nobody new: it is refused, so a case's record holds no empty whistle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn
from uuid import UUID

from gis_enforcement.dispatch.record import CaseRecorder
from gis_enforcement.domain.case_flow import CaseAction, case_accepts_whistle, next_case_status
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.deadlines import deadlines_for, report_in_due, require_aware
from gis_enforcement.domain.enums import CaseStatus, Role
from gis_enforcement.domain.records import Assignment, CaseState, PlanItem
from gis_enforcement.errors import AlreadySummoned, InvalidInput, NotFound
from gis_enforcement.storage import Session, dispatch_repo

TOWNSHIP = "township"
LEAD_DEPARTMENT = "lead_department"
JOINT_PLAN = "joint_plan"
#: the whistler of a joint-operation whistle: the district (the unit code of district-wide roles)
DISTRICT = "district"
MODES = (TOWNSHIP, LEAD_DEPARTMENT, JOINT_PLAN)


@dataclass
class WhistleResult:
    """What one whistle did: its id, the cases it whistled (those it summoned someone to), the assignments it
    created, and departments already on a case."""

    whistle_id: int
    whistled_at: datetime
    incident_ids: list[UUID] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    already_summoned: list[tuple[UUID, str]] = field(default_factory=list)


def departments_allowed(catalog: Catalog, category: str) -> set[str]:
    """Departments the lists name for a category, in any of its rules (general or zone-specific)."""
    return {d for r in catalog.rules if r.category == category for d in r.departments}


def _summoned_for(case: CaseState, *, mode: str, whistler: str, current: Sequence[Assignment]) -> str | None:
    """The township the departments are summoned for: the case's; for a report no township holds, the township
    that took it up — the whistler of a township whistle, else the township its earlier summons were for."""
    if case.township_code is not None:
        return case.township_code
    if mode == TOWNSHIP:
        return whistler
    return next((a.township_code for a in current if a.township_code is not None), None)


def _plan_for(case: CaseState, catalog: Catalog, extra: Iterable[str], only: Iterable[str] | None) -> list[PlanItem]:
    """The case's proposed plan, narrowed to ``only`` (when given), plus ``extra`` departments as assists."""
    allowed = departments_allowed(catalog, case.category)
    plan = list(case.plan)
    if only is not None:
        wanted = list(dict.fromkeys(only))
        unknown = [d for d in wanted if d not in {p.department for p in plan}]
        plan = [p for p in plan if p.department in wanted]
        extra = [*unknown, *extra]
    lead = next((p for p in case.plan if p.role is Role.LEAD), None)
    template = lead or (plan[0] if plan else None)
    for dep in dict.fromkeys(extra):
        if dep in {p.department for p in plan}:
            continue
        if dep not in catalog.departments:
            raise InvalidInput(f"unknown department {dep!r}", field="departments")
        if dep not in allowed:
            raise InvalidInput(
                f"the lists do not name {dep} for category {case.category} (allowed: {', '.join(sorted(allowed))})",
                field="departments",
            )
        if template is None:
            raise InvalidInput(f"case {case.id} has no plan to take deadlines from", field="incident_ids")
        plan.append(PlanItem(dep, Role.ASSIST, template.report_in_minutes, template.resolution_hours))
    return plan


def whistle(
    session: Session,
    *,
    catalog: Catalog,
    incident_ids: Sequence[UUID],
    mode: str,
    whistler: str,
    at: datetime,
    actor: str | None = None,
    add_departments: Iterable[str] = (),
    only_departments: Iterable[str] | None = None,
    note: str | None = None,
    report_in_from: datetime | None = None,
) -> WhistleResult:
    """Summon departments to ``incident_ids`` (one or many: a joint whistle) at server time ``at``.

    ``mode`` is ``township`` (``whistler`` is a township code; every case must be in it), ``lead_department``
    (``whistler`` is a department code; it must be the lead of every case, and it may only summon assists) or
    ``joint_plan`` (a district joint operation: ``whistler`` is :data:`DISTRICT`; every case must lie in one of the
    district's townships; it summons as a township whistle does). ``add_departments`` are added as assists when the
    lists allow them for the category; ``only_departments`` narrows the proposed plan. A reported case is triaged
    first. Departments already summoned to a case are skipped and listed in the result; a case of a joint whistle
    with nobody new to summon is left out of it (no event, no change of state). When nobody new would be summoned to
    any case, nothing is written: ``AlreadySummoned`` (409) when every department is already on its case, listing
    them in ``already_summoned``; ``InvalidInput`` on ``departments`` when the plan is empty.

    ``report_in_from``: when the report-in clock starts, if later than ``at`` — a joint operation's planned
    arrival at the place, so that a department summoned at the start of the operation to a site the route
    reaches at 03:00 owes its report-in from then, not 30 minutes after the whistle. The resolution clock runs
    from ``at``.
    """
    at = require_aware(at, "at")
    clock_from = max(at, require_aware(report_in_from, "report_in_from")) if report_in_from is not None else at
    ids = list(dict.fromkeys(incident_ids))
    if not ids:
        raise InvalidInput("no case to whistle for", field="incident_ids")
    if mode not in MODES:
        raise InvalidInput(f"unknown whistle mode {mode!r}; use {', '.join(MODES)}", field="mode")
    if mode == JOINT_PLAN and whistler != DISTRICT:
        raise InvalidInput(f"a joint-operation whistle is the district's: whistler must be {DISTRICT!r}, "
                           f"not {whistler!r}", field="whistler")
    cases = dispatch_repo.lock_cases(session, incident_ids=ids)
    missing = [str(i) for i in ids if i not in cases]
    if missing:
        raise NotFound(f"no case {', '.join(missing)}", field="incident_ids")

    plans: dict[UUID, list[PlanItem]] = {}
    existing: dict[UUID, set[str]] = {}
    current_of: dict[UUID, list[Assignment]] = {}
    for cid in ids:
        case = cases[cid]
        status = case.status
        if status is CaseStatus.REPORTED:
            status = next_case_status(status, CaseAction.TRIAGE)
        if not case_accepts_whistle(status):
            raise InvalidInput(f"case {cid} is {case.status.value}: no whistle is possible", field="status")
        _require_classified(catalog, case)
        current = current_of[cid] = dispatch_repo.assignments_of(session, incident_id=cid)
        existing[cid] = {a.department for a in current}
        if mode == TOWNSHIP:
            # a report no township holds (outside the district, its fix within reach of some) may be taken up by
            # a township it may lie in: it is not left on nobody's desk
            candidate = case.township_code is None and whistler in case.border_townships
            if case.township_code != whistler and not candidate:
                where = case.township_code or "outside the district"
                near = f" (the townships it may lie in: {', '.join(case.border_townships)})" \
                    if case.township_code is None and case.border_townships else ""
                raise InvalidInput(f"case {cid} lies in {where}, not in township {whistler}{near}",
                                   field="incident_ids")
            plans[cid] = _plan_for(case, catalog, add_departments, only_departments)
        elif mode == JOINT_PLAN:
            if case.township_code is None:
                raise InvalidInput(f"case {cid} lies outside the district: a joint operation whistles only cases "
                                   "of the district's townships", field="incident_ids")
            plans[cid] = _plan_for(case, catalog, add_departments, only_departments)
        else:
            lead = next((a.department for a in current if a.role is Role.LEAD), None)
            lead = lead or next((p.department for p in case.plan if p.role is Role.LEAD), None)
            if lead != whistler:
                raise InvalidInput(f"{whistler} is not the lead department of case {cid} (lead: {lead})",
                                   field="whistler")
            assists = [d for d in add_departments if d != whistler]
            if not assists:
                raise InvalidInput("a lead-department whistle names the assisting departments", field="departments")
            plans[cid] = [p for p in _plan_for(case, catalog, assists, []) if p.department in assists]

    fresh: dict[UUID, list[PlanItem]] = {cid: [] for cid in ids}
    already: list[tuple[UUID, str]] = []
    for cid in ids:
        for item in plans[cid]:
            if item.department in existing[cid]:
                already.append((cid, item.department))
            else:
                fresh[cid].append(item)
    whistled = [cid for cid in ids if fresh[cid]]
    if not whistled:
        _refuse_empty(ids, already)

    whistle_id = dispatch_repo.insert_whistle(session, mode=mode, whistled_at=at, whistler_unit=whistler,
                                              actor=actor, note=note, incident_ids=whistled)
    result = WhistleResult(whistle_id=whistle_id, whistled_at=at, incident_ids=whistled, already_summoned=already)
    recorder = CaseRecorder(session, cases)
    rows = []
    for cid in whistled:
        summoned_for = _summoned_for(cases[cid], mode=mode, whistler=whistler, current=current_of[cid])
        for item in fresh[cid]:
            due = deadlines_for(at, report_in_minutes=item.report_in_minutes, resolution_hours=item.resolution_hours)
            rows.append({"incident_id": cid, "whistle_id": whistle_id, "department": item.department,
                         "role": item.role.value, "summoned_at": at, "township_code": summoned_for,
                         "report_in_due": report_in_due(clock_from, item.report_in_minutes),
                         "resolution_due": due.resolution_due})
    result.assignments = dispatch_repo.insert_assignments(session, rows=rows)

    by_case: dict[UUID, list[Assignment]] = {}
    for a in result.assignments:
        by_case.setdefault(a.incident_id, []).append(a)
    for cid in whistled:
        case = cases[cid]
        status = case.status
        if status is CaseStatus.REPORTED:
            status = next_case_status(status, CaseAction.TRIAGE)
            recorder.add(cid, at=at, actor=actor, kind="triage", payload={"by": whistler})
        if status in (CaseStatus.TRIAGED, CaseStatus.REOPENED):
            status = next_case_status(status, CaseAction.WHISTLE)
        dispatch_repo.set_case_status(session, incident_id=cid, status=status, whistled_at=at)
        recorder.add(cid, at=at, actor=actor, kind="whistle", payload={
            "whistle_id": whistle_id, "mode": mode, "whistler": whistler, "joint": len(whistled) > 1,
            **({"report_in_from": clock_from} if clock_from != at else {}),
            "summoned": [{"department": a.department, "role": a.role.value,
                          "report_in_due": a.report_in_due, "resolution_due": a.resolution_due}
                         for a in by_case.get(cid, [])],
        })
    return result


def unclassified_message(case_id: UUID | str, category: str) -> str:
    """Why a case filed under a ``classify_first`` placeholder is not whistled: the township names it first."""
    return (f"case {case_id} is filed as {category} (category unknown): the township classifies it (reclassify) "
            f"before anybody is whistled to it")


def _require_classified(catalog: Catalog, case: CaseState) -> None:
    category = catalog.categories.get(case.category)
    if category is not None and category.classify_first:
        raise InvalidInput(unclassified_message(case.id, case.category), field="category", kind="classify_first")


def _refuse_empty(ids: Sequence[UUID], already: Sequence[tuple[UUID, str]]) -> NoReturn:
    """A whistle that would summon nobody is not recorded: ``AlreadySummoned`` when every department it names
    is already on its case(s), ``InvalidInput`` on ``departments`` when it names none."""
    cases = ("case " if len(ids) == 1 else "cases ") + ", ".join(str(i) for i in ids)
    if already:
        raise AlreadySummoned(
            f"every department of the plan is already summoned to {cases}: nobody new to whistle",
            field="incident_ids",
            already_summoned=[{"incident_id": str(cid), "department": dep} for cid, dep in already])
    raise InvalidInput(f"no department to summon to {cases}: the plan is empty", field="departments")
