"""A joint-operation plan (联合执法) on the township map — start, numbered visits, route, waiting targets, offline.

Input is the GeoJSON a plan produces (:meth:`~gis_enforcement.analysis.planning.OperationPlan.to_geojson`, also
what the ``operation_plan.route`` column stores): the start is a square marker, every planned target a circle
with its visit number in it, coloured by its time window (night, evening, day, other), every waiting target a
grey dashed circle whose popup says why it is waiting, and the route a dashed line with an arrow on each leg
pointing the way the team drives. Popups (built in the browser) give name, categories, departments with their
officers, the window and the arrival time. The title box names the plan (its number when given) and its
township(s), the period, the number of visits, the route's length and driving time (行驶 N 分钟: driving, not
the operation's length), when the team is expected back (or done at the last visit), and the departments with
their officers. Waiting targets are a layer of their own that the title box can hide (hidden at first when they
outnumber the planned visits, which they would crowd). Like the other maps, Leaflet is inlined (works offline).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd

from gis_enforcement.mapping.elements import JsElement, Raw, Script, _parent_of, figure_of, script_json
from gis_enforcement.mapping.offline import offline_map
from gis_enforcement.mapping.page import add_townships, start_page, synthetic_townships, write_page

__all__ = ["WINDOW_COLORS", "WORDS", "plan_map", "write_plan_map"]

#: window label → fill colour of a planned target (labels of the lists' inspection windows; "other" for the rest)
WINDOW_COLORS: Mapping[str, str] = {"night": "#283593", "evening": "#8e24aa", "day": "#ef6c00",
                                    "other": "#00897b"}
WAITING_COLOR = "#9e9e9e"
START_COLOR = "#c62828"
ROUTE_COLOR = "#d81b60"
WORDS = {
    "zh": {"title": "联合执法方案", "legend": "图例", "start": "出发点", "planned": "计划检查点",
           "waiting": "待安排（未排入）", "route": "行进路线", "night": "夜间时段", "evening": "傍晚时段",
           "day": "白天时段", "other": "其他时段", "targets": "个检查点", "km": "公里", "min": "分钟",
           "period": "时段", "categories": "问题类别", "departments": "参与部门", "officers": "人",
           "window": "检查时段", "arrive": "到达", "depart": "离开", "wait": "等候", "reason": "原因",
           "severity": "严重程度", "score": "得分", "rank": "排名", "order": "顺序", "id": "编号",
           "depart_at": "出发时间", "townships": "乡镇边界", "end": "结束",
           "no_targets": "本方案没有排入任何检查点", "plan": "计划 #{n}", "drive": "行驶 {n} 分钟",
           "back": "预计 {t} 返回", "done": "预计 {t} 完成最后一个检查点", "team": "参与部门（人）",
           "team_total": "共 {n} 人", "waiting_n": "另 {n} 个待安排", "show": "显示"},
    "en": {"title": "Joint operation plan", "legend": "Legend", "start": "Start", "planned": "Planned visits",
           "waiting": "Waiting (not scheduled)", "route": "Route", "night": "Night window",
           "evening": "Evening window", "day": "Day window", "other": "Other window", "targets": "targets",
           "km": "km", "min": "min", "period": "Period", "categories": "Categories", "departments": "Departments",
           "officers": "officers", "window": "Window", "arrive": "Arrive", "depart": "Leave", "wait": "Wait",
           "reason": "Reason", "severity": "Severity", "score": "Score", "rank": "Rank", "order": "Visit",
           "id": "ID", "depart_at": "Departs", "townships": "Townships", "end": "Ends",
           "no_targets": "This plan has no scheduled targets", "plan": "Plan #{n}", "drive": "driving {n} min",
           "back": "back by {t}", "done": "last visit done by {t}", "team": "Departments (officers)",
           "team_total": "{n} officers in all", "waiting_n": "{n} more waiting", "show": "show"},
}

_PLAN_CSS = """
.gise-num { display: flex; align-items: center; justify-content: center; border-radius: 50%;
  border: 2px solid #fff; box-shadow: 0 0 0 1px rgba(0,0,0,0.35), 0 1px 4px rgba(0,0,0,0.35); color: #fff;
  font: 700 13px/1 Arial, sans-serif; box-sizing: border-box; width: 26px; height: 26px; }
