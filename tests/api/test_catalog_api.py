"""GET /api/v1/catalog/categories and /departments: the lists as the pages read them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api import create_app
from gis_enforcement.api.auth import get_caller
from gis_enforcement.api.deps import get_session
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.catalog import Catalog

PATROL = Caller("patrol-1", Role.PATROL, "township", "110117104")


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_caller] = lambda: PATROL
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_categories_carry_the_general_rule(client: TestClient, catalog: Catalog) -> None:
    r = client.get("/api/v1/catalog/categories")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert [c["code"] for c in data] == list(catalog.categories) and r.json()["count"] == len(data)
    by_code = {c["code"]: c for c in data}
    sand = by_code["MIN-02"]
    rule = catalog.general_rule("MIN-02")
    assert rule is not None
    assert sand["lead_department"] == rule.lead
    assert sand["lead_department_zh"] == catalog.departments[rule.lead].zh
    assert sand["report_in_minutes"] == rule.report_in_minutes
    assert sand["max_accuracy_m"] == catalog.categories["MIN-02"].max_accuracy_m
    assert sand["geofence_m"] == catalog.categories["MIN-02"].geofence_m
    assert sand["zh"] == catalog.categories["MIN-02"].zh and sand["severity"]
    # the measures a record may cite: every rule's (the general and the zone ones), each once, in the lists' order
    listed = [m for r in catalog.rules if r.category == "MIN-02" for m in r.measures]
    assert sand["measures"] == list(dict.fromkeys(listed)) and "罚款" in sand["measures"]
    assert len(sand["measures"]) == len(set(sand["measures"]))
    # a zone rule with another lead does not leak into the general answer
    zoned = [r for r in catalog.rules if r.zone_kind is not None and r.lead != getattr(
        catalog.general_rule(r.category), "lead", r.lead)]
    for z in zoned:
        assert by_code[z.category]["lead_department"] != z.lead


def test_departments(client: TestClient, catalog: Catalog) -> None:
    r = client.get("/api/v1/catalog/departments")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert {d["code"] for d in data} == set(catalog.departments)
    water = next(d for d in data if d["code"] == "WATER")
    assert water == {"code": "WATER", "zh": "区水务局", "en": "District Water Authority", "role": None}


def test_lists_need_a_caller(platform: Platform, db: Session) -> None:
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/api/v1/catalog/categories").status_code == 401
        assert c.get("/api/v1/catalog/departments").status_code == 401
