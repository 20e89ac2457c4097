"""docs/api.md's worked example, as written: a patrol files the case at the example's point, the dispatcher of
the township the example uses (pinggu.cc, 110117003) whistles it, and the water bureau reports in on site."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.domain.access import Caller, Role
from tests.api.callers import SwitchedClient, switched_client

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"
PATROL = Caller("zhang.wei", Role.PATROL, "township", "110117003")
DISPATCHER = Caller("pinggu.cc", Role.TOWNSHIP_DISPATCHER, "township", "110117003")
WATER = Caller("water.li", Role.DEPARTMENT_OFFICER, "department", "WATER")


def _example() -> dict[str, tuple[float, float]]:
    text = DOCS.read_text(encoding="utf-8")
    filed = re.search(r'"coordinates": \[([\d.]+), ([\d.]+)\]\},\n  "properties": \{"category": "MIN-02"', text)
    reported = re.search(r'-d \'\{"lon": ([\d.]+), "lat": ([\d.]+), "accuracy_m": 6, "crs": "gcj02"\}\'', text)
    assert filed and reported, "the worked example's points"
    return {"filed": (float(filed[1]), float(filed[2])), "report_in": (float(reported[1]), float(reported[2]))}


def test_the_worked_example_works_as_written(platform: Platform, db: Session) -> None:
    points = _example()
    case = str(uuid.uuid4())
    with switched_client(platform, db, datetime(2026, 5, 12, 15, 20, tzinfo=UTC), SwitchedClient) as c:
        r = c.call("POST", "/api/v1/incidents", PATROL, json={
            "type": "Feature", "id": case, "geometry": {"type": "Point", "coordinates": list(points["filed"])},
            "properties": {"category": "MIN-02", "observed_at": "2026-05-12T23:10:00+08:00", "accuracy_m": 8,
                           "crs": "gcj02", "description": "河道内夜间采砂，两台挖掘机"}})
        assert r.status_code == 201, r.text
        props = r.json()["properties"]
        assert props["township_code"] == "110117003" and props["flags"] == []  # well inside, no border doubt
        assert props["lead_department"] == "WATER"
        r = c.call("POST", f"/api/v1/incidents/{case}/whistle", DISPATCHER,
                   json={"mode": "township", "whistler": "110117003"})
        assert r.status_code == 201, r.text
        assert "WATER" in {a["department"] for a in r.json()["assignments"]}
        lon, lat = points["report_in"]
        r = c.call("POST", f"/api/v1/incidents/{case}/assignments/WATER/report-in", WATER,
                   json={"lon": lon, "lat": lat, "accuracy_m": 6, "crs": "gcj02"})
        assert r.status_code in (200, 201), r.text
