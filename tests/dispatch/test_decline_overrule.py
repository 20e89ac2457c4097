"""A decline stops a department's clocks until the township decides (已退单); an overrule (驳回退单) gives it back the
time it had left, rather than a deadline long past and a no-show at the next escalation pass."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from gis_enforcement.api.schemas_dispatch import AssignmentPublic
from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.dispatch.helpers import T0, new_case


def _rules(rows: list[dict]) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return sorted((w["rule_code"], w["subject_code"]) for w in rows)


def test_an_overruled_lead_has_the_time_it_had_left_and_no_warning_while_it_stood_declined(
        db: Session, locator: Locator, catalog: Catalog, site: tuple[float, float, str]) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    lead = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0,
                   only_departments=[inc.lead_department]).assignments[0]
    minutes = lead.report_in_due - T0
    # the lead declines 5 minutes after the whistle; the township decides four hours later
    on_site.decline(db, catalog=catalog, incident_id=inc.id, department=lead.department, reason="非本部门职责",
                    ground="wrong_category", at=T0 + timedelta(minutes=5))
    hours = inc.plan[0].resolution_hours
    assert hours is not None
    # while the decline stands: no no-show, and no overdue resolution on a lead in dispute
    assert tick(db, catalog=catalog, now=T0 + timedelta(hours=hours + 1)) == []
    overruled_at = T0 + timedelta(hours=hours + 2)
    back = on_site.overrule(db, incident_id=inc.id, department=lead.department, reason="经核实属本部门职责",
                            at=overruled_at)
    stood = overruled_at - (T0 + timedelta(minutes=5))
    assert back.status == "summoned"
    assert back.report_in_due == lead.report_in_due + stood == overruled_at + (minutes - timedelta(minutes=5))
    assert back.resolution_due == lead.resolution_due + stood  # type: ignore[operator]
    # right after the overrule nothing is due; the report-in is late only past the moved due, absent past the
    # hour it had, the time it stood declined left out
    assert tick(db, catalog=catalog, now=overruled_at + timedelta(minutes=1)) == []
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x, lat=y,
                      accuracy_m=5, server_time=back.report_in_due + timedelta(minutes=10))
    raised = tick(db, catalog=catalog, now=back.report_in_due + timedelta(minutes=11))
    assert _rules(raised) == [("W01", lead.department)]
    assert raised[0]["detail"]["minutes_late"] == 10.0
    assert verify_case_record(db, incident_id=inc.id) is None


def test_an_overruled_assist_that_never_comes_is_a_no_show_an_hour_of_its_own_time_after_the_whistle(
        db: Session, locator: Locator, catalog: Catalog, site: tuple[float, float, str]) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    assist = result.assignments[1]
    on_site.decline(db, catalog=catalog, incident_id=inc.id, department=assist.department, reason="人员不足",
                    ground=None, at=T0 + timedelta(minutes=20))
    on_site.overrule(db, incident_id=inc.id, department=assist.department, reason="请按时到场",
                     at=T0 + timedelta(minutes=140))  # stood declined two hours
    row = next(a for a in dispatch_repo.assignments_of(db, incident_id=inc.id) if a.department == assist.department)
    assert row.report_in_due == assist.report_in_due + timedelta(hours=2) and row.declined_s == 7200
    # the line the API gives for absent moves with it (the page counts down to it)
    public = AssignmentPublic.from_record(row, tz="Asia/Shanghai", departments=catalog.departments)
    assert public.absent_at == T0 + timedelta(minutes=180)
    assert all(w["subject_code"] != assist.department
               for w in tick(db, catalog=catalog, now=T0 + timedelta(minutes=179)))  # 59 of its own minutes
    late = tick(db, catalog=catalog, now=T0 + timedelta(minutes=181))
    assert ("W02", assist.department) in _rules(late)
