"""A stored plan names each case target with the days its cases were reported (district time)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.operations.plans import PlanRequest, create_plan
from tests.dispatch.helpers import new_case
from tests.operations.test_plan_execution_period import PLANNED_AT, SEATS, START


def test_case_targets_carry_their_report_dates(db: Session, locator: Locator, catalog: Catalog,
                                               jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages
    code = v["township_code"].value_counts().index[0]
    p = v[v["township_code"] == code].geometry.iloc[0]
    new_case(db, locator, catalog, p.x, p.y, category="MIN-02")  # reported 2026-05-12 23:00 Beijing time
    _, plan = create_plan(db, catalog=catalog, locator=locator, seats=SEATS, request=PlanRequest(
        period_start=START, period_end=START + timedelta(hours=12), townships=[code], categories=["MIN-02"]),
        now=PLANNED_AT)
    cases = plan.targets[plan.targets["kind"] == "open_cases"]
    assert len(cases) >= 1 and all("·案件点·" in n and "05-12" in n for n in cases["name"]), cases["name"].tolist()
