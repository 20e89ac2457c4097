"""A plan names its targets so that a crew can tell them apart: by village and kind, then grid cell, then order."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from sqlalchemy.orm import Session

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.operations.plans import PlanRequest, create_plan, distinct_names
from tests.dispatch.helpers import new_case
from tests.operations.test_plan_execution_period import PLANNED_AT, SEATS, START


def test_a_shared_name_gets_its_grid_cell_then_its_order() -> None:
    names = pd.Series(["海子·案件点", "海子·案件点", "黄草洼·案件点", "海子·案件点", "洙水·热点"])
    cells = pd.Series(["110117003202001", "110117003202002", "110117003202003", "110117003202002", None])
    assert distinct_names(names, cells).tolist() == [
        "海子·案件点（网格001）", "海子·案件点（网格002） #1", "黄草洼·案件点", "海子·案件点（网格002） #2",
        "洙水·热点"]
    assert distinct_names(names.iloc[[2, 4]], cells.iloc[[2, 4]]).tolist() == ["黄草洼·案件点", "洙水·热点"]


def test_targets_in_one_village_are_named_apart(db: Session, locator: Locator, catalog: Catalog,
                                                jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages
    code = v["township_code"].value_counts().index[0]
    p = v[v["township_code"] == code].geometry.iloc[0]
    placed = 0  # cases about 450 m apart around one village seat, inside its township: separate targets
    for dx, dy in [(0, 0), (0.0055, 0), (-0.0055, 0), (0, 0.004), (0, -0.004), (0.0055, 0.004), (-0.0055, -0.004)]:
        if placed < 3 and locator.locate_one(p.x + dx, p.y + dy, 5).township_code == code:
            new_case(db, locator, catalog, p.x + dx, p.y + dy, category="MIN-02")
            placed += 1
    assert placed == 3
    _, plan = create_plan(db, catalog=catalog, locator=locator, seats=SEATS, request=PlanRequest(
        period_start=START, period_end=START + timedelta(hours=12), townships=[code], categories=["MIN-02"]),
        now=PLANNED_AT)
    names = plan.targets["name"]
    assert len(names) >= 2 and names.is_unique, names.tolist()
