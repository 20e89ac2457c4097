"""The status map: where the cases are and how far each has come — the township head's and supervisor's screen.

Every case is a mark coloured by its resolution status (red: reported, nobody whistled yet; orange: whistled,
departments not all there; amber: in action; blue: resolved, waiting for the township to verify; green:
closed; magenta: reopened; grey: rejected or a duplicate; a red outline: a likely duplicate of an earlier report
nobody has whistled yet, 疑似重复 — once whistled or closed it is coloured by that status) and shaped by its
problem family (▲ mining, ■ trucks, ● environment, ◆ building …); a dark ring says a department reported in
late. The layer control filters by status, category and month; the time slider at the bottom shows a window of
days and plays the season through; the legend counts what is on screen (on a window too narrow for both side by
side, it moves up above the slider). A click gives the case's summary and its timeline
(observed → whistled → first report-in → the lead's result → closed, with the delays).

All cases are drawn on one canvas from packed columns (:mod:`gis_enforcement.mapping.packing`,
``js/status_layer.js``): no object per case, so 100 k cases build in well under a second and first-paint in
headless Chromium in a fraction of one. Offline: Leaflet is inlined, nothing is fetched.
"""

from __future__ import annotations

import html
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from gis_enforcement.domain.names import short_village
from gis_enforcement.mapping.basemaps import (
    Basemap,
    add_basemap,
    labels_in_datum,
    lonlat_in_datum,
    to_basemap_datum,
)
from gis_enforcement.mapping.elements import JsElement, Raw, _parent_of, figure_of, script_json
from gis_enforcement.mapping.features import _short_name, local_times, township_collection
from gis_enforcement.mapping.legend import FAMILY_NAMES, FLAG_NAMES, STATUS_NAMES, category_info, family_of, short_names
from gis_enforcement.mapping.offline import offline_map
from gis_enforcement.mapping.packing import codes_of, pack_cases
from gis_enforcement.mapping.page import add_townships, start_page, synthetic_townships, write_page

__all__ = ["FAMILY_SHAPES", "STATUS_GROUPS", "case_groups", "status_map", "write_status_map"]

