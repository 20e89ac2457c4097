"""The hot-spot map's second and third readings: emerging patterns, recurring sites and rising categories.

* **Emerging patterns** (Esri's emerging hot-spot categories, :mod:`gis_enforcement.analysis.emerging`): one
  symbol at the centre of every cell with a pattern — the shape says the pattern (★ new, ▶▶ consecutive,
  ▲ intensifying, ● persistent, ▽ diminishing, ◆ sporadic, ◐ oscillating, ○ historical), the colour the family
  (dark red hot, dark blue cold) — over the Gi* fill, so both read at once; the legend lists the patterns present
  with their counts, hot beside cold.
* **Recurring sites** (:mod:`gis_enforcement.analysis.recurring_sites`): yellow circles sized by their number of
  incidents, above everything else, with a popup giving the category, recurrences, first and last report, the
  months the site was active and the next 回头看.
* **Category trends** (:mod:`gis_enforcement.analysis.category_trends`): a small panel of the problem categories
  whose counts rise or fall significantly (Mann-Kendall), each with an arrow, the change and a sparkline.

Data in, HTML/JavaScript out, built in Python (no Jinja), like the rest of the package's maps.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_enforcement.mapping.elements import JsElement, _parent_of, script_json
from gis_enforcement.mapping.features import local_times
from gis_enforcement.mapping.legend import short_names

__all__ = ["CSS", "PATTERNS", "EmergingLayer", "SiteLayer", "emerging_features", "emerging_legend", "pattern_name",
           "site_features", "site_legend", "site_radius", "trends_panel"]

#: Esri's patterns, in the order of the legend (as :data:`gis_enforcement.analysis.emerging.PATTERNS`)
PATTERNS = ("new", "consecutive", "intensifying", "persistent", "diminishing", "sporadic", "oscillating",
            "historical")
FAMILY_COLORS = {"hot": "#8e0013", "cold": "#0d3a7a"}
SITE_COLOR, SITE_STROKE = "#ffd320", "#3d3000"
_PATTERN_WORDS = {
    "zh": {"new": "新增", "consecutive": "连续", "intensifying": "加剧", "persistent": "持续", "diminishing": "减弱",
           "sporadic": "零星", "oscillating": "振荡", "historical": "历史", "hot": "热点", "cold": "冷点",
           "none": "无模式"},
    "en": {"new": "New", "consecutive": "Consecutive", "intensifying": "Intensifying", "persistent": "Persistent",
           "diminishing": "Diminishing", "sporadic": "Sporadic", "oscillating": "Oscillating",
           "historical": "Historical", "hot": "hot spot", "cold": "cold spot", "none": "No pattern"},
}
WORDS = {
    "zh": {"emerging": "时空模式（新兴热点分析）", "sites": "反复点位（回头看）", "site_size": "圆圈大小 = 事件数",
           "trends": "问题类别趋势", "trend_sub": "近 {n} 周逐周计数 · Mann-Kendall 检验\n变化：末 {k} 周比首 {k} 周",
           "trend_sub_days": "{n} 个 {d} 天时段 · Mann-Kendall 检验\n变化：末 {k} 段比首 {k} 段",
           "steady": "其余 {n} 类无显著趋势", "more": "另 {n} 类显著变化未列出", "no_trend": "各类均无显著趋势",
           "incidents": "事件数",
           "recurrences": "办结后复发（次）", "first": "首次上报", "last": "最近上报", "months": "活跃月数",
           "closed": "上次办结", "follow_up": "回头看", "village": "位置", "site": "点位", "hot_bins": "热点时段",
           "cold_bins": "冷点时段", "trend": "z 值趋势", "final_z": "末期 z 值", "category": "问题类别",
           "of": "/", "rising": "上升", "falling": "下降", "month_unit": "个月",
           "hot_spots": "热点", "cold_spots": "冷点"},
    "en": {"emerging": "Emerging hot-spot patterns", "sites": "Recurring sites (follow-up visits)",
           "site_size": "circle size = incidents", "trends": "Category trends",
           "trend_sub": "weekly counts, last {n} weeks · Mann-Kendall\nchange: last {k} weeks vs first {k}",
           "trend_sub_days": "{n} bins of {d} days · Mann-Kendall\nchange: last {k} bins vs first {k}",
           "steady": "{n} other categories: no significant trend", "more": "{n} more with a significant trend",
           "no_trend": "no significant trend in any category",
           "incidents": "Incidents", "recurrences": "Back after closure", "first": "First report",
           "last": "Last report", "months": "Months active", "closed": "Last closed", "follow_up": "Look again",
           "village": "Place", "site": "Site", "hot_bins": "Hot bins", "cold_bins": "Cold bins",
           "trend": "Trend of z", "final_z": "Final z", "category": "Category", "of": "of", "rising": "rising",
           "falling": "falling", "month_unit": "months",
           "hot_spots": "Hot spots", "cold_spots": "Cold spots"},
}

#: the page CSS of the legend sections, the symbols and the trends panel
CSS = """
.gise-legend .sec { margin-top: 8px; padding-top: 6px; border-top: 1px solid #e3e3e3; }
.gise-legend .sec .hd { display: flex; margin: 0 0 3px; }
.gise-legend .sec .hd .n { margin-left: auto; }
.gise-legend .sub { font-size: 11px; color: #666; margin: -2px 0 4px; }
.gise-legend .grid { display: grid; grid-template-columns: 1fr 1fr; column-gap: 12px; }
.gise-legend .grid .n { width: auto; min-width: 22px; }
.gise-legend .fam { font-size: 11px; color: #666; margin-bottom: 1px; }
.gise-legend .sym { flex: none; width: 14px; height: 14px; margin-right: 6px; }
.gise-legend .sym svg, .gise-em svg { display: block; }
.gise-legend .sizes { display: flex; align-items: flex-end; gap: 8px; }
.gise-legend .size { display: flex; flex-direction: column; align-items: center; font-size: 11px; }
.gise-legend .size b { font-weight: 600; }
.gise-legend .cap { font-size: 11px; color: #666; margin-left: 2px; align-self: center; }
.gise-em { background: none; border: none; }
.gise-town-label small { color: #333; }
.gise-trends { bottom: 58px; right: 12px; padding: 8px 12px; font-size: 13px; width: 266px; }
.gise-trends .hd { font-weight: 700; font-size: 13px; color: #333; }
.gise-trends .sub { font-size: 11px; color: #666; margin: 1px 0 5px; line-height: 1.3; }
.gise-trends .row { display: flex; align-items: center; margin: 3px 0; }
.gise-trends .arrow { flex: none; width: 15px; font-size: 12px; }
.gise-trends .name { flex: 1 1 auto; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  margin-right: 6px; }
.gise-trends .spark { flex: none; margin-right: 6px; }
.gise-trends .chg { flex: none; width: 40px; text-align: right; font-weight: 600;
  font-variant-numeric: tabular-nums; }
.gise-trends .foot { margin-top: 4px; font-size: 11px; color: #666; }
"""

# 14×14 symbols; {c} is the family colour, {o} the other family's (for oscillating)
_HALO = 'stroke="#fff" stroke-width="1.6" paint-order="stroke" stroke-linejoin="round"'
_SHAPES = {
    "new": '<path d="M7 .8l1.8 4.1 4.4.4-3.3 2.9 1 4.3L7 10.2 3.1 12.5l1-4.3L.8 5.3l4.4-.4z" fill="{c}" ' + _HALO
           + "/>",
    "consecutive": '<path d="M1.5 2.5l5 4.5-5 4.5zM7.5 2.5l5 4.5-5 4.5z" fill="{c}" ' + _HALO + "/>",
    "intensifying": '<path d="M7 1.2l5.8 10.8H1.2z" fill="{c}" ' + _HALO + "/>",
    "persistent": '<circle cx="7" cy="7" r="2.4" fill="{c}" stroke="#fff" stroke-width="1.1"/>',
    "diminishing": '<path d="M7 12.5L1.8 2.5h10.4z" fill="#fff" stroke="{c}" stroke-width="2" '
                   'stroke-linejoin="round"/>',
    "sporadic": '<path d="M7 1.8l4.2 5.2L7 12.2 2.8 7z" fill="{c}" ' + _HALO + "/>",
    "oscillating": '<circle cx="7" cy="7" r="5" fill="{o}" stroke="#fff" stroke-width="1.4"/>'
                   '<path d="M7 2a5 5 0 0 0 0 10z" fill="{c}"/>',
    "historical": '<circle cx="7" cy="7" r="4.2" fill="#fff" stroke="{c}" stroke-width="2"/>',
}


def pattern_parts(category: str) -> tuple[str, str] | None:
    """('new', 'hot') for 'new hot spot'; None for 'no pattern' or anything unknown."""
    words = str(category).split()
    if len(words) == 3 and words[0] in PATTERNS and words[1] in ("hot", "cold") and words[2] == "spot":
        return words[0], words[1]
    return None


def pattern_name(category: str, lang: str = "zh") -> str:
    """The display name of an emerging category: 'new hot spot' → '新增热点' / 'New hot spot'."""
    w = _PATTERN_WORDS[lang]
    parts = pattern_parts(category)
    if parts is None:
        return w["none"]
    return f"{w[parts[0]]}{w[parts[1]]}" if lang == "zh" else f"{w[parts[0]]} {w[parts[1]]}"


def pattern_symbol(category: str, size: int = 14) -> str:
    """Inline SVG of a pattern's symbol (empty for no pattern)."""
    parts = pattern_parts(category)
    if parts is None:
        return ""
    other = "cold" if parts[1] == "hot" else "hot"
    body = _SHAPES[parts[0]].format(c=FAMILY_COLORS[parts[1]], o=FAMILY_COLORS[other])
    return f'<svg width="{size}" height="{size}" viewBox="0 0 14 14" aria-hidden="true">{body}</svg>'


def _detail(frame: pd.DataFrame, key: str, column: str) -> np.ndarray:
    """A per-cell number from its own column, or from the stored ``detail`` dict, NaN when neither has it."""
    if column in frame.columns:
        return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    if "detail" in frame.columns:
        return np.array([float(d.get(key, np.nan)) if isinstance(d, dict) and d.get(key) is not None else np.nan
                         for d in frame["detail"]], dtype=float)
    return np.full(len(frame), np.nan)


def _num(v: float, digits: int = 2) -> float | None:
    return round(float(v), digits) if np.isfinite(v) else None


def emerging_features(emerging: gpd.GeoDataFrame) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """One point feature (the cell's representative point) per cell with a pattern, and the count of each
    pattern. ``emerging`` holds cells with ``pattern`` (the analysis' category strings) and optional
    ``cell_id``, ``count``, ``z`` (final bin), ``category`` (a problem category) and the trend, from columns
    ``trend_z``/``trend_p``/``n_hot_bins``/``n_cold_bins`` or a stored run's ``detail``."""
    e = emerging.to_crs(4326) if emerging.crs is not None and emerging.crs.to_epsg() != 4326 else emerging
    patterns = e["pattern"].astype(str).to_numpy()
    ok = np.array([pattern_parts(p) is not None for p in patterns], dtype=bool)
    geoms = e.geometry.values
    ok &= ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    e, patterns = e[ok], patterns[ok]
    points = shapely.point_on_surface(e.geometry.values)
    x, y = np.round(shapely.get_x(points), 6), np.round(shapely.get_y(points), 6)
    columns = {"tz": _detail(e, "trend_z", "trend_z"), "tp": _detail(e, "trend_p", "trend_p"),
               "hb": _detail(e, "hot_bins", "n_hot_bins"), "cb": _detail(e, "cold_bins", "n_cold_bins"),
               "z": _detail(e, "", "final_z") if "final_z" in e.columns else _detail(e, "", "z"),
               "n": _detail(e, "", "count")}
    ids = e["cell_id"].astype(str).to_numpy() if "cell_id" in e.columns else np.full(len(e), "", dtype=object)
    cats = e["category"].astype(str).to_numpy() if "category" in e.columns else None
    features = []
    for i in range(len(e)):
        props: dict[str, Any] = {"pt": patterns[i], "id": ids[i]}
        for key, values in columns.items():
            v = _num(values[i], 0 if key in ("hb", "cb", "n") else 3 if key == "tp" else 2)
            if v is not None:
                props[key] = int(v) if key in ("hb", "cb", "n") else v
        if cats is not None:
            props["cat"] = cats[i]
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": [float(x[i]), float(y[i])]}})
    counts = pd.Series(patterns).value_counts().to_dict() if len(patterns) else {}
    return features, {str(k): int(v) for k, v in counts.items()}


def _pick(frame: pd.DataFrame, *names: str) -> pd.Series | None:
    return next((frame[n] for n in names if n in frame.columns), None)


def _dates(values: pd.Series | None, n: int, tz: str | None = None) -> list[str | None]:
    if values is None:
        return [None] * n
    return [t[:10] if isinstance(t, str) else None
            for t in local_times(pd.Series(values).reset_index(drop=True), tz)]


def _months_active(first: list[str | None], last: list[str | None]) -> list[int | None]:
    out: list[int | None] = []
    for a, b in zip(first, last, strict=True):
        if a is None or b is None:
            out.append(None)
        else:
            out.append((int(b[:4]) * 12 + int(b[5:7])) - (int(a[:4]) * 12 + int(a[5:7])) + 1)
    return out


def site_radius(n: np.ndarray | float) -> np.ndarray:
    """Circle radius in pixels for a site of ``n`` incidents: area proportional to the count, 5–18 px."""
    return np.asarray(np.clip(2.2 * np.sqrt(np.asarray(n, dtype=float)), 4.5, 18.0))


def site_features(sites: pd.DataFrame, *, tz: str | None = None) -> list[dict[str, Any]]:
    """One point feature per site of the register (``lon``/``lat`` or point geometries; ``site_id``, ``kind``
    (category code), ``n_incidents``, optional ``n_recurrences``, first/last report (``first_report`` or
    ``first_reported_at`` …), ``last_closure``/``last_closed_at``, ``follow_up_on``/``follow_up_due``,
    ``village_name`` or ``place``, ``months_active``), biggest first so small circles draw on top. Dates are
    days of the district's zone ``tz``."""
    s = sites.reset_index(drop=True)
    if isinstance(s, gpd.GeoDataFrame) and "lon" not in s.columns:
        g = s.to_crs(4326).geometry.values if s.crs is not None else s.geometry.values
        lon, lat = shapely.get_x(shapely.point_on_surface(g)), shapely.get_y(shapely.point_on_surface(g))
    else:
        lon, lat = s["lon"].to_numpy(dtype=float), s["lat"].to_numpy(dtype=float)
    n = len(s)
    count = pd.to_numeric(s["n_incidents"], errors="coerce").fillna(0).astype(int).to_numpy()
    first = _dates(_pick(s, "first_report", "first_reported_at"), n, tz)
    last = _dates(_pick(s, "last_report", "last_reported_at"), n, tz)
    months = (pd.to_numeric(s["months_active"], errors="coerce").tolist() if "months_active" in s.columns
              else _months_active(first, last))
    columns = {"fr": first, "lr": last, "cl": _dates(_pick(s, "last_closure", "last_closed_at"), n, tz),
               "fu": _dates(_pick(s, "follow_up_on", "follow_up_due"), n, tz), "mo": months,
               "rc": _pick(s, "n_recurrences"), "v": _pick(s, "village_name", "place"), "id": _pick(s, "site_id"),
               "k": _pick(s, "kind")}
    features = []
    for i in np.argsort(-count, kind="stable"):
        if not (np.isfinite(lon[i]) and np.isfinite(lat[i])):
            continue
        props: dict[str, Any] = {"n": int(count[i]), "r": round(float(site_radius(count[i])), 1)}
        for key, values in columns.items():
            v = None if values is None else (values.iat[i] if isinstance(values, pd.Series) else values[i])
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
                continue
            props[key] = int(v) if key in ("rc", "mo") else str(v)
        features.append({"type": "Feature", "properties": props,
                         "geometry": {"type": "Point", "coordinates": [round(float(lon[i]), 6),
                                                                       round(float(lat[i]), 6)]}})
    return features


class EmergingLayer(JsElement):
    """Cells with an emerging pattern as SVG symbols at their centres, a popup on click."""

    def __init__(self, collection: dict[str, Any], lang: str, categories: Mapping[str, str]):
        super().__init__()
        self._name = "GiseEmerging"
        kinds = {f["properties"]["pt"] for f in collection["features"]}
        self.data = script_json(collection)
        self.lookups = script_json({"icons": {k: pattern_symbol(k) for k in kinds},
                                    "names": {k: pattern_name(k, lang) for k in kinds},
                                    "colors": {k: FAMILY_COLORS[k.split()[1]] for k in kinds},
                                    "w": WORDS[lang], "cats": dict(categories)})

    def js(self) -> str:
        return f"""
var {self.get_name()} = (function () {{
  var L_ = {self.lookups}, w = L_.w;
  function num(v, d) {{ return v === undefined ? '—' : Number(v).toFixed(d); }}
  return L.geoJSON({self.data}, {{
    pointToLayer: function (f, latlng) {{
      return L.marker(latlng, {{icon: L.divIcon({{className: 'gise-em', html: L_.icons[f.properties.pt],
                                                 iconSize: [14, 14], iconAnchor: [7, 7]}}), keyboard: false}});
    }},
    onEachFeature: function (f, layer) {{
      layer.bindPopup(function () {{
        var p = f.properties, rows = [];
        if (p.cat) {{ rows.push([w.category, L_.cats[p.cat] || p.cat]); }}
        if (p.n !== undefined) {{ rows.push([w.incidents, p.n]); }}
        if (p.hb !== undefined) {{ rows.push([w.hot_bins + ' / ' + w.cold_bins, p.hb + ' / ' + (p.cb || 0)]); }}
        if (p.tz !== undefined) {{ rows.push([w.trend, num(p.tz, 2) + (p.tp !== undefined ? ' (p ' +
                                                                      num(p.tp, 3) + ')' : '')]); }}
        if (p.z !== undefined) {{ rows.push([w.final_z, num(p.z, 2)]); }}
        return '<div class="gise-popup"><div class="hd" style="border-left-color:' + L_.colors[p.pt] + '">' +
          L_.icons[p.pt] + ' ' + giseEsc(L_.names[p.pt]) + '</div><table>' + rows.map(function (r) {{
            return '<tr><th>' + giseEsc(r[0]) + '</th><td>' + giseEsc(r[1]) + '</td></tr>'; }}).join('') +
          '</table>' + (p.id ? '<div class="id">' + giseEsc(p.id) + '</div>' : '') + '</div>';
      }});
    }}
  }}).addTo({_parent_of(self).get_name()});
}})();
"""


class SiteLayer(JsElement):
    """Recurring sites as circles sized by their incidents, in their own pane above the cells and symbols."""

    def __init__(self, collection: dict[str, Any], lang: str, categories: Mapping[str, str]):
        super().__init__()
        self._name = "GiseSites"
        self.data = script_json(collection)
        self.lookups = script_json({"w": WORDS[lang], "cats": dict(categories), "fill": SITE_COLOR,
                                    "stroke": SITE_STROKE})

    def js(self) -> str:
        parent = _parent_of(self)
        the_map = _parent_of(parent).get_name()
        return f"""
var {self.get_name()} = (function () {{
  var L_ = {self.lookups}, w = L_.w, map = {the_map};
  // the sites' own pane above the cells and the pattern symbols; it lets clicks through (only the circles take
  // them), and the circles are SVG: a canvas there would cover the whole map and the cells' popups never open
  var pane = map.getPane('giseSites') || map.createPane('giseSites');
  pane.style.zIndex = 640; pane.style.pointerEvents = 'none';
  var renderer = L.svg({{pane: 'giseSites'}});
  return L.geoJSON({self.data}, {{
    pointToLayer: function (f, latlng) {{
      return L.circleMarker(latlng, {{pane: 'giseSites', renderer: renderer, radius: f.properties.r, fillColor: L_.fill,
                                     fillOpacity: 0.9, color: L_.stroke, weight: 1.2}});
    }},
    onEachFeature: function (f, layer) {{
      layer.bindPopup(function () {{
        var p = f.properties, rows = [[w.incidents, p.n]];
        if (p.rc !== undefined) {{ rows.push([w.recurrences, p.rc]); }}
        if (p.v) {{ rows.push([w.village, p.v]); }}
        if (p.fr) {{ rows.push([w.first, p.fr]); }}
        if (p.lr) {{ rows.push([w.last, p.lr]); }}
        if (p.mo !== undefined) {{ rows.push([w.months, p.mo + ' ' + w.month_unit]); }}
        if (p.cl) {{ rows.push([w.closed, p.cl]); }}
        if (p.fu) {{ rows.push([w.follow_up, p.fu]); }}
        var name = p.k ? (L_.cats[p.k] || p.k) : w.site;
        return '<div class="gise-popup"><div class="hd" style="border-left-color:' + L_.fill + '">' +
          giseEsc(name) + '</div><table>' + rows.map(function (r) {{
            return '<tr><th>' + giseEsc(r[0]) + '</th><td>' + giseEsc(r[1]) + '</td></tr>'; }}).join('') +
          '</table>' + (p.id ? '<div class="id">' + giseEsc(w.site + ' ' + p.id) + '</div>' : '') + '</div>';
      }});
    }}
  }}).addTo({parent.get_name()});
}})();
"""


def run_filters(parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filters a stored run was asked with — ``start``, ``end`` (ISO text), ``categories``, ``townships``,
    ``statuses`` — whether it keeps them under ``filters`` (a Gi* run) or beside its other parameters (an
    emerging run); those not given are left out."""
    p = dict(parameters or {})
    nested = p.get("filters") if isinstance(p.get("filters"), Mapping) else {}
    out: dict[str, Any] = {}
    for key in ("start", "end", "categories", "townships", "statuses"):
        value = nested.get(key, p.get(key)) if nested else p.get(key)
        if value:
            out[key] = [value] if isinstance(value, str) and key not in ("start", "end") else value
    return out


def _day(text: str, *, last: bool) -> str:
    """The district day of an ISO time; ``last`` for an exclusive end: the day before a midnight."""
    t = pd.Timestamp(text)
    if last and t == t.normalize():
        t -= pd.Timedelta(days=1)
    return f"{t:%Y-%m-%d}"


def filters_caption(parameters: Mapping[str, Any] | None, lang: str, *, towns: Mapping[str, str],
                    categories: Mapping[str, str], period: bool = True) -> str:
    """What a run shows, in a line: where (its townships by name, or the whole district), which problems (its
    categories by name, or all), when (its period's first and last day; without one, the default window of the
    stored reports, or every date of a dataset's run; left out when not ``period``) and which statuses when it
    was narrowed to some. ``towns`` and ``categories`` map codes to the names to print."""
    f = run_filters(parameters)
    zh = lang == "zh"
    sep = "、" if zh else ", "
    where = sep.join(towns.get(str(c), str(c)) for c in f.get("townships", ())) or ("全区" if zh else "whole district")
    cats = [categories.get(str(c), str(c)) for c in f.get("categories", ())]
    what = (sep.join(cats) if len(cats) <= 3 else (f"{len(cats)} 类" if zh else f"{len(cats)} categories")) \
        or ("全部类别" if zh else "all categories")
    parts = [f"范围 {where}" if zh else f"area: {where}", f"类别 {what}" if zh else f"categories: {what}"]
    if period:
        start, end = f.get("start"), f.get("end")
        when = (f"{_day(start, last=False)} — {_day(end, last=True)}" if start and end else
                f"{_day(start, last=False)} 起" if start and zh else f"from {_day(start, last=False)}" if start else
                f"至 {_day(end, last=True)}" if end and zh else f"until {_day(end, last=True)}" if end else
                ("全部日期" if zh else "all dates") if (parameters or {}).get("source") else
                ("未指定（默认：最新上报前 12 个月内）" if zh else "not given (default: the 12 months up to the latest "
                 "report)"))
        parts.append(f"时段 {when}" if zh else f"period: {when}")
    if f.get("statuses"):
        parts.append(("状态 " if zh else "status: ") + sep.join(str(v) for v in f["statuses"]))
    return " · ".join(parts)


def emerging_legend(counts: Mapping[str, int], lang: str, note: str = "", hidden: tuple[str, ...] = ()) -> str:
    """The legend section of the patterns present, hot (left) beside cold (right), each with its symbol and
    count; a row toggles its family's layer (``data-key`` "em-hot" / "em-cold"), dimmed while the family is
    ``hidden``."""
    w, words = WORDS[lang], _PATTERN_WORDS[lang]
    columns = []
    for family in ("hot", "cold"):
        rows = "".join(
            f'<div class="row{" off" if family in hidden else ""}" data-key="em-{family}" '
            f'title="{html.escape(pattern_name(key, lang))}"><span class="sym">{pattern_symbol(key)}</span>'
            f'<span class="name">{html.escape(words[key.split()[0]])}</span>'
            f'<span class="n">{counts[key]:,}</span></div>'
            for key in (f"{pattern} {family} spot" for pattern in PATTERNS) if counts.get(key))
        if rows:
            columns.append(f'<div><div class="fam">{html.escape(w[f"{family}_spots"])}</div>{rows}</div>')
    if not any(counts.get(f"{p} {f} spot") for p in PATTERNS for f in ("hot", "cold")):
        columns = [f'<div class="row"><span class="name">{html.escape(_PATTERN_WORDS[lang]["none"])}</span></div>']
    sub = f'<div class="sub">{html.escape(note)}</div>' if note else ""
    return (f'<div class="sec"><div class="hd">{html.escape(w["emerging"])}</div>{sub}'
            f'<div class="grid">{"".join(columns)}</div></div>')


def site_legend(features: list[dict[str, Any]], lang: str) -> str:
    """The legend section of the recurring sites: the symbol at three sizes with the counts they stand for."""
    w = WORDS[lang]
    counts = sorted({int(f["properties"]["n"]) for f in features})
    if not counts:
        return ""
    picks = sorted({counts[0], counts[len(counts) // 2], counts[-1]})
    circles = "".join(
        f'<span class="size"><svg width="{2 * r + 3:.0f}" height="{2 * r + 3:.0f}"><circle cx="{r + 1.5:.1f}" '
        f'cy="{r + 1.5:.1f}" r="{r:.1f}" fill="{SITE_COLOR}" stroke="{SITE_STROKE}" stroke-width="1.3"/></svg>'
        f"<b>{n}</b></span>" for n, r in ((n, float(site_radius(n))) for n in picks))
    return (f'<div class="sec"><div class="row hd" data-key="sites">{html.escape(w["sites"])}'
            f'<span class="n">{len(features):,}</span></div>'
            f'<div class="sizes">{circles}<span class="cap">{html.escape(w["site_size"])}</span></div></div>')


def _spark(series: Any, color: str) -> str:
    if series is None:
        return ""
    y = np.asarray(series, dtype=float)
    if y.size < 2 or not np.isfinite(y).all():
        return ""
    top = y.max() or 1.0
    pts = " ".join(f"{48 * i / (len(y) - 1):.1f},{13 - 11 * v / top:.1f}" for i, v in enumerate(y))
    return (f'<svg class="spark" width="44" height="14" viewBox="0 0 48 14" preserveAspectRatio="none">'
            f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.2"/></svg>')


def trends_panel(trends: pd.DataFrame, lang: str, categories: Mapping[str, str], *, top: int = 4) -> str:
    """The box of rising and falling problem categories (rows of :func:`~.category_trends.category_trends`):
    up to ``top`` significant risers then fallers, each with arrow, name, change and sparkline; the others
    summed up in a line."""
    if trends is None or not len(trends):
        return ""
    w = WORDS[lang]
    t = trends.reset_index(drop=True)
    names = short_names({str(c): categories.get(str(c), str(c)) for c in t["category"]})
    rising = t[t["trend"] > 0].sort_values("z", ascending=False).head(top)
    falling = t[t["trend"] < 0].sort_values("z").head(top)
    rows = []
    for r in pd.concat([rising, falling]).itertuples(index=False):
        up = r.trend > 0
        color, arrow, word = ("#b2182b", "▲", w["rising"]) if up else ("#2166ac", "▼", w["falling"])
        change = "" if not np.isfinite(r.change) else f"{r.change:+.0%}".replace("-", "−")
        name = names[str(r.category)]
        rows.append(f'<div class="row" title="{html.escape(name)}: {html.escape(word)} · z = {r.z:.2f}, '
                    f'p = {r.p:.3f}"><span class="arrow" style="color:{color}">{arrow}</span>'
                    f'<span class="name">{html.escape(name)}</span>{_spark(getattr(r, "series", None), color)}'
                    f'<span class="chg" style="color:{color}">{change}</span></div>')
    steady, more = int((t["trend"] == 0).sum()), int((t["trend"] != 0).sum()) - len(rows)
    notes = [w["steady"].format(n=steady)] if rows and steady else ([] if rows else [w["no_trend"]])
    if more > 0:
        notes.append(w["more"].format(n=more))
    foot = ("；" if lang == "zh" else "; ").join(notes)
    sub = ""
    if {"n_bins", "window_bins", "bin_days"} <= set(t.columns):
        first = t.iloc[0]
        days = int(first["bin_days"])
        sub = w["trend_sub" if days == 7 else "trend_sub_days"].format(n=int(first["n_bins"]), d=days,
                                                                       k=int(first["window_bins"]))
    return (f'<div class="gise-box gise-trends"><div class="hd">{html.escape(w["trends"])}</div>'
            + (f'<div class="sub">{html.escape(sub).replace(chr(10), "<br>")}</div>' if sub else "") + "".join(rows)
            + (f'<div class="foot">{html.escape(foot)}</div>' if foot else "") + "</div>")
