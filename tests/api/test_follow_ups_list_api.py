"""GET /api/v1/follow-ups — 部门要求、街乡落实 tasks as the township's desk and the asking department read them,
on the test's rolled-back PostGIS session, each caller in its own scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import pytest
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.dispatch import on_site
from gis_enforcement.dispatch.follow_up import complete_follow_up, request_follow_up
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from tests.api.callers import ADMIN, SwitchedClient, switched_client
from tests.dispatch.helpers import TZ, new_case

NOW = datetime(2026, 9, 23, 10, 0, tzinfo=TZ)  # a Wednesday


@dataclass(frozen=True)
class Tasks:
    town_a: str
    town_b: str
    dept_a: str
    dept_b: str
    case_a: str
    first: int    # on case A, 1 working day (due Thursday 24:00)
    second: int   # on case A, 5 working days
    other: int    # on case B, handed to township B


@pytest.fixture
def api(platform: Platform, db: Session) -> Iterator[SwitchedClient]:
    with switched_client(platform, db, NOW, SwitchedClient) as c:
        yield c


def _acting_case(db: Session, catalog: Catalog, locator: Locator, village: object) -> tuple[UUID, str]:
    x, y = village.geometry.x, village.geometry.y  # type: ignore[attr-defined]
    inc = new_case(db, locator, catalog, x, y)
    whistle(db, catalog=catalog, incident_ids=[inc.id], mode=TOWNSHIP, whistler=village["township_code"],  # type: ignore[index]
            at=NOW)
    lead = inc.lead_department
    assert lead is not None
    on_site.report_in(db, catalog=catalog, incident_id=inc.id, department=lead, lon=x, lat=y, accuracy_m=5,
                      server_time=NOW + timedelta(minutes=10))
    on_site.start_action(db, incident_id=inc.id, department=lead, at=NOW + timedelta(minutes=20))
    return inc.id, lead


@pytest.fixture
def tasks(db: Session, platform: Platform, catalog: Catalog, locator: Locator, jurisdiction: Jurisdiction) -> Tasks:
    villages = jurisdiction.villages
    a = villages.iloc[12]
    b = villages[(villages["township_code"] != a["township_code"])].iloc[0]
    case_a, dept_a = _acting_case(db, catalog, locator, a)
    case_b, dept_b = _acting_case(db, catalog, locator, b)
    at = NOW + timedelta(minutes=30)
    cal = platform.calendar
    second = request_follow_up(db, calendar=cal, incident_id=case_a, department=dept_a,
                               task="纳入村日常巡查", working_days=5, at=at)
    first = request_follow_up(db, calendar=cal, incident_id=case_a, department=dept_a,
                              task="恢复河道原貌", working_days=1, at=at)
    other = request_follow_up(db, calendar=cal, incident_id=case_b, department=dept_b,
                              task="设置警示牌", working_days=3, at=at)
    return Tasks(town_a=a["township_code"], town_b=b["township_code"], dept_a=dept_a, dept_b=dept_b, case_a=str(case_a),
                 first=first, second=second, other=other)


def _ids(api: SwitchedClient, caller: Caller, **params: object) -> list[int]:
    r = api.call("GET", "/api/v1/follow-ups", caller, params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] >= len(body["data"])
    return [t["id"] for t in body["data"]]


def test_the_township_reads_its_tasks_soonest_due_first_with_case_and_countdown(
        api: SwitchedClient, tasks: Tasks, catalog: Catalog) -> None:
    town = Caller("town-a", Role.TOWNSHIP_DISPATCHER, "township", tasks.town_a)
    assert _ids(api, town) == [tasks.first, tasks.second]  # not township B's
    body = api.call("GET", "/api/v1/follow-ups", town).json()
    first = body["data"][0]
    assert body["count"] == 2
    assert first["incident_id"] == tasks.case_a and first["township_code"] == tasks.town_a
    assert first["category"] == "ENV-01" and first["category_name"] == catalog.categories["ENV-01"].zh
    assert first["village_name"] and first["township_name"]
    assert first["department"] == tasks.dept_a and first["department_name"] == catalog.departments[tasks.dept_a].zh
    assert first["task"] == "恢复河道原貌" and first["status"] == "open" and first["done_at"] is None
    assert first["due_at"] == "2026-09-25T00:00:00+08:00" and first["requested_at"].endswith("+08:00")
    assert first["overdue"] is False and first["minutes_to_due"] == 38 * 60  # Wed 10:00 → Fri 00:00
    # past its due time: overdue, the minutes negative; the filter finds it
    api.now = datetime(2026, 9, 25, 1, 30, tzinfo=TZ)
    late = api.call("GET", "/api/v1/follow-ups", town, params={"overdue": "true"}).json()
    assert [t["id"] for t in late["data"]] == [tasks.first] and late["count"] == 1
    assert late["data"][0]["overdue"] is True and late["data"][0]["minutes_to_due"] == -90
    assert _ids(api, town, overdue="false") == [tasks.second]
    # another township's tasks are refused by name, an unknown township too
    r = api.call("GET", "/api/v1/follow-ups", town, params={"township": tasks.town_b})
    assert r.status_code == 403 and r.json()["error"]["field"] == "township"
    r = api.call("GET", "/api/v1/follow-ups", town, params={"township": "110117999"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "township"


def test_done_tasks_follow_the_open_ones_and_carry_their_note(api: SwitchedClient, db: Session, tasks: Tasks) -> None:
    town = Caller("town-a", Role.TOWNSHIP_DISPATCHER, "township", tasks.town_a)
    complete_follow_up(db, task_id=tasks.first, township=tasks.town_a, at=datetime(2026, 9, 25, 2, 0, tzinfo=TZ),
                       note="已安排村委会巡看")
    data = api.call("GET", "/api/v1/follow-ups", town).json()["data"]
    assert [t["id"] for t in data] == [tasks.second, tasks.first]
    done = data[1]
    assert done["status"] == "done" and done["done_note"] == "已安排村委会巡看"
    assert done["done_at"] == "2026-09-25T02:00:00+08:00"
    assert done["overdue"] is False and done["minutes_to_due"] == -120  # done two hours late
    assert _ids(api, town, status="open") == [tasks.second]
    assert _ids(api, town, status="done") == [tasks.first]
    assert api.call("GET", "/api/v1/follow-ups", town, params={"status": "late"}).status_code == 422


def test_a_department_reads_what_it_asked_for_and_the_district_everything(api: SwitchedClient, tasks: Tasks,
                                                                          catalog: Catalog) -> None:
    asked = {tasks.first: tasks.dept_a, tasks.second: tasks.dept_a, tasks.other: tasks.dept_b}
    chief = Caller("chief", Role.DEPARTMENT_CHIEF, "department", tasks.dept_a)
    assert set(_ids(api, chief)) == {t for t, d in asked.items() if d == tasks.dept_a}
    idle = next(d for d in catalog.departments if d not in (tasks.dept_a, tasks.dept_b))
    officer = Caller("officer", Role.DEPARTMENT_OFFICER, "department", idle)
    assert _ids(api, officer) == []
    r = api.call("GET", "/api/v1/follow-ups", officer, params={"department": tasks.dept_a})
    assert r.status_code == 403 and r.json()["error"]["field"] == "department"
    r = api.call("GET", "/api/v1/follow-ups", officer, params={"department": "NOPE"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "department"
    patrol = Caller("patrol", Role.PATROL, "township", tasks.town_a)
    assert api.call("GET", "/api/v1/follow-ups", patrol).status_code == 403
    assert {tasks.first, tasks.second, tasks.other} <= set(_ids(api, ADMIN))
    assert _ids(api, ADMIN, township=tasks.town_b) == [tasks.other]
    assert _ids(api, ADMIN, department=tasks.dept_b, township=tasks.town_b) == [tasks.other]
    assert _ids(api, ADMIN, incident_id=tasks.case_a) == [tasks.first, tasks.second]
    assert _ids(api, ADMIN, incident_id=tasks.case_a, limit=1, offset=1) == [tasks.second]
