"""Hot and cold spots on the township map — Getis-Ord Gi* cells by confidence, offline Leaflet page.

Cells of a hot-spot run (H3 hexagons, grid squares or townships) are drawn in the standard diverging palette of
hot-spot maps — reds for hot spots at 99/95/90 % confidence, blues for cold spots, a pale neutral for cells that
are not significant — over the labelled township polygons. A legend says what each colour means and how many
cells have it; a cell's popup gives its count, z-score, p-value and, for emerging runs, its pattern. Like the
incidents map it is one ``L.geoJSON`` layer styled in the browser, with Leaflet inlined (works offline).

Optionally the same page carries what changes over time (:mod:`.hotspot_layers`): the emerging hot-spot pattern
of each cell as a symbol over the fill, the recurring sites as circles sized by their incidents, and a panel of
the problem categories that rise or fall; each layer can be switched off, and the legend explains all of them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gis_enforcement.mapping.basemaps import Basemap, add_basemap, labels_in_datum, to_basemap_datum
from gis_enforcement.mapping.elements import (
    POPUP_JS,
    JsElement,
    LegendToggle,
    Raw,
    Script,
    _parent_of,
    figure_of,
    script_json,
)
from gis_enforcement.mapping.features import township_collection, township_names
from gis_enforcement.mapping.hotspot_layers import (
    CSS,
    EmergingLayer,
    SiteLayer,
    emerging_features,
    emerging_legend,
    filters_caption,
    pattern_name,
    site_features,
    site_legend,
    trends_panel,
)
from gis_enforcement.mapping.legend import short_names
from gis_enforcement.mapping.offline import offline_map
from gis_enforcement.mapping.page import add_townships, start_page, synthetic_townships, write_page

__all__ = ["BIN_COLORS", "hotspots_map", "run_caption", "write_hotspots_map"]

#: Gi_Bin → fill colour (the usual hot/cold diverging scheme of hot-spot maps)
BIN_COLORS: Mapping[int, str] = {3: "#d62f27", 2: "#ed7551", 1: "#fab984", 0: "#f2f1ec", -1: "#c0ccbe",
                                  -2: "#849eba", -3: "#4575b5"}
BIN_NAMES = {
    "zh": {3: "热点 99% 置信", 2: "热点 95% 置信", 1: "热点 90% 置信", 0: "不显著", -1: "冷点 90% 置信",
           -2: "冷点 95% 置信", -3: "冷点 99% 置信"},
    "en": {3: "Hot spot, 99% confidence", 2: "Hot spot, 95% confidence", 1: "Hot spot, 90% confidence",
           0: "Not significant", -1: "Cold spot, 90% confidence", -2: "Cold spot, 95% confidence",
           -3: "Cold spot, 99% confidence"},
}
WORDS = {
    "zh": {"legend": "Gi* 热点分析（FDR 校正）", "cells": "个单元", "incidents": "起事件", "count": "事件数",
           "z": "z 值", "p": "p 值", "pattern": "时空模式", "townships": "乡镇边界", "cell": "单元",
           "emerging_hot": "时空模式 · 热点", "emerging_cold": "时空模式 · 冷点", "sites": "反复点位"},
    "en": {"legend": "Gi* hot spots (FDR-corrected)", "cells": "cells", "incidents": "incidents",
           "count": "Incidents", "z": "z-score", "p": "p-value", "pattern": "Pattern", "townships": "Townships",
           "cell": "Cell", "emerging_hot": "Emerging patterns · hot", "emerging_cold": "Emerging patterns · cold",
           "sites": "Recurring sites"},
}


class CellLayer(JsElement):
    """The cells as one GeoJSON layer, filled by Gi_Bin in the browser, popups built on click."""

    def __init__(self, collection: dict[str, Any], colors: Mapping[int, str], names: Mapping[int, str],
                 words: Mapping[str, Any]):
        super().__init__()
        self._name = "GiseCells"
        self.data = script_json(collection)
        self.colors = script_json({str(k): v for k, v in colors.items()})
        self.names = script_json({str(k): v for k, v in names.items()})
        self.words = script_json(dict(words))

    def js(self) -> str:
        return f"""
