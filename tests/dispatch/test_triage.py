"""Triage by the township: marking a report a duplicate (标记重复), declining it (不予受理), taking it back
(恢复受理)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import on_site, triage
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.enums import CaseStatus
from gis_enforcement.errors import InvalidInput, NotFound
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo, incident_repo
from tests.dispatch.helpers import T0, new_case


def _events(db: Session, incident_id: uuid.UUID) -> list[tuple[str, Any]]:
    return [(e.kind, e.payload) for e in dispatch_repo.events_of(db, incident_id=incident_id)[0]]


def _status(db: Session, incident_id: uuid.UUID) -> CaseStatus:
    incident = incident_repo.get_incident(db, incident_id=incident_id)
    assert incident is not None
    return incident.status


def test_a_likely_duplicate_is_marked_against_the_first_case_and_taken_back(
        db: Session, locator: Locator, catalog: Catalog, site: tuple[float, float, str]) -> None:
    x, y, township = site
    first = new_case(db, locator, catalog, x, y, category="MIN-02")
    again = new_case(db, locator, catalog, x, y, category="MIN-02")
    assert again.duplicate_of == first.id  # the intake's guess, the default

    status, linked = triage.mark_duplicate(db, incident_id=again.id, township=township, at=T0, actor="town")
    assert (status, linked) == (CaseStatus.DUPLICATE, first.id)
    assert _status(db, again.id) is CaseStatus.DUPLICATE
    assert _events(db, again.id) == [("mark_duplicate", {"by": township, "duplicate_of": str(first.id)})]
    # a duplicate is no case in hand: no whistle, and nothing can be marked a duplicate of it
    with pytest.raises(InvalidInput) as no_whistle:
        whistle(db, catalog=catalog, incident_ids=[again.id], mode=TOWNSHIP, whistler=township, at=T0)
    assert no_whistle.value.field == "status"
    third = new_case(db, locator, catalog, x, y, category="MIN-02")
    with pytest.raises(InvalidInput) as chained:
        triage.mark_duplicate(db, incident_id=third.id, township=township, at=T0, duplicate_of=again.id)
    assert chained.value.field == "duplicate_of" and chained.value.detail["problem"] == "not_in_hand"

    with pytest.raises(InvalidInput) as no_reason:
        triage.reinstate(db, incident_id=again.id, township=township, reason="  ", at=T0 + timedelta(minutes=5))
    assert no_reason.value.field == "reason"
    assert triage.reinstate(db, incident_id=again.id, township=township, reason="不是同一处采砂点",
                            at=T0 + timedelta(minutes=5)) is CaseStatus.TRIAGED
    assert [k for k, _ in _events(db, again.id)] == ["mark_duplicate", "reinstate"]
    assert verify_case_record(db, incident_id=again.id) is None
    # taken back, it is whistled like any other case
    assert whistle(db, catalog=catalog, incident_ids=[again.id], mode=TOWNSHIP, whistler=township,
                   at=T0 + timedelta(minutes=6)).incident_ids == [again.id]


def test_marking_a_duplicate_is_refused_naming_the_field_and_writes_nothing(
        db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction,
        site: tuple[float, float, str]) -> None:
    x, y, township = site
    case = new_case(db, locator, catalog, x, y, category="ENV-01")
    villages = jurisdiction.villages
    far = villages[villages["township_code"] != township].iloc[0]
    elsewhere = new_case(db, locator, catalog, far.geometry.x, far.geometry.y, category="ENV-01")
    assert township not in elsewhere.border_townships and elsewhere.township_code not in case.border_townships
    refusals = [
        ({"township": elsewhere.township_code}, "township", None),      # not this township's case
        ({"township": township}, "duplicate_of", "none"),               # no likely duplicate, none named
        ({"township": township, "duplicate_of": case.id}, "duplicate_of", "self"),
        ({"township": township, "duplicate_of": uuid.uuid4()}, "duplicate_of", "not_found"),
        ({"township": township, "duplicate_of": elsewhere.id}, "duplicate_of", "far"),    # another, far township
    ]
    for kwargs, field, problem in refusals:
        with pytest.raises(InvalidInput) as refused:
            triage.mark_duplicate(db, incident_id=case.id, at=T0, **kwargs)  # type: ignore[arg-type]
        assert (refused.value.field, refused.value.detail.get("problem")) == (field, problem), (kwargs, refused.value)
    with pytest.raises(NotFound):
        triage.mark_duplicate(db, incident_id=uuid.uuid4(), township=township, at=T0, duplicate_of=case.id)
    assert _status(db, case.id) is CaseStatus.REPORTED and _events(db, case.id) == []

    # a neighbour's case flagged near this township's border may be the first case
    db.execute(text("UPDATE incident SET border_townships = ARRAY[:t] WHERE id = :id"),
               {"t": township, "id": elsewhere.id})
    status, linked = triage.mark_duplicate(db, incident_id=case.id, township=township, at=T0,
                                           duplicate_of=elsewhere.id, reason="同一污染源")
    assert (status, linked) == (CaseStatus.DUPLICATE, elsewhere.id)
    assert _events(db, case.id)[0][1]["reason"] == "同一污染源"


def test_a_case_is_declined_with_a_reason_and_only_once_nobody_is_summoned_to_it(
        db: Session, locator: Locator, catalog: Catalog, site: tuple[float, float, str]) -> None:
    x, y, township = site
    case = new_case(db, locator, catalog, x, y, category="ENV-01")
    with pytest.raises(InvalidInput) as no_reason:
        triage.reject(db, incident_id=case.id, township=township, reason="", at=T0)
    assert no_reason.value.field == "reason"
    result = whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=township, at=T0)
    with pytest.raises(InvalidInput) as held:
        triage.reject(db, incident_id=case.id, township=township, reason="现场无违法行为", at=T0)
    assert held.value.field == "status"
    assert held.value.detail["departments"] == sorted(a.department for a in result.assignments)
    with pytest.raises(InvalidInput) as not_from_whistled:
        triage.mark_duplicate(db, incident_id=case.id, township=township, at=T0, duplicate_of=uuid.uuid4())
    assert not_from_whistled.value.field == "status"
    for a in result.assignments:
        on_site.release(db, incident_id=case.id, department=a.department, reason="现场无违法行为",
                        at=T0 + timedelta(minutes=20))
    assert triage.reject(db, incident_id=case.id, township=township, reason="现场无违法行为",
                         at=T0 + timedelta(minutes=21), actor="town") is CaseStatus.REJECTED
    assert _events(db, case.id)[-1] == ("reject", {"by": township, "reason": "现场无违法行为"})
    assert verify_case_record(db, incident_id=case.id) is None
