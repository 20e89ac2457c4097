"""The whistle chain through HTTP on the real PostGIS session of the test (rolled back after), server clock pinned."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session
from gis_enforcement.api.routers.dispatch import get_clock
from gis_enforcement.api.schemas_dispatch import AssignmentsPublic, TimelinePublic, WhistlePublic
from gis_enforcement.demo.photos import site_photo
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.datum import from_wgs84
from gis_enforcement.layers.jurisdiction import Jurisdiction
from tests.api.callers import as_admin

T0 = datetime(2026, 5, 12, 23, 40, tzinfo=ZoneInfo("Asia/Shanghai"))
METRE = 1 / 111_320  # degrees of latitude per metre, near enough


class Clock:
    """The server clock the routes read, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def client(platform: Platform, db: Session, clock: Clock) -> Iterator[TestClient]:
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_clock] = lambda: clock
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class Case:
    id: str
    lon: float
    lat: float
    township: str
    plan: list[dict[str, Any]]
    rule_code: str

    @property
    def url(self) -> str:
        return f"/api/v1/incidents/{self.id}"

    def of(self, department: str) -> str:
        return f"{self.url}/assignments/{department}"


def new_case(client: TestClient, jurisdiction: Jurisdiction, k: int = 20, category: str = "MIN-02") -> Case:
    v = jurisdiction.villages.iloc[k]
    x, y = v.geometry.x, v.geometry.y
    f = {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point", "coordinates": [x, y]},
         "properties": {"category": category, "observed_at": "2026-05-12T23:00:00+08:00", "accuracy_m": 8,
                        "reporter": "巡查队-张伟", "description": "河道内夜间采砂"}}
    r = client.post("/api/v1/incidents", json=f)
    assert r.status_code == 201, r.text
    props = r.json()["properties"]
    assert props["township_code"] == v["township_code"]
    return Case(f["id"], x, y, v["township_code"], props["plan"], props["rule_code"])


def error(r: Any, status: int = 422) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return r.json()["error"]  # type: ignore[no-any-return]


def status_of(client: TestClient, case: Case) -> str:
    return client.get(case.url).json()["properties"]["status"]  # type: ignore[no-any-return]


