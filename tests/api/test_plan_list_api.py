"""GET /api/v1/plans: stored joint-operation plans at a glance, newest first, paged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.storage import analysis_repo
from tests.api.callers import SwitchedClient, switched_client
from tests.dispatch.helpers import T0

SUPERVISOR = Caller("sup", Role.SUPERVISOR, "district", "district")


@pytest.fixture
def api(platform: Platform, db: Session) -> Iterator[SwitchedClient]:
    with switched_client(platform, db, T0, SwitchedClient) as api:
        yield api


def _plan(db: Session, targets: list[dict[str, Any]], **parameters: Any) -> int:
    params = {"period_start": T0.isoformat(), "period_end": (T0 + timedelta(hours=12)).isoformat(),
              "townships": [], "categories": [], "start_township": None, **parameters}
    return analysis_repo.insert_plan(db, catalog_version="test", parameters=params, targets=targets,
                                     waiting=[{"target_id": "w1", "reason": "window"}], staffing=[], route={})


def test_plans_newest_first_with_their_summary(api: SwitchedClient, db: Session) -> None:
    older = _plan(db, [{"target_id": "a", "departments": ["WATER", "PSB"]}, {"target_id": "b", "departments": None}],
                  townships=["110117104"], categories=["MIN-02"], start_township="110117104")
    newer = _plan(db, [{"target_id": "c", "departments": ["ECO", "WATER"]}, {"target_id": "d", "departments": []},
                       {"target_id": "e"}])
    analysis_repo.mark_plan_executed(db, plan_id=older, at=T0 + timedelta(hours=1), whistle_ids=[7, 8],
                                     incident_ids=[])
    r = api.call("GET", "/api/v1/plans", SUPERVISOR)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["id"] for p in body["data"][:2]] == [newer, older] and body["count"] >= 2
    first, second = body["data"][:2]
    assert first["status"] == "planned" and first["target_count"] == 3 and first["departments"] == ["ECO", "WATER"]
    assert first["whistle_ids"] == [] and first["executed_at"] is None and first["waiting_count"] == 1
    assert second["status"] == "executed" and second["whistle_ids"] == [7, 8]
    assert second["departments"] == ["PSB", "WATER"] and second["target_count"] == 2
    assert second["townships"] == ["110117104"] and second["categories"] == ["MIN-02"]
    assert second["start_township"] == "110117104" and second["period_start"] == "2026-05-12T23:40:00+08:00"
    assert second["executed_at"] == "2026-05-13T00:40:00+08:00"


def test_pages_and_access(api: SwitchedClient, db: Session) -> None:
    ids = [_plan(db, [{"target_id": str(i), "departments": ["WATER"]}]) for i in range(3)]
    page = api.call("GET", "/api/v1/plans", SUPERVISOR, params={"limit": 2, "offset": 1}).json()
    assert [p["id"] for p in page["data"]][:1] == [ids[1]] and len(page["data"]) == 2
    total = page["count"]
    beyond = api.call("GET", "/api/v1/plans", SUPERVISOR, params={"offset": 10_000}).json()
    assert beyond == {"data": [], "count": total}
    assert api.call("GET", "/api/v1/plans", SUPERVISOR, params={"limit": 0}).status_code == 422
    township = Caller("t", Role.TOWNSHIP_DISPATCHER, "township", "110117104")
    assert api.call("GET", "/api/v1/plans", township).status_code == 403


def test_a_period_stored_without_offset_or_in_utc_is_listed_in_district_time(api: SwitchedClient,
                                                                             db: Session) -> None:
    """Plans made before naive times were read as district time kept them naive: the list reads them as
    district time (not as the database's UTC); a UTC period is shown in +08:00; the planned period wins."""
    naive = _plan(db, [], period_start="2026-06-01T20:00:00", period_end="2026-06-02T08:00:00")
    utc = _plan(db, [], period_start="2026-06-01T12:00:00+00:00", period_end=None)
    rows = {p["id"]: p for p in api.call("GET", "/api/v1/plans", SUPERVISOR, params={"limit": 500}).json()["data"]}
    assert rows[naive]["period_start"] == "2026-06-01T20:00:00+08:00"
    assert rows[naive]["period_end"] == "2026-06-02T08:00:00+08:00"
    assert rows[utc]["period_start"] == "2026-06-01T20:00:00+08:00"
    assert rows[utc]["period_end"] == "2026-06-02T20:00:00+08:00"  # no end: 24 h, as execution reads it
    assert rows[naive]["created_at"].endswith("+08:00")
