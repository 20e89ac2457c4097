"""Hot spots as GeoJSON and joint-operation plans over HTTP, on the stored incidents of the test's transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session
from gis_enforcement.api.routers.dispatch import get_clock
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from tests.api.callers import as_admin
from tests.api.test_dispatch_api import T0, Clock, error


@pytest.fixture
def client(platform: Platform, db: Session, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog,
           tmp_path: Path) -> Iterator[TestClient]:
    simulate_incident_table(jurisdiction, catalog, count=900, seed=21).to_csv(tmp_path / "s.csv", index=False)
    ingest(db, read_intake_file(tmp_path / "s.csv"), locator=locator, catalog=catalog)
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_clock] = lambda: Clock(T0)
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_hotspots_geojson_recorded_and_read_again(client: TestClient) -> None:
    r = client.get("/api/v1/hotspots", params={"cell": "grid", "size_m": 1000})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == body["run"]["n_cells"]
    props = body["features"][0]["properties"]
    assert {"cell_id", "count", "z", "p", "gi_bin"} <= set(props)
    assert body["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert body["run"]["scale"]["method"] in ("moran_peak", "k_nearest", "standard_distance")
    again = client.get("/api/v1/hotspots", params={"run_id": body["run"]["id"]}).json()
    assert [f["properties"]["z"] for f in again["features"]] == [f["properties"]["z"] for f in body["features"]]
    runs = client.get("/api/v1/hotspots/runs").json()
    assert runs["data"][0]["id"] == body["run"]["id"]
    # times in district time, as everywhere in the API
    assert body["run"]["created_at"].endswith("+08:00") and runs["data"][0]["created_at"].endswith("+08:00")
    assert error(client.get("/api/v1/hotspots", params={"cell": "hexagon"}))["field"].endswith("cell")
    assert error(client.get("/api/v1/hotspots", params={"run_id": 999999}), 404)["field"] == "run_id"
    assert error(client.get("/api/v1/hotspots", params={"period": "someday"}))["field"] == "period"


def test_plan_created_read_and_executed_once(client: TestClient) -> None:
    body = {"start": "2026-05-12T20:00:00+08:00", "hours": 12, "categories": ["MIN-02"],
            "from_point": [117.12, 40.14]}
    r = client.post("/api/v1/plans", json=body)
    assert r.status_code == 201, r.text
    plan = r.json()
    assert plan["type"] == "FeatureCollection" and plan["plan"]["status"] == "planned"
    targets = [f for f in plan["features"] if f["properties"].get("role") == "target"]
    assert targets and all(f["properties"]["departments"] for f in targets)
    plan_id = plan["plan"]["id"]
    read = client.get(f"/api/v1/plans/{plan_id}").json()["plan"]
    assert read["id"] == plan_id and read["created_at"].endswith("+08:00"), read["created_at"]
    done = client.post(f"/api/v1/plans/{plan_id}/execute")
    assert done.status_code == 200, done.text
    assert done.json()["whistle_ids"] and done.json()["incident_ids"]
    assert client.get(f"/api/v1/plans/{plan_id}").json()["plan"]["status"] == "executed"
    listed = client.get("/api/v1/plans").json()
    assert listed["count"] >= 1 and listed["data"][0]["id"] == plan_id
    summary = listed["data"][0]
    assert summary["status"] == "executed" and summary["whistle_ids"] == done.json()["whistle_ids"]
    planned = [f["properties"] for f in targets if f["properties"]["status"] == "planned"]
    assert summary["target_count"] == len(planned) and summary["waiting_count"] == len(targets) - len(planned)
    assert summary["departments"] == sorted({d for p in planned for d in p["departments"].split(";")})
    assert summary["categories"] == ["MIN-02"] and summary["period_start"] == "2026-05-12T20:00:00+08:00"
    assert error(client.post(f"/api/v1/plans/{plan_id}/execute"), 409)["code"] == "already_recorded"
    assert error(client.post("/api/v1/plans", json={**body, "from_point": None}))["field"] == "from_township"
    assert error(client.post("/api/v1/plans", json={**body, "start": "2026-05-12T20:00:00"}))["field"].endswith(
        "start")
    assert error(client.get("/api/v1/plans/999999"), 404)["field"] == "plan_id"


def test_emerging_and_sites_over_http(client: TestClient, db: Session, locator: Locator) -> None:
    from gis_enforcement.analysis.trend_service import refresh_sites

    r = client.get("/api/v1/hotspots/emerging", params={"cell": "grid", "size_m": 1000, "period": "2026-03..2026-08"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["run"]["kind"] == "emerging" and body["run"]["summary"]["bins"] == 6
    patterns = {f["properties"]["pattern"] for f in body["features"]}
    assert "no pattern" in patterns and patterns <= {
        *(f"{a} {b} spot" for a in ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic",
                                    "oscillating", "historical") for b in ("hot", "cold")), "no pattern"}
    assert error(client.get("/api/v1/hotspots/emerging", params={"cell": "township"}))["field"].endswith("cell")
    weekly = client.get("/api/v1/hotspots/emerging", params={"cell": "grid", "size_m": 1000, "unit": "week",
                                                              "period": "2026-03..2026-08"})
    assert weekly.status_code == 200, weekly.text
    starts = pd.to_datetime(weekly.json()["run"]["summary"]["bin_starts"])
    assert len(starts) == 26 and (starts.day_of_week == 0).all() and str(starts[0].date()) == "2026-03-02"
    assert error(client.get("/api/v1/hotspots/emerging", params={"unit": "fortnight"}))["field"].endswith("unit")
    short = client.get("/api/v1/hotspots/emerging", params={"unit": "week", "period": "2026-03-03..2026-03-08"})
    assert error(short)["field"] == "period"
    refresh_sites(db, locator=locator, eps_m=150, min_samples=3)
    sites = client.get("/api/v1/sites", params={"all_sites": True}).json()
    assert sites["type"] == "FeatureCollection" and sites["features"]
    first = sites["features"][0]["properties"]
    times = [v for f in sites["features"] for v in f["properties"].values()
             if isinstance(v, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT.*[+-]\d\d:\d\d", v)]
    assert times and all(v.endswith("+08:00") for v in times), times[:5]
    assert {"site_id", "kind", "n_incidents", "n_recurrences", "follow_up_due", "history"} <= set(first)


@pytest.mark.parametrize(("path", "params", "field"), [
    ("/api/v1/hotspots", {"category": ["MIN-02", "XXX"]}, "category"),
    ("/api/v1/hotspots", {"township": "110117999"}, "township"),
    ("/api/v1/hotspots", {"status": "bogus"}, "status"),
    ("/api/v1/hotspots/emerging", {"category": "XXX"}, "category"),
    ("/api/v1/hotspots/emerging", {"township": "110117999"}, "township"),
    ("/api/v1/sites", {"category": "XXX"}, "category"),
    ("/api/v1/sites", {"township": "110117999"}, "township"),
])
def test_a_filter_that_names_nothing_is_refused(client: TestClient, path: str, params: dict[str, object],
                                                field: str) -> None:
    refused = error(client.get(path, params={"cell": "grid", **params}))  # type: ignore[arg-type]
    assert refused["field"] == field and "unknown" in refused["message"], refused


def test_filters_that_name_something_still_answer(client: TestClient, jurisdiction: Jurisdiction) -> None:
    town = str(jurisdiction.townships.iloc[0]["code"])
    r = client.get("/api/v1/hotspots", params={"cell": "grid", "size_m": 1000, "category": ["MIN-02", "ENV-01"],
                                               "status": ["reported", "triaged"]})
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/sites", params={"township": town, "category": "MIN-02", "all_sites": True})
    assert r.status_code == 200 and r.json()["type"] == "FeatureCollection", r.text


def test_category_trends_over_http(client: TestClient, db: Session, jurisdiction: Jurisdiction) -> None:
    """GET /api/v1/trends: one row per category with enough incidents, its weekly series and Mann-Kendall trend,
    the same as the analysis on the stored incidents; the bins analysed said beside; bad input refused."""
    from gis_enforcement.analysis.category_trend_service import category_trend_table

    r = client.get("/api/v1/trends")
    assert r.status_code == 200, r.text
    body = r.json()
    expected = category_trend_table(db, tz="Asia/Shanghai")
    assert body["count"] == len(expected) > 0 and body["bin_days"] == 7 and body["n_bins"] >= 4
    assert [row["category"] for row in body["data"]] == list(expected["category"])
    first = body["data"][0]
    assert first["series"] == [int(v) for v in expected["series"].iloc[0]] and len(first["series"]) == body["n_bins"]
    assert sum(first["series"]) == first["n"] and first["name"] and first["trend"] in (-1, 0, 1)
    assert body["bin_end"].endswith("+08:00")
    town = jurisdiction.townships.iloc[0]
    narrowed = client.get("/api/v1/trends", params={"township": str(town["name"]), "days": 14}).json()
    assert narrowed["bin_days"] == 14 and narrowed["incidents"] < body["incidents"]
    for params, field in (({"days": 0}, "days"), ({"township": "月球镇"}, "township"),
                          ({"period": "2026-13"}, "period"), ({"period": "2026-05-01..2026-05-10"}, "days")):
        bad = client.get("/api/v1/trends", params=params)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == field, (params, bad.text)


def test_a_township_is_named_by_code_or_name_alike_everywhere(client: TestClient) -> None:
    """Hot spots, emerging hot spots, recurring sites and plans take a township by its code, its stored name or
    its short name, as incidents and trends do; a township that is none of these is refused with one text,
    under ``township``, with codes and names to copy from."""
    hot = client.get("/api/v1/hotspots", params={"cell": "grid", "size_m": 1000, "township": "金海湖镇"})
    assert hot.status_code == 200, hot.text
    assert hot.json()["run"]["parameters"]["filters"]["townships"] == ["110117006"]
    full = client.get("/api/v1/hotspots", params={"cell": "grid", "size_m": 1000, "township": "金海湖镇(金海湖地区)"})
    assert full.json()["run"]["parameters"]["filters"]["townships"] == ["110117006"]
    emerging = client.get("/api/v1/hotspots/emerging", params={"cell": "grid", "size_m": 1000, "township": "金海湖镇",
                                                               "period": "2026-03..2026-08"})
    assert emerging.status_code == 200, emerging.text
    assert emerging.json()["run"]["parameters"]["townships"] == ["110117006"]
    sites = client.get("/api/v1/sites", params={"township": "马坊镇", "all_sites": True})
    assert sites.status_code == 200, sites.text
    plan = client.post("/api/v1/plans", json={"start": "2026-05-12T20:00:00+08:00", "hours": 12,
                                              "townships": ["马坊镇"], "from_township": "马坊镇"})
    assert plan.status_code == 201, plan.text
    params = plan.json()["plan"]["parameters"]
    assert params["townships"] == ["110117005"] and params["start_township"] == "110117005"
    refusals = [error(client.get(path, params={"township": "月球镇"})) for path in
                ("/api/v1/hotspots", "/api/v1/hotspots/emerging", "/api/v1/sites", "/api/v1/trends",
                 "/api/v1/incidents")]
    assert {r["field"] for r in refusals} == {"township"}
    assert len({r["message"] for r in refusals}) == 1, refusals
    said = refusals[0]["message"]
    assert said.startswith("unknown township '月球镇' (a township code or name") and "110117001 滨河街道" in said
    bad_plan = error(client.post("/api/v1/plans", json={"start": "2026-05-12T20:00:00+08:00",
                                                        "townships": ["月球镇"]}))
    assert bad_plan["field"] == "townships" and bad_plan["message"] == said


def test_reading_the_same_hot_spots_twice_stores_one_run(client: TestClient, db: Session) -> None:
    """An identical GET on unchanged data answers the stored run (``reused``) instead of storing another; new
    parameters, or a report under the filters changed since, make a new run. Emerging hot spots alike."""
    from sqlalchemy import text

    params = {"cell": "grid", "size_m": 1000, "period": "2026-03..2026-08", "township": "110117006"}
    first = client.get("/api/v1/hotspots", params=params).json()["run"]
    stored = client.get("/api/v1/hotspots/runs").json()["count"]
    again = client.get("/api/v1/hotspots", params={**params, "township": "金海湖镇"}).json()["run"]
    assert not first["reused"] and again["reused"] and again["id"] == first["id"]
    assert client.get("/api/v1/hotspots/runs").json()["count"] == stored
    other = client.get("/api/v1/hotspots", params={**params, "fdr": False}).json()["run"]
    assert not other["reused"] and other["id"] > first["id"]
    emerging = {"cell": "grid", "size_m": 1000, "period": "2026-03..2026-08"}
    e1 = client.get("/api/v1/hotspots/emerging", params=emerging).json()["run"]
    e2 = client.get("/api/v1/hotspots/emerging", params=emerging).json()["run"]
    assert not e1["reused"] and e2["reused"] and e2["id"] == e1["id"]
    # one report of the period in the township is rejected: the data changed, so the run is made again
    db.execute(text("UPDATE incident SET status = 'rejected' WHERE id = (SELECT id FROM incident WHERE "
                    "township_code = '110117006' AND status <> 'rejected' AND observed_at >= '2026-04-01' "
                    "AND observed_at < '2026-08-01' ORDER BY id LIMIT 1)"))
    changed = client.get("/api/v1/hotspots", params=params).json()["run"]
    assert not changed["reused"] and changed["id"] not in (first["id"], other["id"])
    assert changed["summary"]["rejected"] == first["summary"]["rejected"] + 1
    e3 = client.get("/api/v1/hotspots/emerging", params=emerging).json()["run"]
    assert not e3["reused"] and e3["id"] != e1["id"]


def test_trends_of_a_month_bin_the_whole_month_and_count_what_they_bin(client: TestClient, db: Session) -> None:
    """GET /api/v1/trends?period=2026-08: the bins start on 08-01 and end on 09-01 (the last one 10 days long),
    ``incidents`` is every incident of the month the analyses read — the rows' ``n`` plus those of the
    categories left out, which are counted."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from gis_enforcement.storage import analysis_repo

    tz = ZoneInfo("Asia/Shanghai")
    body = client.get("/api/v1/trends", params={"period": "2026-08", "township": "平谷镇"}).json()
    assert body["bin_start"].startswith("2026-08-01T00:00:00") and body["bin_end"].startswith("2026-09-01T00:00")
    assert body["n_bins"] == 4 and body["last_bin_days"] == 10
    read = analysis_repo.incidents_frame(db, start=datetime(2026, 8, 1, tzinfo=tz), end=datetime(2026, 9, 1, tzinfo=tz),
                                         townships=["110117003"])
    assert body["incidents"] == len(read) > 0
    assert sum(r["n"] for r in body["data"]) + body["left_out_incidents"] == body["incidents"]
    small = read["category"].value_counts()
    assert body["left_out_categories"] == int((small < 10).sum())


