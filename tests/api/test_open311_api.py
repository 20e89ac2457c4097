"""Open311 GeoReport v2 over HTTP on the real PostGIS session of the test (rolled back after): filing through the
normal intake, tokens, errors in GeoReport's format, XML, filters — and reads by the real `georeport` client
against the app served on loopback."""

from __future__ import annotations

import socket
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.admin.users import add_user, create_api_key
from gis_enforcement.api import create_app
from gis_enforcement.api.auth import get_caller
from gis_enforcement.api.deps import get_session, get_transactions
from gis_enforcement.api.routers.open311 import get_now
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction

BASE = "/open311/v2"
NOW = datetime.now(UTC).replace(microsecond=0)
ADMIN = Caller(username="open311-test", role=Role.ADMIN, unit_kind="district", unit_code="110117")
METRE = 1 / 111_320


def make_app(platform: Platform, db: Session) -> FastAPI:
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_caller] = lambda: ADMIN
    app.dependency_overrides[get_now] = lambda: NOW
    return app


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    with TestClient(make_app(platform, db), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def site(jurisdiction: Jurisdiction) -> tuple[float, float, str]:
    v = jurisdiction.villages.iloc[20]
    return v.geometry.x, v.geometry.y, v["township_code"]


def form(site: tuple[float, float, str], **extra: str) -> dict[str, str]:
    lon, lat, _ = site
    return {"jurisdiction_id": "110117", "service_code": "MIN-02", "lat": f"{lat:.7f}", "long": f"{lon:.7f}",
            "description": "河道内夜间采砂，两台挖掘机", **extra}


def error_of(r: Any, status: int) -> str:
    """The description of a GeoReport error answer (JSON), after checking its shape."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert isinstance(body, list) and len(body) == 1 and body[0]["code"] == status, body
    return str(body[0]["description"])


def incident_count(db: Session, incident_id: str | None = None) -> int:
    sql = "SELECT count(*) FROM incident" + (" WHERE id = :id" if incident_id else "")
    return int(db.execute(text(sql), {"id": incident_id}).scalar_one())


# --- POST, replay, tokens ------------------------------------------------------------------------------------

def test_post_files_an_incident_through_the_intake(client: TestClient, db: Session, catalog: Catalog,
                                                   site) -> None:
    client_id = str(uuid.uuid4())
    observed = (NOW - timedelta(hours=1)).isoformat()
    data = form(site, **{"attribute[client_id]": client_id, "attribute[accuracy_m]": "8",
                         "attribute[observed_at]": observed, "first_name": "伟", "last_name": "张",
                         "email": "zhang@example.org", "device_id": "phone-7", "account_id": "acct-1",
                         "media_url": "https://example.org/photos/1.jpg", "api_key": "k"})
    r = client.post(f"{BASE}/requests.json", data=data)
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/json")
    [answer] = r.json()
    assert answer["service_request_id"] == client_id and answer["token"] == client_id
    assert answer["account_id"] == "acct-1"
    lead = catalog.departments[catalog.general_rule("MIN-02").lead].zh  # type: ignore[union-attr]
    assert answer["service_notice"].startswith("已受理") and lead in answer["service_notice"]
    township = db.execute(text("SELECT name FROM township WHERE code = :c"), {"c": site[2]}).scalar_one()
    assert f"由{township}核实" in answer["service_notice"]

    # the same case through the project's own API
    got = client.get(f"/api/v1/incidents/{client_id}")
    assert got.status_code == 200, got.text
    props = got.json()["properties"]
    assert props["category"] == "MIN-02" and props["township_code"] == site[2]
    assert props["description"] == data["description"] and props["reporter"] == "张伟"
    assert props["accuracy_m"] == 8 and props["photos"] == [data["media_url"]]
    assert props["status"] == "reported"

    # replay: the same answer, 200, nothing written twice
    r = client.post(f"{BASE}/requests.json", data=data)
    assert r.status_code == 200, r.text
    assert r.json()[0]["service_request_id"] == client_id and "重复提交" in r.json()[0]["service_notice"]
    assert incident_count(db, client_id) == 1

    # the token is the request id
    r = client.get(f"{BASE}/tokens/{client_id}.json")
    assert r.status_code == 200 and r.json() == [{"service_request_id": client_id, "token": client_id}]
    assert "token" in error_of(client.get(f"{BASE}/tokens/{uuid.uuid4()}.json"), 404)
    assert "token" in error_of(client.get(f"{BASE}/tokens/nope.json"), 404)

    # the same client id for other content is refused, naming the attribute
    other = {**data, "attribute[accuracy_m]": "9"}
    assert error_of(client.post(f"{BASE}/requests.json", data=other), 409).startswith("attribute[client_id]")


def test_resend_with_client_id_and_no_observed_at_is_the_same_request(platform: Platform, db: Session,
                                                                       site) -> None:
    """docs/api.md's example: a client id and no observed_at, sent again later, answers 200 with the stored
    request; the same id with another description is still a conflict."""
    client_id = str(uuid.uuid4())
    data = form(site, **{"attribute[client_id]": client_id})
    app = make_app(platform, db)
    with TestClient(app, raise_server_exceptions=False) as c:
        first = c.post(f"{BASE}/requests.json", data=data)
        assert first.status_code == 201, first.text
        app.dependency_overrides[get_now] = lambda: NOW + timedelta(minutes=3)  # the retry comes later
        again = c.post(f"{BASE}/requests.json", data=data)
        assert again.status_code == 200, again.text
        assert again.json()[0]["service_request_id"] == client_id and incident_count(db, client_id) == 1
        observed = datetime.fromisoformat(c.get(f"/api/v1/incidents/{client_id}").json()["properties"]["observed_at"])
        assert observed == NOW  # the time the request was first received
        other = c.post(f"{BASE}/requests.json", data={**data, "description": "另一处采砂点"})
        assert error_of(other, 409).startswith("attribute[client_id]")


def test_a_report_outside_the_district_is_not_promised_to_a_township(client: TestClient, db: Session,
                                                                     site) -> None:
    data = form(site, device_id="phone-0", **{"attribute[reporter]": "巡查队-王"})
    data.update(lat="0", long="0")  # a phone's position gone astray
    r = client.post(f"{BASE}/requests.json", data=data)
    assert r.status_code == 201, r.text
    notice = r.json()[0]["service_notice"]
    assert "由区级核实" in notice and "最近街乡" not in notice and notice.count("区界外") == 1, notice
    rid = r.json()[0]["service_request_id"]
    props = client.get(f"/api/v1/incidents/{rid}").json()["properties"]
    assert props["township_code"] is None and "outside_district" in props["flags"]


def test_post_without_client_id_derives_a_stable_id(client: TestClient, db: Session, site) -> None:
    data = form(site, device_id="phone-9", **{"attribute[reporter]": "巡查队-李"})
    first = client.post(f"{BASE}/requests.json", data=data)
    assert first.status_code == 201, first.text
    again = client.post(f"{BASE}/requests.json", data=data)  # a retry: no observed_at, yet the same request
    assert again.status_code == 200, again.text
    rid = first.json()[0]["service_request_id"]
    assert again.json()[0]["service_request_id"] == rid and incident_count(db, rid) == 1
    other = client.post(f"{BASE}/requests.json", data={**data, "description": "另一处采砂点"})
    assert other.status_code == 201 and other.json()[0]["service_request_id"] != rid
    observed = datetime.fromisoformat(client.get(f"/api/v1/incidents/{rid}").json()["properties"]["observed_at"])
    assert observed == NOW  # no observed_at: the time the request was received


# --- errors --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"lat": "north"}, 400, "lat"),
        ({"lat": ""}, 400, "lat"),
        ({"long": "500"}, 400, "long"),
        ({"service_code": "NOPE-01"}, 404, "service_code"),
        ({"service_code": ""}, 400, "service_code"),
        ({"jurisdiction_id": "110118"}, 404, "jurisdiction_id"),
        ({"attribute[colour]": "red"}, 400, "attribute[colour]"),
        ({"attribute[accuracy_m]": "far"}, 400, "attribute[accuracy_m]"),
        ({"attribute[observed_at]": "2099-01-01T00:00:00+08:00"}, 400, "attribute[observed_at]"),
        ({"attribute[observed_at]": "yesterday"}, 400, "attribute[observed_at]"),
        ({"attribute[crs]": "utm"}, 400, "attribute[crs]"),
        ({"attribute[client_id]": "123"}, 400, "attribute[client_id]"),
        ({"media_url": "file:///etc/passwd"}, 400, "media_url"),
        ({"description": "采砂\x00"}, 400, "description"),
        ({"description": "采砂" * 2001}, 400, "description"),
        ({"attribute[reporter]": "张" * 201}, 400, "attribute[reporter]"),
    ],
)
def test_bad_posts_answer_in_open311_format_naming_the_field(client: TestClient, db: Session, site,
                                                              change: dict[str, str], status: int,
                                                              field: str) -> None:
    before = incident_count(db)
    description = error_of(client.post(f"{BASE}/requests.json", data={**form(site), **change}), status)
    assert description.startswith(field + ":"), description
    assert incident_count(db) == before


def test_errors_of_reads_and_in_xml(client: TestClient, site) -> None:
    assert error_of(client.get(f"{BASE}/services/NOPE.json"), 404).startswith("service_code")
    assert error_of(client.get(f"{BASE}/services.json?jurisdiction_id=1"), 404).startswith("jurisdiction_id")
    assert error_of(client.get(f"{BASE}/requests.json?status=pending"), 400).startswith("status")
    assert error_of(client.get(f"{BASE}/requests.json?service_code=NOPE"), 404).startswith("service_code")
    assert error_of(client.get(f"{BASE}/requests.json?start_date=soon"), 400).startswith("start_date")
    assert error_of(client.get(f"{BASE}/requests.json?end_date=0001-01-01"), 400).startswith("end_date")
    assert error_of(client.get(f"{BASE}/requests.json?page_size=5000"), 400).startswith("page_size")
    assert error_of(client.get(f"{BASE}/requests/not-a-uuid.json"), 400).startswith("service_request_id")
    assert error_of(client.get(f"{BASE}/requests/{uuid.uuid4()}.json"), 404).startswith("service_request_id")
    assert error_of(client.get(f"{BASE}/services.csv"), 400).startswith("format")
    assert error_of(client.post(f"{BASE}/requests.json", json={"service_code": "MIN-02"}), 400) \
        .startswith("lat")  # a JSON object is read as the form would be: lat and long are missing

    r = client.post(f"{BASE}/requests.xml", data=form(site, lat="north"))
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(r.content)
    assert root.tag == "errors" and root.findtext("error/code") == "400"
    assert (root.findtext("error/description") or "").startswith("lat:")


# --- JSON bodies -----------------------------------------------------------------------------------------------

def test_a_json_body_is_read_as_the_form_would_be(client: TestClient, db: Session, site) -> None:
    data = form(site, device_id="phone-json", **{"attribute[reporter]": "巡查队-赵"})
    first = client.post(f"{BASE}/requests.json", data=data)
    assert first.status_code == 201, first.text
    # the same fields as a JSON object are the same request: the derived id finds the one the form filed
    again = client.post(f"{BASE}/requests.json", json=data)
    assert again.status_code == 200, again.text
    rid = first.json()[0]["service_request_id"]
    assert again.json()[0]["service_request_id"] == rid and incident_count(db, rid) == 1

    # numbers as numbers, attributes as one object, the answer in the path's format
    lon, lat, township = site
    client_id = str(uuid.uuid4())
    body = {"jurisdiction_id": "110117", "service_code": "ENV-01", "lat": lat, "long": lon, "description": "冒黑烟",
            "first_name": "伟", "last_name": "张", "media_url": None,
            "attribute": {"client_id": client_id, "accuracy_m": 12,
                          "observed_at": (NOW - timedelta(hours=2)).isoformat()}}
    r = client.post(f"{BASE}/requests.xml", json=body)
    assert r.status_code == 201 and r.headers["content-type"].startswith("text/xml"), r.text
    assert ET.fromstring(r.content).findtext("request/service_request_id") == client_id
    props = client.get(f"/api/v1/incidents/{client_id}").json()["properties"]
    assert props["category"] == "ENV-01" and props["township_code"] == township and props["accuracy_m"] == 12
    assert props["reporter"] == "张伟" and props["photos"] == [] and props["description"] == "冒黑烟"
    assert datetime.fromisoformat(props["observed_at"]) == NOW - timedelta(hours=2)


@pytest.mark.parametrize(
    ("body", "status", "field", "words"),
    [
        ('{"lat": "north", "long": 117.1, "service_code": "MIN-02"}', 400, "lat", "not a number"),
        ('{"lat": true, "long": 117.1, "service_code": "MIN-02"}', 400, "lat", "a string or a number"),
        ('{"lat": [40.1], "long": 117.1, "service_code": "MIN-02"}', 400, "lat", "a string or a number"),
        ('{"lat": 95, "long": 117.1, "service_code": "MIN-02"}', 400, "lat", "outside"),
        ('{"lat": 40.1, "long": 117.1}', 400, "service_code", "required"),
        ('{"lat": 40.1, "long": 117.1, "service_code": "NOPE-01"}', 404, "service_code", "unknown"),
        ('{"lat": 40.1, "long": 117.1, "service_code": "MIN-02", "attribute": {"colour": "red"}}', 400,
         "attribute[colour]", "unknown attribute"),
        ('{"lat": 40.1, "long": 117.1, "service_code": "MIN-02", "attribute[crs]": "wgs84", '
         '"attribute": {"crs": "gcj02"}}', 400, "attribute[crs]", "more than once"),
        ('{"lat": 40.1, "lat": 40.2, "long": 117.1, "service_code": "MIN-02"}', 400, "lat", "more than once"),
        ('{"lat": 40.1, "long": 117.1, "service_code": "MIN-02", "description": "采砂\\u0000"}', 400, "description",
         "NUL"),
        ('[{"service_code": "MIN-02"}]', 400, "body", "object"),
        ('"MIN-02"', 400, "body", "object"),
        ('{"service_code": "MIN-02", ', 400, "body", "not valid JSON"),
    ],
)
def test_bad_json_bodies_are_refused_in_open311_format_naming_the_field(client: TestClient, db: Session, body: str,
                                                                        status: int, field: str,
                                                                        words: str) -> None:
    before = incident_count(db)
    r = client.post(f"{BASE}/requests.json", content=body.encode(), headers={"Content-Type": "application/json"})
    description = error_of(r, status)
    assert description.startswith(field + ":") and words in description, description
    assert incident_count(db) == before


def test_a_body_neither_form_nor_json_is_refused_naming_the_content_type(client: TestClient, db: Session,
                                                                         site) -> None:
    before = incident_count(db)
    text_body = "&".join(f"{k}={v}" for k, v in form(site).items())
    r = client.post(f"{BASE}/requests.json", content=text_body.encode(), headers={"Content-Type": "text/plain"})
    description = error_of(r, 415)
    assert description.startswith("Content-Type:") and "text/plain" in description, description
    assert "application/x-www-form-urlencoded" in description and "application/json" in description
    r = client.post(f"{BASE}/requests.xml", content=b"<request/>", headers={"Content-Type": "application/xml"})
    assert r.status_code == 415 and r.headers["content-type"].startswith("text/xml")
    assert (ET.fromstring(r.content).findtext("error/description") or "").startswith("Content-Type:")
    assert incident_count(db) == before


# --- services --------------------------------------------------------------------------------------------------

def test_services_and_definitions_json_and_xml(client: TestClient, catalog: Catalog) -> None:
    r = client.get(f"{BASE}/services.json", params={"jurisdiction_id": "110117"})
    assert r.status_code == 200, r.text
    listed = r.json()
    assert [s["service_code"] for s in listed] == list(catalog.categories)
    by_code = {s["service_code"]: s for s in listed}
    assert by_code["MIN-02"]["group"] == "盗采" and by_code["TRK-01"]["group"] == "货车"
    assert by_code["WATER-01"]["group"] == "河道" and by_code["FOR-01"]["group"] == "林木"
    for code, s in by_code.items():
        assert s["service_name"] == catalog.categories[code].zh
        assert s["metadata"] is True and s["type"] == "realtime" and s["group"] in s["keywords"]
    english = {s["service_code"]: s for s in client.get(f"{BASE}/services.json?locale=en").json()}
    assert english["MIN-02"]["service_name"] == catalog.categories["MIN-02"].en
    assert english["MIN-02"]["group"] == "Illegal mining"

    root = ET.fromstring(client.get(f"{BASE}/services.xml").content)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == list(catalog.categories)
    assert {s.findtext("metadata") for s in root.findall("service")} == {"true"}

    definition = client.get(f"{BASE}/services/MIN-02.json").json()
    assert definition["service_code"] == "MIN-02"
    attrs = definition["attributes"]
    assert [a["order"] for a in attrs] == list(range(1, len(attrs) + 1))
    variable = {a["code"]: a for a in attrs if a["variable"]}
    assert set(variable) == {"observed_at", "accuracy_m", "crs", "reporter", "client_id"}
    assert variable["accuracy_m"]["datatype"] == "number" and variable["observed_at"]["datatype"] == "datetime"
    assert {v["key"] for v in variable["crs"]["values"]} == {"wgs84", "gcj02", "bd09", "cgcs2000"}
    facts = {a["code"]: a for a in attrs if not a["variable"]}
    assert "重大" in facts["severity"]["description"] and "21:00-04:00" in facts["inspection_window"]["description"]

    xml = ET.fromstring(client.get(f"{BASE}/services/MIN-02.xml").content)
    assert xml.tag == "service_definition" and xml.findtext("service_code") == "MIN-02"
    assert [a.findtext("code") for a in xml.findall("attributes/attribute")] == [a["code"] for a in attrs]
    assert [v.findtext("key") for v in xml.findall("attributes/attribute[code='crs']/values/value")] == \
        [v["key"] for v in variable["crs"]["values"]]


# --- requests: listing, filters, deadlines ------------------------------------------------------------------------

def _file(client: TestClient, jurisdiction: Jurisdiction, k: int, code: str, observed: datetime) -> dict[str, Any]:
    v = jurisdiction.villages.iloc[k]
    r = client.post(f"{BASE}/requests.json", data={
        "service_code": code, "lat": str(v.geometry.y), "long": str(v.geometry.x), "description": f"{code} 测试",
        "attribute[observed_at]": observed.isoformat(), "attribute[client_id]": str(uuid.uuid4()),
        "attribute[accuracy_m]": "5"})
    assert r.status_code == 201, r.text
    return {"id": r.json()[0]["service_request_id"], "lon": v.geometry.x, "lat": v.geometry.y,
            "township": v["township_code"]}


def _whistle(client: TestClient, case: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post(f"/api/v1/incidents/{case['id']}/whistle", json={"mode": "township", "whistler": case["township"]})
    assert r.status_code == 201, r.text
    return r.json()["assignments"]  # type: ignore[no-any-return]


def _close(client: TestClient, case: dict[str, Any]) -> None:
    """Whistle, report in, act, resolve, verify and close a case through the project's API."""
    url = f"/api/v1/incidents/{case['id']}"
    lead, *assists = [a["department"] for a in _whistle(client, case)]
    steps = [
        (f"{url}/assignments/{lead}/report-in", {"lon": case["lon"], "lat": case["lat"] + 20 * METRE,
                                                 "accuracy_m": 5}),
        (f"{url}/assignments/{lead}/start", None),
        (f"{url}/assignments/{lead}/complete", None),
        (f"{url}/resolve", {"department": lead, "summary": "已责令停止"}),
        *[(f"{url}/assignments/{d}/release", {"reason": "主责部门已处置完毕"}) for d in assists],
        (f"{url}/verify", {"township": case["township"], "note": "现场核查"}),
    ]
    for path, body in steps:
        r = client.post(path, json=body) if body is not None else client.post(path)
        assert r.status_code == 200, (path, r.text)
    if client.get(url).json()["properties"]["status"] == "verified":
        r = client.post(f"{url}/close", json={"township": case["township"]})
        assert r.status_code == 200, r.text


def _ids(r: Any) -> set[str]:
    assert r.status_code == 200, r.text
    return {x["service_request_id"] for x in r.json()}


def test_requests_filters_statuses_and_deadlines(client: TestClient, jurisdiction: Jurisdiction, db: Session,
                                                 catalog: Catalog) -> None:
    a = _file(client, jurisdiction, 20, "MIN-02", NOW - timedelta(hours=2))
    b = _file(client, jurisdiction, 12, "ENV-01", NOW - timedelta(days=1))
    old = _file(client, jurisdiction, 30, "CON-01", NOW - timedelta(days=100))
    assignments = _whistle(client, a)
    _close(client, b)

    listed = client.get(f"{BASE}/requests.json")
    assert {a["id"], b["id"]} <= _ids(listed) and old["id"] not in _ids(listed)  # the last 90 days
    ra = next(x for x in listed.json() if x["service_request_id"] == a["id"])
    assert ra["status"] == "open" and ra["status_notes"] == "已吹哨，等待部门报到"
    assert ra["service_code"] == "MIN-02" and ra["service_name"] == catalog.categories["MIN-02"].zh
    assert ra["agency_responsible"] == catalog.departments[assignments[0]["department"]].zh
    due = db.execute(text("SELECT min(report_in_due) FROM assignment WHERE incident_id = :id AND status = "
                          "'summoned'"), {"id": a["id"]}).scalar_one()
    assert abs(datetime.fromisoformat(ra["expected_datetime"]) - due) < timedelta(seconds=1)
    assert datetime.fromisoformat(ra["requested_datetime"]) == NOW - timedelta(hours=2)
    assert ra["requested_datetime"].endswith("+08:00")
    assert datetime.fromisoformat(ra["updated_datetime"]) >= datetime.fromisoformat(ra["requested_datetime"])
    assert ra["lat"] == pytest.approx(a["lat"]) and ra["long"] == pytest.approx(a["lon"])
    township = db.execute(text("SELECT name FROM township WHERE code = :c"), {"c": a["township"]}).scalar_one()
    assert ra["address"].startswith(township) and ra["address_id"]
    rb = next(x for x in listed.json() if x["service_request_id"] == b["id"])
    assert rb["status"] == "closed" and rb["expected_datetime"] is None

    assert a["id"] in _ids(client.get(f"{BASE}/requests.json?status=open"))
    assert b["id"] not in _ids(client.get(f"{BASE}/requests.json?status=open"))
    assert b["id"] in _ids(client.get(f"{BASE}/requests.json?status=closed"))
    assert a["id"] not in _ids(client.get(f"{BASE}/requests.json?status=closed"))
    assert {a["id"], b["id"]} <= _ids(client.get(f"{BASE}/requests.json?status=open,closed"))
    assert _ids(client.get(f"{BASE}/requests.json?service_code=MIN-02")) & {a["id"], b["id"]} == {a["id"]}
    assert {a["id"], b["id"]} <= _ids(client.get(f"{BASE}/requests.json?service_code=MIN-02,ENV-01"))
    window = {"start_date": (NOW - timedelta(days=110)).isoformat(), "end_date": (NOW - timedelta(days=95)).isoformat()}
    assert _ids(client.get(f"{BASE}/requests.json", params=window)) & {a["id"], b["id"], old["id"]} == {old["id"]}
    recent = {"start_date": (NOW - timedelta(hours=3)).isoformat()}
    assert _ids(client.get(f"{BASE}/requests.json", params=recent)) & {a["id"], b["id"]} == {a["id"]}
    too_long = {"start_date": (NOW - timedelta(days=200)).isoformat(), "end_date": NOW.isoformat()}
    assert error_of(client.get(f"{BASE}/requests.json", params=too_long), 400).startswith("end_date")
    backwards = {"start_date": NOW.isoformat(), "end_date": (NOW - timedelta(days=1)).isoformat()}
    assert error_of(client.get(f"{BASE}/requests.json", params=backwards), 400).startswith("end_date")
    # service_request_id overrides the other filters (the old request is outside the default window)
    both = client.get(f"{BASE}/requests.json?service_request_id={a['id']},{old['id']}&status=closed")
    assert _ids(both) == {a["id"], old["id"]}

    single = client.get(f"{BASE}/requests/{a['id']}.json")
    assert single.status_code == 200 and single.json() == [ra]
    root = ET.fromstring(client.get(f"{BASE}/requests/{a['id']}.xml").content)
    assert root.tag == "service_requests" and root.findtext("request/service_request_id") == a["id"]
    assert root.findtext("request/status_notes") == "已吹哨，等待部门报到"
    assert root.findtext("request/expected_datetime") == ra["expected_datetime"]
    assert root.findtext("request/media_url") == ""  # null: an empty element

    xml = ET.fromstring(client.get(f"{BASE}/requests.xml").content)
    assert {r.findtext("service_request_id") for r in xml.findall("request")} == _ids(listed)
    assert client.get(f"{BASE}/requests.json?page_size=1").json() == listed.json()[:1]
    assert client.get(f"{BASE}/requests.json?page_size=1&page=2").json() == listed.json()[1:2]


def test_xml_escapes_what_clients_send(client: TestClient, site) -> None:
    nasty = "<script>alert('x')</script> & ]]> \x07 采砂"
    r = client.post(f"{BASE}/requests.xml", data=form(site, description=nasty))
    assert r.status_code == 201, r.text
    rid = ET.fromstring(r.content).findtext("request/service_request_id")
    got = ET.fromstring(client.get(f"{BASE}/requests/{rid}.xml").content)
    assert got.findtext("request/description") == nasty.replace("\x07", "\ufffd")


# --- the real georeport client against the app on loopback -------------------------------------------------------

@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread, for the test's duration."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}{BASE}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def test_georeport_client_reads_what_the_database_holds(platform: Platform, db: Session, catalog: Catalog,
                                                        jurisdiction: Jurisdiction,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import requests
    from georeport import GeoReport

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with serving(make_app(platform, db)) as root:
        # filed over real HTTP, form-encoded, as a phone app would
        v = jurisdiction.villages.iloc[20]
        posted = requests.post(f"{root}/requests.json", data={
            "jurisdiction_id": "110117", "service_code": "TRK-01", "lat": str(v.geometry.y),
            "long": str(v.geometry.x), "description": "超载货车夜间通行", "device_id": "georeport-test",
            "attribute[observed_at]": (NOW - timedelta(hours=1)).isoformat()}, timeout=30)
        assert posted.status_code == 201, posted.text
        rid = posted.json()[0]["service_request_id"]

        client = GeoReport(root, jurisdiction="110117")
        services = client.get_service_list()
        assert [s["service_code"] for s in services] == list(catalog.categories)
        assert {s["service_code"]: s["service_name"] for s in services} == \
            {c.code: c.zh for c in catalog.categories.values()}

        definition = client.get_service_definition("TRK-01")
        assert definition["service_code"] == "TRK-01"
        assert {a["code"] for a in definition["attributes"] if a["variable"]} >= {"accuracy_m", "reporter"}

        stored = db.execute(text(
            "SELECT i.id::text, i.category, i.status, i.description, i.lead_department, i.lon, i.lat, t.name "
            "FROM incident i LEFT JOIN township t ON t.code = i.township_code WHERE i.id = :id"), {"id": rid}).one()
        listed = client.get_service_requests(status="open", service_code="TRK-01")
        mine = [r for r in listed if r["service_request_id"] == rid]
        assert len(mine) == 1
        got = mine[0]
        assert (got["service_code"], got["description"]) == (stored.category, stored.description)
        assert got["status"] == "open" and stored.status == "reported"
        assert got["agency_responsible"] == catalog.departments[stored.lead_department].zh
        assert got["lat"] == pytest.approx(stored.lat) and got["long"] == pytest.approx(stored.lon)
        assert got["address"].startswith(stored.name)
        assert client.get_service_request(rid) == got
        assert client.get_service_requests(service_request_id=rid) == [got]
        assert all(r["service_request_id"] != rid for r in client.get_service_requests(status="closed"))

        # the same reads in XML, as georeport parses them
        xml_client = GeoReport(root, jurisdiction="110117", output_format="xml")
        xml_services = xml_client.get_service_list()
        assert [s["service_code"] for s in xml_services] == list(catalog.categories)
        one = xml_client.get_service_request(rid)
        assert one["service_request_id"] == rid and one["description"] == stored.description
        assert xml_client.get_service_definition("TRK-01")["service_code"] == "TRK-01"

        # a wrong jurisdiction is refused, in GeoReport's error format
        with pytest.raises(requests.HTTPError) as refused:
            GeoReport(root, jurisdiction="120000").get_service_list()
        assert refused.value.response.status_code == 404
        assert refused.value.response.json()[0]["description"].startswith("jurisdiction_id")


def test_expected_datetime_follows_the_leads_step_and_media_url_names_the_first_photo(
        client: TestClient, jurisdiction: Jurisdiction, db: Session) -> None:
    from gis_enforcement.demo.photos import site_photo
    case = _file(client, jurisdiction, 22, "MIN-02", NOW - timedelta(hours=1))
    assert client.get(f"{BASE}/requests/{case['id']}.json").json()[0]["media_url"] is None
    data = site_photo(case["id"], None, NOW, slot="before", taken_at=NOW, lon=case["lon"], lat=case["lat"])
    up = client.post(f"/api/v1/incidents/{case['id']}/photos", files={"file": ("site.jpg", data, "image/jpeg")})
    assert up.status_code == 201, up.text
    req = client.get(f"{BASE}/requests/{case['id']}.json").json()[0]
    assert req["media_url"] == f"http://testserver/api/v1/photos/{up.json()['sha256']}"
    assert client.get(req["media_url"]).status_code == 200

    lead = _whistle(client, case)[0]["department"]

    def due(column: str) -> datetime:
        return db.execute(text(f"SELECT {column} FROM assignment WHERE incident_id = :id AND role = 'lead'"),
                          {"id": case["id"]}).scalar_one()

    def expected() -> datetime:
        return datetime.fromisoformat(client.get(f"{BASE}/requests/{case['id']}.json").json()[0]["expected_datetime"])

    assert abs(expected() - due("report_in_due")) < timedelta(seconds=1)   # summoned: the lead's report-in due
    r = client.post(f"/api/v1/incidents/{case['id']}/assignments/{lead}/report-in",
                    json={"lon": case["lon"], "lat": case["lat"], "accuracy_m": 5})
    assert r.status_code == 200, r.text
    # on site, while the assisting departments are still summoned: the lead's resolution due, not a report-in due
    assert abs(expected() - due("resolution_due")) < timedelta(seconds=1)


# --- declined and duplicate requests say why ------------------------------------------------------------------------

def _triage(client: TestClient, case: dict[str, Any], step: str, **body: Any) -> None:
    r = client.post(f"/api/v1/incidents/{case['id']}/{step}", json={"township": case["township"], **body})
    assert r.status_code == 200, r.text


def test_declined_and_duplicate_requests_give_the_townships_reason(client: TestClient, jurisdiction: Jurisdiction,
                                                                   db: Session) -> None:
    first = _file(client, jurisdiction, 20, "MIN-02", NOW - timedelta(hours=3))
    again = _file(client, jurisdiction, 20, "MIN-02", NOW - timedelta(hours=2))
    declined = _file(client, jurisdiction, 12, "ENV-01", NOW - timedelta(hours=1))
    quiet = _file(client, jurisdiction, 30, "CON-01", NOW - timedelta(hours=1))

    def one(case: dict[str, Any], locale: str = "zh") -> dict[str, Any]:
        r = client.get(f"{BASE}/requests/{case['id']}.json", params={"locale": locale})
        assert r.status_code == 200, r.text
        return r.json()[0]  # type: ignore[no-any-return]

    _triage(client, declined, "reject", reason="现场为合法施工，已办理许可")
    got = one(declined)
    assert got["status"] == "closed" and got["status_notes"] == "经核实不予受理，理由：现场为合法施工，已办理许可"
    assert one(declined, "en")["status_notes"] == "declined: 现场为合法施工，已办理许可"
    # taken back and declined again: the latest reason
    _triage(client, declined, "reinstate", reason="复核后需要处置")
    assert one(declined)["status"] == "open" and one(declined)["status_notes"] == "已核实，等待街乡吹哨"
    _triage(client, declined, "reject", reason="已由市级部门立案查处")
    assert one(declined)["status_notes"] == "经核实不予受理，理由：已由市级部门立案查处"

    _triage(client, again, "mark-duplicate", duplicate_of=first["id"], reason="同一采砂点")
    got = one(again)
    assert got["status"] == "closed"
    assert got["status_notes"] == f"与已有案件 {first['id']} 为同一问题，已合并（同一采砂点）"
    assert one(again, "en")["status_notes"] == f"the same problem as request {first['id']}; merged into it (同一采砂点)"
    root = ET.fromstring(client.get(f"{BASE}/requests/{again['id']}.xml").content)
    assert root.findtext("request/status_notes") == got["status_notes"]

    assert one(first)["status_notes"] == "已上报，等待街乡核实分拣"  # the first case is not touched

    # the page is read in one statement, the notes included
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    connection = db.connection()
    event.listen(connection, "before_cursor_execute", seen)
    try:
        ids = ",".join(c["id"] for c in (first, again, declined, quiet))
        listed = client.get(f"{BASE}/requests.json", params={"service_request_id": ids})
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    assert listed.status_code == 200, listed.text
    notes = {r["service_request_id"]: r["status_notes"] for r in listed.json()}
    assert notes == {first["id"]: "已上报，等待街乡核实分拣", again["id"]: got["status_notes"],
                     declined["id"]: "经核实不予受理，理由：已由市级部门立案查处",
                     quiet["id"]: "已上报，等待街乡核实分拣"}
    assert len([s for s in statements if "case_event" in s]) == 1, statements


# --- discovery is public, requests are keyed ---------------------------------------------------------------------

@pytest.fixture
def keyed(platform: Platform, db: Session, catalog: Catalog,
          jurisdiction: Jurisdiction) -> Iterator[tuple[FastAPI, str]]:
    """The app with its real authentication (no caller put in place), and a patrol's API key."""

    @contextmanager
    def transaction() -> Iterator[Session]:  # an API key is proved in a transaction of its own: share the test's
        yield db

    town = str(jurisdiction.villages.iloc[20]["township_code"])
    add_user(db, catalog=catalog, username="patrol-311", password="a-long-test-password", role="patrol", unit=town)
    key = create_api_key(db, username="patrol-311", name="311 app")
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_transactions] = lambda: transaction
    app.dependency_overrides[get_now] = lambda: NOW
    platform.keys.clear()
    yield app, key
    platform.keys.clear()


