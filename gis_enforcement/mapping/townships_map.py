"""The township choropleth — one metric per township, classed and shaded, offline Leaflet page.

Each township is filled by the class of its value (natural breaks or quantiles, by mapclassify) in a
ColorBrewer sequential palette: reds for incident density (more is worse), greens and blues for the resolution
and on-time rates (more is better). Townships without a value are grey and counted as 无数据 / No data. Labels
give the township's name and value; a popup its value and class; the legend each class's range and how many
townships fall in it. Like the other maps it takes data, not sessions, and inlines Leaflet (works offline).
:func:`township_metrics` builds the values frame from incidents, the township evaluation table and the on-time
table of :func:`township_on_time`.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from branca.utilities import color_brewer

from gis_enforcement.errors import InvalidInput
from gis_enforcement.mapping.elements import JsElement, Raw, TownshipLayer, _parent_of, figure_of, script_json
from gis_enforcement.mapping.features import township_collection, township_names
from gis_enforcement.mapping.offline import offline_map
from gis_enforcement.mapping.page import start_page, synthetic_townships, write_page

__all__ = ["METRICS", "NO_DATA_COLOR", "Classes", "classify", "township_metrics", "township_on_time",
           "townships_map", "write_townships_map"]

Scheme = Literal["natural_breaks", "quantiles"]


@dataclass(frozen=True)
class Metric:
    """How a metric is named, formatted and shaded: ``kind`` "rate" (a 0–1 fraction shown as %), "density"
    (one decimal) or "number"; ``palette`` a ColorBrewer sequential scheme, light = low."""

    zh: str
    en: str
    unit_zh: str
    unit_en: str
    kind: str
    palette: str


METRICS: Mapping[str, Metric] = {
    "incidents_per_km2": Metric("事件密度", "Incident density", "起/km²", "incidents/km²", "density", "YlOrRd"),
    # over whistled cases only: a township whose reports wait untouched still shows 100 %
    "resolution_rate": Metric("已吹哨案件解决率", "Resolution rate of whistled cases", "%", "%", "rate", "Greens"),
    "on_time_rate": Metric("报到及时率", "On-time report-in rate", "%", "%", "rate", "Blues"),
    # the township evaluation's own measures (:func:`township_metrics` carries every column of its table)
    "share_whistled": Metric("吹哨率", "Share of cases whistled", "%", "%", "rate", "Purples"),
    "triage_on_time_rate": Metric("分拣及时率", "Reports triaged in time", "%", "%", "rate", "Blues"),
    "untriaged_share": Metric("未处理上报占比", "Share of reports untriaged", "%", "%", "rate", "Reds"),
    "untriaged": Metric("未处理上报", "Untriaged reports", "件", "reports", "count", "Reds"),
    "whistle_on_time_rate": Metric("吹哨及时率", "Whistled in time", "%", "%", "rate", "Blues"),
    "review_on_time_rate": Metric("核查及时率", "Verified in time", "%", "%", "rate", "Blues"),
    "follow_up_on_time_rate": Metric("部门要求按期落实率", "Follow-ups done in time", "%", "%", "rate", "Blues"),
    "no_recurrence_rate": Metric("解决不反弹率", "Resolved without recurrence", "%", "%", "rate", "Greens"),
    "score": Metric("街乡得分", "Township score", "分", "points", "density", "Greens"),
}
#: the column holding the number of cases, reports or report-ins a metric rests on (else ``<metric>_n``)
N_COLUMNS: Mapping[str, str] = {"score": "cases"}
#: a rate on fewer than this many is marked 样本少 and ranked after the others (the evaluation's own threshold,
#: ``analysis.evaluation.MIN_RANKED_WHISTLES``)
MIN_N = 5
#: any other numeric column: its own name, plain numbers, a neutral sequential palette
_OTHER_PALETTE = "PuBu"
NO_DATA_COLOR = "#c9c9c9"
# Jenks natural breaks by Fisher's exact method: the same classes on every run (mapclassify.NaturalBreaks is k-means
# with a random start)
SCHEMES = {"natural_breaks": mapclassify.FisherJenks, "quantiles": mapclassify.Quantiles}
WORDS = {
    "zh": {"no_data": "无数据", "class": "分级", "townships": "乡镇边界", "rank": "排名（高 → 低）",
           "n": "样本数", "few": "样本少", "few_note": "样本少（n < {n}）：浅色，不排名",
           "sub": "{scheme}分级 {k} 级 · {n}/{total} 个乡镇有数据", "natural_breaks": "自然断点",
           "quantiles": "分位数", "title": "平谷区 各乡镇{label}",
           "synthetic": "乡镇边界为示意边界（合成数据，非官方），仅供演示"},
    "en": {"no_data": "No data", "class": "Class", "townships": "Townships", "rank": "Ranking (highest first)",
           "n": "n", "few": "few", "few_note": "few (n < {n}): pale, not ranked",
           "sub": "{scheme}, {k} classes · {n} of {total} townships with data",
           "natural_breaks": "natural breaks",
           "quantiles": "quantiles", "title": "Pinggu townships — {label}",
           "synthetic": "Township boundaries are illustrative (synthetic) — demo only"},
}


# -- classification -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Classes:
    """A classification: upper bounds ``bins`` (mapclassify's), the lowest value, and the class of each input
    value (-1 for a missing value)."""

    bins: np.ndarray
    lowest: float
    index: np.ndarray

    @property
    def k(self) -> int:
        return len(self.bins)

    def ranges(self) -> list[tuple[float, float]]:
        if self.k == 0:  # no township has a value
            return []
        lows = [self.lowest, *self.bins[:-1].tolist()]
        return list(zip(lows, self.bins.tolist(), strict=True))


def classify(values: Any, *, scheme: Scheme = "natural_breaks", k: int = 5) -> Classes:
    """Class ``values`` (NaN allowed, classed -1) into at most ``k`` classes by ``scheme``, using mapclassify
    as is; fewer classes when there are fewer distinct values."""
    if scheme not in SCHEMES:
        raise InvalidInput(f"scheme must be one of {sorted(SCHEMES)}", field="scheme")
    if not isinstance(k, int | np.integer) or not 1 <= k <= 9:
        raise InvalidInput("k must be an integer from 1 to 9", field="k")
    y = np.asarray(values, dtype=float)
    ok = np.isfinite(y)
    index = np.full(len(y), -1, dtype=int)
    if not ok.any():
        return Classes(np.zeros(0), float("nan"), index)
    distinct = len(np.unique(y[ok]))
    if distinct == 1:
        index[ok] = 0
        return Classes(np.array([y[ok][0]]), float(y[ok][0]), index)
    with warnings.catch_warnings():  # Fisher-Jenks on a few dozen townships needs no numba
        warnings.filterwarnings("ignore", message="Numba not installed")
        classifier = SCHEMES[scheme](y[ok], k=min(k, distinct))
    index[ok] = np.asarray(classifier.yb, dtype=int)
    return Classes(np.asarray(classifier.bins, dtype=float), float(y[ok].min()), index)


def _palette(name: str, n: int) -> list[str]:
    if n >= 3:
        return list(color_brewer(name, n))
    three = color_brewer(name, 3)
    return [three[1]] if n == 1 else [three[0], three[2]]


def _formatter(kind: str) -> Any:
    if kind == "rate":
        return lambda v: f"{100 * v:.1f}%"
    if kind == "density":
        return lambda v: f"{v:,.1f}"
    if kind == "count":
        return lambda v: f"{v:,.0f}"
    return lambda v: f"{v:,.2f}".rstrip("0").rstrip(".")


def _class_range(members: np.ndarray, fmt: Any) -> str:
    """A legend class from its lowest to its highest member, or the one value when they read the same."""
    lo, hi = fmt(float(np.min(members))), fmt(float(np.max(members)))
    return lo if lo == hi else f"{lo} – {hi}"


# -- the page -------------------------------------------------------------------------------------------------
class ChoroplethLayer(JsElement):
    """The townships as one GeoJSON layer filled with each one's class colour, popups built on click."""

    def __init__(self, collection: dict[str, Any], words: Mapping[str, str]):
        super().__init__()
        self._name = "GiseChoropleth"
        self.data = script_json(collection)
        self.words = script_json(dict(words))

    def js(self) -> str:
        return f"""
var {self.get_name()} = (function () {{
  var w = {self.words};
  function esc(s) {{ return String(s).replace(/[&<>"']/g, function (c) {{
    return {{'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}}[c]; }}); }}
  return L.geoJSON({self.data}, {{
    style: function (f) {{
      return {{fillColor: f.properties.color,
               fillOpacity: f.properties.cls === null ? 0.55 : (f.properties.few ? 0.3 : 0.78),
               color: '#ffffff', weight: 0.8}};
    }},
    onEachFeature: function (f, layer) {{
      layer.bindPopup(function () {{
        var p = f.properties;
        var rows = [[w.metric, p.text], [w.cls, p.cls === null ? w.no_data :
                      (p.cls + 1) + ' / ' + p.k + ' · ' + p.range]];
        if (p.n !== null && p.n !== undefined) {{ rows.push([w.n, p.n + (p.few ? ' · ' + w.few : '')]); }}
        return '<div class="gise-popup"><div class="hd" style="border-left-color:' + p.color + '">' +
          esc(p.name) + '</div><table>' + rows.map(function (r) {{
            return '<tr><th>' + esc(r[0]) + '</th><td>' + esc(r[1]) + '</td></tr>'; }}).join('') +
          '</table><div class="id">' + esc(p.code) + '</div></div>';
      }});
      layer.on('mouseover', function () {{ layer.setStyle({{weight: 2.5, color: '#333'}}); }});
      layer.on('mouseout', function () {{ layer.setStyle({{weight: 0.8, color: '#ffffff'}}); }});
    }}
  }}).addTo({_parent_of(self).get_name()});
}})();
"""


def _legend(title: str, rows: list[tuple[str, str, int]], note: str = "") -> str:
    body = "".join(
        f'<div class="row"><span class="dot" style="border-radius:2px;background:{color}"></span>'
        f'<span class="name">{html.escape(text)}</span><span class="n">{n:,}</span></div>'
        for color, text, n in rows)
    foot = f'<div class="fewnote">{html.escape(note)}</div>' if note else ""
    return f'<div class="gise-box gise-legend gise-choro"><div class="hd">{html.escape(title)}</div>{body}{foot}</div>'


def _ranking(title: str, names: list[str], features: list[dict[str, Any]], few_word: str) -> str:
    """The townships with a value, highest first: rank, class colour, name, value and the n it rests on — what
    a reader of the map asks first, and the only place a small township's value is read without zooming. A
    value on too few (``few``) is listed after the ranked ones, marked ``few_word``, without a rank."""
    props = [f["properties"] for f in features]
    ranked = sorted((i for i, p in enumerate(props) if p["value"] is not None),
                    key=lambda i: (bool(props[i]["few"]), -props[i]["value"], names[i]))
    rows, r, prev = [], 0, None
    for place, i in enumerate(ranked, start=1):
        p = props[i]
        if not p["few"] and p["value"] != prev:  # ties share the better rank
            r, prev = place, p["value"]
        k = html.escape(few_word) if p["few"] else str(r)
        n = f'<span class="c">n={p["n"]:,}</span>' if p["n"] is not None else ""
        rows.append(f'<div class="row{" few" if p["few"] else ""}" data-code="{html.escape(p["code"])}">'
                    f'<span class="k">{k}</span>'
                    f'<span class="dot" style="border-radius:2px;background:{p["color"]}"></span>'
                    f'<span class="name">{html.escape(names[i])}</span>'
                    f'<span class="n">{html.escape(p["text"])}</span>{n}</div>')
    return (f'<div class="gise-box gise-legend gise-rank"><div class="hd">{html.escape(title)}</div>'
            f'{"".join(rows)}</div>')


_EXTRA_CSS = """
.gise-choro { min-width: 190px; }
.gise-choro .row { cursor: default; }
.gise-choro .name { font-variant-numeric: tabular-nums; }
.gise-town-label small { font-weight: 600; color: #222; }
.gise-rank { top: 70px; right: 12px; bottom: auto; left: auto; min-width: 0; font-size: 12px; padding: 8px 10px; }
.gise-rank .hd { font-size: 12px; margin-bottom: 4px; }
.gise-rank .row { margin: 1px 0; cursor: default; }
.gise-rank .k { flex: none; width: 18px; color: #666; text-align: right; margin-right: 6px;
  font-variant-numeric: tabular-nums; }
.gise-rank .dot { width: 10px; height: 10px; }
.gise-rank .name { margin-right: 10px; }
.gise-rank .n { width: auto; min-width: 34px; }
.gise-rank .c { color: #777; margin-left: 6px; min-width: 44px; text-align: right; font-variant-numeric: tabular-nums; }
.gise-rank .few { color: #888; }
.gise-rank .few .k { width: auto; font-size: 10px; }
.gise-choro .fewnote { color: #666; font-size: 11px; margin-top: 4px; }
"""


def townships_map(townships: gpd.GeoDataFrame, values: pd.DataFrame, *, metric: str,
                  scheme: Scheme = "natural_breaks", k: int = 5, title: str | None = None, subtitle: str = "",
                  lang: str = "zh", tiles: str | None = None, min_n: int = MIN_N) -> folium.Map:
    """A choropleth of ``metric`` (a column of ``values``, keyed by ``township_code``) over the township
    polygons (``code``, ``name``, optional ``synthetic``; any CRS), as an offline folium map. Known metrics
    (:data:`METRICS`) get their Chinese/English names, units and palettes, rates being 0–1 fractions shown as
    %; any other numeric column is drawn by its name. Where ``values`` has the number the metric rests on
    (:data:`N_COLUMNS`, else ``<metric>_n``), it is shown beside each value (label, popup, ranking), and a
    value on fewer than ``min_n`` is pale, marked 样本少 and ranked after the others. Each legend class reads
    from its lowest to its highest member (one value when they are equal), so classes never overlap. Raises
    ``InvalidInput`` for an unknown metric, scheme, ``k`` or ``lang``."""
    if lang not in WORDS:
        raise InvalidInput(f"lang must be one of {sorted(WORDS)}", field="lang")
    if "township_code" not in values.columns:
        raise InvalidInput("values need a township_code column", field="values")
    numeric = [c for c in values.columns if c != "township_code" and pd.api.types.is_numeric_dtype(values[c])
               and not pd.api.types.is_bool_dtype(values[c])]
    if metric not in numeric:
        raise InvalidInput(f"unknown metric {metric!r}; numeric columns are {numeric}", field="metric")
    codes_in = values["township_code"].astype(str)
    if codes_in.duplicated().any():
        raise InvalidInput("township_code repeats in values", field="values")
    words = WORDS[lang]
    known = METRICS.get(metric)
    label = (known.zh if lang == "zh" else known.en) if known else metric
    unit = (known.unit_zh if lang == "zh" else known.unit_en) if known else ""
    fmt = _formatter(known.kind if known else "number")

    towns = townships.to_crs(4326) if townships.crs is not None else townships
    towns = towns[~(shapely.is_missing(towns.geometry.values) | shapely.is_empty(towns.geometry.values))]
    by_code = pd.Series(values[metric].to_numpy(dtype=float), index=codes_in)
    y = towns["code"].astype(str).map(by_code).to_numpy(dtype=float)
    n_column = N_COLUMNS.get(metric, f"{metric}_n")
    n_of = (pd.Series(pd.to_numeric(values[n_column], errors="coerce").to_numpy(dtype=float), index=codes_in)
            if n_column in values.columns else None)
    ns = towns["code"].astype(str).map(n_of).to_numpy(dtype=float) if n_of is not None else np.full(len(towns), np.nan)
    classes = classify(y, scheme=scheme, k=k)
    colors = _palette(known.palette if known else _OTHER_PALETTE, max(classes.k, 1))
    ranges = [_class_range(y[classes.index == c], fmt) for c in range(classes.k)]

    geoms = shapely.set_precision(towns.geometry.values, 1e-6)
    popup_names = [str(n) for n in towns["name"]] if lang == "zh" else township_names(towns, lang)
    features = []
    for i, g in enumerate(geoms):
        c = int(classes.index[i])
        value = float(y[i]) if np.isfinite(y[i]) else None
        n = int(ns[i]) if value is not None and np.isfinite(ns[i]) else None
        props = {"code": str(towns["code"].iat[i]), "name": popup_names[i], "value": value,
                 "cls": c if c >= 0 else None, "k": classes.k, "color": colors[c] if c >= 0 else NO_DATA_COLOR,
                 "text": words["no_data"] if value is None else fmt(value), "range": ranges[c] if c >= 0 else "",
                 "n": n, "few": n is not None and n < min_n}
        features.append({"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(g)})

    x0, y0, x1, y1 = towns.total_bounds if len(towns) else (117.12, 40.2, 117.12, 40.2)
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=11, tiles=tiles, prefer_canvas=True,
                   zoom_snap=0.25, zoom_delta=0.5)
    title = title if title is not None else words["title"].format(label=label)
    start_page(m, title=title, css=_EXTRA_CSS)

    heading = f"{label}（{unit}）" if unit and lang == "zh" else (f"{label} ({unit})" if unit else label)
    choro = folium.FeatureGroup(name=heading, show=True)
    popup_words = {"metric": heading, "cls": words["class"], "no_data": words["no_data"], "n": words["n"],
                   "few": words["few"]}
    choro.add_child(ChoroplethLayer({"type": "FeatureCollection", "features": features}, popup_words))
    m.add_child(choro)
    synthetic = synthetic_townships(towns)
    if len(towns):
        collection, labels = township_collection(towns, {}, "", lang=lang)
        # labels come in the order of the (non-empty) townships: add each one's value under its name
        for lab, f in zip(labels, features, strict=True):
            p = f["properties"]
            n_text = f" · n={p['n']:,}" if p["n"] is not None else ""
            lab[2] = f"{lab[2]}<small>{html.escape(p['text'] + n_text)}</small>"
        outline_group = folium.FeatureGroup(name=words["townships"], show=True)
        outline_group.add_child(TownshipLayer(
            collection, labels, style={"color": "#6b6b6b", "weight": 0.8, "fill": False,
                                       "dashArray": "4 3" if synthetic else None},
            outline={"color": "#2b2b2b", "weight": 2.4, "fill": False}))
        m.add_child(outline_group)
    folium.LayerControl(collapsed=True, position="topright").add_to(m)

    n_data = int((classes.index >= 0).sum())
    sub = words["sub"].format(scheme=words[scheme], k=classes.k, n=n_data, total=len(towns))
    note = f'<div class="note">⚠ {html.escape(words["synthetic"])}</div>' if synthetic else ""
    figure_of(m).html.add_child(Raw(
        f'<div class="gise-box gise-title"><h1>{html.escape(title)}</h1><div class="sub">{html.escape(sub)}</div>'
        + (f'<div class="sub">{html.escape(subtitle)}</div>' if subtitle else "") + note + "</div>"))
    counts = np.bincount(classes.index[classes.index >= 0], minlength=classes.k)
    rows = [(colors[c], ranges[c], int(counts[c])) for c in reversed(range(classes.k))]
    if n_data < len(towns):
        rows.append((NO_DATA_COLOR, words["no_data"], len(towns) - n_data))
    few = any(f["properties"]["few"] for f in features)
    figure_of(m).html.add_child(Raw(_legend(heading, rows, words["few_note"].format(n=min_n) if few else "")))
    if n_data:
        figure_of(m).html.add_child(Raw(_ranking(words["rank"], township_names(towns, lang), features,
                                                 words["few"])))
    if len(towns):
        m.fit_bounds([[y0, x0], [y1, x1]], padding_top_left=(40, 90), padding_bottom_right=(20, 20))
    return offline_map(m)


def write_townships_map(path: str | Path, townships: gpd.GeoDataFrame, values: pd.DataFrame, *,
                        tz: str | None = None, generated_at: datetime | None = None, **kw: Any) -> Path:
    """Write :func:`townships_map` to ``path`` (self-contained, offline), saying when (``generated_at``, default
    now, in the district's zone ``tz``); returns it."""
    page = townships_map(townships, values, **kw)  # build first: nothing is half-written on bad input
    return write_page(page, path, kind="townships", lang=kw.get("lang", "zh"), tz=tz, generated_at=generated_at)


# -- the values -----------------------------------------------------------------------------------------------
#: assignment statuses of a department stood down (a decline accepted, a release)
_STOOD_DOWN = ("declined", "released")


def township_on_time(assignments: pd.DataFrame, *, as_of: datetime) -> pd.DataFrame:
    """Per township of the case (``township_code``): ``on_time_rate`` (报到及时率) = assignments reported in at
    or before their deadline / assignments expected to report in — summoned, less those stood down at or before
    the deadline without a check-in and those whose deadline is still ahead at ``as_of`` (the evaluation's
    on-time rate, counted by the case's township), NaN where none was expected, and ``on_time_rate_n``, the
    number expected (the n the rate rests on). ``assignments`` has the columns
    of the evaluation's assignments (``township_code``, ``status``, ``report_in_due``, ``reported_in_at``,
    ``stood_down_at``)."""
    columns = ("township_code", "status", "report_in_due", "reported_in_at", "stood_down_at")
    if assignments.empty or any(c not in assignments.columns for c in columns):
        return pd.DataFrame({"township_code": pd.Series(dtype=str), "on_time_rate": pd.Series(dtype=float),
                             "on_time_rate_n": pd.Series(dtype="int64")})
    a = assignments[assignments["township_code"].notna()]
    due = pd.to_datetime(a["report_in_due"], utc=True)
    came = pd.to_datetime(a["reported_in_at"], utc=True)
    down = pd.to_datetime(a["stood_down_at"], utc=True)
    reported = came.notna()
    excused = ~reported & a["status"].isin(_STOOD_DOWN) & (down <= due)
    pending = ~reported & ~excused & (due > pd.Timestamp(as_of))
    frame = pd.DataFrame({"township_code": a["township_code"].astype(str),
                          "expected": (~excused & ~pending).astype(int),
                          "on_time": (reported & (came <= due)).astype(int)})
    sums = frame.groupby("township_code", sort=True)[["expected", "on_time"]].sum()
    rate = (sums["on_time"] / sums["expected"].astype(float)).where(sums["expected"] > 0)
    return pd.DataFrame({"township_code": sums.index.astype(str), "on_time_rate": rate.to_numpy(dtype=float),
                         "on_time_rate_n": sums["expected"].to_numpy(dtype="int64")})


def township_metrics(townships: gpd.GeoDataFrame, incidents: pd.DataFrame | None,
                     evaluation: pd.DataFrame | None = None, on_time: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
    """Per township (``township_code``, ``name``): ``area_km2`` (in EPSG:4548), ``incidents`` (rows of
    ``incidents`` by ``township_code``), ``incidents_per_km2``, ``on_time_rate`` and ``on_time_rate_n`` from
    ``on_time`` (``township_code``, ``on_time_rate``[, ``on_time_rate_n``]) or, failing that, from the
    evaluation table, and every other numeric column of the township evaluation table (``resolution_rate``,
    ``share_whistled``, ``triage_on_time_rate``, ``untriaged``, ``score`` …, each rate with its ``<rate>_n``),
    so each of its measures can be mapped; NaN where a table has no row for the township."""
    towns = townships if townships.crs is not None else townships.set_crs(4326)
    codes = towns["code"].astype(str).reset_index(drop=True)
    out = pd.DataFrame({"township_code": codes, "name": towns["name"].astype(str).to_numpy(),
                        "area_km2": towns.to_crs(4548).geometry.area.to_numpy() / 1e6})
    counts = (incidents["township_code"].dropna().astype(str).value_counts()
              if incidents is not None and "township_code" in incidents.columns else pd.Series(dtype=int))
    out["incidents"] = codes.map(counts).fillna(0).astype(int)
    out["incidents_per_km2"] = out["incidents"] / out["area_km2"].where(out["area_km2"] > 0)

    def column(table: pd.DataFrame | None, name: str) -> pd.Series | None:
        if table is None or name not in table.columns or "township_code" not in table.columns:
            return None
        s = pd.Series(pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float),
                      index=table["township_code"].astype(str))
        return s[~s.index.duplicated()]

    on_time_from = on_time if column(on_time, "on_time_rate") is not None else evaluation
    table_ = evaluation if evaluation is not None else pd.DataFrame()
    carried = [c for c in table_.columns
               if c not in out.columns and c not in ("on_time_rate", "on_time_rate_n")
               and pd.api.types.is_numeric_dtype(table_[c]) and not pd.api.types.is_bool_dtype(table_[c])]
    for name, table in (("resolution_rate", evaluation), ("on_time_rate", on_time_from),
                        ("on_time_rate_n", on_time_from), *((c, evaluation) for c in carried)):
        if name in out.columns:
            continue
        source = column(table, name)
        if source is not None or name in ("resolution_rate", "on_time_rate"):
            out[name] = codes.map(source).astype(float) if source is not None else np.nan
    return out
