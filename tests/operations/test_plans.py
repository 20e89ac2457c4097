"""Joint-operation plans on a real PostGIS: candidates from open cases, a recurring site and a hot spot; the plan
stored; executing it whistles every target once, filing a case where a target had none."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.analysis.planning import MAX_PLAN_AHEAD
from gis_enforcement.dispatch.record import verify_case_record
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import AlreadyRecorded, InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.layers.seats import load_seats
from gis_enforcement.operations.plans import PlanRequest, create_plan, execute_plan, gather_candidates
from gis_enforcement.settings import PROJECT_ROOT
from gis_enforcement.storage import analysis_repo
from tests.dispatch.helpers import METRE, new_case

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 5, 12, 20, 0, tzinfo=TZ)
PLANNED_AT = NIGHT - timedelta(days=1)  # the time of planning: the day before the operation


def test_plan_from_cases_site_and_hot_spot_then_execute(db: Session, locator: Locator, catalog: Catalog,
                                                        town) -> None:
    code, (a, b, c) = town
    near_site = new_case(db, locator, catalog, a[0], a[1] + 50 * METRE, category="MIN-02")
    alone = new_case(db, locator, catalog, b[0], b[1], category="MIN-02")
    analysis_repo.replace_recurring_sites(db, retire=False, sites=pd.DataFrame({
        "site_id": ["S1"], "kind": ["MIN-02"], "categories": [("MIN-02",)], "township_code": [code],
        "n_incidents": [4], "n_recurrences": [2], "first_reported_at": [NIGHT - timedelta(days=200)],
        "last_reported_at": [NIGHT - timedelta(days=20)], "last_closed_at": [NIGHT - timedelta(days=30)],
        "follow_up_due": [NIGHT], "history": [["x1", "x2"]], "lon": [a[0]], "lat": [a[1]]}),
        parameters={"eps_m": 100})
    cell = shapely.buffer(shapely.Point(b), 0.003, quad_segs=2)  # a hot cell around the lone case
    empty_hot = shapely.buffer(shapely.Point(c), 0.003, quad_segs=2)  # a hot cell where nothing is open
    run_id = analysis_repo.insert_hotspot_run(
        db, kind="gi_star", parameters={"categories": ["MIN-02"]}, scale=None, summary={}, n_incidents=10,
        cells=gpd.GeoDataFrame({"cell_id": ["h1", "h2", "h3"], "count": [5, 4, 0], "z": [3.2, 2.0, -0.1],
                                "p": [0.001, 0.04, 0.9], "gi_bin": [3, 2, 0]},
                               geometry=[cell, empty_hot, shapely.buffer(shapely.Point(a), 0.001)], crs=4326))

    request = PlanRequest(period_start=NIGHT, townships=[code], categories=["MIN-02"], hotspot_run_id=run_id)
    candidates = gather_candidates(db, request=request, locator=locator).set_index("target_id")
    site = candidates.loc["site:S1"]
    assert site["open_cases"] == 1 and site["case_ids"] == [str(near_site.id)]  # folded into the site
    lone = candidates[candidates["case_ids"].map(lambda ids: str(alone.id) in ids)]
    assert len(lone) == 1 and lone.iloc[0]["gi_bin"] == 3  # inside the 99 % hot cell
    assert candidates.loc["hot:h2", "gi_bin"] == 2 and candidates.loc["hot:h2", "open_cases"] == 0
    assert "hot:h3" not in candidates.index  # not hot

    seats = load_seats(PROJECT_ROOT / "data" / "boundaries")
    plan_id, plan = create_plan(db, catalog=catalog, locator=locator, seats=seats, request=request,
                                now=PLANNED_AT)
    assert len(plan.targets) == 3 and plan.waiting.empty  # the night window fits all three
    assert list(plan.targets['target_id'])[0] == 'site:S1'  # recurring, with an open case: ranked first
    stored = analysis_repo.get_plan(db, plan_id=plan_id)
    assert stored is not None and stored["status"] == "planned"
    assert [t["target_id"] for t in stored["targets"]] == list(plan.targets["target_id"])
    assert stored["route"]["type"] == "FeatureCollection"
    assert all(t["departments"] for t in stored["targets"])

    at = NIGHT + timedelta(hours=1)
    done = execute_plan(db, catalog=catalog, locator=locator, plan_id=plan_id, at=at, actor="supervisor")
    planned_ids = {t["target_id"] for t in stored["targets"]}
    assert len(done.whistle_ids) >= len(planned_ids)
    statuses = dict(db.execute(text("SELECT id, status FROM incident WHERE id = ANY(:ids)"),
                               {"ids": done.incident_ids}).all())
    assert set(statuses.values()) == {"whistled"}
    assert "hot:h2" in planned_ids and len(done.filed) == 1  # a target with no open case got one, by intake
    if done.filed:
        filed = db.execute(text("SELECT category, reporter, township_code FROM incident WHERE id = :id"),
                           {"id": done.filed[0]}).one()
        assert filed.category == "MIN-02" and filed.reporter == f"联合执法计划#{plan_id}"
    for i in done.incident_ids:
        assert verify_case_record(db, incident_id=i) is None
    notes = db.execute(text("SELECT note FROM whistle WHERE id = ANY(:ids)"), {"ids": done.whistle_ids}).scalars()
    assert all(n.startswith(f"联合执法计划#{plan_id}") for n in notes)
    again = analysis_repo.get_plan(db, plan_id=plan_id)
    assert again["status"] == "executed" and list(again["whistle_ids"]) == done.whistle_ids
    with pytest.raises(AlreadyRecorded):
        execute_plan(db, catalog=catalog, locator=locator, plan_id=plan_id, at=at)


def test_a_plan_needs_a_start_and_something_to_do(db: Session, locator: Locator, catalog: Catalog, town) -> None:
    code, _ = town
    seats = load_seats(PROJECT_ROOT / "data" / "boundaries")
    with pytest.raises(InvalidInput) as nothing:
        create_plan(db, catalog=catalog, locator=locator, seats=seats,
                    request=PlanRequest(period_start=NIGHT, townships=[code], categories=["MIN-02"]), now=PLANNED_AT)
    assert nothing.value.field == "area"
    with pytest.raises(InvalidInput) as nowhere:
        create_plan(db, catalog=catalog, locator=locator, seats=seats,
                    request=PlanRequest(period_start=NIGHT, townships=[], categories=["MIN-02"]), now=PLANNED_AT)
    assert nowhere.value.field == "start_township"


def test_executing_skips_a_target_whose_departments_are_all_summoned(db: Session, locator: Locator,
                                                                     catalog: Catalog, town) -> None:
    from gis_enforcement.dispatch.whistle import TOWNSHIP, departments_allowed, whistle

    code, (a, b, _) = town
    first = new_case(db, locator, catalog, a[0], a[1], category="MIN-02")
    summoned = new_case(db, locator, catalog, b[0], b[1], category="MIN-02")
    seats = load_seats(PROJECT_ROOT / "data" / "boundaries")
    request = PlanRequest(period_start=NIGHT, townships=[code], categories=["MIN-02"])
    plan_id, plan = create_plan(db, catalog=catalog, locator=locator, seats=seats, request=request,
                                now=PLANNED_AT)
    assert len(plan.targets) == 2
    whistle(db, catalog=catalog, incident_ids=[summoned.id], mode=TOWNSHIP, whistler=code,
            at=NIGHT + timedelta(minutes=10), add_departments=sorted(departments_allowed(catalog, "MIN-02")))
    done = execute_plan(db, catalog=catalog, locator=locator, plan_id=plan_id, at=NIGHT + timedelta(hours=1))
    assert done.incident_ids == [first.id] and len(done.whistle_ids) == 1
    assert (str(summoned.id), "every department is already summoned") in done.skipped
    assert analysis_repo.get_plan(db, plan_id=plan_id)["status"] == "executed"


def _plans(db: Session) -> int:
    return int(db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one())


def _night_request(db: Session, locator: Locator, catalog: Catalog, town) -> tuple[Any, PlanRequest, int]:
    """An open MIN-02 case in the township, the district's seats, a request for the night of NIGHT, and how
    many plans are stored before it."""
    code, (a, _, _) = town
    new_case(db, locator, catalog, a[0], a[1], category="MIN-02")
    request = PlanRequest(period_start=NIGHT, period_end=NIGHT + timedelta(hours=12), townships=[code],
                          categories=["MIN-02"])
    return load_seats(PROJECT_ROOT / "data" / "boundaries"), request, _plans(db)


def test_a_period_already_over_is_refused_on_its_end(db: Session, locator: Locator, catalog: Catalog,
                                                     town) -> None:
    seats, request, before = _night_request(db, locator, catalog, town)
    with pytest.raises(InvalidInput) as over:
        create_plan(db, catalog=catalog, locator=locator, seats=seats, request=request,
                    now=NIGHT + timedelta(hours=12))  # the moment it ends
    assert over.value.field == "period_end"
    assert "the period ended at 2026-05-13T08:00+08:00" in over.value.message, over.value.message
    assert "plan a period that has not ended" in over.value.message
    # with no time of planning given, it is planned now: a season long over is refused the same way
    with pytest.raises(InvalidInput) as long_ago:
        create_plan(db, catalog=catalog, locator=locator, seats=seats, request=dataclasses.replace(
            request, period_start=datetime(2020, 5, 12, 20, tzinfo=TZ), period_end=None))
    assert long_ago.value.field == "period_end" and "2020-05-13T20:00+08:00" in long_ago.value.message
    assert _plans(db) == before  # nothing stored
    # a period under way can still be planned: the rest of it is ahead
    _, plan = create_plan(db, catalog=catalog, locator=locator, seats=seats, request=request,
                          now=NIGHT + timedelta(hours=1))
    assert len(plan.targets) == 1 and _plans(db) == before + 1


def test_a_period_too_far_ahead_is_refused_on_its_start(db: Session, locator: Locator, catalog: Catalog,
                                                        town) -> None:
    seats, request, before = _night_request(db, locator, catalog, town)
    with pytest.raises(InvalidInput) as ahead:
        create_plan(db, catalog=catalog, locator=locator, seats=seats, request=request,
                    now=NIGHT - MAX_PLAN_AHEAD - timedelta(minutes=1))
    assert ahead.value.field == "period_start"
    said = ahead.value.message
    assert "2026-05-12T20:00+08:00" in said and f"at most {MAX_PLAN_AHEAD.days} days ahead" in said, said
    with pytest.raises(InvalidInput) as far:  # a year typed wrongly, planned now
        create_plan(db, catalog=catalog, locator=locator, seats=seats, request=dataclasses.replace(
            request, period_start=datetime(2099, 5, 12, 20, tzinfo=TZ), period_end=None))
    assert far.value.field == "period_start" and "2099-05-12T20:00+08:00" in far.value.message
    assert _plans(db) == before
    _, plan = create_plan(db, catalog=catalog, locator=locator, seats=seats, request=request,
                          now=NIGHT - MAX_PLAN_AHEAD)  # at the horizon exactly: planned
    assert len(plan.targets) == 1 and _plans(db) == before + 1


def test_the_time_of_planning_must_say_its_zone(db: Session, locator: Locator, catalog: Catalog, town) -> None:
    seats = load_seats(PROJECT_ROOT / "data" / "boundaries")
    with pytest.raises(InvalidInput) as naive:
        create_plan(db, catalog=catalog, locator=locator, seats=seats,
                    request=PlanRequest(period_start=NIGHT, townships=[town[0]], categories=["MIN-02"]),
                    now=PLANNED_AT.replace(tzinfo=None))
    assert naive.value.field == "now"


def test_a_plan_with_nothing_to_execute_is_refused_and_not_stored(db: Session, locator: Locator,
                                                                   catalog: Catalog, town) -> None:
    seats, request, before = _night_request(db, locator, catalog, town)
    morning = NIGHT.replace(hour=8)  # MIN-02 is inspected at night (21:00-04:00): two hours of morning hold none
    with pytest.raises(InvalidInput) as empty:
        create_plan(db, catalog=catalog, locator=locator, seats=seats, now=PLANNED_AT,
                    request=dataclasses.replace(request, period_start=morning,
                                                period_end=morning + timedelta(hours=2)))
    assert empty.value.field == "period_start"
    said = empty.value.message
    assert said.startswith("nothing to execute: none of the 1 candidate(s) can be visited in that period: ")
    assert "21:00" in said and _plans(db) == before
    _, plan = create_plan(db, catalog=catalog, locator=locator, seats=seats, request=request, now=PLANNED_AT)
    assert len(plan.targets) == 1 and _plans(db) == before + 1  # the night itself is planned
