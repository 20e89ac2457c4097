"""A patrol's reports: filed in its own name only, and followed afterwards (``GET /api/v1/incidents/mine``:
whistled, which departments, reported in, done); the photos attached to a case are on its Feature."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.admin.users import add_user
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.layers.jurisdiction import Jurisdiction
from tests.api.callers import ADMIN, SwitchedClient, switched_client

T0 = datetime(2026, 5, 12, 15, 40, tzinfo=UTC)  # 23:40 in Beijing
PASSWORD = "patrol-reports-secret-1"


@pytest.fixture
def town_point(jurisdiction: Jurisdiction) -> tuple[str, float, float]:
    v = jurisdiction.villages.iloc[20]
    return str(v["township_code"]), v.geometry.x, v.geometry.y


@pytest.fixture
def api(platform: Platform, db: Session, catalog: Any,
        town_point: tuple[str, float, float]) -> Iterator[SwitchedClient]:
    town = town_point[0]
    add_user(db, catalog=catalog, username="patrol-zhang", password=PASSWORD, role="patrol", unit=town,
             display_name="张伟")
    add_user(db, catalog=catalog, username="patrol-li", password=PASSWORD, role="patrol", unit=town)
    with switched_client(platform, db, T0 + timedelta(minutes=10), SwitchedClient) as c:
        yield c


def patrol(town: str, name: str = "patrol-zhang") -> Caller:
    return Caller(name, Role.PATROL, "township", town)


def feature(lon: float, lat: float, **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"category": "MIN-02", "observed_at": "2026-05-12T23:40:00+08:00", "accuracy_m": 8,
                           **props}}


def stored_reporter(db: Session, incident_id: str) -> str | None:
    return db.execute(text("SELECT reporter FROM incident WHERE id = :id"), {"id": incident_id}).scalar_one()


def test_a_patrol_files_in_its_own_name(api: SwitchedClient, db: Session, town_point) -> None:  # type: ignore[no-untyped-def]
    town, lon, lat = town_point
    me = patrol(town)
    # no reporter: the patrol's display name; its user name or display name: kept as sent
    f = feature(lon, lat)
    assert api.call("POST", "/api/v1/incidents", me, json=f).status_code == 201
    assert stored_reporter(db, f["id"]) == "张伟"
    f2 = feature(lon, lat, reporter="patrol-zhang")
    assert api.call("POST", "/api/v1/incidents", me, json=f2).status_code == 201
    assert stored_reporter(db, f2["id"]) == "patrol-zhang"
    # a colleague's name: refused on reporter, nothing stored
    f3 = feature(lon, lat, reporter="patrol-li")
    r = api.call("POST", "/api/v1/incidents", me, json=f3)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["field"] == "reporter" and "patrol-li" in err["message"] and "张伟" in err["message"]
    assert db.execute(text("SELECT count(*) FROM incident WHERE id = :id"), {"id": f3["id"]}).scalar_one() == 0
    # a user without a display name files under its user name
    f4 = feature(lon, lat, reporter="")
    assert api.call("POST", "/api/v1/incidents", patrol(town, "patrol-li"), json=f4).status_code == 201
    assert stored_reporter(db, f4["id"]) == "patrol-li"
    # a batch from a patrol: the same rule, the feature named
    batch = {"type": "FeatureCollection", "features": [feature(lon, lat), feature(lon, lat, reporter="patrol-li")]}
    r = api.call("POST", "/api/v1/incidents", me, json=batch)
    assert r.status_code == 422 and r.json()["error"]["field"] == "features[1].properties.reporter", r.text
    # the district (and the CLI, files) keeps the reporter as sent
    f5 = feature(lon, lat, reporter="金海湖镇巡查队-王五")
    assert api.call("POST", "/api/v1/incidents", ADMIN, json=f5).status_code == 201
    assert stored_reporter(db, f5["id"]) == "金海湖镇巡查队-王五"


def test_a_patrol_follows_what_became_of_its_reports(api: SwitchedClient, town_point) -> None:  # type: ignore[no-untyped-def]
    town, lon, lat = town_point
    me = patrol(town)
    first, again = feature(lon, lat), feature(lon, lat, observed_at="2026-05-12T23:45:00+08:00")
    assert api.call("POST", "/api/v1/incidents", me, json=first).status_code == 201
    assert api.call("POST", "/api/v1/incidents", me, json=again).status_code == 201
    other = feature(lon, lat, observed_at="2026-05-12T23:41:00+08:00")
    assert api.call("POST", "/api/v1/incidents", patrol(town, "patrol-li"), json=other).status_code == 201

    r = api.call("POST", f"/api/v1/incidents/{first['id']}/whistle", ADMIN, json={"mode": "township", "whistler": town})
    assert r.status_code == 201, r.text
    lead = r.json()["assignments"][0]["department"]
    api.now = T0 + timedelta(minutes=20)
    r = api.call("POST", f"/api/v1/incidents/{first['id']}/assignments/{lead}/report-in", ADMIN,
                 json={"lon": lon, "lat": lat, "accuracy_m": 5})
    assert r.status_code == 200, r.text

    r = api.call("GET", "/api/v1/incidents/mine", me)
    assert r.status_code == 200, r.text
    mine = r.json()["data"]
    assert [m["id"] for m in mine] == [again["id"], first["id"]]   # newest first; not the colleague's
    done = mine[1]
    assert done["status"] == "whistled" and done["whistled_at"] == "2026-05-12T23:50:00+08:00"
    assert done["departments"][0]["department"] == lead and done["departments"][0]["role"] == "lead"
    assert done["departments"][0]["department_name"]
    assert done["departments"][0]["reported_in_at"] == "2026-05-13T00:00:00+08:00"
    assert done["departments"][0]["status"] == "reported_in"
    assert all(a["reported_in_at"] is None for a in done["departments"][1:])
    fresh = mine[0]
    assert fresh["status"] == "reported" and fresh["departments"] == [] and fresh["whistled_at"] is None
    # the second report at the same spot: the likely duplicate of the first, with when the first was seen
    assert fresh["likely_duplicate_of"] == first["id"] and fresh["duplicate_distance_m"] == pytest.approx(0, abs=1)
    assert fresh["duplicate_observed_at"] == "2026-05-12T23:40:00+08:00"
    assert api.call("GET", "/api/v1/incidents/mine", me, params={"limit": 1}).json()["data"][0]["id"] == again["id"]
    assert api.call("GET", "/api/v1/incidents/mine", me, params={"limit": 0}).status_code == 422


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def test_the_attached_photos_are_on_the_case(api: SwitchedClient, town_point) -> None:  # type: ignore[no-untyped-def]
    town, lon, lat = town_point
    me = patrol(town)
    f = feature(lon, lat, photos=["https://example.org/p/1.jpg"])
    assert api.call("POST", "/api/v1/incidents", me, json=f).status_code == 201
    r = api.call("POST", f"/api/v1/incidents/{f['id']}/photos", me, files={"file": ("a.jpg", jpeg(), "image/jpeg")})
    assert r.status_code == 201, r.text
    sha = r.json()["sha256"]
    props = api.call("GET", f"/api/v1/incidents/{f['id']}", me).json()["properties"]
    assert props["photos"] == ["https://example.org/p/1.jpg"]   # the references as submitted
    assert props["attached_photos"] == [{"sha256": sha, "url": f"/api/v1/photos/{sha}"}]