def test_whistle_to_close_through_http(client: TestClient, jurisdiction: Jurisdiction, catalog: Catalog,
                                       clock: Clock) -> None:
    case = new_case(client, jurisdiction)
    other = next(t for t in jurisdiction.townships["code"] if t != case.township)

    # the wrong township: refused on the whistler, nothing written
    err = error(client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": other}))
    assert err["field"] == "whistler" and other in err["message"]
    assert client.get(f"{case.url}/assignments").json()["count"] == 0
    assert status_of(client, case) == "reported"

    r = client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township,
                                                 "note": "镇吹哨：泃河河道夜间采砂"})
    assert r.status_code == 201, r.text
    w = WhistlePublic.model_validate(r.json())
    assert [(a.department, a.role) for a in w.assignments] == [(p["department"], p["role"]) for p in case.plan]
    assert r.json()["whistled_at"] == "2026-05-12T23:40:00+08:00" and not w.joint
    assert all(a.status == "summoned" and a.department_name for a in w.assignments)
    listed = AssignmentsPublic.model_validate(client.get(f"{case.url}/assignments").json())
    assert [a.id for a in listed.data] == [a.id for a in w.assignments]
    assert status_of(client, case) == "whistled"
    lead, *assists = [a.department for a in w.assignments]
    assert assists, "the plan has assisting departments"

    # 2 km away: refused on position, with the distance in the message
    clock.now = T0 + timedelta(minutes=20)
    err = error(client.post(f"{case.of(lead)}/report-in",
                            json={"lon": case.lon, "lat": case.lat + 2000 * METRE, "accuracy_m": 5}))
    assert err["field"] == "position" and err["detail"]["distance_m"] == pytest.approx(2000, abs=15)
    assert f"{err['detail']['distance_m']:,.0f} m from the case" in err["message"]

    r = client.post(f"{case.of(lead)}/report-in",
                    json={"lon": case.lon, "lat": case.lat + 100 * METRE, "accuracy_m": 5,
                          "device_time": "2026-05-13T00:01:00+08:00"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["on_time"] is True and got["distance_m"] == pytest.approx(100, abs=2)
    assert got["minutes_late"] == pytest.approx(20 - case.plan[0]["report_in_minutes"])
    assert got["assignment"]["status"] == "reported_in"
    assert got["assignment"]["reported_in_at"] == "2026-05-13T00:00:00+08:00"

    # GCJ-02 from a phone map SDK: converted to WGS84 before the geofence check
    gx, gy = from_wgs84(case.lon, case.lat, "gcj02")
    assert abs(gx - case.lon) + abs(gy - case.lat) > 100 * METRE  # the offset matters
    r = client.post(f"{case.of(assists[0])}/report-in", json={"lon": gx, "lat": gy, "accuracy_m": 10, "crs": "gcj02"})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["distance_m"] < 1 and got["submitted"]["crs"] == "gcj02"
    assert got["position"]["lon"] == pytest.approx(case.lon, abs=1e-7)
    assert got["position"]["lat"] == pytest.approx(case.lat, abs=1e-7)

    clock.now = T0 + timedelta(minutes=50)
    assert client.post(f"{case.of(lead)}/start").json()["status"] == "acting"
    assert status_of(client, case) == "in_action"
    measure = catalog.rule(case.rule_code).measures[0]
    action = {"action_type": "行政处罚", "officer": "执法员-王", "measures": [measure], "penalty_amount": 20000,
              "seized_items": "挖掘机1台", "lon": case.lon, "lat": case.lat}
    # a fine typed on an inspection is no penalty decision: refused, naming the kinds that carry one
    err = error(client.post(f"{case.of(lead)}/actions", json={**action, "action_type": "现场检查"}))
    assert (err["field"], err["detail"]["kind"], err["detail"]["penalty_kinds"]) == (
        "penalty_amount", "not_a_penalty", ["PENALTY"])
    # a record names photos uploaded to the case: one that is not is refused, naming it
    err = error(client.post(f"{case.of(lead)}/actions",
                            json={**action, "photos": [{"slot": "before", "sha256": "a" * 64}]}))
    assert err["field"] == "photos" and err["detail"]["missing"] == ["a" * 64]
    photo = site_photo(case.url, slot="before", taken_at=clock.now, lon=case.lon, lat=case.lat)
    up = client.post(f"{case.url}/photos", files={"file": ("site.jpg", photo)})
    assert up.status_code == 201, up.text
    r = client.post(f"{case.of(lead)}/actions",
                    json={**action, "photos": [{"slot": "before", "sha256": up.json()["sha256"]}]})
    assert r.status_code == 201, r.text
    assert r.json()["record_id"] > 0
    err = error(client.post(f"{case.of(lead)}/actions",
                            json={"action_type": "现场检查", "officer": "执法员-王", "measures": ["随便罚款"]}))
    assert err["field"] == "measures"

    clock.now = T0 + timedelta(hours=3)
    err = error(client.post(f"{case.url}/resolve", json={"department": lead, "summary": "已停采"}))
    assert err["field"] == "status"  # the lead's own part is not done yet
    assert client.post(f"{case.of(lead)}/complete").json()["status"] == "done"
    err = error(client.post(f"{case.url}/resolve", json={"department": assists[0], "summary": "已停采"}))
    assert err["field"] == "department"
    r = client.post(f"{case.url}/resolve", json={"department": lead, "summary": "已责令停采，机具已扣押"})
    assert r.status_code == 200 and r.json()["status"] == "resolved", r.text

    clock.now = T0 + timedelta(hours=5)
    r = client.post(f"{case.url}/verify", json={"township": case.township, "note": "现场核查已停采"})
    assert r.status_code == 200 and r.json()["status"] == "verified", r.text
    assert assists[0] in r.json()["pending"]
    out = [{"department": d, "role": "assist", "status": "reported_in" if d == assists[0] else "summoned"}
           for d in assists]
    assert r.json()["pending_departments"] == out  # the facts, for a page to word
    err = error(client.post(f"{case.url}/close", json={"township": case.township}))
    assert err["field"] == "status" and assists[0] in err["message"]
    assert err["detail"]["pending"] == out
    for dep in assists:
        r = client.post(f"{case.of(dep)}/release", json={"reason": "主责部门已处置完毕"})
        assert r.status_code == 200 and r.json()["status"] == "released", r.text
    r = client.post(f"{case.url}/close", json={"township": case.township})
    assert r.status_code == 200 and r.json() == {"incident_id": case.id, "status": "closed", "pending": None,
                                                 "pending_departments": None, "duplicate_of": None}

    # reopen needs a reason (missing or blank) and the case's own township
    assert error(client.post(f"{case.url}/reopen", json={"township": case.township}))["field"] == "reason"
    blank = {"township": case.township, "reason": "   "}
    assert error(client.post(f"{case.url}/reopen", json=blank))["field"] == "reason"
    assert error(client.post(f"{case.url}/reopen", json={"township": other, "reason": "复查"}))["field"] == "township"
    assert status_of(client, case) == "closed"

    r = client.get(f"{case.url}/timeline")
    assert r.status_code == 200, r.text
    timeline = TimelinePublic.model_validate(r.json())
    assert timeline.intact and timeline.problem is None and timeline.status == "closed"
    assert [e.seq for e in timeline.events] == list(range(1, timeline.count + 1))
    kinds = [e.kind for e in timeline.events]
    assert kinds[:2] == ["triage", "whistle"] and kinds[-1] == "close"
    for kind in ("report_in", "start_action", "enforcement_record", "complete", "resolve", "verify", "release"):
        assert kind in kinds, kind
    assert r.json()["events"][0]["at"] == "2026-05-12T23:40:00+08:00"


def test_reopened_case_goes_back_to_its_lead(client: TestClient, jurisdiction: Jurisdiction, catalog: Catalog,
                                             clock: Clock) -> None:
    """事不完、人不撤: a resolved case the township finds not fixed is reopened with a reason; the lead takes it
    back, records again (by assignment id, as the department desk does) and resolves anew."""
    case = new_case(client, jurisdiction, k=31)
    w = WhistlePublic.model_validate(client.post(f"{case.url}/whistle", json={
        "mode": "township", "whistler": case.township}).json())
    lead = w.assignments[0]
    clock.now = T0 + timedelta(minutes=20)
    assert client.post(f"/api/v1/assignments/{lead.id}/report-in",
                       json={"lon": case.lon, "lat": case.lat, "accuracy_m": 5}).status_code == 200
    assert client.post(f"{case.of(lead.department)}/start").status_code == 200
    assert client.post(f"{case.of(lead.department)}/complete").json()["status"] == "done"
    r = client.post(f"{case.url}/resolve", json={"department": lead.department, "summary": "已停采"})
    assert r.status_code == 200 and r.json()["status"] == "resolved", r.text

    clock.now = T0 + timedelta(hours=4)
    r = client.post(f"{case.url}/reopen", json={"township": case.township, "reason": "复查发现夜间仍有采砂"})
    assert r.status_code == 200 and r.json() == {"incident_id": case.id, "status": "reopened", "pending": None,
                                                 "pending_departments": None, "duplicate_of": None}
    assert error(client.post(f"{case.url}/resume", json={"department": w.assignments[1].department}))[
        "field"] == "department"  # only the lead takes it back
    r = client.post(f"{case.url}/resume", json={"department": lead.department})
    assert r.status_code == 200 and r.json()["status"] == "in_action", r.text
    measure = catalog.rule(case.rule_code).measures[0]
    r = client.post(f"/api/v1/assignments/{lead.id}/actions", json={
        "action_type": "现场检查", "officer": "执法员-李", "measures": [measure], "lon": case.lon, "lat": case.lat})
    assert r.status_code == 201 and r.json()["record_id"] > 0, r.text
    assert client.post(f"{case.of(lead.department)}/complete").json()["status"] == "done"
    r = client.post(f"{case.url}/resolve", json={"department": lead.department, "summary": "机具已没收，河道已回填"})
    assert r.status_code == 200 and r.json()["status"] == "resolved", r.text
    kinds = [e["kind"] for e in client.get(f"{case.url}/timeline").json()["events"]]
    assert kinds.count("resolve") == 2 and "reopen" in kinds and "resume" in kinds


def test_the_leads_due_after_a_reopening_is_moved_wherever_the_api_gives_it(
        client: TestClient, jurisdiction: Jurisdiction, clock: Clock) -> None:
    """The console counts down to the due the API gives: after a reopening it is moved on by the time the case
    waited resolved (as W05 counts it), in the case's list, the console's list and the assignment by id."""
    case = new_case(client, jurisdiction, k=33)
    w = WhistlePublic.model_validate(client.post(f"{case.url}/whistle", json={
        "mode": "township", "whistler": case.township}).json())
    lead, assist = w.assignments[0], w.assignments[1]
    assert lead.resolution_due is not None

    def dues(department: str, assignment_id: int) -> list[datetime]:
        of_case = next(a for a in client.get(f"{case.url}/assignments").json()["data"]
                       if a["department"] == department)
        listed = next(a for a in client.get("/api/v1/assignments", params={"limit": 1000}).json()["data"]
                      if a["id"] == assignment_id)
        by_id = client.get(f"/api/v1/assignments/{assignment_id}").json()
        return [datetime.fromisoformat(a["resolution_due"]) for a in (of_case, listed, by_id)]

    clock.now = T0 + timedelta(minutes=20)
    assert client.post(f"/api/v1/assignments/{lead.id}/report-in",
                       json={"lon": case.lon, "lat": case.lat, "accuracy_m": 5}).status_code == 200
    assert client.post(f"{case.of(lead.department)}/start").status_code == 200
    assert client.post(f"{case.of(lead.department)}/complete").status_code == 200
    clock.now = T0 + timedelta(hours=1)
    r = client.post(f"{case.url}/resolve", json={"department": lead.department, "summary": "已停采"})
    assert r.status_code == 200, r.text
    assert dues(lead.department, lead.id) == [lead.resolution_due] * 3
    clock.now = T0 + timedelta(hours=31)  # the township reopens it 30 hours after the resolution
    assert client.post(f"{case.url}/reopen", json={"township": case.township, "reason": "复查发现夜间仍有采砂"}
                       ).status_code == 200
    assert client.post(f"{case.url}/resume", json={"department": lead.department}).status_code == 200
    assert dues(lead.department, lead.id) == [lead.resolution_due + timedelta(hours=30)] * 3
    assert dues(assist.department, assist.id) == [assist.resolution_due] * 3  # W05 is the lead's


def test_an_action_is_of_a_kind_in_the_lists(client: TestClient, jurisdiction: Jurisdiction, catalog: Catalog,
                                             clock: Clock) -> None:
    """A record's action_type is a kind of the lists, by code or Chinese name, stored as the code; free text is
    422 on action_type naming the accepted kinds, and nothing is recorded."""
    case, lead = _acting_lead(client, jurisdiction, clock)
    events = _timeline(client, case)
    for given in ("fine", "penalty", "罚款", "复查", "现场检查，责令停产整治"):
        err = error(client.post(f"{case.of(lead)}/actions", json={"action_type": given, "officer": "李明"}))
        assert err["field"] == "action_type", given
        assert [k["code"] for k in err["detail"]["accepted"]] == list(catalog.action_kinds)
        assert "现场检查" in err["message"] and "INSPECT" in err["message"]
    assert _timeline(client, case) == events
    for given in ("责令改正", "SEIZE"):
        r = client.post(f"{case.of(lead)}/actions", json={"action_type": given, "officer": "李明"})
        assert r.status_code == 201, r.text
    recorded = [e["payload"]["action_type"] for e in _timeline(client, case) if e["kind"] == "enforcement_record"]
    assert recorded == ["ORDER", "SEIZE"]


def test_the_legal_basis_is_offered_before_a_record_and_shown_after_it(
        client: TestClient, jurisdiction: Jurisdiction, catalog: Catalog, clock: Clock) -> None:
    """The officer sees the law and article the record will cite (the categories list) and, once recorded, the
    ones it did cite (the record's event on the case's timeline) — the same, each once."""
    case, lead = _acting_lead(client, jurisdiction, clock)
    category = client.get(case.url).json()["properties"]["category"]
    listed = next(c for c in client.get("/api/v1/catalog/categories").json()["data"] if c["code"] == category)
    cited = [(b.law, b.article) for r in catalog.rules if r.category == category for b in r.legal_basis]
    assert cited and [(b["law"], b["article"]) for b in listed["legal_basis"]] == list(dict.fromkeys(cited))
    r = client.post(f"{case.of(lead)}/actions", json={"action_type": "INSPECT", "officer": "李明"})
    assert r.status_code == 201, r.text
    record = next(e for e in _timeline(client, case) if e["kind"] == "enforcement_record")
    assert record["payload"]["legal_basis"] == listed["legal_basis"]


def test_the_kinds_of_action_are_offered_and_described(client: TestClient, catalog: Catalog) -> None:
    lists = client.get("/api/v1/catalog/categories").json()
    assert [(k["code"], k["zh"]) for k in lists["action_kinds"]] == [
        (k.code, k.zh) for k in catalog.action_kinds.values()]
    assert all(k["en"] for k in lists["action_kinds"])
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ActionCreate"]["properties"]
    described = schema["action_type"]["description"]
    # the description names every kind of the shipped lists, by code and Chinese name
    assert all(f"{k.code} {k.zh}" in described for k in catalog.action_kinds.values())


def test_listed_lead_declines_only_on_a_ground(client: TestClient, jurisdiction: Jurisdiction) -> None:
    case = new_case(client, jurisdiction, k=12)
    r = client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township})
    assert r.status_code == 201, r.text
    lead = r.json()["assignments"][0]["department"]

    err = error(client.post(f"{case.of(lead)}/decline", json={"reason": "不归我局管"}))
    assert err["field"] == "ground" and err["detail"]["warning_rule"] == "W06"
    assert client.get(f"{case.url}/assignments").json()["data"][0]["status"] == "summoned"
    assert error(client.post(f"{case.of(lead)}/decline", json={"reason": "x", "ground": "bad"}))["field"] == "ground"

    grounded = {"reason": "点位在河道管理范围外", "ground": "outside_jurisdiction"}
    r = client.post(f"{case.of(lead)}/decline", json=grounded)
    assert r.status_code == 200 and r.json()["status"] == "declined", r.text
    assert error(client.post(f"{case.of(lead)}/overrule", json={"reason": ""}))["field"] == "reason"
    r = client.post(f"{case.of(lead)}/overrule", json={"reason": "经核查属水务职责，退单无效、维持主责"})
    assert r.status_code == 200 and r.json()["status"] == "summoned" and r.json()["role"] == "lead"
    assert error(client.post(f"{case.of('NOPE')}/start"), 404)["field"] == "department"


