"""改类: a report filed under the lists' placeholder (类别待定) or the wrong category is filed under the right one
by its township, and only then whistled; its rule, lead and plan follow the new category."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session

from gis_enforcement.catalog.rules import rule_for
from gis_enforcement.dispatch import bulk, on_site, triage
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import CaseStatus, Role
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.submit import submit_one
from gis_enforcement.storage import dispatch_repo, incident_repo
from tests.dispatch.helpers import T0, new_case

PLACEHOLDER = "OTH-00"


def _feature(lon: float, lat: float, category: str) -> dict[str, Any]:
    return {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": category, "observed_at": "2026-05-12T23:00:00+08:00", "accuracy_m": 6}}


def _kinds(db: Session, incident_id: uuid.UUID) -> list[str]:
    return [e.kind for e in dispatch_repo.events_of(db, incident_id=incident_id)[0]]


def test_the_placeholder_is_in_the_lists_and_routes_to_the_township(catalog: Catalog) -> None:
    placeholder = catalog.categories[PLACEHOLDER]
    assert placeholder.classify_first and placeholder.provenance == "draft"
    assert [c for c in catalog.categories.values() if c.classify_first] == [placeholder]
    assert catalog.general_rule(PLACEHOLDER).lead == "TOWN"  # type: ignore[union-attr]


def test_a_report_of_unknown_category_waits_for_its_township_then_goes_to_the_right_department(
        db: Session, locator: Locator, catalog: Catalog, site: tuple[float, float, str]) -> None:
    x, y, township = site
    feature = _feature(x, y, PLACEHOLDER)
    case, created = submit_one(db, feature, locator=locator, catalog=catalog)
    assert created and case.category == PLACEHOLDER and case.reported_category is None

    # nobody is whistled to a case whose category nobody knows: not one by one, not in bulk
    with pytest.raises(InvalidInput) as refused:
        whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=township, at=T0)
    assert refused.value.field == "category" and refused.value.detail["kind"] == "classify_first"
    many = bulk.whistle_many(db, catalog=catalog, cases=pd.DataFrame(
        {"incident_id": [case.id], "whistler": [township], "at": [T0]}))
    assert many.done == 0 and list(many.refused["field"]) == ["category"]
    assert dispatch_repo.assignments_of(db, incident_id=case.id) == []

    # the township names it, by its Chinese name as the desk sees it
    status, rule, before = triage.reclassify(db, catalog=catalog, incident_id=case.id, township=township,
                                            category=catalog.categories["MIN-02"].zh, reason="现场为河道采砂",
                                            at=T0, actor="town")
    assert (status, before) == (CaseStatus.TRIAGED, PLACEHOLDER)
    stored = incident_repo.get_incident(db, incident_id=case.id)
    assert stored is not None
    assert (stored.category, stored.reported_category, stored.status) == ("MIN-02", PLACEHOLDER, CaseStatus.TRIAGED)
    assert rule == rule_for(catalog, "MIN-02", stored.zones) and stored.rule_code == rule.code
    assert stored.lead_department == rule.lead != "TOWN"
    events = dispatch_repo.events_of(db, incident_id=case.id)[0]
    assert [(e.kind, e.payload) for e in events] == [("reclassify", {
        "by": township, "from": PLACEHOLDER, "to": "MIN-02", "rule_code": rule.code, "lead_department": rule.lead,
        "reason": "现场为河道采砂"})]

    # the phone re-sending its queued report is the same submission, not a conflict
    again, created = submit_one(db, feature, locator=locator, catalog=catalog)
    assert not created and again.id == case.id and again.category == "MIN-02"

    # and the whistle summons the new category's departments
    done = whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=township,
                   at=T0 + timedelta(minutes=3))
    assert {(a.department, a.role) for a in done.assignments} == {(p.department, p.role) for p in rule.plan()}
    assert verify_case_record(db, incident_id=case.id) is None


def test_a_whistled_case_is_reclassified_once_its_departments_are_released(
        db: Session, locator: Locator, catalog: Catalog, site: tuple[float, float, str]) -> None:
    x, y, township = site
    case = new_case(db, locator, catalog, x, y, category="TRK-01")  # the patrol guessed: a dirt pile, not a truck
    whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=township, at=T0)
    summoned = [a.department for a in dispatch_repo.assignments_of(db, incident_id=case.id)]
    with pytest.raises(InvalidInput) as held:
        triage.reclassify(db, catalog=catalog, incident_id=case.id, township=township, category="CON-03",
                          at=T0 + timedelta(minutes=5))
    assert held.value.field == "status" and held.value.detail["departments"] == sorted(summoned)
    assert incident_repo.get_incident(db, incident_id=case.id).category == "TRK-01"  # type: ignore[union-attr]

    for dep in summoned:
        on_site.release(db, incident_id=case.id, department=dep, reason="类别有误", at=T0 + timedelta(minutes=6))
    status, rule, before = triage.reclassify(db, catalog=catalog, incident_id=case.id, township=township,
                                            category="CON-03", at=T0 + timedelta(minutes=7))
    assert (status, before) == (CaseStatus.WHISTLED, "TRK-01")
    again = whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=township,
                    at=T0 + timedelta(minutes=8))
    lead = next(a.department for a in again.assignments if a.role is Role.LEAD)
    assert lead == rule.lead
    assert _kinds(db, case.id)[-2:] == ["reclassify", "whistle"]
    # filed back under what the patrol sent, the case no longer says it was reclassified
    for a in again.assignments:
        on_site.release(db, incident_id=case.id, department=a.department, reason="类别有误",
                        at=T0 + timedelta(minutes=9))
    triage.reclassify(db, catalog=catalog, incident_id=case.id, township=township, category="TRK-01",
                      at=T0 + timedelta(minutes=10))
    back = incident_repo.get_incident(db, incident_id=case.id)
    assert back is not None and (back.category, back.reported_category) == ("TRK-01", None)


def test_reclassify_refusals_name_the_field_and_write_nothing(
        db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction,
        site: tuple[float, float, str]) -> None:
    x, y, township = site
    case = new_case(db, locator, catalog, x, y, category="ENV-01")
    villages = jurisdiction.villages
    other = villages[villages["township_code"] != township].iloc[0]["township_code"]
    refusals: list[tuple[dict[str, Any], str, str | None]] = [
        ({"category": "NOPE-9"}, "category", "unknown"),
        ({"category": PLACEHOLDER}, "category", "classify_first"),
        ({"category": "ENV-01"}, "category", "unchanged"),
        ({"category": "ENV-02", "township": other}, "township", None),
    ]
    for args, field, kind in refusals:
        with pytest.raises(InvalidInput) as refused:
            triage.reclassify(db, catalog=catalog, incident_id=case.id, at=T0, **{"township": township, **args})
        assert refused.value.field == field, args
        assert refused.value.detail.get("kind") == kind, args
    stored = incident_repo.get_incident(db, incident_id=case.id)
    assert stored is not None and (stored.category, stored.status) == ("ENV-01", CaseStatus.REPORTED)
    assert _kinds(db, case.id) == []

    # once departments act on it, the category is theirs to work under: no reclassifying an acting case
    whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=township, at=T0)
    lead = stored.lead_department
    assert lead is not None
    on_site.report_in(db, catalog=catalog, incident_id=case.id, department=lead, lon=x, lat=y, accuracy_m=5,
                      server_time=T0 + timedelta(minutes=10))
    on_site.start_action(db, incident_id=case.id, department=lead, at=T0 + timedelta(minutes=11))
    with pytest.raises(InvalidInput) as acting:
        triage.reclassify(db, catalog=catalog, incident_id=case.id, township=township, category="ENV-02",
                          at=T0 + timedelta(minutes=12))
    assert acting.value.field == "status"
