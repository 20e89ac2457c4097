"""The township map page from the store: every metric has data for the townships with report-ins and resolved
cases, for the default period (everything stored) and for a given one."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.analysis.evaluation import parse_period
from gis_enforcement.dispatch import on_site, resolution
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.operations.map_pages import townships_page
from tests.dispatch.helpers import METRE, T0, new_case


@pytest.fixture
def resolved_case(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> str:
    """A case whistled by its township, its lead on time, the assists late, resolved by the lead."""
    v = jurisdiction.villages.iloc[12]
    x, y, township = v.geometry.x, v.geometry.y, v["township_code"]
    inc = new_case(db, locator, catalog, x, y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0)
    lead = result.assignments[0]
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=x,
                      lat=y + 50 * METRE, accuracy_m=5, server_time=T0 + timedelta(minutes=5))
    for a in result.assignments[1:]:
        on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=a.department, lon=x, lat=y,
                          accuracy_m=5, server_time=a.report_in_due + timedelta(minutes=30))
    on_site.start_action(db, incident_id=inc.id, department=lead.department, at=T0 + timedelta(minutes=50))
    on_site.complete(db, incident_id=inc.id, department=lead.department, at=T0 + timedelta(hours=3))
    resolution.resolve(db, incident_id=inc.id, department=lead.department, at=T0 + timedelta(hours=3),
                       summary="已处置")
    return str(township)


def _with_data(page: Path) -> tuple[int, int]:
    found = re.search(r"(\d+)/(\d+) 个乡镇有数据", page.read_text(encoding="utf-8"))
    assert found, "the page names how many townships have data"
    return int(found.group(1)), int(found.group(2))


@pytest.mark.parametrize("period", [None, "2026"])
@pytest.mark.parametrize("metric", ["on_time_rate", "resolution_rate", "incidents_per_km2"])
def test_every_metric_has_data_with_and_without_a_period(db: Session, catalog: Catalog, resolved_case: str,
                                                         tmp_path: Path, metric: str, period: str | None) -> None:
    span = parse_period(period) if period else None
    page = townships_page(db, tmp_path / "townships.html", catalog=catalog, metric=metric,
                          start=span.start if span else None, end=span.end if span else None)
    with_data, total = _with_data(page.path)
    assert total >= 10 and with_data >= 1, f"{metric} for {period or 'everything'}: {with_data}/{total}"


def test_a_period_without_the_case_has_no_rates(db: Session, catalog: Catalog, resolved_case: str,
                                                tmp_path: Path) -> None:
    span = parse_period("2020")
    for metric in ("on_time_rate", "resolution_rate"):
        page = townships_page(db, tmp_path / f"{metric}.html", catalog=catalog, metric=metric,
                              start=span.start, end=span.end)
        assert _with_data(page.path)[0] == 0, metric


def test_the_on_time_rate_counts_the_cases_township(db: Session, catalog: Catalog, resolved_case: str) -> None:
    from gis_enforcement.analysis.evaluate_service import load_facts
    from gis_enforcement.analysis.evaluation import Period
    from gis_enforcement.mapping.townships_map import township_on_time

    facts = load_facts(db, period=Period(T0 - timedelta(days=1), T0 + timedelta(days=1)), by="township")
    table = township_on_time(facts.frame("assignments"), as_of=datetime.now(T0.tzinfo))
    row = table[table["township_code"] == resolved_case]
    assigned = len(facts.frame("assignments"))
    assert len(row) == 1 and row["on_time_rate"].iloc[0] == pytest.approx(1 / assigned)