#: (key, statuses, colour, fill opacity, draw order — higher is drawn later, on top). ``suspect`` holds no status
#: of its own: it is a case still waiting (``reported``/``triaged``) that intake marked as a likely duplicate of an
#: earlier report (``likely_duplicate_of``) — drawn hollow, in the waiting red, until somebody whistles, rejects or
#: closes it; a likely duplicate that moved on is counted and coloured by its real status (its popup still says
#: 疑似重复).
STATUS_GROUPS: tuple[tuple[str, tuple[str, ...], str, float, int], ...] = (
    ("waiting", ("reported", "triaged"), "#d7191c", 0.95, 7),
    ("suspect", (), "#d7191c", 0.95, 1),
    ("reopened", ("reopened",), "#c51b7d", 0.95, 6),
    ("whistled", ("whistled",), "#f07c19", 0.95, 5),
    ("in_action", ("in_action",), "#d9a600", 0.95, 4),
    ("resolved", ("resolved",), "#2c7fb8", 0.9, 3),
    ("closed", ("verified", "closed"), "#1a9641", 0.75, 2),
    ("dropped", ("rejected", "duplicate"), "#9a9a9a", 0.55, 0),
)
#: beyond this distance (m) a case's village is not where it is but the nearest one: the popup says so, with the
#: distance (``village_distance_m`` of the case-status frame)
FAR_VILLAGE_M = 1000.0
#: groups drawn as an outline only (the legend's dot likewise)
HOLLOW_GROUPS = frozenset({"suspect"})
#: the group a likely duplicate of an earlier report is shown in, by the group of its status
SUSPECT_OF = {"waiting": "suspect"}
GROUP_NAMES = {
    "zh": {"waiting": "已上报 · 待吹哨", "suspect": "疑似重复 · 待核", "reopened": "重新打开",
           "whistled": "已吹哨 · 待报到", "in_action": "执法中", "resolved": "已处置 · 待核验",
           "closed": "已核验 / 结案", "dropped": "不予受理 / 重复"},
    "en": {"waiting": "Reported, not whistled", "suspect": "Likely duplicate, not whistled", "reopened": "Reopened",
           "whistled": "Whistled, awaiting report-in", "in_action": "In action", "resolved": "Resolved, to verify",
           "closed": "Verified / closed", "dropped": "Rejected / duplicate"},
}
#: problem family (:func:`~.legend.family_of`, named in :data:`~.legend.FAMILY_NAMES`) → shape in
#: js/status_layer.js (0 ● 1 ▲ 2 ■ 3 ◆ 4 ▼ 5 ⬟ 6 ⬢ 7 ★ 8 ✚)
FAMILY_SHAPES = {"ENV": 0, "MIN": 1, "TRK": 2, "CON": 3, "WATER": 4, "LAND": 5, "MKT": 6, "SAFE": 7, "FOR": 8}
WORDS = {
    "zh": {"status": "状态", "place": "位置", "nearVillage": "最近村：{v}（{km} 公里）",
           "lead": "主责部门", "flags": "提示", "dup": "疑似重复",
           "dupText": "与已报事件相近", "acc": "定位精度", "m": "米", "observed": "发现", "whistled": "吹哨",
           "firstIn": "首个报到", "reportIn": "报到", "done": "主责处置", "closed": "结案", "depts": "个部门已报到",
           "late": "个迟到", "min": "分钟", "hours": "小时", "days": "天", "id": "编号", "all": "全选", "none": "清空",
           "statusSection": "处置状态", "categorySection": "问题类别", "monthSection": "月份", "allDays": "全部日期",
           "play": "播放", "pause": "暂停",
           # page texts
           "legend": "处置状态（点击显示/隐藏）", "shapes": "形状 = 问题类别", "ring": "黑圈：有部门迟到报到",
           "total": "共", "unit": "起", "shown": "显示", "open": "未结", "closedN": "已结", "lateN": "迟到",
           "window": "时间窗", "day": "日期", "win0": "全部", "win7": "7 天", "win30": "30 天", "win90": "90 天",
           "none_cases": "暂无事件", "synthetic_note": "乡镇边界为示意边界（合成数据，非官方），仅供演示",
           "townships": "乡镇边界", "synthetic": "示意边界"},
    "en": {"status": "Status", "place": "Place", "nearVillage": "nearest village: {v} ({km} km)",
           "lead": "Lead department", "flags": "Flags", "dup": "Likely duplicate",
           "dupText": "close to an earlier report", "acc": "GPS accuracy", "m": "m", "observed": "Observed",
           "whistled": "Whistled", "firstIn": "First report-in", "reportIn": "Report-in", "done": "Lead's result",
           "closed": "Closed", "depts": "departments reported in", "late": "late", "min": "min", "hours": "h",
           "days": "d", "id": "ID", "all": "all", "none": "none", "statusSection": "Status",
           "categorySection": "Category", "monthSection": "Month", "allDays": "all dates", "play": "Play",
           "pause": "Pause",
           "legend": "Status (click to show/hide)", "shapes": "Shape = problem family",
           "ring": "dark ring: a department reported in late", "total": "", "unit": "cases", "shown": "shown",
           "open": "open", "closedN": "closed", "lateN": "late", "window": "Window", "day": "Day", "win0": "all",
           "win7": "7 days", "win30": "30 days", "win90": "90 days", "none_cases": "no cases",
           "synthetic_note": "Township boundaries are illustrative (synthetic, not official) — demo only",
           "townships": "Townships", "synthetic": "illustrative"},
}
_OPEN_GROUPS = ("waiting", "suspect", "reopened", "whistled", "in_action", "resolved")

