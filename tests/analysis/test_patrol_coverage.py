"""Patrol coverage: km, night km and hours per township, the share of each zone kind's area within reach of a
track (all day, at night), the zones no patrol came near, the period and the night cut by district time — on
hand-drawn tracks whose answers follow from their geometry; then the service's scope on PostGIS."""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from sqlalchemy.orm import Session

from gis_enforcement.analysis.patrol_coverage import patrol_coverage, track_segments
from gis_enforcement.analysis.patrol_coverage_service import coverage_for
from gis_enforcement.domain.access import Caller, Role
from gis_enforcement.domain.tracks import parse_track
from gis_enforcement.errors import Forbidden, InvalidInput
from gis_enforcement.patrol.tracks import record_track
from tests.dispatch.helpers import TZ

X0, Y0 = 500_000.0, 4_440_000.0  # EPSG:4548 metres near Pinggu
DAY = datetime(2026, 5, 12, tzinfo=TZ)


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Geometry:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def frame(rows: list[dict], crs: int = 4548) -> gpd.GeoDataFrame:  # type: ignore[type-arg]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).to_crs(4326)


TOWNS = frame([{"code": "A", "name": "甲镇", "geometry": box(0, 0, 5000, 5000)},
               {"code": "B", "name": "乙镇", "geometry": box(5000, 0, 10000, 5000)}])
# a river corridor 200 m wide, half in A and half in B, and a mining area in B no track comes near
ZONES = frame([{"kind": "river_corridor", "code": "RC", "name": "河道", "geometry": box(4000, 2400, 6000, 2600)},
               {"kind": "mining_area", "code": "MA", "name": "矿区", "geometry": box(8000, 4000, 9000, 4800)}])


def track(tid: str, town: str | None, x: tuple[float, float], y: float, start: datetime, step_s: int = 10,
          speed: float = 10.0) -> dict:  # type: ignore[type-arg]
    n = int(abs(x[1] - x[0]) / (speed * step_s)) + 1
    xs = np.linspace(x[0], x[1], n)
    t = start.timestamp() + np.arange(n) * step_s
    return {"id": tid, "officer": f"o-{tid}", "township_code": town, "t": t,
            "geometry": shapely.linestrings(np.column_stack([X0 + xs, np.full(n, Y0 + y)]))}


def coverage(rows: list[dict], start: datetime | None = None, end: datetime | None = None):  # type: ignore[no-untyped-def,type-arg]
    return patrol_coverage(frame(rows), townships=TOWNS, zones=ZONES, start=start, end=end, tz="Asia/Shanghai")


def test_km_night_km_and_hours_per_township() -> None:
    c = coverage([track("n", "A", (1000, 3000), 1000, DAY + timedelta(hours=21)),   # 2 km at 21:00
                  track("d", "A", (1000, 2000), 1500, DAY + timedelta(hours=10)),   # 1 km at 10:00
                  track("b", "B", (6000, 9000), 500, DAY + timedelta(hours=13)),
                  track("x", None, (100, 600), 100, DAY + timedelta(hours=12))])
    t = c.townships.set_index("township_code", drop=False)
    assert t.loc["A", "tracks"] == 2 and t.loc["A", "km"] == pytest.approx(3.0, abs=0.02)
    assert t.loc["A", "night_km"] == pytest.approx(2.0, abs=0.02)
    assert t.loc["A", "hours"] == pytest.approx(3000 / 10 / 3600, abs=0.01)
    assert t.loc["B", "km"] == pytest.approx(3.0, abs=0.02) and t.loc["B", "night_km"] == 0
    assert list(c.townships["township_code"]) == ["A", "B", None]
    assert c.townships.iloc[2]["tracks"] == 1 and c.townships.iloc[2]["township_name"] == "部门巡查"


def test_night_is_cut_at_six_district_time() -> None:
    c = coverage([track("b", "B", (6000, 9000), 500, DAY + timedelta(hours=5, minutes=55))])  # 300 s: 05:55–06:00
    row = c.townships.set_index("township_code").loc["B"]
    assert row["km"] == pytest.approx(3.0, abs=0.02)
    assert row["night_km"] == pytest.approx(3.0, abs=0.05)  # 3 km in 300 s, all before 06:00
    c = coverage([track("b", "B", (6000, 9000), 500, DAY + timedelta(hours=6))])
    assert c.townships.set_index("township_code").loc["B", "night_km"] == 0


