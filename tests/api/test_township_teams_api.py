"""One team per township: an officer of the township teams (TOWN, 综合行政执法队) serves one township's team — it
signs in as that team, lists, reads and acts on that team's summons only, reads that team's warnings, and the
evaluation tells the 18 teams apart instead of ranking them as one bureau."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.admin.users import add_user
from gis_enforcement.dispatch.escalation import tick
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.names import short_township
from gis_enforcement.domain.teams import team_unit
from gis_enforcement.errors import InvalidInput
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.api.signin import PASSWORD, sign_in, signin_client
from tests.dispatch.helpers import T0, new_case


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    with signin_client(platform, db) as c:
        yield c


@pytest.fixture
def towns(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> dict[str, Any]:
    """A smoke case (ENV-01: TOWN assists) whistled in township A and one in township B; a W02 on both teams."""
    villages = jurisdiction.villages
    va = villages.iloc[20]
    vb = villages[villages["township_code"] != va["township_code"]].iloc[0]
    out: dict[str, Any] = {}
    for key, v in (("a", va), ("b", vb)):
        case = new_case(db, locator, catalog, v.geometry.x, v.geometry.y, category="ENV-01")
        whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=v["township_code"], at=T0)
        team = next(a for a in dispatch_repo.assignments_of(db, incident_id=case.id) if a.department == "TOWN")
        out[key] = {"town": str(v["township_code"]), "case": case, "team": team}
    tick(db, catalog=catalog, now=T0 + timedelta(hours=3))   # nobody came: W02 on every summons
    return out


def signed_in(client: TestClient, username: str) -> dict[str, str]:
    r = sign_in(client, username)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def officer(db: Session, catalog: Catalog, username: str, township: str | None, role: str = "department_officer"):  # type: ignore[no-untyped-def]
    return add_user(db, catalog=catalog, username=username, password=PASSWORD, role=role, unit="TOWN",
                    township=township)


def test_a_township_team_needs_its_township_and_no_one_else_names_one(db: Session, catalog: Catalog,
                                                                      jurisdiction: Jurisdiction) -> None:
    with pytest.raises(InvalidInput) as e:
        officer(db, catalog, "team-nobody", None)
    assert e.value.field == "township" and "one team per township" in str(e.value)
    with pytest.raises(InvalidInput) as e:
        officer(db, catalog, "team-nowhere", "不存在镇")
    assert e.value.field == "township" and "unknown township" in str(e.value)
    with pytest.raises(InvalidInput) as e:
        add_user(db, catalog=catalog, username="water-1", password=PASSWORD, role="department_officer",
                 unit="WATER", township=str(jurisdiction.townships.iloc[0]["code"]))
    assert e.value.field == "township" and "not a township team" in str(e.value)
    # by name as well as by code; stored as the code
    row = jurisdiction.townships.iloc[3]
    user = officer(db, catalog, "team-by-name", str(row["name"]), role="department_chief")
    assert user.team_township == row["code"] and user.caller().team_township == row["code"]
    stored = db.execute(text("SELECT team_township FROM app_user WHERE username = 'team-by-name'")).scalar_one()
    assert stored == row["code"]


def test_the_team_of_one_township_sees_and_acts_on_its_own_summons_only(
        client: TestClient, db: Session, catalog: Catalog, towns: dict[str, Any]) -> None:
    a, b = towns["a"], towns["b"]
    assert a["team"].township_code == a["town"] and b["team"].township_code == b["town"]
    officer(db, catalog, "team-a", a["town"], role="department_chief")   # a chief reads its warnings
    h = signed_in(client, "team-a")
    me = client.get("/api/v1/auth/me", headers=h).json()
    name_a = db.execute(text("SELECT name FROM township WHERE code = :c"), {"c": a["town"]}).scalar_one()
    assert me["unit_code"] == "TOWN" and me["team_township"] == a["town"]
    assert me["unit_name"] == f"{short_township(name_a)}综合行政执法队"   # 金海湖镇…, not 金海湖镇(金海湖地区)…

    listed = client.get("/api/v1/assignments", headers=h, params={"limit": 1000}).json()["data"]
    assert [x["id"] for x in listed] == [a["team"].id]
    cases = client.get("/api/v1/incidents", headers=h, params={"limit": 1000}).json()["features"]
    assert [c["id"] for c in cases] == [str(a["case"].id)]
    assert client.get(f"/api/v1/incidents/{a['case'].id}", headers=h).status_code == 200
    r = client.get(f"/api/v1/incidents/{b['case'].id}", headers=h)
    assert r.status_code == 403 and r.json()["error"]["field"] == "incident_id"

    # 报到 on its own township's case; not on the other township's team's summons
    b_case = b["case"]
    r = client.post(f"/api/v1/incidents/{b_case.id}/assignments/TOWN/report-in", headers=h,
                    json={"lon": b_case.lon, "lat": b_case.lat, "accuracy_m": 5})
    assert r.status_code == 403, r.text
    a_case = a["case"]
    r = client.post(f"/api/v1/incidents/{a_case.id}/assignments/TOWN/report-in", headers=h,
                    json={"lon": a_case.lon, "lat": a_case.lat, "accuracy_m": 5})
    assert r.status_code == 200, r.text
    assert dispatch_repo.assignments_of(db, incident_id=b_case.id)[0].reported_in_at is None

    # its warnings: its own team's no-show, not the other team's
    warned = client.get("/api/v1/warnings", headers=h, params={"limit": 100}).json()["data"]
    assert warned and {w["assignment_id"] for w in warned} == {a["team"].id}
    assert all(w["township_code"] == a["town"] for w in warned)
    # the district reads whose team each warning is about, and a case's warnings alone
    add_user(db, catalog=catalog, username="sup-w", password=PASSWORD, role="supervisor", unit="district")
    sup = signed_in(client, "sup-w")
    towns_of = {w["assignment_id"]: w["township_code"] for w in client.get(
        "/api/v1/warnings", headers=sup, params={"subject": "TOWN", "limit": 100}).json()["data"]}
    assert towns_of == {a["team"].id: a["town"], b["team"].id: b["town"]}
    on_b = client.get("/api/v1/warnings", headers=sup, params={"incident_id": str(b["case"].id)}).json()["data"]
    assert on_b and {w["incident_id"] for w in on_b} == {str(b["case"].id)}
    # a filter naming the other township is refused, not silently widened
    r = client.get("/api/v1/events", headers=h, params={"township": b["town"]})
    assert r.status_code == 403 and r.json()["error"]["field"] == "township"

    # an officer of the teams with no township (made before the teams were told apart) still sees every team
    db.execute(text("INSERT INTO app_user (username, role, unit_kind, unit_code, password_hash) "
                    "SELECT 'team-all', role, unit_kind, unit_code, password_hash FROM app_user "
                    "WHERE username = 'team-a'"))
    listed = client.get("/api/v1/assignments", headers=signed_in(client, "team-all"),
                        params={"limit": 1000}).json()["data"]
    assert {x["id"] for x in listed} == {a["team"].id, b["team"].id}


def test_the_evaluation_ranks_the_townships_teams_apart(client: TestClient, db: Session, catalog: Catalog,
                                                        platform: Platform, towns: dict[str, Any]) -> None:
    from gis_enforcement.admin.users import add_user as add

    add(db, catalog=catalog, username="sup", password=PASSWORD, role="supervisor", unit="district")
    body = client.get("/api/v1/evaluation", headers=signed_in(client, "sup"), params={"period": "2026-05"}).json()
    rows = {row["department"]: row for row in body["data"]}
    a, b = towns["a"], towns["b"]
    assert "TOWN" not in rows   # not one bureau of 18 teams
    team_a, team_b = rows[team_unit("TOWN", a["town"])], rows[team_unit("TOWN", b["town"])]
    n_towns = db.execute(text("SELECT count(*) FROM township")).scalar_one()
    assert sum(1 for u in rows if u.startswith("TOWN@")) == n_towns
    assert team_a["whistles"] == 1 and team_a["absent"] == 1 and team_a["warnings_W02"] == 1
    assert team_b["whistles"] == 1 and team_b["warnings_W02"] == 1
    assert team_a["team_township"] == a["town"] and team_a["name"].endswith("综合行政执法队")
    assert team_a["ranking"] == "township_team" and team_a["officers"] == \
        catalog.departments["TOWN"].officers_per_township
    # the district's departments keep their own rankings
    assert {row["ranking"] for u, row in rows.items() if not u.startswith("TOWN@")} <= {"lead", "assist"}