_CSS = """
.gise-legend .row[data-group] { border-radius: 4px; padding: 1px 3px; }
.gise-legend .row[data-group]:focus { outline: 2px solid #1f5fbf; }
.gise-legend .sec { margin-top: 8px; font-weight: 700; font-size: 12px; color: #444; }
.gise-legend .shapes { display: grid; grid-template-columns: repeat(3, auto); gap: 2px 10px; font-size: 12px; }
.gise-legend .shapes span { display: inline-flex; align-items: center; white-space: nowrap; }
.gise-legend .ring { display: inline-block; width: 9px; height: 9px; border-radius: 50%; border: 2px solid #111;
  margin-right: 6px; vertical-align: -2px; }
.gise-legend .hint { margin-top: 6px; font-size: 12px; color: #333; }
.gise-ctl-shape { display: inline-block; width: 12px; height: 12px; margin: 0 4px 0 2px; vertical-align: -2px; }
.gise-sec { display: flex; align-items: center; margin: 6px 0 2px; padding-top: 4px; border-top: 1px solid #ddd;
  font-weight: 700; color: #333; }
.gise-sec span { flex: 1 1 auto; }
.gise-sec-btn { margin-left: 4px; font-size: 11px; padding: 0 6px; border: 1px solid #bbb; border-radius: 8px;
  background: #fafafa; cursor: pointer; color: #222; }
.leaflet-control-layers-overlays { max-height: 60vh; overflow-y: auto; }
.gise-time { bottom: 24px; left: 50%; transform: translateX(-50%); padding: 8px 14px; display: flex;
  align-items: center; gap: 10px; font-size: 13px; max-width: calc(100% - 24px); box-sizing: border-box; }
.gise-time button { width: 34px; height: 34px; border-radius: 50%; border: 1px solid #888; background: #fff;
  font-size: 14px; cursor: pointer; color: #222; }
.gise-time input[type=range] { width: 260px; min-width: 60px; flex: 0 1 260px; }
.gise-time select { font-size: 13px; padding: 3px; }
.gise-time #gise-days { min-width: 190px; font-variant-numeric: tabular-nums; font-weight: 600; }
.gise-popup { min-width: 300px; }
.gise-popup .st { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 5px; }
.gise-popup .tl { list-style: none; margin: 8px 0 0; padding: 0 0 0 10px; border-left: 2px solid #ccc; }
.gise-popup .tl li { position: relative; margin: 2px 0; display: flex; gap: 8px; }
.gise-popup .tl li::before { content: ''; position: absolute; left: -15px; top: 6px; width: 8px; height: 8px;
  border-radius: 50%; background: #666; }
.gise-popup .tl .k { flex: none; width: 66px; color: #555; white-space: nowrap; }
.gise-popup .tl .t { flex: none; font-variant-numeric: tabular-nums; white-space: nowrap; }
.gise-popup .tl .d { color: #666; font-size: 12px; }
.gise-popup .late { color: #b2182b; }
"""


class CaseLayer(JsElement):
    """The canvas layer and its controls (``js/status_layer.js``), given the packed cases."""

    def __init__(self, data: dict[str, Any]):
        super().__init__()
        self._name = "GiseCaseLayer"
        self.data = script_json(data)

    def js(self) -> str:
        code = resources.files("gis_enforcement.mapping").joinpath("js/status_layer.js").read_text(encoding="utf-8")
        return f"var GISE_CASES = {self.data};\n{code}\ngiseStatusPage({_parent_of(self).get_name()}, GISE_CASES);\n"


