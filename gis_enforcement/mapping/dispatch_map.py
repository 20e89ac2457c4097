"""One whistled case (吹哨) and its departments' report-in (报到) on the map — who came, when, and where from.

The case is a red marker inside its geofence circle (the distance within which a department must check in);
each department that reported in is a point where its GPS check-in was, green when on time and orange when
late, with a thin line to the case and a label giving the department's short name and the minutes since the
whistle (labels of check-ins close together are stacked apart, each with a leader line to its dot).
Departments that have not come are not on the map (they have no position) but every department is in the legend
with its role and status: on time, late by N min, not yet (deadline not passed) or absent. Like
the other maps, Leaflet is inlined (works offline).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from gis_enforcement.domain.zone import district_zone
from gis_enforcement.mapping.elements import JsElement, Raw, _parent_of, figure_of, labels_js, script_json
from gis_enforcement.mapping.features import local_times
from gis_enforcement.mapping.incidents_map import _FONT
from gis_enforcement.mapping.offline import offline_map
from gis_enforcement.mapping.page import add_townships, start_page, write_page

__all__ = ["STATE_COLORS", "WORDS", "dispatch_map", "report_in_states", "write_dispatch_map"]

#: report-in state → colour (only on_time and late are drawn; the others appear in the legend)
STATE_COLORS: Mapping[str, str] = {"on_time": "#2e7d32", "late": "#ef6c00", "not_yet": "#90a4ae",
                                   "absent": "#c62828", "declined": "#6d4c41", "released": "#bdbdbd"}
CASE_COLOR = "#c62828"
WORDS = {
    "zh": {"title": "吹哨报到", "legend": "部门报到", "case": "案件", "geofence": "报到范围", "m": "米",
           "on_time": "按时报到", "late": "迟到 {n} 分钟", "late_under": "迟到不足 1 分钟",
           "not_yet": "尚未报到", "absent": "未到（已超时）",
           "declined": "拒绝（待乡镇决定）", "released": "已放行", "lead": "主责", "assist": "配合",
           "whistle": "吹哨", "due": "报到时限", "reported": "报到时间", "after": "哨后 {n} 分钟",
           "distance": "距案件", "outside": "在报到范围外", "early": "提前 {n} 分钟", "category": "类别",
           "townships": "乡镇边界", "checkins": "报到位置", "id": "编号", "summoned": "个部门", "came": "个已报到",
           "n_late": "{n} 个迟到", "label": "{name} {n}分", "n_absent": "{n} 个未到"},
    "en": {"title": "Whistle and report-in", "legend": "Departments", "case": "Case", "geofence": "Geofence",
           "m": "m", "on_time": "On time", "late": "Late by {n} min", "late_under": "Late by under a minute",
           "not_yet": "Not yet",
           "absent": "Absent (deadline passed)", "declined": "Declined (pending)", "released": "Released",
           "lead": "lead", "assist": "assist", "whistle": "Whistled", "due": "Report-in due",
           "reported": "Reported in", "after": "{n} min after whistle", "distance": "From case",
           "outside": "outside the geofence", "early": "{n} min early", "category": "Category",
           "townships": "Townships", "checkins": "Check-ins", "id": "ID", "summoned": "departments",
           "came": "reported in",
           "n_late": "{n} late", "label": "{name} {n} min", "n_absent": "{n} absent"},
}

_DISPATCH_CSS = """
.gise-case { width: 22px; height: 22px; box-sizing: border-box; background: #c62828; border: 3px solid #fff;
  border-radius: 50% 50% 50% 0; transform: rotate(-45deg); box-shadow: 0 0 0 1px rgba(0,0,0,0.4),
  0 2px 5px rgba(0,0,0,0.4); }
