"""A load as large as what is stored: the secondary indexes are dropped and built again around the COPY, and the
result is the same as filling them row by row (real PostGIS)."""

from __future__ import annotations

import threading
import uuid

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.errors import ConcurrentIntake
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol import intake
from gis_enforcement.patrol.intake import REBUILD_MIN_ROWS, ingest, rebuilds_indexes
from gis_enforcement.patrol.parse import parse_geojson
from gis_enforcement.storage import incident_repo


def collection(jurisdiction: Jurisdiction, n: int = 12) -> dict:
    """``n`` reports, four at each of a few villages, two categories: some are likely duplicates of others."""
    villages = jurisdiction.villages.iloc[::9]
    features = []
    for i in range(n):
        v = villages.iloc[(i // 4) % len(villages)]
        features.append({
            "type": "Feature", "id": str(uuid.uuid4()),
            "geometry": {"type": "Point", "coordinates": [v.geometry.x + 0.0002 * (i % 4), v.geometry.y]},
            "properties": {"category": ("ENV-01", "MIN-02")[i % 2],
                           "observed_at": f"2026-05-01T{8 + i % 10:02d}:00:00+08:00", "accuracy_m": 5 + i,
                           "reporter": "巡查队", "description": f"第{i}条"}})
    return {"type": "FeatureCollection", "features": features}


def indexes(db: Session) -> list[tuple[str, str, bool]]:
    """Every index of ``incident``: name, definition, and whether it is valid and ready."""
    return [tuple(r) for r in db.execute(text(
        "SELECT c.relname, pg_get_indexdef(x.indexrelid), x.indisvalid AND x.indisready FROM pg_index x "
        "JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = 'incident'::regclass ORDER BY c.relname"))]


def stored(db: Session, ids: list[str]) -> pd.DataFrame:
    rows = db.execute(text(
        "SELECT * FROM incident WHERE id = ANY(CAST(:ids AS uuid[])) ORDER BY id"), {"ids": ids}).mappings().all()
    # the batch and the rule snapshot are numbered by sequences, which a rolled-back savepoint does not rewind
    return pd.DataFrame([dict(r) for r in rows]).drop(columns=["received_at", "batch_id", "rule_snapshot_id"])


def test_the_choice_of_how_to_write_a_batch() -> None:
    assert not rebuilds_indexes(REBUILD_MIN_ROWS - 1, 0)  # small batches fill the indexes, whatever is stored
    assert rebuilds_indexes(REBUILD_MIN_ROWS, 0)
    assert rebuilds_indexes(REBUILD_MIN_ROWS, REBUILD_MIN_ROWS)
    assert not rebuilds_indexes(REBUILD_MIN_ROWS, REBUILD_MIN_ROWS + 1)  # the rebuild would cover more stored rows
    assert rebuilds_indexes(3 * REBUILD_MIN_ROWS, 2 * REBUILD_MIN_ROWS)


def test_rebuilding_the_indexes_stores_what_filling_them_stores(db: Session, locator: Locator, catalog: Catalog,
                                                                jurisdiction: Jurisdiction) -> None:
    fc = collection(jurisdiction)
    ids = [f["id"] for f in fc["features"]]
    before = indexes(db)
    assert len(before) >= 8 and all(ok for *_, ok in before)

    results = {}
    for rebuild in (True, False):
        savepoint = db.begin_nested()
        report = ingest(db, parse_geojson(fc), locator=locator, catalog=catalog, rebuild_indexes=rebuild)
        assert report.accepted == len(ids) and report.likely_duplicates > 0
        results[rebuild] = stored(db, ids)
        assert indexes(db) == before  # same names, same definitions, all valid
        assert db.execute(text("SHOW lock_timeout")).scalar_one() == "0"  # as it was
        savepoint.rollback()
    pd.testing.assert_frame_equal(results[True], results[False])

    # and the rebuilt indexes answer: the GiST finds the points, the duplicate search reads them
    ingest(db, parse_geojson(fc), locator=locator, catalog=catalog, rebuild_indexes=True)
    db.execute(text("SET LOCAL enable_seqscan = off"))
    x, y = fc["features"][0]["geometry"]["coordinates"]
    near = db.execute(text("SELECT count(*) FROM incident WHERE geom && ST_Expand(ST_SetSRID(ST_MakePoint(:x, :y), "
                           "4326), 1e-6)"), {"x": x, "y": y}).scalar_one()
    assert near >= 1


def test_a_rebuilding_load_writes_its_rows_in_id_order(db: Session, locator: Locator, catalog: Catalog,
                                                       jurisdiction: Jurisdiction) -> None:
    report = ingest(db, parse_geojson(collection(jurisdiction, 20)), locator=locator, catalog=catalog,
                    rebuild_indexes=True)
    in_heap = [str(r[0]) for r in db.execute(text("SELECT id FROM incident WHERE batch_id = :b ORDER BY ctid"),
                                             {"b": report.batch_id})]
    assert len(in_heap) == 20 and in_heap == sorted(in_heap)


def test_a_load_that_fails_in_its_copy_keeps_every_index(db: Session, locator: Locator, catalog: Catalog,
                                                         jurisdiction: Jurisdiction,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    fc = collection(jurisdiction)
    ingest(db, parse_geojson(fc), locator=locator, catalog=catalog)
    before, rows = indexes(db), db.execute(text("SELECT count(*) FROM incident")).scalar_one()
    # as if another transaction stored the same ids after this batch looked for them
    monkeypatch.setattr(incident_repo, "stored_content", lambda session, ids: pd.DataFrame())
    with pytest.raises(ConcurrentIntake):
        ingest(db, parse_geojson(fc), locator=locator, catalog=catalog, rebuild_indexes=True)
    assert indexes(db) == before
    assert db.execute(text("SELECT count(*) FROM incident")).scalar_one() == rows  # and the session goes on


def test_the_size_rule_chooses_and_the_rebuild_is_reported(db: Session, locator: Locator, catalog: Catalog,
                                                           jurisdiction: Jurisdiction,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    db.execute(text("ANALYZE incident"))
    assert incident_repo.estimated_count(db) == db.execute(text("SELECT count(*) FROM incident")).scalar_one()

    monkeypatch.setattr(intake, "REBUILD_MIN_ROWS", 5)
    secondary = len(incident_repo.secondary_indexes(db))
    for stored_rows, rebuilt in ((6, True), (13, False)):  # 12 new rows: as many as stored or more, or fewer
        monkeypatch.setattr(incident_repo, "estimated_count", lambda session, n=stored_rows: n)
        seen: list[tuple[str, int, int]] = []
        ingest(db, parse_geojson(collection(jurisdiction)), locator=locator, catalog=catalog, rebuild_indexes=None,
               progress=lambda *step, seen=seen: seen.append(step))
        indexing = [s for s in seen if s[0] == "indexing"]
        if rebuilt:
            assert secondary >= 3 and indexing == [("indexing", i, secondary) for i in range(secondary + 1)]
            assert seen[-1] == ("indexing", secondary, secondary)
        else:
            assert indexing == [] and seen[-1][0] == "writing"


def test_unique_and_partial_indexes_are_never_dropped(db: Session) -> None:
    db.execute(text("CREATE UNIQUE INDEX incident_test_unique_idx ON incident (id, category)"))
    db.execute(text("CREATE INDEX incident_test_plain_idx ON incident (reporter)"))
    db.execute(text("CREATE INDEX incident_test_partial_idx ON incident (reporter) WHERE reporter = 'x'"))
    names = [name for name, _ in incident_repo.secondary_indexes(db)]
    assert "incident_test_plain_idx" in names and "incident_test_unique_idx" not in names
    assert "incident_pkey" not in names and "incident_test_partial_idx" not in names
    # as shipped: the spatial index and the two list indexes are rebuilt, the four partial ones filled
    assert {"incident_geom_gix", "incident_category_time_idx", "incident_township_status_time_idx"} <= set(names)
    assert not {"incident_closed_idx", "incident_recurrence_idx", "incident_border_townships_gin",
                "incident_created_by_idx"} & set(names)


def test_a_load_that_cannot_have_the_table_fills_the_indexes(db: Session, loaded_engine, locator: Locator,
                                                             catalog: Catalog, jurisdiction: Jurisdiction,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A report being read keeps the table: the load waits a moment, then writes row by row rather than queue
    every later reader behind it."""
    monkeypatch.setattr(incident_repo, "REBUILD_LOCK_WAIT_MS", 300)
    before = indexes(db)
    reader = loaded_engine.connect()
    reading = reader.begin()
    try:
        reader.execute(text("SELECT count(*) FROM incident")).scalar_one()  # holds the table until it ends
        db.execute(text("SET LOCAL lock_timeout = '10s'"))  # a load that waited anyway would fail, not hang
        seen: list[tuple[str, int, int]] = []
        report = ingest(db, parse_geojson(collection(jurisdiction)), locator=locator, catalog=catalog,
                        rebuild_indexes=True, progress=lambda *step: seen.append(step))
        assert report.accepted == 12
        assert [s for s in seen if s[0] == "indexing"] == [] and seen[-1] == ("writing", 12, 12)
        assert indexes(db) == before
        assert db.execute(text("SHOW lock_timeout")).scalar_one() == "10s"  # as it was
        assert db.execute(text("SELECT count(*) FROM incident WHERE batch_id = :b"),
                          {"b": report.batch_id}).scalar_one() == 12
    finally:
        reading.rollback()
        reader.close()


def test_a_large_batch_is_placed_beside_its_duplicate_search_with_the_same_result(
        db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction,
        monkeypatch: pytest.MonkeyPatch) -> None:
    fc = collection(jurisdiction)
    fc["features"][3]["properties"]["accuracy_m"] = 5000  # flagged low_accuracy after the placement
    ids = [f["id"] for f in fc["features"]]
    threads: list[str] = []
    real_locate = type(locator).locate

    def spy(self: Locator, *args: object, **kwargs: object) -> pd.DataFrame:
        threads.append(threading.current_thread().name)
        return real_locate(self, *args, **kwargs)

    monkeypatch.setattr(type(locator), "locate", spy)
    results = {}
    for beside in (True, False):
        monkeypatch.setattr(intake, "PLACE_BESIDE_MIN_ROWS", 1 if beside else 10**9)
        savepoint = db.begin_nested()
        report = ingest(db, parse_geojson(fc), locator=locator, catalog=catalog)
        assert report.accepted == len(ids) and report.likely_duplicates > 0 and report.flags["low_accuracy"] == 1
        results[beside] = stored(db, ids)
        savepoint.rollback()
    assert threads[0] != threading.main_thread().name and threads[1] == threading.main_thread().name
    pd.testing.assert_frame_equal(results[True], results[False])
    flags = dict(zip(results[True]["id"].astype(str), results[True]["flags"], strict=True))
    assert "low_accuracy" in flags[ids[3]] and "low_accuracy" not in flags[ids[2]]