def status_map(cases: pd.DataFrame, townships: gpd.GeoDataFrame, *, catalog: Any = None,
               title: str = "平谷区 案件处置状态", subtitle: str = "", lang: str = "zh",
               basemap: Basemap | None = None, tz: str | None = None) -> folium.Map:
    """Cases coloured by status and shaped by problem family over the townships, with filters and a time slider.

    ``cases``: the store's case-status frame (:func:`gis_enforcement.storage.map_repo.case_status_frame`;
    ``lon``, ``lat``, ``category``, ``status``, ``observed_at`` required, the chain's milestones used when
    present). ``townships``: polygons with ``name``. ``catalog``: the four lists (category names, severity,
    department names). ``tz``: the district's zone the times, days and months are shown in (default
    Asia/Shanghai)."""
    if lang not in WORDS:
        raise ValueError(f"lang must be one of {sorted(WORDS)}")
    w = WORDS[lang]
    cases = cases[cases["lon"].notna() & cases["lat"].notna()].reset_index(drop=True)
    known = list(catalog.categories) if catalog is not None else []
    codes = known + sorted(set(cases["category"].astype(str)) - set(known))
    info = category_info(codes, catalog, lang)
    short = short_names({c: info[c]["name"] for c in codes})
    statuses = [s for _, group, *_ in STATUS_GROUPS for s in group]
    statuses += sorted(set(cases["status"].astype(str)) - set(statuses))
    group_index = {key: k for k, (key, *_) in enumerate(STATUS_GROUPS)}
    status_group = {s: group_index[key] for key, group, *_ in STATUS_GROUPS for s in group}
    suspect_group = {group_index[k]: group_index[v] for k, v in SUSPECT_OF.items()}
    frame = cases
    if basemap is not None and basemap.datum != "wgs84":  # AMap/Tencent tiles are GCJ-02: draw the cases there
        x, y = lonlat_in_datum(cases["lon"].to_numpy(dtype=float), cases["lat"].to_numpy(dtype=float), basemap)
        frame = frame.assign(lon=x, lat=y)
    if catalog is not None and "lead_department" in frame.columns:
        names = {code: (d.zh if lang == "zh" else d.en) for code, d in catalog.departments.items()}
        codes_, uniques = pd.factorize(frame["lead_department"], use_na_sentinel=True)
        named = np.array([names.get(str(u), str(u)) for u in uniques] + [None], dtype=object)
        frame = frame.assign(lead_department=named[codes_])
    data = pack_cases(frame, categories=codes, statuses=statuses,
                      shorten={"tw": _short_name, "v": short_village}, tz=tz)
    counts = cases["category"].astype(str).value_counts()
    present = [c for c in codes if c in counts.index]
    data.update({
        "words": {k: w[k] for k in WORDS["zh"] if k in w},
        "cats": [{"code": c, "name": info[c]["name"], "short": short[c], "sev": info[c]["sev"],
                  "sevCode": info[c]["sevCode"], "shape": FAMILY_SHAPES.get(family_of(c), 0)} for c in codes],
        "catOrder": [codes.index(c) for c in sorted(present, key=lambda c: -int(counts[c]))],
        "statuses": [{"code": s, "name": STATUS_NAMES[lang].get(s, s), "group": status_group.get(s, 0),
                      "dupGroup": suspect_group.get(status_group.get(s, 0), status_group.get(s, 0))}
                     for s in statuses],
        "groups": [{"key": key, "name": GROUP_NAMES[lang][key], "color": color, "alpha": alpha, "z": z,
                    "hollow": key in HOLLOW_GROUPS}
                   for key, _, color, alpha, z in STATUS_GROUPS],
        "groupOrder": list(range(len(STATUS_GROUPS))),
        "flagNames": FLAG_NAMES[lang],
        "farVillage": FAR_VILLAGE_M,
    })

    extent = townships.to_crs(4326) if len(townships) and townships.crs is not None else townships
    if len(extent):
        x0, y0, x1, y1 = extent.total_bounds
    elif len(cases):
        x0, y0, x1, y1 = cases["lon"].min(), cases["lat"].min(), cases["lon"].max(), cases["lat"].max()
    else:
        x0, y0, x1, y1 = 117.0, 40.1, 117.3, 40.3
    m = folium.Map(location=[(y0 + y1) / 2, (x0 + x1) / 2], zoom_start=11, tiles=None, control_scale=False)
    start_page(m, title=title, css=_CSS)
    add_basemap(m, basemap)
    synthetic = synthetic_townships(townships) if len(townships) else False
    if len(townships):
        collection, labels = township_collection(townships, {}, "", lang=lang)
        add_townships(m, townships, name=f"{w['townships']}（{w['synthetic']}）" if synthetic else w["townships"],
                      collection=(to_basemap_datum(collection, basemap), labels_in_datum(labels, basemap)),
                      lang=lang)
    m.add_child(CaseLayer(data))
    page = figure_of(m).html
    page.add_child(Raw(_title_box(cases, title, subtitle, synthetic, w, group_index)))
    page.add_child(Raw(_legend(cases, w, lang, present)))
    page.add_child(Raw(_time_bar(data["days"], w)))
    m.fit_bounds([[y0, x0], [y1, x1]], padding_top_left=(280, 40), padding_bottom_right=(20, 70))
    return offline_map(m)


def case_groups(cases: pd.DataFrame) -> np.ndarray:
    """The index in :data:`STATUS_GROUPS` each case is coloured and counted by: its status's group, except a
    likely duplicate still waiting, which is 疑似重复 (``suspect``) — as ``js/status_layer.js`` draws them."""
    group_index = {key: k for k, (key, *_) in enumerate(STATUS_GROUPS)}
    status_group = {s: group_index[key] for key, group, *_ in STATUS_GROUPS for s in group}
    groups = codes_of(cases["status"], status_group, missing=0)
    if "likely_duplicate_of" in cases.columns and len(cases):
        dup = cases["likely_duplicate_of"].notna().to_numpy()
        for key, suspect in SUSPECT_OF.items():
            groups = np.where(dup & (groups == group_index[key]), group_index[suspect], groups)
    return groups


def _group_counts(cases: pd.DataFrame) -> pd.Series:
    return pd.Series(case_groups(cases)).value_counts()


