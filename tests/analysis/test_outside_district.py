"""Incidents accepted outside the district (flagged ``outside_district``) are left out of the spatial analyses:
hot spots, emerging hot spots and the register of recurring sites; the runs say how many were left out."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import shapely
from sqlalchemy.orm import Session

from gis_enforcement.analysis.hotspot_service import run_and_store, stored_run
from gis_enforcement.analysis.trend_service import emerging_run, refresh_sites
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from gis_enforcement.patrol.submit import submit_one
from gis_enforcement.storage import analysis_repo

TZ = ZoneInfo("Asia/Shanghai")
#: three reports a week apart, ~20 m apart, at lon/lat 0,0: accepted, flagged, and a DBSCAN cluster by themselves
FAR_AWAY = [(0.0 + k * 0.0002, 0.0) for k in range(3)]


def _report_far_away(db: Session, locator: Locator, catalog: Catalog) -> list[uuid.UUID]:
    ids = []
    for k, (lon, lat) in enumerate(FAR_AWAY):
        when = datetime(2026, 5, 1, 10, 0, tzinfo=TZ) + timedelta(days=7 * k)
        feature = {"type": "Feature", "id": str(uuid.uuid4()),
                   "geometry": {"type": "Point", "coordinates": [lon, lat]},
                   "properties": {"category": "MIN-02", "observed_at": when.isoformat()}}
        incident, _ = submit_one(db, feature, locator=locator, catalog=catalog)
        assert "outside_district" in incident.flags and incident.township_code is None
        ids.append(incident.id)
    return ids


@pytest.fixture
def season(db: Session, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog, tmp_path: Path) -> int:
    table = simulate_incident_table(jurisdiction, catalog, count=1500, seed=5)
    path = tmp_path / "season.csv"
    table.to_csv(path, index=False)
    report = ingest(db, read_intake_file(path), locator=locator, catalog=catalog)
    _report_far_away(db, locator, catalog)
    return report.accepted


def _inside_district_box(cells: object, jurisdiction: Jurisdiction) -> bool:
    minx, miny, maxx, maxy = jurisdiction.district.total_bounds
    centres = shapely.centroid(cells.geometry.to_numpy())  # type: ignore[attr-defined]
    x, y = shapely.get_x(centres), shapely.get_y(centres)
    pad = 0.05
    return bool(((x > minx - pad) & (x < maxx + pad) & (y > miny - pad) & (y < maxy + pad)).all())


def test_the_repository_leaves_them_out_on_request_and_counts_them(db: Session, locator: Locator,
                                                                   catalog: Catalog) -> None:
    far = {str(i) for i in _report_far_away(db, locator, catalog)}
    assert far <= set(analysis_repo.incidents_frame(db)["id"])  # still listed where all incidents are asked for
    assert not far & set(analysis_repo.incidents_frame(db, inside_district=True)["id"])
    assert analysis_repo.count_outside_district(db) >= 3
    assert analysis_repo.count_outside_district(db, categories=["NO-SUCH"]) == 0


def test_a_hot_spot_run_leaves_them_out_and_says_how_many(db: Session, season: int,
                                                          jurisdiction: Jurisdiction) -> None:
    outside = analysis_repo.count_outside_district(db)  # the simulated season strays over the border too
    assert outside >= len(FAR_AWAY)
    run_id, result = run_and_store(db, cell="h3", resolution=8)
    assert result.summary["outside_district"] == outside
    assert any(f"{outside} incident(s) outside the district left out" in w for w in result.summary["warnings"])
    assert result.scale.distance_m < 20_000 and "widened" not in result.scale.detail
    assert result.summary["hot"] > 0
    assert _inside_district_box(result.cells, jurisdiction)
    run, _ = stored_run(db, run_id=run_id)
    assert run["summary"]["outside_district"] == outside and run["n_incidents"] <= season


def test_an_emerging_run_leaves_them_out(db: Session, season: int, jurisdiction: Jurisdiction) -> None:
    outside = analysis_repo.count_outside_district(db)
    _, _, cells = emerging_run(db, cell="grid", size_m=1000.0, start=datetime(2026, 3, 1, tzinfo=TZ),
                               end=datetime(2026, 9, 1, tzinfo=TZ))
    assert _inside_district_box(cells, jurisdiction)
    assert (cells["pattern"] != "no pattern").any()
    run = analysis_repo.hotspot_runs(db, limit=1)[0]
    assert run["kind"] == "emerging" and run["summary"]["outside_district"] == outside
    assert run["scale"]["distance_m"] < 20_000


def test_recurring_sites_leave_them_out(db: Session, locator: Locator, catalog: Catalog) -> None:
    _report_far_away(db, locator, catalog)
    sites = refresh_sites(db, locator=locator, eps_m=100, min_samples=3)
    assert sites.attrs["outside_district"] == len(FAR_AWAY)
    if len(sites):
        assert (sites["lon"] > 100).all()  # none at lon/lat 0,0
