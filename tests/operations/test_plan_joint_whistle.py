"""A district plan's execution is the district's joint-operation whistle (联合执法), not the township's: mode
``joint_plan``, whistler ``district``, the acting person recorded; it summons like a township whistle but the
township evaluation counts only the township's own whistles and summons."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.analysis.evaluate_service import evaluate
from gis_enforcement.analysis.evaluation import parse_period
from gis_enforcement.dispatch.whistle import DISTRICT, JOINT_PLAN, TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.layers.seats import load_seats
from gis_enforcement.operations.plans import PlanRequest, create_plan, execute_plan
from gis_enforcement.settings import PROJECT_ROOT
from tests.dispatch.helpers import new_case

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 5, 12, 20, 0, tzinfo=TZ)
PLANNED_AT = NIGHT - timedelta(days=1)
SEATS = load_seats(PROJECT_ROOT / "data" / "boundaries")


def test_a_plan_is_executed_in_the_districts_name_and_left_out_of_the_townships_whistles(
        db: Session, locator: Locator, catalog: Catalog, town) -> None:
    code, (a, b, c) = town
    planned = [new_case(db, locator, catalog, *p, category="MIN-02") for p in (a, b)]
    plan_id, plan = create_plan(db, catalog=catalog, locator=locator, seats=SEATS, now=PLANNED_AT,
                                request=PlanRequest(period_start=NIGHT, townships=[code], categories=["MIN-02"]))
    assert len(plan.targets) == 2
    own = new_case(db, locator, catalog, *c, category="MIN-02")  # the township's own case, whistled by it
    mine = whistle(db, catalog=catalog, incident_ids=[own.id], mode=TOWNSHIP, whistler=code,
                   at=NIGHT + timedelta(minutes=30), actor="town_desk")

    done = execute_plan(db, catalog=catalog, locator=locator, plan_id=plan_id, at=NIGHT + timedelta(hours=1),
                        actor="chief_li")
    assert set(done.incident_ids) == {p.id for p in planned} and done.whistle_ids
    rows = db.execute(text("SELECT mode, whistler_unit, actor FROM whistle WHERE id = ANY(:ids)"),
                      {"ids": done.whistle_ids}).all()
    assert {tuple(r) for r in rows} == {(JOINT_PLAN, DISTRICT, "chief_li")}
    events = db.execute(text("SELECT actor, payload->>'mode', payload->>'whistler' FROM case_event "
                             "WHERE incident_id = ANY(:ids) AND kind = 'whistle'"),
                        {"ids": [p.id for p in planned]}).all()
    assert len(events) == 2 and {tuple(e) for e in events} == {("chief_li", JOINT_PLAN, DISTRICT)}
    summoned = db.execute(text("SELECT count(*) FROM assignment WHERE whistle_id = ANY(:ids)"),
                          {"ids": done.whistle_ids}).scalar_one()
    assert summoned >= 2  # the plan's departments are summoned (every target has at least one)

    may = parse_period("2026-05")
    towns = evaluate(db, catalog=catalog, start=may.start, end=may.end, by="township",
                     as_of=NIGHT + timedelta(hours=3))
    here = towns.loc[towns["township_code"] == code].iloc[0]
    # only the township's own whistle and its summons: the district's operation is not the township's
    assert (here.whistles_sent, here.summons) == (1, len(mine.assignments))
    departments = evaluate(db, catalog=catalog, start=may.start, end=may.end, by="department",
                           as_of=NIGHT + timedelta(hours=3))
    # the departments owe the joint operation's summons all the same
    assert int(departments["whistles"].sum()) == len(mine.assignments) + summoned


def test_a_joint_operation_whistle_is_the_districts_and_only_for_the_districts_cases(
        db: Session, locator: Locator, catalog: Catalog, town) -> None:
    code, (a, _, _) = town
    case = new_case(db, locator, catalog, *a, category="MIN-02")
    with pytest.raises(InvalidInput) as township:
        whistle(db, catalog=catalog, incident_ids=[case.id], mode=JOINT_PLAN, whistler=code,
                at=NIGHT + timedelta(hours=1))
    assert township.value.field == "whistler" and "district" in str(township.value)
    outside = new_case(db, locator, catalog, 116.0, 39.5, category="MIN-02")  # far outside the district
    with pytest.raises(InvalidInput) as away:
        whistle(db, catalog=catalog, incident_ids=[outside.id], mode=JOINT_PLAN, whistler=DISTRICT,
                at=NIGHT + timedelta(hours=1))
    assert away.value.field == "incident_ids" and "outside the district" in str(away.value)
    assert db.execute(text("SELECT count(*) FROM whistle")).scalar_one() == 0