def test_emerging_hot_spots_over_http_say_where_most_urgent_first(client: TestClient, db: Session, locator: Locator,
                                                                  catalog: Catalog,
                                                                  jurisdiction: Jurisdiction) -> None:
    """GET /api/v1/hotspots/emerging lists every cell most urgent first — hot spots holding incidents by
    pattern (new and intensifying before persistent) then final z, numbered by ``urgency`` — each with its
    township, village, centre and trend; without a period the run reads the 12 months up to the latest report
    and a report observed two years before is left out and counted (``run.summary.window``); the trends too."""
    import uuid

    import numpy as np

    from gis_enforcement.analysis.emerging import URGENCY
    from gis_enforcement.patrol.submit import submit_one

    season = client.get("/api/v1/hotspots/emerging", params={"cell": "grid", "size_m": 1000})
    assert season.status_code == 200, season.text
    before = season.json()["run"]["summary"]
    assert before["window"]["default"] and before["window"]["older_left_out"] == 0
    village = jurisdiction.villages.geometry.iloc[40].representative_point()
    submit_one(db, {"type": "Feature", "id": str(uuid.uuid4()),
                    "geometry": {"type": "Point", "coordinates": [village.x, village.y]},
                    "properties": {"category": "MIN-02", "observed_at": "2024-05-03T10:00:00+08:00"}},
               locator=locator, catalog=catalog)
    r = client.get("/api/v1/hotspots/emerging", params={"cell": "grid", "size_m": 1000})
    assert r.status_code == 200, r.text
    body = r.json()
    summary = body["run"]["summary"]
    assert summary["bins"] == before["bins"] and summary["bin_starts"] == before["bin_starts"]
    assert summary["window"]["older_left_out"] == 1 and summary["incidents"] == before["incidents"]
    assert summary["window"]["start"].endswith("+08:00")  # in district time, as every time the API answers
    props = [f["properties"] for f in body["features"]]
    assert {"urgency", "pattern_zh", "township_code", "township_name", "village_name", "lon", "lat", "count",
            "last_bin_count", "trend_z", "trend_p", "hot_bins", "cold_bins", "z", "gi_bin"} <= set(props[0])
    hot = [p for p in props if p["urgency"] is not None]
    assert hot and [p["urgency"] for p in hot] == list(range(1, len(hot) + 1)) and props[: len(hot)] == hot
    held = [p for p in hot if p["count"] > 0]
    assert hot[: len(held)] == held  # the hot spots that hold incidents lead
    # by pattern, a new or intensifying one quiet in its last bin after the persistent ones; then by final z
    def rank(p: dict[str, Any]) -> float:
        kind = p["pattern"].split()[0]
        quiet = kind in ("new", "intensifying") and not p["last_bin_count"]
        return URGENCY.index("persistent") + 0.5 if quiet else URGENCY.index(kind)
    order = [(rank(p), -p["z"]) for p in held]
    assert order == sorted(order)
    placed = locator.locate(np.array([p["lon"] for p in held]), np.array([p["lat"] for p in held]))
    assert [p["village_name"] for p in held] == list(placed["village_name"])
    assert all(p["township_name"] for p in held)
    trends = client.get("/api/v1/trends").json()
    assert trends["window"]["older_left_out"] == 1 and trends["bin_start"].startswith("2026-03-01")
