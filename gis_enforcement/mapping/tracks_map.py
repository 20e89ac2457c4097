"""Patrol tracks (巡查轨迹) on the township map: where the patrols went in a period, night and day, the zones they
covered and the reports of the period — offline, like the other maps.

Input is data, not a session: the tracks (WGS84 lines with ``id``, ``officer``, ``township_code``), the coverage
of the period (a ``PatrolCoverage`` of :mod:`gis_enforcement.analysis.patrol_coverage`: its ``townships``,
``zone_kinds``, ``zones``, ``tracks`` tables, ``unpatrolled`` and ``distance_m``), the townships, the demo zones and
the incidents. Tracks are drawn indigo when most of their kilometres were at night (20:00–06:00), orange
otherwise; a popup gives officer, township, start–end and km. A side panel lists per township the tracks, hours,
km and night km and the share of each zone kind reached, all day and at night, and the zones no patrol came near.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_enforcement.domain.zone import district_zone
from gis_enforcement.mapping.elements import Raw, Script, figure_of, script_json
from gis_enforcement.mapping.features import township_names
from gis_enforcement.mapping.legend import category_colors
from gis_enforcement.mapping.offline import offline_map
from gis_enforcement.mapping.page import add_townships, start_page, synthetic_townships
from gis_enforcement.mapping.stamp import stamp_page

__all__ = ["NIGHT_COLOR", "DAY_COLOR", "ZONE_COLORS", "tracks_map", "write_tracks_map"]

NIGHT_COLOR = "#283593"
DAY_COLOR = "#ef6c00"
ZONE_COLORS = {"river_corridor": "#1e88e5", "mining_area": "#8d6e63", "truck_route": "#757575",
               "ecological_redline": "#43a047"}
#: the special zones as the page names them
ZONE_KIND_NAMES = {"river_corridor": "河道", "mining_area": "矿区", "truck_route": "货车通道",
                   "ecological_redline": "生态红线"}
METRIC_CRS = 4548
#: the page's kind in its ``<meta>`` (what the /maps index reads)
KIND = "tracks"
#: vertices closer than this to the simplified line are dropped from the page (m): the page stays small
SIMPLIFY_M = 8.0

_CSS = """
.gise-panel { top: 12px; right: 12px; padding: 10px 12px; font-size: 12px; max-height: 86%; overflow-y: auto;
  max-width: 660px; overflow-x: auto; }
.gise-panel h2 { margin: 2px 0 6px 0; font-size: 14px; }
.gise-panel table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.gise-panel th, .gise-panel td { padding: 2px 5px; border-bottom: 1px solid #eee; text-align: right;
  white-space: nowrap; }
