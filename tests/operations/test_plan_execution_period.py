"""A plan is executed for its period — from a short lead before its start until its end — and refusals say the
period in district time; a plan asks for known categories and a period that holds one visit, is stored with
its period in district time, and a plan with no planned target is not executed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import AlreadyRecorded, InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.layers.seats import load_seats
from gis_enforcement.operations.plans import EXECUTE_LEAD, PlanRequest, create_plan, execute_plan, list_plans
from gis_enforcement.settings import PROJECT_ROOT
from gis_enforcement.storage import analysis_repo
from tests.dispatch.helpers import new_case

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 1, 20, 0, tzinfo=TZ)
PLANNED_AT = START - timedelta(days=7)  # the time of planning: a week before the operation, whatever today is
SEATS = load_seats(PROJECT_ROOT / "data" / "boundaries")


@pytest.fixture
def town(jurisdiction: Jurisdiction) -> tuple[str, tuple[float, float]]:
    v = jurisdiction.villages
    code = v["township_code"].value_counts().index[0]
    p = v[v["township_code"] == code].geometry.iloc[0]
    return code, (p.x, p.y)


def _plan(db: Session, locator: Locator, catalog: Catalog, town: tuple[str, tuple[float, float]],
          **request: object) -> int:
    code, (lon, lat) = town
    new_case(db, locator, catalog, lon, lat, category="MIN-02")
    plan_id, plan = create_plan(db, catalog=catalog, locator=locator, seats=SEATS, request=PlanRequest(
        **{"period_start": START, "period_end": START + timedelta(hours=12), "townships": [code],
           "categories": ["MIN-02"], **request}), now=PLANNED_AT)  # type: ignore[arg-type]
    assert len(plan.targets) >= 1
    return plan_id


def _whistles(db: Session) -> int:
    return int(db.execute(text("SELECT count(*) FROM whistle")).scalar_one())


@pytest.mark.parametrize("at", [
    datetime(2026, 11, 27, 17, 2, tzinfo=UTC),  # days before: the walk-through's plan #5
    START - EXECUTE_LEAD - timedelta(minutes=1),
    START + timedelta(hours=12),  # its end
    START + timedelta(days=3),
])
def test_a_plan_is_not_executed_outside_its_period(db: Session, locator: Locator, catalog: Catalog, town,
                                                   at: datetime) -> None:
    plan_id = _plan(db, locator, catalog, town)
    before = _whistles(db)
    with pytest.raises(InvalidInput) as refused:
        execute_plan(db, catalog=catalog, locator=locator, plan_id=plan_id, at=at)
    assert refused.value.field == "at"
    said = refused.value.message
    assert "2026-12-01T20:00+08:00" in said and "2026-12-02T08:00+08:00" in said, said
    assert at.astimezone(TZ).isoformat(timespec="minutes") in said
    assert _whistles(db) == before and analysis_repo.get_plan(db, plan_id=plan_id)["status"] == "planned"


def test_a_plan_is_executed_from_its_lead_time_and_summons_then(db: Session, locator: Locator, catalog: Catalog,
                                                                town) -> None:
    plan_id = _plan(db, locator, catalog, town)
    at = START - EXECUTE_LEAD + timedelta(minutes=5)
    done = execute_plan(db, catalog=catalog, locator=locator, plan_id=plan_id, at=at)
    assert done.whistle_ids
    summoned = db.execute(text("SELECT min(summoned_at) FROM assignment WHERE incident_id = ANY(:ids)"),
                          {"ids": done.incident_ids}).scalar_one()
    assert summoned == at
    with pytest.raises(AlreadyRecorded) as again:
        execute_plan(db, catalog=catalog, locator=locator, plan_id=plan_id, at=START)
    assert at.astimezone(TZ).isoformat(timespec="minutes") in again.value.message  # in district time


def test_a_naive_period_is_district_time_and_stored_so(db: Session, locator: Locator, catalog: Catalog,
                                                       town) -> None:
    plan_id = _plan(db, locator, catalog, town, period_start=START.replace(tzinfo=None),
                    period_end=(START + timedelta(hours=12)).replace(tzinfo=None))
    stored = analysis_repo.get_plan(db, plan_id=plan_id)
    assert stored["parameters"]["period_start"] == "2026-12-01T20:00:00+08:00"
    listed = next(r for r in list_plans(db, limit=500, offset=0)[0] if r["id"] == plan_id)
    assert listed["period_start"] == START and listed["period_end"] == START + timedelta(hours=12)


def test_an_unknown_category_is_refused_by_name(db: Session, locator: Locator, catalog: Catalog, town) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_plan(db, catalog=catalog, locator=locator, seats=SEATS,
                    request=PlanRequest(period_start=START, townships=[town[0]], categories=["MIN-02", "NOPE"]),
                    now=PLANNED_AT)
    assert refused.value.field == "categories" and "'NOPE'" in refused.value.message


def test_a_period_too_short_for_one_visit_is_refused(db: Session, locator: Locator, catalog: Catalog,
                                                     town) -> None:
    code, (lon, lat) = town
    new_case(db, locator, catalog, lon, lat, category="MIN-02")
    before = db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one()
    with pytest.raises(InvalidInput) as refused:
        create_plan(db, catalog=catalog, locator=locator, seats=SEATS, request=PlanRequest(
            period_start=START, period_end=START + timedelta(hours=0.1), townships=[code], categories=["MIN-02"]),
            now=PLANNED_AT)
    assert refused.value.field == "period_end" and "shorter than one visit" in refused.value.message
    assert db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one() == before


def test_a_plan_without_a_planned_target_is_not_executed(db: Session, locator: Locator, catalog: Catalog) -> None:
    route = {"type": "FeatureCollection", "features": [],
             "plan": {"period_start": START.isoformat(), "period_end": (START + timedelta(hours=12)).isoformat()}}
    plan_id = analysis_repo.insert_plan(db, catalog_version="test", parameters={}, targets=[],
                                        waiting=[{"target_id": "w1", "reason": "window"}], staffing=[], route=route)
    with pytest.raises(InvalidInput) as refused:
        execute_plan(db, catalog=catalog, locator=locator, plan_id=plan_id, at=START)
    assert refused.value.field == "plan_id" and "no planned target" in refused.value.message
    assert analysis_repo.get_plan(db, plan_id=plan_id)["status"] == "planned"


def test_the_configured_zone_reads_a_naive_period_stores_and_lists_it(db: Session, locator: Locator,
                                                                       catalog: Catalog, town) -> None:
    """With ``settings.timezone`` = Asia/Urumqi (UTC+6), a naive start is 20:00 there, not in Beijing, and the
    list shows it in that zone."""
    code, (lon, lat) = town
    new_case(db, locator, catalog, lon, lat, category="MIN-02")
    urumqi = ZoneInfo("Asia/Urumqi")
    naive = START.replace(tzinfo=None)
    request = PlanRequest(period_start=naive, period_end=naive + timedelta(hours=12), townships=[code],
                          categories=["MIN-02"])
    plan_id, plan = create_plan(db, catalog=catalog, locator=locator, seats=SEATS, tz="Asia/Urumqi", request=request,
                                now=PLANNED_AT)
    assert plan.period_start == naive.replace(tzinfo=urumqi) and plan.period_start.utcoffset() == timedelta(hours=6)
    assert analysis_repo.get_plan(db, plan_id=plan_id)["parameters"]["period_start"] == "2026-12-01T20:00:00+06:00"
    listed = next(r for r in list_plans(db, limit=500, offset=0, tz="Asia/Urumqi")[0] if r["id"] == plan_id)
    assert listed["period_start"].isoformat() == "2026-12-01T20:00:00+06:00"


def test_keeping_to_the_plan_is_on_time(db: Session, locator: Locator, catalog: Catalog, town) -> None:
    """Summoned at execution, a department owes its report-in at a place from the route's planned arrival
    there: checking in on schedule is on time, and the escalation pass finds nobody late in between."""
    from gis_enforcement.dispatch import on_site
    from gis_enforcement.dispatch.escalation import tick
    from gis_enforcement.storage import dispatch_repo

    plan_id = _plan(db, locator, catalog, town)
    target = analysis_repo.get_plan(db, plan_id=plan_id)["targets"][0]
    arrive = datetime.fromisoformat(target["arrive_at"])
    at = START - EXECUTE_LEAD + timedelta(minutes=5)
    assert arrive - at > timedelta(hours=2)  # the route reaches it well after the whistle
    done = execute_plan(db, catalog=catalog, locator=locator, plan_id=plan_id, at=at)
    case_id = done.incident_ids[0]
    assignments = dispatch_repo.assignments_of(db, incident_id=case_id)
    for a in assignments:  # the lists' report-in minutes, counted from the planned arrival
        assert a.summoned_at == at
        assert timedelta(minutes=1) <= a.report_in_due - arrive <= timedelta(minutes=120), (a, arrive)
    raised = tick(db, catalog=catalog, now=at + timedelta(hours=1))  # long past at + 30 min, before the arrival
    assert not [w for w in raised if w["rule_code"] in ("W01", "W02")], raised
    lead = next(a for a in assignments if a.role.value == "lead")
    case = dispatch_repo.lock_cases(db, incident_ids=[case_id])[case_id]
    lon, lat = target["lon"], target["lat"]
    timing = on_site.report_in(db, catalog=catalog, incident_id=case_id, department=lead.department,
                               lon=lon, lat=lat, accuracy_m=5, server_time=arrive + timedelta(minutes=5))
    assert timing.on_time, (timing, case)
    events, _ = dispatch_repo.events_of(db, incident_id=case_id)
    whistled = next(e for e in events if e.kind == "whistle")
    assert datetime.fromisoformat(str(whistled.payload["report_in_from"])) == arrive