def test_joint_and_lead_department_whistles(client: TestClient, jurisdiction: Jurisdiction) -> None:
    a = new_case(client, jurisdiction, k=20)
    villages = jurisdiction.villages
    k = next(i for i in range(len(villages)) if i != 20 and villages.iloc[i]["township_code"] == a.township)
    b = new_case(client, jurisdiction, k=k)
    lead_a = a.plan[0]["department"]
    err = error(client.post(f"{a.url}/whistle", json={"mode": "township", "whistler": a.township,
                                                      "only_departments": ["ECON"]}))
    assert err["field"] == "only_departments" and "ECON" in err["message"]
    r = client.post(f"{a.url}/whistle", json={"mode": "township", "whistler": a.township,
                                              "only_departments": [lead_a], "incident_ids": [b.id]})
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["joint"] is True and set(w["incident_ids"]) == {a.id, b.id}
    assert sorted((x["incident_id"], x["department"]) for x in w["assignments"]) == sorted(
        [(a.id, lead_a), (b.id, lead_a)])
    assert status_of(client, b) == "whistled"

    assist = next(p["department"] for p in a.plan if p["role"] == "assist")
    err = error(client.post(f"{a.url}/whistle", json={"mode": "lead_department", "whistler": assist,
                                                      "add_departments": [assist]}))
    assert err["field"] == "whistler"
    r = client.post(f"{a.url}/whistle", json={"mode": "lead_department", "whistler": lead_a,
                                              "add_departments": [assist]})
    assert r.status_code == 201, r.text
    assert [(x["department"], x["role"]) for x in r.json()["assignments"]] == [(assist, "assist")]
    err = error(client.post(f"{a.url}/whistle", json={"mode": "township", "whistler": a.township,
                                                      "add_departments": ["NOPE"]}))
    assert err["field"] == "add_departments"