var {self.get_name()} = (function () {{
  var colors = {self.colors}, names = {self.names}, w = {self.words};
  function esc(s) {{ return String(s).replace(/[&<>"']/g, function (c) {{
    return {{'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}}[c]; }}); }}
  return L.geoJSON({self.data}, {{
    style: function (f) {{
      var b = String(f.properties.gi_bin || 0);
      return {{fillColor: colors[b], fillOpacity: b === '0' ? 0.35 : 0.8, color: b === '0' ? '#d6d3c8' : '#ffffff',
               weight: 0.6}};
    }},
    onEachFeature: function (f, layer) {{
      layer.bindPopup(function () {{
        var p = f.properties, b = String(p.gi_bin || 0);
        var rows = [[w.count, p.count], [w.z, p.z === null ? '—' : p.z.toFixed(2)],
                    [w.p, p.p === null ? '—' : p.p.toPrecision(2)]];
        if (p.pattern) {{ rows.push([w.pattern, w.patterns[p.pattern] || p.pattern]); }}
        return '<div class="gise-popup"><div class="hd" style="border-left-color:' + colors[b] + '">' +
          esc(names[b]) + '</div><table>' + rows.map(function (r) {{
            return '<tr><th>' + esc(r[0]) + '</th><td>' + esc(r[1]) + '</td></tr>'; }}).join('') +
          '</table><div class="id">' + esc(w.cell) + ' ' + esc(p.cell_id) + '</div></div>';
      }});
    }}
  }}).addTo({_parent_of(self).get_name()});
}})();
"""


def _legend(counts: Mapping[int, int], names: Mapping[int, str], title: str, extra: str = "") -> str:
    rows = "".join(
        f'<div class="row"><span class="dot" style="border-radius:2px;background:{BIN_COLORS[b]}"></span>'
        f'<span class="name">{html.escape(names[b])}</span><span class="n">{counts.get(b, 0):,}</span></div>'
        for b in (3, 2, 1, 0, -1, -2, -3))
    return f'<div class="gise-box gise-legend"><div class="hd">{html.escape(title)}</div>{rows}{extra}</div>'


#: how a run's distance band was chosen (``ScaleChoice.method``), in Chinese
_SCALE_METHODS_ZH: Mapping[str, str] = {
    "given": "指定距离",
    "moran_peak": "全局 Moran's I 首个显著峰值{z}",
    "k_nearest": "无显著 Moran's I 峰值，取近邻平均距离",
    "standard_distance": "无显著 Moran's I 峰值，取标准距离",
}


def run_caption(run_id: int, scale: Mapping[str, Any] | None, detail: str = "", *, lang: str = "zh") -> str:
    """The line under a hot-spot map's title: the run and its distance band. English: ``run N · `` and the run's
    own explanation ``detail`` (as the analysis wrote it); Chinese: built from the stored band ``scale``
    (``distance_m``, ``method``, the z of the peak read from ``detail`` when it names one)."""
    if lang != "zh":
        return f"run {run_id} · {detail}" if detail else f"run {run_id}"
    caption = f"第 {run_id} 次热点分析"
    distance = (scale or {}).get("distance_m")
    if not isinstance(distance, int | float):
        return caption
    method = str((scale or {}).get("method", ""))
    peak = re.search(r"z = (-?[0-9.]+)", detail or "")
    bands = re.search(r"among (\d+) bands (\d+)[–-](\d+) m", detail or "")
    said = ([f"z = {peak.group(1)}"] if peak else []) + (
        [f"{bands.group(1)} 个距离段 {int(bands.group(2)):,}–{int(bands.group(3)):,} 米"] if bands else [])
    how = _SCALE_METHODS_ZH.get(method, "").format(z=f"（{'，'.join(said)}）" if said else "")
    caption += f" · 分析距离 {float(distance):,.0f} 米" + (f"：{how}" if how else "")
    if "widened" in (detail or ""):
        caption += "，并扩大到每个单元都有邻居"
    return caption


def _category_names(catalog: Any, lang: str) -> dict[str, str]:
    if catalog is None:
        return {}
    return short_names({c: (v.zh if lang == "zh" else v.en) for c, v in catalog.categories.items()})


def hotspots_map(cells: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, *, title: str = "平谷区 问题热点",
                 subtitle: str = "", lang: str = "zh", basemap: Basemap | None = None,
                 emerging: gpd.GeoDataFrame | None = None, emerging_note: str = "", sites: pd.DataFrame | None = None,
                 trends: pd.DataFrame | None = None, catalog: Any = None, tz: str | None = None,
                 run: Mapping[str, Any] | None = None, emerging_run: Mapping[str, Any] | None = None) -> folium.Map:
    """Gi* cells (``cell_id``, ``count``, ``z``, ``p``, ``gi_bin``, optional ``pattern``; polygons in any CRS)
    over the township polygons (``name``, optional ``name_en``, optional ``synthetic``), as an offline folium
    map. ``subtitle`` is printed under the title (the run's period, scale …); ``lang`` "zh" or "en" (the
    township labels too); ``basemap`` (none by default) from
    :func:`~gis_enforcement.mapping.basemaps.basemap_from` — on a GCJ-02 basemap everything is shifted to GCJ-02.

    Optional layers, each in the layer control and explained in the legend: ``emerging``, the cells of an
    emerging hot-spot run (``pattern`` as the analysis names it, e.g. "new hot spot"; see
    :func:`~gis_enforcement.mapping.hotspot_layers.emerging_features`) drawn as pattern symbols, with
    ``emerging_note`` (its period) under the legend heading; ``sites``, the register of recurring sites
    (:func:`~gis_enforcement.mapping.hotspot_layers.site_features`) as circles sized by their incidents;
    ``trends``, per-category trends (:func:`~gis_enforcement.analysis.category_trends.category_trends`) as a
    panel of the rising and falling categories. ``catalog`` names the categories.

    ``run`` (``id``, ``parameters`` of the stored run the cells are; default ``cells.attrs["run"]``, which
    :func:`~gis_enforcement.analysis.hotspot_service.stored_run` sets) puts the run's filters — townships,
    categories, period, statuses — in a line under the title, so a map of one township's or one category's run
    does not read as the district's; ``emerging_run`` (default ``emerging.attrs["run"]``) does the same for the
    emerging layer, which comes from a run of its own."""
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {sorted(WORDS)}")
    words, names = WORDS[lang], BIN_NAMES[lang]
    categories = _category_names(catalog, lang)
    c = cells.to_crs(4326) if cells.crs is not None and cells.crs.to_epsg() != 4326 else cells
    bins = c["gi_bin"].fillna(0).astype(int).to_numpy() if len(c) else np.zeros(0, dtype=int)
    counts = {int(b): int(n) for b, n in zip(*np.unique(bins, return_counts=True), strict=True)}
    geoms = shapely.set_precision(c.geometry.values, 1e-6)
    features = []
    for i, g in enumerate(geoms):
        if g is None or g.is_empty:
            continue
        z = float(c["z"].iat[i]) if "z" in c and np.isfinite(c["z"].iat[i]) else None
        p = float(c["p"].iat[i]) if "p" in c and np.isfinite(c["p"].iat[i]) else None
        props: dict[str, Any] = {"cell_id": str(c["cell_id"].iat[i]), "count": int(c["count"].iat[i]),
                                 "z": z, "p": p, "gi_bin": int(bins[i])}
        if "pattern" in c:
            props["pattern"] = str(c["pattern"].iat[i])
        features.append({"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(g)})
    # hot cells last, so they draw on top of their neighbours' borders
    features.sort(key=lambda f: abs(f["properties"]["gi_bin"]))

    extent = townships.to_crs(4326) if len(townships) and townships.crs is not None else c
    x0, y0, x1, y1 = extent.total_bounds if len(extent) else (117.12, 40.2, 117.12, 40.2)
    if basemap is not None and basemap.datum != "wgs84":
        corners = to_basemap_datum({"features": [{"geometry": {"type": "MultiPoint",
                                                               "coordinates": [[x0, y0], [x1, y1]]}}]}, basemap)
        (x0, y0), (x1, y1) = corners["features"][0]["geometry"]["coordinates"]
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=11, tiles=None, prefer_canvas=True)
    add_basemap(m, basemap)
    start_page(m, title=title, css=CSS)

    synthetic = synthetic_townships(townships)
    cell_group = folium.FeatureGroup(name=words["legend"], show=True)
    shown = {str(p) for p in c["pattern"].unique()} if "pattern" in c else set()
    cell_group.add_child(CellLayer(to_basemap_datum({"type": "FeatureCollection", "features": features}, basemap),
                                   BIN_COLORS, names, {**words, "patterns": {p: pattern_name(p, lang) for p in shown}}))
    m.add_child(cell_group)
    if len(townships):
        collection, labels = township_collection(townships, {}, "", lang=lang)
        collection, labels = to_basemap_datum(collection, basemap), labels_in_datum(labels, basemap)
        add_townships(m, townships, name=words["townships"], collection=(collection, labels),
                      style={"color": "#5b5b5b", "weight": 1.0, "fill": False}, lang=lang)
    extra, toggles = "", []
    if emerging is not None and len(emerging):
        points, pattern_counts = emerging_features(emerging)
        for family, show in (("hot", True), ("cold", False)):  # cold patterns matter less to enforcement
            mine = [f for f in points if f["properties"]["pt"].endswith(f" {family} spot")]
            if mine:
                group = folium.FeatureGroup(name=words[f"emerging_{family}"], show=show)
                group.add_child(EmergingLayer(to_basemap_datum({"type": "FeatureCollection", "features": mine},
                                                               basemap), lang, categories))
                m.add_child(group)
                toggles.append((f"em-{family}", group))
        extra += emerging_legend(pattern_counts, lang, emerging_note, hidden=("cold",))
    if sites is not None and len(sites):
        circles = site_features(sites, tz=tz)
        group = folium.FeatureGroup(name=words["sites"], show=True)
        group.add_child(SiteLayer(to_basemap_datum({"type": "FeatureCollection", "features": circles}, basemap),
                                  lang, categories))
        m.add_child(group)
        toggles.append(("sites", group))
        extra += site_legend(circles, lang)
    if toggles:
        m.add_child(Script(POPUP_JS))  # giseEsc for the popups, giseToggle for the legend rows
        m.add_child(LegendToggle(toggles))
    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    n_incidents = int(c["count"].sum()) if len(c) else 0
    sub = f"{len(features):,} {words['cells']} · {n_incidents:,} {words['incidents']}"
    lines = _run_lines(cells, townships, emerging, run, emerging_run, lang, categories)
    note = ""
    if synthetic:
        note = ('<div class="note">⚠ ' + ("乡镇边界为示意边界（合成数据，非官方），仅供演示" if lang == "zh" else
                                          "Township boundaries are illustrative (synthetic) — demo only") + "</div>")
    figure_of(m).html.add_child(Raw(
        f'<div class="gise-box gise-title"><h1>{html.escape(title)}</h1>'
        + (f'<div class="sub filters">{html.escape(lines[0])}</div>' if lines[0] else "")
        + f'<div class="sub">{html.escape(sub)}</div>'
        + (f'<div class="sub">{html.escape(subtitle)}</div>' if subtitle else "")
        + (f'<div class="sub filters">{html.escape(lines[1])}</div>' if lines[1] else "") + note + "</div>"))
    figure_of(m).html.add_child(Raw(_legend(counts, names, words["legend"], extra)))
    if trends is not None and len(trends):
        figure_of(m).html.add_child(Raw(trends_panel(trends, lang, categories)))
    if len(extent):
        m.fit_bounds([[y0, x0], [y1, x1]], padding_top_left=(260, 30), padding_bottom_right=(20, 20))
    return offline_map(m)


def _run_lines(cells: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, emerging: gpd.GeoDataFrame | None,
               run: Mapping[str, Any] | None, emerging_run: Mapping[str, Any] | None, lang: str,
               categories: Mapping[str, str]) -> tuple[str, str]:
    """The header's line of what the cells' run was asked for, and the line of the emerging layer's run (empty
    when the run is not known or there is no emerging layer)."""
    run = run if run is not None else cells.attrs.get("run")
    if emerging is not None and len(emerging):
        emerging_run = emerging_run if emerging_run is not None else emerging.attrs.get("run")
    else:
        emerging_run = None
    if run is None and emerging_run is None:
        return "", ""
    towns = (dict(zip(townships["code"].astype(str), township_names(townships, lang), strict=True))
             if len(townships) and "code" in townships.columns else {})
    first = second = ""
    if run is not None:
        first = filters_caption(run.get("parameters"), lang, towns=towns, categories=categories)
    if emerging_run is not None:
        said = filters_caption(emerging_run.get("parameters"), lang, towns=towns, categories=categories)
        rid = emerging_run.get("id")
        second = (f"时空模式图层：第 {rid} 次分析 · {said}" if lang == "zh"
                  else f"Emerging patterns: run {rid} · {said}")
    return first, second


def write_hotspots_map(path: str | Path, cells: gpd.GeoDataFrame, townships: gpd.GeoDataFrame, *,
                       generated_at: datetime | None = None, **kw: Any) -> Path:
    """Write :func:`hotspots_map` to ``path`` (self-contained, offline), saying when (``generated_at``, default
    now); returns it."""
    return write_page(hotspots_map(cells, townships, **kw), path, kind="hotspots", lang=kw.get("lang", "zh"),
                      tz=kw.get("tz"), generated_at=generated_at)
