"""Intake end to end on a real PostGIS: per-row errors, nothing partial, idempotency, datum, rules, duplicates."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.datum import from_wgs84
from gis_enforcement.errors import IdempotencyConflict, InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import parse_geojson, read_intake_file
from gis_enforcement.patrol.submit import submit_one
from gis_enforcement.storage import incident_repo


def feature(lon: float, lat: float, *, category: str = "ENV-01", fid: str | None = None, **props) -> dict:
    return {"type": "Feature", "id": fid or str(uuid.uuid4()),
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": category, "observed_at": "2026-05-01T10:00:00+08:00",
                           "accuracy_m": 8, "reporter": "测试巡查队", **props}}


@pytest.fixture
def village_point(jurisdiction: Jurisdiction) -> tuple[float, float, str]:
    v = jurisdiction.villages.iloc[10]
    return v.geometry.x, v.geometry.y, v["township_code"]


def count(db: Session) -> int:
    return db.execute(text("SELECT count(*) FROM incident")).scalar_one()


def test_dirty_csv_reports_rows_and_stores_only_good_ones(
    db: Session, locator: Locator, catalog: Catalog, village_point, tmp_path: Path
) -> None:
    x, y, _ = village_point
    good1, good2 = str(uuid.uuid4()), str(uuid.uuid4())
    csv = (
        "id,category,lon,lat,accuracy_m,observed_at,reporter,description\n"
        f"{good1},ENV-01,{x},{y},8,2026-05-01T10:00:00+08:00,甲,ok\n"          # row 2 good
        f"not-a-uuid,ENV-01,{x},{y},8,2026-05-01T10:00:00,乙,bad id\n"          # row 3
        f"{uuid.uuid4()},NOPE-9,{x},{y},8,2026-05-01T10:00:00,丙,bad cat\n"    # row 4
        f"{uuid.uuid4()},ENV-01,abc,{y},8,2026-05-01T10:00:00,丁,bad lon\n"    # row 5
        f"{uuid.uuid4()},ENV-01,{x},{y},-3,yesterday,戊,two errors\n"           # row 6
        f"{uuid.uuid4()},ENV-01,{x},{y},8,2999-01-01T00:00:00,己,future\n"      # row 7
        f"{good2},MIN-02,{x + 0.01},{y},8,2026-05-01 22:00:00,庚,ok\n"          # row 8 good
    )
    path = tmp_path / "dirty.csv"
    path.write_text(csv, encoding="utf-8")
    before = count(db)
    report = ingest(db, read_intake_file(path), locator=locator, catalog=catalog)
    assert report.submitted == 7 and report.accepted == 2 and report.rejected == 5
    got = {(e.row, e.field) for e in report.errors}
    assert got == {(3, "id"), (4, "category"), (5, "lon"), (6, "accuracy_m"), (6, "observed_at"),
                   (7, "observed_at")}
    assert "unknown category 'NOPE-9'" in next(e.reason for e in report.errors if e.row == 4)
    assert {(e.row, e.code) for e in report.errors} == {
        (3, "id:format"), (4, "category:unknown"), (5, "lon:number"), (6, "accuracy_m:range"),
        (6, "observed_at:format"), (7, "observed_at:future")}
    assert next(e.values for e in report.errors if e.row == 4) == {"value": "NOPE-9"}
    assert count(db) == before + 2
    ids = {r[0] for r in db.execute(text("SELECT id::text FROM incident")).all()}
    assert {good1, good2} <= ids

    again = ingest(db, read_intake_file(path), locator=locator, catalog=catalog)
    assert again.accepted == 0 and again.already_stored == 2 and count(db) == before + 2


@pytest.mark.parametrize("analyse_keys", [False, True])
def test_resent_rows_are_sorted_by_what_is_stored(db: Session, locator: Locator, catalog: Catalog,
                                                  village_point, analyse_keys: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    if analyse_keys:  # as a large batch does
        monkeypatch.setattr(incident_repo, "ANALYZE_KEYS_MIN", 1)
    x, y, _ = village_point
    a, b, c, d = (feature(x + k * 0.001, y, description=None if k == 2 else f"第{k}处") for k in range(4))
    stored = ingest(db, parse_geojson({"type": "FeatureCollection", "features": [a, b, c, d]}),
                    locator=locator, catalog=catalog)
    assert stored.accepted == 4
    new = feature(x, y + 0.001)
    changed_b = {**b, "properties": {**b["properties"], "description": "改了"}}
    empty_c = {**c, "properties": {**c["properties"], "description": ""}}  # an empty text is no text: same
    moved_a = {**a, "geometry": {"type": "Point", "coordinates": [x + 0.002, y]}}
    resent = [new, d, changed_b, empty_c, a, moved_a, new, d]  # the last two repeat rows 1 and 2 as they were
    before = count(db)
    again = ingest(db, parse_geojson({"type": "FeatureCollection", "features": resent}),
                   locator=locator, catalog=catalog)
    assert again.accepted_ids == [new["id"]] and count(db) == before + 1
    assert again.stored_ids == [d["id"], c["id"], a["id"]] and again.already_stored == 3  # in the file's order
    assert [(e.row, e.field, e.reason) for e in again.errors] == [
        (3, "id", "already stored with different content"),
        (6, "id", "sent twice in this batch with different content"),
    ]
    assert [e.code for e in again.errors] == ["id:conflict", "id:batch_conflict"]
    assert again.rejected == 2 and again.repeated == 2 and again.to_dict()["repeated"] == 2
    assert again.submitted == 8 == again.accepted + again.already_stored + again.rejected + again.repeated


def test_same_content_compares_text_as_strings_and_missing_as_missing() -> None:
    from datetime import UTC, datetime

    import pandas as pd

    from gis_enforcement.patrol.intake import same_content
    from gis_enforcement.storage.incident_repo import CONTENT_COLUMNS

    t = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
    base = {"category": "ENV-01", "raw_lon": 117.1, "raw_lat": 40.1, "raw_crs": "wgs84", "accuracy_m": 8.0,
            "observed_at": t, "reporter": "甲", "description": None, "track_id": None}
    rows = [dict(base) for _ in range(7)]
    other = [dict(base) for _ in range(7)]
    other[1]["description"] = ""              # missing against empty: different
    other[2]["reporter"] = "乙"               # a different string
    other[3]["raw_lon"] = 117.1 + 5e-10       # within 1e-9 degrees: same
    other[4]["accuracy_m"] = 8.01             # beyond a millimetre: different
    other[5]["observed_at"] = pd.Timestamp(t) + pd.Timedelta(microseconds=1)  # a microsecond later: different
    other[6]["track_id"] = "T-1"              # missing against a value: different
    arrow = pd.DataFrame(rows).astype({c: pd.StringDtype("pyarrow") for c in ("category", "raw_crs", "reporter",
                                                                            "description", "track_id")})
    plain = pd.DataFrame(other).astype(dict.fromkeys(("reporter", "description", "track_id"), object))
    assert list(arrow.columns) == list(CONTENT_COLUMNS)
    assert same_content(arrow, plain).tolist() == [True, False, False, True, False, False, False]
    assert same_content(plain, arrow).tolist() == [True, False, False, True, False, False, False]
    odd = plain.assign(track_id=pd.Series([7] * 7, dtype=object))  # not text at all: compared as objects
    assert same_content(odd, odd).all() and not same_content(arrow, odd).any()


def test_all_or_nothing_writes_nothing_on_any_error(db: Session, locator: Locator, catalog: Catalog,
                                                     village_point) -> None:
    x, y, _ = village_point
    fc = {"type": "FeatureCollection", "features": [feature(x, y), feature(x, y, category="BAD")]}
    before = count(db)
    report = ingest(db, parse_geojson(fc), locator=locator, catalog=catalog, all_or_nothing=True)
    assert report.accepted == 0 and report.rejected == 1 and count(db) == before


def test_submit_one_idempotency(db: Session, locator: Locator, catalog: Catalog, village_point) -> None:
    x, y, township = village_point
    f = feature(x, y, description="散乱污作坊")
    inc, created = submit_one(db, f, locator=locator, catalog=catalog)
    assert created and inc.township_code == township and inc.village_code is not None
    assert inc.plan and inc.plan[0].role.value == "lead" and inc.lead_department == inc.plan[0].department
    inc2, created2 = submit_one(db, f, locator=locator, catalog=catalog)
    assert not created2 and inc2.id == inc.id
    f["properties"]["description"] = "changed"
    with pytest.raises(IdempotencyConflict) as e:
        submit_one(db, f, locator=locator, catalog=catalog)
    assert e.value.field == "id"
    with pytest.raises(InvalidInput) as e2:
        submit_one(db, feature(x, y, category="XX"), locator=locator, catalog=catalog)
    assert e2.value.field == "category"


def test_gcj02_submission_is_stored_as_wgs84_with_raw(db: Session, locator: Locator, catalog: Catalog,
                                                      village_point) -> None:
    x, y, township = village_point
    gx, gy = from_wgs84(np.array([x]), np.array([y]), "gcj02")
    assert abs(gx[0] - x) > 1e-4  # GCJ-02 is shifted by hundreds of metres here
    inc, _ = submit_one(db, feature(float(gx[0]), float(gy[0]), crs="gcj02"),
                        locator=locator, catalog=catalog)
    assert inc.raw_crs == "gcj02" and inc.raw_lon == pytest.approx(gx[0])
    assert inc.lon == pytest.approx(x, abs=1e-6) and inc.lat == pytest.approx(y, abs=1e-6)
    assert inc.township_code == township


def test_zone_rule_takes_precedence_inside_its_zone(db: Session, locator: Locator, catalog: Catalog,
                                                    jurisdiction: Jurisdiction) -> None:
    zone_rules = [r for r in catalog.rules if r.zone_kind is not None]
    rule = next(r for r in zone_rules if r.zone_kind in set(jurisdiction.zones["kind"]))
    zone = jurisdiction.zones[jurisdiction.zones["kind"] == rule.zone_kind].iloc[0]
    p = zone.geometry.representative_point()
    inside, _ = submit_one(db, feature(p.x, p.y, category=rule.category),
                           locator=locator, catalog=catalog)
    assert inside.rule_code == rule.code
    assert rule.zone_kind in {z.kind for z in inside.zones}
    general = catalog.general_rule(rule.category)
    v = jurisdiction.villages.iloc[0]
    outside, _ = submit_one(db, feature(v.geometry.x, v.geometry.y, category=rule.category),
                            locator=locator, catalog=catalog)
    if rule.zone_kind not in {z.kind for z in outside.zones}:
        assert outside.rule_code == general.code


def test_likely_duplicates_against_stored_and_in_batch(db: Session, locator: Locator, catalog: Catalog,
                                                       village_point) -> None:
    x, y, _ = village_point
    first, _ = submit_one(db, feature(x, y), locator=locator, catalog=catalog)
    d = 40 / 111_320
    fc = {"type": "FeatureCollection", "features": [
        feature(x, y + d, observed_at="2026-05-01T11:00:00+08:00"),
        feature(x, y + 2 * d, observed_at="2026-05-01T11:30:00+08:00"),
        feature(x, y, category="MIN-01"),
    ]}
    report = ingest(db, parse_geojson(fc), locator=locator, catalog=catalog)
    assert report.accepted == 3 and report.likely_duplicates == 2
    a = incident_repo.get_incident(db, incident_id=uuid.UUID(fc["features"][0]["id"]))
    b = incident_repo.get_incident(db, incident_id=uuid.UUID(fc["features"][1]["id"]))
    c = incident_repo.get_incident(db, incident_id=uuid.UUID(fc["features"][2]["id"]))
    assert a.duplicate_of == first.id and a.duplicate_distance_m == pytest.approx(40, abs=1)
    assert b.duplicate_of == a.id  # nearest earlier: 40 m from a, 80 m from the stored one
    assert c.duplicate_of is None  # another category


def test_outside_district_is_flagged_not_dropped(db: Session, locator: Locator, catalog: Catalog,
                                                 jurisdiction: Jurisdiction) -> None:
    x0, y0, x1, y1 = jurisdiction.district.total_bounds
    inc, _ = submit_one(db, feature(x1 + 0.05, (y0 + y1) / 2), locator=locator, catalog=catalog)
    assert inc.township_code is None and "outside_district" in inc.flags
    assert inc.extra["nearest_township_code"] is not None and inc.extra["nearest_township_distance_m"] > 1000
    assert inc.plan  # still matched to the lists: someone must act on it


def test_every_incident_references_its_batch_and_rule_snapshot(db: Session, locator: Locator, catalog: Catalog,
                                                               village_point) -> None:
    x, y, _ = village_point
    fc = {"type": "FeatureCollection", "features": [feature(x, y), feature(x + 0.02, y, category="MIN-02")]}
    ingest(db, parse_geojson(fc), locator=locator, catalog=catalog)
    orphans = db.execute(text(
        "SELECT count(*) FROM incident i LEFT JOIN rule_snapshot r ON r.id = i.rule_snapshot_id "
        "LEFT JOIN ingest_batch b ON b.id = i.batch_id WHERE r.id IS NULL OR b.id IS NULL")).scalar_one()
    assert orphans == 0


def test_gpx_waypoints_go_through_the_same_intake(db: Session, locator: Locator, catalog: Catalog,
                                                  village_point, tmp_path: Path) -> None:
    x, y, township = village_point
    gpx = tmp_path / "patrol.gpx"
    gpx.write_text(f"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <metadata><author><name>夜间巡查队</name></author></metadata>
  <wpt lat="{y}" lon="{x}"><time>2026-05-02T14:30:00Z</time><desc>河道采砂</desc><type>MIN-02</type></wpt>
  <wpt lat="{y}" lon="{x + 0.01}"><time>2026-05-02T15:00:00Z</time><type>NOT-A-CODE</type></wpt>
</gpx>""", encoding="utf-8")
    report = ingest(db, read_intake_file(gpx), locator=locator, catalog=catalog)
    assert report.accepted == 1 and report.rejected == 1 and report.errors[0].field == "category"
    inc = incident_repo.get_incident(db, incident_id=uuid.UUID(report.accepted_ids[0]))
    assert inc.township_code == township and inc.reporter == "夜间巡查队" and inc.category == "MIN-02"
    again = ingest(db, read_intake_file(gpx), locator=locator, catalog=catalog)
    assert again.accepted == 0 and again.already_stored == 1