.gise-panel th:first-child, .gise-panel td:first-child { text-align: left; }
.gise-panel .zero { color: #c62828; font-weight: 700; }
.gise-panel .unpatrolled { margin-top: 8px; color: #7a4d00; background: #fff3cd; padding: 4px 6px;
  border-radius: 4px; }
.gise-legend .ln { flex: none; width: 22px; height: 0; border-top: 3px solid; margin-right: 7px; }
.gise-legend .sq { flex: none; width: 14px; height: 10px; margin-right: 7px; opacity: 0.6; }
"""

_JS = """
(function () {
  var D = %(data)s, map = %(map)s;
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; }); }
  function rows(r) { return '<table>' + r.map(function (x) {
    return '<tr><th>' + esc(x[0]) + '</th><td>' + esc(x[1]) + '</td></tr>'; }).join('') + '</table>'; }
  var zones = L.geoJSON(D.zones, {style: function (f) {
      return {color: D.zoneColors[f.properties.kind] || '#777', weight: 1, fillOpacity: 0.28}; },
    onEachFeature: function (f, l) { var p = f.properties;
      l.bindPopup('<div class="gise-popup"><div class="hd">' + esc(p.name) + '</div>' + rows([
        [D.words.kind, p.kind_zh], [D.words.covered, p.covered], [D.words.night, p.night]]) + '</div>'); }
  }).addTo(map);
  var tracks = L.geoJSON(D.tracks, {style: function (f) {
      return {color: f.properties.night ? D.nightColor : D.dayColor, weight: 2.2, opacity: 0.8}; },
    onEachFeature: function (f, l) { var p = f.properties;
      l.bindPopup('<div class="gise-popup"><div class="hd" style="border-left-color:' +
        (p.night ? D.nightColor : D.dayColor) + '">' + esc(p.night ? D.words.nightTrack : D.words.dayTrack) +
        '</div>' + rows([[D.words.officer, p.officer], [D.words.township, p.township],
        [D.words.time, p.start + ' – ' + p.end], [D.words.km, p.km + ' ' + D.words.kmUnit + '（' +
        D.words.nightKm + ' ' + p.night_km + '）']]) + '</div>'); }
  }).addTo(map);
  var incidents = L.geoJSON(D.incidents, {pointToLayer: function (f, ll) {
      return L.circleMarker(ll, {radius: 3, weight: 1, color: '#fff', fillOpacity: 0.9,
        fillColor: D.catColors[f.properties.c] || '#555'}); },
    onEachFeature: function (f, l) { var p = f.properties;
      l.bindPopup('<div class="gise-popup"><div class="hd">' + esc(D.cats[p.c] || p.c) + '</div>' +
        rows([[D.words.time, p.t], [D.words.township, p.tw || '']]) + '</div>'); }
  }).addTo(map);
  var overlays = {}; overlays[D.words.zones] = zones; overlays[D.words.tracks] = tracks;
  overlays[D.words.incidents] = incidents;
  window.giseTrackLayers = {zones: zones, tracks: tracks, incidents: incidents};  // for a test's browser
  L.control.layers(null, overlays, {collapsed: true, position: 'bottomright'}).addTo(map);
})();
"""

WORDS = {"title": "巡查轨迹", "kind": "类型", "covered": "覆盖（全天）", "night": "覆盖（夜间）",
         "nightTrack": "夜间巡查", "dayTrack": "白天巡查", "officer": "巡查员", "township": "街乡", "time": "时间",
         "km": "里程", "kmUnit": "公里", "nightKm": "夜间", "zones": "重点区域（示意）", "tracks": "巡查轨迹",
         "incidents": "本期上报事件"}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _local(values: pd.Series, tz: str | None) -> list[str]:
    return [v.strftime("%m-%d %H:%M") for v in pd.to_datetime(values, utc=True).dt.tz_convert(district_zone(tz))]


def _track_features(tracks: gpd.GeoDataFrame, coverage: Any, names: Mapping[Any, str],
                    tz: str | None) -> dict[str, Any]:
    """The tracks of the period as GeoJSON, simplified for the page, with their figures for the popups."""
    facts = coverage.tracks.set_index("id")
    shown = tracks.loc[tracks["id"].isin(facts.index)]
    if not len(shown):
        return {"type": "FeatureCollection", "features": []}
    lines = gpd.GeoSeries(shapely.simplify(shown.geometry.to_crs(METRIC_CRS).to_numpy(), SIMPLIFY_M),
                          crs=METRIC_CRS).to_crs(4326).to_numpy()
    f = facts.loc[shown["id"].to_numpy()]
    start, end = _local(f["start"], tz), _local(f["end"], tz)
    features = []
    for i, (tid, line) in enumerate(zip(shown["id"], lines, strict=True)):
        xy = np.round(shapely.get_coordinates(line), 5).tolist()
        row = f.iloc[i]
        features.append({"type": "Feature", "geometry": {"type": "LineString", "coordinates": xy}, "properties": {
            "id": tid, "officer": row["officer"], "township": names.get(row["township_code"], "部门巡查"),
            "start": start[i], "end": end[i][6:] if end[i][:5] == start[i][:5] else end[i],
            "km": f"{row['km']:.1f}", "night_km": f"{row['night_km']:.1f}",
            "night": bool(row["night_km"] > row["km"] / 2)}})
    return {"type": "FeatureCollection", "features": features}


def _zone_features(zones: gpd.GeoDataFrame, coverage: Any) -> dict[str, Any]:
    shares = coverage.zones.set_index("code")
    features = []
    for code, name, kind, geom in zip(zones["code"], zones["name"], zones["kind"], zones.geometry, strict=True):
        s = shares.loc[code] if code in shares.index else None
        features.append({"type": "Feature", "geometry": shapely.geometry.mapping(shapely.set_precision(geom, 1e-5)),
                         "properties": {"name": name, "kind": kind, "kind_zh": ZONE_KIND_NAMES.get(kind, kind),
                                        "covered": _pct(s["covered_share"]) if s is not None else "—",
                                        "night": _pct(s["night_share"]) if s is not None else "—"}})
    return {"type": "FeatureCollection", "features": features}


def _incident_features(incidents: gpd.GeoDataFrame, names: Mapping[Any, str], tz: str | None) -> dict[str, Any]:
    if not len(incidents):
        return {"type": "FeatureCollection", "features": []}
    times = _local(incidents["observed_at"], tz)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(float(x), 5), round(float(y), 5)]},
         "properties": {"c": c, "t": t, "tw": names.get(tw, "")}}
        for x, y, c, t, tw in zip(incidents["lon"], incidents["lat"], incidents["category"], times,
                                  incidents["township_code"], strict=True)]}


def _panel(coverage: Any, names: Mapping[Any, str]) -> str:
    """The coverage figures: per township tracks, hours, km, night km, and each zone kind's share reached."""
    kinds = [k for k in ZONE_KIND_NAMES if k in set(coverage.zone_kinds["kind"])]
    by = coverage.zone_kinds.set_index(["township_code", "kind"])
    head = "".join(f"<th>{html.escape(ZONE_KIND_NAMES[k])}<br>全天/夜间</th>" for k in kinds)
    body = []
    for r in coverage.townships.itertuples(index=False):
        cells = []
        for k in kinds:
            if (r.township_code, k) in by.index:
                z = by.loc[(r.township_code, k)]
                cls = ' class="zero"' if z["covered_share"] == 0 else ""
                cells.append(f"<td{cls}>{_pct(z['covered_share'])}/{_pct(z['night_share'])}</td>")
            else:
                cells.append("<td>·</td>")
        name = names.get(r.township_code, r.township_name) if r.township_code is not None else r.township_name
        body.append(f"<tr><td>{html.escape(str(name))}</td><td>{r.tracks}</td><td>{r.hours:.1f}</td>"
                    f"<td>{r.km:.0f}</td><td>{r.night_km:.0f}</td>{''.join(cells)}</tr>")
    missing = coverage.unpatrolled
    note = ""
    if len(missing):
        items = "、".join(html.escape(str(n)) for n in missing["name"])
        note = f'<div class="unpatrolled">本期无巡查经过（{coverage.distance_m:g} 米内）：{items}</div>'
    return ('<div class="gise-box gise-panel"><h2>巡查覆盖 patrol coverage</h2><table><tr><th>街乡</th><th>轨迹</th>'
            f"<th>时长(时)</th><th>里程(公里)</th><th>夜间(公里)</th>{head}</tr>{''.join(body)}</table>"
            f'<div style="margin-top:4px;color:#555">覆盖 = 区域面积中距轨迹 {coverage.distance_m:g} 米以内的比例；'
            f"夜间 = 20:00–06:00</div>{note}</div>")