.gise-num.wait { background: #fff !important; color: #777; border: 2px dashed #9e9e9e; box-shadow: none;
  font-size: 11px; }
.gise-start { display: flex; align-items: center; justify-content: center; width: 26px; height: 26px;
  box-sizing: border-box; background: #c62828; color: #fff; border: 2px solid #fff; border-radius: 4px;
  box-shadow: 0 0 0 1px rgba(0,0,0,0.4), 0 1px 4px rgba(0,0,0,0.4); font: 700 13px/1 sans-serif; }
.gise-arrow { color: #d81b60; font-size: 16px; line-height: 16px; text-align: center;
  text-shadow: 0 0 2px #fff, 0 0 2px #fff; }
.gise-legend .sq { border-radius: 3px; }
.gise-legend .ln { flex: none; width: 22px; height: 0; border-top: 3px dashed #d81b60; margin-right: 7px; }
.gise-popup .wait-reason { margin-top: 6px; padding: 5px 7px; background: #fff3cd; color: #7a4d00;
  border-radius: 4px; }
"""

#: Browser helpers for the plan's popups: escaping, local times out of ISO strings, names from codes.
_PLAN_JS = """
var GISE_PLAN = %s;
function gisePlanEsc(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c]; });
}
function gisePlanTime(iso) { return iso ? String(iso).slice(5, 16).replace('T', ' ') : ''; }
function gisePlanColor(p) {
  var c = GISE_PLAN.colors; return c[p.window_label] || c.other;
}
function gisePlanPopup(p) {
  var G = GISE_PLAN, w = G.words, esc = gisePlanEsc, rows = [];
  function row(k, v) { if (v !== undefined && v !== null && v !== '') { rows.push([k, v]); } }
  function names(text, lookup) {
    return String(text || '').split(';').filter(function (x) { return !!x.trim(); }).map(function (x) {
      x = x.trim(); return lookup[x] || x; }).join('、');
  }
  var officers = String(p.officers || '').split(';').filter(function (x) { return !!x.trim(); }).map(
    function (x) { var kv = x.trim().split(' '); return (G.depts[kv[0]] || kv[0]) + ' ' + kv[1] + ' ' + w.officers; });
  if (p.status === 'planned') { row(w.order, p.order); }
  row(w.categories, names(p.categories, G.cats));
  row(w.departments, officers.length ? officers.join('<br>') : esc(names(p.departments, G.depts)));
  row(w.window, p.window ? esc(p.window + (p.window_label && w[p.window_label] ? ' · ' + w[p.window_label] : ''))
                         : '');
  if (p.status === 'planned') {
    row(w.arrive, esc(gisePlanTime(p.arrive_at)));
    if (p.wait_minutes) { row(w.wait, esc(Math.round(p.wait_minutes) + ' ' + w.min)); }
    row(w.depart, esc(gisePlanTime(p.depart_at)));
  }
  row(w.severity, p.severity ? esc(G.severity[p.severity] || p.severity) : '');
  row(w.score, p.score === null || p.score === undefined ? '' : esc(p.score + ' (' + w.rank + ' ' + p.rank + ')'));
  var colour = p.status === 'planned' ? gisePlanColor(p) : G.waiting;
  var head = (p.status === 'planned' ? p.order + '. ' : '') + (p.name || p.target_id);
  return '<div class="gise-popup"><div class="hd" style="border-left-color:' + colour + '">' + esc(head) +
    '</div><table>' + rows.map(function (r) {
      return '<tr><th>' + esc(r[0]) + '</th><td>' + (typeof r[1] === 'string' ? r[1] : esc(r[1])) + '</td></tr>';
    }).join('') + '</table>' +
    (p.reason ? '<div class="wait-reason">' + esc(w.reason) + '：' + esc((G.lang === 'zh' && p.reason_zh) || p.reason) +
      '</div>' : '') +
    '<div class="id">' + esc(w.id) + ' ' + esc(p.target_id) + '</div></div>';
}
"""


class PlanLayer(JsElement):
    """One part of the plan (``route``, ``waiting``, ``planned`` or ``start``) as one GeoJSON layer."""

    def __init__(self, collection: dict[str, Any], kind: str):
        super().__init__()
        self._name = "GisePlan"
        self.data = script_json(collection)
        self.kind = kind

    def js(self) -> str:
        parent = _parent_of(self).get_name()
        if self.kind == "route":
            # the line, and an arrow at the middle of each leg turned the way the team drives
            return f"""