def test_unknown_incident_is_404(client: TestClient) -> None:
    url = f"/api/v1/incidents/{uuid.uuid4()}"
    for method, path, body in [
        ("post", "/whistle", {"mode": "township", "whistler": "110117002"}),
        ("get", "/assignments", None),
        ("get", "/timeline", None),
        ("post", "/assignments/WATER/report-in", {"lon": 117.1, "lat": 40.1}),
        ("post", "/assignments/WATER/start", None),
        ("post", "/resolve", {"department": "WATER", "summary": "已处置"}),
        ("post", "/verify", {"township": "110117002"}),
        ("post", "/reopen", {"township": "110117002", "reason": "复查"}),
    ]:
        r = client.request(method, url + path, json=body)
        assert error(r, 404)["field"] in ("incident_id", "incident_ids"), (path, r.text)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/whistle", b"{", None),
        ("/whistle", b"[]", "body"),
        ("/whistle", b'{"mode": "nope", "whistler": "110117002"}', "mode"),
        ("/whistle", b'{"mode": "township"}', "whistler"),
        ("/whistle", b'{"mode": "township", "whistler": "x", "only_departmnts": []}', "only_departmnts"),
        ("/whistle", b'{"mode": "township", "whistler": "x", "incident_ids": ["123"]}', "incident_ids.0"),
        ("/assignments/WATER/report-in", b'{"lon": "east", "lat": 40}', "lon"),
        ("/assignments/WATER/report-in", b'{"lon": 117.1, "lat": NaN}', "lat"),
        ("/assignments/WATER/report-in", b'{"lon": 117.1, "lat": 91}', "lat"),
        ("/assignments/WATER/report-in", b'{"lon": 117.1, "lat": 40.1, "crs": "utm"}', "crs"),
        ("/assignments/WATER/report-in", b'{"lon": 117.1, "lat": 40.1, "accuracy_m": -1}', "accuracy_m"),
        ("/assignments/WATER/report-in", b'{"lon": 117.1, "lat": 40.1, "device_time": "2026-05-12T23:40"}',
         "device_time"),
        ("/assignments/WATER/decline", b'{"ground": "wrong_category"}', "reason"),
        ("/assignments/WATER/actions", b'{"action_type": "a", "officer": "o", "lon": 117.1}', "body"),
        ("/assignments/WATER/actions", b'{"action_type": "a", "officer": "o", "photos": [{"slot": "x"}]}',
         "photos.0.slot"),
        ("/resolve", b'{"department": "WATER"}', "summary"),
        ("/close", b"null", "body"),
    ],
)
def test_malformed_bodies_are_422_never_500(client: TestClient, jurisdiction: Jurisdiction, path: str,
                                            body: bytes, field: str | None) -> None:
    case = new_case(client, jurisdiction)
    r = client.post(case.url + path, content=body, headers={"content-type": "application/json"})
    err = error(r)
    if field is not None:
        assert err["field"] == field, err
    assert status_of(client, case) == "reported"


