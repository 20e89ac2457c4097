"""GET /api/v1/desk — what needs a township's desk now, counted on real PostGIS, each count with its cases."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.api.routers import desk
from gis_enforcement.dispatch import on_site, resolution
from gis_enforcement.dispatch.follow_up import request_follow_up
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.api.callers import ADMIN, SwitchedClient, switched_client
from tests.dispatch.helpers import METRE, T0, new_case

NOW = T0 + timedelta(days=5)  # T0 is a Tuesday night: a task of one working day is overdue by then


@dataclass(frozen=True)
class Desk:
    town: str
    neighbour: str
    reported: str
    unclassified: str
    whistled: str      # an assist declined, the others never reported in
    resolved: str      # awaiting the township's check, with two follow-up tasks
    border: str        # the neighbour's report flagged near this township's border
    late_task: int
    open_task: int


@pytest.fixture
def api(platform: Platform, db: Session) -> Iterator[SwitchedClient]:
    with switched_client(platform, db, NOW, SwitchedClient) as c:
        yield c


@pytest.fixture
def world(db: Session, platform: Platform, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction) -> Desk:
    villages = jurisdiction.villages
    v = villages.iloc[12]
    x, y, town = v.geometry.x, v.geometry.y, v["township_code"]
    n = villages[villages["township_code"] != town].iloc[0]
    neighbour = n["township_code"]

    def at(i: int, category: str = "ENV-01") -> UUID:
        inc = new_case(db, locator, catalog, x + i * 30 * METRE, y, category=category)
        assert inc.township_code == town
        return inc.id

    reported, unclassified = at(0), at(1, "OTH-00")
    db.execute(text("UPDATE incident SET received_at = received_at - interval '1 hour' WHERE id = :id"),
               {"id": reported})  # (one transaction: the same received_at otherwise)
    assert catalog.categories["OTH-00"].classify_first
    whistled = at(2)
    result = whistle(db, catalog=catalog, incident_ids=[whistled], mode=TOWNSHIP, whistler=town, at=T0)
    assists = [a for a in result.assignments if a.role == "assist"]
    assert assists, "ENV-01 summons assisting departments"
    on_site.decline(db, catalog=catalog, incident_id=whistled, department=assists[0].department,
                    reason="不属本部门职责", ground=None, at=T0 + timedelta(minutes=5))

    resolved = at(3)
    result = whistle(db, catalog=catalog, incident_ids=[resolved], mode=TOWNSHIP, whistler=town, at=T0)
    lead = result.assignments[0].department
    for a in result.assignments:
        on_site.report_in(db, catalog=catalog, incident_id=resolved, department=a.department, lon=x + 90 * METRE,
                          lat=y, accuracy_m=5, server_time=T0 + timedelta(minutes=5))
    on_site.start_action(db, incident_id=resolved, department=lead, at=T0 + timedelta(minutes=30))
    on_site.complete(db, incident_id=resolved, department=lead, at=T0 + timedelta(hours=3))
    resolution.resolve(db, incident_id=resolved, department=lead, at=T0 + timedelta(hours=3), summary="已处置")
    tasks = [request_follow_up(db, calendar=platform.calendar, incident_id=resolved, department=lead,
                               task=task, working_days=days, at=T0 + timedelta(hours=4))
             for task, days in (("纳入村日常巡查", 30), ("恢复河道原貌", 1))]

    def neighbours(flagged: bool) -> UUID:
        inc = new_case(db, locator, catalog, n.geometry.x, n.geometry.y)
        if flagged:
            db.execute(text("UPDATE incident SET border_townships = ARRAY[:t] WHERE id = :id"),
                       {"t": town, "id": inc.id})
        return inc.id

    border = neighbours(True)
    neighbours(False)  # not near the border: not this desk's
    flagged_whistled = neighbours(True)  # near the border but already whistled: not waiting
    whistle(db, catalog=catalog, incident_ids=[flagged_whistled], mode=TOWNSHIP, whistler=neighbour, at=T0)
    return Desk(town=town, neighbour=neighbour, reported=str(reported), unclassified=str(unclassified),
                whistled=str(whistled), resolved=str(resolved), border=str(border), late_task=tasks[1],
                open_task=tasks[0])


def _items(body: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {i["key"]: i for i in body["items"]}


def test_the_desk_counts_what_waits_for_the_township(api: SwitchedClient, world: Desk) -> None:
    town = Caller("town", Role.TOWNSHIP_DISPATCHER, "township", world.town)
    r = api.call("GET", "/api/v1/desk", town)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["township"] == world.town and body["township_name"] and body["at"].endswith("+08:00")
    assert [i["key"] for i in body["items"]] == list(desk.DESK_LABELS)
    items = _items(body)
    expected = {
        "triage": [world.reported, world.unclassified],  # the longest waiting first
        "classify": [world.unclassified],
        "declined": [world.whistled],
        "report_in_overdue": [world.whistled],  # one case, however many departments are absent
        "verify": [world.resolved],
        "follow_ups_open": [world.resolved, world.resolved],
        "follow_ups_overdue": [world.resolved],
        "border_reported": [world.border],
    }
    assert {k: i["incident_ids"] for k, i in items.items()} == expected
    assert {k: i["count"] for k, i in items.items()} == {k: len(v) for k, v in expected.items()}
    assert items["follow_ups_open"]["task_ids"] == [world.late_task, world.open_task]  # soonest due first
    assert items["follow_ups_overdue"]["task_ids"] == [world.late_task]
    assert items["triage"]["task_ids"] is None and items["triage"]["label"] == "待分拣"
    # the district reads the same desk by naming the township; an hour after the whistle nothing was late yet
    api.now = T0 + timedelta(minutes=1)
    early = _items(api.call("GET", "/api/v1/desk", ADMIN, params={"township": world.town}).json())
    assert early["report_in_overdue"]["count"] == 0 and early["follow_ups_overdue"]["count"] == 0
    assert early["follow_ups_open"]["count"] == 2


def test_the_ids_are_capped_but_not_the_count(api: SwitchedClient, world: Desk,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desk, "DESK_IDS", 1)
    triage = _items(api.call("GET", "/api/v1/desk", ADMIN, params={"township": world.town}).json())["triage"]
    assert triage["count"] == 2 and triage["incident_ids"] == [world.reported]


def test_only_the_townships_own_desk_and_the_districts(api: SwitchedClient, world: Desk) -> None:
    other = Caller("other", Role.TOWNSHIP_DISPATCHER, "township", world.neighbour)
    r = api.call("GET", "/api/v1/desk", other, params={"township": world.town})
    assert r.status_code == 403 and r.json()["error"]["field"] == "township"
    own = _items(api.call("GET", "/api/v1/desk", other).json())  # its own desk: the neighbour's report is its own
    assert world.border in own["triage"]["incident_ids"] and own["border_reported"]["count"] == 0
    for role in (Role.DEPARTMENT_CHIEF, Role.DEPARTMENT_OFFICER):
        r = api.call("GET", "/api/v1/desk", Caller("d", role, "department", "WATER"),
                     params={"township": world.town})
        assert r.status_code == 403 and r.json()["error"]["field"] == "role"
    r = api.call("GET", "/api/v1/desk", Caller("p", Role.PATROL, "township", world.town))
    assert r.status_code == 403
    r = api.call("GET", "/api/v1/desk", ADMIN)
    assert r.status_code == 422 and r.json()["error"]["field"] == "township"
    r = api.call("GET", "/api/v1/desk", ADMIN, params={"township": "110117999"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "township"
    sup = Caller("s", Role.SUPERVISOR, "district", "district")
    assert api.call("GET", "/api/v1/desk", sup, params={"township": world.town}).status_code == 200
