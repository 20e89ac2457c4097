"""POST /api/v1/plans/{id}/execute at the server's time: refused with 422 on ``at`` outside the plan's period
(the period said in district time), nothing whistled; POST /api/v1/plans refuses an unknown category and a
period too short for one visit by their fields."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.api.test_dispatch_api import (  # noqa: F401 — client, clock: fixtures (the admin client on a clock)
    T0,
    Clock,
    client,
    clock,
    error,
)
from tests.dispatch.helpers import new_case


@pytest.fixture
def body(db: Session, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog) -> dict[str, Any]:
    v = jurisdiction.villages
    code = v["township_code"].value_counts().index[0]
    p = v[v["township_code"] == code].geometry.iloc[0]
    new_case(db, locator, catalog, p.x, p.y, category="MIN-02")
    return {"start": "2026-12-01T20:00:00+08:00", "hours": 12, "townships": [code], "categories": ["MIN-02"]}


def test_a_plan_executed_days_before_its_period_is_refused(client: TestClient, db: Session,  # noqa: F811
                                                           body: dict[str, Any]) -> None:
    created = client.post("/api/v1/plans", json=body)
    assert created.status_code == 201, created.text
    plan_id = created.json()["plan"]["id"]
    whistles = db.execute(text("SELECT count(*) FROM whistle")).scalar_one()
    refused = error(client.post(f"/api/v1/plans/{plan_id}/execute"))  # the clock says 2026-05-12 23:40
    assert refused["field"] == "at" and refused["code"] == "invalid_input"
    assert "2026-12-01T20:00+08:00" in refused["message"] and "2026-05-12T23:40+08:00" in refused["message"]
    assert db.execute(text("SELECT count(*) FROM whistle")).scalar_one() == whistles
    assert client.get(f"/api/v1/plans/{plan_id}").json()["plan"]["status"] == "planned"


def test_an_unknown_category_and_a_too_short_period_are_refused_by_field(client: TestClient,  # noqa: F811
                                                                         body: dict[str, Any]) -> None:
    unknown = error(client.post("/api/v1/plans", json={**body, "categories": ["NOPE"]}))
    assert unknown["field"] == "categories" and "NOPE" in unknown["message"]
    short = error(client.post("/api/v1/plans", json={**body, "hours": 0.1}))
    assert short["field"] == "hours" and "one visit" in short["message"]