def test_two_phones_sending_the_same_id_at_once(loaded_engine, locator: Locator, catalog: Catalog,
                                                village_point) -> None:
    """The second request waits on the first one's row, then finds it stored: 200, not a 500."""
    import threading
    import time

    x, y, _ = village_point
    f = feature(x, y, description="concurrent")
    first, second = Session(loaded_engine), Session(loaded_engine)
    result: dict = {}

    def send_second() -> None:
        try:
            result["r"] = submit_one(second, f, locator=locator, catalog=catalog)
            second.commit()
        except Exception as exc:  # noqa: BLE001 — surfaced by the assertion below
            result["error"] = exc

    try:
        inc1, created1 = submit_one(first, f, locator=locator, catalog=catalog)
        worker = threading.Thread(target=send_second)
        worker.start()
        time.sleep(1.0)  # the second COPY is now waiting on the first transaction's key
        first.commit()
        worker.join(60)
        assert "error" not in result, result.get("error")
        inc2, created2 = result["r"]
        assert created1 and not created2 and inc2.id == inc1.id
    finally:
        first.rollback()
        second.rollback()
        first.execute(text("DELETE FROM incident WHERE id = :id"), {"id": f["id"]})
        first.commit()
        first.close()
        second.close()


def test_low_accuracy_rows_with_equal_flags_are_flagged(db: Session, locator: Locator, catalog: Catalog,
                                                         village_point) -> None:
    # every poor fix has the same number of location flags (none): numpy must not read them as a 2-D array
    x, y, _ = village_point
    fc = {"type": "FeatureCollection", "features": [feature(x + k * 0.01, y, accuracy_m=900) for k in range(3)]
          + [feature(x, y + 0.02, accuracy_m=5)]}
    report = ingest(db, parse_geojson(fc), locator=locator, catalog=catalog)
    assert report.accepted == 4
    flags = db.execute(text("SELECT accuracy_m, flags FROM incident ORDER BY accuracy_m")).all()
    assert [("low_accuracy" in f) for _, f in flags] == [False, True, True, True]