def _legend(n_night: int, n_day: int, n_incidents: int, kinds: list[str]) -> str:
    rows = [f'<div class="row"><span class="ln" style="border-color:{NIGHT_COLOR}"></span>'
            f'<span class="name">夜间巡查（过半里程在 20:00–06:00）</span><span class="n">{n_night}</span></div>',
            f'<div class="row"><span class="ln" style="border-color:{DAY_COLOR}"></span>'
            f'<span class="name">白天巡查</span><span class="n">{n_day}</span></div>',
            '<div class="row"><span class="dot" style="background:#555"></span>'
            f'<span class="name">本期上报事件</span><span class="n">{n_incidents}</span></div>']
    rows += [f'<div class="row"><span class="sq" style="background:{ZONE_COLORS.get(k, "#777")}"></span>'
             f'<span class="name">{html.escape(ZONE_KIND_NAMES.get(k, k))}</span><span class="n"></span></div>'
             for k in kinds]
    return '<div class="gise-box gise-legend"><div class="hd">图例</div>' + "".join(rows) + "</div>"


def tracks_map(tracks: gpd.GeoDataFrame, coverage: Any, townships: gpd.GeoDataFrame,
               zones: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame, *, title: str = "平谷区 巡查轨迹",
               subtitle: str = "", catalog: Any = None, tz: str | None = None,
               generated_at: datetime | None = None) -> folium.Map:
    """The period's tracks (night indigo, day orange), the zones shaded by kind with their coverage, the
    incidents of the period as small dots and the coverage table, over the townships, as an offline map; the
    title box says when it was written (``generated_at``, default now, in the zone ``tz``)."""
    if len(townships):
        x0, y0, x1, y1 = townships.to_crs(4326).total_bounds
    else:
        x0, y0, x1, y1 = 117.0, 40.0, 117.3, 40.3
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=11, tiles=None, prefer_canvas=True)
    start_page(m, title=title, css=_CSS)
    names = dict(zip(townships["code"], township_names(townships), strict=True)) if len(townships) else {}
    add_townships(m, townships, name="乡镇边界")
    codes = sorted(set(incidents["category"])) if len(incidents) else []
    cats = {c: f"{catalog.categories[c].zh} ({c})" for c in codes if catalog is not None and c in catalog.categories}
    track_fc = _track_features(tracks, coverage, names, tz)
    data = {"tracks": track_fc, "zones": _zone_features(zones, coverage),
            "incidents": _incident_features(incidents, names, tz), "zoneColors": ZONE_COLORS,
            "nightColor": NIGHT_COLOR, "dayColor": DAY_COLOR, "words": WORDS, "cats": cats,
            "catColors": category_colors(codes)}
    m.add_child(Script(_JS % {"data": script_json(data), "map": m.get_name()}))
    n_night = sum(1 for f in track_fc["features"] if f["properties"]["night"])
    n_day = len(track_fc["features"]) - n_night
    t = coverage.townships
    stats = [f"{int(t['tracks'].sum())} 条轨迹", f"{t['km'].sum():.0f} 公里", f"夜间 {t['night_km'].sum():.0f} 公里",
             f"{len(incidents)} 起事件"]
    at = generated_at or datetime.now(UTC)
    note = ('<div class="note">⚠ 乡镇边界为示意边界（合成数据，非官方），重点区域为示意，仅供演示</div>'
            if synthetic_townships(townships) else "")
    figure_of(m).html.add_child(Raw(
        f'<div class="gise-box gise-title"><h1>{html.escape(title)}</h1>'
        + (f'<div class="sub">时段 {html.escape(subtitle)}</div>' if subtitle else "")
        + '<div class="stats">' + "".join(f"<span>{html.escape(s)}</span>" for s in stats) + "</div>" + note
        + "</div>"))
    figure_of(m).html.add_child(Raw(_panel(coverage, names)))
    kinds = [k for k in ZONE_COLORS if len(zones) and k in set(zones["kind"])]
    figure_of(m).html.add_child(Raw(_legend(n_night, n_day, len(incidents), kinds)))
    m.fit_bounds([[y0, x0], [y1, x1]], padding_top_left=(20, 110), padding_bottom_right=(480, 20))
    offline_map(m)
    stamp_page(m, kind=KIND, lang="zh", tz=tz, generated_at=at)  # the 生成于 line and what the /maps index reads
    return m


def write_tracks_map(path: str | Path, tracks: gpd.GeoDataFrame, coverage: Any,
                     townships: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, incidents: gpd.GeoDataFrame,
                     **kw: Any) -> Path:
    """Write :func:`tracks_map` to ``path`` (self-contained, offline; folders made as needed); returns it."""
    m = tracks_map(tracks, coverage, townships, zones, incidents, **kw)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    m.save(str(path))
    return path
