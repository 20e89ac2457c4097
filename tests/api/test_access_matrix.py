"""The authorization matrix: every route × every role × in and out of scope, with real tokens.

Each route of the API is listed below with the roles that may use it on a case (or unit) of their own; the test
signs in as each role — once for the unit that owns the case, once for another unit — and fails on any
unexpected allow (and on any unexpected refusal, which would be a broken route). "Allowed" means the request
got past authentication and authorization (any status but 401/403; 404/409/422 are the route's own answers to
a request it was allowed to make); "denied" means 403 (401 without credentials). Every route not listed as
public must be in the table, so a new route without a decision fails here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.credentials import issue_tokens
from gis_enforcement.admin.platform import Platform
from gis_enforcement.admin.users import add_user
from gis_enforcement.api import create_app
from gis_enforcement.api.deps import get_session
from gis_enforcement.api.routers.dispatch import get_clock
from gis_enforcement.dispatch.photos import add_photo
from gis_enforcement.dispatch.whistle import TOWNSHIP, whistle
from gis_enforcement.domain.catalog import Catalog
from gis_enforcement.domain.tracks import parse_track
from gis_enforcement.layers.jurisdiction import Jurisdiction
from gis_enforcement.layers.locator import Locator
from gis_enforcement.storage import dispatch_repo, track_repo
from tests.api.test_photos_api import jpeg
from tests.dispatch.helpers import T0, new_case

PASSWORD = "matrix-test-password-1"
#: routes anyone may call (monitoring, signing in, the API's own description, GeoReport's discovery documents)
PUBLIC = {"health", "sign_in", "who_am_i", "open311_services", "open311_service_definition"}
ALL = ("patrol", "township", "officer", "chief", "supervisor", "admin")


@dataclass(frozen=True)
class World:
    case: str          # a whistled case of township A, lead department D1
    border_case: str   # a case of township B flagged near A's border
    assignment: int    # D1's assignment on the case
    town_a: str
    town_b: str
    town_c: str
    dept_1: str
    dept_2: str
    photo: str         # a photo on the case
    track: str         # a patrol track recorded by patrol-in for township A


@dataclass(frozen=True)
class Route:
    op: str
    method: str
    path: Callable[[World], str]
    allowed: tuple[str, ...]          # roles allowed on their own case/unit
    scoped: bool = True               # False: the role is enough (lists filter by scope instead of refusing)
    body: Callable[[World, str], Any] | None = None  # (world, caller kind) → JSON body
    params: dict[str, Any] | None = None  # (replace a query written in the path: put it in one or the other)
    form: bool = False
    upload: bool = False  # body is multipart files
    hidden: bool = False  # out of scope the resource is not found (404) rather than refused: filtered reads


def _whistle_body(w: World, kind: str) -> dict[str, Any]:
    if kind in ("officer", "chief"):
        return {"mode": "lead_department", "whistler": w.dept_1}
    return {"mode": "township", "whistler": w.town_a}


def _report_in(w: World, kind: str) -> dict[str, Any]:
    return {"lon": 117.1, "lat": 40.1, "accuracy_m": 5}


def _action(w: World, kind: str) -> dict[str, Any]:
    return {"action_type": "责令停止违法行为", "officer": "李伟"}


CASE = "/api/v1/incidents/{w.case}"
ROUTES: list[Route] = [
    Route("create_incidents", "POST", lambda w: "/api/v1/incidents", ("patrol", "township", "admin"), scoped=False,
          body=lambda w, k: {"type": "Feature", "id": str(uuid.uuid4()),
                             "geometry": {"type": "Point", "coordinates": [117.12, 40.14]},
                             "properties": {"category": "ENV-01", "observed_at": "2026-05-12T22:00:00+08:00",
                                            "accuracy_m": 6}}),
    Route("list_incidents", "GET", lambda w: "/api/v1/incidents", ALL, scoped=False),
    Route("list_my_reports", "GET", lambda w: "/api/v1/incidents/mine", ALL, scoped=False),
    Route("export_incidents", "GET", lambda w: "/api/v1/exports/incidents.csv", ALL, scoped=False),
    Route("get_export", "GET", lambda w: f"/api/v1/exports/{'0' * 32}", ALL, scoped=False),
    Route("get_incident", "GET", lambda w: f"/api/v1/incidents/{w.case}", ALL),
    Route("whistle_incident", "POST", lambda w: f"/api/v1/incidents/{w.case}/whistle",
          ("township", "officer", "chief", "admin"), body=_whistle_body),
    Route("list_assignments", "GET", lambda w: f"/api/v1/incidents/{w.case}/assignments",
          ("township", "officer", "chief", "supervisor", "admin")),
    Route("report_in", "POST", lambda w: f"/api/v1/incidents/{w.case}/assignments/{w.dept_1}/report-in",
          ("officer", "chief", "admin"), body=_report_in),
    Route("start_action", "POST", lambda w: f"/api/v1/incidents/{w.case}/assignments/{w.dept_1}/start",
          ("officer", "chief", "admin")),
    Route("complete_assignment", "POST", lambda w: f"/api/v1/incidents/{w.case}/assignments/{w.dept_1}/complete",
          ("officer", "chief", "admin")),
    Route("decline_assignment", "POST", lambda w: f"/api/v1/incidents/{w.case}/assignments/{w.dept_1}/decline",
          ("chief", "admin"), body=lambda w, k: {"reason": "不属本部门职责"}),
    Route("overrule_decline", "POST", lambda w: f"/api/v1/incidents/{w.case}/assignments/{w.dept_1}/overrule",
          ("township", "supervisor", "admin"), body=lambda w, k: {"reason": "权责清单明确"}),
    Route("release_assignment", "POST", lambda w: f"/api/v1/incidents/{w.case}/assignments/{w.dept_1}/release",
          ("township", "supervisor", "admin"), body=lambda w, k: {"reason": "现场已处置"}),
    Route("record_action", "POST", lambda w: f"/api/v1/incidents/{w.case}/assignments/{w.dept_1}/actions",
          ("officer", "chief", "admin"), body=_action),
    Route("resolve_incident", "POST", lambda w: f"/api/v1/incidents/{w.case}/resolve", ("officer", "chief", "admin"),
          body=lambda w, k: {"department": w.dept_1, "summary": "已整改"}),
    Route("resume_incident", "POST", lambda w: f"/api/v1/incidents/{w.case}/resume", ("officer", "chief", "admin"),
          body=lambda w, k: {"department": w.dept_1}),
    Route("verify_incident", "POST", lambda w: f"/api/v1/incidents/{w.case}/verify", ("township", "admin"),
          body=lambda w, k: {"township": w.town_a}),
    Route("close_incident", "POST", lambda w: f"/api/v1/incidents/{w.case}/close", ("township", "admin"),
          body=lambda w, k: {"township": w.town_a}),
    Route("reopen_incident", "POST", lambda w: f"/api/v1/incidents/{w.case}/reopen", ("township", "admin"),
          body=lambda w, k: {"township": w.town_a, "reason": "现场复查仍有违法行为"}),
    # triage: the whistled case refuses each (422), so the matrix leaves it as it was
    Route("mark_duplicate", "POST", lambda w: f"/api/v1/incidents/{w.case}/mark-duplicate", ("township", "admin"),
          body=lambda w, k: {"township": w.town_a, "duplicate_of": w.border_case}),
    Route("reject_incident", "POST", lambda w: f"/api/v1/incidents/{w.case}/reject", ("township", "admin"),
          body=lambda w, k: {"township": w.town_a, "reason": "现场无违法行为"}),
    Route("reinstate_incident", "POST", lambda w: f"/api/v1/incidents/{w.case}/reinstate", ("township", "admin"),
          body=lambda w, k: {"township": w.town_a, "reason": "误判"}),
    Route("reclassify_incident", "POST", lambda w: f"/api/v1/incidents/{w.case}/reclassify", ("township", "admin"),
          body=lambda w, k: {"township": w.town_a, "category": "NOPE-0"}),
    Route("get_timeline", "GET", lambda w: f"/api/v1/incidents/{w.case}/timeline", ALL),
    Route("list_all_assignments", "GET", lambda w: "/api/v1/assignments",
          ("township", "officer", "chief", "supervisor", "admin"), scoped=False, params={"open": "true"}),
    Route("get_assignment", "GET", lambda w: f"/api/v1/assignments/{w.assignment}",
          ("township", "officer", "chief", "supervisor", "admin")),
    Route("report_in_by_id", "POST", lambda w: f"/api/v1/assignments/{w.assignment}/report-in",
          ("officer", "chief", "admin"), body=_report_in),
    Route("decline_by_id", "POST", lambda w: f"/api/v1/assignments/{w.assignment}/decline", ("chief", "admin"),
          body=lambda w, k: {"reason": "不属本部门职责"}),
    Route("record_action_by_id", "POST", lambda w: f"/api/v1/assignments/{w.assignment}/actions",
          ("officer", "chief", "admin"), body=_action),
    Route("rate_attendance", "POST", lambda w: f"/api/v1/assignments/{w.assignment}/rating", ("township", "admin"),
          body=lambda w, k: {"township": w.town_a, "timeliness": 4, "adequacy": 4}),
    Route("list_warnings", "GET", lambda w: "/api/v1/warnings", ("township", "chief", "supervisor", "admin"),
          scoped=False),
    Route("request_follow_up", "POST", lambda w: f"/api/v1/incidents/{w.case}/follow-ups",
          ("officer", "chief", "admin"),
          body=lambda w, k: {"department": w.dept_1, "task": "纳入日常巡查", "working_days": 5}),
    Route("complete_follow_up", "POST", lambda w: "/api/v1/follow-ups/987654/done", ("township", "admin"),
          body=lambda w, k: {"township": w.town_a, "note": "已落实"}),
    # a township's own tasks, those a department asked for, every one for the district (filtered, not refused)
    Route("list_follow_ups", "GET", lambda w: "/api/v1/follow-ups",
          ("township", "officer", "chief", "supervisor", "admin"), scoped=False),
    # what waits for a township's desk: its own dispatcher, and the district for any township
    Route("township_desk", "GET", lambda w: f"/api/v1/desk?township={w.town_a}", ("township", "supervisor", "admin")),
    # the district's evaluation, and a township's view of the departments' record on its own cases (403 on
    # another township's); the district-wide view and by=township are tested in test_township_reads_api.py
    Route("evaluation", "GET", lambda w: f"/api/v1/evaluation?period=2026-05&township={w.town_a}",
          ("township", "supervisor", "admin")),
    Route("evaluation_compare", "GET", lambda w: "/api/v1/evaluation/compare", ("supervisor", "admin"), scoped=False,
          params={"before": "2025", "after": "2026"}),
    Route("list_events", "GET", lambda w: "/api/v1/events", ("township", "officer", "chief", "supervisor", "admin"),
          scoped=False),
    Route("stream_events", "GET", lambda w: "/api/v1/events/stream",
          ("township", "officer", "chief", "supervisor", "admin"), scoped=False, params={"timeout": 0.2}),
    Route("list_webhooks", "GET", lambda w: "/api/v1/webhooks", ("supervisor", "admin"), scoped=False),
    Route("create_webhook", "POST", lambda w: "/api/v1/webhooks", ("admin",), scoped=False,
          body=lambda w, k: {"url": "http://127.0.0.1:9/hook", "secret": "s" * 20}),
    Route("pause_or_resume_webhook", "POST", lambda w: "/api/v1/webhooks/987654/pause", ("admin",), scoped=False),
    Route("delete_webhook", "DELETE", lambda w: "/api/v1/webhooks/987654", ("admin",), scoped=False),
    # the analyses of one township: its own dispatcher (another township is 403) and the district
    Route("hotspots", "GET", lambda w: f"/api/v1/hotspots?period=2026-05&township={w.town_a}",
          ("township", "supervisor", "admin")),
    Route("emerging_hotspots", "GET", lambda w: f"/api/v1/hotspots/emerging?period=2026-05&township={w.town_a}",
          ("township", "supervisor", "admin")),
    Route("recurring_sites", "GET", lambda w: f"/api/v1/sites?township={w.town_a}",
          ("township", "supervisor", "admin")),
    Route("hotspot_runs", "GET", lambda w: "/api/v1/hotspots/runs", ("supervisor", "admin"), scoped=False),
    Route("category_trends", "GET", lambda w: f"/api/v1/trends?township={w.town_a}",
          ("township", "supervisor", "admin")),
    Route("create_plan", "POST", lambda w: "/api/v1/plans", ("supervisor", "admin"), scoped=False,
          body=lambda w, k: {"start": "not a time"}),
    Route("list_plans", "GET", lambda w: "/api/v1/plans", ("supervisor", "admin"), scoped=False),
    Route("get_plan", "GET", lambda w: "/api/v1/plans/987654", ("supervisor", "admin"), scoped=False),
    Route("execute_plan", "POST", lambda w: "/api/v1/plans/987654/execute", ("supervisor", "admin"), scoped=False),
    # the written map pages are drawn district-wide: the district only
    Route("list_maps", "GET", lambda w: "/maps", ("supervisor", "admin"), scoped=False),
    Route("get_map", "GET", lambda w: "/maps/nothing-here", ("supervisor", "admin"), scoped=False),
    Route("get_map_tile", "GET", lambda w: "/maps/tiles/none/1/1/1.png", ("supervisor", "admin"), scoped=False),
    # the lists the pages offer as choices: every signed-in role
    Route("list_categories", "GET", lambda w: "/api/v1/catalog/categories", ALL, scoped=False),
    Route("list_departments", "GET", lambda w: "/api/v1/catalog/departments", ALL, scoped=False),
    # patrol tracks: recorded by patrols (a new id each call), read by the recorder, its township and the district
    Route("put_track", "PUT", lambda w: f"/api/v1/tracks/{uuid.uuid4()}", ("patrol", "admin"), scoped=False,
          body=lambda w, k: {"type": "Feature", "geometry": {"type": "LineString",
                                                             "coordinates": [[117.12, 40.14], [117.121, 40.141]]},
                             "properties": {"times": ["2026-05-12T22:00:00+08:00", "2026-05-12T22:00:10+08:00"]}}),
    Route("get_track", "GET", lambda w: f"/api/v1/tracks/{w.track}", ("patrol", "township", "supervisor", "admin")),
    Route("list_tracks", "GET", lambda w: "/api/v1/tracks", ("patrol", "township", "supervisor", "admin"),
          scoped=False),
    Route("get_track_coverage", "GET", lambda w: "/api/v1/tracks/coverage", ("patrol", "township", "supervisor",
                                                                          "admin"), scoped=False),
    # photos
    Route("add_photo", "POST", lambda w: f"/api/v1/incidents/{w.case}/photos",
          ("patrol", "township", "officer", "chief", "admin"), upload=True,
          body=lambda w, k: {"file": ("p.jpg", jpeg((len(k), 90, 140)))}),
    Route("list_photos", "GET", lambda w: f"/api/v1/incidents/{w.case}/photos", ALL),
    Route("get_photo", "GET", lambda w: f"/api/v1/photos/{w.photo}", ALL, hidden=True),
    # OGC API – Features: any signed-in caller; the incidents collection holds the caller's cases only
    Route("ogc_landing_page", "GET", lambda w: "/ogc", ALL, scoped=False),
    Route("ogc_conformance", "GET", lambda w: "/ogc/conformance", ALL, scoped=False),
    Route("ogc_collections", "GET", lambda w: "/ogc/collections", ALL, scoped=False),
    Route("ogc_collection", "GET", lambda w: "/ogc/collections/incidents", ALL, scoped=False),
    Route("ogc_items", "GET", lambda w: "/ogc/collections/incidents/items", ALL, scoped=False),
    Route("ogc_item", "GET", lambda w: f"/ogc/collections/incidents/items/{w.case}", ALL, hidden=True),
    # Open311 GeoReport v2
    # (the service list and definitions are public: PUBLIC above)
    Route("open311_requests", "GET", lambda w: "/open311/v2/requests.json", ALL, scoped=False),
    Route("open311_request", "GET", lambda w: f"/open311/v2/requests/{w.case}.json", ALL, hidden=True),
    Route("open311_token", "GET", lambda w: f"/open311/v2/tokens/{w.case}.json", ALL, hidden=True),
    Route("open311_create_request", "POST", lambda w: "/open311/v2/requests.json", ("patrol", "township", "admin"),
          scoped=False, form=True,
          body=lambda w, k: {"service_code": "ENV-01", "lat": "40.14", "long": "117.12", "description": "冒黑烟",
                             "device_id": k}),
]

ROLE_OF = {"patrol": "patrol", "township": "township_dispatcher", "officer": "department_officer",
           "chief": "department_chief", "supervisor": "supervisor", "admin": "admin"}


@pytest.fixture
def world(db: Session, locator: Locator, catalog: Catalog, jurisdiction: Jurisdiction, platform: Platform) -> World:
    villages = jurisdiction.villages
    a_village = villages.iloc[20]
    town_a = a_village["township_code"]
    others = [c for c in jurisdiction.townships["code"] if c != town_a]
    town_b, town_c = others[0], others[1]
    b_village = villages[villages["township_code"] == town_b].iloc[0]
    case = new_case(db, locator, catalog, a_village.geometry.x, a_village.geometry.y, category="MIN-02")
    border = new_case(db, locator, catalog, b_village.geometry.x, b_village.geometry.y, category="ENV-01")
    db.execute(text("UPDATE incident SET created_by = 'patrol-in' WHERE id = :id"), {"id": case.id})
    db.execute(text("UPDATE incident SET border_townships = ARRAY[:a], flags = array_append(flags, 'near_border') "
                    "WHERE id = :id"), {"a": town_a, "id": border.id})
    result = whistle(db, catalog=catalog, incident_ids=[case.id], mode=TOWNSHIP, whistler=town_a, at=T0)
    lead = result.assignments[0]
    summoned = {a.department for a in dispatch_repo.assignments_of(db, incident_id=case.id)}
    dept_2 = next(d for d in catalog.departments if d not in summoned)
    photo = add_photo(db, photos_dir=platform.settings.photos_dir, incident_id=case.id, data=jpeg(), added_by=None,
                      at=T0, tz="Asia/Shanghai", max_bytes=10**7, max_pixels=10**7)
    track = str(uuid.uuid4())
    vertices = parse_track(geometry_type="LineString", coordinates=[[117.12, 40.14], [117.121, 40.141]],
                           times=["2026-05-12T22:00:00+08:00", "2026-05-12T22:00:10+08:00"], now=T0)
    track_repo.upsert_track(db, track_id=track, officer="patrol-in", township_code=town_a, department=None,
                            vertices=vertices, at=T0)
    return World(case=str(case.id), border_case=str(border.id), assignment=lead.id, town_a=town_a, town_b=town_b,
                 town_c=town_c, dept_1=lead.department, dept_2=dept_2, photo=photo.sha256, track=track)


@pytest.fixture
def tokens(db: Session, platform: Platform, catalog: Catalog, world: World) -> dict[str, str]:
    """An access token per (kind, in|out): the unit owning the case, and another unit of the same kind."""
    units = {"patrol": (world.town_a, world.town_a), "township": (world.town_a, world.town_c),
             "officer": (world.dept_1, world.dept_2), "chief": (world.dept_1, world.dept_2),
             "supervisor": ("district", "district"), "admin": ("district", "district")}
    out: dict[str, str] = {}
    for kind, (inside, outside) in units.items():
        for where, unit in (("in", inside), ("out", outside)):
            user = add_user(db, catalog=catalog, username=f"{kind}-{where}", password=PASSWORD, role=ROLE_OF[kind],
                            unit=unit)
            out[f"{kind}-{where}"] = issue_tokens(db, platform.settings, user).access_token
    return out


@pytest.fixture
def client(platform: Platform, db: Session) -> Iterator[TestClient]:
    app = create_app(platform.settings, platform=platform)
    app.dependency_overrides[get_session] = lambda: db
    app.dependency_overrides[get_clock] = lambda: (lambda: T0 + timedelta(minutes=20))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _call(client: TestClient, route: Route, world: World, kind: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = route.body(world, kind) if route.body else None
    if route.upload:
        r = client.request(route.method, route.path(world), headers=headers, files=body)
    elif route.form:
        r = client.request(route.method, route.path(world), headers=headers, params=route.params, data=body)
    else:
        r = client.request(route.method, route.path(world), headers=headers, params=route.params,
                           json=body if route.method in ("POST", "PUT") else None)
    assert r.status_code < 500, f"{route.op} as {kind}: {r.status_code} {r.text[:300]}"
    return r.status_code


def test_every_route_has_a_decision(client: TestClient) -> None:
    ops = {op["operationId"] for ops in client.get("/openapi.json").json()["paths"].values() for op in ops.values()}
    assert ops - PUBLIC == {r.op for r in ROUTES}


def test_the_matrix(client: TestClient, world: World, tokens: dict[str, str]) -> None:
    unexpected: list[str] = []
    for route in ROUTES:
        assert _call(client, route, world, "anonymous", None) == 401, f"{route.op} without credentials"
        for kind in ALL:
            for where in ("in", "out"):
                status = _call(client, route, world, kind, tokens[f"{kind}-{where}"])
                district = kind in ("supervisor", "admin")
                role_ok = kind in route.allowed
                expect = role_ok and (where == "in" or not route.scoped or district)
                refused = 404 if route.hidden and role_ok and not expect else 403
                if expect and status in (401, 403) or expect and route.hidden and status == 404:
                    unexpected.append(f"{route.op}: {kind}-{where} refused ({status})")
                if not expect and status != refused:
                    unexpected.append(f"{route.op}: {kind}-{where} ALLOWED ({status})")
    assert unexpected == []


def test_neighbours_read_border_cases_but_do_not_act(client: TestClient, world: World,
                                                    tokens: dict[str, str]) -> None:
    town_a = {"Authorization": f"Bearer {tokens['township-in']}"}
    assert client.get(f"/api/v1/incidents/{world.border_case}", headers=town_a).status_code == 200
    listed = {f["id"] for f in client.get("/api/v1/incidents", headers=town_a).json()["features"]}
    assert {world.case, world.border_case} <= listed
    r = client.post(f"/api/v1/incidents/{world.border_case}/whistle", headers=town_a,
                    json={"mode": "township", "whistler": world.town_a})
    assert r.status_code == 403 and r.json()["error"]["field"] == "incident_id"
    # the other township sees neither
    town_c = {"Authorization": f"Bearer {tokens['township-out']}"}
    listed = {f["id"] for f in client.get("/api/v1/incidents", headers=town_c).json()["features"]}
    assert not {world.case, world.border_case} & listed


def test_lists_are_filtered_to_the_callers_cases(client: TestClient, world: World, tokens: dict[str, str]) -> None:
    def ids(token: str) -> set[str]:
        r = client.get("/api/v1/incidents", headers={"Authorization": f"Bearer {token}"}, params={"limit": 1000})
        assert r.status_code == 200
        return {f["id"] for f in r.json()["features"]}

    assert world.case in ids(tokens["officer-in"]) and world.case not in ids(tokens["officer-out"])
    assert ids(tokens["patrol-in"]) == {world.case}  # patrols see what they filed
    assert ids(tokens["patrol-out"]) == set()
    assert {world.case, world.border_case} <= ids(tokens["supervisor-in"])
    events = client.get("/api/v1/events", headers={"Authorization": f"Bearer {tokens['township-out']}"},
                        params={"township": world.town_a})
    assert events.status_code == 403 and events.json()["error"]["field"] == "township"


def test_ogc_items_hold_the_callers_cases_only(client: TestClient, world: World, tokens: dict[str, str]) -> None:
    def ids(token: str) -> set[str]:
        r = client.get("/ogc/collections/incidents/items", headers={"Authorization": f"Bearer {token}"},
                       params={"limit": 10000})
        assert r.status_code == 200
        return {f["id"] for f in r.json()["features"]}

    assert {world.case, world.border_case} <= ids(tokens["township-in"])
    assert world.case in ids(tokens["officer-in"]) and world.case not in ids(tokens["officer-out"])
    assert not {world.case, world.border_case} & ids(tokens["township-out"])
    assert ids(tokens["patrol-in"]) == {world.case}


def test_exports_hold_the_callers_cases_only(client: TestClient, world: World, tokens: dict[str, str]) -> None:
    def exported(token: str) -> str:
        r = client.get("/api/v1/exports/incidents.csv", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
        return r.content.decode("utf-8-sig")

    assert world.case in exported(tokens["township-in"]) and world.case in exported(tokens["officer-in"])
    assert world.case not in exported(tokens["township-out"]) and world.case not in exported(tokens["officer-out"])


def test_only_the_own_township_triages_and_a_neighbour_does_not(client: TestClient, world: World,
                                                                 tokens: dict[str, str]) -> None:
    """A neighbour reads a case flagged near its border but does not mark it a duplicate, decline it or take it
    back; a supervisor rules on declines but does not triage; the own township does."""
    body = {"township": world.town_a, "reason": "现场为合法施工"}
    r = client.post(f"/api/v1/incidents/{world.border_case}/reject", json=body,
                    headers={"Authorization": f"Bearer {tokens['township-in']}"})
    assert r.status_code == 403 and r.json()["error"]["field"] == "incident_id"
    r = client.post(f"/api/v1/incidents/{world.border_case}/reject", json={**body, "township": world.town_b},
                    headers={"Authorization": f"Bearer {tokens['supervisor-in']}"})
    assert r.status_code == 403 and r.json()["error"]["field"] == "role"
    r = client.post(f"/api/v1/incidents/{world.border_case}/reject", json={**body, "township": world.town_b},
                    headers={"Authorization": f"Bearer {tokens['admin-in']}"})
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
