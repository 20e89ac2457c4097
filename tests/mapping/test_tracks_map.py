"""The tracks map: the demo's tracks of a week drawn night and day over the zones, with the incidents of the
period and the coverage table, stamped for the /maps index — and in a real browser (offline): every track,
zone and incident on the map, no console error, the popup saying who, where, when and how far."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.demo.patrol_tracks import record_season_tracks
from gis_enforcement.demo.season import simulate_season
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.mapping.stamp import read_page_info
from gis_enforcement.operations.map_pages import tracks_page
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.storage import incident_repo
from tests.browser import chromium
from tests.dispatch.helpers import TZ

END = datetime(2026, 3, 31, tzinfo=TZ)
WEEK = END - timedelta(days=7)


@pytest.fixture
def page(db: Session, jurisdiction: Jurisdiction, catalog: Catalog, locator: Locator, tmp_path: Path) -> Path:
    features = simulate_season(jurisdiction, catalog, count=400, seed=13, start=date(2026, 3, 1), days=30)
    ingest(db, parse_geojson({"type": "FeatureCollection", "features": features}), locator=locator, catalog=catalog)
    record_season_tracks(db, townships=jurisdiction.townships, zones=jurisdiction.zones,
                         incidents=incident_repo.incidents_frame(db), seed=3, tz="Asia/Shanghai", end=END, days=10)
    written = tracks_page(db, tmp_path / "tracks.html", catalog=catalog, start=WEEK, end=END,
                          subtitle="2026-03-24 — 2026-03-30", timezone="Asia/Shanghai")
    assert written.count > 10
    return written.path


def test_the_page_says_what_and_when(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    info = read_page_info(page)
    assert info.title == "平谷区 巡查轨迹" and info.generated_at is not None and info.lang == "zh"
    assert "生成于" in text and "巡查覆盖" in text and "夜间" in text and "2026-03-24 — 2026-03-30" in text
    assert "本期无巡查经过" in text or "河道" in text
    assert "unpkg" not in text and "cdn.jsdelivr" not in text  # offline


def test_the_page_in_a_browser(page: Path, db: Session) -> None:
    from sqlalchemy import text as sql

    n_tracks = db.execute(sql("SELECT count(*) FROM patrol_track WHERE started_at < :e AND ended_at >= :s"),
                          {"s": WEEK, "e": END}).scalar_one()
    n_incidents = db.execute(sql("SELECT count(*) FROM incident WHERE observed_at >= :s AND observed_at < :e"),
                             {"s": WEEK, "e": END}).scalar_one()
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900}, offline=True)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(page.as_uri())
        tab.wait_for_function("() => window.giseTrackLayers")
        sizes = tab.evaluate("() => Object.fromEntries(Object.entries(window.giseTrackLayers).map("
                             "([k, v]) => [k, v.getLayers().length]))")
        assert sizes == {"zones": 12, "tracks": n_tracks, "incidents": n_incidents}
        popup = tab.evaluate("() => { var l = window.giseTrackLayers.tracks.getLayers()[0]; l.openPopup();"
                             " return document.querySelector('.leaflet-popup-content').innerText; }")
        assert "巡查员" in popup and "patrol_" in popup and "公里" in popup and "–" in popup
        tab.evaluate("() => { window.giseTrackLayers.tracks.getLayers()[0].closePopup(); return 0; }")
        tab.screenshot(path=str(page.with_suffix(".png")))
        assert errors == []
