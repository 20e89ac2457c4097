"""Joint-operation planning (联合执法) on the shipped lists: the score on a hand example, departments from the
lists, officers against a shrunk roster, route validity (every target once, arrivals inside windows, also
across midnight, legs consistent with distances), dropped targets with reasons, and determinism."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import shapely

from gis_enforcement.analysis.plan_roster import Staffing, allocate_officers, target_departments
from gis_enforcement.analysis.plan_route import RouteSettings, solve_route
from gis_enforcement.analysis.plan_targets import ScoreWeights, normalise_candidates, rank_targets
from gis_enforcement.analysis.planning import (
    TZ,
    category_windows,
    plan_operation,
    target_window,
    window_occurrences,
)
from gis_enforcement.catalog.loader import parse_catalog
from gis_enforcement.domain.catalog import Catalog, InspectionWindow
from gis_enforcement.errors import CatalogInvalid, InvalidInput

ROOT = Path(__file__).resolve().parents[2]
X0, Y0 = 510_000.0, 4_445_000.0  # near 平谷 town, EPSG:4548
EVENING = datetime(2025, 5, 1, 18, 0, tzinfo=TZ)


def site(tid: str, categories: Any, dx_km: float = 0.0, dy_km: float = 0.0, **extra: Any) -> dict[str, Any]:
    row = {"target_id": tid, "categories": categories, "x": X0 + dx_km * 1000, "y": Y0 + dy_km * 1000,
           "township_code": extra.pop("township_code", "110117100")}
    row.update(extra)
    return row


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def in_daily_window(when: datetime, window: str) -> bool:
    """Whether the local clock time of ``when`` lies in ``HH:MM-HH:MM`` (ends included, may cross midnight)."""
    w = InspectionWindow.parse(window)
    local = when.astimezone(TZ)
    minute = local.hour * 60 + local.minute + local.second / 60
    if w.crosses_midnight:
        return minute >= w.start_minute or minute <= w.end_minute
    return w.start_minute <= minute <= w.end_minute


# --- the lists ------------------------------------------------------------------------------------------------


def test_shipped_windows_cover_every_category_and_night_crosses_midnight(catalog: Catalog) -> None:
    windows = {code: cat.inspection_window for code, cat in catalog.categories.items()}
    # every problem of the lists has its hours; the placeholder (类别待定) is no problem to plan for
    assert all((w is None) == cat.classify_first for cat, w in zip(catalog.categories.values(), windows.values(),
                                                                   strict=True))
    windows = {code: w for code, w in windows.items() if w is not None}
    assert all(w.provenance == "draft" for w in windows.values())
    assert str(windows["MIN-02"]) == "21:00-04:00" and windows["MIN-02"].crosses_midnight
    assert windows["MIN-02"].label == "night" and windows["ENV-01"].label == "day"
    assert str(windows["TRK-03"]) == "00:00-24:00" and windows["TRK-03"].minutes == 24 * 60


def test_unquoted_clock_time_is_refused_with_its_field() -> None:
    text = (ROOT / "data" / "catalog" / "pinggu.yaml").read_text(encoding="utf-8")
    bad = text.replace('{start: "21:00", end: "04:00", label: night', '{start: 21:00, end: "04:00", label: night', 1)
    assert bad != text
    with pytest.raises(CatalogInvalid) as err:
        parse_catalog(bad)
    assert any("problem_categories[MIN-01].inspection_window" in p and "quote" in p
               for p in err.value.detail["problems"])


# --- score and ranking ----------------------------------------------------------------------------------------


def test_ranking_follows_the_documented_score(catalog: Catalog) -> None:
    raw = frame(
        site("low-but-busy", ["MKT-01"], recurrences=10, gi_bin=3, open_cases=9),  # S=0, R=1, C=1, O=1
        site("sand", ["MIN-02"], recurrences=5, gi_bin=3),                         # S=1, R=1, C=1, O=0
        site("workshop", ["ENV-01"], open_cases=5),                                # S=2/3, O=1
        site("village-build", ["CON-02"], recurrences=2, gi_bin=2, open_cases=1),  # S=1/3, R=.4, C=2/3, O=.2
        site("cold", ["ENV-01"], gi_bin=-2),                                       # S=2/3, C=0 (cold spot)
    )
    ranked = rank_targets(normalise_candidates(raw, catalog), catalog)
    # 100 * (0.4 S + 0.2 R + 0.2 C + 0.2 O) / 1.0
    expected = {"sand": 80.0, "low-but-busy": 60.0, "workshop": 46.67, "village-build": 38.67, "cold": 26.67}
    assert list(ranked["target_id"]) == list(expected)
    assert dict(zip(ranked["target_id"], ranked["score"], strict=True)) == pytest.approx(expected, abs=0.005)
    assert list(ranked["rank"]) == [1, 2, 3, 4, 5]
    assert list(ranked["severity"]) == ["critical", "low", "high", "medium", "high"]

    only_severity = rank_targets(normalise_candidates(raw, catalog), catalog, ScoreWeights(1, 0, 0, 0))
    assert list(only_severity["target_id"][:1]) == ["sand"]
    assert only_severity.set_index("target_id").loc["low-but-busy", "rank"] == 5


def test_equal_scores_break_ties_by_severity_then_open_cases_then_id(catalog: Catalog) -> None:
    raw = frame(
        site("b-low", ["MKT-01"], gi_bin=1, open_cases=5),  # 0.2/3 + 0.2 = 0.2667
        site("a-high", ["ENV-01"]),                         # 0.4 * 2/3 = 0.2667
        site("z-same", ["ENV-01"]),
    )
    ranked = rank_targets(normalise_candidates(raw, catalog), catalog)
    assert list(ranked["target_id"]) == ["a-high", "z-same", "b-low"]
    # 44 both, though floating point makes the second 44.00000000000001: still a tie, severity decides.
    raw = frame(site("z-high", ["ENV-01"], recurrences=1, gi_bin=2), site("a-low", ["MKT-01"], recurrences=5,
                                                                          gi_bin=3, open_cases=1))
    ranked = rank_targets(normalise_candidates(raw, catalog), catalog)
    assert list(ranked["target_id"]) == ["z-high", "a-low"] and list(ranked["score"]) == [44.0, 44.0]


def test_bad_candidates_name_the_field(catalog: Catalog) -> None:
    cases = [
        (frame(site("a", ["NOPE"])), "categories"),
        (frame(site("a", [])), "categories"),
        (frame(site("a", ["MIN-02"]), site("a", ["MIN-01"])), "target_id"),
        (frame(site("a", ["MIN-02"], gi_bin=4)), "gi_bin"),
        (frame(site("a", ["MIN-02"], open_cases=-1)), "open_cases"),
        (frame(site("a", ["MIN-02"])).drop(columns=["x", "y"]), "geometry"),
    ]
    for raw, field in cases:
        with pytest.raises(InvalidInput) as err:
            normalise_candidates(raw, catalog)
        assert err.value.field == field


# --- departments and officers ---------------------------------------------------------------------------------


def test_departments_are_the_union_of_the_lists_for_a_multi_category_target(catalog: Catalog) -> None:
    raw = frame(
        site("mixed", "MIN-02, ENV-01"),
        site("mine+sand", ["MIN-01", "MIN-02"]),
        site("river", ["MIN-02"], zone_kinds=("river_corridor",)),
    )
    t = target_departments(normalise_candidates(raw, catalog), catalog).set_index("target_id")

    sand, shops = catalog.general_rule("MIN-02"), catalog.general_rule("ENV-01")
    assert sand is not None and shops is not None
    mixed = t.loc["mixed"]
    assert mixed["rules"] == ("R-MIN-02", "R-ENV-01")
    assert set(mixed["departments"]) == set(sand.departments) | set(shops.departments)
    assert len(mixed["departments"]) == len(set(mixed["departments"]))
    assert mixed["lead_departments"] == ("WATER", "ECO")
    assert mixed["officers"] == {d: 4 if d in ("WATER", "ECO") else 2 for d in mixed["departments"]}
    assert mixed["officers_total"] == 2 * 4 + 2 * (len(mixed["departments"]) - 2)

    # PNR leads illegal mining and assists on sand: it comes as a lead, once.
    assert t.loc["mine+sand", "officers"]["PNR"] == 4
    # Inside a river corridor the zone rule applies and brings the traffic police.
    assert t.loc["river", "rules"] == ("R-MIN-02-RIVER",)
    assert "TRAFFIC_POLICE" in t.loc["river", "departments"]

    fixed = target_departments(normalise_candidates(raw, catalog), catalog,
                               Staffing(lead=6, assist=3, per_department={"ECON": 1}))
    assert fixed.set_index("target_id").loc["mixed", "officers"]["ECON"] == 1
    assert fixed.set_index("target_id").loc["mixed", "officers"]["WATER"] == 6


def test_short_department_makes_lower_ranked_targets_wait_and_others_still_planned(catalog: Catalog) -> None:
    raw = frame(
        site("sand-1", ["MIN-02"], 1, 0, recurrences=5, gi_bin=3),
        site("sand-2", ["MIN-02"], 2, 0, recurrences=3, gi_bin=3),
        site("sand-3", ["MIN-02"], 3, 0, gi_bin=3),
        site("dumping", ["ENV-05"], 0, 2),  # CGZF leads, CGW/PSB/ECO/TOWN assist: no WATER
    )
    plan = plan_operation(raw, catalog, start=(X0, Y0), period_start=EVENING, roster={"WATER": 5})

    assert list(plan.targets.sort_values("rank")["target_id"]) == ["sand-1", "dumping"]
    waiting = plan.waiting.set_index("target_id")
    assert list(waiting.index) == ["sand-2", "sand-3"]
    assert set(waiting["reason_kind"]) == {"staff"}
    for tid in ("sand-2", "sand-3"):
        assert waiting.loc[tid, "short_departments"] == ("WATER",)
        assert "WATER needs 4, 1 left" in waiting.loc[tid, "reason"]
        assert waiting.loc[tid, "reason_zh"] == "警力不足：WATER 需 4 人，余 1 人"
    water = plan.staffing.set_index("department").loc["WATER"]
    assert (water["available"], water["assigned"], water["left"], water["targets_waiting"]) == (5, 4, 1, 2)


def test_township_team_is_counted_per_township(catalog: Catalog) -> None:
    raw = frame(
        site("t1-a", ["MIN-02"], 1, 0, township_code="T1", gi_bin=3),
        site("t1-b", ["MIN-02"], 2, 0, township_code="T1", gi_bin=2),
        site("t2", ["MIN-02"], 3, 0, township_code="T2", gi_bin=1),
    )
    t = target_departments(rank_targets(normalise_candidates(raw, catalog), catalog), catalog)
    alloc = allocate_officers(t, catalog, roster={"TOWN": {"T1": 3}})
    assert alloc.staffed == ("t1-a", "t2")  # T2 keeps the lists' 30 officers
    assert alloc.waiting["t1-b"] == (("TOWN", 2, 1),)
    with pytest.raises(InvalidInput) as err:
        allocate_officers(t.assign(township_code=None), catalog)
    assert err.value.field == "township_code"
    with pytest.raises(InvalidInput) as err:
        allocate_officers(t, catalog, roster={"WATRE": 3})
    assert err.value.field == "roster"


# --- windows --------------------------------------------------------------------------------------------------


def test_window_occurrences_cross_midnight(catalog: Catalog) -> None:
    windows = category_windows(catalog)
    runs, text, label = target_window(("MIN-02",), windows, catalog)
    assert (text, label) == ("21:00-04:00", "night")
    hour = 3600
    # From 20:00: the night opens after 1 h and closes 8 h later, next morning.
    assert window_occurrences(runs, datetime(2025, 5, 1, 20, tzinfo=TZ), datetime(2025, 5, 2, 20, tzinfo=TZ)) == [
        (1 * hour, 8 * hour)]
    # From 02:00 over a day: the tail of last night, then the next night until the period ends.
    assert window_occurrences(runs, datetime(2025, 5, 1, 2), datetime(2025, 5, 2, 2)) == [
        (0, 2 * hour), (19 * hour, 24 * hour)]
    # Sand (night) and overloaded trucks (20:00-05:00) share the night; sand and workshops share nothing, so
    # the more severe category's window (sand, critical) is used.
    assert target_window(("MIN-02", "TRK-01"), windows, catalog)[1] == "21:00-04:00"
    assert target_window(("MIN-02", "ENV-01"), windows, catalog)[1:] == ("21:00-04:00", "night")
    assert target_window(("TRK-03",), windows, catalog)[1] == "00:00-24:00"

    custom = category_windows(catalog, {"ENV-01": "22:30-01:15", "MIN-02": InspectionWindow.parse("08:00-09:00")})
    assert str(custom["ENV-01"]) == "22:30-01:15" and str(custom["MIN-02"]) == "08:00-09:00"
    for bad in ({"NOPE": "08:00-09:00"}, {"ENV-01": "25:00-02:00"}, {"ENV-01": "08:00-08:00"}):
        with pytest.raises(InvalidInput) as err:
            category_windows(catalog, bad)
        assert err.value.field == "windows"


# --- the route ------------------------------------------------------------------------------------------------


def route_scenario() -> pd.DataFrame:
    return frame(
        site("sand-river", ["MIN-02"], 4, 1, zone_kinds=("river_corridor",), recurrences=4, gi_bin=3),
        site("gold-mine", ["MIN-01"], 12, 6, gi_bin=3, recurrences=2),
        site("trucks", ["TRK-01", "TRK-03"], -6, 3, gi_bin=2),
        site("dumping", ["ENV-05"], 7, -5, open_cases=2),
        site("workshop", ["ENV-01"], -3, -4, gi_bin=3, open_cases=3),
        site("burning", ["ENV-03"], 2, 8, gi_bin=1),
        site("late-night", ["CON-03"], -9, -2, gi_bin=1),  # window overridden: 00:30-02:00, after midnight
        site("stalls", ["MKT-01"], 1, -1, open_cases=1),
    )


def test_route_visits_each_target_once_inside_its_window(catalog: Catalog) -> None:
    raw = route_scenario()
    plan = plan_operation(raw, catalog, start=(X0, Y0), period_start=EVENING,
                          period_end=EVENING + timedelta(hours=18), windows={"CON-03": "00:30-02:00"})
    planned, waiting = plan.targets, plan.waiting
    assert len(planned) >= 6
    assert list(planned["order"]) == list(range(1, len(planned) + 1))
    assert planned["target_id"].is_unique
    assert set(planned["target_id"]).isdisjoint(waiting["target_id"])
    assert set(planned["target_id"]) | set(waiting["target_id"]) == set(raw["target_id"])

    assert "late-night" in set(planned["target_id"])
    late = planned.set_index("target_id").loc["late-night"]
    assert late["arrive_at"].date() == (EVENING + timedelta(days=1)).date()  # after midnight

    settings = RouteSettings()
    prev_xy, prev_depart = (X0, Y0), EVENING
    for row in planned.itertuples():
        assert in_daily_window(row.arrive_at, row.window), (row.target_id, row.arrive_at, row.window)
        assert EVENING <= row.reach_at <= row.arrive_at
        assert row.depart_at == row.arrive_at + timedelta(minutes=row.service_minutes)
        assert row.depart_at <= plan.period_end
        distance = math.dist(prev_xy, (row.x, row.y))
        assert row.leg_m == pytest.approx(distance, abs=0.1)
        travel_s = math.ceil(distance * settings.detour_factor / (settings.speed_kmh / 3.6))
        assert row.leg_minutes == pytest.approx(travel_s / 60)
        assert row.reach_at == prev_depart + timedelta(seconds=travel_s)
        assert row.wait_minutes == pytest.approx((row.arrive_at - row.reach_at).total_seconds() / 60)
        prev_xy, prev_depart = (row.x, row.y), row.depart_at
    assert plan.travel_m == pytest.approx(planned["leg_m"].sum(), abs=1)
    assert plan.end_at == prev_depart


def test_targets_whose_window_cannot_be_met_are_dropped_with_a_reason(catalog: Catalog) -> None:
    start = datetime(2025, 5, 1, 20, 0, tzinfo=TZ)
    raw = frame(
        site("first", ["MIN-01"], 0, 0, recurrences=5, gi_bin=3, service_minutes=30),  # leads PNR, no WATER
        site("far-sand", ["MIN-02"], 25, 0, recurrences=2, gi_bin=3, service_minutes=30),  # fits alone only
        site("near-sand", ["MIN-02"], 1, 0, gi_bin=3, service_minutes=30),
        site("workshop", ["ENV-01"], 1, 1),  # day only: nothing in 20:00-22:30
        site("distant-burning", ["ENV-03"], 0, 35),  # evening ends 21:00; 68 min away
    )
    plan = plan_operation(raw, catalog, start=(X0, Y0), period_start=start,
                          period_end=start + timedelta(hours=2, minutes=30),
                          windows={"MIN-01": "21:00-04:00"}, roster={"WATER": 4})
    assert list(plan.targets["target_id"]) == ["first", "near-sand"]
    waiting = plan.waiting.set_index("target_id")
    assert waiting.loc["far-sand", "reason_kind"] == "window_conflict"
    assert "21:00-04:00" in waiting.loc["far-sand", "reason"]
    assert waiting.loc["workshop", "reason_kind"] == "no_window"
    assert waiting.loc["distant-burning", "reason_kind"] == "too_far"
    assert "earliest arrival 2025-05-01T21:08" in waiting.loc["distant-burning", "reason"]
    # and in Chinese, for the Chinese map and tables
    assert waiting.loc["far-sand", "reason_zh"] == "路线排不下：检查时段（21:00-04:00）与排名更靠前的目标冲突"
    assert "最早 2025-05-01T21:08+08:00 到达" in waiting.loc["distant-burning", "reason_zh"]
    assert "不足现场处置" in waiting.loc["workshop", "reason_zh"]
    assert pd.isna(plan.to_frame().set_index("target_id").loc["first", "reason_zh"])
    # far-sand took WATER's only 4 officers in the first pass; once dropped, near-sand got them.
    water = plan.staffing.set_index("department").loc["WATER"]
    assert (water["assigned"], water["targets_waiting"]) == (4, 0)
    assert plan.targets.set_index("target_id").loc["near-sand", "officers"]["WATER"] == 4


def test_solver_respects_several_windows_and_return_to_start() -> None:
    hour = 3600
    points = [[X0 + 5000, Y0], [X0 - 5000, Y0], [X0, Y0 + 5000]]
    windows = [[(5 * hour, 6 * hour)], [(0, hour), (8 * hour, 9 * hour)], [(2 * hour, 3 * hour)]]
    route = solve_route((X0, Y0), points, windows, [1800, 1800, 1800], horizon_s=12 * hour,
                        settings=RouteSettings(return_to_start=True))
    assert route.order == (1, 2, 0) and not route.dropped
    for i, arrive in zip(route.order, route.arrive_s, strict=True):
        assert any(a <= arrive <= b for a, b in windows[i])
    assert route.back_m == pytest.approx(5000) and route.end_s == route.depart_s[-1] + route.back_s


def test_same_input_same_plan(catalog: Catalog) -> None:
    kwargs: dict[str, Any] = {"start": (X0, Y0), "period_start": EVENING, "period_end": EVENING + timedelta(hours=18),
                              "windows": {"CON-03": "00:30-02:00"}, "roster": {"WATER": 4, "PNR": 6}}
    first = plan_operation(route_scenario(), catalog, **kwargs)
    second = plan_operation(route_scenario().iloc[::-1], catalog, **kwargs)  # input order does not matter
    pd.testing.assert_frame_equal(first.to_frame(), second.to_frame())
    assert first.to_geojson() == second.to_geojson()


def test_scope_output_and_bad_input(catalog: Catalog) -> None:
    raw = route_scenario()
    raw.loc[raw["target_id"] == "stalls", "township_code"] = "110117999"
    area = shapely.box(X0 - 10_000, Y0 - 10_000, X0 + 10_000, Y0 + 10_000)
    plan = plan_operation(raw, catalog, start=(117.12, 40.14), start_crs="EPSG:4326", period_start=EVENING,
                          townships=["110117100"], area=area, categories=["MIN-02", "TRK-01", "ENV-01"])
    ids = set(plan.targets["target_id"]) | set(plan.waiting["target_id"])
    assert ids == {"sand-river", "trucks", "workshop"}  # gold-mine is outside the box, stalls elsewhere
    trucks = pd.concat([plan.targets, plan.waiting]).set_index("target_id").loc["trucks"]
    assert trucks["categories"] == ("TRK-01",) and trucks["window"] == "20:00-05:00"

    flat = plan.to_frame()
    assert set(flat["status"]) <= {"planned", "waiting"} and len(flat) == 3
    assert flat.loc[flat["target_id"] == "sand-river", "departments"].item().startswith("WATER;")
    geo = plan.to_geojson()
    roles = [f["properties"]["role"] for f in geo["features"]]
    assert roles.count("start") == 1 and roles.count("target") == 3
    assert roles.count("route") == (1 if len(plan.targets) else 0)
    lon, lat = geo["features"][0]["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((117.12, 40.14), abs=1e-6)
    assert geo["plan"]["planned"] == len(plan.targets)

    for kwargs, field in (
        ({"period_end": EVENING - timedelta(hours=1)}, "period_end"),
        ({"period_end": EVENING + timedelta(days=40)}, "period_end"),
        ({"windows": {"ENV-01": "bad"}}, "windows"),
        ({"service_minutes": 0}, "service_minutes"),
        ({"start": (math.nan, 1.0)}, "start"),
        ({"categories": ["MIN-2"]}, "categories"),
        ({"start": "x"}, "start"),
        ({"start": (117.1, 40.1), "start_crs": "EPSG:nope"}, "start_crs"),
        ({"period_start": "2025-05-01"}, "period_start"),
    ):
        args: dict[str, Any] = {"start": (X0, Y0), "period_start": EVENING, **kwargs}
        with pytest.raises(InvalidInput) as err:
            plan_operation(raw, catalog, **args)
        assert err.value.field == field


def test_solver_never_arrives_between_two_windows() -> None:
    hour = 3600
    # A (20 km) is open only briefly at the start and again at 08:00; B (40 km, same line) at 02:00-03:00.
    # Straight through A then B is shortest, but A's first window is gone on arrival: B first, A in the second.
    points = [[X0 + 20_000, Y0], [X0 + 40_000, Y0]]
    windows = [[(0, 600), (8 * hour, 9 * hour)], [(2 * hour, 3 * hour)]]
    route = solve_route((X0, Y0), points, windows, [1800, 1800], horizon_s=12 * hour)
    assert route.order == (1, 0) and not route.dropped
    assert route.arrive_s == (2 * hour, 8 * hour)


def test_solver_keeps_the_better_ranked_of_two_clashing_targets() -> None:
    hour = 3600
    points = [[X0 + 20_000, Y0], [X0 + 1000, Y0]]  # the better-ranked one is far, the other next door
    windows = [[(hour, hour + 600)], [(hour, hour + 600)]]
    route = solve_route((X0, Y0), points, windows, [1800, 1800], horizon_s=4 * hour, priority=[0, 1])
    assert route.order == (0,) and route.dropped[1].kind == "window_conflict"
    swapped = solve_route((X0, Y0), points, windows, [1800, 1800], horizon_s=4 * hour, priority=[1, 0])
    assert swapped.order == (1,) and swapped.dropped[0].kind == "window_conflict"


def test_road_distances_replace_straight_lines(catalog: Catalog) -> None:
    def manhattan(points: Any) -> Any:
        return abs(points[:, None, 0] - points[None, :, 0]) + abs(points[:, None, 1] - points[None, :, 1])

    plan = plan_operation(route_scenario(), catalog, start=(X0, Y0), period_start=EVENING,
                          period_end=EVENING + timedelta(hours=18), road_distances=manhattan)
    assert len(plan.targets) >= 3
    prev = (X0, Y0)
    for row in plan.targets.itertuples():
        road = abs(row.x - prev[0]) + abs(row.y - prev[1])
        assert row.leg_m == pytest.approx(road, abs=0.1)
        assert row.leg_minutes * 60 == math.ceil(road / (40 / 3.6))  # no detour factor on road distances
        prev = (row.x, row.y)
    with pytest.raises(InvalidInput) as err:
        plan_operation(route_scenario(), catalog, start=(X0, Y0), period_start=EVENING,
                       road_distances=lambda pts: manhattan(pts)[1:])
    assert err.value.field == "road_distances"
