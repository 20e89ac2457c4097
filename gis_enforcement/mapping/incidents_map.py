"""Incidents by problem family on the township map — an interactive, self-contained (offline) Leaflet page.

One layer per problem category (toggled in the layer control), coloured by its problem family (盗采, 货车, 环境 …:
nine colours far apart, where eighteen category colours could not be told apart), with a legend of the
families' counts (a row toggles the family) and, folded under it, of the categories; township polygons labelled
with their names and incident counts above the points (and marked 示意边界 when they are synthetic); a Chinese
case summary, category first, in each point's popup.

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
from datetime import datetime
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from gis_enforcement.mapping.elements import (
    POPUP_JS,
    CompactPointLayer,
    LegendToggle,
    PointLayer,
    Raw,
    Script,
    TownshipLayer,
    figure_of,
    script_json,
)
from gis_enforcement.mapping.features import (
    COMPACT_ABOVE,
    compact_collections,
    point_collections,
    township_collection,
)
from gis_enforcement.mapping.legend import (
    CATEGORY_COLORS,
    FLAG_NAMES,
    STATUS_NAMES,
    UI,
    category_colors,
    category_info,
    family_legend_html,
    legend_html,
    title_html,
)
from gis_enforcement.mapping.offline import offline_map

__all__ = [
    "CATEGORY_COLORS",
    "category_colors",
    "incidents_map",
    "offline_map",
    "write_incidents_map",
]

_RADIUS = {"critical": 6.5, "high": 5.5, "medium": 5.0, "low": 4.5}

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
.gise-legend details { margin-top: 6px; border-top: 1px solid #e3e3e3; padding-top: 4px; }
.gise-legend summary { cursor: pointer; font-size: 12px; color: #333; user-select: none; }
.leaflet-tooltip.gise-town-label, .gise-callout-text.gise-town-label { background: transparent; border: none;
  box-shadow: none; padding: 0;
  font-family: FONT; font-size: 13px; font-weight: 700; color: #1f1f1f; text-align: center; white-space: nowrap;
  text-shadow: -1px -1px 0 #fff, 1px -1px 0 #fff, -1px 1px 0 #fff, 1px 1px 0 #fff, 0 0 3px #fff, 0 0 4px #fff; }
.gise-town-label small { display: block; font-size: 11px; font-weight: 600; color: #333; }
.leaflet-tooltip.gise-town-label::before { display: none; }
.gise-callout svg.gise-leader { position: absolute; left: 0; top: 0; overflow: visible; }
.gise-callout svg.gise-leader line { stroke: #333; stroke-width: 1.2; }
.gise-callout svg.gise-leader circle { fill: #333; }
.gise-callout .gise-callout-text { position: absolute; line-height: 1.25; }
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


#: on this map the township labels lie over dense points: a pale plate under the halo keeps them readable
_LABEL_PLATE = """
.leaflet-tooltip.gise-town-label, .gise-callout-text.gise-town-label { background: rgba(255,255,255,0.8);
  border-radius: 4px; padding: 1px 5px; box-shadow: 0 0 0 1px rgba(0,0,0,0.08); }
