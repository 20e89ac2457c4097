"""The lead's resolution due as the listings give it: after the township reopens a case, the time the case waited
resolved is not counted — the due moves on by it, to the same moment W05 counts against (one rule)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import on_site, resolution
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.listing import list_assignments
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.records import Assignment
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.dispatch.helpers import T0, new_case

SUPERVISOR = Caller("sup", Role.SUPERVISOR, "district", "110117")


def _resolve_then_reopen(db: Session, inc_id, lead: str, township: str, *, resolved: datetime,
                         waited: timedelta) -> datetime:
    """The lead completes and resolves at ``resolved``; the township reopens ``waited`` later and the lead resumes."""
    on_site.complete(db, incident_id=inc_id, department=lead, at=resolved)
    resolution.resolve(db, incident_id=inc_id, department=lead, at=resolved, summary="已处置")
    reopened = resolved + waited
    resolution.reopen(db, incident_id=inc_id, township=township, reason="整改不到位", at=reopened)
    resolution.resume(db, incident_id=inc_id, department=lead, at=reopened + timedelta(minutes=5))
    return reopened


def _every_read(db: Session, incident_id, department: str) -> list[Assignment]:
    """The assignment as each listing reads it: the case's list, the console's list, by its id."""
    of_case = next(a for a in dispatch_repo.assignments_of(db, incident_id=incident_id) if a.department == department)
    rows, _ = list_assignments(db, caller=SUPERVISOR, open_only=None, department=department, township=None,
                               limit=1000, offset=0)
    listed = next(a for a, _ in rows if a.incident_id == incident_id)
    by_id = dispatch_repo.assignment_by_id(db, assignment_id=of_case.id)
    assert by_id is not None
    return [of_case, listed, by_id]


def test_a_reopened_case_moves_the_leads_due_by_the_time_it_waited_resolved(
        db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    lead = result.assignments[0]
    assists = result.assignments[1:]
    hours = inc.plan[0].resolution_hours
    assert lead.resolution_due is not None and hours is not None and assists
    whistled_due = lead.resolution_due
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x, lat=y,
                      accuracy_m=5, server_time=T0 + timedelta(minutes=10))
    on_site.start_action(db, incident_id=inc.id, department=lead.department, at=T0 + timedelta(minutes=20))
    assert [a.resolution_due for a in _every_read(db, inc.id, lead.department)] == [whistled_due] * 3

    # resolved at half its time, reopened two days later; then again, waiting six hours
    reopened = _resolve_then_reopen(db, inc.id, lead.department, township, resolved=T0 + timedelta(hours=hours * 0.5),
                                    waited=timedelta(days=2))
    assert [a.resolution_due for a in _every_read(db, inc.id, lead.department)] == [
        whistled_due + timedelta(days=2)] * 3
    _resolve_then_reopen(db, inc.id, lead.department, township, resolved=reopened + timedelta(hours=1),
                         waited=timedelta(hours=6))
    moved = whistled_due + timedelta(days=2, hours=6)
    reads = _every_read(db, inc.id, lead.department)
    assert [a.resolution_due for a in reads] == [moved] * 3 and reads[0].status == "acting"
    # an assist's due is its whistle's: W05 is the lead's
    for a in assists:
        assert {r.resolution_due for r in _every_read(db, inc.id, a.department)} == {a.resolution_due}

    # the same moment W05 counts against: the red is raised once the moved due has passed, naming it
    assert [w for w in tick(db, catalog=catalog, now=moved - timedelta(minutes=1))
            if w["rule_code"] == "W05" and w["level"] == "red"] == []
    red = [w for w in tick(db, catalog=catalog, now=moved + timedelta(minutes=1))
           if w["rule_code"] == "W05" and w["level"] == "red"]
    assert len(red) == 1
    assert datetime.fromisoformat(red[0]["detail"]["resolution_due"]) == moved
    assert red[0]["detail"]["paused_hours"] == pytest.approx(54, abs=0.01)