def _title_box(cases: pd.DataFrame, title: str, subtitle: str, synthetic: bool, w: dict[str, str],
               group_index: dict[str, int]) -> str:
    n = len(cases)
    sub = subtitle
    if n:
        t = local_times(pd.Series([cases["observed_at"].min(), cases["observed_at"].max()])).dropna()
        period = f"{t.iloc[0][:10]} — {t.iloc[-1][:10]}" if len(t) else ""
        sub = " · ".join(s for s in (subtitle, period, f"{w['total']} {n:,} {w['unit']}".strip()) if s)
    counts = _group_counts(cases) if n else pd.Series(dtype=int)
    open_n = int(sum(counts.get(group_index[g], 0) for g in _OPEN_GROUPS))
    closed_n = int(counts.get(group_index["closed"], 0))
    late = int((cases["n_late"] > 0).sum()) if "n_late" in cases.columns else 0
    stats = (f'<span>{html.escape(w["shown"])} <b id="gise-shown">{n:,}</b></span>'
             f'<span>{html.escape(w["open"])} <b>{open_n:,}</b></span>'
             f'<span>{html.escape(w["closedN"])} <b>{closed_n:,}</b></span>'
             f'<span>{html.escape(w["lateN"])} <b id="gise-late">{late:,}</b></span>') if n else ""
    note = f'<div class="note">⚠ {html.escape(w["synthetic_note"])}</div>' if synthetic else ""
    return (f'<div class="gise-box gise-title"><h1>{html.escape(title)}</h1>'
            f'<div class="sub">{html.escape(sub or w["none_cases"])}</div>'
            + (f'<div class="stats">{stats}</div>' if stats else "") + note + "</div>")


def _legend(cases: pd.DataFrame, w: dict[str, str], lang: str, present: list[str]) -> str:
    counts = _group_counts(cases) if len(cases) else pd.Series(dtype=int)
    rows = "".join(
        f'<div class="row" role="button" tabindex="0" data-group="{k}" title="{html.escape(GROUP_NAMES[lang][key])}">'
        f'<span class="dot" style="{_dot_style(key, color)}"></span>'
        f'<span class="name">{html.escape(GROUP_NAMES[lang][key])}</span>'
        f'<span class="n">{int(counts.get(k, 0)):,}</span></div>'
        for k, (key, _, color, _, _) in enumerate(STATUS_GROUPS) if counts.get(k, 0)
    )
    families = list(dict.fromkeys(family_of(c) for c in present))
    shapes = "".join(
        f'<span><span class="gise-ctl-shape" data-shape="{FAMILY_SHAPES.get(f, 0)}"></span>'
        f'{html.escape(FAMILY_NAMES[lang].get(f, f))}</span>' for f in families
    )
    ring = f'<div class="hint"><span class="ring"></span>{html.escape(w["ring"])}</div>'
    return (f'<div class="gise-box gise-legend"><div class="hd">{html.escape(w["legend"])}</div>{rows}'
            + (f'<div class="sec">{html.escape(w["shapes"])}</div><div class="shapes">{shapes}</div>' if shapes else "")
            + ring + "</div>")


def _dot_style(key: str, color: str) -> str:
    if key in HOLLOW_GROUPS:
        return f"background:#fff;box-shadow:inset 0 0 0 2px {color}"
    return f"background:{color}"


def _time_bar(days: int, w: dict[str, str]) -> str:
    last = max(days - 1, 0)
    options = "".join(f'<option value="{v}">{html.escape(w[f"win{v}"])}</option>' for v in (0, 7, 30, 90))
    return (
        '<div class="gise-box gise-time">'
        f'<button type="button" id="gise-play" aria-label="{html.escape(w["play"])}">▶</button>'
        f'<input type="range" id="gise-day" min="0" max="{last}" value="{last}" step="1" '
        f'aria-label="{html.escape(w["day"])}">'
        f'<select id="gise-window" aria-label="{html.escape(w["window"])}">{options}</select>'
        '<span id="gise-days" aria-live="polite"></span></div>'
    )


def write_status_map(path: str | Path, cases: pd.DataFrame, townships: gpd.GeoDataFrame, *,
                     generated_at: datetime | None = None, **kw: Any) -> Path:
    """Write :func:`status_map` to ``path`` (self-contained, offline), saying when (``generated_at``, default
    now); returns the path."""
    return write_page(status_map(cases, townships, **kw), path, kind="status", lang=kw.get("lang", "zh"),
                      tz=kw.get("tz"), generated_at=generated_at)
