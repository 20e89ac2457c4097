"""Assignments by id, township ratings, the event stream (JSON and Server-Sent Events) and webhooks over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session, get_transactions
from gis_enforcement.api.routers.dispatch import get_clock
from gis_enforcement.layers.jurisdiction import Jurisdiction
from tests.api.callers import as_admin
from tests.api.test_dispatch_api import METRE, T0, Clock, error, new_case


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def client(platform: Platform, db: Session, clock: Clock) -> Iterator[TestClient]:
    @contextmanager
    def transaction() -> Iterator[Session]:
        yield db

    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_clock] = lambda: clock
    app.dependency_overrides[get_transactions] = lambda: transaction
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _whistled(client: TestClient, jurisdiction: Jurisdiction):
    case = new_case(client, jurisdiction)
    r = client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township})
    assert r.status_code == 201, r.text
    return case, r.json()["assignments"]


def test_assignment_by_id_report_in_and_rating(client: TestClient, jurisdiction: Jurisdiction,
                                               clock: Clock) -> None:
    case, assignments = _whistled(client, jurisdiction)
    lead = assignments[0]
    got = client.get(f"/api/v1/assignments/{lead['id']}")
    assert got.status_code == 200 and got.json()["department"] == lead["department"]
    assert error(client.get("/api/v1/assignments/999999999"), 404)["field"] == "assignment_id"

    err = error(client.post(f"/api/v1/assignments/{lead['id']}/rating",
                            json={"township": case.township, "timeliness": 5, "adequacy": 5}))
    assert err["field"] == "status"  # not reported in, deadline ahead
    clock.now = T0 + timedelta(minutes=10)
    r = client.post(f"/api/v1/assignments/{lead['id']}/report-in",
                    json={"lon": case.lon, "lat": case.lat + 50 * METRE, "accuracy_m": 5})
    assert r.status_code == 200, r.text
    assert r.json()["on_time"] is True and r.json()["assignment"]["id"] == lead["id"]

    body = {"township": case.township, "timeliness": 5, "adequacy": 4, "comment": "到场及时"}
    r = client.post(f"/api/v1/assignments/{lead['id']}/rating", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["new"] is True and r.json()["rated_by"] == case.township
    assert client.post(f"/api/v1/assignments/{lead['id']}/rating", json=body).json()["new"] is False
    assert error(client.post(f"/api/v1/assignments/{lead['id']}/rating", json={**body, "adequacy": 1}),
                 409)["code"] == "already_recorded"
    assert error(client.post(f"/api/v1/assignments/{lead['id']}/rating",
                             json={**body, "timeliness": 0}))["field"] == "timeliness"
    kinds = [e["kind"] for e in client.get(f"{case.url}/timeline").json()["events"]]
    assert kinds[-1] == "rating"

    assist = assignments[1]
    r = client.post(f"/api/v1/assignments/{assist['id']}/decline", json={"reason": "不属我局职责"})
    assert r.status_code == 200 and r.json()["status"] == "declined", r.text


def test_events_page_and_stream(client: TestClient, jurisdiction: Jurisdiction, clock: Clock) -> None:
    start = client.get("/api/v1/events", params={"after": 0, "limit": 1000}).json()["next_after"]
    case, assignments = _whistled(client, jurisdiction)
    clock.now = T0 + timedelta(minutes=10)
    client.post(f"{case.of(assignments[0]['department'])}/report-in",
                json={"lon": case.lon, "lat": case.lat, "accuracy_m": 5})
    # earlier tests' rolled-back numbers leave holes; the stream waits out fresh ones (5 s) before passing them
    page: dict = {"data": []}
    for _ in range(30):
        page = client.get("/api/v1/events", params={"after": start, "township": case.township}).json()
        if len(page["data"]) == 3:
            break
        time.sleep(0.25)
    assert [e["kind"] for e in page["data"]] == ["triage", "whistle", "report_in"]
    assert {e["incident_id"] for e in page["data"]} == {case.id}
    assert client.get("/api/v1/events", params={"after": start, "kind": "report_in"}).json()["data"][0][
        "payload"]["department"] == assignments[0]["department"]
    assert error(client.get("/api/v1/events", params={"limit": 0}))["field"] == "limit"
    # times in the district's zone, as every other answer of the API, the deadlines inside payloads too
    for e in page["data"]:
        assert e["at"].endswith("+08:00") and e["recorded_at"].endswith("+08:00"), e
    due = page["data"][1]["payload"]["summoned"][0]["report_in_due"]
    assert due.endswith("+08:00") and due.startswith(assignments[0]["report_in_due"][:16]), (due, assignments[0])

    whistle_id = page["data"][1]["id"]
    with client.stream("GET", "/api/v1/events/stream", params={"timeout": 1.5},
                       headers={"Last-Event-ID": str(whistle_id)}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    assert f"id: {page['data'][2]['id']}\nevent: report_in\ndata: {{" in text
    assert "event: whistle" not in text  # resumed after the whistle
    data = json.loads(text.split("event: report_in\ndata: ", 1)[1].split("\n", 1)[0])
    assert data["at"] == page["data"][2]["at"] and data["at"].endswith("+08:00")
    assert error(client.get("/api/v1/events/stream", headers={"Last-Event-ID": "x"}))["field"] == "Last-Event-ID"


def test_webhooks_over_http(client: TestClient, jurisdiction: Jurisdiction) -> None:
    bad = error(client.post("/api/v1/webhooks", json={"url": "file:///etc/passwd", "secret": "x" * 20}))
    assert bad["field"] == "url"
    assert error(client.post("/api/v1/webhooks", json={"url": "https://a.example/h", "secret": "short"}))[
        "field"] == "secret"
    r = client.post("/api/v1/webhooks", json={"url": "https://a.example/h", "secret": "x" * 20,
                                              "kinds": ["whistle"]})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    _whistled(client, jurisdiction)
    listed = {w["id"]: w for w in client.get("/api/v1/webhooks").json()["data"]}
    assert listed[sid]["pending"] == 1 and listed[sid]["delivered"] == 0
    assert "secret" not in listed[sid]
    assert client.post(f"/api/v1/webhooks/{sid}/pause").json()["active"] is False
    assert error(client.post(f"/api/v1/webhooks/{sid}/stop"))["field"] == "action"
    assert error(client.post("/api/v1/webhooks/999999/resume"), 404)["field"] == "subscription_id"


def test_webhook_kinds_and_township_are_checked(client: TestClient, jurisdiction: Jurisdiction) -> None:
    hook = {"url": "https://a.example/h", "secret": "x" * 20}
    bad = error(client.post("/api/v1/webhooks", json={**hook, "kinds": ["whistle", "bogus"]}))
    assert bad["field"] == "kinds" and "'bogus'" in bad["message"] and "report_in" in bad["message"]
    bad = error(client.post("/api/v1/webhooks", json={**hook, "township": "999"}))
    assert bad["field"] == "township" and "'999'" in bad["message"]
    town = str(jurisdiction.townships.iloc[0]["code"])
    r = client.post("/api/v1/webhooks", json={**hook, "kinds": ["report_in", "warning"], "township": town})
    assert r.status_code == 201, r.text
    assert r.json()["kinds"] == ["report_in", "warning"] and r.json()["township"] == town


def test_a_removed_webhook_is_gone_with_its_pending_deliveries(client: TestClient, db: Session,
                                                               jurisdiction: Jurisdiction) -> None:
    from sqlalchemy import text

    hook = {"url": "https://a.example/h", "secret": "x" * 20}
    kept = client.post("/api/v1/webhooks", json=hook).json()["id"]
    sid = client.post("/api/v1/webhooks", json=hook).json()["id"]
    _whistled(client, jurisdiction)

    def deliveries(subscription: int) -> int:
        return int(db.execute(text("SELECT count(*) FROM webhook_delivery WHERE subscription_id = :s"),
                              {"s": subscription}).scalar_one())

    assert deliveries(sid) > 0
    r = client.delete(f"/api/v1/webhooks/{sid}")
    assert r.status_code == 204 and r.content == b""
    assert sid not in {w["id"] for w in client.get("/api/v1/webhooks").json()["data"]}
    assert deliveries(sid) == 0 and deliveries(kept) > 0  # the other receiver keeps its own
    assert error(client.delete(f"/api/v1/webhooks/{sid}"), 404)["field"] == "subscription_id"


def test_an_unknown_event_kind_is_refused_by_name(client: TestClient) -> None:
    for path in ("/api/v1/events", "/api/v1/events/stream"):
        r = client.get(path, params={"kind": ["whistle", "bogus"], "timeout": 1})
        assert r.status_code == 422 and r.json()["error"]["field"] == "kind", r.text
        assert "'bogus'" in r.json()["error"]["message"] and "report_in" in r.json()["error"]["message"]
    assert client.get("/api/v1/events", params={"kind": "whistle"}).status_code == 200


def test_a_township_or_department_that_names_nothing_is_refused(client: TestClient,
                                                                jurisdiction: Jurisdiction) -> None:
    for path in ("/api/v1/events", "/api/v1/events/stream"):
        for params, field in (({"township": "110117999"}, "township"), ({"department": "NOBODY"}, "department")):
            r = client.get(path, params={**params, "timeout": 1})
            assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
            assert repr(params[field]) in r.json()["error"]["message"]
    town = str(jurisdiction.townships.iloc[0]["code"])
    assert client.get("/api/v1/events", params={"township": town, "department": "WATER"}).status_code == 200
