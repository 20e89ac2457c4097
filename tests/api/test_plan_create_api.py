"""POST /api/v1/plans refuses a start it cannot use — not a lon/lat, far outside the district, an unknown
township — with 422 naming the body's field, and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session
from gis_enforcement.api.routers.dispatch import get_clock
from tests.api.callers import as_admin
from tests.api.test_dispatch_api import T0, Clock, error

BODY: dict[str, Any] = {"start": "2026-09-01T20:00:00+08:00", "hours": 12, "townships": ["110117006"]}


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_clock] = lambda: Clock(T0)
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