def test_ingest_reports_its_stages_and_the_rows_written(db: Session, locator: Locator, catalog: Catalog,
                                                        village_point, monkeypatch: pytest.MonkeyPatch) -> None:
    x, y, _ = village_point
    monkeypatch.setattr(incident_repo, "COPY_CHUNK_ROWS", 2)  # five new rows: chunks of 2, 2 and 1
    features = [feature(x + 0.001 * i, y) for i in range(5)] + [feature(x, y, category="BAD")]
    seen: list[tuple[str, int, int]] = []
    before = count(db)
    report = ingest(db, parse_geojson({"type": "FeatureCollection", "features": features}), locator=locator,
                    catalog=catalog, progress=lambda *step: seen.append(step))
    assert report.accepted == 5 and count(db) == before + 5
    assert seen == [("validating", 0, 6), ("checking ids", 0, 5), ("locating", 0, 5), ("duplicates", 0, 5),
                    ("writing", 0, 5), ("writing", 2, 5), ("writing", 4, 5), ("writing", 5, 5)]

    seen.clear()  # the same rows again: nothing new, so nothing to locate or write
    again = ingest(db, parse_geojson({"type": "FeatureCollection", "features": features[:5]}), locator=locator,
                   catalog=catalog, progress=lambda *step: seen.append(step))
    assert again.already_stored == 5 and seen == [("validating", 0, 5), ("checking ids", 0, 5)]


