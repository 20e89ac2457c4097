"""A problem that comes back near a closed case of its category is linked as a recurrence of it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.orm import Session

from gis_enforcement.dispatch import on_site, resolution
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.storage import incident_repo
from tests.dispatch.helpers import METRE, T0, new_case


def close_case(db: Session, catalog: Catalog, inc, township: str, x: float, y: float) -> None:
    whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=T0,
            only_departments=[inc.lead_department])
    lead = inc.lead_department
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead, lon=x, lat=y, accuracy_m=5,
                      server_time=T0 + timedelta(minutes=15))
    on_site.start_action(db, incident_id=inc.id, department=lead, at=T0 + timedelta(minutes=20))
    on_site.complete(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=2))
    resolution.resolve(db, incident_id=inc.id, department=lead, at=T0 + timedelta(hours=2), summary="取缔")
    resolution.verify(db, incident_id=inc.id, township=township, at=T0 + timedelta(hours=3))


def feature(x: float, y: float, category: str, observed: str) -> dict:
    return {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": [x, y]},
            "properties": {"category": category, "observed_at": observed, "accuracy_m": 5}}


def test_recurrence_links_to_the_nearest_closed_case(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    x, y, township = site
    old = new_case(db, locator, catalog, x, y)
    close_case(db, catalog, old, township, x, y)
    assert incident_repo.get_incident(db, incident_id=old.id).status.value == "closed"
    radius = catalog.categories["ENV-01"].recurrence_radius_m
    fc = {"type": "FeatureCollection", "features": [
        feature(x, y + 100 * METRE, "ENV-01", "2026-06-20T10:00:00+08:00"),            # back 5 weeks later
        feature(x, y + (radius + 200) * METRE, "ENV-01", "2026-06-20T10:00:00+08:00"),  # too far
        feature(x, y, "MIN-01", "2026-06-20T10:00:00+08:00"),                            # another problem
        feature(x, y, "ENV-01", "2026-05-12T20:00:00+08:00"),                            # before it closed
    ]}
    report = ingest(db, parse_geojson(fc), locator=locator, catalog=catalog)
    assert report.accepted == 4 and report.recurrences == 1
    got = [incident_repo.get_incident(db, incident_id=uuid.UUID(f["id"])) for f in fc["features"]]
    assert got[0].recurrence_of == old.id and abs(got[0].recurrence_distance_m - 100) < 1
    assert [g.recurrence_of for g in got[1:]] == [None, None, None]


def test_coming_back_twice_within_30_days_raises_w08(db: Session, locator: Locator, catalog: Catalog, site) -> None:
    from gis_enforcement.dispatch.escalation import tick

    x, y, township = site
    old = new_case(db, locator, catalog, x, y)
    close_case(db, catalog, old, township, x, y)
    ingest(db, parse_geojson(feature(x, y + 50 * METRE, "ENV-01", "2026-05-20T10:00:00+08:00")),
           locator=locator, catalog=catalog)
    once = tick(db, catalog=catalog, now=T0 + timedelta(days=9))
    assert all(w["rule_code"] != "W08" for w in once)
    ingest(db, parse_geojson(feature(x + 60 * METRE, y, "ENV-01", "2026-06-01T10:00:00+08:00")),
           locator=locator, catalog=catalog)
    twice = tick(db, catalog=catalog, now=T0 + timedelta(days=21))
    w08 = [w for w in twice if w["rule_code"] == "W08"]
    assert len(w08) == 1 and w08[0]["incident_id"] == old.id and w08[0]["detail"]["recurrences"] == 2
    assert all(w["rule_code"] != "W08" for w in tick(db, catalog=catalog, now=T0 + timedelta(days=22)))
