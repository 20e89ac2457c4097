"""What the hot-spot map draws beside a Gi* run, gathered from the store: the latest emerging run, the recurring
sites with their township's name, the category trends — and nothing when the store has none of them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.analysis.change_service import hotspot_map_layers
from gis_enforcement.analysis.trend_service import emerging_run, refresh_sites
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.analysis.test_trend_service import TZ, _report
from tests.dispatch.helpers import METRE


def test_nothing_stored_nothing_drawn(db: Session) -> None:
    db.execute(text("DELETE FROM hotspot_run"))
    db.execute(text("DELETE FROM recurring_site"))
    db.execute(text("DELETE FROM incident"))
    assert hotspot_map_layers(db) == {}


def test_emerging_run_sites_and_trends_from_the_store(db: Session, locator: Locator, catalog: Catalog,
                                                      jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[30]
    t0 = datetime(2026, 3, 2, 22, 0, tzinfo=TZ)
    ids = [_report(db, locator, catalog, v.geometry.x + k * 20 * METRE, v.geometry.y, t0 + timedelta(days=7 * k))
           for k in range(3)]
    db.execute(text("UPDATE incident SET status = 'closed', closed_at = :t WHERE id = :id"),
               {"t": t0 + timedelta(days=2), "id": ids[0]})
    # a category that grows week after week, away from the site (reports 13 h apart: no likely duplicates)
    w = jurisdiction.villages.iloc[-40]
    for week in range(8):
        for k in range(week + 1):
            _report(db, locator, catalog, w.geometry.x + 300 * k * METRE, w.geometry.y + 300 * week * METRE,
                    t0 + timedelta(days=7 * week, hours=13 * k), category="ENV-03")
    refresh_sites(db, locator=locator, eps_m=100, min_samples=3)
    run_id, _, _ = emerging_run(db, cell="grid", size_m=1000, unit="day", width=14)

    layers = hotspot_map_layers(db, lang="en")
    assert set(layers) == {"emerging", "emerging_note", "sites", "trends"}
    assert "pattern" in layers["emerging"] and len(layers["emerging"]) > 0
    assert layers["emerging_note"].startswith(f"run {run_id} · 2026-03-02 — ") and "days" in layers["emerging_note"]
    site = layers["sites"].iloc[0]
    assert site["n_recurrences"] == 2 and site["place"].endswith(("Town", "Township", "Subdistrict"))
    trends = layers["trends"].set_index("category")
    assert trends.loc["ENV-03", "trend"] == 1 and trends.loc["ENV-03", "bin_days"] == 7
    assert hotspot_map_layers(db)["sites"].iloc[0]["place"][-1] in "镇乡道"  # Chinese by default


def test_emerging_run_on_h3_cells(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> None:
    # H3 names points by 64-bit integers and cells by strings: the run must put every incident in its cell
    t0 = datetime(2026, 3, 2, 22, 0, tzinfo=TZ)
    for k, v in enumerate(jurisdiction.villages.iloc[:40].itertuples()):
        _report(db, locator, catalog, v.geometry.x, v.geometry.y, t0 + timedelta(days=k))
    run_id, _, cells = emerging_run(db, cell="h3", resolution=8, unit="day", width=7)
    assert run_id > 0 and len(cells) > 0
    assert all(isinstance(c, str) and len(c) == 15 for c in cells["cell_id"])
