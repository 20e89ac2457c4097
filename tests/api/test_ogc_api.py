"""OGC API – Features at /ogc through FastAPI, on the real PostGIS session of the test (rolled back after):
documents, counts against the database, bbox/datetime filters against expectations computed here, paging,
single features, errors that name the parameter."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.analysis.hotspot_service import run_and_store
from gis_enforcement.api.ogc_params import MAX_LIMIT, parse_datetime
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.domain.access import IncidentScope
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from gis_enforcement.storage import ogc_repo

BEIJING = ZoneInfo("Asia/Shanghai")
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


@pytest.fixture
def client(client: TestClient, db: Session, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog,
           tmp_path: Path) -> TestClient:
    """The shared admin client (tests/api/conftest.py) over a simulated season and a stored hot-spot run."""
    simulate_incident_table(jurisdiction, catalog, count=700, seed=66).to_csv(tmp_path / "s.csv", index=False)
    report = ingest(db, read_intake_file(tmp_path / "s.csv"), locator=locator, catalog=catalog)
    assert report.accepted > 600
    run_and_store(db, cell="grid", size_m=1000)
    return client


@pytest.fixture
def stored(db: Session, client: TestClient) -> pd.DataFrame:
    """Every incident of the transaction as the database holds it."""
    rows = db.execute(text("SELECT id::text AS id, lon, lat, observed_at, category, status, township_code "
                           "FROM incident ORDER BY id")).all()
    frame = pd.DataFrame(rows, columns=["id", "lon", "lat", "observed_at", "category", "status", "township_code"])
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True)
    return frame


def get_json(client: TestClient, path: str, expect: int = 200, **params: Any) -> dict[str, Any]:
    r = client.get(path, params=params or None)  # an empty dict would drop the query of a link
    assert r.status_code == expect, r.text[:800]
    return r.json()  # type: ignore[no-any-return]


def error(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    r = client.get(path, params=params)
    assert r.status_code == 400, (r.status_code, r.text[:800])   # OGC: an invalid parameter is a 400
    return r.json()["error"]  # type: ignore[no-any-return]


def box_param(*numbers: float) -> str:
    return ",".join(repr(float(n)) for n in numbers)


def all_ids(client: TestClient, collection: str, **params: Any) -> list[str]:
    """Ids of every matching feature, walking the next links from the first page."""
    body = get_json(client, f"/ogc/collections/{collection}/items", **params)
    ids: list[str] = []
    for _ in range(1000):  # a link that does not move on must fail the test, not hang it
        ids += [f["id"] for f in body["features"]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return ids
        assert nxt[0].startswith("http://testserver/ogc/collections/")
        body = get_json(client, nxt[0])
    raise AssertionError("the next links never end")


def test_landing_page_and_conformance(client: TestClient) -> None:
    for path in ("/ogc", "/ogc/"):
        body = get_json(client, path)
        rels = {link["rel"]: link for link in body["links"]}
        assert {"self", "service-desc", "conformance", "data"} <= set(rels)
        assert all(link["href"].startswith("http://testserver/") for link in body["links"])
    assert rels["service-desc"]["href"] == "http://testserver/openapi.json"
    spec = get_json(client, rels["service-desc"]["href"])
    ops = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    assert {"ogc_landing_page", "ogc_conformance", "ogc_collections", "ogc_collection", "ogc_items",
            "ogc_item"} <= ops
    assert "/ogc/" not in spec["paths"]
    limit = next(p for p in spec["paths"]["/ogc/collections/{collection_id}/items"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["maximum"] == MAX_LIMIT and limit["schema"]["minimum"] == 1
    conf = get_json(client, rels["conformance"]["href"])["conformsTo"]
    assert CORE in conf and any(c.endswith("/conf/geojson") for c in conf) and any(c.endswith("/conf/oas30")
                                                                                     for c in conf)
    data = get_json(client, rels["data"]["href"])
    assert [c["id"] for c in data["collections"]] == ["incidents", "townships", "villages", "zones", "grid",
                                                      "hotspot_cells"]


def test_collections_have_extents_from_the_database(client: TestClient, stored: pd.DataFrame,
                                                    jurisdiction: Jurisdiction) -> None:
    body = get_json(client, "/ogc/collections")
    by_id = {c["id"]: c for c in body["collections"]}
    inc = by_id["incidents"]
    assert inc["itemType"] == "feature" and inc["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    assert np.allclose(inc["extent"]["spatial"]["bbox"][0],
                       [stored.lon.min(), stored.lat.min(), stored.lon.max(), stored.lat.max()])
    t0, t1 = (datetime.fromisoformat(t) for t in inc["extent"]["temporal"]["interval"][0])
    assert t0 == stored.observed_at.min() and t1 == stored.observed_at.max()
    assert inc["extent"]["temporal"]["interval"][0][0].endswith("+08:00")
    assert np.allclose(by_id["townships"]["extent"]["spatial"]["bbox"][0], jurisdiction.townships.total_bounds)
    assert "temporal" not in by_id["townships"]["extent"]
    assert "Run " in by_id["hotspot_cells"]["description"]
    one = get_json(client, "/ogc/collections/grid")
    assert one["id"] == "grid" and one["extent"] == by_id["grid"]["extent"]
    items = next(link for link in one["links"] if link["rel"] == "items")
    assert items["href"] == "http://testserver/ogc/collections/grid/items" and items["type"] == "application/geo+json"


def test_items_count_as_the_database(client: TestClient, db: Session, stored: pd.DataFrame) -> None:
    tables = {"townships": "township", "villages": "village", "zones": "zone", "grid": "grid_cell",
              "hotspot_cells": "hotspot_cell WHERE run_id = (SELECT max(id) FROM hotspot_run WHERE kind = 'gi_star')"}
    for collection, table in tables.items():
        expected = db.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        r = client.get(f"/ogc/collections/{collection}/items", params={"limit": 5})
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json", r.text
        body = r.json()
        assert body["type"] == "FeatureCollection" and body["numberMatched"] == expected > 0, collection
        assert body["numberReturned"] == len(body["features"]) == 5
        assert body["timeStamp"].endswith("Z")
    body = get_json(client, "/ogc/collections/incidents/items", limit=MAX_LIMIT)
    assert body["numberMatched"] == body["numberReturned"] == len(stored)
    assert [f["id"] for f in body["features"]] == sorted(stored.id)  # id order, stable
    assert not [link for link in body["links"] if link["rel"] in ("next", "prev")]
    f = body["features"][0]
    assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
    assert {"category", "status", "observed_at", "township_code", "township_name", "village_name", "grid_code",
            "lead_department", "flags", "zone_codes"} <= set(f["properties"])
    row = stored.set_index("id").loc[f["id"]]
    assert f["geometry"]["coordinates"] == pytest.approx([row.lon, row.lat], abs=1e-7)
    observed = f["properties"]["observed_at"]
    assert observed.endswith("+08:00") and datetime.fromisoformat(observed) == row.observed_at


def test_bbox_filters_as_computed_here(client: TestClient, stored: pd.DataFrame, jurisdiction: Jurisdiction) -> None:
    x0, x1 = np.quantile(stored.lon, [0.2, 0.7])
    y0, y1 = np.quantile(stored.lat, [0.3, 0.9])
    inside = stored[(stored.lon >= x0) & (stored.lon <= x1) & (stored.lat >= y0) & (stored.lat <= y1)]
    assert 0 < len(inside) < len(stored)
    bbox = box_param(x0, y0, x1, y1)
    body = get_json(client, "/ogc/collections/incidents/items", bbox=bbox, limit=MAX_LIMIT)
    assert body["numberMatched"] == len(inside)
    assert sorted(f["id"] for f in body["features"]) == sorted(inside.id)
    # six numbers (with heights) mean the same box
    assert get_json(client, "/ogc/collections/incidents/items", bbox=f"{x0},{y0},0,{x1},{y1},100",
                    limit=1)["numberMatched"] == len(inside)
    # polygons: exact intersection, not the boxes'
    box = shapely.box(x0, y0, x1, y1)
    towns = jurisdiction.townships
    expected = sorted(towns[towns.intersects(box)].code)
    assert sorted(all_ids(client, "townships", bbox=bbox)) == expected
    villages = jurisdiction.villages
    assert sorted(all_ids(client, "villages", bbox=bbox)) == sorted(villages[villages.intersects(box)].code)
    # a box far away holds nothing
    empty = get_json(client, "/ogc/collections/incidents/items", bbox="10,10,11,11")
    assert empty["numberMatched"] == 0 and empty["features"] == []


def test_datetime_filters_as_computed_here(client: TestClient, stored: pd.DataFrame) -> None:
    obs = stored.observed_at
    t0, t1 = datetime(2026, 4, 1, tzinfo=BEIJING), datetime(2026, 4, 30, 23, 59, 59, tzinfo=BEIJING)
    cases: dict[str, pd.Series] = {
        f"{t0.isoformat()}/{t1.isoformat()}": (obs >= t0) & (obs <= t1),
        f"../{t0.isoformat()}": obs <= t0,
        f"{t1.isoformat()}/..": obs >= t1,
        f"{t1.isoformat()}/": obs >= t1,
        "2026-05-12": (obs >= datetime(2026, 5, 12, tzinfo=BEIJING)) & (obs < datetime(2026, 5, 13, tzinfo=BEIJING)),
        "2026-04-01T00:00:00Z/2026-04-02T00:00:00Z": (obs >= pd.Timestamp("2026-04-01T00:00:00Z"))
        & (obs <= pd.Timestamp("2026-04-02T00:00:00Z")),
    }
    instant = obs.iloc[len(obs) // 2]
    cases[instant.tz_convert(BEIJING).isoformat()] = obs == instant  # an instant: exactly that moment
    for value, mask in cases.items():
        body = get_json(client, "/ogc/collections/incidents/items", datetime=value, limit=MAX_LIMIT)
        assert body["numberMatched"] == int(mask.sum()), value
        assert sorted(f["id"] for f in body["features"]) == sorted(stored.id[mask]), value
    assert 0 < cases[f"{t0.isoformat()}/{t1.isoformat()}"].sum() < len(stored)
    # combined with bbox and a property
    category = stored.category.mode()[0]
    x0, y0, x1, y1 = stored.lon.min(), stored.lat.min(), stored.lon.median(), stored.lat.max()
    mask = (obs >= t0) & (obs <= t1) & (stored.category == category) & (stored.lon <= x1)
    body = get_json(client, "/ogc/collections/incidents/items", datetime=f"{t0.isoformat()}/{t1.isoformat()}",
                    bbox=box_param(x0, y0, x1, y1), category=category, limit=MAX_LIMIT)
    assert sorted(f["id"] for f in body["features"]) == sorted(stored.id[mask])
    # collections without time ignore it (but a malformed value is still refused)
    towns = get_json(client, "/ogc/collections/townships/items", datetime="2020-01-01")
    assert towns["numberMatched"] == get_json(client, "/ogc/collections/townships/items")["numberMatched"]


def test_property_filters(client: TestClient, stored: pd.DataFrame) -> None:
    township = stored.township_code.dropna().mode()[0]
    category = stored.category.mode()[0]
    for params, mask in (({"township_code": township}, stored.township_code == township),
                         ({"status": "reported"}, stored.status == "reported"),
                         ({"category": category}, stored.category == category)):
        body = get_json(client, "/ogc/collections/incidents/items", limit=MAX_LIMIT, **params)
        assert body["numberMatched"] == int(mask.sum()), params
        assert all(f["properties"][k] == v for f in body["features"] for k, v in params.items())
    # a value that names nothing is refused by name, not answered with an empty page
    for name, value in (("category", "NOPE-00"), ("status", "bogus"), ("township_code", "999")):
        r = client.get("/ogc/collections/incidents/items", params={name: value})
        assert r.status_code == 400 and r.json()["error"]["field"] == name, r.text


def test_paging_walks_every_item_exactly_once(client: TestClient, stored: pd.DataFrame) -> None:
    first = get_json(client, "/ogc/collections/incidents/items", limit=97)
    assert first["numberReturned"] == 97 and first["numberMatched"] == len(stored)
    assert not [link for link in first["links"] if link["rel"] == "prev"]
    ids = all_ids(client, "incidents", limit=97)
    assert len(ids) == len(set(ids)) == len(stored) and sorted(ids) == sorted(stored.id)
    second = get_json(client, "/ogc/collections/incidents/items", limit=97, offset=97)
    prev = next(link["href"] for link in second["links"] if link["rel"] == "prev")
    assert [f["id"] for f in get_json(client, prev)["features"]] == [f["id"] for f in first["features"]]
    # the filters travel with the links
    x0, x1 = np.quantile(stored.lon, [0.1, 0.9])
    bbox = box_param(x0, stored.lat.min(), x1, stored.lat.max())
    inside = stored[(stored.lon >= x0) & (stored.lon <= x1)]
    assert sorted(all_ids(client, "incidents", bbox=bbox, limit=50)) == sorted(inside.id)
    # past the end: an empty page that still counts
    late = get_json(client, "/ogc/collections/incidents/items", offset=len(stored) + 10, limit=97)
    assert late["features"] == [] and late["numberMatched"] == len(stored)
    back = get_json(client, next(link["href"] for link in late["links"] if link["rel"] == "prev"))
    assert 0 < back["numberReturned"] <= 97 and back["features"][-1]["id"] == ids[-1]  # the last page
    grid = all_ids(client, "grid", limit=MAX_LIMIT * 3)  # above the maximum: served as the maximum, no error
    assert len(grid) == len(set(grid)) == get_json(client, "/ogc/collections/grid/items", limit=1)["numberMatched"]


def test_single_items_and_404s(client: TestClient, stored: pd.DataFrame, jurisdiction: Jurisdiction) -> None:
    incident_id = stored.id.iloc[3]
    r = client.get(f"/ogc/collections/incidents/items/{incident_id}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
    body = r.json()
    assert body["type"] == "Feature" and body["id"] == incident_id and body["properties"]["category"]
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert rels["self"] == f"http://testserver/ogc/collections/incidents/items/{incident_id}"
    assert rels["collection"] == "http://testserver/ogc/collections/incidents"
    code = jurisdiction.townships.code.iloc[0]
    town = get_json(client, f"/ogc/collections/townships/items/{code}")
    assert town["id"] == code and town["geometry"]["type"] == "MultiPolygon"
    cell = get_json(client, "/ogc/collections/hotspot_cells/items", limit=1)["features"][0]
    assert get_json(client, f"/ogc/collections/hotspot_cells/items/{cell['id']}")["properties"] == cell["properties"]
    for path, field in ((f"/ogc/collections/incidents/items/{uuid.uuid4()}", "feature_id"),
                        ("/ogc/collections/incidents/items/not-a-uuid", "feature_id"),
                        ("/ogc/collections/townships/items/000", "feature_id"),
                        ("/ogc/collections/roads", "collection_id"),
                        ("/ogc/collections/roads/items", "collection_id"),
                        ("/ogc/collections/roads/items/1", "collection_id")):
        r = client.get(path)
        assert r.status_code == 404, path
        err = r.json()["error"]
        assert err["code"] == "not_found" and err["field"] == field, path


BAD_PARAMETERS: list[tuple[dict[str, str], str]] = [
    ({"bbox": "117,40,118"}, "bbox"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "117,40.5,118,40"}, "bbox"),
    ({"bbox": "117,40,118,95"}, "bbox"),
    ({"bbox": "117,40,nan,41"}, "bbox"),
    ({"bbox": "1e400,40,118,41"}, "bbox"),
    ({"bbox": ""}, "bbox"),
    ({"limit": "0"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": "-5"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"offset": str(10**20)}, "offset"),
    ({"datetime": "yesterday"}, "datetime"),
    ({"datetime": "2026-05-01/2026-04-01"}, "datetime"),
    ({"datetime": "2026-13-01"}, "datetime"),
    ({"datetime": "2026-05-01T10:00:00+25:00"}, "datetime"),
    ({"datetime": "2026-05-01/2026-05-02/2026-05-03"}, "datetime"),
    ({"datetime": ".."}, "datetime"),
    ({"f": "html"}, "f"),
]


def test_bad_parameters_are_refused_by_name(client: TestClient) -> None:
    for params, field in BAD_PARAMETERS:
        for collection in ("incidents", "grid"):
            err = error(client, f"/ogc/collections/{collection}/items", **params)
            assert err["code"] == "invalid_input" and err["field"] == field, (collection, params, err)
            assert err["message"]
    assert error(client, "/ogc/collections/incidents/items", category="MIN\x0002")["field"] == "category"


def test_unknown_parameters_are_refused_by_name(client: TestClient) -> None:
    """/req/core/query-param-unknown: 400 naming the parameter, on every resource; the defined ones pass."""
    for path in ("/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/incidents",
                 "/ogc/collections/grid/items", "/ogc/collections/incidents/items"):
        r = client.get(path, params={"bbx": "117,40,118,41"})  # a misspelt bbox must not be ignored
        assert r.status_code == 400, (path, r.text[:200])
        err = r.json()["error"]
        assert err["code"] == "invalid_input" and err["field"] == "bbx", (path, err)
        assert ("bbox" in err["message"]) == path.endswith("/items"), (path, err)  # it says what is taken
    ok = client.get("/ogc/collections/incidents/items", params={
        "bbox": "116,39,118,41", "datetime": "../..", "limit": "5", "offset": "0", "f": "json",
        "category": "MIN-02", "status": "reported", "township_code": "110117003"})
    assert ok.status_code == 200, ok.text[:300]
    assert client.get("/ogc/collections", params={"f": "json"}).status_code == 200


def test_odd_values_are_answered_not_500(client: TestClient) -> None:
    for params in ({"limit": str(10**30)}, {"datetime": "0001-01-01/9999-12-31"},
                   {"datetime": "9999-12-31T23:59:59.999999+00:00"}, {"datetime": "2026-05-01T/.."},
                   {"bbox": "170,-10,-170,10"}):  # across the antimeridian: nothing of Pinggu
        r = client.get("/ogc/collections/incidents/items", params=params)
        assert r.status_code == 200, (params, r.text[:300])
    assert get_json(client, "/ogc/collections/incidents/items", bbox="170,-10,-170,10")["numberMatched"] == 0
    nul = client.get("/ogc/collections/townships/items/a%00b")  # refused for every route: no NUL reaches SQL
    assert nul.status_code == 400 and nul.json()["error"]["field"] == "feature_id"


def test_no_hotspot_run_is_an_empty_collection(client: TestClient, db: Session) -> None:
    db.execute(text("DELETE FROM hotspot_run"))
    one = get_json(client, "/ogc/collections/hotspot_cells")
    assert "extent" not in one and "No run" in one["description"]
    body = get_json(client, "/ogc/collections/hotspot_cells/items")
    assert body["numberMatched"] == body["numberReturned"] == 0 and body["features"] == []


def test_incident_filters_on_layers_are_refused(client: TestClient) -> None:
    assert error(client, "/ogc/collections/townships/items", category="MIN-02")["field"] == "category"


def test_parse_datetime_windows() -> None:
    start, end = parse_datetime("2026-05-12T10:00:00", tz="Asia/Shanghai")  # no offset: district time
    assert start == datetime(2026, 5, 12, 10, tzinfo=BEIJING) and end == start + timedelta(microseconds=1)
    assert parse_datetime("2026-05-12t02:00:00z/..", tz="Asia/Shanghai") == (
        datetime(2026, 5, 12, 10, tzinfo=BEIJING), None)
    assert parse_datetime(None, tz="Asia/Shanghai") == (None, None)
    # GDAL's OAPIF driver writes a date as 2026-05-01T
    assert parse_datetime("2026-05-01T/..", tz="Asia/Shanghai") == (datetime(2026, 5, 1, tzinfo=BEIJING), None)


def test_scope_narrows_incidents(client: TestClient, db: Session, stored: pd.DataFrame) -> None:
    """A caller's scope keeps their cases only: a township's (and those near its border), a department's."""
    town = stored.township_code.dropna().value_counts().index[0]
    page = ogc_repo.incident_page(db, scope=IncidentScope(townships=(town,)), limit=MAX_LIMIT)
    near = db.execute(text("SELECT count(*) FROM incident WHERE township_code IS DISTINCT FROM :t AND "
                           ":t = ANY(border_townships)"), {"t": town}).scalar_one()
    assert page.number_matched == int((stored.township_code == town).sum()) > 0
    with_border = ogc_repo.incident_page(db, scope=IncidentScope(townships=(town,), border_of=(town,)), limit=1)
    assert with_border.number_matched == page.number_matched + near
    assert ogc_repo.incident_page(db, scope=IncidentScope(townships=()), limit=1).number_matched == 0
    chosen = list(stored.id.iloc[:3])
    whistle = db.execute(text("INSERT INTO whistle (mode, whistled_at, whistler_unit, incident_ids) VALUES "
                              "('township', now(), 'test', CAST(:ids AS uuid[])) RETURNING id"),
                         {"ids": chosen}).scalar_one()
    for i, incident_id in enumerate(chosen):
        db.execute(text("INSERT INTO assignment (incident_id, whistle_id, department, role, summoned_at, "
                        "report_in_due) VALUES (CAST(:i AS uuid), :w, :d, 'lead', now(), now())"),
                   {"i": incident_id, "w": whistle, "d": "QX-ZHJ" if i < 2 else "QX-STJ"})
    dept = IncidentScope(departments=("QX-ZHJ",))
    assert ogc_repo.incident_page(db, scope=dept, limit=MAX_LIMIT).number_matched == 2
    assert ogc_repo.incident_feature(db, incident_id=uuid.UUID(chosen[2]), scope=dept) is None
    assert ogc_repo.incident_feature(db, incident_id=uuid.UUID(chosen[0]), scope=dept) is not None