var {self.get_name()} = L.geoJSON({self.data}, {{
  interactive: false,
  style: function () {{ return {{color: GISE_PLAN.route, weight: 3.5, opacity: 0.85, dashArray: '10 7'}}; }},
  onEachFeature: function (f) {{
    var c = f.geometry.coordinates;
    for (var i = 1; i < c.length; i++) {{
      var a = c[i - 1], b = c[i], k = Math.cos((a[1] + b[1]) / 2 * Math.PI / 180);
      if (a[0] === b[0] && a[1] === b[1]) {{ continue; }}
      var deg = -Math.atan2(b[1] - a[1], (b[0] - a[0]) * k) * 180 / Math.PI;
      L.marker([(a[1] + b[1]) / 2, (a[0] + b[0]) / 2], {{interactive: false, keyboard: false,
        icon: L.divIcon({{className: 'gise-arrow', iconSize: [16, 16], iconAnchor: [8, 8],
          html: '<div style="transform: rotate(' + deg.toFixed(1) + 'deg)">&#10148;</div>'}})}}).addTo({parent});
    }}
  }}
}}).addTo({parent});
"""
        if self.kind == "start":
            return f"""
var {self.get_name()} = L.geoJSON({self.data}, {{
  pointToLayer: function (f, latlng) {{
    return L.marker(latlng, {{pane: 'giseTop', zIndexOffset: 1000, icon: L.divIcon({{className: '', iconSize: [26, 26],
      iconAnchor: [13, 13], html: '<div class="gise-start">' + gisePlanEsc(GISE_PLAN.words.start.charAt(0)) +
      '</div>'}})}});
  }},
  onEachFeature: function (f, layer) {{
    var w = GISE_PLAN.words;
    layer.bindPopup('<div class="gise-popup"><div class="hd" style="border-left-color:' + GISE_PLAN.start +
      '">' + gisePlanEsc(w.start) + '</div><table><tr><th>' + gisePlanEsc(w.depart_at) + '</th><td>' +
      gisePlanEsc(gisePlanTime(f.properties.depart_at)) + '</td></tr></table></div>');
  }}
}}).addTo({parent});
"""
        # targets: the visit number inside a circle of the window's colour; waiting ones grey and dashed
        return f"""
