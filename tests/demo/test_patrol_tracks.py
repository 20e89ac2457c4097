"""The demo's patrol tracks: recorded through the real path (parse_track → record_track), reproducible for a
seed, idempotent on a second run, passing by the incidents of their shift, night and day shifts, each by a
patrol officer of its township."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.demo.patrol_tracks import record_season_tracks
from gis_enforcement.demo.season import simulate_season
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.tracks import MAX_SPEED_M_S
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.storage import incident_repo, track_repo
from tests.dispatch.helpers import TZ

SEASON = {"count": 400, "seed": 13, "start": date(2026, 3, 1), "days": 30}
END = datetime(2026, 3, 31, tzinfo=TZ)


def season(db: Session, jurisdiction: Jurisdiction, catalog: Catalog, locator: Locator):  # type: ignore[no-untyped-def]
    features = simulate_season(jurisdiction, catalog, **SEASON)
    ingest(db, parse_geojson({"type": "FeatureCollection", "features": features}), locator=locator, catalog=catalog)
    return incident_repo.incidents_frame(db)


def stored(db: Session) -> list[tuple]:  # type: ignore[type-arg]
    return [tuple(r) for r in db.execute(text(
        "SELECT id, officer, township_code, started_at, ended_at, point_count, times, accuracies, ST_AsText(geom) "
        "FROM patrol_track ORDER BY id")).all()]


@pytest.fixture
def incidents(db: Session, jurisdiction: Jurisdiction, catalog: Catalog, locator: Locator):  # type: ignore[no-untyped-def]
    return season(db, jurisdiction, catalog, locator)


def test_tracks_are_recorded_reproducibly_and_once(db: Session, jurisdiction: Jurisdiction, incidents) -> None:  # type: ignore[no-untyped-def]
    kw = {"townships": jurisdiction.townships, "zones": jurisdiction.zones, "incidents": incidents, "seed": 3,
          "tz": "Asia/Shanghai", "end": END, "days": 7}
    first = record_season_tracks(db, **kw)
    assert 20 <= first.tracks <= 300 and first.new == first.tracks and first.incidents_passed > 0
    before = stored(db)
    assert len(before) == first.tracks
    again = record_season_tracks(db, **kw)  # the same seed: the same tracks, replaced, none added
    assert again.tracks == first.tracks and again.new == 0
    assert stored(db) == before
    db.execute(text("DELETE FROM patrol_track"))
    other = record_season_tracks(db, **{**kw, "seed": 4})
    assert stored(db) != before and other.tracks > 0


def test_tracks_are_plausible_patrols(db: Session, jurisdiction: Jurisdiction, incidents) -> None:  # type: ignore[no-untyped-def]
    record_season_tracks(db, townships=jurisdiction.townships, zones=jurisdiction.zones, incidents=incidents,
                         seed=3, tz="Asia/Shanghai", end=END, days=7)
    tracks = track_repo.tracks_frame(db)
    assert len(tracks)
    codes = set(jurisdiction.townships["code"])
    assert set(tracks["township_code"]) <= codes and len(set(tracks["township_code"])) > 5
    assert all(o.startswith("patrol_") for o in tracks["officer"])
    # inside the last week of the season, never after its end
    assert tracks["started_at"].min() >= END - timedelta(days=8)
    assert tracks["ended_at"].max() <= END + timedelta(hours=8)
    local_start = tracks["started_at"].dt.tz_convert(TZ).dt.hour
    assert ((local_start >= 19) | (local_start < 6)).any() and ((local_start >= 6) & (local_start < 19)).any()
    metric = tracks.to_crs(4548)
    for (_, row), line in zip(tracks.iterrows(), metric.geometry, strict=True):
        t = row["t"]
        gaps = np.diff(t)
        assert (gaps >= 0).all() and gaps.max() <= 31
        xy = shapely.get_coordinates(line)
        speed = np.hypot(*np.diff(xy, axis=0).T) / np.maximum(gaps, 1)
        assert speed.max() < MAX_SPEED_M_S / 2
    acc = db.execute(text("SELECT min(a), max(a) FROM patrol_track, unnest(accuracies) AS a")).one()
    assert 5 <= acc[0] and acc[1] <= 30
    # the tracks pass by the incidents of the period: most township reports are within 100 m of a track
    window = incidents.loc[(incidents["observed_at"] >= END - timedelta(days=7)) & (incidents["observed_at"] < END)
                           & incidents["township_code"].notna()]
    points = window.to_crs(4548).geometry.to_numpy()
    near = np.unique(metric.sindex.query(points, predicate="dwithin", distance=100.0)[0])
    assert len(near) / len(points) > 0.6