.gise-dept-label { font-family: FONT; font-size: 12px; font-weight: 700; padding: 1px 5px; white-space: nowrap;
  border-radius: 4px; border: none; box-shadow: 0 1px 3px rgba(0,0,0,0.3); color: #fff; line-height: 1.35; }
.gise-legend .role { flex: none; font-size: 11px; color: #666; margin-right: 6px; }
.gise-legend .st { flex: none; text-align: right; font-weight: 600; white-space: nowrap; }
.gise-legend .ring { border: 2px solid #c62828; background: rgba(198,40,40,0.08) !important; }
""".replace("FONT", _FONT) + "".join(
    f".gise-dept-label.st-{k} {{ background: {c}; }}\n" for k, c in STATE_COLORS.items())


def _short_department(name: Any, code: str) -> str:
    """区水务局（河长办） → 水务局; District Water Authority → Water Authority; the code when no name."""
    text = re.split(r"[（(]", str(name))[0].strip() if isinstance(name, str) and name.strip() else ""
    text = re.sub(r"^(区|District\s+)", "", text)
    return text or code


def _utc(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601") if len(values) else pd.Series(
        [], dtype="datetime64[ns, UTC]")


def report_in_states(assignments: pd.DataFrame, *, now: datetime | None = None,
                     tz: str | None = None) -> pd.DataFrame:
    """Each assignment's report-in state: ``state`` (on_time, late, not_yet, absent, declined, released),
    ``minutes_from_whistle`` (check-in − summons, None when not in) and ``minutes_late`` (negative = early).

    On time/late come from ``minutes_late`` when given, else from ``reported_in_at`` − ``report_in_due``; a
    department not in is absent once ``now`` (default: the current time; a naive one is read in the district's zone
    ``tz``) is past its deadline.
    """
    a = assignments.reset_index(drop=True)
    now_ts = pd.Timestamp(now or datetime.now(UTC))
    now_ts = now_ts.tz_localize(district_zone(tz).key) if now_ts.tzinfo is None else now_ts
    reported = _utc(a["reported_in_at"]) if "reported_in_at" in a else pd.Series(pd.NaT, index=a.index)
    summoned, due = _utc(a["summoned_at"]), _utc(a["report_in_due"])
    late = pd.to_numeric(a["minutes_late"], errors="coerce") if "minutes_late" in a else pd.Series(
        np.nan, index=a.index)
    late = late.where(late.notna(), (reported - due).dt.total_seconds() / 60)
    came = reported.notna().to_numpy()
    status = a["status"].astype(str).to_numpy() if "status" in a else np.full(len(a), "", dtype=object)
    state = np.where(came, np.where(late.to_numpy() > 0, "late", "on_time"),
                     np.where((due < now_ts).to_numpy(), "absent", "not_yet"))
    state = np.where(~came & np.isin(status, ["declined", "released"]), status, state)
    minutes = ((reported - summoned).dt.total_seconds() / 60).round(1)
    return a.assign(state=state, minutes_from_whistle=minutes.where(reported.notna(), None),
                    minutes_late=late.round(1).where(reported.notna(), None))


def _metres(lon0: float, lat0: float, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle distances in metres (haversine; metres is all the popups need)."""
    p0, p, dl = np.radians(lat0), np.radians(lat), np.radians(lon - lon0)
    h = np.sin((p - p0) / 2) ** 2 + np.cos(p0) * np.cos(p) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 6_371_008.8 * np.arcsin(np.sqrt(h)))


def _whole_minutes(a: pd.DataFrame) -> tuple[list[int | None], list[int | None]]:
    """The whole minutes the page prints for each check-in: after the whistle, and late (negative: early).

    One rule for both: the minutes after the whistle are rounded to the nearest minute (half up), and the minutes
    late are those less the deadline (``minutes_from_whistle − minutes_late``, the summons-to-due window) rounded
    the same way — so a label's "20分" and its "提前 10 分钟" add up to a 30-minute deadline."""
    after: list[int | None] = []
    late: list[int | None] = []
    for m, d in zip(a["minutes_from_whistle"], a["minutes_late"], strict=True):
        if m is None or d is None or not (math.isfinite(float(m)) and math.isfinite(float(d))):
            after.append(None)
            late.append(None)
            continue
        n = math.floor(float(m) + 0.5)
        after.append(n)
        late.append(n - math.floor(float(m) - float(d) + 0.5))
    return after, late


def _state_text(state: str, late: int | None, words: Mapping[str, str]) -> str:
    """The legend's state, with ``late`` the whole minutes late (negative: early) of :func:`_whole_minutes`."""
    if state == "late" and late is not None:
        return words["late"].format(n=late) if late >= 1 else words["late_under"]
    if state == "on_time" and late is not None and late <= -1:
        return f"{words['on_time']} · {words['early'].format(n=-late)}"
    return words[state]


class DispatchLayer(JsElement):
    """The case, its geofence, and the check-ins (coloured dots, a line to the case, a permanent label)."""

    def __init__(self, case: dict[str, Any], checkins: dict[str, Any], geofence_m: float, lookups: dict[str, Any]):
        super().__init__()
        self._name = "GiseDispatch"
        self.case = script_json(case)
        self.checkins = script_json(checkins)
        self.geofence = script_json(float(geofence_m))
        self.lookups = script_json(lookups)

    def js(self) -> str:
        parent = _parent_of(self).get_name()
        the_map = _parent_of(_parent_of(self)).get_name()
        return f"""{labels_js()}
var {self.get_name()} = (function () {{
  var G = {self.lookups}, w = G.words, group = {parent};
  function esc(s) {{ return String(s).replace(/[&<>"']/g, function (c) {{
    return {{'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}}[c]; }}); }}
  function table(rows) {{
    return '<table>' + rows.filter(function (r) {{ return r[1] !== null && r[1] !== undefined && r[1] !== ''; }})
      .map(function (r) {{ return '<tr><th>' + esc(r[0]) + '</th><td>' + esc(r[1]) + '</td></tr>'; }}).join('') +
      '</table>';
  }}
  var caseLayer = L.geoJSON({self.case}, {{
    pointToLayer: function (f, latlng) {{
      L.circle(latlng, {{radius: {self.geofence}, color: G.caseColor, weight: 2, dashArray: '6 4',
                        fillColor: G.caseColor, fillOpacity: 0.06, interactive: false}}).addTo(group);
      return L.marker(latlng, {{zIndexOffset: 1000, icon: L.divIcon({{className: '', iconSize: [22, 22],
        iconAnchor: [11, 22], popupAnchor: [0, -22], html: '<div class="gise-case"></div>'}})}});
    }},
    onEachFeature: function (f, layer) {{
      var p = f.properties;
      layer.bindPopup('<div class="gise-popup"><div class="hd" style="border-left-color:' + G.caseColor + '">' +
        esc(p.title) + '</div>' + table([[w.category, p.category], [w.whistle, p.whistled_at],
        [w.geofence, p.geofence]]) + '<div class="id">' + esc(w.id) + ' ' + esc(p.id) + '</div></div>');
    }}
  }}).addTo(group);
  var at = caseLayer.getLayers()[0].getLatLng(), labels = [];
  var checkins = L.geoJSON({self.checkins}, {{
    pointToLayer: function (f, latlng) {{
      var c = G.colors[f.properties.state];
      L.polyline([latlng, at], {{color: c, weight: 1.5, opacity: 0.8, interactive: false}}).addTo(group);
      return L.circleMarker(latlng, {{radius: 7, color: '#fff', weight: 2, fillColor: c, fillOpacity: 0.95}});
    }},
    onEachFeature: function (f, layer) {{
      var p = f.properties, c = G.colors[p.state];
      labels.push({{side: p.dir === 'left' ? -1 : 1,
        marker: GiseLabels.callout(layer.getLatLng(), esc(p.label), 'gise-dept-label st-' + p.state, 'tooltipPane')}});
      layer.bindPopup('<div class="gise-popup"><div class="hd" style="border-left-color:' + c + '">' +
        esc(p.name) + ' <span class="sev">' + esc(p.role) + '</span></div>' +
        table([[G.words.summoned, p.state_text], [w.whistle, p.summoned], [w.due, p.due],
               [w.reported, p.reported], [w.distance, p.distance]]) + '</div>');
    }}
  }}).addTo(group);
  // labels beside their dots, stacked apart where check-ins are close (nearest the case first)
  labels.forEach(function (l) {{ group.addLayer(l.marker); }});
  var map = group._map || {the_map};
  function place() {{
    if (!map.hasLayer(group)) {{ return; }}
    var caseIcon = caseLayer.getLayers()[0].getElement();
    var taken = GiseLabels.obstacles(map, [caseIcon]);
    checkins.getLayers().forEach(function (d) {{
      var p = map.latLngToContainerPoint(d.getLatLng());
      taken.push({{x0: p.x - 8, y0: p.y - 8, x1: p.x + 8, y1: p.y + 8}});
    }});
    var near = labels.slice().sort(function (a, b) {{
      return a.marker.getLatLng().distanceTo(at) - b.marker.getLatLng().distanceTo(at); }});
    GiseLabels.place(map, near.map(function (l) {{
      return {{marker: l.marker, candidates: GiseLabels.beside(l.side, 14)}}; }}), taken);
  }}
  map.on('zoomend', place);
  group.on('add', place);
  map.whenReady(place);
  return checkins;
}})();
"""


def _legend(rows: list[dict[str, Any]], words: Mapping[str, str], geofence_m: float) -> str:
    items = []
    for r in rows:
        items.append(
            f'<div class="row"><span class="dot" style="background:{STATE_COLORS[r["state"]]}"></span>'
            f'<span class="name">{html.escape(r["short"])}</span>'
            f'<span class="role">{html.escape(words.get(r["role"], r["role"]))}</span>'
            f'<span class="st" style="color:{STATE_COLORS[r["state"]]}">{html.escape(r["state_text"])}</span></div>')
    items.append(f'<div class="row"><span class="dot ring"></span><span class="name">'
                 f'{html.escape(words["geofence"])} {geofence_m:g} {html.escape(words["m"])}</span></div>')
    return (f'<div class="gise-box gise-legend"><div class="hd">{html.escape(words["legend"])}</div>'
            + "".join(items) + "</div>")


def dispatch_map(case: Mapping[str, Any], assignments: pd.DataFrame, townships: gpd.GeoDataFrame, *,
                 geofence_m: float, lang: str = "zh", now: datetime | None = None, catalog: Any = None,
                 tiles: str | None = None, tz: str | None = None) -> folium.Map:
    """A whistled case and its departments' report-in, as an offline folium map.

    ``case``: ``id``, ``lon``, ``lat``, ``category``, ``title`` (or ``name``). ``assignments``: one row per
    summoned department with ``department``, ``department_name``, ``role`` (lead/assist), ``status``,
    ``summoned_at``, ``report_in_due``, ``reported_in_at`` (NaT when not in), ``report_in_lon`` /
    ``report_in_lat`` and ``minutes_late`` (negative = early). ``geofence_m``: the report-in radius drawn
    around the case. ``now`` decides "not yet" vs "absent" (default: the current time); ``catalog`` (optional)
    names the category; ``lang`` "zh" or "en"; ``tz`` the district's zone the times are shown in (default
    Asia/Shanghai).
    """
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {sorted(WORDS)}")
    if not (isinstance(geofence_m, int | float) and math.isfinite(geofence_m) and geofence_m > 0):
        raise ValueError("geofence_m must be a positive number of metres")
    words = WORDS[lang]
    lon0, lat0 = float(case["lon"]), float(case["lat"])
    a = report_in_states(assignments, now=now, tz=tz)
    a = a.assign(_lead=(a["role"] != "lead")).sort_values(["_lead", "department"], kind="stable")
    names = a["department_name"] if "department_name" in a else pd.Series(None, index=a.index)
    a["short"] = [_short_department(n, str(d)) for n, d in zip(names, a["department"], strict=True)]
    n_after, n_late = _whole_minutes(a)
    a["n_after"] = pd.Series(n_after, index=a.index, dtype=object)  # whole minutes, None when not in
    a["state_text"] = [_state_text(s, late, words) for s, late in zip(a["state"], n_late, strict=True)]
    came = a[a["state"].isin(["on_time", "late"]) & a.get("report_in_lon", pd.Series(np.nan, index=a.index)).notna()
             & a.get("report_in_lat", pd.Series(np.nan, index=a.index)).notna()]
    lon, lat = came["report_in_lon"].astype(float).to_numpy(), came["report_in_lat"].astype(float).to_numpy()
    dist = _metres(lon0, lat0, lon, lat)
    summoned = local_times(a["summoned_at"], tz) if len(a) else pd.Series([], dtype=object)
    features = []
    for i, (idx, r) in enumerate(came.iterrows()):
        mins = f"{r['n_after']}"
        after = words["after"].format(n=mins)
        where = f"{dist[i]:,.0f} {words['m']}" + (f" · {words['outside']}" if dist[i] > geofence_m else "")
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon[i], lat[i]]},
                         "properties": {
                             "department": str(r["department"]), "name": str(r["department_name"] or r["short"]),
                             "short": r["short"], "role": words.get(str(r["role"]), str(r["role"])),
                             "state": r["state"], "state_text": r["state_text"],
                             "minutes_from_whistle": float(r["minutes_from_whistle"]),
                             "minutes_late": float(r["minutes_late"]),
                             "label": words["label"].format(name=r["short"], n=mins),
                             "dir": "left" if lon[i] < lon0 else "right",
                             "summoned": summoned.loc[idx],
                             "due": local_times(pd.Series([r["report_in_due"]]), tz).iat[0],
                             "reported": f"{local_times(pd.Series([r['reported_in_at']]), tz).iat[0]} ({after})",
                             "distance": where, "distance_m": round(float(dist[i]), 1)}})
    category = str(case.get("category") or "")
    if catalog is not None and category in catalog.categories:
        c = catalog.categories[category]
        category = f"{c.zh if lang == 'zh' else c.en} ({category})"
    title = str(case.get("title") or case.get("name") or case.get("id") or words["case"])
    whistled = summoned.dropna().min() if len(summoned.dropna()) else ""
    case_feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon0, lat0]},
                    "properties": {"id": str(case.get("id", "")), "title": title, "category": category,
                                   "whistled_at": whistled, "geofence": f"{geofence_m:g} {words['m']}"}}

    m = folium.Map(location=[lat0, lon0], zoom_start=16, tiles=tiles, prefer_canvas=True)
    start_page(m, title=title, css=_DISPATCH_CSS)
    add_townships(m, townships, name=words["townships"], lang=lang)
    group = folium.FeatureGroup(name=words["checkins"], show=True)
    group.add_child(DispatchLayer({"type": "FeatureCollection", "features": [case_feature]},
                                  {"type": "FeatureCollection", "features": features}, geofence_m,
                                  {"words": words, "colors": dict(STATE_COLORS), "caseColor": CASE_COLOR}))
    m.add_child(group)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    n_in = int(a["state"].isin(["on_time", "late"]).sum())
    stats = [f"{len(a)} {words['summoned']}", f"{n_in} {words['came']}"]
    stats += [words[f"n_{s}"].format(n=int((a["state"] == s).sum())) for s in ("late", "absent")
              if (a["state"] == s).any()]
    sub = " · ".join(x for x in (category, f"{words['whistle']} {whistled}" if whistled else "") if x)
    figure_of(m).html.add_child(Raw(
        f'<div class="gise-box gise-title"><h1>{html.escape(title)}</h1>'
        + (f'<div class="sub">{html.escape(sub)}</div>' if sub else "")
        + '<div class="stats">' + "".join(f"<span>{html.escape(s)}</span>" for s in stats) + "</div></div>"))
    figure_of(m).html.add_child(Raw(_legend(a.to_dict(orient="records"), words, geofence_m)))

    # the geofence and every check-in in view
    dlat = geofence_m / 111_320
    dlon = dlat / max(math.cos(math.radians(lat0)), 0.1)
    xs, ys = [lon0 - dlon, lon0 + dlon, *lon], [lat0 - dlat, lat0 + dlat, *lat]
    m.fit_bounds([[min(ys), min(xs)], [max(ys), max(xs)]], padding_top_left=(300, 120),
                 padding_bottom_right=(60, 40), max_zoom=17)
    return offline_map(m)


def write_dispatch_map(path: str | Path, case: Mapping[str, Any], assignments: pd.DataFrame,
                       townships: gpd.GeoDataFrame, *, generated_at: datetime | None = None, **kw: Any) -> Path:
    """Write :func:`dispatch_map` to ``path`` (self-contained, offline), saying when (``generated_at``, default
    now); returns it."""
    return write_page(dispatch_map(case, assignments, townships, **kw), path, kind="dispatch",
                      lang=kw.get("lang", "zh"), tz=kw.get("tz"), generated_at=generated_at)
