"""Every written map says when it was written (生成于 … in the district's zone; English on an English page) and
carries the facts the /maps index reads back from its head."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from gis_enforcement.mapping.dispatch_map import write_dispatch_map
from gis_enforcement.mapping.hotspots_map import write_hotspots_map
from gis_enforcement.mapping.incidents_map import write_incidents_map
from gis_enforcement.mapping.plan_map import write_plan_map
from gis_enforcement.mapping.stamp import generated_text, read_page_info
from gis_enforcement.mapping.status_map import write_status_map
from gis_enforcement.mapping.townships_map import write_townships_map
from tests.mapping.test_dispatch_map import CASE, WHISTLE, assignments
from tests.mapping.test_hotspots_map import _cells
from tests.mapping.test_incidents_map import pinggu, pinggu_catalog, small  # noqa: F401 — fixtures
from tests.mapping.test_render_chromium import browser  # noqa: F401 — fixture
from tests.mapping.test_status_map import season_cases
from tests.mapping.test_townships_map import _values

AT = datetime(2026, 11, 27, 14, 9, 30, tzinfo=UTC)  # 22:09 in Beijing


def _plan(catalog):
    from gis_enforcement.analysis.planning import plan_operation
    from tests.analysis.test_planning import EVENING, X0, Y0, route_scenario

    return plan_operation(route_scenario(), catalog, start=(X0, Y0), period_start=EVENING,
                          period_end=EVENING + timedelta(hours=18)).to_geojson()


def _writers(pinggu, catalog, small) -> dict[str, Callable[..., Path]]:  # noqa: F811
    towns = pinggu.townships
    cases = season_cases(pinggu, catalog, 60)
    return {
        "status": lambda p, **kw: write_status_map(p, cases, towns, catalog=catalog, **kw),
        "incidents": lambda p, **kw: write_incidents_map(p, small, towns, catalog=catalog, **kw),
        "hotspots": lambda p, **kw: write_hotspots_map(p, _cells(20), towns, **kw),
        "townships": lambda p, **kw: write_townships_map(p, towns, _values(towns), metric="incidents_per_km2",
                                                         **kw),
        "plan": lambda p, **kw: write_plan_map(p, _plan(catalog), towns, catalog=catalog, **kw),
        "dispatch": lambda p, **kw: write_dispatch_map(p, CASE, assignments(), towns, geofence_m=200,
                                                       now=(WHISTLE + pd.Timedelta(hours=1)).to_pydatetime(), **kw),
    }


@pytest.mark.parametrize("kind", ["status", "incidents", "hotspots", "townships", "plan", "dispatch"])
def test_every_written_map_says_when_it_was_written(kind, pinggu, pinggu_catalog, small, tmp_path) -> None:  # noqa: F811
    write = _writers(pinggu, pinggu_catalog, small)[kind]
    page = write(tmp_path / f"{kind}.html", generated_at=AT).read_text("utf-8")
    assert "生成于 2026-11-27 22:09（北京时间）· 快照，非实时" in page
    info = read_page_info(tmp_path / f"{kind}.html")
    assert (info.kind, info.lang, info.generated_at) == (kind, "zh", AT.replace(microsecond=0))
    assert info.title and "<" not in info.title
    english = write(tmp_path / f"{kind}-en.html", generated_at=AT, lang="en").read_text("utf-8")
    assert "Generated 2026-11-27 22:09 (Beijing time) · a snapshot, not live" in english
    assert "生成于" not in english and read_page_info(tmp_path / f"{kind}-en.html").lang == "en"


def test_the_stamp_is_in_the_districts_zone_and_defaults_to_now(pinggu, pinggu_catalog, small, tmp_path) -> None:  # noqa: F811
    assert generated_text(AT, tz="Asia/Urumqi") == "生成于 2026-11-27 20:09（Asia/Urumqi）· 快照，非实时"
    assert generated_text(AT.replace(tzinfo=None)) == generated_text(AT)  # naive is UTC
    write = _writers(pinggu, pinggu_catalog, small)["status"]
    page = write(tmp_path / "s.html", generated_at=AT, tz="Asia/Urumqi").read_text("utf-8")
    assert "生成于 2026-11-27 20:09（Asia/Urumqi）" in page
    before = datetime.now(UTC).replace(microsecond=0)
    write(tmp_path / "now.html")
    at = read_page_info(tmp_path / "now.html").generated_at
    assert at is not None and before <= at <= datetime.now(UTC)


def test_a_page_without_the_facts_reads_as_unknown(tmp_path) -> None:
    (tmp_path / "old.html").write_text("<html><head><title>旧地图</title></head></html>", encoding="utf-8")
    info = read_page_info(tmp_path / "old.html")
    assert (info.title, info.kind, info.lang, info.generated_at) == ("旧地图", None, "zh", None)


def test_the_stamp_shows_on_the_page_in_chromium(browser, pinggu, pinggu_catalog, small, tmp_path) -> None:  # noqa: F811
    path = _writers(pinggu, pinggu_catalog, small)["status"](tmp_path / "status.html", generated_at=AT)
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.goto(path.as_uri())
    stamp = page.locator(".gise-stamp")
    stamp.wait_for()
    assert stamp.inner_text() == "生成于 2026-11-27 22:09（北京时间）· 快照，非实时"
    title = page.locator(".gise-title")
    assert title.locator(".gise-stamp").count() == 1  # the title box's last line, under the period and counts
    assert title.inner_text().splitlines()[-1] == stamp.inner_text()
    page.screenshot(path=str(tmp_path / "stamp.png"))
    page.close()