def test_bad_path_values_are_422(client: TestClient) -> None:
    assert error(client.post("/api/v1/incidents/not-a-uuid/whistle",
                             json={"mode": "township", "whistler": "x"}))["field"] == "incident_id"
    assert error(client.get("/api/v1/incidents/123/timeline"))["field"] == "incident_id"


def test_openapi_names_the_dispatch_operations(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ops = {op["operationId"] for item in spec["paths"].values() for op in item.values()}
    assert {"whistle_incident", "list_assignments", "report_in", "start_action", "complete_assignment",
            "decline_assignment", "overrule_decline", "release_assignment", "record_action", "resolve_incident",
            "verify_incident", "close_incident", "reopen_incident", "get_timeline"} <= ops
    whistle = spec["components"]["schemas"]["WhistleCreate"]
    assert whistle["additionalProperties"] is False and "吹哨" in whistle["examples"][0]["note"]


def _acting_lead(client: TestClient, jurisdiction: Jurisdiction, clock: Clock) -> tuple[Case, str]:
    case = new_case(client, jurisdiction)
    r = client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township})
    assert r.status_code == 201, r.text
    lead = r.json()["assignments"][0]["department"]
    clock.now = T0 + timedelta(minutes=10)
    r = client.post(f"{case.of(lead)}/report-in", json={"lon": case.lon, "lat": case.lat, "accuracy_m": 5})
    assert r.status_code == 200, r.text
    assert client.post(f"{case.of(lead)}/start").status_code == 200
    return case, lead