def test_a_hand_written_csv_may_name_the_category(db: Session, locator: Locator, catalog: Catalog, village_point,
                                                  tmp_path: Path) -> None:
    """A category given by its name in the lists is stored as its code; the same report sent again with the
    code is the same content (already stored), and a name that is not one of the lists' is refused as before."""
    x, y, _ = village_point
    sand, smoke, twice = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    sand_zh, smoke_zh = catalog.categories["MIN-02"].zh, catalog.categories["ENV-01"].zh
    path = tmp_path / "hand.csv"
    path.write_text(
        "id,类别,lon,lat,observed_at\n"
        f"{sand},{sand_zh},{x},{y},2026-05-01T22:00:00+08:00\n"
        f"{smoke}, {smoke_zh} ,{x + 0.01},{y},2026-05-01T10:00:00+08:00\n"
        f"{twice},{sand_zh},{x + 0.02},{y},2026-05-01T23:00:00+08:00\n"
        f"{twice},MIN-02,{x + 0.02},{y},2026-05-01T23:00:00+08:00\n"     # the same report, by code: kept once
        f"{uuid.uuid4()},非法采砂,{x},{y},2026-05-01T22:00:00+08:00\n", encoding="utf-8")
    report = ingest(db, read_intake_file(path), locator=locator, catalog=catalog)
    assert report.accepted == 3 and report.repeated == 1 and report.rejected == 1
    assert [(e.row, e.code, e.values) for e in report.errors] == [(6, "category:unknown", {"value": "非法采砂"})]
    stored = dict(db.execute(text("SELECT id::text, category FROM incident WHERE id::text = ANY(:ids)"),
                             {"ids": [sand, smoke, twice]}).all())
    assert stored == {sand: "MIN-02", smoke: "ENV-01", twice: "MIN-02"}

    by_code = tmp_path / "by_code.csv"
    by_code.write_text("id,category,lon,lat,observed_at\n"
                       f"{sand},MIN-02,{x},{y},2026-05-01T22:00:00+08:00\n", encoding="utf-8")
    again = ingest(db, read_intake_file(by_code), locator=locator, catalog=catalog)
    assert again.already_stored == 1 and again.accepted == 0 and again.errors == []


def test_one_report_may_name_its_category_too(db: Session, locator: Locator, catalog: Catalog,
                                              village_point) -> None:
    """The single-report path (POST /api/v1/incidents) takes a category's name as the batch does."""
    x, y, _ = village_point
    fid = str(uuid.uuid4())
    inc, created = submit_one(db, feature(x, y, category=catalog.categories["MIN-02"].zh, fid=fid), locator=locator,
                              catalog=catalog)
    assert created and inc.category == "MIN-02"
    again, created_again = submit_one(db, feature(x, y, category="MIN-02", fid=fid), locator=locator, catalog=catalog)
    assert not created_again and again.id == inc.id