var {self.get_name()} = L.geoJSON({self.data}, {{
  pointToLayer: function (f, latlng) {{
    var p = f.properties, planned = p.status === 'planned';
    var inner = planned ? String(p.order) : '…';
    return L.marker(latlng, {{pane: 'giseTop', zIndexOffset: planned ? 500 - p.order : 0, riseOnHover: true,
      icon: L.divIcon({{className: '', iconSize: [26, 26], iconAnchor: [13, 13],
        html: '<div class="gise-num' + (planned ? '' : ' wait') + '" style="background:' +
          (planned ? gisePlanColor(p) : '#fff') + '">' + gisePlanEsc(inner) + '</div>'}})}});
  }},
  onEachFeature: function (f, layer) {{
    layer.bindPopup(function () {{ return gisePlanPopup(f.properties); }}, {{maxWidth: 380}});
    var p = f.properties;
    layer.bindTooltip(gisePlanEsc((p.name || p.target_id) + (p.status === 'planned' ? ' · ' +
      gisePlanTime(p.arrive_at).slice(6) : '')), {{direction: 'right', offset: [14, 0]}});
  }}
}}).addTo({parent});
"""


def _position(value: Any) -> list[float] | None:
    """A GeoJSON position as [lon, lat] when it holds two finite numbers within ±180°/±90°, else None."""
    if not isinstance(value, list | tuple) or len(value) < 2:
        return None
    lon, lat = value[0], value[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (lon, lat)):
        return None
    return [float(lon), float(lat)] if abs(lon) <= 180 and abs(lat) <= 90 else None


def _drawable(feature: Mapping[str, Any]) -> dict[str, Any] | None:
    """The feature with only the positions a map can place (a stored plan may hold a null or impossible point),
    or None when nothing of it is left: a point without a position, a line with fewer than two."""
    geometry = feature.get("geometry") or {}
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "Point":
        point = _position(coordinates)
        return None if point is None else {**feature, "geometry": {"type": "Point", "coordinates": point}}
    if kind == "LineString" and isinstance(coordinates, list):
        line = [p for p in (_position(c) for c in coordinates) if p is not None]
        return None if len(line) < 2 else {**feature, "geometry": {"type": "LineString", "coordinates": line}}
    return None


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _window_key(label: Any) -> str:
    return label if label in WINDOW_COLORS else "other"


def _period_text(plan: Mapping[str, Any], start: Mapping[str, Any] | None, route: Mapping[str, Any] | None) -> str:
    begin = plan.get("period_start") or (start or {}).get("depart_at")
    end = plan.get("period_end") or (route or {}).get("end_at")
    if not begin:
        return ""
    b = str(begin)[:16].replace("T", " ")
    if not end:
        return b
    e = str(end)[:16].replace("T", " ")
    return f"{b} – {e[11:] if e[:10] == b[:10] else e[5:]}"


def _clock(value: Any, since: Any) -> str:
    """An ISO time as HH:MM, with its month and day (MM-DD HH:MM) when it falls on another day than ``since``."""
    text = str(value)[:16].replace("T", " ")
    return text[11:] if since and text[:10] == str(since)[:10] else text[5:]


def _bare(name: str) -> str:
    """A township's name without its parenthesised alias: "马坊镇(马坊地区)" → "马坊镇"."""
    return re.sub(r"[（(][^）)]*[）)]", "", name).strip() or name


def _township_names(targets: list[dict[str, Any]], townships: gpd.GeoDataFrame) -> list[str]:
    """The townships of the targets (the planned ones first), by name where the layer has it."""
    names = ({str(c): str(n) for c, n in zip(townships["code"], townships["name"], strict=True)}
             if {"code", "name"} <= set(townships.columns) else {})
    codes = [str(f["properties"]["township_code"]) for f in targets if f["properties"].get("township_code")]
    return [_bare(names.get(c, c)) for c in dict.fromkeys(codes)]


def _team(planned: list[dict[str, Any]], depts: Mapping[str, str]) -> list[tuple[str, int]]:
    """Each department of the planned visits with the most officers any visit needs of it (the team drives
    the route together), in the order they first appear; names from the lists when known."""
    most: dict[str, int] = {}
    for f in planned:
        for part in str(f["properties"].get("officers") or "").split(";"):
            code, _, n = part.strip().rpartition(" ")
            if code and n.isdigit():
                most[code] = max(most.get(code, 0), int(n))
    return [(_bare(depts.get(code, code)), n) for code, n in most.items()]


def _legend(counts: Mapping[str, int], n_waiting: int, words: Mapping[str, str]) -> str:
    def row(swatch: str, name: str, n: int | None) -> str:
        count = f'<span class="n">{n:,}</span>' if n is not None else '<span class="n"></span>'
        return f'<div class="row">{swatch}<span class="name">{html.escape(name)}</span>{count}</div>'

    rows = [row(f'<span class="dot sq" style="background:{START_COLOR}"></span>', words["start"], None)]
    rows += [row(f'<span class="dot" style="background:{WINDOW_COLORS[k]}"></span>',
                 f'{words["planned"]} · {words[k]}', counts.get(k, 0))
             for k in WINDOW_COLORS if counts.get(k, 0) or k in ("night", "day")]
    rows.append(row('<span class="dot" style="background:#fff;border:1.5px dashed #9e9e9e"></span>',
                    words["waiting"], n_waiting))
    rows.append(row('<span class="ln"></span>', words["route"], None))
    return (f'<div class="gise-box gise-legend"><div class="hd">{html.escape(words["legend"])}</div>'
            + "".join(rows) + "</div>")