"""


# -- the map ----------------------------------------------------------------------------------------------
def incidents_map(
    incidents: gpd.GeoDataFrame,
    townships: gpd.GeoDataFrame,
    *,
    catalog: Any = None,
    title: str = "平谷区 巡查事件",
    lang: str = "zh",
    tiles: str | None = None,
    tz: str | None = None,
    color_by: str = "family",
) -> folium.Map:
    """Incidents coloured by problem family over labelled township polygons, as an offline folium map.

    ``incidents``: the store's export (``category`` and Point ``geometry`` required; ``id``, ``observed_at``,
    ``status``, ``township_name``, ``village_name``, ``grid_code``, ``flags`` (';'-joined),
    ``lead_department``, ``likely_duplicate_of``, ``description``, ``accuracy_m`` used when present).
    ``townships``: polygons with ``name`` (and ``synthetic`` — when any is true the map says 示意边界).
    ``catalog``: the loaded four lists, for category and department names, severity and category order.
    ``lang``: "zh" or "en". ``tiles``: None (no basemap, works offline) or a folium tile name such as
    "OpenStreetMap" (needs internet). ``tz``: the district's zone (``settings.timezone``; default
    Asia/Shanghai), in which times are shown. ``color_by``: "family" (the default: one colour per problem family,
    the legend's rows toggle a family, its fold lists the categories) or "category" (a colour per category).
    """
    if lang not in UI:
        raise ValueError(f"lang must be one of {sorted(UI)}")
    if color_by not in ("family", "category"):
        raise ValueError("color_by must be 'family' or 'category'")
    ui = UI[lang]
    inc = incidents
    if inc.crs is not None and inc.crs.to_epsg() != 4326:
        inc = inc.to_crs(4326)
    cats_present = pd.Series(inc["category"].astype(str)).value_counts() if len(inc) else pd.Series(
        dtype=int)
    order = [c for c in (catalog.categories if catalog is not None else []) if c in cats_present.index]
    order += sorted(c for c in cats_present.index if c not in order)
    info = category_info(list(catalog.categories) + [c for c in order if c not in catalog.categories]
                         if catalog is not None else order, catalog, lang)
    if color_by == "family":  # points, popups and the layer control in the family's colour
        info = {code: {**c, "color": c["familyColor"]} for code, c in info.items()}
    synthetic = bool("synthetic" in townships.columns
                     and townships["synthetic"].fillna(False).astype(bool).any())

    extent = townships if len(townships) else inc
    if extent.crs is not None and extent.crs.to_epsg() != 4326:
        extent = extent.to_crs(4326)
    x0, y0, x1, y1 = extent.total_bounds if len(extent) else (117.12, 40.2, 117.12, 40.2)
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=11, tiles=tiles, prefer_canvas=True,
                   control_scale=False, zoom_control=True)
    figure_of(m).header.add_child(Raw(f"<style>{_CSS}{_LABEL_PLATE}</style>"), name="gise_css")
    figure_of(m).title = html.escape(title)

    # lookups the popups need, once
    depts = {}
    if catalog is not None:
        depts = {code: (d.zh if lang == "zh" else d.en) for code, d in catalog.departments.items()}
    popup_keys = ("family", "time", "status", "place", "grid", "lead", "flags", "dup", "dup_text", "acc", "id",
                  "metres")
    popup_ui = {k: ui[k] for k in popup_keys}
    lookups = {"cats": info, "status": STATUS_NAMES[lang], "flags": FLAG_NAMES[lang], "depts": depts,
               "ui": popup_ui}
    compact = len(inc) > COMPACT_ABOVE  # a big season travels as columns, decoded in the page
    columns: dict[str, dict[str, Any]] = {}
    if compact:
        columns, lookups["compact"] = compact_collections(inc, order, tz=tz)
    m.add_child(Script(f"var GISE = {script_json(lookups)};\n{POPUP_JS}"))
    scale = "L.control.scale({position: 'bottomright', imperial: false})"
    m.add_child(Script(f"{scale}.addTo({m.get_name()});"))

    # townships
    counts: dict[str, int] = {}
    if "township_name" in inc.columns:
        counts = {str(k): int(v) for k, v in inc["township_name"].value_counts().items()}
    town_name = f"{ui['townships']}（{ui['synthetic']}）" if synthetic and lang == "zh" else (
        f"{ui['townships']} ({ui['synthetic']})" if synthetic else ui["townships"])
    town_group = folium.FeatureGroup(name=town_name, control=True, show=True)
    if len(townships):
        collection, labels = township_collection(townships, counts, ui["unit"], lang=lang)
        town_group.add_child(TownshipLayer(
            collection, labels,
            style={"color": "#7d7d7d", "weight": 1.2, "fillColor": "#ffffff", "fillOpacity": 0.55,
                   "dashArray": "4 3" if synthetic else None},
            outline={"color": "#3a3a3a", "weight": 2.6, "fill": False},
        ))
    m.add_child(town_group)

    # one layer per category, largest first in the layer control; coloured by family (or by category)
    groups: list[tuple[str, list[folium.FeatureGroup]]] = []
    rows: list[tuple[str, str, str, int]] = []
    families: dict[str, list[Any]] = {}  # family -> [name, colour, count, its category groups]
    if len(inc):
        collections = {} if compact else point_collections(inc, order, tz=tz)
        sizes = {k: len(columns[k]["x"]) if compact else len(collections[k]["features"]) for k in order}
        # most frequent first: later layers draw on top, so rare categories stay visible
        by_count = sorted(order, key=lambda k: -sizes[k])
        for code in by_count:
            count = sizes[code]
            c = info[code]
            radius = _RADIUS.get(c["sevCode"], 5.0)
            dot = f'<span class="gise-ctl-dot" style="background:{c["color"]}"></span>'
            # folium re-reads the layer control's script as a Jinja template: keep braces inert
            label = dot + html.escape(c["name"]).replace("{", "&#123;").replace("}", "&#125;")
            group = folium.FeatureGroup(name=label, show=True)
            style = {"radius": radius, "color": "#ffffff", "weight": 1, "opacity": 0.9, "fillColor": c["color"],
                     "fillOpacity": 0.88}
            group.add_child(CompactPointLayer(columns[code], code, style) if compact
                            else PointLayer(collections[code], code, style))
            m.add_child(group)
            key = f"k{len(rows)}"
            groups.append((key, [group]))
            rows.append((key, c["name"], c["color"], count))
            family = families.setdefault(c["family"], [c["familyName"], c["familyColor"], 0, []])
            family[2] += count
            family[3].append(group)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    figure_of(m).html.add_child(Raw(title_html(title, inc, len(rows), synthetic, lang, tz)))
    if rows and color_by == "family":
        ranked = sorted(families.items(), key=lambda kv: -kv[1][2])
        family_rows = [(f"f-{f}", name, color, n) for f, (name, color, n, _) in ranked]
        groups += [(f"f-{f}", members) for f, (_, _, _, members) in ranked]
        figure_of(m).html.add_child(Raw(family_legend_html(family_rows, rows, lang)))
        m.add_child(LegendToggle(groups))
    elif rows:
        figure_of(m).html.add_child(Raw(legend_html(rows, lang)))
        m.add_child(LegendToggle(groups))

    if len(extent):
        # room on the left for the legend, at the top for the title box
        m.fit_bounds([[y0, x0], [y1, x1]], padding_top_left=(300, 30), padding_bottom_right=(20, 20))
    return offline_map(m)


def write_incidents_map(path: str | Path, incidents: gpd.GeoDataFrame, townships: gpd.GeoDataFrame,
                        generated_at: datetime | None = None, **kw: Any) -> Path:
    """Write :func:`incidents_map` to ``path`` (an .html file, self-contained and offline), saying when
    (``generated_at``, default now); returns it."""
    from gis_enforcement.mapping.stamp import stamp_page  # (page.py shares this module's CSS: no cycle at import)

    m = incidents_map(incidents, townships, **kw)
    stamp_page(m, kind="incidents", lang=kw.get("lang", "zh"), tz=kw.get("tz"), generated_at=generated_at)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    m.save(str(path))
    return path
