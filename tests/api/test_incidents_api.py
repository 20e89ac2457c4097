"""HTTP intake and reads through FastAPI, on the real PostGIS session of the test (rolled back after)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session
from gis_enforcement.layers.jurisdiction import Jurisdiction
from tests.api.callers import as_admin


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


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
    ],
)
def test_bad_input_is_422_naming_the_field(client: TestClient, point, mutate, field: str) -> None:
    f = feature(*point)
    mutate(f)
    r = client.post("/api/v1/incidents", json=f)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert client.get(f"/api/v1/incidents/{f['id']}").status_code in (404, 422)


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