def _timeline(client: TestClient, case: Case) -> list[dict[str, Any]]:
    return client.get(f"{case.url}/timeline").json()["events"]  # type: ignore[no-any-return]


def test_a_fine_the_record_cannot_hold_is_422_not_500(client: TestClient, jurisdiction: Jurisdiction,
                                                      clock: Clock) -> None:
    case, lead = _acting_lead(client, jurisdiction, clock)
    events = _timeline(client, case)
    for amount in ("1e30", "1000000000000", "-5", "Infinity", "NaN"):  # as sent: JSON has no NaN of its own
        body = '{"action_type": "行政处罚", "officer": "李明", "penalty_amount": ' + amount + "}"
        r = client.post(f"{case.of(lead)}/actions", headers={"content-type": "application/json"},
                        content=body.encode())
        assert error(r)["field"] == "penalty_amount", amount
    assert _timeline(client, case) == events
    r = client.post(f"{case.of(lead)}/actions", json={"action_type": "行政处罚", "officer": "李明",
                                                       "penalty_amount": 999_999_999_999.99})
    assert r.status_code == 201, r.text


def test_an_action_dated_in_the_future_is_422(client: TestClient, jurisdiction: Jurisdiction, clock: Clock) -> None:
    case, lead = _acting_lead(client, jurisdiction, clock)
    events = _timeline(client, case)
    for acted_at in ("2030-01-01T00:00:00+08:00", (clock.now + timedelta(minutes=11)).isoformat()):
        err = error(client.post(f"{case.of(lead)}/actions", json={
            "action_type": "现场检查", "officer": "李明", "acted_at": acted_at}))
        assert err["field"] == "acted_at" and "future" in err["message"]
    assert _timeline(client, case) == events
    earlier = (clock.now - timedelta(minutes=5)).isoformat()
    r = client.post(f"{case.of(lead)}/actions", json={"action_type": "现场检查", "officer": "李明",
                                                       "acted_at": earlier})
    assert r.status_code == 201, r.text
    assert _timeline(client, case)[-1]["at"] == earlier


