"""HTTP intake and reads through FastAPI, on the real PostGIS session of the test (rolled back after)."""

from __future__ import annotations

import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.layers.jurisdiction import Jurisdiction


def feature(lon: float, lat: float, **props) -> dict:
    return {"type": "Feature", "id": str(uuid.uuid4()),
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": "MIN-02", "observed_at": "2026-05-12T23:40:00+08:00", "accuracy_m": 8,
                           "reporter": "巡查队", **props}}


@pytest.fixture
def point(jurisdiction: Jurisdiction) -> tuple[float, float]:
    v = jurisdiction.villages.iloc[20]
    return v.geometry.x, v.geometry.y


def test_create_replay_conflict_get(client: TestClient, point) -> None:
    f = feature(*point)
    r = client.post("/api/v1/incidents", json=f)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] == f["id"] and body["properties"]["township_code"]
    lead = body["properties"]["plan"][0]
    assert lead["role"] == "lead" and lead["department"] == body["properties"]["lead_department"]
    assert lead["department_name"] and lead["department_name"].startswith(("区", "市", "乡"))
    assert body["properties"]["observed_at"] == "2026-05-12T23:40:00+08:00"  # shown in the district's zone
    assert client.post("/api/v1/incidents", json=f).status_code == 200
    f2 = {**f, "properties": {**f["properties"], "accuracy_m": 9}}
    r = client.post("/api/v1/incidents", json=f2)
    assert r.status_code == 409 and r.json()["error"]["field"] == "id"
    r = client.get(f"/api/v1/incidents/{f['id']}")
    assert r.status_code == 200 and r.json()["properties"]["accuracy_m"] == 8
    assert client.get(f"/api/v1/incidents/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda f: f["properties"].update(category="NOPE"), "category"),
        (lambda f: f["properties"].update(observed_at="not a time"), "observed_at"),
        (lambda f: f["geometry"].update(coordinates=[500, 40]), "lon"),
        (lambda f: f.update(id="123"), "id"),
        (lambda f: f["properties"].update(crs="utm"), "crs"),
        (lambda f: f.update(geometry={"type": "Polygon", "coordinates": []}), "geometry"),
        (lambda f: f["properties"].update(track_id="not-uuid"), "track_id"),
        (lambda f: f["properties"].update(photos=["x"]), "photos"),
        (lambda f: f["properties"].update(photos="x.jpg"), "photos"),  # not a list: refused, not dropped
        (lambda f: f["properties"].update(accuracy_m=float("nan")), "accuracy_m"),  # NaN is not "not given"
    ],
)
def test_bad_input_is_422_naming_the_field(client: TestClient, point, mutate, field: str) -> None:
    f = feature(*point)
    mutate(f)
    # sent as Python's json writes it: NaN included, which httpx's own encoder refuses to write
    r = client.post("/api/v1/incidents", content=json.dumps(f), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert client.get(f"/api/v1/incidents/{f['id']}").status_code in (404, 422)


def test_photos_and_track_ids_are_checked_in_a_batch_too(client: TestClient, point) -> None:
    good = feature(*point, photos=["https://example.org/p/1.jpg"], track_id=str(uuid.uuid4()))
    feats = [good, feature(*point, track_id="not-uuid"), feature(*point, photos=["x"])]
    r = client.post("/api/v1/incidents", json={"type": "FeatureCollection", "features": feats})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["accepted"] == 1 and rep["rejected"] == 2
    assert [(e["row"], e["field"]) for e in rep["errors"]] == [(2, "track_id"), (3, "photos")]
    props = client.get(f"/api/v1/incidents/{good['id']}").json()["properties"]
    assert props["photos"] == good["properties"]["photos"] and props["track_id"] == good["properties"]["track_id"]


def test_malformed_bodies_never_500(client: TestClient) -> None:
    for body in (b"{", b"[]", b'{"type": "Nope"}', b'{"type": "FeatureCollection", "features": 3}'):
        r = client.post("/api/v1/incidents", content=body, headers={"content-type": "application/json"})
        assert 400 <= r.status_code < 500, (body, r.status_code, r.text)


def test_batch_and_list_filters(client: TestClient, point, jurisdiction: Jurisdiction) -> None:
    x, y = point
    feats = [feature(x, y), feature(x + 0.001, y, category="ENV-01"), feature(x, y, category="BAD")]
    r = client.post("/api/v1/incidents", json={"type": "FeatureCollection", "features": feats})
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["accepted"] == 2 and rep["rejected"] == 1 and rep["errors"][0]["row"] == 3
    bbox = f"{x - .01},{y - .01},{x + .01},{y + .01}"
    r = client.get("/api/v1/incidents", params={"category": "ENV-01", "bbox": bbox})
    data = r.json()
    assert r.status_code == 200 and data["numberMatched"] >= 1
    assert all(f["properties"]["category"] == "ENV-01" for f in data["features"])
    township = data["features"][0]["properties"]["township_code"]
    r = client.get("/api/v1/incidents", params={"township": township, "status": "reported", "limit": 1})
    assert r.json()["numberReturned"] == 1 and r.json()["numberMatched"] >= 2
    far = client.get("/api/v1/incidents", params={"bbox": "100,10,100.1,10.1"}).json()
    assert far["numberMatched"] == 0
    assert client.get("/api/v1/incidents", params={"bbox": "1,2,3"}).status_code == 422


def test_datetime_and_department_filters(client: TestClient, point, db: Session, catalog) -> None:  # type: ignore[no-untyped-def]
    from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
    from tests.dispatch.helpers import T0

    x, y = point
    early, late = feature(x, y, observed_at="2026-04-02T09:00:00+08:00"), feature(
        x + 0.002, y, category="ENV-01", observed_at="2026-06-20T21:30:00+08:00")
    assert client.post("/api/v1/incidents", json={"type": "FeatureCollection", "features": [early, late]}).status_code \
        == 200
    ids = {early["id"], late["id"]}

    def listed(**params: str) -> set[str]:
        r = client.get("/api/v1/incidents", params={**params, "limit": 1000})
        assert r.status_code == 200, r.text
        return {f["id"] for f in r.json()["features"]} & ids

    assert listed(datetime="2026-04-01/2026-04-30") == {early["id"]}
    assert listed(datetime="2026-06-20") == {late["id"]}            # a date is its whole day (Beijing time)
    assert listed(datetime="2026-06-20T22:00:00+08:00/..") == set()
    assert listed(datetime="../2026-12-31") == ids
    bad = client.get("/api/v1/incidents", params={"datetime": "yesterday"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "datetime"
    town = client.get(f"/api/v1/incidents/{late['id']}").json()["properties"]["township_code"]
    result = whistle(db, catalog=catalog, incident_ids=[uuid.UUID(late["id"])], mode=TOWNSHIP, whistler=town, at=T0)
    lead = result.assignments[0].department
    assert listed(department=lead) == {late["id"]}
    other = next(d for d in catalog.departments if d not in {a.department for a in result.assignments})
    assert listed(department=other) == set()
    nobody = client.get("/api/v1/incidents", params={"department": "NOBODY"})
    assert nobody.status_code == 422 and nobody.json()["error"]["field"] == "department"


def test_exports_inline_and_in_the_background(client: TestClient, point, db: Session, platform: Platform,  # type: ignore[no-untyped-def]
                                              monkeypatch, tmp_path) -> None:
    import time
    from contextlib import contextmanager

    import pyogrio

    from gis_enforcement.api.deps import get_transactions
    from gis_enforcement.api.routers import incidents as incidents_routes

    x, y = point
    feats = [feature(x + k * 0.001, y, description=f"第{k}号，含,逗号") for k in range(5)]
    client.post("/api/v1/incidents", json={"type": "FeatureCollection", "features": feats})
    params = {"bbox": f"{x - .01},{y - .01},{x + .01},{y + .01}", "category": "MIN-02"}
    matched = client.get("/api/v1/incidents", params=params).json()["numberMatched"]
    r = client.get("/api/v1/exports/incidents.csv", params=params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == matched and {f["id"] for f in feats} <= {row["id"] for row in rows}
    assert any(row["description"] == "第3号，含,逗号" for row in rows)
    # the names of the lists beside the codes, and each case's course (none yet: only reported)
    mine = next(row for row in rows if row["id"] == feats[0]["id"])
    assert mine["category_zh"] == platform.catalog.categories["MIN-02"].zh
    assert mine["lead_department_zh"] == platform.catalog.departments[mine["lead_department"]].zh
    assert mine["summoned_count"] == "0" and mine["whistled_at"] == mine["closed_at"] == mine["resolved_on_time"] == ""
    g = client.get("/api/v1/exports/incidents.gpkg", params=params)
    assert g.status_code == 200
    (tmp_path / "x.gpkg").write_bytes(g.content)
    assert len(pyogrio.read_dataframe(tmp_path / "x.gpkg", layer="incidents")) == matched
    j = client.get("/api/v1/exports/incidents.geojson", params=params)
    assert j.status_code == 200 and j.headers["content-type"] == "application/geo+json"
    collection = j.json()
    assert collection["type"] == "FeatureCollection" and len(collection["features"]) == matched
    third = next(f for f in collection["features"] if f["properties"]["id"] == feats[3]["id"])
    assert third["properties"]["description"] == "第3号，含,逗号" and "第3号" in j.content.decode("utf-8")
    assert third["geometry"]["coordinates"] == pytest.approx(feats[3]["geometry"]["coordinates"])
    assert third["properties"]["observed_at"].endswith("+08:00")
    assert client.get("/api/v1/exports/incidents.xlsx").status_code == 422

    # above the inline limit: 202 and a job to poll, then the file
    @contextmanager
    def transaction():  # type: ignore[no-untyped-def]
        yield db

    client.app.dependency_overrides[get_transactions] = lambda: transaction
    monkeypatch.setattr(incidents_routes, "EXPORT_INLINE", 1)
    r = client.get("/api/v1/exports/incidents.csv", params=params)
    assert r.status_code == 202 and r.json()["matched"] == matched
    location = r.headers["Location"]
    for _ in range(100):
        done = client.get(location)
        if done.status_code == 200:
            break
        assert done.status_code == 202
        time.sleep(0.05)
    background = list(csv.DictReader(io.StringIO(done.content.decode("utf-8-sig"))))
    assert done.status_code == 200 and len(background) == matched
    assert list(background[0]) == list(rows[0])  # the same columns as the inline answer, names and course too
    assert client.get(f"/api/v1/exports/{'0' * 32}").status_code == 404
