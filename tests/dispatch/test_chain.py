"""The whistle chain on a real PostGIS: whistle, report in, act, resolve, verify, close — and the record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import on_site, resolution
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import LEAD_DEPARTMENT, TOWNSHIP, departments_allowed, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import CaseStatus, Role
from gis_enforcement.errors import AlreadyRecorded, InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.settings import Settings
from gis_enforcement.storage import dispatch_repo
from tests.dispatch.helpers import METRE, T0, new_case, photo_on_case


def status_of(db: Session, incident_id) -> str:
    return db.execute(text("SELECT status FROM incident WHERE id = :id"), {"id": incident_id}).scalar_one()


def test_full_chain_from_whistle_to_close(db: Session, locator: Locator, catalog: Catalog, site,
                                          settings: Settings) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0,
                     actor="dispatcher-1")
    assert [(a.department, a.role) for a in result.assignments] == [(p.department, p.role) for p in inc.plan]
    lead = result.assignments[0]
    assert lead.role is Role.LEAD and lead.report_in_due == T0 + timedelta(minutes=inc.plan[0].report_in_minutes)
    assert status_of(db, inc.id) == "whistled"

    # outside the geofence: refused with the distance, nothing changes
    fence = catalog.categories[inc.category].geofence_m
    with pytest.raises(InvalidInput) as far:
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x,
                          lat=y + (fence + 300) * METRE, accuracy_m=5, server_time=T0 + timedelta(minutes=5))
    assert far.value.field == "position" and "m from the case" in far.value.message
    assert far.value.detail["distance_m"] == pytest.approx(fence + 300, abs=3)
    assert dispatch_repo.lock_assignment(db, incident_id=inc.id, department=lead.department).status == "summoned"

    ok = on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x,
                           lat=y + 100 * METRE, accuracy_m=5, server_time=T0 + timedelta(minutes=20),
                           device_time=T0 + timedelta(minutes=21))
    assert ok.on_time and ok.minutes_late == pytest.approx(-10) and ok.distance_m == pytest.approx(100, abs=1)
    assist = result.assignments[1]
    late = on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=assist.department, lon=x, lat=y,
                             accuracy_m=5, server_time=T0 + timedelta(minutes=45))
    assert not late.on_time and late.minutes_late == pytest.approx(15)

    on_site.start_action(db, incident_id=inc.id, department=lead.department, at=T0 + timedelta(minutes=50))
    assert status_of(db, inc.id) == "in_action"
    rule = catalog.rule(inc.rule_code)
    # a record names photos of the case: one never uploaded to it is refused, and nothing is recorded
    other = new_case(db, locator, catalog, x, y)
    elsewhere = photo_on_case(db, other.id, settings.photos_dir, slot="before")
    for ref in ("a" * 64, elsewhere):
        with pytest.raises(InvalidInput) as not_here:
            on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead.department,
                                  action_type="现场检查", officer="执法员-王", acted_at=T0 + timedelta(minutes=55),
                                  measures=[rule.measures[0]], photos=[{"slot": "before", "sha256": ref}])
        assert not_here.value.field == "photos" and not_here.value.detail["missing"] == [ref]
    assert db.execute(text("SELECT count(*) FROM enforcement_record WHERE incident_id = :i"),
                      {"i": inc.id}).scalar_one() == 0
    before = photo_on_case(db, inc.id, settings.photos_dir, slot="before", added_by="执法员-王")
    on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead.department,
                          action_type="行政处罚", officer="执法员-王", acted_at=T0 + timedelta(minutes=55),
                          measures=[rule.measures[0]], penalty_amount=20000, lon=x, lat=y,
                          photos=[{"slot": "before", "sha256": before}])
    with pytest.raises(InvalidInput) as bad_measure:
        on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead.department,
                              action_type="行政处罚", officer="o", acted_at=T0 + timedelta(minutes=56),
                              measures=["随便罚款"])
    assert bad_measure.value.field == "measures"
    with pytest.raises(InvalidInput) as backdated:  # before the department was on site: 26 years, or an hour
        on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead.department,
                              action_type="现场检查", officer="o", acted_at=T0 - timedelta(days=365 * 26),
                              measures=[rule.measures[0]])
    assert backdated.value.field == "acted_at" and "is before" in backdated.value.message

    with pytest.raises(InvalidInput):  # the lead's own part is not done yet
        resolution.resolve(db, incident_id=inc.id, department=lead.department, at=T0 + timedelta(hours=2),
                           summary="已停产")
    on_site.complete(db, incident_id=inc.id, department=lead.department, at=T0 + timedelta(hours=3))
    assert resolution.resolve(db, incident_id=inc.id, department=lead.department, at=T0 + timedelta(hours=3),
                              summary="已停产断电") is CaseStatus.RESOLVED

    status, why = resolution.verify(db, incident_id=inc.id, township=township, at=T0 + timedelta(hours=5))
    assert status is CaseStatus.VERIFIED and assist.department in why  # an assist is still out
    with pytest.raises(InvalidInput):
        resolution.close(db, incident_id=inc.id, township=township, at=T0 + timedelta(hours=6))
    for a in result.assignments[1:]:
        on_site.release(db, incident_id=inc.id, department=a.department, reason="主责部门已处置完毕",
                        at=T0 + timedelta(hours=6))
    assert resolution.close(db, incident_id=inc.id, township=township,
                            at=T0 + timedelta(hours=6)) is CaseStatus.CLOSED

    with pytest.raises(InvalidInput) as no_reason:
        resolution.reopen(db, incident_id=inc.id, township=township, reason="", at=T0 + timedelta(days=2))
    assert no_reason.value.field == "reason"
    assert resolution.reopen(db, incident_id=inc.id, township=township, reason="回头看发现复产",
                             at=T0 + timedelta(days=2)) is CaseStatus.REOPENED
    assert verify_case_record(db, incident_id=inc.id) is None
    kinds = [e.kind for e in dispatch_repo.events_of(db, incident_id=inc.id)[0]]
    assert kinds[:3] == ["triage", "whistle", "report_in"] and kinds[-2:] == ["close", "reopen"]


def test_whistle_refusals_write_nothing(db: Session, locator: Locator, catalog: Catalog, site,
                                        jurisdiction: Jurisdiction) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    other = next(c for c in jurisdiction.townships["code"] if c != township)
    with pytest.raises(InvalidInput) as wrong_town:
        whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=other, at=T0)
    assert wrong_town.value.field == "incident_ids" and township in wrong_town.value.message
    not_listed = next(d for d in catalog.departments if d not in departments_allowed(catalog, inc.category))
    with pytest.raises(InvalidInput) as bad_dep:
        whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0,
                add_departments=[not_listed])
    assert bad_dep.value.field == "departments"
    assert dispatch_repo.assignments_of(db, incident_id=inc.id) == []
    assert status_of(db, inc.id) == "reported"


def test_lead_department_whistles_an_assist_and_joint_whistle(db: Session, locator: Locator, catalog: Catalog,
                                                              site) -> None:
    x, y, township = site
    a = new_case(db, locator, catalog, x, y)
    b = new_case(db, locator, catalog, x + 200 * METRE, y)
    joint = whistle(db, catalog=catalog, incident_ids=[a.id, b.id], mode=TOWNSHIP, whistler=township, at=T0,
                    only_departments=[a.lead_department])
    assert {x.incident_id for x in joint.assignments} == {a.id, b.id}
    assert len({x.whistle_id for x in joint.assignments}) == 1
    assist = next(d for d in departments_allowed(catalog, a.category) if d != a.lead_department)
    with pytest.raises(InvalidInput) as not_lead:
        whistle(db, catalog=catalog, incident_ids=[a.id], mode=LEAD_DEPARTMENT, whistler=assist, at=T0,
                add_departments=[a.lead_department])
    assert not_lead.value.field == "whistler"
    by_lead = whistle(db, catalog=catalog, incident_ids=[a.id], mode=LEAD_DEPARTMENT, whistler=a.lead_department,
                      at=T0 + timedelta(minutes=40), add_departments=[assist])
    assert [(x.department, x.role) for x in by_lead.assignments] == [(assist, Role.ASSIST)]
    with pytest.raises(AlreadyRecorded) as again:  # nobody new: no second, empty whistle
        whistle(db, catalog=catalog, incident_ids=[a.id], mode=LEAD_DEPARTMENT, whistler=a.lead_department,
                at=T0 + timedelta(minutes=41), add_departments=[assist])
    assert again.value.detail["already_summoned"] == [{"incident_id": str(a.id), "department": assist}]


def test_the_record_shows_tampering(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=inc.lead_department, lon=x, lat=y,
                      accuracy_m=5, server_time=T0 + timedelta(minutes=12))
    assert verify_case_record(db, incident_id=inc.id) is None
    db.execute(text("UPDATE case_event SET payload = jsonb_set(payload, '{minutes_late}', '-29') "
                    "WHERE incident_id = :id AND kind = 'report_in'"), {"id": inc.id})
    assert "altered" in verify_case_record(db, incident_id=inc.id)
    db.execute(text("DELETE FROM case_event WHERE incident_id = :id AND kind = 'report_in'"), {"id": inc.id})
    assert "head" in verify_case_record(db, incident_id=inc.id)


def test_decline_rules(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    lead, assist = result.assignments[0], result.assignments[1]
    with pytest.raises(InvalidInput) as w06:
        on_site.decline(db, catalog=catalog, incident_id=inc.id, department=lead.department, reason="不归我管",
                        ground=None, at=T0 + timedelta(minutes=3))
    assert w06.value.field == "ground" and w06.value.detail["warning_rule"] == "W06"
    declined = on_site.decline(db, catalog=catalog, incident_id=inc.id, department=lead.department,
                               reason="现场为养殖污染，非散乱污", ground="wrong_category", at=T0 + timedelta(minutes=4))
    assert declined.status == "declined"
    assert on_site.overrule(db, incident_id=inc.id, department=lead.department, reason="经核实属散乱污",
                            at=T0 + timedelta(minutes=6)).status == "summoned"
    with pytest.raises(InvalidInput) as no_reason:
        on_site.decline(db, catalog=catalog, incident_id=inc.id, department=assist.department, reason="",
                        ground=None, at=T0)
    assert no_reason.value.field == "reason"
    assert verify_case_record(db, incident_id=inc.id) is None


def test_a_reopened_case_is_resumed_by_its_lead_and_resolved_again(db: Session, locator: Locator,
                                                                    catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    w = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    lead = w.assignments[0].department
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead, lon=x, lat=y, accuracy_m=5,
                      server_time=T0 + timedelta(minutes=10))
    on_site.start_action(db, incident_id=inc.id, department=lead, at=T0 + timedelta(minutes=20))
    on_site.complete(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=1))
    resolution.resolve(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=1), summary="已停产")
    assert resolution.reopen(db, incident_id=inc.id, township=township, reason="复查仍在生产",
                             at=T0 + timedelta(hours=5)) is CaseStatus.REOPENED
    assist = w.assignments[1].department
    with pytest.raises(InvalidInput) as not_lead:
        resolution.resume(db, incident_id=inc.id, department=assist, at=T0 + timedelta(hours=6))
    assert not_lead.value.field == "department"
    assert resolution.resume(db, incident_id=inc.id, department=lead,
                             at=T0 + timedelta(hours=6)) is CaseStatus.IN_ACTION
    assert dispatch_repo.lock_assignment(db, incident_id=inc.id, department=lead).status == "acting"
    with pytest.raises(InvalidInput):  # resumed, not resolved: the lead's part must be done again first
        resolution.resolve(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=7), summary="x")
    on_site.complete(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=8))
    assert resolution.resolve(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=8),
                              summary="已拆除设备") is CaseStatus.RESOLVED
    with pytest.raises(InvalidInput):  # resume only from reopened
        resolution.resume(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=9))
    assert verify_case_record(db, incident_id=inc.id) is None


def test_a_check_in_a_moment_before_the_deadline_keeps_the_record_intact(db: Session, locator: Locator,
                                                                         catalog: Catalog, site) -> None:
    # minutes_late rounds to -0.0 here; the database has no negative zero, so the record must not depend on it
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    w = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    lead = w.assignments[0]
    done = on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x, lat=y,
                             accuracy_m=5, server_time=lead.report_in_due - timedelta(milliseconds=100))
    assert done.on_time and round(done.minutes_late, 2) == 0.0
    db.expire_all()
    assert verify_case_record(db, incident_id=inc.id) is None
