"""A township dispatcher reads its own township's analyses (recurring sites, hot spots, emerging hot spots,
trends) and the departments' record on its own cases — never another township's, never the district's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.demo.season import simulate_incident_table
from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.rating import rate_attendance
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.teams import team_unit, unit_parts
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.patrol.intake import ingest
from gis_enforcement.patrol.parse import read_intake_file
from tests.api.callers import SwitchedClient, switched_client
from tests.dispatch.helpers import T0, new_case

SUPERVISOR = Caller("sup", Role.SUPERVISOR, "district", "district")


def township(code: str) -> Caller:
    return Caller(f"desk-{code}", Role.TOWNSHIP_DISPATCHER, "township", code)


class Client(SwitchedClient):
    def get(self, path: str, caller: Caller, **params: Any) -> Any:
        return self.call("GET", path, caller, params=params)


def refused(r: Any, field: str) -> None:
    assert r.status_code == 403, r.text
    assert r.json()["error"]["field"] == field, r.text


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[Client]:
    with switched_client(platform, db, T0 + timedelta(hours=3), Client) as c:
        yield c


# -- analyses --------------------------------------------------------------------------------------------------
@pytest.fixture
def season(db: Session, jurisdiction: Jurisdiction, locator: Locator, catalog: Catalog, tmp_path: Path) -> tuple[str,
                                                                                                                  str]:
    """900 simulated reports; the township with the most of them and another one."""
    simulate_incident_table(jurisdiction, catalog, count=900, seed=21).to_csv(tmp_path / "s.csv", index=False)
    ingest(db, read_intake_file(tmp_path / "s.csv"), locator=locator, catalog=catalog)
    rows = db.execute(text("SELECT township_code FROM incident WHERE township_code IS NOT NULL "
                           "GROUP BY township_code ORDER BY count(*) DESC, township_code")).scalars().all()
    return rows[0], rows[1]


def test_a_township_reads_its_own_recurring_sites_only(client: Client, db: Session, locator: Locator,
                                                        season: tuple[str, str]) -> None:
    from gis_enforcement.analysis.trend_service import refresh_sites

    own, other = season
    refresh_sites(db, locator=locator, eps_m=150, min_samples=3)
    desk = township(own)
    mine = client.get("/api/v1/sites", desk, all_sites=True)
    assert mine.status_code == 200, mine.text
    features = mine.json()["features"]
    assert features and {f["properties"]["township_code"] for f in features} == {own}
    district = client.get("/api/v1/sites", SUPERVISOR, all_sites=True).json()["features"]
    assert {f["properties"]["township_code"] for f in district} > {own}  # the district's read holds more
    asked = client.get("/api/v1/sites", SUPERVISOR, township=own, all_sites=True).json()["features"]
    assert [f["id"] for f in features] == [f["id"] for f in asked]
    assert client.get("/api/v1/sites", desk, township=own, all_sites=True).json()["features"] == features
    refused(client.get("/api/v1/sites", desk, township=other), "township")
    refused(client.call("GET", "/api/v1/sites", desk, params=[("township", own), ("township", other)]), "township")


def test_a_township_reads_its_own_trends_only(client: Client, season: tuple[str, str]) -> None:
    own, other = season
    desk = township(own)
    mine = client.get("/api/v1/trends", desk, days=14)
    assert mine.status_code == 200, mine.text
    asked = client.get("/api/v1/trends", SUPERVISOR, township=own, days=14).json()
    district = client.get("/api/v1/trends", SUPERVISOR, days=14).json()
    assert mine.json() == asked and mine.json()["incidents"] < district["incidents"]
    refused(client.get("/api/v1/trends", desk, township=other), "township")


def test_a_townships_hot_spots_are_always_its_own(client: Client, season: tuple[str, str]) -> None:
    """A township's GET runs (or reuses) the analysis of its own township — never a district-wide run — and
    reads a stored run by id only when it was made for its township alone."""
    own, other = season
    desk = township(own)
    params = {"cell": "grid", "size_m": 1000}
    mine = client.get("/api/v1/hotspots", desk, **params)
    assert mine.status_code == 200, mine.text
    run = mine.json()["run"]
    assert run["parameters"]["filters"]["townships"] == [own]
    # the district asking for that township gets the same stored run
    asked = client.get("/api/v1/hotspots", SUPERVISOR, township=own, **params).json()["run"]
    assert asked["reused"] and asked["id"] == run["id"]
    district = client.get("/api/v1/hotspots", SUPERVISOR, **params).json()["run"]
    assert not district["parameters"]["filters"].get("townships")
    refused(client.get("/api/v1/hotspots", desk, run_id=district["id"]), "run_id")
    theirs = client.get("/api/v1/hotspots", SUPERVISOR, township=other, **params).json()["run"]
    refused(client.get("/api/v1/hotspots", desk, run_id=theirs["id"]), "run_id")
    again = client.get("/api/v1/hotspots", desk, run_id=run["id"])
    assert again.status_code == 200 and again.json()["run"]["id"] == run["id"]
    refused(client.get("/api/v1/hotspots", desk, township=other, **params), "township")
    emerging = client.get("/api/v1/hotspots/emerging", desk, period="2026-03..2026-08", **params)
    assert emerging.status_code == 200, emerging.text
    assert emerging.json()["run"]["parameters"]["townships"] == [own]
    refused(client.get("/api/v1/hotspots/emerging", desk, township=other, **params), "township")
    # the runs list and the plans stay the district's
    refused(client.get("/api/v1/hotspots/runs", desk), "role")
    refused(client.get("/api/v1/plans", desk), "role")


# -- the departments' record on the township's cases ----------------------------------------------------------
COUNTS = ("whistles", "expected_report_ins", "reported_in", "on_time", "late", "absent", "excused", "pending",
          "lead_cases", "resolved", "ratings", "actions")


def test_the_departments_record_on_a_townships_own_cases(client: Client, db: Session, locator: Locator,
                                                         catalog: Catalog, jurisdiction: Jurisdiction) -> None:
    villages = jurisdiction.villages
    a_village = villages.iloc[20]
    town_a = str(a_village["township_code"])
    b_village = villages[villages["township_code"] != town_a].iloc[0]
    town_b = str(b_village["township_code"])
    cases_a = [new_case(db, locator, catalog, a_village.geometry.x, a_village.geometry.y, category=c)
               for c in ("MIN-02", "ENV-01")]
    case_b = new_case(db, locator, catalog, b_village.geometry.x, b_village.geometry.y, category="MIN-02")
    done = [whistle(db, catalog=catalog, incident_ids=[c.id], mode=TOWNSHIP, whistler=town, at=T0)
            for c, town in ((cases_a[0], town_a), (cases_a[1], town_a), (case_b, town_b))]
    # on A's first case the lead reports in on time and is rated 不满意; an assist declines
    lead = done[0].assignments[0]
    on_site.report_in(db, catalog=catalog, incident_id=cases_a[0].id, department=lead.department,
                      lon=a_village.geometry.x, lat=a_village.geometry.y, accuracy_m=5,
                      server_time=T0 + timedelta(minutes=10))
    rate_attendance(db, catalog=catalog, assignment_id=lead.id, township=town_a, timeliness=2, adequacy=1,
                    at=T0 + timedelta(minutes=30))
    assist = next(a for a in done[0].assignments if a.role == "assist")
    on_site.decline(db, catalog=catalog, incident_id=cases_a[0].id, department=assist.department,
                    reason="不属本部门职责", ground=None, at=T0 + timedelta(minutes=5))
    # B's lead reports in too, and is rated well by B
    b_lead = done[2].assignments[0]
    on_site.report_in(db, catalog=catalog, incident_id=case_b.id, department=b_lead.department,
                      lon=b_village.geometry.x, lat=b_village.geometry.y, accuracy_m=5,
                      server_time=T0 + timedelta(minutes=10))
    rate_attendance(db, catalog=catalog, assignment_id=b_lead.id, township=town_b, timeliness=5, adequacy=5,
                    at=T0 + timedelta(minutes=30))
    tick(db, catalog=catalog, now=T0 + timedelta(hours=2))  # the absent ones are found (W02)

    r = client.get("/api/v1/evaluation", township(town_a), period="2026-05")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["township"] == town_a and body["by"] == "department" and body["notes"]
    name_a = jurisdiction.townships.set_index("code").at[town_a, "name"]
    assert name_a in body["notes"][0] and town_a not in body["notes"][0]   # the township by its name
    rows = {row["department"]: row for row in body["data"]}
    summoned = {team_unit(a.department, town_a) if a.department in catalog.township_teams else a.department
                for d in done[:2] for a in d.assignments}   # the township's own team, not all 18 as one
    assert set(rows) == summoned and all("rank" not in row for row in rows.values())
    mine = rows[lead.department]
    assert mine["ratings"] == 1 and mine["unsatisfied"] == 1 and mine["rating_adequacy_mean"] == 1.0
    assert mine["rating_timeliness_mean"] == 2.0 and mine["on_time"] >= 1
    assert rows[assist.department]["declined"] >= 1
    assert sum(row["whistles"] for row in rows.values()) == sum(len(d.assignments) for d in done[:2])
    # the district asking for township A reads the same; the numbers are the district's split by township
    assert client.get("/api/v1/evaluation", SUPERVISOR, period="2026-05", township=town_a).json()["data"] == \
        body["data"]
    b_rows = {row["department"]: row for row in
              client.get("/api/v1/evaluation", township(town_b), period="2026-05").json()["data"]}
    assert b_rows[b_lead.department]["unsatisfied"] == 0 and b_rows[b_lead.department]["ratings"] == 1
    district = client.get("/api/v1/evaluation", SUPERVISOR, period="2026-05").json()
    assert district["township"] is None and all("rank" in row for row in district["data"])
    for row in district["data"]:
        for column in COUNTS:
            parts = [rows.get(row["department"], {}).get(column, 0), b_rows.get(row["department"], {}).get(column, 0)]
            assert row[column] == sum(parts), (row["department"], column, row[column], parts)
    # the warnings on the cases (not those about a department at large, W07, which name no case)
    on_cases = dict(db.execute(text("SELECT subject_code, count(*) FROM warning WHERE subject_kind = 'department' "
                                    "AND incident_id IS NOT NULL GROUP BY subject_code")).all())
    by_department: dict[str, int] = {}   # a township team's rows are its townships' teams (TOWN@…)
    for unit, row in [*rows.items(), *b_rows.items()]:
        by_department[unit_parts(unit)[0]] = by_department.get(unit_parts(unit)[0], 0) + row["warnings"]
    assert on_cases and {d: by_department.get(d, 0) for d in on_cases} == on_cases
    at_large = db.execute(text("SELECT count(*) FROM warning WHERE incident_id IS NULL")).scalar_one()
    assert sum(row["warnings"] for row in district["data"]) == sum(on_cases.values()) + at_large
    # never another township's, nor the district's views
    refused(client.get("/api/v1/evaluation", township(town_a), period="2026-05", township=town_b), "township")
    refused(client.get("/api/v1/evaluation", township(town_a), period="2026-05", by="township"), "by")
    refused(client.get("/api/v1/evaluation", township(town_a), period="2026-05", by="month"), "by")
    refused(client.get("/api/v1/evaluation/compare", township(town_a), before="2025", after="2026"), "role")
    bad = client.get("/api/v1/evaluation", SUPERVISOR, period="2026-05", township=town_a, by="township")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "by"
    officer = Caller("o", Role.DEPARTMENT_OFFICER, "department", lead.department)
    refused(client.get("/api/v1/evaluation", officer, period="2026-05", township=town_a), "role")