def plan_map(plan_geojson: Mapping[str, Any], townships: gpd.GeoDataFrame, *, title: str | None = None,
             lang: str = "zh", catalog: Any = None, tiles: str | None = None,
             plan_id: int | None = None) -> folium.Map:
    """A joint-operation plan's GeoJSON (features with ``role`` start / target / route, as
    :meth:`OperationPlan.to_geojson` writes them) over the township polygons, as an offline folium map.

    Planned targets are numbered in visit order and coloured by their window's label (night, evening, day,
    other); waiting targets are grey, their popup giving the reason; the route has an arrow on each leg. The
    title box gives the plan (``plan_id``, when given) and its townships, the period, the number of targets,
    the route's length and driving time, the expected return, and the departments with their officers; its
    "显示" box shows or hides the waiting targets' layer. ``catalog`` (optional) turns
    category, department and severity codes into names; ``lang`` "zh" or "en"; ``tiles`` None (offline) or a
    folium tile name. A plan without planned targets still draws (start, waiting targets, the townships) and its
    title box says it has none; a position that is null or not a lon/lat (as an older stored plan may hold) is
    not drawn.
    """
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {sorted(WORDS)}")
    words = WORDS[lang]
    feats = list(plan_geojson.get("features") or [])
    by_role: dict[str, list[dict[str, Any]]] = {"start": [], "target": [], "route": []}
    for f in feats:
        role = (f.get("properties") or {}).get("role")
        drawable = _drawable(f)
        if role in by_role and drawable is not None:
            by_role[role].append(drawable)
    targets = by_role["target"]
    planned = sorted((f for f in targets if f["properties"].get("status") == "planned"),
                     key=lambda f: f["properties"].get("order") or 0)
    waiting = [f for f in targets if f["properties"].get("status") != "planned"]
    route = by_role["route"][0] if by_role["route"] else None
    start = by_role["start"][0] if by_role["start"] else None

    counts: dict[str, int] = {}
    for f in planned:
        k = _window_key(f["properties"].get("window_label"))
        counts[k] = counts.get(k, 0) + 1

    points = [f["geometry"]["coordinates"] for f in [*by_role["start"], *targets]]
    if route is not None:
        points += route["geometry"]["coordinates"]
    if points:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    elif len(townships):
        x0, y0, x1, y1 = townships.to_crs(4326).total_bounds
    else:
        x0, y0, x1, y1 = 117.12, 40.14, 117.12, 40.14
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=12, tiles=tiles, prefer_canvas=True)
    heading = [words["title"], *([words["plan"].format(n=plan_id)] if plan_id is not None else []),
               "、".join(_township_names([*planned, *waiting], townships))]
    the_title = title or " · ".join(h for h in heading if h)
    start_page(m, title=the_title, css=_PLAN_CSS)

    cats: dict[str, str] = {}
    depts: dict[str, str] = {}
    severity: dict[str, str] = {}
    if catalog is not None:
        cats = {c: f"{(v.zh if lang == 'zh' else v.en)} ({c})" for c, v in catalog.categories.items()}
        depts = {c: (v.zh if lang == "zh" else v.en) for c, v in catalog.departments.items()}
        if lang == "zh":
            severity = {k: v.zh for k, v in getattr(catalog, "severity_levels", {}).items()}
    lookups = {"words": words, "colors": dict(WINDOW_COLORS), "waiting": WAITING_COLOR, "start": START_COLOR,
               "route": ROUTE_COLOR, "cats": cats, "depts": depts, "severity": severity, "lang": lang}
    m.add_child(Script(_PLAN_JS % script_json(lookups)))
    # the markers above the township labels (tooltips), so a name never hides a visit number
    m.add_child(Script(f"{m.get_name()}.createPane('giseTop').style.zIndex = 660;"))

    synthetic = synthetic_townships(townships)
    add_townships(m, townships, name=words["townships"], lang=lang)
    show_waiting = len(waiting) <= len(planned)  # many waiting ones would crowd the visits: hidden at first
    waiting_group = ""
    for kind, name, part in (("route", words["route"], [route] if route else []),
                             ("waiting", words["waiting"], waiting),
                             ("planned", words["planned"], list(reversed(planned))),  # first visit on top
                             ("start", words["start"], [start] if start else [])):
        if part:
            group = folium.FeatureGroup(name=name, show=show_waiting if kind == "waiting" else True)
            group.add_child(PlanLayer(_collection(part), kind))
            m.add_child(group)
            waiting_group = group.get_name() if kind == "waiting" else waiting_group
    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    route_props = route["properties"] if route else {}
    plan_block = plan_geojson.get("plan") or {}
    km = float(route_props.get("travel_m") or 0) / 1000
    stats = [f"{len(planned)} {words['targets']}", f"{km:.1f} {words['km']}"]
    empty = f'<div class="note">{html.escape(words["no_targets"])}</div>' if not planned else ""
    if route_props.get("travel_minutes") is not None:
        stats.append(words["drive"].format(n=f"{float(route_props['travel_minutes']):.0f}"))
    period = _period_text(plan_block, start["properties"] if start else None, route_props)
    if planned and route_props.get("end_at"):
        began = plan_block.get("period_start") or (start["properties"] if start else {}).get("depart_at")
        back = words["back"] if plan_block.get("return_to_start") else words["done"]
        stats.append(back.format(t=_clock(route_props["end_at"], began)))
    team = _team(planned, {c: str(v.zh if lang == "zh" else v.en) for c, v in catalog.departments.items()}
                 if catalog is not None else {})
    crew = ""
    if team:
        listed = "、".join(f"{name} {n}" for name, n in team) if lang == "zh" else \
            ", ".join(f"{name} {n}" for name, n in team)
        crew = (f'<div class="sub team">{html.escape(words["team"])}：{html.escape(listed)} · '
                f'{html.escape(words["team_total"].format(n=sum(n for _, n in team)))}</div>')
    toggle = ""
    if waiting and waiting_group:
        box = (f'<label class="waiting-toggle"><input type="checkbox" id="gise-show-waiting"'
               f'{" checked" if show_waiting else ""} onchange="(function (on) {{ var g = {waiting_group}, '
               f'map = {m.get_name()}; if (on) {{ map.addLayer(g); }} else {{ map.removeLayer(g); }} }})'
               f'(this.checked)"> {html.escape(words["show"])}</label>')
        toggle = (f'<div class="sub waiting">{html.escape(words["waiting_n"].format(n=len(waiting)))} '
                  + box + "</div>")
    note = ""
    if synthetic:
        note = ('<div class="note">⚠ ' + ("乡镇边界为示意边界（合成数据，非官方），仅供演示" if lang == "zh" else
                                          "Township boundaries are illustrative (synthetic) — demo only") + "</div>")
    figure_of(m).html.add_child(Raw(
        f'<div class="gise-box gise-title"><h1>{html.escape(the_title)}</h1>'
        + (f'<div class="sub">{html.escape(words["period"])} {html.escape(period)}</div>' if period else "")
        + '<div class="stats">' + "".join(f"<span>{html.escape(s)}</span>" for s in stats) + "</div>"
        + crew + toggle + empty + note + "</div>"))
    figure_of(m).html.add_child(Raw(_legend(counts, len(waiting), words)))
    pad = max((x1 - x0), (y1 - y0)) * 0.05 + 0.002
    m.fit_bounds([[y0 - pad, x0 - pad], [y1 + pad, x1 + pad]], padding_top_left=(270, 110),
                 padding_bottom_right=(30, 30))
    return offline_map(m)


def write_plan_map(path: str | Path, plan_geojson: Mapping[str, Any], townships: gpd.GeoDataFrame,
                   tz: str | None = None, generated_at: datetime | None = None, **kw: Any) -> Path:
    """Write :func:`plan_map` to ``path`` (self-contained, offline), saying when (``generated_at``, default now,
    in the district's zone ``tz``); returns it."""
    return write_page(plan_map(plan_geojson, townships, **kw), path, kind="plan", lang=kw.get("lang", "zh"), tz=tz,
                      generated_at=generated_at)
