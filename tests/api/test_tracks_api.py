"""PUT/GET /api/v1/tracks/{id} and GET /api/v1/tracks: idempotent upload, ownership, named errors, datum, scope."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gis_enforcement.admin.platform import Platform
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.datum import gcj02_to_wgs84
from gis_enforcement.domain.deadlines import CLOCK_SKEW
from tests.api.callers import SwitchedClient, switched_client
from tests.dispatch.helpers import TZ

TOWN_A, TOWN_B = "110117104", "110117003"
PATROL_A = Caller("patrol-a", Role.PATROL, "township", TOWN_A)
PATROL_A2 = Caller("patrol-a2", Role.PATROL, "township", TOWN_A)
PATROL_B = Caller("patrol-b", Role.PATROL, "township", TOWN_B)
TOWNSHIP_A = Caller("town-a", Role.TOWNSHIP_DISPATCHER, "township", TOWN_A)
TOWNSHIP_B = Caller("town-b", Role.TOWNSHIP_DISPATCHER, "township", TOWN_B)
OFFICER = Caller("water-1", Role.DEPARTMENT_OFFICER, "department", "WATER")
SUPERVISOR = Caller("sup", Role.SUPERVISOR, "district", "district")
START = datetime(2026, 5, 12, 22, 0, tzinfo=TZ)


class Api(SwitchedClient):
    def put(self, track_id: str, body: dict[str, Any], caller: Caller = PATROL_A) -> Any:
        return self.call("PUT", f"/api/v1/tracks/{track_id}", caller, json=body)

    def get(self, path: str, caller: Caller, **params: Any) -> Any:
        return self.call("GET", path, caller, params=params)


@pytest.fixture
def api(platform: Platform, db: Session) -> Iterator[Api]:
    with switched_client(platform, db, START + timedelta(hours=1), Api) as api:
        yield api


def track(n: int, *, start: datetime = START, crs: str | None = None, step_s: int = 10,
          accuracy: bool = True) -> dict[str, Any]:
    coords = [[117.12 + i * 1e-4, 40.14 + i * 5e-5] for i in range(n)]
    props: dict[str, Any] = {"times": [(start + timedelta(seconds=i * step_s)).isoformat() for i in range(n)]}
    if accuracy:
        props["accuracy_m"] = [5.0 + i for i in range(n)]
    if crs:
        props["crs"] = crs
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": coords}, "properties": props}


def stored(db: Session, track_id: str) -> int:
    return int(db.execute(text("SELECT count(*) FROM patrol_track WHERE id = :id"), {"id": track_id}).scalar_one())


def test_put_is_an_idempotent_upsert(api: Api, db: Session) -> None:
    tid = str(uuid.uuid4())
    r = api.put(tid, track(3))
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["id"] == tid and first["geometry"]["type"] == "LineString"
    assert len(first["geometry"]["coordinates"]) == 3 and first["properties"]["point_count"] == 3
    assert first["properties"]["officer"] == "patrol-a" and first["properties"]["township_code"] == TOWN_A
    assert first["properties"]["started_at"] == "2026-05-12T22:00:00+08:00"

    api.now += timedelta(minutes=5)
    r = api.put(tid, track(5))  # the page re-sends the grown track
    assert r.status_code == 200, r.text
    assert stored(db, tid) == 1
    got = api.get(f"/api/v1/tracks/{tid}", PATROL_A).json()
    assert got["properties"]["point_count"] == 5 and len(got["geometry"]["coordinates"]) == 5
    assert got["properties"]["times"][-1] == "2026-05-12T22:00:40+08:00"
    assert got["properties"]["accuracy_m"] == [5.0, 6.0, 7.0, 8.0, 9.0]
    assert got["properties"]["received_at"] == first["properties"]["received_at"]
    assert got["properties"]["updated_at"] != first["properties"]["updated_at"]
    # the same upload again: the same track (only updated_at moves)
    assert api.put(tid, track(5)).status_code == 200 and stored(db, tid) == 1
    # a shorter upload replaces too (the page is the source of the track)
    assert api.put(tid, track(2)).json()["properties"]["point_count"] == 2


def test_another_users_put_is_refused(api: Api, db: Session) -> None:
    tid = str(uuid.uuid4())
    assert api.put(tid, track(3)).status_code == 201
    r = api.put(tid, track(6), caller=PATROL_A2)
    assert r.status_code == 403 and r.json()["error"]["field"] == "track_id"
    assert api.get(f"/api/v1/tracks/{tid}", PATROL_A).json()["properties"]["point_count"] == 3
    # a role without track.record is refused before anything is read
    assert api.put(str(uuid.uuid4()), track(2), caller=TOWNSHIP_A).status_code == 403


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b["properties"]["times"].__setitem__(3, "2026-05-12T21:59:00+08:00"), "properties.times[3]"),
    (lambda b: b["properties"]["times"].__setitem__(1, "2026-05-12T22:00:10"), "properties.times[1]"),
    (lambda b: b["properties"]["times"].__setitem__(2, "yesterday"), "properties.times[2]"),
    (lambda b: b["properties"]["times"].__setitem__(2, 12), "properties.times[2]"),
    (lambda b: b["properties"]["times"].pop(), "properties.times"),
    (lambda b: b["properties"]["accuracy_m"].__setitem__(4, -1), "properties.accuracy_m[4]"),
    (lambda b: b["properties"]["accuracy_m"].pop(), "properties.accuracy_m"),
    (lambda b: b["properties"].__setitem__("crs", "EPSG:3857"), "properties.crs"),
    (lambda b: b["geometry"]["coordinates"].__setitem__(2, [117.1, 95.0]), "geometry.coordinates[2][1]"),
    (lambda b: b["geometry"]["coordinates"].__setitem__(1, [117.1]), "geometry.coordinates[1]"),
    (lambda b: b["geometry"]["coordinates"].__setitem__(1, "117.1,40.1"), "geometry.coordinates[1]"),
    (lambda b: b["geometry"].__setitem__("coordinates", []), "geometry.coordinates"),
    (lambda b: b.__setitem__("id", "not-this-track"), "id"),
    # times a device cannot have had, judged as a report's observed_at is, against the server's clock
    (lambda b: b["properties"]["times"].__setitem__(4, "2099-05-12T22:00:40+08:00"), "properties.times[4]"),
    (lambda b: b["properties"]["times"].__setitem__(0, "1970-01-01T08:00:00+08:00"), "properties.times[0]"),
    (lambda b: b["properties"]["times"].__setitem__(0, "1999-12-31T23:59:59Z"), "properties.times[0]"),
    # Pinggu, then West Africa ten seconds later
    (lambda b: b["geometry"]["coordinates"].__setitem__(3, [-0.2, 5.6]), "geometry.coordinates[3]"),
])
def test_bad_input_names_the_field(api: Api, db: Session, change: Any, field: str) -> None:
    tid = str(uuid.uuid4())
    body = track(5)
    change(body)
    r = api.put(tid, body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert stored(db, tid) == 0


def test_times_are_judged_against_the_server_clock(api: Api, db: Session) -> None:
    tid = str(uuid.uuid4())
    ahead = track(3, start=api.now + CLOCK_SKEW - timedelta(seconds=20))  # the last at now + the skew: allowed
    assert api.put(tid, ahead).status_code == 201
    later = track(3, start=api.now + CLOCK_SKEW - timedelta(seconds=19))  # the last 1 s beyond it
    later["properties"]["times"][2] = (api.now + CLOCK_SKEW + timedelta(seconds=1)).isoformat()
    r = api.put(tid, later)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == "properties.times[2]"
    assert r.json()["error"]["message"].startswith("is in the future")
    assert api.get(f"/api/v1/tracks/{tid}", PATROL_A).json()["properties"]["times"] == ahead["properties"]["times"]
    api.now += timedelta(seconds=1)  # the server's clock, not the wall clock, is what counts
    assert api.put(tid, later).status_code == 200


def test_a_grown_track_with_a_jump_is_refused_and_the_stored_one_kept(api: Api) -> None:
    tid = str(uuid.uuid4())
    assert api.put(tid, track(4)).status_code == 201
    grown = track(6)
    grown["geometry"]["coordinates"][5] = [117.12 + 0.1, 40.14]  # 8 km east in the 10 s since the one before
    r = api.put(tid, grown)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == "geometry.coordinates[5]" and "m/s" in error["message"], error
    got = api.get(f"/api/v1/tracks/{tid}", PATROL_A).json()
    assert got["properties"]["point_count"] == 4 and len(got["geometry"]["coordinates"]) == 4
    # the same step with a fix that says it is 5 km out, and its neighbour 3 km: within what they allow
    grown["properties"]["accuracy_m"][4:6] = [3000.0, 5000.0]
    assert api.put(tid, grown).json()["properties"]["point_count"] == 6


def test_equal_times_are_allowed(api: Api) -> None:
    body = track(3)
    body["properties"]["times"][2] = body["properties"]["times"][1]
    assert api.put(str(uuid.uuid4()), body).status_code == 201


def test_coordinates_are_converted_to_wgs84(api: Api) -> None:
    tid = str(uuid.uuid4())
    body = track(4, crs="gcj02")
    got = api.put(tid, body).json()
    xs, ys = zip(*body["geometry"]["coordinates"], strict=True)
    lon, lat = gcj02_to_wgs84(list(xs), list(ys))
    for (x, y), ex, ey in zip(got["geometry"]["coordinates"], lon, lat, strict=True):
        assert abs(x - ex) < 1e-8 and abs(y - ey) < 1e-8
    # GCJ-02 is a few hundred metres off around Pinggu: the conversion did happen
    assert abs(got["geometry"]["coordinates"][0][0] - xs[0]) > 1e-3
    assert got["properties"]["crs"] == "wgs84"


@pytest.mark.parametrize("geometry", [{"type": "Point", "coordinates": [117.12, 40.14]},
                                      {"type": "LineString", "coordinates": [[117.12, 40.14]]}])
def test_a_single_position_is_a_point(api: Api, geometry: dict[str, Any]) -> None:
    tid = str(uuid.uuid4())
    body = {"type": "Feature", "geometry": geometry, "properties": {"times": ["2026-05-12T14:00:00Z"]}}
    r = api.put(tid, body)
    assert r.status_code == 201, r.text
    got = api.get(f"/api/v1/tracks/{tid}", PATROL_A).json()
    assert got["geometry"] == {"type": "Point", "coordinates": [117.12, 40.14]}
    assert got["properties"]["point_count"] == 1 and got["properties"]["accuracy_m"] is None
    assert got["properties"]["times"] == ["2026-05-12T22:00:00+08:00"]
    # and it grows into a line
    assert api.put(tid, track(2)).json()["geometry"]["type"] == "LineString"


def test_reading_and_listing_are_scoped(api: Api) -> None:
    mine, neighbour = str(uuid.uuid4()), str(uuid.uuid4())
    assert api.put(mine, track(3)).status_code == 201
    api.now += timedelta(days=1)  # the neighbour's patrol is a day later (a track cannot be ahead of the clock)
    assert api.put(neighbour, track(3, start=START + timedelta(days=1)), caller=PATROL_B).status_code == 201

    def listed(caller: Caller, **params: Any) -> set[str]:
        r = api.get("/api/v1/tracks", caller, **params)
        assert r.status_code == 200, r.text
        assert r.json()["count"] == len(r.json()["data"])
        return {t["id"] for t in r.json()["data"]}

    assert listed(PATROL_A) == {mine}
    assert listed(PATROL_A, officer="patrol-b") == set()  # filtered, not refused
    assert listed(PATROL_B) == {neighbour}
    assert listed(TOWNSHIP_A) == {mine} and listed(TOWNSHIP_B) == {neighbour}
    assert listed(SUPERVISOR) >= {mine, neighbour}
    assert listed(SUPERVISOR, officer="patrol-b") == {neighbour}
    assert listed(SUPERVISOR, since=(START + timedelta(hours=12)).isoformat()) >= {neighbour}
    assert mine not in listed(SUPERVISOR, since=(START + timedelta(hours=12)).isoformat())
    summary = api.get("/api/v1/tracks", PATROL_A).json()["data"][0]
    assert summary["point_count"] == 3 and len(summary["bbox"]) == 4 and "times" not in summary

    assert api.get(f"/api/v1/tracks/{mine}", TOWNSHIP_A).status_code == 200
    assert api.get(f"/api/v1/tracks/{mine}", SUPERVISOR).status_code == 200
    for caller in (PATROL_A2, PATROL_B, TOWNSHIP_B):
        r = api.get(f"/api/v1/tracks/{mine}", caller)
        assert r.status_code == 403 and r.json()["error"]["field"] == "track_id", caller
    assert api.get(f"/api/v1/tracks/{mine}", OFFICER).status_code == 403  # departments read no tracks
    assert api.get("/api/v1/tracks", OFFICER).status_code == 403
    assert api.get(f"/api/v1/tracks/{uuid.uuid4()}", SUPERVISOR).status_code == 404
    assert api.get("/api/v1/tracks", SUPERVISOR, since="2026-05-12T22:00:00").status_code == 422  # no offset


def test_coverage_keeps_to_the_callers_scope(api: Api, db: Session) -> None:
    # no track stored at all: every township at zero, not a failure
    none = api.get("/api/v1/tracks/coverage", SUPERVISOR)
    assert none.status_code == 200, none.text
    assert len(none.json()["townships"]) == 18 and all(t["tracks"] == 0 for t in none.json()["townships"])
    # only a track of the district's own (no township): its row of its own, not a failure
    admin = Caller("admin-1", Role.ADMIN, "district", "district")
    assert api.put(str(uuid.uuid4()), track(20), caller=admin).status_code == 201
    district = api.get("/api/v1/tracks/coverage", SUPERVISOR)
    assert district.status_code == 200, district.text
    assert [t["tracks"] for t in district.json()["townships"] if t["township_code"] is None] == [1]
    assert api.put(str(uuid.uuid4()), track(20)).status_code == 201  # patrol-a, TOWN_A, 22:00
    assert api.put(str(uuid.uuid4()), track(20), caller=PATROL_B).status_code == 201
    r = api.get("/api/v1/tracks/coverage", SUPERVISOR, period="2026-05-12")
    assert r.status_code == 200, r.text
    body = r.json()
    towns = {t["township_code"]: t for t in body["townships"]}
    assert len(set(towns) - {None}) == 18 and towns[TOWN_A]["tracks"] == 1 and towns[TOWN_B]["tracks"] == 1
    assert towns[TOWN_A]["night_km"] == pytest.approx(towns[TOWN_A]["km"]) and towns[TOWN_A]["km"] > 0
    assert len(body["zones"]) == 12 and body["distance_m"] == 100
    mine = api.get("/api/v1/tracks/coverage", TOWNSHIP_A, period="2026-05-12").json()
    assert [t["township_code"] for t in mine["townships"]] == [TOWN_A]
    refused = api.get("/api/v1/tracks/coverage", TOWNSHIP_A, township=TOWN_B)
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "township"
    assert api.get("/api/v1/tracks/coverage", OFFICER).status_code == 403
    bad = api.get("/api/v1/tracks/coverage", SUPERVISOR, period="last week")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "period"
    other_day = api.get("/api/v1/tracks/coverage", SUPERVISOR, period="2026-05-13").json()
    assert sum(t["tracks"] for t in other_day["townships"]) == 0