def test_zone_shares_all_day_and_at_night() -> None:
    # along the corridor's centre line from x 4500 to 5000 (in A) at night; from 5000 to 5500 (in B) by day
    c = coverage([track("n", "A", (4500, 5000), 2500, DAY + timedelta(hours=22)),
                  track("d", "B", (5000, 5500), 2500, DAY + timedelta(hours=11))])
    reach = 500 * 200 + math.pi * 100 ** 2 / 2  # the 200 m wide corridor along 500 m, and one round end in it
    k = c.zone_kinds.set_index(["township_code", "kind"])
    assert k.loc[("A", "river_corridor"), "zone_km2"] == pytest.approx(0.2, rel=1e-6)
    assert k.loc[("A", "river_corridor"), "covered_share"] == pytest.approx(reach / 200_000, rel=0.02)
    assert k.loc[("A", "river_corridor"), "night_share"] == pytest.approx(reach / 200_000, rel=0.02)
    assert k.loc[("B", "river_corridor"), "covered_share"] == pytest.approx(reach / 200_000, rel=0.02)
    # at night B's part is reached only by the round end of A's track, which stops on the border
    assert k.loc[("B", "river_corridor"), "night_share"] == pytest.approx(math.pi * 100 ** 2 / 2 / 200_000, rel=0.05)
    assert k.loc[("B", "mining_area"), "covered_share"] == 0
    z = c.zones.set_index("code")
    assert z.loc["RC", "covered_share"] == pytest.approx(2 * 500 * 200 / 400_000 + 2 * math.pi * 100 ** 2 / 2 / 400_000,
                                                         rel=0.02)
    assert z.loc["RC", "patrolled"] and not z.loc["MA", "patrolled"]
    assert list(c.unpatrolled["code"]) == ["MA"]


def test_the_period_clips_the_segments() -> None:
    tr = track("n", "A", (1000, 3000), 1000, DAY + timedelta(hours=21))  # 200 s
    c = coverage([tr], start=DAY + timedelta(hours=21, seconds=100), end=DAY + timedelta(hours=22))
    assert c.townships.set_index("township_code").loc["A", "km"] == pytest.approx(1.0, abs=0.02)
    assert len(c.tracks) == 1 and c.tracks.iloc[0]["start"].timestamp() == pytest.approx(
        (DAY + timedelta(hours=21, seconds=100)).timestamp())
    c = coverage([tr], start=DAY + timedelta(hours=23))
    assert c.tracks.empty and c.townships["km"].sum() == 0 and not c.zones["patrolled"].any()
    assert track_segments(frame([tr]), start=None, end=None, tz=None)["night"].all()


def test_no_tracks_no_coverage() -> None:
    empty = frame([{"id": "x", "officer": "o", "township_code": "A", "t": np.zeros(0),
                    "geometry": shapely.linestrings([[X0, Y0], [X0, Y0]])}]).iloc[:0]
    c = patrol_coverage(empty, townships=TOWNS, zones=ZONES, start=None, end=None, tz=None)
    assert c.townships["tracks"].tolist() == [0, 0] and (c.zone_kinds["covered_share"] == 0).all()
    assert len(c.unpatrolled) == 2


# -- the service, on PostGIS --------------------------------------------------------------------------------
TOWN_A, TOWN_B = "110117104", "110117003"


def put(db: Session, town: str, lon: float, lat: float, start: datetime, officer: str) -> None:
    coords = [[lon + i * 1e-4, lat] for i in range(30)]
    times = [(start + timedelta(seconds=10 * i)).isoformat() for i in range(30)]
    v = parse_track(geometry_type="LineString", coordinates=coords, times=times, now=start + timedelta(hours=1))
    record_track(db, track_id=str(uuid.uuid4()), caller=Caller(officer, Role.PATROL, "township", town),
                 vertices=v, at=start + timedelta(hours=1))


def test_the_service_keeps_to_the_callers_scope(db: Session) -> None:
    put(db, TOWN_A, 117.20, 40.10, DAY + timedelta(hours=21), "pa")
    put(db, TOWN_B, 117.12, 40.14, DAY + timedelta(hours=10), "pb")
    span: dict[str, Any] = {"start": DAY, "end": DAY + timedelta(days=1), "tz": "Asia/Shanghai"}
    district = Caller("sup", Role.SUPERVISOR, "district", "district")
    c, tracks, towns, _ = coverage_for(db, caller=district, **span)
    assert len(tracks) == 2 and len(towns) == 18
    by = c.townships.set_index("township_code")
    assert by.loc[TOWN_A, "tracks"] == 1 and by.loc[TOWN_A, "night_km"] > 0 and by.loc[TOWN_B, "night_km"] == 0
    dispatcher = Caller("ta", Role.TOWNSHIP_DISPATCHER, "township", TOWN_A)
    c, tracks, towns, _ = coverage_for(db, caller=dispatcher, **span)
    assert list(towns["code"]) == [TOWN_A] and list(tracks["officer"]) == ["pa"]
    with pytest.raises(Forbidden) as exc:
        coverage_for(db, caller=dispatcher, township=TOWN_B, **span)
    assert exc.value.field == "township"
    with pytest.raises(Forbidden):
        coverage_for(db, caller=Caller("w", Role.DEPARTMENT_OFFICER, "department", "WATER"), **span)
    c, tracks, _, _ = coverage_for(db, caller=district, township=TOWN_B, **span)
    assert list(tracks["officer"]) == ["pb"]
    # another day: nothing
    c, tracks, _, _ = coverage_for(db, caller=district, start=DAY + timedelta(days=1), end=DAY + timedelta(days=2),
                                   tz="Asia/Shanghai")
    assert tracks.empty and c.townships["km"].sum() == 0
    with pytest.raises(InvalidInput) as bad:
        coverage_for(db, caller=district, distance_m=0, **span)
    assert bad.value.field == "distance_m"
