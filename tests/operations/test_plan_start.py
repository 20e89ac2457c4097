"""Where a joint operation starts: a point must be a WGS84 lon/lat inside the district or just over its border;
a township must exist; each refusal names the request's field, and nothing is stored."""

from __future__ import annotations

import warnings
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.analysis.planning import plan_operation
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.locator import Locator
from gis_enforcement.layers.seats import load_seats
from gis_enforcement.operations.plans import MAX_START_OUTSIDE_M, PlanRequest, create_plan
from gis_enforcement.settings import PROJECT_ROOT
from tests.analysis.test_planning import route_scenario

TZ = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 9, 1, 20, 0, tzinfo=TZ)
PLANNED_AT = datetime(2026, 8, 30, 9, 0, tzinfo=TZ)  # the time of planning: two days before the operation
SEATS = load_seats(PROJECT_ROOT / "data" / "boundaries")


def _refused(db: Session, locator: Locator, catalog: Catalog, **request: object) -> InvalidInput:
    before = db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one()
    with pytest.raises(InvalidInput) as refused:
        create_plan(db, catalog=catalog, locator=locator, seats=SEATS,
                    request=PlanRequest(period_start=NIGHT, **request), now=PLANNED_AT)  # type: ignore[arg-type]
    assert db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one() == before
    return refused.value


@pytest.mark.parametrize("point", [(200.0, 100.0), (-200.0, 100.0), (117.1, 91.0), (40.14, 117.12),
                                   (float("nan"), 40.0), (float("inf"), 40.0)])
def test_a_start_that_is_not_a_lon_lat_is_refused(db: Session, locator: Locator, catalog: Catalog,
                                                  point: tuple[float, float]) -> None:
    refused = _refused(db, locator, catalog, townships=["110117006"], start_point=point)
    assert refused.field == "start_point"
    assert "longitude" in refused.message or "latitude" in refused.message


def test_a_start_far_outside_the_district_is_refused(db: Session, locator: Locator, catalog: Catalog) -> None:
    tiananmen = _refused(db, locator, catalog, start_point=(116.3975, 39.9087))  # ~50 km from the district
    assert tiananmen.field == "start_point" and "outside the district" in tiananmen.message
    assert f"{MAX_START_OUTSIDE_M / 1000:.0f} km" in tiananmen.message
    assert _refused(db, locator, catalog, start_point=(0.0, 0.0)).field == "start_point"
    # just over the border (~9 km) is a start; here (no open case in the township) there is then nothing to plan
    nothing = {"townships": ["110117006"], "categories": ["MIN-02"]}
    assert _refused(db, locator, catalog, start_point=(117.5, 40.2), **nothing).field == "area"
    assert _refused(db, locator, catalog, start_point=(117.12, 40.14), **nothing).field == "area"


def test_a_bad_township_is_named_as_such(db: Session, locator: Locator, catalog: Catalog) -> None:
    assert _refused(db, locator, catalog, townships=["abc"]).field == "townships"
    assert _refused(db, locator, catalog, townships=["abc"], start_point=(117.12, 40.14)).field == "townships"
    assert _refused(db, locator, catalog, start_township="abc").field == "start_township"
    assert _refused(db, locator, catalog).field == "start_township"  # no start at all


def test_the_planner_refuses_a_start_it_cannot_place(catalog: Catalog) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy RuntimeWarning on the way
        with pytest.raises(InvalidInput) as refused:
            plan_operation(route_scenario(), catalog, start=(200.0, 100.0), start_crs="EPSG:4326",
                           period_start=NIGHT)
    assert refused.value.field == "start"
