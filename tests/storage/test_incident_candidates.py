"""The candidate reads of intake (likely duplicates, recurrences) against what a plain query returns."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.storage import incident_repo

T0 = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def _store(db: Session, locator: Locator, catalog: Catalog, points: list[tuple[str, float, float, datetime]]
           ) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in points]
    features = [{"type": "Feature", "id": i, "geometry": {"type": "Point", "coordinates": [x, y]},
                 "properties": {"category": c, "observed_at": t.isoformat(), "accuracy_m": 5}}
                for i, (c, x, y, t) in zip(ids, points, strict=True)]
    report = ingest(db, parse_geojson({"type": "FeatureCollection", "features": features}), locator=locator,
                    catalog=catalog, now=T0 + timedelta(days=30))
    assert report.accepted == len(points)
    return ids


def test_nearby_incidents_by_category_box_and_time_in_time_order(db: Session, locator: Locator,
                                                                 catalog: Catalog) -> None:
    x, y = 117.12, 40.14
    t = T0 + timedelta(microseconds=123_457)
    ids = _store(db, locator, catalog, [
        ("ENV-01", x, y, t + timedelta(hours=2)),            # 0: in
        ("ENV-01", x + 0.001, y, t),                          # 1: in, earlier
        ("MIN-02", x, y, t),                                  # 2: in, another category asked for
        ("ENV-02", x, y, t),                                  # 3: a category not asked for
        ("ENV-01", x + 0.5, y, t),                            # 4: outside the box
        ("ENV-01", x, y, t + timedelta(days=10)),             # 5: outside the time range
    ])
    got = incident_repo.nearby_incidents(db, categories=["ENV-01", "MIN-02"], bbox=(x - 0.01, y - 0.01, x + 0.01,
                                         y + 0.01), start=t - timedelta(hours=1), end=t + timedelta(days=1))
    assert list(got.columns) == ["id", "category", "lon", "lat", "observed_at"]
    expected_first = sorted([ids[1], ids[2]])  # equal times: by id
    assert got["id"].tolist() == [*expected_first, ids[0]]
    assert got.loc[got["id"] == ids[0], "observed_at"].iloc[0] == pd.Timestamp(t + timedelta(hours=2))  # to the µs
    assert got["lon"].dtype == float and set(got["category"]) == {"ENV-01", "MIN-02"}
    assert len(incident_repo.nearby_incidents(db, categories=[], bbox=(x - 1, y - 1, x + 1, y + 1),
                                              start=t - timedelta(days=1), end=t + timedelta(days=30))) == 0


def test_closed_cases_near_only_closed_in_closure_order(db: Session, locator: Locator, catalog: Catalog) -> None:
    x, y = 117.05, 40.2
    ids = _store(db, locator, catalog, [("ENV-01", x, y, T0), ("ENV-01", x, y, T0), ("ENV-01", x, y, T0)])
    closed = {ids[0]: T0 + timedelta(days=3), ids[2]: T0 + timedelta(days=1, microseconds=5)}
    for incident_id, when in closed.items():
        db.execute(text("UPDATE incident SET status = 'closed', closed_at = :t WHERE id = :id"),
                   {"t": when, "id": incident_id})
    got = incident_repo.closed_cases_near(db, categories=["ENV-01"], bbox=(x - 0.01, y - 0.01, x + 0.01, y + 0.01),
                                          closed_from=T0, closed_to=T0 + timedelta(days=5))
    assert got["id"].tolist() == [ids[2], ids[0]]
    assert got["closed_at"].tolist() == [pd.Timestamp(closed[ids[2]]), pd.Timestamp(closed[ids[0]])]
    none = incident_repo.closed_cases_near(db, categories=["ENV-01"], bbox=(x - 0.01, y - 0.01, x + 0.01, y + 0.01),
                                           closed_from=T0 + timedelta(days=4), closed_to=T0 + timedelta(days=5))
    assert len(none) == 0 and list(none.columns) == ["id", "category", "lon", "lat", "closed_at"]
