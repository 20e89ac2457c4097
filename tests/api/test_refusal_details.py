"""The chain's refusals carry, as numbers and codes in ``detail``, what the console needs to say them in Chinese
without reading the English message: a check-in from outside the geofence (the distance and the radius
allowed), a second report-in (when, on time or not) and a move the state does not take (current, action,
allowed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from tests.api.test_dispatch_api import (  # noqa: F401 — client, clock: fixtures (the admin client on a clock)
    METRE,
    T0,
    Clock,
    client,
    clock,
    error,
    new_case,
)


def test_report_in_refusals_carry_their_numbers(
        client: TestClient, clock: Clock,  # noqa: F811
        jurisdiction: Jurisdiction, catalog: Catalog) -> None:
    case = new_case(client, jurisdiction, k=24)
    r = client.post(f"{case.url}/whistle", json={"mode": "township", "whistler": case.township})
    assert r.status_code == 201, r.text
    lead = case.plan[0]["department"]
    fence = catalog.categories["MIN-02"].geofence_m

    clock.now = T0 + timedelta(minutes=10)
    far = {"lon": case.lon, "lat": case.lat + 2000 * METRE, "accuracy_m": 40}
    err = error(client.post(f"{case.of(lead)}/report-in", json=far))
    assert err["field"] == "position"
    detail = err["detail"]
    assert detail["distance_m"] == pytest.approx(2000, abs=15) and detail["geofence_m"] == fence
    assert detail["accuracy_allowance_m"] == 40 and detail["allowed_m"] == fence + 40

    near = {"lon": case.lon, "lat": case.lat, "accuracy_m": 5}
    assert client.post(f"{case.of(lead)}/report-in", json=near).status_code == 200
    err = error(client.post(f"{case.of(lead)}/report-in", json=near), 409)
    assert err["code"] == "already_recorded" and err["field"] == "status"
    assert err["detail"]["reported_in_at"] == "2026-05-12T23:50:00+08:00" and err["detail"]["on_time"] is True

    err = error(client.post(f"{case.of(lead)}/complete"))
    assert err["field"] == "status"
    assert (err["detail"]["current"], err["detail"]["action"], err["detail"]["allowed"]) == (
        "reported_in", "complete", ["start_action"])
