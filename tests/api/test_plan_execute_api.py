"""POST /api/v1/plans/{id}/execute at the server's time: refused with 422 on ``at`` outside the plan's period
(the period said in district time), nothing whistled; POST /api/v1/plans refuses an unknown category and a
period too short for one visit by their fields."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.api.test_dispatch_api import (  # noqa: F401 — client, clock: fixtures (the admin client on a clock)
    T0,
    Clock,
    client,
    clock,
    error,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(TZ).replace(second=0, microsecond=0)
START = (NOW + timedelta(days=3)).replace(hour=20, minute=0)  # plans are made for periods to come


@pytest.fixture
def body(mining_township: str) -> dict[str, Any]:
    return {"start": START.isoformat(), "hours": 12, "townships": [mining_township], "categories": ["MIN-02"]}


def test_a_plan_executed_days_before_its_period_is_refused(client: TestClient, db: Session,  # noqa: F811
                                                           clock: Clock, body: dict[str, Any]) -> None:  # noqa: F811
    clock.now = NOW  # a plan is made for a period to come: the server's clock is today's
    created = client.post("/api/v1/plans", json=body)
    assert created.status_code == 201, created.text
    plan_id = created.json()["plan"]["id"]
    whistles = db.execute(text("SELECT count(*) FROM whistle")).scalar_one()
    refused = error(client.post(f"/api/v1/plans/{plan_id}/execute"))  # three days early
    assert refused["field"] == "at" and refused["code"] == "invalid_input"
    said = refused["message"]
    assert START.isoformat(timespec="minutes") in said and NOW.isoformat(timespec="minutes") in said, said
    assert db.execute(text("SELECT count(*) FROM whistle")).scalar_one() == whistles
    assert client.get(f"/api/v1/plans/{plan_id}").json()["plan"]["status"] == "planned"


def test_an_unknown_category_and_a_too_short_period_are_refused_by_field(client: TestClient,  # noqa: F811
                                                                         body: dict[str, Any]) -> None:
    unknown = error(client.post("/api/v1/plans", json={**body, "categories": ["NOPE"]}))
    assert unknown["field"] == "categories" and "NOPE" in unknown["message"]
    short = error(client.post("/api/v1/plans", json={**body, "hours": 0.1}))
    assert short["field"] == "hours" and "one visit" in short["message"]
