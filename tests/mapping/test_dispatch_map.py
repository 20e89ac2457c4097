"""The dispatch map: the case, its geofence, one dot per department that reported in (on time green, late
orange) with a line to the case and a label, every department in the legend with its state, English, offline."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from gis_enforcement.layers.jurisdiction import load_jurisdiction
from gis_enforcement.mapping.dispatch_map import STATE_COLORS, report_in_states, write_dispatch_map
from tests.mapping.test_incidents_map import embedded_layers

WHISTLE = pd.Timestamp("2026-05-12 23:40", tz="Asia/Shanghai")
CASE = {"id": "case-1", "lon": 117.1643, "lat": 40.1482, "category": "MIN-02", "title": "泃河河道夜间采砂"}


@pytest.fixture(scope="module")
def pinggu():
    return load_jurisdiction()


def assignments() -> pd.DataFrame:
    due = WHISTLE + pd.Timedelta(minutes=30)
    rows = [
        ("WATER", "区水务局", "lead", "reported_in", 18, 117.1652, 40.1488),
        ("PSB", "区公安分局", "assist", "reported_in", 42, 117.1630, 40.1470),
        ("TRANS", "区交通局（含交通执法/路政）", "assist", "acting", 25, 117.1618, 40.1493),
        ("PNR", "区规划和自然资源管理分局", "assist", "summoned", None, None, None),
    ]
    a = pd.DataFrame(rows, columns=["department", "department_name", "role", "status", "after",
                                    "report_in_lon", "report_in_lat"])
    a["summoned_at"] = WHISTLE
    a["report_in_due"] = due
    a["reported_in_at"] = [WHISTLE + pd.Timedelta(minutes=m) if m == m and m is not None else pd.NaT
                           for m in a.pop("after")]
    a["minutes_late"] = (a["reported_in_at"] - due).dt.total_seconds() / 60
    return a


def test_states_from_times() -> None:
    a = assignments()
    before = report_in_states(a, now=(WHISTLE + pd.Timedelta(minutes=20)).to_pydatetime())
    assert list(before["state"]) == ["on_time", "late", "on_time", "not_yet"]
    assert list(before["minutes_from_whistle"][:3]) == [18, 42, 25]
    after = report_in_states(a.drop(columns="minutes_late"), now=(WHISTLE + pd.Timedelta(hours=2)).to_pydatetime())
    assert list(after["state"]) == ["on_time", "late", "on_time", "absent"]
    assert after["minutes_late"].iat[1] == 12


def test_a_naive_now_is_read_in_the_districts_zone() -> None:
    """PNR's deadline is 00:10 Beijing time; a naive 00:00 is before it in Beijing, after it in UTC."""
    a = assignments()
    naive = WHISTLE.tz_localize(None) + pd.Timedelta(minutes=20)
    assert report_in_states(a, now=naive.to_pydatetime())["state"].iat[3] == "not_yet"
    assert report_in_states(a, now=naive.to_pydatetime(), tz="Asia/Shanghai")["state"].iat[3] == "not_yet"
    assert report_in_states(a, now=naive.to_pydatetime(), tz="UTC")["state"].iat[3] == "absent"


def test_case_geofence_checkins_and_legend(pinggu, tmp_path) -> None:
    a = assignments()
    page = write_dispatch_map(tmp_path / "d.html", CASE, a, pinggu.townships, geofence_m=200,
                              now=(WHISTLE + pd.Timedelta(hours=1)).to_pydatetime()).read_text("utf-8")
    layers = embedded_layers(page)
    case = next(layer for layer in layers if layer["features"] and layer["features"][0]["properties"].get("id"))
    checkins = next(layer for layer in layers if layer["features"] and "state" in layer["features"][0]["properties"])
    assert case["features"][0]["geometry"]["coordinates"] == [CASE["lon"], CASE["lat"]]
    drawn = {f["properties"]["department"]: f for f in checkins["features"]}
    assert set(drawn) == {"WATER", "PSB", "TRANS"}  # PNR has not come: legend only
    assert {d: f["properties"]["state"] for d, f in drawn.items()} == {"WATER": "on_time", "PSB": "late",
                                                                       "TRANS": "on_time"}
    for d in drawn:
        row = a.set_index("department").loc[d]
        assert drawn[d]["geometry"]["coordinates"] == [row["report_in_lon"], row["report_in_lat"]]
    assert drawn["WATER"]["properties"]["label"] == "水务局 18分"
    assert drawn["TRANS"]["properties"]["label"] == "交通局 25分"
    assert "在报到范围外" in drawn["TRANS"]["properties"]["distance"]  # ~300 m out with a 200 m fence
    assert "在报到范围外" not in drawn["WATER"]["properties"]["distance"]
    assert "radius: 200.0" in page and "L.polyline([latlng, at]" in page
    # the legend: every department, with its state
    for name, state in (("水务局", "按时报到 · 提前 12 分钟"), ("公安分局", "迟到 12 分钟"),
                        ("交通局", "按时报到 · 提前 5 分钟"), ("规划和自然资源管理分局", "未到（已超时）")):
        assert re.search(rf">{re.escape(name)}</span><span class=\"role\">[^<]+</span>"
                         rf"<span class=\"st\"[^>]*>{re.escape(state)}</span>", page), name
    assert STATE_COLORS["on_time"] in page and STATE_COLORS["late"] in page
    assert "报到范围 200 米" in page and "4 个部门" in page and "泃河河道夜间采砂" in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)  # offline: nothing fetched
    assert not re.search(r"<link[^>]*\bhref\s*=\s*[\"']?https?:", page, re.I)


