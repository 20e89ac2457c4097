"""GET /api/v1/assignments: assignments across cases for the consoles — scope, open/closed, order, pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo
from tests.api.callers import SwitchedClient, switched_client
from tests.dispatch.helpers import T0, new_case


class Api(SwitchedClient):
    def list(self, caller: Caller, **params: Any) -> Any:
        return self.call("GET", "/api/v1/assignments", caller, params={"limit": 1000, **params})


@pytest.fixture
def api(platform: Platform, db: Session) -> Iterator[Api]:
    with switched_client(platform, db, T0, Api) as api:
        yield api


@pytest.fixture
def cases(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> dict[str, Any]:
    """Sand mining and a smoke case in township A (sand whistled an hour later), a smoke case in township B."""
    villages = jurisdiction.villages
    va = villages.iloc[20]
    town_a = va["township_code"]
    vb = villages[villages["township_code"] != town_a].iloc[0]
    town_b = vb["township_code"]
    sand = new_case(db, locator, catalog, va.geometry.x, va.geometry.y, category="MIN-02")
    smoke_a = new_case(db, locator, catalog, va.geometry.x + 0.002, va.geometry.y, category="ENV-01")
    smoke_b = new_case(db, locator, catalog, vb.geometry.x, vb.geometry.y, category="ENV-01")
    whistle(db, catalog=catalog, incident_ids=[sand.id], mode=TOWNSHIP, whistler=town_a, at=T0 + timedelta(hours=1))
    whistle(db, catalog=catalog, incident_ids=[smoke_a.id], mode=TOWNSHIP, whistler=town_a, at=T0)
    whistle(db, catalog=catalog, incident_ids=[smoke_b.id], mode=TOWNSHIP, whistler=town_b, at=T0)
    assigned = {name: dispatch_repo.assignments_of(db, incident_id=c.id)
                for name, c in (("sand", sand), ("smoke_a", smoke_a), ("smoke_b", smoke_b))}
    return {"town_a": town_a, "town_b": town_b, "sand": sand, "smoke_a": smoke_a, "smoke_b": smoke_b,
            "assigned": assigned}


def ids(r: Any) -> list[int]:
    assert r.status_code == 200, r.text
    body = r.json()
    return [a["id"] for a in body["data"]]


def test_district_sees_all_soonest_due_first(api: Api, cases: dict[str, Any], catalog: Catalog) -> None:
    sup = Caller("sup", Role.SUPERVISOR, "district", "district")
    r = api.list(sup)
    mine = {a.id for group in cases["assigned"].values() for a in group}
    assert mine <= set(ids(r))
    dues = [a["report_in_due"] for a in r.json()["data"]]
    assert dues == sorted(dues)  # same offset everywhere: text order is time order
    sand = next(a for a in r.json()["data"] if a["incident_id"] == str(cases["sand"].id) and a["role"] == "lead")
    assert sand["category"] == "MIN-02" and sand["category_zh"] == catalog.categories["MIN-02"].zh
    assert sand["township_code"] == cases["town_a"] and sand["township_name"]
    assert sand["village_name"] and sand["village_name"] == cases["sand"].village_name  # 18 sites tell apart
    assert sand["case_status"] == "whistled" and sand["status"] == "summoned"
    assert abs(sand["lon"] - cases["sand"].lon) < 1e-9 and sand["observed_at"].endswith("+08:00")
    assert sand["department_name"] == catalog.departments[sand["department"]].zh


def test_scopes(api: Api, cases: dict[str, Any]) -> None:
    town_a, town_b = cases["town_a"], cases["town_b"]
    in_a = {a.id for c in ("sand", "smoke_a") for a in cases["assigned"][c]}
    in_b = {a.id for a in cases["assigned"]["smoke_b"]}
    township_a = Caller("ta", Role.TOWNSHIP_DISPATCHER, "township", town_a)
    assert set(ids(api.list(township_a))) == in_a
    assert ids(api.list(township_a, township=town_b)) == []  # outside its scope: nothing, not a refusal
    assert api.list(township_a, township=town_b).json()["count"] == 0

    lead = cases["assigned"]["sand"][0].department
    officer = Caller("o", Role.DEPARTMENT_OFFICER, "department", lead)
    got = api.list(officer).json()["data"]
    assert got and {a["department"] for a in got} == {lead}
    assert {a.id for g in cases["assigned"].values() for a in g if a.department == lead} <= {a["id"] for a in got}
    other = next(d for d in ("AGRI", "HOUSING", "FIRE") if d != lead)
    assert ids(api.list(officer, department=other)) == []
    chief = Caller("c", Role.DEPARTMENT_CHIEF, "department", lead)
    assert set(ids(api.list(chief, township=town_b))) == {a.id for a in cases["assigned"]["smoke_b"]
                                                         if a.department == lead}

    sup = Caller("sup", Role.SUPERVISOR, "district", "district")
    assert set(ids(api.list(sup, township=town_b))) == in_b
    assert {a["department"] for a in api.list(sup, department=lead).json()["data"]} == {lead}
    patrol = Caller("p", Role.PATROL, "township", town_a)
    assert api.list(patrol).status_code == 403


def test_open_and_closed(api: Api, db: Session, cases: dict[str, Any]) -> None:
    town_a = cases["town_a"]
    township_a = Caller("ta", Role.TOWNSHIP_DISPATCHER, "township", town_a)
    in_a = [a.id for c in ("sand", "smoke_a") for a in cases["assigned"][c]]
    assert len(in_a) >= 3
    dispatch_repo.update_assignment(db, assignment_id=in_a[0], status="done", done_at=T0 + timedelta(hours=3))
    dispatch_repo.update_assignment(db, assignment_id=in_a[1], status="released")
    dispatch_repo.update_assignment(db, assignment_id=in_a[2], status="acting")
    assert set(ids(api.list(township_a, open="true"))) == set(in_a[2:])
    assert set(ids(api.list(township_a, open="false"))) == set(in_a[:2])
    assert set(ids(api.list(township_a))) == set(in_a)
    assert api.list(township_a, open="maybe").status_code == 422


def test_pages(api: Api, cases: dict[str, Any]) -> None:
    township_a = Caller("ta", Role.TOWNSHIP_DISPATCHER, "township", cases["town_a"])
    everything = ids(api.list(township_a))
    assert len(everything) >= 3
    page = api.list(township_a, limit=2, offset=1).json()
    assert [a["id"] for a in page["data"]] == everything[1:3] and page["count"] == len(everything)
    beyond = api.list(township_a, limit=2, offset=1000).json()
    assert beyond["data"] == [] and beyond["count"] == len(everything)
    assert api.list(township_a, limit=0).status_code == 422


@pytest.mark.parametrize(("params", "field"), [({"department": "NOBODY"}, "department"),
                                               ({"township": "110117999"}, "township")])
def test_a_filter_that_names_nothing_is_refused(api: Api, cases: dict[str, Any], params: dict[str, str],
                                                field: str) -> None:
    for caller in (Caller("sup", Role.SUPERVISOR, "district", "district"),
                   Caller("ta", Role.TOWNSHIP_DISPATCHER, "township", cases["town_a"])):
        r = api.list(caller, **params)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
        assert repr(params[field]) in r.json()["error"]["message"]
    sup = Caller("sup", Role.SUPERVISOR, "district", "district")
    lead = cases["assigned"]["sand"][0].department
    assert ids(api.list(sup, department=lead, township=cases["town_a"]))  # known codes still answer


def test_the_township_filters_take_a_name_as_well_as_a_code(api: Api, cases: dict[str, Any], db: Session) -> None:
    """/assignments, /events and /follow-ups take the township by its name as the incident list does."""
    from sqlalchemy import text

    from gis_enforcement.domain.names import short_township

    sup = Caller("sup", Role.SUPERVISOR, "district", "district")
    name = db.execute(text("SELECT name FROM township WHERE code = :c"), {"c": cases["town_b"]}).scalar_one()
    by_code = ids(api.list(sup, township=cases["town_b"]))
    assert by_code and ids(api.list(sup, township=short_township(name))) == by_code
    assert ids(api.list(sup, township=name)) == by_code
    for path in ("/api/v1/events", "/api/v1/follow-ups"):
        coded = api.call("GET", path, sup, params={"township": cases["town_b"]})
        named = api.call("GET", path, sup, params={"township": short_township(name)})
        assert coded.status_code == named.status_code == 200, (path, named.text)
        assert coded.json()["data"] == named.json()["data"], path
        bad = api.call("GET", path, sup, params={"township": "月球镇"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "township", (path, bad.text)
