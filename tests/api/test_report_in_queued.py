"""A report-in queued on a phone without signal and sent later (``fixed_at``): timed at its fix by the server's
clock less the wait the phone measured, on both report-in routes, on the test's rolled-back PostGIS session."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.storage import warning_repo
from tests.api import test_dispatch_api as dispatch_tests
from tests.api.test_dispatch_api import METRE, T0, Case, Clock, error, new_case

# the admin client on a clock the test moves, as the dispatch API tests use them
client, clock = dispatch_tests.client, dispatch_tests.clock


def _iso(at: datetime) -> str:
    return at.isoformat()


def _whistled(client: TestClient, jurisdiction: Jurisdiction) -> tuple[Case, list[dict[str, Any]]]:
    case = new_case(client, jurisdiction)
    r = client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township})
    assert r.status_code == 201, r.text
    return case, r.json()["assignments"]


def _queued(case: Case, *, fixed_at: datetime | None, device_time: datetime | None) -> dict[str, Any]:
    body: dict[str, Any] = {"lon": case.lon, "lat": case.lat + 30 * METRE, "accuracy_m": 12}
    if fixed_at is not None:
        body["fixed_at"] = _iso(fixed_at)
    if device_time is not None:
        body["device_time"] = _iso(device_time)
    return body


def _assignment(client: TestClient, case: Case, department: str) -> dict[str, Any]:
    found = [a for a in client.get(f"{case.url}/assignments").json()["data"] if a["department"] == department]
    assert len(found) == 1
    return found[0]


def test_a_queued_report_in_is_timed_at_its_fix_not_at_its_arrival(client: TestClient, jurisdiction: Jurisdiction,
                                                                    clock: Clock) -> None:
    case, assignments = _whistled(client, jurisdiction)
    lead = assignments[0]
    minutes = case.plan[0]["report_in_minutes"]
    arrival = T0 + timedelta(minutes=minutes + 10)  # arrival alone would be 10 minutes late
    clock.now = arrival
    # the phone's clock runs 7 minutes fast: only its interval (a 20-minute wait) is used
    sent = arrival + timedelta(minutes=7)
    r = client.post(f"{case.of(lead['department'])}/report-in",
                    json=_queued(case, fixed_at=sent - timedelta(minutes=20), device_time=sent))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["on_time"] is True and got["queued_s"] == 1200.0
    assert got["minutes_late"] == -10.0
    fix = T0 + timedelta(minutes=minutes - 10)
    assert got["assignment"]["reported_in_at"] == _iso(fix)
    assert got["assignment"]["on_time"] is True and got["assignment"]["minutes_late"] == -10.0
    event = [e for e in client.get(f"{case.url}/timeline").json()["events"] if e["kind"] == "report_in"]
    assert len(event) == 1
    assert event[0]["at"] == _iso(fix)
    payload = event[0]["payload"]
    assert payload["queued_s"] == 1200.0 and payload["received_at"] == _iso(arrival)
    assert payload["minutes_late"] == -10.0 and payload["on_time"] is True
    assert payload["device_skew_s"] == 420.0
    assert client.get(f"{case.url}/timeline").json()["intact"] is True

    # sent once: a second send of the same queued report-in is already recorded, and changes nothing
    err = error(client.post(f"{case.of(lead['department'])}/report-in",
                            json=_queued(case, fixed_at=sent - timedelta(minutes=20), device_time=sent)), 409)
    assert err["code"] == "already_recorded"
    assert _assignment(client, case, lead["department"])["reported_in_at"] == _iso(fix)


def test_the_route_by_assignment_id_takes_a_queued_report_in_and_a_direct_one_is_unchanged(
        client: TestClient, jurisdiction: Jurisdiction, clock: Clock) -> None:
    case, assignments = _whistled(client, jurisdiction)
    assert len(assignments) >= 2, "the plan has an assisting department"
    first, second = assignments[0], assignments[1]
    clock.now = T0 + timedelta(minutes=50)
    sent = datetime(2026, 5, 12, 23, 0, tzinfo=T0.tzinfo)  # a phone whose clock is nearly an hour slow
    r = client.post(f"/api/v1/assignments/{second['id']}/report-in",
                    json=_queued(case, fixed_at=sent - timedelta(minutes=35), device_time=sent))
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["queued_s"] == 2100.0
    assert got["assignment"]["reported_in_at"] == _iso(T0 + timedelta(minutes=15))
    second_minutes = next(p["report_in_minutes"] for p in case.plan if p["department"] == second["department"])
    assert got["minutes_late"] == 15.0 - second_minutes

    # sent at once: timed at arrival, no queue in the answer or the record
    r = client.post(f"/api/v1/assignments/{first['id']}/report-in",
                    json=_queued(case, fixed_at=None, device_time=clock.now))
    assert r.status_code == 200, r.text
    assert r.json()["queued_s"] is None
    assert r.json()["assignment"]["reported_in_at"] == _iso(clock.now)
    events = [e for e in client.get(f"{case.url}/timeline").json()["events"] if e["kind"] == "report_in"]
    direct = next(e for e in events if e["payload"]["department"] == first["department"])
    assert "queued_s" not in direct["payload"] and "received_at" not in direct["payload"]


def test_queued_report_ins_that_cannot_be_timed_honestly_are_refused_on_the_field(
        client: TestClient, jurisdiction: Jurisdiction, clock: Clock) -> None:
    case, assignments = _whistled(client, jurisdiction)
    lead = assignments[0]
    clock.now = T0 + timedelta(minutes=40)
    now = clock.now
    refused = [
        (_queued(case, fixed_at=now - timedelta(minutes=5), device_time=None), "device_time", "needs device_time"),
        (_queued(case, fixed_at=now + timedelta(minutes=1), device_time=now), "fixed_at", "after device_time"),
        (_queued(case, fixed_at=now - timedelta(hours=13), device_time=now), "fixed_at", "within 12 h"),
        (_queued(case, fixed_at=now - timedelta(minutes=45), device_time=now), "fixed_at",
         "cannot precede its whistle"),
        ({**_queued(case, fixed_at=None, device_time=now), "fixed_at": "2026-05-12T23:58:00"}, "fixed_at", None),
    ]
    for body, field, words in refused:
        for url in (f"{case.of(lead['department'])}/report-in", f"/api/v1/assignments/{lead['id']}/report-in"):
            err = error(client.post(url, json=body))
            assert err["field"] == field, (body, err)
            if words is not None:
                assert words in err["message"], err
    # nothing was written: the department is still summoned and can report in
    still = _assignment(client, case, lead["department"])
    assert still["status"] == "summoned" and still["reported_in_at"] is None
    assert not [e for e in client.get(f"{case.url}/timeline").json()["events"] if e["kind"] == "report_in"]


def test_a_no_show_warning_raised_while_the_report_in_waited_in_the_phone_is_withdrawn(
        client: TestClient, db: Session, catalog: Catalog, jurisdiction: Jurisdiction, clock: Clock) -> None:
    """W02 is raised at the server's clock when nothing had arrived; the queued report-in then shows the
    department there in time: the W02 is withdrawn (撤销) — kept in the record with when and why, no longer a
    no-show in the evaluation nor towards W07 — and a report-in that really came after the hour keeps its W02."""
    case, assignments = _whistled(client, jurisdiction)
    lead, assist = assignments[0], assignments[1]
    raised = tick(db, catalog=catalog, now=T0 + timedelta(minutes=70))
    assert {w["assignment_id"] for w in raised if w["rule_code"] == "W02"} >= {lead["id"], assist["id"]}
    clock.now = T0 + timedelta(minutes=80)
    r = client.post(f"/api/v1/assignments/{lead['id']}/report-in",
                    json=_queued(case, fixed_at=clock.now - timedelta(minutes=55), device_time=clock.now))
    assert r.status_code == 200, r.text
    assert r.json()["on_time"] is True and r.json()["assignment"]["reported_in_at"] == _iso(T0 + timedelta(minutes=25))
    events = client.get(f"{case.url}/timeline").json()["events"]
    kinds = [(e["kind"], e["payload"].get("rule")) for e in events]
    assert kinds.index(("warning", "W02")) < kinds.index(("report_in", None))
    report_in = next(e for e in events if e["kind"] == "report_in")
    assert report_in["payload"]["withdrawn"] == ["W02"]

    # listed as withdrawn, with when and why; the assist that never came keeps its W02
    listed = {w["assignment_id"]: w for w in client.get("/api/v1/warnings", params={"rule": "W02"}).json()["data"]}
    mine = listed[lead["id"]]
    assert mine["withdrawn_at"] == _iso(clock.now) and "未缺席" in mine["withdrawn_reason"]
    assert "无信号" in mine["withdrawn_reason"]
    assert listed[assist["id"]]["withdrawn_at"] is None
    # the next pass raises nothing more for it (not again, not W01: on time), and W07 does not count it
    assert not [w for w in tick(db, catalog=catalog, now=clock.now) if w["assignment_id"] == lead["id"]]
    counts = warning_repo.late_or_absent_counts(db)
    assert counts.loc[counts["department"] == lead["department"], "n"].sum() == 0
    # the evaluation reads an on-time attendance, not an absence
    evaluated = client.get("/api/v1/evaluation", params={"period": "2026-05"}).json()["data"]
    rows = {row["department"]: row for row in evaluated}
    assert rows[lead["department"]]["on_time"] == 1 and rows[lead["department"]]["absent"] == 0
    assert rows[lead["department"]]["warnings_W02"] == 0

    # a report-in that came after the hour (sent at once, or fixed then): its W02 stands
    clock.now = T0 + timedelta(minutes=90)
    r = client.post(f"/api/v1/assignments/{assist['id']}/report-in",
                    json=_queued(case, fixed_at=clock.now - timedelta(minutes=5), device_time=clock.now))
    assert r.status_code == 200, r.text
    assert "withdrawn" not in next(e for e in client.get(f"{case.url}/timeline").json()["events"]
                                   if e["kind"] == "report_in" and e["payload"]["department"] == assist["department"]
                                   )["payload"]
    listed = {w["assignment_id"]: w for w in client.get("/api/v1/warnings", params={"rule": "W02"}).json()["data"]}
    assert listed[assist["id"]]["withdrawn_at"] is None