def test_minutes_after_the_whistle_and_early_or_late_add_up_to_the_deadline(pinggu, tmp_path) -> None:
    """One rounding rule: 20.13 min after a 30-minute whistle prints 20分 and 提前 10 分钟 (not 9), 31.81 prints
    32分 and 迟到 2 分钟; a check-in 18 seconds late is late, by under a minute, at 30分."""
    after = {"WATER": 20.13, "PSB": 31.81, "TRANS": 6.2, "PNR": 13.14, "SAMR": 30.3}
    a = pd.concat([assignments()] * 2, ignore_index=True).head(len(after))
    a["department"] = list(after)
    a["department_name"] = ["区水务局", "区公安分局", "区交通局", "区规划和自然资源管理分局", "区市场监管局"]
    a["report_in_lon"], a["report_in_lat"] = CASE["lon"] + 0.001, CASE["lat"]
    a["reported_in_at"] = [WHISTLE + pd.Timedelta(seconds=round(m * 60)) for m in after.values()]
    a["minutes_late"] = (a["reported_in_at"] - a["report_in_due"]).dt.total_seconds() / 60
    page = write_dispatch_map(tmp_path / "r.html", CASE, a, pinggu.townships, geofence_m=200,
                              now=(WHISTLE + pd.Timedelta(hours=1)).to_pydatetime()).read_text("utf-8")
    checkins = next(layer for layer in embedded_layers(page) if layer["features"]
                    and "state" in layer["features"][0]["properties"])
    labels = {f["properties"]["department"]: f["properties"]["label"] for f in checkins["features"]}
    assert labels == {"WATER": "水务局 20分", "PSB": "公安分局 32分", "TRANS": "交通局 6分",
                      "PNR": "规划和自然资源管理分局 13分", "SAMR": "市场监管局 30分"}
    for name, state in (("水务局", "按时报到 · 提前 10 分钟"), ("公安分局", "迟到 2 分钟"),
                        ("交通局", "按时报到 · 提前 24 分钟"), ("规划和自然资源管理分局", "按时报到 · 提前 17 分钟"),
                        ("市场监管局", "迟到不足 1 分钟")):
        assert re.search(rf">{re.escape(name)}</span><span class=\"role\">[^<]+</span>"
                         rf"<span class=\"st\"[^>]*>{re.escape(state)}</span>", page), name
    popup = next(f for f in checkins["features"] if f["properties"]["department"] == "WATER")["properties"]
    assert popup["reported"].endswith("(哨后 20 分钟)")


def test_english_not_yet_and_bad_input(pinggu, tmp_path) -> None:
    a = assignments()
    page = write_dispatch_map(tmp_path / "e.html", CASE, a, pinggu.townships, geofence_m=150, lang="en",
                              now=(WHISTLE + pd.Timedelta(minutes=10)).to_pydatetime()).read_text("utf-8")
    assert "Not yet" in page and "Late by 12 min" in page and "Geofence 150 m" in page
    nobody = a.assign(reported_in_at=pd.NaT, minutes_late=np.nan, report_in_lon=np.nan, report_in_lat=np.nan)
    page = write_dispatch_map(tmp_path / "n.html", CASE, nobody, pinggu.townships, geofence_m=150,
                              now=(WHISTLE + pd.Timedelta(minutes=10)).to_pydatetime()).read_text("utf-8")
    checkins = [layer for layer in embedded_layers(page) if not layer["features"]]
    assert checkins and page.count("尚未报到") >= 4
    with pytest.raises(ValueError):
        write_dispatch_map(tmp_path / "x.html", CASE, a, pinggu.townships, geofence_m=0)
    with pytest.raises(ValueError):
        write_dispatch_map(tmp_path / "x.html", CASE, a, pinggu.townships, geofence_m=100, lang="fr")