def test_a_second_whistle_with_nobody_new_is_409(client: TestClient, jurisdiction: Jurisdiction) -> None:
    case = new_case(client, jurisdiction)
    body = {"mode": "township", "whistler": case.township}
    assert client.post(f"{case.url}/whistle", json=body).status_code == 201
    events = _timeline(client, case)
    err = error(client.post(f"{case.url}/whistle", json=body), 409)
    assert err["field"] == "incident_id" and "already summoned" in err["message"]
    assert err["detail"]["already_summoned"] == [{"incident_id": case.id, "department": p["department"]}
                                                 for p in case.plan]
    assert _timeline(client, case) == events  # no empty whistle event
    assert status_of(client, case) == "whistled"

    # a joint whistle still whistles the cases that have somebody new to summon
    villages = jurisdiction.villages
    k = next(i for i in range(len(villages)) if i != 20 and villages.iloc[i]["township_code"] == case.township)
    other = new_case(client, jurisdiction, k=k)
    r = client.post(f"{case.url}/whistle", json={**body, "incident_ids": [other.id]})
    assert r.status_code == 201, r.text
    w = r.json()
    assert w["incident_ids"] == [other.id] and w["joint"] is False
    assert {a["incident_id"] for a in w["assignments"]} == {other.id}
    assert {x["incident_id"] for x in w["already_summoned"]} == {case.id}
    assert _timeline(client, case) == events
    err = error(client.post(f"{other.url}/whistle", json={**body, "incident_ids": [case.id]}), 409)
    assert err["field"] == "incident_ids"


def test_acting_on_an_assignment_the_case_does_not_have_is_404(platform: Platform, db: Session,
                                                               jurisdiction: Jurisdiction, catalog: Catalog) -> None:
    from gis_enforcement.domain.access import Caller, Role
    from tests.api.callers import SwitchedClient, switched_client

    with switched_client(platform, db, T0, SwitchedClient) as api:
        admin = api.caller
        v = jurisdiction.villages.iloc[20]
        f = {"type": "Feature", "id": str(uuid.uuid4()),
             "geometry": {"type": "Point", "coordinates": [v.geometry.x, v.geometry.y]},
             "properties": {"category": "MIN-02", "observed_at": "2026-05-12T23:00:00+08:00", "accuracy_m": 8}}
        assert api.call("POST", "/api/v1/incidents", admin, json=f).status_code == 201
        url = f"/api/v1/incidents/{f['id']}"
        r = api.call("POST", f"{url}/whistle", admin, json={"mode": "township", "whistler": v["township_code"]})
        assert r.status_code == 201, r.text
        lead, assist = (a["department"] for a in r.json()["assignments"][:2])
        officer = Caller("o", Role.DEPARTMENT_OFFICER, "department", lead)
        here = {"lon": v.geometry.x, "lat": v.geometry.y}
        for who in (officer, admin):
            err = error(api.call("POST", f"{url}/assignments/NOPE/report-in", who, json=here), 404)
            assert err["field"] == "department" and "no assignment of NOPE" in err["message"]
        # a real assignment of another department stays 403
        err = error(api.call("POST", f"{url}/assignments/{assist}/report-in", officer, json=here), 403)
        assert err["field"] == "department"
        r = api.call("POST", f"{url}/assignments/{lead}/report-in", officer, json=here)
        assert r.status_code == 200, r.text


