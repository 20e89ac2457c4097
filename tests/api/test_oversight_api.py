"""GET /api/v1/warnings and the follow-up endpoints, on the test's rolled-back PostGIS session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session
from gis_enforcement.api.routers.dispatch import get_clock
from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.api.callers import as_admin
from tests.dispatch.helpers import TZ, new_case

NOW = datetime(2026, 9, 23, 10, 0, tzinfo=TZ)


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_clock] = lambda: (lambda: NOW + timedelta(hours=1))
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_warnings_and_follow_ups(client: TestClient, db: Session, locator: Locator, catalog: Catalog,
                                 jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[12]
    x, y, township = v.geometry.x, v.geometry.y, v["township_code"]
    inc = new_case(db, locator, catalog, x, y)
    whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=township, at=NOW)
    raised = tick(db, catalog=catalog, now=NOW + timedelta(minutes=70))
    r = client.get("/api/v1/warnings", params={"rule": "W02"})
    assert r.status_code == 200 and r.json()["count"] == sum(w["rule_code"] == "W02" for w in raised) > 0
    assert r.json()["data"][0]["raised_at"].endswith("+08:00")
    assert client.get("/api/v1/warnings", params={"limit": 0}).status_code == 422

    lead = inc.lead_department
    body = {"department": lead, "task": "纳入村日常巡查", "working_days": 3}
    r = client.post(f"/api/v1/incidents/{inc.id}/follow-ups", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "department"  # it has not acted yet
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead, lon=x, lat=y, accuracy_m=5,
                      server_time=NOW + timedelta(minutes=20))
    on_site.start_action(db, incident_id=inc.id, department=lead, at=NOW + timedelta(minutes=30))
    r = client.post(f"/api/v1/incidents/{inc.id}/follow-ups", json=body)
    assert r.status_code == 201, r.text
    task = r.json()["task_id"]
    assert client.post(f"/api/v1/incidents/{inc.id}/follow-ups", json={**body, "working_days": 0}).status_code == 422
    r = client.post(f"/api/v1/follow-ups/{task}/done", json={"township": "110117999"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "township"
    done = client.post(f"/api/v1/follow-ups/{task}/done", json={"township": township, "note": "已落实"})
    assert done.status_code == 200
    assert client.post("/api/v1/follow-ups/999999999/done", json={"township": township}).status_code == 404


def test_evaluation_over_http(client: TestClient, db: Session, locator: Locator, catalog: Catalog,
                              jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[12]
    inc = new_case(db, locator, catalog, v.geometry.x, v.geometry.y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=v["township_code"], at=NOW)
    lead = result.assignments[0]
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead.department, lon=v.geometry.x,
                      lat=v.geometry.y, accuracy_m=5, server_time=NOW + timedelta(minutes=10))
    r = client.get("/api/v1/evaluation", params={"period": "2026-09"})
    assert r.status_code == 200, r.text
    body = r.json()
    towns = db.execute(text("SELECT count(*) FROM township")).scalar_one()   # the township teams: one row each
    assert body["by"] == "department"
    assert body["count"] == len(catalog.departments) - len(catalog.township_teams) + towns * len(catalog.township_teams)
    row = next(d for d in body["data"] if d["department"] == lead.department)
    assert row["whistles"] == 1 and row["reported_in"] == 1 and row["on_time_rate"] == 1.0
    silent = next(d for d in body["data"] if d["whistles"] == 0)
    assert silent["report_in_rate"] is None  # no whistle: no rate, not 0
    assert all(d["ranking"] in ("lead", "assist") for d in body["data"] if d["team_township"] is None)
    assert all(d["ranking"] == "township_team" for d in body["data"] if d["team_township"] is not None)
    assert "分别排名" in body["notes"][0] and "街乡综合行政执法队另行排名" in body["notes"][0]
    towns = client.get("/api/v1/evaluation", params={"period": "2026-09", "by": "township"}).json()
    here = next(t for t in towns["data"] if t["township_code"] == v["township_code"])
    assert here["whistles_sent"] == 1 and here["cases"] == 0  # the case was observed in May
    assert here["score"] is None and here["rank"] is None  # nothing of its own part to judge in September
    assert {"whistle_on_time_rate", "review_on_time_rate", "follow_up_on_time_rate", "no_recurrence_rate",
            "own_warnings", "recurrences", "deduction"} <= set(here)
    assert towns["notes"] and "街乡得分" in towns["notes"][0]
    assert client.get("/api/v1/evaluation", params={"period": "2026", "by": "month"}).status_code == 200
    bad = client.get("/api/v1/evaluation", params={"period": "soon"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "period"
    assert client.get("/api/v1/evaluation", params={"period": "2026", "by": "county"}).status_code == 422
    cmp = client.get("/api/v1/evaluation/compare", params={"before": "2026-08", "after": "2026-09"}).json()
    assert [d["metric"] for d in cmp["data"]][:2] == ["penalties_per_officer", "duty_rate"]
    whistles = next(d for d in cmp["data"] if d["metric"] == "whistles")
    assert (whistles["before"], whistles["after"]) == (0, len(result.assignments))
    empty_before = {d["metric"]: d for d in cmp["data"]}
    assert empty_before["duty_rate"]["before"] is None and empty_before["penalties_per_officer"]["before"] is None
    assert all(d["change_pct"] is None for d in cmp["data"])  # a change from a period without data: unknown
    for early in ("1900", "2026-W33-2"):
        old = client.get("/api/v1/evaluation", params={"period": early})
        assert old.status_code == 422 and old.json()["error"]["field"] == "period", early
    for params, field in (({"before": "x", "after": "2026"}, "before"), ({"before": "2026", "after": "1900"}, "after")):
        wrong = client.get("/api/v1/evaluation/compare", params=params)  # the parameter that was wrong
        assert wrong.status_code == 422 and wrong.json()["error"]["field"] == field, wrong.text


def test_evaluation_compare_over_http_refuses_overlaps_and_says_what_it_did(
        client: TestClient, db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> None:
    v = jurisdiction.villages.iloc[12]
    inc = new_case(db, locator, catalog, v.geometry.x, v.geometry.y)
    result = whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=v["township_code"], at=NOW)
    overlap = client.get("/api/v1/evaluation/compare", params={"before": "2026-03..2026-09", "after": "2026-09"})
    assert overlap.status_code == 422 and overlap.json()["error"]["field"] == "after", overlap.text
    assert "overlap" in overlap.json()["error"]["message"]
    body = client.get("/api/v1/evaluation/compare", params={"before": "2026-06", "after": "2026-07..2026-09"}).json()
    assert (body["days_before"], body["days_after"], body["per_30_days"]) == (30, 92, True)
    rows = {d["metric"]: d for d in body["data"]}
    assert rows["whistles"]["per_30_days"] and rows["whistles"]["after"] == pytest.approx(
        len(result.assignments) * 30 / 92)
    assert not rows["on_time_rate"]["per_30_days"] and "change_pp" in rows["on_time_rate"]
    assert any("每 30 天折算" in n for n in body["notes"])
    assert any("2026-06 内没有案件、吹哨或执法记录" in n for n in body["notes"])  # June holds nothing
    empty = client.get("/api/v1/evaluation", params={"period": "2027"}).json()
    assert empty["notes"] and "2027 内没有案件、吹哨或执法记录（数据范围" in empty["notes"][0]
    busy = client.get("/api/v1/evaluation", params={"period": "2026-09"}).json()
    assert "减警示扣分" in busy["notes"][0]
    # the notes in the page's language
    english = client.get("/api/v1/evaluation", params={"period": "2026-09", "lang": "en"}).json()
    assert english["notes"][0].startswith("score = ") and english["data"] == busy["data"]
    assert "holds no case" in client.get("/api/v1/evaluation", params={"period": "2027", "lang": "en"}).json()[
        "notes"][0]
    assert client.get("/api/v1/evaluation", params={"period": "2026-09", "lang": "fr"}).status_code == 422
    row = next(d for d in busy["data"] if d["department"] == result.assignments[0].department)
    assert {"deduction", "score_base", "small_sample"} <= set(row) and row["rank"] is None  # one whistle: no rank


@pytest.mark.parametrize(("params", "field"), [({"rule": "W99"}, "rule"), ({"rule": "w02"}, "rule"),
                                               ({"subject": "NOBODY"}, "subject"),
                                               ({"subject": "110117999"}, "subject")])
def test_warning_filters_that_name_nothing_are_refused(client: TestClient, params: dict[str, str],
                                                       field: str) -> None:
    r = client.get("/api/v1/warnings", params=params)
    assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
    assert repr(params[field]) in r.json()["error"]["message"]


def test_warning_filters_that_name_something_still_answer(client: TestClient, catalog: Catalog,
                                                          jurisdiction: Jurisdiction) -> None:
    town = str(jurisdiction.townships.iloc[0]["code"])
    for params in ({"rule": next(iter(catalog.warning_rules))}, {"subject": next(iter(catalog.departments))},
                   {"subject": town}, {"subject": "00000000-0000-4000-8000-000000000000"}):
        r = client.get("/api/v1/warnings", params=params)
        assert r.status_code == 200 and r.json()["count"] >= 0, (params, r.text)
