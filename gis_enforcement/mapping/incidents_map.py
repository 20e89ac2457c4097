"""Incidents by category on the township map — an interactive, self-contained (offline) Leaflet page.

One layer per problem category (toggled in the layer control or by clicking the legend), coloured from a
fixed categorical palette, with a legend of the categories' names and counts, township polygons labelled
with their names (and marked 示意边界 when they are synthetic) and a Chinese case summary in each point's
popup.

Every category is ONE ``L.geoJSON`` layer whose points become ``L.circleMarker``s in the browser
(``pointToLayer``, canvas renderer) and whose popups are built on click from the feature's properties: no
per-point object is created in Python, and the page stays small and fast for tens of thousands of points.

The page is written for government intranets without internet: Leaflet's JS and CSS are inlined (see
:mod:`gis_enforcement.mapping.assets`), folium's CDN links (jQuery, Bootstrap, Font Awesome, awesome-markers)
are dropped, and the default basemap is none (a plain light background). ``tiles="OpenStreetMap"`` adds an
online basemap for machines that do have internet.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement

from gis_enforcement.mapping.assets import inline_leaflet

__all__ = [
    "CATEGORY_COLORS",
    "category_colors",
    "incidents_map",
    "offline_map",
    "write_incidents_map",
]

LOCAL_TZ = "Asia/Shanghai"

#: Fixed colours of the Pinggu problem categories (families share a hue range where it helps reading:
#: mining browns/oranges, trucks reds/pinks, water blues, construction violets).
CATEGORY_COLORS: dict[str, str] = {
    "MIN-01": "#8c2d04",    # illegal mining — deep brown
    "MIN-02": "#f16913",    # river sand — orange
    "TRK-01": "#e31a1c",    # overloaded trucks — red
    "TRK-02": "#e7298a",    # uncovered muck trucks — magenta
    "TRK-03": "#fb9a99",    # banned-route trucks — pink
    "ENV-01": "#6a3d9a",    # polluting workshops — purple
    "ENV-02": "#08519c",    # outfalls — navy
    "ENV-03": "#ffd92f",    # open burning — yellow
    "ENV-04": "#c19a6b",    # livestock — tan
    "ENV-05": "#737373",    # waste dumping — grey
    "CON-01": "#1a1a1a",    # town illegal building — black
    "CON-02": "#b3a2d6",    # rural illegal building — lavender
    "CON-03": "#9a9a1e",    # site dust — olive
    "LAND-01": "#4daf4a",   # land occupation — green
    "WATER-01": "#17becf",  # river encroachment — cyan
    "SAFE-01": "#01665e",   # work safety — dark teal
    "MKT-01": "#6baed6",    # unlicensed trading — sky blue
    "FOR-01": "#00441b",    # logging — forest green
}
_EXTRA_COLORS = (
    "#1b9e77", "#d95f02", "#7570b3", "#66a61e", "#e6ab02", "#a6761d", "#e41a1c", "#377eb8", "#4daf4a",
    "#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999",
)
_RADIUS = {"critical": 6.5, "high": 5.5, "medium": 5.0, "low": 4.5}

STATUS_NAMES = {
    "zh": {"reported": "已上报", "triaged": "已分拣", "whistled": "已吹哨", "in_action": "执法中",
           "resolved": "已处置", "verified": "已核验", "closed": "已结案", "rejected": "不予受理",
           "duplicate": "重复上报", "reopened": "已重新打开"},
    "en": {"reported": "reported", "triaged": "triaged", "whistled": "whistled", "in_action": "in action",
           "resolved": "resolved", "verified": "verified", "closed": "closed", "rejected": "rejected",
           "duplicate": "duplicate", "reopened": "reopened"},
}
FLAG_NAMES = {
    "zh": {"near_border": "临近乡镇边界", "outside_district": "区界外", "no_village": "未匹配村庄",
           "low_accuracy": "定位精度低"},
    "en": {"near_border": "near a township border", "outside_district": "outside the district",
           "no_village": "no village", "low_accuracy": "low GPS accuracy"},
}
UI = {
    "zh": {
        "time": "时间", "status": "状态", "place": "位置", "grid": "网格", "lead": "主责部门",
        "flags": "提示",
        "dup": "疑似重复", "dup_text": "与已报事件相近：", "acc": "定位精度", "id": "编号", "total": "共",
        "unit": "起", "categories": "类", "legend": "问题类别（点击显示/隐藏）", "townships": "乡镇边界",
        "synthetic": "示意边界", "synthetic_note": "乡镇边界为示意边界（合成数据，非官方），仅供演示",
        "near_border": "临界", "outside": "区界外", "duplicates": "疑似重复", "none": "暂无事件",
        "metres": "米",
    },
    "en": {
        "time": "Time", "status": "Status", "place": "Place", "grid": "Grid", "lead": "Lead department",
        "flags": "Flags", "dup": "Likely duplicate", "dup_text": "close to", "acc": "GPS accuracy",
        "id": "ID", "total": "", "unit": "incidents", "categories": "categories",
        "legend": "Categories (click to toggle)",
        "townships": "Townships", "synthetic": "illustrative",
        "synthetic_note": "Township boundaries are illustrative (synthetic, not official) — demo only",
        "near_border": "near border", "outside": "outside district", "duplicates": "likely duplicates",
        "none": "no incidents", "metres": "m",
    },
}

_FONT = ('"Microsoft YaHei","PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","Source Han Sans SC",'
         '"WenQuanYi Micro Hei",sans-serif')

_CSS = """
html, body { margin: 0; padding: 0; }
.leaflet-container { background: #eef0ec; font-family: FONT; }
.gise-box { position: absolute; z-index: 1000; background: rgba(255,255,255,0.94); border-radius: 8px;
  box-shadow: 0 1px 6px rgba(0,0,0,0.25); font-family: FONT; color: #222; }
.gise-title { top: 12px; left: 56px; padding: 10px 16px 10px 16px; max-width: 560px; }
.gise-title h1 { margin: 0; font-size: 22px; font-weight: 700; letter-spacing: 1px; }
.gise-title .sub { margin-top: 4px; font-size: 14px; color: #444; }
.gise-title .stats { margin-top: 6px; font-size: 13px; }
.gise-title .stats span { display: inline-block; margin-right: 10px; padding: 1px 7px; border-radius: 9px;
  background: #f1f1f1; }
.gise-title .note { margin-top: 6px; font-size: 12px; color: #8a5a00; }
.gise-legend { bottom: 24px; left: 12px; padding: 10px 12px; font-size: 13px; max-height: 70%;
  overflow-y: auto; min-width: 250px; }
.gise-legend .hd { font-weight: 700; margin-bottom: 6px; font-size: 13px; color: #333; }
.gise-legend .row { display: flex; align-items: center; margin: 2px 0; cursor: pointer; user-select: none; }
.gise-legend .row.off { opacity: 0.35; }
.gise-legend .dot { width: 12px; height: 12px; border-radius: 50%; border: 1.5px solid #fff;
  box-shadow: 0 0 0 1px rgba(0,0,0,0.25); flex: none; margin-right: 7px; }
.gise-legend .name { flex: 1 1 auto; white-space: nowrap; margin-right: 8px; }
.gise-legend .bar { flex: none; width: 70px; height: 8px; background: #eee; border-radius: 4px;
  margin-right: 6px; overflow: hidden; }
.gise-legend .bar i { display: block; height: 100%; border-radius: 4px; }
.gise-legend .n { flex: none; width: 38px; text-align: right; font-variant-numeric: tabular-nums;
  font-weight: 600; }
.leaflet-tooltip.gise-town-label { background: transparent; border: none; box-shadow: none; padding: 0;
  font-family: FONT; font-size: 13px; font-weight: 700; color: #2b2b2b; text-align: center;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; }
.leaflet-tooltip.gise-town-label small { display: block; font-size: 11px; font-weight: 400; color: #555; }
.leaflet-tooltip.gise-town-label::before { display: none; }
.leaflet-control-layers { font-family: FONT; font-size: 13px; }
.leaflet-control-layers-overlays .gise-ctl-dot { display: inline-block; width: 9px; height: 9px;
  border-radius: 50%; margin: 0 4px 0 2px; }
.gise-popup { font-family: FONT; font-size: 13px; min-width: 230px; }
.gise-popup .hd { font-size: 15px; font-weight: 700; padding-left: 8px; border-left: 6px solid #999;
  margin-bottom: 6px; }
.gise-popup .sev { font-size: 11px; font-weight: 400; margin-left: 6px; padding: 0 6px; border-radius: 8px;
  background: #eee; vertical-align: middle; }
.gise-popup .sev.critical { background: #b2182b; color: #fff; }
.gise-popup .sev.high { background: #f4a582; }
.gise-popup table { border-collapse: collapse; }
.gise-popup th { text-align: left; color: #666; font-weight: 400; padding: 1px 10px 1px 0;
  white-space: nowrap; vertical-align: top; }
.gise-popup td { padding: 1px 0; }
.gise-popup .flag { display: inline-block; padding: 0 5px; margin: 0 3px 1px 0; border-radius: 6px;
  background: #fff3cd; color: #7a4d00; font-size: 12px; }
.gise-popup .desc { margin-top: 6px; padding: 5px 7px; background: #f6f6f6; border-radius: 4px; }
.gise-popup .id { margin-top: 4px; font-size: 11px; color: #999; }
""".replace("FONT", _FONT)

_POPUP_JS = """
function giseEsc(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
  });
}
function gisePopup(p, code) {
  var G = GISE, T = G.ui, c = G.cats[code] || {name: code, color: '#777'};
  var rows = [];
  function row(k, v) {
    if (v !== undefined && v !== null && v !== '') {
      rows.push('<tr><th>' + k + '</th><td>' + v + '</td></tr>');
    }
  }
  if (p.t) { row(T.time, giseEsc(p.t)); }
  if (p.s) { row(T.status, giseEsc(G.status[p.s] || p.s)); }
  var place = [p.tw, p.v].filter(function (x) { return !!x; }).join(' · ');
  if (place) { row(T.place, giseEsc(place)); }
  if (p.g) { row(T.grid, giseEsc(p.g)); }
  if (p.d) { row(T.lead, giseEsc(G.depts[p.d] || p.d)); }
  if (p.f) {
    row(T.flags, p.f.split(';').filter(function (x) { return !!x; }).map(function (x) {
      return '<span class="flag">' + giseEsc(G.flags[x] || x) + '</span>'; }).join(''));
  }
  if (p.dup) {
    row(T.dup, '<span class="flag">' + giseEsc(T.dup_text + ' ' + String(p.dup).slice(0, 8)) + '</span>');
  }
  if (p.acc !== undefined && p.acc !== null) { row(T.acc, giseEsc('±' + p.acc + ' ' + T.metres)); }
  var sev = c.sev ? '<span class="sev ' + giseEsc(c.sevCode) + '">' + giseEsc(c.sev) + '</span>' : '';
  return '<div class="gise-popup"><div class="hd" style="border-left-color:' + c.color + '">' +
    giseEsc(c.name) + sev + '</div><table>' + rows.join('') + '</table>' +
    (p.desc ? '<div class="desc">' + giseEsc(p.desc) + '</div>' : '') +
    (p.id ? '<div class="id">' + giseEsc(T.id) + ' ' + giseEsc(p.id) + '</div>' : '') + '</div>';
}
function giseToggle(row, map, layer) {
  if (map.hasLayer(layer)) { map.removeLayer(layer); row.className = 'row off'; }
  else { map.addLayer(layer); row.className = 'row'; }
}
"""


_TEMPLATE_OPEN = re.compile(r"\{(?=[{%#])")


def _script_json(obj: Any) -> str:
    """JSON safe to embed inside a <script> element (compact, UTF-8 kept)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    text = (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    # JSON structure never has "{{", "{%" or "{#": such text is inside strings; keep it template-inert too
    return _TEMPLATE_OPEN.sub(r"\\u007b", text)


# -- map elements ------------------------------------------------------------------------------------------
class _Raw(Element):
    """Text put into the page exactly as given.

    branca's ``Element(text)`` compiles its text as a Jinja template, so data containing ``{{ ... }}`` (a
    patrol's description, say) would be evaluated, and big data is slow to lex; nothing here goes through
    Jinja.
    """

    def __init__(self, text: str):
        super().__init__()
        self._name = "GiseRaw"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class _JsElement(MacroElement):
    """A map element whose JavaScript is built in Python (no Jinja), see :class:`_Raw`."""

    def js(self) -> str:
        raise NotImplementedError

    def render(self, **kwargs: Any) -> None:
        self.get_root().script.add_child(_Raw(self.js()), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


class _Script(_JsElement):
    """A piece of JavaScript, rendered once."""

    def __init__(self, code: str):
        super().__init__()
        self._name = "GiseScript"
        self.code = code

    def js(self) -> str:
        return self.code


class _PointLayer(_JsElement):
    """One category's incidents: a FeatureCollection drawn as circle markers, popups built on click."""

    def __init__(self, collection: dict[str, Any], code: str, style: dict[str, Any]):
        super().__init__()
        self._name = "GisePoints"
        self.data = _script_json(collection)
        self.code = _script_json(code)
        self.style = _script_json(style)

    def js(self) -> str:
        return f"""
var {self.get_name()} = L.geoJSON({self.data}, {{
  pointToLayer: function (f, latlng) {{ return L.circleMarker(latlng, {self.style}); }},
  onEachFeature: function (f, layer) {{
    layer.bindPopup(function () {{ return gisePopup(f.properties, {self.code}); }}, {{maxWidth: 360}});
  }}
}}).addTo({self._parent.get_name()});
"""


class _TownshipLayer(_JsElement):
    """Township polygons (non-interactive, so clicks reach the points) and their permanent name labels."""

    def __init__(self, collection: dict[str, Any], labels: list[list[Any]], style: dict[str, Any],
                 outline: dict[str, Any]):
        super().__init__()
        self._name = "GiseTownships"
        self.data = _script_json(collection)
        self.labels = _script_json(labels)
        self.style = _script_json(style)
        self.outline = _script_json(outline)

    def js(self) -> str:
        group, the_map = self._parent.get_name(), self._parent._parent.get_name()
        return f"""
var {self.get_name()} = L.geoJSON({self.data}, {{
  interactive: false,
  style: function (f) {{ return f.properties.outline ? {self.outline} : {self.style}; }}
}}).addTo({group});
(function () {{
  var group = {group}, map = {the_map};
  var labels = {self.labels}.map(function (l) {{
    var t = L.tooltip([l[0], l[1]], {{permanent: true, direction: 'center', interactive: false,
                                     className: 'gise-town-label'}}).setContent(l[2]);
    t.giseMinZoom = l[3];
    return t;
  }});
  // small townships (街道) are labelled only once zoomed in, so labels do not pile up
  function update() {{
    labels.forEach(function (t) {{
      if (map.getZoom() >= t.giseMinZoom) {{ group.addLayer(t); }} else {{ group.removeLayer(t); }}
    }});
  }}
  map.on('zoomend', update);
  map.whenReady(update);
}})();
"""


class _LegendToggle(_JsElement):
    """Clicking a legend row shows/hides that category's layer."""

    def __init__(self, groups: list[tuple[str, folium.FeatureGroup]]):
        super().__init__()
        self._name = "GiseLegendToggle"
        self.groups = groups

    def js(self) -> str:
        layers = ", ".join(f"{_script_json(key)}: {fg.get_name()}" for key, fg in self.groups)
        return f"""
(function () {{
  var map = {self._parent.get_name()};
  var layers = {{{layers}}};
  document.querySelectorAll('.gise-legend .row[data-key]').forEach(function (row) {{
    var layer = layers[row.getAttribute('data-key')];
    if (!layer) {{ return; }}
    row.addEventListener('click', function () {{ giseToggle(row, map, layer); }});
    layer.on('add', function () {{ row.className = 'row'; }});
    layer.on('remove', function () {{ row.className = 'row off'; }});
  }});
}})();
"""


# -- helpers ----------------------------------------------------------------------------------------------
def category_colors(codes: list[str] | tuple[str, ...]) -> dict[str, str]:
    """A colour per category code: the fixed Pinggu palette, then a categorical cycle for other codes."""
    out: dict[str, str] = {}
    extra = iter(_EXTRA_COLORS * (len(codes) // len(_EXTRA_COLORS) + 1))
    for code in codes:
        out[code] = CATEGORY_COLORS.get(code) or next(extra)
    return out


def _short_name(name: str) -> str:
    return re.split(r"[（(]", str(name))[0].strip()


def _short_village(name: str) -> str:
    """'关上村委会' -> '关上村', '平粮社区居委会' -> '平粮社区'."""
    name = str(name).strip()
    if name.endswith("村委会"):
        return name[:-2]
    if name.endswith("居委会"):
        return name[:-3]
    return name


def _map_names(values: np.ndarray, fn: Any) -> np.ndarray:
    cache: dict[Any, Any] = {}
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is not None and v not in cache:
            cache[v] = fn(v)
        out[i] = None if v is None else cache[v]
    return out


def _local_times(values: pd.Series) -> pd.Series:
    """'YYYY-MM-DD HH:MM' in Beijing time; naive datetimes are taken as Beijing time already."""
    if values.empty:
        return pd.Series([], dtype=object)
    if pd.api.types.is_datetime64_any_dtype(values):
        t = values
        t = t.dt.tz_localize(LOCAL_TZ) if t.dt.tz is None else t.dt.tz_convert(LOCAL_TZ)
    else:
        t = pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601").dt.tz_convert(LOCAL_TZ)
    out = t.dt.strftime("%Y-%m-%d %H:%M")
    return out.astype(object).where(t.notna(), None)


def _clean(values: Any) -> np.ndarray:
    """Object array with NaN/None/'' as None."""
    arr = np.array(values, dtype=object)
    missing = pd.isna(arr)
    out = np.empty(len(arr), dtype=object)
    for i, v in enumerate(arr):
        out[i] = None if missing[i] or (isinstance(v, str) and not v.strip()) else v
    return out


def offline_map(m: folium.Map) -> folium.Map:
    """Make ``m`` self-contained: drop every CDN link folium would add and inline Leaflet instead."""
    js, css = inline_leaflet()
    m.default_js = []
    m.default_css = []
    for child in list(m._children.values()):
        if hasattr(child, "default_js"):
            child.default_js = []
            child.default_css = []
    header = m.get_root().header
    # first in <head>, so the page's own CSS comes after Leaflet's and wins
    header.add_child(_Raw(f"<script>{js}</script>"), name="leaflet_js_inline", index=0)
    header.add_child(_Raw(f"<style>{css}</style>"), name="leaflet_css_inline", index=0)
    return m


def _category_info(codes: list[str], catalog: Any, lang: str) -> dict[str, dict[str, Any]]:
    colors = category_colors(codes)
    sev_names: dict[str, str] = {}
    if catalog is not None and lang == "zh":
        sev_names = {k: v.zh for k, v in getattr(catalog, "severity_levels", {}).items()}
    info: dict[str, dict[str, Any]] = {}
    for code in codes:
        cat = catalog.categories.get(code) if catalog is not None else None
        name = (cat.zh if lang == "zh" else cat.en) if cat is not None else code
        sev = cat.severity if cat is not None else None
        info[code] = {
            "name": name, "color": colors[code], "sevCode": sev or "",
            "sev": (sev_names.get(sev, sev) if sev else ""),
        }
    return info


def _township_collection(townships: gpd.GeoDataFrame, counts: Mapping[str, int], lang: str
                         ) -> tuple[dict[str, Any], list[list[Any]]]:
    towns = townships.to_crs(4326) if townships.crs is not None else townships
    geoms = shapely.set_precision(towns.geometry.values, 1e-6)
    features = [
        {"type": "Feature", "properties": {"name": str(name)}, "geometry": shapely.geometry.mapping(g)}
        for name, g in zip(towns["name"], geoms, strict=True) if g is not None and not g.is_empty
    ]
    outline = shapely.union_all(towns.geometry.values)
    features.append({"type": "Feature", "properties": {"outline": True},
                     "geometry": shapely.geometry.mapping(shapely.set_precision(outline, 1e-6))})
    labels = []
    unit = UI[lang]["unit"]
    for name, g in zip(towns["name"], towns.geometry.values, strict=True):
        if g is None or g.is_empty:
            continue
        p = g.representative_point() if not g.contains(g.centroid) else g.centroid
        n = counts.get(str(name), 0)
        label = f"{html.escape(_short_name(name))}<small>{n} {unit}</small>" if counts else html.escape(
            _short_name(name))
        km2 = g.area * 111.32 * 110.57 * np.cos(np.radians(p.y))
        labels.append([round(p.y, 6), round(p.x, 6), label, 12 if km2 < 15 else 0])
    return {"type": "FeatureCollection", "features": features}, labels


def _point_collections(incidents: gpd.GeoDataFrame, codes: list[str]) -> dict[str, dict[str, Any]]:
    """One compact FeatureCollection per category; property keys are short to keep the page small."""
    inc = incidents
    geom = inc.geometry.values
    ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    inc = inc[ok]
    n = len(inc)
    lon = np.round(shapely.get_x(inc.geometry.values), 6).tolist()
    lat = np.round(shapely.get_y(inc.geometry.values), 6).tolist()

    def col(name: str) -> np.ndarray:
        return _clean(inc[name].to_numpy()) if name in inc.columns else np.full(n, None, dtype=object)

    cats = inc["category"].astype(str).to_numpy()
    props = {
        "id": col("id"),
        "t": (_local_times(inc["observed_at"]).to_numpy() if "observed_at" in inc.columns
              else np.full(n, None, dtype=object)),
        "s": col("status"), "tw": _map_names(col("township_name"), _short_name),
        "v": _map_names(col("village_name"), _short_village), "g": col("grid_code"),
        "f": col("flags"), "d": col("lead_department"), "dup": col("likely_duplicate_of"),
        "desc": col("description"),
    }
    acc = col("accuracy_m")
    props["acc"] = np.array([None if a is None else round(float(a), 1) for a in acc], dtype=object)
    keys = list(props)
    columns = [props[k].tolist() for k in keys]
    out: dict[str, dict[str, Any]] = {
        c: {"type": "FeatureCollection", "category": c, "features": []} for c in codes
    }
    for i in range(n):
        p = {k: str(v) if isinstance(v, str) else v for k, v in
             ((k, column[i]) for k, column in zip(keys, columns, strict=True)) if v is not None}
        point = {"type": "Point", "coordinates": [lon[i], lat[i]]}
        out[cats[i]]["features"].append({"type": "Feature", "geometry": point, "properties": p})
    return out


def _flag_count(incidents: pd.DataFrame, flag: str) -> int:
    if "flags" not in incidents.columns:
        return 0
    return int(incidents["flags"].fillna("").astype(str).str.split(";").map(lambda xs: flag in xs).sum())


def _title_html(title: str, incidents: gpd.GeoDataFrame, n_cats: int, synthetic: bool, lang: str) -> str:
    ui = UI[lang]
    n = len(incidents)
    sub = f"{ui['total']} {n:,} {ui['unit']} · {n_cats} {ui['categories']}" if n else ui["none"]
    if n and "observed_at" in incidents.columns:
        t = _local_times(incidents["observed_at"]).dropna()
        if len(t):
            sub = f"{min(t)[:10]} — {max(t)[:10]} · " + sub
    stats = []
    near, out = _flag_count(incidents, "near_border"), _flag_count(incidents, "outside_district")
    dups = int(incidents["likely_duplicate_of"].notna().sum()) if "likely_duplicate_of" in incidents else 0
    for label, value in ((ui["duplicates"], dups), (ui["near_border"], near), (ui["outside"], out)):
        if value:
            stats.append(f"<span>{html.escape(label)} <b>{value:,}</b></span>")
    note = f'<div class="note">⚠ {html.escape(ui["synthetic_note"])}</div>' if synthetic else ""
    return (
        f'<div class="gise-box gise-title"><h1>{html.escape(title)}</h1>'
        f'<div class="sub">{html.escape(sub)}</div>'
        + (f'<div class="stats">{"".join(stats)}</div>' if stats else "") + note + "</div>"
    )


def short_names(names: Mapping[str, str]) -> dict[str, str]:
    """Category names without their parenthetical detail, where that keeps them distinct.

    '安全生产隐患（非法生产经营、危化品、无证作业）' -> '安全生产隐患';
    the two '违法建设（…规划区）' stay whole.
    """
    short = {k: re.split(r"[（(]", v)[0].strip() or v for k, v in names.items()}
    clash = {s for s in short.values() if list(short.values()).count(s) > 1}
    return {k: (names[k] if short[k] in clash else short[k]) for k in names}


def _legend_html(rows: list[tuple[str, str, str, int]], lang: str) -> str:
    top = max((r[3] for r in rows), default=1) or 1
    short = short_names({r[0]: r[1] for r in rows})
    body = "".join(
        f'<div class="row" data-key="{html.escape(key)}" title="{html.escape(name)}">'
        f'<span class="dot" style="background:{color}"></span>'
        f'<span class="name">{html.escape(short[key])}</span>'
        f'<span class="bar"><i style="width:{100 * count / top:.0f}%;background:{color}"></i></span>'
        f'<span class="n">{count:,}</span></div>'
        for key, name, color, count in rows
    )
    head = f'<div class="hd">{html.escape(UI[lang]["legend"])}</div>'
    return f'<div class="gise-box gise-legend">{head}{body}</div>'


# -- the map ----------------------------------------------------------------------------------------------
def incidents_map(
    incidents: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    *,
    catalog: Any = None,
    title: str = "平谷区 巡查事件",
    lang: str = "zh",
    tiles: str | None = None,
) -> folium.Map:
    """Incidents coloured by category over labelled township polygons, as an offline folium map.

    ``incidents``: the store's export (``category`` and Point ``geometry`` required; ``id``, ``observed_at``,
    ``status``, ``township_name``, ``village_name``, ``grid_code``, ``flags`` (';'-joined),
    ``lead_department``, ``likely_duplicate_of``, ``description``, ``accuracy_m`` used when present).
    ``townships``: polygons with ``name`` (and ``synthetic`` — when any is true the map says 示意边界).
    ``catalog``: the loaded four lists, for category and department names, severity and category order.
    ``lang``: "zh" or "en". ``tiles``: None (no basemap, works offline) or a folium tile name such as
    "OpenStreetMap" (needs internet).
    """
    if lang not in UI:
        raise ValueError(f"lang must be one of {sorted(UI)}")
    ui = UI[lang]
    inc = incidents
    if inc.crs is not None and inc.crs.to_epsg() != 4326:
        inc = inc.to_crs(4326)
    cats_present = pd.Series(inc["category"].astype(str)).value_counts() if len(inc) else pd.Series(
        dtype=int)
    order = [c for c in (catalog.categories if catalog is not None else []) if c in cats_present.index]
    order += sorted(c for c in cats_present.index if c not in order)
    info = _category_info(list(catalog.categories) + [c for c in order if c not in catalog.categories]
                          if catalog is not None else order, catalog, lang)
    synthetic = bool("synthetic" in townships.columns
                     and townships["synthetic"].fillna(False).astype(bool).any())

    extent = townships if len(townships) else inc
    if extent.crs is not None and extent.crs.to_epsg() != 4326:
        extent = extent.to_crs(4326)
    x0, y0, x1, y1 = extent.total_bounds if len(extent) else (117.12, 40.2, 117.12, 40.2)
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=11, tiles=tiles, prefer_canvas=True,
                   control_scale=False, zoom_control=True)
    m.get_root().header.add_child(_Raw(f"<style>{_CSS}</style>"), name="gise_css")
    m.get_root().title = html.escape(title)

    # lookups the popups need, once
    depts = {}
    if catalog is not None:
        depts = {code: (d.zh if lang == "zh" else d.en) for code, d in catalog.departments.items()}
    popup_keys = ("time", "status", "place", "grid", "lead", "flags", "dup", "dup_text", "acc", "id",
                  "metres")
    popup_ui = {k: ui[k] for k in popup_keys}
    lookups = {"cats": info, "status": STATUS_NAMES[lang], "flags": FLAG_NAMES[lang], "depts": depts,
               "ui": popup_ui}
    m.add_child(_Script(f"var GISE = {_script_json(lookups)};\n{_POPUP_JS}"))
    scale = "L.control.scale({position: 'bottomright', imperial: false})"
    m.add_child(_Script(f"{scale}.addTo({m.get_name()});"))

    # townships
    counts: dict[str, int] = {}
    if "township_name" in inc.columns:
        counts = {str(k): int(v) for k, v in inc["township_name"].value_counts().items()}
    town_name = f"{ui['townships']}（{ui['synthetic']}）" if synthetic and lang == "zh" else (
        f"{ui['townships']} ({ui['synthetic']})" if synthetic else ui["townships"])
    town_group = folium.FeatureGroup(name=town_name, control=True, show=True)
    if len(townships):
        collection, labels = _township_collection(townships, counts, lang)
        town_group.add_child(_TownshipLayer(
            collection, labels,
            style={"color": "#7d7d7d", "weight": 1.2, "fillColor": "#ffffff", "fillOpacity": 0.55,
                   "dashArray": "4 3" if synthetic else None},
            outline={"color": "#3a3a3a", "weight": 2.6, "fill": False},
        ))
    m.add_child(town_group)

    # one layer per category, largest first in the legend
    groups: list[tuple[str, folium.FeatureGroup]] = []
    rows: list[tuple[str, str, str, int]] = []
    if len(inc):
        collections = _point_collections(inc, order)
        # most frequent first: later layers draw on top, so rare categories stay visible
        by_count = sorted(order, key=lambda k: -len(collections[k]["features"]))
        for code in by_count:
            feats = collections[code]
            count = len(feats["features"])
            c = info[code]
            radius = _RADIUS.get(c["sevCode"], 5.0)
            dot = f'<span class="gise-ctl-dot" style="background:{c["color"]}"></span>'
            # folium re-reads the layer control's script as a Jinja template: keep braces inert
            label = dot + html.escape(c["name"]).replace("{", "&#123;").replace("}", "&#125;")
            group = folium.FeatureGroup(name=label, show=True)
            group.add_child(_PointLayer(feats, code, {
                "radius": radius, "color": "#ffffff", "weight": 1, "opacity": 0.9,
                "fillColor": c["color"], "fillOpacity": 0.88,
            }))
            m.add_child(group)
            key = f"k{len(groups)}"
            groups.append((key, group))
            rows.append((key, c["name"], c["color"], count))
    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    m.get_root().html.add_child(_Raw(_title_html(title, inc, len(rows), synthetic, lang)))
    if rows:
        m.get_root().html.add_child(_Raw(_legend_html(rows, lang)))
        m.add_child(_LegendToggle(groups))

    if len(extent):
        # room on the left for the legend, at the top for the title box
        m.fit_bounds([[y0, x0], [y1, x1]], padding_top_left=(300, 30), padding_bottom_right=(20, 20))
    return offline_map(m)


def write_incidents_map(path: str | Path, incidents: gpd.GeoDataFrame, townships: gpd.GeoDataFrame,
                        **kw: Any) -> Path:
    """Write :func:`incidents_map` to ``path`` (an .html file, self-contained and offline); returns it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    incidents_map(incidents, townships, **kw).save(str(path))
    return path
