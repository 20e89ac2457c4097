"""POST /api/v1/plans refuses a start it cannot use — not a lon/lat, far outside the district, an unknown
township — and a period no plan could be executed in — over already, or beginning more than 90 days ahead — with
422 naming the body's field, and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.analysis.planning import MAX_PLAN_AHEAD
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session
from gis_enforcement.api.routers.dispatch import get_clock
from tests.api.callers import as_admin
from tests.api.test_dispatch_api import Clock, error

BODY: dict[str, Any] = {"start": "2026-09-01T20:00:00+08:00", "hours": 12, "townships": ["110117006"]}
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_clock] = lambda: Clock(datetime.now(UTC))  # plans are made for periods to come
    as_admin(app)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("point", [[-200, 100], [200, 100], [117.1, -95], [0, 0], [116.3975, 39.9087]])
def test_a_start_point_it_cannot_use_is_refused(client: TestClient, db: Session, point: list[float]) -> None:
    before = db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one()
    refused = error(client.post("/api/v1/plans", json={**BODY, "from_point": point}))
    assert refused["field"] == "from_point" and refused["code"] == "invalid_input"
    assert db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one() == before


def test_an_unknown_township_is_named_by_its_field(client: TestClient) -> None:
    assert error(client.post("/api/v1/plans", json={**BODY, "from_township": "abc"}))["field"] == "from_township"
    assert error(client.post("/api/v1/plans", json={**BODY, "townships": ["abc"]}))["field"] == "townships"


@pytest.fixture
def plannable(mining_township: str) -> dict[str, Any]:
    """A request that plans (an open case in the township), but for its period."""
    return {"hours": 12, "townships": [mining_township], "categories": ["MIN-02"]}


def _district_time(days: float) -> str:
    """20:00 in district time, ``days`` from today (the route plans at the server's own time)."""
    day = datetime.now(TZ) + timedelta(days=days)
    return day.replace(hour=20, minute=0, second=0, microsecond=0).isoformat()


def test_a_period_that_is_over_or_far_ahead_is_refused_by_field(client: TestClient, db: Session,
                                                                plannable: dict[str, Any]) -> None:
    before = db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one()
    over = error(client.post("/api/v1/plans", json={**plannable, "start": "2020-05-12T20:00:00+08:00"}))
    assert over["field"] == "hours" and over["code"] == "invalid_input"  # the period's end, as this body gives it
    assert "the period ended at 2020-05-13T08:00+08:00" in over["message"], over
    ahead = error(client.post("/api/v1/plans", json={**plannable, "start": "2099-05-12T20:00:00+08:00"}))
    assert ahead["field"] == "start" and "2099-05-12T20:00+08:00" in ahead["message"], ahead
    far = error(client.post("/api/v1/plans", json={**plannable, "start": _district_time(MAX_PLAN_AHEAD.days + 2)}))
    assert far["field"] == "start" and f"{MAX_PLAN_AHEAD.days} days ahead" in far["message"], far
    assert db.execute(text("SELECT count(*) FROM operation_plan")).scalar_one() == before  # nothing stored
    made = client.post("/api/v1/plans", json={**plannable, "start": _district_time(3)})
    assert made.status_code == 201, made.text
