"""The demo's joint operation is planned on the season's clock: the season it tells lies in the past (or the
future) of whoever runs the demo, and the night after it is still a period a plan can be made for then."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from rich.console import Console
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.demo.operation_story import tell_operation
from gis_enforcement.demo.season import season_window, simulate_season
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.operations.plans import plan_period
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.settings import Settings
from gis_enforcement.storage import analysis_repo


def test_the_demo_plans_the_night_after_its_season(db: Session, jurisdiction: Jurisdiction, catalog: Catalog,
                                                    locator: Locator, settings: Settings, tmp_path: Path) -> None:
    first, end = season_window()
    features = simulate_season(jurisdiction, catalog, count=400, seed=3, start=first.date(),
                               days=(end - first).days)
    ingest(db, parse_geojson({"type": "FeatureCollection", "features": features}), locator=locator,
           catalog=catalog)

    @contextmanager
    def transaction() -> Iterator[Session]:  # the demo's transactions, inside the test's rolled-back one
        yield db

    platform = SimpleNamespace(catalog=catalog, locators=SimpleNamespace(get=lambda session: locator),
                               settings=SimpleNamespace(boundaries_dir=settings.boundaries_dir, maps_dir=tmp_path),
                               transaction=transaction)
    said = io.StringIO()
    plan_id = tell_operation(platform, Console(file=said, width=200), townships=jurisdiction.townships,
                             season_end=end, tz="Asia/Shanghai")
    assert plan_id is not None, said.getvalue()
    assert "no joint operation planned" not in said.getvalue()
    plan = analysis_repo.get_plan(db, plan_id=plan_id)
    assert plan is not None and plan["targets"]
    begin, finish = plan_period(plan)
    night = (end.astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)).replace(hour=20)
    assert begin == night and finish == night + timedelta(hours=12)
    # departments by name with their officers, not codes with the count glued on
    assert "×" in said.getvalue() and "WATER" not in said.getvalue() and "PSB" not in said.getvalue()

    # the demo run again: the same night from the same season is the plan stored before, not a second one
    plans = db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one()
    again = io.StringIO()
    assert tell_operation(platform, Console(file=again, width=200), townships=jurisdiction.townships,
                          season_end=end, tz="Asia/Shanghai") == plan_id
    assert db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one() == plans
    assert f"this night was planned before, as plan #{plan_id}: shown again, not stored twice" in again.getvalue()
    def rows(text_: str) -> list[str]:
        return [line for line in text_.splitlines() if "×" in line]

    assert rows(said.getvalue()) and rows(again.getvalue()) == rows(said.getvalue())  # same targets and crews