def test_the_timeline_answers_the_deadlines_in_its_payloads_in_district_time(
        client: TestClient, jurisdiction: Jurisdiction, clock: Clock) -> None:
    """The record keeps its payload times in UTC (the hashes cover them so); the API answers them, as every
    other time, in the district's zone."""
    case = new_case(client, jurisdiction)
    assert client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township}).status_code == 201
    events = client.get(f"{case.url}/timeline").json()["events"]
    summoned = next(e for e in events if e["kind"] == "whistle")["payload"]["summoned"]
    first = summoned[0]
    due = T0 + timedelta(minutes=case.plan[0]["report_in_minutes"])
    assert first["report_in_due"] == due.isoformat()  # e.g. 2026-05-13T00:10:00+08:00
    assert all(s["report_in_due"].endswith("+08:00") for s in summoned)
    assert all(s["resolution_due"] is None or s["resolution_due"].endswith("+08:00") for s in summoned)
    assert not any("+00:00" in str(e["payload"]) for e in events)


def test_a_second_report_in_is_already_recorded_with_when_and_whether_on_time(
        client: TestClient, jurisdiction: Jurisdiction, clock: Clock) -> None:
    case = new_case(client, jurisdiction)
    w = client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township}).json()
    lead = w["assignments"][0]
    clock.now = T0 + timedelta(minutes=5)
    at = {"lon": case.lon, "lat": case.lat, "accuracy_m": 5}
    assert client.post(f"/api/v1/assignments/{lead['id']}/report-in", json=at).status_code == 200
    clock.now = T0 + timedelta(minutes=15)
    err = error(client.post(f"/api/v1/assignments/{lead['id']}/report-in", json=at), 409)
    assert err["code"] == "already_recorded" and err["field"] == "status"
    assert "already reported in" in err["message"] and "2026-05-12T23:45:00+08:00" in err["message"]
    assert "on time" in err["message"] and "release" not in err["message"]
    assert err["detail"]["reported_in_at"] == "2026-05-12T23:45:00+08:00" and err["detail"]["on_time"] is True
    # a move that is not open: the department is told its own moves, not the township's
    err = error(client.post(f"{case.of(lead['department'])}/complete"))
    assert "the department may: start_action" in err["message"] and "release" not in err["message"]


def test_the_township_marks_a_duplicate_declines_and_takes_back(client: TestClient, jurisdiction: Jurisdiction,
                                                                 clock: Clock) -> None:
    """标记重复 / 不予受理 / 恢复受理: the states exist in the flow; the routes let the township use them."""
    first = new_case(client, jurisdiction, k=27)
    again = new_case(client, jurisdiction, k=27)
    other = next(t for t in jurisdiction.townships["code"] if t != again.township)
    likely = client.get(again.url).json()["properties"]["likely_duplicate_of"]
    assert likely == first.id

    err = error(client.post(f"{again.url}/mark-duplicate", json={"township": other}))
    assert err["field"] == "township"
    err = error(client.post(f"{again.url}/mark-duplicate", json={"township": again.township, "duplicate_of": again.id}))
    assert err["field"] == "duplicate_of"
    err = error(client.post(f"{again.url}/mark-duplicate", json={"township": again.township, "duplicate_of": "x"}))
    assert err["field"] == "duplicate_of"
    assert status_of(client, again) == "reported"
    r = client.post(f"{again.url}/mark-duplicate", json={"township": again.township})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "duplicate" and r.json()["duplicate_of"] == first.id
    assert status_of(client, again) == "duplicate"
    err = error(client.post(f"{again.url}/whistle", json={"mode": "township", "whistler": again.township}))
    assert err["field"] == "status"  # a duplicate is not whistled

    assert error(client.post(f"{again.url}/reinstate", json={"township": again.township}))["field"] == "reason"
    r = client.post(f"{again.url}/reinstate", json={"township": again.township, "reason": "不是同一处采砂点"})
    assert r.status_code == 200 and r.json()["status"] == "triaged", r.text
    err = error(client.post(f"{again.url}/reject", json={"township": again.township, "reason": " "}))
    assert err["field"] == "reason"
    r = client.post(f"{again.url}/reject", json={"township": again.township, "reason": "现场为合法施工"})
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    kinds = [(e["kind"], e["payload"].get("reason")) for e in client.get(f"{again.url}/timeline").json()["events"]]
    assert kinds == [("mark_duplicate", None), ("reinstate", "不是同一处采砂点"), ("reject", "现场为合法施工")]

    for path, body in (("/mark-duplicate", {"township": "x"}), ("/reject", {"township": "x", "reason": "r"}),
                       ("/reinstate", {"township": "x", "reason": "r"})):
        r = client.post(f"/api/v1/incidents/{uuid.uuid4()}{path}", json=body)
        assert error(r, 404)["field"] == "incident_id", path