def test_the_service_list_and_definitions_are_public_and_requests_need_a_key(
        keyed: tuple[FastAPI, str], db: Session, catalog: Catalog, site, monkeypatch: pytest.MonkeyPatch) -> None:
    import requests
    from georeport import GeoReport

    app, key = keyed
    with TestClient(app, raise_server_exceptions=False) as c:
        listed = c.get(f"{BASE}/services.json")
        assert listed.status_code == 200, listed.text
        assert [s["service_code"] for s in listed.json()] == list(catalog.categories)
        assert ET.fromstring(c.get(f"{BASE}/services.xml").content).tag == "services"
        assert c.get(f"{BASE}/services/MIN-02.json").json()["service_code"] == "MIN-02"
        assert ET.fromstring(c.get(f"{BASE}/services/MIN-02.xml").content).tag == "service_definition"
        assert c.get(f"{BASE}/services.json", params={"api_key": "gise_wrong"}).status_code == 200  # not checked
        # the jurisdiction is still checked, and an unknown service is still not found
        assert error_of(c.get(f"{BASE}/services.json?jurisdiction_id=1"), 404).startswith("jurisdiction_id")
        assert error_of(c.get(f"{BASE}/services/MIN-02.json?jurisdiction_id=1"), 404).startswith("jurisdiction_id")
        assert error_of(c.get(f"{BASE}/services/NOPE.json"), 404).startswith("service_code")

        # requests stay keyed, read or filed, form or JSON
        before = incident_count(db)
        for r in (c.get(f"{BASE}/requests.json"), c.get(f"{BASE}/requests/{uuid.uuid4()}.json"),
                  c.get(f"{BASE}/tokens/{uuid.uuid4()}.json"), c.post(f"{BASE}/requests.json", data=form(site)),
                  c.post(f"{BASE}/requests.json", json=form(site))):
            assert error_of(r, 401).startswith("Authorization"), r.request.url
        assert incident_count(db) == before
        filed = c.post(f"{BASE}/requests.json", data=form(site, api_key=key, device_id="keyed-form"))
        assert filed.status_code == 201, filed.text
        filed_json = c.post(f"{BASE}/requests.json", params={"api_key": key}, json=form(site, device_id="keyed-json"))
        assert filed_json.status_code == 201, filed_json.text
        # a JSON client sends its key among the fields, as it would in the form
        in_body = c.post(f"{BASE}/requests.json", json=form(site, api_key=key, device_id="keyed-json-body"))
        assert in_body.status_code == 201, in_body.text
        assert error_of(c.post(f"{BASE}/requests.json", json=form(site, api_key="gise_wrong")), 401)
        mine = _ids(c.get(f"{BASE}/requests.json", params={"api_key": key}))
        assert {filed.json()[0]["service_request_id"], filed_json.json()[0]["service_request_id"],
                in_body.json()[0]["service_request_id"]} <= mine

    # the real georeport client, which sends no key: it discovers the services, and is refused the requests
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    with serving(app) as root:
        client = GeoReport(root, jurisdiction="110117")
        assert [s["service_code"] for s in client.get_service_list()] == list(catalog.categories)
        assert client.get_service_definition("TRK-01")["service_code"] == "TRK-01"
        xml_client = GeoReport(root, jurisdiction="110117", output_format="xml")
        assert [s["service_code"] for s in xml_client.get_service_list()] == list(catalog.categories)
        with pytest.raises(requests.HTTPError) as refused:
            client.get_service_requests(status="open")
        assert refused.value.response.status_code == 401
