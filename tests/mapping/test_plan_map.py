"""The plan map: start, every target with its status, numbered visits in order, the route through them,
waiting targets with their reasons, the legend's counts, English labels, offline."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from gis_enforcement.analysis.planning import plan_operation
from gis_enforcement.catalog.loader import load_catalog
from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping.plan_map import WINDOW_COLORS, write_plan_map
from tests.analysis.test_planning import EVENING, X0, Y0, route_scenario
from tests.mapping.test_incidents_map import embedded_layers

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pinggu():
    return load_jurisdiction()


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT / "data" / "catalog" / "pinggu.yaml")


@pytest.fixture(scope="module")
def plan(catalog) -> dict[str, Any]:
    # a short roster leaves one target waiting for officers
    return plan_operation(route_scenario(), catalog, start=(X0, Y0), period_start=EVENING,
                          period_end=EVENING + timedelta(hours=18), windows={"CON-03": "00:30-02:00"},
                          roster={"WATER": 4, "PNR": 6}).to_geojson()


def _by_role(layers: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for layer in layers:
        for f in layer["features"]:
            role = f["properties"].get("role")
            if role is not None:
                out.setdefault(role, []).append(f)
    return out


def test_every_target_the_route_and_numbered_visits(plan, pinggu, catalog, tmp_path) -> None:
    page = write_plan_map(tmp_path / "p.html", plan, pinggu.townships, catalog=catalog).read_text("utf-8")
    drawn = _by_role(embedded_layers(page))
    given = _by_role([plan])
    assert len(drawn["start"]) == 1 and len(drawn["route"]) == 1
    status = [f["properties"]["status"] for f in drawn["target"]]
    planned = [f for f in given["target"] if f["properties"]["status"] == "planned"]
    waiting = [f for f in given["target"] if f["properties"]["status"] == "waiting"]
    assert planned and waiting
    assert status.count("planned") == len(planned) and status.count("waiting") == len(waiting)
    assert sorted(f["properties"]["target_id"] for f in drawn["target"]) == sorted(
        f["properties"]["target_id"] for f in given["target"])
    # the route: start, then every planned target in visit order
    line = drawn["route"][0]["geometry"]["coordinates"]
    assert len(line) == len(planned) + 1
    in_order = sorted(planned, key=lambda f: f["properties"]["order"])
    assert line[1:] == [f["geometry"]["coordinates"] for f in in_order]
    # the numbers drawn are the visit orders 1..n; the marker shows the order
    orders = sorted(f["properties"]["order"] for f in drawn["target"] if f["properties"]["status"] == "planned")
    assert orders == list(range(1, len(planned) + 1))
    assert "String(p.order)" in page and "gise-num" in page
    # waiting targets keep their reason, and the popup shows it
    reasons = {f["properties"]["target_id"]: f["properties"]["reason"] for f in drawn["target"]
               if f["properties"]["status"] == "waiting"}
    assert reasons == {f["properties"]["target_id"]: f["properties"]["reason"] for f in waiting}
    assert all(reasons.values()) and "wait-reason" in page
    said = {f["properties"]["target_id"]: f["properties"].get("reason_zh") for f in drawn["target"]
            if f["properties"]["status"] == "waiting"}
    assert all(v and v[0] not in "abcdefghijklmnopqrstuvwxyz" for v in said.values()), said  # in Chinese
    assert "p.reason_zh" in page and '"lang":"zh"' in page
    # legend and title
    n_night = sum(f["properties"]["window_label"] == "night" for f in planned)
    assert re.search(rf"计划检查点 · 夜间时段</span><span class=\"n\">{n_night}</span>", page)
    assert re.search(rf"待安排（未排入）</span><span class=\"n\">{len(waiting)}</span>", page)
    assert "出发点" in page and WINDOW_COLORS["night"] in page and WINDOW_COLORS["day"] in page
    km = plan["features"][-1]["properties"]["travel_m"] / 1000
    assert f"{len(planned)} 个检查点" in page and f"{km:.1f} 公里" in page
    assert "2025-05-01 18:00" in page  # the period
    assert "河道非法采砂" in page  # category names from the lists
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)  # offline: nothing fetched
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", page, re.I)


def test_english_and_no_catalog(plan, pinggu, tmp_path) -> None:
    page = write_plan_map(tmp_path / "e.html", plan, pinggu.townships, lang="en",
                          title="Night sweep <Pinggu>").read_text("utf-8")
    assert "Night sweep &lt;Pinggu&gt;" in page and "Planned visits · Night window" in page
    assert "Waiting (not scheduled)" in page and "Start" in page and " km" in page
    with pytest.raises(ValueError):
        write_plan_map(tmp_path / "x.html", plan, pinggu.townships, lang="fr")


def test_stored_route_without_plan_block_and_an_empty_plan(plan, pinggu, tmp_path) -> None:
    stored = {"type": "FeatureCollection", "features": plan["features"]}  # no "plan" member
    page = write_plan_map(tmp_path / "s.html", stored, pinggu.townships).read_text("utf-8")
    assert "2025-05-01 18:00" in page  # period from the start's departure
    empty = {"type": "FeatureCollection", "features": []}
    page = write_plan_map(tmp_path / "0.html", empty, pinggu.townships).read_text("utf-8")
    assert "0 个检查点" in page


def _empty_plan(start: list[Any]) -> dict[str, Any]:
    """A stored plan with no target at all, as ``OperationPlan.to_geojson`` writes it (no route line)."""
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "id": "start", "geometry": {"type": "Point", "coordinates": start},
                          "properties": {"role": "start", "depart_at": "2026-09-01T20:00:00+08:00"}}],
            "plan": {"period_start": "2026-09-01T20:00:00+08:00", "period_end": "2026-09-02T08:00:00+08:00",
                     "planned": 0, "waiting": 0}}


def test_a_plan_without_targets_draws_and_says_so(pinggu, catalog, tmp_path) -> None:
    page = write_plan_map(tmp_path / "empty.html", _empty_plan([117.12, 40.14]), pinggu.townships,
                          catalog=catalog).read_text("utf-8")
    assert "本方案没有排入任何检查点" in page and "0 个检查点" in page
    assert [f["properties"]["role"] for f in _by_role(embedded_layers(page)).get("start", [])] == ["start"]
    english = write_plan_map(tmp_path / "empty-en.html", _empty_plan([117.12, 40.14]), pinggu.townships,
                             lang="en").read_text("utf-8")
    assert "This plan has no scheduled targets" in english


def test_a_stored_plan_with_an_impossible_start_still_draws(pinggu, catalog, tmp_path) -> None:
    # plans stored before starts were checked hold null positions (an infinite coordinate stored as JSON)
    broken = _empty_plan([None, None])
    broken["features"].append({"type": "Feature", "id": "route",
                               "geometry": {"type": "LineString", "coordinates": [[None, None], [117.1, 40.1]]},
                               "properties": {"role": "route", "travel_m": None}})
    page = write_plan_map(tmp_path / "broken.html", broken, pinggu.townships, catalog=catalog).read_text("utf-8")
    drawn = _by_role(embedded_layers(page))
    assert "start" not in drawn and "route" not in drawn  # nothing placed where there is no place
    assert "本方案没有排入任何检查点" in page
    bad = _empty_plan([200.0, 100.0])
    assert "start" not in _by_role(embedded_layers(
        write_plan_map(tmp_path / "far.html", bad, pinggu.townships).read_text("utf-8")))


def _in_town(plan: dict[str, Any], code: str) -> dict[str, Any]:
    """The plan with every target in township ``code`` (as a stored plan's targets carry it)."""
    features = [{**f, "properties": {**f["properties"], "township_code": code}}
                if f["properties"].get("role") == "target" else f for f in plan["features"]]
    return {**plan, "features": features}


def _header(page: str) -> str:
    return page.split('<div class="gise-box gise-title">', 1)[1].split('<div class="gise-box gise-legend">', 1)[0]


def test_the_header_names_the_plan_its_township_team_driving_time_and_return(plan, pinggu, catalog,
                                                                             tmp_path) -> None:
    towns = pinggu.townships
    code, name = str(towns["code"].iloc[0]), str(towns["name"].iloc[0])
    page = write_plan_map(tmp_path / "h.html", _in_town(plan, code), towns, catalog=catalog,
                          plan_id=6).read_text("utf-8")
    head = _header(page)
    assert f"联合执法方案 · 计划 #6 · {re.sub(r'[（(].*', '', name)}</h1>" in head
    route = next(f["properties"] for f in plan["features"] if f["properties"].get("role") == "route")
    # the driving time said as driving, not as the operation's length, and when the last visit is done
    assert f"行驶 {route['travel_minutes']:.0f} 分钟" in head
    end = route["end_at"][11:16] if route["end_at"][:10] == plan["plan"]["period_start"][:10] else \
        route["end_at"][5:16].replace("T", " ")
    assert f"预计 {end} 完成最后一个检查点" in head
    planned = [f["properties"] for f in plan["features"] if f["properties"].get("status") == "planned"]
    most: dict[str, int] = {}
    for p in planned:
        for part in p["officers"].split(";"):
            dep, n = part.strip().rsplit(" ", 1)
            most[dep] = max(most.get(dep, 0), int(n))
    assert "参与部门（人）" in head and f"共 {sum(most.values())} 人" in head
    for dep, n in most.items():
        assert f"{re.sub(r'[（(].*', '', catalog.departments[dep].zh)} {n}" in head, dep
    back = {**plan, "plan": {**plan["plan"], "return_to_start": True}}
    assert f"预计 {end} 返回" in _header(write_plan_map(tmp_path / "b.html", back, towns, catalog=catalog)
                                          .read_text("utf-8"))
    english = _header(write_plan_map(tmp_path / "en.html", _in_town(plan, code), towns, catalog=catalog, lang="en",
                                     plan_id=6).read_text("utf-8"))
    assert "Plan #6" in english and f"driving {route['travel_minutes']:.0f} min" in english


def test_waiting_targets_are_a_layer_the_header_hides_and_shows(plan, pinggu, catalog, tmp_path) -> None:
    from tests.browser import chromium

    n_planned = sum(f["properties"].get("status") == "planned" for f in plan["features"])
    n_waiting = sum(f["properties"].get("status") == "waiting" for f in plan["features"])
    assert 0 < n_waiting < n_planned
    # as many waiting as planned or fewer: shown at first; more (they would crowd the visits): hidden at first
    crowded = {**plan, "features": [*plan["features"], *(
        {**f, "id": f"{f['id']}-{i}", "properties": {**f["properties"], "target_id": f"{f['id']}-{i}"}}
        for i in range(n_planned) for f in plan["features"] if f["properties"].get("status") == "waiting")]}
    pages = {"few": write_plan_map(tmp_path / "few.html", plan, pinggu.townships, catalog=catalog),
             "many": write_plan_map(tmp_path / "many.html", crowded, pinggu.townships, catalog=catalog)}
    assert f"另 {n_waiting} 个待安排" in _header(pages["few"].read_text("utf-8"))
    with chromium() as browser:
        seen = {}
        for key, path in pages.items():
            tab = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            tab.on("pageerror", lambda e: errors.append(str(e)))  # noqa: B023
            tab.goto(path.as_uri())
            tab.wait_for_selector(".gise-num")
            before = tab.locator(".gise-num.wait").count()
            tab.click("#gise-show-waiting")
            tab.wait_for_timeout(200)
            seen[key] = (before, tab.locator(".gise-num.wait").count(), errors)
            tab.close()
    assert seen["few"] == (n_waiting, 0, [])
    assert seen["many"] == (0, n_waiting * (n_planned + 1), [])
