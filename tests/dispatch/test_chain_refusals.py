"""What the whistle chain refuses on a real PostGIS, writing nothing: a whistle that summons nobody new, a fine
the record cannot hold, an action dated in the future or of no kind in the lists, a department the case has no
assignment of."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from uuid import UUID

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.dispatch import bulk, on_site
from gis_enforcement.dispatch.on_site import PENALTY_MAX
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.deadlines import CLOCK_SKEW
from gis_enforcement.domain.records import Incident
from gis_enforcement.errors import AlreadyRecorded, InvalidInput, NotFound
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.dispatch.helpers import METRE, T0, new_case


def _whistles(db: Session, township: str) -> list[tuple[int, list[UUID]]]:
    return [(r[0], list(r[1])) for r in db.execute(
        text("SELECT id, incident_ids FROM whistle WHERE whistler_unit = :t ORDER BY id"), {"t": township}).all()]


def _kinds(db: Session, incident_id: UUID) -> list[str]:
    events, _ = dispatch_repo.events_of(db, incident_id=incident_id)
    return [e.kind for e in events]


def test_a_whistle_that_summons_nobody_new_is_refused_and_writes_nothing(db: Session, locator: Locator,
                                                                        catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    first = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    assert first.incident_ids == [inc.id]
    whistles, kinds = _whistles(db, township), _kinds(db, inc.id)
    with pytest.raises(AlreadyRecorded) as again:
        whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township,
                at=T0 + timedelta(minutes=5))
    assert again.value.status == 409 and again.value.field == "incident_ids"
    assert "already summoned" in again.value.message
    assert again.value.detail["already_summoned"] == [{"incident_id": str(inc.id), "department": p.department}
                                                      for p in inc.plan]
    # no whistle record (whistles_sent of the evaluation counts these), no event, no new assignment
    assert _whistles(db, township) == whistles and _kinds(db, inc.id) == kinds
    assert len(dispatch_repo.assignments_of(db, incident_id=inc.id)) == len(inc.plan)


def test_a_joint_whistle_leaves_out_the_cases_with_nobody_new(db: Session, locator: Locator, catalog: Catalog,
                                                             site) -> None:
    x, y, township = site
    done, fresh = new_case(db, locator, catalog, x, y), new_case(db, locator, catalog, x + 200 * METRE, y)
    whistle(db, catalog=catalog, incident_ids=[done.id], mode=TOWNSHIP, whistler=township, at=T0)
    kinds = _kinds(db, done.id)
    joint = whistle(db, catalog=catalog, incident_ids=[done.id, fresh.id], mode=TOWNSHIP, whistler=township,
                    at=T0 + timedelta(minutes=5))
    assert joint.incident_ids == [fresh.id]
    assert {a.incident_id for a in joint.assignments} == {fresh.id}
    assert sorted(joint.already_summoned) == sorted((done.id, p.department) for p in done.plan)
    assert _kinds(db, done.id) == kinds  # no empty whistle event on the case left out
    assert _whistles(db, township)[-1] == (joint.whistle_id, [fresh.id])
    events, _ = dispatch_repo.events_of(db, incident_id=fresh.id)
    last = events[-1]
    assert last.kind == "whistle" and last.payload["joint"] is False and last.payload["summoned"]


def test_bulk_whistles_refuse_the_cases_with_nobody_new(db: Session, locator: Locator, catalog: Catalog,
                                                        site) -> None:
    x, y, township = site
    done, fresh = new_case(db, locator, catalog, x, y), new_case(db, locator, catalog, x + 200 * METRE, y)
    whistle(db, catalog=catalog, incident_ids=[done.id], mode=TOWNSHIP, whistler=township, at=T0)
    kinds, whistles = _kinds(db, done.id), _whistles(db, township)
    result = bulk.whistle_many(db, catalog=catalog, cases=pd.DataFrame({
        "incident_id": [done.id, fresh.id], "whistler": township, "at": [T0 + timedelta(minutes=5)] * 2}))
    assert result.done == 1
    assert list(zip(result.refused["key"], result.refused["field"], strict=True)) == [(str(done.id), "plan")]
    assert "already summoned" in result.refused["reason"].iloc[0]
    assert _kinds(db, done.id) == kinds
    assert [ids for _, ids in _whistles(db, township)[len(whistles):]] == [[fresh.id]]


def test_an_empty_plan_is_refused_on_departments(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y)
    with pytest.raises(InvalidInput) as empty:
        whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0,
                only_departments=[])
    assert empty.value.field == "departments"
    assert _whistles(db, township) == [] and _kinds(db, inc.id) == []


def _acting(db: Session, locator: Locator, catalog: Catalog, site, category: str = "ENV-01") -> tuple[Incident, str]:
    x, y, township = site
    inc = new_case(db, locator, catalog, x, y, category=category)
    lead = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township,
                   at=T0).assignments[0].department
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead, lon=x, lat=y, accuracy_m=5,
                      server_time=T0 + timedelta(minutes=10))
    on_site.start_action(db, incident_id=inc.id, department=lead, at=T0 + timedelta(minutes=15))
    return inc, lead


def _records(db: Session, incident_id: UUID) -> list[dict]:
    return [dict(r._mapping) for r in db.execute(
        text("SELECT penalty_amount, acted_at, legal_basis FROM enforcement_record WHERE incident_id = :id "
             "ORDER BY id"), {"id": incident_id}).all()]


@pytest.mark.parametrize("amount", [1e30, 1e12, PENALTY_MAX + 0.01, -1.0, math.inf, math.nan])
def test_a_fine_the_record_cannot_hold_is_refused(db: Session, locator: Locator, catalog: Catalog, site,
                                                 amount: float) -> None:
    inc, lead = _acting(db, locator, catalog, site)
    kinds = _kinds(db, inc.id)
    with pytest.raises(InvalidInput) as bad:
        on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type="行政处罚",
                              officer="李明", acted_at=T0 + timedelta(minutes=20), penalty_amount=amount,
                              now=T0 + timedelta(minutes=30))
    assert bad.value.field == "penalty_amount"
    assert _records(db, inc.id) == [] and _kinds(db, inc.id) == kinds


def test_the_largest_fine_is_kept_to_the_fen(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    inc, lead = _acting(db, locator, catalog, site)
    on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type="行政处罚",
                          officer="李明", acted_at=T0 + timedelta(minutes=20), penalty_amount=PENALTY_MAX,
                          now=T0 + timedelta(minutes=30))
    assert str(_records(db, inc.id)[0]["penalty_amount"]) == "999999999999.99"


def test_an_action_dated_in_the_future_is_refused(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    inc, lead = _acting(db, locator, catalog, site)
    now = T0 + timedelta(minutes=30)
    kinds = _kinds(db, inc.id)
    for acted_at in (datetime(2030, 1, 1, tzinfo=T0.tzinfo), now + CLOCK_SKEW + timedelta(seconds=1)):
        with pytest.raises(InvalidInput) as future:
            on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type="现场检查",
                                  officer="李明", acted_at=acted_at, now=now)
        assert future.value.field == "acted_at" and "future" in future.value.message
    assert _records(db, inc.id) == [] and _kinds(db, inc.id) == kinds
    # without ``now`` the wall clock bounds it
    with pytest.raises(InvalidInput) as wall:
        on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type="现场检查",
                              officer="李明", acted_at=datetime.now(T0.tzinfo) + timedelta(days=1))
    assert wall.value.field == "acted_at"
    # a phone a few minutes fast is allowed
    on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type="现场检查",
                          officer="李明", acted_at=now + CLOCK_SKEW, now=now)
    assert [r["acted_at"] for r in _records(db, inc.id)] == [now + CLOCK_SKEW]


@pytest.mark.parametrize("action_type", ["fine", "penalty", "罚款", "现场检查，责令改正", "inspect", ""])
def test_an_action_of_no_kind_in_the_lists_is_refused(db: Session, locator: Locator, catalog: Catalog, site,
                                                       action_type: str) -> None:
    inc, lead = _acting(db, locator, catalog, site)
    kinds = _kinds(db, inc.id)
    with pytest.raises(InvalidInput) as bad:
        on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type=action_type,
                              officer="李明", acted_at=T0 + timedelta(minutes=20), now=T0 + timedelta(minutes=30))
    assert bad.value.field == "action_type" and bad.value.status == 422
    accepted = bad.value.detail["accepted"]
    assert [k["code"] for k in accepted] == list(catalog.action_kinds)
    assert all(f"{k['code']} ({k['zh']})" in bad.value.message for k in accepted)
    assert _records(db, inc.id) == [] and _kinds(db, inc.id) == kinds


def test_an_action_kind_is_given_by_code_or_chinese_name_and_stored_as_its_code(
        db: Session, locator: Locator, catalog: Catalog, site) -> None:
    inc, lead = _acting(db, locator, catalog, site)
    for given in ("行政处罚", "PENALTY", "协助执法", " 现场检查 "):
        on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type=given,
                              officer="李明", acted_at=T0 + timedelta(minutes=20), now=T0 + timedelta(minutes=30))
    stored = db.execute(text("SELECT action_type FROM enforcement_record WHERE incident_id = :id ORDER BY id"),
                        {"id": inc.id}).scalars().all()
    assert stored == ["PENALTY", "PENALTY", "ASSIST", "INSPECT"]
    events, _ = dispatch_repo.events_of(db, incident_id=inc.id)
    assert [e.payload["action_type"] for e in events if e.kind == "enforcement_record"] == stored


def test_the_legal_basis_lists_each_article_once(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    inc, lead = _acting(db, locator, catalog, site, category="MIN-02")
    rules = [r for r in catalog.rules if r.category == "MIN-02"]
    cited = [(b.law, b.article) for r in rules for b in r.legal_basis]
    assert len(rules) > 1 and len(set(cited)) < len(cited)  # the general and the zone rule share articles
    on_site.record_action(db, catalog=catalog, incident_id=inc.id, department=lead, action_type="现场检查",
                          officer="李明", acted_at=T0 + timedelta(minutes=20), now=T0 + timedelta(minutes=30))
    basis = [(b["law"], b["article"]) for b in _records(db, inc.id)[0]["legal_basis"]]
    assert basis == list(dict.fromkeys(cited))


def test_a_department_without_an_assignment_is_not_found(db: Session, locator: Locator, catalog: Catalog,
                                                         site) -> None:
    inc, lead = _acting(db, locator, catalog, site)
    with pytest.raises(NotFound) as missing:
        on_site.start_action(db, incident_id=inc.id, department="NOPE", at=T0 + timedelta(minutes=20))
    assert missing.value.field == "department" and "no assignment of NOPE" in missing.value.message
    with pytest.raises(NotFound):
        on_site.assignment_of(db, incident_id=inc.id, department="NOPE")
    assert on_site.assignment_of(db, incident_id=inc.id, department=lead).department == lead
