"""On site: report-in (报到) as a GPS check-in inside the category's geofence, then action, records and done.

Report-in is timed by the server's clock against the assignment's due time; the device's clock is kept only
as skew. A report-in queued on a phone without signal is timed at its fix, by the server's clock less the wait
the phone measured (:func:`~gis_enforcement.domain.deadlines.queued_fix_time`). A check-in from outside the
geofence is refused with the distance and changes nothing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from gis_enforcement.dispatch.record import CaseRecorder
from gis_enforcement.domain.case_flow import (
    ASSIGNMENT_ACTORS,
    AssignmentAction,
    CaseAction,
    lead_may_decline,
    next_assignment_status,
    next_case_status,
)
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.deadlines import CLOCK_SKEW, report_in_timing, require_aware
from gis_enforcement.domain.enums import CaseStatus
from gis_enforcement.domain.escalation import ABSENT_AFTER_MIN, no_show_key
from gis_enforcement.domain.geofence import accuracy_allowance_m, case_allowance_m, outside_fence_message
from gis_enforcement.domain.records import Assignment, CaseState
from gis_enforcement.domain.zone import DEFAULT_TIMEZONE, district_zone
from gis_enforcement.errors import AlreadyRecorded, InvalidInput, NotFound
from gis_enforcement.storage import Session, dispatch_repo, incident_repo, photo_repo, warning_repo

PHOTO_SLOTS = ("before", "after", "evidence")
#: the largest fine the record holds (numeric(14, 2): twelve digits of yuan and two of fen)
PENALTY_MAX = 999_999_999_999.99


#: the performance indicator that counts penalty decisions (人均处罚量): the kinds that carry a fine
PENALTY_INDICATOR = "P05"


def check_penalty(amount: float | None) -> None:
    """Refuse a fine the record cannot hold: negative, not a finite number, or above :data:`PENALTY_MAX`
    (``InvalidInput`` on ``penalty_amount``)."""
    if amount is None:
        return
    try:
        value = float(amount) if not isinstance(amount, bool | str | bytes) else math.nan
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise InvalidInput(f"penalty amount must be a finite number of yuan, not {amount!r}", field="penalty_amount")
    if value < 0:
        raise InvalidInput("penalty amount cannot be negative", field="penalty_amount")
    if value > PENALTY_MAX:
        raise InvalidInput(f"penalty amount {value:,.2f} yuan exceeds the largest the record holds "
                           f"({PENALTY_MAX:,.2f})", field="penalty_amount")


def check_not_future(at: datetime, *, now: datetime, field: str) -> None:
    """Refuse a client-given time later than ``now`` plus :data:`CLOCK_SKEW` (``InvalidInput`` on ``field``):
    the record says what was done, not what is planned."""
    if at > now + CLOCK_SKEW:
        raise InvalidInput(f"{at.isoformat()} is in the future (the server's time is {now.isoformat()})",
                           field=field)


@dataclass(frozen=True, slots=True)
class ReportIn:
    """A department's check-in: where, how far from the case, how late (negative: early); ``queued_s``, how long
    a queued report-in waited in the phone (None when sent at once)."""

    assignment: Assignment
    distance_m: float
    minutes_late: float
    on_time: bool
    queued_s: float | None = None
    withdrawn: tuple[str, ...] = ()  # warnings the report-in showed wrong, withdrawn (a no-show W02)


def _case_and_assignment(session: Session, incident_id: UUID, department: str) -> tuple[CaseState, Assignment]:
    cases = dispatch_repo.lock_cases(session, incident_ids=[incident_id])
    if incident_id not in cases:
        raise NotFound(f"no case {incident_id}", field="incident_id")
    assignment = dispatch_repo.lock_assignment(session, incident_id=incident_id, department=department)
    if assignment is None:
        raise _no_assignment(incident_id, department)
    return cases[incident_id], assignment


def _no_assignment(incident_id: UUID, department: str) -> NotFound:
    return NotFound(f"no assignment of {department} on case {incident_id}: it was not whistled to it",
                    field="department")


def assignment_of(session: Session, *, incident_id: UUID, department: str) -> Assignment:
    """The assignment of ``department`` on the case (``NotFound`` on ``department`` when it was never
    whistled to it). Reads without a lock: for deciding who may act, before the step itself locks it."""
    found = next((a for a in dispatch_repo.assignments_of(session, incident_id=incident_id)
                  if a.department == department), None)
    if found is None:
        raise _no_assignment(incident_id, department)
    return found


def already_reported_in(department: str, *, reported_in_at: datetime, minutes_late: float | None, status: str,
                        tz: str = DEFAULT_TIMEZONE) -> AlreadyRecorded:
    """The answer to a second report-in of an assignment (409 ``already_recorded`` on ``status``): when the first
    was recorded (district time, the zone ``tz``), whether it was on time, and the assignment's state now. A
    report-in is recorded once; the single and the bulk path answer alike."""
    local = reported_in_at.astimezone(district_zone(tz)).isoformat(timespec="seconds")
    on_time = None if minutes_late is None else bool(minutes_late <= 0)
    timing = ("" if minutes_late is None else ", on time" if on_time
              else f", {minutes_late:,.0f} min after its deadline")
    return AlreadyRecorded(
        f"{department} already reported in on this case at {local}{timing}; a report-in is recorded once "
        f"(the assignment is now {status})", field="status", reported_in_at=local, on_time=on_time,
        minutes_late=None if minutes_late is None else round(float(minutes_late), 2), current=status)


def report_in(
    session: Session,
    *,
    catalog: Catalog,
    incident_id: UUID,
    department: str,
    lon: float,
    lat: float,
    accuracy_m: float | None,
    server_time: datetime,
    device_time: datetime | None = None,
    actor: str | None = None,
    tz: str = DEFAULT_TIMEZONE,
    fixed_at: datetime | None = None,
) -> ReportIn:
    """Check a department in on site (summoned → reported_in) at ``server_time``.

    With ``fixed_at`` (the phone's clock when it took the position) it is a queued report-in, taken without
    signal and sent later: it is timed, and its ``reported_in_at`` set, at the fix by the server's clock,
    ``server_time - (device_time - fixed_at)``; the event adds ``queued_s`` (that wait) and ``received_at``
    (``server_time``). Refused on ``device_time``/``fixed_at`` as
    :func:`~gis_enforcement.domain.deadlines.queued_fix_time` says. A no-show warning (W02) the escalation pass
    raised while it waited in the phone is withdrawn when the report-in shows the department there within
    :data:`~gis_enforcement.domain.escalation.ABSENT_AFTER_MIN` of the whistle (its declined time not
    counted): the warning stays in the record with when and why, counts nowhere after, and the event names it
    (``withdrawn``). A report-in late enough for W01 gets its W01 from the next escalation pass.

    The position (WGS84) must lie within the category's geofence of the case, allowing for the stated GPS
    accuracy up to the category's ``max_accuracy_m`` (:func:`~gis_enforcement.domain.geofence.accuracy_allowance_m`)
    and for a case located worse than that (:func:`~gis_enforcement.domain.geofence.case_allowance_m`);
    otherwise ``InvalidInput`` on ``position`` says how far away it is
    (``detail``: ``distance_m``, ``geofence_m``, the GPS allowance ``accuracy_allowance_m``, the case's stated
    ``case_accuracy_m`` and its allowance ``case_allowance_m``, and the radius allowed, ``allowed_m`` = fence +
    both allowances, all in metres).
    A department that reported in already is answered by :func:`already_reported_in` (``AlreadyRecorded``,
    its time in the district's zone ``tz``); any other state that takes no report-in by ``InvalidInput`` on
    ``status`` naming what the department may do.
    """
    case, assignment = _case_and_assignment(session, incident_id, department)
    if assignment.reported_in_at is not None:
        raise already_reported_in(department, reported_in_at=assignment.reported_in_at,
                                  minutes_late=assignment.minutes_late, status=assignment.status, tz=tz)
    next_assignment_status(assignment.status, AssignmentAction.REPORT_IN, by="department")
    category = catalog.categories[case.category]
    fence = category.geofence_m
    distance = dispatch_repo.distance_m(session, incident_id=incident_id, lon=lon, lat=lat)
    slack = accuracy_allowance_m(accuracy_m, category.max_accuracy_m)
    if distance > fence + slack:  # only then does the case's own accuracy matter: read it
        stored = incident_repo.get_incident(session, incident_id=incident_id)
        case_accuracy = None if stored is None else stored.accuracy_m
        case_slack = case_allowance_m(case_accuracy, category.max_accuracy_m, fence)
        if distance > fence + slack + case_slack:
            raise InvalidInput(
                outside_fence_message(distance, fence, slack, case_accuracy, case_slack),
                field="position", distance_m=round(distance, 1), geofence_m=fence,
                accuracy_allowance_m=round(slack, 1), case_accuracy_m=case_accuracy,
                case_allowance_m=round(case_slack, 1), allowed_m=round(fence + slack + case_slack, 1),
            )
    timing = report_in_timing(whistled_at=assignment.summoned_at, due=assignment.report_in_due,
                              server_time=require_aware(server_time, "server_time"), device_time=device_time,
                              fixed_at=fixed_at)
    queued: dict[str, Any] = {}
    if timing.queued_seconds is not None and timing.received_at is not None:
        queued = {"queued_s": round(timing.queued_seconds, 1), "received_at": timing.received_at}
    withdrawn: list[str] = []
    arrived = timing.received_at or timing.checked_in_at
    declined_min = assignment.declined_s / 60.0
    waited_min = (arrived - assignment.summoned_at).total_seconds() / 60.0 - declined_min
    # only a report-in arriving after the hour can find a W02 raised; it withdraws it when it was there in time
    if waited_min > ABSENT_AFTER_MIN and timing.minutes_after_whistle - declined_min <= ABSENT_AFTER_MIN:
        withdrawn = warning_repo.withdraw_warnings(
            session, dedupe_keys=[no_show_key(assignment.id)], at=arrived,
            reason=f"报到定位于 {timing.checked_in_at.astimezone(district_zone(tz)):%m-%d %H:%M}"
                   + ("（无信号时记录，补发送达）" if timing.queued_seconds is not None else "") + "，未缺席")
        if withdrawn:
            queued["withdrawn"] = withdrawn
    updated = dispatch_repo.update_assignment(
        session, assignment_id=assignment.id, status="reported_in", reported_in_at=timing.checked_in_at,
        report_in_lon=lon, report_in_lat=lat, report_in_accuracy_m=accuracy_m, report_in_distance_m=distance,
        report_in_device_time=device_time, minutes_late=timing.minutes_late,
    )
    CaseRecorder(session, {incident_id: case}).add(incident_id, at=timing.checked_in_at, actor=actor, kind="report_in",
                                                   payload={"department": department, "lon": lon, "lat": lat,
                                                            "accuracy_m": accuracy_m,
                                                            "distance_m": round(distance, 1),
                                                            "minutes_late": round(timing.minutes_late, 2),
                                                            "on_time": timing.on_time,
                                                            "device_skew_s": timing.device_skew_seconds,
                                                            **queued})
    return ReportIn(updated, distance, timing.minutes_late, timing.on_time, timing.queued_seconds, tuple(withdrawn))


def _move(session: Session, *, incident_id: UUID, department: str, action: AssignmentAction, at: datetime,
          actor: str | None, reason: str | None = None, extra: dict[str, Any] | None = None) -> Assignment:
    case, assignment = _case_and_assignment(session, incident_id, department)
    by = ASSIGNMENT_ACTORS[action]
    status = next_assignment_status(assignment.status, action, reason=reason,
                                    by=by if by in ("department", "township") else None)
    fields: dict[str, Any] = {"status": status.value}
    if reason is not None:
        fields["reason"] = reason
    if action is AssignmentAction.COMPLETE:
        fields["done_at"] = at
    updated = dispatch_repo.update_assignment(session, assignment_id=assignment.id, **fields)
    recorder = CaseRecorder(session, {incident_id: case})
    recorder.add(incident_id, at=at, actor=actor, kind=action.value,
                 payload={"department": department, "reason": reason, **(extra or {})})
    if action is AssignmentAction.START_ACTION and case.status is CaseStatus.WHISTLED:
        new = next_case_status(case.status, CaseAction.START_ACTION)
        dispatch_repo.set_case_status(session, incident_id=incident_id, status=new)
        recorder.add(incident_id, at=at, actor=actor, kind="case_in_action", payload={"by": department})
    return updated


def start_action(session: Session, *, incident_id: UUID, department: str, at: datetime,
                 actor: str | None = None) -> Assignment:
    """A department that reported in starts enforcing (reported_in → acting); the case goes in_action."""
    return _move(session, incident_id=incident_id, department=department, action=AssignmentAction.START_ACTION,
                 at=require_aware(at, "at"), actor=actor)


def complete(session: Session, *, incident_id: UUID, department: str, at: datetime,
             actor: str | None = None) -> Assignment:
    """A department's part is done (acting → done)."""
    return _move(session, incident_id=incident_id, department=department, action=AssignmentAction.COMPLETE,
                 at=require_aware(at, "at"), actor=actor)


def release(session: Session, *, incident_id: UUID, department: str, reason: str, at: datetime,
            actor: str | None = None) -> Assignment:
    """The township lets a department go before it is done (reason required)."""
    return _move(session, incident_id=incident_id, department=department, action=AssignmentAction.RELEASE,
                 at=require_aware(at, "at"), actor=actor, reason=reason)


def listed_measures(catalog: Catalog, category: str) -> tuple[str, ...]:
    """The measures (执法措施) the lists name for a category, in any of its rules, each once in the lists' order:
    what an enforcement record may cite, and what counts toward the duty rate."""
    return tuple(dict.fromkeys(m for r in catalog.rules if r.category == category for m in r.measures))


def cited_legal_basis(catalog: Catalog, category: str) -> list[dict[str, str]]:
    """The laws and articles the lists cite for a category, in any of its rules, each once in the lists' order
    (a general rule and its zone rules often cite the same articles): what an enforcement record stores."""
    cited = dict.fromkeys((b.law, b.article) for r in catalog.rules if r.category == category for b in r.legal_basis)
    return [{"law": law, "article": article} for law, article in cited]


def action_kind(catalog: Catalog, action_type: str) -> str:
    """The code of the kind of enforcement action ``action_type`` names — a code of the lists' ``action_kinds`` or
    its exact Chinese name — what a record stores. Anything else is ``InvalidInput`` on ``action_type`` naming the
    accepted kinds (``detail["accepted"]``: code and Chinese name of each)."""
    code = catalog.action_kind_code(action_type.strip()) if isinstance(action_type, str) else None
    if code is None:
        kinds = catalog.action_kinds.values()
        raise InvalidInput(f"{action_type!r} is not a kind of enforcement action in the lists; give one of "
                           f"{', '.join(f'{k.code} ({k.zh})' for k in kinds)}", field="action_type",
                           accepted=[{"code": k.code, "zh": k.zh} for k in kinds])
    return code


def record_action(
    session: Session,
    *,
    catalog: Catalog,
    incident_id: UUID,
    department: str,
    action_type: str,
    officer: str,
    acted_at: datetime,
    measures: Sequence[str] = (),
    penalty_amount: float | None = None,
    seized_items: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
    photos: Sequence[dict[str, str]] = (),
    actor: str | None = None,
    now: datetime | None = None,
) -> int:
    """An enforcement record (执法记录) of an acting department; ``action_type`` is a kind of enforcement action of the
    lists, by code or Chinese name (:func:`action_kind`; the code is stored), measures must come from the lists'
    measures for the case's rule, photos are ``{"slot": before|after|evidence, "sha256": ...}`` naming photos already
    uploaded to the case (refused on ``photos`` with the ``missing`` hashes otherwise). Returns the record id.

    ``acted_at`` may not lie after ``now`` (the server's clock; the wall clock when not given) by more than
    :data:`CLOCK_SKEW`; ``penalty_amount`` must be a finite, non-negative amount the record can hold, and a fine
    (an amount above zero) belongs to a kind the lists count as a penalty decision (``indicator`` P05 人均处罚量):
    an amount typed on an order or an inspection is refused (``kind`` ``not_a_penalty``), so it cannot swell P05. The
    record's legal basis is that of the lists' rules for the case's category, each law and article once; the
    record's event carries it too (``legal_basis``: ``[{law, article}]``), so the case's timeline shows it."""
    at = require_aware(acted_at, "acted_at")
    check_not_future(at, now=require_aware(now, "now") if now is not None else datetime.now(UTC), field="acted_at")
    check_penalty(penalty_amount)
    kind = action_kind(catalog, action_type)
    fining = [k for k in catalog.action_kinds.values() if k.indicator == PENALTY_INDICATOR]
    if penalty_amount and fining and kind not in {k.code for k in fining}:
        raise InvalidInput(f"a fine is recorded as a penalty decision ({'、'.join(k.zh for k in fining)}), not as "
                           f"{catalog.action_kinds[kind].zh}", field="penalty_amount", kind="not_a_penalty",
                           action_type=kind, penalty_kinds=[k.code for k in fining])
    case, assignment = _case_and_assignment(session, incident_id, department)
    if assignment.status != "acting":
        raise InvalidInput(f"{department} is {assignment.status} on this case; record actions while acting",
                           field="status")
    on_site_since = assignment.reported_in_at or assignment.summoned_at
    if at < on_site_since - CLOCK_SKEW:  # a record is of what was done there, once there
        raise InvalidInput(f"{at.isoformat(timespec='minutes')} is before {department} was on this case "
                           f"({on_site_since.isoformat(timespec='minutes')}): an action is recorded when it is done",
                           field="acted_at", earliest=on_site_since.isoformat())
    listed = set(listed_measures(catalog, case.category))
    unknown = [m for m in measures if m not in listed]
    if unknown:
        raise InvalidInput(f"measure(s) {', '.join(unknown)} are not in the lists for {case.category}",
                           field="measures")
    for p in photos:
        if p.get("slot") not in PHOTO_SLOTS or not re.fullmatch(r"[0-9a-f]{64}", str(p.get("sha256", ""))):
            raise InvalidInput("photos need a slot (before/after/evidence) and a sha256 content hash", field="photos")
    missing = photo_repo.not_on_case(session, incident_id=incident_id, sha256s=[str(p["sha256"]) for p in photos])
    if missing:  # a record cites what the case holds: a photo is uploaded to the case first, then named here
        raise InvalidInput(f"{len(missing)} photo(s) named are not photos of this case ({missing[0][:12]}…): upload "
                           f"them to the case first (POST /api/v1/incidents/{incident_id}/photos)", field="photos",
                           missing=missing)
    legal = cited_legal_basis(catalog, case.category)
    record_id = dispatch_repo.insert_enforcement_record(session, record={
        "assignment_id": assignment.id, "incident_id": incident_id, "action_type": kind,
        "measures": list(measures), "legal_basis": legal, "penalty_amount": penalty_amount,
        "seized_items": seized_items, "officer": officer, "acted_at": at, "lon": lon, "lat": lat,
        "photos": list(photos),
    })
    CaseRecorder(session, {incident_id: case}).add(incident_id, at=at, actor=actor, kind="enforcement_record", payload={
        "record_id": record_id, "department": department, "action_type": kind, "measures": list(measures),
        "legal_basis": legal, "penalty_amount": penalty_amount, "officer": officer, "photos": list(photos)})
    return record_id


def decline(
    session: Session,
    *,
    catalog: Catalog,
    incident_id: UUID,
    department: str,
    reason: str,
    ground: str | None,
    at: datetime,
    actor: str | None = None,
) -> Assignment:
    """A summoned department refuses the whistle with a reason (summoned → declined, for the township to review).

    A department the lists name as lead for the case's category may decline only on a ground (wrong category,
    outside its jurisdiction); without one the decline is void — ``InvalidInput`` on ``ground`` citing W06
    (推诿/无依据退单) — and the assignment keeps its lead role.
    """
    case, assignment = _case_and_assignment(session, incident_id, department)
    listed_lead = any(r.lead == department for r in catalog.rules if r.category == case.category)
    verdict = lead_may_decline(role=assignment.role, listed_as_lead=listed_lead, ground=ground, reason=reason)
    if not verdict.allowed:
        raise InvalidInput(verdict.message, field="ground" if verdict.warning_rule else "reason",
                           warning_rule=verdict.warning_rule)
    return _move(session, incident_id=incident_id, department=department, action=AssignmentAction.DECLINE,
                 at=require_aware(at, "at"), actor=actor, reason=reason, extra={"ground": ground})


def overrule(session: Session, *, incident_id: UUID, department: str, reason: str, at: datetime,
             actor: str | None = None) -> Assignment:
    """The township rejects a decline (declined → summoned): 退单无效、维持主责.

    The decline stopped the department's clocks: its report-in and resolution deadlines move on by the time the
    decline stood, so it has the time it had left when it declined (the event says how long, ``declined_s``),
    and the wait before a no-show (W02) leaves that time out."""
    at = require_aware(at, "at")
    _, assignment = _case_and_assignment(session, incident_id, department)
    next_assignment_status(assignment.status, AssignmentAction.OVERRULE, reason=reason, by="township")
    stood = dispatch_repo.resume_after_decline(session, assignment_id=assignment.id, incident_id=incident_id,
                                               department=department, at=at)
    return _move(session, incident_id=incident_id, department=department, action=AssignmentAction.OVERRULE,
                 at=at, actor=actor, reason=reason, extra={"declined_s": round(stood, 1)})
