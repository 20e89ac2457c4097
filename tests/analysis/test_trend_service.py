"""The register of recurring sites from stored incidents, and an emerging run stored with its patterns."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.analysis.trend_service import refresh_sites
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.submit import submit_one
from gis_enforcement.storage import analysis_repo
from tests.dispatch.helpers import METRE

TZ = ZoneInfo("Asia/Shanghai")


def _report(db: Session, locator: Locator, catalog: Catalog, lon: float, lat: float, when: datetime,
            category: str = "MIN-02") -> uuid.UUID:
    f = {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": [lon, lat]},
         "properties": {"category": category, "observed_at": when.isoformat()}}
    return submit_one(db, f, locator=locator, catalog=catalog)[0].id


def test_a_site_the_problem_came_back_to_is_registered(db: Session, locator: Locator, catalog: Catalog,
                                                       jurisdiction: Jurisdiction) -> None:
    v, w = jurisdiction.villages.iloc[30], jurisdiction.villages.iloc[60]
    t0 = datetime(2026, 4, 1, 22, 0, tzinfo=TZ)
    # site A: three reports 7 days apart (not duplicates), the first two closed, then it came back
    a = [_report(db, locator, catalog, v.geometry.x + k * 20 * METRE, v.geometry.y, t0 + timedelta(days=7 * k))
         for k in range(3)]
    for k, case in enumerate(a[:2]):
        db.execute(text("UPDATE incident SET status = 'closed', closed_at = :t WHERE id = :id"),
                   {"t": t0 + timedelta(days=7 * k + 2), "id": case})
    # site B: three reports, none closed — a cluster, not a recurrence
    for k in range(3):
        _report(db, locator, catalog, w.geometry.x, w.geometry.y + k * 20 * METRE, t0 + timedelta(days=7 * k))
    sites = refresh_sites(db, locator=locator, eps_m=100, min_samples=3, follow_up_days=30)
    assert len(sites) == 2
    came_back = sites.iloc[0]
    assert came_back["n_recurrences"] == 2 and came_back["kind"] == "MIN-02"  # reports 2 and 3 follow closures
    assert came_back["village_name"] == v["name"]
    # reported again after the last closure: inspect from the day of that report (Asia/Shanghai)
    assert came_back["follow_up_on"] == pd.Timestamp((t0 + timedelta(days=14)).date(), tz=TZ)
    assert sites.iloc[1]["n_recurrences"] == 0
    stored = analysis_repo.recurring_sites(db)
    assert list(stored["site_id"]) == [came_back["site_id"]]  # the register lists the recurring one
    assert stored.iloc[0]["history"] == [str(i) for i in a]
    again = refresh_sites(db, locator=locator, eps_m=100, min_samples=3)
    assert list(again["site_id"]) == list(sites["site_id"])  # stable ids: a refresh updates, not duplicates
    assert len(analysis_repo.recurring_sites(db, recurring_only=False)) == 2


def test_a_refresh_replaces_the_register_and_a_growing_site_keeps_its_id(db: Session, locator: Locator,
                                                                         catalog: Catalog,
                                                                         jurisdiction: Jurisdiction) -> None:
    """A site that grows eastwards, its centroid moving into the next 100 m square, keeps its id (the square of
    its first report) and is stored once; a site whose reports were all rejected since is retired; the register
    (what GET /api/v1/sites reads) and the hot-spot map's layer count what the refresh returned (what the CLI
    prints)."""
    import numpy as np

    from gis_enforcement.analysis.change_service import hotspot_map_layers
    from gis_enforcement.analysis.clusters import project_to_metres, to_lonlat

    v, w = jurisdiction.villages.iloc[30], jurisdiction.villages.iloc[60]
    x, y = project_to_metres(np.array([v.geometry.x]), np.array([v.geometry.y]))
    west, middle = float(np.floor(x[0] / 100) * 100) + 5, float(np.floor(y[0] / 100) * 100) + 50
    t0 = datetime(2026, 3, 2, 22, 0, tzinfo=TZ)

    def along(k: int) -> tuple[float, float]:  # k-th report of the growing site, 20 m east of the one before
        lon, lat = to_lonlat(np.array([west + 20 * k]), np.array([middle]))
        return float(lon[0]), float(lat[0])

    def close(case: uuid.UUID, at: datetime) -> None:
        db.execute(text("UPDATE incident SET status = 'closed', closed_at = :t WHERE id = :id"), {"t": at, "id": case})

    a = [_report(db, locator, catalog, *along(k), t0 + timedelta(days=7 * k)) for k in range(3)]
    for k, case in enumerate(a[:2]):
        close(case, t0 + timedelta(days=7 * k + 2))
    b = [_report(db, locator, catalog, w.geometry.x, w.geometry.y + k * 20 * METRE, t0 + timedelta(days=7 * k))
         for k in range(3)]
    for k, case in enumerate(b[:2]):
        close(case, t0 + timedelta(days=7 * k + 2))
    first = refresh_sites(db, locator=locator, eps_m=100, min_samples=3)
    assert len(first) == 2 and (first["n_recurrences"] > 0).all()
    site_a = first.loc[first["history"].map(lambda h: str(a[0]) in map(str, h)), "site_id"].item()
    # the site grows: eight more reports eastwards, its centroid now ~100 m east of where it was
    a += [_report(db, locator, catalog, *along(k), t0 + timedelta(days=7 * k)) for k in range(3, 11)]
    cx, _ = project_to_metres(*to_lonlat(np.array([west + 20 * k for k in range(11)]), np.full(11, middle)))
    assert np.floor(cx.mean() / 100) != np.floor((west + 20) / 100)  # the centroid left the first square
    db.execute(text("UPDATE incident SET status = 'rejected' WHERE id = ANY(:ids)"), {"ids": b})
    second = refresh_sites(db, locator=locator, eps_m=100, min_samples=3)
    assert list(second["site_id"]) == [site_a] and int(second["n_incidents"].iloc[0]) == 11
    stored = analysis_repo.recurring_sites(db, recurring_only=False)
    assert list(stored["site_id"]) == [site_a]  # no stale copy of A, and B retired
    assert len(analysis_repo.recurring_sites(db)) == int((second["n_recurrences"] > 0).sum())
    assert len(hotspot_map_layers(db)["sites"]) == len(stored)
    # a refresh narrowed to another category leaves this one's sites alone
    refresh_sites(db, locator=locator, eps_m=100, min_samples=3, categories=["ENV-01"])
    assert list(analysis_repo.recurring_sites(db, recurring_only=False)["site_id"]) == [site_a]
